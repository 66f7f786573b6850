"""Database URLs: only harmless options reach the driver, hosts can be limited, and no form
of credential is shown, saved or put in a message."""

from __future__ import annotations

import uuid
from urllib.parse import unquote, unquote_plus

import pytest

from automl.data import load_table
from automl.data.sql import mask_url, scrub
from automl.data.urls import driver_url
from automl.errors import DataError
from tests.servers import MYSQL_URL, POSTGRES_URL, read_only, require_server


@pytest.fixture
def mysql_table():
    """(admin URL, name of a fresh MariaDB table), dropped afterwards."""
    from sqlalchemy import create_engine, inspect

    url = require_server(MYSQL_URL)
    name = f"automl_url_{uuid.uuid4().hex[:10]}"
    engine = create_engine(driver_url(url))
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {name} (a INT)")
    try:
        yield url, name, lambda: inspect(engine).has_table(name)
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
        engine.dispose()


def test_mysql_init_command_is_refused_and_the_table_survives(mysql_table):
    url, name, exists = mysql_table
    with pytest.raises(DataError, match="init_command is not allowed"):
        load_table(f"{url}?init_command=DROP%20TABLE%20{name}", query="select 1 as a")
    assert exists()


@pytest.mark.parametrize("option", [
    "mysql:local_infile=1", "mysql:read_default_file=/etc/passwd", "mysql:client_flag=65536",
    "mysql:read_default_group=client", "mysql:unix_socket=/tmp/mysql.sock",
    "mysql:ssl_key=/etc/ssl/private/k.pem", "mysql:plugin_dir=/tmp",
    "mysql:auth_plugin_map=x", "mysql:password=hunter2", "postgresql:host=/tmp",
    "postgresql:options=-c%20default_transaction_read_only%3Doff", "postgresql:service=prod",
    "postgresql:passfile=/home/me/.pgpass", "postgresql:sslkey=/etc/key.pem",
    "postgresql:sslrootcert=/etc/root.crt", "postgresql:krbsrvname=x",
    "postgresql:hostaddr=10.0.0.1", "postgresql:password=hunter2",
])
def test_unsafe_url_options_are_refused_by_name_before_connecting(option):
    dialect, pair = option.split(":", 1)
    url = f"{dialect}://me@127.0.0.1:1/db?{pair}&connect_timeout=1"
    with pytest.raises(DataError) as err:
        load_table(url, query="select 1")
    message = str(err.value)
    assert f"{pair.split('=')[0]} is not allowed" in message  # named, not "could not connect"
    assert "hunter2" not in message and "Could not connect" not in message


@pytest.mark.parametrize("url", [
    "postgresql://me@%2Ftmp/db", "postgresql://me@/db", "postgresql://me@h1,h2/db",
    "mysql://me@/db", "postgresql://me:p@ss@h/db",
])
def test_socket_paths_and_odd_hosts_are_refused(url):
    with pytest.raises(DataError, match="names no host|not a host name|holds .@.") as err:
        load_table(url, query="select 1")
    assert "ss@h" not in str(err.value)


def test_harmless_options_still_connect():
    pg = read_only(POSTGRES_URL)
    t = load_table(f"{pg}?sslmode=disable&application_name=automl-test&connect_timeout=5",
                   query="select current_setting('application_name') as app")
    assert t.frame["app"].tolist() == ["automl-test"]
    my = read_only(MYSQL_URL)
    assert load_table(f"{my}?charset=utf8mb4", query="select 1 as a").frame["a"].tolist() == [1]
    with pytest.raises(DataError, match="sslmode is given twice or has a value"):
        load_table(f"{pg}?sslmode=evil", query="select 1")


