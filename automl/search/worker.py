"""A worker process: runs trials of one study, one single-threaded fit at a time.

On a small machine one single-threaded trial per core beats multi-threaded fits several
times over, so each worker pins every thread pool to one thread. A worker started by a
supervisor (``owner``) ends with it (see :mod:`automl.processes`); every worker holds the
run's busy lock while it lives, so a resume can tell that it still runs.
"""

from __future__ import annotations

import logging
import os
import warnings

import optuna

from automl.processes import as_worker_signals, die_with_parent
from automl.runs import Run
from automl.search.context import SearchContext
from automl.search.objective import Objective
from automl.search.stopping import StopSignal

__all__ = ["make_pruner", "make_sampler", "run_worker"]

_COUNTED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED,
             optuna.trial.TrialState.FAIL, optuna.trial.TrialState.RUNNING)


def make_sampler(seed: int, n_families: int) -> optuna.samplers.BaseSampler:
    """TPE over the family choice and each family's conditional parameters; ``group``
    models each family's parameters jointly, ``constant_liar`` keeps parallel workers
    from sampling the same point."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(
            seed=seed, multivariate=True, group=True, constant_liar=True,
            n_startup_trials=max(10, n_families + 3),
        )


def make_pruner() -> optuna.pruners.BasePruner:
    # Compare each fold's score with other trials' scores on the same fold.
    return optuna.pruners.MedianPruner(n_startup_trials=8, n_warmup_steps=1)


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
    stop = StopSignal(ctx.run, owner=owner)
    if install_signal:
        stop.install_handler()
    seed = ctx.family_ctx.seed * 1000 + index
    study = ctx.study(make_sampler(seed, len(ctx.families)), make_pruner())

    def should_stop() -> bool:
        if stop.requested():
            return True
        if ctx.max_trials is not None:
            return len(study.get_trials(deepcopy=False, states=_COUNTED)) >= ctx.max_trials
        return False

    def callback(study, trial):
        if should_stop():
            study.stop()

    if not should_stop():
        study.optimize(Objective(ctx, stop), callbacks=[callback], catch=(Exception,),
                       gc_after_trial=False)
