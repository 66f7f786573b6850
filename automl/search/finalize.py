"""After the search: choose the final model (best trial or an ensemble) and refit it on all
rows within what is left of the budget."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import optuna

from automl.ensemble import WeightedEnsemble, greedy_weights
from automl.families import get_family
from automl.search.bagging import KEEP as MAX_CANDIDATES
from automl.search.bagging import load_fold_models
from automl.search.context import SearchContext, make_pipeline

__all__ = ["FinalModel", "choose_and_refit", "likely_members", "ranked", "refit_estimate",
           "refit_reserve"]

# Refit on all rows: more rows than a CV fold, and a margin for a slow machine.
REFIT_MARGIN = 1.5
LOAD_S = 0.3  # reading one trial's kept fold models
# "bag": members are their trials' kept fold models where kept; "refit": always refit.
FINAL_MODE = os.environ.get("AUTOML_FINAL", "bag")
# Above this size a bagged final model is refitted instead: the model file's payload is capped
# (automl.bundle refuses a schema above 64 MiB) and a smaller file loads and scores faster.
MAX_FINAL_KB = 16 * 1024


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
    """The final model: a greedy ensemble when its out-of-fold score beats the best trial,
    else the best trial. Each member is its trial's kept fold models (bagging, no refit)
    or, where those were not kept (and always after one validation split), a refit on all
    rows; an ensemble whose refits would not finish before ``deadline`` (by their fold fit
    times) gives way to the best trial, refitted if there is time, else its kept model."""
    maximize = ctx.metric.direction == "maximize"
    order = ranked(trials, maximize)
    # a model far too big for a model file (kNN keeps its training rows) is never a member
    order = [t for t in order if (t.user_attrs.get("size_kb") or 0) <= MAX_FINAL_KB] or order
    best, folds = order[0], len(ctx.folds)
    by_number = {t.number: t for t in order}
    weights, ens_score = _ensemble_weights(ctx, order)
    if not (len(weights) > 1 and ctx.metric.better(ens_score, best.value)):
        weights, ens_score = {best.number: 1.0}, best.value
    parts = {n: _kept(ctx, by_number[n]) for n in weights}
    if _size_kb(parts, by_number) > MAX_FINAL_KB:  # k copies of big boosted models
        parts = {n: None for n in parts}  # one refit per member instead
    if folds == 1:  # its models saw 80% of the rows: refit on all of them while time allows
        parts = _refit_while_time(parts, by_number, weights, deadline - save_s - time.time())
    needed = sum(refit_estimate(by_number[n], folds) for n, p in parts.items() if p is None)
    if len(weights) > 1 and time.time() + needed > deadline - save_s:
        weights, ens_score = {best.number: 1.0}, best.value
        parts = {best.number: parts[best.number] if best.number in parts
                 else (_kept(ctx, best) if folds > 1 else None)}
    if parts.get(best.number) is None and len(weights) == 1 and (
            time.time() + refit_estimate(best, folds) > deadline - save_s):
        parts[best.number] = _kept(ctx, best)  # no time to refit: its fold models, if kept
    members = [by_number[n] for n in sorted(weights, key=weights.get, reverse=True)]
    estimators, shares = [], []
    for t in members:
        fitted = parts[t.number] or [_refit(ctx, t)]
        estimators += fitted
        shares += [weights[t.number] / len(fitted)] * len(fitted)
    if len(estimators) == 1:
        return FinalModel(estimators[0], best.params["family"], best.value)
    est = WeightedEnsemble.from_fitted(estimators, shares, ctx.task)
    family = "ensemble" if len(members) > 1 else best.params["family"]
    return FinalModel(est, family, ens_score, [
        {"trial": t.number, "family": t.params["family"], "weight": weights[t.number],
         "params": _params(t), "bagged": parts[t.number] is not None} for t in members])


def _refit_while_time(parts: dict, by_number: dict, weights: dict, seconds: float) -> dict:
    """Members to refit (None) in order of weight while their refits fit in ``seconds``;
    the others keep their kept model."""
    out = dict(parts)
    for n in sorted(weights, key=weights.get, reverse=True):
        cost = refit_estimate(by_number[n], 1)
        if out[n] is None or cost <= seconds:
            out[n] = None
            seconds -= cost
    return out


def _size_kb(parts: dict, by_number: dict) -> float:
    """The final model's size as the trials measured it (a bagged member holds k models)."""
    return sum((by_number[n].user_attrs.get("size_kb") or 0.0) * (len(p) if p else 1)
               for n, p in parts.items())


def _kept(ctx: SearchContext, trial) -> list | None:
    """The trial's fold models when bagging is on and they were kept whole."""
    if FINAL_MODE != "bag" or not get_family(trial.params["family"]).bag:
        return None
    pipes = load_fold_models(ctx.run, trial.number)
    if not pipes or len(pipes) != len(ctx.folds):
        return None
    if ctx.task != "regression" and any(
            len(getattr(p, "classes_", ())) != ctx.family_ctx.n_classes for p in pipes):
        return None  # a fold without some class: its probabilities would not line up
    return pipes


def refit_reserve(ctx: SearchContext, trials, maximize: bool) -> float:
    """Seconds to keep for building the final model: refits of the likely members whose
    fold models are not kept, and reading the kept ones."""
    folds, total = len(ctx.folds), 0.0
    likely = likely_members(trials, maximize)
    if folds == 1:  # one split: only the best's refit is needed; the others' if time allows
        return refit_estimate(likely[0], folds) + LOAD_S * (len(likely) - 1) if likely else 0.0
    for t in likely:
        kept = FINAL_MODE == "bag" and (ctx.run.path / "folds" / f"{t.number}.skops").exists()
        total += LOAD_S if kept else refit_estimate(t, folds)
    return total


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

    family = get_family(trial.params["family"])
    params = family.refit_params(trial.params, trial.user_attrs.get("fold_info") or [])
    pipe = make_pipeline(ctx.schema, family, params, ctx.refit_context(1))
    with threadpool_limits(1):
        return pipe.fit(ctx.X, ctx.y)


def _params(trial) -> dict:
    return {k: v for k, v in trial.params.items() if k != "family"}
