"""How good a model's predictions are on rows whose outcome is known: the data behind ROC,
precision-recall, confusion, calibration, lift/gain and residual charts.

An :class:`Evaluation` pairs the true outcomes with the model's scores for the same rows:

- a run's out-of-fold predictions (:func:`from_run` with ``source="oof"``): every row scored
  by a model fitted without it, for the final model (an ensemble is the weighted sum of its
  members' predictions) or for any completed trial;
- a run's holdout (``source="holdout"``): rows the search never saw, scored by the final
  model;
- any labelled table scored by a model file (:func:`from_model`).

Every function returns plain data (DataFrames and small dataclasses); the figures are drawn
by :mod:`automl.plots_evaluate`. Classification scores are probabilities in ``classes``
order; ``positive`` names the class a one-vs-rest view is about (default: the second class
of two, the first of several).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pandas as pd

from automl.errors import ConfigError, ModelFileError, TargetError
from automl.metrics import METRICS
from automl.runs import Run

__all__ = ["Calibration", "Curve", "Evaluation", "ThresholdResult", "at_threshold",
           "available_trials", "calibration", "error_by_segment", "final_oof", "from_model",
           "from_run", "lift_gain", "model_choices", "per_class", "pr", "residuals", "roc",
           "source_choices", "summary"]

MISSING = "(missing)"
OTHER = "(other values)"


@dataclass(frozen=True)
class Evaluation:
    """True outcomes and a model's scores for the same rows, and where they come from."""

    task: str  # "binary", "multiclass" or "regression"
    y: np.ndarray  # class codes 0..k-1 (index into ``classes``), or numbers
    scores: np.ndarray  # (n, k) class probabilities, or (n,) predicted numbers
    classes: list  # original class labels in code order; [] for regression
    X: pd.DataFrame  # the rows' input columns (for error by segment)
    target: str
    model: str  # which model, in words
    source: str  # which predictions, in words

    @property
    def n_rows(self) -> int:
        return len(self.y)

    @property
    def y_true(self) -> np.ndarray:
        """Original labels (classification) or numbers (regression)."""
        if self.task == "regression":
            return self.y
        return np.asarray(self.classes, dtype=object)[self.y]

    @property
    def predicted(self) -> np.ndarray:
        """The most probable label per row, or the predicted number."""
        if self.task == "regression":
            return self.scores
        return np.asarray(self.classes, dtype=object)[self.scores.argmax(1)]


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


# --- where predictions come from -----------------------------------------------------------

def from_run(run: Run, source: str = "oof", trial: int | None = None) -> Evaluation:
    """The predictions of a run's final model (``trial=None``) or of one completed trial.

    ``source="oof"``: out-of-fold predictions (every row scored by a model fitted without it).
    ``source="holdout"``: the final model on the rows the search never saw (runs trained with
    a holdout share only).
    """
    from automl.search.context import SearchContext

    if source not in ("oof", "holdout"):
        raise ConfigError(f"source must be 'oof' or 'holdout'; got {source!r}.")
    if source == "holdout" and trial is not None:
        raise ConfigError(f"Holdout predictions exist only for the final model; trial {trial} "
                          "was never refitted. Choose the final model, or out-of-fold "
                          "predictions for the trial.")
    manifest = _manifest(run) if trial is None else None
    ctx = SearchContext.from_run(run)
    s = run.settings
    target, classes = s["config"]["target"], list(s.get("classes") or [])
    if source == "holdout":
        if ctx.holdout_X is None:
            raise ConfigError(f"Run {run.id} kept no holdout rows. Train with a holdout share "
                              "above 0 (Train page, or `automl train --holdout 0.2`), or use "
                              "the out-of-fold predictions.")
        from automl.bundle import load_model

        scores = _score(load_model(run.model_file), ctx.holdout_X)
        n, fit = len(ctx.holdout_y), len(ctx.y)
        return Evaluation(ctx.task, ctx.holdout_y, scores, classes, ctx.holdout_X, target,
                          _final_name(manifest),
                          f"Holdout: {n:,} rows the search never saw, scored by the final "
                          f"model refitted on the other {fit:,} rows.")
    if trial is None:
        scores, name = final_oof(run, manifest), _final_name(manifest)
    else:
        scores, name = _oof(run, trial), _trial_name(run, trial)
    if len(scores) != len(ctx.y):
        raise ModelFileError(f"The saved predictions of run {run.id} have {len(scores)} rows "
                             f"but its data has {len(ctx.y)}; the run folder was changed. "
                             "Train the run again.")
    return Evaluation(ctx.task, ctx.y, scores, classes, ctx.X, target, name,
                      f"Out-of-fold predictions ({len(ctx.folds)}-fold cross-validation): "
                      f"each of the {len(ctx.y):,} rows scored by a model fitted without it.")


