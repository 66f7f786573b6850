"""The ``automl`` command: train, predict, explain (HTML report), list runs, join a run as a
worker.

``parser`` defines the arguments, ``main`` dispatches and turns errors and signals into exit
codes, ``model_commands`` (train, predict, explain) and ``run_commands`` (runs, prune,
supervise, worker) do the work, ``view`` draws progress and the leaderboard in the terminal.
Heavy libraries are imported inside the commands, after the clock for the time budget has
started (``clock``), so ``--time-budget`` covers the whole command.
"""

from __future__ import annotations

from automl.cli.clock import STARTED  # first: the budget's clock
from automl.cli.main import main

__all__ = ["STARTED", "main"]
