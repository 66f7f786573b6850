"""The Monitor page in a real browser: upload new rows that moved, read the drift summary,
retrain with the same settings, compare the two models on the newest rows and make the
better one current. Skips without a browser unless AUTOML_REQUIRE_BROWSER=1."""

from __future__ import annotations

import pandas as pd
import pytest

from automl.monitor.retrain import current_model_file
from automl.runs import Run
from tests.apptest import ROOT
from tests.browser import VIEWPORT, go_to, open_app, serving_copy, set_slider

WAGES = ROOT / "sample_data" / "wages.csv"


@pytest.fixture
def served(tmp_path, wages_run):
    """The app with a copy of the session's wages run as the only run on the machine."""
    with serving_copy(wages_run, tmp_path) as (srv, copy):
        yield srv, Run(copy)


@pytest.mark.slow
def test_upload_see_drift_retrain_compare_and_promote(chromium, served, tmp_path, shots):
    server, run = served
    rows = pd.read_csv(WAGES).sample(frac=1.0, random_state=5).reset_index(drop=True)
    rows["experience"] = rows["experience"] + 15  # everyone got older
    csv = tmp_path / "new_wages.csv"
    rows.to_csv(csv, index=False)

    context, page = open_app(chromium, server.url, viewport=VIEWPORT)
    try:
        go_to(page, "Monitor")
        page.get_by_text("Load the new rows", exact=False).first.wait_for()
        page.locator('[data-testid="stFileUploader"] input[type="file"]').first \
            .set_input_files(csv)
        page.get_by_text("Retrain the model on recent data", exact=False).first.wait_for()
        assert page.get_by_text("experience", exact=False).count() > 0
        page.screenshot(path=shots / "monitor.png", full_page=True)
        set_slider(page, "Time budget (seconds)", 10)
        page.get_by_role("button", name="Retrain with the same settings").click()
        page.get_by_text("newest rows the", exact=False).first.wait_for(timeout=120_000)
        promote = page.get_by_role("button", name="current one")
        promote.click()
        page.get_by_text("now serves the model of run", exact=False).first.wait_for()
    finally:
        context.close()
    runs = [p for p in run.path.parent.iterdir() if p.is_dir() and p.name != run.id
            and p.name != "monitor"]
    assert len(runs) == 1  # the challenger
    assert current_model_file(run) in (run.model_file, Run(runs[0]).model_file)
    assert (run.path / "current.json").exists()
