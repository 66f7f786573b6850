"""SHAP values of one fitted model on its own features, by the route its family declares
(``Family.explainer``, one of :data:`KINDS`; the model's family is the registered family
whose declared types name the model's type, :func:`automl.families.family_of`):

- "xgboost": the booster's own TreeSHAP (``pred_contribs``); ``approx_contribs`` (Saabas)
  for a quick global view.
- "lightgbm": its own TreeSHAP (``pred_contrib``).
- "tree" (averaged trees: forests) and "tree_margin" (trees adding up log-odds:
  HistGradientBoosting): ``shap.TreeExplainer``.
- "linear": ``shap.LinearExplainer`` against a background sample.
- "permutation" (k-nearest neighbours, and any model no family declares): permutation SHAP
  on the user's columns (:mod:`automl.explain.permutation`), not here.

Boosted and linear classifiers explain log-odds; :mod:`automl.explain.units` turns those
into probability points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from automl.families import family_of

__all__ = ["APPROXIMATE", "KINDS", "TREE_KINDS", "Contributions", "kind_of", "make_tree_explainer",
           "model_contributions"]

KINDS = ("xgboost", "lightgbm", "tree", "tree_margin", "linear", "permutation")
TREE_KINDS = frozenset({"tree", "tree_margin"})  # explained by a shap.TreeExplainer
APPROXIMATE = frozenset({"xgboost", "tree", "tree_margin"})  # kinds with Saabas values


@dataclass
class Contributions:
    """SHAP values of one model on its features: ``values`` (n, features, outputs) and
    ``base`` (outputs,) in ``space``: "margin" (log-odds / softmax logits), "probability"
    (one output per class) or "value" (regression)."""

    values: np.ndarray
    base: np.ndarray
    space: str
    method: str


def kind_of(estimator) -> str:
    """The explainer kind of a fitted model: its family's, "permutation" for a model that no
    registered family declares."""
    family = family_of(estimator)
    if family is None:
        return "permutation"
    if family.explainer not in KINDS:
        raise ValueError(f"family {family.name!r} declares the explainer {family.explainer!r}; "
                         f"the kinds are {', '.join(KINDS)}")
    return family.explainer


def model_contributions(kind: str, estimator, Xt, background=None, *,
                        approximate: bool = False, tree_explainer=None) -> Contributions:
    """SHAP values of ``estimator`` (explained as ``kind``) on the transformed rows ``Xt``.

    ``background`` (transformed rows) is needed by linear models only. ``tree_explainer`` is a
    ``shap.TreeExplainer`` built earlier for the same scikit-learn tree model (building one
    parses every tree, which is worth doing once).
    """
    regression = not hasattr(estimator, "classes_")
    if kind == "xgboost":
        return _xgboost(estimator, Xt, approximate, regression)
    if kind == "lightgbm":
        return _lightgbm(estimator, Xt, regression)
    if kind in TREE_KINDS:
        explainer = tree_explainer or make_tree_explainer(kind, estimator)
        return _sk_tree(explainer, estimator, Xt, approximate, regression, kind)
    if kind == "linear":
        return _linear(estimator, Xt, background, regression)
    raise ValueError(f"no SHAP route on features for the kind {kind!r} "
                     f"({type(estimator).__name__}); permutation SHAP explains it")


def make_tree_explainer(kind: str, estimator):
    import shap

    raw = {"model_output": "raw"} if kind == "tree_margin" else {}
    return shap.TreeExplainer(estimator, feature_perturbation="tree_path_dependent", **raw)


# --- one route per kind of model -----------------------------------------------------------


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
    # forests average probabilities; "tree_margin" trees (HistGradientBoosting) add log-odds
    space = "value" if regression else "margin" if kind == "tree_margin" else "probability"
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
