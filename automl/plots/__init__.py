"""Plotly figures, built from the data the engine computes (compute first, draw later).

One module per subject: :mod:`~automl.plots.search` (a run's study: history, parameters,
families), :mod:`~automl.plots.data` (the Data page's column charts),
:mod:`~automl.plots.evaluate` (ROC, PR, confusion, calibration, residuals) and
:mod:`~automl.plots.explain` (SHAP summaries in the user's columns). Each returns a
:class:`~automl.plots.chart.Chart`; :func:`~automl.plots.safe.safe_figure` escapes every text
of a figure before the app or the report draws it. Importing this package loads only plotly;
the search charts (Optuna, scikit-learn) load when :mod:`automl.plots.search` is imported.
"""

from __future__ import annotations

from automl.plots.chart import Chart
from automl.plots.safe import escape_text, safe_figure

__all__ = ["Chart", "escape_text", "safe_figure"]
