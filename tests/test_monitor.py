"""Monitoring: the reference profile in the model file, drift tests, the multivariate check,
measured and label-free performance, the alarm, and ``automl monitor``.

The model is trained on the churn table's customers of two area codes and checked on the
third: real data split by a column, so the new rows are unseen rows from a neighbouring
population, as in use.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import automl
from automl.bundle import REFERENCE_NAME, load_model, read_reference
from automl.data.schema import infer_schema
from automl.errors import ConfigError, UnsafeModelError
from automl.monitor.check import check
from automl.monitor.drift import SMALL_SAMPLE, column_drift, psi
from automl.monitor.reference import build_reference, checked, column_values
from automl.monitor.sources import reference_rows
from tests.cli import run_cli

ROOT = Path(__file__).resolve().parent.parent
CHURN = pd.read_csv(ROOT / "sample_data" / "churn.csv")
AREA = "area_code_510"


@pytest.fixture(scope="module")
def churn_area(tmp_path_factory):
    """A churn model trained on three quarters of two area codes' rows; the third area's
    rows are new (the model, its file, its runs folder, those rows)."""
    runs = tmp_path_factory.mktemp("monitor-runs")
    old = CHURN[CHURN["area_code"] != AREA]
    result = automl.train(old.drop(index=_unseen().index), "churn", time_budget=15,
                          max_trials=4, families=["lgbm", "linear"], runs_dir=runs)
    model = load_model(result.model_path)
    return model, result.model_path, runs, CHURN[CHURN["area_code"] == AREA]


def _unseen() -> pd.DataFrame:
    """A quarter of the training areas' rows, kept out of training: the same population."""
    return CHURN[CHURN["area_code"] != AREA].sample(frac=0.25, random_state=0)


def test_the_model_file_carries_a_small_reference_profile(churn_area):
    model, path, _, _ = churn_area
    ref = read_reference(path)
    assert ref == model.reference
    assert set(ref["columns"]) == {c.name for c in model.schema.columns}
    day = ref["columns"]["total_day_minutes"]
    assert day["kind"] == "numeric" and len(day["edges"]) == 9
    assert abs(sum(day["shares"]) - 1) < 1e-3
    assert ref["columns"]["state"]["kind"] == "categorical"
    assert ref["metric"]["name"] == "roc_auc" and 0.5 < ref["metric"]["oof_score"] <= 1
    assert len(ref["calibration"]) == 2 and ref["prediction"]["kind"] == "classes"


def test_a_profile_of_2000_columns_stays_small():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(3000, 2000)), columns=[f"c{i}" for i in range(2000)])
    X["cat"] = rng.choice(list("abcdefghijklmnopqrstuvwxyz"), 3000)
    schema = infer_schema(X)
    y = rng.integers(0, 2, 3000)
    oof = np.c_[1 - (p := rng.random(3000)), p]
    ref = build_reference(X, schema, task="binary", classes=[0, 1], y=y, oof=oof,
                          metric_name="roc_auc", metric_direction="maximize", oof_score=0.5)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("r.json", json.dumps(ref, separators=(",", ":")))
    assert len(buf.getvalue()) < 400_000  # bytes in the model file (compressed)
    assert checked(ref) is ref


def test_an_edited_profile_is_refused_by_the_digest(churn_area, tmp_path):
    _, path, _, _ = churn_area
    bad = tmp_path / "edited.automl"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == REFERENCE_NAME:
                ref = json.loads(data)
                ref["columns"]["total_day_minutes"]["shares"][0] = 0.5
                data = json.dumps(ref).encode()
            dst.writestr(info, data)
    with pytest.raises(UnsafeModelError, match="modified"):
        load_model(bad)


