"""Describe a table before training: per-column summaries and plain-language warnings.

``profile_table`` only computes (DESIGN rule 2): it returns a ``Profile`` of numbers, chart
data (histogram edges and counts, bar labels and counts) and ``ProfileWarning`` objects; the
Data page draws them and the Train page offers ``suggested_drops``. Column statistics and the
duplicate count use every row; the leakage check, the one expensive part, uses at most
``sample_rows`` rows and the profile records how many.

Leakage is judged with a one-column lookup model (like a decision tree with one leaf per
value, or per quantile bin of about ten rows for numbers) fitted on one half of the sample and
scored on the other, both ways. Held-out scoring matters: an ID-like column fits the training
half perfectly but knows nothing about unseen rows, while a copy of the target scores ~100%
on both halves.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from automl.data.profile_checks import ProfileWarning, leak_findings, table_warnings
from automl.data.schema import Kind, Schema, infer_schema
from automl.errors import DataError
from automl.tasks import detect_task, find_target

__all__ = [
    "DROP_CODES",
    "Bars",
    "ColumnProfile",
    "Histogram",
    "Profile",
    "ProfileWarning",
    "profile_table",
    "suggested_drops",
]

TOP_VALUES = 5
BAR_VALUES = 20
HIST_BINS = 30
# The leakage lookup groups a number by its value when it has at most EXACT_VALUES distinct
# values, else by quantile bins of ~ROWS_PER_BIN sampled rows (at most MAX_BINS).
EXACT_VALUES = 100
ROWS_PER_BIN = 10
MAX_BINS = 1000
# Warnings whose columns the Train page offers to drop. Near-constant and high-cardinality
# columns are left to the user: a rare flag or a fine-grained category can be the signal.
DROP_CODES = ("id_like", "constant", "leakage", "mostly_missing")


@dataclass(frozen=True)
class Histogram:
    """``counts[i]`` values fall in ``[edges[i], edges[i+1])``; datetime edges for dates."""

    edges: np.ndarray
    counts: np.ndarray


@dataclass(frozen=True)
class Bars:
    """The most common values and their counts; the rest summed into a last "other" bar."""

    labels: list[str]
    counts: list[int]
    n_other_values: int = 0  # distinct values folded into the last bar (0: no such bar)


@dataclass(frozen=True)
class ColumnProfile:
    name: str
    kind: Kind
    dtype: str
    n_missing: int
    missing_share: float
    n_unique: int  # distinct non-missing values
    top_values: list[tuple[Any, int]]  # up to TOP_VALUES (value, count), most common first
    min: Any = None  # numbers, or Timestamps for dates
    max: Any = None
    mean: float | None = None
    std: float | None = None
    histogram: Histogram | None = None  # numeric and date columns
    bars: Bars | None = None  # categorical, boolean, text and ID columns


@dataclass
class Profile:
    n_rows: int
    n_columns: int
    columns: list[ColumnProfile]
    warnings: list[ProfileWarning]
    n_duplicate_rows: int  # rows equal to an earlier row (all columns, all rows)
    target: str | None = None
    task: str | None = None
    sample_rows: int = 0  # rows the leakage check looked at (0: no target, no check)
    leak_scores: dict[str, float] = field(default_factory=dict)  # held-out acc. or R²
    seconds: float = 0.0

    @property
    def duplicate_share(self) -> float:
        return self.n_duplicate_rows / self.n_rows if self.n_rows else 0.0

    def column(self, name: str) -> ColumnProfile:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def warnings_for(self, code: str) -> list[ProfileWarning]:
        return [w for w in self.warnings if w.code == code]

    def to_frame(self) -> pd.DataFrame:
        """One row per column, for a table view."""
        rows = [{"column": c.name, "kind": c.kind.value, "dtype": c.dtype,
                 "missing_share": c.missing_share, "n_unique": c.n_unique,
                 "top_values": ", ".join(f"{v} ({n})" for v, n in c.top_values),
                 "min": c.min, "max": c.max, "mean": c.mean, "std": c.std}
                for c in self.columns]
        return pd.DataFrame(rows)


def suggested_drops(profile: Profile) -> list[str]:
    """Columns flagged ID-like, constant, leaky or mostly missing, in table order."""
    flagged = {c for w in profile.warnings if w.code in DROP_CODES for c in w.columns}
    return [c.name for c in profile.columns if c.name in flagged]


def profile_table(frame: pd.DataFrame, schema: Schema | None = None, target: str | None = None,
                  *, sample_rows: int = 100_000, task: str = "auto") -> Profile:
    """Summarise every column and collect warnings; pass ``target`` for leakage and balance."""
    start = time.perf_counter()
    schema = schema or infer_schema(frame)
    if schema.names != [str(c) for c in frame.columns]:
        raise DataError("The schema passed to profile_table names other columns than the table "
                        "has. Pass the schema inferred from this table, or none to infer it.")
    if target is not None:
        target = find_target(frame.columns, target)
    columns, groups = [], []
    bins = min(MAX_BINS, max(2, min(len(frame), sample_rows) // ROWS_PER_BIN))
    for i, info in enumerate(schema.columns):
        col, grouping = _column(info.name, frame.iloc[:, i], info.kind, bins)
        columns.append(col)
        groups.append(grouping)
    n_dup = _count_duplicates(frame)
    found = table_warnings(columns, len(frame), n_dup, target)
    task_name, used, scores = None, 0, {}
    if target is not None:
        y = frame[target]
        task_name = detect_task(y) if task == "auto" else task
        leaks, used, scores = leak_findings(frame, columns, groups, target, task_name,
                                            sample_rows)
        found = leaks + found
    return Profile(len(frame), frame.shape[1], columns, found, n_dup, target, task_name, used,
                   scores, time.perf_counter() - start)


def _column(name: str, s: pd.Series, kind: Kind, bins: int) -> tuple[ColumnProfile, tuple]:
    """Statistics and chart data for one column, plus what the leakage check groups it by.

    The grouping is (codes, values) for text-like columns and (floats, edges, exact) for
    numbers and dates: their sorted values give the lookup's bins without a second sort.
    """
    n = len(s)
    dtype = s.dtype
    numbers, dates = None, False
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        numbers = s.to_numpy(dtype=float, na_value=np.nan)
    elif pd.api.types.is_datetime64_any_dtype(dtype) or kind is Kind.DATETIME:
        numbers, dates = _date_numbers(s), True
        if np.isnan(numbers).sum() > s.isna().sum() + 0.5 * s.notna().sum():
            numbers, dates = None, False  # mostly unparseable: show as values instead
    base = {"name": name, "kind": kind, "dtype": str(dtype)}
    if numbers is None:
        codes, uniques = pd.factorize(s)
        counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
        order = np.argsort(-counts, kind="stable")
        n_missing = int((codes < 0).sum())
        top = [(_plain(uniques[i]), int(counts[i])) for i in order[:TOP_VALUES]]
        labels = [str(uniques[i]) for i in order[:BAR_VALUES]]
        shown = [int(counts[i]) for i in order[:BAR_VALUES]]
        rest = len(uniques) - len(labels)
        if rest:
            labels.append(f"other ({rest} values)")
            shown.append(int(counts[order[BAR_VALUES:]].sum()))
        share = n_missing / n if n else 0.0
        return ColumnProfile(**base, n_missing=n_missing, missing_share=share,
                             n_unique=len(uniques), top_values=top,
                             bars=Bars(labels, shown, rest)), (codes, uniques)
    present = np.sort(numbers[~np.isnan(numbers)])
    n_missing = n - len(present)
    starts = np.flatnonzero(np.r_[True, present[1:] != present[:-1]]) if len(present) else []
    counts = np.diff(np.r_[starts, len(present)]).astype(int)
    order = np.argsort(-counts, kind="stable")[:TOP_VALUES]
    as_value = _date_value if dates else _number_value(dtype)
    top = [(as_value(present[starts[i]]), int(counts[i])) for i in order]
    finite = present[np.isfinite(present)]
    stats: dict[str, Any] = {}
    if len(finite):
        n_bars = min(HIST_BINS, len(np.unique(finite[:: max(1, len(finite) // 1000)])))
        hist, edges = np.histogram(finite, bins=max(n_bars, 1))
        if dates:
            edges = edges.astype("int64").astype("datetime64[ns]")
        stats = {"min": as_value(finite[0]), "max": as_value(finite[-1]),
                 "histogram": Histogram(edges, hist)}
        if not dates:
            stats |= {"mean": float(finite.mean()),
                      "std": float(finite.std(ddof=1)) if len(finite) > 1 else 0.0}
    share = n_missing / n if n else 0.0
    profile = ColumnProfile(**base, n_missing=n_missing, missing_share=share,
                            n_unique=len(starts), top_values=top, **stats)
    return profile, (numbers, *_edges(present, starts, bins))


def _edges(present: np.ndarray, starts, bins: int) -> tuple[np.ndarray, bool]:
    """The distinct values when there are few (exact), else quantile bin edges."""
    if len(starts) <= EXACT_VALUES:
        return present[starts], True
    at = np.linspace(0, len(present) - 1, bins + 1)[1:-1].astype(int)
    return np.unique(present[at]), False


def _date_numbers(s: pd.Series) -> np.ndarray:
    """Dates as float nanoseconds since 1970 (NaN where missing or unparseable)."""
    if not pd.api.types.is_datetime64_any_dtype(s.dtype):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s = pd.to_datetime(s, errors="coerce")
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_convert(None)
    ns = s.astype("datetime64[ns]")
    out = ns.to_numpy().view("int64").astype(float)
    out[ns.isna().to_numpy()] = np.nan
    return out


def _date_value(x: float) -> pd.Timestamp:
    return pd.Timestamp(int(x))


def _number_value(dtype):
    integer = pd.api.types.is_integer_dtype(dtype)
    return lambda x: int(x) if integer and np.isfinite(x) else float(x)


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


def _count_duplicates(frame: pd.DataFrame) -> int:
    """Exact count of repeated rows; a row hash narrows the exact comparison to candidates."""
    if frame.shape[1] == 0 or len(frame) < 2:
        return 0
    try:
        hashes = pd.util.hash_pandas_object(frame, index=False)
    except TypeError:  # unhashable cells such as lists: compare their text
        frame = frame.astype(str)
        hashes = pd.util.hash_pandas_object(frame, index=False)
    candidates = hashes.duplicated(keep=False).to_numpy()
    if not candidates.any():
        return 0
    return int(frame[candidates].duplicated().sum())
