"""Which task a target asks for, and the checks that make a target learnable.

Every problem found here is a ``TargetError`` whose message names the problem and a fix.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from automl.errors import ConfigError, TargetError

__all__ = ["TASKS", "PreparedTarget", "detect_task", "find_target", "prepare_target"]

TASKS = ("binary", "multiclass", "regression")
# An integer target with at most this many distinct values is read as classes.
MAX_INTEGER_CLASSES = 10
# A text target with more distinct values than this is almost surely not a class label.
MAX_TEXT_CLASSES = 200


@dataclass
class PreparedTarget:
    """The learnable rows: features, the encoded target and what the codes mean."""

    X: pd.DataFrame
    y: np.ndarray  # class codes 0..k-1 (classification) or floats (regression)
    task: str
    classes: list = field(default_factory=list)  # original labels, in code order
    warnings: list[str] = field(default_factory=list)


def find_target(columns, target: str) -> str:
    """Return ``target`` if it is a column, else fail with the closest names."""
    if target in columns:
        return target
    by_case = [c for c in columns if str(c).lower() == str(target).lower()]
    close = by_case or difflib.get_close_matches(str(target), [str(c) for c in columns], n=3)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    shown = ", ".join(repr(c) for c in list(columns)[:20])
    raise TargetError(
        f"Target column {target!r} is not in the data.{hint} Columns are: {shown}"
        f"{' ...' if len(columns) > 20 else ''}."
    )


def detect_task(y: pd.Series) -> str:
    """Binary for two values, multiclass for text or few integer values, else regression."""
    values = y.dropna()
    n_unique = values.nunique()
    if n_unique <= 2 or pd.api.types.is_bool_dtype(values):
        return "binary"
    if pd.api.types.is_numeric_dtype(values):
        integral = bool(np.all(np.mod(values.to_numpy(dtype=float), 1) == 0))
        return "multiclass" if integral and n_unique <= MAX_INTEGER_CLASSES else "regression"
    return "multiclass"


def prepare_target(df: pd.DataFrame, target: str, task: str = "auto", cv_folds: int = 5
                   ) -> PreparedTarget:
    """Check the target, drop rows where it is missing, detect the task and encode it."""
    if task not in ("auto", *TASKS):
        raise ConfigError(f"Unknown task {task!r}. Choose auto, {', '.join(TASKS)}.")
    target = find_target(df.columns, target)
    y = df[target]
    warnings: list[str] = []
    missing = int(y.isna().sum())
    if missing == len(y):
        raise TargetError(
            f"Target column {target!r} has no values (all {len(y)} are missing). "
            "Pick a column that holds the outcome to predict."
        )
    if missing:
        warnings.append(f"{missing} rows with a missing {target!r} were left out of training.")
    keep = y.notna().to_numpy()
    X = df.loc[keep].drop(columns=[target]).reset_index(drop=True)
    y = y[keep].reset_index(drop=True)
    if X.shape[1] == 0:
        raise TargetError("The data has no columns besides the target: add feature columns.")
    if y.nunique() < 2:
        raise TargetError(
            f"Target column {target!r} has a single value ({y.iloc[0]!r}) in every row, "
            "so there is nothing to learn. Pick another target or add rows with other outcomes."
        )
    task = detect_task(y) if task == "auto" else task
    if len(y) < max(cv_folds, 2) * 2:
        raise TargetError(
            f"Only {len(y)} rows have a target value: too few for {cv_folds}-fold "
            f"cross-validation. Add rows (at least {cv_folds * 2}) or lower the number of folds."
        )
    if task == "regression":
        return PreparedTarget(X, _regression_values(y, target), task, [], warnings)
    return _encode_classes(X, y, target, task, cv_folds, warnings)


def _regression_values(y: pd.Series, target: str) -> np.ndarray:
    values = pd.to_numeric(y, errors="coerce")
    bad = y[values.isna()]
    if len(bad):
        raise TargetError(
            f"Target column {target!r} has values that are not numbers, e.g. "
            f"{', '.join(repr(v) for v in bad.unique()[:3])}, so it cannot be a regression "
            "target. Fix those values, or choose --task binary/multiclass for categories."
        )
    values = values.to_numpy(dtype=float)
    if not np.all(np.isfinite(values)):
        raise TargetError(f"Target column {target!r} holds infinite values: remove or fix them.")
    return values


def _encode_classes(X, y, target, task, cv_folds, warnings) -> PreparedTarget:
    counts = y.value_counts()
    n = len(counts)
    if task == "binary" and n != 2:
        raise TargetError(
            f"Task 'binary' needs exactly 2 classes, but {target!r} has {n}. "
            "Use --task multiclass (or regression for a numeric outcome)."
        )
    if not pd.api.types.is_numeric_dtype(y) and n > MAX_TEXT_CLASSES:
        raise TargetError(
            f"Target column {target!r} has {n} distinct values: too many to be classes. "
            "Pick a column with fewer categories, or --task regression for a numeric outcome."
        )
    singles = counts[counts < 2]
    if len(singles):
        raise TargetError(
            f"Class {', '.join(repr(c) for c in singles.index[:5])} of {target!r} has a single "
            "row, too few to learn or validate. Remove those rows, merge the class into a "
            "similar one, or add more examples."
        )
    if counts.min() < cv_folds:
        warnings.append(
            f"The smallest class ({counts.idxmin()!r}) has {counts.min()} rows, fewer than "
            f"{cv_folds} folds: its rows will be missing from some validation folds."
        )
    classes = sorted(counts.index.tolist(), key=_label_key)
    codes = {c: i for i, c in enumerate(classes)}
    encoded = y.map(codes).to_numpy(dtype=np.int64)
    return PreparedTarget(X, encoded, task, [_plain(c) for c in classes], warnings)


def _label_key(v):
    return (0, v, "") if isinstance(v, int | float | np.number) else (1, 0, str(v))


def _plain(v):
    """A JSON-friendly Python value for a numpy scalar."""
    return v.item() if isinstance(v, np.generic) else v
