"""The tables and models benchmarks/explain_speed.py measures: each family's default first
trial, fitted like the search's refit and saved/loaded as a model file."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from automl.api import as_table
from automl.bundle import load_model, save_model
from automl.contracts import ModelManifest
from automl.families import FamilyContext, get_family
from automl.search.context import make_pipeline
from automl.tasks import prepare_target

ROOT = Path(__file__).resolve().parents[1]


def synthetic(n: int, f: int, informative: int) -> tuple[pd.DataFrame, str]:
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=n, n_features=f, n_informative=informative,
                               random_state=0)
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(f)])
    df["target"] = np.where(y == 1, "yes", "no")
    return df, "target"


def churn(n: int | None) -> tuple[pd.DataFrame, str]:
    df = pd.read_csv(ROOT / "sample_data" / "churn.csv")
    if n is not None and n < len(df):
        df = df.sample(n, random_state=0).reset_index(drop=True)
    return df, "churn"


def fit_model(df: pd.DataFrame, target: str, family: str, folder: Path):
    """The family's first default trial on all rows, saved and loaded as a model file.

    Fitted single-threaded like the search's refit (automl/search/finalize.py), so the saved
    estimator has n_jobs=1: XGBoost's and LightGBM's own TreeSHAP, which both the engine and
    plain shap call for those families, then run on one thread."""
    from threadpoolctl import threadpool_limits

    table = as_table(df)
    prepared = prepare_target(table.frame, target)
    schema = table.schema.without(target)
    n_classes = len(prepared.classes)
    ctx = FamilyContext(task=prepared.task, n_rows=len(prepared.y),
                        n_columns=prepared.X.shape[1], n_classes=n_classes, seed=0, n_jobs=1,
                        time_budget=60.0)
    fam = get_family(family)
    params = fam.defaults(ctx)[0]
    pipe = make_pipeline(schema, fam, params, ctx)
    t0 = time.perf_counter()
    with threadpool_limits(1):
        pipe.fit(prepared.X, prepared.y)
    fit_s = time.perf_counter() - t0
    manifest = ModelManifest(task=prepared.task, target=target, classes=prepared.classes,
                             schema=schema, family=family, params=params)
    path = save_model(folder / f"{family}.skops", pipe, manifest)
    return load_model(path), prepared.X, params, fit_s


def model_info(est) -> dict:
    name = type(est).__name__
    if hasattr(est, "estimators_"):  # random forest
        trees = [e.tree_ for e in est.estimators_]
        return {"estimator": name, "trees": len(trees),
                "max_depth": int(max(t.max_depth for t in trees)),
                "mean_leaves": float(np.mean([t.n_leaves for t in trees]))}
    if hasattr(est, "get_booster"):
        return {"estimator": name, "trees": int(est.n_estimators), "max_depth": est.max_depth}
    return {"estimator": name, "trees": int(est.n_estimators), "num_leaves": est.num_leaves}


