"""Run folders as a supervisor would have left them, for tests of the readers (the app, the
CLI, retention): the files are written through the contract types, as the one writer does."""

from __future__ import annotations

import time
from pathlib import Path

from automl.atomic import write_json
from automl.config import TrainConfig
from automl.contracts import BestModel, Progress, RunSpec, RunState, RunStatus
from automl.runs import Run

__all__ = ["DAY", "made", "write_spec", "write_status"]

DAY = 86400.0


def write_status(run: Run, **fields) -> RunStatus:
    """Replace the run's status.json with ``fields`` over what it holds (``progress`` and
    ``best`` may be dicts)."""
    for name, cls in (("progress", Progress), ("best", BestModel)):
        if isinstance(fields.get(name), dict):
            fields[name] = cls.from_json(fields[name])
    if "state" in fields:
        fields["state"] = RunState(fields["state"])
    status = RunStatus(**{**_fields(run.stored_status), **fields, "updated_at": time.time()})
    write_json(run.status_file, status.to_json())
    return status


def write_spec(run: Run, target: str = "y", task: str = "binary", metric: str = "roc_auc",
               **fields) -> RunSpec:
    spec = RunSpec(config=TrainConfig(target=target), task=task, metric=metric, **fields)
    run.write_spec(spec)
    return spec


def made(root: Path, state: str = "finished", ended_days_ago: float | None = None,
         pid: int | None = None, run_id: str | None = None) -> Run:
    """A run folder with settings and a status, as a search leaves it (no search run)."""
    if run_id is None:
        run = Run.create(root)
    else:
        run = Run(root / run_id)
        (run.path / "oof").mkdir(parents=True)
    write_spec(run)
    fields = {"state": state, "pid": pid}
    if ended_days_ago is not None:
        fields["ended_at"] = time.time() - ended_days_ago * DAY
    write_status(run, **fields)
    return run


def _fields(status: RunStatus) -> dict:
    return {k: getattr(status, k) for k in status.__dataclass_fields__ if k != "extra"}
