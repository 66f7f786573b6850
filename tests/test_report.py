"""The HTML report: self-contained, escaped, with quality and explanations; from a run and
from `automl explain MODEL DATA --out report.html`."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import automl
from automl.report import model_report, run_report, write_report
from automl.runs import Run
from tests.bundle_files import make_data
from tests.cli import run_cli
from tests.fitted_models import fitted

ROOT = Path(__file__).resolve().parent.parent
CHURN = ROOT / "sample_data" / "churn.csv"


class _Page(HTMLParser):
    """What a browser would fetch or run from the report."""

    def __init__(self):
        super().__init__()
        self.external, self.headings, self.text = [], [], []
        self._tag = None

    def handle_starttag(self, tag, attrs):
        self._tag = tag
        for name, value in attrs:
            if name in ("src", "href") and value and re.match(r"(https?:)?//", value):
                self.external.append(value)

    def handle_data(self, data):
        if self._tag in ("h1", "h2", "h3"):
            self.headings.append(data.strip())
        if self._tag not in ("script", "style"):
            self.text.append(data)


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Run:
    """A binary run on 1,500 churn rows with a holdout, trained once for this file."""
    df = pd.read_csv(CHURN).head(1500)
    df.insert(0, "odd <b>name</b>", range(len(df)))  # a column name to be escaped
    result = automl.train(df, "churn", time_budget=12, max_trials=4, holdout=0.2,
                          families=["lgbm", "linear"], runs_dir=tmp_path_factory.mktemp("runs"))
    return Run(result.run_dir)


@pytest.mark.slow
def test_run_report_is_self_contained_and_has_every_section(run):
    html = run_report(run)
    page = parse(html)
    assert page.external == []  # nothing fetched from the network: plotly.js is inside
    assert "Plotly.newPlot" in html and html.count('class="plotly-graph-div"') >= 8
    assert page.headings[0] == "Model report: predicting churn"
    for h in ("Data", "Search", "How good is it?", "What drives the predictions"):
        assert h in page.headings
    text = " ".join(page.text)
    assert "holdout" in text  # quality on the rows the search never saw
    assert "<b>name</b>" not in html.split("<script")[0] + html.split("</script>")[-1]
    assert "odd &lt;b&gt;name&lt;/b&gt;" in html  # user text is escaped
    assert re.search(r"matters most", text)  # plain-language explanation


@pytest.mark.slow
def test_cli_explain_writes_a_report_with_quality_when_the_target_is_there(run, tmp_path):
    data = run.read_data()
    labelled, unlabelled = tmp_path / "labelled.csv", tmp_path / "unlabelled.csv"
    data.to_csv(labelled, index=False)
    data.drop(columns=["churn"]).to_csv(unlabelled, index=False)
    out = tmp_path / "report.html"
    done = run_cli("explain", run.model_file, labelled, "--out", out, "--rows", 300,
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "wrote the report" in done.stderr
    page = parse(out.read_text())
    assert "How good is it?" in page.headings
    text = " ".join(page.text)
    used = re.search(r"on (\d+) of 1,500 rows, sampled at random", text)  # stated
    assert used and 200 <= int(used[1]) <= 300  # --rows caps the sample
    assert "ROC" in out.read_text()

    out2 = tmp_path / "report2.html"
    done = run_cli("explain", run.model_file, unlabelled, "--out", out2, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "has no 'churn' column" in " ".join(parse(out2.read_text()).text)


def test_cli_explain_bad_input_is_a_message_not_a_traceback(tmp_path):
    bad = tmp_path / "model.skops"
    bad.write_bytes(b"not a model")
    done = run_cli("explain", bad, CHURN, "--out", tmp_path / "r.html", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.startswith("error:")
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "r.html").exists()


@pytest.mark.slow
def test_model_report_on_a_regression_model(wages_run, tmp_path):
    run = wages_run
    data = run.read_data()
    html = model_report(run.model_file, data, source="wages.csv",
                        runs_dir=run.path.parent)
    page = parse(html)
    text = " ".join(page.text)
    assert "Search" in page.headings and "trials" in text  # the run's leaderboard was found
    assert "R²" in text and "Residual" in html
    path = write_report(html, tmp_path / "wages.html")
    assert path.read_text(encoding="utf-8") == html


def test_model_report_of_a_multiclass_model_has_a_curve_and_a_row_per_class():
    model, X = fitted("lgbm", "multiclass", n_estimators=20)
    _, y, _ = make_data("multiclass")
    labelled = X.assign(target=np.asarray([10, 20, 30])[y])
    html = model_report(model, labelled, source="iris + extras")
    page = parse(html)
    assert "How good is it?" in page.headings and "What drives the predictions" in page.headings
    for c in (10, 20, 30):
        assert f'"name":"{c} (AUC ' in html  # a one-vs-rest ROC curve per class
        assert f"<td>{c}</td>" in html  # a row per class in the per-class table
