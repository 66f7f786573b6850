"""How many folds a run gets when the user does not say (TrainConfig.folds_for)."""

from __future__ import annotations

import pytest

from automl.config import TrainConfig


@pytest.mark.parametrize(("budget", "rows", "cols", "folds"), [
    (60, 1_000, 10, 5),
    (60, 50_000, 10, 3),  # many rows: 3 folds
    (10, 1_000, 10, 5),  # a short budget alone does not lower the folds (docs/benchmarks.md)
    (20, 6_000, 1_500, 2),  # a wide table at a short budget: 2 folds
    (10, 6_000, 1_500, 1),  # even 2 folds cost too much: one validation split
    (600, 300_000, 20, 1),  # above 250,000 rows: one validation split at any budget
])
def test_folds_follow_budget_and_size(budget, rows, cols, folds):
    assert TrainConfig(target="y", time_budget=budget).folds_for(rows, cols) == folds


def test_folds_the_user_asked_for_are_kept():
    assert TrainConfig(target="y", time_budget=10, cv_folds=7).folds_for(1_000, 10) == 7


def test_one_fold_is_a_validation_split_and_zero_is_refused():
    from automl.config import validation_label
    from automl.errors import ConfigError

    assert TrainConfig(target="y", cv_folds=1).folds_for(1_000, 10) == 1
    assert validation_label(1) == "one 80/20 validation split"
    assert validation_label(5) == "5-fold CV"
    with pytest.raises(ConfigError, match="between 1"):
        TrainConfig(target="y", cv_folds=0)
