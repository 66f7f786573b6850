"""Scoring metrics, each with its direction and the kind of prediction it needs.

Classification metrics take class probabilities of shape (n, k) over the encoded classes
0..k-1; regression metrics take predicted values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn import metrics as skm

from automl.errors import ConfigError

__all__ = ["DEFAULT_METRIC", "METRICS", "Metric", "get_metric"]


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


def _roc_auc(y, proba):
    if proba.shape[1] == 2:
        return skm.roc_auc_score(y, proba[:, 1])
    return skm.roc_auc_score(y, proba, multi_class="ovr", labels=np.arange(proba.shape[1]))


def _log_loss(y, proba):
    return skm.log_loss(y, np.clip(proba, 1e-15, 1), labels=np.arange(proba.shape[1]))


def _f1(y, proba):
    avg = "binary" if proba.shape[1] == 2 else "macro"
    return skm.f1_score(y, proba.argmax(1), average=avg, zero_division=0)


_CLS = frozenset({"binary", "multiclass"})
_REG = frozenset({"regression"})
METRICS: dict[str, Metric] = {
    m.name: m
    for m in [
        Metric("roc_auc", "ROC AUC", "maximize", _CLS, _roc_auc),
        Metric("log_loss", "log loss", "minimize", _CLS, _log_loss),
        Metric("accuracy", "accuracy", "maximize", _CLS,
               lambda y, p: skm.accuracy_score(y, p.argmax(1))),
        Metric("f1", "F1", "maximize", _CLS, _f1),
        Metric("balanced_accuracy", "balanced accuracy", "maximize", _CLS,
               lambda y, p: skm.balanced_accuracy_score(y, p.argmax(1))),
        Metric("rmse", "RMSE", "minimize", _REG, skm.root_mean_squared_error),
        Metric("mae", "MAE", "minimize", _REG, skm.mean_absolute_error),
        Metric("r2", "R²", "maximize", _REG, skm.r2_score),
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
