"""automl.schema_report: new rows checked against a model before scoring (missing columns
with hints, ignored columns, values of the wrong type, unseen categories), the scored
table and its downloads. Fast tests on models fitted directly (tests/fitted_models.py);
slow ones on the session's trained runs and the bundled sample data."""

from __future__ import annotations

import io
import types

import numpy as np
import pandas as pd
import pytest

from automl.bundle import Model, load_model
from automl.contracts import ModelManifest
from automl.data import load_table
from automl.data.schema import ColumnInfo, Kind, Schema
from automl.ensemble import WeightedEnsemble
from automl.exports import csv_bytes
from automl.schema_report import (
    MissingColumn,
    parquet_bytes,
    schema_report,
    scored_rows,
    training_categories,
)
from tests import bundle_files
from tests.apptest import ROOT
from tests.fitted_models import fitted

SAMPLES = ROOT / "sample_data"


@pytest.fixture(scope="module")
def binary() -> tuple[Model, pd.DataFrame]:
    """A linear model on breast cancer plus category, boolean, date, text and ID columns."""
    return fitted("linear", "binary")


def levels(report) -> list[str]:
    return [level for level, _ in report.messages()]


def said(report) -> str:
    return "\n".join(text for _, text in report.messages())


# --- fast: models fitted directly -------------------------------------------------------------

def test_rows_like_the_training_rows_can_be_scored_as_they_are(binary):
    model, X = binary
    report = schema_report(model, X)
    assert report.can_score and report.rows == len(X)
    assert "row_id" not in report.needed and len(report.needed) == X.shape[1] - 1
    assert (report.missing, report.extra, report.type_problems, report.unseen) == ((),) * 4
    assert report.messages() == [] and report.categories_known
    assert schema_report(model, X.drop(columns=["row_id"])).can_score  # an ID is not needed


def test_missing_columns_are_named_with_the_column_they_were_renamed_to(binary):
    model, X = binary
    rows = X.rename(columns={"color": "Colour", "mean radius": "mean_radius",
                             "city": "town"}).drop(columns=["flag"])
    report = schema_report(model, rows)
    assert not report.can_score
    assert set(report.missing) == {MissingColumn("color", "Colour"),
                                   MissingColumn("mean radius", "mean_radius"),
                                   MissingColumn("city", None), MissingColumn("flag", None)}
    assert set(report.extra) == {"Colour", "mean_radius", "town"}
    assert levels(report)[0] == "error"
    text = said(report)
    assert "'color' (did you mean 'Colour'?)" in text and "'flag'" in text
    assert "Rename the columns that are only named differently, or add the missing" in text


def test_extra_columns_are_ignored_and_the_target_is_said_apart(binary):
    model, X = binary
    report = schema_report(model, X.assign(target=1, note_2="x", more=2.0))
    assert report.can_score and report.target == "target"
    assert report.extra == ("target", "note_2", "more")
    text = said(report)
    assert "The table holds the target 'target'" in text
    assert "2 column(s) the model does not use are ignored: 'note_2', 'more'." in text


def test_words_in_numbers_and_text_that_is_no_date_are_counted_with_examples(binary):
    model, X = binary
    rows = X.head(50).copy()
    rows["mean radius"] = rows["mean radius"].astype(object)
    rows.loc[:4, "mean radius"] = ["lots", "12 cm", "lots", " ", None]  # blanks are missing
    rows["when"] = rows["when"].dt.strftime("%Y-%m-%d").astype(object)
    rows.loc[:1, "when"] = ["not a date", "soon"]
    rows["mean texture"] = pd.Timestamp("2024-01-01")  # dates where numbers belong
    report = schema_report(model, rows)
    problems = {p.column: p for p in report.type_problems}
    assert report.can_score and set(problems) == {"mean radius", "when", "mean texture"}
    assert (problems["mean radius"].count, problems["mean radius"].examples) == \
        (3, ("lots", "12 cm"))
    assert problems["mean radius"].expected == "numbers"
    assert (problems["when"].count, problems["when"].expected) == (2, "dates")
    assert problems["mean texture"].count == 50
    assert "'mean radius' should hold numbers, but 3 value(s) are not numbers (e.g. 'lots', " \
           "'12 cm'): they are scored as missing." in said(report)


def test_unseen_categories_are_counted_per_column_and_blanks_are_not(binary):
    model, X = binary
    rows = X.head(40).copy()
    rows.loc[:6, "color"] = ["purple"] * 5 + ["pink", None]
    rows.loc[:0, "city"] = "c999"
    rows["flag"] = rows["flag"].astype(object)
    rows.loc[:2, "flag"] = "maybe"
    report = schema_report(model, rows)
    unseen = {u.column: u for u in report.unseen}
    assert set(unseen) == {"color", "city", "flag"}
    assert (unseen["color"].rows, unseen["color"].distinct, unseen["color"].examples) == \
        (6, 2, ("purple", "pink"))
    assert (unseen["city"].rows, unseen["flag"].rows) == (1, 3)
    assert report.can_score and set(levels(report)) == {"warning"}
    assert "'color': 6 row(s) hold 2 value(s) the model never saw in training (e.g. " \
           "'purple', 'pink')" in said(report)


def test_training_categories_come_from_every_fitted_encoder_of_an_ensemble():
    X, y, schema = bundle_files.make_data("binary")
    no_blue = (X["color"] != "blue").to_numpy()
    one, _, manifest = bundle_files.fitted("linear", "binary", X=X[no_blue], y=y[no_blue],
                                           schema=schema)
    assert "blue" not in training_categories(Model(one, manifest))["color"]
    other, _, _ = bundle_files.fitted("lgbm", "binary", X=X, y=y, schema=schema)
    both = Model(WeightedEnsemble.from_fitted([one, other], [0.5, 0.5], "binary"), manifest)
    known = training_categories(both)
    assert {"red", "green", "blue"} <= known["color"]  # one-hot encoded
    assert {f"c{i}" for i in range(40)} <= known["city"]  # target-encoded (40 values)
    assert known["flag"] == {"True", "False"} and "note" not in known  # text: no categories
    assert not schema_report(both, X.head(30)).unseen


