"""Column kinds inferred from a table, and the schema saved with every model."""

from __future__ import annotations

import re
import warnings
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
    """Infer each column's kind from its values.

    Rules, in order: bool dtype or true/false-like text -> BOOLEAN; datetime dtype, or text
    that mostly parses as dates -> DATETIME; integers that are all distinct and monotonic or
    named like an id -> ID; other numbers -> NUMERIC; short text distinct in (nearly) every
    row -> ID; long free text -> TEXT; other text -> CATEGORICAL. Date and text checks look at
    a fixed sample so wide, long frames stay fast.
    """
    columns = enumerate(df.columns)  # by position, so duplicate names cannot trip it up
    return Schema(tuple(_column_info(str(name), df.iloc[:, i]) for i, name in columns))


_BOOL_PAIRS = ({"true", "false"}, {"yes", "no"}, {"y", "n"}, {"t", "f"})
_ID_NAMES = {"id", "key", "uuid", "index", "rownames", "unnamed: 0"}
_CAMEL_ID = re.compile(r"[a-z0-9](Id|ID)$")
_NUMBER_LIKE = re.compile(r"^[+-]?\d+([.,]\d+)?$")
_DATE_LIKE = re.compile(
    r"\d{1,4}[-/.]\d{1,2}|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b",
    re.IGNORECASE)
_SAMPLE = 500
_MIXED_SAMPLE = 50
_MIN_ID_ROWS = 20


def _column_info(name: str, s: pd.Series) -> ColumnInfo:
    present = s.dropna()
    n_unique = len(present.unique())  # several times faster than nunique() on str columns
    return ColumnInfo(name=name, kind=_kind(name, s, present, n_unique), dtype=str(s.dtype),
                      n_missing=int(len(s) - len(present)), n_unique=n_unique)


def _kind(name: str, s: pd.Series, present: pd.Series, n_unique: int) -> Kind:
    dtype = s.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return Kind.BOOLEAN
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return Kind.DATETIME
    if pd.api.types.is_numeric_dtype(dtype):
        return Kind.ID if _is_integer_id(name, s, present, n_unique) else Kind.NUMERIC
    if present.empty:
        return Kind.CATEGORICAL
    if n_unique <= 8 and _is_boolean_text(present):  # 8: case variants such as Yes/YES
        return Kind.BOOLEAN
    sample = present.sample(_SAMPLE, random_state=0) if len(present) > _SAMPLE else present
    text = sample.astype(str)
    if _looks_like_dates(text):
        return Kind.DATETIME
    unique_ratio = n_unique / len(present)
    spaces = text.str.count(" ").mean()
    if (len(present) >= _MIN_ID_ROWS and unique_ratio >= 0.95
            and text.str.len().mean() < 40 and spaces < 2):
        return Kind.ID
    if spaces + 1 >= 4 and unique_ratio > 0.5:
        return Kind.TEXT
    return Kind.CATEGORICAL


def _is_integer_id(name: str, s: pd.Series, present: pd.Series, n_unique: int) -> bool:
    """Row keys stored as integers: all distinct, and ordered or named like a key."""
    if not pd.api.types.is_integer_dtype(s.dtype) or n_unique != len(present) or n_unique < 2:
        return False
    lower = name.strip().lower()
    if lower in _ID_NAMES or lower.endswith("_id") or _CAMEL_ID.search(name.strip()):
        return True
    return len(present) >= _MIN_ID_ROWS and (
        present.is_monotonic_increasing or present.is_monotonic_decreasing)


def _is_boolean_text(present: pd.Series) -> bool:
    values = {str(v).strip().lower() for v in present.unique()}
    return any(values <= pair for pair in _BOOL_PAIRS)


def _looks_like_dates(text: pd.Series) -> bool:
    """At least 90% parse as dates; plain numbers, short codes and words never count.

    A format inferred from the first value is tried first (vectorised); the slow per-value
    ``format="mixed"`` parse only runs on a small sample that already looks like dates.
    """
    stripped = text.str.strip()
    candidate = (stripped.str.len() >= 6) & stripped.str.contains(_DATE_LIKE) & ~(
        stripped.str.fullmatch(_NUMBER_LIKE))
    if candidate.mean() < 0.9:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for values, fmt in ((stripped, None), (stripped.iloc[:_MIXED_SAMPLE], "mixed")):
            parsed = pd.to_datetime(values, errors="coerce", format=fmt)
            if parsed.notna().sum() >= 0.9 * len(values):
                return True
    return False
