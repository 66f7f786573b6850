"""The Explain page with AppTest (real runs, real engine): charts, sentences and the rows
used; picking a row by index, by searching and by clicking a dot; the what-if form."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from sklearn.datasets import load_iris

import automl
from automl.runs import Run
from pages._shared.explain_helpers import describe_row, find_rows
from tests.apptest import app
from tests.apptest import shown as texts
from tests.run_files import write_spec, write_status

SUBMIT = "FormSubmitter:explain_whatif-Show the new prediction"


@pytest.fixture(scope="module")
def iris(tmp_path_factory) -> Run:
    """A real multiclass run (iris, LightGBM), trained once for this file."""
    data = load_iris(as_frame=True)
    df = data.frame.rename(columns={"target": "species"})
    df["species"] = df["species"].map(dict(enumerate(data.target_names)))
    result = automl.train(df, "species", time_budget=30, max_trials=2, cv_folds=3,
                          families=["lgbm"], runs_dir=tmp_path_factory.mktemp("runs"))
    return Run(result.run_dir)


def page(run: Run, monkeypatch):
    """The Explain page of ``run`` (the app pointed at the folder holding it)."""
    monkeypatch.setenv("AUTOML_RUNS_DIR", str(run.path.parent))
    return app("explain", run_id=run.id)


def titles(at) -> list[str]:
    return [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]


def prose(at) -> str:
    """The page's sentences as generated (without the Markdown escapes)."""
    return texts(at.markdown).replace("\\", "")


def metrics(at) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.delta) for m in at.metric}


def what_if(at, column: str):
    return next(w for w in [*at.number_input, *at.selectbox, *at.text_input]
                if w.key and w.key.startswith("explain_whatif:") and w.key.endswith(f":{column}"))


# --- without a model -------------------------------------------------------------------------

def test_without_a_run_the_page_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOML_RUNS_DIR", str(tmp_path))
    at = app("explain")
    assert at.title[0].value == "Explain"
    assert "No run yet: start one on the Train page" in texts(at.info)
    assert not at.get("plotly_chart")


