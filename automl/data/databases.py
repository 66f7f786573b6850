"""List and preview a database of either kind: a server URL (PostgreSQL, MySQL/MariaDB) goes
to ``sql``; anything else (an SQLite file's path, a ``sqlite:///`` URL, its bytes or an
uploaded file) to ``sqlite``. Loading a table goes through ``load_table`` like any source."""

from __future__ import annotations

from typing import Any

import pandas as pd

from automl.data.loaders import LoadLimits
from automl.data.sql import list_server_tables, preview_server
from automl.data.sqlite import list_tables as list_sqlite_tables
from automl.data.sqlite import read, read_source

__all__ = ["list_tables", "preview"]


def list_tables(source: Any, *, timeout: float = 10.0, allow_local_files: bool = True,
                limits: LoadLimits | None = None) -> pd.DataFrame:
    """Tables with row counts and columns: ``table, rows, n_columns, columns`` (``"a INT, ..."``).

    ``source`` is a database URL, an SQLite file path, its bytes or an uploaded file object.
    """
    limits = limits or LoadLimits()
    if _is_server(source):
        return list_server_tables(source, timeout=timeout, allow_local_files=allow_local_files,
                                  limits=limits)
    name, data = read_source(source, allow_local_files, limits)
    return list_sqlite_tables(data, name, timeout)


def preview(source: Any, *, table: str | None = None, query: str | None = None, n: int = 20,
            timeout: float = 10.0, allow_local_files: bool = True,
            limits: LoadLimits | None = None) -> pd.DataFrame:
    """The first ``n`` rows of a table or a query, raw (before the loader's checks)."""
    limits = limits or LoadLimits()
    if _is_server(source):
        return preview_server(source, table=table, query=query, n=n, timeout=timeout,
                              allow_local_files=allow_local_files, limits=limits)
    name, data = read_source(source, allow_local_files, limits)
    return read(data, name, table, query, n, timeout, cap=False, limits=limits)


def _is_server(source: Any) -> bool:
    return isinstance(source, str) and "://" in source and not source.lower().startswith(
        "sqlite")
