"""Gradient-boosted trees: XGBoost, LightGBM and scikit-learn's HistGradientBoosting.

The number of rounds is not searched: each fold stops early on its validation rows (or when
the trial's time share is spent) and the refit uses the rounds the folds found
(:mod:`automl.families._early`). Each family's portfolio starts with a fast, robust default
and goes on with configurations that do well across many tables (after AutoGluon's
zero-shot portfolio), before TPE takes over.
"""

from __future__ import annotations

import time
from typing import Any

from automl.families._base import Family, FamilyContext
from automl.families._early import PATIENCE, Watch, fit_prep, refit_rounds
from automl.preprocess import PrepOptions

__all__ = ["HistGradientBoosting", "LightGBM", "XGBoost"]

MAX_ROUNDS = 5000  # a cap only: early stopping and the time share end boosting first
_FIRST_ITER = 32  # HistGradientBoosting grows from this many iterations, doubling


_LABELS = "sklearn.preprocessing._label.LabelEncoder"  # the classes of a classifier


class _Boosting(Family):
    rounds_key = "n_estimators"
    plain_rounds = 200  # rounds of a model fitted without a validation set to stop on

    def max_rounds(self, ctx: FamilyContext | None = None) -> int:
        """The cap on rounds while early stopping watches a validation set."""
        return MAX_ROUNDS

    def fit(self, pipe, X, y, *, X_val=None, y_val=None, deadline=None):
        if X_val is None:
            pipe.fit(X, y)
            return {}
        Xt, Xv = fit_prep(pipe, X, y, X_val)
        model, watch = pipe.named_steps["model"], Watch(deadline)
        model.set_params(**{self.rounds_key: self.max_rounds()})
        self._boost(model, Xt, y, Xv, y_val, watch)
        return watch.info()

    def _boost(self, model, Xt, y, Xv, y_val, watch: Watch) -> None:
        """Boost on ``Xt``, calling ``watch.update`` with each round's validation loss and
        stopping when it says so; leave the model cut back to ``watch.best_round`` rounds."""
        raise NotImplementedError

    def refit_params(self, params, infos):
        rounds = refit_rounds(infos, default=self.plain_rounds)
        return {**params, self.p(self.rounds_key): rounds}

    def _config(self, base: dict) -> dict[str, Any]:
        return {self.p(k): v for k, v in base.items()}


class XGBoost(_Boosting):
    name = "xgb"
    title = "XGBoost"
    explainer = "xgboost"
    allowed_types = frozenset({"xgboost.sklearn.XGBClassifier", "xgboost.sklearn.XGBRegressor",
                               "xgboost.core.Booster"})
    prep = PrepOptions(impute=False)  # splits on missing values itself
    cost = 1.0
    priority = 30
    bag = True  # one booster blob per fold: quick to save and load

    def suggest(self, trial, ctx: FamilyContext) -> dict[str, Any]:
        p = self.p
        return {
            p("learning_rate"): trial.suggest_float(p("learning_rate"), 0.005, 0.5, log=True),
            p("max_depth"): trial.suggest_int(p("max_depth"), 2, 12),
            p("min_child_weight"): trial.suggest_float(p("min_child_weight"), 0.5, 64, log=True),
            p("subsample"): trial.suggest_float(p("subsample"), 0.5, 1.0),
            p("colsample_bytree"): trial.suggest_float(p("colsample_bytree"), 0.3, 1.0),
            p("reg_lambda"): trial.suggest_float(p("reg_lambda"), 1e-3, 100, log=True),
            p("reg_alpha"): trial.suggest_float(p("reg_alpha"), 1e-3, 10, log=True),
        }

    def defaults(self, ctx):
        base = dict(learning_rate=0.1, max_depth=6, min_child_weight=1.0, subsample=1.0,
                    colsample_bytree=1.0, reg_lambda=1.0, reg_alpha=1e-3)
        return [self._config(c) for c in (
            base,
            {**base, "learning_rate": 0.088, "max_depth": 5, "min_child_weight": 0.63,
             "colsample_bytree": 0.66},
            {**base, "learning_rate": 0.018, "max_depth": 10, "min_child_weight": 0.6,
             "colsample_bytree": 0.69},
        )]

    def build(self, params, ctx):
        from xgboost import XGBClassifier, XGBRegressor

        cls = XGBRegressor if ctx.task == "regression" else XGBClassifier
        params = {"n_estimators": self.plain_rounds, **params}
        return cls(**params, tree_method="hist", n_jobs=ctx.n_jobs, random_state=ctx.seed,
                   verbosity=0)

    def _boost(self, model, Xt, y, Xv, y_val, watch: Watch) -> None:
        from xgboost.callback import TrainingCallback

        class _Stop(TrainingCallback):
            def after_iteration(self, booster, epoch, evals_log):
                return watch.update(next(iter(evals_log["validation_0"].values()))[-1])

        model.set_params(callbacks=[_Stop()])
        try:
            model.fit(Xt, y, eval_set=[(Xv, y_val)], verbose=False)
        finally:
            model.set_params(callbacks=None)
        model._Booster = model.get_booster()[: watch.info()["rounds"]]  # its best rounds
        model.set_params(n_estimators=watch.info()["rounds"])
        model.__dict__.pop("evals_result_", None)


