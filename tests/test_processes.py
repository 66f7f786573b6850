"""Processes of a run, with real processes and real signals: workers end with their parent,
the run never stays "running" for ever, Resume starts one supervisor, a stale journal lock
does not stall a run, and a storage password reaches the background process but not the disk.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer

from automl.api import execute, start_run
from automl.background import launch_run, resume_run
from automl.config import TrainConfig
from automl.errors import ConfigError
from automl.runs import Run
from tests.run_files import write_status

AUTOML = [sys.executable, "-m", "automl.cli"]
HANG_GUARD_S = 60  # a generous bound against hangs, not a timing assertion
CLICKS = 16  # Resume clicks at one moment: two race in principle; more make the race likely


def _cancer():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return X.iloc[:, :8].assign(outcome=np.where(y == 1, "benign", "malignant"))


def _wait_for(check, what: str, timeout: float = HANG_GUARD_S):
    end = time.time() + timeout
    while time.time() < end:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


def _processes() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, start time) of every process on the machine."""
    out = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(") ")[2].split()
        except OSError:
            continue
        if fields[0] != "Z":
            out[int(stat.parent.name)] = (int(fields[1]), int(fields[19]))
    return out


def _descendants(pid: int) -> set[tuple[int, int]]:
    """(pid, start time) of every live process below ``pid``."""
    procs, found, todo = _processes(), set(), [pid]
    while todo:
        parent = todo.pop()
        for child, (ppid, start) in procs.items():
            if ppid == parent:
                found.add((child, start))
                todo.append(child)
    return found


def _still_alive(procs: set[tuple[int, int]]) -> set[tuple[int, int]]:
    now = _processes()
    return {(pid, start) for pid, start in procs if now.get(pid, (0, None))[1] == start}


def _the_run(root: Path) -> Run:
    return Run(_wait_for(lambda: next(iter(root.glob("*/status.json")), None), "a run").parent)


def _training(pid: int, run_root: Path, n_processes: int) -> tuple[Run, set]:
    """Wait until ``pid``'s run has finished a trial and ``pid`` has ``n_processes``
    descendants (its workers, and with forkserver the server and resource tracker too);
    the run and those descendants."""
    run = _the_run(run_root)
    oof = run.path / "oof"
    _wait_for(lambda: run.status.state == "running" and any(oof.iterdir())
              and len(_descendants(pid)) >= n_processes, "the workers to train")
    return run, _descendants(pid)


def _ends_with_its_workers(run: Run, workers: set) -> None:
    left = _wait_for_empty(workers)
    assert left == set(), f"workers still alive after their parent ended: {left}"
    assert run.status.state in ("failed", "stopped"), run.status


def _wait_for_empty(procs: set) -> set:
    end = time.time() + HANG_GUARD_S
    while _still_alive(procs) and time.time() < end:
        time.sleep(0.1)
    return _still_alive(procs)


def _train_command(csv: Path, start_method: str | None) -> list[str]:
    if start_method is None:  # the command line (fork)
        return [*AUTOML, "train", str(csv), "--target", "outcome", "--time-budget", "600",
                "--families", "linear,knn", "--workers", "2", "--out", "m.skops", "--quiet"]
    code = ("import sys, automl; automl.train(sys.argv[1], 'outcome', time_budget=600, "
            "families=['linear', 'knn'], n_workers=2, start_method=sys.argv[2])")
    return [sys.executable, "-c", code, str(csv), start_method]


@pytest.fixture
def csv(tmp_path):
    path = tmp_path / "cancer.csv"
    _cancer().to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_sigterm_to_automl_train_ends_its_workers_and_marks_the_run(tmp_path, csv):
    runs = tmp_path / "runs"
    proc = subprocess.Popen(_train_command(csv, None), cwd=tmp_path, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "AUTOML_RUNS_DIR": str(runs)})
    run, workers = _training(proc.pid, runs, 2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=HANG_GUARD_S)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "SIGTERM" in err and "Traceback" not in err
    _ends_with_its_workers(run, workers)
    assert run.status.state == "failed" and "SIGTERM" in run.status.message


