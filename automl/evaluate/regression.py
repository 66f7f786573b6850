"""Regression quality: residuals and the error by segment of a column."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd

from automl.errors import ConfigError
from automl.evaluate.sources import Evaluation

__all__ = ["MISSING", "OTHER", "error_by_segment", "residuals"]

MISSING = "(missing)"
OTHER = "(other values)"


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
