"""The supervisor: starts worker processes, keeps the time budget, reports progress.

The budget covers the whole run, refit included, so the supervisor keeps moving the search's
stop time to leave room for refitting the current best model (estimated from its fold fit
times). Workers stop between folds at that time; a fit still running at the hard deadline is
interrupted with a signal; a worker that does not exit is killed. If the supervisor itself is
interrupted (Ctrl-C, SIGTERM), it ends its workers the same way before it goes; if it is
killed, they end with it (see :mod:`automl.processes`).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import optuna

from automl.processes import start_time
from automl.runs import StatusWriter
from automl.search.context import SearchContext
from automl.search.finalize import refit_reserve
from automl.search.worker import run_worker

__all__ = ["Progress", "run_search"]

_POLL_S = 0.2
_SAVE_S = 1.0  # choosing an ensemble and writing the model file
_GRACE_S = 2.0  # from SIGUSR1 to SIGKILL for a worker that does not stop


@dataclass
class Progress:
    elapsed: float
    budget: float
    n_complete: int
    n_pruned: int
    n_failed: int
    best_value: float | None
    best_family: str | None


def run_search(
    ctx: SearchContext,
    *,
    deadline: float,
    n_workers: int,
    start_method: str = "forkserver",
    on_progress: Callable[[Progress], None] | None = None,
    while_waiting: Callable[[], None] | None = None,
    status: StatusWriter | None = None,
) -> list[optuna.trial.FrozenTrial]:
    """Run the search until ``deadline`` (Unix time by which the refitted model must be
    saved), the trial cap or a stop request; return every trial. ``while_waiting`` runs in a
    thread of this process meanwhile (e.g. imports the final steps need). ``status``, the
    supervisor's writer of the run's status, records the worker processes."""
    study = ctx.study()
    slack = 0.5 + 0.02 * ctx.family_ctx.time_budget  # how long a last fold may overrun
    if ctx.storage_url and start_method == "fork":
        start_method = "forkserver"  # a forked child must not inherit database connections
    mpc = mp.get_context(start_method)
    if start_method == "forkserver":  # import once in the server, not in every worker
        mpc.set_forkserver_preload(["automl.search.worker"])
    owner = (os.getpid(), start_time(os.getpid()))
    procs = [mpc.Process(target=run_worker, args=(ctx, i, True, owner), daemon=True)
             for i in range(n_workers)]
    ctx.run.set_stop_at(deadline - _SAVE_S)  # before any worker: no control file means stop
    try:
        for p in procs:
            p.start()
        if status is not None:
            status.update(workers=[[p.pid, start_time(p.pid)] for p in procs])
        if while_waiting is not None:  # after the fork: a thread must not exist during it
            threading.Thread(target=while_waiting, daemon=True).start()
        _supervise(ctx, study, procs, deadline, slack, on_progress)
    except BaseException:
        ctx.run.set_stop_at(time.time())  # workers that joined by hand stop too
        raise
    finally:
        _end(procs)
        _close_orphans(study)
    return study.get_trials(deepcopy=False)


def _supervise(ctx: SearchContext, study: optuna.Study, procs, deadline: float, slack: float,
               on_progress: Callable[[Progress], None] | None) -> None:
    """Move the stop time, report progress, and end workers that overrun, until all end."""
    maximize = study.direction == optuna.study.StudyDirection.MAXIMIZE
    started = time.time()
    signalled = killed = 0.0
    while any(p.is_alive() for p in procs):
        time.sleep(_POLL_S)
        trials = study.get_trials(deepcopy=False)
        done = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
        best = (max if maximize else min)(done, key=lambda t: t.value) if done else None
        reserve = refit_reserve(ctx, trials, maximize)
        stop_at = deadline - reserve - _SAVE_S - slack
        stop_at = ctx.run.set_stop_at(stop_at)  # an earlier stop request wins
        now = time.time()
        if on_progress:
            on_progress(Progress(
                elapsed=now - started, budget=deadline - started,
                n_complete=len(done),
                n_pruned=sum(t.state == optuna.trial.TrialState.PRUNED for t in trials),
                n_failed=sum(t.state == optuna.trial.TrialState.FAIL for t in trials),
                best_value=best.value if best else None,
                best_family=best.params.get("family") if best else None,
            ))
        if now >= stop_at + slack and not signalled:
            signalled = now
            for p in procs:
                if p.is_alive():
                    os.kill(p.pid, signal.SIGUSR1)
        if signalled and now >= signalled + _GRACE_S and not killed:
            killed = now
            for p in procs:
                if p.is_alive():
                    p.kill()


def _end(procs) -> None:
    """End the workers still running: SIGUSR1 (stop in the fit), then SIGKILL after a
    grace period; wait for every started one."""
    started = [p for p in procs if p.pid is not None]
    for p in started:
        if p.is_alive():
            os.kill(p.pid, signal.SIGUSR1)
    end = time.time() + _GRACE_S
    for p in started:
        p.join(max(0.0, end - time.time()))
    for p in started:
        if p.is_alive():
            p.kill()
        p.join()


def _close_orphans(study: optuna.Study) -> None:
    """Mark trials left RUNNING by a killed worker as failed, so the study stays clean."""
    storage = study._storage
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        storage.set_trial_user_attr(t._trial_id, "stopped", True)
        storage.set_trial_state_values(t._trial_id, optuna.trial.TrialState.FAIL)
