"""The records a run folder and a model file hold (automl.contracts), and the run's state
machine: its transitions, its one writer, and what readers see when a process died."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from automl.config import TrainConfig
from automl.contracts import (
    FORMAT_VERSION,
    TRANSITIONS,
    ModelManifest,
    RunSpec,
    RunState,
    RunStatus,
)
from automl.errors import ConfigError, RunStateError
from automl.runs import Run, StatusWriter

ROOT = Path(__file__).resolve().parents[1]

# settings.json and status.json as the code before the contract types wrote them (no format)
OLD_SETTINGS = {
    "config": {"target": "Status", "task": "auto", "metric": None, "time_budget": 20.0,
               "max_trials": None, "cv_folds": None, "families": ["lgbm"], "seed": 0,
               "n_workers": None, "storage": None, "holdout": 0.2},
    "task": "binary", "metric": "roc_auc", "direction": "maximize", "families": ["lgbm"],
    "cv_folds": 5, "classes": ["bad", "good"],
    "schema": [{"name": "Income", "kind": "numeric", "dtype": "float64", "n_missing": 0,
                "n_unique": 40}],
    "source": "credit.csv", "data_hash": "ab12", "n_rows": 1000, "created_at": 1.7e9,
}
OLD_STATUS = {
    "state": "finished", "n_trials": 12, "started_at": 1.7e9, "pid": 4242, "pid_start": 9.0,
    "deadline": 1.7e9 + 20, "message": None, "workers": [[4243, 10.0]],
    "progress": {"elapsed": 18.0, "budget": 20.0, "complete": 11, "pruned": 1, "failed": 0,
                 "best": 0.81, "best_family": "lgbm"},
    "search_started_at": 1.7e9, "search_ended_at": 1.7e9 + 18, "n_workers": 2,
    "best": {"family": "lgbm", "score": 0.81, "trial": 3, "holdout_score": 0.8,
             "params": {"lgbm_leaves": 31}, "members": []},
    "final_s": 1.5, "ended_at": 1.7e9 + 19.5, "model": "runs/x/model.skops",
    "updated_at": 1.7e9 + 19.5,
}


def test_todays_files_read_and_write_back_with_a_format_version():
    spec = RunSpec.from_json(OLD_SETTINGS)
    assert spec.target == "Status" and spec.config.holdout == 0.2
    assert spec.classes == ("bad", "good") and spec.input_schema().names == ["Income"]
    again = spec.to_json()
    assert again["format"] == FORMAT_VERSION
    assert {k: v for k, v in again.items() if k != "format"} == OLD_SETTINGS
    status = RunStatus.from_json(OLD_STATUS)
    assert status.state is RunState.FINISHED and status.best.score == 0.81
    assert status.progress.complete == 11
    written = status.to_json()
    assert {k: v for k, v in written.items() if k in OLD_STATUS} == OLD_STATUS
    assert all(written[k] is None for k in set(written) - set(OLD_STATUS) - {"format"})
    assert RunSpec.from_json(json.loads(json.dumps(again))) == spec


def test_fields_a_newer_writer_added_survive_a_read_and_write():
    spec = RunSpec.from_json({**OLD_SETTINGS, "format": 7, "shard": {"n": 3}})
    assert spec.to_json()["shard"] == {"n": 3}
    status = RunStatus.from_json({**OLD_STATUS, "heartbeat": 5})
    assert status.to_json()["heartbeat"] == 5


@pytest.mark.parametrize("bad", [[], "x", None, {"config": "x"}, {"config": {"target": "y"}},
                                 {**OLD_SETTINGS, "task": 3}])
def test_a_damaged_settings_file_is_a_clear_error(bad):
    with pytest.raises(ConfigError, match="settings.json"):
        RunSpec.from_json(bad)


def test_damaged_status_values_read_as_empty_and_an_unknown_state_as_failed():
    status = RunStatus.from_json({"state": "exploded", "pid": "1; rm -rf /", "n_trials": 1e999,
                                  "progress": [1, 2], "ended_at": float("nan")})
    assert status.state is RunState.FAILED and "unknown state" in status.message
    assert status.pid is None and status.n_trials == 0 and status.progress is None
    assert status.ended_at is None


def test_the_transition_table():
    created = RunStatus()
    running = created.moved_to(RunState.RUNNING, pid=1)
    assert running.state is RunState.RUNNING and running.pid == 1
    for end in (RunState.FINISHED, RunState.STOPPED, RunState.FAILED):
        ended = running.moved_to(end)
        assert ended.moved_to(RunState.RUNNING).state is RunState.RUNNING  # resume
        with pytest.raises(RunStateError, match=f"A {end} run cannot become finished"):
            ended.moved_to(RunState.FINISHED)
        with pytest.raises(RunStateError, match="no longer changes"):
            ended.updated(n_trials=3)
    with pytest.raises(RunStateError):
        created.moved_to(RunState.FINISHED)  # a run that never ran cannot finish
    with pytest.raises(RunStateError):
        running.updated(state=RunState.FINISHED)  # states change only through moved_to
    assert all(RunState.QUEUED not in targets for targets in TRANSITIONS.values())  # never written


def _run(tmp_path) -> Run:
    run = Run.create(tmp_path)
    run.write_spec(RunSpec(config=TrainConfig(target="y"), task="binary", metric="roc_auc"))
    return run


def _dead_pid() -> int:
    gone = subprocess.Popen(["true"])
    gone.wait()
    return gone.pid


def test_the_supervisor_runs_finishes_and_a_resume_runs_again(tmp_path):
    run = _run(tmp_path)
    assert run.status.state is RunState.CREATED and not run.status_file.exists()
    writer = StatusWriter(run)
    writer.move(RunState.RUNNING, pid=os.getpid())
    writer.update(n_trials=4)
    writer.move(RunState.FINISHED, ended_at=time.time())
    assert run.status.state == "finished" and run.status.n_trials == 4
    with pytest.raises(RunStateError):
        writer.update(n_trials=5)  # an ended run's status no longer changes
    assert run.status.n_trials == 4
    writer.move(RunState.RUNNING, pid=os.getpid())  # resumed
    writer.move(RunState.STOPPED)
    assert run.status.state == "stopped"


def test_a_dead_supervisor_reads_as_failed_and_reading_writes_nothing(tmp_path):
    run = _run(tmp_path)
    StatusWriter(run).move(RunState.RUNNING, pid=_dead_pid())
    before = run.status_file.read_bytes()
    assert run.status.state is RunState.FAILED and "ended unexpectedly" in run.status.message
    assert run.status_file.read_bytes() == before  # the reader never writes
    assert run.stored_status.state is RunState.RUNNING
    StatusWriter(run).move(RunState.RUNNING, pid=os.getpid())  # resume: failed -> running
    assert run.status.state is RunState.RUNNING


def test_a_launch_reads_as_queued_until_the_supervisor_writes(tmp_path):
    run = _run(tmp_path)
    run.record_launch()  # before the process exists
    assert run.status.state is RunState.QUEUED and not run.status_file.exists()
    run.record_launch(os.getpid(), None)
    assert run.status.state is RunState.QUEUED and run.status.pid == os.getpid()
    StatusWriter(run).move(RunState.RUNNING, pid=os.getpid())
    assert run.status.state is RunState.RUNNING
    assert run.control_file.exists() and "launched" in json.loads(run.control_file.read_text())


def test_a_launched_process_that_died_before_running_reads_as_failed(tmp_path):
    run = _run(tmp_path)
    run.record_launch(_dead_pid(), None)
    assert run.status.state is RunState.FAILED


def test_a_missing_control_file_is_no_launch(tmp_path):
    run = _run(tmp_path)
    run.record_launch(os.getpid(), None)
    run.control_file.unlink()
    assert run.status.state is RunState.CREATED and run.stop_requested() is False
    assert run.stop_at() == 0.0  # and a worker stops at once


def test_one_writer_of_the_status_and_no_json_read_by_key():
    """Only the supervisor (automl.api.execute and the search runner it passes the writer
    to) writes a status; outside automl/contracts.py and automl/runs.py no module opens
    status.json or settings.json, or indexes a run's settings by key."""
    writers, readers = set(), set()
    for path in (ROOT / "automl").rglob("*.py"):
        rel = str(path.relative_to(ROOT))
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "StatusWriter":
                writers.add(rel)
            if isinstance(node, ast.Constant) and node.value in ("status.json", "settings.json"):
                readers.add(rel)
            if isinstance(node, ast.Attribute) and node.attr in ("settings", "update_status",
                                                                 "write_settings"):
                readers.add(rel)
    assert writers == {"automl/api.py"}
    assert readers <= {"automl/runs.py", "automl/contracts.py"}