@pytest.mark.slow
@pytest.mark.parametrize("start_method", [None, "forkserver"])
def test_sigkill_to_automl_train_ends_its_workers(tmp_path, csv, start_method):
    runs = tmp_path / "runs"
    proc = subprocess.Popen(_train_command(csv, start_method), cwd=tmp_path,
                            stderr=subprocess.DEVNULL, env={**os.environ,
                                                            "AUTOML_RUNS_DIR": str(runs)})
    run, workers = _training(proc.pid, runs, 2 if start_method is None else 4)
    proc.kill()
    proc.wait()
    _ends_with_its_workers(run, workers)  # with forkserver: the forkserver process too


@pytest.mark.slow
def test_sigkill_to_the_apps_supervisor_ends_its_workers(tmp_path):
    config = TrainConfig(target="outcome", time_budget=600, families=("linear", "knn"),
                         n_workers=2)
    run, _ = launch_run(_cancer(), config, root=tmp_path)
    pid = _wait_for(lambda: run.status.pid, "the supervisor's pid")
    run, workers = _training(pid, tmp_path, 2)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    _ends_with_its_workers(run, workers)
    assert "ended unexpectedly" in run.status.message


@pytest.mark.slow
def test_sigkill_to_a_worker_loses_no_finished_trial_and_the_run_reaches_its_target(
        tmp_path, csv):
    """A worker killed in the middle of a trial: its trial is failed, a new worker takes
    its place, every finished trial stays, and the run still reaches its trial target."""
    import optuna

    from automl.search.journal import journal_storage

    runs = tmp_path / "runs"
    proc = subprocess.Popen(
        [*AUTOML, "train", str(csv), "--target", "outcome", "--time-budget", "120",
         "--max-trials", "12", "--families", "lgbm", "--workers", "1", "--out", "m.skops",
         "--quiet"], cwd=tmp_path, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "AUTOML_RUNS_DIR": str(runs)})
    run, _ = _training(proc.pid, runs, 1)
    study = optuna.load_study(study_name=run.study_name,
                              storage=journal_storage(run.journal_file))

    def running_trial():
        trials = study.get_trials(deepcopy=False)
        busy = [t for t in trials if t.state.name == "RUNNING" and t.user_attrs.get("worker")]
        return (busy[0], [t.number for t in trials if t.state.name == "COMPLETE"]) if (
            busy) else None

    victim, finished = _wait_for(running_trial, "a trial in progress")
    pid = int(victim.user_attrs["worker"].rsplit("/", 1)[1])
    os.kill(pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=HANG_GUARD_S * 2)
    assert proc.returncode == 0, err
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    assert trials[victim.number].state.name == "FAIL"
    assert "died" in trials[victim.number].user_attrs["error"]
    assert all(trials[n].state.name == "COMPLETE" for n in finished)  # none lost
    assert len(trials) >= 12  # the trial target, counting the failed one
    assert sum(t.state.name in ("COMPLETE", "PRUNED") for t in trials.values()) >= 11
    assert not any("Timeout" in t.user_attrs.get("error", "") for t in trials.values())
    assert run.status.state == "finished"


