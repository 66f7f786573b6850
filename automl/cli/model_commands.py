"""``automl train``, ``predict`` and ``explain``: a table in, a model file, predictions or a
report out."""

from __future__ import annotations

import sys

from automl.cli.clock import STARTED

__all__ = ["explain_command", "predict_command", "train_command"]


def train_command(args) -> int:
    from automl.data import load_table
    from automl.errors import ConfigError

    if args.resume:
        return _resume(args)
    missing = [name for name, value in (("DATA", args.data), ("--target", args.target),
                                        ("--out", args.out)) if not value]
    if missing:
        raise ConfigError(f"automl train needs {', '.join(missing)} (or --resume RUN_ID to "
                          "continue a run).")

    # the table first: bad input is refused before the search's libraries are imported
    table = load_table(args.data, coerce_numbers=args.coerce_numbers, table=args.table,
                       query=args.query)
    from automl.api import train
    from automl.cli.view import ProgressView, print_leaderboard

    for w in table.warnings:
        print(f"warning: {w}", file=sys.stderr)
    view = ProgressView(enabled=not args.quiet)
    with view:
        result = train(
            table, args.target, task=args.task, metric=args.metric,
            time_budget=args.time_budget, max_trials=args.max_trials, cv_folds=args.cv_folds,
            families=[f.strip() for f in args.families.split(",")] if args.families else None,
            seed=args.seed, storage=args.storage, holdout=args.holdout, out=args.out,
            runs_dir=args.runs_dir,
            n_workers=args.workers, on_progress=view.update, started_at=STARTED,
            start_method="fork",
        )
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print_leaderboard(result)
    return 0


def _resume(args) -> int:
    """``automl train --resume RUN_ID``: the run's own study goes on in this process."""
    import shutil
    import time
    from dataclasses import replace
    from pathlib import Path

    from automl.api import TrainResult, execute
    from automl.cli.view import ProgressView, print_leaderboard
    from automl.errors import ConfigError
    from automl.leaderboard import leaderboard
    from automl.runs import open_run
    from automl.search.context import SearchContext

    if args.data or args.target:
        raise ConfigError("--resume continues a run with its own data and target: leave out "
                          "DATA and --target.")
    run = open_run(args.resume, args.runs_dir)
    if run.busy() or run.status.state.is_active:
        raise ConfigError(f"Run {run.id} is still running (its search or a worker of it is "
                          "alive): stop it and wait until it has ended before resuming.")
    budget = float(args.time_budget)
    ctx = SearchContext.from_run(run, args.storage)
    ctx.family_ctx = replace(ctx.family_ctx, time_budget=budget)
    run.set_stop_at(time.time() + budget, force=True)  # clear the last Stop
    view = ProgressView(enabled=not args.quiet)
    with view:
        trials, model_path, summary = execute(
            ctx, started_at=STARTED, deadline=STARTED + budget, start_method="fork",
            n_workers=args.workers or run.spec.config.workers(), on_progress=view.update)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(model_path, args.out)
        model_path = Path(args.out)
    print_leaderboard(TrainResult(run.id, run.path, Path(model_path), ctx.task,
                                  ctx.metric.name, summary,
                                  leaderboard(trials, ctx.metric.direction), [],
                                  time.time() - STARTED))
    return 0


def predict_command(args) -> int:
    from automl.api import as_table, predict
    from automl.bundle import load_model

    model = load_model(args.model)
    data = as_table(args.data, table=args.table, query=args.query) if (
        args.table or args.query) else args.data
    result = predict(model, data, out=args.out)
    for w in getattr(model, "last_warnings", []):
        print(f"warning: {w}", file=sys.stderr)
    print(f"wrote {len(result)} predictions to {args.out}", file=sys.stderr)
    return 0


def explain_command(args) -> int:
    from automl.api import as_table
    from automl.bundle import load_model
    from automl.report import model_report, write_report

    if args.rows < 1:
        from automl.errors import ConfigError

        raise ConfigError(f"--rows must be at least 1 (got {args.rows}).")
    model = load_model(args.model)
    table = as_table(args.data, table=args.table, query=args.query)
    for w in table.warnings:
        print(f"warning: {w}", file=sys.stderr)
    html = model_report(model, table.frame, source=table.source, runs_dir=args.runs_dir,
                        max_rows=args.rows)
    path = write_report(html, args.out)
    print(f"wrote the report to {path} ({path.stat().st_size / 1e6:.1f} MB); open it in a "
          "browser", file=sys.stderr)
    return 0
