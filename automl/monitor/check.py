"""One monitoring check: new rows against the model file's reference profile.

What is compared: every input column (:mod:`.drift`), the model's predictions (the same
tests on its scores), how the columns go together (:mod:`.domain`, when training rows are at
hand), and the model's performance (:mod:`.performance`: measured when the rows have the
target, estimated from calibrated probabilities for classifiers). Drifted columns are weighted
by how much the model relies on each (mean absolute SHAP value on the new rows), because a
moved column the model ignores does not matter.

The alarm (the command's exit code) goes up when any of these holds: at least half of the
columns drifted; the columns carrying at least half of the model's reliance drifted; the
domain classifier tells new rows apart (AUC above 0.6); the predictions drifted at p < 0.01
(or by a distance above 0.1) together with at least one input column; the measured or
estimated performance is worse than the out-of-fold score by more than :data:`TOLERANCE`.
Each condition needs more than one test to fail by chance, so the same distribution
resampled rarely raises it (tests/test_monitor.py counts the false alarms).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from automl.bundle import Model
from automl.errors import ConfigError
from automl.monitor.domain import DomainCheck, domain_check
from automl.monitor.drift import ColumnDrift, column_drift
from automl.monitor.performance import Performance, estimate, measure
from automl.monitor.reference import column_values

__all__ = ["DRIFT_SHARE", "TOLERANCE", "MonitorResult", "check", "reliance"]

DRIFT_SHARE = 0.5
TOLERANCE = 0.03  # AUC, accuracy, R² points; 10% of the reference for losses and errors
IMPORTANCE_ROWS = 200


@dataclass(frozen=True)
class MonitorResult:
    """What one check found; :meth:`to_json` is what ``automl monitor --json`` prints."""

    n_rows: int
    columns: tuple[ColumnDrift, ...]
    importance: dict[str, float]
    prediction: ColumnDrift | None
    domain: DomainCheck | None
    measured: Performance | None
    estimated: Performance | None
    missing_columns: tuple[str, ...]
    alarm: bool
    reasons: tuple[str, ...]
    checked_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def drifted(self) -> list[ColumnDrift]:
        return [c for c in self.columns if c.drifted]

    @property
    def drifted_share(self) -> float:
        return len(self.drifted) / max(len(self.columns), 1)

    @property
    def weighted_drift(self) -> float:
        """The share of the model's reliance that sits on drifted columns."""
        return float(sum(self.importance.get(c.name, 0.0) for c in self.drifted))

    def to_json(self) -> dict:
        from automl.monitor.words import advice, summary

        return {"alarm": self.alarm, "reasons": list(self.reasons), "advice": advice(self),
                "summary": summary(self), "checked_at": self.checked_at,
                "n_rows": self.n_rows, "drifted_share": self.drifted_share,
                "weighted_drift": self.weighted_drift,
                "missing_columns": list(self.missing_columns),
                "columns": [{**c.to_json(), "importance": self.importance.get(c.name, 0.0)}
                            for c in self.columns],
                "prediction": self.prediction.to_json() if self.prediction else None,
                "domain_classifier": self.domain.to_json() if self.domain else None,
                "performance": self.measured.to_json() if self.measured else None,
                "estimated_performance": self.estimated.to_json() if self.estimated else None}


def check(model: Model, new: pd.DataFrame, *, reference_rows: pd.DataFrame | None = None,
          seed: int = 0) -> MonitorResult:
    """Compare ``new`` (raw rows, with or without the target) with what ``model`` was
    trained on. ``reference_rows``: the training rows, for the multivariate check."""
    ref = model.reference
    if not ref:
        raise ConfigError("This model file holds no reference profile (it was saved by an "
                          "older automl), so there is nothing to compare new rows with. "
                          "Retrain it with this version to monitor it.")
    if not len(new):
        raise ConfigError("The new table has no rows; give at least one row to check.")
    names = [c.name for c in model.schema.columns if c.name in ref["columns"]]
    missing = tuple(n for n in names if n not in new.columns)
    frame = new.assign(**{n: np.nan for n in missing}) if missing else new
    X = model.prepare(frame)
    n_ref = int(ref["n_rows"])
    columns = tuple(column_drift(n, ref["columns"][n],
                                 column_values(X[n], ref["columns"][n]["kind"]), n_ref)
                    for n in names)
    scores = (model.predict_proba(X) if model.task != "regression"
              else model.predict(X)["prediction"].to_numpy())
    prediction = _prediction_drift(model.task, ref, scores, n_ref)
    metric = ref["metric"]
    measured = _measured(model, new, scores, metric)
    estimated = (estimate(model.task, metric["name"], scores, ref.get("calibration") or [],
                          metric["oof_score"], seed) if model.task != "regression" else None)
    domain = (domain_check(reference_rows, frame, model.schema, seed)
              if reference_rows is not None else None)
    importance = reliance(model, X, seed)
    result = MonitorResult(len(new), columns, importance, prediction, domain, measured,
                           estimated, missing, False, ())
    reasons = _alarm_reasons(result)
    return MonitorResult(len(new), columns, importance, prediction, domain, measured,
                         estimated, missing, bool(reasons), tuple(reasons),
                         result.checked_at)


