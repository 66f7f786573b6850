"""This session's state behind typed accessors: one :class:`SessionData` under one key holds
the table, the runs started or opened here, the current run (mirrored in ``?run=<id>``) and
the owner tokens of the runs this session may stop, resume or delete (those it started, or
unlocked with their owner key); a run opened by link without one is view-only.
Train page widget keys start with ``train_`` and survive page switches."""

from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st

from automl.contracts import RunState
from automl.data import Table
from automl.errors import AutoMLError, RunNotFoundError
from automl.runs import Run, check_run_id, open_run
from pages._shared import show as _show
from pages._shared.show import md_escape

ACTIVE = tuple(str(s) for s in RunState if s.is_active)  # run states that still change
TRAIN_PREFIX = "train_"
STATE_KEY = "automl_session"


@dataclass
class SessionData:
    """What one browser session owns. Runs are folders on disk; only their ids live here."""

    table: Table | None = None
    target_hint: str | None = None  # a sample's documented target
    upload: tuple[str, str | None] | None = None  # (file id, error) of the last upload read
    run_ids: list[str] = field(default_factory=list)  # started or opened in this session
    current_run_id: str | None = None
    flash: str | None = None  # an error to show once (from a callback)
    owner_tokens: dict[str, str] = field(default_factory=dict)  # run id -> owner token


def session() -> SessionData:
    if STATE_KEY not in st.session_state:
        st.session_state[STATE_KEY] = SessionData()
    return st.session_state[STATE_KEY]


def table() -> Table | None:
    return session().table


def set_table(new: Table, target_hint: str | None = None) -> None:
    """Make ``new`` the current table; the Train page's choices start afresh for it."""
    s = session()
    s.table, s.target_hint = new, target_hint
    for key in [k for k in st.session_state if str(k).startswith(TRAIN_PREFIX)]:
        del st.session_state[key]


def session_run_ids() -> list[str]:
    return list(session().run_ids)


def current_run() -> Run | None:
    """The run this session looks at, if its folder still exists."""
    run_id = session().current_run_id
    if run_id is None:
        return None
    try:
        return open_run(run_id)
    except RunNotFoundError:
        return None


def hold_run(run: Run) -> None:
    """Keep the owner token of a run this session has just created."""
    if run.owner_token:
        session().owner_tokens[run.id] = run.owner_token


def owner_token(run_id: str) -> str:
    """What this session passes to the engine's stop, resume and delete: the run's owner
    token, or "" (never None, which would mean a local caller) when it holds none."""
    return session().owner_tokens.get(run_id, "")


def owns(run: Run) -> bool:
    """Whether this session may stop, resume or delete ``run``."""
    return run.is_owner(owner_token(run.id))


def unlock_run(run_id: str, key: str) -> None:
    """Callback of the Runs page's "Owner key" box: hold the token if it is the run's;
    otherwise leave a message under ``key + ":error"``."""
    token = str(st.session_state.get(key) or "").strip()
    st.session_state[key] = ""
    try:
        run = open_run(run_id)
    except RunNotFoundError as e:
        st.session_state[f"{key}:error"] = str(e)
        return
    if run.is_owner(token):
        session().owner_tokens[run.id] = token
    elif token:
        st.session_state[f"{key}:error"] = (
            f"That is not this run's owner key: run {run.id} stays view-only here. The key "
            "is shown on the Runs page of the session that started the run.")


def run_caption() -> None:
    """The sidebar's line about the current run; while the run is active it refreshes
    itself every 2 s (a fragment), so it does not say "queued" through a whole search."""
    run = current_run()
    state = run.status.state if run is not None else None

    def caption() -> None:
        now = current_run()
        if now is None:
            st.caption("Run: none yet")
        else:
            st.caption(f"Run: `{now.id}` ({md_escape(now.status.state)})")

    st.fragment(caption, run_every=2.0 if state in ACTIVE else None)()


def run_with_model(waiting: str) -> Run:
    """The current run once its model file exists; otherwise say what to do (``waiting``:
    what the page shows when the search is over) and end the page here."""
    run = current_run()
    if run is None:
        st.info("No run yet: start one on the Train page, or open one on the Runs page.")
        st.stop()
    if not run.model_file.exists():
        st.info(f"Run `{run.id}` is {md_escape(run.status.state)}: "
                f"{waiting}")
        st.stop()
    return run


def set_current_run(run_id: str) -> Run:
    """Open a run by id (raises RunNotFoundError), remember it and put it in the URL."""
    run = open_run(run_id.strip())
    s = session()
    if run.id not in s.run_ids:
        s.run_ids.append(run.id)
    s.current_run_id = run.id
    st.query_params["run"] = run.id
    return run


def forget_run(run_id: str) -> None:
    s = session()
    s.run_ids = [r for r in s.run_ids if r != run_id]
    s.owner_tokens.pop(run_id, None)
    if s.current_run_id == run_id:
        s.current_run_id = None
        st.query_params.pop("run", None)


def sync_url() -> None:
    """Open the run named in ``?run=`` or, when the URL has none, put the current run there.
    A value that is not a run id gets a message that does not repeat it, and is never made
    into a path."""
    wanted, s = st.query_params.get("run"), session()
    if wanted and wanted != s.current_run_id:
        st.query_params.pop("run", None)  # put back by set_current_run once it opens
        try:
            check_run_id(wanted)
        except RunNotFoundError:
            s.flash = ("The link's ?run= value is not a run id: run ids are letters, digits, "
                       "'-' and '_', such as 20260101-120000-<32 hex digits>. Check the link, "
                       "or open a run by id in the sidebar.")
            return
        try:
            set_current_run(wanted)
        except AutoMLError as e:
            s.flash = str(e)
    elif s.current_run_id and not wanted and current_run() is not None:
        st.query_params["run"] = s.current_run_id


def open_typed_run(key: str) -> None:
    """Callback of the sidebar's "Open run by id" box."""
    run_id = str(st.session_state.get(key) or "").strip()
    if run_id:
        try:
            set_current_run(run_id)
        except AutoMLError as e:
            session().flash = str(e)
    st.session_state[key] = ""


def show_flash() -> None:
    s = session()
    if s.flash:
        _show.error(s.flash)
        s.flash = None


def default(key: str, value) -> str:
    """Give the widget ``key`` a starting value once (widgets are then created without one)."""
    if key not in st.session_state:
        st.session_state[key] = value
    return key


def use_sample(file: str, target: str | None) -> None:
    """Callback of "Load sample" (a callback, so the sidebar already shows the new table)."""
    set_table(_show.load_sample(file), target_hint=target)


def route_through_app() -> None:
    """Make app.py route this request.

    Still needed after the helpers moved to pages/_shared/: Streamlit (1.67,
    ``runtime/pages_manager.py``) switches to its old multipage mode whenever a folder named
    ``pages`` sits beside the main script, and the design card fixes that name. In that mode
    a fresh server whose first request opens a page's URL (``/explain?run=...``, a shared
    link) runs that file from pages/ on its own: no sidebar of app.py and no ``?run=``
    handling. Streamlit leaves that mode for good once app.py calls st.navigation; switch it
    off here and rerun, so that app.py handles this request too. Without it
    tests/test_browser_explain.py, whose first request is ``/evaluate?run=...``, fails
    (checked 2026-12-03).
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


route_through_app()  # every page imports this module first: the first run of a process
