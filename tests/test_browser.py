"""The whole app in a real browser: upload, train with a live leaderboard, move between pages
during the run, download the model file and use it; sessions do not see each other's runs,
and one given a run's link may view and download it but not stop or delete it.

Starts ``streamlit run app.py`` with its own runs folder and drives the system's headless
Chromium with Playwright. Skips when no browser can be launched, unless
AUTOML_REQUIRE_BROWSER=1 (CI) makes that a failure. With AUTOML_SCREENSHOTS=1 the screenshots
taken on the way are written to docs/screenshots/ (the ones in the README); otherwise to a
temporary folder.
"""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path

import pandas as pd
import pytest

import automl
from tests.browser import (
    TIMEOUT_MS,
    VIEWPORT,
    AppServer,
    go_to,
    remove_from_multiselect,
    select_option,
    set_slider,
    wait_idle,
    wait_title,
)

ROOT = Path(__file__).resolve().parent.parent
CREDIT = ROOT / "sample_data" / "credit.csv"
BUDGET_S = 30
FAMILIES = ["LightGBM", "Linear"]  # fast on 1,000 rows: many trials within the budget


@pytest.fixture
def server(tmp_path):
    with AppServer(tmp_path / "runs", log_path=tmp_path / "streamlit.log") as srv:
        yield srv  # leaving stops the server and every run still going in its folder


@pytest.fixture
def pages_seen(tmp_path, server):
    """The test's browser pages; on a failure each one's screenshot and the server log are
    saved under the test's tmp folder (and the log's end is printed)."""
    seen = []
    yield seen
    for i, page in enumerate(seen):
        with contextlib.suppress(Exception):  # the page may be closed already
            page.screenshot(path=tmp_path / f"failure-{i}.png", full_page=True)
    print(f"screenshots in {tmp_path}; streamlit log:\n{server.log()}")


def live_state(page) -> dict:
    """The Train page's live view now, read in one go: run state and leaderboard rows."""
    return page.evaluate("""() => {
        const main = document.querySelector('[data-testid="stMain"]');
        const caption = [...main.querySelectorAll('[data-testid="stCaptionContainer"]')]
            .map(e => e.innerText).find(t => / · target /.test(t)) || '';
        const grid = main.querySelector('[data-testid="stDataFrame"] [role="grid"]');
        const rows = grid ? Number(grid.getAttribute('aria-rowcount')) - 1 : 0;
        return {state: caption.split(' · ')[0].trim(), rows: rows};
    }""")


