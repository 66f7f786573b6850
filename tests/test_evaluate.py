"""Evaluation of predictions: the data checked against scikit-learn and hand counts on real
runs (binary with a holdout, multiclass, regression). The figures: test_plots_evaluate.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, roc_auc_score

from automl import evaluate
from automl.bundle import load_model, read_manifest
from automl.ensemble import fold_score
from automl.errors import ConfigError, TargetError
from automl.metrics import METRICS
from automl.runs import Run
from automl.search.context import SearchContext
from tests.evaluations import hand_made


@pytest.fixture
def binary(binary_run) -> Run:
    """The session's binary run with a holdout (tests/conftest.py)."""
    return binary_run


@pytest.fixture
def multi(multiclass_run) -> Run:
    """The session's multiclass run (tests/conftest.py)."""
    return multiclass_run


@pytest.fixture
def wages(wages_run) -> Run:
    """The session's regression run (tests/conftest.py)."""
    return wages_run


# --- where the predictions come from -------------------------------------------------------

@pytest.mark.slow
def test_final_model_oof_reproduces_the_cv_score_in_the_manifest(binary, multi, wages):
    for run in (binary, multi, wages):
        manifest = read_manifest(run.model_file)
        ev = evaluate.from_run(run)
        ctx = SearchContext.from_run(run)
        assert ev.n_rows == len(ctx.y) and np.array_equal(ev.y, ctx.y)
        metric = METRICS[manifest.metric]
        assert fold_score(metric, ev.y, ev.scores, ctx.folds) == pytest.approx(
            manifest.cv_score, abs=1e-6), run.spec.task
        assert "Out-of-fold" in ev.source and f"{ev.n_rows:,} rows" in ev.source


@pytest.mark.slow
def test_ensemble_oof_is_the_normalised_weighted_sum_of_its_members(binary):
    manifest = read_manifest(binary.model_file)
    trials = evaluate.available_trials(binary)["trial"].tolist()
    a, b = trials[0], trials[1]
    fake = manifest.replaced(family="ensemble",
                             members=[{"trial": a, "weight": 1.0}, {"trial": b, "weight": 3.0}])
    expected = 0.25 * binary.load_oof(a) + 0.75 * binary.load_oof(b)
    np.testing.assert_allclose(evaluate.final_oof(binary, fake), expected, rtol=1e-6)
    if manifest.family == "ensemble":  # the saved model itself (weights sum to 1)
        members = manifest.members
        real = sum(m["weight"] * binary.load_oof(m["trial"]) for m in members)
        np.testing.assert_allclose(evaluate.from_run(binary).scores, real, rtol=1e-6)
        assert "ensemble of trials" in evaluate.from_run(binary).model


@pytest.mark.slow
def test_a_chosen_trial_uses_its_own_oof_and_unknown_trials_are_refused(binary):
    board = evaluate.available_trials(binary)
    choices = evaluate.model_choices(binary)
    assert list(choices) == [None, *board["trial"].tolist()]
    assert choices[None].startswith("Final model: ")
    row = board.iloc[-1]
    ev = evaluate.from_run(binary, trial=int(row["trial"]))
    np.testing.assert_array_equal(ev.scores, binary.load_oof(int(row["trial"])))
    ctx = SearchContext.from_run(binary)
    assert fold_score(METRICS["roc_auc"], ev.y, ev.scores, ctx.folds) == pytest.approx(
        row["score"], abs=1e-9)
    assert ev.model.endswith(f"trial {row['trial']}")
    with pytest.raises(ConfigError, match="no saved out-of-fold predictions"):
        evaluate.from_run(binary, trial=999)


@pytest.mark.slow
def test_holdout_evaluation_scores_exactly_the_held_out_rows(binary):
    manifest = read_manifest(binary.model_file)
    ev = evaluate.from_run(binary, "holdout")
    ctx = SearchContext.from_run(binary)
    assert ev.n_rows == manifest.holdout_rows == len(ctx.holdout_y) == 114
    pd.testing.assert_frame_equal(ev.X, ctx.holdout_X)
    np.testing.assert_array_equal(ev.y, ctx.holdout_y)
    # held-out rows and searched rows are disjoint and together make the whole table
    data = binary.read_data().drop(columns="target")
    both = pd.concat([ev.X, ctx.X])
    assert len(both) == len(data) and not both.duplicated().any()
    assert METRICS["roc_auc"](ev.y, ev.scores) == pytest.approx(manifest.holdout_score)
    np.testing.assert_allclose(ev.scores, load_model(binary.model_file).predict_proba(ev.X))
    assert "Holdout: 114 rows" in ev.source
    assert set(evaluate.source_choices(binary)) == {"oof", "holdout"}
    assert set(evaluate.source_choices(binary, trial=1)) == {"oof"}
    with pytest.raises(ConfigError, match="only for the final model"):
        evaluate.from_run(binary, "holdout", trial=1)


