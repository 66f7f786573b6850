"""Task detection and the checks that make a target learnable."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl.errors import ConfigError, TargetError
from automl.tasks import detect_task, find_target, prepare_target


def _frame(target_values, n=None):
    n = n or len(target_values)
    return pd.DataFrame({"x": np.arange(n, dtype=float), "y": target_values})


@pytest.mark.parametrize(("values", "task"), [
    (["yes", "no"] * 10, "binary"),
    ([True, False] * 10, "binary"),
    ([0, 1] * 10, "binary"),
    (["a", "b", "c"] * 10, "multiclass"),
    ([1, 2, 3, 4] * 10, "multiclass"),
    (list(np.linspace(0, 1, 40)), "regression"),
    (list(range(40)), "regression"),
])
def test_detect_task(values, task):
    assert detect_task(pd.Series(values)) == task


def test_misspelt_target_suggests_the_closest_column():
    df = pd.DataFrame({"churn": [0, 1], "tenure": [1, 2]})
    with pytest.raises(TargetError, match="'chrun' is not in the data. Did you mean 'churn'"):
        find_target(df.columns, "chrun")
    assert find_target(df.columns, "churn") == "churn"


def test_classes_are_encoded_in_sorted_order_and_rows_without_target_dropped():
    df = _frame(["no", "yes", None, "yes", "no"] * 4)
    p = prepare_target(df, "y", cv_folds=2)
    assert p.task == "binary" and p.classes == ["no", "yes"]
    assert len(p.y) == 16 and set(p.y) == {0, 1}
    assert "y" not in p.X.columns and len(p.X) == 16
    assert any("4 rows with a missing 'y'" in w for w in p.warnings)


@pytest.mark.parametrize(("values", "message"), [
    ([None] * 20, "has no values"),
    (["same"] * 20, "single value"),
    (["a"] * 19 + ["b"], "Class 'b' of 'y' has a single row"),
])
def test_unlearnable_targets_are_explained(values, message):
    with pytest.raises(TargetError, match=message):
        prepare_target(_frame(values), "y")


def test_too_few_rows_for_the_folds():
    with pytest.raises(TargetError, match="too few for 5-fold"):
        prepare_target(_frame(["a", "b"] * 4), "y", cv_folds=5)


def test_regression_target_with_text_is_refused_with_a_hint():
    with pytest.raises(TargetError, match="not numbers, e.g. 'abc'.*--task"):
        prepare_target(_frame([1.5, 2.5, "abc"] * 10), "y", task="regression")


def test_binary_task_with_three_classes_and_unknown_task():
    with pytest.raises(TargetError, match="exactly 2 classes"):
        prepare_target(_frame(["a", "b", "c"] * 10), "y", task="binary")
    with pytest.raises(ConfigError, match="Unknown task"):
        prepare_target(_frame(["a", "b"] * 10), "y", task="clustering")
