"""Run folders: everything a search needs and produces, so nothing lives only in memory.

``runs/<id>/`` holds ``settings.json`` (config, schema, classes, source), ``data.parquet``
(the snapshot searched), ``owner.json`` (a hash of the owner token), ``study.journal``
(Optuna's journal storage: safe for several worker processes on one machine),
``control.json`` (when to stop), ``status.json``, ``oof/`` (each finished trial's
out-of-fold predictions) and ``model.skops`` (the refitted best pipeline).

A run id is a readable UTC time plus 128 random bits, so a link to a run cannot be guessed.
Whoever creates a run gets its owner token (``Run.owner_token``, on that object only); the
app lets only a session holding it stop, resume or delete the run. The folder is readable by
its owner only (0o700; the snapshot 0o600): it holds the user's data.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import math
import os
import re
import secrets
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from automl.atomic import replacing, write_json
from automl.contracts import BestModel, RunSpec, RunState, RunStatus
from automl.errors import ConfigError, RunAccessError, RunNotFoundError
from automl.locks import hold, is_held, locked
from automl.processes import process_alive

__all__ = ["Run", "StatusWriter", "check_run_id", "delete_run", "list_runs", "open_run",
           "process_alive", "runs_root"]

_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")  # old ids (6 random hex digits) still match
_PRIVATE_DIR, _PRIVATE_FILE = 0o700, 0o600
ENDED = tuple(str(s) for s in RunState if s.is_ended)  # as list_runs writes them
_LAUNCH_GRACE_S = 60.0  # a launch with no pid yet counts as queued this long


def runs_root(root: str | os.PathLike | None = None) -> Path:
    """The folder holding runs: ``root``, else $AUTOML_RUNS_DIR, else ./runs."""
    return Path(root or os.environ.get("AUTOML_RUNS_DIR") or "runs")


def _write_json(path: Path, data) -> None:
    write_json(path, data)  # atomic: readers and other writers never see half a file


def _read_json(path: Path, default=None):
    """The JSON object in ``path``; ``default`` if it is missing, unreadable or no object."""
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):  # ValueError: bad JSON or bad UTF-8
        return default
    return data if isinstance(data, dict) else default


class Run:
    """One run folder. Cheap to construct; every property reads the disk afresh."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.owner_token: str | None = None  # set only on the object that created the run

    @property
    def id(self) -> str:
        return self.path.name

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r})"

    @classmethod
    def create(cls, root=None) -> Run:
        """A new, private run folder; the returned object holds the run's owner token."""
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        base = runs_root(root)
        if not base.exists():  # a new runs folder is private too (it lists the run ids)
            base.mkdir(mode=_PRIVATE_DIR, parents=True, exist_ok=True)
        path = base / f"{stamp}-{secrets.token_hex(16)}"
        path.mkdir(mode=_PRIVATE_DIR)
        path.chmod(_PRIVATE_DIR)  # whatever the umask
        (path / "oof").mkdir(mode=_PRIVATE_DIR)
        run = cls(path)
        run.new_owner_token()
        return run

    # files
    settings_file = property(lambda self: self.path / "settings.json")
    status_file = property(lambda self: self.path / "status.json")
    control_file = property(lambda self: self.path / "control.json")
    data_file = property(lambda self: self.path / "data.parquet")
    owner_file = property(lambda self: self.path / "owner.json")
    journal_file = property(lambda self: self.path / "study.journal")
    model_file = property(lambda self: self.path / "model.skops")
    study_name = property(lambda self: f"automl-{self.id}")

    @property
    def spec(self) -> RunSpec:
        """What the run searches (``settings.json``); ConfigError if the file is damaged."""
        return RunSpec.from_json(_read_json(self.settings_file))

    def write_spec(self, spec: RunSpec) -> None:
        _write_json(self.settings_file, spec.to_json())

    @property
    def stored_status(self) -> RunStatus:
        """``status.json`` as its writer left it (``created`` before the first write)."""
        data = _read_json(self.status_file)
        return RunStatus.from_json(data) if data is not None else RunStatus()

    @property
    def status(self) -> RunStatus:
        """The run's status as a reader should see it, computed, never written: a search
        process launched after the last write shows as queued, and a queued or running run
        whose process has ended (by pid and start time, so a reused pid does not count)
        shows as failed, so it never looks busy for ever. Only the supervisor writes
        (:class:`StatusWriter`)."""
        status = self.stored_status
        launch = _control_file(self.control_file).get("launched")
        if (not status.state.is_active and isinstance(launch, dict)
                and _after(launch.get("at"), status.updated_at)):
            status = status.seen_as(RunState.QUEUED, queued_at=launch.get("at"), message=None,
                                    pid=launch.get("pid"), pid_start=launch.get("pid_start"))
            if status.pid is None and time.time() - status.queued_at < _LAUNCH_GRACE_S:
                return status  # the launcher has not written the pid yet
        if status.state.is_active and not process_alive(status.pid, status.pid_start):
            status = status.seen_as(RunState.FAILED, message=(
                "The search process ended unexpectedly; see log.txt in the run folder. "
                "Resume the run to continue its study."))
        return status

    def record_launch(self, pid: int | None = None, pid_start: float | None = None) -> None:
        """Say, in the control file, that a search process is being started for the run (the
        app and ``resume`` ask for a run this way; the status is the supervisor's)."""
        with locked(self._write_lock):
            control = _control_file(self.control_file)
            last = control.get("launched")
            at = last.get("at") if pid is not None and isinstance(last, dict) else None
            control["launched"] = {"at": at or time.time(), "pid": pid, "pid_start": pid_start}
            _write_json(self.control_file, control)

    _write_lock = property(lambda self: self.path / ".write.lock")
    busy_file = property(lambda self: self.path / ".busy.lock")

    def hold_busy(self) -> int:
        """Mark this process as working on the run (supervisor or worker) until the
        returned file descriptor is closed or the process ends: a shared lock on the
        run's busy file, taken by every one of them."""
        return hold(self.busy_file, shared=True)

    def busy(self) -> bool:
        """Whether a supervisor or worker of the run is alive. Exact: the kernel drops the
        lock of a process that ended, however it ended."""
        return is_held(self.busy_file)

    def write_data(self, frame: pd.DataFrame) -> None:
        """Write the snapshot readable by its owner only (it is the user's data)."""
        with _private(self.data_file, "wb") as f:
            frame.to_parquet(f, index=False)

    def read_data(self) -> pd.DataFrame:
        return pd.read_parquet(self.data_file)

    # owner
    def new_owner_token(self) -> str:
        """Give the run a new owner token (the old one stops working); keep it on this
        object and return it. The folder keeps only its SHA-256."""
        self.owner_token = secrets.token_urlsafe(32)
        with _private(self.owner_file, "w") as f:
            json.dump({"sha256": _digest(self.owner_token)}, f)
        return self.owner_token

    def is_owner(self, token: str | None) -> bool:
        """Whether ``token`` is this run's owner token (a run without owner.json has none)."""
        stored = (_read_json(self.owner_file, {}) or {}).get("sha256")
        if not token or not isinstance(token, str) or not isinstance(stored, str):
            return False
        return hmac.compare_digest(_digest(token), stored)

    def check_owner(self, token: str | None) -> None:
        """Raise RunAccessError unless ``token`` is the owner token. ``None`` is a local
        caller (the CLI, Python) who owns the files; the app always passes a string."""
        if token is not None and not self.is_owner(token):
            raise RunAccessError(
                f"Run {self.id} was started in another browser session: here it can be "
                "viewed and downloaded, not stopped, resumed or deleted. Use the session "
                "that started it, or enter its owner key on the Runs page.")

    # stopping
    def stop_at(self) -> float:
        """When the workers must stop (Unix time). A missing or unreadable control file
        says now: a worker that cannot tell when to stop must not run on for ever (the
        supervisor writes the file before it starts any worker)."""
        return _control(self.control_file)[0]

    def set_stop_at(self, when: float, *, force: bool = False) -> float:
        """Set the search's stop time and return the one in force: a stop request (or an
        unreadable control file) stays in force unless ``force`` (a resume starts afresh)."""
        with locked(self._write_lock):
            stop_at, requested = _control(self.control_file)
            if requested and not force:
                return stop_at
            control = _control_file(self.control_file)
            _write_json(self.control_file, {**control, "stop_at": float(when),
                                            "requested": False})
            return float(when)

    def request_stop(self) -> None:
        """Ask every worker to stop after the fold it is in; finished trials are kept."""
        with locked(self._write_lock):
            control = _control_file(self.control_file)
            _write_json(self.control_file, {**control, "stop_at": time.time(),
                                            "requested": True})

    def stop_requested(self) -> bool:
        """Whether Stop was asked for (an unreadable control file counts as asked)."""
        return _control(self.control_file)[1]

    # out-of-fold predictions
    def save_oof(self, trial_number: int, pred: np.ndarray) -> None:
        with replacing(self.path / "oof" / f"{trial_number}.npy", suffix=".npy") as tmp:
            np.save(tmp, pred.astype(np.float32))

    def load_oof(self, trial_number: int) -> np.ndarray:
        return np.load(self.path / "oof" / f"{trial_number}.npy")


