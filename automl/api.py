"""The functions the CLI, the app and Python users call: train, predict, runs."""

from __future__ import annotations

import os
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import optuna
import pandas as pd

from automl.bundle import Model, load_model, preload, save_model
from automl.config import TrainConfig
from automl.contracts import BestModel, ModelManifest, RunSpec, RunState
from automl.contracts import Progress as RunProgress
from automl.data import Table, infer_schema, load_table
from automl.data.sql import mask_url
from automl.errors import SearchError
from automl.exports import to_csv_safe
from automl.families import get_family, resolve_families
from automl.leaderboard import leaderboard
from automl.metrics import get_metric
from automl.monitor.reference import build_reference
from automl.preprocess import check_usable_features
from automl.processes import signal_name, start_time
from automl.runs import Run, StatusWriter
from automl.search.context import SearchContext, open_storage
from automl.search.finalize import choose_and_refit, ranked
from automl.search.objective import predict_scores
from automl.search.runner import Progress, run_search
from automl.search.shared import SharedRun
from automl.tasks import prepare_target

__all__ = ["TrainResult", "as_table", "check_drift", "check_schema", "execute", "predict",
           "refit_and_save", "start_run", "train"]


@dataclass
class TrainResult:
    run_id: str
    run_dir: Path
    model_path: Path
    task: str
    metric: str
    best: dict
    leaderboard: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def load_model(self) -> Model:
        return load_model(self.model_path)


def as_table(data, **load_options) -> Table:
    """A loaded Table from a path, an uploaded file object or a DataFrame."""
    if isinstance(data, Table):
        return data
    if isinstance(data, pd.DataFrame):
        from automl.data.loaders import frame_hash

        frame = data.reset_index(drop=True)
        frame.columns = [str(c) for c in frame.columns]
        return Table(frame, infer_schema(frame), "DataFrame", [], frame_hash(frame))
    return load_table(data, **load_options)


def start_run(data, config: TrainConfig, *, root=None) -> tuple[SearchContext, list[str]]:
    """Check the data and settings, create the run folder and its study with every family's
    cheap defaults enqueued first. Returns the search context and warnings."""
    table = as_table(data)
    folds = config.folds_for(len(table.frame), table.frame.shape[1] - 1)
    prepared = prepare_target(table.frame, config.target, config.task, folds)
    target = next(c for c in table.frame.columns if c == config.target)
    metric = get_metric(config.metric, prepared.task)
    families = resolve_families(config.families, prepared.task)
    schema = table.schema.without(target)
    check_usable_features(schema, table.source)  # before the run folder and any trial
    run = Run.create(root)
    run.write_data(table.frame)
    run.write_spec(RunSpec(
        config=replace(config, storage=mask_url(config.storage) if config.storage else None),
        task=prepared.task, metric=metric.name, direction=metric.direction,
        families=tuple(families), cv_folds=folds,
        classes=tuple(prepared.classes) if prepared.classes else None,
        schema=tuple(schema.to_dict()), source=table.source, data_hash=table.data_hash,
        n_rows=len(prepared.y), created_at=time.time(),
    ))
    ctx = SearchContext.build(run, prepared.X, prepared.y, schema, prepared.task, metric,
                              families, folds, config.seed, config.time_budget,
                              config.max_trials, config.storage, config.holdout)
    optuna.create_study(storage=open_storage(run, config.storage),
                        study_name=run.study_name, direction=metric.direction)
    return ctx, table.warnings + prepared.warnings


def train(
    data,
    target: str,
    *,
    task: str = "auto",
    metric: str | None = None,
    time_budget: float = 60.0,
    max_trials: int | None = None,
    cv_folds: int | None = None,
    families=None,
    seed: int = 0,
    storage: str | None = None,
    holdout: float = 0.0,
    out: str | os.PathLike | None = None,
    runs_dir: str | os.PathLike | None = None,
    n_workers: int | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    started_at: float | None = None,
    start_method: str = "forkserver",
) -> TrainResult:
    """Search model families and their settings, refit the best on all rows, save it.

    ``time_budget`` covers everything from ``started_at`` (default: now) to the saved model.
    Workers are separate processes; ``start_method="fork"`` starts them fastest but is only
    safe in a process that has not yet trained models with OpenMP (the CLI uses it).
    """
    t0 = started_at or time.time()
    config = TrainConfig(target=target, task=task, metric=metric, time_budget=time_budget,
                         max_trials=max_trials, cv_folds=cv_folds, families=tuple(families or ()),
                         seed=seed, n_workers=n_workers, storage=storage, holdout=holdout)
    ctx, warnings = start_run(data, config, root=runs_dir)
    trials, model_path, summary = execute(ctx, started_at=t0, deadline=t0 + time_budget,
                                          n_workers=config.workers(),
                                          start_method=start_method, on_progress=on_progress)
    board = leaderboard(trials, ctx.metric.direction)
    run = ctx.run
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(model_path, out)
        model_path = out
    return TrainResult(run.id, run.path, Path(model_path), ctx.task, ctx.metric.name, summary,
                       board, warnings, time.time() - t0)