@pytest.mark.slow
def test_holdout_of_a_run_without_one_says_how_to_get_one(multi):
    assert set(evaluate.source_choices(multi)) == {"oof"}
    with pytest.raises(ConfigError, match="kept no holdout rows.*--holdout"):
        evaluate.from_run(multi, "holdout")


@pytest.mark.slow
def test_from_model_scores_a_labelled_table(binary, wages):
    model = load_model(binary.model_file)
    df = binary.read_data()
    df.loc[:4, "target"] = np.nan
    ev = evaluate.from_model(model, df)
    assert ev.n_rows == len(df) - 5 and "5 rows without a 'target' value left out" in ev.source
    kept = df.iloc[5:].reset_index(drop=True)
    np.testing.assert_array_equal(ev.y, kept["target"].astype(int))
    np.testing.assert_allclose(ev.scores, model.predict_proba(kept))
    assert "target" not in ev.X.columns and len(ev.X) == ev.n_rows
    # labels that arrive as text still match the model's classes
    as_text = kept.assign(target=kept["target"].astype(int).astype(str))
    np.testing.assert_array_equal(evaluate.from_model(model, as_text).y, ev.y)

    with pytest.raises(TargetError, match="no column 'target'.*automl predict"):
        evaluate.from_model(model, kept.drop(columns="target"))
    with pytest.raises(TargetError, match="never saw.*'maybe'"):
        evaluate.from_model(model, kept.assign(target=["maybe"] + [1] * (len(kept) - 1)))

    reg = load_model(wages.model_file)
    rows = wages.read_data()
    res = evaluate.residuals(evaluate.from_model(reg, rows))
    np.testing.assert_allclose(res["actual"], rows["wage"])
    np.testing.assert_allclose(res["predicted"], reg.predict(rows)["prediction"])


# --- classification ------------------------------------------------------------------------

@pytest.mark.slow
def test_roc_and_pr_areas_match_scikit_learn_and_the_search_metric(binary):
    ev = evaluate.from_run(binary)
    (curve,) = evaluate.roc(ev)
    assert curve.label == 1
    assert curve.area == pytest.approx(roc_auc_score(ev.y, ev.scores[:, 1]))
    assert curve.area == pytest.approx(METRICS["roc_auc"](ev.y, ev.scores))
    assert (curve.x[0], curve.y[0], curve.x[-1], curve.y[-1]) == (0, 0, 1, 1)
    (other,) = evaluate.roc(ev, positive=0)  # the other class's view: the same area
    assert other.label == 0 and other.area == pytest.approx(curve.area)
    (pr,) = evaluate.pr(ev)
    assert pr.area == pytest.approx(average_precision_score(ev.y, ev.scores[:, 1]))
    assert pr.base_rate == pytest.approx(ev.y.mean())
    assert len(pr.thresholds) == len(pr.x) == len(pr.y)
    with pytest.raises(ConfigError, match="not one of the model's classes"):
        evaluate.roc(ev, positive="benign")


@pytest.mark.slow
def test_confusion_at_a_threshold_matches_a_hand_count(binary):
    ev = evaluate.from_run(binary)
    p, y = ev.scores[:, 1], ev.y
    for t in (0.2, 0.5, 0.9):
        res = evaluate.at_threshold(ev, t)
        tp, fp = int(((p >= t) & (y == 1)).sum()), int(((p >= t) & (y == 0)).sum())
        fn, tn = int(((p < t) & (y == 1)).sum()), int(((p < t) & (y == 0)).sum())
        assert res.matrix.loc["1", "1"] == tp and res.matrix.loc["0", "1"] == fp
        assert res.matrix.loc["1", "0"] == fn and res.matrix.loc["0", "0"] == tn
        assert list(res.matrix.index) == ["0", "1"]  # negative first, positive second
        assert res.metrics["precision"] == pytest.approx(tp / (tp + fp))
        assert res.metrics["recall"] == pytest.approx(tp / (tp + fn))
        assert res.metrics["accuracy"] == pytest.approx((tp + tn) / len(y))
    everything = evaluate.at_threshold(ev, 0.0)
    assert everything.metrics["predicted positive"] == 1.0
    assert everything.matrix["0"].sum() == 0 and everything.metrics["recall"] == 1.0
    nothing = evaluate.at_threshold(ev, 1.01)
    assert nothing.matrix["1"].sum() == 0 and nothing.metrics["precision"] == 0.0
    flipped = evaluate.at_threshold(ev, 0.5, positive=0)
    assert list(flipped.matrix.index) == ["1", "0"] and flipped.positive == 0