def test_a_model_manifest_round_trips_and_keeps_the_container_fields():
    data = {"task": "binary", "schema": OLD_SETTINGS["schema"], "classes": ["bad", "good"],
            "family": "lgbm", "cv_score": 0.8, "format": "automl-model", "format_version": 2,
            "sha256": "00", "library_versions": {"sklearn": "1.6.1"}, "members": [],
            "params": {}}
    manifest = ModelManifest.from_json(data)
    assert manifest.classes == ("bad", "good") and manifest.input_schema().names == ["Income"]
    assert manifest.to_json() == data


def test_a_launch_record_alone_is_no_stop_request(tmp_path):
    run = _run(tmp_path)
    run.record_launch(os.getpid(), None)
    assert not run.stop_requested() and run.stop_at() == 0.0
    assert run.set_stop_at(time.time() + 60) > time.time()  # the supervisor's first write
    run.control_file.write_text('{"launched": {"at": 1}, "stop_at": "soon"}')
    assert run.stop_requested()  # damaged beside the launch: stop


_SCOPES = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def _own_nodes(scope):
    """The nodes of ``scope`` outside the classes and functions defined in it."""
    todo = list(ast.iter_child_nodes(scope))
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, _SCOPES):
            todo.extend(ast.iter_child_nodes(node))