@pytest.mark.parametrize("damage", [
    lambda r: r["columns"]["total_day_minutes"].update(edges=[3.0, 1.0]),  # unsorted
    lambda r: r["columns"]["total_day_minutes"].update(shares=[0.5]),  # wrong length
    lambda r: r["columns"]["state"].update(values=[{"x": 1}]),  # not text
    lambda r: r.update(version=99),
    lambda r: r["calibration"][0].update(y=[2.0] * len(r["calibration"][0]["x"])),
    lambda r: r.update(columns="x" * 10),
])
def test_a_crafted_profile_turns_monitoring_off_not_loading(churn_area, damage):
    model, _, _, new = churn_area
    ref = json.loads(json.dumps(model.reference))
    damage(ref)
    assert checked(ref) is None
    crafted = automl.bundle.Model(model.pipeline, model.manifest, checked(ref))
    assert len(crafted.predict(new.head(3))) == 3  # scoring is unaffected
    with pytest.raises(ConfigError, match="no reference profile"):
        check(crafted, new)


def test_tests_follow_column_kind_and_sample_size():
    ref_rows = pd.Series(np.random.default_rng(0).normal(size=5000))
    profile = build_reference(pd.DataFrame({"x": ref_rows, "c": ["a", "b"] * 2500}),
                              infer_schema(pd.DataFrame({"x": ref_rows, "c": ["a", "b"] * 2500})),
                              task="regression", classes=None, y=ref_rows, oof=None,
                              metric_name="r2", metric_direction="maximize", oof_score=None)
    num, cat = profile["columns"]["x"], profile["columns"]["c"]
    small, large = ref_rows.sample(200, random_state=1), ref_rows.sample(3000, random_state=1)
    assert column_drift("x", num, small, 5000).test == "ks"
    assert column_drift("x", num, large, 5000).test == "wasserstein"
    cats = pd.Series(["a", "b"] * 100)
    assert column_drift("c", cat, cats, 5000).test == "chi_squared"
    assert column_drift("c", cat, pd.Series(["a", "b"] * SMALL_SAMPLE), 5000).test \
        == "jensen_shannon"
    for values in (small, large):
        assert not column_drift("x", num, values, 5000).drifted
        assert column_drift("x", num, values + 1.0, 5000).drifted
    moved = column_drift("c", cat, pd.Series(["a"] * 180 + ["b"] * 20), 5000)
    assert moved.drifted and moved.p_value < 1e-6
    blanks = column_drift("x", num, small.where(small > -0.5), 5000)
    assert blanks.drifted and "blanks" in blanks.note
    assert psi(np.array([0.5, 0.5]), np.array([0.5, 0.5])) == 0
    assert psi(np.array([0.5, 0.5]), np.array([0.9, 0.1])) > 0.2


def test_a_known_shift_is_detected_and_named(churn_area):
    model, _, runs, new = churn_area
    moved = new.assign(total_day_minutes=new["total_day_minutes"] * 1.3)
    result = check(model, moved, reference_rows=reference_rows(model, runs_dir=runs))
    assert result.alarm
    drifted = {c.name for c in result.drifted}
    assert "total_day_minutes" in drifted
    assert result.domain is not None and result.domain.drifted
    assert "total_day_minutes" in [c for c, _ in result.domain.top_columns]
    data = result.to_json()
    assert data["alarm"] is True
    assert any("total_day_minutes" in s for s in data["summary"])
    assert data["advice"].startswith("Retrain")


@pytest.mark.slow
def test_the_same_distribution_resampled_raises_no_alarm(churn_area):
    """Rows of the training areas the model never saw, resampled 20 times: at most one
    alarm (the design aims at well under one in twenty)."""
    model, _, runs, _ = churn_area
    unseen = _unseen()
    ref = reference_rows(model, runs_dir=runs)
    alarms = []
    for seed in range(20):
        rows = unseen.sample(400, random_state=100 + seed)
        result = check(model, rows, reference_rows=ref, seed=seed)
        alarms.append(result.reasons)
    assert sum(bool(a) for a in alarms) <= 1, alarms


def test_label_free_estimate_lands_near_the_realized_auc(churn_area):
    model, _, _, new = churn_area
    result = check(model, new)
    assert result.measured is not None and result.measured.measured
    est = result.estimated
    assert est is not None and not est.measured
    assert est.low < est.value < est.high
    assert abs(est.value - result.measured.value) < 0.03, (est, result.measured)
    without_target = check(model, new.drop(columns=["churn"]))
    assert without_target.measured is None
    assert abs(without_target.estimated.value - est.value) < 1e-9


