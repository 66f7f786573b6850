"""Per-column drift of new data against the reference profile, one test per column.

The test follows the column's kind and the new sample's size, as Evidently chooses its
defaults: numbers (and dates) with at most 1,000 new values get the two-sample
Kolmogorov-Smirnov test (drift when p < 0.05), larger samples the Wasserstein distance in units
of the training standard deviation (drift above 0.1); categories get Pearson's chi-squared
test for small samples (p < 0.05) and the Jensen-Shannon distance for large ones (above 0.1).
Large samples get distances rather than p-values because with tens of thousands of rows every
p-value is tiny for a change nobody would care about.

The reference is a binned profile, not rows, so the tests are computed on its bins: the KS
statistic is the largest CDF gap at the decile edges (a lower bound of the exact one, so the
test errs towards no alarm), the Wasserstein distance is the mean gap between the two
samples' deciles. PSI (population stability index) over the same bins plus a "missing" bin is
reported for every column. A column whose share of blanks moves by more than 0.1 counts as
drifted whatever its test says.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

from automl.monitor.reference import bin_shares

__all__ = ["MISSING_SHIFT", "SMALL_SAMPLE", "ColumnDrift", "column_drift", "psi"]

SMALL_SAMPLE = 1_000
P_VALUE = 0.05
DISTANCE = 0.1
MISSING_SHIFT = 0.1
_EPS = 1e-4


@dataclass(frozen=True)
class ColumnDrift:
    """One column's drift: the test, its statistic (a p-value's test statistic or a
    distance), the p-value where there is one, the threshold, and the bins compared (for
    charts: labels, reference shares, new shares)."""

    name: str
    kind: str
    test: str
    statistic: float
    p_value: float | None
    threshold: float
    drifted: bool
    psi: float
    missing_reference: float
    missing_new: float
    n_new: int
    labels: tuple[str, ...]
    reference_shares: tuple[float, ...]
    new_shares: tuple[float, ...]
    note: str | None = None

    def to_json(self) -> dict:
        return {"name": self.name, "kind": self.kind, "test": self.test,
                "statistic": _finite(self.statistic), "p_value": _finite(self.p_value),
                "threshold": self.threshold, "drifted": self.drifted, "psi": _finite(self.psi),
                "missing_reference": self.missing_reference, "missing_new": self.missing_new,
                "n_new": self.n_new, "note": self.note}


def _finite(x):
    return None if x is None or not math.isfinite(x) else float(x)


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of two share vectors over the same bins."""
    e = np.clip(np.asarray(expected, dtype=float), _EPS, None)
    a = np.clip(np.asarray(actual, dtype=float), _EPS, None)
    e, a = e / e.sum(), a / a.sum()
    return float(np.sum((a - e) * np.log(a / e)))


def column_drift(name: str, ref: dict, values: pd.Series, n_reference: int) -> ColumnDrift:
    """Drift of ``values`` (the column as :func:`~automl.monitor.reference.column_values`
    gives it) against the column's profile ``ref``."""
    miss_new = float(values.isna().mean()) if len(values) else 0.0
    present = values.dropna()
    if ref["kind"] == "categorical":
        out = _categorical(name, ref, present.astype(str), n_reference)
    else:
        x = present.to_numpy(dtype=float)
        out = _numeric(name, ref, x[np.isfinite(x)], n_reference)
    test, stat, p, threshold, drifted, labels, r, a = out
    miss_ref = float(ref["missing"])
    note = None
    if abs(miss_new - miss_ref) > MISSING_SHIFT:
        drifted = True
        note = f"blanks {miss_ref:.0%} in training, {miss_new:.0%} now"
    if not len(present) and len(values):
        note = "every value is blank"
    index = psi(np.append(np.asarray(r) * (1 - miss_ref), miss_ref),
                np.append(np.asarray(a) * (1 - miss_new), miss_new))
    return ColumnDrift(name, ref["kind"], test, stat, p, threshold, bool(drifted), index,
                       miss_ref, miss_new, len(values), tuple(labels),
                       tuple(float(v) for v in r), tuple(float(v) for v in a), note)


def _numeric(name, ref, x: np.ndarray, n_ref: int):
    edges = list(ref["edges"])
    r = np.asarray(ref["shares"], dtype=float)
    a = bin_shares(x, edges)
    labels = _bin_labels(edges)
    if not len(x):
        return "none", 0.0, None, 0.0, False, labels, r, a
    if len(x) <= SMALL_SAMPLE:
        gap = float(np.max(np.abs(np.cumsum(r)[:-1] - np.cumsum(a)[:-1]))) if edges else 0.0
        n = n_ref * len(x) / max(n_ref + len(x), 1)
        p = float(stats.kstwobign.sf(gap * math.sqrt(n))) if n > 0 else 1.0
        return "ks", gap, p, P_VALUE, p < P_VALUE, labels, r, a
    u = np.linspace(0, 1, 11)[1:-1]
    q_ref = np.asarray(ref.get("deciles") or edges, dtype=float)
    if len(q_ref) != len(u):  # a profile without deciles: compare at the edges' own ranks
        u = np.cumsum(r)[:-1]
    q_new = np.quantile(x, u)
    scale = float(ref.get("std") or 0.0)
    gap = float(np.mean(np.abs(q_new - q_ref)))
    dist = gap / scale if scale > 0 else (0.0 if gap == 0 else math.inf)
    return "wasserstein", dist, None, DISTANCE, dist > DISTANCE, labels, r, a


def _categorical(name, ref, s: pd.Series, n_ref: int):
    values = list(ref["values"])
    shares = np.asarray(ref["shares"] + [ref["other"]], dtype=float)
    labels = [*values, "(other)"]
    pos = {v: i for i, v in enumerate(values)}
    idx = s.map(pos).fillna(len(values)).to_numpy(dtype=int)
    counts = np.bincount(idx, minlength=len(labels)).astype(float)
    a = counts / counts.sum() if counts.sum() else counts
    if not len(s):
        return "none", 0.0, None, 0.0, False, labels, shares, a
    if len(s) <= SMALL_SAMPLE:
        stat, p = _chi_squared(counts, shares)
        return "chi_squared", float(stat), float(p), P_VALUE, p < P_VALUE, labels, shares, a
    dist = float(jensenshannon(np.clip(shares, 0, None), a))
    dist = 0.0 if not math.isfinite(dist) else dist
    return "jensen_shannon", dist, None, DISTANCE, dist > DISTANCE, labels, shares, a


def _chi_squared(counts: np.ndarray, shares: np.ndarray) -> tuple[float, float]:
    """Pearson's goodness of fit of the new counts to the training shares, with the cells
    expected to hold fewer than 5 values pooled into one (the test's usual condition)."""
    expected = np.clip(shares, _EPS, None)
    expected = expected / expected.sum() * counts.sum()
    small = expected < 5
    if small.any() and not small.all():
        counts = np.append(counts[~small], counts[small].sum())
        expected = np.append(expected[~small], expected[small].sum())
    if len(counts) < 2:
        return 0.0, 1.0
    stat, p = stats.chisquare(counts, expected)
    return float(stat), float(p)


def _bin_labels(edges: list[float]) -> list[str]:
    if not edges:
        return ["all"]
    out = [f"≤ {edges[0]:.4g}"]
    out += [f"{a:.4g} – {b:.4g}" for a, b in itertools.pairwise(edges)]
    return [*out, f"> {edges[-1]:.4g}"]