def _prediction_drift(task: str, ref: dict, scores: np.ndarray, n_ref: int
                      ) -> ColumnDrift | None:
    pred = ref.get("prediction")
    if not pred:
        return None
    profile = pred if task == "regression" else pred["score"]
    values = scores if task == "regression" else (
        scores[:, 1] if task == "binary" else scores.max(axis=1))
    return column_drift("prediction", {"kind": "numeric", "missing": 0.0, **profile},
                        pd.Series(values, dtype="float64"), n_ref)


def _measured(model: Model, new: pd.DataFrame, scores, metric: dict) -> Performance | None:
    """The metric on the rows whose target is known (labels the model never saw are left
    out: it cannot predict them)."""
    target = model.target
    if target is None or target not in new.columns:
        return None
    y = new[target]
    known = y.notna().to_numpy().copy()
    if model.task == "regression":
        yv = pd.to_numeric(y, errors="coerce").to_numpy(dtype=float)
        known &= np.isfinite(yv)
        if known.sum() < 2:
            return None
        return measure(model.task, metric["name"], yv[known], scores[known],
                       metric["oof_score"])
    codes = {str(c): i for i, c in enumerate(model.classes)}
    yc = y.astype(str).map(codes)
    known &= yc.notna().to_numpy()
    yk = yc[known].to_numpy(dtype=int)
    if known.sum() < 2 or (metric["name"] == "roc_auc" and len(np.unique(yk)) < 2):
        return None
    return measure(model.task, metric["name"], yk, scores[known], metric["oof_score"])


def reliance(model: Model, X: pd.DataFrame, seed: int = 0) -> dict[str, float]:
    """How much the model relies on each column on these rows: mean |SHAP| as shares that sum
    to 1 (equal shares if the explanation cannot be computed)."""
    from automl.explain.explainer import Explainer
    from automl.monitor.reference import background_rows

    names = [c.name for c in model.schema.columns if c.kind.value != "id"]
    try:
        background = background_rows(model, seed=seed)
        explainer = Explainer(model, background if background is not None else X)
        rows = explainer.global_rows(IMPORTANCE_ROWS, None)
        imp = explainer.explain(X, max_rows=rows, approximate=None, seed=seed).importance()
    except Exception:  # an explanation is a refinement; the drift tests stand without it
        return {n: 1.0 / len(names) for n in names}
    total = float(imp.sum())
    if total <= 0:
        return {n: 1.0 / len(names) for n in names}
    return {str(k): float(v) / total for k, v in imp.items()}


def _worse(p: Performance | None) -> bool:
    if p is None or p.change is None:
        return False
    bound = p.change if p.measured else (
        (p.high - p.reference) if p.direction == "maximize" else (p.reference - p.low))
    tol = TOLERANCE if p.metric in ("roc_auc", "accuracy", "balanced_accuracy", "f1", "r2") \
        else 0.1 * abs(p.reference)
    return bound < -tol


def _alarm_reasons(r: MonitorResult) -> list[str]:
    out = []
    if r.drifted_share >= DRIFT_SHARE:
        out.append(f"{len(r.drifted)} of {len(r.columns)} columns drifted")
    if r.weighted_drift >= DRIFT_SHARE:
        out.append(f"the columns behind {r.weighted_drift:.0%} of what the model relies on "
                   "drifted")
    if r.domain is not None and r.domain.drifted:
        out.append(f"a classifier tells new rows from training rows (AUC {r.domain.auc:.2f})")
    p = r.prediction
    if p is not None and r.drifted and (
            (p.p_value is not None and p.p_value < 0.01) or (p.p_value is None and p.drifted)):
        out.append("the predictions drifted")
    if _worse(r.measured):
        out.append(f"{r.measured.metric} fell from {r.measured.reference:.3f} in training to "
                   f"{r.measured.value:.3f}")
    elif r.measured is None and _worse(r.estimated):
        out.append(f"the estimated {r.estimated.metric} fell from {r.estimated.reference:.3f} "
                   f"in training to {r.estimated.value:.3f}")
    return out
