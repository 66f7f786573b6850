"""Evaluate: how good a model's predictions are on rows whose outcome is known."""

import streamlit as st

from automl import evaluate
from automl.errors import AutoMLError
from automl.plots import evaluate as charts
from automl.runs import Run
from pages._shared import show, ui
from pages._shared.show import md_escape


@st.cache_data(show_spinner="Collecting the predictions…", max_entries=8)
def _evaluation(run_dir: str, source: str, trial: int | None, saved_at: float):
    """The predictions (cached per run, choice and model file version)."""
    return evaluate.from_run(Run(run_dir), source, trial)


st.title("Evaluate")
run = ui.run_with_model("its predictions can be evaluated once the search ends (or after Stop).")

try:
    models = evaluate.model_choices(run)
    left, right = st.columns(2)
    trial = left.selectbox("Model", list(models), format_func=models.get,
                           key=f"evaluate_model:{run.id}")
    sources = evaluate.source_choices(run, trial)
    if st.session_state.get("evaluate_source") not in sources:
        st.session_state["evaluate_source"] = "oof"
    source = right.radio("Predictions", list(sources), format_func=sources.get,
                         key="evaluate_source", horizontal=True)
    ev = _evaluation(str(run.path), source, trial, run.model_file.stat().st_mtime)
except AutoMLError as e:
    show.error(e)
    st.stop()

st.caption(f"**{md_escape(ev.model)}** · target {md_escape(ev.target)} · "
           f"{md_escape(ev.source)}")
summary = evaluate.summary(ev)
for col, row in zip(st.columns(len(summary)), summary.itertuples(), strict=True):
    col.metric(md_escape(row.title), show.score(row.value), help=f"{row.better} is better")
if ev.task != "regression":
    st.caption("Accuracy and F1 above count each row as its most probable class.")

if ev.task == "regression":
    res = evaluate.residuals(ev)
    left, right = st.columns(2)
    with left:
        show.chart(charts.predicted_vs_actual_chart(res, ev.target))
        show.chart(charts.residual_histogram(res))
    with right:
        show.chart(charts.residuals_chart(res, ev.target))
        column = st.selectbox("Error by segment of", list(ev.X.columns),
                              key=f"evaluate_segment:{run.id}")
        segments = evaluate.error_by_segment(ev, column)
        show.chart(charts.segment_chart(segments, column))
    st.dataframe(segments, hide_index=True, width="stretch")
    st.stop()

binary = ev.task == "binary"
positive = st.selectbox("Positive class" if binary else "Class (one against the rest)",
                        ev.classes, index=1 if binary else 0, format_func=str,
                        key=f"evaluate_class:{run.id}")
left, right = st.columns(2)
with left:
    show.chart(charts.roc_chart(evaluate.roc(ev, positive if binary else None), positive))
with right:
    show.chart(charts.pr_chart(evaluate.pr(ev, positive if binary else None), positive))

st.subheader("Confusion matrix")
threshold = None
if binary:
    threshold = st.slider(f"Threshold: predict {md_escape(positive)} when its probability is "
                          "at least",
                          0.0, 1.0, 0.5, 0.01, key="evaluate_threshold")
result = evaluate.at_threshold(ev, threshold if binary else 0.5, positive)
for col, (name, value) in zip(st.columns(len(result.metrics)), result.metrics.items(),
                              strict=True):
    col.metric(md_escape(name),
               f"{value:.1%}" if name == "predicted positive" else show.score(value))
show.chart(charts.confusion_chart(result))

st.subheader("Per class")
table = evaluate.per_class(ev, threshold, positive)
left, right = st.columns(2)
left.dataframe(table, hide_index=True, width="stretch")
with right:
    show.chart(charts.per_class_chart(table))

st.subheader("Calibration, gain and lift")
strategy = st.radio("Calibration bins", ["uniform", "quantile"], horizontal=True,
                    format_func={"uniform": "equal width", "quantile": "equal rows"}.get,
                    key="evaluate_bins")
show.chart(charts.calibration_chart(evaluate.calibration(ev, strategy=strategy,
                                                         positive=positive)))
gains = evaluate.lift_gain(ev, positive)
left, right = st.columns(2)
with left:
    show.chart(charts.gain_chart(gains, positive))
with right:
    show.chart(charts.lift_chart(gains, positive))
