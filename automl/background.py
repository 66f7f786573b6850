"""Runs that go on in the background: the app starts one and polls it, never waiting on it.

``launch_run`` writes the run folder and starts a detached ``automl supervise RUN`` process
that searches, refits and saves; closing the browser tab or restarting the app loses
nothing. ``stop_run`` asks it to finish early (finished trials are kept and the best is still
refitted); ``resume_run`` continues the same study with a fresh time budget.
"""

from __future__ import annotations

import contextlib
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
from automl.locks import locked
from automl.processes import STORAGE_ENV, start_time
from automl.runs import Run

__all__ = ["BACKGROUND_NICE", "launch_run", "live_leaderboard", "resume_run", "shared_storage",
           "stop_run", "supervise"]

_PROGRESS_EVERY_S = 0.5
BACKGROUND_NICE = 10  # the niceness of a search the app started (and of its workers)
_BUSY_ENV = "AUTOML_BUSY_FD"  # the busy-lock hold a supervisor inherits from who started it


def shared_storage() -> tuple[str, str] | None:
    """The database storage the operator gave the app for runs shared with workers on other
    machines ($AUTOML_STORAGE_URL): (URL, the URL as shown, password masked), or None. The
    URL stays in the server's processes: the page shows the masked one, the run folder
    keeps the masked one, and the supervisor gets the URL in its environment."""
    from automl.data.urls import mask_url

    url = os.environ.get(STORAGE_ENV, "").strip()
    return (url, mask_url(url)) if url else None


def launch_run(data, config: TrainConfig, *, root=None) -> tuple[Run, list[str]]:
    """Check the data and settings, create the run and start its search in the background."""
    from automl.api import start_run

    ctx, warnings = start_run(data, config, root=root)
    busy = ctx.run.hold_busy()
    try:
        _spawn(ctx.run, config.time_budget, config.storage, busy)
    finally:
        os.close(busy)
    return ctx.run, warnings


def stop_run(run: Run, *, owner_token: str | None = None) -> None:
    """Finish after the folds in progress; the best finished trial is still refitted.
    The app passes its session's ``owner_token`` (see ``Run.check_owner``)."""
    run.check_owner(owner_token)
    run.request_stop()


def resume_run(run: Run, time_budget: float, *, owner_token: str | None = None,
               storage_url: str | None = None) -> None:
    """Continue a stopped or finished run's study for another ``time_budget`` seconds.
    The app passes its session's ``owner_token`` (see ``Run.check_owner``); a run whose
    database storage needs a password needs ``storage_url`` (or $AUTOML_STORAGE_URL).

    Refused (ConfigError) while the run's supervisor or any of its workers is alive; of
    several calls at one moment (two sessions clicking Resume) exactly one starts a
    supervisor, the others are refused.
    """
    from automl.search.context import storage_url_for

    run.check_owner(owner_token)
    if not 1 <= time_budget <= 7 * 24 * 3600:
        raise ConfigError(f"time_budget must be between 1 s and 7 days; got {time_budget}.")
    url = storage_url_for(run, storage_url)
    with locked(run.path / ".resume.lock"):  # one resume at a time, across threads too
        busy = run.hold_busy() if not run.busy() else None
        try:
            if busy is None or run.status.state.is_active:
                raise ConfigError(f"Run {run.id} is still running (its search or a worker of "
                                  "it is alive): stop it and wait until it has ended before "
                                  "resuming.")
            run.set_stop_at(time.time() + time_budget, force=True)  # clear the last Stop
            _spawn(run, time_budget, url, busy)
        finally:
            if busy is not None:
                os.close(busy)


def _spawn(run: Run, time_budget: float, storage_url: str | None, busy: int) -> None:
    """Start ``automl supervise`` for the run, detached. It inherits ``busy`` (this
    process's hold on the run's busy lock), so the run counts as busy from this moment
    on, and the storage URL in its environment (never in its arguments, which every user of
    the machine can read, nor in the run folder)."""
    run.record_launch()  # the run reads as queued from now on (the status is the child's)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", _BUSY_ENV: str(busy)}
    if storage_url:
        env[STORAGE_ENV] = storage_url
    log = open(run.path / "log.txt", "ab")  # noqa: SIM115 - handed to the child process
    proc = subprocess.Popen(
        [sys.executable, "-m", "automl.cli", "supervise", str(run.path),
         "--time-budget", str(time_budget)],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, pass_fds=(busy,),
        start_new_session=True, cwd=os.getcwd(), env=env,
    )
    log.close()
    run.record_launch(proc.pid, start_time(proc.pid))


def supervise(run_dir: Run | str | os.PathLike, time_budget: float,
              started_at: float | None = None, storage_url: str | None = None) -> None:
    """Search, refit and save for an existing run folder, writing progress to its status
    (this process is the run's supervisor: the one writer of its status)."""
    from automl.api import execute
    from automl.search.context import SearchContext

    t0 = started_at or time.time()
    _yield_to_the_app()
    run = run_dir if isinstance(run_dir, Run) else Run(Path(run_dir))
    ctx = SearchContext.from_run(run, storage_url)
    ctx.family_ctx = replace(ctx.family_ctx, time_budget=float(time_budget))
    execute(ctx, started_at=t0, deadline=t0 + time_budget, busy=_handed_over(run),
            n_workers=run.spec.config.workers(), start_method="fork",
            progress_every=_PROGRESS_EVERY_S)


def _yield_to_the_app() -> None:
    """Lower this process's CPU priority (its workers inherit it): a background search
    takes every core, and the app's server must still answer a click at once. On an
    otherwise idle machine the search loses nothing; see docs/benchmarks.md (App)."""
    with contextlib.suppress(OSError):  # not allowed here: it runs at the app's priority
        os.nice(max(0, BACKGROUND_NICE - os.nice(0)))
    # Linux's autogroup scheduling weighs sessions, not processes, against each other: this
    # process leads its own session, so its group's niceness is what counts.
    with contextlib.suppress(OSError):
        Path("/proc/self/autogroup").write_text(str(BACKGROUND_NICE))


def _handed_over(run: Run) -> int | None:
    """The busy-lock hold that ``_spawn`` passed to this process, if it is one (the file
    descriptor named in the environment is open on this run's busy file)."""
    fd = os.environ.pop(_BUSY_ENV, "")
    try:
        fd = int(fd)
        mine, busy = os.fstat(fd), os.stat(run.busy_file)
    except (ValueError, OSError):
        return None
    return fd if (mine.st_dev, mine.st_ino) == (busy.st_dev, busy.st_ino) else None


def live_leaderboard(run: Run, storage_url: str | None = None) -> pd.DataFrame:
    """The leaderboard so far, read from the run's storage while workers write to it."""
    import optuna

    from automl.search.context import open_storage

    study = optuna.load_study(study_name=run.study_name, storage=open_storage(run, storage_url))
    return leaderboard(study.get_trials(deepcopy=False), run.spec.direction)
