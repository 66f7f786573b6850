"""The ``automl`` command's arguments, one subcommand each."""

from __future__ import annotations

import argparse

__all__ = ["build_parser", "source_options"]


def build_parser() -> argparse.ArgumentParser:
    about = ("train, predict, explain (HTML report), serve a model over HTTP, monitor new data "
             "for drift, list runs, join a run as a worker")
    ap = argparse.ArgumentParser(prog="automl", description=about)
    sub = ap.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="search models for a table and save the best one")
    t.add_argument("data", nargs="?", help="CSV, Parquet, Excel or SQLite file, or a "
                   "database URL (postgresql://, mysql://) with --table or --query")
    source_options(t)
    t.add_argument("--target", help="the column to predict (required unless --resume)")
    t.add_argument("--resume", metavar="RUN_ID", help="continue a stopped, finished or failed "
                   "run's study for another --time-budget, with its own data and settings")
    t.add_argument("--task", default="auto", choices=["auto", "binary", "multiclass",
                                                      "regression"])
    t.add_argument("--metric", help="roc_auc, log_loss, accuracy, f1, balanced_accuracy, "
                                    "rmse, mae, r2 (default: roc_auc / log_loss / r2)")
    t.add_argument("--time-budget", type=float, default=60.0, metavar="SECONDS",
                   help="wall-clock limit for the whole command, refit included (default 60)")
    t.add_argument("--max-trials", type=int, metavar="N")
    t.add_argument("--cv-folds", type=int, metavar="K",
                   help="default 5 (3 above 20k rows); 1 = one 80/20 validation split, "
                        "chosen for tables too large for folds in the budget")
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
    t.add_argument("--out", metavar="MODEL_FILE", help="where to save the model (required "
                   "unless --resume; the run folder keeps one either way)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("predict", help="score rows with a model file")
    p.add_argument("model")
    p.add_argument("data", help="a file or database URL, as for train")
    source_options(p)
    p.add_argument("--out", required=True, metavar="PRED_CSV")

    x = sub.add_parser("explain", help="write a self-contained HTML report of a model on a "
                                       "table: quality, explanations in plain words")
    x.add_argument("model")
    x.add_argument("data", help="a file or database URL, as for train; with the target column "
                                "the report also measures how good the model is")
    source_options(x)
    x.add_argument("--out", required=True, metavar="REPORT_HTML")
    x.add_argument("--rows", type=int, default=2000, metavar="N",
                   help="at most this many rows sampled for the explanations (default 2000; "
                        "fewer when explaining them would take more than a few seconds)")
    x.add_argument("--runs-dir", help="where to find the model's run for its leaderboard")

    v = sub.add_parser("serve", help="serve a model file over HTTP (POST /predict, /explain; "
                                      "GET /health, /schema, /metrics, /docs)")
    v.add_argument("model", metavar="MODEL_FILE")
    v.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only)")
    v.add_argument("--port", type=int, default=8000)
    v.add_argument("--workers", type=int, default=1, metavar="N",
                   help="worker processes, each loading the model once (default 1)")
    v.add_argument("--max-rows", type=int, default=10_000, metavar="N",
                   help="most rows one request may send (default 10000)")
    v.add_argument("--max-bytes", type=int, default=10 * 2**20, metavar="BYTES",
                   help="largest request body accepted (default 10 MiB)")
    v.add_argument("--access-log", action="store_true",
                   help="log a line per request (off by default: it costs time per request)")

    m = sub.add_parser("monitor", help="compare new data with what the model was trained on: "
                                       "drift per column, estimated or measured performance")
    m.add_argument("model", metavar="MODEL_FILE")
    m.add_argument("data", nargs="?", help="new rows: a file or database URL, as for train "
                                           "(with the target column, quality is measured)")
    source_options(m)
    m.add_argument("--out", metavar="REPORT_HTML", help="also write an HTML report")
    m.add_argument("--json", action="store_true", help="print the result as JSON")
    m.add_argument("--reference", metavar="FILE",
                   help="the training rows, for the multivariate check when the model's run "
                        "folder is not on this machine")
    m.add_argument("--runs-dir", help="where to find the model's run (its data and history)")

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
    w.add_argument("run", nargs="?", help="run folder on this machine (or --run ID)")
    w.add_argument("--run", dest="run_id", metavar="ID",
                   help="join run ID from another machine: only --storage is shared; the "
                        "data and settings come from the database")
    w.add_argument("--storage", metavar="URL", help="the run's database storage URL with its "
                   "password (the run folder keeps it masked); or set AUTOML_STORAGE_URL")
    w.add_argument("--workdir", metavar="DIR", help="with --run: where the worker keeps its "
                   "copy of the run (default: a new temporary folder)")
    s = sub.add_parser("supervise", help="run a prepared run's search, refit and save "
                                         "(what the app starts in the background)")
    s.add_argument("run", help="run folder")
    s.add_argument("--time-budget", type=float, required=True, metavar="SECONDS")
    s.add_argument("--storage", metavar="URL", help="as for worker; the app passes it in "
                   "AUTOML_STORAGE_URL, which other users cannot read, unlike arguments")
    return ap


def source_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_mutually_exclusive_group()
    g.add_argument("--table", metavar="NAME", help="table to read from an SQLite file or URL")
    g.add_argument("--query", metavar="SQL", help="one SELECT to run (read-only, time-limited)")
