"""Runs that go on in the background: the app starts one and polls it, never waiting on it.

``launch_run`` writes the run folder and starts a detached ``automl supervise RUN`` process
that searches, refits and saves; closing the browser tab or restarting the app loses
nothing. ``stop_run`` asks it to finish early (finished trials are kept and the best is still
refitted); ``resume_run`` continues the same study with a fresh time budget.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

from automl.config import TrainConfig
from automl.errors import ConfigError
from automl.leaderboard import leaderboard
from automl.runs import Run

__all__ = ["launch_run", "live_leaderboard", "resume_run", "stop_run", "supervise"]

_PROGRESS_EVERY_S = 0.5


def launch_run(data, config: TrainConfig, *, root=None) -> tuple[Run, list[str]]:
    """Check the data and settings, create the run and start its search in the background."""
    from automl.api import start_run

    ctx, warnings = start_run(data, config, root=root)
    _spawn(ctx.run, config.time_budget)
    return ctx.run, warnings


def stop_run(run: Run, *, owner_token: str | None = None) -> None:
    """Finish after the folds in progress; the best finished trial is still refitted.
    The app passes its session's ``owner_token`` (see ``Run.check_owner``)."""
    run.check_owner(owner_token)
    run.request_stop()


def resume_run(run: Run, time_budget: float, *, owner_token: str | None = None) -> None:
    """Continue a stopped or finished run's study for another ``time_budget`` seconds.
    The app passes its session's ``owner_token`` (see ``Run.check_owner``)."""
    run.check_owner(owner_token)
    if run.status.get("state") in ("running", "queued"):
        raise ConfigError(f"Run {run.id} is still running: stop it before resuming.")
    if not 1 <= time_budget <= 7 * 24 * 3600:
        raise ConfigError(f"time_budget must be between 1 s and 7 days; got {time_budget}.")
    run.control_file.unlink(missing_ok=True)
    _spawn(run, time_budget)


def _spawn(run: Run, time_budget: float) -> None:
    run.update_status(state="queued", queued_at=time.time(), message=None, pid=None)
    log = open(run.path / "log.txt", "ab")  # noqa: SIM115 - handed to the child process
    proc = subprocess.Popen(
        [sys.executable, "-m", "automl.cli", "supervise", str(run.path),
         "--time-budget", str(time_budget)],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True, cwd=os.getcwd(), env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    log.close()
    run.update_status(pid=proc.pid)


def supervise(run_dir: Run | str | os.PathLike, time_budget: float,
              started_at: float | None = None, storage_url: str | None = None) -> None:
    """Search, refit and save for an existing run folder, writing progress to its status."""
    from automl.api import execute
    from automl.search.context import SearchContext

    t0 = started_at or time.time()
    run = run_dir if isinstance(run_dir, Run) else Run(Path(run_dir))
    ctx = SearchContext.from_run(run, storage_url)
    ctx.family_ctx = replace(ctx.family_ctx, time_budget=float(time_budget))
    last = [0.0]

    def on_progress(p) -> None:
        if time.time() - last[0] >= _PROGRESS_EVERY_S:
            last[0] = time.time()
            run.update_status(progress={
                "elapsed": p.elapsed, "budget": p.budget, "complete": p.n_complete,
                "pruned": p.n_pruned, "failed": p.n_failed, "best": p.best_value,
                "best_family": p.best_family})

    workers = run.settings["config"].get("n_workers") or None
    execute(ctx, started_at=t0, deadline=t0 + time_budget,
            n_workers=TrainConfig(target="_", n_workers=workers).workers(),
            start_method="fork", on_progress=on_progress)


def live_leaderboard(run: Run, storage_url: str | None = None) -> pd.DataFrame:
    """The leaderboard so far, read from the run's storage while workers write to it."""
    import optuna

    from automl.search.context import open_storage

    study = optuna.load_study(study_name=run.study_name, storage=open_storage(run, storage_url))
    return leaderboard(study.get_trials(deepcopy=False), run.settings.get("direction",
                                                                          "maximize"))
