"""Greedy ensemble selection on out-of-fold predictions."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.tree import DecisionTreeClassifier

from automl.ensemble import WeightedEnsemble, fold_score, greedy_weights
from automl.metrics import METRICS


def _setup():
    X, y = load_breast_cancer(return_X_y=True)
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))
    models = {1: LogisticRegression(max_iter=5000), 2: DecisionTreeClassifier(max_depth=3),
              3: DecisionTreeClassifier(max_depth=1)}
    oofs = {n: cross_val_predict(m, X, y, cv=folds, method="predict_proba")
            for n, m in models.items()}
    return X, y, folds, models, oofs


def test_greedy_weights_never_do_worse_than_the_best_single_model():
    _, y, folds, _, oofs = _setup()
    metric = METRICS["log_loss"]
    single = {n: fold_score(metric, y, p, folds) for n, p in oofs.items()}
    weights, score = greedy_weights(oofs, y, metric, folds)
    assert sum(weights.values()) == pytest.approx(1)
    assert score <= min(single.values()) + 1e-12
    blended = sum(w * oofs[n] for n, w in weights.items())
    assert fold_score(metric, y, blended, folds) == pytest.approx(score)


def test_weighted_ensemble_averages_its_members_probabilities():
    X, y, _, models, _ = _setup()
    fitted = [models[1].fit(X, y), models[2].fit(X, y)]
    ens = WeightedEnsemble.from_fitted(fitted, [0.75, 0.25], "binary")
    expected = 0.75 * fitted[0].predict_proba(X) + 0.25 * fitted[1].predict_proba(X)
    np.testing.assert_allclose(ens.predict_proba(X), expected)
    np.testing.assert_array_equal(ens.predict(X), expected.argmax(1))
    assert list(ens.classes_) == [0, 1]


def test_an_ensemble_of_pipelines_round_trips_through_a_model_file(tmp_path):
    import pandas as pd

    from automl.bundle import load_model, save_model
    from automl.contracts import ModelManifest
    from automl.data import infer_schema
    from automl.families import REGISTRY, FamilyContext
    from automl.search.context import make_pipeline

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = X.iloc[:, :5]
    schema = infer_schema(X)
    ctx = FamilyContext("binary", len(X), 5, 2)
    pipes = [make_pipeline(schema, name, REGISTRY[name].defaults(ctx)[0], ctx)
             for name in ("linear", "knn")]
    ens = WeightedEnsemble.from_fitted([p.fit(X, y) for p in pipes], [0.6, 0.4], "binary")
    manifest = ModelManifest(task="binary", target="t", classes=("b", "m"), schema=schema,
                             family="ensemble")
    model = load_model(save_model(tmp_path / "e.skops", ens, manifest))
    out = model.predict(pd.DataFrame(X))
    np.testing.assert_allclose(out[["proba_b", "proba_m"]].to_numpy(), ens.predict_proba(X))
