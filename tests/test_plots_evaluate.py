"""Figures of an evaluation: each chart carries the data it was given, samples large data
and says so, and gives a reason when there is nothing to draw."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl import evaluate
from automl.plots import evaluate as charts
from tests.evaluations import hand_made


@pytest.fixture
def binary(binary_run):
    """The session's binary run with a holdout (tests/conftest.py)."""
    return binary_run


@pytest.fixture
def multi(multiclass_run):
    """The session's multiclass run (tests/conftest.py)."""
    return multiclass_run


@pytest.fixture
def wages(wages_run):
    """The session's regression run (tests/conftest.py)."""
    return wages_run


@pytest.mark.slow
def test_classification_charts_carry_the_data(binary, multi):
    ev = evaluate.from_run(binary)
    roc = charts.roc_chart(evaluate.roc(ev))
    auc = evaluate.roc(ev)[0].area
    assert roc and f"AUC {auc:.3f}" in roc.figure.data[0].name
    assert roc.figure.data[-1].name.startswith("chance")
    pr = charts.pr_chart(evaluate.pr(ev))
    assert [t.name.split(" (")[0] for t in pr.figure.data] == ["1", "base rate of 1"]
    res = evaluate.at_threshold(ev, 0.7)
    conf = charts.confusion_chart(res)
    np.testing.assert_array_equal(np.asarray(conf.figure.data[0].customdata),
                                  res.matrix.to_numpy())
    assert "0.70" in conf.figure.layout.title.text
    cal = charts.calibration_chart(evaluate.calibration(ev))
    assert [t.type for t in cal.figure.data] == ["scatter", "scatter", "bar"]
    gains = evaluate.lift_gain(ev)
    gain = charts.gain_chart(gains, 1)
    assert gain.figure.data[0].y[0] == 0 and gain.figure.data[0].y[-1] == pytest.approx(1)
    lift = charts.lift_chart(gains, 1)
    np.testing.assert_allclose(lift.figure.data[0].y, gains["lift"])
    bars = charts.per_class_chart(evaluate.per_class(ev))
    assert [t.name for t in bars.figure.data] == ["precision", "recall", "F1"]
    multi_roc = charts.roc_chart(evaluate.roc(evaluate.from_run(multi)), highlight="setosa")
    widths = {t.name.split(" (")[0]: t.line.width for t in multi_roc.figure.data[:3]}
    assert widths["setosa"] > widths["versicolor"] == widths["virginica"]


def test_charts_give_a_reason_when_there_is_nothing_to_draw():
    ev = hand_made("binary", [0, 0, 0], [[0.9, 0.1], [0.6, 0.4], [0.7, 0.3]], ["no", "yes"])
    assert evaluate.roc(ev) == [] and not charts.roc_chart([])
    assert "same class" in charts.roc_chart(evaluate.roc(ev)).reason
    assert "No row is of class yes" in charts.gain_chart(evaluate.lift_gain(ev), "yes").reason
    assert not charts.lift_chart(evaluate.lift_gain(ev), "yes")
    assert not charts.predicted_vs_actual_chart(pd.DataFrame(columns=["actual", "predicted"]))


def test_regression_charts_sample_large_data_and_say_so():
    rng = np.random.default_rng(1)
    y = rng.normal(10, 2, size=7_000)
    ev = hand_made("regression", y, y + rng.normal(size=y.size))
    res = evaluate.residuals(ev)
    pva = charts.predicted_vs_actual_chart(res, "price")
    assert len(pva.figure.data[0].x) == charts.MAX_POINTS
    assert "5,000 of the 7,000 rows" in pva.note
    assert pva.figure.layout.xaxis.title.text == "Actual price"
    line = pva.figure.data[1]
    assert line.x[0] == line.y[0] and line.x[1] == line.y[1]  # the y = x line
    small = charts.residuals_chart(res.iloc[:100])
    assert len(small.figure.data[0].x) == 100 and small.note is None
    hist = charts.residual_histogram(res)
    assert len(hist.figure.data[0].x) == 7_000
    seg = charts.segment_chart(evaluate.error_by_segment(ev, "x", bins=4), "x")
    assert [t.name for t in seg.figure.data] == ["MAE", "RMSE", "bias (mean residual)"]
    assert seg.figure.layout.title.text == "Error by x" and seg.note is None