def execute(ctx: SearchContext, *, started_at: float, deadline: float, n_workers: int,
            start_method: str = "forkserver",
            on_progress: Callable[[Progress], None] | None = None, busy: int | None = None,
            progress_every: float | None = None):
    """Search until ``deadline``, then refit and save the final model. The run's status
    follows along (running, then finished or failed; failed too when interrupted by Ctrl-C
    or SIGTERM, after the workers are ended). Returns trials, model path, summary.

    The run counts as busy (a resume is refused) until its status says it ended: this
    process holds the run's busy lock until then, and also releases ``busy``, a hold that
    the process which started this one handed over (see ``background.resume_run``). With
    ``progress_every`` (seconds) the search's progress is written to the status that often,
    for the app to show."""
    run = ctx.run
    holds = [run.hold_busy(), *([busy] if busy is not None else [])]
    status = StatusWriter(run)
    try:
        status.move(RunState.RUNNING, started_at=started_at, pid=os.getpid(),
                    pid_start=start_time(os.getpid()), deadline=deadline, message=None,
                    progress=None, best=None, ended_at=None)
    except BaseException:
        _release(holds)
        raise
    report = _reporter(status, on_progress, progress_every)
    try:
        search_started = time.time()
        share = SharedRun(ctx.storage_url, run.study_name) if ctx.storage_url else None
        trials = run_search(ctx, deadline=deadline, n_workers=n_workers,
                            start_method=start_method, on_progress=report,
                            while_waiting=preload, status=status, share=share)
        search_ended = time.time()
        status.update(search_started_at=search_started, search_ended_at=search_ended,
                      n_workers=n_workers)
        _check_some_trial_finished(trials, ctx)
        model_path, summary = refit_and_save(ctx, trials, deadline)
        if share is not None:  # any machine with the URL can fetch it (automl download)
            share.publish_model(model_path)
    except BaseException as exc:
        _release(holds)
        status.move(RunState.FAILED, message=_failure(exc), ended_at=time.time())
        raise
    _release(holds)
    stopped = run.stop_requested()
    status.move(RunState.STOPPED if stopped else RunState.FINISHED,
                best=BestModel.from_json(summary), final_s=round(time.time() - search_ended, 3),
                n_trials=len(trials), ended_at=time.time(), model=str(model_path))
    return trials, model_path, summary


def _reporter(status: StatusWriter, on_progress, every: float | None):
    """``on_progress``, plus the progress written to the run's status every ``every`` s."""
    if every is None:
        return on_progress
    last = [0.0]

    def report(p: Progress) -> None:
        if on_progress is not None:
            on_progress(p)
        if time.time() - last[0] >= every:
            last[0] = time.time()
            status.update(progress=RunProgress(
                elapsed=p.elapsed, budget=p.budget, complete=p.n_complete, pruned=p.n_pruned,
                failed=p.n_failed, best=p.best_value, best_family=p.best_family))

    return report


def _release(holds: list[int]) -> None:
    while holds:
        os.close(holds.pop())


