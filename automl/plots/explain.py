"""Plotly figures of an :class:`~automl.explain.Explanation`: data in, Chart out.

Global view: :func:`importance_bar` (mean |SHAP| per column) and :func:`beeswarm` (every row's
contribution per column, coloured by the column's value); :func:`dependence` (one column's
values against their contributions); local view: :func:`waterfall` (one row, from the base
value to the prediction). Classifier contributions are drawn in probability points (0.23 ->
23) and predictions in percent; regression in the target's units. ``output`` picks a class of
a multiclass model (a label, an output name or an index); ``None`` is the first output, except
in :func:`importance_bar`, which then stacks every class.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from automl.explain import words
from automl.explain.explanation import Explanation
from automl.plots.chart import Chart

__all__ = ["BEESWARM_POINTS", "axis_title", "beeswarm", "dependence", "importance_bar",
           "waterfall"]

BEESWARM_POINTS = 2000  # markers drawn at most (rows are sampled to stay under it)
MAX_CATEGORIES = 20  # boxes drawn at most in a categorical dependence plot
_GREY = "#9e9e9e"
_UP, _DOWN = "#d62728", "#1f77b4"  # raises / lowers the prediction


def _scale(e: Explanation) -> float:
    return 100.0 if e.units == "probability" else 1.0


def _what(e: Explanation, output) -> str:
    """The output in words without "the": "predicted probability of churn = yes"."""
    if e.units != "probability":
        return f"predicted {e.target}"
    if output is None and len(e.outputs) > 1:
        return "predicted class probabilities"
    return "predicted probability of " + words.subject(e, output).split(" chance of ", 1)[1]


def axis_title(e: Explanation, output=None, kind: str = "change") -> str:
    """Axis titles in plain words naming the units: ``kind`` "change" ("Change in predicted
    probability of churn = yes (points)"), "mean" ("Average size of the change (points)",
    the mean absolute change; the chart's title names the output) or "level" ("Predicted
    probability of churn = yes (%)")."""
    what = _what(e, output)
    unit = " (points)" if e.units == "probability" else ""
    if kind == "level":
        return what[0].upper() + what[1:] + (" (%)" if e.units == "probability" else "")
    if kind == "mean":
        return f"Average size of the change{unit}" if e.units == "probability" \
            else f"Average size of the change in {e.target}"
    return f"Change in {what}{unit}"


def _empty(e: Explanation) -> Chart | None:
    if e.n_rows == 0 or not e.columns:
        return Chart(None, "No rows were explained.")
    return None


def importance_bar(e: Explanation, output: int | str | None = None, top: int = 15) -> Chart:
    """Mean |SHAP| per column, most important at the top. A multiclass model with
    ``output=None`` gets one stacked bar part per class."""
    if (empty := _empty(e)) is not None:
        return empty
    imp = e.importance(output)
    shown = list(imp.index[:top])
    fig = go.Figure()
    if output is None and len(e.outputs) > 1:
        js = [e.columns.index(c) for c in shown]
        per_class = np.abs(e.values[:, js, :]).mean(axis=0) * _scale(e)
        for k, name in enumerate(e.outputs):
            fig.add_trace(go.Bar(x=per_class[:, k], y=shown, orientation="h", name=name))
        fig.update_layout(barmode="stack")
    else:
        fig.add_trace(go.Bar(x=imp.to_numpy()[:top] * _scale(e), y=shown, orientation="h",
                             name="mean |SHAP|", marker_color=_UP,
                             hovertemplate="%{y}: %{x:.3g}<extra></extra>"))
    fig.update_layout(title=f"Which columns move the {_what(e, output)} most",
                      xaxis_title=axis_title(e, output, "mean"),
                      yaxis={"autorange": "reversed", "type": "category"},
                      height=max(300, 60 + 28 * len(shown)), showlegend=len(fig.data) > 1)
    rest = len(imp) - len(shown)
    return Chart(fig, note=f"{rest} less important column{'s are' if rest > 1 else ' is'} not "
                           "shown." if rest > 0 else None)


def beeswarm(e: Explanation, output: int | str | None = None, top: int = 15,
             max_points: int = BEESWARM_POINTS, seed: int = 0) -> Chart:
    """Every explained row as a dot per column: x = its contribution, colour = the column's
    value from low (blue) to high (red) for numbers and dates, grey for categories (hover
    shows the value). Rows are sampled so at most ``max_points`` dots are drawn."""
    if (empty := _empty(e)) is not None:
        return empty
    k = e.output_index(output)
    imp = e.importance(k)
    shown = list(imp.index[:top])
    rng = np.random.default_rng(seed)
    n_rows = max(1, min(e.n_rows, max_points // len(shown)))
    rows = np.sort(rng.choice(e.n_rows, n_rows, replace=False)) if n_rows < e.n_rows \
        else np.arange(e.n_rows)
    parts: dict[str, list[dict]] = {"numeric": [], "category": []}
    for pos, column in enumerate(shown):
        x = e.values[rows, e.columns.index(column), k] * _scale(e)
        kind = "category" if words.column_kind(e, column) == "category" else "numeric"
        parts[kind].append({
            "x": x, "y": len(shown) - 1 - pos + _jitter(x, rng),
            "text": [f"{column} = {words.value_text(v)}" for v in e.data[column].iloc[rows]],
            "customdata": e.data.index[rows].to_numpy(),
            "colour": _unit_scale(words.column_numbers(e, column).iloc[rows].to_numpy())
            if kind == "numeric" else None})
    fig = go.Figure()
    for kind, chunks in parts.items():
        if not chunks:
            continue
        joined = {f: np.concatenate([c[f] for c in chunks]) for f in ("x", "y", "customdata")}
        text = [t for c in chunks for t in c["text"]]
        marker = ({"color": np.concatenate([c["colour"] for c in chunks]), "size": 5,
                   "colorscale": "RdBu_r", "cmin": 0, "cmax": 1,
                   "colorbar": {"title": "value", "tickvals": [0, 1],
                                "ticktext": ["low", "high"], "len": 0.6}}
                  if kind == "numeric" else {"color": _GREY, "size": 5})
        fig.add_trace(go.Scatter(
            **joined, text=text, mode="markers", marker=marker,
            name="numbers (colour: value)" if kind == "numeric" else "categories",
            hovertemplate="%{text}<br>change: %{x:+.3g}<extra></extra>"))
    fig.add_vline(x=0, line_color=_GREY, line_width=1)
    fig.update_layout(title="How each row's values move the prediction",
                      xaxis_title=axis_title(e, k), showlegend=False,
                      yaxis={"tickvals": list(range(len(shown))), "ticktext": shown[::-1],
                             "range": [-0.6, len(shown) - 0.4], "zeroline": False},
                      height=max(300, 60 + 28 * len(shown)))
    note = (f"Drawn for {n_rows:,} of {e.n_rows:,} explained rows, sampled at random."
            if n_rows < e.n_rows else None)
    return Chart(fig, note=note)


def _jitter(x: np.ndarray, rng: np.random.Generator, width: float = 0.4) -> np.ndarray:
    """Vertical offsets that spread dots more where many share a similar x (a beeswarm)."""
    if len(x) < 2 or np.ptp(x) == 0:
        return rng.uniform(-width, width, len(x)) * min(1.0, len(x) / 50)
    bins = np.minimum(((x - x.min()) / np.ptp(x) * 40).astype(int), 39)
    counts = np.bincount(bins, minlength=40)
    spread = width * np.sqrt(counts[bins] / counts.max())
    return rng.uniform(-1, 1, len(x)) * spread


def _unit_scale(v: np.ndarray) -> np.ndarray:
    """Values mapped to 0..1 within the column (clipped at its 5th and 95th percentiles);
    missing values get the middle."""
    finite = np.isfinite(v)
    if not finite.any():
        return np.full(len(v), 0.5)
    lo, hi = np.percentile(v[finite], [5, 95])
    if hi <= lo:
        lo, hi = v[finite].min(), v[finite].max()
    out = np.full(len(v), 0.5)
    if hi > lo:
        out[finite] = np.clip((v[finite] - lo) / (hi - lo), 0, 1)
    return out


def dependence(e: Explanation, column: str, output: int | str | None = None) -> Chart:
    """``column``'s value (x) against its contribution (y): dots for numbers and dates, one
    box per category for the rest, ordered by mean contribution (largest first)."""
    if (empty := _empty(e)) is not None:
        return empty
    if column not in e.columns:
        return Chart(None, f"The model does not use column {column!r}.")
    k = e.output_index(output)
    frame = e.column(column, k)
    y = frame["contribution"].to_numpy() * _scale(e)
    fig, note = go.Figure(), None
    if words.column_kind(e, column) == "category":
        labels = frame["value"].map(words.value_text)
        eff = words.category_effects(e, column, k)
        keep = list(eff.sort_values("rows", ascending=False, kind="stable")["value"]
                    [:MAX_CATEGORIES])
        order = [v for v in eff["value"] if v in set(keep)]
        for value in order:
            mask = (labels == value).to_numpy()
            fig.add_trace(go.Box(y=y[mask], name=value, boxpoints="all", jitter=0.4, pointpos=0,
                                 marker={"size": 4}, customdata=frame.index[mask],
                                 hovertemplate=f"{column} = {value}<br>change: %{{y:+.3g}}"
                                               "<extra></extra>"))
        fig.update_layout(xaxis={"type": "category", "title": column}, showlegend=False)
        if len(eff) > len(order):
            note = (f"The {len(order)} most common of {len(eff)} values are drawn.")
    else:
        x = frame["value"]
        known = x.notna().to_numpy()
        fig.add_trace(go.Scatter(x=x[known], y=y[known], mode="markers",
                                   marker={"size": 5, "color": _UP, "opacity": 0.6},
                                   customdata=frame.index[known],
                                   hovertemplate=f"{column} = %{{x}}<br>change: %{{y:+.3g}}"
                                                 "<extra></extra>"))
        fig.update_layout(xaxis_title=column)
        if not known.all():
            note = f"{int((~known).sum()):,} rows with {column} missing are not drawn."
    fig.add_hline(y=0, line_color=_GREY, line_width=1)
    fig.update_layout(title=f"How {column} moves the prediction", yaxis_title=axis_title(e, k))
    return Chart(fig, note=note)


def waterfall(e: Explanation, i: int = 0, output: int | str | None = None,
              top: int = 10) -> Chart:
    """Row ``i`` (by position) from the average prediction to its prediction: one step per column
    ("column = value"), the largest ``top`` first and the rest summed as "other N columns"."""
    if (empty := _empty(e)) is not None:
        return empty
    k = e.output_index(output)
    row = e.row(i, k)
    scale = _scale(e)
    shown, rest = row.iloc[:top], row.iloc[top:]
    labels = [f"{r.column} = {words.value_text(r.value)}" for r in shown.itertuples()]
    steps = list(shown["contribution"] * scale)
    if len(rest):
        labels.append(f"other {len(rest)} column{'s' if len(rest) > 1 else ''}")
        steps.append(float(rest["contribution"].sum()) * scale)
    base, pred = float(e.base[k]) * scale, float(e.prediction[i, k]) * scale
    fig = go.Figure(go.Waterfall(
        orientation="h", measure=["absolute", *["relative"] * len(steps), "total"],
        y=["average prediction", *labels, "prediction"], x=[base, *steps, pred],
        text=[_short(base), *[f"{s:+.3g}" for s in steps], _short(pred)], textposition="auto",
        increasing={"marker": {"color": _UP}}, decreasing={"marker": {"color": _DOWN}},
        totals={"marker": {"color": _GREY}}, connector={"line": {"color": _GREY}}))
    fig.update_layout(title=f"Why this row gets {words.level(e, pred / scale)}",
                      xaxis_title=axis_title(e, k, "level"),
                      yaxis={"autorange": "reversed", "type": "category"},
                      height=max(300, 80 + 30 * (len(steps) + 2)), showlegend=False)
    return Chart(fig)


def _short(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"
