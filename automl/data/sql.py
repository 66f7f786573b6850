"""Read tables from databases: server URLs (PostgreSQL, MySQL/MariaDB) and SQLite files.

Reading is the only thing allowed (DESIGN rule 8). For servers: one SELECT/WITH statement,
checked for a clear message, then run in a READ ONLY transaction with a statement timeout and
a row cap (at most ``LoadLimits.max_rows + 1`` rows are fetched). The check is a real guard
too: MySQL/MariaDB commit DDL such as ``DROP TABLE`` implicitly, even inside a read-only
transaction, and PostgreSQL runs ``select 1; commit; drop ...`` as three statements. Use a
database account that may only read; this module cannot stop a superuser's ``pg_read_file``.
Passwords are masked in every name and message (``mask_url``). SQLite files are read by
``automl.data.sqlite`` from a read-only copy.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote

import pandas as pd

from automl.data.loaders import Loaded, LoadLimits, Source, _check_shape, register_loader
from automl.errors import ConfigError, DataError, DataLimitError

__all__ = ["check_select", "list_tables", "mask_url", "preview"]

DIALECTS = ("postgresql", "mysql", "mariadb", "sqlite")
_DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg",
            "mysql": "mysql+pymysql", "mariadb": "mysql+pymysql"}
_TOKENS = re.compile(r"""
    (?P<comment>--[^\n]*|\#[^\n]*|/\*.*?(?:\*/|\Z))
  | (?P<string>'(?:[^']|'')*'?|"(?:[^"]|"")*"?|`(?:[^`]|``)*`?|(?P<tag>\$\w*\$).*?(?:(?P=tag)|\Z))
  | (?P<semi>;)
  | (?P<word>[A-Za-z_][\w$]*)
  | (?P<other>\S)
""", re.S | re.X)
_FILE_FUNCTIONS = {"load_file", "pg_read_file", "pg_read_binary_file", "pg_ls_dir",
                   "pg_stat_file", "lo_import", "lo_export", "dblink", "dblink_exec"}


def mask_url(url: str) -> str:
    """``scheme://user:secret@host/db`` -> ``scheme://user:***@host/db``."""
    return re.sub(r"(://[^/:@]*):[^@]*@", r"\1:***@", url)


def scrub(message: str, url: str | None) -> str:
    """``message`` with the URL's password (as written and URL-decoded) replaced by ***."""
    m = re.search(r"://[^/:@]*:([^@]*)@", url or "")
    for secret in {m[1], unquote(m[1])} if m and m[1] else ():
        message = message.replace(secret, "***")
    return message


def check_select(query: str) -> str:
    """Return ``query`` without a trailing ``;`` if it is one SELECT/WITH statement.

    Comments, string literals and quoted names are skipped, so a ``;`` or a keyword inside
    them does not count. The read-only transaction is the guard; this gives a clear message.
    """
    words, end = [], None
    for m in _TOKENS.finditer(query):
        kind = m.lastgroup if m.lastgroup != "tag" else "string"
        if kind == "comment":
            continue
        if end is not None:
            raise DataError("The query holds more than one statement (text after ';'). Send "
                            "a single SELECT statement.")
        if kind == "semi":
            end = m.start()
        elif kind == "word":
            words.append(m[0].lower())
    first = next((w for w in words), "")
    if first not in ("select", "with", "values", "table"):
        shown = first.upper() or "an empty query"
        raise DataError(f"Only reading queries are allowed (SELECT or WITH ...), not {shown}. "
                        "The database is opened read-only.")
    if "into" in words:
        raise DataError("SELECT ... INTO writes a table or a file; drop the INTO clause to "
                        "read the rows.")
    if bad := _FILE_FUNCTIONS.intersection(words):
        raise DataError(f"The query calls {', '.join(sorted(bad))}, which read or write files "
                        "on the database server; that is not allowed here.")
    return query[:end].strip() if end is not None else query.strip()


def list_tables(source: Any, *, timeout: float = 10.0, allow_local_files: bool = True,
                limits: LoadLimits | None = None) -> pd.DataFrame:
    """Tables with row counts and columns: ``table, rows, n_columns, columns`` (``"a INT, ..."``).

    ``source`` is a database URL, an SQLite file path, its bytes or an uploaded file object.
    """
    if _is_server(source):
        with _server(source, timeout, allow_local_files) as (conn, url):
            return _server_tables(conn, url)
    from automl.data import sqlite

    name, data = sqlite.read_source(source, allow_local_files, limits or LoadLimits())
    return sqlite.list_tables(data, name, timeout)


