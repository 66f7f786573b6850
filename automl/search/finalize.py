"""After the search: choose the final model (best trial or an ensemble) and refit it on all
rows within what is left of the budget."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import optuna

from automl.ensemble import WeightedEnsemble, greedy_weights
from automl.families import get_family
from automl.search.context import SearchContext, make_pipeline

__all__ = ["FinalModel", "choose_and_refit", "refit_estimate"]

# Refit on all rows: more rows than a CV fold, and a margin for a slow machine.
REFIT_MARGIN = 1.5
MAX_CANDIDATES = 10


@dataclass
class FinalModel:
    estimator: object
    family: str  # a family name, or "ensemble"
    score: float  # per-fold mean of the metric on out-of-fold predictions
    members: list[dict] = field(default_factory=list)  # trial, family, weight, params


def refit_estimate(trial: optuna.trial.FrozenTrial | None, folds: int) -> float:
    """Expected seconds to refit ``trial`` on all rows, from its mean fold fit time."""
    if trial is None:
        return 0.0
    return trial.user_attrs.get("fold_fit_s", 0.0) * folds / max(folds - 1, 1) * REFIT_MARGIN


def ranked(trials, maximize: bool) -> list[optuna.trial.FrozenTrial]:
    done = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    return sorted(done, key=lambda t: t.value, reverse=maximize)


def likely_members(trials, maximize: bool, n: int = 3) -> list[optuna.trial.FrozenTrial]:
    """The best trial of each of the ``n`` best families: what an ensemble usually keeps."""
    seen, out = set(), []
    for t in ranked(trials, maximize):
        if t.params["family"] not in seen:
            seen.add(t.params["family"])
            out.append(t)
    return out[:n]


def choose_and_refit(ctx: SearchContext, trials, deadline: float, save_s: float = 0.5
                     ) -> FinalModel:
    """Refit a greedy ensemble when its out-of-fold score beats the best trial and all its
    members can be refitted before ``deadline`` (by their fold fit times); else the best."""
    maximize = ctx.metric.direction == "maximize"
    order = ranked(trials, maximize)
    best = order[0]
    weights, ens_score = _ensemble_weights(ctx, order)
    folds = len(ctx.folds)
    by_number = {t.number: t for t in order}
    if len(weights) > 1 and ctx.metric.better(ens_score, best.value):
        members = [by_number[n] for n in sorted(weights, key=weights.get, reverse=True)]
        needed = sum(refit_estimate(t, folds) for t in members)
        if time.time() + needed <= deadline - save_s:
            est = WeightedEnsemble.from_fitted([_refit(ctx, t) for t in members],
                                               [weights[t.number] for t in members], ctx.task)
            return FinalModel(est, "ensemble", ens_score, [
                {"trial": t.number, "family": t.params["family"], "weight": weights[t.number],
                 "params": _params(t)} for t in members])
    return FinalModel(_refit(ctx, best), best.params["family"], best.value)


def _ensemble_weights(ctx, order) -> tuple[dict[int, float], float | None]:
    cands = _candidates(order)
    oofs = {}
    for t in cands:
        try:
            oofs[t.number] = ctx.run.load_oof(t.number).astype(float)
        except (FileNotFoundError, ValueError):
            continue
    if len(oofs) < 2:
        return {}, None
    return greedy_weights(oofs, ctx.y, ctx.metric, ctx.folds)


def _candidates(order) -> list:
    """The best trials overall plus the best of each family, for diversity."""
    picked = {t.number: t for t in order[:MAX_CANDIDATES]}
    seen = set()
    for t in order:
        if t.params["family"] not in seen:
            seen.add(t.params["family"])
            picked.setdefault(t.number, t)
    return list(picked.values())


def _refit(ctx: SearchContext, trial):
    """Fit on all rows single-threaded, as the trials were: multi-threaded OpenMP fits were
    up to 15x slower here whenever other work shared the cores, which broke the budget."""
    from threadpoolctl import threadpool_limits

    pipe = make_pipeline(ctx.schema, get_family(trial.params["family"]), trial.params,
                         ctx.refit_context(1))
    with threadpool_limits(1):
        return pipe.fit(ctx.X, ctx.y)


def _params(trial) -> dict:
    return {k: v for k, v in trial.params.items() if k != "family"}
