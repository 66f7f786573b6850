"""The registry of model families; each family lives in its own small module.

The registry is fixed in code: a new family is a new module in this package (a
:class:`Family` subclass setting its name, tasks, search space, defaults, builder, explainer
kind and allowed types) whose class is added to the list below, and nothing else. There is
no public ``register()``: the search runs trials in spawned worker processes, which import
this package afresh, so a family added to the registry at run time in the parent would be
unknown to them (and to the model file's allow-list in any other process).
"""

from __future__ import annotations

from automl.errors import ConfigError
from automl.families._base import Family, FamilyContext
from automl.families.boosting import HistGradientBoosting, LightGBM, XGBoost
from automl.families.forest import ExtraTrees, RandomForest
from automl.families.linear import Linear
from automl.families.neighbors import KNearestNeighbors

__all__ = ["REGISTRY", "Family", "FamilyContext", "family_of", "get_family", "resolve_families"]

REGISTRY: dict[str, Family] = {}


def _register(family: Family) -> Family:
    if family.name in REGISTRY:
        raise ValueError(f"family {family.name!r} is already registered")
    REGISTRY[family.name] = family
    return family


for _cls in (XGBoost, LightGBM, HistGradientBoosting, RandomForest, ExtraTrees, Linear,
             KNearestNeighbors):
    _register(_cls())


def get_family(name: str) -> Family:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"Unknown model family {name!r}. Choose from: {', '.join(REGISTRY)}."
        ) from None


def family_of(estimator) -> Family | None:
    """The registered family whose ``allowed_types`` name the type of ``estimator`` (a fitted
    pipeline's model step); None for an estimator that no family builds."""
    name = f"{type(estimator).__module__}.{type(estimator).__qualname__}"
    return next((f for f in REGISTRY.values() if name in f.allowed_types), None)


def resolve_families(names, task: str) -> tuple[str, ...]:
    """Validate a family list for ``task``; None means every family that supports it."""
    if not names:
        return tuple(n for n, f in REGISTRY.items() if f.supports(task))
    chosen = []
    for name in names:
        fam = get_family(name)
        if not fam.supports(task):
            raise ConfigError(f"Family {name!r} cannot do {task}; leave it out.")
        if name not in chosen:
            chosen.append(name)
    return tuple(chosen)