def poll(page, check, timeout_s: float = 90, every_ms: int = 250, what: str = ""):
    """Call ``check(page)`` until it returns something truthy; return that."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = check(page)
        if last:
            return last
        page.wait_for_timeout(every_ms)
    raise AssertionError(f"timed out waiting for {what or check.__name__} (last: {last})")


@pytest.mark.slow
def test_upload_train_watch_download_and_sessions_apart(chromium, server, shots, tmp_path,
                                                        pages_seen):
    data = pd.read_csv(CREDIT).head(1000)
    csv = tmp_path / "credit_1000.csv"
    data.to_csv(csv, index=False)

    context = chromium.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    pages_seen.append(page)

    # --- Data: upload a file through the uploader -------------------------------------------
    page.goto(server.url)
    wait_title(page, "Data")
    # Streamlit's developer options are not for the people using the app (toolbarMode)
    page.locator('[data-testid="stMainMenu"]').wait_for()
    assert page.locator('[data-testid="stAppDeployButton"]').count() == 0
    page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(csv)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("credit_1000.csv").wait_for()
    metrics = page.locator('[data-testid="stMetric"]')
    metrics.filter(has_text="Rows").filter(has_text="1,000").wait_for()
    metrics.filter(has_text="Columns").filter(has_text="14").wait_for()
    page.locator('[data-testid="stDataFrame"]').nth(1).wait_for()  # preview and columns
    page.screenshot(path=shots / "data.png")

    # --- Train: target, fast families, short budget, Start -----------------------------------
    go_to(page, "Train")
    select_option(page, "Target (the column to predict)", "Status")
    page.get_by_role("combobox", name="Task").and_(
        page.locator('[value="binary"]')).wait_for()
    remove_from_multiselect(page, "Model families", FAMILIES)
    set_slider(page, "Time budget (seconds)", BUDGET_S)
    page.get_by_role("button", name="Start search").click()

    run_heading = page.get_by_role("heading", name=re.compile(r"^Run \d{8}-\d{6}-\w+"))
    run_heading.wait_for()
    run_id = run_heading.inner_text().split()[-1]

    # The leaderboard fills while the run is still running, and keeps growing.
    first = poll(page, lambda p: (s := live_state(p))["state"] == "running" and s["rows"] >= 1
                 and s, what="leaderboard rows while running")
    grown = poll(page, lambda p: (s := live_state(p))["state"] == "running"
                 and s["rows"] > first["rows"] + 1 and s, what="more rows while running")
    side = page.locator('[data-testid="stSidebar"]')  # its run line follows the run too
    poll(page, lambda p: f"{run_id} (running)" in side.inner_text(),
         what="the sidebar to say running")
    run_heading.evaluate("e => e.scrollIntoView({block: 'start'})")  # the live view
    page.wait_for_timeout(300)
    page.screenshot(path=shots / "train_running.png")
    assert grown["rows"] > first["rows"] >= 1
    assert page.get_by_role("button", name="Stop").is_visible()

    # --- Other pages during the run: same session, the app answers --------------------------
    go_to(page, "Results")
    page.get_by_text(run_id).first.wait_for()
    page.get_by_role("heading", name="Leaderboard").wait_for()
    still_running = page.get_by_text("The search is still running").count() > 0
    go_to(page, "Runs")
    runs_choice = page.get_by_role("combobox", name="Run")
    page.wait_for_function("([el, v]) => el.value === v",
                           arg=[runs_choice.element_handle(), run_id])
    go_to(page, "Data")
    page.locator('[data-testid="stMetric"]').filter(has_text="1,000").wait_for()
    go_to(page, "Train")
    run_heading.wait_for()
    page.get_by_role("button", name="Start search").wait_for()
    chips = page.locator('[data-testid="stMultiSelect"]').filter(
        has_text="Model families").first.locator("[data-tag]")
    chips.first.wait_for()
    assert sorted(t.get_attribute("aria-label") for t in chips.all()) == sorted(FAMILIES)
    assert still_running or live_state(page)["state"] != "running"

    # --- The run ends by itself: refit, save --------------------------------------------------
    poll(page, lambda p: live_state(p)["state"] == "finished", timeout_s=BUDGET_S + 90,
         every_ms=500, what="the run to finish")
    page.get_by_text(re.compile(r"finished after \d+ s · \d+ trials")).wait_for()
    poll(page, lambda p: live_state(p)["rows"] >= grown["rows"], what="the final leaderboard")

    go_to(page, "Results")
    page.get_by_role("heading", name="Best of each family").wait_for()
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for()
    page.wait_for_timeout(1000)  # let the charts draw before the picture
    page.screenshot(path=shots / "results.png", full_page=True)

    # --- Model: download the file and use it -------------------------------------------------
    go_to(page, "Model")
    button = page.get_by_role("button", name="Download the model file (.skops)")
    button.wait_for()
    page.get_by_role("heading", name="Model card").wait_for()
    page.get_by_text("automl.load_model(").first.wait_for()
    page.screenshot(path=shots / "model.png")
    with page.expect_download() as info:
        button.click()
    download = info.value
    assert download.suggested_filename == f"automl-{run_id}.skops"
    model_path = tmp_path / download.suggested_filename
    download.save_as(model_path)
    model = automl.load_model(model_path)
    rows = data.drop(columns=["Status"]).sample(7, random_state=1)
    scored = model.predict(rows)
    assert list(scored.columns) == ["prediction", "proba_bad", "proba_good"]
    assert len(scored) == 7 and set(scored["prediction"]) <= {"bad", "good"}
    assert scored[["proba_bad", "proba_good"]].sum(axis=1).round(6).eq(1).all()

    go_to(page, "Runs")
    page.wait_for_function("([el, v]) => el.value === v",
                           arg=[page.get_by_role("combobox", name="Run").element_handle(),
                                run_id])
    page.get_by_role("button", name="Delete").wait_for()  # the session that started it
    page.screenshot(path=shots / "runs.png")

    # --- A second browser session sees none of it, unless given the run's link ---------------
    other = chromium.new_context(viewport=VIEWPORT)
    other.set_default_timeout(TIMEOUT_MS)
    stranger = other.new_page()
    stranger.goto(server.url)
    wait_title(stranger, "Data")
    go_to(stranger, "Runs")
    stranger.get_by_text("No runs in this session yet").wait_for()
    assert stranger.get_by_text(run_id).count() == 0
    assert stranger.locator('[data-testid="stSidebar"]').get_by_text("Run: none yet").count()
    other.close()

    linked = chromium.new_context(viewport=VIEWPORT)
    linked.set_default_timeout(TIMEOUT_MS)
    viewer = linked.new_page()
    viewer.goto(f"{server.url}/results?run={run_id}")
    wait_title(viewer, "Results")
    viewer.get_by_role("heading", name="Leaderboard").wait_for()
    viewer.locator('[data-testid="stSidebar"]').get_by_text(run_id).wait_for()
    go_to(viewer, "Runs")
    viewer.wait_for_function("([el, v]) => el.value === v",
                             arg=[viewer.get_by_role("combobox", name="Run").element_handle(),
                                  run_id])
    viewer.get_by_text("View-only: this session did not start the run").first.wait_for()
    wait_idle(viewer)
    main = viewer.locator('[data-testid="stMain"]')
    for name in ("Delete", "Stop", "Resume"):  # a link gives no control over the run
        assert main.get_by_role("button", name=name, exact=True).count() == 0, name
    go_to(viewer, "Model")
    viewer.get_by_role("button", name="Download the model file (.skops)").wait_for()
    linked.close()
    context.close()
