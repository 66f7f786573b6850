"""The Monitor page with AppTest: a run's model, new rows loaded into the page's own slot,
the drift summary and the advice; the training table and current run stay."""

from __future__ import annotations

import pandas as pd

from automl.data import load_table
from pages._shared.monitor_helpers import STATE_KEY, MonitorState
from tests.apptest import app, session, shown, wages_state
from tests.conftest import SAMPLES

WAGES = pd.read_csv(SAMPLES / "wages.csv")


def _rows(tmp_path, frame: pd.DataFrame, name: str):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return load_table(path)


def _open(wages_run, tmp_path, frame, monkeypatch):
    monkeypatch.setenv("AUTOML_RUNS_DIR", str(wages_run.path.parent))
    at = app(state=wages_state(), run_id=wages_run.id)
    at.session_state[STATE_KEY] = MonitorState(rows=_rows(tmp_path, frame, "new.csv"))
    at.switch_page("pages/monitor.py").run()
    assert not at.exception, at.exception
    return at


def test_same_rows_say_nothing_to_do(wages_run, tmp_path, monkeypatch):
    at = _open(wages_run, tmp_path, WAGES.sample(300, random_state=0), monkeypatch)
    text = shown(at.markdown) + shown(at.success) + shown(at.error)
    assert "No column of 10 moved" in text and "out of fold" in text
    assert "Nothing to do" in shown(at.success)
    assert at.selectbox(key="monitor_run").value == wages_run.id
    assert session(at).table is not None and session(at).table.source.endswith("wages.csv")
    assert at.button(key="monitor_retrain") is not None


def test_a_shift_raises_the_alarm_and_names_the_column(wages_run, tmp_path, monkeypatch):
    moved = WAGES.assign(experience=WAGES["experience"] + 15)
    at = _open(wages_run, tmp_path, moved, monkeypatch)
    assert at.error and "Retrain" in shown(at.error)
    assert "experience" in shown(at.markdown)


def test_rows_without_the_target_cannot_retrain(wages_run, tmp_path, monkeypatch):
    at = _open(wages_run, tmp_path, WAGES.drop(columns=["wage"]).head(100), monkeypatch)
    assert "Retraining needs the target column" in shown(at.info)
    assert "Estimated" not in shown(at.markdown)  # a regressor: no label-free estimate
