"""Accounts that can read the server's files: the app refuses them (unless its setting
allows), the engine and the command line warn; read-only accounts pass quietly."""

from __future__ import annotations

import uuid

import pytest

from automl.data import LoadLimits, list_tables, load_table
from automl.data.urls import driver_url
from automl.errors import ConfigError, DataError
from tests.servers import MYSQL_URL, POSTGRES_URL, read_only, require_server

REFUSE = LoadLimits(privileged="refuse")
ONE = "select 1 as a"


def _admin(url: str, *statements: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(driver_url(url))
    try:
        with engine.begin() as conn:
            for sql in statements:
                conn.exec_driver_sql(sql)
    finally:
        engine.dispose()


@pytest.fixture
def pg_role():
    """A function making a fresh PostgreSQL login role with the given grants."""
    admin = require_server(POSTGRES_URL)
    made = []

    def make(*grants: str) -> str:
        name = f"automl_r_{uuid.uuid4().hex[:8]}"
        made.append(name)
        _admin(admin, f"CREATE ROLE {name} LOGIN", *(g.format(r=name) for g in grants))
        return admin.replace("://postgres@", f"://{name}@")

    yield make
    for name in made:
        _admin(admin, f"DROP OWNED BY {name}", f"DROP ROLE IF EXISTS {name}")


@pytest.mark.parametrize("url", [POSTGRES_URL, MYSQL_URL], ids=["postgres", "mariadb-root"])
def test_administrator_accounts_are_refused_or_warned_about(url):
    require_server(url)
    with pytest.raises(DataError, match="account that may only read") as err:
        load_table(url, query=ONE, limits=REFUSE)
    assert "superuser role" in str(err.value) or "all privileges on *.*" in str(err.value)
    with pytest.raises(DataError, match="may only read"):
        list_tables(url, limits=REFUSE)
    warned = load_table(url, query=ONE)  # the engine's default: a warning
    assert any("can read or write the server's files" in w for w in warned.warnings)
    assert load_table(url, query=ONE, limits=LoadLimits(privileged="allow")).warnings == []


@pytest.mark.parametrize("url", [POSTGRES_URL, MYSQL_URL], ids=["postgres", "mariadb"])
def test_read_only_accounts_pass_quietly(url):
    ro = read_only(url)
    assert load_table(ro, query=ONE, limits=REFUSE).warnings == []


@pytest.mark.parametrize("grant", [
    "GRANT pg_read_server_files TO {r}", "GRANT pg_write_server_files TO {r}",
    "GRANT pg_execute_server_program TO {r}", "GRANT postgres TO {r}",  # can SET ROLE postgres
])
def test_postgres_roles_that_reach_files_are_refused(pg_role, grant):
    url = pg_role(grant)
    with pytest.raises(DataError, match="may only read"):
        load_table(url, query=ONE, limits=REFUSE)


def test_postgres_plain_role_passes(pg_role):
    assert load_table(pg_role(), query=ONE, limits=REFUSE).warnings == []


def test_mariadb_file_privilege_through_a_default_role_is_refused():
    admin = require_server(MYSQL_URL)
    user, role = f"automl_f_{uuid.uuid4().hex[:8]}", f"automl_fr_{uuid.uuid4().hex[:8]}"
    _admin(admin, f"CREATE USER '{user}'@'127.0.0.1'", f"CREATE ROLE {role}",
           f"GRANT SELECT ON test.* TO '{user}'@'127.0.0.1'",
           f"GRANT FILE ON *.* TO {role}", f"GRANT {role} TO '{user}'@'127.0.0.1'",
           f"SET DEFAULT ROLE {role} FOR '{user}'@'127.0.0.1'")
    try:
        url = admin.replace("://root@", f"://{user}@")
        with pytest.raises(DataError, match="the FILE privilege"):
            load_table(url, query=ONE, limits=REFUSE)
        _admin(admin, f"REVOKE FILE ON *.* FROM {role}")
        assert load_table(url, query=ONE, limits=REFUSE).warnings == []
    finally:
        _admin(admin, f"DROP USER IF EXISTS '{user}'@'127.0.0.1'", f"DROP ROLE IF EXISTS {role}")


def test_an_unknown_mode_is_a_config_error():
    url = read_only(POSTGRES_URL)
    with pytest.raises(ConfigError, match="refuse, warn, allow"):
        load_table(url, query=ONE, limits=LoadLimits(privileged="sometimes"))


# --- the app ------------------------------------------------------------------------------

def _connect(url: str):
    from tests.apptest import app

    at = app()
    at.text_input(key="db_url").input(url).run()
    return at.button(key="db_connect").click().run()


@pytest.mark.slow
def test_the_app_refuses_a_superuser_unless_its_setting_allows(monkeypatch):
    url = require_server(POSTGRES_URL)
    monkeypatch.delenv("AUTOML_ALLOW_PRIVILEGED_DB", raising=False)
    at = _connect(url)
    assert not at.exception
    shown = " ".join(e.value for e in at.error).replace("\\", "")  # Markdown escapes
    assert "account that may only read" in shown and "AUTOML_ALLOW_PRIVILEGED_DB=1" in shown
    assert not _connect(read_only(url)).error  # a read-only account connects
    monkeypatch.setenv("AUTOML_ALLOW_PRIVILEGED_DB", "1")
    assert not _connect(url).error
