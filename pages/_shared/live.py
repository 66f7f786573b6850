"""The live view of a run: progress, running best and leaderboard, polled every second.

The search runs in its own process; this only reads the run's status file and storage, so
each poll takes milliseconds and the page stays responsive. Stop and Resume are offered only
to a session holding the run's owner token; one that opened the run by link only views it.
"""

from __future__ import annotations

import time

import streamlit as st

from automl.background import live_leaderboard, resume_run, stop_run
from automl.errors import AutoMLError
from automl.families import REGISTRY
from automl.metrics import METRICS
from automl.runs import Run
from pages._shared import show, ui
from pages._shared.show import md_escape

VIEW_ONLY = ("View-only: this session did not start the run, so you can view and download it, "
             "not stop, resume or delete it. Its owner key (Runs page) gives control.")

_TITLES = {n: f.title for n, f in REGISTRY.items()}


def watch(run: Run) -> None:
    """Poll while the run is queued or running; draw it once otherwise."""
    if run.status.get("state") in ui.ACTIVE:
        _poll(run)
    else:
        _draw(run, polling=False)


@st.fragment(run_every=1.0)
def _poll(run: Run) -> None:
    _draw(run, polling=True)


def _draw(run: Run, polling: bool) -> None:
    status, settings = run.status, run.settings
    state = status.get("state", "created")
    if polling and state not in ui.ACTIVE:
        st.rerun()  # the run just ended: redraw the whole page once, without polling
    metric = METRICS.get(settings.get("metric"))
    owner = ui.owns(run)
    st.subheader(f"Run {md_escape(run.id)}")
    st.caption(md_escape(f"{state} · target {settings.get('config', {}).get('target')} · "
                         f"{settings.get('task')} · {metric.title if metric else ''} "
                         f"({metric.direction if metric else ''})"))
    if not owner:
        st.caption(VIEW_ONLY)
    _progress(status, state)
    if owner and state in ui.ACTIVE and st.button(
            "Stop", key="stop_run", help="Finish after the folds in progress; every finished "
                                         "trial is kept and the best is refitted."):
        try:
            stop_run(run, owner_token=ui.owner_token(run.id))
        except AutoMLError as e:
            show.error(e)
        else:
            st.toast("Stopping: the best model so far is being refitted and saved.")
    if state == "failed":
        show.error(status.get("message") or "The run failed; see log.txt in its folder.")
    if owner and state in ("stopped", "finished", "failed"):
        _resume(run)
    try:
        board = live_leaderboard(run)
    except (AutoMLError, KeyError, ValueError) as e:
        st.info(md_escape(f"No leaderboard yet ({e})."))
        return
    if board.empty:
        st.caption("No finished trial yet.")
    else:
        st.dataframe(show.board_view(board, _TITLES).head(25), hide_index=True, width="stretch")


def _progress(status: dict, state: str) -> None:
    p = status.get("progress") or {}
    best = (status.get("best") or {}) if state not in ui.ACTIVE else {}
    value = best.get("score", p.get("best"))
    family = best.get("family", p.get("best_family"))
    c1, c2 = st.columns([3, 1])
    c2.metric("Best so far", show.score(value),
              help=md_escape(_TITLES.get(family, family)) if family else "no finished trial yet")
    if state == "queued":
        c1.progress(0.0, text="Starting the search process…")
        return
    if state == "running" and status.get("started_at") and status.get("deadline"):
        now = time.time()
        elapsed = now - status["started_at"]
        total = max(status["deadline"] - status["started_at"], 1e-9)
        eta = max(status["deadline"] - now, 0)
        c1.progress(min(elapsed / total, 1.0),
                    text=f"{elapsed:.0f} s elapsed · about {eta:.0f} s left · "
                         f"{p.get('complete', 0)} trials done ({p.get('pruned', 0)} pruned, "
                         f"{p.get('failed', 0)} failed)")
    elif state in ("finished", "stopped"):
        took = (status.get("ended_at") or 0) - (status.get("started_at") or 0)
        c1.progress(1.0, text=f"{state} after {took:.0f} s · {status.get('n_trials', 0)} trials")
        if (status.get("best") or {}).get("family") == "ensemble":
            c1.caption("The saved model is an ensemble of the best trials (see Model).")
        c1.page_link("pages/results.py", label="See the results", icon="📊")


def _resume(run: Run) -> None:
    with st.expander("Resume this run"):
        extra = st.slider("More time (seconds)", 10, 600, 60, step=5, key="resume_budget")
        if st.button("Resume", key="resume_run"):
            try:
                resume_run(run, float(extra), owner_token=ui.owner_token(run.id))
            except AutoMLError as e:
                show.error(e)
            else:
                st.rerun()
