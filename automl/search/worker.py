"""A worker process: runs trials of one study, one single-threaded fit at a time.

On a small machine one single-threaded trial per core beats multi-threaded fits several
times over, so each worker pins every thread pool to one thread. A worker started by a
supervisor (``owner``) ends with it (see :mod:`automl.processes`); every worker holds the
run's busy lock while it lives, so a resume can tell that it still runs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import warnings
from contextlib import contextmanager, nullcontext

import numpy as np
import optuna

from automl.locks import locked
from automl.processes import as_worker_signals, die_with_parent
from automl.runs import Run
from automl.search.context import SearchContext
from automl.search.objective import Objective
from automl.search.scheduler import PlannedSampler, plan_next
from automl.search.shared import worker_name
from automl.search.stopping import StopSignal

__all__ = ["FoldPruner", "heartbeat", "is_heartbeat_enabled", "make_pruner", "make_sampler",
           "run_worker"]

_COUNTED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED,
             optuna.trial.TrialState.FAIL, optuna.trial.TrialState.RUNNING)


def make_sampler(seed: int, n_families: int) -> optuna.samplers.BaseSampler:
    """TPE over each family's conditional parameters (the family itself is fixed by the
    scheduler); ``group`` models each family's parameters jointly, ``constant_liar`` keeps
    parallel workers from sampling the same point."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(
            seed=seed, multivariate=True, group=True, constant_liar=True,
            n_startup_trials=max(10, n_families + 3),
        )


def make_pruner() -> optuna.pruners.BasePruner:
    return FoldPruner()


class FoldPruner(optuna.pruners.BasePruner):
    """Stop a trial after a fold when it cannot win: its mean over the folds so far is below
    the best complete trial's mean over the same folds by more than twice that trial's
    spread across folds (successive halving over folds, with the best as the bar). A
    family's first trial always runs to the end: the scheduler and the ensemble need one
    complete result of every family."""

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        step = trial.last_step
        if step is None:
            return False
        trials = study.get_trials(deepcopy=False)
        family = trial.params.get("family")
        if not any(t.params.get("family") == family for t in trials if t.number < trial.number):
            return False
        done = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
        if not done:
            return False
        maximize = study.direction == optuna.study.StudyDirection.MAXIMIZE
        best = (max if maximize else min)(done, key=lambda t: t.value)
        steps = [s for s in range(step + 1) if s in best.intermediate_values
                 and s in trial.intermediate_values]
        if len(steps) != step + 1:
            return False
        mine = sum(trial.intermediate_values[s] for s in steps) / len(steps)
        bar = sum(best.intermediate_values[s] for s in steps) / len(steps)
        margin = 2 * (best.user_attrs.get("std") or 0.0) + 1e-9
        return mine < bar - margin if maximize else mine > bar + margin


def run_worker(ctx: SearchContext | Run | str, index: int = 0, install_signal: bool = True,
               owner: tuple[int, int | None] | None = None) -> None:
    """Run trials until the run's stop time, its trial cap, or a stop request. ``owner``:
    the pid and start time of the supervisor that started this worker process."""
    if owner is not None:
        as_worker_signals()
        if not die_with_parent(*owner):
            return  # the supervisor ended before this worker started: nothing to do
    if isinstance(ctx, str):
        ctx = Run(ctx)
    busy = (ctx.run if isinstance(ctx, SearchContext) else ctx).hold_busy()
    try:
        _search(ctx, index, install_signal, owner)
    finally:
        os.close(busy)


def _search(ctx: SearchContext | Run, index: int, install_signal: bool, owner) -> None:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    logging.getLogger("optuna").setLevel(logging.ERROR)
    if not isinstance(ctx, SearchContext):
        ctx = SearchContext.from_run(ctx)
    remote = ctx.remote
    stop = StopSignal(ctx.run, owner=owner, poll_seconds=1.0 if remote else 0.25,
                      read=remote.stop_at if remote else None)
    if install_signal:
        stop.install_handler()
    seed = ctx.family_ctx.seed * 1000 + index
    sampler = PlannedSampler(make_sampler(seed, len(ctx.families)))
    study = ctx.study(sampler, make_pruner())

    def should_stop() -> bool:
        if stop.requested():
            return True
        if ctx.max_trials is not None:
            return len(study.get_trials(deepcopy=False, states=_COUNTED)) >= ctx.max_trials
        return False

    objective, rng = Objective(ctx, stop), np.random.default_rng(seed)
    beats = is_heartbeat_enabled(study._storage)
    while not should_stop():
        if beats:  # fail (and queue once more) the trials of workers that died
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                optuna.storages.fail_stale_trials(study)
        with locked(ctx.run.path / "plan.lock"):  # workers on this machine plan in turn
            plan = plan_next(study, ctx.families, ctx.family_ctx, rng)
            sampler.plan = {"family": plan.family, **(plan.params or {})}
            with warnings.catch_warnings():  # "heartbeat is meant for Study.optimize": the
                warnings.simplefilter("ignore", UserWarning)  # beats are ours, see heartbeat
                trial = study.ask()
            retried = trial._fixed_params  # a retried trial keeps its parameters
            trial.set_user_attr("plan", retried or sampler.plan)
            trial.set_user_attr("worker", worker_name())
        with heartbeat(study, trial) if beats else nullcontext():
            _run(study, trial, objective)


def is_heartbeat_enabled(storage) -> bool:
    """Whether the study's storage (a database, possibly behind Optuna's cache) beats."""
    interval = getattr(storage, "get_heartbeat_interval", None)
    return bool(interval and interval())


@contextmanager
def heartbeat(study: optuna.Study, trial: optuna.Trial):
    """Tell the storage, from a thread, that ``trial`` is alive while the block runs (what
    ``study.optimize`` does; this worker asks and tells trials itself)."""
    storage, done = study._storage, threading.Event()

    def beat():
        while True:
            # the database may be away for a moment: the next beat may reach it
            with contextlib.suppress(Exception):
                storage.record_heartbeat(trial._trial_id)
            if done.wait(storage.get_heartbeat_interval()):
                return

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def _run(study: optuna.Study, trial: optuna.Trial, objective: Objective) -> None:
    """One trial, told to the study as complete, pruned or failed (its error is kept in the
    trial's attributes by the objective); a failing trial does not end the search."""
    try:
        value = objective(trial)
    except optuna.TrialPruned:
        _tell(study, trial, state=optuna.trial.TrialState.PRUNED)
    except Exception:
        _tell(study, trial, state=optuna.trial.TrialState.FAIL)
    else:
        _tell(study, trial, value)


def _tell(study: optuna.Study, trial: optuna.Trial, *args, **kwargs) -> None:
    """Tell the study; a trial that another process has already ended (failed as stale, or
    closed by the supervisor when its search ended) stays as that process left it."""
    try:
        study.tell(trial, *args, **kwargs)
    except (ValueError, optuna.exceptions.UpdateFinishedTrialError):
        if study._storage.get_trial(trial._trial_id).state.is_finished():
            return
        raise
