"""Saved checks of one model file: each result with its date and where its rows came from,
so that a check can be re-run (the same query on the same database) and drift and
performance followed over time.

The history of a model lives in ``<runs dir>/monitor/<model digest>/checks.jsonl``, one JSON
line per check, appended under a lock; a line that cannot be read (a crash mid-write, an
edit) is skipped, never fatal. Sources are kept with their passwords masked: a re-run asks
for the password again (or reads it from the environment as ``automl`` does elsewhere).
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

from automl.bundle import Model
from automl.runs import runs_root

__all__ = ["MAX_CHECKS", "history_dir", "load_history", "record_check"]

MAX_CHECKS = 1_000  # most recent checks read back


def history_dir(model: Model, root=None) -> Path:
    digest = (model.manifest.sha256 or "unsealed")[:16]
    return runs_root(root) / "monitor" / digest


def record_check(model: Model, result: dict, *, source: str | None = None,
                 query: str | None = None, table: str | None = None, root=None) -> Path:
    """Append one check (``MonitorResult.to_json()``) with its source; returns the file."""
    from automl.data.urls import mask_url

    folder = history_dir(model, root)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    entry = {**result, "source": mask_url(source) if source else None, "query": query,
             "table": table, "model_run": model.manifest.run_id}
    line = json.dumps(entry, separators=(",", ":"), allow_nan=False, default=str) + "\n"
    path = folder / "checks.jsonl"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, line.encode())
    finally:
        os.close(fd)
    return path


def load_history(model: Model, root=None) -> list[dict]:
    """The model's saved checks, oldest first (at most the last :data:`MAX_CHECKS`)."""
    path = history_dir(model, root) / "checks.jsonl"
    try:
        lines = path.read_text(errors="replace").splitlines()[-MAX_CHECKS:]
    except OSError:
        return []
    out = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("checked_at"), str):
            out.append(entry)
    return out
