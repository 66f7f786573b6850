"""Scoring metrics, each with its direction and the kind of prediction it needs.

Classification metrics take class probabilities of shape (n, k) over the encoded classes
0..k-1; regression metrics take predicted values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

from automl.errors import ConfigError

__all__ = ["DEFAULT_METRIC", "METRICS", "Metric", "get_metric", "scored_rows"]


@dataclass(frozen=True)
class Metric:
    name: str
    title: str
    direction: str  # "maximize" or "minimize"
    tasks: frozenset[str]
    fn: Callable[[np.ndarray, np.ndarray], float]

    def __call__(self, y_true: np.ndarray, pred: np.ndarray) -> float:
        return float(self.fn(y_true, pred))

    def better(self, a: float, b: float) -> bool:
        """True when score ``a`` is strictly better than ``b``."""
        return a > b if self.direction == "maximize" else a < b


# Plain numpy versions: scikit-learn's validation costs ~5 ms a call, and the search and the
# ensemble selection call these thousands of times. tests/test_metrics.py checks they agree.
def _binary_auc(pos: np.ndarray, score: np.ndarray) -> float:
    n_pos = int(pos.sum())
    n_neg = len(pos) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _roc_auc(y, proba):
    if proba.shape[1] == 2:
        return _binary_auc(y == 1, proba[:, 1])
    present = np.unique(y)
    return float(np.nanmean([_binary_auc(y == c, proba[:, c]) for c in present]))


def _log_loss(y, proba):
    proba = np.clip(proba, 1e-15, 1)
    proba = proba / proba.sum(1, keepdims=True)  # float32 sums drift from 1 by ~1e-7
    return float(-np.mean(np.log(proba[np.arange(len(y)), y])))


def _f1(y, proba):
    pred = proba.argmax(1)
    classes = [1] if proba.shape[1] == 2 else np.union1d(np.unique(y), np.unique(pred))
    scores = []
    for c in classes:
        tp = np.sum((pred == c) & (y == c))
        denom = np.sum(pred == c) + np.sum(y == c)
        scores.append(2 * tp / denom if denom else 0.0)
    return float(np.mean(scores))


def _balanced_accuracy(y, proba):
    pred = proba.argmax(1)
    return float(np.mean([np.mean(pred[y == c] == c) for c in np.unique(y)]))


def _r2(y, pred):
    ss_res = np.sum((y - pred) ** 2)
    ss_tot = np.sum((y - y.mean()) ** 2)
    return float(1 - ss_res / ss_tot) if ss_tot else 0.0


_CLS = frozenset({"binary", "multiclass"})
_REG = frozenset({"regression"})
METRICS: dict[str, Metric] = {
    m.name: m
    for m in [
        Metric("roc_auc", "ROC AUC", "maximize", _CLS, _roc_auc),
        Metric("log_loss", "log loss", "minimize", _CLS, _log_loss),
        Metric("accuracy", "accuracy", "maximize", _CLS,
               lambda y, p: np.mean(p.argmax(1) == y)),
        Metric("f1", "F1", "maximize", _CLS, _f1),
        Metric("balanced_accuracy", "balanced accuracy", "maximize", _CLS, _balanced_accuracy),
        Metric("rmse", "RMSE", "minimize", _REG, lambda y, p: np.sqrt(np.mean((y - p) ** 2))),
        Metric("mae", "MAE", "minimize", _REG, lambda y, p: np.mean(np.abs(y - p))),
        Metric("r2", "R²", "maximize", _REG, _r2),
    ]
}
DEFAULT_METRIC = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "r2"}


def get_metric(name: str | None, task: str) -> Metric:
    """The metric called ``name`` (or the task's default), checked against the task."""
    name = name or DEFAULT_METRIC[task]
    if name not in METRICS:
        raise ConfigError(f"Unknown metric {name!r}. Choose one of: {', '.join(METRICS)}.")
    metric = METRICS[name]
    if task not in metric.tasks:
        allowed = [m for m in METRICS.values() if task in m.tasks]
        raise ConfigError(
            f"Metric {name!r} does not apply to a {task} task. "
            f"Choose one of: {', '.join(m.name for m in allowed)}."
        )
    return metric


def scored_rows(pred: np.ndarray) -> np.ndarray:
    """Which rows of out-of-fold predictions hold a score: all of them after k folds; only
    the validation rows after one validation split (the others are NaN)."""
    pred = np.asarray(pred, dtype=float)
    finite = np.isfinite(pred)
    return finite.all(axis=1) if pred.ndim == 2 else finite
