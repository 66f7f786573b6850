"""The Databases tab in a real browser: load an uploaded SQLite file, a PostgreSQL table and
a MariaDB table on the Data page and see the row count.

Skips when no browser can start (a failure with AUTOML_REQUIRE_BROWSER=1) and, for each
server, when it is not reachable (a failure with AUTOML_REQUIRE_SERVERS=1).
"""

from __future__ import annotations

import sqlite3

import pytest

from tests.browser import (
    TIMEOUT_MS,
    VIEWPORT,
    AppServer,
    select_option,
    wait_idle,
    wait_title,
)
from tests.data_files import cancer
from tests.servers import MYSQL_URL, POSTGRES_URL, read_only, table_on_server

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path):
    with AppServer(tmp_path / "runs", log_path=tmp_path / "streamlit.log") as srv:
        yield srv


@pytest.fixture
def pg_table():
    with table_on_server(POSTGRES_URL, cancer()) as (name, _):
        yield name


@pytest.fixture
def mysql_table():
    with table_on_server(MYSQL_URL, cancer()) as (name, _):
        yield name


def _rows_shown(page, rows: str) -> None:
    page.locator('[data-testid="stMetric"]').filter(has_text="Rows").filter(
        has_text=rows).wait_for()


def _visible_button(page, name: str):
    return page.get_by_role("button", name=name, exact=True).locator("visible=true").first


def _load_from_server(page, url: str, table: str) -> None:
    page.get_by_role("tab", name="Server (PostgreSQL, MySQL/MariaDB)").click()
    box = page.get_by_label("Database URL (SQLAlchemy)", exact=True).and_(
        page.locator("input"))
    box.fill(url)
    box.press("Enter")
    wait_idle(page)
    _visible_button(page, "Connect").click()
    wait_idle(page)
    select_option(page, "Database table", table)
    _visible_button(page, "Load").click()
    page.locator('[data-testid="stSidebar"]').get_by_text(table, exact=False).wait_for()


def test_load_from_sqlite_postgresql_and_mariadb(chromium, server, tmp_path,
                                                 pg_table, mysql_table):
    db = tmp_path / "cancer.db"
    with sqlite3.connect(db) as conn:
        cancer(300).to_sql("cancer", conn, index=False)
    conn.close()
    context = chromium.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(server.url)
        wait_title(page, "Data")
        page.get_by_role("tab", name="Databases").click()
        page.locator('[data-testid="stFileUploader"]').filter(has_text="SQLite").locator(
            'input[type="file"]').set_input_files(db)
        page.locator('[data-testid="stSelectbox"]').filter(has_text="SQLite table").wait_for()
        wait_idle(page)
        _visible_button(page, "Load").click()
        page.locator('[data-testid="stSidebar"]').get_by_text("cancer.db").wait_for()
        _rows_shown(page, "300")

        _load_from_server(page, read_only(POSTGRES_URL), pg_table)  # the app refuses admins
        _rows_shown(page, "569")
        page.get_by_role("tab", name="Databases").click()
        _load_from_server(page, read_only(MYSQL_URL), mysql_table)
        _rows_shown(page, "569")
        assert "mysql://" in page.locator('[data-testid="stSidebar"]').inner_text()
    except Exception:
        page.screenshot(path=tmp_path / "failure.png", full_page=True)
        print(server.log())
        raise
    finally:
        context.close()
