"""How well the model does on new rows: measured when they have the target, estimated from
the model's own probabilities when they have not.

The estimate is confidence-based performance estimation (CBPE, as NannyML does it): the
model's probabilities are first calibrated with the curves the reference profile holds
(isotonic regression of the out-of-fold predictions against the true classes), so that a
calibrated 0.8 means "right four times in five". If the relation between the columns and the
target has not changed (only which rows arrive has), the unseen labels are distributed as the
calibrated probabilities say, and so is the metric: it is computed on labels drawn from them,
many times, and the mean of the draws is the estimate, their 2.5 and 97.5 percentiles its
interval. It cannot see a change in the relation itself (concept drift): only labels can.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from automl.metrics import get_metric

__all__ = ["DRAWS", "Performance", "calibrated", "estimate", "measure"]

DRAWS = 200
MAX_ROWS = 20_000  # rows the draws are computed on (a random sample above this)


@dataclass(frozen=True)
class Performance:
    """The metric on the new rows (``measured``) or its estimate with an interval, next to
    the out-of-fold score of training."""

    metric: str
    direction: str
    reference: float | None
    value: float
    low: float | None = None
    high: float | None = None
    measured: bool = False
    n_rows: int = 0

    @property
    def change(self) -> float | None:
        """How much better (+) or worse (-) than in training, in the metric's own units."""
        if self.reference is None:
            return None
        d = self.value - self.reference
        return d if self.direction == "maximize" else -d

    def to_json(self) -> dict:
        return {"metric": self.metric, "reference": self.reference, "value": self.value,
                "low": self.low, "high": self.high, "measured": self.measured,
                "n_rows": self.n_rows, "change": self.change}


def measure(task: str, metric_name: str, y: np.ndarray, scores: np.ndarray,
            reference: float | None) -> Performance:
    """The metric on rows with known (encoded) targets ``y`` and model scores."""
    m = get_metric(metric_name, task)
    return Performance(m.name, m.direction, reference, m(y, scores), measured=True,
                       n_rows=len(y))


def calibrated(proba: np.ndarray, curves: list[dict]) -> np.ndarray:
    """Probabilities mapped through the per-class calibration curves, rows summing to 1."""
    out = np.empty_like(proba, dtype=float)
    for k, curve in enumerate(curves):
        out[:, k] = np.interp(proba[:, k], curve["x"], curve["y"])
    if proba.shape[1] == 2:  # binary: the positive class's curve decides, as trained
        out[:, 0] = 1.0 - out[:, 1]
    total = out.sum(axis=1, keepdims=True)
    return np.where(total > 0, out / np.where(total > 0, total, 1.0), 1.0 / proba.shape[1])


def estimate(task: str, metric_name: str, proba: np.ndarray, curves: list[dict],
             reference: float | None, seed: int = 0) -> Performance | None:
    """The CBPE estimate of a classifier's metric on rows without labels (None for a
    regressor, or a profile without calibration curves)."""
    if task == "regression" or not curves or len(curves) != proba.shape[1] or not len(proba):
        return None
    rng = np.random.default_rng(seed)
    if len(proba) > MAX_ROWS:
        proba = proba[rng.choice(len(proba), MAX_ROWS, replace=False)]
    p = calibrated(proba, curves)
    m = get_metric(metric_name, task)
    cum = np.cumsum(p, axis=1)
    values = []
    for _ in range(DRAWS):
        y = (rng.random((len(p), 1)) > cum).sum(axis=1).clip(0, p.shape[1] - 1)
        if len(np.unique(y)) < 2 and m.name == "roc_auc":
            continue
        values.append(m(y, proba))
    if not values:
        return None
    v = np.asarray(values)
    return Performance(m.name, m.direction, reference, float(v.mean()),
                       float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5)),
                       measured=False, n_rows=len(proba))
