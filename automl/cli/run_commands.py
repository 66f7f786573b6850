"""``automl runs`` (list, prune), ``supervise`` and ``worker``: what the command does with run
folders."""

from __future__ import annotations

from automl.cli.clock import STARTED

__all__ = ["prune_command", "runs_command", "supervise_command", "worker_command"]


def runs_command(args) -> int:
    from automl.errors import ConfigError
    from automl.runs import list_runs

    if args.prune or args.older_than or args.dry_run:
        if not (args.prune and args.older_than):
            raise ConfigError("--prune, --older-than and --dry-run go together: "
                              "`automl runs --prune --older-than 7d [--dry-run]`.")
        return prune_command(args)
    runs = list_runs(args.runs_dir)
    if runs.empty:
        print("no runs yet: `automl train DATA --target COLUMN --out MODEL` starts one")
    else:
        print(runs.to_string(index=False))
    return 0


def prune_command(args) -> int:
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


def supervise_command(args) -> int:
    from automl.background import supervise

    supervise(_run_folder(args.run), args.time_budget, started_at=STARTED,
              storage_url=args.storage)
    return 0


def _run_folder(path: str):
    from pathlib import Path

    from automl.errors import RunNotFoundError
    from automl.runs import Run

    run = Run(Path(path))
    if not run.settings_file.exists():
        raise RunNotFoundError(f"{path} is not a run folder (no {run.settings_file.name} in "
                               "it).")
    return run


def worker_command(args) -> int:
    from automl.errors import ConfigError
    from automl.search.context import SearchContext
    from automl.search.worker import run_worker

    if args.run_id or not args.run:
        return _join_command(args)
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


def _join_command(args) -> int:
    """A worker for a run started on another machine: everything but the URL comes from
    the database (automl.search.shared)."""
    import os

    from automl.errors import ConfigError
    from automl.processes import STORAGE_ENV
    from automl.search.shared import join
    from automl.search.worker import run_worker

    if args.run and args.run_id:
        raise ConfigError("Give either a run folder or --run ID, not both.")
    if not args.run_id:
        raise ConfigError("Name the run to join: a run folder on this machine, or --run ID "
                          "with --storage URL for a run started on another machine.")
    url = args.storage or os.environ.get(STORAGE_ENV)
    if not url:
        raise ConfigError(f"--run ID joins through the run's database: pass --storage URL "
                          f"(with its password) or set {STORAGE_ENV}.")
    ctx = join(url, args.run_id, args.workdir)
    print(f"joined run {args.run_id}: {len(ctx.y):,} rows, working in {ctx.run.path}",
          flush=True)
    run_worker(ctx)
    return 0

