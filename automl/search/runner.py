"""The supervisor: starts worker processes, keeps the time budget, reports progress.

The budget covers the whole run, refit included, so the supervisor keeps moving the search's
stop time to leave room for refitting the current best model (estimated from its fold fit
times). Workers stop between folds at that time; a fit still running at the hard deadline is
interrupted with a signal; a worker that does not exit is killed. If the supervisor itself is
interrupted (Ctrl-C, SIGTERM), it ends its workers the same way before it goes; if it is
killed, they end with it (see :mod:`automl.processes`).
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import optuna

from automl.processes import start_time
from automl.runs import StatusWriter
from automl.search.context import SearchContext
from automl.search.finalize import refit_reserve
from automl.search.objective import fair_share
from automl.search.shared import SharedRun
from automl.search.worker import run_worker

__all__ = ["Progress", "run_search", "trial_limit"]

_POLL_S = 0.2
_SAVE_S = 1.0  # choosing an ensemble and writing the model file
_GRACE_S = 2.0  # from SIGUSR1 to SIGKILL for a worker that does not stop
HUNG_SLACK_S = 5.0  # beyond twice its share, a trial's worker counts as hung
MAX_REPLACEMENTS_PER_WORKER = 3  # a worker that keeps dying is not started for ever
HOST = socket.gethostname()


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
    share: SharedRun | None = None,
) -> list[optuna.trial.FrozenTrial]:
    """Run the search until ``deadline`` (Unix time by which the refitted model must be
    saved), the trial cap or a stop request; return every trial. ``while_waiting`` runs in a
    thread of this process meanwhile (e.g. imports the final steps need). ``status``, the
    supervisor's writer of the run's status, records the worker processes. ``share``: the
    run as workers on other machines see it (database storage), whose stop time is kept with
    the control file's and whose trials' out-of-fold predictions are fetched at the end."""
    study = ctx.study()
    slack = 0.5 + 0.02 * ctx.family_ctx.time_budget  # how long a last fold may overrun
    if ctx.storage_url and start_method == "fork":
        start_method = "forkserver"  # a forked child must not inherit database connections
    mpc = mp.get_context(start_method)
    if start_method == "forkserver":  # import once in the server, not in every worker
        mpc.set_forkserver_preload(["automl.search.worker"])
    owner = (os.getpid(), start_time(os.getpid()))
    def new_worker(i: int, late: bool = False):
        """A worker process; a late one (a replacement) never by fork: this process has
        threads by then, and a child forked while one holds a lock can hang for ever."""
        context = mpc
        if late and start_method == "fork":
            context = mp.get_context("forkserver")
            context.set_forkserver_preload(["automl.search.worker"])
        return context.Process(target=run_worker, args=(ctx, i, True, owner), daemon=True)

    procs = [new_worker(i) for i in range(n_workers)]
    stop_at = ctx.run.set_stop_at(deadline - _SAVE_S)  # before any worker: none means stop
    if share is not None:
        share.publish(ctx.run)
        share.publish_stop_at(stop_at, now=True)
    try:
        for p in procs:
            p.start()
        if status is not None:
            status.update(workers=[[p.pid, start_time(p.pid)] for p in procs])
        if while_waiting is not None:  # after the fork: a thread must not exist during it
            threading.Thread(target=while_waiting, daemon=True).start()
        def replace_worker(i: int) -> None:  # ended, its trial failed (_fail_trials_of)
            procs[i] = new_worker(i, late=True)
            procs[i].start()
            if status is not None:
                status.update(workers=[[p.pid, start_time(p.pid)] for p in procs])

        _supervise(ctx, study, procs, deadline, slack, on_progress, share, replace_worker)
    except BaseException:
        ctx.run.set_stop_at(time.time())  # workers that joined by hand stop too
        raise
    finally:
        if share is not None:
            _quietly(share.publish_stop_at, time.time(), now=True)
        _end(procs)
        _close_orphans(study, {f"{HOST}/{p.pid}" for p in procs if p.pid})
    trials = study.get_trials(deepcopy=False)
    if share is not None:
        share.fetch_oofs(ctx.run, trials, len(ctx.y))
    return trials


def _quietly(fn, *args, **kwargs) -> None:
    """Best effort while ending (the database may be the reason the search ends)."""
    with contextlib.suppress(Exception):
        fn(*args, **kwargs)


def _supervise(ctx: SearchContext, study: optuna.Study, procs, deadline: float, slack: float,
               on_progress: Callable[[Progress], None] | None, share: SharedRun | None,
               replace: Callable[[int], None] | None = None) -> None:
    """Move the stop time, report progress, and end workers that overrun, until all end. A
    worker whose trial runs far past its time share, or that died (killed, out of memory),
    has its trial failed and is replaced (``replace``), a few times at most."""
    maximize = study.direction == optuna.study.StudyDirection.MAXIMIZE
    started = time.time()
    signalled = killed = 0.0
    replacements = MAX_REPLACEMENTS_PER_WORKER * len(procs)
    def may_replace() -> bool:
        return (replace is not None and replacements > 0 and not signalled
                and time.time() < ctx.run.stop_at())

    while any(p.is_alive() for p in procs) or (may_replace() and _died(procs)):
        time.sleep(_POLL_S)
        trials = study.get_trials(deepcopy=False)
        if may_replace():
            hung = _hung(trials, procs, ctx.run.stop_at())
            for i in sorted({*hung, *_died(procs)}):
                if replacements <= 0:
                    break
                why = "hung" if i in hung else f"died (exit code {procs[i].exitcode})"
                _fail_trials_of(study, trials, procs[i], why)
                replace(i)
                replacements -= 1
        done = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
        best = (max if maximize else min)(done, key=lambda t: t.value) if done else None
        reserve = refit_reserve(ctx, trials, maximize)
        stop_at = deadline - reserve - _SAVE_S - slack
        stop_at = ctx.run.set_stop_at(stop_at)  # an earlier stop request wins
        if share is not None:
            share.publish_stop_at(stop_at)
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


def trial_limit(started: float, stop_at: float) -> float:
    """Seconds a trial may run before its worker counts as hung: twice the time share it had
    when it started (see ``objective.fair_share``), plus ``HUNG_SLACK_S``."""
    return 2 * fair_share(max(0.0, stop_at - started)) + HUNG_SLACK_S


def _hung(trials, procs, stop_at: float) -> list[int]:
    """Indexes of this supervisor's workers whose running trial is past its limit."""
    by_name = {f"{HOST}/{p.pid}": i for i, p in enumerate(procs) if p.is_alive()}
    out, now = [], time.time()
    for t in trials:
        i = by_name.get(t.user_attrs.get("worker"))
        if t.state != optuna.trial.TrialState.RUNNING or i is None or not t.datetime_start:
            continue
        started = t.datetime_start.timestamp()
        if now - started > trial_limit(started, stop_at):
            out.append(i)
    return out


