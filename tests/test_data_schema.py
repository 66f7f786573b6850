"""infer_schema on realistic columns, and on the bundled sample data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from automl.data import ColumnInfo, Kind, Schema, infer_schema, load_table

SAMPLE_DATA = Path(__file__).resolve().parents[1] / "sample_data"
N = 60
rng = np.random.default_rng(7)


def kind_of(values, name: str = "col", dtype: str | None = None) -> Kind:
    s = pd.Series(values, dtype=dtype)
    return infer_schema(pd.DataFrame({name: s}))[name].kind


# --- booleans --------------------------------------------------------------------------------


@pytest.mark.parametrize("values", [
    [True, False] * (N // 2),
    ["yes", "no", "Yes", None] * (N // 4),
    ["TRUE", "false"] * (N // 2),
    ["Y", "n", "y"] * (N // 3),
    ["t", "f"] * (N // 2),
    [True, None, False] * (N // 3),
])
def test_boolean(values):
    assert kind_of(values) is Kind.BOOLEAN


def test_mixed_boolean_vocabularies_are_categorical():
    assert kind_of(["yes", "false"] * (N // 2)) is Kind.CATEGORICAL


def test_zero_one_integers_stay_numeric():
    assert kind_of([0, 1, 1, 0] * (N // 4)) is Kind.NUMERIC


# --- numbers and ids -------------------------------------------------------------------------


def test_numeric_floats_and_repeating_integers():
    assert kind_of(rng.normal(50, 10, N)) is Kind.NUMERIC
    assert kind_of(rng.integers(18, 90, N), name="age") is Kind.NUMERIC


def test_integer_row_numbers_are_ids():
    assert kind_of(np.arange(1, N + 1), name="row") is Kind.ID
    assert kind_of(np.arange(N, 0, -1), name="rank_desc") is Kind.ID


@pytest.mark.parametrize("name", ["id", "ID", "customer_id", "customerId", "CustomerID", "key",
                                  "uuid", "index", "rownames"])
def test_shuffled_distinct_integers_named_like_ids(name):
    assert kind_of(rng.permutation(np.arange(1000, 1000 + N)), name=name) is Kind.ID


def test_shuffled_distinct_integers_with_plain_name_are_numeric():
    assert kind_of(rng.permutation(np.arange(1000, 1000 + N)), name="income") is Kind.NUMERIC


def test_id_named_integers_with_repeats_are_numeric():
    assert kind_of([1, 2, 2, 3] * (N // 4), name="store_id") is Kind.NUMERIC


def test_distinct_floats_are_numeric_even_if_sorted():
    assert kind_of(np.linspace(0, 1, N), name="id") is Kind.NUMERIC


def test_string_codes_distinct_per_row_are_ids():
    assert kind_of([f"CUST-{i:05d}" for i in range(N)]) is Kind.ID
    assert kind_of([f"{first} {last}" for first, last in zip(
        [f"Name{i}" for i in range(N)], [f"Surname{i}" for i in range(N)], strict=True)]
    ) is Kind.ID


def test_few_distinct_strings_are_not_ids():
    assert kind_of([f"CUST-{i:05d}" for i in range(10)]) is Kind.CATEGORICAL


# --- dates -----------------------------------------------------------------------------------


def test_datetime_dtype():
    assert kind_of(pd.date_range("2021-01-01", periods=N, freq="D")) is Kind.DATETIME


@pytest.mark.parametrize("fmt", ["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y %H:%M", "%b %d, %Y",
                                 "%d %B %Y", "%Y-%m-%dT%H:%M:%S"])
def test_date_strings(fmt):
    days = pd.date_range("2020-01-01", periods=N, freq="13D")
    assert kind_of(days.strftime(fmt).tolist(), dtype="str") is Kind.DATETIME


def test_mostly_dates_with_a_typo_are_dates():
    values = pd.date_range("2020-01-01", periods=N).strftime("%Y-%m-%d").tolist()
    values[3] = "not a date"
    assert kind_of(values) is Kind.DATETIME


@pytest.mark.parametrize("values", [
    ["2020", "2021", "1999"] * (N // 3),           # years as text
    ["10-20", "20-30", "30-40"] * (N // 3),        # bins
    ["Jan", "Feb", "Mar"] * (N // 3),              # month names
    ["02134", "90210", "10001"] * (N // 3),        # zip codes
    ["1.5", "2.25", "3"] * (N // 3),               # numbers as text
])
def test_short_numeric_looking_strings_are_not_dates(values):
    assert kind_of(values) is not Kind.DATETIME


# --- text and categories ---------------------------------------------------------------------


def test_free_text():
    words = ["great", "service", "slow", "delivery", "would", "buy", "again", "broken", "box"]
    reviews = [" ".join(rng.choice(words, 8)) + f" order {i}" for i in range(N)]
    assert kind_of(reviews) is Kind.TEXT


def test_repeated_sentences_are_categorical():
    assert kind_of(["very happy with it", "not happy at all"] * (N // 2)) is Kind.CATEGORICAL


def test_categorical_strings():
    assert kind_of(rng.choice(["red", "green", "blue"], N).tolist(), dtype="str") is (
        Kind.CATEGORICAL)


def test_all_missing_column_is_categorical():
    assert kind_of([None] * N, dtype="str") is Kind.CATEGORICAL


# --- the schema object -----------------------------------------------------------------------


def test_counts_dtype_and_order():
    df = pd.DataFrame({"b": ["x", None, "y", "x"], "a": [1.0, np.nan, np.nan, 2.0]})
    schema = infer_schema(df)
    assert schema.names == ["b", "a"]
    assert schema["b"] == ColumnInfo("b", Kind.CATEGORICAL, "str", n_missing=1, n_unique=2)
    assert schema["a"] == ColumnInfo("a", Kind.NUMERIC, "float64", n_missing=2, n_unique=2)
    assert Schema.from_dict(schema.to_dict()) == schema


def test_non_string_column_names_become_strings():
    schema = infer_schema(pd.DataFrame({0: [1.5, 2.5], 1: ["a", "b"]}))
    assert schema.names == ["0", "1"]


def test_sample_data_kinds():
    credit = load_table(SAMPLE_DATA / "credit.csv").schema
    assert credit["Status"].kind is Kind.CATEGORICAL
    assert credit["Records"].kind is Kind.BOOLEAN
    assert credit["Income"].kind is Kind.NUMERIC and credit["Income"].n_missing > 0
    assert credit["Home"].kind is Kind.CATEGORICAL and credit["Home"].n_missing > 0
    wages = load_table(SAMPLE_DATA / "wages.csv").schema
    assert wages["wage"].kind is Kind.NUMERIC
    assert set(wages.names_of(Kind.CATEGORICAL)) == {"ethnicity", "region", "gender",
                                                      "occupation", "sector"}
    churn = load_table(SAMPLE_DATA / "churn.csv").schema
    assert churn["churn"].kind is Kind.BOOLEAN
    assert churn["state"].kind is Kind.CATEGORICAL


def test_wide_long_frame_parses_only_a_sample(monkeypatch):
    """Date and text checks look at a fixed sample, so their cost does not grow with rows;
    counts (missing, unique) still cover every row."""
    n = 20_000
    dates = pd.Series(pd.date_range("2020-01-01", periods=n, freq="h")
                      .strftime("%d/%m/%Y %H:%M"), dtype="str")
    text = pd.Series([f"free text about item number {j}" for j in range(n)], dtype="str")
    cats = pd.Series(rng.choice(["a", "b", "c"], n), dtype="str")
    cols: dict[str, object] = {}
    for i in range(10):
        cols[f"num{i}"] = rng.normal(size=n)
        cols[f"int{i}"] = rng.integers(0, 100, n)
        cols[f"cat{i}"] = cats.sample(frac=1, random_state=i, ignore_index=True)
        cols[f"date{i}"] = dates.sample(frac=1, random_state=i, ignore_index=True)
        cols[f"text{i}"] = text.sample(frac=1, random_state=i, ignore_index=True)
    df = pd.DataFrame(cols)
    parsed: list[int] = []
    real = pd.to_datetime

    def spy(values, *args, **kwargs):
        parsed.append(len(values))
        return real(values, *args, **kwargs)

    monkeypatch.setattr("automl.data.schema.pd.to_datetime", spy)
    schema = infer_schema(df)
    assert set(schema.names_of(Kind.DATETIME)) == {f"date{i}" for i in range(10)}
    assert set(schema.names_of(Kind.TEXT)) == {f"text{i}" for i in range(10)}
    assert set(schema.names_of(Kind.CATEGORICAL)) == {f"cat{i}" for i in range(10)}
    assert set(schema.names_of(Kind.NUMERIC)) == ({f"num{i}" for i in range(10)}
                                                  | {f"int{i}" for i in range(10)})
    assert len(parsed) >= 10 and max(parsed) <= 1_000  # a sample per column, not 20,000 rows
    assert schema["date0"].n_unique == n and schema["text0"].n_unique == n  # counted on all
    assert schema["cat0"].n_unique == 3 and schema["num0"].n_missing == 0
