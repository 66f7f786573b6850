"""The one gate for input: sources, limits, the loader registry and ``load_table``.

``load_table`` resolves the source to bytes or a URL, picks a loader from a small registry
(file suffixes and URL schemes), then runs the same checks on every frame: limits, empty
tables, column names, numbers stored as text, infinities. Each problem raises an
``automl.errors`` class whose message says what to do.

This module is the leaf of ``automl.data``: it imports no format. Each format lives in its
own module (``text`` for CSV/TSV, ``archives``, ``excel``, ``parquet``, ``sqlite``, ``sql``)
that imports this one, uses the shared helpers below (``check_bytes``, ``check_shape``,
``check_unpacked``, ``size_text``, ``find_loader``) and calls ``register_loader`` at import;
the package ``automl.data`` imports them all, so importing anything from ``automl.data``
registers every format. New sources plug in the same way without changing ``load_table``.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from automl.data.checks import (
    MISSING_TOKENS,
    clean_names,
    normalise_text,
    numbers_from_text,
    parse_iso_dates,
    replace_infinities,
)
from automl.data.schema import Schema, infer_schema
from automl.data.urls import mask_url
from automl.errors import (
    ConfigError,
    DataError,
    DataLimitError,
    EmptyDataError,
    UnsupportedFormatError,
)

__all__ = [
    "NA_OPTIONS",
    "XLSX_EXPANSION",
    "LoadLimits",
    "Loaded",
    "Loader",
    "Source",
    "Table",
    "check_bytes",
    "check_shape",
    "check_unpacked",
    "find_loader",
    "frame_hash",
    "load_table",
    "register_loader",
    "size_text",
]

MiB = 1024 * 1024
XLSX_EXPANSION = 4  # an .xlsx workbook's XML against the same table as CSV: ~3-4x
NA_OPTIONS = {"na_values": list(MISSING_TOKENS), "keep_default_na": False}  # pandas


@dataclass(frozen=True)
class LoadLimits:
    """Largest input accepted; beyond these a browser session or a laptop struggles."""

    max_bytes: int = 200 * MiB
    max_rows: int = 2_000_000
    max_columns: int = 2_000
    query_timeout: float = 60.0  # seconds a database query may run
    allow_local_files: bool = True  # sqlite:/// URLs may open files here (the app says no)
    privileged: str = "warn"  # a database account that can read the server's files:
    # "refuse", "warn" (a note in Table.warnings) or "allow"; the app refuses (sql_roles)


@dataclass
class Table:
    """A loaded, checked table: what every later step starts from."""

    frame: pd.DataFrame
    schema: Schema
    source: str  # the file name as the user gave it, or a URL without its password
    warnings: list[str]
    data_hash: str  # sha256 of names, dtypes and values: equal for equal content


@dataclass(frozen=True)
class Source:
    """What a loader receives: a display name, and the bytes (files) or the URL (databases)."""

    name: str
    data: bytes = b""
    url: str | None = None
    table: str | None = None  # databases: the table to read, or
    query: str | None = None  # a single SELECT
    format: str | None = None  # a suffix that overrides the name's (the file inside a .gz)

    @property
    def suffix(self) -> str:
        """The suffix that picks the loader: ``format``, else the name's."""
        return self.format or Path(self.name).suffix.lower()

    @property
    def shown(self) -> str:
        """The name plus the table or query: what ``Table.source`` records."""
        if self.table:
            return f"{self.name} (table {self.table})"
        return f"{self.name} (query: {' '.join(self.query.split())})" if self.query else self.name


@dataclass
class Loaded:
    """What a loader returns: the raw frame, notes for the user, and how numbers were written."""

    frame: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    decimal: str = "."
    thousands: str | None = None


Loader = Callable[[Source, LoadLimits], Loaded]
_LOADERS: dict[str, Loader] = {}


