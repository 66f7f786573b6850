"""The browser app, page by page, with Streamlit's AppTest (no browser, real engine)."""

from __future__ import annotations

import ast
import io
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from automl.background import live_leaderboard
from automl.data import load_table
from automl.runs import Run
from pages._shared.ui import SessionData
from tests.apptest import ROOT, app, session, shown, texts, wages_state
from tests.run_files import write_status


@pytest.fixture
def run(wages_run_copy) -> Run:
    """A copy of the session's finished wages run, alone in its folder (tests/conftest.py):
    the Runs page test adds and deletes runs beside it."""
    return wages_run_copy


@pytest.fixture
def runs_dir(run, monkeypatch) -> Path:
    """Point the app at the folder holding the prepared run."""
    monkeypatch.setenv("AUTOML_RUNS_DIR", str(run.path.parent))
    return run.path.parent


def sidebar(state: SessionData) -> str:
    """The sidebar's text for this session's state. (AppTest keeps what the entrypoint draws
    only on an AppTest's first run, so the sidebar is read from a fresh one.)"""
    return shown(app(state=state).sidebar.caption)


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader[0].set_value((name, data, "text/csv"))
    return at.run()


# --- Data ----------------------------------------------------------------------------------

def test_data_page_lists_samples_with_source_and_offers_databases(runs_dir):
    at = app()
    assert at.title[0].value == "Data"
    assert at.sidebar.text_input[0].label == "Open run by id"
    assert "Table: none loaded yet" in texts(at.sidebar.caption)
    samples = at.selectbox[0]
    assert [o.split(" — ")[0] for o in samples.options] == ["churn.csv", "credit.csv",
                                                             "wages.csv"]
    assert "credit.csv — binary: Status (good/bad)" in samples.options
    assert "Licence: modeldata is MIT" in texts(at.caption)
    assert "Databases" in [t.label for t in at.tabs]
    assert len(at.file_uploader) == 2  # a table file, an SQLite file


def test_load_sample_shows_preview_kinds_missing_and_counts(runs_dir):
    at = app()
    at.selectbox[0].select("credit.csv").run()
    at.button(key="load_sample").click().run()
    assert not at.exception
    table = session(at).table
    assert table is not None and table.source == "credit.csv"
    assert session(at).target_hint == "Status"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rows"] == "4,454" and metrics["Columns"] == "14"
    assert metrics["Missing cells"] == f"{int(table.frame.isna().sum().sum()):,}"
    schema = at.dataframe[1].value
    assert list(schema["column"]) == list(table.frame.columns)
    assert schema.set_index("column").loc["Income", "missing"] == 381
    assert {"numeric", "categorical", "boolean"} <= set(schema["kind"])
    assert any(e.label == "Profile: warnings and distributions" for e in at.expander)
    assert "**credit.csv** (4,454 rows × 14 columns)" in sidebar(session(at))


def test_upload_errors_are_shown_and_keep_the_loaded_table(runs_dir):
    at = app()
    upload(at, "good.csv", b"x1,x2,churn\n" + b"".join(
        f"{i},{i % 7},{'yes' if i % 3 else 'no'}\n".encode() for i in range(60)))
    assert session(at).table.source == "good.csv" and not at.error
    for name, data, words in [("empty.csv", b"", "is empty"),
                              ("ragged.csv", b"a,b\n1,2,3,4\n5,6\n", "line 2 has 4 fields"),
                              ("wide.csv", ",".join(f"c{i}" for i in range(2001)).encode()
                               + b"\n" + b",".join(b"1" for _ in range(2001)), "2,000")]:
        upload(at, name, data)
        assert not at.exception
        assert words in shown(at.error), (name, shown(at.error))
        assert session(at).table.source == "good.csv"  # the previous table is kept
    assert "**good.csv** (60 rows × 3 columns)" in sidebar(session(at))
    assert "accepts up to 200 MB" in shown(at.error)  # the limit message says the limits


# --- Train ---------------------------------------------------------------------------------