def _died(procs) -> list[int]:
    """Workers that ended with an error or a signal (a stopping worker exits with 0)."""
    return [i for i, p in enumerate(procs) if p.exitcode not in (None, 0)]


def _fail_trials_of(study: optuna.Study, trials, proc, why: str) -> None:
    """End the worker, then fail the trial it was running, saying why."""
    proc.kill()  # before the trial is told: a worker must not write to it after
    proc.join()
    for t in trials:
        if (t.state == optuna.trial.TrialState.RUNNING
                and t.user_attrs.get("worker") == f"{HOST}/{proc.pid}"):
            took = time.time() - t.datetime_start.timestamp()
            message = (f"Timeout: the trial ran {took:.0f} s, far past its time share"
                       if why == "hung" else f"Its worker process {why} during the trial")
            study._storage.set_trial_user_attr(
                t._trial_id, "error", f"{message}; a new worker went on with the search")
            study._storage.set_trial_state_values(t._trial_id, optuna.trial.TrialState.FAIL)


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


def _close_orphans(study: optuna.Study, ours: set[str]) -> None:
    """Mark trials left RUNNING by this supervisor's killed workers (``ours``: host/pid) as
    failed, so the study stays clean; a trial of a worker that joined from elsewhere is its
    own worker's to tell (or the heartbeat's to fail)."""
    storage = study._storage
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        if t.user_attrs.get("worker", next(iter(ours), None)) not in ours:
            continue
        storage.set_trial_user_attr(t._trial_id, "stopped", True)
        storage.set_trial_state_values(t._trial_id, optuna.trial.TrialState.FAIL)
