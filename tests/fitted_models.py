"""Models of each family fitted directly (no search) on the bundled datasets of
tests/bundle_files.py, wrapped as a loaded Model: for tests of explanations and reports."""

from __future__ import annotations

import numpy as np
import pandas as pd

from automl.bundle import Model
from automl.contracts import ModelManifest
from automl.families import FamilyContext, get_family
from automl.search.context import make_pipeline
from tests.bundle_files import LABELS, make_data

__all__ = ["as_model", "fitted"]


def fitted(family: str, task: str, **params) -> tuple[Model, pd.DataFrame]:
    """The family's default model on a bundled dataset with categorical, boolean, date, text
    and ID columns added, wrapped as a loaded Model."""
    X, y, schema = make_data(task)
    ctx = FamilyContext(task=task, n_rows=len(X), n_columns=X.shape[1],
                        n_classes=0 if task == "regression" else len(np.unique(y)))
    fam = get_family(family)
    defaults = {**fam.defaults(ctx)[0], **{fam.p(k): v for k, v in params.items()}}
    pipe = make_pipeline(schema, fam, defaults, ctx).fit(X, y)
    return as_model(pipe, task, schema), X


def as_model(pipe, task, schema) -> Model:
    """``pipe`` (fitted on ``make_data(task)``) as a loaded Model of that task."""
    return Model(pipe, ModelManifest(task=task, target="target", schema=schema,
                                     classes=LABELS[task]))
