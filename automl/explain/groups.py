"""Which user column each model feature comes from, so SHAP values of one-hot parts, missing
indicators, date parts and TF-IDF words can be summed back to the column a person knows."""

from __future__ import annotations

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

__all__ = ["feature_owners", "group_matrix", "used_columns"]


def used_columns(prep: ColumnTransformer) -> list[str]:
    """The user columns the fitted preprocessor reads (ID-like columns are not among them)."""
    out: list[str] = []
    for name, trans, cols in prep.transformers_:
        if name != "remainder" and not _dropped(trans):
            out.extend(c for c in _names(cols, prep) if c not in out)
    return out


def feature_owners(prep: ColumnTransformer) -> list[str]:
    """For every output feature of the fitted ColumnTransformer, the user column it comes from.

    Worked out from the fitted steps (imputer statistics and indicators, the one-hot
    encoder's per-column output counts, fixed parts per column), not by parsing names, so a
    column called ``plan`` and one called ``plan_type`` cannot be confused.
    """
    n_out = sum(s.stop - s.start for s in prep.output_indices_.values())
    owners: list[str | None] = [None] * n_out
    for name, trans, cols in prep.transformers_:
        part = prep.output_indices_.get(name)
        if part is None or part.stop == part.start or _dropped(trans):
            continue
        owners[part] = _step_owners(trans, _names(cols, prep), part.stop - part.start)
    if any(o is None for o in owners):  # pragma: no cover - a new kind of step
        raise ValueError("could not map every model feature back to a column")
    return owners  # type: ignore[return-value]


def group_matrix(owners: list[str], columns: list[str]) -> np.ndarray:
    """A 0/1 matrix (features x columns): feature values @ matrix = per-column sums."""
    index = {c: j for j, c in enumerate(columns)}
    g = np.zeros((len(owners), len(columns)))
    g[np.arange(len(owners)), [index[o] for o in owners]] = 1.0
    return g


def _step_owners(trans, cols: list[str], n: int) -> list[str]:
    if len(cols) == 1:
        return cols * n
    steps = trans.steps if isinstance(trans, Pipeline) else [(None, trans)]
    current = list(cols)  # the owner of each column as it flows through the steps
    for _, step in steps:
        if step == "passthrough" or step is None:
            continue
        if isinstance(step, SimpleImputer):
            kept = [c for c, s in zip(current, step.statistics_, strict=True)
                    if step.keep_empty_features or not _is_nan(s)]
            indicator = getattr(step, "indicator_", None)
            extra = [current[i] for i in indicator.features_] if indicator is not None else []
            current = kept + extra
        elif isinstance(step, OneHotEncoder):
            current = [c for c, k in zip(current, step._n_features_outs, strict=True)
                       for _ in range(k)]
        else:  # fixed number of outputs per input column, column by column
            out = len(step.get_feature_names_out(None if not hasattr(step, "feature_names_in_")
                                                 else step.feature_names_in_))
            if out % len(current):  # pragma: no cover - a new kind of step
                raise ValueError(f"cannot map the outputs of {type(step).__name__}")
            current = [c for c in current for _ in range(out // len(current))]
    if len(current) != n:  # pragma: no cover - the mapping must cover the step's outputs
        raise ValueError(f"mapped {len(current)} features, the step makes {n}")
    return current


def _names(cols, prep: ColumnTransformer) -> list[str]:
    if isinstance(cols, slice) or (len(cols) and isinstance(cols[0], int | np.integer)):
        return list(np.asarray(prep.feature_names_in_)[cols])
    return [str(c) for c in cols]


def _dropped(trans) -> bool:
    return isinstance(trans, str) and trans == "drop"


def _is_nan(value) -> bool:
    try:
        return bool(np.isnan(value))
    except TypeError:
        return False