class LightGBM(_Boosting):
    name = "lgbm"
    title = "LightGBM"
    explainer = "lightgbm"
    allowed_types = frozenset({"lightgbm.sklearn.LGBMClassifier", "lightgbm.sklearn.LGBMRegressor",
                               "lightgbm.basic.Booster", _LABELS})
    prep = PrepOptions(impute=False)  # splits on missing values itself
    cost = 0.7
    priority = 10
    bag = True

    def suggest(self, trial, ctx: FamilyContext) -> dict[str, Any]:
        p = self.p
        return {
            p("learning_rate"): trial.suggest_float(p("learning_rate"), 0.005, 0.5, log=True),
            p("num_leaves"): trial.suggest_int(p("num_leaves"), 4, 256, log=True),
            p("min_child_samples"): trial.suggest_int(p("min_child_samples"), 2, 100, log=True),
            p("subsample"): trial.suggest_float(p("subsample"), 0.5, 1.0),
            p("colsample_bytree"): trial.suggest_float(p("colsample_bytree"), 0.3, 1.0),
            p("reg_lambda"): trial.suggest_float(p("reg_lambda"), 1e-3, 100, log=True),
            p("reg_alpha"): trial.suggest_float(p("reg_alpha"), 1e-3, 10, log=True),
            p("extra_trees"): trial.suggest_categorical(p("extra_trees"), [False, True]),
        }

    def defaults(self, ctx):
        base = dict(learning_rate=0.1, num_leaves=31, min_child_samples=20, subsample=1.0,
                    colsample_bytree=1.0, reg_lambda=1e-3, reg_alpha=1e-3, extra_trees=False)
        return [self._config(c) for c in (
            base,
            {**base, "learning_rate": 0.03, "num_leaves": 128, "colsample_bytree": 0.9,
             "min_child_samples": 3},
            {**base, "extra_trees": True},
            {**base, "learning_rate": 0.015, "num_leaves": 16, "colsample_bytree": 0.56,
             "min_child_samples": 48, "extra_trees": True},
        )]

    def build(self, params, ctx):
        from lightgbm import LGBMClassifier, LGBMRegressor

        cls = LGBMRegressor if ctx.task == "regression" else LGBMClassifier
        params = {"n_estimators": self.plain_rounds, **params}
        return cls(**params, subsample_freq=1 if params.get("subsample", 1.0) < 1.0 else 0,
                   n_jobs=ctx.n_jobs, random_state=ctx.seed, verbose=-1)

    def _boost(self, model, Xt, y, Xv, y_val, watch: Watch) -> None:
        import lightgbm as lgb

        def stop(env):
            _, _, loss, higher_better = env.evaluation_result_list[0][:4]
            if watch.update(-loss if higher_better else loss):
                raise lgb.callback.EarlyStopException(watch.best_round - 1,
                                                      env.evaluation_result_list)

        model.fit(Xt, y, eval_X=Xv, eval_y=y_val, callbacks=[stop])
        best = watch.info()["rounds"]
        model._Booster = lgb.Booster(model_str=model.booster_.model_to_string(num_iteration=best))
        model._best_iteration = -1  # every tree left is used
        model.set_params(n_estimators=best)
        model._evals_result, model._best_score = {}, {}  # eval logs: not part of the model