def test_a_run_without_a_model_file_yet_says_when_it_comes(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOML_RUNS_DIR", str(tmp_path))
    run = Run.create(tmp_path)
    write_spec(run)
    write_status(run, state="running")
    at = app("explain", run_id=run.id)
    assert f"Run `{run.id}` is running: its model can be explained once the search ends" \
        in texts(at.info)


def test_find_rows_and_describe_row():
    frame = pd.DataFrame({"state": ["KS", "NJ", "ks", "OH"], "n": [1, 2, 3, 44]})
    assert find_rows(frame, "ks") == [0, 2]
    assert find_rows(frame, " 44 ") == [3] and find_rows(frame, "4") == [3]
    assert find_rows(frame, "") == [] and find_rows(frame, "zz") == []
    assert find_rows(frame, "s", limit=1) == [0]
    assert describe_row(frame, 1) == "row 1: NJ, 2"
    assert describe_row(frame, 1, n=1) == "row 1: NJ, …"


# --- a regression run ------------------------------------------------------------------------

@pytest.mark.slow
def test_regression_page_shows_charts_sentences_and_rows_used(wages_run, monkeypatch):
    run = wages_run
    at = page(run, monkeypatch)
    # as many rows as fit in about half a second on this machine, at least 200 (README)
    used = re.search(r"Explained (all 534 rows|(\d+) of 534 rows, sampled at random)\.",
                     texts(at.caption))
    assert used and (used.group(2) is None or 200 <= int(used.group(2)) < 534)
    assert "units of wage" in texts(at.caption)
    assert titles(at)[:3] == ["Which columns move the predicted wage most",
                              "How each row's values move the prediction",
                              titles(at)[2]] and titles(at)[2].startswith("How ")
    assert titles(at)[3].startswith("Why this row gets ")
    md = prose(at)
    assert "matters most: on average it moves the predicted wage by" in md
    assert "The model predicts wage = " in md and "on average." in md
    assert "Nothing is changed yet" in md
    assert not [s for s in at.selectbox if s.label == "Explain the predicted probability of"]

    column = at.selectbox(key=f"explain_column:{run.id}")
    other = column.options[-1]
    column.select(other).run()
    assert f"How {other} moves the prediction" in titles(at)
    assert f"{other} is the {len(column.options)}th most important" in prose(at)


# --- a binary run ----------------------------------------------------------------------------

@pytest.fixture
def churn(churn_run) -> Run:
    """The session's churn run (tests/conftest.py)."""
    return churn_run


@pytest.mark.slow
def test_binary_page_says_how_many_rows_were_sampled(churn, monkeypatch):
    at = page(churn, monkeypatch)
    caption = texts(at.caption)
    used = re.search(r"Explained ([\d,]+) of 5,000 rows, sampled at random\.", caption)
    assert used and 200 <= int(used[1].replace(",", "")) <= 2000  # as many as fit in ~0.5 s
    assert "percentage points of the predicted probability" in caption
    assert "Drawn for" in caption  # the beeswarm's own sample
    assert len(titles(at)) == 4
    md = prose(at)
    assert "matters most: on average it moves the predicted chance of churn = yes by" in md
    assert "% chance of churn = yes for this row" in md
    assert set(metrics(at)) == {"Prediction", "Average prediction", "Prediction after the changes"}


@pytest.mark.slow
def test_changing_the_row_changes_the_waterfall_and_sentence(churn, monkeypatch):
    at = page(churn, monkeypatch)
    before = (titles(at)[-1], prose(at), metrics(at)["Prediction"])
    row = at.number_input(key=f"explain_row:{churn.id}")
    assert row.value == 0 and row.max == 4999
    # row 0 of the table is low-risk; the first row with international_plan = yes differs
    table = churn.read_data()
    other = int(table.index[table["international_plan"].eq("yes")][0])
    row.set_value(other).run()
    after = (titles(at)[-1], prose(at), metrics(at)["Prediction"])
    assert after[1] != before[1] and after[2] != before[2]
    assert "for this row" in after[1]
    assert what_if(at, "international_plan").value == "yes"


@pytest.mark.slow
def test_search_and_click_pick_a_row(churn, monkeypatch):
    at = page(churn, monkeypatch)
    key = f"explain_row:{churn.id}"
    at.text_input(key=f"explain_search:{churn.id}").input("NJ").run()
    table = churn.read_data()
    first_nj = int(table.index[table["state"].eq("NJ")][0])
    assert at.number_input(key=key).value == first_nj
    matches = at.selectbox(key=f"explain_match:{churn.id}")
    assert matches.label == "Matching rows (100+)"
    second = int(table.index[table["state"].eq("NJ")][1])
    matches.set_value(second).run()
    assert at.number_input(key=key).value == second

    at.text_input(key=f"explain_search:{churn.id}").input("no such text").run()
    assert "No row contains “no such text”." in texts(at.info)

    # a click on a dot of the dependence chart (its customdata is the row's label)
    at.session_state["explain_dependence"] = {"selection": {
        "points": [{"customdata": 42}], "point_indices": [0], "box": [], "lasso": []}}
    at.run()
    assert at.number_input(key=key).value == 42
    at.number_input(key=key).set_value(7).run()  # the old click does not win again
    assert at.number_input(key=key).value == 7


@pytest.mark.slow
def test_what_if_changes_the_prediction_and_its_explanation(churn, monkeypatch):
    at = page(churn, monkeypatch)
    original = metrics(at)["Prediction"][0]
    assert metrics(at)["Prediction after the changes"] == (original, "")
    widget = what_if(at, "total_day_minutes")
    assert widget.value == pytest.approx(float(churn.read_data()["total_day_minutes"][0]))
    widget.set_value(345.6)
    what_if(at, "international_plan").set_value("yes")
    at.button(key=SUBMIT).click().run()
    assert not at.exception
    value, delta = metrics(at)["Prediction after the changes"]
    assert value != original and delta.startswith("+") and delta.endswith(" points")
    md = prose(at)
    assert "international_plan no → yes" in md and "total_day_minutes 265.1 → 345.6" in md
    assert f"goes from {original} to {value}" in md
    assert "total_day_minutes = 345.6" in md  # the new row's explanation
    assert len(titles(at)) == 5  # a second waterfall, for the edited row


# --- a multiclass run ------------------------------------------------------------------------

@pytest.mark.slow
def test_multiclass_page_explains_the_chosen_class(iris, monkeypatch):
    run = iris
    at = page(run, monkeypatch)
    picker = at.selectbox(key=f"explain_output:{run.id}")
    assert picker.label == "Explain the predicted probability of"
    assert picker.options == ["setosa", "versicolor", "virginica"]
    assert "the predicted chance of species = setosa" in prose(at)
    picker.select("virginica").run()
    md = prose(at)
    assert "the predicted chance of species = virginica" in md
    assert "species = setosa" not in md
    assert "Explained all 150 rows." in texts(at.caption)