def test_database_hosts_can_be_limited(monkeypatch):
    url = read_only(POSTGRES_URL)  # on 127.0.0.1
    monkeypatch.setenv("AUTOML_DB_HOSTS", "db.example.com, 10.0.0.0/8")
    with pytest.raises(DataError, match="host '127.0.0.1' is not one this app may connect"):
        load_table(url, query="select 1")
    monkeypatch.setenv("AUTOML_DB_HOSTS", "localhost")  # names match names, not addresses
    with pytest.raises(DataError, match="'127.0.0.1' is not one"):
        load_table(url, query="select 1")
    for allowed in ("db.example.com,127.0.0.0/8", "127.0.0.1"):
        monkeypatch.setenv("AUTOML_DB_HOSTS", allowed)
        assert len(load_table(url, query="select 1 as a").frame) == 1


SECRETS = [
    ("postgresql://u:s3cr/t@h:5432/db", "s3cr/t"),
    ("postgresql://u:p@ss@h/db", "p@ss"),
    ("postgresql://u:p%40ss@h/db", "p%40ss"),
    ("postgresql://u:hun?ter2@h/db", "hun?ter2"),
    ("postgresql://user@srv:hunter2@h.example.com/db", "hunter2"),
    ("mysql://u@h/db?password=hunter2", "hunter2"),
    ("mysql://u@h/db?charset=utf8&passwd=hunter2", "hunter2"),
    ("postgresql://u@h/db?sslpassword=hunter2", "hunter2"),
    ("postgresql://u@h/db?pass%77ord=hunter2", "hunter2"),
    ("postgresql://u@h/db?PASSWORD=hun%74er2", "hun%74er2"),
    ("postgresql://u@h/db?options=password%3Dhunter2", "hunter2"),
    ("postgresql://u@h/db?dbname=x%20password%3Dhunter2", "hunter2"),
]


@pytest.mark.parametrize(("url", "secret"), SECRETS)
def test_every_credential_form_is_masked(url, secret):
    shown = mask_url(url)
    assert "***" in shown and shown.split("://")[0] == url.split("://")[0]
    for form in {secret, unquote(secret), unquote_plus(secret)}:
        assert form not in shown
        assert form not in scrub(f"driver said: {form} is wrong ({url})", url)


def test_masking_keeps_what_is_not_a_secret():
    assert mask_url("mysql://root@h:3306/db?charset=utf8") == "mysql://root@h:3306/db?charset=utf8"
    assert mask_url("postgresql://u:pw@h:5432/db?sslmode=require&password=x") == (
        "postgresql://u:***@h:5432/db?sslmode=require&password=***")
    assert mask_url("data.csv") == "data.csv"


def test_a_refused_password_option_never_reaches_a_message():
    with pytest.raises(DataError) as err:
        load_table("mysql://root@127.0.0.1:1/db?password=hunter2", table="t")
    assert "hunter2" not in str(err.value) and "password is not allowed" in str(err.value)


@pytest.mark.slow
@pytest.mark.parametrize("query", ["password=hunter2", "pass%77ord=hunter2"])
def test_a_storage_password_never_reaches_the_run_folder(tmp_path, query):
    import optuna
    from sklearn.datasets import load_iris

    from automl.api import start_run
    from automl.config import TrainConfig

    url = require_server(POSTGRES_URL)
    storage = f"{url}?{query}"
    frame = load_iris(as_frame=True).frame
    ctx, _ = start_run(frame, TrainConfig(target="target", families=["linear"],
                                          max_trials=1, storage=storage), root=tmp_path)
    try:
        text = "".join(p.read_bytes().decode("latin-1") for p in tmp_path.rglob("*")
                       if p.is_file())
        assert "***" in text and "hunter2" not in text
    finally:
        optuna.delete_study(study_name=ctx.run.study_name, storage=ctx.storage())


def test_libpq_options_from_the_environment_do_not_reach_the_session(monkeypatch):
    url = read_only(POSTGRES_URL)
    monkeypatch.setenv("PGOPTIONS", "-c search_path=nowhere")
    t = load_table(url, query="select current_setting('search_path') as p, "
                              "current_setting('transaction_read_only') as ro")
    assert t.frame["p"][0] != "nowhere" and t.frame["ro"][0] == "on"
