"""A weighted average of the best trials, chosen greedily on their out-of-fold predictions.

Greedy forward selection with replacement (Caruana et al., 2004): start from nothing and
repeatedly add the trial whose predictions most improve the averaged out-of-fold score. The
score is the same per-fold mean that ranks single trials, so the two compare fairly.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from sklearn.base import BaseEstimator

from automl.metrics import Metric

__all__ = ["WeightedEnsemble", "fold_score", "greedy_weights"]


def fold_score(metric: Metric, y: np.ndarray, pred: np.ndarray, folds) -> float:
    """Mean of the metric over the validation folds, as single trials are scored."""
    return float(np.mean([metric(y[va], pred[va]) for _, va in folds]))


def greedy_weights(oofs: dict[int, np.ndarray], y: np.ndarray, metric: Metric, folds,
                   rounds: int = 20, patience: int = 3) -> tuple[dict[int, float], float]:
    """Weights per trial number (summing to 1) and the ensemble's score. Stops after
    ``patience`` rounds without improvement."""
    picks: list[int] = []
    total = None
    best_score, best_picks = None, []
    for _ in range(rounds):
        if len(picks) - len(best_picks) >= patience:
            break
        step_best = None
        for number, pred in oofs.items():
            cand = pred if total is None else total + pred
            s = fold_score(metric, y, cand / (len(picks) + 1), folds)
            if step_best is None or metric.better(s, step_best[0]):
                step_best = (s, number)
        s, number = step_best
        picks.append(number)
        total = oofs[number].astype(float) if total is None else total + oofs[number]
        if best_score is None or metric.better(s, best_score):
            best_score, best_picks = s, list(picks)
    counts = Counter(best_picks)
    return {n: c / len(best_picks) for n, c in counts.items()}, best_score


class WeightedEnsemble(BaseEstimator):
    """Fitted pipelines whose predictions (probabilities for classes) are averaged."""

    def __init__(self, estimators=None, weights=None, task: str = "binary"):
        self.estimators = estimators
        self.weights = weights
        self.task = task

    def fit(self, X, y):
        for est in self.estimators:
            est.fit(X, y)
        self._set_classes()
        return self

    def _set_classes(self):
        if self.task != "regression":
            self.classes_ = np.arange(len(self.estimators[0].classes_))
        return self

    def _average(self, X, method: str) -> np.ndarray:
        w = np.asarray(self.weights, dtype=float)
        out = None
        for weight, est in zip(w / w.sum(), self.estimators, strict=True):
            part = weight * np.asarray(getattr(est, method)(X), dtype=float)
            out = part if out is None else out + part
        return out

    def predict_proba(self, X) -> np.ndarray:
        return self._average(X, "predict_proba")

    def predict(self, X) -> np.ndarray:
        if self.task == "regression":
            return self._average(X, "predict")
        return self.predict_proba(X).argmax(1)

    @classmethod
    def from_fitted(cls, estimators, weights, task: str) -> WeightedEnsemble:
        return cls(list(estimators), list(weights), task)._set_classes()