def test_a_model_whose_encoders_cannot_be_read_says_so():
    schema = Schema((ColumnInfo("x", Kind.NUMERIC, "float64", 0, 5),
                     ColumnInfo("c", Kind.CATEGORICAL, "str", 0, 3)))
    model = Model(types.SimpleNamespace(), ModelManifest(task="regression", target="y",
                                                         schema=schema))
    assert training_categories(model) is None
    report = schema_report(model, pd.DataFrame({"x": [1.0], "c": ["new"]}))
    assert report.can_score and not report.categories_known and not report.unseen
    assert levels(report) == ["info"] and "could not be read" in said(report)


def test_duplicate_names_and_empty_tables_cannot_be_scored(binary):
    model, X = binary
    twice = pd.concat([X.head(5), X[["color"]].head(5)], axis=1)
    report = schema_report(model, twice)
    assert not report.can_score and report.duplicates == ("color",)
    assert "Columns with the same name: 'color'" in said(report)
    empty = schema_report(model, X.head(0))
    assert not empty.can_score and "no rows" in said(empty)


def test_scored_rows_put_the_predictions_first_and_keep_every_input(binary):
    model, X = binary
    rows = X.head(30).assign(prediction="an old score")
    out = scored_rows(model, rows, limit=20)
    assert list(out.columns[:3]) == ["prediction", "proba_no", "proba_yes"]
    assert list(out.columns[3:]) == [*X.columns, "prediction (input)"]
    assert len(out) == 20 and (out["prediction (input)"] == "an old score").all()
    assert set(out["prediction"]) <= {"no", "yes"}
    np.testing.assert_allclose(out["proba_no"] + out["proba_yes"], 1.0)
    pd.testing.assert_frame_equal(out.iloc[:, 3:-1], X.head(20))


def test_downloads_escape_formulas_in_csv_and_keep_values_in_parquet(binary):
    model, X = binary
    rows = X.head(3).assign(**{"=cmd|' /C calc'!A0": ["=HYPERLINK(\"http://x\",\"y\")",
                                                     "@SUM(1)", "plain"]})
    out = scored_rows(model, rows)
    text = csv_bytes(out).decode()
    assert "'=HYPERLINK" in text and "'@SUM(1)" in text and "'=cmd" in text
    assert ",=HYPERLINK" not in text
    back = pd.read_parquet(io.BytesIO(parquet_bytes(out)))
    assert list(back.columns) == list(out.columns) and back.iloc[0, -1].startswith("=HYPER")
    mixed = pd.DataFrame({"a": pd.Series([1, "x", None], dtype=object), "b": [1.5, 2, 3]})
    back = pd.read_parquet(io.BytesIO(parquet_bytes(mixed)))  # text and a number: as text
    assert back["a"].tolist()[:2] == ["1", "x"] and pd.isna(back["a"][2])
    assert back["b"].tolist() == [1.5, 2.0, 3.0]


# --- slow: the session's trained runs and the bundled sample data -----------------------------

@pytest.mark.slow
def test_churn_sample_against_its_run_model(churn_run):
    model = load_model(churn_run.model_file)
    rows = load_table(SAMPLES / "churn.csv").frame
    known = training_categories(model)
    assert known["state"] >= set(rows["state"]) and len(set(rows["state"])) == 51
    report = schema_report(model, rows)
    assert report.can_score and report.target == "churn" and not report.unseen
    assert not report.type_problems and len(report.needed) == 19

    new = rows.tail(100).copy()
    new.loc[new.index[:4], "state"] = ["ZZ", "ZZ", "Kansas", None]
    new.loc[new.index[:2], "area_code"] = "area_code_999"
    new = new.rename(columns={"total_day_calls": "Total Day Calls"})
    report = schema_report(model, new)
    assert report.missing == (MissingColumn("total_day_calls", "Total Day Calls"),)
    unseen = {u.column: (u.rows, u.examples) for u in report.unseen}
    assert unseen == {"state": (3, ("ZZ", "Kansas")), "area_code": (2, ("area_code_999",))}


@pytest.mark.slow
def test_wages_sample_against_its_regression_model(wages_run):
    model = load_model(wages_run.model_file)
    rows = pd.read_csv(SAMPLES / "wages.csv").drop(columns=["wage"])
    rows["age"] = rows["age"].astype(object)
    rows.loc[:99, "age"] = "thirty"  # 100 of 534: the loader would keep this column as text
    report = schema_report(model, rows.rename(columns={"occupation": "Occupation"}))
    assert report.missing == (MissingColumn("occupation", "Occupation"),)
    assert [(p.column, p.count, p.examples) for p in report.type_problems] == \
        [("age", 100, ("thirty",))]
    out = scored_rows(model, rows)
    assert list(out.columns[:1]) == ["prediction"] and out["prediction"].notna().all()


@pytest.mark.slow
def test_a_model_of_numbers_only_has_no_categories(multiclass_run):
    model = load_model(multiclass_run.model_file)
    assert training_categories(model) == {}
    from sklearn.datasets import load_iris

    rows = load_iris(as_frame=True).data
    report = schema_report(model, rows)
    assert report.can_score and not report.unseen and not report.type_problems
    out = scored_rows(model, rows)
    assert list(out.columns[:4]) == ["prediction", "proba_setosa", "proba_versicolor",
                                     "proba_virginica"]
