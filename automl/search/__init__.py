"""The search: trials of every family in one Optuna study, then the final model.

Modules, in the order a run uses them:

- ``context``: what every trial shares (prepared data, folds, metric, families, storage);
- ``scheduler``: which family the next trial explores (cost-aware, portfolios first);
- ``objective``: one trial, cross-validated fold by fold, pruned when it cannot win;
- ``bagging``: the fold models a trial keeps for a bagged final model;
- ``stopping``: how a worker learns it must stop (control file, signal during a fit);
- ``journal``: the run's journal storage and its lock;
- ``worker``: one process running trials; ``runner``: the supervisor keeping the budget;
- ``finalize``: the best trial or an ensemble, refitted and saved.

The names below are imported on first use (PEP 562), so importing one submodule does not
load the others.
"""

from __future__ import annotations

from automl._lazy import lazy_exports

__all__ = [
    "Objective",
    "Progress",
    "SearchContext",
    "StopRequested",
    "StopSignal",
    "choose_and_refit",
    "make_pipeline",
    "open_storage",
    "predict_scores",
    "run_search",
    "run_worker",
]

_WHERE = {
    "Objective": "automl.search.objective",
    "Progress": "automl.search.runner",
    "SearchContext": "automl.search.context",
    "StopRequested": "automl.search.stopping",
    "StopSignal": "automl.search.stopping",
    "choose_and_refit": "automl.search.finalize",
    "make_pipeline": "automl.search.context",
    "open_storage": "automl.search.context",
    "predict_scores": "automl.search.objective",
    "run_search": "automl.search.runner",
    "run_worker": "automl.search.worker",
}


__getattr__, __dir__ = lazy_exports('automl.search', globals(), _WHERE)
