"""Engine speed figures for docs/benchmarks.md (measured, never asserted in tests).

1. time to the first leaderboard row on a 10,000-row table, from process start (imports
   included, as the CLI sees it) and from the ``train()`` call (as a warm process sees it);
2. search overhead: 1 - (time inside fit and predict) / (search wall time x workers);
3. whole-command wall time against the budget (budget x 1.05 + 2 s is the limit);
4. `automl predict` throughput on 100,000 rows (CLI, process start included) and in-process.

The table is synthetic (sklearn's make_classification plus two categorical columns) so the
script runs offline; repeat with --repeats and read the medians.

usage: .venv/bin/python benchmarks/engine_speed.py [--budget 30] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import make_classification

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "automl.cli"]


def table(n: int, seed: int = 0) -> pd.DataFrame:
    X, y = make_classification(n_samples=n, n_features=20, n_informative=8, random_state=seed)
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(20)])
    rng = np.random.default_rng(seed)
    df["region"] = rng.choice(["north", "south", "east", "west"], n)
    df["plan"] = np.where(df.x0 > 0, "pro", "basic")
    df["target"] = np.where(y == 1, "yes", "no")
    return df


def search_run(work: Path, budget: float) -> dict:
    """One CLI-equivalent search in a fresh process; returns its timings."""
    code = f"""
import json, sys, time
t0 = time.time()
import automl.api as api
first = []
def cb(p):
    if p.n_complete and not first:
        first.append(time.time())
t_call = time.time()
r = api.train({str(work / 'train.csv')!r}, 'target', time_budget={budget},
              out={str(work / 'm.skops')!r}, runs_dir={str(work / 'runs')!r},
              on_progress=cb, started_at=t0, start_method='fork')
from automl.runs import Run
from automl.search.context import SearchContext
run = Run(r.run_dir)
st = run.status
trials = SearchContext.from_run(run).study().get_trials()
n = run.spec.n_rows
busy = sum(t.user_attrs.get('fit_s', 0) + t.user_attrs.get('predict_ms_per_1k', 0) * n / 1e6
           for t in trials)
print(json.dumps(dict(first_row_s=first[0] - t0 if first else None,
                      first_row_from_call_s=first[0] - t_call if first else None,
                      wall_s=time.time() - t0,
                      search_s=st['search_ended_at'] - st['search_started_at'],
                      trials=len(trials), busy_s=busy, run_dir=str(r.run_dir))))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    rec = json.loads(out.stdout.strip().splitlines()[-1])
    return rec


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=float, default=30)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    from automl.config import available_cores

    workers = available_cores()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        table(10_000).to_csv(work / "train.csv", index=False)
        runs = [search_run(work, a.budget) for _ in range(a.repeats)]
        for r in runs:
            r["overhead"] = 1 - r["busy_s"] / (r["search_s"] * workers)
            r["overhead_whole_command"] = 1 - r["busy_s"] / (r["wall_s"] * workers)
            print(json.dumps({k: v for k, v in r.items() if k != "run_dir"}))
        big = table(100_000, seed=1).drop(columns="target")
        big.to_csv(work / "big.csv", index=False)
        cli_s, api_s = [], []
        from automl.bundle import load_model

        model = load_model(work / "m.skops")
        for _ in range(a.repeats):
            t = time.perf_counter()
            subprocess.run([*CLI, "predict", str(work / "m.skops"), str(work / "big.csv"),
                            "--out", str(work / "p.csv")], cwd=ROOT, check=True,
                           capture_output=True)
            cli_s.append(time.perf_counter() - t)
            t = time.perf_counter()
            model.predict(big)
            api_s.append(time.perf_counter() - t)
    med = statistics.median
    print(json.dumps({
        "workers": workers, "budget_s": a.budget, "repeats": a.repeats,
        "first_row_s_median": round(med(r["first_row_s"] for r in runs), 2),
        "first_row_from_train_call_s_median": round(
            med(r["first_row_from_call_s"] for r in runs), 2),
        "wall_s_median": round(med(r["wall_s"] for r in runs), 2),
        "wall_limit_s": a.budget * 1.05 + 2,
        "overhead_median": round(med(r["overhead"] for r in runs), 4),
        "overhead_whole_command_median": round(med(r["overhead_whole_command"] for r in runs), 4),
        "predict_cli_rows_per_s_median": round(100_000 / med(cli_s)),
        "predict_api_rows_per_s_median": round(100_000 / med(api_s)),
        "best_family": model.manifest.family,
    }, indent=1))


if __name__ == "__main__":
    main()
