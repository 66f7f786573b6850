"""One trial: pick a family and its parameters, cross-validate the pipeline, record it all.

Each fold's score is reported so the pruner can stop a weak trial early. A finished trial
keeps its scores, timings, model size and out-of-fold predictions; a failing one its error.
"""

from __future__ import annotations

import pickle
import time

import numpy as np
import optuna

from automl.families import get_family
from automl.search.bagging import keep_fold_models, worth_keeping
from automl.search.context import SearchContext, make_pipeline
from automl.search.stopping import StopRequested, StopSignal

__all__ = ["Objective", "chunk_std", "fair_share", "predict_scores"]

# A trial may take this share of the search time left (each worker's trials alike), so that
# no single configuration can use up the budget of the others.
SHARE = 1 / 3
MIN_TRIAL_S = 0.5


def fair_share(seconds_left: float) -> float:
    """Seconds one trial may take: a share of what is left, at least ``MIN_TRIAL_S``."""
    return max(MIN_TRIAL_S, seconds_left * SHARE)


def chunk_std(metric, y: np.ndarray, pred: np.ndarray, parts: int = 5) -> float | None:
    """The spread of the metric over ``parts`` interleaved parts of one validation split:
    what the spread across folds says for k folds (the scheduler's noise), for one split."""
    values = []
    for i in range(parts):
        try:
            values.append(metric(y[i::parts], pred[i::parts]))
        except ValueError:  # a part with a single class
            continue
    values = [v for v in values if np.isfinite(v)]
    return float(np.std(values)) if len(values) > 1 else None


def predict_scores(pipe, X, task: str, n_classes: int) -> np.ndarray:
    """Probabilities over all encoded classes (n, k), or values for regression (n,)."""
    if task == "regression":
        return np.asarray(pipe.predict(X), dtype=float)
    proba = pipe.predict_proba(X)
    seen = np.asarray(pipe.classes_, dtype=int)
    if len(seen) == n_classes:
        return proba
    full = np.zeros((len(X), n_classes))
    full[:, seen] = proba
    return full


class Objective:
    def __init__(self, ctx: SearchContext, stop: StopSignal):
        self.ctx = ctx
        self.stop = stop

    def __call__(self, trial: optuna.Trial) -> float:
        ctx = self.ctx
        family = get_family(trial.suggest_categorical("family", list(ctx.families)))
        params = family.suggest(trial, ctx.family_ctx)
        k = ctx.family_ctx.n_classes
        # NaN where no fold scores a row (one validation split scores only its own rows)
        oof = np.full((len(ctx.y), k) if ctx.task != "regression" else len(ctx.y), np.nan)
        scores, infos, pipes, fit_s, predict_s, n_pred = [], [], [], 0.0, 0.0, 0
        fit_started = None
        end = time.monotonic() + fair_share(self.stop.seconds_left())
        try:
            for step, (tr, va) in enumerate(ctx.folds):
                if self.stop.requested():
                    raise StopRequested
                pipe = make_pipeline(ctx.schema, family, params, ctx.family_ctx)
                t0 = fit_started = time.perf_counter()
                deadline = time.monotonic() + (end - time.monotonic()) / (len(ctx.folds) - step)
                with self.stop.fitting():
                    infos.append(family.fit(pipe, ctx.X.iloc[tr], ctx.y[tr],
                                            X_val=ctx.X.iloc[va], y_val=ctx.y[va],
                                            deadline=deadline))
                    t1 = time.perf_counter()
                    pred = predict_scores(pipe, ctx.X.iloc[va], ctx.task, k)
                t2, fit_started = time.perf_counter(), None
                fit_s, predict_s, n_pred = fit_s + t1 - t0, predict_s + t2 - t1, n_pred + len(va)
                oof[va] = pred
                pipes.append(pipe)
                scores.append(ctx.metric(ctx.y[va], pred))
                trial.report(scores[-1], step)
                if step < len(ctx.folds) - 1 and trial.should_prune():
                    self._record(trial, scores, fit_s, predict_s, n_pred, infos)
                    raise optuna.TrialPruned(f"pruned after fold {step + 1}")
        except StopRequested:
            if fit_started is not None:  # interrupted in a fit: that time was spent fitting
                fit_s += time.perf_counter() - fit_started
            trial.set_user_attr("stopped", True)
            self._record(trial, scores, fit_s, predict_s, n_pred, infos)
            raise optuna.TrialPruned("stopped: time budget or stop request") from None
        except optuna.TrialPruned:
            raise
        except Exception as exc:
            trial.set_user_attr("error", f"{type(exc).__name__}: {exc}"[:500])
            raise
        self._record(trial, scores, fit_s, predict_s, n_pred, infos)
        if len(ctx.folds) == 1:  # no spread across folds: the spread across parts of it
            trial.set_user_attr("std", chunk_std(ctx.metric, ctx.y[va], pred))
        trial.set_user_attr("size_kb", round(len(pickle.dumps(pipe)) / 1024, 1))
        ctx.run.save_oof(trial.number, oof)
        if ctx.remote is not None:  # a worker on another machine: the supervisor needs them
            ctx.remote.send_oof(trial, oof)
        value = float(np.mean(scores))
        if family.bag and worth_keeping(trial.study, trial.number, value, family.name):
            keep_fold_models(ctx.run, trial.number, pipes)
        return value

    def _record(self, trial, scores, fit_s, predict_s, n_pred, infos) -> None:
        trial.set_user_attr("fold_scores", [round(s, 6) for s in scores])
        if any(infos):
            trial.set_user_attr("fold_info", infos)
        trial.set_user_attr("std", float(np.std(scores)) if scores else None)
        trial.set_user_attr("fit_s", round(fit_s, 4))
        trial.set_user_attr("fold_fit_s", round(fit_s / max(len(scores), 1), 4))
        trial.set_user_attr("predict_ms_per_1k", round(1e6 * predict_s / max(n_pred, 1), 3))