def from_model(model, df: pd.DataFrame, target: str | None = None) -> Evaluation:
    """Score a labelled table with a loaded model file (:class:`automl.bundle.Model`).
    Rows without an outcome are left out (the source says how many)."""
    target = target or model.target
    if target not in df.columns:
        raise TargetError(f"The rows have no column {target!r}, the target this model "
                          "predicts. Add the known outcomes in that column to evaluate the "
                          "model (to score rows without outcomes, use `automl predict`).")
    known = df[target].notna().to_numpy()
    if not known.any():
        raise TargetError(f"Column {target!r} has no values: evaluating needs rows whose "
                          "outcome is known.")
    rows = df.loc[known].reset_index(drop=True)
    if model.task == "regression":
        y = pd.to_numeric(rows[target], errors="coerce")
        if y.isna().any():
            bad = rows.loc[y.isna(), target].unique()[:3]
            raise TargetError(f"Column {target!r} holds values that are not numbers, e.g. "
                              f"{', '.join(map(repr, bad))}; fix them to evaluate this "
                              "regression model.")
        y = y.to_numpy(dtype=float)
    else:
        y = _codes(rows[target], model.classes, target)
    X = rows.drop(columns=[target])
    dropped = int((~known).sum())
    source = f"{len(rows):,} labelled rows scored by the model file" + (
        f" ({dropped:,} rows without a {target!r} value left out)." if dropped else ".")
    m = model.manifest
    name = (f"the model file ({m.get('family_title') or m.get('family', 'model')}"
            + (f", run {m['run_id']})" if m.get("run_id") else ")"))
    return Evaluation(model.task, y, _score(model, X), model.classes, X, target, name, source)


def available_trials(run: Run) -> pd.DataFrame:
    """Completed trials whose out-of-fold predictions were saved, best first: trial, family,
    score (the mean CV metric)."""
    from automl.background import live_leaderboard

    board = live_leaderboard(run)
    if board.empty:
        return pd.DataFrame(columns=["trial", "family", "score"])
    done = board[board["state"] == "complete"]
    done = done[[_oof_file(run, n).exists() for n in done["trial"]]]
    return done[["trial", "family", "score"]].reset_index(drop=True)


def model_choices(run: Run) -> dict[int | None, str]:
    """What the Evaluate page offers: ``None`` (the final model, when saved) and every
    trial with saved predictions, each with a label in words."""
    from automl.families import REGISTRY

    choices: dict[int | None, str] = {}
    if run.model_file.exists():
        choices[None] = "Final model: " + _final_name(_manifest(run))
    metric = METRICS.get(run.settings.get("metric"))
    for t in available_trials(run).itertuples():
        title = REGISTRY[t.family].title if t.family in REGISTRY else t.family
        choices[int(t.trial)] = (f"Trial {t.trial} · {title} · "
                                 f"{metric.title if metric else 'score'} {t.score:.4f}")
    return choices


def source_choices(run: Run, trial: int | None = None) -> dict[str, str]:
    """Which predictions there are for the model: out-of-fold always, holdout for the final
    model of a run trained with a holdout share."""
    choices = {"oof": "Out-of-fold (cross-validation)"}
    if trial is None and run.settings.get("config", {}).get("holdout") and \
            run.model_file.exists():
        choices["holdout"] = "Holdout (rows the search never saw)"
    return choices


def _manifest(run: Run) -> dict:
    from automl.bundle import read_manifest

    if not run.model_file.exists():
        raise ModelFileError(f"Run {run.id} has no model file yet: it is saved when the search "
                             "ends (or after Stop). Wait for it, or choose a trial.")
    return read_manifest(run.model_file)


