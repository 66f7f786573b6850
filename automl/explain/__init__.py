"""Explanations of saved models: SHAP values grouped back to the user's own columns."""

from automl.explain.cache import explain_run, run_explainer, run_features
from automl.explain.explainer import GLOBAL_ROWS, Explainer, explain
from automl.explain.explanation import Explanation

__all__ = ["GLOBAL_ROWS", "Explainer", "Explanation", "explain", "explain_run", "run_explainer",
           "run_features"]