def _failure(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return (f"The search was interrupted ({signal_name(exc)}) before the model was saved. "
                "Its workers were ended and its finished trials are kept: resume the run to "
                "continue its study.")
    return str(exc) or type(exc).__name__


def _check_some_trial_finished(trials, ctx: SearchContext) -> None:
    if any(t.state == optuna.trial.TrialState.COMPLETE for t in trials):
        return
    errors = Counter(t.user_attrs.get("error") for t in trials if t.user_attrs.get("error"))
    if errors:
        message, count = errors.most_common(1)[0]
        raise SearchError(
            f"Every trial failed ({len(trials)} tried). The most common error ({count}x): "
            f"{message}. Check the data for columns that cannot be used, or try other "
            "families (--families)."
        )
    raise SearchError(
        f"No trial finished within the time budget of {ctx.family_ctx.time_budget:g} s "
        f"({len(ctx.y)} rows, {len(ctx.folds)} folds). Raise --time-budget, lower --cv-folds, "
        "or choose faster families (--families linear,lgbm)."
    )


def refit_and_save(ctx: SearchContext, trials, deadline: float) -> tuple[Path, dict]:
    """Refit the final model (best trial or ensemble) on all rows and save the model file."""
    final = choose_and_refit(ctx, trials, deadline)
    spec = ctx.run.spec
    best = ranked(trials, ctx.metric.direction == "maximize")[0]
    family = get_family(final.family) if final.family != "ensemble" else None
    manifest = ModelManifest(
        task=ctx.task, target=spec.target, metric=ctx.metric.name,
        metric_direction=ctx.metric.direction, classes=spec.classes, schema=spec.schema,
        cv_score=final.score, cv_folds=len(ctx.folds), family=final.family,
        family_title=family.title if family else "Ensemble",
        explainer=family.explainer if family else "ensemble",
        params={k: v for k, v in best.params.items() if k != "family"} if family else {},
        members=final.members, best_trial=best.number, n_trials=len(trials),
        n_rows=len(ctx.y), source=spec.source, data_hash=spec.data_hash, run_id=ctx.run.id)
    if ctx.holdout_X is not None:
        pred = predict_scores(final.estimator, ctx.holdout_X, ctx.task,
                              ctx.family_ctx.n_classes)
        manifest = manifest.replaced(holdout_score=ctx.metric(ctx.holdout_y, pred),
                                     holdout_rows=len(ctx.holdout_y))
    summary = {"family": final.family, "score": final.score, "trial": best.number,
               "holdout_score": manifest.holdout_score,
               "params": manifest.params, "members": final.members}
    reference = build_reference(
        ctx.X, ctx.schema, task=ctx.task, classes=spec.classes, y=ctx.y,
        oof=_final_oof(ctx, final.members or [{"trial": best.number, "weight": 1.0}]),
        metric_name=ctx.metric.name, metric_direction=ctx.metric.direction,
        oof_score=final.score)
    return save_model(ctx.run.model_file, final.estimator, manifest, reference), summary


def _final_oof(ctx: SearchContext, members: list[dict]):
    """The final model's out-of-fold predictions: its members' (trials') own, weighted as
    the model weighs them; None if a member's are missing."""
    total, weights = None, 0.0
    for m in members:
        try:
            oof = ctx.run.load_oof(m["trial"]).astype(float) * m["weight"]
        except (FileNotFoundError, ValueError):
            return None
        total, weights = (oof if total is None else total + oof), weights + m["weight"]
    return None if total is None or weights <= 0 else total / weights


def predict(model, data, *, out: str | os.PathLike | None = None) -> pd.DataFrame:
    """Score raw rows with a model file (path or loaded Model); optionally write a CSV."""
    model = model if isinstance(model, Model) else load_model(model)
    frame = as_table(data).frame if not isinstance(data, pd.DataFrame) else data
    result = model.predict(frame)
    if out is not None:  # a spreadsheet must not run a label such as =HYPERLINK(...)
        to_csv_safe(result, out)
    return result


def check_schema(model, data):
    """How new rows fit a model before scoring (a path or loaded Model; rows as for
    :func:`predict`): missing columns with hints, extra ones, type problems, unseen
    categories (:class:`automl.schema_report.SchemaReport`)."""
    from automl.schema_report import schema_report

    model = model if isinstance(model, Model) else load_model(model)
    frame = as_table(data).frame if not isinstance(data, pd.DataFrame) else data
    return schema_report(model, frame)


def check_drift(model, data, *, reference=None, runs_dir=None):
    """New rows against the model file's reference profile: drift per column and of the
    predictions, performance measured or estimated, the alarm and why
    (:class:`automl.monitor.check.MonitorResult`; ``.to_json()`` as ``automl monitor
    --json``). ``reference``: the training rows (table or file) for the multivariate
    check, else the model's run folder when it is on this machine."""
    from automl.monitor.check import check
    from automl.monitor.sources import reference_rows

    model = model if isinstance(model, Model) else load_model(model)
    frame = as_table(data).frame if not isinstance(data, pd.DataFrame) else data
    rows = reference_rows(model, runs_dir=runs_dir, reference=reference)
    return check(model, frame, reference_rows=rows)
