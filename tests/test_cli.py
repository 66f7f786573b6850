"""The command-line contract the benchmark drives, run as a real subprocess."""

from __future__ import annotations

import csv
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

from tests.cli import run_cli


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    work = tmp_path_factory.mktemp("cli")
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    df = X.iloc[:, :8].assign(outcome=np.where(y == 1, "benign", "malignant"))
    df.to_csv(work / "train.csv", index=False)
    r = run_cli("train", "train.csv", "--target", "outcome", "--time-budget", "15",
                "--max-trials", "10", "--families", "linear,xgb,lgbm", "--out", "model.skops",
                cwd=work)
    return work, df, r


def test_train_prints_a_leaderboard_and_writes_the_model(trained):
    work, _, r = trained
    assert r.returncode == 0, r.stderr
    assert "Leaderboard (roc_auc" in r.stdout and "Best per family" in r.stdout
    assert (work / "model.skops").exists()


def test_predict_writes_prediction_and_probabilities_in_input_order(trained):
    work, df, _ = trained
    new = df.drop(columns="outcome").iloc[:50]
    new = new[list(reversed(new.columns))].assign(extra="ignored")  # reordered + extra column
    new.to_csv(work / "new.csv", index=False)
    r = run_cli("predict", "model.skops", "new.csv", "--out", "pred.csv", cwd=work)
    assert r.returncode == 0, r.stderr
    pred = pd.read_csv(work / "pred.csv")
    assert list(pred.columns) == ["prediction", "proba_benign", "proba_malignant"]
    assert len(pred) == 50
    expected = np.where(df.outcome.iloc[:50] == "benign", "benign", "malignant")
    assert (pred.prediction.to_numpy() == expected).mean() > 0.85


def test_predict_names_missing_columns(trained):
    work, df, _ = trained
    df.drop(columns=["outcome", "mean radius"]).to_csv(work / "short.csv", index=False)
    r = run_cli("predict", "model.skops", "short.csv", "--out", "p.csv", cwd=work)
    assert r.returncode == 2
    assert "mean radius" in r.stderr and "Traceback" not in r.stderr


def test_runs_lists_the_run_with_its_best_family(trained):
    work, _, _ = trained
    r = run_cli("runs", cwd=work)
    assert r.returncode == 0
    assert "finished" in r.stdout and "outcome" in r.stdout


@pytest.mark.parametrize(("content", "args", "message"), [
    ("a,b\n1,x\n2,y\n", ["--target", "c"], "Target column 'c' is not in the data"),
    ("churn,b\n1,x\n2,y\n", ["--target", "chrun"], "Did you mean 'churn'"),
    ("a,b\n1,x\n2,x\n3,x\n4,x\n", ["--target", "b"], "single value"),
    ("", ["--target", "b"], "empty"),
    ("a,b\n", ["--target", "b"], "no rows"),
    ("a,b\n,1\n,2\n", ["--target", "a"], "has no values"),
    ("a,b\n1,x\n2,y\n3,x\n4,y\n", ["--target", "b"], "too few for 5-fold"),
    ("a,b\n" + "1,x\n2,y\n" * 10 + "3,z\n", ["--target", "b"], "Class 'z' of 'b' has a single"),
    ("a,b\n" + "".join(f"{i},{i % 2}\n" for i in range(40)) + "abc,1\n", ["--target", "b"],
     "'a'"),
])
def test_bad_input_exits_non_zero_with_a_message_and_no_traceback(tmp_path, content, args,
                                                                   message):
    (tmp_path / "bad.csv").write_text(content)
    r = run_cli("train", "bad.csv", *args, "--out", "m.skops", "--time-budget", "5",
                cwd=tmp_path)
    assert r.returncode == 2
    assert message.lower() in r.stderr.lower(), r.stderr
    assert "Traceback" not in r.stderr


def test_text_in_a_numeric_column_names_the_column_and_the_fix(tmp_path):
    rows = "".join(f"{i},{i % 2}\n" for i in range(40))
    (tmp_path / "junk.csv").write_text("amount,label\n" + rows + "12O0,1\n")
    r = run_cli("train", "junk.csv", "--target", "label", "--out", "m.skops", "--time-budget", "5",
                cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "amount" in r.stderr and "12O0" in r.stderr and "--coerce-numbers" in r.stderr


def test_worker_command_joins_an_existing_run(tmp_path):
    import automl
    from automl.config import TrainConfig

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    df = X.iloc[:, :5].assign(outcome=y)
    ctx, _ = automl.start_run(df, TrainConfig(target="outcome", families=("linear",),
                                              max_trials=3), root=tmp_path / "runs")
    ctx.run.set_stop_at(time.time() + 120)  # what the run's supervisor writes first
    r = run_cli("worker", ctx.run.path, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    done = [t for t in ctx.study().get_trials() if t.state.name == "COMPLETE"]
    assert len(done) == 3 and all(t.params["family"] == "linear" for t in done)


@pytest.mark.slow
def test_predicted_labels_that_a_spreadsheet_would_run_are_escaped(tmp_path):
    """Class labels that begin with = or @ come back from `automl predict` with a quote in
    front; the probabilities stay numbers."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=120)
    evil, other = '=HYPERLINK("http://evil","x")', "@SUM(1+1)"
    pd.DataFrame({"x": x, "noise": rng.normal(size=120),
                  "label": np.where(x > 0, evil, other)}).to_csv(tmp_path / "t.csv", index=False)
    r = run_cli("train", "t.csv", "--target", "label", "--families", "linear", "--max-trials", "3",
                "--time-budget", "30", "--out", "m.skops", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    pd.DataFrame({"x": [2.0, -2.0], "noise": [0.0, 0.0]}).to_csv(tmp_path / "new.csv",
                                                                 index=False)
    r = run_cli("predict", "m.skops", "new.csv", "--out", "p.csv", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    with open(tmp_path / "p.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["prediction", f"proba_{evil}", f"proba_{other}"]
    assert [row[0] for row in rows[1:]] == ["'" + evil, "'" + other]
    probabilities = [[float(v) for v in row[1:]] for row in rows[1:]]
    assert all(abs(sum(p) - 1) < 1e-6 for p in probabilities) and probabilities[0][0] > 0.5


@pytest.mark.parametrize(("columns", "reasons"), [
    ({"customer_id": range(40)}, ["'customer_id' is ID-like"]),
    ({"c": [7] * 40, "e": [None] * 40}, ["'c' is constant", "'e' is empty"]),
])
def test_no_usable_feature_is_refused_before_a_run_folder_exists(tmp_path, columns, reasons):
    pd.DataFrame({**columns, "y": [0, 1] * 20}).to_csv(tmp_path / "t.csv", index=False)
    r = run_cli("train", "t.csv", "--target", "y", "--out", "m.skops", "--time-budget", "30",
                cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "No usable feature columns in t.csv" in r.stderr, r.stderr
    assert all(why in r.stderr for why in reasons), r.stderr
    runs = tmp_path / "runs"
    assert not runs.exists() or not any(runs.iterdir())
