"""What a model family is: a search space, cheap defaults, an estimator builder, how SHAP
explains its fitted models and which types those models put in a model file.

Parameter names in the search space are prefixed with the family's name (``xgb__max_depth``)
so one Optuna study can hold every family's conditional parameters side by side.

``explainer`` names the route :mod:`automl.explain` takes for the family's fitted models:

=============== ===========================================================================
"xgboost"       XGBoost's own TreeSHAP (``pred_contribs``), Saabas values for quick views
"lightgbm"      LightGBM's own TreeSHAP (``pred_contrib``)
"tree"          ``shap.TreeExplainer`` on trees whose outputs are averaged (forests; class
                probabilities)
"tree_margin"   ``shap.TreeExplainer`` on the raw output of trees that add up log-odds
                (scikit-learn's HistGradientBoosting)
"linear"        ``shap.LinearExplainer`` (``coef_`` and ``intercept_``)
"permutation"   permutation SHAP on the user's columns: any model, slower
=============== ===========================================================================

``allowed_types`` are the fully qualified names (``module.Class``, as skops writes them) of
the types a fitted estimator of the family holds beyond the generic pipeline, preprocessing
and numpy ones. The model file's allow-list is the generic types plus every registered
family's (:mod:`automl.bundle._allowed`); a fitted estimator's own type also tells which
family it belongs to (:func:`automl.families.family_of`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from automl.preprocess import PrepOptions

if TYPE_CHECKING:  # the model file's loader reads the registry: it need not import Optuna
    import optuna

__all__ = ["Family", "FamilyContext"]


@dataclass(frozen=True)
class FamilyContext:
    """Facts about the data and machine that shape a search space and an estimator."""

    task: str  # binary | multiclass | regression
    n_rows: int
    n_columns: int
    n_classes: int = 0
    seed: int = 0
    n_jobs: int = 1
    time_budget: float = 60.0  # seconds for the whole search

    def max_rounds(self, low: int = 100, high: int = 2000) -> int:
        """An upper bound on trees/boosting rounds that keeps one trial a small share of
        the budget: more rounds for small tables and long budgets. A round costs about
        rows x columns, times the number of classes (one tree per class and round)."""
        work = max(self.n_rows, 1) * max(1.0, self.n_columns / 20)
        work *= self.n_classes if self.n_classes > 2 else 1
        return int(min(high, max(low, self.time_budget * 3e5 / work)))


class Family(ABC):
    """A model family. Subclasses set the class attributes (``allowed_types`` must name the
    types of every estimator ``build`` returns) and implement three methods."""

    name: ClassVar[str]
    title: ClassVar[str]
    tasks: ClassVar[frozenset[str]] = frozenset({"binary", "multiclass", "regression"})
    prep: ClassVar[PrepOptions] = PrepOptions()
    # How SHAP explains it: one of the routes in the module docstring.
    explainer: ClassVar[str] = "permutation"
    # Types its fitted estimators add to the model file's allow-list, their own included.
    allowed_types: ClassVar[frozenset[str]] = frozenset()
    # Expected cost of one fit relative to a small gradient-boosting model.
    cost: ClassVar[float] = 1.0
    # Order of the families' first trials (lower first): the strongest per second first.
    priority: ClassVar[int] = 50
    # Whether a trial's fold models may be the final model (bagging): for families whose
    # fitted models are small and quick to save and load; others are refitted on all rows.
    bag: ClassVar[bool] = False

    @abstractmethod
    def suggest(self, trial: optuna.Trial, ctx: FamilyContext) -> dict[str, Any]:
        """Sample this family's parameters (prefixed names) from ``trial``."""

    @abstractmethod
    def defaults(self, ctx: FamilyContext) -> list[dict[str, Any]]:
        """Cheap, robust configurations (prefixed names) tried before any sampling."""

    @abstractmethod
    def build(self, params: dict[str, Any], ctx: FamilyContext):
        """An unfitted estimator from unprefixed parameters."""

    def fit(self, pipe, X, y, *, X_val=None, y_val=None, deadline: float | None = None
            ) -> dict[str, Any]:
        """Fit ``pipe`` (preprocessing + this family's model) on one fold and return what
        the fit found that a refit should reuse (boosting: its rounds). ``X_val``/``y_val``
        are the fold's validation rows (early stopping may use them); ``deadline``
        (``time.monotonic()``) is when an anytime model should stop growing."""
        pipe.fit(X, y)
        return {}

    def refit_params(self, params: dict[str, Any], infos: list[dict]) -> dict[str, Any]:
        """Prefixed parameters for the refit on all rows, from what the folds found."""
        return params

    def p(self, key: str) -> str:
        """The prefixed parameter name."""
        return f"{self.name}__{key}"

    def strip(self, params: dict[str, Any]) -> dict[str, Any]:
        """Parameters of this family with the prefix removed; other keys are ignored."""
        pre = f"{self.name}__"
        return {k[len(pre):]: v for k, v in params.items() if k.startswith(pre)}

    def supports(self, task: str) -> bool:
        return task in self.tasks