def _oof_file(run: Run, trial: int):
    return run.path / "oof" / f"{int(trial)}.npy"


def _oof(run: Run, trial: int) -> np.ndarray:
    if not _oof_file(run, trial).exists():
        raise ConfigError(f"Trial {trial} of run {run.id} has no saved out-of-fold "
                          "predictions (only completed trials have them; pruned, failed and "
                          "stopped ones do not). Choose a completed trial.")
    return run.load_oof(int(trial)).astype(float)


def final_oof(run: Run, manifest: dict | None = None) -> np.ndarray:
    """The final model's out-of-fold predictions: its trial's, or for an ensemble the sum of
    its members' weighted by their (normalised) weights. ``manifest`` defaults to the one in
    the run's model file."""
    manifest = _manifest(run) if manifest is None else manifest
    members = manifest.get("members") or []
    if manifest.get("family") != "ensemble" or not members:
        return _oof(run, manifest["best_trial"])
    weights = np.array([float(m["weight"]) for m in members])
    if not weights.sum() > 0:
        raise ModelFileError(f"The ensemble of run {run.id} has no positive member weight; "
                             "train the run again.")
    weights = weights / weights.sum()
    return sum(w * _oof(run, m["trial"]) for w, m in zip(weights, members, strict=True))


def _final_name(manifest: dict) -> str:
    members = manifest.get("members") or []
    if manifest.get("family") == "ensemble" and members:
        parts = ", ".join(f"{m['trial']} ({m['weight']:.0%})" for m in members)
        return f"ensemble of trials {parts}"
    title = manifest.get("family_title") or manifest.get("family")
    return f"{title}, trial {manifest.get('best_trial')}"


def _trial_name(run: Run, trial: int) -> str:
    from automl.families import REGISTRY

    board = available_trials(run)
    family = board.loc[board["trial"] == trial, "family"]
    if family.empty:
        return f"trial {trial}"
    title = REGISTRY[family.iloc[0]].title if family.iloc[0] in REGISTRY else family.iloc[0]
    return f"{title}, trial {trial}"


def _score(model, X: pd.DataFrame) -> np.ndarray:
    if model.task == "regression":
        return model.predict(X)["prediction"].to_numpy(dtype=float)
    return model.predict_proba(X)


def _codes(labels: pd.Series, classes: list, target: str) -> np.ndarray:
    """Class codes of ``labels``; a label is matched as it is, else by its text."""
    exact = {c: i for i, c in enumerate(classes)}
    text = {str(c): i for i, c in enumerate(classes)}
    codes = labels.map(lambda v: exact.get(v, text.get(str(v))))
    unknown = labels[codes.isna()].unique()
    if len(unknown):
        raise TargetError(f"Column {target!r} holds labels the model never saw in training: "
                          f"{', '.join(map(repr, unknown[:5]))} (it knows "
                          f"{', '.join(map(repr, classes))}). Leave those rows out to "
                          "evaluate it, or train a model on data with those classes.")
    return codes.to_numpy(dtype=np.int64)


# --- both tasks ------------------------------------------------------------------------------

def summary(ev: Evaluation) -> pd.DataFrame:
    """Every metric of the task on these predictions: metric, title, value, better."""
    rows = [{"metric": m.name, "title": m.title, "value": m(ev.y, ev.scores),
             "better": "higher" if m.direction == "maximize" else "lower"}
            for m in METRICS.values() if ev.task in m.tasks]
    return pd.DataFrame(rows, columns=["metric", "title", "value", "better"])


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


def roc(ev: Evaluation, positive=None) -> list[Curve]:
    """ROC curves with their AUC: the positive class of two, or one-vs-rest for every class
    of several (only ``positive`` when given). A class absent from (or filling) every row
    has no curve."""
    from sklearn.metrics import roc_auc_score, roc_curve

    _need_classes(ev, "A ROC curve")
    out = []
    for i in _curve_classes(ev, positive):
        truth = ev.y == i
        if truth.all() or not truth.any():
            continue
        fpr, tpr, thr = roc_curve(truth, ev.scores[:, i])
        out.append(Curve(ev.classes[i], fpr, tpr, np.minimum(thr, 1.0),
                         float(roc_auc_score(truth, ev.scores[:, i])), float(truth.mean())))
    return out


