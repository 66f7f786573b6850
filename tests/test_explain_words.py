"""Plain-language sentences about explanations: the right column, sign and size, in the
model's units; checked on hand-made explanations (exact numbers) and on a real run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl.explain import explain_run, run_explainer, run_features, words
from tests.explanations import churn_like, explanation


def test_global_summary_names_the_top_column_its_points_and_direction():
    e = churn_like()
    assert words.global_summary(e) == [
        "contract matters most: on average it moves the predicted chance of churn = yes by "
        "13 points.",
        "Then comes minutes (3 points).",
        "On average, contract = month-to-month raises the predicted chance of churn = yes by "
        "23 points (4 rows), and contract = two-year lowers it by 10 points (3 rows).",
        "1 column does not change the prediction of any explained row: noise.",
    ]


def test_numeric_direction_follows_the_sign_and_quotes_both_ends():
    e = churn_like()
    text = words.dependence_summary(e, "minutes")
    assert text == (
        "minutes is the 2nd most important of 3 columns: on average it moves the predicted "
        "chance of churn = yes by 3 points. Higher minutes raises the predicted chance of "
        "churn = yes: rows with the lowest values (up to 100) get −5.4 points on average, "
        "rows with the highest (from 190) +5.4 points.")
    e.values[:, 1, 0] *= -1
    assert "Higher minutes lowers the predicted chance" in words.dependence_summary(e, "minutes")


def test_a_column_that_goes_up_and_down_has_no_simple_direction():
    x = np.arange(20, dtype=float)
    data = pd.DataFrame({"x": x})
    e = explanation(np.c_[np.where(x % 2 == 0, 0.05, -0.05)], data)
    text = words.dependence_summary(e, "x")
    assert "x has no simple direction" in text
    assert "range from −5 points to +5 points" in text


def test_missing_values_and_dates_are_described():
    x = np.r_[np.arange(18, dtype=float), np.nan, np.nan]
    c = np.r_[0.01 * np.arange(18), 0.2, 0.2]
    e = explanation(np.c_[c], pd.DataFrame({"x": x}))
    text = words.dependence_summary(e, "x")
    assert "Higher x raises" in text and text.endswith("Missing x raises it by 20 points "
                                                       "on average.")
    days = pd.date_range("2024-01-01", periods=30, freq="D")
    e = explanation(np.c_[-0.001 * np.arange(30)], pd.DataFrame({"day": days}))
    text = words.dependence_summary(e, "day")
    assert "Later day lowers the predicted chance" in text
    assert "(up to 2024-01-03)" in text and "(from 2024-01-28)" in text


def test_regression_speaks_in_the_targets_units():
    data = pd.DataFrame({"education": [8, 10, 12, 14, 16, 18], "gender": list("mfmfmf")})
    values = np.c_[[-2.3, -1.2, -0.4, 0.4, 1.2, 2.3], [0.5, -0.5] * 3]
    e = explanation(values, data, base=9.0, units="value", task="regression", target="wage")
    first, then, direction = words.global_summary(e)
    assert first == "education matters most: on average it moves the predicted wage by 1.3."
    assert then == "Then comes gender (0.5)."
    assert direction.startswith("Higher education raises the predicted wage: rows with the "
                                "lowest values (up to 8) get −2.3 on average")
    assert words.row_summary(e, 5) == (
        "The model predicts wage = 10.8 for this row, against 9 on average. It is higher "
        "mainly because of education = 18 (+2.3); gender = f (−0.5) pulls it the other way.")


def test_row_summary_gives_prediction_base_drivers_and_the_other_way():
    e = churn_like()
    # row 0: month-to-month +0.23, minutes 100 -> -0.054, noise 0: 0.1 + 0.176 = 0.276
    assert words.row_summary(e, 0) == (
        "The model predicts a 28% chance of churn = yes for this row, against "
        "10% on average. It is higher mainly because of contract = month-to-month (+23 points); "
        "minutes = 100 (−5.4 points) pulls it the other way.")
    # row 9: two-year -0.10, minutes 190 -> +0.054: 0.1 - 0.046 = 0.054
    text = words.row_summary(e, 9)
    assert text.startswith("The model predicts a 5.4% chance of churn = yes")
    assert "It is lower mainly because of contract = two-year (−10 points); minutes = 190 " \
           "(+5.4 points) pulls it the other way." in text


def test_row_summary_when_nothing_moves_or_everything_cancels():
    data = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    e = explanation(np.zeros((2, 2)), data, base=0.3)
    assert words.row_summary(e, 0).endswith("No column moves it away from the average.")
    e = explanation([[0.2, -0.2], [0.1, 0.0]], data, base=0.3)
    assert "effects cancel out: a = 1 (+20 points) and b = x (−20 points)." in \
        words.row_summary(e, 0)


def test_row_summary_keeps_the_top_drivers_and_drops_tiny_ones():
    data = pd.DataFrame({c: [1] for c in "abcdef"})
    e = explanation([[0.30, 0.20, 0.10, 0.05, 0.01, -0.02]], data, base=0.1)
    text = words.row_summary(e, 0)
    assert "because of a = 1 (+30 points), b = 1 (+20 points) and c = 1 (+10 points)" in text
    assert "d = 1" not in text and "e = 1" not in text and "f = 1" not in text  # under a tenth


def test_multiclass_sums_classes_or_speaks_of_one():
    data = pd.DataFrame({"petal": [1.0, 2.0, 5.0, 6.0], "sepal": [3.0, 3.1, 2.9, 3.0]})
    v = np.zeros((4, 2, 3))
    v[:, 0, 0] = [0.4, 0.3, -0.3, -0.4]  # petal: setosa when short ...
    v[:, 0, 2] = -v[:, 0, 0]  # ... virginica when long
    v[:, 1, 1] = [0.01, -0.01, 0.01, -0.01]
    e = explanation(v, data, base=[1 / 3] * 3, task="multiclass",
                    classes=("setosa", "versicolor", "virginica"), target="species")
    text = words.global_summary(e)
    assert text[0] == ("petal matters most: on average it moves the predicted class "
                       "probabilities by 70 points (summed over the 3 classes).")
    assert text[2].startswith("It matters most for P(species = setosa). Higher petal lowers "
                              "the predicted chance of species = setosa")
    assert words.global_summary(e, "virginica")[0].startswith(
        "petal matters most: on average it moves the predicted chance of species = virginica "
        "by 35 points.")
    assert words.subject(e, 2) == "the predicted chance of species = virginica"
    assert words.subject(e) == "the predicted class probabilities"


def test_change_summary_lists_the_edits_and_the_move():
    e = churn_like()
    before = explanation(e.values[:1], e.data.iloc[:1], base=0.1)
    edited = e.data.iloc[:1].copy()
    edited["minutes"] = [300]
    after = explanation(e.values[:1] + np.array([[[0], [0.2], [0]]]), edited, base=0.1)
    assert words.changed_columns(before, after) == ["minutes"]
    assert words.change_summary(before, after) == (
        "With minutes 100 → 300, the predicted chance of churn = yes goes from 28% to 48% "
        "(+20 points).")
    assert words.change_summary(before, before) == (
        "Nothing is changed yet: the predicted chance of churn = yes stays at 28%.")


@pytest.mark.parametrize(("x", "units", "signed", "expected"), [
    (0.23, "probability", False, "23 points"), (-0.054, "probability", True, "−5.4 points"),
    (0.00042, "probability", True, "+0.042 points"), (2.34, "value", True, "+2.3"),
    (-1234.5, "value", False, "1,234"), (0.0, "value", True, "+0"), (3.01, "value", False, "3"),
])
def test_amount_formats_points_and_values(x, units, signed, expected):
    e = explanation(np.zeros((1, 1)), pd.DataFrame({"a": [1]}), units=units,
                    task="binary" if units == "probability" else "regression")
    assert words.amount(e, x, signed=signed) == expected


@pytest.mark.parametrize(("x", "expected"), [
    (0.74, "74%"), (0.027, "2.7%"), (0.0065, "0.65%"), (0.995, "99.5%"), (0.9998, "99.98%"),
    (0.999999, "over 99.99%"), (1e-7, "under 0.01%"),
])
def test_level_formats_probabilities(x, expected):
    e = explanation(np.zeros((1, 1)), pd.DataFrame({"a": [1]}))
    assert words.level(e, x) == expected


@pytest.mark.parametrize(("v", "expected"), [
    (120.0, "120"), (299.4, "299.4"), (np.int64(7), "7"), (None, "missing"), (np.nan, "missing"),
    (pd.NA, "missing"), (pd.Timestamp("2024-01-31"), "2024-01-31"), (True, "True"),
    (123456.7, "123,457"), (1 / 3, "0.3333"), ("x" * 50, "x" * 39 + "…"),
])
def test_value_text(v, expected):
    assert words.value_text(v) == expected


def test_rows_used_says_when_rows_were_sampled():
    data = pd.DataFrame({"a": range(3)})
    assert words.rows_used(explanation(np.zeros((3, 1)), data, n_total=5000)) == \
        "Explained 3 of 5,000 rows, sampled at random."
    assert words.rows_used(explanation(np.zeros((3, 1)), data)) == "Explained all 3 rows."


def test_category_effects_orders_by_mean_and_groups_missing():
    data = pd.DataFrame({"c": ["a", "b", None, "a", None]})
    e = explanation(np.c_[[0.1, -0.2, 0.3, 0.2, 0.1]], data)
    eff = words.category_effects(e, "c")
    assert list(eff["value"]) == ["missing", "a", "b"]
    assert list(eff["rows"]) == [2, 2, 1]
    assert eff["mean"].tolist() == pytest.approx([0.2, 0.15, -0.2])


def test_no_rows_and_no_effect():
    empty = explanation(np.zeros((0, 1)), pd.DataFrame({"a": pd.Series([], dtype=float)}))
    assert words.global_summary(empty) == ["No rows were explained."]
    flat = explanation(np.zeros((4, 1)), pd.DataFrame({"a": range(4)}), base=0.2)
    assert words.global_summary(flat) == [
        "No column changes the predicted chance of churn = yes: the model predicts 20% for "
        "every explained row."]


# --- on a real run ---------------------------------------------------------------------------

@pytest.mark.slow
def test_sentences_of_a_real_regression_run_follow_its_numbers(wages_run):
    run = wages_run
    e = explain_run(run)
    top = e.importance().index[0]
    text = words.global_summary(e)
    assert text[0].startswith(f"{top} matters most: on average it moves the predicted wage by "
                              f"{words.amount(e, e.importance().iloc[0])}.")
    assert all(s.endswith(".") for s in text)
    one = run_explainer(run).explain(run_features(run).iloc[[4]])
    row = words.row_summary(one, 0)
    assert row.startswith(f"The model predicts wage = {words.level(one, one.prediction[0, 0])}")
    biggest = one.row(0).iloc[0]
    assert f"{biggest.column} = {words.value_text(biggest.value)}" in row
    for column in e.columns:
        assert words.dependence_summary(e, column).startswith(f"{column} is the ")
