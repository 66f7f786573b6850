"""Each scored row's top reasons, as data for programs (the server's ``/explain``) and for
tables (the Predict page): the columns that moved the row's prediction most, with their values,
signed effects and the Explain page's words.

The explained output is what a reader asks about: a regressor's value, a binary classifier's
probability of its second class, a multiclass classifier's probability of the class it
predicts for that row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from automl.bundle import Model
from automl.explain.explainer import Explainer
from automl.explain.explanation import Explanation
from automl.explain.words import amount, row_summary, value_text

__all__ = ["MAX_ROWS", "explain_rows", "row_reasons"]

MAX_ROWS = 1_000  # rows one call explains (exact SHAP values: 7-45 ms a row measured)


def row_reasons(e: Explanation, top: int = 3) -> list[dict]:
    """One entry per explained row: ``summary`` (a sentence), ``output`` (what the effects
    move) and ``reasons``, the ``top`` columns by the size of their effect, each with
    ``column``, ``value``, ``effect`` (in the output's units: probability or value) and
    ``text``."""
    out = []
    for i in range(e.n_rows):
        k = _output(e, i)
        row = e.row(i, k).head(top)
        reasons = [{"column": str(r.column), "value": _plain(r.value),
                    "effect": float(r.contribution),
                    "text": f"{r.column} = {value_text(r.value)} "
                            f"({amount(e, r.contribution, True)})"}
                   for r in row.itertuples()]
        out.append({"summary": row_summary(e, i, k, top=top), "output": e.outputs[k],
                    "reasons": reasons})
    return out


def explain_rows(model: Model, rows: pd.DataFrame, *, top: int = 3,
                 background: pd.DataFrame | None = None) -> list[dict]:
    """:func:`row_reasons` for every row of ``rows`` (at most :data:`MAX_ROWS`), exact SHAP
    values. ``background`` stands for "an average row" (the training table or a sample of
    it); without it the model file's reference profile gives one (rows drawn from each
    column's training distribution), and a model file without a profile uses ``rows``."""
    from automl.errors import ConfigError

    if len(rows) > MAX_ROWS:
        raise ConfigError(f"{len(rows):,} rows given; explanations are computed for at most "
                          f"{MAX_ROWS:,} rows at a time. Send fewer rows.")
    if background is None:
        from automl.monitor.reference import background_rows

        background = background_rows(model)
    if background is None or not len(background):
        background = rows
    explainer = Explainer(model, background)
    return row_reasons(explainer.explain(rows, approximate=False), top=top)


def _output(e: Explanation, i: int) -> int:
    if e.task != "multiclass":
        return 0
    return int(np.argmax(e.prediction[i]))


def _plain(value):
    """A cell as JSON data: numbers as float/int, blanks as None, anything else as text."""
    if value is None or (isinstance(value, float | np.floating) and np.isnan(value)):
        return None
    if pd.isna(value) if np.ndim(value) == 0 else False:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value)
    return str(value)
