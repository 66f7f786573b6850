"""Retraining a watched model: a new run (the challenger) with the old run's settings on the
new rows, or on the old and new rows together, then both models scored side by side on the
newest rows, which the challenger never trained on, and the better one made the run's current
model.

The newest rows are the last quarter of the new table in its own order (tables from a
database or a log are usually in time order; sort yours by date first if not). The choice of
the current model is kept in the old run's folder (``current.json``: which run's model file
serves it), so the old run's own search, leaderboard and explanations stay as they were.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from automl.atomic import write_text
from automl.bundle import Model, load_model
from automl.errors import ConfigError
from automl.runs import Run, open_run

__all__ = ["NEWEST_SHARE", "Comparison", "champion_of", "compare", "current_model_file",
           "launch_retrain", "promote", "split_newest"]

NEWEST_SHARE = 0.25
_CURRENT = "current.json"
_RETRAIN = "retrain.json"
_NEWEST = "newest.parquet"


def split_newest(run: Run, new: pd.DataFrame, *, combine: bool
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The challenger's training rows and the newest rows kept out for the comparison."""
    target = run.spec.target
    if target not in new.columns or new[target].notna().sum() < 20:
        raise ConfigError(f"Retraining needs the target column {target!r} in the new rows, "
                          "with at least 20 known values; load rows that have it.")
    new = new[new[target].notna()]
    n_newest = max(10, int(len(new) * NEWEST_SHARE))
    newest, fresh = new.iloc[-n_newest:], new.iloc[:-n_newest]
    if combine:
        old = run.read_data()
        fresh = pd.concat([old, fresh[[c for c in old.columns if c in fresh.columns]]],
                          ignore_index=True)
    return fresh, newest


def launch_retrain(run: Run, new: pd.DataFrame, *, combine: bool, time_budget=None, root=None
                   ) -> Run:
    """Start the challenger in the background (as the Train page starts a run); its folder
    records the champion and holds the newest rows."""
    from dataclasses import replace

    from automl.background import launch_run

    fresh, newest = split_newest(run, new, combine=combine)
    config = replace(run.spec.config, storage=None,
                     time_budget=float(time_budget or run.spec.config.time_budget))
    challenger, _ = launch_run(fresh, config, root=root)
    newest.to_parquet(challenger.path / _NEWEST)
    write_text(challenger.path / _RETRAIN, json.dumps(
        {"champion": run.id, "combined": combine, "rows": len(fresh),
         "newest_rows": len(newest), "started_at": time.time()}))
    return challenger


@dataclass(frozen=True)
class Comparison:
    """Both models' metric on the newest rows; ``better`` is the run id of the winner (the
    champion on a tie: a change must earn its place)."""

    metric: str
    direction: str
    champion: str
    challenger: str
    champion_score: float
    challenger_score: float
    n_rows: int

    @property
    def better(self) -> str:
        a, b = self.challenger_score, self.champion_score
        won = a > b if self.direction == "maximize" else a < b
        return self.challenger if won else self.champion


def compare(challenger: Run, root=None) -> Comparison:
    """Score the champion's current model and the challenger's on the newest rows."""
    info = _retrain_info(challenger)
    champion = open_run(info["champion"], root)
    newest = pd.read_parquet(challenger.path / _NEWEST)
    old, new = load_model(current_model_file(champion)), load_model(challenger.model_file)
    return Comparison(old.manifest.metric, old.manifest.metric_direction, champion.id,
                      challenger.id,
                      _score(old, newest), _score(new, newest), len(newest))


def _score(model: Model, rows: pd.DataFrame) -> float:
    from automl.metrics import get_metric

    y = rows[model.target]
    metric = get_metric(model.manifest.metric, model.task)
    if model.task == "regression":
        return metric(y.to_numpy(dtype=float), model.predict(rows)["prediction"].to_numpy())
    codes = {str(c): i for i, c in enumerate(model.classes)}
    known = y.astype(str).map(codes)
    keep = known.notna().to_numpy()
    return metric(known[keep].to_numpy(dtype=int), model.predict_proba(rows[keep]))


def promote(run: Run, model_run: Run) -> Path:
    """Make ``model_run``'s model file the current model of ``run`` (itself, to go back)."""
    if not model_run.model_file.exists():
        raise ConfigError(f"Run {model_run.id} has no model file yet: wait until it finishes.")
    write_text(run.path / _CURRENT, json.dumps({"model_run": model_run.id,
                                                "at": time.time()}))
    return model_run.model_file


def current_model_file(run: Run, root=None) -> Path:
    """The model file serving ``run``: its own, or the one :func:`promote` chose."""
    try:
        chosen = json.loads((run.path / _CURRENT).read_text())["model_run"]
        if chosen != run.id:
            other = open_run(chosen, root or run.path.parent)
            if other.model_file.exists():
                return other.model_file
    except (OSError, ValueError, KeyError, TypeError, ConfigError):
        pass
    return run.model_file


def _retrain_info(run: Run) -> dict:
    try:
        info = json.loads((run.path / _RETRAIN).read_text())
        if isinstance(info, dict) and isinstance(info.get("champion"), str):
            return info
    except (OSError, ValueError):
        pass
    raise ConfigError(f"Run {run.id} is not a retraining of another run.")


def champion_of(run: Run) -> str | None:
    """The champion's id if ``run`` is a retraining, else None."""
    try:
        return _retrain_info(run)["champion"]
    except ConfigError:
        return None

