"""The live view of a run: progress, running best and leaderboard, polled every second.

The search runs in its own process; this only reads the run's status file and storage, so
each poll takes milliseconds and the page stays responsive. Stop and Resume are offered only
to a session holding the run's owner token; one that opened the run by link only views it.
"""

from __future__ import annotations

import time

import streamlit as st

from automl.background import live_leaderboard, resume_run, stop_run
from automl.contracts import Progress, RunStatus
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
    if run.status.state.is_active:
        _poll(run)
    else:
        _draw(run, polling=False)


@st.fragment(run_every=0.8)
def _poll(run: Run) -> None:
    _draw(run, polling=True)


def _draw(run: Run, polling: bool) -> None:
    status, spec = run.status, run.spec
    state = status.state
    if polling and not state.is_active:
        st.rerun()  # the run just ended: redraw the whole page once, without polling
    metric = METRICS.get(spec.metric)
    owner = ui.owns(run)
    st.subheader(f"Run {md_escape(run.id)}")
    st.caption(md_escape(f"{state} · target {spec.target} · "
                         f"{spec.task} · {metric.title if metric else ''} "
                         f"({metric.direction if metric else ''})"))
    if not owner:
        st.caption(VIEW_ONLY)
    _progress(status)
    if owner and state.is_active and st.button(
            "Stop", key="stop_run", help="Finish after the folds in progress; every finished "
                                         "trial is kept and the best is refitted."):
        try:
            stop_run(run, owner_token=ui.owner_token(run.id))
        except AutoMLError as e:
            show.error(e)
        else:
            st.toast("Stopping: the best model so far is being refitted and saved.")
    if state == "failed":
        show.error(status.message or "The run failed; see log.txt in its folder.")
    if owner and state.is_ended:
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


def _progress(status: RunStatus) -> None:
    state, p = status.state, status.progress or Progress()
    best = status.best if status.best is not None and not state.is_active else None
    value = best.score if best is not None else p.best
    family = best.family if best is not None else p.best_family
    c1, c2 = st.columns([3, 1])
    c2.metric("Best so far", show.score(value),
              help=md_escape(_TITLES.get(family, family)) if family else "no finished trial yet")
    if state == "queued":
        c1.progress(0.0, text="Starting the search process…")
        return
    if state == "running" and status.started_at and status.deadline:
        now = time.time()
        elapsed = now - status.started_at
        total = max(status.deadline - status.started_at, 1e-9)
        eta = max(status.deadline - now, 0)
        c1.progress(min(elapsed / total, 1.0),
                    text=f"{elapsed:.0f} s elapsed · about {eta:.0f} s left · "
                         f"{p.complete} trials done ({p.pruned} pruned, {p.failed} failed)")
    elif state in ("finished", "stopped"):
        took = (status.ended_at or 0) - (status.started_at or 0)
        c1.progress(1.0, text=f"{state} after {took:.0f} s · {status.n_trials} trials")
        if status.best is not None and status.best.family == "ensemble":
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
