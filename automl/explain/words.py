"""Explanations said in plain words, generated from the numbers of an
:class:`~automl.explain.Explanation`: which columns matter, in which direction, and why one
row gets its prediction. No plotting and no Streamlit: every function returns text.

Units follow the explanation: a classifier's contributions are probability points
("+23 points", predictions "74%"), a regressor's are the target's own units ("+2.3").
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from automl.explain.explanation import Explanation

__all__ = ["amount", "category_effects", "change_summary", "changed_columns", "column_kind",
           "column_numbers", "dependence_summary", "global_summary", "level", "row_summary",
           "rows_used", "subject", "value_text"]

MINUS = "−"  # a real minus sign reads better than a hyphen in "−5 points"
_SOME = 1e-12  # contributions smaller than this count as none


# --- numbers and values ----------------------------------------------------------------------

def _num(x: float, sig: int = 2) -> str:
    """``x`` to ``sig`` significant digits, never in scientific notation and without
    trailing zeros: 23.4 -> "23", 2.34 -> "2.3", 3.01 -> "3", 0.0042 -> "0.0042",
    1234.5 -> "1,234" (whole numbers from 100 up)."""
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    if x == 0:
        return "0"
    rounded = float(f"{x:.{sig}g}")
    if abs(rounded) >= 100 or abs(x) >= 100:
        return f"{x:,.0f}"
    decimals = max(0, sig - 1 - math.floor(math.log10(abs(rounded))))
    text = f"{rounded:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _signed(text: str, x: float) -> str:
    return (MINUS if x < 0 else "+") + text


def amount(e: Explanation, x: float, signed: bool = False) -> str:
    """A contribution or a difference: "23 points" (probabilities) or "2.3" (values);
    with ``signed`` "+23 points" / "−23 points"."""
    text = f"{_num(abs(x) * 100)} points" if e.units == "probability" else _num(abs(x))
    return _signed(text, x) if signed else text


def level(e: Explanation, x: float) -> str:
    """A prediction: "74%", "2.7%", "99.5%", "under 0.01%" for a probability; "8.97" for a
    value."""
    if e.units != "probability":
        return _num(x, 3)
    pct = float(x) * 100
    if pct < 0.01:
        return "under 0.01%"
    if pct > 99.99:
        return "over 99.99%"
    if 10 <= pct <= 99:
        return f"{pct:.0f}%"
    if pct < 10:
        return f"{_num(pct, 2)}%"
    rest = float(f"{100 - pct:.1g}")  # 99.5 -> 0.5, 99.98 -> 0.02: as many decimals as needed
    decimals = max(1, -math.floor(math.log10(rest))) if rest > 0 else 2
    return f"{pct:.{decimals}f}%"


def value_text(v) -> str:
    """A cell as a person writes it: 120 (not 120.0), 299.4, 2024-01-31, "missing"."""
    if v is None or (not isinstance(v, str) and pd.api.types.is_scalar(v) and pd.isna(v)):
        return "missing"
    if isinstance(v, bool | np.bool_):
        return str(bool(v))
    if isinstance(v, pd.Timestamp):
        return v.isoformat() if v != v.normalize() else v.date().isoformat()
    if isinstance(v, int | np.integer):
        return f"{int(v)}"
    if isinstance(v, float | np.floating):
        v = float(v)
        if v.is_integer() and abs(v) < 1e15:
            return f"{int(v)}"
        return f"{v:,.0f}" if abs(v) >= 10_000 else f"{v:.4g}"
    text = str(v)
    return text if len(text) <= 40 else text[:39] + "…"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


# --- what an output is -----------------------------------------------------------------------

def _class_of(e: Explanation, k: int):
    if e.task == "binary" and len(e.classes) == 2:
        return e.classes[1]
    if e.task == "multiclass" and k < len(e.classes):
        return e.classes[k]
    name = e.outputs[k]  # "P(target = class)"
    return name.split(" = ", 1)[1].rstrip(")") if " = " in name else name


def subject(e: Explanation, output: int | str | None = None) -> str:
    """What the contributions move: "the predicted chance of churn = yes", "the predicted
    wage"; a multiclass model with ``output=None``: "the predicted class probabilities"."""
    if e.units != "probability":
        return f"the predicted {e.target}"
    if output is None and len(e.outputs) > 1:
        return "the predicted class probabilities"
    return f"the predicted chance of {e.target} = {_class_of(e, e.output_index(output))}"


