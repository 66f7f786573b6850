"""A run's status and control files: who is alive, when to stop, and many writers at once."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from automl.contracts import RunState
from automl.runs import Run, StatusWriter, process_alive
from automl.search.stopping import StopSignal
from tests.run_files import write_status


def _run(tmp_path) -> Run:
    (tmp_path / "run").mkdir()
    return Run(tmp_path / "run")


def _own_start_time() -> int:
    return int(Path(f"/proc/{os.getpid()}/stat").read_text().rpartition(") ")[2].split()[19])


def test_a_reused_pid_does_not_count_as_alive(tmp_path):
    run = _run(tmp_path)
    write_status(run, state="running", pid=os.getpid(), pid_start=_own_start_time())
    assert run.status.state == "running"  # this very process: alive
    # the same pid, started at another time: an unrelated process that reused the pid
    write_status(run, state="running", pid=os.getpid(), pid_start=_own_start_time() - 1)
    assert run.status.state == "failed"
    assert "ended unexpectedly" in run.status.message
    assert process_alive(os.getpid(), _own_start_time())
    assert not process_alive(os.getpid(), _own_start_time() + 7)


def test_a_dead_or_zombie_process_is_not_alive():
    gone = subprocess.Popen(["true"])
    while Path(f"/proc/{gone.pid}/stat").read_text().rpartition(") ")[2][:1] != "Z":
        time.sleep(0.01)  # exited, not yet reaped: a zombie
    assert not process_alive(gone.pid)
    gone.wait()
    assert not process_alive(gone.pid)


@pytest.mark.parametrize("control", [None, "{not json", "[]", '{"stop_at": "soon"}',
                                     '{"stop_at": null}', '{"stop_at": NaN}'])
def test_a_missing_or_corrupt_control_file_means_stop(tmp_path, control):
    run = _run(tmp_path)
    if control is not None:
        run.control_file.write_text(control)
    assert StopSignal(run).requested()
    assert run.stop_at() <= time.time()


def test_a_readable_control_file_sets_the_stop_time(tmp_path):
    run = _run(tmp_path)
    run.set_stop_at(time.time() + 600)
    assert not StopSignal(run).requested()
    run.request_stop()
    assert StopSignal(run).requested() and run.stop_requested()
    assert run.set_stop_at(time.time() + 600) <= time.time()  # the request stays in force
    run.set_stop_at(time.time() + 600, force=True)  # a resume starts afresh
    assert not StopSignal(run).requested() and not run.stop_requested()


def test_a_worker_stops_when_its_supervisor_is_gone(tmp_path):
    run = _run(tmp_path)
    run.set_stop_at(time.time() + 600)
    gone = subprocess.Popen(["true"])
    gone.wait()
    assert StopSignal(run, owner=(gone.pid, None)).requested()
    assert not StopSignal(run, owner=(os.getpid(), _own_start_time())).requested()


def test_threads_of_the_supervisor_and_the_app_write_without_losing_a_launch(tmp_path):
    """The supervisor's threads update the status while app sessions write the control file
    (launch, stop, resume): no write fails, a reader never sees half a file, and the launch
    record survives every stop-time write."""
    run = _run(tmp_path)
    writer = StatusWriter(run)
    writer.move(RunState.RUNNING, pid=os.getpid(), pid_start=_own_start_time())
    n_threads, n_updates = 12, 20
    barrier = threading.Barrier(n_threads + 1)
    errors, done = [], threading.Event()

    def write(i):
        barrier.wait()
        try:
            for j in range(n_updates):
                if i % 3 == 0:
                    writer.update(n_trials=j)
                elif i % 3 == 1:
                    run.set_stop_at(time.time() + 600)
                else:
                    run.record_launch(os.getpid(), _own_start_time())
        except Exception as exc:
            errors.append(exc)

    def read():
        barrier.wait()
        while not done.is_set():
            try:
                json.loads(run.status_file.read_text())
                json.loads(run.control_file.read_text())
            except FileNotFoundError:
                continue  # before the first write
            except Exception as exc:
                errors.append(exc)

    writers = [threading.Thread(target=write, args=(i,)) for i in range(n_threads)]
    reader = threading.Thread(target=read)
    for t in [*writers, reader]:
        t.start()
    for t in writers:
        t.join()
    done.set()
    reader.join()
    assert errors == []
    control = json.loads(run.control_file.read_text())
    assert control["launched"]["pid"] == os.getpid() and control["stop_at"] > time.time()
    assert run.status.state == "running" and run.status.n_trials == n_updates - 1
