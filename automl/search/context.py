"""What every trial of a run shares: the prepared data, folds, metric and families."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, replace

import numpy as np
import optuna
import pandas as pd
from sklearn.model_selection import KFold, ShuffleSplit, StratifiedKFold, StratifiedShuffleSplit
from sklearn.pipeline import Pipeline

from automl.config import SQLITE_REFUSED, VALIDATION_SHARE
from automl.data.schema import Schema
from automl.data.urls import driver_url
from automl.errors import ConfigError, TargetError
from automl.families import Family, FamilyContext, get_family
from automl.metrics import Metric, get_metric
from automl.preprocess import build_preprocessor
from automl.processes import STORAGE_ENV
from automl.runs import Run
from automl.tasks import prepare_target

__all__ = ["GRACE_S", "HEARTBEAT_S", "STORAGE_ENV", "SearchContext", "database_storage",
           "driver_url", "make_folds", "make_pipeline", "open_storage", "split_holdout",
           "storage_url_for"]

MASKED = "***"  # what a saved URL shows in place of a password (automl.data.urls.mask_url)


@dataclass
class SearchContext:
    run: Run
    X: pd.DataFrame
    y: np.ndarray
    schema: Schema  # of the feature columns
    task: str
    metric: Metric
    families: tuple[str, ...]
    folds: list[tuple[np.ndarray, np.ndarray]]
    family_ctx: FamilyContext
    max_trials: int | None
    storage_url: str | None = None
    holdout_X: pd.DataFrame | None = None  # rows the search never sees, to score the final
    holdout_y: np.ndarray | None = None
    remote: object | None = None  # a worker on another machine: its SharedRun

    @classmethod
    def from_run(cls, run: Run, storage_url: str | None = None) -> SearchContext:
        """Rebuild the context from a run folder (what a separate worker process does)."""
        spec = run.spec
        cfg = spec.config
        url = storage_url_for(run, storage_url)  # before the data: a clear error comes first
        prepared = prepare_target(run.read_data(), cfg.target, spec.task, spec.cv_folds)
        return cls.build(run, prepared.X, prepared.y, spec.input_schema(), spec.task,
                         get_metric(spec.metric, spec.task), spec.families, spec.cv_folds,
                         cfg.seed, cfg.time_budget, cfg.max_trials, url, cfg.holdout)

    @classmethod
    def build(cls, run, X, y, schema, task, metric, families, cv_folds, seed, time_budget,
              max_trials, storage_url=None, holdout: float = 0.0) -> SearchContext:
        n_classes = int(y.max()) + 1 if task != "regression" else 0
        X, y, hold_X, hold_y = split_holdout(X, y, task, holdout, seed)
        folds = make_folds(y, task, cv_folds, seed)
        fctx = FamilyContext(task=task, n_rows=len(folds[0][0]),
                             n_columns=X.shape[1], n_classes=n_classes, seed=seed, n_jobs=1,
                             time_budget=float(time_budget))
        return cls(run, X, y, schema, task, metric, tuple(families), folds, fctx, max_trials,
                   storage_url, hold_X, hold_y)

    def storage(self):
        return open_storage(self.run, self.storage_url)

    def study(self, sampler=None, pruner=None) -> optuna.Study:
        try:
            return optuna.load_study(study_name=self.run.study_name, storage=self.storage(),
                                     sampler=sampler, pruner=pruner)
        except KeyError:
            raise ConfigError(
                f"The storage holds no study {self.run.study_name}: it is not the storage of "
                f"run {self.run.id}. Pass the run's own storage URL (--storage or "
                f"{STORAGE_ENV}).") from None

    def refit_context(self, n_jobs: int) -> FamilyContext:
        return replace(self.family_ctx, n_rows=len(self.X), n_jobs=n_jobs)


def make_folds(y: np.ndarray, task: str, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (train, validation) row indices every trial uses: k folds (stratified by class),
    or for ``k=1`` one validation split of ``VALIDATION_SHARE`` of the rows."""
    if k == 1:
        splitter = (ShuffleSplit if task == "regression" else StratifiedShuffleSplit)(
            n_splits=1, test_size=VALIDATION_SHARE, random_state=seed)
        try:
            return list(splitter.split(np.zeros(len(y)), y))
        except ValueError:  # a class with a single row cannot be stratified
            return list(ShuffleSplit(n_splits=1, test_size=VALIDATION_SHARE,
                                     random_state=seed).split(np.zeros(len(y))))
    splitter = (KFold(k, shuffle=True, random_state=seed) if task == "regression"
                else StratifiedKFold(k, shuffle=True, random_state=seed))
    return list(splitter.split(np.zeros(len(y)), y))