class StatusWriter:
    """The one writer of a run's ``status.json``: the supervisor (``automl.api.execute``)
    makes one when its search starts. Every change goes through the transition table
    (``automl.contracts.TRANSITIONS``); an ended run's status no longer changes."""

    def __init__(self, run: Run):
        self.run = run

    def move(self, state: RunState, **fields) -> RunStatus:
        """Write the run in ``state``; the change starts from what readers see (a run whose
        process died reads as failed, so a resume of it is failed -> running)."""
        return self._write(lambda now: now.moved_to(state, **fields))

    def update(self, **fields) -> RunStatus:
        """Write ``fields`` and keep the state (progress, workers)."""
        return self._write(lambda now: now.updated(**fields))

    def _write(self, change) -> RunStatus:
        with locked(self.run._write_lock):
            now = self.run.status
            new = dataclasses.replace(change(now), updated_at=time.time())
            _write_json(self.run.status_file, new.to_json())
            return new


def _after(a, b) -> bool:
    """Whether time ``a`` is later than ``b`` (a missing ``b`` is earlier than anything)."""
    return isinstance(a, int | float) and (not isinstance(b, int | float) or a > b)


def _control_file(path: Path) -> dict:
    return _read_json(path, {}) or {}


def _control(path: Path) -> tuple[float, bool]:
    """(stop time, stop requested) from a control file; (0, True) if it is missing or
    unreadable, except that a missing file, or one that records only a launch, is no request
    (the supervisor's first write sets the stop time)."""
    control = _read_json(path)
    when = control.get("stop_at") if control is not None else None
    if control is not None and set(control) <= {"launched"}:
        return 0.0, False
    if not isinstance(when, int | float) or isinstance(when, bool) or not math.isfinite(when):
        return 0.0, control is not None or path.exists()
    return float(when), bool(control.get("requested"))


