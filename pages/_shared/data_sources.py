"""The Data page's source widgets, for any table slot: a file upload, and the "Databases"
tab (an uploaded SQLite file, or a server database URL).

A :class:`Slot` says where a loaded table goes: :data:`TRAINING` is the Data page's table
(widget keys as they always were); the Predict page has a slot of its own for the rows to
score, so loading them never replaces the training table. Databases list their tables
(rows, columns), let the user pick a table or write one SELECT, preview the first rows and
load the table. The app never opens files on this machine (``allow_local_files=False``),
and a URL's password lives only in its password box: what is remembered and shown is the
URL with the password masked (``mask_url``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from automl.data import LoadLimits, Table, list_tables, load_table, preview
from automl.data.sql import mask_url, scrub
from automl.data.sql_roles import app_policy
from automl.errors import AutoMLError, DataLimitError
from pages._shared import ui
from pages._shared.show import error, md_escape

TIMEOUT = 10.0  # seconds for listing tables and previews
LISTING_KEY = "db_listings"  # {source key: DataFrame of tables}; never a password
FILE_TYPES = ["csv", "tsv", "txt", "xlsx", "xlsm", "parquet", "pq"]


@dataclass(frozen=True)
class Slot:
    """Where the widgets put the table they load, and how their keys are told apart.

    ``put`` makes a loaded table the slot's; ``last_upload``/``keep_upload`` read and write
    the (file id, error) of the last file upload read; ``coerce_numbers``: a few words in a
    column of numbers become missing values (with a note) instead of refusing the file.
    """

    prefix: str  # widget keys start with it; "" keeps the Data page's keys
    put: Callable[[Table], None]
    last_upload: Callable[[], tuple[str, str | None] | None]
    keep_upload: Callable[[tuple[str, str | None]], None]
    coerce_numbers: bool = False

    def key(self, name: str) -> str:
        return self.prefix + name


def _keep_training_upload(last: tuple[str, str | None]) -> None:
    ui.session().upload = last


TRAINING = Slot("", ui.set_table, lambda: ui.session().upload, _keep_training_upload)


def state_slot(prefix: str, get_state: Callable) -> Slot:
    """A page's own slot: the table and the last upload live on the object ``get_state()``
    returns (its ``rows`` and ``upload`` attributes); a few words in numbers are let through."""
    return Slot(prefix, lambda table: setattr(get_state(), "rows", table),
                lambda: get_state().upload, lambda last: setattr(get_state(), "upload", last),
                coerce_numbers=True)


def origin(slot: Slot, table: Table) -> dict:
    """The database table or query ``table`` was read with (empty for files)."""
    got = st.session_state.get(slot.key("origin")) or {}
    return got if got.get("source") == table.source else {}


def database_tabs(slot: Slot = TRAINING) -> None:
    """The "Databases" tab's two sources, an SQLite upload and a server, loading into
    ``slot``."""
    sqlite_box, server_box = st.tabs(["SQLite file", "Server (PostgreSQL, MySQL/MariaDB)"])
    with sqlite_box:
        sqlite_file(slot)
    with server_box:
        server(slot)


def _limits() -> LoadLimits:
    """No files on this machine; an account that can read the server's files is refused
    unless AUTOML_ALLOW_PRIVILEGED_DB=1 (read when asked, so a restart is not needed)."""
    return LoadLimits(allow_local_files=False, privileged=app_policy())


def _listings() -> dict:
    return st.session_state.setdefault(LISTING_KEY, {})


def file_upload(slot: Slot = TRAINING) -> None:
    """Upload a CSV/TSV, Excel or Parquet file into ``slot`` (read by the callback, so the
    page draws the new table at once); a file that cannot be read keeps the old table."""
    limits, key = LoadLimits(), slot.key("data_upload")
    file = st.file_uploader(
        "Drag and drop a table (CSV, TSV, Excel .xlsx, Parquet)", type=FILE_TYPES,
        help=f"Up to {limits.max_bytes >> 20} MB, {limits.max_rows:,} rows and "
             f"{limits.max_columns:,} columns. Encoding, delimiter and decimal comma are "
             "detected.",
        key=key, on_change=read_upload, args=(key, slot))
    last = slot.last_upload()
    if file is not None and last and last[0] == file.file_id and last[1]:
        error(last[1])


def read_upload(key: str, slot: Slot) -> None:
    """Callback of the uploader: load the new file; on an engine error keep the old table."""
    file = st.session_state.get(key)
    if file is None:
        return
    try:
        slot.put(load_table(file, coerce_numbers=slot.coerce_numbers))
        slot.keep_upload((file.file_id, None))
    except DataLimitError as e:
        limits = LoadLimits()
        slot.keep_upload((file.file_id, f"{e} The app accepts up to {limits.max_bytes >> 20} "
                                         f"MB, {limits.max_rows:,} rows and "
                                         f"{limits.max_columns:,} columns: upload a sample "
                                         "of the data."))
    except AutoMLError as e:
        slot.keep_upload((file.file_id, str(e)))


def sqlite_file(slot: Slot = TRAINING) -> None:
    """Upload an SQLite file; list, preview and load one of its tables or a query."""
    file = st.file_uploader("SQLite database file (.db, .sqlite, .sqlite3)",
                            type=["db", "sqlite", "sqlite3"], key=slot.key("data_sqlite"),
                            help="Opened as a read-only copy; only reading queries run.")
    if file is None:
        return
    key = f"sqlite:{file.file_id}"
    if key not in _listings():
        try:
            _listings()[key] = list_tables(file, timeout=TIMEOUT, allow_local_files=False,
                                           limits=_limits())
        except AutoMLError as e:
            error(e)
            return
    _pick_and_load(slot, "sqlite", file, _listings()[key], file.name, "SQLite table")


def server(slot: Slot = TRAINING) -> None:
    """A PostgreSQL or MySQL/MariaDB URL: connect, list, preview and load."""
    url = st.text_input(
        "Database URL (SQLAlchemy)", type="password", key=slot.key("db_url"),
        placeholder="postgresql://user:password@host:5432/dbname",
        help="PostgreSQL (postgresql://) or MySQL/MariaDB (mysql://). Read-only: one SELECT "
             "per query, with a time limit. Use an account that may only read.").strip()
    if not url:
        st.caption("Enter a URL such as postgresql://user:password@host:5432/dbname or "
                   "mysql://user:password@host:3306/dbname. The password is never shown.")
        return
    shown = mask_url(url)
    st.caption(f"Database: {md_escape(shown)}")
    key = f"url:{shown}"
    if st.button("Connect", key=slot.key("db_connect")):
        try:
            _listings()[key] = list_tables(url, timeout=TIMEOUT, allow_local_files=False,
                                           limits=_limits())
        except AutoMLError as e:
            _listings().pop(key, None)
            error(scrub(str(e), url))
    if key in _listings():
        _pick_and_load(slot, "db", url, _listings()[key], None, "Database table")


def _pick_and_load(slot: Slot, prefix: str, source, tables, name: str | None,
                   label: str) -> None:
    secret = source if isinstance(source, str) else None
    prefix = slot.key(prefix)
    st.dataframe(tables, width="stretch", hide_index=True)
    how = st.radio("Read", ["A table", "A SQL query"], key=f"{prefix}_how", horizontal=True)
    table = query = None
    if how == "A table":
        table = st.selectbox(label, list(tables["table"]), key=f"{prefix}_table")
    else:
        query = st.text_area("SQL query (one SELECT)", key=f"{prefix}_query",
                             placeholder="SELECT * FROM my_table WHERE ...").strip() or None
    left, right = st.columns(2)
    do_preview = left.button("Preview", key=f"{prefix}_preview")
    do_load = right.button("Load", key=f"{prefix}_load", type="primary")
    if (do_preview or do_load) and not (table or query):
        st.error("Pick a table or write a SELECT query first.")
        return
    try:
        if do_preview:
            rows = preview(source, table=table, query=query, n=20, timeout=TIMEOUT,
                           allow_local_files=False, limits=_limits())
            st.markdown(f"**Preview** (first {len(rows)} rows)")
            st.dataframe(rows, width="stretch", hide_index=True)
        if do_load:
            new = load_table(source, table=table, query=query, limits=_limits(), name=name,
                             coerce_numbers=slot.coerce_numbers)
            slot.put(new)
            # what was read, for a check that is saved and run again (Monitor page)
            st.session_state[slot.key("origin")] = {"source": new.source, "table": table,
                                                    "query": query}
            st.rerun()  # redraw with the new table (and the sidebar's caption)
    except AutoMLError as e:
        error(scrub(str(e), secret))  # the loaded table, if any, stays
