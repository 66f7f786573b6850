"""Model: download the model file and its manifest, read its card, see how to use it."""

import json
from functools import partial

import pandas as pd
import streamlit as st

from automl.bundle import read_manifest
from automl.config import validation_label
from automl.errors import AutoMLError
from automl.metrics import METRICS
from automl.runs import Run
from pages._shared import show, ui
from pages._shared.show import md_escape as md

st.title("Model")
run = ui.run_with_model("its model file appears when the search ends (or after Stop).")
try:
    manifest = read_manifest(run.model_file)
except AutoMLError as e:
    show.error(e)
    st.stop()

def _report(run_dir: str) -> str:
    """The HTML report, made only when its button is clicked (a few seconds)."""
    from automl.report import run_report

    return run_report(Run(run_dir))


file_name = f"automl-{run.id}.skops"
c1, c2, c3 = st.columns(3)
c1.download_button("Download the model file (.skops)", run.model_file.read_bytes(),
                   file_name=file_name, mime="application/zip", type="primary",
                   key="download_model", on_click="ignore")
c2.download_button("Download the manifest (JSON)", json.dumps(manifest.to_json(), indent=2),
                   file_name=f"automl-{run.id}-manifest.json", mime="application/json",
                   key="download_manifest", on_click="ignore")
c3.download_button("Download the report (HTML)", partial(_report, str(run.path)),
                   file_name=f"automl-{run.id}-report.html", mime="text/html",
                   key="download_report", on_click="ignore",
                   help="One file to share: data, leaderboard, quality and explanations in "
                        "plain words; opens in any browser without the app.")

st.subheader("Model card")
metric = METRICS.get(manifest.metric)
m1, m2, m3, m4 = st.columns(4)
title = metric.title if metric else md(manifest.metric)
m1.metric("Task", str(manifest.task))
m2.metric(f"CV {title}", show.score(manifest.cv_score),
          help=md(f"{validation_label(manifest.cv_folds or 5)}; "
                  f"{manifest.metric_direction or ''}"))
m3.metric("Rows", f"{manifest.n_rows or 0:,}")
m4.metric("Trials", str(manifest.n_trials if manifest.n_trials is not None else "?"))
if manifest.holdout_score is not None:
    st.markdown(f"**Holdout {title}:** "
                f"{show.score(manifest.holdout_score)} on {manifest.holdout_rows or 0:,} rows "
                "the search never saw")
st.markdown(f"**Target:** {md(manifest.target)}"
            + (f" · classes: {md(', '.join(map(str, manifest.classes)))}"
               if manifest.classes else ""))
st.markdown(f"**Model:** {md(manifest.family_title or manifest.family)}")
if manifest.members:
    st.dataframe(pd.DataFrame([{"trial": m.get("trial"), "family": m.get("family"),
                                "weight": m.get("weight")} for m in manifest.members]),
                 hide_index=True)
elif manifest.params:
    st.json(manifest.params, expanded=False)
st.markdown(f"**Data:** {md(manifest.source)} · hash "
            f"{md(str(manifest.data_hash or '')[:16])}… · "
            f"{len(manifest.schema)} input columns")
st.page_link("pages/explain.py", label="What drives its predictions: the Explain page",
             icon=":material/lightbulb:")
versions = manifest.library_versions
st.markdown("**Library versions:** " + md(", ".join(f"{k} {v}" for k, v in versions.items()
                                                    if v)))
st.caption(md(f"Saved {manifest.created_at or '?'} · sha256 (manifest and payload) "
              f"{str(manifest.sha256 or '')[:16]}…"))

st.subheader("Use it")
st.code(f"""import automl
import pandas as pd

model = automl.load_model("{file_name}")   # checks the file; never unpickles
df = pd.read_csv("new_rows.csv")            # raw columns, as in training
scores = model.predict(df)                  # prediction (+ proba_<class> columns)""",
        language="python")
st.code(f"automl predict {file_name} new_rows.csv --out scored.csv", language="bash")
