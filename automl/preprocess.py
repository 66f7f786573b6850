"""The preprocessing half of every model: a ColumnTransformer built from the schema.

It sits inside the same sklearn Pipeline as the model, so it is fitted inside each CV fold
(no leakage from validation rows) and a saved model takes the user's raw columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler, TargetEncoder

from automl.data.schema import Kind, Schema
from automl.errors import DataError

__all__ = ["CategoryCleaner", "DateFeatures", "PrepOptions", "TextTfidf", "build_preprocessor",
           "check_usable_features", "unusable_features"]

# A categorical column with more distinct values than this is target-encoded, not one-hot.
MAX_ONEHOT_CATEGORIES = 20
_MISSING = "__missing__"


@dataclass(frozen=True)
class PrepOptions:
    """What a model family needs from preprocessing."""

    scale: bool = False  # standardise numbers (linear models, kNN, neural nets)
    impute: bool = True  # fill missing numbers (families that cannot split on NaN)
    dense: bool = False  # the family cannot take sparse input


class DateFeatures(TransformerMixin, BaseEstimator):
    """Turn a date column into numbers a model can split on: days since 1970 and parts."""

    PARTS = ("days", "year", "month", "day", "dayofweek", "hour")

    def fit(self, X, y=None):
        self.feature_names_in_ = np.asarray(_columns(X), dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        return self

    def transform(self, X):
        out = []
        for col in _frame(X, self.feature_names_in_).columns:
            d = pd.to_datetime(_frame(X, self.feature_names_in_)[col], errors="coerce")
            if getattr(d.dt, "tz", None) is not None:
                d = d.dt.tz_convert("UTC").dt.tz_localize(None)
            days = (d - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
            parts = [days, d.dt.year, d.dt.month, d.dt.day, d.dt.day_of_week, d.dt.hour]
            out.extend(np.asarray(p, dtype=float) for p in parts)
        return np.column_stack(out) if out else np.empty((len(X), 0))

    def get_feature_names_out(self, input_features=None):
        return np.asarray(
            [f"{c}_{p}" for c in self.feature_names_in_ for p in self.PARTS], dtype=object
        )


class TextTfidf(TransformerMixin, BaseEstimator):
    """TF-IDF of one free-text column; missing text counts as empty."""

    def __init__(self, max_features: int = 300):
        self.max_features = max_features

    def fit(self, X, y=None):
        self.feature_names_in_ = np.asarray(_columns(X), dtype=object)
        self.n_features_in_ = 1
        self.vectorizer_ = TfidfVectorizer(
            max_features=self.max_features, min_df=2, sublinear_tf=True, dtype=np.float32
        )
        try:
            self.vectorizer_.fit(self._texts(X))
        except ValueError:  # too few documents or no words at all: keep an empty vocabulary
            self.vectorizer_ = TfidfVectorizer(min_df=1, dtype=np.float32).fit(["_"])
        return self

    def transform(self, X):
        return self.vectorizer_.transform(self._texts(X))

    def get_feature_names_out(self, input_features=None):
        col = self.feature_names_in_[0]
        return np.asarray(
            [f"{col}={w}" for w in self.vectorizer_.get_feature_names_out()], dtype=object
        )

    def _texts(self, X):
        col = _frame(X, self.feature_names_in_).iloc[:, 0]
        return col.astype(object).where(col.notna(), "").astype(str).tolist()


class CategoryCleaner(TransformerMixin, BaseEstimator):
    """Make category values plain strings with one marker for missing, so encoders agree
    whether a column arrived as numbers, booleans, pandas strings or objects."""

    def fit(self, X, y=None):
        self.feature_names_in_ = np.asarray(_columns(X), dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        return self

    def transform(self, X):
        df = _frame(X, self.feature_names_in_)
        out = np.empty(df.shape, dtype=object)
        for i, col in enumerate(df.columns):
            s = df[col]
            out[:, i] = s.astype(object).where(s.notna(), _MISSING).map(str).to_numpy()
        return out

    def get_feature_names_out(self, input_features=None):
        return np.asarray(self.feature_names_in_, dtype=object)


def unusable_features(schema: Schema) -> dict[str, str]:
    """Each feature column a model can learn nothing from, with the reason in words.

    ID-like columns are dropped by ``build_preprocessor`` (a key differs in every row, so it
    cannot carry over to new rows); an empty column has no values; a constant one has one
    value and no missing cells (missing cells beside one value still say something).
    """
    reasons = {}
    for c in schema.columns:
        if c.kind == Kind.ID:
            reasons[c.name] = ("ID-like (a different value in nearly every row, like a key or "
                               "a name; it is dropped before learning)")
        elif c.n_unique == 0:
            reasons[c.name] = "empty (every value is missing)"
        elif c.n_unique == 1 and c.n_missing == 0:
            reasons[c.name] = "constant (the same value in every row)"
    return reasons


def check_usable_features(schema: Schema, source: str) -> None:
    """Raise ``DataError`` naming every feature and why, when none of them is usable; before
    a search, which would otherwise run trial after failing (or pointless) trial."""
    reasons = unusable_features(schema)
    if len(reasons) < len(schema.columns):
        return
    listed = "; ".join(f"{name!r} is {why}" for name, why in list(reasons.items())[:20])
    more = f"; and {len(reasons) - 20} more like them" if len(reasons) > 20 else ""
    raise DataError(
        f"No usable feature columns in {source}: {listed}{more}. Add columns that describe "
        "each row (measurements, categories, dates, text), or choose another target."
    )


def build_preprocessor(
    schema: Schema, task: str, options: PrepOptions | None = None
) -> ColumnTransformer:
    """Build the column transformer for ``schema``; ID-like columns are dropped."""
    options = options or PrepOptions()
    steps: list[tuple] = []
    numeric = schema.names_of(Kind.NUMERIC)
    if numeric:
        num: list[tuple] = []
        if options.impute:
            num.append(("impute", SimpleImputer(strategy="median", add_indicator=True)))
        if options.scale:
            num.append(("scale", StandardScaler()))
        steps.append(("num", Pipeline(num) if num else "passthrough", numeric))

    low, high = [], []
    for c in schema.columns:
        few = c.n_unique <= MAX_ONEHOT_CATEGORIES
        if c.kind == Kind.BOOLEAN or (c.kind == Kind.CATEGORICAL and few):
            low.append(c.name)
        elif c.kind == Kind.CATEGORICAL:
            high.append(c.name)
    if low:
        onehot = OneHotEncoder(
            handle_unknown="infrequent_if_exist",
            min_frequency=3,
            drop="if_binary",
            sparse_output=not options.dense,
            dtype=np.float32,
        )
        steps.append(("onehot", Pipeline([("clean", CategoryCleaner()), ("encode", onehot)]), low))
    if high:
        target_type = "continuous" if task == "regression" else task
        enc: list[tuple] = [
            ("clean", CategoryCleaner()),
            ("encode", TargetEncoder(target_type=target_type,
                                     cv=KFold(5, shuffle=True, random_state=0))),
        ]
        if options.scale:
            enc.append(("scale", StandardScaler()))
        steps.append(("target", Pipeline(enc), high))

    dates = schema.names_of(Kind.DATETIME)
    if dates:
        date: list[tuple] = [("parts", DateFeatures())]
        if options.impute:
            date.append(("impute", SimpleImputer(strategy="median", keep_empty_features=True)))
        if options.scale:
            date.append(("scale", StandardScaler()))
        steps.append(("date", Pipeline(date), dates))

    for name in schema.names_of(Kind.TEXT):
        steps.append((f"text_{name}", TextTfidf(), [name]))

    if not steps:
        raise ValueError("no usable feature columns")
    return ColumnTransformer(
        steps,
        remainder="drop",
        sparse_threshold=0.0 if options.dense else 0.3,
    )


def _columns(X) -> list:
    return list(X.columns) if hasattr(X, "columns") else list(range(np.shape(X)[1]))


def _frame(X, names) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    return pd.DataFrame(np.asarray(X, dtype=object), columns=list(names))