def check_run_id(run_id) -> str:
    """``run_id`` if it has the form of a run id; else RunNotFoundError, before any path is
    made of it (so ``../x``, ``/etc``, NUL or a very long value never reach the disk)."""
    if isinstance(run_id, str) and _ID.fullmatch(run_id):
        return run_id
    shown = ascii(run_id)[:40] + ("…" if len(ascii(run_id)) > 40 else "")
    raise RunNotFoundError(
        f"{shown} is not a run id: run ids are 1 to 80 letters, digits, '-' or '_', such as "
        "20260101-120000-<32 hex digits>. `automl runs` (or the app's Runs page) lists them.")


def open_run(run_id: str, root=None) -> Run:
    """The run ``run_id`` in ``root``; RunNotFoundError for a malformed or unknown id."""
    run_id = check_run_id(run_id)
    if not (runs_root(root) / run_id / "settings.json").exists():
        raise RunNotFoundError(
            f"No run {run_id!r} in {runs_root(root)}. `automl runs` lists the runs there."
        )
    return Run(runs_root(root) / run_id)


def list_runs(root=None) -> pd.DataFrame:
    """One row per run, newest first: id, state, when it ended (UTC; for finished, stopped
    and failed runs), target, task, metric, best family and score."""
    rows = []
    base = runs_root(root)
    for path in sorted(base.glob("*/settings.json"), reverse=True) if base.exists() else []:
        if not _ID.fullmatch(path.parent.name):
            continue
        run = Run(path.parent)
        try:
            spec = run.spec
        except ConfigError:
            continue  # a damaged folder is not a run anyone can open
        st = run.status
        best = st.best or BestModel()
        ended = (st.ended_at or st.updated_at) if st.state.is_ended else None
        rows.append({
            "run": run.id,
            "state": str(st.state),
            "ended": pd.to_datetime(ended, unit="s", utc=True) if ended else pd.NaT,
            "target": spec.target,
            "task": spec.task,
            "metric": spec.metric,
            "best_family": best.family,
            "best_score": best.score,
            "trials": st.n_trials,
            "source": spec.source,
        })
    cols = ["run", "state", "ended", "target", "task", "metric", "best_family", "best_score",
            "trials", "source"]
    frame = pd.DataFrame(rows, columns=cols)
    frame["ended"] = pd.to_datetime(frame["ended"], utc=True).dt.floor("s")
    return frame


def delete_run(run_id: str, root=None, *, owner_token: str | None = None) -> None:
    """Remove a run folder. Refused while its search process lives, and (from the app, which
    passes ``owner_token``) unless the token is the run's owner token."""
    run = open_run(run_id, root)
    run.check_owner(owner_token)
    state = run.status.state
    if state.is_active:
        raise ConfigError(f"Run {run.id} is {state}: stop it first, then delete it once it "
                          "has ended.")
    shutil.rmtree(run.path)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _private(path: Path, mode: str):
    """``path`` opened for writing, readable and writable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _PRIVATE_FILE)
    os.fchmod(fd, _PRIVATE_FILE)  # an existing file keeps its mode through O_CREAT
    return os.fdopen(fd, mode)