@pytest.mark.slow
def test_calibration_matches_scikit_learn_and_counts_every_row(binary):
    ev = evaluate.from_run(binary)
    for strategy in ("uniform", "quantile"):
        cal = evaluate.calibration(ev, bins=8, strategy=strategy)
        observed, predicted = calibration_curve(ev.y, np.clip(ev.scores[:, 1], 0, 1),
                                                n_bins=8, strategy=strategy)
        np.testing.assert_allclose(cal.table["observed"], observed)
        np.testing.assert_allclose(cal.table["mean_predicted"], predicted)
        assert cal.table["rows"].sum() == ev.n_rows and (cal.table["rows"] > 0).all()
    cal = evaluate.calibration(ev)
    assert cal.brier == pytest.approx(np.mean((ev.scores[:, 1] - ev.y) ** 2), rel=1e-5)
    first = cal.table.iloc[0]  # a hand count of the lowest bin
    rows = ev.scores[:, 1] <= 0.1
    assert first["rows"] == rows.sum() and first["observed"] == pytest.approx(ev.y[rows].mean())


@pytest.mark.slow
def test_gain_ends_at_one_and_lift_compares_with_the_base_rate(binary):
    ev = evaluate.from_run(binary)
    table = evaluate.lift_gain(ev)
    assert len(table) == 10 and table["rows"].sum() == ev.n_rows
    assert table["positives"].sum() == ev.y.sum()
    assert table["gain"].iloc[-1] == pytest.approx(1.0)
    assert table["share_of_rows"].iloc[-1] == pytest.approx(1.0)
    assert (np.diff(table["gain"]) >= 0).all()
    top = np.argsort(-ev.scores[:, 1], kind="stable")[: table["rows"].iloc[0]]
    assert table["lift"].iloc[0] == pytest.approx(ev.y[top].mean() / ev.y.mean())
    assert table["cumulative_lift"].iloc[-1] == pytest.approx(1.0)
    assert table["lift"].iloc[0] > 1.4  # a good model front-loads the positives


@pytest.mark.slow
def test_per_class_table_and_threshold(binary):
    ev = evaluate.from_run(binary)
    table = evaluate.per_class(ev, threshold=0.9)
    res = evaluate.at_threshold(ev, 0.9)
    assert list(table["class"]) == ["0", "1"]
    assert table["support"].tolist() == np.bincount(ev.y).tolist()
    assert table.loc[1, "recall"] == pytest.approx(res.metrics["recall"])
    assert table.loc[1, "precision"] == pytest.approx(res.metrics["precision"])
    assert table["predicted"].tolist() == res.matrix.sum().tolist()


@pytest.mark.slow
def test_multiclass_curves_per_class_and_a_table_row_per_class(multi):
    ev = evaluate.from_run(multi)
    assert ev.task == "multiclass" and ev.classes == ["setosa", "versicolor", "virginica"]
    assert set(ev.y_true) == set(ev.classes)
    curves = evaluate.roc(ev)
    assert [c.label for c in curves] == ev.classes
    assert np.mean([c.area for c in curves]) == pytest.approx(METRICS["roc_auc"](ev.y, ev.scores))
    assert [c.label for c in evaluate.roc(ev, positive="virginica")] == ["virginica"]
    table = evaluate.per_class(ev)
    assert list(table["class"]) == ev.classes and table["support"].tolist() == [50, 50, 50]
    res = evaluate.at_threshold(ev, 0.9)  # the threshold does not apply
    assert res.threshold is None and "most probable class" in res.note
    assert res.matrix.shape == (3, 3) and res.matrix.to_numpy().sum() == 150
    diag = np.diag(res.matrix.to_numpy()) / res.matrix.sum(axis=1).to_numpy()
    np.testing.assert_allclose(table["recall"], diag)
    assert res.metrics["accuracy"] == pytest.approx(METRICS["accuracy"](ev.y, ev.scores))
    cal = evaluate.calibration(ev, positive="versicolor")
    assert cal.positive == "versicolor" and cal.table["rows"].sum() == 150


