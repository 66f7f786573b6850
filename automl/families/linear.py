"""Linear models: logistic regression for classes, ridge or elastic net for numbers."""

from __future__ import annotations

from typing import Any

from automl.families._base import Family, FamilyContext
from automl.preprocess import PrepOptions

__all__ = ["Linear"]


class Linear(Family):
    name = "linear"
    title = "Linear"
    explainer = "linear"
    allowed_types = frozenset({"sklearn.linear_model._logistic.LogisticRegression",
                               "sklearn.linear_model._ridge.Ridge",
                               "sklearn.linear_model._coordinate_descent.ElasticNet"})
    prep = PrepOptions(scale=True, impute=True)
    cost = 0.2
    priority = 15
    bag = True

    def suggest(self, trial, ctx: FamilyContext) -> dict[str, Any]:
        p = self.p
        if ctx.task != "regression":
            return {p("C"): trial.suggest_float(p("C"), 1e-4, 1e3, log=True)}
        model = trial.suggest_categorical(p("model"), ["ridge", "elasticnet"])
        out = {p("model"): model, p("alpha"): trial.suggest_float(p("alpha"), 1e-4, 1e3, log=True)}
        if model == "elasticnet":
            out[p("l1_ratio")] = trial.suggest_float(p("l1_ratio"), 0.05, 1.0)
        return out

    def defaults(self, ctx):
        if ctx.task != "regression":
            return [{self.p("C"): 1.0}]
        return [{self.p("model"): "ridge", self.p("alpha"): 1.0}]

    def build(self, params, ctx):
        from sklearn.linear_model import ElasticNet, LogisticRegression, Ridge

        params = dict(params)
        if ctx.task != "regression":
            return LogisticRegression(C=params["C"], max_iter=2000)
        if params.pop("model") == "ridge":
            return Ridge(alpha=params["alpha"])
        return ElasticNet(**params, max_iter=5000, random_state=ctx.seed)
