"""SHAP explanations: every family, grouped back to user columns, adding up exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl.bundle import Model, load_model, save_model
from automl.ensemble import WeightedEnsemble
from automl.explain import Explainer, explain, explain_run, shapley
from automl.explain.groups import feature_owners, used_columns
from automl.explain.permutation import permutation_shap
from automl.explain.units import to_output_units
from automl.families import REGISTRY, get_family
from automl.runs import Run
from tests.bundle_files import LABELS, make_data
from tests.fitted_models import as_model, fitted

FAMILIES = sorted(REGISTRY)
TASKS = ("binary", "multiclass", "regression")


def predicted(model: Model, X: pd.DataFrame) -> np.ndarray:
    """What the model outputs for the rows, in the explanation's outputs."""
    if model.task == "regression":
        return model.predict(X)["prediction"].to_numpy()[:, None]
    p = model.predict_proba(X)
    return p[:, 1:] if model.task == "binary" else p


@pytest.mark.slow
@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_adds_up_to_prediction_minus_base(family, task):
    model, X = fitted(family, task, **({"n_estimators": 40} if family in
                                       ("xgb", "lgbm", "rf", "et") else {}))
    e = explain(model, X, max_rows=60)
    outputs = 1 if task != "multiclass" else len(LABELS[task])
    rows = 60 if family != "knn" else e.n_rows  # permutation: as many as fit in ~5 s
    assert 30 <= rows <= 60
    assert e.values.shape == (rows, len(e.columns), outputs)
    assert "row_id" not in e.columns  # ID columns are not model inputs
    assert {"color", "city", "flag", "when", "note"} <= set(e.columns)
    np.testing.assert_allclose(e.base + e.values.sum(axis=1), e.prediction, atol=1e-9)
    tol = 1e-4 if family == "xgb" else 1e-7  # XGBoost sums in float32
    np.testing.assert_allclose(e.prediction, predicted(model, e.data), atol=tol)
    assert e.units == ("value" if task == "regression" else "probability")
    assert e.n_total == len(X) and e.sampled
    if task != "regression":  # probabilities move within [-1, 1]
        assert np.abs(e.values).max() <= 1.0


@pytest.mark.parametrize("family", ["xgb", "lgbm", "linear", "rf"])
def test_one_hot_text_date_and_indicator_parts_sum_to_their_column(family):
    model, X = fitted(family, "binary", **({"n_estimators": 30} if family != "linear" else {}))
    X = X.copy()
    X.loc[X.index[:40], "mean radius"] = np.nan  # a missing indicator for this column
    pipe = model.pipeline
    prep, est = pipe[0], pipe[-1]
    rows = X.iloc[:50]
    explainer = Explainer(model, X)
    e = explainer.explain(rows)
    owners = feature_owners(prep)
    assert len(owners) == prep.transform(rows[:1]).shape[1]
    for column, at_least in (("color", 2), ("note", 2), ("when", 6)):
        assert owners.count(column) >= at_least  # really made of several features
    c = shapley.model_contributions(
        get_family(family).explainer, est, prep.transform(model.prepare(rows)),
        prep.transform(explainer.background))
    raw = explainer.explain(rows, raw=True)  # grouped, in the model's own SHAP units
    values = c.values[:, :, -1]  # the positive class
    for j, column in enumerate(raw.columns):
        parts = [f for f, o in enumerate(owners) if o == column]
        np.testing.assert_allclose(values[:, parts].sum(axis=1), raw.values[:, j, 0],
                                   atol=1e-9)
    assert raw.units == ("probability" if family == "rf" else "log-odds")
    np.testing.assert_allclose(e.prediction[:, 0], predicted(model, rows)[:, 0], atol=1e-4)


def test_feature_owners_follow_the_data_not_the_names():
    """Changing one raw column changes only the features mapped to it."""
    model, X = fitted("linear", "multiclass")
    prep = model.pipeline[0]
    owners = np.array(feature_owners(prep))
    base = _dense(prep.transform(model.prepare(X)))
    rng = np.random.default_rng(1)
    for column in used_columns(prep):
        changed = X.copy()
        changed[column] = rng.permutation(changed[column].to_numpy())
        after = _dense(prep.transform(model.prepare(changed)))
        moved = np.flatnonzero(np.abs(after - base).max(axis=0) > 0)
        assert set(owners[moved]) <= {column}, column


def _dense(m) -> np.ndarray:
    return m.toarray() if hasattr(m, "toarray") else np.asarray(m)