def register_loader(keys: str | Iterable[str], fn: Loader) -> None:
    """Register ``fn`` for file suffixes (``".csv"``) or URL schemes (``"postgresql://"``).

    A loader that reads a table name or a query from its ``Source`` (databases) says so with
    the attribute ``accepts_sql = True``; ``load_table`` refuses ``table=``/``query=`` for others.
    """
    for key in [keys] if isinstance(keys, str) else list(keys):
        key = key.lower()
        if not (key.startswith(".") or key.endswith("://")):
            raise ConfigError(f"loader key {key!r} must be a suffix like '.csv' or a URL "
                              "scheme like 'sqlite://'")
        _LOADERS[key] = fn


def find_loader(src: Source) -> Loader:
    """The loader registered for the source's URL scheme (``sqlite+pysqlite://`` falls back
    to ``sqlite://``) or, for files, its suffix; ``UnsupportedFormatError`` when none is."""
    if src.url is not None:
        scheme = src.url.split("://", 1)[0].lower()
        for key in (f"{scheme}://", f"{scheme.split('+')[0]}://"):
            if key in _LOADERS:
                return _LOADERS[key]
        raise UnsupportedFormatError(
            f"Databases of type '{scheme}://' are not supported; use a postgresql://, "
            "mysql://, mariadb:// or sqlite:/// URL, or export the table to CSV or Parquet.")
    suffix = src.suffix
    if suffix in _LOADERS:
        return _LOADERS[suffix]
    allowed = ", ".join(sorted(k for k in _LOADERS if k.startswith(".")))
    what = f"files ending in '{suffix}'" if suffix else "files without a suffix"
    raise UnsupportedFormatError(f"Cannot read {src.name}: {what} are not supported. Save it "
                                 f"as one of: {allowed}.")


def load_table(source: str | os.PathLike[str] | Any, *, limits: LoadLimits | None = None,
               coerce_numbers: bool = False, name: str | None = None,
               table: str | None = None, query: str | None = None) -> Table:
    """Load and check a table from a path, a URL, or a binary file-like object.

    Args:
        source: a path, a URL (``scheme://...``), or an object with ``.read()`` returning
            bytes (e.g. Streamlit's ``UploadedFile``).
        limits: size limits; ``LoadLimits()`` when omitted.
        coerce_numbers: treat the few non-numbers in a mostly numeric column as missing
            instead of raising ``NonNumericValuesError``.
        name: file name to report and to pick the format by (needed for unnamed file-likes).
        table, query: for SQLite files and database URLs, the table to read or one SELECT.
    """
    limits = limits or LoadLimits()
    src = replace(_resolve(source, name, limits), table=table, query=query)
    loader = find_loader(src)
    if (table or query) and not getattr(loader, "accepts_sql", False):
        raise ConfigError(f"A table name or a query applies to SQLite files and database "
                          f"URLs, not to {src.name}.")
    loaded = loader(src, limits)
    frame, notes = _finish(loaded, src.shown, limits, coerce_numbers)
    return Table(frame=frame, schema=infer_schema(frame), source=src.shown,
                 warnings=loaded.warnings + notes, data_hash=frame_hash(frame))


def frame_hash(frame: pd.DataFrame) -> str:
    """sha256 over column names, dtypes and values (not the index): stable across reloads."""
    h = hashlib.sha256()
    h.update("\x1f".join(f"{c}\x1e{t}" for c, t in frame.dtypes.items()).encode())
    h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return h.hexdigest()


# --- limits, shared by every format ---------------------------------------------------------

def check_bytes(name: str, size: int, limits: LoadLimits, at_least: bool = False) -> None:
    """Refuse a file over ``limits.max_bytes``; ``at_least``: reading stopped at ``size``."""
    if size > limits.max_bytes:
        got = f"more than {size_text(limits.max_bytes)}" if at_least else size_text(size)
        raise DataLimitError(
            f"{name} is {got}, over the limit of {size_text(limits.max_bytes)} "
            "(LoadLimits.max_bytes). Load a sample of the data, or raise the limit with "
            "load_table(..., limits=LoadLimits(max_bytes=...)).")


