"""The ``automl`` command: train, predict, explain (HTML report), list runs, join a run as a
worker.

Heavy libraries are imported inside the commands, after the clock for the time budget has
started, so ``--time-budget`` covers the whole command.
"""

from __future__ import annotations

import argparse
import sys
import time

_STARTED = time.time()

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    about = __doc__.split("\n\n")[0].replace("\n", " ")
    ap = argparse.ArgumentParser(prog="automl", description=about)
    sub = ap.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="search models for a table and save the best one")
    t.add_argument("data", help="CSV, Parquet, Excel or SQLite file, or a database URL "
                                "(postgresql://, mysql://) with --table or --query")
    _source_options(t)
    t.add_argument("--target", required=True, help="the column to predict")
    t.add_argument("--task", default="auto", choices=["auto", "binary", "multiclass",
                                                      "regression"])
    t.add_argument("--metric", help="roc_auc, log_loss, accuracy, f1, balanced_accuracy, "
                                    "rmse, mae, r2 (default: roc_auc / log_loss / r2)")
    t.add_argument("--time-budget", type=float, default=60.0, metavar="SECONDS",
                   help="wall-clock limit for the whole command, refit included (default 60)")
    t.add_argument("--max-trials", type=int, metavar="N")
    t.add_argument("--cv-folds", type=int, metavar="K", help="default 5 (3 above 20k rows)")
    t.add_argument("--families", help="comma-separated, e.g. xgb,lgbm,linear (default: all)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--workers", type=int, help="parallel trials (default: one per core)")
    t.add_argument("--holdout", type=float, default=0.0, metavar="SHARE",
                   help="share of rows kept out of the search to score the final model "
                        "(e.g. 0.2; default 0)")
    t.add_argument("--storage", metavar="URL",
                   help="Optuna storage URL shared by several machines (postgresql://...)")
    t.add_argument("--coerce-numbers", action="store_true",
                   help="treat text in mostly numeric columns as missing instead of failing")
    t.add_argument("--runs-dir", help="where run folders go (default ./runs or $AUTOML_RUNS_DIR)")
    t.add_argument("--out", required=True, metavar="MODEL_FILE", help="where to save the model")
    t.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("predict", help="score rows with a model file")
    p.add_argument("model")
    p.add_argument("data", help="a file or database URL, as for train")
    _source_options(p)
    p.add_argument("--out", required=True, metavar="PRED_CSV")

    x = sub.add_parser("explain", help="write a self-contained HTML report of a model on a "
                                       "table: quality, explanations in plain words")
    x.add_argument("model")
    x.add_argument("data", help="a file or database URL, as for train; with the target column "
                                "the report also measures how good the model is")
    _source_options(x)
    x.add_argument("--out", required=True, metavar="REPORT_HTML")
    x.add_argument("--rows", type=int, default=2000, metavar="N",
                   help="at most this many rows sampled for the explanations (default 2000; "
                        "fewer when explaining them would take more than a few seconds)")
    x.add_argument("--runs-dir", help="where to find the model's run for its leaderboard")

    r = sub.add_parser("runs", help="list runs with status, best family and score; remove "
                                    "old ones with --prune")
    r.add_argument("--runs-dir")
    r.add_argument("--prune", action="store_true",
                   help="remove the runs that ended (finished, stopped, failed) more than "
                        "--older-than ago; queued and running runs are kept")
    r.add_argument("--older-than", metavar="AGE",
                   help="with --prune: an age such as 7d, 12h, 90m or 30s")
    r.add_argument("--dry-run", action="store_true",
                   help="with --prune: list what would be removed, remove nothing")

    w = sub.add_parser("worker", help="join a run's search (several processes or machines)")
    w.add_argument("run", help="run folder")
    w.add_argument("--storage", metavar="URL", help="the run's database storage URL with its "
                   "password (the run folder keeps it masked); or set AUTOML_STORAGE_URL")
    s = sub.add_parser("supervise", help="run a prepared run's search, refit and save "
                                         "(what the app starts in the background)")
    s.add_argument("run", help="run folder")
    s.add_argument("--time-budget", type=float, required=True, metavar="SECONDS")
    s.add_argument("--storage", metavar="URL", help="as for worker; the app passes it in "
                   "AUTOML_STORAGE_URL, which other users cannot read, unlike arguments")
    return ap


