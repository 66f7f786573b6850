"""Helpers of the Monitor page: its own slot for the new rows (the training table and the
current run stay as they are), the checks computed this session per (model, rows), and the
retraining it started. The model is chosen as on the Predict page (:mod:`.predict_helpers`).
Widget keys start with ``monitor_``."""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from dataclasses import dataclass, field

import streamlit as st

from automl.data import LoadLimits, Table, load_table
from automl.data.sql import scrub
from automl.data.sql_roles import app_policy
from automl.errors import AutoMLError
from automl.monitor.check import MonitorResult, check
from automl.monitor.history import record_check
from automl.monitor.sources import reference_rows
from automl.plots.monitor import column_drift_chart
from pages._shared import show
from pages._shared.data_sources import state_slot
from pages._shared.predict_helpers import Chosen, remember

STATE_KEY = "automl_monitor"
PREFIX = "monitor_"


@dataclass
class MonitorState:
    rows: Table | None = None  # the new rows
    upload: tuple[str, str | None] | None = None
    results: OrderedDict = field(default_factory=OrderedDict)  # (model, rows) -> result
    challenger: str | None = None  # the run id of a retraining this session started


def state() -> MonitorState:
    if STATE_KEY not in st.session_state:
        st.session_state[STATE_KEY] = MonitorState()
    return st.session_state[STATE_KEY]


SLOT = state_slot(PREFIX, state)


def run_check(chosen: Chosen, rows: Table, origin: dict) -> MonitorResult | str:
    """The check of ``rows`` (once per model and rows), kept in the model's history with the
    database table or query it was read with (``origin``); or the message of what is
    wrong."""
    def compute():
        try:
            ref = reference_rows(chosen.model) if chosen.run is not None else None
            result = check(chosen.model, rows.frame, reference_rows=ref)
        except AutoMLError as e:
            return str(e)
        with contextlib.suppress(OSError):  # a check that cannot be saved is still shown
            record_check(chosen.model, result.to_json(), source=rows.source,
                         table=origin.get("table"), query=origin.get("query"))
        return result

    return remember(state().results, (chosen.key, rows.data_hash), compute)


def column_details(result: MonitorResult) -> None:
    """One column's training and new distributions, drifted columns first."""
    order = sorted(result.columns, key=lambda c: (not c.drifted,
                                                  -result.importance.get(c.name, 0.0)))
    names = [c.name for c in order]
    if result.prediction is not None:
        names.insert(0, "prediction")
    name = st.selectbox("Column", names, key="monitor_column",
                        format_func=lambda n: n + (" (drifted)" if any(
                            c.name == n and c.drifted for c in result.columns) else ""))
    chosen = result.prediction if name == "prediction" else next(
        c for c in result.columns if c.name == name)
    show.chart(column_drift_chart(chosen))


@st.fragment(run_every=1.0)
def wait_for(run) -> None:
    """The retraining's progress, polled; the page redraws once when it ends."""
    status = run.status
    if not status.state.is_active:
        st.rerun()
    p = status.progress
    done = f"{p.complete} trials, {p.elapsed:.0f} of {p.budget:.0f} s" if p else "starting"
    st.info(f"Retraining (run {run.id}): {done}…")


def saved_checks(history: list[dict]) -> None:
    """Re-run a saved check that read a database server: the same table or query, with the
    password typed again (the history keeps the URL masked)."""
    saved = {}
    for h in history:
        if "://" in str(h.get("source")) and (h.get("query") or h.get("table")):
            saved[(h["source"], h.get("table"), h.get("query"))] = h["checked_at"]
    if not saved:
        return
    st.subheader("Run a saved check again")
    keys = list(saved)
    pick = st.selectbox("Saved check", range(len(keys)), key="monitor_saved",
                        format_func=lambda i: f"{keys[i][2] or keys[i][1]} on {keys[i][0]} "
                                              f"(last {saved[keys[i]][:16]})")
    source, table, query = keys[pick]
    password = st.text_input("Password (blank if none)", type="password",
                             key="monitor_saved_password")
    if st.button("Run again", key="monitor_rerun"):
        url = unmask(source, password)
        try:
            new = load_table(url, table=table, query=query, limits=LoadLimits(
                allow_local_files=False, privileged=app_policy()), coerce_numbers=True)
        except AutoMLError as e:
            show.error(scrub(str(e), url))
            return
        SLOT.put(new)
        st.session_state[SLOT.key("origin")] = {"source": new.source, "table": table,
                                                "query": query}
        st.rerun()


def unmask(masked: str, password: str) -> str:
    """The masked URL with ``password`` where the history wrote ***."""
    from urllib.parse import quote

    return masked.replace(":***@", f":{quote(password, safe='')}@", 1) if password \
        else masked.replace(":***@", "@", 1)