def test_an_ensemble_is_the_weighted_sum_of_its_members():
    a, X = fitted("lgbm", "binary", n_estimators=30)
    b, _ = fitted("linear", "binary")
    c, _ = fitted("knn", "binary")
    weights = [0.5, 0.3, 0.2]
    ens = WeightedEnsemble.from_fitted([a.pipeline, b.pipeline, c.pipeline], weights, "binary")
    model = as_model(ens, "binary", make_data("binary")[2])
    rows = X.iloc[:20]
    explainer = Explainer(model, X)
    assert explainer.kinds == [get_family(f).explainer for f in ("lgbm", "linear", "knn")]
    e = explainer.explain(rows)
    parts = [Explainer(m, X).explain(rows) for m in (a, b, c)]
    np.testing.assert_allclose(sum(w * p.values for w, p in zip(weights, parts, strict=True)),
                               e.values, atol=1e-12)
    np.testing.assert_allclose(e.prediction, predicted(model, rows), atol=1e-9)
    assert "weighted sum" in e.method and "permutation" in e.method


def test_a_model_no_family_declares_is_explained_by_permutation():
    """The route comes from the model's family; a model no family builds (here a linear
    model that the linear route could explain) still gets the route that fits any model."""
    from sklearn.linear_model import SGDClassifier
    from sklearn.pipeline import Pipeline

    fitted_model, X = fitted("rf", "binary", n_estimators=5)
    prep = fitted_model.pipeline[0]
    _, y, schema = make_data("binary")
    model_step = SGDClassifier(loss="log_loss", random_state=0)
    pipe = Pipeline([("prep", prep), ("model", model_step)]).fit(X, y)
    model = as_model(pipe, "binary", schema)
    assert shapley.kind_of(pipe[-1]) == "permutation"
    explainer = Explainer(model, X)
    assert explainer.kinds == ["permutation"] and explainer.slow
    e = explainer.explain(X.iloc[:5])
    np.testing.assert_allclose(e.prediction, predicted(model, X.iloc[:5]), atol=1e-9)
    assert "permutation" in e.method


def test_every_family_declares_a_kind_that_has_a_route():
    for fam in REGISTRY.values():
        assert fam.explainer in shapley.KINDS, fam.name


def test_permutation_shap_is_exact_for_a_linear_model():
    """With independent masking, SHAP of a linear model is coef x (x - background mean), which
    the permutation route must reproduce for any order of the columns."""
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge

    X, y = load_diabetes(return_X_y=True, as_frame=True)
    model = Ridge(alpha=0.1).fit(X, y)
    bg = X.iloc[:30]
    values, base = permutation_shap(model.predict, X.iloc[100:110], bg, list(X.columns),
                                    seed=3)
    expected = model.coef_ * (X.iloc[100:110].to_numpy() - bg.to_numpy().mean(axis=0))
    np.testing.assert_allclose(values[:, :, 0], expected, atol=1e-9)
    np.testing.assert_allclose(base, [model.predict(bg).mean()])


@pytest.mark.parametrize("outputs", [1, 4])
def test_log_odds_become_bounded_probability_points_from_the_average(outputs):
    rng = np.random.default_rng(0)
    phi = rng.normal(scale=2.0, size=(50, 6, outputs))
    phi[:, 0] *= 4  # a strong column that other columns partly cancel
    phi[:, 1] = -phi[:, 0] * 0.9
    bg = rng.normal(scale=2.0, size=(30, 6, outputs))
    base = np.array([0.2, -0.1, 0.4, 0.0][:outputs])
    values, p0 = to_output_units(phi, base, "margin", bg)

    def prob(m):
        if outputs == 1:
            return 1 / (1 + np.exp(-m))
        e = np.exp(m)
        return e / e.sum(axis=-1, keepdims=True)

    np.testing.assert_allclose(p0, prob(base + bg.sum(axis=1)).mean(axis=0))  # the average
    np.testing.assert_allclose(p0 + values.sum(axis=1), prob(base + phi.sum(axis=1)),
                               atol=1e-12)  # each row adds up to its probability
    assert np.abs(values).max() <= 1.0  # never more than 100 points
    if outputs > 1:  # probability moves between classes: a column's points sum to zero
        np.testing.assert_allclose(values.sum(axis=2), 0, atol=1e-12)
    else:  # a column far above every background row raises the probability
        far = phi.copy()
        far[:, 2, 0] = bg[:, 2, 0].max() + 1
        assert (to_output_units(far, base, "margin", bg)[0][:, 2, 0] > 0).all()


