"""The Data page's column charts: kept apart from the search's charts so that the Data page
needs only plotly (not scikit-learn or Optuna), which keeps the app's first page quick to open."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import plotly.graph_objects as go

from automl.plots.chart import Chart

__all__ = ["column_chart"]


def column_chart(column) -> Chart:
    """A profiled column's distribution (``automl.data.profile.ColumnProfile``): a histogram
    for numbers and dates, bars of the most common values otherwise."""
    hist, bars = column.histogram, column.bars
    if hist is not None and len(hist.counts):
        edges = list(hist.edges)
        fig = go.Figure(go.Bar(x=edges[:-1], y=[int(c) for c in hist.counts],
                               width=[_width(a, b) for a, b in pairwise(edges)],
                               offset=0, name=column.name))
        fig.update_layout(title=f"{column.name}: distribution", xaxis_title=column.name,
                          yaxis_title="rows", bargap=0.02)
        return Chart(fig)
    if bars is not None and bars.labels:
        fig = go.Figure(go.Bar(x=list(bars.labels), y=list(bars.counts), name=column.name))
        fig.update_layout(title=f"{column.name}: most common values", xaxis_title=column.name,
                          yaxis_title="rows", xaxis_type="category")
        note = (f"The last bar sums {bars.n_other_values:,} other values."
                if bars.n_other_values else None)
        return Chart(fig, note=note)
    return Chart(None, f"{column.name} has no values to draw (every row is missing).")


def _width(a, b) -> float:
    """A bar's width on a plotly axis: milliseconds for dates, the difference for numbers."""
    width = b - a
    if isinstance(width, np.timedelta64):
        return float(width / np.timedelta64(1, "ms"))
    return width.total_seconds() * 1000 if hasattr(width, "total_seconds") else float(width)
