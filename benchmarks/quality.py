"""Quality against FLAML, AutoGluon and untuned LightGBM: run the project, then compare.

The peers run once per budget (their lines are kept in benchmarks/results/, see
docs/benchmarks.md for the commands); after a change only the project is run again:

  .venv/bin/python benchmarks/quality.py run --budget 60 --tag mychange [--suite ALL]
  .venv/bin/python benchmarks/quality.py compare --budget 60 --tag mychange

``run`` drives ../shared/bench/bench.py with the project's CLI from a snapshot of automl/
(copied first, so editing the tree during a run does not change what runs; ``--code REV``
runs a commit instead), keeps every run
folder, and adds to each result line what the folder says: trials finished, pruned and
failed, the final model and the train command's own wall time. ``compare`` prints the
per-table scores and the issue's targets: wins over the better of FLAML and AutoGluon by more
than 0.002, mean differences, AutoGluon's 60 s score reached, the gap to untuned LightGBM,
failures and the budget rule (budget x 1.05 + 2 s).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
BENCH = ROOT.parent / "shared" / "bench" / "bench.py"
PEER_PYTHON = os.environ.get("AUTOML_BENCH_PYTHON", str(Path.home() / "benchenv/bin/python"))
MARGIN = 0.002


def project_file(tag: str, budget: int, seed: int) -> Path:
    return RESULTS / f"project_{tag}_{budget}s_seed{seed}.jsonl"


def run(args) -> None:
    """The project on the suite, from a snapshot of the code, with its run folders kept."""
    out = project_file(args.tag, args.budget, args.seed)
    work = Path(tempfile.mkdtemp(prefix=f"automl-quality-{args.tag}-"))
    if args.code:  # a commit's automl/, e.g. the baseline before a change
        (work / "code").mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.code, "automl"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(work / "code")], input=archive, check=True)
    else:
        shutil.copytree(ROOT / "automl", work / "code" / "automl")
    cli = work / "automl-cli"
    cli.write_text(f"#!/bin/sh\nPYTHONPATH={work / 'code'} exec {sys.executable} -P -m "
                   "automl.cli \"$@\"\n")
    cli.chmod(0o755)
    runs = work / "runs"
    env = {**os.environ, "AUTOML_CLI": str(cli), "AUTOML_RUNS_DIR": str(runs)}
    cmd = [PEER_PYTHON, str(BENCH), "--systems", "project", "--budget", str(args.budget),
           "--suite", args.suite, "--seed", str(args.seed), "--reference", "none"]
    if args.only:
        cmd += ["--only", args.only]
    lines = []
    with subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True) as proc:
        for line in proc.stdout:
            if line.startswith("{"):
                rec = json.loads(line)
                rec.update(_newest_run(runs, seen=[r.get("run") for r in lines]))
                lines.append(rec)
                print(json.dumps(rec), flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r) + "\n" for r in lines))
    print(f"wrote {out}; run folders in {runs}", file=sys.stderr)


def _newest_run(runs: Path, seen: list) -> dict:
    """What the newest run folder not yet reported says about its search."""
    folders = sorted((p for p in runs.glob("*") if p.name not in seen),
                     key=lambda p: p.stat().st_mtime) if runs.exists() else []
    if not folders:
        return {}
    path = folders[-1]
    try:
        status = json.loads((path / "status.json").read_text())
    except (OSError, ValueError):
        return {"run": path.name}
    best = status.get("best") or {}
    started, ended = status.get("started_at"), status.get("ended_at")
    states = _trial_states(path)
    return {"run": path.name, "state": status.get("state"),
            "trials": states.get("COMPLETE", 0), "pruned": states.get("PRUNED", 0),
            "failed": states.get("FAIL", 0), "final": best.get("family"),
            "members": len(best.get("members") or []),
            "train_s": round(ended - started, 1) if started and ended else None}


def _trial_states(path: Path) -> dict[str, int]:
    """How many trials of the run's study ended in each state (read from its journal)."""
    import optuna

    from automl.search.journal import journal_storage

    try:
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        study = optuna.load_study(study_name=f"automl-{path.name}",
                                  storage=journal_storage(path / "study.journal"))
    except Exception:  # a run that failed before its study existed
        return {}
    counts: dict[str, int] = {}
    for t in study.get_trials(deepcopy=False):
        counts[t.state.name] = counts.get(t.state.name, 0) + 1
    return counts


