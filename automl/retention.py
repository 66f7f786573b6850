"""Retention: remove run folders whose search ended long ago.

A run folder keeps a copy of the user's data, its out-of-fold predictions and the study, so
old ones should not pile up. Only ended runs (finished, stopped, failed) are removed, never
one that is queued or running with a live search process. The age counts from when the run
ended (else from its last status update). The CLI prunes every run of a folder; the app
passes the owner tokens its session holds, so one user never removes another's runs.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Mapping

import pandas as pd

from automl.errors import ConfigError
from automl.runs import ENDED, list_runs, open_run

__all__ = ["parse_age", "prune_runs"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_AGE = re.compile(r"(\d{1,6}(?:\.\d{1,3})?)([smhd])")


def parse_age(text: str) -> float:
    """Seconds in an age such as ``30s``, ``90m``, ``12h`` or ``7d``."""
    m = _AGE.fullmatch(str(text).strip())
    if not m:
        raise ConfigError(f"{str(text)[:40]!r} is not an age: give a number and a unit, s, m, "
                          "h or d, such as 7d (seven days) or 12h.")
    return float(m[1]) * _UNITS[m[2]]


def prune_runs(older_than: float, root=None, *, dry_run: bool = False,
               owner_tokens: Mapping[str, str] | None = None) -> list[str]:
    """Remove the runs that ended more than ``older_than`` seconds ago; return their ids
    (newest first). With ``dry_run`` nothing is removed. With ``owner_tokens`` (run id ->
    token, what an app session holds) only runs whose token matches are considered."""
    if not 0 <= older_than < float("inf"):
        raise ConfigError(f"older_than must be 0 or more seconds; got {older_than}.")
    runs = list_runs(root)
    cutoff = pd.Timestamp(time.time() - older_than, unit="s", tz="UTC")
    old = runs[runs["state"].isin(ENDED) & (runs["ended"] <= cutoff)]["run"]
    removed = []
    for run_id in old:
        run = open_run(run_id, root)
        if owner_tokens is not None and not run.is_owner(owner_tokens.get(run_id)):
            continue
        if not dry_run:
            shutil.rmtree(run.path, ignore_errors=True)
        removed.append(run_id)
    return removed
