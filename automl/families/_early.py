"""Early stopping for boosting families: rounds found per fold instead of searched.

A boosted model is fitted with a high cap on its rounds, watched on the fold's validation
rows, and stopped after ``PATIENCE`` rounds without a better validation loss, or when the
trial's time share is spent (a boosted model is usable after any round). It is then cut
back to its best round, so the fitted model, its saved file and its explanations hold the
same trees. The refit on all rows uses the folds' mean best round, a little more for the
larger training set.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

__all__ = ["PATIENCE", "Watch", "fit_prep", "refit_rounds"]

PATIENCE = 50
REFIT_GROWTH = 1.1  # all rows against (k-1)/k of them: a few more rounds


class Watch:
    """Tracks the best validation loss per round; says when to stop."""

    def __init__(self, deadline: float | None, patience: int = PATIENCE):
        self.deadline = deadline
        self.patience = patience
        self.best_loss = np.inf
        self.best_round = 0  # 1-based count of rounds in the best model
        self.rounds = 0
        self.timed_out = False

    def update(self, loss: float) -> bool:
        """Record one more round's validation loss; True when boosting should stop."""
        self.rounds += 1
        if self.best_round == 0 or loss < self.best_loss - 1e-12 * abs(self.best_loss):
            self.best_loss, self.best_round = loss, self.rounds
        if self.deadline is not None and time.monotonic() >= self.deadline:
            self.timed_out = True
            return True
        return self.rounds - self.best_round >= self.patience

    def info(self) -> dict[str, Any]:
        return {"rounds": max(self.best_round, 1), "timed_out": self.timed_out}


def fit_prep(pipe, X, y, X_val):
    """Fit the pipeline's preprocessing on the training rows; both sets transformed."""
    prep = pipe.named_steps["prep"]
    return prep.fit_transform(X, y), prep.transform(X_val)


def refit_rounds(infos: list[dict], default: int) -> int:
    """Rounds for the refit on all rows: the folds' mean best round, grown a little."""
    rounds = [i["rounds"] for i in infos if i and i.get("rounds")]
    if not rounds:
        return default
    return max(1, round(float(np.mean(rounds)) * REFIT_GROWTH))
