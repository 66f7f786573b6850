"""A monitoring check said in plain words: what moved, how much it matters to the model, how
the model is doing, and whether to retrain."""

from __future__ import annotations

from automl.monitor.drift import ColumnDrift

__all__ = ["advice", "column_text", "summary"]


def _names(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def column_text(c: ColumnDrift) -> str:
    """What moved in one column, in a few words."""
    if c.note:
        return f"{c.name} ({c.note})"
    if c.test == "wasserstein":
        return f"{c.name} (moved by {c.statistic:.2f} training standard deviations)"
    if c.test == "jensen_shannon":
        return f"{c.name} (its values' shares changed: distance {c.statistic:.2f})"
    return f"{c.name} ({c.test.replace('_', '-')} p = {c.p_value:.2g})"


def summary(r) -> list[str]:
    """Sentences about a :class:`~automl.monitor.check.MonitorResult`, most important first."""
    out = []
    drifted = sorted(r.drifted, key=lambda c: -r.importance.get(c.name, 0.0))
    if r.missing_columns:
        out.append(f"The new rows lack {len(r.missing_columns)} column(s) the model uses: "
                   f"{_names(list(r.missing_columns)[:5])}; they were scored as blanks.")
    if not drifted:
        out.append(f"No column of {len(r.columns)} moved away from the training data "
                   f"({r.n_rows:,} new rows).")
    else:
        out.append(f"{len(drifted)} of {len(r.columns)} columns moved "
                   f"({r.drifted_share:.0%}): {_names([column_text(c) for c in drifted[:5]])}"
                   + (f", and {len(drifted) - 5} more." if len(drifted) > 5 else "."))
        out.append(f"Weighted by how much the model relies on each column, "
                   f"{r.weighted_drift:.0%} of what it uses moved.")
    p = r.prediction
    if p is not None:
        out.append("The model's predictions moved." if p.drifted
                   else "The model's predictions are distributed as in training.")
    if r.domain is not None:
        tops = _names([c for c, _ in r.domain.top_columns[:3]])
        out.append(f"A classifier tells new rows from training rows with AUC "
                   f"{r.domain.auc:.2f} (0.5: not at all)"
                   + (f", mostly by {tops}." if r.domain.drifted and tops else "."))
    for perf in (r.measured, r.estimated):
        if perf is None or perf.reference is None:
            continue
        what = (f"Measured on {perf.n_rows:,} rows with the target, {perf.metric} is "
                f"{perf.value:.3f}" if perf.measured else
                f"Estimated without labels, {perf.metric} is {perf.value:.3f} "
                f"({perf.low:.3f} to {perf.high:.3f})")
        out.append(f"{what}, against {perf.reference:.3f} out of fold in training.")
    return out


def advice(r) -> str:
    """Retrain, watch or nothing to do, with the reason."""
    if r.alarm:
        return ("Retrain the model on recent data: " + "; ".join(r.reasons) + ".")
    if r.drifted:
        return ("Keep watching: some columns moved, but not the ones the model relies on "
                "most, and its performance holds.")
    return "Nothing to do: the new rows look like the training data."
