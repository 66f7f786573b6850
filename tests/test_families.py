"""One contract, checked for every registered model family: no test here names a family."""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import optuna
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris

from automl import families
from automl.bundle import load_model, save_model
from automl.contracts import ModelManifest
from automl.data.schema import ColumnInfo, Kind, Schema
from automl.errors import ConfigError
from automl.explain import Explainer
from automl.explain.shapley import KINDS
from automl.families import REGISTRY, FamilyContext, family_of, get_family, resolve_families
from automl.search.context import make_pipeline
from automl.search.objective import predict_scores

FAMILIES = sorted(REGISTRY)
TASKS = ["binary", "multiclass", "regression"]


def _data(task):
    loader = {"binary": load_breast_cancer, "multiclass": load_iris,
              "regression": load_diabetes}[task]
    X, y = loader(return_X_y=True, as_frame=True)
    X = X.iloc[:, :6].copy()
    X["color"] = np.where(np.arange(len(X)) % 3 == 0, "red", "blue")
    X.loc[X.index[::7], X.columns[0]] = np.nan
    schema = Schema(tuple(
        ColumnInfo(c, Kind.CATEGORICAL if c == "color" else Kind.NUMERIC, str(X[c].dtype),
                   int(X[c].isna().sum()), int(X[c].nunique()))
        for c in X.columns))
    y = y.to_numpy() if task == "regression" else y.to_numpy().astype(int)
    return X, y, schema


def _ctx(task, X, y):
    return FamilyContext(task=task, n_rows=len(X), n_columns=X.shape[1],
                         n_classes=0 if task == "regression" else int(y.max()) + 1,
                         time_budget=10)


@pytest.fixture
def alone(monkeypatch):
    """Make ``fam`` the only registered family: the model file's allow-list is then the
    generic types and the ones ``fam`` declares, nothing another family declares."""
    def only(fam):
        monkeypatch.setattr(families, "REGISTRY", {fam.name: fam})
    return only


def _expected_outputs(pred, task):
    """The model's outputs as an explanation has them: (rows, outputs)."""
    return pred[:, None] if task == "regression" else pred[:, 1:] if task == "binary" else pred


@pytest.mark.parametrize("name", FAMILIES)
def test_family_declares_itself(name):
    fam = REGISTRY[name]
    assert fam.name == name and fam.title
    assert fam.tasks <= {"binary", "multiclass", "regression"}
    assert fam.explainer in KINDS
    assert isinstance(fam.allowed_types, frozenset) and fam.allowed_types
    for qualified in fam.allowed_types:  # each names a class, as skops writes its name
        module, _, attr = qualified.rpartition(".")
        cls = getattr(importlib.import_module(module), attr)
        assert isinstance(cls, type) and f"{cls.__module__}.{cls.__qualname__}" == qualified


@pytest.mark.parametrize("name", FAMILIES)
@pytest.mark.parametrize("task", TASKS)
def test_defaults_lie_inside_the_search_space(name, task):
    fam = REGISTRY[name]
    X, y, _ = _data(task)
    ctx = _ctx(task, X, y)
    for default in fam.defaults(ctx):
        assert all(k.startswith(f"{name}__") for k in default)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # FixedTrial warns on values outside the range
            assert fam.suggest(optuna.trial.FixedTrial(default), ctx) == default


@pytest.mark.parametrize("name", FAMILIES)
@pytest.mark.parametrize("task", TASKS)
def test_sampled_parameters_are_prefixed_and_build(name, task):
    fam = REGISTRY[name]
    X, y, _ = _data(task)
    ctx = _ctx(task, X, y)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    for _ in range(5):
        trial = study.ask()
        params = fam.suggest(trial, ctx)
        assert params and all(k.startswith(f"{name}__") for k in params)
        for k, v in params.items():
            assert trial.distributions[k]._contains(trial.distributions[k].to_internal_repr(v))
        assert fam.build(fam.strip(params), ctx) is not None
        study.tell(trial, 0.0)


