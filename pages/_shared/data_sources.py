"""The Data page's "Databases" tab: an uploaded SQLite file, or a server database URL.

Both list their tables (rows, columns), let the user pick a table or write one SELECT,
preview the first rows and load the table. The app never opens files on this machine
(``allow_local_files=False``), and a URL's password lives only in its password box: what is
remembered and shown is the URL with the password masked (``mask_url``).
"""

from __future__ import annotations

import streamlit as st

from automl.data import LoadLimits, list_tables, load_table, preview
from automl.data.sql import mask_url, scrub
from automl.data.sql_roles import app_policy
from automl.errors import AutoMLError
from pages._shared import ui
from pages._shared.show import error, md_escape

TIMEOUT = 10.0  # seconds for listing tables and previews
LISTING_KEY = "db_listings"  # {source key: DataFrame of tables}; never a password


def _limits() -> LoadLimits:
    """No files on this machine; an account that can read the server's files is refused
    unless AUTOML_ALLOW_PRIVILEGED_DB=1 (read when asked, so a restart is not needed)."""
    return LoadLimits(allow_local_files=False, privileged=app_policy())


def _listings() -> dict:
    return st.session_state.setdefault(LISTING_KEY, {})


def sqlite_file() -> None:
    """Upload an SQLite file; list, preview and load one of its tables or a query."""
    file = st.file_uploader("SQLite database file (.db, .sqlite, .sqlite3)",
                            type=["db", "sqlite", "sqlite3"], key="data_sqlite",
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
    _pick_and_load("sqlite", file, _listings()[key], file.name, "SQLite table")


def server() -> None:
    """A PostgreSQL or MySQL/MariaDB URL: connect, list, preview and load."""
    url = st.text_input(
        "Database URL (SQLAlchemy)", type="password", key="db_url",
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
    if st.button("Connect", key="db_connect"):
        try:
            _listings()[key] = list_tables(url, timeout=TIMEOUT, allow_local_files=False,
                                           limits=_limits())
        except AutoMLError as e:
            _listings().pop(key, None)
            error(scrub(str(e), url))
    if key in _listings():
        _pick_and_load("db", url, _listings()[key], None, "Database table")


def _pick_and_load(prefix: str, source, tables, name: str | None, label: str) -> None:
    secret = source if isinstance(source, str) else None
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
            new = load_table(source, table=table, query=query, limits=_limits(), name=name)
            ui.set_table(new)
            st.rerun()  # redraw with the new table (and the sidebar's caption)
    except AutoMLError as e:
        error(scrub(str(e), secret))  # the loaded table, if any, stays
