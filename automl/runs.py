"""Run folders: everything a search needs and produces, so nothing lives only in memory.

``runs/<id>/`` holds ``settings.json`` (config, schema, classes, source), ``data.parquet``
(the snapshot searched), ``study.journal`` (Optuna's journal storage: safe for several worker
processes on one machine), ``control.json`` (when to stop), ``status.json``, ``oof/`` (each
finished trial's out-of-fold predictions) and ``model.skops`` (the refitted best pipeline).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from automl.errors import RunNotFoundError

__all__ = ["Run", "delete_run", "list_runs", "open_run", "process_alive", "runs_root"]

_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def runs_root(root: str | os.PathLike | None = None) -> Path:
    """The folder holding runs: ``root``, else $AUTOML_RUNS_DIR, else ./runs."""
    return Path(root or os.environ.get("AUTOML_RUNS_DIR") or "runs")


def _write_json(path: Path, data) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str))
    os.replace(tmp, path)


def _read_json(path: Path, default=None):
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return default


class Run:
    """One run folder. Cheap to construct; every property reads the disk afresh."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    @property
    def id(self) -> str:
        return self.path.name

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r})"

    @classmethod
    def create(cls, root=None) -> Run:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        path = runs_root(root) / f"{stamp}-{secrets.token_hex(3)}"
        (path / "oof").mkdir(parents=True)
        return cls(path)

    # files
    settings_file = property(lambda self: self.path / "settings.json")
    status_file = property(lambda self: self.path / "status.json")
    control_file = property(lambda self: self.path / "control.json")
    data_file = property(lambda self: self.path / "data.parquet")
    journal_file = property(lambda self: self.path / "study.journal")
    model_file = property(lambda self: self.path / "model.skops")
    study_name = property(lambda self: f"automl-{self.id}")

    @property
    def settings(self) -> dict:
        return _read_json(self.settings_file, {})

    def write_settings(self, settings: dict) -> None:
        _write_json(self.settings_file, settings)

    @property
    def status(self) -> dict:
        """The run's status; a queued or running run whose process has died is marked
        failed, so it never looks busy for ever."""
        status = _read_json(self.status_file, {"state": "created"})
        if status.get("state") in ("queued", "running") and not process_alive(status.get("pid")):
            status = self.update_status(
                state="failed", message="The search process ended unexpectedly; "
                "see log.txt in the run folder. Resume the run to continue its study.")
        return status

    def update_status(self, **fields) -> dict:
        status = {**_read_json(self.status_file, {"state": "created"}), **fields,
                  "updated_at": time.time()}
        _write_json(self.status_file, status)
        return status

    def write_data(self, frame: pd.DataFrame) -> None:
        frame.to_parquet(self.data_file, index=False)

    def read_data(self) -> pd.DataFrame:
        return pd.read_parquet(self.data_file)

    # stopping
    def stop_at(self) -> float | None:
        return _read_json(self.control_file, {}).get("stop_at")

    def set_stop_at(self, when: float) -> float:
        """Set the search's stop time, unless a stop was requested; return the one in force."""
        control = _read_json(self.control_file, {})
        if control.get("requested"):
            return control["stop_at"]
        _write_json(self.control_file, {"stop_at": float(when), "requested": False})
        return float(when)

    def request_stop(self) -> None:
        """Ask every worker to stop after the fold it is in; finished trials are kept."""
        _write_json(self.control_file, {"stop_at": time.time(), "requested": True})

    def stop_requested(self) -> bool:
        return bool(_read_json(self.control_file, {}).get("requested"))

    # out-of-fold predictions
    def save_oof(self, trial_number: int, pred: np.ndarray) -> None:
        np.save(self.path / "oof" / f"{trial_number}.npy", pred.astype(np.float32))

    def load_oof(self, trial_number: int) -> np.ndarray:
        return np.load(self.path / "oof" / f"{trial_number}.npy")


def process_alive(pid) -> bool:
    """Whether process ``pid`` runs on this machine (a zombie counts as dead)."""
    if not pid:
        return True  # not started by a process we know of: cannot tell
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][:1] != "Z"
    except OSError:
        return True


def open_run(run_id: str, root=None) -> Run:
    if not _ID.match(str(run_id)) or not (runs_root(root) / run_id / "settings.json").exists():
        raise RunNotFoundError(
            f"No run {run_id!r} in {runs_root(root)}. `automl runs` lists the runs there."
        )
    return Run(runs_root(root) / run_id)


def list_runs(root=None) -> pd.DataFrame:
    """One row per run, newest first: id, state, target, task, metric, best family and score."""
    rows = []
    base = runs_root(root)
    for path in sorted(base.glob("*/settings.json"), reverse=True) if base.exists() else []:
        run = Run(path.parent)
        s, st = run.settings, run.status
        best = st.get("best") or {}
        rows.append({
            "run": run.id,
            "state": st.get("state", "created"),
            "target": s.get("config", {}).get("target"),
            "task": s.get("task"),
            "metric": s.get("metric"),
            "best_family": best.get("family"),
            "best_score": best.get("score"),
            "trials": st.get("n_trials"),
            "source": s.get("source"),
        })
    cols = ["run", "state", "target", "task", "metric", "best_family", "best_score", "trials",
            "source"]
    return pd.DataFrame(rows, columns=cols)


def delete_run(run_id: str, root=None) -> None:
    shutil.rmtree(open_run(run_id, root).path)
