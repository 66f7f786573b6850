"""Helpers for tests that drive the app's pages with Streamlit's AppTest (no browser, real
engine): the whole app opened on a page with a session's data, and the text a reader sees."""

from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from automl.data import load_table
from pages._shared.ui import STATE_KEY, SessionData

__all__ = ["ROOT", "WAGES", "app", "session", "shown", "texts", "wages_state"]

ROOT = Path(__file__).resolve().parent.parent
WAGES = ROOT / "sample_data" / "wages.csv"


def app(page: str | None = None, *, state: SessionData | None = None,
        run_id: str | None = None) -> AppTest:
    """The whole app (router + sidebar), optionally on ``page``, with this session's data."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    if state is not None:
        at.session_state[STATE_KEY] = state
    if run_id:
        at.query_params["run"] = run_id
    at.run()
    if page:
        at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def session(at: AppTest) -> SessionData:
    return at.session_state[STATE_KEY]


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def shown(elements) -> str:
    """The elements' text as a reader sees it: Markdown's backslash escapes removed."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", texts(elements))


def wages_state() -> SessionData:
    """A session with the wages sample loaded (target ``wage``)."""
    return SessionData(table=load_table(WAGES), target_hint="wage")
