"""The family scheduler: first trials in priority order, then cost against expected gain, and
each family's portfolio before TPE."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import numpy as np
import optuna
import pytest

from automl.families import REGISTRY, FamilyContext
from automl.search.scheduler import FamilyStats, eci, family_stats, plan_next, weights

CTX = FamilyContext(task="binary", n_rows=1000, n_columns=10, n_classes=2)
T0 = datetime(2026, 1, 1)


def _trial(number, family, value, seconds, state=optuna.trial.TrialState.COMPLETE, std=0.01,
           **params):
    """A finished trial of ``family`` that took ``seconds``, ending at ``number`` minutes."""
    end = T0 + timedelta(minutes=number)
    dist = {"family": optuna.distributions.CategoricalDistribution(sorted(REGISTRY))}
    dist.update({k: optuna.distributions.CategoricalDistribution([v]) for k, v in params.items()})
    return optuna.trial.FrozenTrial(
        number=number, trial_id=number, state=state,
        value=value if state == optuna.trial.TrialState.COMPLETE else None,
        datetime_start=end - timedelta(seconds=seconds), datetime_complete=end,
        params={"family": family, **params}, distributions=dist, user_attrs={"std": std},
        system_attrs={}, intermediate_values={})


def _study(*trials) -> optuna.Study:
    study = optuna.create_study(direction="maximize")
    for t in trials:
        study.add_trial(t)
    return study


def test_each_family_first_gets_one_trial_in_priority_order():
    families = ("knn", "rf", "linear", "lgbm")
    study = _study()
    order = []
    for i in range(4):
        plan = plan_next(study, families, CTX, np.random.default_rng(0))
        assert plan.params == REGISTRY[plan.family].defaults(CTX)[0]
        order.append(plan.family)
        study.add_trial(_trial(i, plan.family, 0.8, 1.0, **plan.params))
    assert order == sorted(families, key=lambda f: REGISTRY[f].priority)
    assert order[0] == "lgbm"


def test_a_family_far_behind_the_leader_gets_few_trials_even_when_cheap():
    study = _study(_trial(0, "lgbm", 0.90, 2.0), _trial(1, "linear", 0.80, 0.1),
                   _trial(2, "xgb", 0.899, 2.0))
    rng = np.random.default_rng(1)
    picks = Counter(plan_next(study, ("lgbm", "linear", "xgb"), CTX, rng).family
                    for _ in range(500))
    assert picks["linear"] < 10  # 10 points behind at a fold spread of 1 point
    assert picks["lgbm"] > 100 and picks["xgb"] > 100  # within noise of each other


def test_within_noise_the_cheaper_family_gets_more_trials():
    stats = {"a": FamilyStats(started=1, complete=1, spent=4.0, first=0.9, best=0.9,
                              t_best=4.0, last_cost=4.0),
             "b": FamilyStats(started=1, complete=1, spent=1.0, first=0.9, best=0.9,
                              t_best=1.0, last_cost=1.0)}
    w = weights(stats, ("a", "b"), noise=0.01)
    assert w["b"] == pytest.approx(4 * w["a"])


def test_eci_grows_with_the_time_spent_since_the_last_improvement():
    recent = FamilyStats(started=3, complete=3, spent=6.0, best=0.9, best_before=0.85,
                         t_best=6.0, t_before=4.0, last_cost=2.0)
    stale = FamilyStats(started=6, complete=6, spent=20.0, best=0.9, best_before=0.85,
                        t_best=6.0, t_before=4.0, last_cost=2.0)
    assert eci(recent) == 2.0 and eci(stale) == 14.0


def test_stats_read_costs_bests_and_failures_from_the_trials():
    study = _study(_trial(0, "lgbm", 0.8, 2.0), _trial(1, "lgbm", 0.85, 3.0),
                   _trial(2, "lgbm", 0.84, 1.0),
                   _trial(3, "knn", None, 1.0, state=optuna.trial.TrialState.FAIL))
    s = family_stats(study.trials, ("lgbm", "knn"), maximize=True)
    assert (s["lgbm"].complete, s["lgbm"].best, s["lgbm"].best_before) == (3, 0.85, 0.8)
    assert (s["lgbm"].t_best, s["lgbm"].t_before, s["lgbm"].spent) == (5.0, 2.0, 6.0)
    assert (s["knn"].started, s["knn"].failed, s["knn"].best) == (1, 1, None)


def test_minimized_metrics_rank_lower_as_better():
    study = optuna.create_study(direction="minimize")
    study.add_trial(_trial(0, "lgbm", 0.3, 1.0))
    study.add_trial(_trial(1, "lgbm", 0.5, 1.0))
    s = family_stats(study.trials, ("lgbm",), maximize=False)
    assert s["lgbm"].best == -0.3


def test_the_portfolio_comes_before_tpe_then_tpe_takes_over():
    portfolio = REGISTRY["lgbm"].defaults(CTX)
    study = _study()
    seen = []
    for i in range(len(portfolio) + 1):
        plan = plan_next(study, ("lgbm",), CTX, np.random.default_rng(0))
        seen.append(plan.params)
        params = plan.params or {"lgbm__learning_rate": 0.2}
        study.add_trial(_trial(i, "lgbm", 0.8 + i / 100, 1.0, **params))
    assert seen[:-1] == portfolio and seen[-1] is None


def test_a_planned_trial_that_has_not_suggested_yet_counts_as_taken():
    """Two workers asking at the same moment: the first one's plan, recorded on its trial
    before it suggests anything, keeps the second from running the same configuration."""
    study = optuna.create_study(direction="maximize")
    first = plan_next(study, ("lgbm", "linear"), CTX, np.random.default_rng(0))
    trial = study.ask()
    trial.set_user_attr("plan", {"family": first.family, **first.params})
    second = plan_next(study, ("lgbm", "linear"), CTX, np.random.default_rng(0))
    assert (second.family, second.params) != (first.family, first.params)
