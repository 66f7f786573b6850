"""After the search: choose the final model (best trial or an ensemble) and refit it on all
rows within what is left of the budget."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import optuna

from automl.config import available_cores
from automl.ensemble import WeightedEnsemble, fold_score, greedy_weights
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
    """Refit the best trial, or a greedy ensemble when its out-of-fold score is better and
    its members can be refitted before ``deadline``."""
    maximize = ctx.metric.direction == "maximize"
    order = ranked(trials, maximize)
    best = order[0]
    weights, ens_score = _ensemble_weights(ctx, order)
    folds = len(ctx.folds)
    by_number = {t.number: t for t in order}
    if len(weights) > 1 and ctx.metric.better(ens_score, best.value):
        members = sorted(weights, key=weights.get, reverse=True)
        fitted = {}
        for number in members:
            needed = refit_estimate(by_number[number], folds)
            if fitted and time.time() + needed > deadline - save_s:
                break
            fitted[number] = _refit(ctx, by_number[number])
        if len(fitted) == len(members) or (best.number in fitted and len(fitted) > 1):
            kept = {n: weights[n] for n in fitted}
            score = _score_of(ctx, kept) if len(fitted) < len(members) else ens_score
            if ctx.metric.better(score, best.value):
                est = WeightedEnsemble.from_fitted([fitted[n] for n in kept],
                                                   list(kept.values()), ctx.task)
                return FinalModel(est, "ensemble", score, [
                    {"trial": n, "family": by_number[n].params["family"], "weight": w,
                     "params": _params(by_number[n])} for n, w in kept.items()])
        if best.number in fitted:
            return FinalModel(fitted[best.number], best.params["family"], best.value)
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


def _score_of(ctx, weights: dict[int, float]) -> float:
    total = sum(weights.values())
    pred = sum(w / total * ctx.run.load_oof(n).astype(float) for n, w in weights.items())
    return fold_score(ctx.metric, ctx.y, np.asarray(pred), ctx.folds)


def _refit(ctx: SearchContext, trial):
    from threadpoolctl import threadpool_limits

    cores = available_cores()
    pipe = make_pipeline(ctx.schema, get_family(trial.params["family"]), trial.params,
                         ctx.refit_context(cores))
    with threadpool_limits(cores):
        return pipe.fit(ctx.X, ctx.y)


def _params(trial) -> dict:
    return {k: v for k, v in trial.params.items() if k != "family"}