def test_classification_views_refuse_a_regression_and_the_reverse():
    reg = hand_made("regression", [1.0, 2.0, 3.0], [1.5, 2.0, 2.5])
    cls = hand_made("binary", [0, 1, 1], [[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]], ["no", "yes"])
    for fn in (evaluate.roc, evaluate.pr, evaluate.at_threshold, evaluate.per_class,
               evaluate.lift_gain, evaluate.calibration):
        with pytest.raises(ConfigError, match="classification"):
            fn(reg)
    with pytest.raises(ConfigError, match="regression"):
        evaluate.residuals(cls)
    with pytest.raises(ConfigError, match="regression"):
        evaluate.error_by_segment(cls, "x")


# --- regression ----------------------------------------------------------------------------

@pytest.mark.slow
def test_residuals_and_summary_of_a_regression(wages):
    ev = evaluate.from_run(wages)
    res = evaluate.residuals(ev)
    np.testing.assert_allclose(res["residual"], ev.y - ev.scores)
    np.testing.assert_allclose(res["actual"], wages.read_data()["wage"])
    s = evaluate.summary(ev).set_index("metric")["value"]
    assert list(s.index) == ["rmse", "mae", "r2"]
    assert s["rmse"] == pytest.approx(np.sqrt(np.mean(res["residual"] ** 2)))
    assert s["mae"] == pytest.approx(np.mean(np.abs(res["residual"])))


@pytest.mark.slow
def test_error_by_segment_covers_every_row_once(wages):
    ev = evaluate.from_run(wages)
    res = evaluate.residuals(ev)["residual"]
    for column in ("experience", "occupation", "education", "union"):
        table = evaluate.error_by_segment(ev, column)
        assert table["rows"].sum() == ev.n_rows, column
        assert (table["mae"] <= table["rmse"] + 1e-12).all()
    edu = evaluate.error_by_segment(ev, "experience", bins=5)
    assert len(edu) == 5 and edu["segment"].iloc[0].startswith("0 to")  # quantile bins, in order
    occ = evaluate.error_by_segment(ev, "occupation", top=3)
    assert list(occ["segment"])[-1] == evaluate.OTHER and len(occ) == 4
    counts = ev.X["occupation"].value_counts()
    top = occ.set_index("segment").loc[counts.index[0]]
    rows = (ev.X["occupation"] == counts.index[0]).to_numpy()
    assert top["rows"] == counts.iloc[0]
    assert top["mae"] == pytest.approx(res[rows].abs().mean())
    assert top["bias"] == pytest.approx(res[rows].mean())
    few = evaluate.error_by_segment(ev, "union")  # two values: one segment each
    assert sorted(few["segment"]) == ["no", "yes"]
    with pytest.raises(ConfigError, match="No column 'salary'"):
        evaluate.error_by_segment(ev, "salary")


def test_error_by_segment_keeps_missing_values_and_dates_apart():
    rng = np.random.default_rng(0)
    n = 200
    X = pd.DataFrame({"num": rng.normal(size=n), "when": pd.date_range("2024-01-01", periods=n),
                      "cat": rng.choice(["a", "b", None], size=n)})
    X.loc[:9, "num"] = np.nan
    y = rng.normal(size=n)
    ev = hand_made("regression", y, y + 1.0, X=X)  # every prediction 1 too high
    num = evaluate.error_by_segment(ev, "num", bins=4)
    assert num["segment"].iloc[-1] == evaluate.MISSING and num["rows"].iloc[-1] == 10
    assert num["rows"].sum() == n and len(num) == 5
    np.testing.assert_allclose(num["bias"], -1.0)
    when = evaluate.error_by_segment(ev, "when", bins=4)
    assert len(when) == 4 and when["segment"].iloc[0].startswith("2024-01-01 to")
    cat = evaluate.error_by_segment(ev, "cat")
    assert set(cat["segment"]) == {"a", "b", evaluate.MISSING}
    assert cat["rows"].sum() == n