def _manifest_keys(source: str) -> list[tuple[int, str]]:
    """(line, key) wherever ``source`` reads or writes a manifest's JSON by a string key:
    ``x["key"]`` or ``x.get("key")`` (pop, setdefault) where ``x`` is named for a manifest
    (``manifest``, ``model.manifest``, ``read_manifest(path)``, ``m.to_json()``) or is a name
    bound to one in the same scope (``m = model.manifest``)."""
    def named(node, aliases) -> bool:
        if isinstance(node, ast.Name):
            return "manifest" in node.id.lower() or node.id in aliases
        if isinstance(node, ast.Attribute):
            return "manifest" in node.attr.lower()
        if isinstance(node, ast.Call):
            f = node.func
            return (named(f, set()) if not isinstance(f, ast.Attribute) or f.attr != "to_json"
                    else named(f.value, aliases))
        return False

    def key(node) -> str | None:
        return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) \
            else None

    hits = set()
    tree = ast.parse(source)
    for scope in [tree, *(n for n in ast.walk(tree) if isinstance(n, _SCOPES[1:]))]:
        nodes = list(_own_nodes(scope))
        aliases = {t.id for n in nodes if isinstance(n, ast.Assign | ast.AnnAssign)
                   and n.value is not None and named(n.value, set())
                   for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
                   if isinstance(t, ast.Name)}
        for n in nodes:
            if isinstance(n, ast.Subscript) and key(n.slice) and named(n.value, aliases):
                hits.add((n.lineno, key(n.slice)))
            if (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                    and n.func.attr in ("get", "pop", "setdefault") and n.args
                    and key(n.args[0]) and named(n.func.value, aliases)):
                hits.add((n.lineno, key(n.args[0])))
    return sorted(hits)


def test_nobody_but_the_contract_and_the_container_reads_a_manifest_by_key():
    before = ('def card(model):\n'
              '    m = model.manifest\n'
              '    return m.get("task"), model.manifest["classes"], read_manifest(p)["cv"]\n'
              'def oof(manifest, members):\n'
              '    return manifest.get("family"), [m["trial"] for m in members]\n')
    assert _manifest_keys(before) == [(3, "classes"), (3, "cv"), (3, "task"), (5, "family")]
    allowed = {"automl/contracts.py", "automl/bundle/_format.py"}
    found = {}
    for path in sorted([*ROOT.glob("automl/**/*.py"), *ROOT.glob("pages/**/*.py")]):
        rel = path.relative_to(ROOT).as_posix()
        if rel not in allowed and (hits := _manifest_keys(path.read_text())):
            found[rel] = hits
    assert found == {}, ("read the manifest through automl.contracts.ModelManifest's "
                         f"attributes, not its JSON: {found}")


def test_a_model_manifest_reads_damaged_numbers_as_none_and_stores_schema_rows():
    from automl.data.schema import Schema

    schema = Schema.from_dict(OLD_SETTINGS["schema"])
    made = ModelManifest(task="binary", schema=schema, classes=["bad", "good"])
    assert made.schema == tuple(OLD_SETTINGS["schema"]) and made.classes == ("bad", "good")
    read = ModelManifest.from_json({**made.to_json(), "n_rows": "many", "cv_score": float("nan"),
                                    "members": [{"trial": 1}, "junk"], "params": [1]})
    assert (read.n_rows, read.cv_score, read.members, read.params) == (None, None,
                                                                       [{"trial": 1}], {})
    assert read.replaced(family="lgbm").family == "lgbm" and read.family is None
    with pytest.raises(ConfigError, match="needs a task"):
        ModelManifest.from_json({"schema": []})


def test_a_damaged_launch_record_is_replaced_not_fatal(tmp_path):
    run = _run(tmp_path)
    run.control_file.write_text('{"launched": "yesterday", "stop_at": 5}')
    assert run.status.state is RunState.CREATED  # not a launch: no queued view
    run.record_launch(os.getpid(), None)
    assert run.status.state is RunState.QUEUED and run.status.pid == os.getpid()
