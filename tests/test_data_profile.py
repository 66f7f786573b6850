"""profile_table on real data (sklearn's bundled sets, sample_data/) and on frames built to
trigger exactly one warning each."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine

from automl.data import Kind, infer_schema, profile_table, suggested_drops
from automl.errors import DataError, TargetError

SAMPLE_DATA = Path(__file__).resolve().parents[1] / "sample_data"
N = 1000


def codes(profile) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for w in profile.warnings:
        out.setdefault(w.code, set()).update(w.columns)
    return out


@pytest.fixture(scope="module")
def credit() -> pd.DataFrame:
    return pd.read_csv(SAMPLE_DATA / "credit.csv")


@pytest.fixture(scope="module")
def churn() -> pd.DataFrame:
    return pd.read_csv(SAMPLE_DATA / "churn.csv")


@pytest.fixture(scope="module")
def flagged() -> pd.DataFrame:
    """One column per warning, next to ordinary features, with a 50/50 yes/no target."""
    rng = np.random.default_rng(0)
    y = rng.choice(["yes", "no"], N)
    near = np.array(["a"] * N, dtype=object)
    near[rng.choice(N, 5, replace=False)] = "b"
    sparse = rng.normal(size=N)
    sparse[rng.random(N) < 0.7] = np.nan
    return pd.DataFrame({
        "customer_id": np.arange(1000, 1000 + N),
        "country": "NL",
        "near": near,
        "city": [f"city_{i}" for i in rng.integers(0, 300, N)],
        "age": rng.integers(18, 90, N),
        "income": rng.lognormal(10, 1, N),
        "plan": rng.choice(["basic", "plus", "pro"], N),
        "sparse": sparse,
        "signed_up": pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 900, N), "D"),
        "answer_copy": y,
        "answer_code": np.where(y == "yes", 1, 0),
        "refund": np.where(y == "yes", 50.0, 0.0) + rng.random(N),
        "churned": y,
    })


@pytest.fixture(scope="module")
def flagged_profile(flagged):
    return profile_table(flagged, target="churned")


# --- per-column summaries ---------------------------------------------------------------------


def test_column_summaries_match_pandas(credit):
    p = profile_table(credit)
    assert (p.n_rows, p.n_columns) == credit.shape
    assert [c.name for c in p.columns] == list(credit.columns)
    income = p.column("Income")
    present = credit["Income"].dropna()
    assert income.kind is Kind.NUMERIC
    assert income.n_missing == 381
    assert income.missing_share == pytest.approx(381 / len(credit))
    assert income.n_unique == present.nunique()
    assert income.min == present.min() and income.max == present.max()
    assert income.mean == pytest.approx(present.mean())
    assert income.std == pytest.approx(present.std())
    assert income.histogram.counts.sum() == len(present)
    assert len(income.histogram.edges) == len(income.histogram.counts) + 1
    assert income.bars is None


@pytest.mark.parametrize("column", ["Home", "Job", "Marital", "Seniority", "Records"])
def test_top_values_match_value_counts(credit, column):
    col = profile_table(credit[[column]]).column(column)
    counts = credit[column].value_counts()
    assert [n for _, n in col.top_values] == counts.head(5).tolist()
    for value, n in col.top_values:
        assert counts[value] == n
    assert col.n_missing == credit[column].isna().sum()


def test_integer_top_values_stay_integers(credit):
    value, _ = profile_table(credit[["Seniority"]]).column("Seniority").top_values[0]
    assert isinstance(value, int)


def test_categorical_bars_fold_the_rest_into_other(churn):
    state = profile_table(churn).column("state")
    assert state.kind is Kind.CATEGORICAL and state.n_unique == 51
    assert len(state.bars.labels) == 21 and state.bars.n_other_values == 31
    assert state.bars.labels[-1].startswith("other")
    assert sum(state.bars.counts) == len(churn)
    assert state.bars.counts[:20] == churn["state"].value_counts().head(20).tolist()
    assert state.histogram is None


def test_boolean_and_short_categorical_have_no_other_bar(churn):
    plan = profile_table(churn).column("international_plan")
    assert plan.kind is Kind.BOOLEAN
    assert dict(zip(plan.bars.labels, plan.bars.counts, strict=True)) == (
        churn["international_plan"].value_counts().to_dict())
    assert plan.bars.n_other_values == 0


def test_date_histogram_has_date_edges(flagged_profile, flagged):
    col = flagged_profile.column("signed_up")
    assert col.kind is Kind.DATETIME
    assert col.histogram.edges.dtype.kind == "M"
    assert col.histogram.counts.sum() == len(flagged)
    assert col.min == flagged["signed_up"].min() and col.max == flagged["signed_up"].max()


def test_text_dates_are_parsed_for_the_histogram():
    days = pd.date_range("2022-01-01", periods=200, freq="D")
    df = pd.DataFrame({"day": days.strftime("%Y-%m-%d"), "x": np.arange(200) % 7})
    col = profile_table(df).column("day")
    assert col.kind is Kind.DATETIME
    assert col.histogram.counts.sum() == 200
    assert col.min == days[0] and col.max == days[-1]


def test_to_frame_has_a_row_per_column(credit):
    frame = profile_table(credit).to_frame()
    assert frame["column"].tolist() == list(credit.columns)
    assert frame.set_index("column").loc["Income", "n_unique"] == credit["Income"].nunique()


# --- warnings, one constructed column each ------------------------------------------------------


def test_each_constructed_column_gets_its_warning(flagged_profile):
    found = codes(flagged_profile)
    assert found["id_like"] == {"customer_id"}
    assert found["constant"] == {"country"}
    assert found["near_constant"] == {"near"}
    assert found["high_cardinality"] == {"city"}
    assert found["mostly_missing"] == {"sparse"}
    assert found["dates"] == {"signed_up"}
    assert found["leakage"] == {"answer_copy", "answer_code", "refund"}
    assert "imbalance" not in found and "duplicates" not in found
    assert flagged_profile.task == "binary" and flagged_profile.sample_rows == N


def test_every_warning_explains_itself(flagged_profile):
    for w in flagged_profile.warnings:
        assert w.severity in ("high", "medium", "low")
        assert len(w.message) > 40 and len(w.action) > 5
        for column in w.columns:
            assert repr(column) in w.message or w.code == "mostly_missing"


def test_leak_messages_say_how(flagged_profile):
    leaks = {w.columns[0]: w for w in flagged_profile.warnings_for("leakage")}
    assert "exact copy" in leaks["answer_copy"].message
    assert "written another way" in leaks["answer_code"].message
    assert "predicts" in leaks["refund"].message
    assert all(w.severity == "high" for w in leaks.values())
    assert flagged_profile.leak_scores["answer_copy"] == 1.0
    assert flagged_profile.leak_scores["refund"] >= 0.99
    for normal in ("age", "income", "plan", "city", "near"):
        assert flagged_profile.leak_scores[normal] < 0.7


def test_suggested_drops_are_exactly_the_droppable_flags(flagged_profile, flagged):
    drops = suggested_drops(flagged_profile)
    assert set(drops) == {"customer_id", "country", "sparse", "answer_copy", "answer_code",
                          "refund"}
    assert drops == [c for c in flagged.columns if c in drops]  # table order
    assert "churned" not in drops and "near" not in drops and "city" not in drops


def test_target_column_is_never_flagged():
    rng = np.random.default_rng(1)
    y = np.where(rng.random(2000) < 0.995, "ok", "fraud")  # near-constant target
    p = profile_table(pd.DataFrame({"x": rng.normal(size=2000), "y": y}), target="y")
    assert all("y" not in w.columns for w in p.warnings if w.code != "imbalance")
    assert codes(p)["imbalance"] == {"y"}


def test_near_constant_threshold_is_99_percent():
    values = ["a"] * 989 + ["b"] * 11  # 98.9%
    assert "near_constant" not in codes(profile_table(pd.DataFrame({"v": values})))
    values = ["a"] * 990 + ["b"] * 10  # 99.0%
    assert codes(profile_table(pd.DataFrame({"v": values})))["near_constant"] == {"v"}


def test_mostly_missing_threshold_is_half():
    x = np.arange(100, dtype=float)
    half, less = x.copy(), x.copy()
    half[:50] = np.nan
    less[:49] = np.nan
    found = codes(profile_table(pd.DataFrame({"half": half, "less": less})))
    assert found["mostly_missing"] == {"half"}


def test_all_missing_column_is_constant_and_missing():
    df = pd.DataFrame({"empty": [np.nan] * 50, "x": np.arange(50) % 3})
    found = codes(profile_table(df))
    assert found["constant"] == {"empty"} and found["mostly_missing"] == {"empty"}


def test_duplicate_rows_are_counted_exactly():
    rng = np.random.default_rng(2)
    base = pd.DataFrame({"a": rng.integers(0, 1000, 300), "b": rng.choice(["x", "y"], 300),
                         "c": rng.normal(size=300)})
    base.loc[3, "c"] = np.nan
    df = pd.concat([base, base.iloc[[0] * 7 + [3] * 2 + [5]]], ignore_index=True)
    df = df.sample(frac=1, random_state=0)
    p = profile_table(df)
    assert p.n_duplicate_rows == 10 == df.duplicated().sum()
    assert p.duplicate_share == pytest.approx(10 / len(df))
    assert "10 rows" in p.warnings_for("duplicates")[0].message


def test_no_duplicates_no_warning(churn):
    p = profile_table(churn)
    assert p.n_duplicate_rows == 0 and not p.warnings_for("duplicates")


def test_imbalance_flagged_for_95_5():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"x": rng.normal(size=2000), "y": [0] * 1900 + [1] * 100})
    w = profile_table(df, target="y").warnings_for("imbalance")
    assert len(w) == 1 and w[0].columns == ("y",) and "5.0%" in w[0].message


def test_many_even_classes_are_not_imbalanced():
    df = pd.DataFrame({"x": np.arange(1200) % 17, "y": [f"c{i % 12}" for i in range(1200)]})
    assert not profile_table(df, target="y").warnings_for("imbalance")


def test_regression_leaks_copy_scaled_and_monotone():
    rng = np.random.default_rng(4)
    y = rng.lognormal(3, 1, 3000)
    df = pd.DataFrame({"y": y, "copy": y, "cents": y * 100, "log": np.log(y),
                       "noisy": y + rng.normal(scale=y.std(), size=3000),
                       "other": rng.normal(size=3000)})
    p = profile_table(df, target="y")
    assert p.task == "regression"
    assert codes(p)["leakage"] == {"copy", "cents", "log"}
    assert "exact copy" in p.warnings_for("leakage")[0].message


def test_leakage_check_uses_a_sample_and_says_so():
    rng = np.random.default_rng(5)
    y = rng.choice(["a", "b", "c"], 20_000)
    df = pd.DataFrame({"x": rng.normal(size=20_000), "code": pd.Series(y).map(
        {"a": "A1", "b": "B2", "c": "C3"}), "y": y})
    p = profile_table(df, target="y", sample_rows=2_000)
    assert p.sample_rows == 2_000
    assert codes(p)["leakage"] == {"code"}


def test_unknown_target_suggests_close_names(credit):
    with pytest.raises(TargetError, match="Status"):
        profile_table(credit, target="status")


# --- real data: no false alarms -----------------------------------------------------------------


@pytest.mark.parametrize("loader", [load_breast_cancer, load_iris, load_wine, load_diabetes])
def test_no_leakage_on_real_features(loader):
    df = loader(as_frame=True).frame
    p = profile_table(df, target="target")
    assert not p.warnings_for("leakage")
    assert max(p.leak_scores.values()) < 0.97
    assert set(p.leak_scores) == set(df.columns) - {"target"}


def test_breast_cancer_profile_is_quiet():
    p = profile_table(load_breast_cancer(as_frame=True).frame, target="target")
    assert p.warnings == [] and suggested_drops(p) == []


def test_iris_is_balanced_but_has_duplicates():
    df = load_iris(as_frame=True).frame
    p = profile_table(df, target="target")
    assert p.task == "multiclass"
    assert not p.warnings_for("imbalance")
    assert p.n_duplicate_rows == df.duplicated().sum() == 1


@pytest.mark.parametrize(("name", "target"), [("credit", "Status"), ("churn", "churn"),
                                              ("wages", "wage")])
def test_sample_data_has_no_leaks(name, target):
    df = pd.read_csv(SAMPLE_DATA / f"{name}.csv")
    p = profile_table(df, target=target)
    assert not p.warnings_for("leakage")
    assert p.n_duplicate_rows == df.duplicated().sum()
    assert suggested_drops(p) == []


def test_churn_target_imbalance_and_state_cardinality(churn):
    p = profile_table(churn, target="churn")
    assert codes(p)["high_cardinality"] == {"state"}
    share = (churn["churn"] == "yes").mean()  # about 14%: below 1:10 neither way
    assert 0.1 < share < 0.2 and not p.warnings_for("imbalance")


# --- a big table (speed is measured in benchmarks, not asserted here) -----------------------


def test_a_wide_long_table_is_profiled_on_all_rows():
    rng = np.random.default_rng(6)
    n = 100_000
    cols = {f"num{i}": rng.normal(size=n) for i in range(35)}
    cols |= {f"cat{i}": pd.Series(rng.choice([f"v{j}" for j in range(5 * (i + 1))], n),
                                  dtype="str") for i in range(12)}
    cols |= {"when": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 999, n), "D"),
             "row": np.arange(n), "y": rng.choice(["a", "b"], n)}
    df = pd.DataFrame(cols)
    p = profile_table(df, target="y")
    assert p.n_columns == 50 and p.sample_rows == n
    assert codes(p)["id_like"] == {"row"} and not p.warnings_for("leakage")



def test_a_schema_for_other_columns_is_refused(credit):
    with pytest.raises(DataError, match="schema"):
        profile_table(credit, infer_schema(credit).without("Income"))