def _read(path: Path) -> dict[str, dict]:
    if not path.exists():
        return {}
    return {r["dataset"]: r for r in map(json.loads, path.read_text().splitlines())
            if r.get("system")}


def compare(args) -> None:
    """Per-table scores against the kept peer results, and the targets."""
    b, s = args.budget, args.seed
    proj = _read(project_file(args.tag, b, s))
    flaml = _read(RESULTS / f"flaml_{b}s_seed{s}.jsonl")
    ag = _read(RESULTS / f"autogluon_{b}s_seed{s}.jsonl")
    ag60 = _read(RESULTS / f"autogluon_60s_seed{s}.jsonl")
    untuned = {d: r for d, r in _read(RESULTS / f"untuned_seed{s}.jsonl").items()}
    lgbm = {r["dataset"]: r for r in map(json.loads, (RESULTS / f"untuned_seed{s}.jsonl")
            .read_text().splitlines()) if r.get("system") == "lgbm_default"} if untuned else {}
    print("| table | project | FLAML | AutoGluon | lgbm default | vs best peer | "
          "vs lgbm | trials | final | train s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    wins = reached = near_lgbm = failures = slow = 0
    diffs_f, diffs_a, n = [], [], 0
    limit = b * 1.05 + 2
    for name, r in proj.items():
        sc = r.get("score")
        f, a = flaml.get(name, {}).get("score"), ag.get(name, {}).get("score")
        lg = lgbm.get(name, {}).get("score")
        best_peer = max((x for x in (f, a) if x is not None), default=None)
        if sc is None:
            failures += 1
        else:
            n += 1
            if best_peer is not None and sc > best_peer + MARGIN:
                wins += 1
            if f is not None:
                diffs_f.append(sc - f)
            if a is not None:
                diffs_a.append(sc - a)
            a60 = ag60.get(name, {}).get("score")
            if a60 is not None and sc >= a60:
                reached += 1
            if lg is not None and sc >= lg - MARGIN:
                near_lgbm += 1
        if (r.get("train_s") or 0) > limit:
            slow += 1

        def fmt(x):
            return "" if x is None else f"{x:.4f}"

        print(f"| {name} | {fmt(sc)} | {fmt(f)} | {fmt(a)} | {fmt(lg)} | "
              f"{fmt(None if sc is None or best_peer is None else sc - best_peer)} | "
              f"{fmt(None if sc is None or lg is None else sc - lg)} | {r.get('trials')} | "
              f"{r.get('final')} | {r.get('train_s')} |")
    def mean(xs):
        return f"{statistics.mean(xs):+.4f}" if xs else "n/a"

    print(f"\n{len(proj)} tables, budget {b} s, seed {s}, tag {args.tag}:")
    print(f"- beats the better of FLAML and AutoGluon by > {MARGIN}: {wins}/{n}")
    print(f"- mean difference vs FLAML {mean(diffs_f)}, vs AutoGluon {mean(diffs_a)}")
    print(f"- reaches AutoGluon's 60 s score: {reached}/{n}")
    print(f"- within {MARGIN} of untuned LightGBM or better: {near_lgbm}/{n}")
    print(f"- failures: {failures}; train over {limit:.0f} s: {slow}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    for name in ("run", "compare"):
        p = sub.add_parser(name)
        p.add_argument("--budget", type=int, default=60)
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--tag", required=True, help="names the result file")
        if name == "run":
            p.add_argument("--suite", default="ALL")
            p.add_argument("--only", default="")
            p.add_argument("--code", help="a git revision to run instead of the work tree")
    args = ap.parse_args()
    {"run": run, "compare": compare}[args.command](args)


if __name__ == "__main__":
    main()
