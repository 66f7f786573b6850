"""AutoML: from a table to a tuned, explained and safe model file."""

from automl.api import TrainResult, predict, start_run, train
from automl.bundle import Model, load_model
from automl.data import Table, load_table
from automl.errors import AutoMLError
from automl.leaderboard import leaderboard
from automl.runs import delete_run, list_runs, open_run

__all__ = [
    "AutoMLError",
    "Model",
    "Table",
    "TrainResult",
    "delete_run",
    "leaderboard",
    "list_runs",
    "load_model",
    "load_table",
    "open_run",
    "predict",
    "start_run",
    "train",
]
