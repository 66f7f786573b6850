"""``automl train``, ``predict`` and ``explain``: a table in, a model file, predictions or a
report out."""

from __future__ import annotations

import sys

from automl.cli.clock import STARTED

__all__ = ["explain_command", "predict_command", "train_command"]


def train_command(args) -> int:
    from automl.data import load_table

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
