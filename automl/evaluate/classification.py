"""Classification quality: ROC and precision-recall curves, the confusion matrix at a
threshold, calibration, per-class precision/recall/F1, and lift/gain."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from automl.errors import ConfigError
from automl.evaluate.sources import Evaluation

__all__ = ["Calibration", "Curve", "ThresholdResult", "at_threshold", "calibration",
           "lift_gain", "per_class", "pr", "roc"]


@dataclass(frozen=True)
class Curve:
    """One ROC or precision-recall curve (one-vs-rest for ``label``) and its area."""

    label: object
    x: np.ndarray  # false positive rate (ROC) or recall (PR)
    y: np.ndarray  # true positive rate (ROC) or precision (PR)
    thresholds: np.ndarray  # the probability at each point (NaN where none applies)
    area: float  # ROC AUC or average precision
    base_rate: float  # share of rows of this class


@dataclass(frozen=True)
class ThresholdResult:
    """Counts of actual against predicted classes and the metrics they give."""

    matrix: pd.DataFrame  # rows: actual class, columns: predicted class (labels as text)
    metrics: dict[str, float]
    threshold: float | None  # None where every row is predicted as its most probable class
    positive: object | None
    note: str | None = None


@dataclass(frozen=True)
class Calibration:
    """Mean predicted probability against the observed share, per bin of the probability."""

    table: pd.DataFrame  # mean_predicted, observed, rows (non-empty bins only)
    positive: object
    brier: float  # mean squared error of the probability (0 is perfect)
    strategy: str  # "uniform" (equal widths) or "quantile" (equal row counts)



# --- classification --------------------------------------------------------------------------

def _need_classes(ev: Evaluation, what: str) -> None:
    if ev.task == "regression":
        raise ConfigError(f"{what} needs a classification model; this one is regression. "
                          "Use residuals and error_by_segment.")


def _class_index(ev: Evaluation, positive) -> int:
    if positive is None:
        return 1 if ev.task == "binary" else 0
    for i, c in enumerate(ev.classes):
        if c == positive or str(c) == str(positive):
            return i
    raise ConfigError(f"Class {positive!r} is not one of the model's classes: "
                      f"{', '.join(map(repr, ev.classes))}.")


def _curve_classes(ev: Evaluation, positive) -> list[int]:
    if ev.task == "multiclass" and positive is None:
        return list(range(len(ev.classes)))
    return [_class_index(ev, positive)]


def _one_vs_rest(ev: Evaluation, positive, what: str):
    """(class index, is-that-class, its scores) for each curve :func:`roc` and :func:`pr`
    draw; a class absent from (or filling) every row has none."""
    _need_classes(ev, what)
    for i in _curve_classes(ev, positive):
        truth = ev.y == i
        if truth.any() and not truth.all():
            yield i, truth, ev.scores[:, i]


def roc(ev: Evaluation, positive=None) -> list[Curve]:
    """ROC curves with their AUC: the positive class of two, or one-vs-rest for every class
    of several (only ``positive`` when given). A class absent from (or filling) every row
    has no curve."""
    from sklearn.metrics import roc_auc_score, roc_curve

    out = []
    for i, truth, score in _one_vs_rest(ev, positive, "A ROC curve"):
        fpr, tpr, thr = roc_curve(truth, score)
        out.append(Curve(ev.classes[i], fpr, tpr, np.minimum(thr, 1.0),
                         float(roc_auc_score(truth, score)), float(truth.mean())))
    return out


def pr(ev: Evaluation, positive=None) -> list[Curve]:
    """Precision-recall curves with their average precision, chosen as in :func:`roc`."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    out = []
    for i, truth, score in _one_vs_rest(ev, positive, "A precision-recall curve"):
        precision, recall, thr = precision_recall_curve(truth, score)
        out.append(Curve(ev.classes[i], recall, precision, np.append(thr, np.nan),
                         float(average_precision_score(truth, score)), float(truth.mean())))
    return out


