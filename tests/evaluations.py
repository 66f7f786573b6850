"""Evaluations made by hand, for tests of what is computed or drawn from one without a run."""

from __future__ import annotations

import numpy as np
import pandas as pd

from automl import evaluate

__all__ = ["hand_made"]


def hand_made(task: str, y, scores, classes=(), X=None) -> evaluate.Evaluation:
    """An Evaluation of ``scores`` against ``y`` (``X``: one counting column by default)."""
    y, scores = np.asarray(y), np.asarray(scores, dtype=float)
    X = pd.DataFrame({"x": np.arange(len(y))}) if X is None else X
    return evaluate.Evaluation(task, y, scores, list(classes), X, "y", "test", "test rows")
