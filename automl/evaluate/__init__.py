"""How good a model's predictions are on rows whose outcome is known: the data behind ROC,
precision-recall, confusion, calibration, lift/gain and residual charts.

An :class:`Evaluation` pairs the true outcomes with the model's scores for the same rows:

- a run's out-of-fold predictions (:func:`from_run` with ``source="oof"``): every row scored
  by a model fitted without it, for the final model (an ensemble is the weighted sum of its
  members' predictions) or for any completed trial;
- a run's holdout (``source="holdout"``): rows the search never saw, scored by the final
  model;
- any labelled table scored by a model file (:func:`from_model`).

Every function returns plain data (DataFrames and small dataclasses); the figures are drawn
by :mod:`automl.plots.evaluate`. Classification scores are probabilities in ``classes``
order; ``positive`` names the class a one-vs-rest view is about (default: the second class
of two, the first of several).
"""

from automl.evaluate.classification import (
    Calibration,
    Curve,
    ThresholdResult,
    at_threshold,
    calibration,
    lift_gain,
    per_class,
    pr,
    roc,
)
from automl.evaluate.regression import MISSING, OTHER, error_by_segment, residuals
from automl.evaluate.sources import (
    Evaluation,
    available_trials,
    final_oof,
    from_model,
    from_run,
    model_choices,
    source_choices,
    summary,
)

__all__ = ["MISSING", "OTHER", "Calibration", "Curve", "Evaluation", "ThresholdResult",
           "at_threshold", "available_trials", "calibration", "error_by_segment", "final_oof",
           "from_model", "from_run", "lift_gain", "model_choices", "per_class", "pr",
           "residuals", "roc", "source_choices", "summary"]
