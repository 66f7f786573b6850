"""Which family the next trial explores, and whether it takes a portfolio configuration.

A plain categorical in TPE spends trials on a family that is cheap and mediocre as readily as
on one that is slow and winning. Here the choice weighs cost against expected gain, as
FLAML's estimated cost for improvement (ECI) does:

1. every family's portfolio opens with one configuration; each family gets that first trial,
   in priority order (the strongest per second first);
2. then each family's ECI is the time it is expected to need for its next improvement: the
   longer of the time its last improvement took and the time spent since, at least one
   trial's cost. A family is picked with probability proportional to 1/ECI, times
   exp(-gap / noise) when its best is behind the leader's by ``gap`` (``noise``: the
   leader's spread across folds). So a family within noise of the leader keeps its share,
   a cheap family far behind does not take the budget, and none is ruled out for good;
3. within a family the rest of its portfolio comes before TPE's proposals.

The statistics are read from the study's trials, so every worker (on any machine) decides
from the same record.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import optuna

from automl.families import get_family

__all__ = ["FamilyStats", "Plan", "PlannedSampler", "eci", "family_stats", "plan_next",
           "planned", "weights"]

_DONE = optuna.trial.TrialState.COMPLETE
_FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED,
             optuna.trial.TrialState.FAIL)


@dataclass
class FamilyStats:
    """What the study says about one family so far (scores as "higher is better")."""

    started: int = 0  # trials of the family, running ones included
    complete: int = 0
    failed: int = 0
    spent: float = 0.0  # seconds of its finished trials
    first: float | None = None  # its first complete score
    best: float | None = None
    best_before: float | None = None  # the best before the current best
    t_best: float = 0.0  # seconds spent on the family when ``best`` was found
    t_before: float = 0.0  # ... when ``best_before`` was found
    last_cost: float = 0.0  # seconds of its latest finished trial


@dataclass(frozen=True)
class Plan:
    family: str
    params: dict | None  # a portfolio configuration (prefixed names), or None: TPE's turn


class PlannedSampler(optuna.samplers.BaseSampler):
    """TPE, except for the values the scheduler fixed for the next trial (``plan``: its
    family and, while the family's portfolio lasts, its configuration). Fixing them in the
    sampler, rather than enqueueing trials, leaves no queued trial behind when a worker
    stops, and two workers never take each other's plans."""

    def __init__(self, inner: optuna.samplers.BaseSampler):
        self.inner = inner
        self.plan: dict = {}

    def infer_relative_search_space(self, study, trial):
        space = self.inner.infer_relative_search_space(study, trial)
        return {k: v for k, v in space.items() if k not in self.plan}

    def sample_relative(self, study, trial, search_space):
        sampled = self.inner.sample_relative(study, trial, search_space)
        return {k: v for k, v in sampled.items() if k not in self.plan}

    def sample_independent(self, study, trial, param_name, param_distribution):
        if param_name in self.plan:
            return self.plan[param_name]
        return self.inner.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study, trial):
        self.inner.before_trial(study, trial)

    def after_trial(self, study, trial, state, values):
        self.inner.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self.inner.reseed_rng()


def planned(trial) -> dict:
    """A trial's parameters, or, while it has not suggested them yet, its plan (the worker
    records the plan when it asks for the trial: another worker planning at the same moment
    then sees the family and configuration as taken)."""
    return trial.params or trial.user_attrs.get("plan") or {}


def family_stats(trials, families, maximize: bool) -> dict[str, FamilyStats]:
    """Per-family statistics, in trial order."""
    stats = {f: FamilyStats() for f in families}
    for t in sorted(trials, key=lambda t: t.number):
        s = stats.get(planned(t).get("family"))
        if s is None:
            continue
        s.started += 1
        if t.state not in _FINISHED:
            continue
        cost = (t.datetime_complete - t.datetime_start).total_seconds() if (
            t.datetime_complete and t.datetime_start) else 0.0
        s.spent += cost
        s.last_cost = cost
        if t.state == optuna.trial.TrialState.FAIL:
            s.failed += 1
        if t.state != _DONE or t.value is None:
            continue
        s.complete += 1
        value = t.value if maximize else -t.value
        if s.first is None:
            s.first = value
        if s.best is None or value > s.best:
            s.best_before, s.t_before = s.best, s.t_best
            s.best, s.t_best = value, s.spent
    return stats


def plan_next(study: optuna.Study, families: tuple[str, ...], ctx, rng: np.random.Generator
              ) -> Plan:
    """The next trial's family and, while the family's portfolio lasts, its configuration."""
    maximize = study.direction == optuna.study.StudyDirection.MAXIMIZE
    trials = study.get_trials(deepcopy=False)
    stats = family_stats(trials, families, maximize)
    done = [t for t in trials if t.state == _DONE and t.value is not None]
    best = (max if maximize else min)(done, key=lambda t: t.value) if done else None
    noise = (best.user_attrs.get("std") or 0.0) if best else 0.0
    family = _choose(stats, families, noise, rng)
    portfolio = get_family(family).defaults(ctx)
    tried = [planned(t) for t in trials if planned(t).get("family") == family]
    for config in portfolio:
        if not any(_same(config, p) for p in tried):
            return Plan(family, config)
    return Plan(family, None)


def eci(s: FamilyStats) -> float:
    """Expected seconds until the family improves on its best: the longer of the time its
    last improvement took and the time spent since, at least one trial's cost."""
    return max(s.t_best - s.t_before, s.spent - s.t_best, s.last_cost, 1e-3)


def weights(stats: dict[str, FamilyStats], families, noise: float) -> dict[str, float]:
    """Each scored family's chance of the next trial: 1/ECI, times exp(-gap / noise) for a
    family whose best is behind the leader's (``noise``: the leader's spread across folds,
    so a family within noise of the leader keeps its chance)."""
    scored = [f for f in families if stats[f].best is not None]
    if not scored:
        return {}
    leader = max(stats[f].best for f in scored)
    noise = max(noise, 1e-6)
    return {f: math.exp(-(leader - stats[f].best) / noise) / eci(stats[f]) for f in scored}


def _choose(stats: dict[str, FamilyStats], families, noise: float, rng) -> str:
    order = sorted(families, key=lambda f: get_family(f).priority)
    untried = [f for f in order if stats[f].started == 0]
    if untried:
        return untried[0]
    w = weights(stats, order, noise)
    if not w:  # nothing finished yet: the family with the fewest trials, in order
        return min(order, key=lambda f: (stats[f].started, order.index(f)))
    names, p = list(w), np.array(list(w.values()))
    if not np.isfinite(p).all() or p.sum() <= 0:
        return max(names, key=lambda f: stats[f].best)
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def _same(a: dict, b: dict) -> bool:
    keys = set(a) - {"family"}
    return all(k in b and _close(a[k], b[k]) for k in keys)


def _close(x, y) -> bool:
    if isinstance(x, float) or isinstance(y, float):
        try:
            return math.isclose(float(x), float(y), rel_tol=1e-9, abs_tol=1e-12)
        except (TypeError, ValueError):
            return False
    return x == y
