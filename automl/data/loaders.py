"""Read a table from a file, an upload or (later) a database: the one gate for input.

``load_table`` resolves the source to bytes or a URL, picks a loader from a small registry
(file suffixes and URL schemes; ``.gz`` and ``.zip`` unpack to the file inside, see
``archives``), then runs the same checks on every frame: limits, empty
tables, column names, numbers stored as text, infinities. Each problem raises an
``automl.errors`` class whose message says what to do. New sources (SQLite files, SQLAlchemy
URLs) plug in with ``register_loader`` without changing ``load_table``.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from automl.data import checks
from automl.data.schema import Schema, infer_schema
from automl.errors import (
    ConfigError,
    DataError,
    DataLimitError,
    EmptyDataError,
    UnsupportedFormatError,
)

__all__ = ["LoadLimits", "Loaded", "Source", "Table", "load_table", "register_loader"]

MiB = 1024 * 1024
XLSX_EXPANSION = 4  # an .xlsx workbook's XML against the same table as CSV: ~3-4x


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
    """Register ``fn`` for file suffixes (``".csv"``) or URL schemes (``"postgresql://"``)."""
    for key in [keys] if isinstance(keys, str) else list(keys):
        key = key.lower()
        if not (key.startswith(".") or key.endswith("://")):
            raise ConfigError(f"loader key {key!r} must be a suffix like '.csv' or a URL "
                              "scheme like 'sqlite://'")
        _LOADERS[key] = fn


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
    loader = _find_loader(src)
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


def _resolve(source: Any, name: str | None, limits: LoadLimits) -> Source:
    if isinstance(source, str) and "://" in source:
        return Source(name=_sql.mask_url(source), url=source)  # no password shown
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise DataError(f"No file at {path}; check the path and try again.")
        shown = name or path.name
        _check_bytes(shown, path.stat().st_size, limits)
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
            _check_bytes(Path(str(shown)).name, size, limits)
        data = source.read(limits.max_bytes + 1)
        if isinstance(data, str):
            data = data.encode("utf-8")
        _check_bytes(Path(str(shown)).name, len(data), limits, at_least=True)
        return Source(name=Path(str(shown)).name, data=data)
    raise DataError(f"Cannot load a {type(source).__name__}; pass a file path, a URL or a "
                    "binary file object.")


def _check_bytes(name: str, size: int, limits: LoadLimits, at_least: bool = False) -> None:
    if size > limits.max_bytes:
        got = f"more than {size_text(limits.max_bytes)}" if at_least else size_text(size)
        raise DataLimitError(
            f"{name} is {got}, over the limit of {size_text(limits.max_bytes)} "
            "(LoadLimits.max_bytes). Load a sample of the data, or raise the limit with "
            "load_table(..., limits=LoadLimits(max_bytes=...)).")


def _check_unpacked(name: str, size: int, cap: int, *, at_least: bool = False) -> None:
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


def size_text(n: int) -> str:
    """``1.5 MiB``, or ``900 bytes`` where MiB would round to nothing."""
    return f"{n / MiB:.1f} MiB" if n >= MiB // 10 else f"{n:,} bytes"


def _check_shape(name: str, rows: int, cols: int, limits: LoadLimits) -> None:
    for what, got, limit, attr in (("rows", rows, limits.max_rows, "max_rows"),
                                   ("columns", cols, limits.max_columns, "max_columns")):
        if got > limit:
            shown = f"more than {limit:,}" if got == limit + 1 else f"{got:,}"  # counted so far
            raise DataLimitError(
                f"{name} has {shown} {what}, over the limit of {limit:,} (LoadLimits.{attr}). "
                f"Load a sample of the data, or raise the limit with "
                f"load_table(..., limits=LoadLimits({attr}=...)).")


def _find_loader(src: Source) -> Loader:
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


def _finish(loaded: Loaded, name: str, limits: LoadLimits,
            coerce: bool) -> tuple[pd.DataFrame, list[str]]:
    """The checks every source gets, whatever its format."""
    frame = loaded.frame
    if frame.shape[1] == 0:
        raise EmptyDataError(f"{name} is empty; choose a file with a header row and data rows.")
    _check_shape(name, len(frame), frame.shape[1], limits)
    names, notes = checks.clean_names(list(frame.columns))
    frame.columns = names
    if len(frame) == 0:
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        raise EmptyDataError(f"{name} has column names ({shown}) but no rows; add data rows "
                             "below the header.")
    frame = frame.reset_index(drop=True)
    checks.normalise_text(frame)
    checks.parse_iso_dates(frame)
    notes += checks.numbers_from_text(frame, name=name, decimal=loaded.decimal,
                                      thousands=loaded.thousands, coerce=coerce)
    notes += checks.replace_infinities(frame)
    return frame, notes


# --- formats -------------------------------------------------------------------------------

_NA = {"na_values": list(checks.MISSING_TOKENS), "keep_default_na": False}
_LEADING_BLANK_LINES = re.compile(rb"^(?:[ \t\r]*\n)+")
_SAMPLE = 65536  # characters the delimiter and decimal sniffers look at


def _load_csv(src: Source, limits: LoadLimits) -> Loaded:
    data, encoding = checks.decode_to_utf8(src.data)
    first_line = 1  # line numbers in messages count the blank lines dropped here
    if blank := _LEADING_BLANK_LINES.match(data):  # the readers disagree on the header's line
        first_line += blank.group().count(b"\n")
        data = data[blank.end():]
    if not data.strip():
        raise EmptyDataError(f"{src.name} is empty; choose a file with a header row and data "
                             "rows.")
    text = data.decode("utf-8", "replace")
    lines = [ln for ln in checks.split_lines(text[:_SAMPLE]) if ln.strip()]
    lines = lines[:200] if len(lines) < 2 or len(text) <= _SAMPLE else lines[:-1][:200]
    delim = "\t" if src.suffix == ".tsv" else checks.sniff_delimiter(lines)  # on 64 KiB
    # the column limit before any work per column: counting stops one field past it
    _check_shape(src.name, 0, checks.count_fields(text, delim, limits.max_columns), limits)
    header, end = checks.read_header(text, delim)
    names, notes = checks.clean_names(header)
    if encoding not in ("utf-8", "utf-8-sig", "utf-16", "utf-32"):
        notes.append(f"{src.name} is not UTF-8; it was read as {encoding}. Check that accented "
                     "letters look right, or save the file as UTF-8.")
    decimal, thousands = checks.sniff_decimal(lines, delim)
    count = partial(checks.check_fields, text, delim, len(names), name=src.name,
                    first_line=first_line, max_records=limits.max_rows)
    body = data[len(text[:end].encode()):]  # the readers' idea of the header may differ
    frame = _read_csv(body, src.name, names, delim, decimal,
                      thousands if decimal == "," else None, limits.max_rows, count)
    return Loaded(frame, notes, decimal, thousands)


def _read_csv(data: bytes, name: str, names: list[str], delim: str, decimal: str,
              thousands: str | None, max_rows: int, count: Callable[[], int]) -> pd.DataFrame:
    """pyarrow's multithreaded reader when the options allow, else the C reader.

    Neither is trusted with the shape of rows: pyarrow names no line and reads an unclosed
    final quote as one value; the C reader pads short rows. So ``count`` (``check_fields``)
    runs when pyarrow fails or quotes do not pair up, and before the C reader, which must agree.
    """
    if not data.strip():
        count()  # only the header: was a quote in it left open?
        return pd.DataFrame(columns=names)
    opts = {"sep": delim, "header": None, **_NA}
    if decimal == ".":
        try:  # without names, so that rows wider than the header fail instead of becoming an index
            frame = pd.read_csv(io.BytesIO(data), engine="pyarrow", **opts)
        except Exception:  # the C engine below re-reads the file and explains what is wrong
            frame = None
        if (frame is not None and frame.shape[1] == len(names)
                and (data.count(b'"') % 2 == 0 or count() == len(frame))):
            frame.columns = names
            return frame
    records = count()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(io.BytesIO(data), engine="c", decimal=decimal, index_col=False,
                                thousands=thousands, nrows=max_rows + 1, names=names, **opts)
    except Exception as e:  # ragged rows were caught above; this is rarer damage
        m = re.search(r"row (\d+)", str(e))
        where = f" near data row {int(m[1])}" if m else ""
        raise DataError(f"{name} could not be read as CSV{where} ({e}). Check for an "
                        "unclosed quote there, or save the file again from a spreadsheet.") from e
    if len(frame) != records:
        raise DataError(f"{name}: the CSV reader found {len(frame)} rows where there are "
                        f"{records} lines of data, so quotes or line breaks inside values are "
                        f"ambiguous. Save the file again from a spreadsheet, with every value "
                        f"that holds {delim!r}, a quote or a line break in quotes.")
    return frame


register_loader((".csv", ".tsv", ".txt"), _load_csv)

# Other formats, archives and databases register themselves; imported last, as they use the
# above.
from automl.data import archives as _archives  # noqa: E402, F401
from automl.data import excel as _excel  # noqa: E402, F401
from automl.data import parquet as _parquet  # noqa: E402, F401
from automl.data import sql as _sql  # noqa: E402
