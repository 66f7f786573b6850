"""A loaded model: enforces the training schema on new rows, then scores them."""

from __future__ import annotations

import difflib
import warnings
from contextlib import contextmanager

import numpy as np
import pandas as pd

from automl.bundle._format import REEXPORT, as_manifest
from automl.contracts import ModelManifest
from automl.data.schema import Kind
from automl.errors import AutoMLError, ConfigError, ModelFileError, SchemaMismatchError


class Model:
    """A loaded model: scores raw rows after enforcing the schema it was trained on."""

    def __init__(self, pipeline, manifest: ModelManifest | dict, reference: dict | None = None):
        self.pipeline = pipeline
        self.manifest: ModelManifest = as_manifest(manifest)
        self.reference = reference  # the training data's profile (automl.monitor.reference)
        self.last_warnings: list[str] = []

    task = property(lambda self: self.manifest.task)
    target = property(lambda self: self.manifest.target)
    classes = property(lambda self: list(self.manifest.classes or ()))
    schema = property(lambda self: self.manifest.input_schema())

    def prepare(self, df: pd.DataFrame) -> pd.DataFrame:
        """Return ``df`` as the pipeline saw it in training: the schema's columns in its
        order, extra columns dropped, numbers that arrived as text made numbers."""
        df = df if isinstance(df, pd.DataFrame) else pd.DataFrame(df)
        schema, self.last_warnings, cols = self.schema, [], set(df.columns)
        if df.columns.duplicated().any():
            dup = sorted(map(str, df.columns[df.columns.duplicated()].unique()))
            raise SchemaMismatchError(f"the rows have duplicate columns {dup}; rename them.")
        missing = [c.name for c in schema.columns if c.name not in cols and c.kind != Kind.ID]
        if missing:
            extra = [str(c) for c in df.columns if c not in set(schema.names)]
            hints = {m: difflib.get_close_matches(m, extra, n=1) for m in missing}
            hint = "; ".join(f"{m!r} -> {h[0]!r}?" for m, h in hints.items() if h)
            raise SchemaMismatchError(
                f"the rows lack {len(missing)} column(s) the model was trained on: {missing}. "
                "Add them (values may be blank)" + (f"; did you mean: {hint}" if hint else "."))
        out = {}
        for c in schema.columns:
            if c.name not in cols:  # only ID columns, which the model does not use
                out[c.name] = pd.Series(np.nan, index=df.index)
                continue
            s = out[c.name] = df[c.name]
            if c.kind == Kind.NUMERIC:
                out[c.name] = self._numbers(c.name, s)
            elif (c.kind in (Kind.CATEGORICAL, Kind.BOOLEAN) and c.dtype.lower().startswith("int")
                  and pd.api.types.is_float_dtype(s) and (s.dropna() % 1 == 0).all()):
                out[c.name] = s.astype("Int64")  # 3.0 (an int column with a blank) is "3"
        return pd.DataFrame(out, index=df.index)

    def predict_proba(self, df: pd.DataFrame) -> np.ndarray:
        """Class probabilities, one column per class in :attr:`classes` order."""
        if self.task == "regression":
            raise ConfigError("predict_proba needs a classification model; this one is "
                              "regression. Use predict.")
        X = self.prepare(df)
        proba = (self._score("predict_proba", X) if len(X)
                 else np.empty((0, len(self.classes))))
        if proba.shape != (len(X), len(self.classes)) or not np.isfinite(proba).all():
            raise ModelFileError(f"the model gave probabilities of shape {proba.shape} for "
                                 f"{len(X)} rows and {len(self.classes)} classes. {REEXPORT}")
        return proba

    def predict(self, df: pd.DataFrame) -> pd.DataFrame:
        """``prediction`` (original label, or number) and ``proba_<class>`` columns, one row
        per input row, same index."""
        index = df.index if isinstance(df, pd.DataFrame) else None
        if self.task == "regression":
            X = self.prepare(df)
            pred = self._score("predict", X) if len(X) else np.empty(0)
            if pred.shape != (len(X),):
                raise ModelFileError(f"the model gave predictions of shape {pred.shape} for "
                                     f"{len(X)} rows. {REEXPORT}")
            return pd.DataFrame({"prediction": pred}, index=X.index)
        proba = self.predict_proba(df)
        labels = np.asarray(self.classes)
        cols = {"prediction": labels[proba.argmax(axis=1)] if len(proba) else labels[:0]}
        cols.update({f"proba_{c}": proba[:, i] for i, c in enumerate(self.classes)})
        return pd.DataFrame(cols, index=index if index is not None else range(len(proba)))

    def probe(self) -> None:
        """Score one row of blanks, so a model that cannot score fails when it is loaded."""
        row = pd.DataFrame({c.name: [np.nan] for c in self.schema.columns if c.kind != Kind.ID})
        self.predict(row)

    def _score(self, method: str, X: pd.DataFrame) -> np.ndarray:
        """The pipeline's answer as floats; its failures (the rows were checked already)
        say the model is at fault, as ModelFileError."""
        try:
            with _quiet_unknown_categories():
                return np.asarray(getattr(self.pipeline, method)(X), dtype=float)
        except AutoMLError:
            raise
        except Exception as e:
            raise ModelFileError(f"the model failed to score the rows ({type(e).__name__}: "
                                 f"{str(e)[:300]}); its file may be damaged or need other "
                                 f"library versions ({self.manifest.library_versions}). "
                                 + REEXPORT) from e

    def _numbers(self, name: str, s: pd.Series) -> pd.Series:
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_extension_array_dtype(s):
            return s
        num = pd.to_numeric(s, errors="coerce")
        if not pd.api.types.is_numeric_dtype(s):
            blank = s.isna() | s.astype(str).str.strip().eq("")
            bad = int((~blank & num.isna()).sum())
            if bad:
                self.last_warnings.append(f"column {name!r}: {bad} value(s) are not numbers "
                                          "and were treated as missing")
        return num.astype("float64")


@contextmanager
def _quiet_unknown_categories():
    """Unseen categories are expected when scoring new rows (they are encoded as rare), so
    scikit-learn's warning about them is noise here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Found unknown categories",
                                category=UserWarning)
        yield