@pytest.mark.slow
def test_a_killed_run_resumes_from_the_command_line_and_reaches_its_target(tmp_path, csv):
    import optuna

    from automl.search.journal import journal_storage

    runs = tmp_path / "runs"
    env = {**os.environ, "AUTOML_RUNS_DIR": str(runs)}
    proc = subprocess.Popen(
        [*AUTOML, "train", str(csv), "--target", "outcome", "--time-budget", "300",
         "--max-trials", "10", "--families", "lgbm", "--workers", "1", "--out", "m.skops",
         "--quiet"], cwd=tmp_path, stderr=subprocess.DEVNULL, env=env)
    run, workers = _training(proc.pid, runs, 1)
    study = optuna.load_study(study_name=run.study_name,
                              storage=journal_storage(run.journal_file))
    _wait_for(lambda: sum(t.state.name == "COMPLETE" for t in study.get_trials()) >= 2,
              "two finished trials")
    proc.kill()  # the whole command, supervisor first; its workers end with it
    proc.wait()
    _ends_with_its_workers(run, workers)
    finished = [t.number for t in study.trials if t.state.name == "COMPLETE"]
    assert finished and len(study.trials) < 10
    again = subprocess.run([*AUTOML, "train", "--resume", run.id, "--time-budget", "90",
                            "--quiet"], cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=HANG_GUARD_S * 3)
    assert again.returncode == 0, again.stderr
    trials = {t.number: t for t in optuna.load_study(
        study_name=run.study_name, storage=journal_storage(run.journal_file)).trials}
    assert all(trials[n].state.name == "COMPLETE" for n in finished)
    assert len(trials) >= 10 and run.status.state == "finished"
    assert run.model_file.exists()
    busy = subprocess.run([*AUTOML, "train", "--resume", run.id, "sample.csv"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=HANG_GUARD_S)
    assert busy.returncode == 2 and "leave out DATA" in busy.stderr


def _prepared(tmp_path, **config) -> Run:
    config = {"target": "outcome", "time_budget": 30, "families": ("linear",), **config}
    ctx, _ = start_run(_cancer(), TrainConfig(**config), root=tmp_path)
    return ctx


@pytest.mark.slow
def test_resume_refuses_while_a_worker_of_the_run_is_alive(tmp_path):
    run = _prepared(tmp_path).run
    run.set_stop_at(time.time() + 600)
    write_status(run, state="stopped")  # as the app sees it; a worker joined by hand goes on
    worker = subprocess.Popen([*AUTOML, "worker", str(run.path)], stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: (run.path / "oof").exists() and any((run.path / "oof").iterdir()),
                  "the worker to finish a trial")
        with pytest.raises(ConfigError, match="still running"):
            resume_run(run, 5)
        assert run.status.state == "stopped"
    finally:
        worker.kill()
        worker.wait()


@pytest.mark.slow
def test_resume_clicks_at_once_start_one_supervisor(tmp_path):
    run = _prepared(tmp_path, max_trials=3).run
    run.request_stop()  # a stopped run: its control file says stop
    write_status(run, state="stopped")
    barrier, outcomes = threading.Barrier(2), []

    def click():
        barrier.wait()
        try:
            resume_run(run, 30)  # ends after 3 trials
            outcomes.append("resumed")
        except ConfigError as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=click) for _ in range(CLICKS)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, as two busy app sessions would
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    supervisors = [p for p in Path("/proc").glob("[0-9]*/cmdline") if _is_supervisor(p, run)]
    assert outcomes.count("resumed") == 1, outcomes
    assert all("still running" in o for o in outcomes if o != "resumed")
    assert len(supervisors) == 1
    status = _wait_for(lambda: run.status.state in ("finished", "failed") and run.status,
                       "the resumed run to end")
    assert status.state == "finished", status  # its worker did not stop at once
    assert status.n_trials >= 1 and not run.stop_requested()


def _is_supervisor(cmdline: Path, run: Run) -> bool:
    try:
        args = cmdline.read_bytes().split(b"\0")
    except OSError:
        return False
    return b"supervise" in args and str(run.path).encode() in args


