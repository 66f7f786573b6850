"""The Predict page with AppTest (real runs, real engine): pick a run's model or upload a
model file, load the rows to score, read the schema report, see the predictions and each
row's reasons. Bad model files and tables that do not fit get a message that says what to
do, and nothing loaded before (the training table, the current run) is lost."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from automl.bundle import load_model
from automl.data import load_table
from automl.runs import Run
from pages._shared.predict_helpers import STATE_KEY
from pages._shared.ui import SessionData
from tests import bundle_files
from tests.apptest import ROOT, WAGES, app, session, shown
from tests.evil_text import BOLD, HTML, ICON, IMAGE, LINK

CHURN = ROOT / "sample_data" / "churn.csv"
RAW = ("](http", "<img", ":red[", BOLD, ICON)  # would render as Markdown if left unescaped


def state_with_run(run: Run | None = None) -> SessionData:
    """A session with the wages table on the Data page and ``run`` as its current run."""
    ids = [run.id] if run else []
    return SessionData(table=load_table(WAGES), target_hint="wage", run_ids=ids,
                       current_run_id=run.id if run else None)


def predict_page(runs_dir: Path, monkeypatch, state: SessionData | None = None):
    monkeypatch.setenv("AUTOML_RUNS_DIR", str(runs_dir))
    return app("predict", state=state)


def upload(at, key: str, name: str, data: bytes):
    at.file_uploader(key=key).set_value((name, data, "application/octet-stream"))
    return at.run()


def upload_rows(at, frame: pd.DataFrame, name: str = "new_rows.csv"):
    return upload(at, "predict_data_upload", name, frame.to_csv(index=False).encode())


def alerts(at) -> str:
    return shown([*at.error, *at.warning, *at.info, *at.success])


def scored_table(at) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "prediction" in d.value.columns)


def kept(at, before: SessionData) -> None:
    """The Data page's table and the current run are those the session had."""
    now = session(at)
    assert now.table is before.table and now.current_run_id == before.current_run_id


# --- fast: no trained run needed ---------------------------------------------------------------

def test_without_a_finished_run_or_a_model_file_the_page_says_what_to_do(tmp_path,
                                                                         monkeypatch):
    at = predict_page(tmp_path / "runs", monkeypatch)
    assert at.title[0].value == "Predict" and not at.exception
    assert "No finished run on this machine yet" in alerts(at)
    at.radio(key="predict_model_from").set_value("A model file").run()
    assert "Upload a model file (.skops)" in alerts(at) and not at.error