def test_train_page_suggests_target_and_offers_valid_choices(runs_dir):
    frame = pd.DataFrame({"a": range(40), "outcome": ["x", "y"] * 20, "b": [1.5] * 40})
    state = SessionData(table=load_table(_csv(frame), name="t.csv"))
    at = app("train", state=state)
    assert at.selectbox(key="train_target").value == "outcome"  # named like a target
    task = at.selectbox(key="train_task:outcome")
    assert task.value == "binary"
    metric = at.selectbox(key="train_metric:binary")
    assert metric.value == "roc_auc" and "rmse" not in metric.options
    families = at.multiselect(key="train_families:binary")
    assert len(families.value) == 7 and "LightGBM" in families.options
    labels = {s.label: s for s in at.slider}
    assert labels["Time budget (seconds)"].value == 60
    assert labels["Max trials (0 = no cap)"].value == 0
    assert labels["Cross-validation folds (0 = automatic)"].value == 0
    assert labels["Holdout share"].value == 0.0 and not labels["Holdout share"].proto.disabled
    task.select("regression").run()
    options = at.selectbox(key="train_metric:regression").options
    assert {o.split(" (")[0] for o in options} == {"RMSE", "MAE", "R²"}


def test_start_with_a_bad_target_shows_the_engine_error_and_keeps_settings(runs_dir):
    frame = pd.DataFrame({"a": range(40), "const": ["same"] * 40, "y": [0, 1] * 20})
    state = SessionData(table=load_table(_csv(frame), name="t.csv"))
    at = app("train", state=state)
    at.selectbox(key="train_target").select("const").run()
    at.button(key="start_search").click().run()
    assert not at.exception
    assert "single value" in shown(at.error)
    assert session(at).current_run_id is None and session(at).table is state.table
    assert at.selectbox(key="train_target").value == "const"


