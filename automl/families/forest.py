"""Bagged trees: random forests and extremely randomised trees."""

from __future__ import annotations

import time
from typing import Any

from automl.families._base import Family, FamilyContext
from automl.preprocess import PrepOptions

__all__ = ["ExtraTrees", "RandomForest"]

_FIRST_TREES = 16


class _Forest(Family):
    explainer = "tree"  # averaged trees: class probabilities
    prep = PrepOptions(impute=True)  # keeps forests independent of NaN support by version
    cost = 2.0
    priority = 40

    def suggest(self, trial, ctx: FamilyContext) -> dict[str, Any]:
        p = self.p
        high = ctx.max_rounds(low=50, high=500) // 4
        out = {
            p("n_estimators"): trial.suggest_int(p("n_estimators"), 20, max(high, 50), log=True),
            p("max_features"): trial.suggest_float(p("max_features"), 0.1, 1.0),
            p("min_samples_leaf"): trial.suggest_int(p("min_samples_leaf"), 1, 32, log=True),
        }
        if ctx.task != "regression":
            out[p("criterion")] = trial.suggest_categorical(p("criterion"), ["gini", "entropy"])
        return out

    def defaults(self, ctx):
        high = max(ctx.max_rounds(low=50, high=500) // 4, 50)
        base = dict(n_estimators=min(300, high), max_features=0.5, min_samples_leaf=1)
        if ctx.task != "regression":
            base["criterion"] = "gini"
        return [{self.p(k): v for k, v in base.items()}]

    def build(self, params, ctx):
        cls = self._regressor() if ctx.task == "regression" else self._classifier()
        return cls(**params, n_jobs=ctx.n_jobs, random_state=ctx.seed)

    def fit(self, pipe, X, y, *, X_val=None, y_val=None, deadline=None):
        """Grow the forest in doubling batches of trees until its size or the deadline:
        a forest is usable at any size, so a slow one is cut short instead of running
        past its share of the budget."""
        if deadline is None:
            pipe.fit(X, y)
            return {}
        prep, model = pipe.named_steps["prep"], pipe.named_steps["model"]
        Xt, target = prep.fit_transform(X, y), model.n_estimators
        model.set_params(warm_start=True, n_estimators=min(_FIRST_TREES, target))
        try:
            started = time.monotonic()
            model.fit(Xt, y)
            while model.n_estimators < target:
                per_tree = (time.monotonic() - started) / model.n_estimators
                more = min(target - model.n_estimators, model.n_estimators)
                if time.monotonic() + per_tree * more > deadline:
                    break
                model.set_params(n_estimators=model.n_estimators + more)
                model.fit(Xt, y)
        finally:
            model.set_params(warm_start=False)
        return {"trees": model.n_estimators}

    def refit_params(self, params, infos):
        trees = [i["trees"] for i in infos if i and i.get("trees")]
        return {**params, self.p("n_estimators"): int(min(trees))} if trees else params


class RandomForest(_Forest):
    name = "rf"
    title = "Random forest"
    allowed_types = frozenset({
        "sklearn.ensemble._forest.RandomForestClassifier",
        "sklearn.ensemble._forest.RandomForestRegressor",
        "sklearn.tree._classes.DecisionTreeClassifier",
        "sklearn.tree._classes.DecisionTreeRegressor", "sklearn.tree._tree.Tree"})

    def _classifier(self):
        from sklearn.ensemble import RandomForestClassifier
        return RandomForestClassifier

    def _regressor(self):
        from sklearn.ensemble import RandomForestRegressor
        return RandomForestRegressor


class ExtraTrees(_Forest):
    name = "et"
    title = "Extra trees"
    allowed_types = frozenset({
        "sklearn.ensemble._forest.ExtraTreesClassifier",
        "sklearn.ensemble._forest.ExtraTreesRegressor",
        "sklearn.tree._classes.ExtraTreeClassifier",
        "sklearn.tree._classes.ExtraTreeRegressor", "sklearn.tree._tree.Tree"})
    cost = 1.5
    priority = 35

    def _classifier(self):
        from sklearn.ensemble import ExtraTreesClassifier
        return ExtraTreesClassifier

    def _regressor(self):
        from sklearn.ensemble import ExtraTreesRegressor
        return ExtraTreesRegressor