@pytest.mark.slow
def test_label_free_estimate_on_credit_split_by_home(tmp_path):
    df = pd.read_csv(ROOT / "sample_data" / "credit.csv")
    old, new = df[df["Home"] != "owner"], df[df["Home"] == "owner"]
    result = automl.train(old, "Status", time_budget=15, max_trials=4,
                          families=["lgbm", "linear"], runs_dir=tmp_path)
    res = check(load_model(result.model_path), new)
    assert abs(res.estimated.value - res.measured.value) < 0.03, (res.estimated, res.measured)


def test_missing_columns_are_reported_not_fatal(churn_area):
    model, _, _, new = churn_area
    result = check(model, new.drop(columns=["state", "total_day_minutes"]))
    assert set(result.missing_columns) == {"state", "total_day_minutes"}
    assert {"state", "total_day_minutes"} <= {c.name for c in result.drifted}
    assert "lack 2 column(s)" in result.to_json()["summary"][0]
    with pytest.raises(ConfigError, match="no rows"):
        check(model, new.head(0))


def test_numbers_as_text_and_dates_profile_as_numbers():
    s = column_values(pd.Series(["1", "2.5", None, "x"]), "numeric")
    assert s.tolist()[:2] == [1.0, 2.5] and s.isna().sum() == 2
    d = column_values(pd.Series(["2024-01-01", "2024-01-02"]), "datetime")
    assert d.iloc[1] - d.iloc[0] == 86400


def test_monitor_command_json_exit_codes_report_and_history(churn_area, tmp_path):
    _, path, runs, new = churn_area
    same = tmp_path / "same.csv"
    new.to_csv(same, index=False)
    moved = tmp_path / "moved.csv"
    new.assign(total_day_minutes=new["total_day_minutes"] * 1.3).to_csv(moved, index=False)
    ok = run_cli("monitor", str(path), str(same), "--json", "--runs-dir", str(runs), cwd=tmp_path)
    data = json.loads(ok.stdout)
    assert {"alarm", "columns", "summary", "advice"} <= set(data)
    assert all({"name", "test", "statistic", "drifted"} <= set(c) for c in data["columns"])
    assert ok.returncode == (1 if data["alarm"] else 0)
    bad = run_cli("monitor", str(path), str(moved), "--json", "--runs-dir", str(runs),
                  "--out", str(tmp_path / "r.html"), cwd=tmp_path)
    assert bad.returncode == 1 and json.loads(bad.stdout)["alarm"] is True
    html = (tmp_path / "r.html").read_text()
    assert "total_day_minutes" in html and "plotly" in html
    history = (runs / "monitor").glob("*/checks.jsonl")
    lines = [json.loads(x) for f in history for x in f.read_text().splitlines()]
    assert len(lines) == 2 and lines[-1]["source"].endswith("moved.csv")
    text = run_cli("monitor", str(path), str(same), "--runs-dir", str(runs), cwd=tmp_path)
    assert "column" in text.stdout or "Nothing to do" in text.stdout


def test_monitor_command_bad_input(churn_area, tmp_path):
    _, path, runs, _ = churn_area
    empty = tmp_path / "empty.csv"
    empty.write_text("state,churn\n")
    r = run_cli("monitor", str(path), str(empty), "--runs-dir", str(runs), cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    r = run_cli("monitor", str(path), "--runs-dir", str(runs), cwd=tmp_path)
    assert r.returncode == 2 and "new rows" in r.stderr
    junk = tmp_path / "junk.automl"
    junk.write_bytes(b"PK\x03\x04 not a model")
    r = run_cli("monitor", str(junk), str(empty), cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_the_package_checks_drift_and_schema_as_the_pages_do(churn_area):
    _, path, runs, new = churn_area
    result = automl.check_drift(path, new, runs_dir=runs)
    assert result.domain is not None  # the run folder was found for the training rows
    assert {"alarm", "columns"} <= set(result.to_json())
    report = automl.check_schema(path, new.drop(columns=["state"]))
    assert not report.can_score and "state" in str(report.messages())