def test_probability_points_match_the_exact_shapley_values_of_their_game():
    """Against every subset of 5 columns: the game's exact Shapley values (a column's margin
    contribution swapped in for the background row's, probability averaged over them). The
    estimate samples one order (and its reverse) per background row: its error shrinks like
    1 / sqrt(background rows), 0.025 at most with 40 rows, 0.007 with 400."""
    from itertools import combinations
    from math import factorial

    rng = np.random.default_rng(3)
    m = 5
    phi, bg = rng.normal(scale=1.5, size=(8, m, 1)), rng.normal(scale=1.5, size=(400, m, 1))
    base = np.array([-0.5])
    values, _ = to_output_units(phi, base, "margin", bg)

    def v(x, subset):
        margin = base[0] + bg[:, :, 0].sum(axis=1) + sum(x[j] - bg[:, j, 0] for j in subset)
        return (1 / (1 + np.exp(-margin))).mean()

    for i in range(len(phi)):
        x = phi[i, :, 0]
        for j in range(m):
            others = [c for c in range(m) if c != j]
            exact = sum(factorial(len(s)) * factorial(m - len(s) - 1) / factorial(m)
                        * (v(x, (*s, j)) - v(x, s))
                        for size in range(m) for s in combinations(others, size))
            assert values[i, j, 0] == pytest.approx(exact, abs=0.01)


def test_values_in_their_own_units_are_centred_on_the_background():
    rng = np.random.default_rng(1)
    phi, bg = rng.normal(size=(20, 5, 1)), rng.normal(size=(10, 5, 1))
    values, base = to_output_units(phi, np.array([3.0]), "value", bg)
    np.testing.assert_allclose(values, phi - bg.mean(axis=0))
    np.testing.assert_allclose(base, 3.0 + bg.sum(axis=1).mean(axis=0))


def test_the_base_value_is_the_average_prediction():
    model, X = fitted("xgb", "binary", n_estimators=60)
    explainer = Explainer(model, X)
    e = explainer.explain(X.iloc[:30])
    np.testing.assert_allclose(e.base, predicted(model, explainer.background).mean(axis=0),
                               atol=1e-5)


def test_approximate_xgboost_contributions_still_add_up():
    model, X = fitted("xgb", "regression", n_estimators=50)
    exact = explain(model, X, max_rows=None)
    quick = explain(model, X, max_rows=None, approximate=True)
    np.testing.assert_allclose(quick.prediction, exact.prediction, atol=1e-4)
    assert "Saabas" in quick.method and "TreeSHAP" in exact.method
    top = exact.importance().index[:3]
    assert set(quick.importance().index[:5]) >= set(top[:2])


def test_sampling_states_the_rows_and_one_row_is_exact():
    model, X = fitted("lgbm", "regression", n_estimators=30)
    explainer = Explainer(model, X)
    e = explainer.explain(X, max_rows=100, seed=1)
    assert (e.n_rows, e.n_total) == (100, len(X)) and e.sampled
    assert e.data.index.isin(X.index).all()
    one = explainer.explain(X.loc[[e.data.index[7]]])
    np.testing.assert_allclose(one.values[0], e.values[7], atol=1e-9)
    row = one.row(0)
    assert list(row.columns) == ["column", "value", "contribution"]
    assert row["contribution"].abs().is_monotonic_decreasing


@pytest.mark.slow
def test_a_runs_explanation_is_cached_on_disk(wages_run_copy):
    run: Run = wages_run_copy  # a copy: the test writes a new model file into the run
    folder = run.path / "explain"
    earlier = set(folder.glob("*.npz"))  # the run is shared with other tests
    first = explain_run(run, max_rows=200)
    assert len(set(folder.glob("*.npz")) - earlier) == 1
    again = explain_run(run, max_rows=200)
    np.testing.assert_array_equal(first.values, again.values)
    pd.testing.assert_frame_equal(first.data, again.data)
    model = load_model(run.model_file)
    np.testing.assert_allclose(again.prediction[:, 0],
                               model.predict(again.data)["prediction"], atol=1e-7)
    explain_run(run, max_rows=100)  # other settings: another entry
    assert len(set(folder.glob("*.npz")) - earlier) == 2
    save_model(run.model_file, model.pipeline, model.manifest)  # a new model file
    explain_run(run, max_rows=200)
    assert len(set(folder.glob("*.npz")) - earlier) == 3

