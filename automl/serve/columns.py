"""The input columns a served model takes, with the JSON types each accepts.

The manifest's schema (``automl.data.schema.ColumnInfo``) holds each column's name, kind,
dtype and counts of missing and distinct values, but not the categories: those live in the
fitted encoders of the pipeline (``categories_`` of the one-hot and target encoders, after
``CategoryCleaner`` turned values into text). They are read from there, the union over an
ensemble's or a bag's members, without the marker for a missing value.
"""

from __future__ import annotations

from dataclasses import dataclass

from automl.data.schema import Kind

__all__ = ["MAX_LISTED", "ColumnSpec", "column_specs", "pipeline_categories"]

MAX_LISTED = 1000  # categories listed per column in /schema and the OpenAPI document
_MISSING = "__missing__"  # automl.preprocess's marker for a missing category
_SCALARS = ("string", "number", "boolean", "null")


@dataclass(frozen=True)
class ColumnSpec:
    """One input column as the HTTP API sees it."""

    name: str
    kind: str
    dtype: str
    required: bool  # ID columns are not: the model does not use them
    n_missing: int  # in the training rows
    categories: tuple[str, ...] | None  # seen in training (categorical and boolean columns)

    @property
    def numeric(self) -> bool:
        return self.kind == Kind.NUMERIC

    @property
    def json_types(self) -> tuple[str, ...]:
        """A number column takes numbers; the others take any scalar, read as its text."""
        return ("number", "null") if self.numeric else _SCALARS

    def to_json(self) -> dict:
        cats = None if self.categories is None else list(self.categories[:MAX_LISTED])
        return {"name": self.name, "kind": self.kind, "dtype": self.dtype,
                "types": list(self.json_types), "nullable": True, "required": self.required,
                "n_missing_in_training": self.n_missing, "categories": cats,
                "n_categories": None if self.categories is None else len(self.categories)}


def column_specs(model) -> list[ColumnSpec]:
    """The model's input columns, in the order of its schema."""
    cats = pipeline_categories(model.pipeline)
    out = []
    for c in model.schema.columns:
        listed = cats.get(c.name) if c.kind in (Kind.CATEGORICAL, Kind.BOOLEAN) else None
        out.append(ColumnSpec(name=c.name, kind=str(c.kind), dtype=c.dtype,
                              required=c.kind != Kind.ID, n_missing=c.n_missing,
                              categories=tuple(sorted(listed)) if listed is not None else None))
    return out


def pipeline_categories(estimator, _depth: int = 0) -> dict[str, set[str]]:
    """Column -> the categories the fitted encoders of ``estimator`` learned (a walk over
    pipelines, column transformers and ensemble members)."""
    found: dict[str, set[str]] = {}
    if _depth > 8:
        return found
    parts = list(getattr(estimator, "estimators", None) or [])
    parts += [step for _, step in getattr(estimator, "steps", [])]
    for part in parts:
        for name, values in pipeline_categories(part, _depth + 1).items():
            found.setdefault(name, set()).update(values)
    for _, transformer, columns in getattr(estimator, "transformers_", []):
        encoder = getattr(transformer, "steps", [(None, transformer)])[-1][1]
        learned = getattr(encoder, "categories_", None)
        if learned is None or isinstance(columns, str) or len(learned) != len(columns):
            continue
        for name, values in zip(columns, learned, strict=True):
            found.setdefault(str(name), set()).update(
                str(v) for v in values if str(v) != _MISSING)
    return found