def at_threshold(ev: Evaluation, threshold: float = 0.5, positive=None) -> ThresholdResult:
    """The confusion matrix and metrics when a row is predicted ``positive`` once its
    probability reaches ``threshold`` (two classes). With several classes each row is
    predicted as its most probable class and the threshold does not apply."""
    from sklearn.metrics import (
        accuracy_score,
        balanced_accuracy_score,
        confusion_matrix,
        precision_recall_fscore_support,
    )

    _need_classes(ev, "A confusion matrix")
    labels = [str(c) for c in ev.classes]
    if ev.task == "binary":
        i = _class_index(ev, positive)
        order = [1 - i, i]  # negative first, positive second
        hit = ev.scores[:, i] >= threshold
        pred = np.where(hit, i, 1 - i)
        truth = ev.y == i
        p, r, f, _ = precision_recall_fscore_support(truth, hit, average="binary",
                                                     zero_division=0)
        metrics = {"accuracy": accuracy_score(truth, hit), "precision": p, "recall": r,
                   "F1": f, "predicted positive": float(hit.mean()) if len(hit) else 0.0}
        note, positive_label = None, ev.classes[i]
    else:
        order, threshold, positive_label = list(range(len(labels))), None, None
        pred = ev.scores.argmax(1)
        p, r, f, _ = precision_recall_fscore_support(ev.y, pred, labels=order,
                                                     average="macro", zero_division=0)
        metrics = {"accuracy": accuracy_score(ev.y, pred),
                   "balanced accuracy": balanced_accuracy_score(ev.y, pred),
                   "macro precision": p, "macro recall": r, "macro F1": f}
        note = (f"With {len(labels)} classes each row is predicted as its most probable "
                "class; a threshold applies to two classes only.")
    counts = confusion_matrix(ev.y, pred, labels=order)
    matrix = pd.DataFrame(counts, index=pd.Index([labels[k] for k in order], name="actual"),
                          columns=pd.Index([labels[k] for k in order], name="predicted"))
    return ThresholdResult(matrix, {k: float(v) for k, v in metrics.items()}, threshold,
                           positive_label, note)


def calibration(ev: Evaluation, bins: int = 10, strategy: str = "uniform", positive=None
                ) -> Calibration:
    """Predicted probability of ``positive`` against how often it was the outcome, per bin
    (``uniform``: equal-width bins; ``quantile``: bins of equal row counts)."""
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import brier_score_loss

    _need_classes(ev, "A calibration curve")
    if strategy not in ("uniform", "quantile"):
        raise ConfigError(f"strategy must be 'uniform' or 'quantile'; got {strategy!r}.")
    i = _class_index(ev, positive)
    truth, prob = (ev.y == i).astype(int), np.clip(ev.scores[:, i], 0.0, 1.0)
    observed, mean_predicted = calibration_curve(truth, prob, n_bins=bins, strategy=strategy,
                                                 pos_label=1)
    # The rows per bin, binned as calibration_curve bins them.
    edges = (np.percentile(prob, np.linspace(0, 100, bins + 1)) if strategy == "quantile"
             else np.linspace(0.0, 1.0, bins + 1))
    counts = np.bincount(np.searchsorted(edges[1:-1], prob), minlength=len(edges))
    table = pd.DataFrame({"mean_predicted": mean_predicted, "observed": observed,
                          "rows": counts[counts > 0]})
    return Calibration(table, ev.classes[i], float(brier_score_loss(truth, prob)), strategy)


def per_class(ev: Evaluation, threshold: float | None = None, positive=None) -> pd.DataFrame:
    """Precision, recall, F1 and support of each class. Rows are predicted as their most
    probable class, or (two classes, ``threshold`` given) as ``positive`` at the threshold."""
    from sklearn.metrics import precision_recall_fscore_support

    _need_classes(ev, "A per-class table")
    pred = ev.scores.argmax(1)
    if ev.task == "binary" and threshold is not None:
        i = _class_index(ev, positive)
        pred = np.where(ev.scores[:, i] >= threshold, i, 1 - i)
    order = list(range(len(ev.classes)))
    p, r, f, support = precision_recall_fscore_support(ev.y, pred, labels=order,
                                                       zero_division=0)
    return pd.DataFrame({"class": [str(c) for c in ev.classes], "precision": p, "recall": r,
                         "F1": f, "support": support.astype(int),
                         "predicted": np.bincount(pred, minlength=len(order))[order]})


def lift_gain(ev: Evaluation, positive=None, bins: int = 10) -> pd.DataFrame:
    """Rows sorted by the probability of ``positive``, highest first, in ``bins`` groups of
    (nearly) equal size. Per group: rows, positives, rate (share positive), share_of_rows and
    gain (cumulative: share of all rows and of all positives so far), lift (rate against the
    overall rate) and cumulative_lift (gain / share_of_rows)."""
    _need_classes(ev, "A lift chart")
    i = _class_index(ev, positive)
    truth = ev.y == i
    order = np.argsort(-ev.scores[:, i], kind="stable")
    groups = [g for g in np.array_split(order, min(bins, len(order))) if len(g)]
    rows = np.array([len(g) for g in groups])
    hits = np.array([int(truth[g].sum()) for g in groups])
    total, base = max(int(truth.sum()), 1), truth.mean() if len(truth) else 0.0
    rate = hits / rows
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = rate / base if base else np.full(len(rows), np.nan)
    share, gain = np.cumsum(rows) / len(truth), np.cumsum(hits) / total
    return pd.DataFrame({"group": np.arange(1, len(rows) + 1), "rows": rows, "positives": hits,
                         "rate": rate, "share_of_rows": share, "gain": gain, "lift": lift,
                         "cumulative_lift": gain / share if base else np.nan})


