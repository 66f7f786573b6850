"""The registry of model families; each family lives in its own small module."""

from __future__ import annotations

from automl.errors import ConfigError
from automl.families._base import Family, FamilyContext
from automl.families.boosting import HistGradientBoosting, LightGBM, XGBoost
from automl.families.forest import ExtraTrees, RandomForest
from automl.families.linear import Linear
from automl.families.neighbors import KNearestNeighbors

__all__ = ["REGISTRY", "Family", "FamilyContext", "get_family", "register", "resolve_families"]

REGISTRY: dict[str, Family] = {}


def register(family: Family) -> Family:
    """Add a family to the registry (its ``name`` must be new)."""
    if family.name in REGISTRY:
        raise ValueError(f"family {family.name!r} is already registered")
    REGISTRY[family.name] = family
    return family


for _cls in (XGBoost, LightGBM, HistGradientBoosting, RandomForest, ExtraTrees, Linear,
             KNearestNeighbors):
    register(_cls())


def get_family(name: str) -> Family:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"Unknown model family {name!r}. Choose from: {', '.join(REGISTRY)}."
        ) from None


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
