"""Plotly figures of a model's predictions, drawn from :mod:`automl.evaluate`'s data.

Every function takes what an ``automl.evaluate`` function returned and gives a
:class:`~automl.plots.Chart`: the figure, or ``None`` and the reason when there is nothing to
draw. Nothing is computed here beyond what drawing needs (and a sample of the points when
there are too many to draw).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from automl.evaluate import Calibration, Curve, ThresholdResult
from automl.plots.chart import Chart

__all__ = ["MAX_POINTS", "calibration_chart", "confusion_chart", "gain_chart", "lift_chart",
           "per_class_chart", "pr_chart", "predicted_vs_actual_chart", "residual_histogram",
           "residuals_chart", "roc_chart", "segment_chart"]

MAX_POINTS = 5_000  # scatter charts draw a random sample of this many rows beyond it
_GREY = dict(color="grey", dash="dash", width=1)
_ONE_CLASS = "Every row has the same class, so there is no curve to draw."


def _dim(label, highlight) -> dict:
    """Line width and opacity: the highlighted class stands out when several are drawn."""
    if highlight is None or str(label) == str(highlight):
        return {"line": {"width": 3 if highlight is not None else 2}, "opacity": 1.0}
    return {"line": {"width": 1}, "opacity": 0.45}


def roc_chart(curves: list[Curve], highlight=None) -> Chart:
    """ROC curves (one per class given) with the chance diagonal; AUCs in the legend."""
    if not curves:
        return Chart(None, _ONE_CLASS)
    fig = go.Figure()
    for c in curves:
        fig.add_trace(go.Scatter(
            x=c.x, y=c.y, mode="lines", name=f"{c.label} (AUC {c.area:.3f})",
            customdata=c.thresholds, **_dim(c.label, highlight if len(curves) > 1 else None),
            hovertemplate="false positive rate %{x:.3f}<br>true positive rate %{y:.3f}"
                          "<br>threshold %{customdata:.3f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=_GREY,
                             name="chance (AUC 0.5)", hoverinfo="skip"))
    title = "ROC curve" if len(curves) == 1 else "ROC curves, each class against the rest"
    fig.update_layout(title=title, xaxis_title="False positive rate (share of negatives flagged)",
                      yaxis_title="True positive rate (share of positives caught)",
                      xaxis_range=[0, 1], yaxis_range=[0, 1.02], legend_title_text="class")
    return Chart(fig)


def pr_chart(curves: list[Curve], highlight=None) -> Chart:
    """Precision-recall curves with each class's base rate (a model that guesses)."""
    if not curves:
        return Chart(None, _ONE_CLASS)
    fig = go.Figure()
    for c in curves:
        style = _dim(c.label, highlight if len(curves) > 1 else None)
        fig.add_trace(go.Scatter(
            x=c.x, y=c.y, mode="lines", name=f"{c.label} (AP {c.area:.3f})",
            customdata=c.thresholds, **style,
            hovertemplate="recall %{x:.3f}<br>precision %{y:.3f}"
                          "<br>threshold %{customdata:.3f}<extra></extra>"))
        if len(curves) == 1 or str(c.label) == str(highlight):
            fig.add_trace(go.Scatter(x=[0, 1], y=[c.base_rate] * 2, mode="lines", line=_GREY,
                                     name=f"base rate of {c.label} ({c.base_rate:.3f})",
                                     hoverinfo="skip"))
    title = ("Precision-recall curve" if len(curves) == 1
             else "Precision-recall curves, each class against the rest")
    fig.update_layout(title=title, xaxis_title="Recall (share of positives caught)",
                      yaxis_title="Precision (share of flagged rows that are positive)",
                      xaxis_range=[0, 1], yaxis_range=[0, 1.02], legend_title_text="class")
    return Chart(fig)


def confusion_chart(result: ThresholdResult) -> Chart:
    """Counts of actual (rows) against predicted (columns) classes; each cell also shows its
    share of the actual class's rows."""
    m = result.matrix
    counts = m.to_numpy()
    if counts.sum() == 0:
        return Chart(None, "There are no rows to count.")
    totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    text = [[f"{n:,}<br>{s:.0%}" for n, s in zip(row, srow, strict=True)]
            for row, srow in zip(counts, share, strict=True)]
    fig = go.Figure(go.Heatmap(
        z=share, x=list(m.columns), y=list(m.index), text=text, texttemplate="%{text}",
        colorscale="Blues", zmin=0, zmax=1, colorbar={"title": "share of actual"},
        customdata=counts, hovertemplate="actual %{y}<br>predicted %{x}<br>%{customdata:,} rows"
                                         "<extra></extra>"))
    title = ("Confusion matrix" + (f" at threshold {result.threshold:.2f}"
                                   if result.threshold is not None else ""))
    fig.update_layout(title=title, xaxis_title="Predicted class", yaxis_title="Actual class",
                      xaxis_type="category", yaxis_type="category", yaxis_autorange="reversed")
    return Chart(fig, note=result.note)


