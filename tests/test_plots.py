"""Figures of a run's search: the right traces for a finished run, a reason when data is short."""

from __future__ import annotations

import optuna
import pandas as pd
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution

from automl.plots import search as plots
from automl.runs import Run


@pytest.fixture
def run(wages_run) -> Run:
    """The session's finished wages run (tests/conftest.py)."""
    return wages_run


def _study(rows) -> optuna.Study:
    """An in-memory study from (family, params, value) rows, like a run's study."""
    study = optuna.create_study(direction="maximize")
    for family, params, value in rows:
        dists = {"family": CategoricalDistribution(["linear", "lgbm"])}
        dists.update({k: FloatDistribution(0.0, 10.0) for k in params})
        study.add_trial(optuna.trial.create_trial(
            params={"family": family, **params}, distributions=dists, value=value))
    return study


def test_optimization_history_of_a_finished_run(run):
    chart = plots.optimization_history(run)
    assert chart and chart.reason is None
    names = [t.name for t in chart.figure.data]
    assert "R²" in names and "Best Value" in names  # the metric's title names the scores
    scores = next(t for t in chart.figure.data if t.name == "R²")
    done = plots.load_study(run).get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    assert len(scores.y) == len(done)


def test_family_scores_has_one_box_per_family(run):
    chart = plots.family_scores(run)
    assert [t.type for t in chart.figure.data] == ["box", "box"]
    assert {t.name for t in chart.figure.data} == {"Linear", "LightGBM"}  # family titles
    done = plots.load_study(run).get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    # a point per complete trial (of 4; the pruner may stop one after its first fold)
    assert sum(len(t.y) for t in chart.figure.data) == len(done) >= 2


def test_param_importances_and_parallel_coordinate_per_family(run):
    done = plots.load_study(run).get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    counts = pd.Series([t.params["family"] for t in done]).value_counts()
    assert set(plots.family_names(run)) == set(counts.index)
    drawn = 0
    for family, n in counts.items():  # which family got the sampled trials is up to TPE
        imp, par = plots.param_importances(run, family), plots.parallel_coordinate(run, family)
        if n < 2:
            assert imp.figure is None and par.figure is None and "at least 2" in imp.reason
            continue
        bar = imp.figure.data[0]
        assert bar.type == "bar" and len(bar.y) >= 1, imp.reason
        assert all(name.startswith(f"{family}__") for name in bar.y)  # the family's own space
        assert par and len(par.figure.data) >= 1
        drawn += 1
    assert drawn >= 1  # 4 trials over 2 families: one family has at least 2


def test_family_study_keeps_only_that_family():
    study = _study([("linear", {"a": 1.0}, 0.5), ("lgbm", {"b": 2.0}, 0.6),
                    ("linear", {"a": 3.0}, 0.7)])
    sub = plots.family_study(study, "linear")
    assert [t.value for t in sub.trials] == [0.5, 0.7]
    assert all(set(t.params) == {"a"} for t in sub.trials)


def test_too_few_trials_give_none_with_a_reason():
    study = _study([("linear", {"a": 1.0}, 0.5), ("lgbm", {"b": 2.0}, 0.6)])
    for fn in (plots.param_importances, plots.parallel_coordinate):
        chart = fn(study, "linear")
        assert chart.figure is None and not chart
        assert "at least 2" in chart.reason
    assert plots.param_importances(study, "knn").figure is None  # no trial of that family


def test_parameters_that_never_vary_give_none():
    study = _study([("linear", {"a": 1.0}, 0.5), ("linear", {"a": 1.0}, 0.6)])
    chart = plots.param_importances(study, "linear")
    assert chart.figure is None and "same parameters" in chart.reason


def test_an_empty_study_has_no_charts():
    study = optuna.create_study()
    for chart in (plots.optimization_history(study), plots.family_scores(study)):
        assert chart.figure is None and "No trial" in chart.reason
    assert plots.family_names(study) == []