@pytest.mark.parametrize("name, data, expected", [
    ("model.pkl", pickle.dumps({"weights": [1, 2]}), "is a pickle/joblib file"),
    ("model.skops", b"this is not a model", "is not an automl model file"),
    ("model.skops", b"PK\x03\x04" + b"\0" * 200, "damaged zip"),
    ("huge.skops", b"PK\x03\x04" + b"\0" * (3 << 20), "if you trust it, raise"),
])
def test_a_bad_model_file_gets_the_loaders_message_and_nothing_is_lost(
        name, data, expected, tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOML_MAX_MODEL_BYTES", str(2 << 20))  # "huge": over 2 MiB here
    before = state_with_run()
    at = predict_page(tmp_path / "runs", monkeypatch, before)
    at.radio(key="predict_model_from").set_value("A model file").run()
    at = upload(at, "predict_model_file", name, data)
    assert not at.exception
    message = shown(at.error)
    assert expected in message and repr(name) in message, message
    assert "automl-upload-" not in message  # the private temporary file is not named
    assert not at.dataframe and not at.get("download_button")
    kept(at, before)


def test_an_uploaded_model_file_scores_an_uploaded_table_beside_the_training_table(
        tmp_path, monkeypatch):
    pipe, X, manifest = bundle_files.fitted("linear", "binary")
    model_file = bundle_files.save(tmp_path / "fitted.skops", pipe, manifest)
    before = state_with_run()
    at = predict_page(tmp_path / "runs", monkeypatch, before)
    at.radio(key="predict_model_from").set_value("A model file").run()
    at = upload(at, "predict_model_file", "fitted.skops", model_file.read_bytes())
    at = upload_rows(at, X.head(25).drop(columns=["row_id"]))
    assert not at.exception and not at.error, shown(at.error)
    assert "ready to score" in shown(at.success)
    table = scored_table(at)
    assert len(table) == 25 and set(table["prediction"]) <= {"no", "yes"}
    assert session(at).upload is None  # the Data page's uploader was not used
    kept(at, before)

    wide = pd.DataFrame([range(2001)], columns=[f"c{i}" for i in range(2001)])
    at = upload_rows(at, wide, "wide.csv")  # over the column limit: refused, rows kept
    assert "wide.csv has more than 2,000 columns, over the limit" in shown(at.error)
    assert "upload a sample of the data" in shown(at.error)
    at = upload(at, "predict_data_upload", "rows.xlsx", b"not a workbook")
    assert "rows.xlsx" in shown(at.error) and not at.exception
    assert len(scored_table(at)) == 25  # the rows loaded before are still scored
    kept(at, before)


# --- slow: the session's trained churn run -----------------------------------------------------

@pytest.fixture
def runs_dir(churn_run) -> Path:
    return churn_run.path.parent


@pytest.mark.slow
def test_pick_a_run_load_a_table_see_the_report_and_the_predictions(churn_run, runs_dir,
                                                                    monkeypatch):
    before = state_with_run(churn_run)
    at = predict_page(runs_dir, monkeypatch, before)
    assert at.selectbox(key="predict_run").value == churn_run.id  # the current run first
    assert "Load the rows to score" in alerts(at)
    rows = pd.read_csv(CHURN).tail(200)
    at = upload_rows(at, rows)
    assert not at.exception and not at.error, shown(at.error)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rows"] == "200" and metrics["Columns the model needs"] == "19 of 19"
    assert "ready to score" in shown(at.success)
    assert "The table holds the target 'churn'" in alerts(at)
    table = scored_table(at)
    assert list(table.columns[:3]) == ["prediction", "proba_no", "proba_yes"]
    assert list(table.columns[3:]) == list(rows.columns) and len(table) == 200
    expected = load_model(churn_run.model_file).predict(rows.reset_index(drop=True))
    np.testing.assert_allclose(table["proba_yes"], expected["proba_yes"])
    assert [b.proto.label for b in at.get("download_button")] == [
        "Download the predictions (CSV)", "Download the predictions (Parquet)"]
    kept(at, before)


@pytest.mark.slow
def test_a_table_missing_a_column_shows_the_hint_and_scores_nothing(churn_run, runs_dir,
                                                                   monkeypatch):
    before = state_with_run(churn_run)
    at = predict_page(runs_dir, monkeypatch, before)
    rows = pd.read_csv(CHURN).tail(50).rename(columns={"state": "State"})
    at = upload_rows(at, rows.drop(columns=["account_length"]))
    assert not at.exception
    error = shown(at.error)
    assert "The rows lack 2 of the 19 columns the model needs" in error
    assert "'state' (did you mean 'State'?)" in error and "'account_length'" in error
    assert not any("prediction" in d.value.columns for d in at.dataframe)
    assert not at.get("download_button")
    at = upload_rows(at, pd.read_csv(CHURN).tail(50), "fixed.csv")  # fixed: scored
    assert not at.error and len(scored_table(at)) == 50
    kept(at, before)


@pytest.mark.slow
def test_words_in_numbers_unseen_categories_and_markdown_names_are_reported_as_written(
        churn_run, runs_dir, monkeypatch):
    rows = pd.read_csv(CHURN).tail(60).reset_index(drop=True)
    rows["total_day_calls"] = rows["total_day_calls"].astype(object)
    rows.loc[:29, "total_day_calls"] = "lots"  # half: the loader keeps the column as text
    rows["total_eve_calls"] = rows["total_eve_calls"].astype(object)
    rows.loc[:1, "total_eve_calls"] = "n.a."  # a few: the loader blanks them, with a note
    rows.loc[:2, "state"] = [IMAGE, LINK, '=HYPERLINK("http://evil.example","x")']
    rows[HTML] = 1
    at = predict_page(runs_dir, monkeypatch, state_with_run(churn_run))
    at = upload_rows(at, rows, f"{BOLD}.csv")
    assert not at.exception and not at.error, shown(at.error)
    said = alerts(at)
    assert "'total_day_calls' should hold numbers, but 30 value(s) are not numbers (e.g. " \
           "'lots')" in said
    assert re.search(r"Column 'total_eve_calls': 2 value\(s\) that are not numbers were "
                     r"treated as missing", said)
    assert "'state': 3 row(s) hold 3 value(s) the model never saw in training" in said
    assert f"ignored: '{HTML}'" in said
    drawn = [e.value for e in [*at.error, *at.warning, *at.info, *at.caption, *at.markdown]]
    bad = [t for t in drawn if any(re.search(r"(?<!\\)" + re.escape(r), t) for r in RAW)]
    assert not bad, bad  # every name and value escaped where Markdown renders
    table = scored_table(at)
    assert len(table) == 60 and table["prediction"].notna().all()


@pytest.mark.slow
def test_an_uploaded_model_file_scores_like_its_run(churn_run, runs_dir, monkeypatch):
    at = predict_page(runs_dir, monkeypatch, state_with_run())
    at.radio(key="predict_model_from").set_value("A model file").run()
    at = upload(at, "predict_model_file", "churn.skops", churn_run.model_file.read_bytes())
    assert not at.error and "churn.skops: binary model of churn" in shown(at.caption)
    at.button(key="predict_load_sample").click().run()  # the first sample: churn.csv
    assert at.selectbox(key="predict_sample").value == "churn.csv"
    table = scored_table(at)
    expected = load_model(churn_run.model_file).predict(pd.read_csv(CHURN))
    assert len(table) == 1000 and "The first 1,000 of 5,000 scored rows" in shown(at.caption)
    np.testing.assert_allclose(table["proba_no"], expected["proba_no"].head(1000))
    assert session(at).table.source == "wages.csv"  # the Data page's table stays


@pytest.mark.slow
def test_the_data_pages_table_and_each_rows_top_three_reasons(churn_run, runs_dir,
                                                               monkeypatch):
    churn = SessionData(table=load_table(CHURN), current_run_id=churn_run.id)
    at = predict_page(runs_dir, monkeypatch, churn)
    at.button(key="predict_use_training").click().run()
    assert at.session_state[STATE_KEY].rows is churn.table
    assert "why" not in scored_table(at).columns
    at.number_input(key="predict_why_rows").set_value(4).run()
    at = at.button(key="predict_why").click().run()
    assert not at.exception and not at.error, shown(at.error)
    table = scored_table(at)
    assert list(table.columns[:7]) == ["prediction", "proba_no", "proba_yes", "reason_1",
                                       "reason_2", "reason_3", "why"]
    assert table["why"].head(4).str.len().gt(20).all() and table["why"].iloc[4:].isna().all()
    columns = set(churn.table.frame.columns)
    for text in table["reason_1"].head(4):
        assert text.split(" = ")[0] in columns and re.search(r"\(([+−])[\d.]+ points\)", text)
