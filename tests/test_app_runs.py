"""Shared runs in the app (AppTest, real run folders): the session that started a run may stop,
resume and delete it; one that opened it by link only views it, unless given its owner key;
``?run=`` values that are not run ids never reach the disk; pruning on the Runs page."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from automl.background import stop_run
from automl.runs import Run
from pages._shared.ui import STATE_KEY, SessionData
from tests.apptest import app, session, shown, texts, wages_state
from tests.run_files import DAY, made, write_status


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("AUTOML_RUNS_DIR", str(tmp_path))
    return tmp_path


def fake(root: Path, state: str = "finished", **status) -> Run:
    """A run folder as a search leaves it (settings, status; no search run), created here,
    so the object holds its owner token. An active one belongs to this (live) process."""
    run = made(root, state, pid=os.getpid() if state in ("queued", "running") else None)
    write_status(run, **status)
    return run


def owner_state(*runs: Run) -> SessionData:
    """The session that started ``runs``: it holds their tokens."""
    return SessionData(run_ids=[r.id for r in runs], current_run_id=runs[-1].id,
                       owner_tokens={r.id: r.owner_token for r in runs})


def buttons(at) -> set[str]:
    return {b.key for b in at.button if not b.disabled}


def test_the_owner_may_stop_a_running_run_and_a_linked_session_may_not(root):
    run = fake(root, "running", started_at=time.time(), deadline=time.time() + 600)
    mine = app("train", state=owner_state(run))
    assert "stop_run" in buttons(mine)
    theirs = app("train", run_id=run.id)  # another browser opened the link
    assert session(theirs).current_run_id == run.id
    assert "stop_run" not in buttons(theirs)
    assert "view and download" in shown(theirs.caption)
    at = app("runs", run_id=run.id)
    assert {"runs_stop", "runs_delete"}.isdisjoint(buttons(at))
    assert "runs_open" in buttons(at)
    mine = app("runs", state=owner_state(run))
    assert {"runs_stop", "runs_delete"} <= {b.key for b in mine.button}
    mine.button(key="runs_stop").click().run()
    assert run.stop_requested()


def test_the_owner_may_resume_and_delete_a_finished_run_a_linked_session_may_not(root):
    run = fake(root, "finished")
    theirs = app("train", run_id=run.id)
    assert "resume_run" not in {b.key for b in theirs.button}
    assert not [e for e in theirs.expander if e.label == "Resume this run"]
    at = app("runs", run_id=run.id)
    assert "runs_delete" not in buttons(at)

    mine = app("train", state=owner_state(run))
    assert "resume_run" in {b.key for b in mine.button}
    mine = app("runs", state=owner_state(run))
    mine.button(key="runs_delete").click().run()
    assert not mine.exception and not run.path.exists()


def test_the_owner_key_unlocks_a_run_in_another_session(root):
    run = fake(root, "finished")
    mine = app("runs", state=owner_state(run))
    assert run.owner_token in texts(mine.code)  # shown to the owner, to take elsewhere
    at = app("runs", run_id=run.id)
    assert run.owner_token not in texts(at.code)
    at.text_input(key="runs_owner_key").input("not the key").run()
    assert "not this run's owner key" in shown(at.error)
    assert "runs_delete" not in buttons(at)
    at.text_input(key="runs_owner_key").input(run.owner_token).run()
    assert not at.error and "runs_delete" in buttons(at)
    assert session(at).owner_tokens == {run.id: run.owner_token}


@pytest.mark.parametrize("bad", ["../../etc/passwd", "/etc", "..", "a\x00b", "x" * 5000,
                                 "rün-ü", "[x](http://evil.example)",
                                 "![i](http://evil.example/i.png)", ":red[big]",
                                 "<img src=x onerror=alert(1)>", "**bold**"])
def test_a_link_with_a_value_that_is_not_a_run_id_gets_a_message(bad, root):
    at = app(run_id=bad)
    said = shown(at.sidebar.error)
    assert "is not a run id" in said
    assert bad not in said and len(said) < 400  # never quoted raw, never in full
    assert session(at).current_run_id is None and "run" not in at.query_params


def test_prune_removes_only_this_sessions_old_ended_runs(root):
    old = fake(root, "finished", ended_at=time.time() - 8 * DAY)
    recent = fake(root, "stopped", ended_at=time.time() - DAY)
    linked = fake(root, "finished", ended_at=time.time() - 8 * DAY)
    state = owner_state(old, recent)
    app(state=state).sidebar.text_input[0].input(linked.id).run()  # opened, not owned
    assert state.run_ids == [old.id, recent.id, linked.id]
    at = app("runs", state=state)
    assert at.number_input(key="runs_prune_days").value == 7
    at.button(key="runs_prune").click().run()
    assert not at.exception
    assert not old.path.exists() and recent.path.exists() and linked.path.exists()
    assert "Removed 1 run" in shown(at.success)
    assert at.session_state[STATE_KEY].run_ids == [recent.id, linked.id]


@pytest.mark.slow
def test_a_new_run_is_owned_by_the_session_that_started_it(root):
    at = app("train", state=wages_state())
    at.multiselect(key="train_families:regression").set_value(["linear"]).run()
    at.slider(key="train_budget").set_value(10).run()
    at.button(key="start_search").click().run()
    assert not at.exception, at.exception
    state = session(at)
    run = Run(root / state.current_run_id)
    try:
        assert run.is_owner(state.owner_tokens[run.id])
        assert "stop_run" in buttons(at) or run.status.state not in ("queued", "running")
    finally:
        stop_run(run)
        end = time.time() + 120
        while run.status.state in ("queued", "running") and time.time() < end:
            time.sleep(0.3)
