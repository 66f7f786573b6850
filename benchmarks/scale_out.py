"""Trials per minute with 1, 2 and 4 worker processes on one study, journal file against
PostgreSQL storage (docs/benchmarks.md, "Scale out"). Measured, never asserted in tests.

Each variant is one `automl train` on the same 5,000-row table (engine_speed's synthetic
table) with a fixed budget; trials per minute is the number of finished trials (complete or
pruned) over the search's own wall time, from the run folder's status, and "busy cores" is
the trials' summed fit time over that wall time. ``--families linear`` (the default) keeps
trials alike in cost, so the figures compare workers and storages rather than which
configurations the scheduler happened to pick (with boosting families they differ by 100x).
Repeat with --repeats and read the medians.

usage: .venv/bin/python benchmarks/scale_out.py [--budget 40] [--repeats 3]
       [--postgres postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine_speed import table

CLI = [sys.executable, "-P", "-m", "automl.cli"]


def one(csv: Path, workers: int, storage: str | None, budget: float, work: Path,
        families: str) -> dict:
    import optuna

    runs = work / f"runs-{workers}-{'pg' if storage else 'journal'}"
    cmd = [*CLI, "train", str(csv), "--target", "target", "--time-budget", str(budget),
           "--families", families, "--workers", str(workers), "--out",
           str(work / "m.skops"), "--quiet", "--runs-dir", str(runs)]
    if storage:
        cmd += ["--storage", storage]
    subprocess.run(cmd, check=True, capture_output=True)
    folder = next(runs.iterdir())
    status = json.loads((folder / "status.json").read_text())
    search_s = status["search_ended_at"] - status["search_started_at"]
    if storage:
        from automl.data.urls import driver_url

        study = optuna.load_study(study_name=f"automl-{folder.name}",
                                  storage=driver_url(storage))
        trials = study.trials
        optuna.delete_study(study_name=study.study_name, storage=driver_url(storage))
    else:
        from automl.search.journal import journal_storage

        trials = optuna.load_study(study_name=f"automl-{folder.name}",
                                   storage=journal_storage(folder / "study.journal")).trials
    finished = [t for t in trials if t.state.name in ("COMPLETE", "PRUNED")]
    fit_s = sum(t.user_attrs.get("fit_s") or 0.0 for t in finished)
    return {"workers": workers, "storage": "postgresql" if storage else "journal",
            "trials": len(finished), "search_s": round(search_s, 2),
            "per_min": round(60 * len(finished) / search_s, 1),
            "busy_cores": round(fit_s / search_s, 2)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=float, default=40)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    ap.add_argument("--families", default="linear")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="automl-scale-"))
    csv = work / "t.csv"
    table(5_000).to_csv(csv, index=False)
    rows = []
    for rep in range(args.repeats):
        for storage in (None, args.postgres):
            for workers in (1, 2, 4):
                r = one(csv, workers, storage, args.budget, work / f"r{rep}", args.families)
                rows.append(r)
                print(json.dumps(r), flush=True)
    print("\nmedians of trials per minute:")
    for storage in ("journal", "postgresql"):
        med = {w: statistics.median(r["per_min"] for r in rows
                                    if r["storage"] == storage and r["workers"] == w)
               for w in (1, 2, 4)}
        print(f"{storage:>10}: 1 worker {med[1]:.1f}, 2 workers {med[2]:.1f} "
              f"({med[2] / med[1]:.2f}x), 4 workers {med[4]:.1f} ({med[4] / med[1]:.2f}x)")


if __name__ == "__main__":
    main()
