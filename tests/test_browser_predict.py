"""The Predict page in a real browser: upload a CSV, see the report and the predictions,
download them as CSV and read the file (formula-like cells escaped). Skips without a
browser unless AUTOML_REQUIRE_BROWSER=1."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from automl.bundle import load_model
from tests.apptest import ROOT
from tests.browser import VIEWPORT, go_to, open_app, serving_copy, wait_idle

CHURN = ROOT / "sample_data" / "churn.csv"
FORMULA = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture
def server(tmp_path, churn_run):
    """The app with a copy of the session's churn run as the only run on the machine."""
    with serving_copy(churn_run, tmp_path) as (srv, _):
        yield srv


@pytest.mark.slow
def test_upload_a_csv_see_predictions_and_download_them(chromium, server, churn_run, tmp_path,
                                                        shots):
    rows = pd.read_csv(CHURN).tail(40).reset_index(drop=True)
    rows.loc[0, "state"] = FORMULA  # a value that a spreadsheet would run
    csv = tmp_path / "new_customers.csv"
    rows.to_csv(csv, index=False)

    context, page = open_app(chromium, server.url, viewport=VIEWPORT, accept_downloads=True)
    try:
        go_to(page, "Predict")
        page.get_by_text(churn_run.id).first.wait_for()  # the run's model, picked already
        page.locator('[data-testid="stFileUploader"] input[type="file"]').first \
            .set_input_files(csv)
        page.get_by_text("never saw in training", exact=False).first.wait_for()
        button = page.get_by_role("button", name="Download the predictions (CSV)")
        button.wait_for()
        page.locator('[data-testid="stDataFrame"]').first.wait_for()
        wait_idle(page)
        page.wait_for_timeout(500)  # let the table draw before the picture
        page.screenshot(path=shots / "predict.png", full_page=True)
        with page.expect_download(timeout=120_000) as info:
            button.click()
        download = info.value
        assert download.suggested_filename.endswith(".csv")
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
    finally:
        context.close()

    text = saved.read_bytes().decode("utf-8")
    assert text.splitlines()[0].startswith("prediction,proba_no,proba_yes,state,")
    assert f"'{FORMULA}".replace('"', '""') in text and f",{FORMULA}" not in text
    got = pd.read_csv(io.StringIO(text))
    expected = load_model(churn_run.model_file).predict(rows)
    assert len(got) == 40 and list(got.columns[3:]) == list(rows.columns)
    assert got["prediction"].tolist() == expected["prediction"].tolist()
    pd.testing.assert_series_equal(got["proba_yes"], expected["proba_yes"], rtol=1e-6,
                                   check_names=False)
    assert got.loc[0, "state"] == f"'{FORMULA}"

