"""SQLite files and ``sqlite:///`` URLs, read safely: a private read-only copy, ``PRAGMA
quick_check`` first, and an authorizer that allows reading only (no ATTACH, no writes, no
pragmas that change anything, no extension loading) plus a deadline on every statement.
A URL opens a file on this machine only where ``LoadLimits.allow_local_files`` says so."""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from automl.data.loaders import Loaded, LoadLimits, Source, check_bytes, register_loader
from automl.data.sql_rows import fetch, one_of, shown
from automl.data.urls import mask_url
from automl.errors import ConfigError, DataError, DataLimitError, UnsupportedFormatError

__all__ = ["list_tables", "load_file", "load_url", "read", "read_source"]

MAGIC = b"SQLite format 3\x00"
_READS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, getattr(sqlite3, "SQLITE_RECURSIVE", 33)}
_READ_PRAGMAS = {"table_info", "table_xinfo", "quick_check"}


def read_source(source: Any, allow_local_files: bool, limits: LoadLimits) -> tuple[str, bytes]:
    """(name to show, bytes) from a path, ``sqlite:///path`` URL, bytes or file object."""
    if isinstance(source, bytes | bytearray):
        check_bytes("the SQLite file", len(source), limits)
        return "database.sqlite", bytes(source)
    if hasattr(source, "read"):
        name = Path(str(getattr(source, "name", "database.sqlite"))).name
        if hasattr(source, "seek"):
            source.seek(0)
        data = source.read(limits.max_bytes + 1)
        check_bytes(name, len(data), limits, at_least=True)
        return name, data
    if not isinstance(source, str | os.PathLike):
        raise DataError(f"Cannot read a {type(source).__name__} as an SQLite database; pass "
                        "a path, a sqlite:/// URL, bytes or an uploaded file.")
    text = os.fspath(source)
    if isinstance(text, str) and text.lower().startswith("sqlite"):
        rest = text.partition("://")[2]
        path = rest[1:] if rest.startswith("/") else rest
        path = path.split("?", 1)[0]
        if not allow_local_files:
            raise DataError(f"{mask_url(text)} opens a file on this machine, which is not "
                            "allowed here; upload the SQLite file instead.")
        if not path or path == ":memory:":
            raise DataError(f"{text} names no database file; use sqlite:///path/to/file.db.")
        shown_name = text
    else:
        if not allow_local_files:
            raise DataError("Opening files on this machine is not allowed here; upload the "
                            "SQLite file instead.")
        path, shown_name = text, Path(text).name
    file = Path(path)
    if not file.is_file():
        raise DataError(f"No SQLite file at {file}; check the path and try again.")
    check_bytes(shown_name, file.stat().st_size, limits)
    return shown_name, file.read_bytes()


def list_tables(data: bytes, name: str, timeout: float = 10.0) -> pd.DataFrame:
    """``table, rows, n_columns, columns`` for every table and view in the file."""
    out = []
    with _open(data, name, timeout) as conn:
        for table in _tables(conn):
            cols = _run(conn, f"PRAGMA table_info({_quote(table)})", timeout).fetchall()
            try:
                rows = _run(conn, f"SELECT count(*) FROM {_quote(table)}", timeout).fetchone()[0]
            except sqlite3.Error:
                rows = None
            out.append({"table": table, "rows": rows, "n_columns": len(cols),
                        "columns": ", ".join(f"{c[1]} {c[2]}".strip() for c in cols)})
    return pd.DataFrame(out, columns=["table", "rows", "n_columns", "columns"])


def read(data: bytes, name: str, table: str | None, query: str | None, limit: int,
         timeout: float, cap: bool, limits: LoadLimits | None = None) -> pd.DataFrame:
    """Rows of a table or a SELECT; with ``cap``, more than ``limit`` rows raise; more than
    ``limits.max_bytes`` raise either way."""
    one_of(table, query)
    with _open(data, name, timeout) as conn:
        tables = _tables(conn)
        if not table and not query:
            if len(tables) != 1:
                raise ConfigError(f"{name} has {len(tables)} tables ({', '.join(tables[:20])})"
                                  "; name one (--table NAME) or write a query (--query SQL).")
            table = tables[0]
        if table:
            if table not in tables:
                raise DataError(f"{name} has no table {table!r}; tables: "
                                f"{', '.join(tables[:20]) or 'none'}.")
            sql = f"SELECT * FROM {_quote(table)} LIMIT {limit + 1 if cap else limit}"
        else:
            from automl.data.sql_check import check_select  # the parser, on first use

            sql = check_select(query or "", "sqlite")
        try:
            cursor = _run(conn, sql, timeout)
            columns = [d[0] for d in cursor.description or ()]
            return fetch(cursor, columns, name + shown(table, query), limit, cap,
                         limits or LoadLimits())
        except sqlite3.Error as exc:
            raise _explain(exc, name, timeout) from None


