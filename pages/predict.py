"""Predict: score a new table with a finished run's model or an uploaded model file. The
table is checked against the model's schema first; the predictions download as CSV
(formula-like cells escaped) or Parquet, optionally with each row's top three reasons."""

from functools import partial

import streamlit as st

from automl.errors import AutoMLError
from automl.exports import csv_bytes
from automl.schema_report import parquet_bytes, schema_report, scored_rows
from pages._shared import data_sources as sources
from pages._shared import predict_helpers as ph
from pages._shared import show, ui
from pages._shared.show import md_escape

MAX_ROWS = 100_000  # scored here; `automl predict` scores any number
SHOWN = 1_000  # rows drawn in the table (the downloads hold every scored row)

st.title("Predict")
st.caption("Score new rows with a model: check them against the columns it was trained on, "
           "then download the predictions. The Data page's table and the current run stay "
           "as they are.")

st.subheader("The model")
from_file = st.radio("Score with", ["A run on this machine", "A model file"], horizontal=True,
                     key="predict_model_from") == "A model file"
if from_file:
    file = st.file_uploader("Model file (.skops)", key="predict_model_file",
                            help="Checked and built from allowed types only, never unpickled: "
                                 "a file from the Model page or `automl train`.")
    if file is None:
        st.info("Upload a model file (.skops) downloaded from the Model page.")
        st.stop()
    chosen = ph.uploaded_model(file)
    if isinstance(chosen, str):
        show.error(chosen)
        st.stop()
else:
    chosen = ph.pick_run("predict_run", "No finished run on this machine yet: train one on "
                         "the Train page, or choose “A model file” to upload one.")
manifest = chosen.model.manifest
st.caption(md_escape(f"{chosen.label}: {manifest.task} model of {manifest.target} "
                     f"({manifest.family_title or manifest.family}), trained on "
                     f"{manifest.source} · {len(manifest.schema)} input columns"))

st.subheader("The rows to score")
upload_tab, sample_tab, data_tab, db_tab = st.tabs(
    ["Upload a file", "Sample data", "The Data page's table", "Databases"])
with upload_tab:
    sources.file_upload(ph.SLOT)
with sample_tab:
    ph.sample_picker()
with data_tab:
    st.button("Score the Data page's table", key="predict_use_training",
              disabled=ui.table() is None, on_click=lambda: ph.set_rows(ui.table()),
              help="Its rows are copied here; the Data page keeps its table.")
with db_tab:
    sources.database_tabs(ph.SLOT)
rows = ph.state().rows
if rows is None:
    st.info("Load the rows to score: a file, a sample, the Data page's table or a database.")
    st.stop()

st.subheader("Check against the model")
results, key = ph.state().results, (chosen.key, rows.data_hash)
report = ph.remember(results, ("report", *key), lambda: schema_report(chosen.model, rows.frame))
c1, c2, c3, c4 = st.columns(4)
c1.metric("Rows", f"{report.rows:,}")
c2.metric("Columns the model needs", f"{len(report.needed) - len(report.missing)} of "
                                      f"{len(report.needed)}")
c3.metric("Unseen categories", f"{sum(u.rows for u in report.unseen):,}",
          help="Cells holding a value the model never saw in training (per column below)")
c4.metric("Ignored columns", f"{len(report.extra):,}")
st.caption(md_escape(f"Rows: {rows.source}"))
if report.can_score and not report.type_problems and not report.unseen:
    st.success("Every column the model needs is here, with the kind of values it was "
               "trained on: ready to score.")
ph.say(report.messages())
for note in rows.warnings:
    st.warning(md_escape(note))
if not report.can_score:
    st.stop()

st.subheader("Predictions")
if report.rows > MAX_ROWS:
    st.info(f"The first {MAX_ROWS:,} of {report.rows:,} rows are scored here; "
            "`automl predict model.skops rows.csv --out scored.csv` scores them all.")
try:
    scored = ph.remember(results, ("scored", *key),
                         lambda: scored_rows(chosen.model, rows.frame, limit=MAX_ROWS))
except AutoMLError as e:
    show.error(e)
    st.stop()
why = results.get(("why", *key))
table = scored if why is None else ph.with_reasons(chosen.model, scored, why)
st.dataframe(table.head(SHOWN), width="stretch")
if len(table) > SHOWN:
    st.caption(f"The first {SHOWN:,} of {len(table):,} scored rows; the downloads hold all.")
name = f"predictions-{rows.data_hash[:8]}"
d1, d2 = st.columns(2)
d1.download_button("Download the predictions (CSV)", partial(csv_bytes, table),
                   file_name=f"{name}.csv", mime="text/csv", type="primary",
                   key="predict_download_csv", on_click="ignore",
                   help="Cells that a spreadsheet would run as formulas start with '.")
d2.download_button("Download the predictions (Parquet)", partial(parquet_bytes, table),
                   file_name=f"{name}.parquet", mime="application/vnd.apache.parquet",
                   key="predict_download_parquet", on_click="ignore")

st.subheader("Why: each row's top three reasons")
ph.explain_controls(chosen, rows, key, len(scored))