def _source_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_mutually_exclusive_group()
    g.add_argument("--table", metavar="NAME", help="table to read from an SQLite file or URL")
    g.add_argument("--query", metavar="SQL", help="one SELECT to run (read-only, time-limited)")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from automl.errors import AutoMLError
    from automl.processes import raise_on_signals, restore_signals, signal_name

    # SIGTERM/SIGHUP unwind a search as Ctrl-C does: workers ended, the run marked failed
    handlers = raise_on_signals() if args.command in _SEARCHES else {}
    try:
        return {"train": _train, "predict": _predict, "explain": _explain, "runs": _runs,
                "worker": _worker, "supervise": _supervise}[args.command](args)
    except AutoMLError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print(f"interrupted by {signal_name(exc)}{_SEARCHES.get(args.command, '')}",
              file=sys.stderr)
        return 128 + getattr(exc, "signum", 2)
    finally:
        restore_signals(handlers)


_ENDED = (": the search and its workers were ended; finished trials are kept in the run "
          "folder (resume the run to go on)")
_SEARCHES = {"train": _ENDED, "supervise": _ENDED,  # what an interruption leaves behind
             "worker": ": this worker ended; the trials it finished are kept in the study"}


def _train(args) -> int:
    from automl.data import load_table

    # the table first: bad input is refused before the search's libraries are imported
    table = load_table(args.data, coerce_numbers=args.coerce_numbers, table=args.table,
                       query=args.query)
    from automl.api import train
    from automl.cli_view import ProgressView, print_leaderboard

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
            n_workers=args.workers, on_progress=view.update, started_at=_STARTED,
            start_method="fork",
        )
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print_leaderboard(result)
    return 0


def _predict(args) -> int:
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


def _explain(args) -> int:
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


def _runs(args) -> int:
    from automl.errors import ConfigError
    from automl.runs import list_runs

    if args.prune or args.older_than or args.dry_run:
        if not (args.prune and args.older_than):
            raise ConfigError("--prune, --older-than and --dry-run go together: "
                              "`automl runs --prune --older-than 7d [--dry-run]`.")
        return _prune(args)
    runs = list_runs(args.runs_dir)
    if runs.empty:
        print("no runs yet: `automl train DATA --target COLUMN --out MODEL` starts one")
    else:
        print(runs.to_string(index=False))
    return 0


def _prune(args) -> int:
    from automl.errors import ConfigError
    from automl.retention import parse_age, prune_runs
    from automl.runs import runs_root

    try:
        age = parse_age(args.older_than)
    except ConfigError as e:
        raise ConfigError(f"--older-than: {e}") from None
    removed = prune_runs(age, args.runs_dir, dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    for run_id in removed:
        print(f"{verb} {run_id}")
    print(f"{verb} {len(removed)} run(s) that ended more than {args.older_than} ago from "
          f"{runs_root(args.runs_dir)}")
    return 0


def _supervise(args) -> int:
    from automl.background import supervise

    supervise(_run_folder(args.run), args.time_budget, started_at=_STARTED,
              storage_url=args.storage)
    return 0


def _run_folder(path: str):
    from pathlib import Path

    from automl.errors import RunNotFoundError
    from automl.runs import Run

    if not (Path(path) / "settings.json").exists():
        raise RunNotFoundError(f"{path} is not a run folder (no settings.json in it).")
    return Run(path)


def _worker(args) -> int:
    from automl.errors import ConfigError
    from automl.search.context import SearchContext
    from automl.search.worker import run_worker

    run = _run_folder(args.run)
    ctx = SearchContext.from_run(run, args.storage)
    if not run.control_file.exists():
        raise ConfigError(
            f"{run.path} has no control.json, which says when to stop: the run's supervisor "
            "writes it when the search starts. Start the run first (`automl supervise` or "
            "the app), then the worker, on a folder the supervisor writes to (or copied "
            "after it started).")
    run_worker(ctx)
    return 0


if __name__ == "__main__":
    sys.exit(main())