def check_unpacked(name: str, size: int, cap: int, *, at_least: bool = False) -> None:
    """Compressed formats (.xlsx, Parquet) are capped on what they unpack to, before it is
    unpacked: a small file must not fill the memory. ``at_least``: counting stopped at
    ``size``, past the cap."""
    if size > cap:
        got = f"more than {size_text(cap)}" if at_least else size_text(size)
        raise DataLimitError(
            f"{name} unpacks to {got}, over the limit of {size_text(cap)} "
            "(LoadLimits.max_bytes counts unpacked bytes; an .xlsx workbook's XML may take "
            f"{XLSX_EXPANSION}x that). Load a sample of the data, or raise the limit with "
            "load_table(..., limits=LoadLimits(max_bytes=...)).")


def check_shape(name: str, rows: int, cols: int, limits: LoadLimits) -> None:
    """Refuse more rows or columns than the limits allow (``limit + 1``: counted so far)."""
    for what, got, limit, attr in (("rows", rows, limits.max_rows, "max_rows"),
                                   ("columns", cols, limits.max_columns, "max_columns")):
        if got > limit:
            shown = f"more than {limit:,}" if got == limit + 1 else f"{got:,}"  # counted so far
            raise DataLimitError(
                f"{name} has {shown} {what}, over the limit of {limit:,} (LoadLimits.{attr}). "
                f"Load a sample of the data, or raise the limit with "
                f"load_table(..., limits=LoadLimits({attr}=...)).")


def size_text(n: int) -> str:
    """``1.5 MiB``, or ``900 bytes`` where MiB would round to nothing."""
    return f"{n / MiB:.1f} MiB" if n >= MiB // 10 else f"{n:,} bytes"


# --- the steps of load_table ----------------------------------------------------------------

def _resolve(source: Any, name: str | None, limits: LoadLimits) -> Source:
    if isinstance(source, str) and "://" in source:
        return Source(name=mask_url(source), url=source)  # no password shown
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise DataError(f"No file at {path}; check the path and try again.")
        shown = name or path.name
        check_bytes(shown, path.stat().st_size, limits)
        return Source(name=shown, data=path.read_bytes())
    if hasattr(source, "read"):
        shown = name or getattr(source, "name", None)
        if not shown:
            raise UnsupportedFormatError("Cannot tell the format of an unnamed file object; "
                                         "pass name='data.csv' (or .parquet, .xlsx).")
        size = getattr(source, "size", None)  # Streamlit's UploadedFile knows its size
        if getattr(source, "seekable", lambda: hasattr(source, "seek"))():
            if not isinstance(size, int):
                size = source.seek(0, io.SEEK_END)
            source.seek(0)
        if isinstance(size, int):  # refuse before reading anything
            check_bytes(Path(str(shown)).name, size, limits)
        data = source.read(limits.max_bytes + 1)
        if isinstance(data, str):
            data = data.encode("utf-8")
        check_bytes(Path(str(shown)).name, len(data), limits, at_least=True)
        return Source(name=Path(str(shown)).name, data=data)
    raise DataError(f"Cannot load a {type(source).__name__}; pass a file path, a URL or a "
                    "binary file object.")


def _finish(loaded: Loaded, name: str, limits: LoadLimits,
            coerce: bool) -> tuple[pd.DataFrame, list[str]]:
    """The checks every source gets, whatever its format."""
    frame = loaded.frame
    if frame.shape[1] == 0:
        raise EmptyDataError(f"{name} is empty; choose a file with a header row and data rows.")
    check_shape(name, len(frame), frame.shape[1], limits)
    names, notes = clean_names(list(frame.columns))
    frame.columns = names
    if len(frame) == 0:
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        raise EmptyDataError(f"{name} has column names ({shown}) but no rows; add data rows "
                             "below the header.")
    frame = frame.reset_index(drop=True)
    normalise_text(frame)
    parse_iso_dates(frame)
    notes += numbers_from_text(frame, name=name, decimal=loaded.decimal,
                                      thousands=loaded.thousands, coerce=coerce)
    notes += replace_infinities(frame)
    return frame, notes