def _prediction_phrase(e: Explanation, k: int, x: float) -> str:
    if e.units != "probability":
        return f"{e.target} = {level(e, x)}"
    what, lvl = f"{e.target} = {_class_of(e, k)}", level(e, x)
    if lvl.startswith("under"):
        return f"almost no chance of {what} ({lvl})"
    if lvl.startswith("over"):
        return f"{what} almost certainly ({lvl})"
    return f"a {lvl} chance of {what}"


def _verb(x: float) -> str:
    return "raises" if x > _SOME else "lowers" if x < -_SOME else "does not change"


# --- columns ---------------------------------------------------------------------------------

def column_kind(e: Explanation, column: str) -> str:
    """How a column is described and drawn: "numeric", "date" or "category" (text, booleans
    and anything else)."""
    s = e.data[column]
    if pd.api.types.is_bool_dtype(s):
        return "category"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "date"
    if pd.api.types.is_numeric_dtype(s):
        return "numeric"
    return "category"


def _min_rows(n: int) -> int:
    """Rows a category needs before a sentence quotes it (1 for tiny samples, 5 for big)."""
    return max(1, min(5, n // 100))


def category_effects(e: Explanation, column: str, output: int | str | None = None) -> pd.DataFrame:
    """Per value of ``column``: ``value`` (as text), ``rows`` and the ``mean`` contribution,
    largest mean first. Missing values form one group called "missing"."""
    frame = e.column(column, output)
    labels = frame["value"].map(value_text)
    out = (frame.assign(value=labels).groupby("value", sort=False)["contribution"]
           .agg(rows="size", mean="mean").reset_index())
    return out.sort_values(["mean", "rows"], ascending=[False, False], kind="stable") \
        .reset_index(drop=True)


def column_numbers(e: Explanation, column: str) -> pd.Series:
    """A numeric or date column's values as floats (dates as nanoseconds), NaN if missing."""
    s = e.data[column]
    if column_kind(e, column) == "date":
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_convert(None)
        stamps = s.to_numpy(dtype="datetime64[ns]")
        ns = stamps.astype("int64").astype(float)
        ns[np.isnat(stamps)] = np.nan
        return pd.Series(ns, index=s.index)
    return pd.to_numeric(s, errors="coerce").astype(float)


def _quantile_text(e: Explanation, column: str, q: float) -> str:
    if column_kind(e, column) == "date":
        return value_text(pd.Timestamp(int(q)))
    return value_text(float(q))


def _direction(e: Explanation, column: str, k: int) -> str:
    """One sentence on which values of ``column`` raise or lower the output ``k``."""
    subj = subject(e, k)
    if column_kind(e, column) == "category":
        return _category_direction(e, column, k, subj)
    x = column_numbers(e, column).to_numpy()
    c = e.values[:, e.columns.index(column), k]
    known = np.isfinite(x)
    missing = ""
    if (~known).sum() >= _min_rows(e.n_rows) and (~known).any():
        m = float(c[~known].mean())
        missing = (f" Missing {column} {_verb(m)} it"
                   + (f" by {amount(e, m)} on average." if abs(m) > _SOME else "."))
    x, c = x[known], c[known]
    if len(np.unique(x)) < 2 or np.ptp(c) <= _SOME:
        return (f"{column} barely changes {subj} across the explained rows." + missing
                if len(x) else f"{column} is missing in every explained row." + missing)
    r = _spearman(x, c)
    later = "Later" if column_kind(e, column) == "date" else "Higher"
    lo_q, hi_q = np.quantile(x, 0.1, method="lower"), np.quantile(x, 0.9, method="higher")
    lo, hi = c[x <= lo_q], c[x >= hi_q]
    ends = (f"rows with the lowest values (up to {_quantile_text(e, column, lo_q)}) get "
            f"{amount(e, float(lo.mean()), signed=True)} on average, rows with the highest "
            f"(from {_quantile_text(e, column, hi_q)}) {amount(e, float(hi.mean()), signed=True)}")
    if abs(r) >= 0.3 and lo_q < hi_q:
        return f"{later} {column} {'raises' if r > 0 else 'lowers'} {subj}: {ends}." + missing
    return (f"{column} has no simple direction: its contributions to {subj} range from "
            f"{amount(e, float(c.min()), signed=True)} to {amount(e, float(c.max()), signed=True)} "
            "and go up and down across its values." + missing)


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    rx, ry = pd.Series(x).rank().to_numpy(), pd.Series(y).rank().to_numpy()
    if rx.std() == 0 or ry.std() == 0:
        return 0.0
    return float(np.corrcoef(rx, ry)[0, 1])


def _category_direction(e: Explanation, column: str, k: int, subj: str) -> str:
    eff = category_effects(e, column, k)
    if len(eff) == 1:
        return f"Every explained row has {column} = {eff['value'].iloc[0]}."
    common = eff[eff["rows"] >= _min_rows(e.n_rows)]
    eff = common if len(common) >= 2 else eff  # rare values are quoted only when all are
    hi, lo = eff.iloc[0], eff.iloc[-1]

    def part(row, pronoun: str) -> str:
        how = f" by {amount(e, row['mean'])}" if abs(row["mean"]) > _SOME else ""
        return (f"{column} = {row['value']} {_verb(row['mean'])} {pronoun}{how} "
                f"({_count(int(row['rows']), 'row')})")

    return f"On average, {part(hi, subj)}, and {part(lo, 'it')}."


def _top_output(e: Explanation, column: str) -> int:
    j = e.columns.index(column)
    return int(np.abs(e.values[:, j, :]).mean(axis=0).argmax())


# --- the summaries ---------------------------------------------------------------------------

def global_summary(e: Explanation, output: int | str | None = None, top: int = 3) -> list[str]:
    """Sentences about the whole table: the most important column and by how much it moves
    the prediction, the next ``top - 1`` columns, the direction of the first, and the columns
    that do not matter at all. A multiclass model with ``output=None`` sums its classes."""
    if e.n_rows == 0 or not e.columns:
        return ["No rows were explained."]
    imp = e.importance(output)
    subj = subject(e, output)
    k = e.output_index(output)
    if imp.iloc[0] <= _SOME:
        base = e.base[k]
        return [f"No column changes {subj}: the model predicts {level(e, base)} for every "
                "explained row."]
    first = imp.index[0]
    summed = f" (summed over the {len(e.outputs)} classes)" if subj.endswith("probabilities") \
        else ""
    out = [f"{first} matters most: on average it moves {subj} by "
           f"{amount(e, imp.iloc[0])}{summed}."]
    rest = [f"{c} ({amount(e, v)})" for c, v in imp.iloc[1:max(top, 1)].items() if v > _SOME]
    if rest:
        out.append(f"Then come {_join(rest)}." if len(rest) > 1 else f"Then comes {rest[0]}.")
    if output is None and len(e.outputs) > 1:
        k = _top_output(e, first)
        out.append(f"It matters most for {e.outputs[k]}. " + _direction(e, first, k))
    else:
        out.append(_direction(e, first, k))
    idle = [c for c, v in imp.items() if v <= _SOME]
    if idle:
        names = _join(idle[:5] + ([f"{len(idle) - 5} more"] if len(idle) > 5 else []))
        out.append(f"{_count(len(idle), 'column')} {'do' if len(idle) > 1 else 'does'} not "
                   f"change the prediction of any explained row: {names}.")
    return out


def dependence_summary(e: Explanation, column: str, output: int | str | None = None) -> str:
    """How ``column`` moves the output: its rank among the columns, its average size and its
    direction (higher values raise or lower it; which categories raise or lower it)."""
    k = e.output_index(output)
    imp = e.importance(k)
    rank = list(imp.index).index(column) + 1
    which = "the most important" if rank == 1 else f"the {_ordinal(rank)} most important"
    return (f"{column} is {which} of {len(imp)} columns: on average it moves {subject(e, k)} "
            f"by {amount(e, imp[column])}. " + _direction(e, column, k))


def row_summary(e: Explanation, i: int = 0, output: int | str | None = None, top: int = 3) -> str:
    """Why row ``i`` (by position) gets its prediction: the prediction against the average
    prediction (the base value), the (up to ``top``) columns that push it that way (each at
    least a tenth of the largest) and up to two that pull the other way."""
    k = e.output_index(output)
    pred, base = float(e.prediction[i, k]), float(e.base[k])
    text = (f"The model predicts {_prediction_phrase(e, k, pred)} for this row, against "
            f"{level(e, base)} on average.")
    row = e.row(i, k)
    delta = pred - base
    biggest = float(row["contribution"].abs().max()) if len(row) else 0.0
    if biggest <= _SOME:
        return text + " No column moves it away from the average."
    if abs(delta) < 0.05 * biggest:
        return text + " Its columns' effects cancel out: " + _pairs(e, row.head(top)) + "."
    same = row[np.sign(row["contribution"]) == np.sign(delta)]
    other = row[np.sign(row["contribution"]) == -np.sign(delta)]
    cut = 0.1 * float(same["contribution"].abs().iloc[0])
    drivers = same[same["contribution"].abs() >= cut].head(top)
    against = other[other["contribution"].abs() >= max(cut, _SOME)].head(2)
    text += (f" It is {'higher' if delta > 0 else 'lower'} mainly because of "
             f"{_pairs(e, drivers)}")
    if len(against):
        verb = "pulls" if len(against) == 1 else "pull"
        text += f"; {_pairs(e, against)} {verb} it the other way"
    return text + "."


def _pairs(e: Explanation, rows: pd.DataFrame) -> str:
    return _join([f"{r.column} = {value_text(r.value)} ({amount(e, r.contribution, True)})"
                  for r in rows.itertuples()])


def change_summary(before: Explanation, after: Explanation, i: int = 0,
                   output: int | str | None = None) -> str:
    """What a what-if edit did to row ``i``: the columns changed and the prediction before
    and after ("... goes from 74% to 41% (−33 points)")."""
    k = before.output_index(output)
    old, new = float(before.prediction[i, k]), float(after.prediction[i, k])
    a, b = before.data.iloc[i], after.data.iloc[i]
    changed = [f"{c} {value_text(a[c])} → {value_text(b[c])}"
               for c in changed_columns(before, after, i)]
    subj = subject(before, k)
    if not changed:
        return f"Nothing is changed yet: {subj} stays at {level(before, old)}."
    moved = (f"goes from {level(before, old)} to {level(before, new)} "
             f"({amount(before, new - old, signed=True)})" if abs(new - old) > _SOME
             else f"stays at {level(before, old)}")
    return f"With {_join(changed)}, {subj} {moved}."


def rows_used(e: Explanation) -> str:
    """How many rows the explanation covers: "Explained 1,000 of 5,000 rows, sampled at
    random." or "Explained all 534 rows."."""
    if e.sampled:
        return f"Explained {e.n_rows:,} of {e.n_total:,} rows, sampled at random."
    return f"Explained all {e.n_rows:,} rows." if e.n_rows != 1 else "Explained 1 row."


def changed_columns(before: Explanation, after: Explanation, i: int = 0) -> list[str]:
    """The columns whose value (as written) differs between the two explanations' row ``i``."""
    a, b = before.data.iloc[i], after.data.iloc[i]
    return [c for c in before.columns if value_text(a[c]) != value_text(b[c])]
