"""Explanations made from their numbers, for tests of sentences and figures that need no
model: ``explanation(values, data)`` and ``churn_like()``, ten rows with known effects."""

from __future__ import annotations

import numpy as np
import pandas as pd

from automl.explain import Explanation

__all__ = ["churn_like", "explanation"]


def explanation(values, data: pd.DataFrame, base=0.1, *, units: str = "probability",
                task: str = "binary", classes=("no", "yes"), target: str = "churn",
                n_total: int | None = None) -> Explanation:
    """An Explanation from its numbers: ``values`` (rows, columns[, outputs])."""
    values = np.asarray(values, dtype=float)
    values = values[:, :, None] if values.ndim == 2 else values
    base = np.atleast_1d(np.asarray(base, dtype=float))
    if units == "value":
        outputs, classes = [target], ()
    else:
        shown = classes[1:] if task == "binary" else classes
        outputs = [f"P({target} = {c})" for c in shown]
    return Explanation(values=values, base=base, prediction=base[None, :] + values.sum(axis=1),
                       data=data, columns=list(data.columns), outputs=outputs, units=units,
                       task=task, classes=list(classes), target=target, method="hand-made",
                       n_total=n_total or len(data))


def churn_like() -> Explanation:
    """10 rows: contract (categories), minutes (numbers, 100..190) and noise (no effect).

    contract: month-to-month +0.23 (4 rows), one-year -0.02 (3), two-year -0.10 (3):
    mean |SHAP| 0.128. minutes: 0.0012 x (minutes - 145): mean |SHAP| 0.03."""
    contract = ["month-to-month"] * 4 + ["one-year"] * 3 + ["two-year"] * 3
    minutes = np.arange(100, 200, 10)
    data = pd.DataFrame({"contract": contract, "minutes": minutes, "noise": list("abcdeabcde")})
    effect = {"month-to-month": 0.23, "one-year": -0.02, "two-year": -0.10}
    values = np.column_stack([[effect[c] for c in contract], 0.0012 * (minutes - 145),
                              np.zeros(10)])
    return explanation(values, data, base=0.1)
