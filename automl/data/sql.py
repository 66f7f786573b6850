"""Read tables from database servers: PostgreSQL and MySQL/MariaDB URLs.

Reading is the only thing allowed (DESIGN rule 8). The URL is checked before connecting
(``urls.server_url``: known drivers, harmless options, allowed hosts); the account is checked
right after (``sql_roles``: one that can read the server's files is refused or warned about,
``LoadLimits.privileged``); one SELECT is checked by a SQL parser (``sql_check``) and runs,
as the parser read it, in a READ ONLY transaction with a statement timeout, a row cap (at
most ``LoadLimits.max_rows + 1`` rows are fetched) and a byte cap (``LoadLimits.max_bytes``,
counted while fetching, ``sql_rows``). The check is a real guard too: MySQL/MariaDB commit
DDL such as ``DROP TABLE`` implicitly, even inside a read-only transaction. Credentials are
masked in every name and message (``mask_url``, ``scrub``). SQLite files and ``sqlite:///``
URLs are read by ``automl.data.sqlite``; ``automl.data.databases`` lists and previews both.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd

from automl.data.loaders import Loaded, LoadLimits, Source, register_loader
from automl.data.sql_roles import check_account
from automl.data.sql_rows import fetch, one_of, shown
from automl.data.urls import mask_url, scrub, server_url
from automl.errors import ConfigError, DataError, DataLimitError

__all__ = ["check_select", "list_server_tables", "load_server", "mask_url", "preview_server",
           "scrub"]


def check_select(query: str, dialect: str = "postgresql") -> str:
    """:func:`automl.data.sql_check.check_select`, imported on first use: the SQL parser
    (sqlglot, ~85 ms) is not loaded by the app's first page, only by a query."""
    from automl.data.sql_check import check_select as check

    return check(query, dialect)


_PG_OPTIONS = "-c default_transaction_read_only=on -c standard_conforming_strings=on"


def list_server_tables(url: str, *, timeout: float, allow_local_files: bool,
                       limits: LoadLimits) -> pd.DataFrame:
    """``table, rows, n_columns, columns`` for every table of the server database."""
    with _server(url, timeout, allow_local_files, limits) as (conn, _):
        return _server_tables(conn)


def preview_server(url: str, *, table: str | None, query: str | None, n: int, timeout: float,
                   allow_local_files: bool, limits: LoadLimits) -> pd.DataFrame:
    """The first ``n`` rows of a table or a query on the server, raw."""
    with _server(url, timeout, allow_local_files, limits) as (conn, _):
        return _server_rows(conn, url, table, query, n, cap=False, limits=limits)


def load_server(src: Source, limits: LoadLimits) -> Loaded:
    """The loader for server URLs: a table or one SELECT, read-only, capped."""
    url = src.url or ""
    one_of(src.table, src.query)
    if not (src.table or src.query):  # say so before connecting
        raise ConfigError(f"Name a table (table=..., --table) or write a query (query=..., "
                          f"--query) to read from {mask_url(url)}.")
    with _server(url, limits.query_timeout, limits.allow_local_files, limits) as (conn, notes):
        frame = _server_rows(conn, url, src.table, src.query, limits.max_rows, cap=True,
                             limits=limits)
        return Loaded(frame, warnings=notes)


@contextmanager
def _server(url: str, timeout: float, allow_local_files: bool,
            limits: LoadLimits) -> Iterator[tuple[Any, list[str]]]:
    """A connection inside a READ ONLY transaction with a statement timeout, always rolled
    back and closed, and the warnings about its account; driver errors come out as DataError
    without the password. Nothing connects before ``server_url`` accepted the URL.

    The rest of libpq's environment (PGSSLMODE, PGSERVICE, ...) is the configuration of
    whoever runs the process and is kept, except PGOPTIONS (the engine passes its own
    ``options``) and, where local files are not allowed (the app), ``~/.pgpass``."""
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    u = server_url(url)
    args: dict[str, Any] = {"connect_timeout": int(u.query.get("connect_timeout") or
                                                   max(2, int(timeout)))}
    if u.get_backend_name() == "postgresql":
        args["options"] = _PG_OPTIONS  # also keeps PGOPTIONS from the environment out
        if not allow_local_files:  # a URL typed into the app never uses this machine's
            args["passfile"] = os.path.join(os.devnull, "none")  # ~/.pgpass (cannot exist)
    else:
        args["read_timeout"] = int(timeout) + 10  # a backstop if the server ignores its limit
        args["local_infile"] = False
    conn = None
    try:
        engine = sa.create_engine(u, poolclass=NullPool, connect_args=args)
        conn = engine.connect()
    except Exception as exc:
        raise _explain(exc, url, timeout, connecting=True) from None
    try:
        _read_only(conn, timeout)
        notes = check_account(conn, limits.privileged, mask_url(url))
        yield conn, notes
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
        conn.exec_driver_sql("SET LOCAL standard_conforming_strings = on")  # as sqlglot writes
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


def _server_tables(conn: Any) -> pd.DataFrame:
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
                 cap: bool, limits: LoadLimits) -> pd.DataFrame:
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
        result = conn.execution_options(stream_results=True).execute(stmt)
    elif query:
        result = conn.execution_options(stream_results=True, no_parameters=True).exec_driver_sql(
            check_select(query, conn.dialect.name))
    else:
        raise ConfigError(f"Name a table or write a query to read from {mask_url(url)}.")
    return fetch(result, list(result.keys()), name, limit, cap, limits)


load_server.accepts_sql = True  # type: ignore[attr-defined]
register_loader(("postgresql://", "postgres://", "mysql://", "mariadb://"), load_server)
