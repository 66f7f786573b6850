"""The reference profile a model file carries: what the training data and the model's own
out-of-fold predictions looked like, in a few numbers per column, so that new data can be
compared with it anywhere the model file goes (no training rows travel with the model).

Per input column: its kind, missing share and either decile edges with bin shares, the mean
and the standard deviation (numbers, dates as seconds) or the shares of its most common
values (categories, booleans, text). For the model: the distribution of its out-of-fold
predictions, the out-of-fold metric, and for classifiers a calibration curve per class (the
observed share of the class at each predicted probability, fitted by isotonic regression),
which the label-free performance estimate needs.

The profile is JSON in its own member of the model file, covered by the file's digest. A
file can still be crafted whole, so :func:`checked` reads a profile as untrusted input: every
number finite, every list as long as it claims, sizes capped.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from automl.data.schema import Kind, Schema
from automl.metrics import scored_rows

__all__ = ["MAX_COLUMNS", "VERSION", "background_rows", "bin_shares", "build_reference",
           "checked", "column_values", "profile_kind"]

VERSION = 1
BINS = 10  # numeric columns: deciles
TOP = 20  # categorical columns: the most common values kept by name, the rest as "other"
CURVE_POINTS = 50  # calibration curve points per class
MAX_COLUMNS = 20_000
MAX_VALUE_CHARS = 100
_SKIP = (Kind.ID,)


def column_values(s: pd.Series, kind: str) -> pd.Series:
    """A column as the profile sees it: numbers as floats (dates as seconds since 1970),
    anything else as text; blanks as missing."""
    if kind == "numeric":
        return pd.to_numeric(s, errors="coerce").astype("float64")
    if kind == "datetime":
        t = pd.to_datetime(s, errors="coerce", utc=True, format="mixed")
        secs = (t - pd.Timestamp("1970-01-01", tz="UTC")) / pd.Timedelta(seconds=1)
        return secs.astype("float64")
    text = s.astype("string").str.slice(0, MAX_VALUE_CHARS)
    return text.where(s.notna())


def bin_shares(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """Shares of ``values`` (finite numbers) in the bins ``edges`` cut: (-inf, e0], (e0, e1],
    ..., (e_last, inf)."""
    if not len(values):
        return np.zeros(len(edges) + 1)
    idx = np.searchsorted(np.asarray(edges, dtype=float), values, side="left")
    return np.bincount(idx, minlength=len(edges) + 1) / len(values)


def _r(x: float, digits: int = 6) -> float:
    return float(f"{float(x):.{digits}g}")


def _numeric(v: pd.Series) -> dict:
    x = v.dropna().to_numpy()
    x = x[np.isfinite(x)]
    if not len(x):
        return {"edges": [], "shares": [1.0], "mean": None, "std": None}
    q = np.quantile(x, np.linspace(0, 1, BINS + 1)[1:-1])
    edges = sorted({_r(e) for e in q})
    out = {"edges": edges, "shares": [round(s, 5) for s in bin_shares(x, edges)],
           "mean": _r(x.mean()), "std": _r(x.std()), "min": _r(x.min()), "max": _r(x.max())}
    if len(edges) < len(q):  # ties: the deciles themselves, for distances (else the edges)
        out["deciles"] = [_r(e) for e in q]
    return out


def _categorical(v: pd.Series) -> dict:
    counts = v.dropna().value_counts()
    n = max(int(counts.sum()), 1)
    top = counts.head(TOP)
    return {"values": [str(k) for k in top.index], "shares": [round(c / n, 5) for c in top],
            "other": round(float(counts.iloc[TOP:].sum()) / n, 5)}


def profile_kind(kind: Kind) -> str:
    """How the profile treats a schema kind: numbers, dates (as numbers) or categories."""
    if kind == Kind.NUMERIC:
        return "numeric"
    return "datetime" if kind == Kind.DATETIME else "categorical"


def build_reference(X: pd.DataFrame, schema: Schema, *, task: str, classes, y, oof,
                    metric_name: str, metric_direction: str, oof_score: float | None) -> dict:
    """The profile of the training rows ``X`` (the schema's columns) and of the final
    model's out-of-fold predictions ``oof`` against the encoded target ``y``."""
    columns = {}
    for c in schema.columns:
        if c.kind in _SKIP or c.name not in X.columns:
            continue
        kind = profile_kind(c.kind)
        v = column_values(X[c.name], kind)
        entry = {"kind": kind, "missing": round(float(v.isna().mean()), 5) if len(v) else 0.0}
        entry.update(_categorical(v) if kind == "categorical" else _numeric(v))
        columns[c.name] = entry
    ref = {"version": VERSION, "n_rows": len(X), "columns": columns,
           "metric": {"name": metric_name, "direction": metric_direction,
                      "oof_score": None if oof_score is None else float(oof_score)}}
    if oof is not None:
        oof = np.asarray(oof, dtype=float)
        scored = scored_rows(oof)  # one validation split scores only its own rows
        oof, y = oof[scored], np.asarray(y)[scored]
        ref["prediction"] = _prediction(task, classes, oof)
        if task != "regression":
            ref["calibration"] = _calibration(np.asarray(y, dtype=int), oof)
    return ref


def _prediction(task: str, classes, oof: np.ndarray) -> dict:
    if task == "regression":
        return {"kind": "numeric", **_numeric(pd.Series(oof))}
    labels = np.asarray([str(c) for c in classes])[oof.argmax(axis=1)]
    out = {"kind": "classes", "classes": [str(c) for c in classes],
           "label_shares": [round(float((labels == str(c)).mean()), 5) for c in classes]}
    score = oof[:, 1] if task == "binary" else oof.max(axis=1)
    out["score"] = _numeric(pd.Series(score))
    return out


def _calibration(y: np.ndarray, oof: np.ndarray) -> list[dict]:
    """Per class, the observed share of the class as a function of its predicted
    probability (isotonic regression on the out-of-fold predictions), at CURVE_POINTS."""
    from sklearn.isotonic import IsotonicRegression

    curves = []
    for k in range(oof.shape[1]):
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        iso.fit(oof[:, k], (y == k).astype(float))
        x = np.unique(np.quantile(oof[:, k], np.linspace(0, 1, CURVE_POINTS)))
        curves.append({"x": [_r(v) for v in x], "y": [_r(v) for v in iso.predict(x)]})
    return curves


def checked(data) -> dict | None:
    """The profile if it is well formed, else None (a damaged or crafted profile disables
    monitoring for the file; it never breaks loading or scoring)."""
    try:
        return _checked(data)
    except (TypeError, ValueError, KeyError, AttributeError):
        return None


def _finite_list(v, *, sorted_: bool = False, unit: bool = False) -> list[float]:
    if not isinstance(v, list) or len(v) > 10 * CURVE_POINTS:
        raise ValueError("not a short list")
    out = [float(x) for x in v]
    if not all(math.isfinite(x) and not isinstance(x, bool) for x in out):
        raise ValueError("not finite")
    if sorted_ and any(b < a for a, b in itertools.pairwise(out)):
        raise ValueError("not sorted")
    if unit and not all(0.0 <= x <= 1.0 for x in out):
        raise ValueError("not a share")
    return out


def _checked(data) -> dict:
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise ValueError("version")
    cols = data["columns"]
    if not isinstance(cols, dict) or len(cols) > MAX_COLUMNS:
        raise ValueError("columns")
    for name, c in cols.items():
        if c["kind"] not in ("numeric", "datetime", "categorical"):
            raise ValueError("kind")
        _finite_list([c["missing"]], unit=True)
        if c["kind"] == "categorical":
            if not all(isinstance(v, str) for v in c["values"]):
                raise ValueError("values")
            if len(_finite_list(c["shares"], unit=True)) != len(c["values"]):
                raise ValueError("shares")
            _finite_list([c["other"]], unit=True)
        else:
            edges = _finite_list(c["edges"], sorted_=True)
            if len(_finite_list(c["shares"], unit=True)) != len(edges) + 1:
                raise ValueError("bins")
        if not isinstance(name, str):
            raise ValueError("name")
    for curve in data.get("calibration") or []:
        if len(_finite_list(curve["x"], sorted_=True)) != len(_finite_list(curve["y"],
                                                                            unit=True)):
            raise ValueError("curve")
    if not isinstance(data.get("n_rows"), int) or data["n_rows"] < 0:
        raise ValueError("n_rows")
    return data


def background_rows(model, n: int = 100, seed: int = 0) -> pd.DataFrame | None:
    """``n`` rows drawn column by column from the profile (each column's training
    distribution; columns independent), standing for "an average row" when the training
    table is not at hand. None when the model file has no profile."""
    ref = getattr(model, "reference", None)
    if not ref:
        return None
    rng = np.random.default_rng(seed)
    out = {}
    for c in model.schema.columns:
        p = ref["columns"].get(c.name)
        if p is None:
            out[c.name] = [np.nan] * n
            continue
        miss = rng.random(n) < p["missing"]
        if p["kind"] == "categorical":
            values, shares = p["values"], np.asarray(p["shares"], dtype=float)
            if not values or shares.sum() <= 0:
                col = np.full(n, None, dtype=object)
            else:
                col = rng.choice(np.asarray(values, dtype=object), n, p=shares / shares.sum())
            col = pd.Series(col, dtype=object).where(~miss)
            out[c.name] = _as_dtype(col, c.dtype)
        else:
            col = _draw_numbers(p, n, rng)
            col[miss] = np.nan
            out[c.name] = (pd.to_datetime(col, unit="s", errors="coerce")
                           if p["kind"] == "datetime" else col)
    return pd.DataFrame(out)


def _draw_numbers(p: dict, n: int, rng) -> np.ndarray:
    """Values spread uniformly within the decile bins (the outer bins between the edges and
    the observed minimum and maximum)."""
    edges = p["edges"]
    if not edges or p.get("min") is None:
        return np.full(n, np.nan if p.get("mean") is None else float(p["mean"]))
    lo, hi = float(p["min"]), float(p["max"])
    bounds = np.asarray([min(lo, edges[0]), *edges, max(hi, edges[-1])], dtype=float)
    shares = np.asarray(p["shares"], dtype=float)
    b = rng.choice(len(shares), n, p=shares / shares.sum())
    return bounds[b] + rng.random(n) * (bounds[b + 1] - bounds[b])


def _as_dtype(col: pd.Series, dtype: str) -> pd.Series:
    """Text values of a column whose training dtype was a number or a boolean back in it
    (the profile keeps values as text)."""
    d = dtype.lower()
    if d.startswith(("int", "uint", "float")):
        return pd.to_numeric(col, errors="coerce")
    if d.startswith("bool"):
        return col.map({"True": True, "False": False})
    return col