class HistGradientBoosting(_Boosting):
    name = "hgb"
    title = "HistGradientBoosting"
    explainer = "tree_margin"  # its trees add up log-odds
    allowed_types = frozenset({
        *(f"sklearn.ensemble._hist_gradient_boosting.{c}" for c in (
            "gradient_boosting.HistGradientBoostingClassifier",
            "gradient_boosting.HistGradientBoostingRegressor",
            "binning._BinMapper", "predictor.TreePredictor")),
        *(f"sklearn._loss.{c}" for c in (
            "loss.HalfBinomialLoss", "loss.HalfMultinomialLoss", "loss.HalfSquaredError",
            "_loss.CyHalfBinomialLoss", "_loss.CyHalfMultinomialLoss", "_loss.CyHalfSquaredError",
            "link.IdentityLink", "link.Interval", "link.LogitLink", "link.MultinomialLogit")),
        _LABELS,
    })
    prep = PrepOptions(impute=False, dense=True)
    cost = 0.8
    priority = 20
    rounds_key = "max_iter"

    def suggest(self, trial, ctx: FamilyContext) -> dict[str, Any]:
        p = self.p
        return {
            p("learning_rate"): trial.suggest_float(p("learning_rate"), 0.005, 0.5, log=True),
            p("max_leaf_nodes"): trial.suggest_int(p("max_leaf_nodes"), 4, 128, log=True),
            p("min_samples_leaf"): trial.suggest_int(p("min_samples_leaf"), 2, 100, log=True),
            p("l2_regularization"): trial.suggest_float(p("l2_regularization"), 1e-4, 10, log=True),
            p("max_features"): trial.suggest_float(p("max_features"), 0.3, 1.0),
        }

    def defaults(self, ctx):
        base = dict(learning_rate=0.1, max_leaf_nodes=31, min_samples_leaf=20,
                    l2_regularization=1e-4, max_features=1.0)
        return [self._config(c) for c in (
            base,
            {**base, "learning_rate": 0.05, "max_leaf_nodes": 64, "min_samples_leaf": 8,
             "max_features": 0.8},
        )]

    plain_rounds = 100

    def max_rounds(self, ctx: FamilyContext | None = None) -> int:
        return 1000  # no time check inside a fit: a lower cap

    def build(self, params, ctx):
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        cls = (HistGradientBoostingRegressor if ctx.task == "regression"
               else HistGradientBoostingClassifier)
        params = {"max_iter": self.plain_rounds, **params}
        return cls(**params, early_stopping=False, random_state=ctx.seed)

    def fit(self, pipe, X, y, *, X_val=None, y_val=None, deadline=None):
        if X_val is None:
            pipe.fit(X, y)
            return {}
        Xt, Xv = fit_prep(pipe, X, y, X_val)
        model, cap, patience = pipe.named_steps["model"], self.max_rounds(), PATIENCE // 2
        model.set_params(early_stopping=True, n_iter_no_change=patience, scoring="loss",
                         warm_start=True, max_iter=min(_FIRST_ITER, cap))
        timed_out, started = False, time.monotonic()
        try:  # grow in doubling steps (warm start) until it stops early, the cap or the time
            model.fit(Xt, y, X_val=Xv, y_val=y_val)
            while model.n_iter_ >= model.max_iter < cap:
                more = min(cap - model.max_iter, model.max_iter)
                per_iter = (time.monotonic() - started) / model.n_iter_
                if deadline is not None and time.monotonic() + per_iter * more > deadline:
                    timed_out = True
                    break
                model.set_params(max_iter=model.max_iter + more)
                model.fit(Xt, y, X_val=Xv, y_val=y_val)
        finally:
            model.set_params(early_stopping=False, warm_start=False, max_iter=model.n_iter_)
        stopped = not timed_out and model.n_iter_ < cap
        return {"rounds": max(1, model.n_iter_ - (patience if stopped else 0)),
                "timed_out": timed_out}
