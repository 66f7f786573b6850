"""Column kinds inferred from a table, and the schema saved with every model."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum

import pandas as pd

__all__ = ["ColumnInfo", "Kind", "Schema", "infer_schema"]


class Kind(StrEnum):
    """How a column is treated by preprocessing."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    TEXT = "text"
    ID = "id"  # unique per row (keys, names): dropped before learning


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    kind: Kind
    dtype: str  # pandas dtype as loaded, e.g. "float64", "str", "datetime64[ns]"
    n_missing: int
    n_unique: int


@dataclass(frozen=True)
class Schema:
    columns: tuple[ColumnInfo, ...]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def names_of(self, *kinds: Kind) -> list[str]:
        return [c.name for c in self.columns if c.kind in kinds]

    def __getitem__(self, name: str) -> ColumnInfo:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def without(self, *names: str) -> Schema:
        return Schema(tuple(c for c in self.columns if c.name not in names))

    def to_dict(self) -> list[dict]:
        return [{**asdict(c), "kind": c.kind.value} for c in self.columns]

    @classmethod
    def from_dict(cls, rows: list[dict]) -> Schema:
        return cls(tuple(ColumnInfo(**{**r, "kind": Kind(r["kind"])}) for r in rows))


def infer_schema(df: pd.DataFrame) -> Schema:
    """Infer each column's kind from its values (see module docs for the rules)."""
    raise NotImplementedError  # implemented in the data-loading work
