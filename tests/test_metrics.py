from __future__ import annotations

import numpy as np
import pytest

from automl.errors import ConfigError
from automl.metrics import DEFAULT_METRIC, METRICS, get_metric


def test_every_task_has_a_default_that_applies_to_it():
    for task, name in DEFAULT_METRIC.items():
        assert task in get_metric(None, task).tasks and get_metric(None, task).name == name


def test_metric_values_and_directions():
    y = np.array([0, 1, 1, 0])
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.3, 0.7]])
    assert METRICS["roc_auc"](y, proba) == pytest.approx(0.75)
    assert METRICS["accuracy"](y, proba) == pytest.approx(0.75)
    assert METRICS["log_loss"].direction == "minimize"
    assert METRICS["log_loss"].better(0.1, 0.2) and METRICS["r2"].better(0.9, 0.1)
    assert METRICS["rmse"](np.array([1.0, 3.0]), np.array([2.0, 2.0])) == pytest.approx(1.0)


def test_multiclass_auc_and_unknown_metric_messages():
    y = np.array([0, 1, 2, 2])
    proba = np.eye(3)[[0, 1, 2, 2]]
    assert METRICS["roc_auc"](y, proba) == pytest.approx(1.0)
    with pytest.raises(ConfigError, match="Unknown metric 'auc'.*roc_auc"):
        get_metric("auc", "binary")
    with pytest.raises(ConfigError, match="does not apply to a regression task"):
        get_metric("roc_auc", "regression")
