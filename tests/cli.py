"""The command line run as a real subprocess, with its runs folder inside the working folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["AUTOML", "run_cli"]

AUTOML = [sys.executable, "-m", "automl.cli"]


def run_cli(*args, cwd) -> subprocess.CompletedProcess:
    """``python -m automl.cli ARGS`` in ``cwd`` with ``AUTOML_RUNS_DIR=cwd/runs``."""
    env = {**os.environ, "AUTOML_RUNS_DIR": str(Path(cwd) / "runs")}
    return subprocess.run([*AUTOML, *map(str, args)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)
