"""Evaluate and Explain in a real browser, and the HTML report opened in it.

A finished run (churn, binary, with a holdout) is opened by its link; the test moves the
threshold slider, picks another row, edits a what-if value, downloads the report from the
Model page and opens that file in Chromium: its charts must draw without the app or a
network. Skips without a browser unless AUTOML_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import automl
from tests.browser import TIMEOUT_MS, VIEWPORT, AppServer, go_to, wait_idle, wait_title

ROOT = Path(__file__).resolve().parent.parent
CHURN = ROOT / "sample_data" / "churn.csv"


@pytest.fixture
def server(tmp_path):
    with AppServer(tmp_path / "runs", log_path=tmp_path / "streamlit.log") as srv:
        yield srv


def metric_value(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text()


def wait_changed(page, read, before: str, what: str) -> str:
    """Poll ``read()`` until it differs from ``before``; return the new value."""
    for _ in range(TIMEOUT_MS // 250):
        now = read()
        if now != before:
            return now
        page.wait_for_timeout(250)
    raise AssertionError(f"{what} did not change from {before!r}")


@pytest.mark.slow
def test_evaluate_explain_and_the_report_in_the_browser(chromium, server, tmp_path, shots):
    data = pd.read_csv(CHURN).head(1500)
    result = automl.train(data, "churn", time_budget=15, max_trials=4, holdout=0.2,
                          families=["lgbm", "linear"], runs_dir=server.runs_dir)
    run_id = result.run_id

    context = chromium.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        # --- Evaluate: curves, and the confusion matrix follows the threshold ---------------
        page.goto(f"{server.url}/evaluate?run={run_id}")
        wait_title(page, "Evaluate")
        page.get_by_role("heading", name="Confusion matrix").wait_for()
        charts = page.locator('[data-testid="stPlotlyChart"]')
        charts.nth(1).wait_for()  # ROC and precision-recall side by side
        assert page.get_by_text("ROC", exact=False).count() > 0
        before = metric_value(page, "predicted positive")
        page.wait_for_timeout(1000)  # let the charts draw before the picture
        page.screenshot(path=shots / "evaluate.png", full_page=True)
        thumb = page.locator('[data-testid="stSlider"]').filter(
            has_text="Threshold").first.locator('input[type="range"]').first
        thumb.press("Home")  # threshold 0: every row predicted positive
        wait_idle(page)
        after = wait_changed(page, lambda: metric_value(page, "predicted positive"), before,
                             "the share predicted positive")
        assert after == "100.0%"

        # --- Explain: global charts and words, another row, what-if --------------------------
        go_to(page, "Explain")
        page.get_by_text(re.compile(r"Explained 1,200 of 1,200 rows|Explained all 1,200 rows|"
                                    r"Explained [\d,]+ of [\d,]+ rows")).first.wait_for()
        page.get_by_text("matters most", exact=False).first.wait_for()
        page.get_by_role("heading", name="One row").wait_for()
        sentence = page.get_by_text(re.compile(r"for this row, against .* on average")).first
        sentence.wait_for()
        first = sentence.inner_text()
        assert charts.count() >= 4  # bar, beeswarm, dependence, waterfall
        page.wait_for_timeout(1000)
        page.screenshot(path=shots / "explain.png", full_page=True)

        row = page.get_by_label(re.compile(r"^Row \(0 to "))
        row.fill("7")
        row.press("Enter")
        wait_idle(page)
        wait_changed(page, lambda: page.get_by_text(
            re.compile(r"for this row, against .* on average")).first.inner_text(), first,
            "the row's explanation")

        form = page.locator('[data-testid="stForm"]')
        minutes = form.get_by_label("total_day_minutes")
        for _ in range(TIMEOUT_MS // 250):  # the previous row's form may linger a moment
            if minutes.count() == 1:
                break
            page.wait_for_timeout(250)
        prediction = metric_value(page, "Prediction after the changes")
        minutes.fill("350")
        form.get_by_role("button", name="Show the new prediction").click()
        wait_idle(page)
        changed = wait_changed(page, lambda: metric_value(page, "Prediction after the changes"),
                               prediction, "the what-if prediction")
        assert changed.endswith("%")
        page.get_by_text("total_day_minutes", exact=False).first.wait_for()

        # --- The report: downloaded from the Model page, opened as a file --------------------
        go_to(page, "Model")
        button = page.get_by_role("button", name="Download the report (HTML)")
        button.wait_for()
        with page.expect_download(timeout=120_000) as info:
            button.click()
        download = info.value
        assert download.suggested_filename == f"automl-{run_id}-report.html"
        report = tmp_path / download.suggested_filename
        download.save_as(report)

        offline = chromium.new_context(viewport=VIEWPORT, offline=True)
        viewer = offline.new_page()
        viewer.goto(report.as_uri())
        viewer.get_by_role("heading", name="Model report: predicting churn").wait_for()
        viewer.get_by_role("heading", name="What drives the predictions").wait_for()
        drawn = viewer.locator(".plotly-graph-div .main-svg")
        drawn.first.wait_for(timeout=TIMEOUT_MS)
        assert drawn.count() >= 8  # plotly.js inside the file drew every chart
        assert viewer.get_by_text("matters most", exact=False).count() >= 1
        offline.close()
    except Exception:
        page.screenshot(path=tmp_path / "failure.png", full_page=True)
        print(f"screenshot in {tmp_path}; streamlit log:\n{server.log()}")
        raise
    finally:
        context.close()
