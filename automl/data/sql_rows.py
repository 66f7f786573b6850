"""Rows from a database cursor, shared by both SQL readers (``sql`` for servers, ``sqlite``
for files): at most ``limit`` rows and ``LoadLimits.max_bytes``, counted while fetching, and
turned into a frame whose decimals are floats and dates datetimes."""

from __future__ import annotations

import datetime as dt
import decimal
from itertools import chain
from typing import Any

import pandas as pd

from automl.data.loaders import LoadLimits, check_shape, size_text
from automl.errors import ConfigError, DataLimitError

__all__ = ["fetch", "one_of", "shown", "to_frame"]

_SIZED = frozenset((str, bytes, bytearray, memoryview))
_TEXT_OR_NONE = _SIZED | {type(None)}


def one_of(table: str | None, query: str | None) -> None:
    """Refuse a table name and a query together."""
    if table and query:
        raise ConfigError("Pass either a table name or a query, not both.")


def shown(table: str | None, query: str | None) -> str:
    """`` (table t)`` or `` (query: select ...)`` for ``Table.source``."""
    if table:
        return f" (table {table})"
    return f" (query: {' '.join(query.split())})" if query else ""


def fetch(cursor: Any, columns: list[str], name: str, limit: int, cap: bool,
          limits: LoadLimits) -> pd.DataFrame:
    """At most ``limit`` rows (``limit + 1`` with ``cap``, raising when that many arrive) and
    ``limits.max_bytes`` (text and bytes by length, other values as 8 bytes; raising beyond);
    ``cursor`` has ``fetchmany`` (a DBAPI cursor or an SQLAlchemy result). Chunks shrink as
    rows grow, so one fetch holds a small share of the byte limit."""
    check_shape(name, 0, len(columns), limits)
    rows: list[tuple] = []
    want = limit + 1 if cap else limit
    size, chunk_rows = 0, 1000
    while len(rows) < want:
        chunk = cursor.fetchmany(min(chunk_rows, want - len(rows)))
        if not chunk:
            break
        chunk = [tuple(r) for r in chunk]
        size += _size(chunk)
        if size > limits.max_bytes:
            raise DataLimitError(
                f"{name} returns more than {size_text(limits.max_bytes)} (LoadLimits.max_bytes) "
                f"in its first {len(rows) + len(chunk):,} rows. Select fewer or narrower "
                "columns, or fewer rows (WHERE, LIMIT), or raise the limit with "
                "load_table(..., limits=LoadLimits(max_bytes=...)).")
        rows.extend(chunk)
        per_row = max(1, size // len(rows))
        chunk_rows = max(1, min(50_000, (limits.max_bytes // 16) // per_row))
    if cap and len(rows) > limit:
        check_shape(name, limit + 1, len(columns), LoadLimits(max_rows=limit,
                                                               max_columns=limits.max_columns))
    return to_frame(rows, columns)


def _size(chunk: list[tuple]) -> int:
    """Bytes a chunk of rows holds, roughly: text and bytes by length, the rest as 8 (column
    by column through slices, so that a column of numbers costs one pass of ``type``)."""
    values = list(chain.from_iterable(chunk))
    kinds = list(map(type, values))
    if not set(kinds) & _SIZED:  # numbers, dates, missing values
        return 8 * len(values)
    total, width = 0, len(chunk[0])
    for i in range(width):
        column, column_kinds = values[i::width], set(kinds[i::width])
        if not column_kinds & _SIZED:
            total += 8 * len(column)
        elif column_kinds <= _TEXT_OR_NONE:
            total += sum(map(len, filter(None, column)))
        else:
            total += sum(len(v) if type(v) in _SIZED else 8 for v in column)
    return total


def to_frame(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    """A frame whose Decimal columns are floats and date columns are datetimes."""
    frame = pd.DataFrame.from_records(rows, columns=range(len(columns)), nrows=len(rows))
    for i in frame.columns:
        col = frame[i]
        if col.dtype != object:
            continue
        seen = col.dropna()
        kinds = {type(v) for v in seen[:1000]}
        if kinds and kinds <= {decimal.Decimal, int, float}:
            frame[i] = pd.to_numeric(col.map(lambda v: None if v is None else float(v)))
        elif kinds and kinds <= {dt.date, dt.datetime}:
            frame[i] = pd.to_datetime(col, errors="coerce")
        elif kinds and kinds <= {bytes, memoryview, bytearray}:
            frame[i] = col.map(lambda v: None if v is None else bytes(v).hex())
    frame.columns = columns
    return frame

