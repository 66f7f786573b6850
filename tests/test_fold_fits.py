"""Fold fits: boosting stops early on the validation rows and keeps only its best rounds,
forests stop growing at the deadline, and the refit reuses what the folds found."""

from __future__ import annotations

import time

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris

from automl.data.schema import ColumnInfo, Kind, Schema
from automl.families import REGISTRY, FamilyContext
from automl.families._early import REFIT_GROWTH, Watch
from automl.search.context import make_pipeline
from automl.search.objective import predict_scores

LOADERS = {"binary": load_breast_cancer, "multiclass": load_iris, "regression": load_diabetes}


def _fold(task):
    X, y = LOADERS[task](return_X_y=True, as_frame=True)
    y = y.to_numpy() if task == "regression" else y.to_numpy().astype(int)
    schema = Schema(tuple(ColumnInfo(c, Kind.NUMERIC, "float64", 0, 100) for c in X.columns))
    idx = np.random.default_rng(0).permutation(len(X))
    tr, va = idx[: len(X) * 3 // 4], idx[len(X) * 3 // 4:]
    ctx = FamilyContext(task=task, n_rows=len(tr), n_columns=X.shape[1],
                        n_classes=0 if task == "regression" else int(y.max()) + 1)
    return X.iloc[tr], y[tr], X.iloc[va], y[va], schema, ctx


def _rounds_in(model) -> int:
    if hasattr(model, "booster_"):  # LightGBM
        return model.booster_.current_iteration()
    if hasattr(model, "get_booster"):  # XGBoost
        return model.get_booster().num_boosted_rounds()
    return model.n_iter_


@pytest.mark.parametrize("name", ["lgbm", "xgb", "hgb"])
@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_boosting_stops_early_and_keeps_its_best_rounds(name, task):
    X, y, Xv, yv, schema, ctx = _fold(task)
    fam = REGISTRY[name]
    params = {**fam.defaults(ctx)[0], fam.p("learning_rate"): 0.1}
    pipe = make_pipeline(schema, fam, params, ctx)
    info = fam.fit(pipe, X, y, X_val=Xv, y_val=yv, deadline=time.monotonic() + 600)
    cap = fam.max_rounds()
    assert 1 < info["rounds"] < cap and not info["timed_out"]  # stopped on the validation
    model = pipe.named_steps["model"]
    if name != "hgb":  # cut back to the best round (HGB keeps its patience rounds)
        assert _rounds_in(model) == info["rounds"]
    pred = predict_scores(pipe, Xv, task, ctx.n_classes)
    assert np.isfinite(pred).all() and len(pred) == len(Xv)
    refit = fam.refit_params(params, [info, info])
    assert refit[fam.p(fam.rounds_key)] == max(1, round(info["rounds"] * REFIT_GROWTH))


def test_the_watch_keeps_the_best_round_and_stops_after_its_patience():
    watch = Watch(deadline=None, patience=3)
    stops = [watch.update(x) for x in (5.0, 4.0, 3.0, 3.5, 3.2, 3.1)]
    assert stops == [False] * 5 + [True]  # 3 rounds without a better loss than 3.0
    assert watch.info() == {"rounds": 3, "timed_out": False}
    first = Watch(deadline=None, patience=2)
    assert [first.update(x) for x in (1.0, 2.0, 3.0)] == [False, False, True]
    assert first.info()["rounds"] == 1


def test_a_boosting_fit_past_its_deadline_stops_after_one_round():
    X, y, Xv, yv, schema, ctx = _fold("binary")
    fam = REGISTRY["lgbm"]
    pipe = make_pipeline(schema, fam, {**fam.defaults(ctx)[0], fam.p("learning_rate"): 0.01},
                         ctx)
    info = fam.fit(pipe, X, y, X_val=Xv, y_val=yv, deadline=time.monotonic())
    assert info == {"rounds": 1, "timed_out": True}
    assert pipe.named_steps["model"].booster_.current_iteration() == 1


@pytest.mark.parametrize("name", ["rf", "et"])
def test_a_forest_stops_growing_at_its_deadline(name):
    X, y, Xv, yv, schema, ctx = _fold("binary")
    fam = REGISTRY[name]
    pipe = make_pipeline(schema, fam, fam.defaults(ctx)[0], ctx)
    info = fam.fit(pipe, X, y, X_val=Xv, y_val=yv, deadline=time.monotonic())  # already due
    assert info == {"trees": 16} and len(pipe.named_steps["model"].estimators_) == 16
    assert not pipe.named_steps["model"].warm_start
    grown = make_pipeline(schema, fam, fam.defaults(ctx)[0], ctx)
    full = fam.fit(grown, X, y, X_val=Xv, y_val=yv, deadline=time.monotonic() + 600)
    assert full["trees"] == fam.strip(fam.defaults(ctx)[0])["n_estimators"]
    assert fam.refit_params({}, [info, full])[fam.p("n_estimators")] == 16


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_family_fits_a_fold_and_says_what_the_refit_needs(name):
    X, y, Xv, yv, schema, ctx = _fold("binary")
    fam = REGISTRY[name]
    params = fam.defaults(ctx)[0]
    pipe = make_pipeline(schema, fam, params, ctx)
    info = fam.fit(pipe, X, y, X_val=Xv, y_val=yv, deadline=time.monotonic() + 600)
    assert isinstance(info, dict)
    refit = fam.refit_params(params, [info])
    assert set(refit) >= set(params) and all(k.startswith(f"{name}__") for k in refit)
    make_pipeline(schema, fam, refit, ctx).fit(X, y)  # the refit parameters build and fit
