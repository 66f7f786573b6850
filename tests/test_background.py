"""Runs in the background: launched, polled, stopped and resumed without waiting on them."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer

import automl
from automl.background import BACKGROUND_NICE, launch_run, live_leaderboard, resume_run, stop_run
from automl.config import TrainConfig
from automl.errors import ConfigError
from tests.run_files import write_status


def _wait(run, states, timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        if run.status.state in states:
            return run.status
        time.sleep(0.3)
    raise AssertionError(f"run stayed {run.status.state}; log:\n"
                         + (run.path / "log.txt").read_text())


@pytest.mark.slow
def test_launch_poll_stop_and_resume(tmp_path):
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    df = X.iloc[:, :8].assign(outcome=np.where(y == 1, "benign", "malignant"))
    config = TrainConfig(target="outcome", time_budget=120, families=("linear", "knn"))
    run, _ = launch_run(df, config, root=tmp_path)
    assert run.status.state in ("queued", "running")  # returned at once, not after 120 s
    end = time.time() + 60
    while time.time() < end and ((live_leaderboard(run).state == "complete").sum() < 3
                                 or not (run.status.progress and run.status.progress.complete)):
        time.sleep(0.3)
    board = live_leaderboard(run)
    assert (board.state == "complete").sum() >= 3  # rows appear while the search runs
    assert run.status.state == "running" and run.status.progress.complete >= 1
    # the search yields the CPU to the app: its supervisor and workers run at a lower priority
    pids = [run.status.pid, *(pid for pid, _ in run.status.workers)]
    assert len(pids) >= 2
    assert all(os.getpriority(os.PRIO_PROCESS, p) >= BACKGROUND_NICE for p in pids), pids
    with pytest.raises(ConfigError, match="still running"):
        resume_run(run, 10)
    stop_run(run)
    status = _wait(run, {"stopped", "finished", "failed"}, timeout=60)
    assert status.state == "stopped", status
    n_before = len(live_leaderboard(run))
    model = automl.load_model(run.model_file)
    assert model.predict(df.head(3)).shape == (3, 3)

    resume_run(run, 8)
    status = _wait(run, {"finished", "failed"}, timeout=60)
    assert status.state == "finished", status
    assert len(live_leaderboard(run)) > n_before  # the same study went on


def test_a_run_whose_process_died_is_marked_failed(tmp_path):
    import subprocess

    from automl.runs import Run

    run = Run.create(tmp_path)
    gone = subprocess.Popen(["true"])
    gone.wait()
    write_status(run, state="running", pid=gone.pid)
    assert run.status.state == "failed"
    assert "ended unexpectedly" in run.status.message