def split_holdout(X: pd.DataFrame, y: np.ndarray, task: str, share: float, seed: int):
    """Keep ``share`` of the rows (stratified by class) out of the search; the same rows on
    every call with the same seed. Returns X, y, holdout X, holdout y (None when share=0)."""
    if not share:
        return X, y, None, None
    from sklearn.model_selection import train_test_split

    try:
        fit, hold = train_test_split(np.arange(len(y)), test_size=share, random_state=seed,
                                     stratify=None if task == "regression" else y)
    except ValueError as exc:
        raise TargetError(f"Too few rows for a holdout of {share:.0%} ({exc}). Lower the "
                          "holdout share or add rows.") from None
    fit, hold = np.sort(fit), np.sort(hold)
    return (X.iloc[fit].reset_index(drop=True), y[fit], X.iloc[hold].reset_index(drop=True),
            y[hold])


def make_pipeline(schema: Schema, family: Family | str, params: dict, ctx: FamilyContext
                  ) -> Pipeline:
    """The one Pipeline that is cross-validated, refitted, explained and saved."""
    family = get_family(family) if isinstance(family, str) else family
    prep = build_preprocessor(schema, ctx.task, family.prep)
    return Pipeline([("prep", prep), ("model", family.build(family.strip(params), ctx))])


def storage_url_for(run: Run, url: str | None = None) -> str | None:
    """The URL to reach the run's database storage; None for its journal file.

    ``url`` if given; else, for a run saved with a database storage, $AUTOML_STORAGE_URL,
    else the saved URL. The saved one has its password masked (the run folder never holds a
    secret), so a run whose storage needs a password gets it from the caller: an argument
    (``--storage``) or the environment, which is how a supervisor hands it to a child process.
    """
    if url:
        return url
    saved = run.spec.config.storage
    if not saved:
        return None
    url = os.environ.get(STORAGE_ENV) or saved
    if MASKED in url:
        raise ConfigError(
            f"Run {run.id} keeps its study in {saved}, whose password is not saved with the "
            f"run: pass --storage URL or set {STORAGE_ENV} to the full URL.")
    return url


HEARTBEAT_S = 10  # a worker's running trial says it is alive this often
GRACE_S = 60  # a running trial not heard from for this long is failed, and retried once


def database_storage(url: str) -> optuna.storages.RDBStorage:
    """A database storage with heartbeats: a trial whose worker died (killed, its machine
    lost) is failed by the next worker that looks, and tried once more."""
    if url.startswith("sqlite"):
        raise ConfigError(SQLITE_REFUSED)
    with warnings.catch_warnings():  # heartbeats are "experimental" since Optuna 2.8
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RDBStorage(
            driver_url(url), heartbeat_interval=HEARTBEAT_S, grace_period=GRACE_S,
            heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                max_retry=1))


def open_storage(run: Run, url: str | None = None):
    """The run's Optuna storage: its database (see :func:`storage_url_for`), or the journal
    file in the run folder."""
    url = storage_url_for(run, url)
    if url:
        return database_storage(url)
    from automl.search.journal import journal_storage

    return journal_storage(run.journal_file)
