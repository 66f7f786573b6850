"""Charts of a monitoring check: each column's training and new distributions side by side,
drift against how much the model relies on each column, and checks over time."""

from __future__ import annotations

import plotly.graph_objects as go

from automl.plots.chart import Chart

__all__ = ["column_drift_chart", "history_chart", "overview_chart"]

_TRAIN, _NEW = "#8a94a6", "#e4572e"


def column_drift_chart(c) -> Chart:
    """One column (``automl.monitor.drift.ColumnDrift``): share of rows per bin or value,
    in training and in the new rows."""
    if not c.labels:
        return Chart(None, f"{c.name} has no values to compare.")
    x = list(c.labels)
    fig = go.Figure([go.Bar(x=x, y=list(c.reference_shares), name="training",
                            marker_color=_TRAIN),
                     go.Bar(x=x, y=list(c.new_shares), name="new rows", marker_color=_NEW)])
    state = "drifted" if c.drifted else "no drift"
    fig.update_layout(title=f"{c.name}: {state} ({c.test.replace('_', ' ')})",
                      yaxis_title="share of rows", yaxis_tickformat=".0%", barmode="group",
                      xaxis_type="category", legend_orientation="h")
    note = (f"Blanks: {c.missing_reference:.0%} in training, {c.missing_new:.0%} now."
            if c.missing_new or c.missing_reference else None)
    return Chart(fig, note=note)


def overview_chart(result) -> Chart:
    """Every column's share of the model's reliance, drifted ones in colour
    (``automl.monitor.check.MonitorResult``)."""
    cols = sorted(result.columns, key=lambda c: result.importance.get(c.name, 0.0))[-30:]
    if not cols:
        return Chart(None, "The model has no columns to compare.")
    fig = go.Figure(go.Bar(
        y=[c.name for c in cols], x=[result.importance.get(c.name, 0.0) for c in cols],
        orientation="h", marker_color=[_NEW if c.drifted else _TRAIN for c in cols],
        hovertext=["drifted" if c.drifted else "no drift" for c in cols]))
    fig.update_layout(title="What the model relies on, and what moved (colour: drifted)",
                      xaxis_title="share of the model's reliance", xaxis_tickformat=".0%",
                      yaxis_type="category", height=max(300, 22 * len(cols) + 120))
    return Chart(fig)


def history_chart(history) -> Chart:
    """Checks over time (``automl.monitor.history`` records): the share of drifted columns
    and the measured or estimated performance."""
    rows = [h for h in history if h.get("checked_at")]
    if len(rows) < 2:
        return Chart(None, "A chart over time appears from the second saved check on.")
    when = [h["checked_at"] for h in rows]
    fig = go.Figure(go.Scatter(x=when, y=[h.get("drifted_share") for h in rows],
                               name="share of drifted columns", mode="lines+markers"))
    perf = [h.get("performance") or h.get("estimated_performance") or {} for h in rows]
    if any(p.get("value") is not None for p in perf):
        fig.add_trace(go.Scatter(x=when, y=[p.get("value") for p in perf], yaxis="y2",
                                 name=perf[-1].get("metric") or "performance",
                                 mode="lines+markers"))
        fig.update_layout(yaxis2={"overlaying": "y", "side": "right", "title": "performance"})
    fig.update_layout(title="Checks over time", yaxis_title="share drifted",
                      yaxis_tickformat=".0%", legend_orientation="h")
    return Chart(fig)
