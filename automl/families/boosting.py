"""Gradient-boosted trees: XGBoost, LightGBM and scikit-learn's HistGradientBoosting."""

from __future__ import annotations

from typing import Any

from automl.families._base import Family, FamilyContext
from automl.preprocess import PrepOptions

__all__ = ["HistGradientBoosting", "LightGBM", "XGBoost"]


class XGBoost(Family):
    name = "xgb"
    title = "XGBoost"
    explainer = "tree"
    cost = 1.0

    def suggest(self, trial, ctx: FamilyContext) -> dict[str, Any]:
        p = self.p
        return {
            p("n_estimators"): trial.suggest_int(p("n_estimators"), 20, ctx.max_rounds(), log=True),
            p("learning_rate"): trial.suggest_float(p("learning_rate"), 0.005, 0.5, log=True),
            p("max_depth"): trial.suggest_int(p("max_depth"), 2, 12),
            p("min_child_weight"): trial.suggest_float(p("min_child_weight"), 0.5, 64, log=True),
            p("subsample"): trial.suggest_float(p("subsample"), 0.5, 1.0),
            p("colsample_bytree"): trial.suggest_float(p("colsample_bytree"), 0.3, 1.0),
            p("reg_lambda"): trial.suggest_float(p("reg_lambda"), 1e-3, 100, log=True),
            p("reg_alpha"): trial.suggest_float(p("reg_alpha"), 1e-3, 10, log=True),
        }

    def defaults(self, ctx):
        base = dict(n_estimators=min(300, ctx.max_rounds()), learning_rate=0.05, max_depth=6,
                    min_child_weight=1.0, subsample=0.8, colsample_bytree=0.8,
                    reg_lambda=1.0, reg_alpha=1e-3)
        return [{self.p(k): v for k, v in base.items()}]

    def build(self, params, ctx):
        from xgboost import XGBClassifier, XGBRegressor

        cls = XGBRegressor if ctx.task == "regression" else XGBClassifier
        return cls(**params, tree_method="hist", n_jobs=ctx.n_jobs, random_state=ctx.seed,
                   verbosity=0)


class LightGBM(Family):
    name = "lgbm"
    title = "LightGBM"
    explainer = "tree"
    cost = 0.7

    def suggest(self, trial, ctx: FamilyContext) -> dict[str, Any]:
        p = self.p
        return {
            p("n_estimators"): trial.suggest_int(p("n_estimators"), 20, ctx.max_rounds(), log=True),
            p("learning_rate"): trial.suggest_float(p("learning_rate"), 0.005, 0.5, log=True),
            p("num_leaves"): trial.suggest_int(p("num_leaves"), 4, 256, log=True),
            p("min_child_samples"): trial.suggest_int(p("min_child_samples"), 2, 100, log=True),
            p("subsample"): trial.suggest_float(p("subsample"), 0.5, 1.0),
            p("colsample_bytree"): trial.suggest_float(p("colsample_bytree"), 0.3, 1.0),
            p("reg_lambda"): trial.suggest_float(p("reg_lambda"), 1e-3, 100, log=True),
            p("reg_alpha"): trial.suggest_float(p("reg_alpha"), 1e-3, 10, log=True),
        }

    def defaults(self, ctx):
        base = dict(n_estimators=min(200, ctx.max_rounds()), learning_rate=0.05, num_leaves=31,
                    min_child_samples=20, subsample=1.0, colsample_bytree=1.0,
                    reg_lambda=1e-3, reg_alpha=1e-3)
        return [{self.p(k): v for k, v in base.items()}]

    def build(self, params, ctx):
        from lightgbm import LGBMClassifier, LGBMRegressor

        cls = LGBMRegressor if ctx.task == "regression" else LGBMClassifier
        return cls(**params, subsample_freq=1 if params.get("subsample", 1.0) < 1.0 else 0,
                   n_jobs=ctx.n_jobs, random_state=ctx.seed, verbose=-1)


class HistGradientBoosting(Family):
    name = "hgb"
    title = "HistGradientBoosting"
    explainer = "tree"
    prep = PrepOptions(impute=False, dense=True)
    cost = 0.8

    def suggest(self, trial, ctx: FamilyContext) -> dict[str, Any]:
        p = self.p
        return {
            p("max_iter"): trial.suggest_int(p("max_iter"), 20, ctx.max_rounds(), log=True),
            p("learning_rate"): trial.suggest_float(p("learning_rate"), 0.005, 0.5, log=True),
            p("max_leaf_nodes"): trial.suggest_int(p("max_leaf_nodes"), 4, 128, log=True),
            p("min_samples_leaf"): trial.suggest_int(p("min_samples_leaf"), 2, 100, log=True),
            p("l2_regularization"): trial.suggest_float(p("l2_regularization"), 1e-4, 10, log=True),
            p("max_features"): trial.suggest_float(p("max_features"), 0.3, 1.0),
        }

    def defaults(self, ctx):
        base = dict(max_iter=min(100, ctx.max_rounds()), learning_rate=0.1, max_leaf_nodes=31,
                    min_samples_leaf=20, l2_regularization=1e-4, max_features=1.0)
        return [{self.p(k): v for k, v in base.items()}]

    def build(self, params, ctx):
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        cls = (HistGradientBoostingRegressor if ctx.task == "regression"
               else HistGradientBoostingClassifier)
        return cls(**params, early_stopping=False, random_state=ctx.seed)
