"""Workers on several machines: a run shared through its PostgreSQL storage.

Each "machine" is a separate temporary folder and process that shares nothing with the
other but the database URL: the joining worker gets the settings and the data from the
database, and sends its trials' out-of-fold predictions back through it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from pathlib import Path

import numpy as np
import optuna
import pytest
from sklearn.datasets import load_breast_cancer

from automl.config import TrainConfig
from automl.errors import ConfigError, RunNotFoundError
from automl.search.context import driver_url
from automl.search.shared import DATA_KEY, MODEL_KEY, OOF_KEY, STORE_KEY, SharedRun, join
from tests.cli import AUTOML
from tests.servers import POSTGRES_URL, require_server


@pytest.fixture
def url():
    return require_server(POSTGRES_URL)


def _cancer_csv(path: Path) -> Path:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X.iloc[:, :10].assign(diagnosis=np.where(y == 1, "benign", "malignant")).to_csv(
        path, index=False)
    return path


def _machine(tmp_path: Path, name: str) -> tuple[Path, dict]:
    home = tmp_path / name
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOML_")}
    return home, {**env, "AUTOML_RUNS_DIR": str(home / "runs"), "TMPDIR": str(home)}


def _new_study(url: str, known: set[str], timeout: float = 60) -> optuna.Study:
    """The study a just-started run created, once it has shared its data."""
    end = time.time() + timeout
    while time.time() < end:
        for name in set(optuna.get_all_study_names(driver_url(url))) - known:
            study = optuna.load_study(study_name=name, storage=driver_url(url))
            if DATA_KEY in study.user_attrs:
                return study
        time.sleep(0.3)
    raise AssertionError("the run never shared its data in the storage")


@pytest.mark.slow
def test_a_worker_on_another_machine_joins_with_only_the_url(tmp_path, url):
    a, env_a = _machine(tmp_path, "machine_a")
    b, env_b = _machine(tmp_path, "machine_b")
    data = _cancer_csv(a / "cancer.csv")
    known = set(optuna.get_all_study_names(driver_url(url)))
    train = subprocess.Popen(
        [*AUTOML, "train", str(data), "--target", "diagnosis", "--time-budget", "40",
         "--families", "linear,lgbm", "--workers", "1", "--storage", url, "--out",
         str(a / "model.skops"), "--quiet"], cwd=a, env=env_a, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        study = _new_study(url, known)
        run_id = study.study_name.removeprefix("automl-")
        worker = subprocess.run(
            [*AUTOML, "worker", "--run", run_id, "--storage", url, "--workdir",
             str(b / "work")], cwd=b, env=env_b, capture_output=True, text=True, timeout=120)
        _, err = train.communicate(timeout=120)
    finally:
        train.kill()
    assert worker.returncode == 0, worker.stderr
    assert f"joined run {run_id}: 569 rows" in worker.stdout
    assert train.returncode == 0, err
    trials = optuna.load_study(study_name=study.study_name, storage=driver_url(url)).trials
    workers = {t.user_attrs.get("worker") for t in trials}
    assert len(workers) == 2  # the supervisor's worker and the one on machine B
    remote = [t for t in trials if OOF_KEY in t.user_attrs]
    assert remote and all(t.state.name == "COMPLETE" for t in remote)
    run_a = a / "runs" / run_id
    for t in remote:  # their predictions came back through the database, whole
        arrived = np.load(run_a / "oof" / f"{t.number}.npy")
        sent = np.load(b / "work" / run_id / "oof" / f"{t.number}.npy")
        np.testing.assert_array_equal(arrived, sent)
    # machine B kept its own copy; nothing was read from machine A's folder
    assert (b / "work" / run_id / "data.parquet").exists()
    assert not (b / "work" / run_id / "control.json").exists()
    # the model file is in the database too, byte for byte
    model = (a / "model.skops").read_bytes()
    meta = optuna.load_study(study_name=study.study_name,
                             storage=driver_url(url)).user_attrs[MODEL_KEY]
    assert meta["sha256"] == hashlib.sha256(model).hexdigest()
    got = SharedRun(url, study.study_name).download_model(tmp_path / "fetched.skops")
    assert got.read_bytes() == model
    optuna.delete_study(study_name=study.study_name, storage=driver_url(url))


def _shared_run(tmp_path, url):
    """A run whose search has started on PostgreSQL (published, as the supervisor does)."""
    from automl.api import start_run

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    frame = X.iloc[:, :5].assign(diagnosis=y)
    ctx, _ = start_run(frame, TrainConfig(target="diagnosis", storage=url, time_budget=30,
                                          families=("linear",)), root=tmp_path / "a")
    share = SharedRun(url, ctx.run.study_name)
    share.publish(ctx.run)
    share.publish_stop_at(time.time() + 30, now=True)
    return ctx, share


@pytest.mark.slow
def test_damaged_or_hostile_artifacts_are_refused(tmp_path, url):
    import sqlalchemy as sa

    ctx, share = _shared_run(tmp_path, url)
    study = share.study
    try:
        joined = join(url, ctx.run.id, tmp_path / "b")  # whole: it joins
        np.testing.assert_array_equal(joined.y, ctx.y)
        assert joined.remote.stop_at() > time.time()
        # the data changed in the database: refused by its hash
        engine = sa.create_engine(driver_url(url))
        artifact = study.user_attrs[DATA_KEY]["artifact_id"]
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE automl_artifacts SET body = :b WHERE artifact_id = :i"),
                         {"b": b"PAR1 not the data", "i": artifact})
        with pytest.raises(ConfigError, match="arrived damaged"):
            join(url, ctx.run.id, tmp_path / "c")
        # out-of-fold predictions that are a pickle, or of the wrong length, are skipped
        trial = study.ask()
        import io
        import pickle

        for i, body in enumerate([pickle.dumps(np.zeros(len(ctx.y))),
                                  _npy(np.zeros(3)), _npy(np.array(["x"] * len(ctx.y)))]):
            t = study.ask()
            aid = f"hostile-{ctx.run.id[-8:]}-{i}"
            share._store().write(aid, io.BytesIO(body))
            t.set_user_attr(OOF_KEY, {"artifact_id": aid,
                                      "sha256": hashlib.sha256(body).hexdigest()})
            study.tell(t, 0.5)
        t = study.ask()  # an id that is a path: refused before any store opens it
        t.set_user_attr(OOF_KEY, {"artifact_id": "../../../etc/passwd", "sha256": "0" * 64})
        study.tell(t, 0.5)
        good = np.full(len(ctx.y), 0.25)
        share.send_oof(trial, good)
        study.tell(trial, 0.9)
        got = share.fetch_oofs(ctx.run, study.trials, len(ctx.y))
        assert got == 1  # only the honest one
        np.testing.assert_array_equal(ctx.run.load_oof(trial.number), good.astype(np.float32))
        # a folder named by the database is never opened: only this machine's own setting
        study.set_user_attr(STORE_KEY, {"directory": "/etc"})
        with pytest.raises(ConfigError, match="set AUTOML_ARTIFACT_DIR"):
            join(url, ctx.run.id, tmp_path / "d")
    finally:
        optuna.delete_study(study_name=study.study_name, storage=driver_url(url))


def _npy(a) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


def test_joining_needs_a_known_shared_run_and_refuses_sqlite(tmp_path, url):
    with pytest.raises(RunNotFoundError, match="holds no run"):
        join(url, "20260101-000000-" + "0" * 32, tmp_path)
    with pytest.raises(ConfigError, match="SQLite storage cannot be shared"):
        join("sqlite:///" + str(tmp_path / "s.db"), "20260101-000000-" + "0" * 32, tmp_path)
    with pytest.raises(ConfigError, match="SQLite storage cannot be shared"):
        TrainConfig(target="y", storage="sqlite:///study.db")


def test_worker_command_says_what_joining_needs(tmp_path):
    from tests.cli import run_cli

    env_free = run_cli("worker", "--run", "20260101-000000-" + "0" * 32, cwd=tmp_path)
    assert env_free.returncode == 2 or "--storage" in env_free.stderr
    assert "Traceback" not in env_free.stderr
    nothing = run_cli("worker", cwd=tmp_path)
    assert "Name the run to join" in nothing.stderr and "Traceback" not in nothing.stderr


@pytest.mark.slow
def test_a_trial_whose_worker_died_is_failed_and_tried_once_more(tmp_path, url, monkeypatch):
    """A trial whose heartbeats stopped (its process was killed) is failed by the next
    worker that looks, and run again with the same parameters."""
    from automl.search import context
    from automl.search.worker import run_worker

    monkeypatch.setattr(context, "HEARTBEAT_S", 1)
    monkeypatch.setattr(context, "GRACE_S", 2)
    ctx, _ = _shared_run(tmp_path, url)
    ctx.max_trials = 3
    study = ctx.study()
    try:
        dead = study.ask()
        dead.suggest_categorical("family", ["linear"])
        study._storage.record_heartbeat(dead._trial_id)  # then its process "died"
        time.sleep(3.5)
        ctx.run.set_stop_at(time.time() + 60)
        run_worker(ctx, install_signal=False)
        trials = study.get_trials(deepcopy=False)
        assert trials[dead.number].state == optuna.trial.TrialState.FAIL
        retried = [t for t in trials if t.system_attrs.get("failed_trial") == dead.number]
        assert len(retried) == 1
        assert retried[0].state == optuna.trial.TrialState.COMPLETE
        assert retried[0].params["family"] == "linear"
    finally:
        optuna.delete_study(study_name=study.study_name, storage=driver_url(url))


@pytest.mark.slow
def test_the_app_starts_a_shared_run_with_the_url_kept_on_the_server(tmp_path, url,
                                                                      monkeypatch):
    """The operator's URL (with a password) reaches the search through the environment;
    the page shows it masked, the run folder keeps it masked, the live board reads the
    trials from the database with the worker that ran each."""
    from automl.background import live_leaderboard
    from automl.runs import Run
    from tests.apptest import app, session, wages_state

    secret_url = url.replace("postgres@", "postgres:s3cret-pw@")  # trust auth ignores it
    monkeypatch.setenv("AUTOML_STORAGE_URL", secret_url)
    monkeypatch.setenv("AUTOML_RUNS_DIR", str(tmp_path))
    at = app("train", state=wages_state())
    box = at.checkbox(key="train_shared")
    assert "***" in box.label and "s3cret" not in box.label
    box.check().run()
    at.multiselect(key="train_families:regression").set_value(["linear"]).run()
    next(s for s in at.slider if s.label == "Time budget (seconds)").set_value(20).run()
    at.button(key="start_search").click().run()
    assert not at.exception, at.exception
    run = Run(tmp_path / session(at).current_run_id)
    try:
        assert "s3cret" not in run.settings_file.read_text()
        assert run.spec.config.storage.startswith("postgresql")
        end = time.time() + 120
        while time.time() < end and run.status.state in ("queued", "running"):
            time.sleep(0.5)
        assert run.status.state == "finished", run.status
        board = live_leaderboard(run)
        assert len(board) and board["worker"].notna().all()
        assert not any("s3cret" in p.read_text(errors="ignore")
                       for p in run.path.rglob("*") if p.is_file() and p.suffix in
                       (".json", ".txt", ".journal"))
    finally:
        optuna.delete_study(study_name=run.study_name, storage=driver_url(url))
