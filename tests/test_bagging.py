"""Bagged final models: the fold models a trial fitted are kept and become the final model,
so its out-of-fold predictions are exactly those the ensemble was chosen on."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer

import automl
from automl.ensemble import WeightedEnsemble
from automl.runs import Run
from automl.search.bagging import load_fold_models
from automl.search.context import SearchContext
from automl.search.objective import predict_scores


@pytest.fixture(scope="module")
def bagged(tmp_path_factory):
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    df = X.iloc[:, :10].assign(diagnosis=np.where(y == 1, "benign", "malignant"))
    result = automl.train(df, "diagnosis", time_budget=30, max_trials=4,
                          families=["lgbm", "linear"], runs_dir=tmp_path_factory.mktemp("r"))
    return result, df


@pytest.mark.slow
def test_kept_fold_models_reproduce_the_trials_out_of_fold_predictions(bagged):
    result, _ = bagged
    run = Run(result.run_dir)
    ctx = SearchContext.from_run(run)
    kept = sorted(int(p.stem) for p in (run.path / "folds").glob("*.skops"))
    assert kept, "the best trials keep their fold models"
    for number in kept:
        pipes = load_fold_models(run, number)
        assert len(pipes) == len(ctx.folds)
        oof = run.load_oof(number)
        for pipe, (_, va) in zip(pipes, ctx.folds, strict=True):
            pred = predict_scores(pipe, ctx.X.iloc[va], ctx.task, ctx.family_ctx.n_classes)
            np.testing.assert_allclose(pred, oof[va], rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_the_final_model_is_the_members_fold_models_weighted(bagged):
    result, df = bagged
    model = automl.load_model(result.model_path)
    est = model.pipeline
    assert isinstance(est, WeightedEnsemble)
    members = model.manifest.members
    assert members and all(m["bagged"] for m in members)
    folds = len(SearchContext.from_run(Run(result.run_dir)).folds)
    assert len(est.estimators) == folds * len(members)
    assert np.isclose(sum(est.weights), 1.0)
    scores = model.predict(df.head(20))
    assert scores.filter(like="proba_").sum(axis=1).round(6).eq(1).all()


def test_a_damaged_kept_file_means_a_refit_not_an_error(tmp_path):
    run = Run.create(tmp_path)
    (run.path / "folds").mkdir()
    (run.path / "folds" / "3.skops").write_bytes(b"PK\x03\x04 not really a zip")
    assert load_fold_models(run, 3) is None
    assert load_fold_models(run, 4) is None  # never kept


@pytest.mark.slow
def test_a_final_model_too_big_to_bag_is_refitted_once_per_member(bagged, monkeypatch):
    import time

    import optuna

    from automl.search import finalize

    result, _ = bagged
    run = Run(result.run_dir)
    ctx = SearchContext.from_run(run)
    trials = ctx.study(None, None).get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    kept = finalize.choose_and_refit(ctx, trials, deadline=time.time() + 60)
    monkeypatch.setattr(finalize, "MAX_FINAL_KB", 0.0)  # any bagged model is too big
    small = finalize.choose_and_refit(ctx, trials, deadline=time.time() + 60)
    assert any(m["bagged"] for m in kept.members)
    if small.members:  # an ensemble of refits: one model per member
        assert not any(m["bagged"] for m in small.members)
        assert len(small.estimator.estimators) == len(small.members)
    else:  # a single trial: its refit
        assert not isinstance(small.estimator, WeightedEnsemble)


@pytest.mark.slow
def test_a_trial_too_big_for_a_model_file_is_never_a_member(bagged):
    """A kNN model keeps its training rows: on a wide table one was 55 MB pickled and its
    file would have been refused, so the final model is chosen among the others."""
    import copy
    import time

    import optuna

    from automl.search import finalize

    result, _ = bagged
    ctx = SearchContext.from_run(Run(result.run_dir))
    trials = [copy.deepcopy(t) for t in ctx.study(None, None).get_trials(
        states=(optuna.trial.TrialState.COMPLETE,))]
    best = finalize.ranked(trials, True)[0]
    best.user_attrs["size_kb"] = finalize.MAX_FINAL_KB * 4
    final = finalize.choose_and_refit(ctx, trials, deadline=time.time() + 60)
    assert best.number not in [m["trial"] for m in final.members]
    if not final.members:  # a single trial: the best of the others
        assert final.score < best.value
