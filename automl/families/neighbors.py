"""k-nearest neighbours: predictions from the most similar training rows."""

from __future__ import annotations

from typing import Any

from automl.families._base import Family, FamilyContext
from automl.preprocess import PrepOptions

__all__ = ["KNearestNeighbors"]


class KNearestNeighbors(Family):
    name = "knn"
    title = "k-nearest neighbours"
    explainer = "permutation"  # no faster exact route
    # the search tree over the kept rows and its distance (p = 1, 2 or other)
    allowed_types = frozenset({
        "sklearn.neighbors._classification.KNeighborsClassifier",
        "sklearn.neighbors._regression.KNeighborsRegressor",
        "sklearn.neighbors._ball_tree.BallTree", "sklearn.neighbors._kd_tree.KDTree",
        *(f"sklearn.metrics._dist_metrics.{m}Distance64" for m in (
            "Euclidean", "Manhattan", "Minkowski"))})
    prep = PrepOptions(scale=True, impute=True)
    cost = 0.5
    priority = 60

    def suggest(self, trial, ctx: FamilyContext) -> dict[str, Any]:
        p = self.p
        high = max(2, min(100, ctx.n_rows // 4))
        return {
            p("n_neighbors"): trial.suggest_int(p("n_neighbors"), 1, high, log=True),
            p("weights"): trial.suggest_categorical(p("weights"), ["uniform", "distance"]),
            p("p"): trial.suggest_int(p("p"), 1, 2),
        }

    def defaults(self, ctx):
        k = max(1, min(15, ctx.n_rows // 4))
        return [{self.p("n_neighbors"): k, self.p("weights"): "distance", self.p("p"): 2}]

    def build(self, params, ctx):
        from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

        cls = KNeighborsRegressor if ctx.task == "regression" else KNeighborsClassifier
        return cls(**params, n_jobs=ctx.n_jobs)