def preview(source: Any, *, table: str | None = None, query: str | None = None, n: int = 20,
            timeout: float = 10.0, allow_local_files: bool = True,
            limits: LoadLimits | None = None) -> pd.DataFrame:
    """The first ``n`` rows of a table or a query, raw (before the loader's checks)."""
    limits = limits or LoadLimits()
    if _is_server(source):
        with _server(source, timeout, allow_local_files) as (conn, url):
            return _server_rows(conn, url, table, query, n, cap=False)
    from automl.data import sqlite

    name, data = sqlite.read_source(source, allow_local_files, limits)
    return sqlite.read(data, name, table, query, n, timeout, cap=False)


# --- shared by both readers ---------------------------------------------------------------

def one_of(table: str | None, query: str | None) -> None:
    if table and query:
        raise ConfigError("Pass either a table name or a query, not both.")


def shown(table: str | None, query: str | None) -> str:
    """`` (table t)`` or `` (query: select ...)`` for ``Table.source``."""
    if table:
        return f" (table {table})"
    return f" (query: {' '.join(query.split())})" if query else ""


def fetch(cursor: Any, columns: list[str], name: str, limit: int, cap: bool,
          max_columns: int) -> pd.DataFrame:
    """At most ``limit`` rows (``limit + 1`` with ``cap``, raising when that many arrive);
    ``cursor`` has ``fetchmany`` (a DBAPI cursor or an SQLAlchemy result)."""
    _check_shape(name, 0, len(columns), LoadLimits(max_columns=max_columns))
    rows: list[tuple] = []
    want = limit + 1 if cap else limit
    while len(rows) < want:
        chunk = cursor.fetchmany(min(50_000, want - len(rows)))
        if not chunk:
            break
        rows.extend(tuple(r) for r in chunk)
    if cap and len(rows) > limit:
        _check_shape(name, limit + 1, len(columns), LoadLimits(max_rows=limit,
                                                               max_columns=max_columns))
    return to_frame(rows, columns)


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


# --- servers ------------------------------------------------------------------------------

def _is_server(source: Any) -> bool:
    return isinstance(source, str) and "://" in source and not source.lower().startswith(
        "sqlite")


def _dialect(url: str) -> str:
    scheme = url.split("://", 1)[0].lower()
    base = {"postgres": "postgresql"}.get(scheme.split("+")[0], scheme.split("+")[0])
    if base not in DIALECTS:
        raise DataError(f"Databases of type '{scheme}' are not supported; use a postgresql://, "
                        "mysql://, mariadb:// or sqlite:/// URL.")
    return base


@contextmanager
def _server(url: str, timeout: float, allow_local_files: bool) -> Iterator[tuple[Any, str]]:
    """A connection inside a READ ONLY transaction with a statement timeout, always rolled
    back and closed; driver errors come out as DataError without the password."""
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    dialect = _dialect(url)
    scheme, _, rest = url.partition("://")
    shown_url = mask_url(url)
    try:
        u = sa.make_url(f"{_DRIVERS.get(scheme.lower(), scheme)}://{rest}")
    except Exception:
        raise DataError(f"{shown_url} is not a database URL like "
                        "postgresql://user:password@host:5432/dbname.") from None
    args = {"connect_timeout": max(2, int(timeout))}
    if dialect in ("mysql", "mariadb"):
        args["read_timeout"] = int(timeout) + 10  # a backstop if the server ignores its limit
    conn = None
    try:
        engine = sa.create_engine(u, poolclass=NullPool, connect_args=args)
        conn = engine.connect()
    except Exception as exc:
        raise _explain(exc, url, timeout, connecting=True) from None
    try:
        _read_only(conn, timeout)
        yield conn, url
    except (DataError, ConfigError):
        raise
    except Exception as exc:
        raise _explain(exc, url, timeout) from None
    finally:
        try:
            raw = conn.connection.dbapi_connection
            pending = getattr(raw, "_result", None)  # PyMySQL: a half-read streamed result
            if pending is not None:  # would be read to the end on close; forget it instead
                pending.unbuffered_active = False
                raw._result = None
            conn.invalidate()  # drop the socket: no draining of a half-read result
            conn.close()
        except Exception:
            pass


def _read_only(conn: Any, timeout: float) -> None:
    ms = max(1, int(timeout * 1000))
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {ms}")
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = {ms}")
    elif conn.dialect.name == "mysql":
        if getattr(conn.dialect, "is_mariadb", False):
            conn.exec_driver_sql(f"SET SESSION max_statement_time = {ms / 1000:.3f}")
        else:
            conn.exec_driver_sql(f"SET SESSION max_execution_time = {ms}")
        conn.exec_driver_sql(f"SET SESSION lock_wait_timeout = {max(1, int(timeout))}")
        conn.exec_driver_sql("START TRANSACTION READ ONLY")


