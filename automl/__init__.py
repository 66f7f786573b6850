"""AutoML: from a table to a tuned, explained and safe model file.

Names are imported on first use (PEP 562), so ``import automl.data`` or the app's first page
does not pay for scikit-learn, Optuna and skops until a model is actually involved.
"""

from __future__ import annotations

from automl._lazy import lazy_exports

# Bound now: the submodule of the same name would otherwise shadow the function once imported.
from automl.leaderboard import leaderboard

__all__ = [
    "AutoMLError",
    "Model",
    "Table",
    "TrainResult",
    "check_drift",
    "check_schema",
    "delete_run",
    "leaderboard",
    "list_runs",
    "load_model",
    "load_table",
    "open_run",
    "predict",
    "prune_runs",
    "start_run",
    "train",
]

_WHERE = {
    "AutoMLError": "automl.errors",
    "Model": "automl.bundle",
    "Table": "automl.data",
    "TrainResult": "automl.api",
    "check_drift": "automl.api",
    "check_schema": "automl.api",
    "delete_run": "automl.runs",
    "list_runs": "automl.runs",
    "load_model": "automl.bundle",
    "load_table": "automl.data",
    "open_run": "automl.runs",
    "predict": "automl.api",
    "prune_runs": "automl.retention",
    "start_run": "automl.api",
    "train": "automl.api",
}


__getattr__, __dir__ = lazy_exports('automl', globals(), _WHERE)