@pytest.mark.slow
def test_a_stale_journal_lock_does_not_stall_the_run(tmp_path):
    budget = 20  # below Optuna's 30 s grace period for a stale lock
    ctx = _prepared(tmp_path, time_budget=budget, max_trials=3)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\n"
        "from automl.runs import Run\n"
        "from automl.search.context import open_storage\n"
        "open_storage(Run(sys.argv[1]))._backend._lock.acquire()\n"
        "print('held', flush=True)\n"
        "time.sleep(600)\n"), str(ctx.run.path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "held\n"
    holder.kill()  # a worker killed while appending to the journal leaves its lock behind
    holder.wait()
    t0 = time.time()
    trials, _, _ = execute(ctx, started_at=t0, deadline=t0 + budget, n_workers=1)
    assert time.time() - t0 < budget + HANG_GUARD_S
    assert ctx.run.status.state == "finished", ctx.run.status
    assert any(t.state.name == "COMPLETE" for t in trials)


def test_a_masked_storage_url_is_never_used_to_connect(tmp_path, monkeypatch):
    from automl.search.context import SearchContext

    run = _prepared(tmp_path).run
    spec = run.spec  # as start_run saves it:
    run.write_spec(replace(spec, config=replace(spec.config,
                                                storage="postgresql://u:***@127.0.0.1:1/db")))
    monkeypatch.delenv("AUTOML_STORAGE_URL", raising=False)
    with pytest.raises(ConfigError, match="--storage URL or set AUTOML_STORAGE_URL"):
        SearchContext.from_run(run)
    with pytest.raises(ConfigError, match="AUTOML_STORAGE_URL"):
        resume_run(run, 5)
    monkeypatch.setenv("AUTOML_STORAGE_URL", "postgresql://u:pw@127.0.0.1:1/db")
    assert SearchContext.from_run(run).storage_url == "postgresql://u:pw@127.0.0.1:1/db"
    assert SearchContext.from_run(run, "postgresql://u:x@h/db").storage_url == (
        "postgresql://u:x@h/db")  # an explicit URL wins


def test_the_worker_command_says_what_to_pass_for_a_masked_storage(tmp_path, monkeypatch,
                                                                    capsys):
    from automl.cli import main

    run = _prepared(tmp_path).run
    spec = run.spec
    run.write_spec(replace(spec, config=replace(spec.config,
                                                storage="postgresql://u:***@127.0.0.1:1/db")))
    run.set_stop_at(time.time() + 60)
    monkeypatch.delenv("AUTOML_STORAGE_URL", raising=False)
    assert main(["worker", str(run.path)]) == 2
    err = capsys.readouterr().err
    assert "pass --storage URL or set AUTOML_STORAGE_URL" in err and "Traceback" not in err


def test_the_worker_command_refuses_a_run_without_a_control_file(tmp_path, capsys):
    from automl.cli import main

    run = _prepared(tmp_path, max_trials=2).run  # no supervisor has said when to stop yet
    assert main(["worker", str(run.path)]) == 2
    err = capsys.readouterr().err
    assert "no control.json" in err and "Start the run first" in err
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the command's handler is gone


@pytest.mark.slow
def test_a_storage_password_reaches_the_background_process_but_not_the_run_folder(tmp_path):
    import secrets

    import optuna
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from automl.search.context import driver_url
    from tests.servers import POSTGRES_URL, require_server

    admin = require_server(POSTGRES_URL)
    secret = f"pw-{secrets.token_hex(8)}"
    engine = create_engine(driver_url(admin), isolation_level="AUTOCOMMIT")
    try:  # a role with a password, owning a database of its own for Optuna's tables
        with engine.connect() as conn:
            conn.execute(text("DO $$ BEGIN CREATE ROLE automl_pw LOGIN; "
                              "EXCEPTION WHEN duplicate_object THEN NULL; END $$"))
            conn.execute(text(f"ALTER ROLE automl_pw PASSWORD '{secret}'"))
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = 'automl_pw'")
                                ).first():
                conn.execute(text("CREATE DATABASE automl_pw OWNER automl_pw"))
    except Exception as exc:
        pytest.skip(f"cannot create the test role with {admin}: {type(exc).__name__}")
    finally:
        engine.dispose()
    server = make_url(admin)
    url = f"postgresql://automl_pw:{secret}@{server.host}:{server.port or 5432}/automl_pw"
    config = TrainConfig(target="outcome", time_budget=60, max_trials=3, families=("linear",),
                         storage=url)  # ends after 3 trials; the budget leaves room for load
    run, _ = launch_run(_cancer(), config, root=tmp_path)
    pid = run.status.pid
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    assert f"AUTOML_STORAGE_URL={url}".encode() in environ
    assert secret.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()
    status = _wait_for(lambda: run.status.state in ("finished", "failed") and run.status,
                       "the run to end")
    assert status.state == "finished", status
    for path in run.path.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    study = optuna.load_study(study_name=run.study_name, storage=driver_url(url))
    assert len(study.trials) >= 3
    optuna.delete_study(study_name=run.study_name, storage=driver_url(url))
