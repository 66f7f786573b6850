"""Figures of explanations: the data behind each trace (order, sums, units, sampling) on
hand-made explanations, and the same checks on a real binary run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl.explain import explain_run, run_explainer, run_features, words
from automl.plots import explain as pe
from tests.explanations import churn_like, explanation


def wide(n_rows: int = 3000, n_cols: int = 6, seed: int = 0):
    """Many rows: numbers (c0..), one category column (kind) whose values push either way."""
    rng = np.random.default_rng(seed)
    data = pd.DataFrame({f"c{j}": rng.normal(size=n_rows) for j in range(n_cols - 1)})
    data["kind"] = rng.choice(["a", "b", "c"], n_rows)
    values = np.column_stack([data[f"c{j}"] * 0.01 * (j + 1) for j in range(n_cols - 1)]
                             + [data["kind"].map({"a": 0.05, "b": 0.0, "c": -0.08})])
    return explanation(values, data, base=0.2, n_total=10 * n_rows)


def test_importance_bar_follows_importance_order_in_points():
    e = wide()
    chart = pe.importance_bar(e, top=4)
    bar = chart.figure.data[0]
    imp = e.importance()
    assert list(bar.y) == list(imp.index[:4])
    assert list(bar.x) == pytest.approx(list(imp.to_numpy()[:4] * 100))
    assert chart.figure.layout.yaxis.autorange == "reversed"  # the most important on top
    assert chart.figure.layout.xaxis.title.text == "Average size of the change (points)"
    assert chart.figure.layout.title.text == \
        "Which columns move the predicted probability of churn = yes most"
    assert chart.note == "2 less important columns are not shown."


def test_importance_bar_of_a_multiclass_model_stacks_its_classes():
    v = np.zeros((4, 2, 3))
    v[:, 0, 0], v[:, 1, 2] = [0.4, 0.3, -0.3, -0.4], [0.1, -0.1, 0.1, -0.1]
    e = explanation(v, pd.DataFrame({"petal": [1, 2, 5, 6], "sepal": [3, 3, 2, 3]}),
                    base=[1 / 3] * 3, task="multiclass", classes=("a", "b", "c"), target="y")
    fig = pe.importance_bar(e).figure
    assert [t.name for t in fig.data] == ["P(y = a)", "P(y = b)", "P(y = c)"]
    assert fig.layout.barmode == "stack"
    assert list(fig.data[0].x) == pytest.approx([35.0, 0.0])
    one = pe.importance_bar(e, "c").figure
    assert len(one.data) == 1 and list(one.data[0].y) == ["sepal", "petal"]


def test_beeswarm_samples_to_its_point_budget_and_colours_numbers():
    e = wide()
    chart = pe.beeswarm(e, top=5)
    n_points = sum(len(t.x) for t in chart.figure.data)
    assert n_points <= pe.BEESWARM_POINTS
    assert chart.note == f"Drawn for {pe.BEESWARM_POINTS // 5:,} of 3,000 explained rows, " \
                         "sampled at random."
    numbers, categories = chart.figure.data
    assert categories.marker.color == "#9e9e9e"
    assert min(numbers.marker.color) >= 0 and max(numbers.marker.color) <= 1
    top = list(e.importance().index[:5])
    layout = chart.figure.layout.yaxis
    assert list(layout.ticktext) == top[::-1] and list(layout.tickvals) == [0, 1, 2, 3, 4]
    # dots of the top column sit around the top line, with their value in the hover text
    for pos, column in enumerate(top):
        ys = [y for trace in chart.figure.data
              for y, t in zip(trace.y, trace.text, strict=True) if t.startswith(f"{column} = ")]
        assert len(ys) == pe.BEESWARM_POINTS // 5
        assert all(3.5 - pos < y < 4.5 - pos for y in ys)
    assert chart.figure.layout.xaxis.title.text == \
        "Change in predicted probability of churn = yes (points)"


def test_beeswarm_colour_follows_the_value_within_its_column():
    e = churn_like()
    fig = pe.beeswarm(e).figure
    numbers = fig.data[0]
    minutes = [(t, c) for t, c in zip(numbers.text, numbers.marker.color, strict=True)
               if t.startswith("minutes = ")]
    by_value = sorted(minutes, key=lambda tc: float(tc[0].split(" = ")[1]))
    colours = [c for _, c in by_value]
    assert colours == sorted(colours) and colours[0] == 0 and colours[-1] == 1
    assert list(numbers.x)[:1] and all(np.isfinite(numbers.x))
    assert pe.beeswarm(e).note is None  # 10 rows x 3 columns: nothing sampled


def test_dependence_of_numbers_is_value_against_contribution():
    e = churn_like()
    fig = pe.dependence(e, "minutes").figure
    dots = fig.data[0]
    assert list(dots.x) == list(range(100, 200, 10))
    assert list(dots.y) == pytest.approx(list(e.values[:, 1, 0] * 100))
    assert fig.layout.xaxis.title.text == "minutes"
    assert fig.layout.yaxis.title.text == "Change in predicted probability of churn = yes (points)"


def test_dependence_of_categories_orders_boxes_by_mean_contribution():
    e = churn_like()
    fig = pe.dependence(e, "contract").figure
    assert [t.name for t in fig.data] == ["month-to-month", "one-year", "two-year"]
    assert list(fig.data[0].y) == pytest.approx([23.0] * 4)


def test_dependence_notes_missing_values_and_unknown_columns():
    x = np.r_[np.arange(8, dtype=float), np.nan, np.nan]
    e = explanation(np.c_[np.linspace(-0.1, 0.1, 10)], pd.DataFrame({"x": x}))
    chart = pe.dependence(e, "x")
    assert len(chart.figure.data[0].x) == 8
    assert chart.note == "2 rows with x missing are not drawn."
    nothing = pe.dependence(e, "nope")
    assert not nothing and "does not use column 'nope'" in nothing.reason


def test_waterfall_goes_from_base_to_prediction():
    e = churn_like()
    fig = pe.waterfall(e, 0).figure
    w = fig.data[0]
    assert w.measure[0] == "absolute" and w.measure[-1] == "total"
    assert list(w.y) == ["average prediction", "contract = month-to-month", "minutes = 100",
                         "noise = a", "prediction"]
    steps = [x for x, m in zip(w.x, w.measure, strict=True) if m != "total"]
    assert sum(steps) == pytest.approx(e.prediction[0, 0] * 100)
    assert w.x[-1] == pytest.approx(27.6)
    assert fig.layout.title.text == "Why this row gets 28%"
    assert fig.layout.xaxis.title.text == "Predicted probability of churn = yes (%)"


def test_waterfall_sums_the_smaller_columns_into_other():
    e = wide()
    w = pe.waterfall(e, 7, top=3).figure.data[0]
    assert w.y[-2] == "other 3 columns"
    row = e.row(7)
    assert w.x[-2] == pytest.approx(row["contribution"].iloc[3:].sum() * 100)
    assert list(w.y[1:4]) == [f"{c} = {words.value_text(v)}"
                              for c, v in zip(row["column"][:3], row["value"][:3], strict=True)]
    assert sum(w.x[:-1]) == pytest.approx(e.prediction[7, 0] * 100)


def test_regression_charts_use_the_target_units():
    data = pd.DataFrame({"education": [8, 12, 16], "gender": ["m", "f", "m"]})
    e = explanation(np.c_[[-2.0, 0.0, 2.0], [0.5, -0.5, 0.5]], data, base=9.0, units="value",
                    task="regression", target="wage")
    assert pe.axis_title(e) == "Change in predicted wage"
    fig = pe.waterfall(e, 2).figure
    assert sum(fig.data[0].x[:-1]) == pytest.approx(11.5)
    assert fig.layout.xaxis.title.text == "Predicted wage"
    assert list(pe.importance_bar(e).figure.data[0].x) == pytest.approx([4 / 3, 0.5])


def test_no_rows_give_no_charts():
    e = explanation(np.zeros((0, 1)), pd.DataFrame({"a": pd.Series([], dtype=float)}))
    for chart in (pe.importance_bar(e), pe.beeswarm(e), pe.dependence(e, "a"),
                  pe.waterfall(e, 0)):
        assert not chart and chart.reason == "No rows were explained."


@pytest.mark.slow
def test_charts_of_a_real_binary_run(churn_run):
    run = churn_run
    e = explain_run(run)
    assert e.task == "binary" and e.sampled and e.n_total == 5000
    bar = pe.importance_bar(e).figure.data[0]
    assert list(bar.y) == list(e.importance().index[:15])
    assert sum(len(t.x) for t in pe.beeswarm(e).figure.data) <= pe.BEESWARM_POINTS
    one = run_explainer(run).explain(run_features(run).iloc[[11]])
    w = pe.waterfall(one, 0).figure.data[0]
    proba = run_explainer(run).model.predict_proba(run_features(run).iloc[[11]])[0, 1]
    assert sum(w.x[:-1]) == pytest.approx(proba * 100) == pytest.approx(w.x[-1])
    for column in e.columns:
        assert pe.dependence(e, column)
