"""A run's settings in one frozen dataclass, validated in one place."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

from automl.errors import ConfigError

__all__ = ["SQLITE_REFUSED", "VALIDATION_SHARE", "TrainConfig", "available_cores",
           "validation_label"]

CELL_S = 3e-7  # seconds per cell of one single-threaded LightGBM fit, preprocessing included
TRIAL_SHARE = 0.15
# One fold ("cv_folds=1") is a single validation split: this share of the rows is scored by
# a model fitted on the rest. Chosen automatically for tables so large or wide that even two
# folds would leave few trials in the budget: one fit on 80% of the rows costs less than
# two on 50% and learns from more rows (AutoGluon holds out rows the same way).
VALIDATION_SHARE = 0.2
HOLDOUT_ROWS = 250_000  # above this many rows, one validation split instead of k folds


SQLITE_REFUSED = (
    "SQLite storage cannot be shared by several processes or machines, and every run has "
    "at least two (the supervisor and a worker): SQLite locks the whole file on every write "
    "and Optuna advises against it. Use PostgreSQL (--storage postgresql://...) for workers "
    "on several machines, or leave --storage empty for the run folder's journal file, which "
    "the workers on one machine share.")


def validation_label(folds: int) -> str:
    """How a run's trials are scored, in words: "5-fold CV" or "one 80/20 validation split"."""
    if folds == 1:
        keep = round(100 * VALIDATION_SHARE)
        return f"one {100 - keep}/{keep} validation split"
    return f"{folds}-fold CV"


def available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a search, apart from the data.

    ``cv_folds=None`` picks 5 folds, or 3 above 20,000 rows (see :meth:`folds_for`);
    ``cv_folds=1`` is one validation split (:data:`VALIDATION_SHARE`); ``n_workers=None`` runs one
    single-threaded trial per core (on small machines this beats multi-threaded fits).
    """

    target: str
    task: str = "auto"
    metric: str | None = None
    time_budget: float = 60.0
    max_trials: int | None = None
    cv_folds: int | None = None
    families: tuple[str, ...] = field(default_factory=tuple)
    seed: int = 0
    n_workers: int | None = None
    storage: str | None = None
    holdout: float = 0.0  # share of rows kept out of the search to score the final model

    def __post_init__(self):
        if not str(self.target).strip():
            raise ConfigError("No target given: name the column to predict (--target COLUMN).")
        if not 1 <= self.time_budget <= 7 * 24 * 3600:
            raise ConfigError(
                f"time_budget must be between 1 second and 7 days; got {self.time_budget}."
            )
        if self.max_trials is not None and self.max_trials < 1:
            raise ConfigError(f"max_trials must be at least 1; got {self.max_trials}.")
        if self.cv_folds is not None and not 1 <= self.cv_folds <= 20:
            raise ConfigError(f"cv_folds must be between 1 (one validation split) and 20; "
                              f"got {self.cv_folds}.")
        if not 0.0 <= self.holdout <= 0.5:
            raise ConfigError(f"holdout must be a share between 0 and 0.5; got {self.holdout}.")
        if self.n_workers is not None and self.n_workers < 1:
            raise ConfigError(f"n_workers must be at least 1; got {self.n_workers}.")
        if self.storage and self.storage.startswith("sqlite"):
            raise ConfigError(SQLITE_REFUSED)
        if self.storage and not self.storage.startswith(
            ("postgresql", "postgres", "mysql", "mariadb")):
            raise ConfigError(
                f"storage must be a database URL such as postgresql://user@host/db; "
                f"got {self.storage!r}. Leave it empty for the run folder's journal file."
            )
        object.__setattr__(self, "families", tuple(self.families or ()))

    def folds_for(self, n_rows: int, n_columns: int = 1) -> int:
        """``cv_folds`` when set; else 5 (3 above 20,000 rows), and fewer, down to 2, while
        one trial of a fast model (k-1 fits' worth of rows, at about ``CELL_S`` seconds a
        cell) would take more than ``TRIAL_SHARE`` of the budget: a wide table at a short
        budget gets a few trials on fewer folds rather than none on five. When even two
        folds cost too much, or above ``HOLDOUT_ROWS`` rows, 1: one validation split."""
        if self.cv_folds:
            return self.cv_folds
        if n_rows > HOLDOUT_ROWS:
            return 1
        k = 5 if n_rows <= 20_000 else 3
        fit_s = CELL_S * n_rows * max(n_columns, 1)
        while k > 2 and (k - 1) * fit_s > TRIAL_SHARE * self.time_budget:
            k -= 1
        return 1 if fit_s > TRIAL_SHARE * self.time_budget else k

    def workers(self) -> int:
        return self.n_workers or available_cores()

    def to_dict(self) -> dict:
        d = asdict(self)
        d["families"] = list(self.families)
        return d
