"""What a model family is: a search space, cheap defaults, an estimator builder.

Parameter names in the search space are prefixed with the family's name (``xgb__max_depth``)
so one Optuna study can hold every family's conditional parameters side by side.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import optuna

from automl.preprocess import PrepOptions

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
    """A model family. Subclasses set the class attributes and implement three methods."""

    name: ClassVar[str]
    title: ClassVar[str]
    tasks: ClassVar[frozenset[str]] = frozenset({"binary", "multiclass", "regression"})
    prep: ClassVar[PrepOptions] = PrepOptions()
    # How SHAP explains it: "tree" (TreeSHAP), "linear", or "permutation".
    explainer: ClassVar[str] = "permutation"
    # Expected cost of one fit relative to a small gradient-boosting model; orders defaults.
    cost: ClassVar[float] = 1.0

    @abstractmethod
    def suggest(self, trial: optuna.Trial, ctx: FamilyContext) -> dict[str, Any]:
        """Sample this family's parameters (prefixed names) from ``trial``."""

    @abstractmethod
    def defaults(self, ctx: FamilyContext) -> list[dict[str, Any]]:
        """Cheap, robust configurations (prefixed names) tried before any sampling."""

    @abstractmethod
    def build(self, params: dict[str, Any], ctx: FamilyContext):
        """An unfitted estimator from unprefixed parameters."""

    def p(self, key: str) -> str:
        """The prefixed parameter name."""
        return f"{self.name}__{key}"

    def strip(self, params: dict[str, Any]) -> dict[str, Any]:
        """Parameters of this family with the prefix removed; other keys are ignored."""
        pre = f"{self.name}__"
        return {k[len(pre):]: v for k, v in params.items() if k.startswith(pre)}

    def supports(self, task: str) -> bool:
        return task in self.tasks
