"""Fixtures shared by several test files.

Real runs are trained once per session, each into a runs folder of its own (so a page that
lists the folder sees that run alone), and are read-only for the tests that take them; a test
that changes a run or its folder takes a copy (``wages_run_copy``). A headless Chromium for
the browser tests, and the folder their screenshots go to.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_iris

import automl
from automl.runs import Run
from tests.browser import BrowserUnavailable, launch_chromium

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_data"


# --- real runs, trained once per session -----------------------------------------------------

@pytest.fixture(scope="session")
def wages_run(tmp_path_factory) -> Run:
    """A finished regression run: wages (534 rows), 4 trials, linear + lgbm."""
    df = pd.read_csv(SAMPLES / "wages.csv")
    result = automl.train(df, "wage", time_budget=15, max_trials=4,
                          families=["linear", "lgbm"], runs_dir=tmp_path_factory.mktemp("wages"))
    return Run(result.run_dir)


@pytest.fixture
def wages_run_copy(wages_run, tmp_path) -> Run:
    """A copy of ``wages_run`` as its search left it (no cached explanations), alone in a
    runs folder of this test's own: for a test that changes the run (its model file) or its
    folder (runs added or deleted beside it)."""
    copy = shutil.copytree(wages_run.path, tmp_path / "runs" / wages_run.id,
                           ignore=shutil.ignore_patterns("explain"))
    return Run(copy)


@pytest.fixture(scope="session")
def churn_run(tmp_path_factory) -> Run:
    """A finished binary run: churn (5,000 rows), 2 LightGBM trials, 3 folds."""
    df = pd.read_csv(SAMPLES / "churn.csv")
    result = automl.train(df, "churn", time_budget=40, max_trials=2, cv_folds=3,
                          families=["lgbm"], runs_dir=tmp_path_factory.mktemp("churn"))
    return Run(result.run_dir)


@pytest.fixture(scope="session")
def binary_run(tmp_path_factory) -> Run:
    """A finished binary run with a holdout: breast cancer (569 rows, 0/1), 20% held out,
    4 trials, linear + lgbm."""
    df = load_breast_cancer(as_frame=True).frame
    result = automl.train(df, "target", time_budget=15, max_trials=4, holdout=0.2,
                          families=["linear", "lgbm"], n_workers=1,
                          runs_dir=tmp_path_factory.mktemp("binary"))
    return Run(result.run_dir)


@pytest.fixture(scope="session")
def multiclass_run(tmp_path_factory) -> Run:
    """A finished multiclass run: iris (150 rows, 3 named classes), no holdout, 3 trials,
    linear + lgbm."""
    df = load_iris(as_frame=True).frame
    df["target"] = df["target"].map({0: "setosa", 1: "versicolor", 2: "virginica"})
    result = automl.train(df, "target", time_budget=10, max_trials=3,
                          families=["linear", "lgbm"], n_workers=1,
                          runs_dir=tmp_path_factory.mktemp("multiclass"))
    return Run(result.run_dir)


# --- the browser tests -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def chromium():
    """A headless Chromium, or a skip (a failure when AUTOML_REQUIRE_BROWSER=1)."""
    required = os.environ.get("AUTOML_REQUIRE_BROWSER") == "1"
    try:
        from playwright.sync_api import sync_playwright

        pw = sync_playwright().start()
    except Exception as e:  # not installed, or its driver cannot start
        if required:
            pytest.fail(f"browser required (AUTOML_REQUIRE_BROWSER=1) but Playwright "
                        f"cannot start: {e}")
        pytest.skip(f"Playwright cannot start ({e}); set AUTOML_REQUIRE_BROWSER=1 to fail")
    try:
        browser = launch_chromium(pw)
    except BrowserUnavailable as e:
        pw.stop()
        if required:
            pytest.fail(f"browser required (AUTOML_REQUIRE_BROWSER=1): {e}")
        pytest.skip(f"{e}; set AUTOML_REQUIRE_BROWSER=1 to make this a failure")
    yield browser
    browser.close()
    pw.stop()


@pytest.fixture
def shots(tmp_path) -> Path:
    """Where a browser test's screenshots go: docs/screenshots/ with AUTOML_SCREENSHOTS=1
    (the README's), otherwise the test's temporary folder."""
    if os.environ.get("AUTOML_SCREENSHOTS") == "1":
        folder = ROOT / "docs" / "screenshots"
    else:
        folder = tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
