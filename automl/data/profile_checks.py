"""The warnings of a table profile, each in words a non-expert can act on.

Split from ``automl.data.profile`` (which re-exports ``ProfileWarning``) to keep both short.
Thresholds are module constants so pages and docs can quote them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from automl.data.schema import Kind

__all__ = ["ProfileWarning", "leak_findings", "table_warnings"]

NEAR_CONSTANT_SHARE = 0.99  # one value in at least this share of all rows
HIGH_CARDINALITY_LEVELS = 50  # a categorical with more distinct values than this...
HIGH_CARDINALITY_SHARE = 0.5  # ...or distinct in more than half its rows (and >= 10 values)
MOSTLY_MISSING_SHARE = 0.5
IMBALANCE_SHARE = 0.10  # rarest class below min(10%, half an even share)...
IMBALANCE_RATIO = 10.0  # ...or largest class more than 10x the rarest
LEAK_ACCURACY = 0.99  # held-out accuracy of a one-column lookup model...
LEAK_ERROR_CUT = 0.2  # ...making at most 20% of the errors of guessing the common class
LEAK_R2 = 0.99  # held-out R², |Pearson| or |rank correlation| for a numeric target
MIN_LEAK_ROWS = 20
_DENSE_CELLS = 1 << 22


@dataclass(frozen=True)
class ProfileWarning:
    """One finding for a person: what is wrong, in plain words, and what to do about it."""

    code: str  # id_like constant near_constant high_cardinality leakage imbalance duplicates
    #            mostly_missing dates
    columns: tuple[str, ...]
    message: str
    action: str
    severity: str  # "high": fix before training; "medium": likely to hurt; "low": good to know


def _names(cols) -> str:
    shown = [repr(c) for c in cols[:8]] + ([f"{len(cols) - 8} more"] if len(cols) > 8 else [])
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _many_values(c, n_rows: int) -> bool:
    present = n_rows - c.n_missing
    return c.n_unique > HIGH_CARDINALITY_LEVELS or (
        c.n_unique >= 10 and c.n_unique > HIGH_CARDINALITY_SHARE * present)


def table_warnings(columns, n_rows: int, n_duplicates: int, target) -> list[ProfileWarning]:
    """Column-level and row-level findings; the target column itself is never flagged."""
    cols = [c for c in columns if c.name != target]
    ids = [c.name for c in cols if c.kind is Kind.ID]
    const = [c.name for c in cols if c.n_unique + (c.n_missing > 0) <= 1]
    near = [c.name for c in cols if c.name not in const and c.top_values
            and c.top_values[0][1] >= NEAR_CONSTANT_SHARE * n_rows]
    high = [c.name for c in cols if c.kind is Kind.CATEGORICAL and _many_values(c, n_rows)]
    missing = [c for c in cols if c.missing_share >= MOSTLY_MISSING_SHARE]
    dates = [c.name for c in cols if c.kind is Kind.DATETIME]
    out = []
    if ids:
        out.append(ProfileWarning(
            "id_like", tuple(ids),
            f"{_names(ids)} look like row identifiers (a different value in nearly every row, "
            "such as a customer number). They say which row it is, not anything about it, so a "
            "model cannot learn from them and may memorise noise.",
            "Drop them (they are left out of training automatically).", "medium"))
    if const:
        out.append(ProfileWarning(
            "constant", tuple(const),
            f"{_names(const)} hold the same value in every row, so they cannot help tell rows "
            "apart.", "Drop them.", "medium"))
    if near:
        out.append(ProfileWarning(
            "near_constant", tuple(near),
            f"{_names(near)} hold one value in at least {NEAR_CONSTANT_SHARE:.0%} of rows. "
            "They carry little information, unless the rare values are exactly what matters "
            "(a rare flag such as 'fraud confirmed').",
            "Keep them if the rare values are meaningful; otherwise drop them.", "low"))
    if high:
        out.append(ProfileWarning(
            "high_cardinality", tuple(high),
            f"{_names(high)} are categories with many distinct values (more than "
            f"{HIGH_CARDINALITY_LEVELS}, or different in most rows). Each value has few rows "
            "to learn from, which makes models slow and prone to memorising.",
            "Group rare values into broader ones (e.g. city -> region), or drop the column if "
            "it is a free-form label.", "low"))
    if missing:
        shares = ", ".join(f"{c.name!r} {c.missing_share:.0%}" for c in missing[:8])
        out.append(ProfileWarning(
            "mostly_missing", tuple(c.name for c in missing),
            f"These columns are mostly empty ({shares} missing). Missing values are filled in "
            "with a typical value before training, and with so little real data that guess "
            "dominates the column.",
            "Drop them, unless 'is it missing?' itself is meaningful (for example no second "
            "phone number).", "medium"))
    if n_duplicates:
        out.append(ProfileWarning(
            "duplicates", (),
            f"{n_duplicates} rows ({n_duplicates / n_rows:.1%}) are exact copies of an earlier "
            "row. A copy can land in both the training and the validation part, which makes "
            "scores look better than they will be on new data.",
            "Remove the duplicates if they are repeated entries; keep them if they are "
            "genuinely repeated observations.", "low"))
    if dates:
        out.append(ProfileWarning(
            "dates", tuple(dates),
            f"{_names(dates)} hold dates. Models cannot use a date as it is, so each is turned "
            "into parts such as year, month, day of month and day of week. If rows are in time "
            "order and you will predict later events, a random split lets the model peek at "
            "the future and scores look better than they will be.",
            "Keep dates whose parts can matter (seasons, weekdays); for time-ordered data "
            "validate on the most recent rows (a time-based split).", "low"))
    return out


def leak_findings(frame: pd.DataFrame, columns, groups: list, target: str, task: str,
                  sample_rows: int) -> tuple[list[ProfileWarning], int, dict]:
    """Imbalance (all rows) and leakage (a sample): warnings, rows sampled, per-column scores.

    ``groups[i]`` is column i's grouping from the profile: (codes, values) or (floats,
    edges, exact). The sample is split in two halves once; each column's lookup model is
    fitted on one half and scored on the other, both ways.
    """
    y_all = frame[target]
    out = [] if task == "regression" else _imbalance(y_all.value_counts(), target)
    rng = np.random.default_rng(0)
    rows = np.flatnonzero(y_all.notna().to_numpy())
    if len(rows) > sample_rows:
        rows = np.sort(rng.choice(rows, sample_rows, replace=False))
    classes = y_rank = None
    if task == "regression":
        y = pd.to_numeric(y_all.iloc[rows], errors="coerce").to_numpy(dtype=float)
        rows, y = rows[np.isfinite(y)], y[np.isfinite(y)]
        y_sorted = np.sort(y)
        y_rank = np.searchsorted(y_sorted[np.linspace(0, len(y) - 1, 101)[1:-1].astype(int)], y)
    else:
        y, classes = pd.factorize(y_all.iloc[rows])
    if len(rows) < MIN_LEAK_ROWS or len(np.unique(y)) < 2:
        return out, len(rows), {}
    order = rng.permutation(len(rows))
    a, b = order[: len(order) // 2], order[len(order) // 2:]
    folds = [(tr, te, y[tr], y[te]) for tr, te in ((a, b), (b, a))]
    scores = {}
    for i, col in enumerate(columns):
        if col.kind is Kind.ID or frame.columns[i] == target:
            continue
        x = None
        if len(groups[i]) == 2:
            codes, uniques = groups[i]
            g = codes[rows]
            g[g < 0] = len(uniques)
        else:
            numbers, edges, exact = groups[i]
            x = numbers[rows]
            g = np.searchsorted(edges, x, side="left" if exact else "right")
            g[np.isnan(x)] = len(edges) + 1
            uniques = edges if exact else None
        if classes is not None:
            score, warning = _classification_leak(col.name, target, g, uniques, y, classes, folds)
        else:
            score, warning = _regression_leak(col.name, target, g, x, y, y_rank, folds)
        scores[col.name] = score
        out += [warning] if warning else []
    return out, len(rows), scores


def _classification_leak(name, target, g, uniques, y, classes, folds):
    k, n_groups = len(classes), int(g.max()) + 1
    if uniques is not None and n_groups * k <= _DENSE_CELLS and np.count_nonzero(
            np.bincount(g)) == k:
        seen = np.bincount(g * k + y, minlength=n_groups * k).reshape(n_groups, k) > 0
        if seen.sum() == k and seen.any(0).all():  # each value goes with one class, and back
            pairs = np.argwhere(seen)
            same = all(_equal(uniques[v], classes[c]) for v, c in pairs)
            v, c = pairs[0]
            return 1.0, _leak(name, target, "copy" if same else "recoding", uniques[v],
                              classes[c])
    correct = base = 0
    for tr, te, y_tr, y_te in folds:
        majority = np.bincount(y_tr, minlength=k).argmax()
        pred = _majority_per_group(g[tr], y_tr, n_groups, k, majority)
        correct += int((pred[g[te]] == y_te).sum())
        base += int((y_te == majority).sum())
    acc, base = correct / len(y), base / len(y)
    if acc >= LEAK_ACCURACY and 1 - acc <= LEAK_ERROR_CUT * (1 - base):
        return acc, _leak(name, target, "predicts", acc, base)
    return acc, None


def _majority_per_group(g, y, n_groups, k, default):
    if n_groups * k <= _DENSE_CELLS:
        table = np.bincount(g * k + y, minlength=n_groups * k).reshape(n_groups, k)
        return np.where(table.sum(1) > 0, table.argmax(1), default)
    keys, counts = np.unique(g.astype(np.int64) * k + y, return_counts=True)
    groups, cls = keys // k, keys % k
    order = np.lexsort((-counts, groups))
    first = order[np.r_[True, groups[order][1:] != groups[order][:-1]]]
    pred = np.full(n_groups, default)
    pred[groups[first]] = cls[first]
    return pred


def _regression_leak(name, target, g, x, y, y_rank, folds):
    if x is not None and np.array_equal(x, y):
        return 1.0, _leak(name, target, "copy", None, None)
    sse, n_groups = 0.0, int(g.max()) + 1
    for tr, te, y_tr, y_te in folds:
        sums = np.bincount(g[tr], weights=y_tr, minlength=n_groups)
        counts = np.bincount(g[tr], minlength=n_groups)
        means = np.where(counts > 0, sums / np.maximum(counts, 1), y_tr.mean())
        sse += float(((y_te - means[g[te]]) ** 2).sum())
    total = float(((y - y.mean()) ** 2).sum())
    score = 1 - sse / total if total else 0.0
    if x is not None:
        ok = np.isfinite(x)
        score = max(score, abs(_corr(x[ok], y[ok])), abs(_corr(g[ok], y_rank[ok])))
    return score, _leak(name, target, "explains", score, None) if score >= LEAK_R2 else None


def _corr(a, b) -> float:
    if len(a) < 3 or a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def _equal(a, b) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def _leak(name, target, how, a, b) -> ProfileWarning:
    why = ("A model would read the answer from it: it would look perfect in testing and be "
           "useless on new data, where the answer is not known yet.")
    if how == "copy":
        msg = f"{name!r} is an exact copy of the target {target!r}. {why}"
    elif how == "recoding":
        msg = (f"{name!r} is the target {target!r} written another way: each of its values "
               f"always goes with one target value (for example {a!r} means {b!r}). {why}")
    elif how == "predicts":
        msg = (f"{name!r} on its own predicts {target!r} correctly for {a:.1%} of rows it was "
               f"not fitted on (always guessing the most common class: {b:.1%}). One column "
               "this telling is usually filled in after the outcome is known, or computed "
               "from it (leakage), so scores would be too good to be true.")
    else:
        msg = (f"{name!r} on its own explains {a:.1%} of the variation in {target!r} on rows "
               "it was not fitted on. One column this telling is usually computed from the "
               "outcome or recorded after it (leakage), so scores would be too good to be true.")
    action = (f"Drop {name!r}, unless you are sure its value is known at the moment you will "
              "make predictions.")
    return ProfileWarning("leakage", (name,), msg, action, "high")


def _imbalance(counts: pd.Series, target: str) -> list[ProfileWarning]:
    if len(counts) < 2:
        return []
    share = counts.iloc[-1] / counts.sum()
    ratio = counts.iloc[0] / counts.iloc[-1]
    if share >= min(IMBALANCE_SHARE, 0.5 / len(counts)) and ratio <= IMBALANCE_RATIO:
        return []
    return [ProfileWarning(
        "imbalance", (target,),
        f"The target {target!r} is imbalanced: its rarest class {counts.index[-1]!r} is "
        f"{share:.1%} of rows ({counts.iloc[-1]}), its largest {counts.index[0]!r} is "
        f"{ratio:.0f} times as common. A model can look accurate by mostly predicting the "
        "common class while missing the rare one, often the one that matters.",
        "Judge models by a measure that treats classes fairly (ROC AUC, F1 or balanced "
        "accuracy rather than plain accuracy); more examples of the rare class help most.",
        "medium")]