def calibration_chart(cal: Calibration) -> Chart:
    """Observed share against mean predicted probability per bin, the perfect diagonal, and
    below it how many rows each bin holds."""
    t = cal.table
    if t.empty:
        return Chart(None, "There are no rows to bin.")
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.72, 0.28],
                        vertical_spacing=0.06)
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=_GREY,
                             name="perfectly calibrated", hoverinfo="skip"), row=1, col=1)
    fig.add_trace(go.Scatter(
        x=t["mean_predicted"], y=t["observed"], mode="lines+markers", name="model",
        customdata=t["rows"], hovertemplate="predicted %{x:.3f}<br>observed %{y:.3f}"
                                            "<br>%{customdata:,} rows<extra></extra>"),
        row=1, col=1)
    fig.add_trace(go.Bar(x=t["mean_predicted"], y=t["rows"], name="rows per bin",
                         width=0.02, marker_color="grey"), row=2, col=1)
    fig.update_layout(title=f"Calibration of P({cal.positive}) (Brier score {cal.brier:.4f})")
    fig.update_xaxes(range=[0, 1], row=1, col=1)
    fig.update_xaxes(range=[0, 1], title_text=f"Mean predicted probability of {cal.positive}",
                     row=2, col=1)
    fig.update_yaxes(range=[0, 1.02], title_text=f"Observed share of {cal.positive}", row=1,
                     col=1)
    fig.update_yaxes(title_text="rows", row=2, col=1)
    bins = "equal-width" if cal.strategy == "uniform" else "equal-count"
    return Chart(fig, note=f"{len(t)} non-empty {bins} bins of the predicted probability.")


def per_class_chart(table: pd.DataFrame) -> Chart:
    """Precision, recall and F1 of each class as grouped bars."""
    if table.empty:
        return Chart(None, "There are no classes to show.")
    fig = go.Figure([go.Bar(x=table["class"], y=table[col], name=col,
                            customdata=table["support"],
                            hovertemplate=f"class %{{x}}<br>{col} %{{y:.3f}}<br>"
                                          "%{customdata:,} rows of this class<extra></extra>")
                     for col in ("precision", "recall", "F1")])
    fig.update_layout(title="Precision, recall and F1 per class", barmode="group",
                      xaxis_title="Class", yaxis_title="Score", yaxis_range=[0, 1],
                      xaxis_type="category")
    return Chart(fig)


def _no_positives(table: pd.DataFrame, positive) -> str | None:
    if table.empty:
        return "There are no rows to rank."
    if table["positives"].sum() == 0:
        return f"No row is of class {positive}, so there is nothing to catch."
    return None


def gain_chart(table: pd.DataFrame, positive) -> Chart:
    """Cumulative gain: the share of ``positive`` rows caught against the share of rows
    taken, highest probability first; the diagonal is a random order."""
    reason = _no_positives(table, positive)
    if reason:
        return Chart(None, reason)
    x = np.r_[0.0, table["share_of_rows"]]
    y = np.r_[0.0, table["gain"]]
    base = table["positives"].sum() / table["rows"].sum()
    fig = go.Figure([
        go.Scatter(x=x, y=y, mode="lines+markers", name="model",
                   hovertemplate="top %{x:.0%} of rows<br>%{y:.1%} of positives caught"
                                 "<extra></extra>"),
        go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=_GREY, name="random order",
                   hoverinfo="skip"),
        go.Scatter(x=[0, base, 1], y=[0, 1, 1], mode="lines", name="perfect order",
                   line=dict(color="green", dash="dot", width=1), hoverinfo="skip"),
    ])
    fig.update_layout(title=f"Cumulative gain for {positive}",
                      xaxis_title="Share of rows, highest probability first",
                      yaxis_title=f"Share of all {positive} rows caught",
                      xaxis_tickformat=".0%", yaxis_tickformat=".0%",
                      xaxis_range=[0, 1], yaxis_range=[0, 1.02])
    return Chart(fig)


def lift_chart(table: pd.DataFrame, positive) -> Chart:
    """Lift per group of rows (ranked by probability): how many times the overall rate of
    ``positive`` each group holds; 1 is no better than random."""
    reason = _no_positives(table, positive)
    if reason:
        return Chart(None, reason)
    labels = [f"{a:.0%}–{b:.0%}" for a, b in
              zip(np.r_[0.0, table["share_of_rows"][:-1]], table["share_of_rows"], strict=True)]
    fig = go.Figure([
        go.Bar(x=labels, y=table["lift"], name="lift of the group",
               customdata=np.c_[table["rate"], table["rows"]],
               hovertemplate="rows ranked %{x}<br>lift %{y:.2f}<br>%{customdata[0]:.1%} are "
                             f"{positive} (%{{customdata[1]:,}} rows)<extra></extra>"),
        go.Scatter(x=labels, y=table["cumulative_lift"], mode="lines+markers",
                   name="cumulative lift"),
    ])
    fig.add_hline(y=1, line=_GREY)
    fig.update_layout(title=f"Lift for {positive}, by group of rows ranked by probability",
                      xaxis_title="Rows ranked by predicted probability (highest first)",
                      yaxis_title="Lift (times the overall rate)", xaxis_type="category")
    return Chart(fig)


