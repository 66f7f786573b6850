"""The search end to end through the Python API, on small real data."""

from __future__ import annotations

import time

import numpy as np
import optuna
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

import automl
from automl.api import _check_some_trial_finished
from automl.config import TrainConfig
from automl.errors import SearchError
from automl.families import REGISTRY
from automl.families.linear import Linear
from automl.leaderboard import COLUMNS, best_per_family
from automl.runs import Run, list_runs, open_run
from automl.search.context import SearchContext, driver_url
from automl.search.worker import run_worker


def _cancer() -> pd.DataFrame:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return X.iloc[:, :10].assign(diagnosis=np.where(y == 1, "benign", "malignant"))


@pytest.fixture(scope="module")
def binary_result(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    seen = []
    result = automl.train(_cancer(), "diagnosis", time_budget=30, max_trials=12,
                          families=["linear", "xgb", "rf", "lgbm"], runs_dir=root,
                          on_progress=seen.append)
    return result, root, seen


def test_train_returns_a_leaderboard_and_a_model_that_predicts(binary_result):
    result, _, seen = binary_result
    board = result.leaderboard
    assert list(board.columns) == COLUMNS
    done = board[board.state == "complete"]
    assert len(done) >= 4  # at least every family's cheap default
    assert set(done.family) == {"linear", "xgb", "rf", "lgbm"}
    assert done.score.is_monotonic_decreasing  # best first for ROC AUC
    # the final model is the best trial, or an ensemble that scored better out of fold
    assert result.best["score"] >= done.score.iloc[0] - 1e-12
    if result.best["family"] == "ensemble":
        assert len(result.best["members"]) >= 2
        assert sum(m["weight"] for m in result.best["members"]) == pytest.approx(1)
    else:
        assert result.best["score"] == pytest.approx(done.score.iloc[0])
    assert result.best["score"] > 0.95
    assert (done.fit_s > 0).all() and (done.predict_ms_per_1k > 0).all()
    assert (done.size_kb > 0).all() and done["std"].notna().all()
    assert len(best_per_family(board)) == 4
    assert len(board) <= 12 + 1  # the trial cap (one in flight may finish)
    assert seen and seen[-1].n_complete >= 1


def test_model_file_predicts_labels_and_probabilities_in_row_order(binary_result):
    result, _, _ = binary_result
    model = automl.load_model(result.model_path)
    rows = _cancer().drop(columns="diagnosis").iloc[::-1]
    out = model.predict(rows)
    assert list(out.columns) == ["prediction", "proba_benign", "proba_malignant"]
    assert out.index.equals(rows.index)
    assert set(out.prediction) <= {"benign", "malignant"}
    np.testing.assert_allclose(out[["proba_benign", "proba_malignant"]].sum(axis=1), 1, atol=1e-6)
    assert model.manifest.cv_score == pytest.approx(result.best["score"])
    assert model.manifest.classes == ("benign", "malignant")


def test_run_folder_keeps_snapshot_study_and_out_of_fold_predictions(binary_result):
    result, root, _ = binary_result
    run = open_run(result.run_id, root)
    assert run.status.state == "finished"
    assert run.data_file.exists() and run.journal_file.exists() and run.model_file.exists()
    best = result.best["trial"]
    oof = run.load_oof(best)
    assert oof.shape == (569, 2)
    runs = list_runs(root)
    assert runs.loc[runs.run == result.run_id, "best_family"].item() == result.best["family"]


def test_regression_and_multiclass_defaults(tmp_path):
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    reg = automl.train(X.assign(progression=y), "progression", time_budget=20, max_trials=6,
                       families=["linear", "hgb"], runs_dir=tmp_path)
    assert reg.task == "regression" and reg.metric == "r2" and reg.best["score"] > 0.3
    X, y = load_wine(return_X_y=True, as_frame=True)
    multi = automl.train(X.assign(cultivar=y), "cultivar", time_budget=20, max_trials=6,
                         families=["linear", "knn"], runs_dir=tmp_path, cv_folds=3)
    assert multi.task == "multiclass" and multi.metric == "log_loss"
    assert multi.best["score"] < 0.3  # log loss: lower is better
    assert multi.leaderboard[multi.leaderboard.state == "complete"].score.is_monotonic_increasing


class _Broken(Linear):
    name = "broken"
    title = "Always fails"

    def build(self, params, ctx):
        raise RuntimeError("this family always fails")


class _Hangs(Linear):
    """A fit stuck where no signal reaches it (as in native code), until killed."""

    name = "hangs"
    title = "Hangs"
    priority = -1  # tried first

    def fit(self, pipe, X, y, **kwargs):
        import signal

        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
        time.sleep(600)


def _context(tmp_path, families, max_trials):
    config = TrainConfig(target="diagnosis", families=families,
                                    max_trials=max_trials, time_budget=60)
    ctx, _ = automl.start_run(_cancer(), config, root=tmp_path)
    ctx.run.set_stop_at(time.time() + 60)  # as the supervisor does before starting workers
    return ctx


def test_a_failing_trial_is_recorded_and_the_search_goes_on(tmp_path, monkeypatch):
    monkeypatch.setitem(REGISTRY, "broken", _Broken())
    ctx = _context(tmp_path, ("broken", "linear"), max_trials=4)
    run_worker(ctx, install_signal=False)  # in this process, so the test family exists
    trials = ctx.study().get_trials()
    failed = [t for t in trials if t.state == optuna.trial.TrialState.FAIL]
    assert failed and "this family always fails" in failed[0].user_attrs["error"]
    assert any(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    board = automl.leaderboard(trials)
    assert "this family always fails" in board[board.state == "failed"].error.iloc[0]


@pytest.mark.slow
def test_a_hung_trial_is_ended_and_the_search_goes_on(tmp_path, monkeypatch):
    from automl.search import runner

    monkeypatch.setitem(REGISTRY, "hangs", _Hangs())
    monkeypatch.setattr(runner, "HUNG_SLACK_S", 0.5)
    fork = runner.mp.get_context("fork")  # replacements too: they must see the test family
    monkeypatch.setattr(runner.mp, "get_context", lambda method=None: fork)
    ctx = _context(tmp_path, ("hangs", "linear"), max_trials=None)
    trials = runner.run_search(ctx, deadline=time.time() + 15, n_workers=1,
                               start_method="fork")  # fork: the workers see the test family
    hung = [t for t in trials if t.params.get("family") == "hangs"]
    assert hung and hung[0].state == optuna.trial.TrialState.FAIL
    assert "Timeout" in hung[0].user_attrs["error"]
    assert any(t.state == optuna.trial.TrialState.COMPLETE and t.number > hung[0].number
               and t.params["family"] == "linear" for t in trials)  # a new worker went on


def test_every_trial_failing_gives_one_clear_message(tmp_path, monkeypatch):
    monkeypatch.setitem(REGISTRY, "broken", _Broken())
    ctx = _context(tmp_path, ("broken",), max_trials=2)
    run_worker(ctx, install_signal=False)
    with pytest.raises(SearchError, match="Every trial failed.*always fails"):
        _check_some_trial_finished(ctx.study().get_trials(), ctx)


def test_stop_request_ends_the_worker_and_keeps_finished_trials(tmp_path):
    ctx = _context(tmp_path, ("linear",), max_trials=None)
    ctx.run.request_stop()
    ctx.run.set_stop_at(1e12)  # a later supervisor update must not undo the request
    run_worker(ctx, install_signal=False)
    assert ctx.study().get_trials(states=(optuna.trial.TrialState.COMPLETE,)) == []
    assert ctx.run.stop_requested()


def test_worker_rebuilds_its_context_from_the_run_folder(tmp_path):
    ctx = _context(tmp_path, ("linear",), max_trials=2)
    again = SearchContext.from_run(Run(ctx.run.path))
    assert again.families == ("linear",) and again.task == "binary"
    np.testing.assert_array_equal(again.y, ctx.y)
    assert [list(v) for _, v in again.folds] == [list(v) for _, v in ctx.folds]


@pytest.mark.slow
def test_postgresql_storage_is_shared_by_the_workers(tmp_path):
    from tests.servers import POSTGRES_URL, require_server

    url = require_server(POSTGRES_URL)
    result = automl.train(_cancer(), "diagnosis", time_budget=40, max_trials=6,
                          families=["linear", "lgbm"], storage=url, runs_dir=tmp_path)
    study = optuna.load_study(study_name=f"automl-{result.run_id}",
                              storage=driver_url(url))
    assert len(study.trials) >= 6
    assert {t.params["family"] for t in study.trials} == {"linear", "lgbm"}
    spec = open_run(result.run_id, tmp_path).spec
    assert spec.config.storage.startswith("postgresql")
    optuna.delete_study(study_name=study.study_name,
                        storage=driver_url(url))


def test_holdout_rows_stay_out_of_the_search_and_score_the_final_model(tmp_path):
    result = automl.train(_cancer(), "diagnosis", time_budget=20, max_trials=3,
                          families=["linear"], holdout=0.25, runs_dir=tmp_path)
    model = automl.load_model(result.model_path)
    assert model.manifest.holdout_rows == 143  # 25% of 569, stratified
    assert model.manifest.n_rows == 569 - 143
    assert 0.9 < model.manifest.holdout_score <= 1.0
    ctx = SearchContext.from_run(open_run(result.run_id, tmp_path))
    assert len(ctx.y) == 426 and len(ctx.holdout_y) == 143  # the same split when rebuilt
    assert result.best["holdout_score"] == model.manifest.holdout_score


def test_one_validation_split_scores_its_rows_and_refits_on_all(tmp_path):
    """cv_folds=1: each trial fits on 80% and is scored on the other 20%; the out-of-fold
    file holds scores only for those rows; the final model is refitted on every row and
    the evaluation, reference profile and model file work from the validation rows."""
    from automl.ensemble import WeightedEnsemble
    from automl.evaluate import from_run
    from automl.metrics import scored_rows

    result = automl.train(_cancer(), "diagnosis", time_budget=30, max_trials=4, cv_folds=1,
                          families=["linear"], runs_dir=tmp_path)
    run = open_run(result.run_id, tmp_path)
    assert run.spec.cv_folds == 1
    study = optuna.load_study(study_name=run.study_name,
                              storage=SearchContext.from_run(run).storage())
    done = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert done
    validated = [np.flatnonzero(scored_rows(run.load_oof(t.number))) for t in done]
    assert len(validated[0]) == 114  # 20% of 569, stratified
    assert all(np.array_equal(v, validated[0]) for v in validated)  # the same rows each time
    assert all(len(t.user_attrs["fold_scores"]) == 1 and t.user_attrs["std"] >= 0
               for t in done)
    model = automl.load_model(result.model_path)
    assert model.manifest.cv_folds == 1
    final = model.pipeline
    pipes = final.estimators if isinstance(final, WeightedEnsemble) else [final]
    for pipe in pipes:  # refitted on all 569 rows, not the trial's 455
        scaler = pipe.named_steps["prep"].named_transformers_["num"].named_steps["scale"]
        assert scaler.n_samples_seen_ == 569
    ev = from_run(run)
    assert len(ev.y) == 114 and "validation split" in ev.source
    assert np.isfinite(np.asarray(ev.scores, dtype=float)).all()
    assert model.reference["prediction"]["score"]  # profiled from the validation rows only
    assert model.predict_proba(_cancer().drop(columns="diagnosis")).shape == (569, 2)


def test_the_end_of_a_search_leaves_other_machines_trials_to_their_workers(tmp_path):
    """The supervisor closes its own workers' running trials when its search ends; a trial
    of a worker that joined from elsewhere stays running, and that worker telling a trial
    that was already ended (failed as stale, say) does not crash it."""
    from automl.search.runner import HOST, _close_orphans
    from automl.search.worker import _tell

    ctx = _context(tmp_path, ("linear",), max_trials=None)
    study = ctx.study()
    ours, theirs = study.ask(), study.ask()
    ours.set_user_attr("worker", f"{HOST}/123")
    theirs.set_user_attr("worker", "another-machine/456")
    _close_orphans(study, {f"{HOST}/123"})
    states = {t.number: t.state for t in study.get_trials()}
    assert states[ours.number] == optuna.trial.TrialState.FAIL
    assert states[theirs.number] == optuna.trial.TrialState.RUNNING
    _tell(study, ours, 0.9)  # already failed by the supervisor: left as it is
    assert study.get_trials()[ours.number].state == optuna.trial.TrialState.FAIL
    _tell(study, theirs, 0.8)
    assert study.get_trials()[theirs.number].value == 0.8
