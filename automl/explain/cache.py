"""Explanations of a run's model, computed once: the Explainer (parsed trees, background
rows) is kept in memory per model file, and a global explanation is also saved in the run
folder so that another page, session or process reuses it."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pandas as pd

from automl.atomic import replacing
from automl.bundle import Model, load_model
from automl.explain.explainer import GLOBAL_ROWS, Explainer
from automl.explain.explanation import Explanation
from automl.runs import Run

__all__ = ["explain_run", "run_explainer", "run_features"]

_KEEP = 4  # explainers kept in memory (one per model file)
_explainers: OrderedDict[tuple, Explainer] = OrderedDict()
_lock = threading.Lock()


def run_features(run: Run) -> pd.DataFrame:
    """The run's table without its target: the rows the model was trained on."""
    target = run.spec.target
    return run.read_data().drop(columns=[target], errors="ignore")


def run_explainer(run: Run, model: Model | None = None) -> Explainer:
    """The Explainer of the run's model file, built on first use and kept in memory."""
    key = _file_key(run.model_file)
    with _lock:
        if key in _explainers:
            _explainers.move_to_end(key)
            return _explainers[key]
    explainer = Explainer(model or load_model(run.model_file), run_features(run))
    with _lock:
        _explainers[key] = explainer
        while len(_explainers) > _KEEP:
            _explainers.popitem(last=False)
    return explainer


def explain_run(run: Run, *, max_rows: int = GLOBAL_ROWS, approximate: bool | None = None,
                seed: int = 0) -> Explanation:
    """A global explanation of the run's model on a sample of its own table, sized by
    :meth:`Explainer.global_rows` (cached on disk in ``<run>/explain/``; a new model file or
    other settings give a new entry)."""
    explainer = run_explainer(run)
    features = run_features(run)
    settings = {"model": _file_key(run.model_file)[1:], "rows": max_rows,
                "approximate": approximate, "seed": seed, "n": len(features)}
    name = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
    path = run.path / "explain" / f"{name}.npz"
    if path.exists():
        try:
            return _load(path, explainer, features)
        except (OSError, ValueError, KeyError):
            path.unlink(missing_ok=True)  # a damaged cache entry is recomputed
    result = explainer.explain(features, max_rows=explainer.global_rows(max_rows, approximate),
                               approximate=approximate, seed=seed)
    _save(path, result, features)
    return result


def _file_key(path: Path) -> tuple:
    st = path.stat()
    return (str(path.resolve()), st.st_mtime_ns, st.st_size)


def _save(path: Path, e: Explanation, features: pd.DataFrame) -> None:
    path.parent.mkdir(exist_ok=True)
    positions = features.index.get_indexer(e.data.index)
    meta = json.dumps({"method": e.method, "n_total": e.n_total})
    with replacing(path, suffix=".npz") as tmp:  # sessions may save one entry at once
        np.savez(tmp, values=e.values, base=e.base, prediction=e.prediction, rows=positions,
                 meta=np.array(meta))


def _load(path: Path, explainer: Explainer, features: pd.DataFrame) -> Explanation:
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        rows = z["rows"]
        data = features.iloc[rows][explainer.columns]
        m = explainer.model
        return Explanation(
            values=z["values"], base=z["base"], prediction=z["prediction"], data=data,
            columns=list(explainer.columns), outputs=list(explainer.outputs),
            units="value" if m.task == "regression" else "probability", task=m.task,
            classes=m.classes, target=str(m.target), method=meta["method"],
            n_total=meta["n_total"])
