"""Which final model would have scored best on the test split: offline, from kept run folders.

After ``quality.py run`` the run folders hold every trial's out-of-fold predictions and the
fold models of the trials that may end in the final model. This script rebuilds each run's
test split (the bench's own ``load`` and ``split``) and scores several ways of choosing the
final model from the same trials, so a change to the choice is measured without searching
again:

  .venv/bin/python benchmarks/final_choice.py /tmp/automl-quality-TAG-*/runs [--seed 0]

Strategies: ``best`` (the best trial's bagged fold models), ``greedy`` (today's greedy
ensemble), ``bagged`` (greedy selection repeated on random halves of the candidates and the
weights averaged, Caruana et al. 2006), ``families`` (greedy over each family's best only),
``top5`` (plain average of the five best trials). A member whose fold models were not kept
is refitted on all rows.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench"


def _bench():
    mods = {}
    for name in ("bench", "suites"):
        spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
        mods[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mods[name])
    return mods["bench"], mods["suites"]


def bagged_weights(oofs, y, metric, folds, draws: int = 20, seed: int = 0):
    from automl.ensemble import greedy_weights

    rng = np.random.default_rng(seed)
    keys, total = sorted(oofs), Counter()
    for _ in range(draws):
        pick = rng.choice(keys, size=max(2, len(keys) // 2), replace=False)
        w, _ = greedy_weights({k: oofs[k] for k in pick}, y, metric, folds)
        total.update(w)
    return {k: v / draws for k, v in total.items()}


def strategies(ctx, order):
    from automl.ensemble import greedy_weights
    from automl.search.finalize import _candidates

    cands = _candidates(order)
    oofs = {t.number: ctx.run.load_oof(t.number).astype(float) for t in cands}
    fam_best = {}
    for t in order:
        fam_best.setdefault(t.params["family"], t.number)
    out = {"best": {order[0].number: 1.0},
           "greedy": greedy_weights(oofs, ctx.y, ctx.metric, ctx.folds)[0],
           "bagged": bagged_weights(oofs, ctx.y, ctx.metric, ctx.folds),
           "families": greedy_weights({n: oofs[n] for n in fam_best.values() if n in oofs},
                                      ctx.y, ctx.metric, ctx.folds)[0],
           "top5": {t.number: 0.2 for t in order[:5]}}
    return out


def member_predictions(ctx, trial, Xt):
    from automl.search.finalize import _kept, _refit
    from automl.search.objective import predict_scores

    pipes = _kept(ctx, trial) or [_refit(ctx, trial)]
    k = ctx.family_ctx.n_classes
    return np.mean([predict_scores(p, Xt, ctx.task, k) for p in pipes], axis=0)


def analyse(run_path: Path, seed: int, bench, suites) -> dict | None:
    import optuna

    from automl.api import as_table
    from automl.bundle._model import Model
    from automl.contracts import ModelManifest
    from automl.runs import Run
    from automl.search.context import SearchContext
    from automl.search.finalize import ranked

    run = Run(run_path)
    spec = run.spec
    target = spec.target
    entry = next((e for e in suites.ALL if e[3] == target and e[4] == spec.task), None)
    if entry is None:
        return None
    name, df, target, task = bench.load(entry)
    _, te = bench.split(df, target, task, seed=seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "test.csv"
        te.drop(columns=[target]).to_csv(path, index=False)
        Xt = Model(None, ModelManifest(task=task, schema=spec.schema)).prepare(
            as_table(path).frame)
    ctx = SearchContext.from_run(run)
    study = ctx.study()
    order = ranked(study.get_trials(deepcopy=False), ctx.metric.direction == "maximize")
    y = te[target].astype(str) if task != "regression" else te[target]
    classes = [str(c) for c in spec.classes] if task != "regression" else None
    cache: dict[int, np.ndarray] = {}
    res = {"table": name, "trials": len(order)}
    for label, weights in strategies(ctx, order).items():
        pred = 0.0
        for n, w in weights.items():
            if n not in cache:
                cache[n] = member_predictions(ctx, next(t for t in order if t.number == n), Xt)
            pred = pred + w * cache[n]
        res[label] = round(float(bench.score(task, y, np.asarray(pred), classes)), 5)
        res[label + "_n"] = len(weights)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", type=Path, help="folders holding run folders")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    bench, suites = _bench()
    rows = []
    for root in args.runs:
        for run_path in sorted(p for p in root.iterdir() if (p / "settings.json").exists()):
            try:
                r = analyse(run_path, args.seed, bench, suites)
            except Exception as exc:  # a failed run: say so and go on
                print(f"{run_path.name}: {exc!r}", file=sys.stderr)
                continue
            if r:
                rows.append(r)
                print(json.dumps(r), flush=True)
    labels = ["best", "greedy", "bagged", "families", "top5"]
    print("\n| table | " + " | ".join(labels) + " |")
    print("|---|" + "---:|" * len(labels))
    for r in rows:
        print(f"| {r['table']} | " + " | ".join(f"{r[k]:.4f}" for k in labels) + " |")
    for k in labels[1:]:
        d = [r[k] - r["greedy"] for r in rows]
        if k != "greedy":
            print(f"{k} - greedy: mean {np.mean(d):+.4f}, better on "
                  f"{sum(x > 0 for x in d)}/{len(d)}")
    d = [r["best"] - r["greedy"] for r in rows]
    print(f"best - greedy: mean {np.mean(d):+.4f}, better on {sum(x > 0 for x in d)}/{len(d)}")


if __name__ == "__main__":
    main()