@pytest.mark.slow
def test_start_launches_in_the_background_and_stop_keeps_finished_trials(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOML_RUNS_DIR", str(tmp_path))
    at = app("train", state=wages_state())
    assert at.selectbox(key="train_target").value == "wage"  # the sample's documented target
    at.multiselect(key="train_families:regression").set_value(["linear"]).run()
    at.button(key="start_search").click().run()
    assert not at.exception, at.exception
    run_id = session(at).current_run_id
    run = Run(tmp_path / run_id)
    assert run.path.is_dir() and at.query_params["run"] == run_id
    assert run.status.state in ("queued", "running")  # Start returned without waiting
    assert at.button(key="stop_run")  # the live view polls the running search
    _wait(lambda: (live_leaderboard(run)["state"] == "complete").sum() >= 1, run)
    at.run()
    progress = " ".join(p.proto.text for p in at.get("progress"))
    assert "trials done" in progress or run.status.state != "running", progress
    at.button(key="stop_run").click().run()
    _wait(lambda: run.status.state in ("stopped", "finished", "failed"), run)
    assert run.status.state == "stopped", run.status
    assert run.model_file.exists() and len(live_leaderboard(run)) >= 1
    at.run()
    assert not at.exception and at.button(key="resume_run")


def _wait(condition, run: Run, timeout: float = 150) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if condition():
            return
        time.sleep(0.3)
    log = run.path / "log.txt"
    raise AssertionError(f"timed out; status {run.status}; log:\n"
                         + (log.read_text() if log.exists() else ""))


def _csv(frame: pd.DataFrame) -> io.BytesIO:
    return io.BytesIO(frame.to_csv(index=False).encode())


# --- Results, Model, Runs ------------------------------------------------------------------

def test_results_page_shows_leaderboard_best_per_family_and_charts(run, runs_dir):
    at = app("results", run_id=run.id)
    board = live_leaderboard(run)
    shown = at.dataframe[0].value
    assert len(shown) == len(board)
    assert {"mean ± std", "fit (s)", "predict (ms/1k rows)", "size (kB)"} <= set(shown.columns)
    best = at.dataframe[1].value
    assert set(best["family"]) == {"Linear", "LightGBM"}
    charts = at.get("plotly_chart")
    assert len(charts) >= 4  # history, scores per family, and per-family charts
    titles = " ".join(json.loads(c.proto.spec)["layout"]["title"]["text"] for c in charts)
    assert "Optimization history" in titles and "by model family" in titles


def test_model_page_offers_downloads_card_and_code(run, runs_dir):
    at = app("model", run_id=run.id)
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Download the model file (.skops)", "Download the manifest (JSON)",
                      "Download the report (HTML)"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Task"] == "regression" and metrics["Rows"] == "534"
    assert float(metrics["CV R²"]) == pytest.approx(run.status.best.score, abs=1e-4)
    md = shown(at.markdown)
    assert "sklearn" in md and "hash" in md
    code = texts(at.code)
    assert "automl.load_model(" in code and ".predict(df)" in code
    assert "automl predict automl-" in code


def test_runs_page_opens_and_deletes_and_refuses_a_running_run(run, runs_dir):
    copies, tokens = [], {}
    for suffix, state in (("done", "finished"), ("busy", "running")):
        dst = runs_dir / f"{run.id}-{suffix}"
        shutil.copytree(run.path, dst)
        write_status(Run(dst), state=state, pid=os.getpid())  # this process: alive
        tokens[dst.name] = Run(dst).new_owner_token()  # as if started in this session
        copies.append(dst.name)
    state = SessionData(owner_tokens=tokens)
    for run_id in (run.id, *copies):  # typed into the sidebar's "Open run by id"
        app(state=state).sidebar.text_input[0].input(run_id).run()
    assert state.run_ids == [run.id, *copies] and state.current_run_id == copies[1]
    at = app("runs", state=state)
    assert at.query_params["run"] == copies[1]
    assert list(at.dataframe[0].value["run"]) == sorted([run.id, *copies], reverse=True)

    at.selectbox(key="runs_choice").select(copies[1]).run()
    at.button(key="runs_delete").click().run()
    assert "stop it first" in shown(at.error) and (runs_dir / copies[1]).exists()

    at.selectbox(key="runs_choice").select(run.id).run()
    at.button(key="runs_open").click().run()
    assert session(at).current_run_id == run.id and at.query_params["run"] == run.id

    at.selectbox(key="runs_choice").select(copies[0]).run()
    at.button(key="runs_delete").click().run()
    assert not at.exception and not (runs_dir / copies[0]).exists()
    assert copies[0] not in session(at).run_ids
    shutil.rmtree(runs_dir / copies[1])


def test_open_run_by_url_and_unknown_ids_show_an_error(run, runs_dir):
    at = app(run_id=run.id)
    assert session(at).current_run_id == run.id
    assert f"Run: `{run.id}` (finished)" in shown(at.sidebar.caption)
    at = app(run_id="no-such-run")
    assert "No run 'no-such-run'" in shown(at.sidebar.error)
    assert session(at).current_run_id is None and "run" not in at.query_params


@pytest.mark.parametrize("page", ["train", "results", "model", "runs"])
def test_pages_without_a_table_or_run_say_what_to_do(page, runs_dir):
    at = app(page)
    assert at.info, page
    assert not at.error


def test_pages_import_no_ml_library_and_the_engine_no_streamlit():
    banned = {"sklearn", "xgboost", "lightgbm", "optuna", "shap"}
    for path in [ROOT / "app.py", *sorted((ROOT / "pages").rglob("*.py"))]:
        assert not _imports(path) & banned, path
    for path in (ROOT / "automl").rglob("*.py"):
        assert "streamlit" not in _imports(path), path


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_board_view_formats_mean_and_std():
    from pages._shared.show import board_view

    board = pd.DataFrame([{"trial": 0, "family": "lgbm", "state": "complete", "score": 0.91234,
                           "std": 0.01, "fit_s": 1.0, "predict_ms_per_1k": 2.0, "size_kb": 3.0,
                           "params": {"lgbm__num_leaves": 31, "lgbm__lr": np.float64(0.05)},
                           "error": None}])
    view = board_view(board, {"lgbm": "LightGBM"})
    assert view.loc[0, "mean ± std"] == "0.9123 ± 0.0100"
    assert view.loc[0, "family"] == "LightGBM"
    assert view.loc[0, "params"] == "num_leaves=31, lr=0.05"
