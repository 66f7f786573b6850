"""Helpers of the Predict page: its own slot for the rows to score (the training table and
the current run stay as they are), the model it scores with (a finished run's, or an
uploaded file loaded only by the safe loader), and what was computed, remembered per
(model file, table) so a rerun does not redo it. Widget keys start with ``predict_``."""

from __future__ import annotations

import os
import tempfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import streamlit as st

from automl.bundle import Model, load_model
from automl.data import Table
from automl.errors import AutoMLError
from automl.explain import run_features
from automl.explain.reasons import MAX_ROWS as WHY_MAX
from automl.explain.reasons import explain_rows
from automl.runs import Run, list_runs, open_run
from pages._shared import show, ui
from pages._shared.data_sources import state_slot

STATE_KEY = "automl_predict"
PREFIX = "predict_"
MODELS, RESULTS = 2, 8  # loaded models and results kept per session
TOP = 3  # reasons per row


@dataclass
class PredictState:
    """The Predict page's part of a session; the training table lives elsewhere (ui)."""

    rows: Table | None = None  # the table to score
    upload: tuple[str, str | None] | None = None  # (file id, error) of the last table upload
    models: OrderedDict = field(default_factory=OrderedDict)  # model key -> Model or error
    results: OrderedDict = field(default_factory=OrderedDict)  # (what, model, rows) -> value


@dataclass(frozen=True)
class Chosen:
    """The model to score with, and what identifies its file's content."""

    key: str
    model: Model
    label: str  # "run <id>" or the uploaded file's name
    run: Run | None = None


def state() -> PredictState:
    if STATE_KEY not in st.session_state:
        st.session_state[STATE_KEY] = PredictState()
    return st.session_state[STATE_KEY]


SLOT = state_slot(PREFIX, state)
set_rows = SLOT.put


def remember(store: OrderedDict, key, compute: Callable, keep: int = RESULTS):
    """``compute()`` once per ``key`` while it is among the ``keep`` latest."""
    if key in store:
        store.move_to_end(key)
        return store[key]
    return _keep(store, key, compute(), keep)


def _keep(store: OrderedDict, key, value, keep: int = RESULTS):
    store[key] = value
    store.move_to_end(key)
    while len(store) > keep:
        store.popitem(last=False)
    return value


def finished_runs() -> tuple[list[str], dict[str, str]]:
    """Runs on this machine whose model file exists (the current run first), each with a
    line that describes it."""
    runs = list_runs()
    runs = runs[runs["state"].isin(["finished", "stopped"])]
    lines = {r.run: f"{r.run} · {r.target} ({r.task}), "
                    f"{r.best_family if isinstance(r.best_family, str) else '?'} "
                    f"{r.metric} {show.score(r.best_score)}" for r in runs.itertuples()}
    ids = [r for r in lines if open_run(r).model_file.exists()]
    current = ui.session().current_run_id
    if current in ids:
        ids.insert(0, ids.pop(ids.index(current)))
    return ids, lines


def pick_run(key: str, none_yet: str) -> Chosen:
    """A select box of the finished runs and the chosen run's model; ``none_yet`` is said
    (and the page stops) when there is none, the loader's message when it cannot load."""
    ids, lines = finished_runs()
    if not ids:
        st.info(none_yet)
        st.stop()
    run_id = st.selectbox("Run", ids, format_func=lambda r: lines.get(r, r), key=key)
    try:
        return run_model(run_id)
    except AutoMLError as e:
        show.error(e)
        st.stop()


def run_model(run_id: str) -> Chosen:
    run = open_run(run_id)
    info = run.model_file.stat()
    key = f"run:{run.id}:{info.st_mtime_ns}:{info.st_size}"
    model = remember(state().models, key, lambda: load_model(run.model_file), MODELS)
    return Chosen(key, model, f"run {run.id}", run)


def uploaded_model(file) -> Chosen | str:
    """The uploaded model file loaded (once per upload), or the loader's message."""
    key = f"file:{file.file_id}"
    got = remember(state().models, key, lambda: _load_upload(file.name, file.getvalue()),
                   MODELS)
    return got if isinstance(got, str) else Chosen(key, got, file.name)


def _load_upload(name: str, data: bytes) -> Model | str:
    """Load the bytes with the safe loader from a private temporary file (deleted at once);
    the loader's messages then name the upload, not the temporary path."""
    with tempfile.TemporaryDirectory(prefix="automl-upload-") as folder:  # mode 0700
        path = Path(folder) / "model.skops"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        try:
            return load_model(path)
        except AutoMLError as e:
            return str(e).replace(str(path), repr(name))
        except Exception as e:  # the loader's own checks missed it: still the user's file
            return (f"{name!r} could not be loaded as a model file ({type(e).__name__}). "
                    "Upload a .skops file downloaded from the Model page or saved by "
                    "`automl train`.")


def say(messages: list[tuple[str, str]]) -> None:
    """Draw (level, sentence) pairs; sentences quote user data, shown as written."""
    draw = {"error": st.error, "warning": st.warning, "info": st.info}
    for level, text in messages:
        draw[level](show.md_escape(text))


def sample_picker() -> None:
    """A bundled sample data set as the rows to score (its target is ignored)."""
    files = [s.file for s in show.samples()]
    name = st.selectbox("Sample data set", files, key="predict_sample")
    if name:
        st.button("Score this sample", key="predict_load_sample",
                  on_click=lambda: set_rows(show.load_sample(name)))


def with_reasons(model: Model, scored: pd.DataFrame, why: list[dict]) -> pd.DataFrame:
    """``scored`` (by ``model``) with ``reason_1``.. and ``why`` (the sentence) after the
    predictions, filled for the explained rows (the first ones), blank for the others."""
    cols = {f"reason_{k + 1}": [w["reasons"][k]["text"] if len(w["reasons"]) > k else None
                                for w in why] for k in range(TOP)}
    cols["why"] = [w["summary"] for w in why]
    reasons = pd.DataFrame(cols, index=scored.index[:len(why)]).reindex(scored.index)
    at = 1 if model.task == "regression" else 1 + len(model.classes)  # prediction, proba_*
    return pd.concat([scored.iloc[:, :at], reasons, scored.iloc[:, at:]], axis=1)


def explain_controls(chosen: Chosen, rows: Table, key: tuple, scored: int) -> None:
    """Explain the first rows on request (exact SHAP values take tens of ms a row, so
    never in a rerun that did not ask); the reasons then join the table and downloads."""
    most, count = min(scored, WHY_MAX), "predict_why_rows"
    if not 1 <= (st.session_state.get(count) or 0) <= most:  # a new table may have fewer rows
        st.session_state[count] = min(100, most)
    left, right = st.columns([1, 2])
    n = int(left.number_input(f"Rows to explain (1 to {most:,}, from the top)", 1, most,
                              key=count))
    right.caption("The columns that moved each row's prediction most, in the Explain page's "
                  "words. Exact SHAP values take 7 to 45 ms a row (up to about 45 s for "
                  f"{WHY_MAX:,} rows).")
    if not st.button("Explain these rows", key="predict_why"):
        return
    background = run_features(chosen.run) if chosen.run is not None else None
    try:
        with st.spinner(f"Explaining {n:,} rows…"):
            why = explain_rows(chosen.model, rows.frame.iloc[:n], top=TOP,
                               background=background)
    except AutoMLError as e:
        show.error(e)
        return
    _keep(state().results, ("why", *key), why)
    st.rerun()
