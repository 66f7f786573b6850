"""Monitor: compare new rows with what a model was trained on (drift per column, the
predictions, a classifier that tells the two apart, performance measured or estimated
without labels), follow the checks over time, and retrain with the same settings."""

import streamlit as st

from automl.errors import AutoMLError
from automl.monitor.history import load_history
from automl.monitor.retrain import compare, current_model_file, launch_retrain, promote
from automl.monitor.words import advice, summary
from automl.plots.monitor import history_chart, overview_chart
from automl.runs import open_run
from pages._shared import data_sources as sources
from pages._shared import monitor_helpers as mh
from pages._shared import predict_helpers as ph
from pages._shared import show, ui
from pages._shared.show import md_escape

st.title("Monitor")
st.caption("Check new rows against the data the model learned from, and retrain when they "
           "have moved. The Data page's table and the current run stay as they are.")

chosen = ph.pick_run("monitor_run", "No finished run on this machine yet: train one on the "
                     "Train page first.")
run = chosen.run
if current_model_file(run) != run.model_file:  # a retraining was made current: watch that
    chosen = ph.run_model(current_model_file(run).parent.name)
    st.caption(md_escape(f"Its current model comes from run {chosen.run.id} (a retraining "
                         "made current)."))

st.subheader("New rows")
upload_tab, db_tab = st.tabs(["Upload a file", "Databases"])
with upload_tab:
    sources.file_upload(mh.SLOT)
with db_tab:
    sources.database_tabs(mh.SLOT)
mh.saved_checks(load_history(chosen.model))
rows = mh.state().rows
if rows is None:
    st.info("Load the new rows: a file or a database table or query. With the target "
            "column, the model's performance is measured too.")
    st.stop()
st.caption(md_escape(f"New rows: {rows.source} ({len(rows.frame):,} rows)"))

with st.spinner("Comparing with the training data…"):
    result = mh.run_check(chosen, rows, sources.origin(mh.SLOT, rows))
if isinstance(result, str):
    show.error(result)
    st.stop()
(st.error if result.alarm else st.success)(md_escape(advice(result)))
for line in summary(result):
    st.markdown(md_escape(line))
c1, c2, c3, c4 = st.columns(4)
c1.metric("Drifted columns", f"{len(result.drifted)} of {len(result.columns)}")
c2.metric("Of what the model relies on", f"{result.weighted_drift:.0%}")
c3.metric("Told apart (AUC)", f"{result.domain.auc:.2f}" if result.domain else "–",
          help="A classifier's AUC at telling new rows from training rows; 0.5: not at all")
perf = result.measured or result.estimated
c4.metric(("Measured " if perf and perf.measured else "Estimated ") +
          (perf.metric if perf else "performance"),
          f"{perf.value:.3f}" if perf else "–",
          delta=f"{perf.change:+.3f}" if perf and perf.change is not None else None)
show.chart(overview_chart(result))
mh.column_details(result)
history = load_history(chosen.model)  # with this check
if len(history) > 1:
    show.chart(history_chart(history))

st.subheader("Retrain")
target = run.spec.target
if target not in rows.frame.columns:
    st.info(md_escape(f"Retraining needs the target column {target!r} in the new rows."))
    st.stop()
combine = st.radio("Train the new model on", ["the new rows and the old ones",
                                              "the new rows only"], key="monitor_combine",
                   horizontal=True) == "the new rows and the old ones"
budget = st.slider("Time budget (seconds)", 10, 600, int(min(run.spec.config.time_budget, 600)),
                   key="monitor_budget")
st.caption("The newest quarter of the new rows is kept out of training, to score the old and "
           "the new model side by side.")
if st.button("Retrain with the same settings", key="monitor_retrain", type="primary"):
    try:
        challenger = launch_retrain(run, rows.frame, combine=combine, time_budget=budget)
    except AutoMLError as e:
        show.error(e)
    else:
        ui.hold_run(challenger)
        mh.state().challenger = challenger.id
challenger_id = mh.state().challenger
if challenger_id:
    challenger = open_run(challenger_id)
    if challenger.status.state.is_active:
        mh.wait_for(challenger)
    elif challenger.model_file.exists():
        try:
            result = compare(challenger)
        except AutoMLError as e:
            show.error(e)
            st.stop()
        st.dataframe({"model": [f"current (run {result.champion})",
                                f"retrained (run {result.challenger})"],
                      result.metric: [result.champion_score, result.challenger_score]},
                     hide_index=True)
        better = result.better
        st.markdown(md_escape(f"On the {result.n_rows:,} newest rows the "
                              f"{'retrained' if better == result.challenger else 'current'}"
                              " model is better."))
        if st.button(f"Make run {better}'s model the current one", key="monitor_promote"):
            promote(run, open_run(better))
            st.success(md_escape(f"Run {run.id} now serves the model of run {better}."))
    else:
        show.error(challenger.status.message or "The retraining ended without a model.")
