"""A 1,000,000-row x 20-column table: load, profile and train within 300 s on this machine
(docs/benchmarks.md, "Big tables"). Measured, never asserted in tests.

The table is synthetic (written once to a CSV; 14 numbers, 4 categories, a date, a binary
target with signal in numbers and categories), so the script runs offline. Each step runs in
its own process; its peak memory is the largest summed RSS of the process and its children,
sampled every 0.2 s from /proc.

- load: automl's loader (pyarrow's reader behind the project's checks) against pandas'
  default C reader, pandas with engine="pyarrow", pyarrow.csv alone, and polars if installed;
- profile: what the Data page shows (automl.data.profile);
- train: `automl train --time-budget 300` (search, refit, save), its wall time and peak.

usage: .venv/bin/python benchmarks/big_table.py [--rows 1000000] [--budget 300]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

PY = [sys.executable, "-P"]
LOADERS = {
    "automl": "from automl.data import load_table; f = load_table(PATH).frame",
    "pandas_c": "import pandas as pd; f = pd.read_csv(PATH)",
    "pandas_pyarrow": "import pandas as pd; f = pd.read_csv(PATH, engine='pyarrow')",
    "pyarrow": "import pyarrow.csv as c; f = c.read_csv(PATH).to_pandas()",
    "polars": "import polars as pl; f = pl.read_csv(PATH)",
}


def write_table(path: Path, n: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 14)).round(4)
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(14)])
    df["region"] = rng.choice(["north", "south", "east", "west", "centre"], n)
    df["plan"] = rng.choice(["basic", "pro", "team"], n, p=[0.6, 0.3, 0.1])
    df["channel"] = rng.choice([f"c{i}" for i in range(40)], n)
    df["device"] = rng.choice(["ios", "android", "web"], n)
    df["signup"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, n), "D")
    logit = (X[:, 0] - 0.8 * X[:, 1] + 0.5 * X[:, 2] * X[:, 3] + np.sin(X[:, 4])
             + (df["plan"] == "pro") * 0.7 - (df["region"] == "west") * 0.4)
    df["churn"] = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    df.to_csv(path, index=False)


def measured(cmd: list[str], timeout: float) -> dict:
    """Wall time and peak summed RSS (MiB) of ``cmd`` and its descendants."""
    t0 = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss(proc.pid))
        time.sleep(0.2)
        if time.time() - t0 > timeout:
            proc.kill()
    out, err = proc.communicate()
    return {"wall_s": round(time.time() - t0, 2), "peak_mib": round(peak / 2**20),
            "rc": proc.returncode, "stdout": out.strip()[-500:], "stderr": err.strip()[-500:]}


def _tree_rss(pid: int) -> int:
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(") ")[2].split()
        except OSError:
            continue
        p = int(stat.parent.name)
        children.setdefault(int(fields[1]), []).append(p)
        rss[p] = int(fields[21]) * 4096
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo += children.get(p, [])
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--budget", type=float, default=300)
    ap.add_argument("--skip-train", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="automl-big-"))
    csv = work / "big.csv"
    t0 = time.time()
    write_table(csv, args.rows)
    print(json.dumps({"step": "write", "rows": args.rows, "mib": round(csv.stat().st_size
                                                                       / 2**20, 1),
                      "wall_s": round(time.time() - t0, 1)}), flush=True)
    for name, code in LOADERS.items():
        script = f"import time; t = time.time(); PATH = {str(csv)!r}; {code}; " \
                 "print(round(time.time() - t, 2))"
        r = measured([*PY, "-c", script], timeout=600)
        print(json.dumps({"step": f"load:{name}", "load_s": r["stdout"] or None,
                          **{k: r[k] for k in ("wall_s", "peak_mib", "rc")},
                          **({"error": r["stderr"][-200:]} if r["rc"] else {})}), flush=True)
    script = (f"import time; from automl.data import load_table, profile_table; "
              f"t0 = time.time(); tb = load_table({str(csv)!r}); t1 = time.time(); "
              "profile_table(tb.frame, tb.schema, 'churn'); "
              "print(round(t1 - t0, 2), round(time.time() - t1, 2))")
    r = measured([*PY, "-c", script], timeout=600)
    print(json.dumps({"step": "load+profile", "out": r["stdout"], "rc": r["rc"],
                      "peak_mib": r["peak_mib"], "error": r["stderr"][-300:] if r["rc"]
                      else None}), flush=True)
    if args.skip_train:
        return
    runs = work / "runs"
    r = measured([*PY, "-m", "automl.cli", "train", str(csv), "--target", "churn",
                  "--time-budget", str(args.budget), "--out", str(work / "m.skops"),
                  "--quiet", "--runs-dir", str(runs)], timeout=args.budget * 2 + 120)
    folder = next(runs.iterdir(), None) if runs.exists() else None
    status = json.loads((folder / "status.json").read_text()) if folder else {}
    print(json.dumps({"step": "train", "wall_s": r["wall_s"], "peak_mib": r["peak_mib"],
                      "rc": r["rc"], "state": status.get("state"),
                      "best": status.get("best"), "n_trials": status.get("n_trials"),
                      "search_s": round(status["search_ended_at"] - status[
                          "search_started_at"], 1) if "search_ended_at" in status else None,
                      "final_s": status.get("final_s"), "error": r["stderr"][-400:]
                      if r["rc"] else None, "run": str(folder)}), flush=True)


if __name__ == "__main__":
    main()
