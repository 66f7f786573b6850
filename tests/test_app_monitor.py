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


def test_a_saved_database_check_runs_again(wages_run, tmp_path, monkeypatch):
    """A check saved with its query (as `automl monitor URL --query` saves it) is listed on
    the page and runs again against the real PostgreSQL server."""
    from automl.bundle import load_model
    from automl.data.urls import mask_url
    from automl.monitor.history import record_check
    from tests.servers import POSTGRES_URL, read_only, table_on_server

    monkeypatch.setenv("AUTOML_RUNS_DIR", str(wages_run.path.parent))
    with table_on_server(POSTGRES_URL, WAGES.head(200)) as (name, _):
        url = read_only(POSTGRES_URL)
        model = load_model(wages_run.model_file)
        path = record_check(model, {"checked_at": "2026-01-01T00:00:00+00:00",
                                    "drifted_share": 0.0},
                            source=mask_url(url), query=f"SELECT * FROM {name}")
        try:
            at = app(state=wages_state(), run_id=wages_run.id)
            at.switch_page("pages/monitor.py").run()
            assert not at.exception, at.exception
            assert name in str(at.selectbox(key="monitor_saved").format_func(0))
            at.button(key="monitor_rerun").click().run()
            assert not at.exception, at.exception
            assert "Measured on 200 rows with the target" in shown(at.markdown)
            assert len(at.success) + len(at.error) >= 1  # the advice
        finally:
            path.unlink()
