"""Explain a saved model on raw rows: SHAP values per user column, in probability points
(classification) or target units (regression), for any family and for ensembles. Each model
(each member of an ensemble) is explained by the route its family declares
(:func:`automl.explain.shapley.kind_of`).

An :class:`Explainer` is built once per model and background table (tree parsing, background
sample, feature-to-column maps) and then explains any rows: a sample for the global view,
one row for the local view and the what-if panel.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from automl.bundle import Model, _quiet_unknown_categories
from automl.ensemble import WeightedEnsemble
from automl.errors import ConfigError
from automl.explain.explanation import Explanation
from automl.explain.groups import feature_owners, group_matrix, used_columns
from automl.explain.permutation import permutation_shap
from automl.explain.shapley import (
    APPROXIMATE,
    TREE_KINDS,
    kind_of,
    make_tree_explainer,
    model_contributions,
)
from automl.explain.units import to_output_units

__all__ = ["GLOBAL_ROWS", "Explainer", "explain"]

GLOBAL_ROWS = 2000  # at most this many rows sampled for a global explanation
GLOBAL_SECONDS = 0.5  # aimed time of a global explanation (sampled rows fit in it)
PERMUTATION_SECONDS = 5.0  # the same for models explained by permutation (k-NN)
MIN_GLOBAL_ROWS = 200  # never fewer rows than this for TreeSHAP or linear models
MIN_PERMUTATION_ROWS = 30
BACKGROUND_ROWS = 100  # rows standing for "an average row": the base value is their mean
PERMUTATION_BACKGROUND = 50  # the permutation route predicts rows x 2 columns x these


class Explainer:
    """Explains one :class:`~automl.bundle.Model`; ``background`` is the table it was trained
    on (or any like it), from which the reference rows are sampled."""

    def __init__(self, model: Model, background: pd.DataFrame, *, seed: int = 0):
        self.model = model
        self.seed = seed
        members = _members(model.pipeline)
        self._members = [_Member(p, w) for p, w in members]
        cols: list[str] = []
        for m in self._members:
            cols.extend(c for c in m.columns if c not in cols)
        self.columns = [c for c in model.schema.names if c in cols]
        bg = model.prepare(background)
        if len(bg) > BACKGROUND_ROWS:
            bg = bg.sample(BACKGROUND_ROWS, random_state=seed)
        self.background = bg
        for m in self._members:
            m.setup(bg, self.columns, model.task)
        task = model.task
        self.outputs = ([str(model.target)] if task == "regression"
                        else [f"P({model.target} = {model.classes[1]})"] if task == "binary"
                        else [f"P({model.target} = {c})" for c in model.classes])

    @property
    def kinds(self) -> list[str]:
        """The explainer kind of each model (each member of an ensemble), in order."""
        return [m.kind for m in self._members]

    @property
    def slow(self) -> bool:
        """Whether a member needs the permutation route (fewer rows for a global view)."""
        return any(m.route == "permutation" for m in self._members)

    def global_rows(self, max_rows: int = GLOBAL_ROWS, approximate: bool | None = None
                    ) -> int:
        """How many rows a global explanation takes: as many as fit in about GLOBAL_SECONDS
        (PERMUTATION_SECONDS with a model explained by permutation) by the seconds per row
        measured on the background rows, within [MIN_GLOBAL_ROWS, ``max_rows``]."""
        per_row = sum(m.row_seconds(approximate) for m in self._members)
        budget, low = ((PERMUTATION_SECONDS, MIN_PERMUTATION_ROWS) if self.slow
                       else (GLOBAL_SECONDS, MIN_GLOBAL_ROWS))
        fit = int(budget / max(per_row, 1e-9))
        return max(1, min(max_rows, max(low, fit)))

    def explain(self, df: pd.DataFrame, *, max_rows: int | None = None,
                approximate: bool | None = False, seed: int | None = None, raw: bool = False
                ) -> Explanation:
        """Explain the rows of ``df`` (a random sample of ``max_rows`` if it has more).

        ``approximate``: False for exact SHAP values (one row: 7-45 ms measured); True for
        Saabas values where a model has them (XGBoost, scikit-learn trees: 10-40x faster, the
        same sums per row, close rankings); None for "True where it helps" (global views).

        ``raw=True`` keeps the model's own SHAP units (log-odds for boosted and linear
        classifiers), grouped to columns but not turned into probability points; for one
        model with a TreeSHAP or linear route (to compare with other SHAP tools)."""
        n_total = len(df)
        if max_rows is not None and n_total > max_rows:
            df = df.sample(max_rows, random_state=self.seed if seed is None else seed)
        X = self.model.prepare(df)
        values, base = None, None
        if raw and (len(self._members) > 1 or self.slow):
            raise ConfigError("raw SHAP units exist for a single tree or linear model only; "
                              "this model is an ensemble or explained by permutation.")
        with _quiet_unknown_categories():
            for m in self._members:
                v, b = m.explain(X, approximate, raw)
                values = v * m.weight if values is None else values + v * m.weight
                base = b * m.weight if base is None else base + b * m.weight
        method = ("weighted sum of the members' SHAP values: " if len(self._members) > 1
                  else "") + "; ".join(dict.fromkeys(m.last_method for m in self._members))
        if any(m.route == "permutation" for m in self._members):
            method += (f" (against {min(len(self.background), PERMUTATION_BACKGROUND)} "
                       "background rows)")
        return Explanation(
            values=values, base=base, prediction=base[None, :] + values.sum(axis=1),
            data=df[self.columns] if set(self.columns) <= set(df.columns) else X[self.columns],
            columns=list(self.columns), outputs=list(self.outputs),
            units=("log-odds" if raw and self._members[0].space == "margin" else
                   "value" if self.model.task == "regression" else "probability"),
            task=self.model.task, classes=self.model.classes, target=str(self.model.target),
            method=method, n_total=n_total)


def explain(model: Model, df: pd.DataFrame, *, max_rows: int | None = GLOBAL_ROWS,
            approximate: bool | None = None, seed: int = 0) -> Explanation:
    """A global explanation of ``df`` by ``model`` (``df`` doubles as the background
    table): a random sample of as many rows as fit in about GLOBAL_SECONDS, at most
    ``max_rows`` (None: every row, exact unless ``approximate``)."""
    explainer = Explainer(model, df, seed=seed)
    if max_rows is None:
        return explainer.explain(df, approximate=bool(approximate))
    return explainer.explain(df, max_rows=explainer.global_rows(max_rows, approximate),
                             approximate=approximate)


def _members(estimator) -> list[tuple[Pipeline, float]]:
    if isinstance(estimator, WeightedEnsemble):
        w = np.asarray(estimator.weights, dtype=float)
        return list(zip(estimator.estimators, w / w.sum(), strict=True))
    return [(estimator, 1.0)]


class _Member:
    """One fitted Pipeline (prep + model) and how to explain it."""

    def __init__(self, pipeline: Pipeline, weight: float):
        self.pipeline, self.weight = pipeline, float(weight)
        self.prep, self.estimator = pipeline[0], pipeline[-1]
        self.columns = used_columns(self.prep)
        self.kind = kind_of(self.estimator)
        self.route = "permutation" if self.kind == "permutation" else "features"
        self.last_method = ""  # how the last explanation was computed, in words
        self._seconds: dict[bool, float] = {}  # per row, exact / approximate
        self.space = "probability"  # of the last contributions: margin, probability or value
        self._tree = None

    def setup(self, background: pd.DataFrame, columns: list[str], task: str) -> None:
        self.all_columns, self.task = columns, task
        if self.route == "features":
            self.group = group_matrix(feature_owners(self.prep), columns)
            self.bg_t = self.prep.transform(background)
            if self.kind in TREE_KINDS:
                self._tree = make_tree_explainer(self.kind, self.estimator)
            self._bg_values: dict[bool, np.ndarray] = {}
        else:
            self.bg = background.iloc[:PERMUTATION_BACKGROUND]
            # batched like the real thing, so the pipeline's fixed cost per call is shared
            probe = pd.concat([self.bg] * max(1, 2000 // max(len(self.bg), 1)))
            start = time.perf_counter()
            with _quiet_unknown_categories():
                self.predict(probe)
            per_prediction = (time.perf_counter() - start) / max(len(probe), 1)
            self._seconds[False] = per_prediction * 2 * len(columns) * len(self.bg)

    @property
    def can_approximate(self) -> bool:
        return self.kind in APPROXIMATE

    def mode(self, approximate: bool | None) -> bool:
        """Whether to use Saabas values (``None``: where the model has them)."""
        return self.can_approximate and approximate is not False

    def row_seconds(self, approximate: bool | None) -> float:
        """Seconds to explain one row, measured on the background rows."""
        if self.route == "permutation":
            return self._seconds[False]
        self._background_values(self.mode(approximate))
        return self._seconds[self.mode(approximate)]

    def _background_values(self, approximate: bool) -> np.ndarray:
        """The background rows' grouped contributions (timed: they size global views)."""
        if approximate not in self._bg_values:
            self._contributions(self.bg_t[:10], approximate)  # imports, caches
            start = time.perf_counter()
            values, _, self.space, _ = self._contributions(self.bg_t, approximate)
            many = time.perf_counter() - start
            start = time.perf_counter()  # and a few rows: the cost of a call apart
            self._contributions(self.bg_t[:10], approximate)
            few = time.perf_counter() - start
            n = len(values)
            slope = (many - few) / (n - 10) if n > 10 else many / max(n, 1)
            start = time.perf_counter()  # and the conversion to output units
            to_output_units(values, np.zeros(values.shape[2]), self.space, values)
            convert = (time.perf_counter() - start) / max(n, 1)
            self._seconds[approximate] = max(slope, many / max(n, 1) / 10) + convert
            self._bg_values[approximate] = values
        return self._bg_values[approximate]

    def _contributions(self, Xt, approximate: bool):
        """Grouped contributions in the model's own space: (values, base, space, method)."""
        c = model_contributions(self.kind, self.estimator, Xt, self.bg_t,
                                approximate=approximate, tree_explainer=self._tree)
        values, base = c.values, c.base
        if self.task == "binary" and values.shape[2] == 2:  # one output per class: keep classes[1]
            values, base = values[:, :, 1:], base[1:]
        return np.einsum("nfk,fc->nck", values, self.group), base, c.space, c.method

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """The explained outputs: value, probability of classes[1], or every probability."""
        if self.task == "regression":
            return self.pipeline.predict(frame)
        p = self.pipeline.predict_proba(frame)
        return p[:, 1] if self.task == "binary" else p

    def explain(self, X: pd.DataFrame, approximate: bool | None, raw: bool = False):
        """(values (n, columns, outputs), base (outputs,)) in output units (``raw``: in the
        model's own SHAP units)."""
        approximate = self.mode(approximate)
        if self.route == "permutation":
            values, base = permutation_shap(self.predict, X, self.bg, self.all_columns)
            self.last_method = "permutation SHAP"
            return values, base
        values, base, self.space, method = self._contributions(self.prep.transform(X),
                                                               approximate)
        self.last_method = method
        if raw:
            return values, base
        return to_output_units(values, base, self.space,
                               self._background_values(approximate))