@pytest.mark.parametrize("name", FAMILIES)
@pytest.mark.parametrize("task", TASKS)
def test_fits_tiny_data_predicts_and_round_trips_through_a_model_file(name, task, tmp_path,
                                                                      alone):
    """With only its own declared types allowed, the family's model saves, loads, scores
    the same and is explained by the kind it declares, adding up to its predictions."""
    fam = REGISTRY[name]
    X, y, schema = _data(task)
    ctx = _ctx(task, X, y)
    pipe = make_pipeline(schema, fam, fam.defaults(ctx)[0], ctx).fit(X, y)
    alone(fam)
    assert family_of(pipe[-1]) is fam  # its estimator's type is one it declares
    pred = predict_scores(pipe, X, task, ctx.n_classes)
    if task == "regression":
        assert pred.shape == (len(X),) and np.isfinite(pred).all()
        assert np.corrcoef(pred, y)[0, 1] > 0.5  # it learned something
    else:
        assert pred.shape == (len(X), ctx.n_classes)
        np.testing.assert_allclose(pred.sum(1), 1, atol=1e-6)
        assert (pred.argmax(1) == y).mean() > 0.8
    classes = None if task == "regression" else list(range(ctx.n_classes))
    manifest = ModelManifest(task=task, target="y", classes=classes, schema=schema,
                             family=name)
    path = save_model(tmp_path / "m.skops", pipe, manifest)
    model = load_model(path)
    out = model.predict(X)
    if task == "regression":
        np.testing.assert_allclose(out["prediction"].to_numpy(), pred, rtol=1e-6)
    else:
        cols = [f"proba_{c}" for c in classes]
        np.testing.assert_allclose(out[cols].to_numpy(), pred, rtol=1e-5, atol=1e-7)
    explainer = Explainer(model, X)
    assert explainer.kinds == [fam.explainer]
    e = explainer.explain(X.iloc[:8])
    np.testing.assert_allclose(e.base + e.values.sum(axis=1), e.prediction, atol=1e-9)
    np.testing.assert_allclose(e.prediction, _expected_outputs(pred[:8], task), atol=1e-4)


def test_unknown_family_and_wrong_task_give_clear_errors():
    with pytest.raises(ConfigError, match="Choose from: .*xgb"):
        get_family("xgboostt")
    assert resolve_families(None, "binary") == tuple(FAMILIES_IN_ORDER())
    assert resolve_families(["xgb", "xgb", "linear"], "regression") == ("xgb", "linear")


def FAMILIES_IN_ORDER():
    return [n for n, f in REGISTRY.items() if f.supports("binary")]


def test_search_space_shrinks_for_big_tables_and_short_budgets():
    small = FamilyContext("binary", n_rows=1_000, n_columns=5, time_budget=60)
    big = FamilyContext("binary", n_rows=500_000, n_columns=5, time_budget=60)
    assert small.max_rounds() > big.max_rounds()
    assert pd.Series([big.max_rounds()]).between(100, 2000).all()


def test_multiclass_and_wide_tables_get_fewer_rounds():
    base = FamilyContext("binary", n_rows=5_000, n_columns=10, n_classes=2, time_budget=60)
    multi = FamilyContext("multiclass", n_rows=5_000, n_columns=10, n_classes=6, time_budget=60)
    wide = FamilyContext("binary", n_rows=5_000, n_columns=100, n_classes=2, time_budget=60)
    assert multi.max_rounds() < base.max_rounds() and wide.max_rounds() < base.max_rounds()


@pytest.mark.parametrize("name", FAMILIES)
def test_sparse_one_hot_input_round_trips_through_a_model_file(name, tmp_path, alone):
    """Many categorical columns give a sparse matrix; kNN then keeps its rows as one."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({f"c{i}": rng.choice([f"v{j}" for j in range(12)], 300) for i in range(8)})
    y = (X.c0.isin(["v1", "v2", "v3"]) ^ X.c1.isin(["v4"])).to_numpy().astype(int)
    schema = Schema(tuple(ColumnInfo(c, Kind.CATEGORICAL, "str", 0, 12) for c in X.columns))
    fam = REGISTRY[name]
    ctx = _ctx("binary", X, y)
    pipe = make_pipeline(schema, fam, fam.defaults(ctx)[0], ctx).fit(X, y)
    alone(fam)
    manifest = ModelManifest(task="binary", target="y", classes=(0, 1), schema=schema)
    model = load_model(save_model(tmp_path / "m.skops", pipe, manifest))
    np.testing.assert_allclose(model.predict_proba(X), pipe.predict_proba(X), rtol=1e-6)