def pr(ev: Evaluation, positive=None) -> list[Curve]:
    """Precision-recall curves with their average precision, chosen as in :func:`roc`."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    _need_classes(ev, "A precision-recall curve")
    out = []
    for i in _curve_classes(ev, positive):
        truth = ev.y == i
        if truth.all() or not truth.any():
            continue
        precision, recall, thr = precision_recall_curve(truth, ev.scores[:, i])
        out.append(Curve(ev.classes[i], recall, precision, np.append(thr, np.nan),
                         float(average_precision_score(truth, ev.scores[:, i])),
                         float(truth.mean())))
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


# --- regression ------------------------------------------------------------------------------

def _need_numbers(ev: Evaluation, what: str) -> None:
    if ev.task != "regression":
        raise ConfigError(f"{what} needs a regression model; this one is {ev.task}. Use roc, "
                          "at_threshold and per_class.")


def residuals(ev: Evaluation) -> pd.DataFrame:
    """actual, predicted and residual (actual - predicted: above 0 the model predicted too
    low) per row."""
    _need_numbers(ev, "Residuals")
    actual, pred = np.asarray(ev.y, dtype=float), np.asarray(ev.scores, dtype=float)
    return pd.DataFrame({"actual": actual, "predicted": pred, "residual": actual - pred})


def error_by_segment(ev: Evaluation, column: str, bins: int = 5, top: int = 8) -> pd.DataFrame:
    """Errors per segment of ``column``: numbers and dates in ``bins`` quantile bins (each
    value its own segment when there are that few), other columns by their ``top`` most
    common values with the rest as one segment; missing values are a segment of their own.
    Columns: segment, rows, mae, rmse, bias (mean residual: above 0 predicted too low)."""
    _need_numbers(ev, "Error by segment")
    if column not in ev.X.columns:
        raise ConfigError(f"No column {column!r} among the rows' inputs: "
                          f"{', '.join(map(repr, ev.X.columns[:20]))}.")
    res = residuals(ev)["residual"].to_numpy()
    seg = _segments(ev.X[column].reset_index(drop=True), bins, top)
    frame = pd.DataFrame({"segment": seg, "residual": res})
    g = frame.groupby("segment", observed=True, sort=True)["residual"]
    out = pd.DataFrame({"rows": g.size(), "mae": g.apply(lambda r: np.mean(np.abs(r))),
                        "rmse": g.apply(lambda r: np.sqrt(np.mean(r ** 2))), "bias": g.mean()})
    out = out.reset_index()
    out["segment"] = out["segment"].astype(str)
    return out


def _segments(values: pd.Series, bins: int, top: int) -> pd.Categorical:
    """A label per row, as an ordered categorical (segments in a sensible order)."""
    missing = values.isna().to_numpy()
    numeric = (pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
               ) or pd.api.types.is_datetime64_any_dtype(values)
    present = values[~missing]
    if numeric and present.nunique() > bins:
        codes, edges = pd.qcut(present, bins, labels=False, retbins=True, duplicates="drop")
        names = [f"{_fmt(a)} to {_fmt(b)}" for a, b in pairwise(edges)]
        labels = pd.Series(np.asarray(names, dtype=object)[codes.to_numpy(dtype=int)],
                           index=present.index)
    elif numeric:
        names = [_fmt(v) for v in sorted(present.unique())]
        labels = present.map(_fmt)
    else:
        text = present.astype(str)
        common = text.value_counts().index[:top].tolist()
        labels = text.where(text.isin(common), OTHER)
        names = common + ([OTHER] if (labels == OTHER).any() else [])
    out = pd.Series(MISSING, index=values.index, dtype=object)
    out[~missing] = labels
    names = names + ([MISSING] if missing.any() else [])
    return pd.Categorical(out, categories=list(dict.fromkeys(names)), ordered=True)


def _fmt(v) -> str:
    if isinstance(v, pd.Timestamp | np.datetime64):
        t = pd.Timestamp(v)
        return str(t.date()) if t == t.normalize() else t.strftime("%Y-%m-%d %H:%M")
    return f"{v:.4g}" if isinstance(v, float | np.floating) else str(v)
