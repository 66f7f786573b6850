"""The Evaluate page with AppTest: charts of a real regression, binary and multiclass run."""

from __future__ import annotations

import base64
import json
import os
import shutil

import numpy as np
import pytest

from automl import evaluate
from automl.runs import Run
from pages._shared.ui import SessionData
from tests.apptest import app
from tests.apptest import shown as texts
from tests.run_files import write_status


@pytest.fixture
def runs(wages_run, binary_run, multiclass_run) -> dict[str, Run]:
    """The session's runs of each task (tests/conftest.py), each in a folder of its own."""
    return {"regression": wages_run, "binary": binary_run, "multiclass": multiclass_run}


def _open(run: Run, monkeypatch):
    """The Evaluate page on ``run`` (the app reads runs from the run's folder)."""
    monkeypatch.setenv("AUTOML_RUNS_DIR", str(run.path.parent))
    return app("evaluate", run_id=run.id)


def _titles(at) -> list[str]:
    return [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]


def _chart(at, title: str) -> dict:
    return next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                if json.loads(c.proto.spec)["layout"]["title"]["text"].startswith(title))


def _array(value) -> np.ndarray:
    """A figure's data array: plotly sends numpy arrays as base64 typed arrays."""
    if isinstance(value, dict) and "bdata" in value:
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = [int(n) for n in str(value.get("shape", len(flat))).split(",")]
        return flat.reshape(shape)
    return np.asarray(value)


def _metrics(at) -> dict[str, str]:
    """Label -> value; where a label repeats (summary, then threshold) the later one wins."""
    return {m.label: m.value for m in at.metric}


def test_without_a_run_the_page_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOML_RUNS_DIR", str(tmp_path))
    at = app("evaluate")
    assert at.title[0].value == "Evaluate" and not at.get("plotly_chart")
    assert "start one on the Train page" in texts(at.info)


@pytest.mark.slow
def test_a_run_without_a_model_file_yet_says_when_it_comes(runs, tmp_path, monkeypatch):
    copy = Run(shutil.copytree(runs["regression"].path, tmp_path / "busy"))
    copy.model_file.unlink()
    write_status(copy, state="running", pid=os.getpid())
    at = _open(copy, monkeypatch)
    assert "is running" in texts(at.info) and "once the search ends" in texts(at.info)
    assert not at.get("plotly_chart")


@pytest.mark.slow
def test_regression_page_shows_the_four_charts_and_segments_by_a_chosen_column(runs,
                                                                                monkeypatch):
    run = runs["regression"]
    at = _open(run, monkeypatch)
    ev = evaluate.from_run(run)
    assert _titles(at)[:3] == ["Predicted against actual", "Distribution of residuals",
                               "Residuals against predicted"]
    assert _titles(at)[3] == f"Error by {ev.X.columns[0]}"
    summary = evaluate.summary(ev).set_index("title")["value"]
    assert float(_metrics(at)["RMSE"]) == pytest.approx(summary["RMSE"], abs=1e-4)
    assert "534 rows" in texts(at.caption) and "Out-of-fold" in texts(at.caption)
    assert "holdout" not in at.radio(key="evaluate_source").options

    at.selectbox(key=f"evaluate_segment:{run.id}").select("occupation").run()
    assert not at.exception
    bars = _chart(at, "Error by occupation")["data"]
    table = evaluate.error_by_segment(ev, "occupation")
    assert bars[0]["name"] == "MAE" and list(_array(bars[0]["x"])) == list(table["segment"])
    np.testing.assert_allclose(_array(bars[0]["y"]), table["mae"])
    assert at.dataframe[0].value["rows"].sum() == 534


@pytest.mark.slow
def test_binary_threshold_slider_moves_the_confusion_matrix(runs, monkeypatch):
    run = runs["binary"]
    at = _open(run, monkeypatch)
    assert {"ROC curve", "Precision-recall curve", "Confusion matrix at threshold 0.50",
            "Precision, recall and F1 per class", "Cumulative gain for 1"} <= set(_titles(at))
    assert at.selectbox(key=f"evaluate_class:{run.id}").value == 1
    ev = evaluate.from_run(run)
    before = _array(_chart(at, "Confusion matrix")["data"][0]["customdata"])
    np.testing.assert_array_equal(before, evaluate.at_threshold(ev, 0.5).matrix.to_numpy())

    at.slider(key="evaluate_threshold").set_value(0.9).run()
    assert not at.exception
    after = _array(_chart(at, "Confusion matrix at threshold 0.90")["data"][0]["customdata"])
    np.testing.assert_array_equal(after, evaluate.at_threshold(ev, 0.9).matrix.to_numpy())
    assert after[:, 1].sum() < before[:, 1].sum()  # fewer rows predicted positive
    assert float(_metrics(at)["recall"]) == pytest.approx(
        evaluate.at_threshold(ev, 0.9).metrics["recall"], abs=1e-4)

    at.slider(key="evaluate_threshold").set_value(0.0).run()
    assert _metrics(at)["predicted positive"] == "100.0%"
    everything = _array(_chart(at, "Confusion matrix")["data"][0]["customdata"])
    assert everything[:, 0].sum() == 0 and everything.sum() == ev.n_rows


@pytest.mark.slow
def test_binary_page_offers_the_holdout_and_the_trials(runs, monkeypatch):
    run = runs["binary"]
    at = _open(run, monkeypatch)
    source = at.radio(key="evaluate_source")
    assert source.options == ["Out-of-fold (cross-validation)",
                              "Holdout (rows the search never saw)"]
    source.set_value("holdout").run()
    assert not at.exception and "Holdout: 114 rows" in texts(at.caption)

    model = at.selectbox(key=f"evaluate_model:{run.id}")
    trial = int(evaluate.available_trials(run)["trial"].iloc[-1])
    model.set_value(trial).run()  # a trial has out-of-fold predictions only
    assert not at.exception
    assert at.radio(key="evaluate_source").options == ["Out-of-fold (cross-validation)"]
    assert f"trial {trial}" in texts(at.caption) and "Out-of-fold" in texts(at.caption)


@pytest.mark.slow
def test_multiclass_page_draws_one_curve_per_class_and_no_threshold(runs, monkeypatch):
    run = runs["multiclass"]
    at = _open(run, monkeypatch)
    assert not at.slider
    picker = at.selectbox(key=f"evaluate_class:{run.id}")
    assert picker.options == ["setosa", "versicolor", "virginica"]
    roc = _chart(at, "ROC curves, each class against the rest")
    assert [t["name"].split(" (")[0] for t in roc["data"][:3]] == picker.options
    assert "most probable class" in texts(at.caption)
    picker.select("virginica").run()
    assert not at.exception
    assert "Cumulative gain for virginica" in _titles(at)
    assert at.dataframe[0].value["support"].tolist() == [50, 50, 50]


def test_a_session_whose_run_was_deleted_gets_the_same_advice(tmp_path, monkeypatch):
    """A session whose remembered run was deleted sees the same advice, not an error."""
    monkeypatch.setenv("AUTOML_RUNS_DIR", str(tmp_path))
    at = app("evaluate", state=SessionData(current_run_id="20990101-000000-gone00"))
    assert "start one on the Train page" in texts(at.info)
