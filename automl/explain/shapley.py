"""SHAP values of one fitted model on its own features, by the fastest exact route each
family has, and their conversion to the units a person reads (probability or value).

- XGBoost: the booster's own TreeSHAP (``pred_contribs``); ``approx_contribs`` (Saabas) for
  a quick global view.
- LightGBM: its own TreeSHAP (``pred_contrib``).
- scikit-learn trees (random forest, extra trees, HistGradientBoosting): ``shap.TreeExplainer``.
- Linear models: ``shap.LinearExplainer`` against a background sample.
- Anything else (k-nearest neighbours): ``shap.PermutationExplainer`` on the user's columns.

Boosted and linear classifiers explain log-odds; :mod:`automl.explain.units` turns those
into probability points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["Contributions", "make_tree_explainer", "model_contributions", "supports"]


@dataclass
class Contributions:
    """SHAP values of one model on its features: ``values`` (n, features, outputs) and
    ``base`` (outputs,) in ``space``: "margin" (log-odds / softmax logits), "probability"
    (one output per class) or "value" (regression)."""

    values: np.ndarray
    base: np.ndarray
    space: str
    method: str


def supports(estimator) -> bool:
    """Whether the estimator has a SHAP route on its features (else: permutation)."""
    return _kind(estimator) is not None


def model_contributions(estimator, Xt, background=None, *, approximate: bool = False,
                        tree_explainer=None) -> Contributions:
    """SHAP values of ``estimator`` on the transformed rows ``Xt``.

    ``background`` (transformed rows) is needed by linear models only. ``tree_explainer`` is a
    ``shap.TreeExplainer`` built earlier for the same scikit-learn tree model (building one
    parses every tree, which is worth doing once).
    """
    kind = _kind(estimator)
    regression = not hasattr(estimator, "classes_")
    if kind == "xgb":
        return _xgboost(estimator, Xt, approximate, regression)
    if kind == "lgbm":
        return _lightgbm(estimator, Xt, regression)
    if kind in ("sk_tree", "hgb"):
        explainer = tree_explainer or make_tree_explainer(estimator)
        return _sk_tree(explainer, estimator, Xt, approximate, regression, kind)
    if kind == "linear":
        return _linear(estimator, Xt, background, regression)
    raise TypeError(f"no TreeSHAP or linear route for {type(estimator).__name__}")


def make_tree_explainer(estimator):
    import shap

    raw = {"model_output": "raw"} if _kind(estimator) == "hgb" else {}
    return shap.TreeExplainer(estimator, feature_perturbation="tree_path_dependent", **raw)


# --- one route per kind of model -----------------------------------------------------------

def _kind(est) -> str | None:
    module = type(est).__module__
    name = type(est).__name__
    if module.startswith("xgboost"):
        return "xgb"
    if module.startswith("lightgbm"):
        return "lgbm"
    if name.startswith("HistGradientBoosting"):
        return "hgb"
    if name in ("RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier",
                "ExtraTreesRegressor", "DecisionTreeClassifier", "DecisionTreeRegressor"):
        return "sk_tree"
    if hasattr(est, "coef_") and hasattr(est, "intercept_"):
        return "linear"
    return None


def _xgboost(est, Xt, approximate: bool, regression: bool) -> Contributions:
    import xgboost

    booster = est.get_booster()
    dm = xgboost.DMatrix(Xt if sp.issparse(Xt) else np.asarray(Xt, dtype=np.float32))
    out = booster.predict(dm, pred_contribs=True, approx_contribs=approximate,
                          validate_features=False)
    if out.ndim == 2:  # (n, features + 1): regression or binary
        out = out[:, None, :]
    values = np.moveaxis(out[:, :, :-1], 1, 2).astype(float)  # (n, features, outputs)
    base = out[0, :, -1].astype(float) if len(out) else np.zeros(out.shape[1])
    how = "Saabas, XGBoost's approx_contribs" if approximate else "TreeSHAP, XGBoost's own"
    return Contributions(values, base, "value" if regression else "margin", how)


def _lightgbm(est, Xt, regression: bool) -> Contributions:
    X = Xt.toarray() if sp.issparse(Xt) else np.asarray(Xt)
    out = np.asarray(est.predict(X, pred_contrib=True), dtype=float)
    n, width = out.shape
    f = est.n_features_in_
    out = out.reshape(n, width // (f + 1), f + 1)
    values = np.moveaxis(out[:, :, :-1], 1, 2)
    base = out[0, :, -1] if n else np.zeros(width // (f + 1))
    return Contributions(values, base, "value" if regression else "margin",
                         "TreeSHAP, LightGBM's own")


def _sk_tree(explainer, est, Xt, approximate: bool, regression: bool, kind: str
             ) -> Contributions:
    X = Xt.toarray() if sp.issparse(Xt) else np.asarray(Xt, dtype=float)
    if approximate:
        values = explainer.shap_values(X, approximate=True, check_additivity=False)
    else:
        values = explainer.shap_values(X, check_additivity=False)
    if isinstance(values, list):  # older shap: one array per output
        values = np.stack(values, axis=2)
    values = np.asarray(values, dtype=float)
    if values.ndim == 2:
        values = values[:, :, None]
    base = np.atleast_1d(np.asarray(explainer.expected_value, dtype=float)).ravel()
    how = "Saabas (approximate TreeSHAP)" if approximate else "TreeSHAP"
    # scikit-learn forests average probabilities; HistGradientBoosting adds up log-odds
    space = "value" if regression else "margin" if kind == "hgb" else "probability"
    return Contributions(values, base, space, how)


def _linear(est, Xt, background, regression: bool) -> Contributions:
    import shap

    if background is None:
        raise ValueError("a linear model's SHAP values need background rows")
    explainer = shap.LinearExplainer(est, background)
    X = Xt.toarray() if sp.issparse(Xt) else np.asarray(Xt, dtype=float)
    values = np.asarray(explainer.shap_values(X), dtype=float)
    if values.ndim == 2:
        values = values[:, :, None]
    base = np.atleast_1d(np.asarray(explainer.expected_value, dtype=float)).ravel()
    return Contributions(values, base, "value" if regression else "margin",
                         "exact linear SHAP (shap.LinearExplainer)")