def _sample(res: pd.DataFrame, max_points: int, seed: int) -> tuple[pd.DataFrame, str | None]:
    if len(res) <= max_points:
        return res, None
    keep = np.sort(np.random.default_rng(seed).choice(len(res), max_points, replace=False))
    return res.iloc[keep], (f"A random sample of {max_points:,} of the {len(res):,} rows is "
                            "drawn.")


def predicted_vs_actual_chart(res: pd.DataFrame, target: str = "target",
                              max_points: int = MAX_POINTS, seed: int = 0) -> Chart:
    """Each row's prediction against its actual value, with the line where they are equal."""
    if res.empty:
        return Chart(None, "There are no rows to draw.")
    shown, note = _sample(res, max_points, seed)
    lo = float(min(res["actual"].min(), res["predicted"].min()))
    hi = float(max(res["actual"].max(), res["predicted"].max()))
    fig = go.Figure([
        go.Scattergl(x=shown["actual"], y=shown["predicted"], mode="markers", name="rows",
                     marker={"size": 5, "opacity": 0.5},
                     hovertemplate="actual %{x:.4g}<br>predicted %{y:.4g}<extra></extra>"),
        go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", line=_GREY,
                   name="predicted = actual", hoverinfo="skip"),
    ])
    fig.update_layout(title="Predicted against actual", xaxis_title=f"Actual {target}",
                      yaxis_title=f"Predicted {target}")
    return Chart(fig, note=note)


def residuals_chart(res: pd.DataFrame, target: str = "target", max_points: int = MAX_POINTS,
                    seed: int = 0) -> Chart:
    """Residual (actual - predicted) against the prediction, with the zero line."""
    if res.empty:
        return Chart(None, "There are no rows to draw.")
    shown, note = _sample(res, max_points, seed)
    fig = go.Figure(go.Scattergl(
        x=shown["predicted"], y=shown["residual"], mode="markers", name="rows",
        marker={"size": 5, "opacity": 0.5},
        hovertemplate="predicted %{x:.4g}<br>residual %{y:.4g}<extra></extra>"))
    fig.add_hline(y=0, line=_GREY)
    fig.update_layout(title="Residuals against predicted", xaxis_title=f"Predicted {target}",
                      yaxis_title="Residual (actual - predicted; above 0: predicted too low)")
    return Chart(fig, note=note)


def residual_histogram(res: pd.DataFrame, bins: int = 40) -> Chart:
    """How the residuals are spread, with their mean (the bias) marked."""
    if res.empty:
        return Chart(None, "There are no rows to draw.")
    fig = go.Figure(go.Histogram(x=res["residual"], nbinsx=bins, name="rows"))
    mean = float(res["residual"].mean())
    fig.add_vline(x=0, line=_GREY)
    fig.add_vline(x=mean, line={"color": "firebrick", "width": 1},
                  annotation_text=f"mean {mean:.3g}")
    fig.update_layout(title="Distribution of residuals", yaxis_title="rows",
                      xaxis_title="Residual (actual - predicted)", bargap=0.02)
    return Chart(fig)


def segment_chart(table: pd.DataFrame, column: str) -> Chart:
    """MAE and RMSE per segment of ``column`` as bars, the bias (mean residual) as points."""
    if table.empty:
        return Chart(None, f"{column} has no segments to compare.")
    hover = "%{x}<br>%{fullData.name} %{y:.4g}<br>%{customdata:,} rows<extra></extra>"
    fig = go.Figure([
        go.Bar(x=table["segment"], y=table["mae"], name="MAE", customdata=table["rows"],
               hovertemplate=hover),
        go.Bar(x=table["segment"], y=table["rmse"], name="RMSE", customdata=table["rows"],
               hovertemplate=hover),
        go.Scatter(x=table["segment"], y=table["bias"], mode="markers", name="bias (mean residual)",
                   marker={"size": 10, "symbol": "diamond"}, customdata=table["rows"],
                   hovertemplate=hover),
    ])
    fig.add_hline(y=0, line=_GREY)
    fig.update_layout(title=f"Error by {column}", barmode="group", xaxis_type="category",
                      xaxis_title=column, yaxis_title="Error (in the target's units)")
    small = table.loc[table["rows"] < 30, "segment"].tolist()
    note = (f"Few rows (under 30) in: {', '.join(small)}; their errors are noisy."
            if small else None)
    return Chart(fig, note=note)
