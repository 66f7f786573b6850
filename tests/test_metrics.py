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


@pytest.mark.parametrize("n_classes", [2, 4])
def test_fast_metrics_agree_with_scikit_learn(n_classes):
    from sklearn import metrics as skm

    rng = np.random.default_rng(0)
    y = rng.integers(0, n_classes, 300)
    proba = rng.dirichlet(np.ones(n_classes), 300).astype(np.float32)
    proba[np.arange(300), y] += 0.3 * rng.random(300).astype(np.float32)
    proba /= proba.sum(1, keepdims=True)
    pred = proba.argmax(1)
    avg = "binary" if n_classes == 2 else "macro"
    auc = (skm.roc_auc_score(y, proba[:, 1]) if n_classes == 2
           else skm.roc_auc_score(y, proba, multi_class="ovr"))
    assert METRICS["roc_auc"](y, proba) == pytest.approx(auc)
    assert METRICS["log_loss"](y, proba) == pytest.approx(skm.log_loss(y, proba), rel=1e-5)
    assert METRICS["accuracy"](y, proba) == pytest.approx(skm.accuracy_score(y, pred))
    assert METRICS["f1"](y, proba) == pytest.approx(skm.f1_score(y, pred, average=avg))
    assert METRICS["balanced_accuracy"](y, proba) == pytest.approx(
        skm.balanced_accuracy_score(y, pred))


def test_fast_regression_metrics_agree_with_scikit_learn():
    from sklearn import metrics as skm

    rng = np.random.default_rng(1)
    y, p = rng.normal(size=200), rng.normal(size=200)
    assert METRICS["r2"](y, p) == pytest.approx(skm.r2_score(y, p))
    assert METRICS["rmse"](y, p) == pytest.approx(skm.root_mean_squared_error(y, p))
    assert METRICS["mae"](y, p) == pytest.approx(skm.mean_absolute_error(y, p))