def _explain(exc: Exception, url: str, timeout: float, connecting: bool = False) -> DataError:
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    text = scrub(lines[0] if lines else type(orig).__name__, url)
    code = orig.args[0] if getattr(orig, "args", None) else None
    sqlstate = getattr(orig, "sqlstate", None)
    where = mask_url(url)
    if isinstance(exc, ImportError):
        return DataError(f"The database driver for {where} is not installed ({text}); "
                         "install the 'db' extra: pip install 'automl[db]'.")
    if connecting:
        return DataError(f"Could not connect to {where}: {text}. Check the host, port, "
                         "database name, user and password.")
    if sqlstate == "57014" or code in (1969, 3024) or "timed out" in text.lower():
        return DataLimitError(f"The query on {where} ran longer than the limit of {timeout:g} s "
                              "and was stopped. Narrow it (WHERE, LIMIT), or raise the limit "
                              "(LoadLimits.query_timeout).")
    if sqlstate == "25006" or code == 1792:
        return DataError(f"{where} is opened read-only; only SELECT queries can run ({text}).")
    return DataError(f"The database {where} refused the request: {text}")


def _split(name: str) -> tuple[str | None, str]:
    schema, dot, table = name.partition(".")
    return (schema, table) if dot else (None, name)


def _server_tables(conn: Any, url: str) -> pd.DataFrame:
    import sqlalchemy as sa

    insp = sa.inspect(conn)
    out = []
    for name in sorted(insp.get_table_names()):
        cols = insp.get_columns(name)
        try:
            with conn.begin_nested():
                rows = conn.execute(sa.select(sa.func.count()).select_from(sa.table(name)))
                count: int | None = int(rows.scalar_one())
        except Exception:
            count = None  # too slow or not allowed: leave it blank
        out.append({"table": name, "rows": count, "n_columns": len(cols),
                    "columns": ", ".join(f"{c['name']} {c['type']}" for c in cols)})
    return pd.DataFrame(out, columns=["table", "rows", "n_columns", "columns"])


def _server_rows(conn: Any, url: str, table: str | None, query: str | None, limit: int,
                 cap: bool, max_columns: int = LoadLimits.max_columns) -> pd.DataFrame:
    import sqlalchemy as sa

    one_of(table, query)
    name = mask_url(url) + shown(table, query)
    if table:
        schema, bare = _split(table)
        insp = sa.inspect(conn)
        if not insp.has_table(bare, schema=schema):
            known = ", ".join(sorted(insp.get_table_names(schema=schema))[:20]) or "none"
            raise DataError(f"{mask_url(url)} has no table {table!r}; tables: {known}.")
        stmt = sa.select(sa.text("*")).select_from(sa.table(bare, schema=schema)).limit(
            limit + 1 if cap else limit)
        result = conn.execute(stmt)
    elif query:
        result = conn.execution_options(stream_results=True, no_parameters=True).exec_driver_sql(
            check_select(query))
    else:
        raise ConfigError(f"Name a table or write a query to read from {mask_url(url)}.")
    return fetch(result, list(result.keys()), name, limit, cap, max_columns)


def _load_server(src: Source, limits: LoadLimits) -> Loaded:
    url = src.url or ""
    if url.lower().startswith("sqlite"):
        from automl.data import sqlite

        name, data = sqlite.read_source(url, limits.allow_local_files, limits)
        return Loaded(sqlite.read(data, name, src.table, src.query, limits.max_rows,
                                  limits.query_timeout, cap=True,
                                  max_columns=limits.max_columns))
    one_of(src.table, src.query)
    if not (src.table or src.query):  # say so before connecting
        raise ConfigError(f"Name a table (table=..., --table) or write a query (query=..., "
                          f"--query) to read from {mask_url(url)}.")
    with _server(url, limits.query_timeout, limits.allow_local_files) as (conn, url):
        return Loaded(_server_rows(conn, url, src.table, src.query, limits.max_rows, cap=True,
                                   max_columns=limits.max_columns))


def _load_sqlite_file(src: Source, limits: LoadLimits) -> Loaded:
    from automl.data import sqlite

    return Loaded(sqlite.read(src.data, src.name, src.table, src.query, limits.max_rows,
                              limits.query_timeout, cap=True, max_columns=limits.max_columns))


_load_server.accepts_sql = True  # type: ignore[attr-defined]
_load_sqlite_file.accepts_sql = True  # type: ignore[attr-defined]
register_loader(("postgresql://", "postgres://", "mysql://", "mariadb://", "sqlite://"),
                _load_server)
register_loader((".db", ".sqlite", ".sqlite3"), _load_sqlite_file)
