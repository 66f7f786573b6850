"""The multivariate check: can a classifier tell training rows from new rows?

Per-column tests miss a change in how columns go together (the same ages, the same incomes,
but no longer the same pairs). A gradient-boosted classifier is trained to tell a sample of
the reference rows from a sample of the new rows; its cross-validated ROC AUC is 0.5 when it
cannot (nothing moved) and near 1 when the two are easy to tell apart. The columns it splits
on most are the ones that moved. It needs training rows, so it runs only where they are at
hand (the model's run folder on this machine, or a file given with ``--reference``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from automl.monitor.reference import column_values, profile_kind

__all__ = ["AUC_ALARM", "DomainCheck", "domain_check"]

AUC_ALARM = 0.6  # an AUC above this says new rows are told apart from training rows
SAMPLE = 5_000  # rows taken from each side
FOLDS = 3


@dataclass(frozen=True)
class DomainCheck:
    auc: float
    drifted: bool
    top_columns: tuple[tuple[str, float], ...]  # (column, share of the classifier's gain)
    n_reference: int
    n_new: int

    def to_json(self) -> dict:
        return {"auc": self.auc, "drifted": self.drifted, "threshold": AUC_ALARM,
                "top_columns": [{"name": c, "share": s} for c, s in self.top_columns],
                "n_reference": self.n_reference, "n_new": self.n_new}


def _features(frame: pd.DataFrame, schema) -> pd.DataFrame:
    out = {}
    for c in schema.columns:
        if c.kind.value == "id" or c.name not in frame.columns:
            continue
        kind = profile_kind(c.kind)
        v = column_values(frame[c.name], kind)
        out[c.name] = v.astype("category") if kind == "categorical" else v
    return pd.DataFrame(out, index=frame.index)


def domain_check(reference: pd.DataFrame, new: pd.DataFrame, schema, seed: int = 0
                 ) -> DomainCheck | None:
    """The check on ``reference`` rows against ``new`` rows (both raw, with the schema's
    columns); None when either side has fewer than 20 rows."""
    import lightgbm as lgb
    from sklearn.model_selection import StratifiedKFold

    from automl.metrics import get_metric

    ref = reference.sample(min(len(reference), SAMPLE), random_state=seed)
    cur = new.sample(min(len(new), SAMPLE), random_state=seed)
    if len(ref) < 20 or len(cur) < 20:
        return None
    X = _features(pd.concat([ref, cur], ignore_index=True), schema)
    for c in X.columns:  # one category list for both sides
        if isinstance(X[c].dtype, pd.CategoricalDtype):
            X[c] = X[c].cat.remove_unused_categories()
    y = np.r_[np.zeros(len(ref), dtype=int), np.ones(len(cur), dtype=int)]
    params = dict(n_estimators=100, learning_rate=0.1, num_leaves=15, min_child_samples=20,
                  subsample=0.8, subsample_freq=1, colsample_bytree=0.8, n_jobs=1,
                  random_state=seed, verbose=-1)
    pred = np.zeros(len(y))
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=seed)
    for fit_idx, test_idx in folds.split(X, y):
        clf = lgb.LGBMClassifier(**params).fit(X.iloc[fit_idx], y[fit_idx])
        pred[test_idx] = clf.predict_proba(X.iloc[test_idx])[:, 1]
    auc = get_metric("roc_auc", "binary")(y, np.c_[1 - pred, pred])
    clf = lgb.LGBMClassifier(**params, importance_type="gain").fit(X, y)
    gain = np.asarray(clf.feature_importances_, dtype=float)
    share = gain / gain.sum() if gain.sum() > 0 else gain
    order = np.argsort(-share)[:5]
    top = tuple((str(X.columns[i]), round(float(share[i]), 4)) for i in order if share[i] > 0)
    return DomainCheck(round(float(auc), 4), bool(auc > AUC_ALARM), top, len(ref), len(cur))