@contextmanager
def _open(data: bytes, name: str, timeout: float) -> Iterator[sqlite3.Connection]:
    if not data.startswith(MAGIC):
        raise UnsupportedFormatError(f"{name} is not an SQLite database (it does not start "
                                     "with 'SQLite format 3'); choose a .db/.sqlite file.")
    copy = bytearray(data)
    if copy[18:20] == b"\x02\x02":  # WAL mode needs a writable -shm file; read as legacy
        copy[18:20] = b"\x01\x01"
    with tempfile.TemporaryDirectory(prefix="automl-sqlite-") as tmp:
        path = Path(tmp) / "copy.sqlite"
        path.write_bytes(bytes(copy))
        path.chmod(0o400)
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, isolation_level=None)
        try:
            if hasattr(conn, "enable_load_extension"):
                conn.enable_load_extension(False)
            try:
                problems = [r[0] for r in _run(conn, "PRAGMA quick_check", timeout)]
            except sqlite3.Error as exc:
                problems = [str(exc)]
            if problems != ["ok"]:
                raise DataError(f"{name} is damaged (PRAGMA quick_check: "
                                f"{'; '.join(map(str, problems[:3]))}). Open it in the program "
                                "that wrote it and export it again, or export the table to CSV.")
            conn.set_authorizer(_authorize)
            yield conn
        finally:
            conn.close()


def _authorize(action: int, arg1: str | None, arg2: str | None, db: str | None,
               trigger: str | None) -> int:
    if action in _READS:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() != "load_extension":
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() in _READ_PRAGMAS:
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def _run(conn: sqlite3.Connection, sql: str, timeout: float) -> sqlite3.Cursor:
    deadline = time.monotonic() + timeout
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 2000)
    return conn.execute(sql)


def _tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                        "AND name NOT LIKE 'sqlite_%' ORDER BY name").fetchall()
    return [r[0] for r in rows]


def _quote(name: str) -> str:
    from sqlalchemy.dialects import sqlite as dialect

    return dialect.dialect().identifier_preparer.quote_identifier(name)


def _explain(exc: sqlite3.Error, name: str, timeout: float) -> DataError:
    text = str(exc)
    if "interrupted" in text:
        return DataLimitError(f"The query on {name} ran longer than the limit of {timeout:g} s "
                              "and was stopped. Narrow it, or raise LoadLimits.query_timeout.")
    if "not authorized" in text or "readonly" in text or "read-only" in text:
        return DataError(f"{name} is opened read-only: only SELECT queries that read its own "
                         f"tables can run (no ATTACH, writes or settings) ({text}).")
    if "one statement" in text:
        return DataError("The query holds more than one statement; send a single SELECT.")
    return DataError(f"The query on {name} failed: {text}")


def load_file(src: Source, limits: LoadLimits) -> Loaded:
    """The loader for uploaded or local SQLite files (.db, .sqlite, .sqlite3)."""
    return Loaded(read(src.data, src.name, src.table, src.query, limits.max_rows,
                       limits.query_timeout, cap=True, limits=limits))


def load_url(src: Source, limits: LoadLimits) -> Loaded:
    """The loader for ``sqlite:///path`` URLs (``LoadLimits.allow_local_files`` permitting)."""
    name, data = read_source(src.url or "", limits.allow_local_files, limits)
    return Loaded(read(data, name, src.table, src.query, limits.max_rows,
                       limits.query_timeout, cap=True, limits=limits))


load_file.accepts_sql = True  # type: ignore[attr-defined]
load_url.accepts_sql = True  # type: ignore[attr-defined]
register_loader((".db", ".sqlite", ".sqlite3"), load_file)
register_loader("sqlite://", load_url)
