"""Databases as sources: SQLite files and real PostgreSQL / MariaDB servers, read-only."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
import time
import traceback
import uuid
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes

from automl.data import LoadLimits, list_tables, load_table, preview
from automl.data import sqlite as sqlite_reader
from automl.data.sql import _server, check_select, mask_url
from automl.errors import (
    ConfigError,
    DataError,
    DataLimitError,
    UnsupportedFormatError,
)
from tests.servers import MYSQL_URL, POSTGRES_URL, RO_USER, read_only, require_server

MiB = 1024 * 1024
SLOW = {  # minutes of work (sleep functions are refused); MariaDB's sequence engine
    "postgresql": "select count(*) from generate_series(1, 100000) a, generate_series(1, 100000) b",
    "mysql": "select count(*) from seq_1_to_100000 a, seq_1_to_100000 b",
}


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    df = X.assign(id=np.arange(len(X)), grp=np.where(X["bmi"] > 0, "alpha", "beta"),
                  y=y.astype(float))
    return df[["id", *X.columns, "grp", "y"]]


def _plain(url: str) -> str:
    from automl.search.context import driver_url

    return driver_url(url)


@pytest.fixture(params=["postgresql", "mysql"])
def db(request, frame):
    """(read-only URL, with a password for PostgreSQL; unique table name; the frame)."""
    from sqlalchemy import create_engine

    admin = require_server(POSTGRES_URL if request.param == "postgresql" else MYSQL_URL)
    name = f"automl_test_{uuid.uuid4().hex[:10]}"
    engine = create_engine(_plain(admin))
    frame.to_sql(name, engine, index=False)
    url = read_only(admin)  # what the tests read with: an account that may only read
    if request.param == "postgresql":
        url = url.replace(f"://{RO_USER}@", f"://{RO_USER}:secret@")  # trust auth ignores it
    try:
        yield request.param, url, name
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
        engine.dispose()


def _count(url: str, name: str) -> int:
    from sqlalchemy import create_engine

    engine = create_engine(_plain(url))
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql(f"SELECT count(*) FROM {name}").scalar_one()
    finally:
        engine.dispose()


def _same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    got = got.sort_values("id").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want.reset_index(drop=True), check_dtype=False)


# --- servers ------------------------------------------------------------------------------

def test_server_lists_previews_and_loads_tables_and_queries(db, frame):
    _, url, name = db
    tables = list_tables(url).set_index("table")
    assert tables.loc[name, "rows"] == len(frame)
    assert tables.loc[name, "n_columns"] == frame.shape[1]
    assert "grp" in tables.loc[name, "columns"]

    head = preview(url, table=name, n=7)
    assert len(head) == 7 and list(head.columns) == list(frame.columns)
    _same(preview(url, query=f"select * from {name} order by id", n=5), frame.head(5))

    t = load_table(url, table=name)
    _same(t.frame, frame)
    assert t.source == f"{mask_url(url)} (table {name})"
    q = load_table(url, query=f"select * from {name} where grp like 'al%' -- a ; comment")
    _same(q.frame, frame[frame.grp == "alpha"])
    assert q.source.startswith(f"{mask_url(url)} (query: select * from {name} where")
    again = load_table(url, query=f"  SELECT * FROM {name}  ;  ")
    assert again.data_hash == t.data_hash or again.frame.sort_values("id").equals(
        t.frame.sort_values("id"))


@pytest.mark.parametrize("sql", [
    "drop table {t}", "DELETE FROM {t}", "insert into {t} (id) values (-1)",
    "update {t} set y = 0", "select 1; drop table {t}", "select * from {t};delete from {t}",
    "/* harmless */ drop table {t}", "truncate {t}", "create table {t}_x (a int)",
    "select * into {t}_copy from {t}", "grant all on {t} to public",
])
def test_server_refuses_writes_and_the_table_survives(db, frame, sql):
    _, url, name = db
    with pytest.raises(DataError) as err:
        load_table(url, query=sql.format(t=name))
    assert "secret" not in str(err.value)
    assert _count(url, name) == len(frame)


def test_postgres_read_only_transaction_is_the_real_guard(db, frame):
    kind, url, name = db
    if kind != "postgresql":
        pytest.skip("data-modifying CTEs are PostgreSQL syntax")
    with pytest.raises(DataError, match="DELETE, which is not a reading statement"):
        load_table(url, query=f"with d as (delete from {name} returning *) select * from d")
    with pytest.raises(DataError, match="locks rows"):
        load_table(url, query=f"select * from {name} for update")
    admin = POSTGRES_URL  # a superuser: only the transaction stops a write past the check
    with (_server(admin, 5, True, LoadLimits(privileged="allow")) as (conn, _),
          pytest.raises(Exception, match="read-only transaction")):
        conn.exec_driver_sql(f"delete from {name}")
    assert _count(url, name) == len(frame)


def test_server_slow_query_is_stopped_by_the_statement_timeout(db):
    kind, url, _ = db
    started = time.monotonic()
    with pytest.raises(DataLimitError, match="longer than the limit of 1 s"):
        load_table(url, query=SLOW[kind], limits=LoadLimits(query_timeout=1))
    with pytest.raises(DataLimitError):
        preview(url, query=SLOW[kind], timeout=1)
    assert time.monotonic() - started < 15


WIDE = {  # 200 rows of 100,000 characters: 19 MiB from a one-line query
    "postgresql": "select i, repeat('x', 100000) as s from generate_series(1, 200) i",
    "mysql": "select seq as i, repeat('x', 100000) as s from seq_1_to_200",
    "sqlite": ("with recursive r(i) as (select 1 union all select i + 1 from r limit 200) "
               "select i, replace(hex(zeroblob(50000)), '0', 'x') as s from r"),
}


def test_server_byte_cap_stops_wide_values(db):
    kind, url, name = db
    with pytest.raises(DataLimitError, match=r"more than 1.0 MiB \(LoadLimits.max_bytes\)"):
        load_table(url, query=WIDE[kind], limits=LoadLimits(max_bytes=MiB))
    with pytest.raises(DataLimitError, match="LoadLimits.max_bytes"):  # a table, too
        load_table(url, table=name, limits=LoadLimits(max_bytes=10_000))
    assert len(load_table(url, query=WIDE[kind], limits=LoadLimits(max_bytes=50 * MiB)).frame) \
        == 200


def test_sqlite_byte_cap_stops_wide_values(sqlite_file):
    with pytest.raises(DataLimitError, match=r"more than 1.0 MiB \(LoadLimits.max_bytes\)"):
        load_table(sqlite_file, query=WIDE["sqlite"], limits=LoadLimits(max_bytes=MiB))
    with pytest.raises(DataLimitError, match="LoadLimits.max_bytes"):
        preview(sqlite_file, query=WIDE["sqlite"], n=20, limits=LoadLimits(max_bytes=MiB))
    assert len(load_table(sqlite_file, query=WIDE["sqlite"]).frame) == 200


def test_server_row_cap_stops_an_unbounded_select(db):
    _, url, name = db
    with pytest.raises(DataLimitError, match="more than 100 rows"):
        load_table(url, table=name, limits=LoadLimits(max_rows=100))
    started = time.monotonic()
    with pytest.raises(DataLimitError, match="more than 1,000 rows"):  # 195k rows unfetched
        load_table(url, query=f"select * from {name} a cross join {name} b",
                   limits=LoadLimits(max_rows=1000))
    assert time.monotonic() - started < 30


def test_server_passwords_never_appear_in_messages(db):
    kind, url, name = db
    if kind == "postgresql":
        bad = url.split("://")[0] + "://nosuchuser:hunter2@" + url.split("@", 1)[1]
    else:
        bad = url.replace(f"://{RO_USER}@", f"://{RO_USER}:hunter2@")
    with pytest.raises(DataError, match="Could not connect") as err:
        load_table(bad, table=name)
    assert "hunter2" not in "".join(traceback.format_exception(err.value))
    assert "***" in str(err.value)


def test_unknown_table_and_bad_arguments(db):
    _, url, name = db
    with pytest.raises(DataError, match="no table 'no_such_table_zz'"):
        load_table(url, table="no_such_table_zz")
    with pytest.raises(ConfigError, match="not both"):
        load_table(url, table=name, query=f"select * from {name}")


def test_a_url_needs_a_table_or_a_query_before_connecting():
    with pytest.raises(ConfigError, match="Name a table") as err:
        load_table("postgresql://me:s3cret@db.example.com/sales")
    assert "s3cret" not in str(err.value)


def test_other_dialects_are_refused():
    with pytest.raises(UnsupportedFormatError, match="'oracle://' are not supported"):
        load_table("oracle://scott:tiger@host/db", table="t")
    with pytest.raises(DataError, match="not supported") as err:
        list_tables("mssql+pyodbc://sa:tiger@host/db")
    assert "tiger" not in str(err.value)


def test_check_select_ignores_strings_and_comments():
    assert check_select("select ';' as a -- drop table x\n;") == "SELECT ';' AS a"
    assert check_select("with a as (select 1) select * from a").startswith("WITH")
    assert check_select("select $$;drop$$, 'it''s; fine', \"a;b\" from t")
    for bad in ("select 1; select 2", "drop table x", "", "-- only a comment",
                "select * from t into outfile '/tmp/x'", "select load_file('/etc/passwd')",
                "select pg_read_file('/etc/passwd')"):
        with pytest.raises(DataError):
            check_select(bad)


def test_mask_url():
    assert mask_url("postgresql://u:s3cr/t@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert mask_url("mysql://root@h/db") == "mysql://root@h/db"


# --- SQLite -------------------------------------------------------------------------------

@pytest.fixture
def sqlite_file(tmp_path, frame) -> Path:
    path = tmp_path / "data.sqlite"
    with sqlite3.connect(path) as conn:
        frame.to_sql("diabetes", conn, index=False)
        frame.head(3).to_sql("small one", conn, index=False)
    return path


def test_sqlite_lists_loads_and_queries_without_touching_the_file(sqlite_file, frame):
    before = sqlite_file.read_bytes()
    tables = list_tables(sqlite_file).set_index("table")
    assert tables.loc["diabetes", "rows"] == len(frame)
    assert tables.loc["small one", "n_columns"] == frame.shape[1]
    _same(preview(sqlite_file, table="diabetes", n=4), frame.head(4))
    t = load_table(sqlite_file, table="diabetes")
    _same(t.frame, frame)
    assert t.source == "data.sqlite (table diabetes)"
    _same(load_table(sqlite_file, table="small one").frame, frame.head(3))  # quoted name
    q = load_table(str(sqlite_file), query="select * from diabetes where grp = 'beta'")
    _same(q.frame, frame[frame.grp == "beta"])
    up = load_table(io.BytesIO(before), name="upload.db", table="diabetes")
    assert up.data_hash == t.data_hash
    assert load_table(f"sqlite:///{sqlite_file}", table="diabetes").data_hash == t.data_hash
    assert sqlite_file.read_bytes() == before


def test_sqlite_needs_a_table_when_there_are_several(sqlite_file):
    with pytest.raises(ConfigError, match="has 2 tables"):
        load_table(sqlite_file)


def test_sqlite_refuses_writes_attach_and_extensions(sqlite_file, frame, tmp_path):
    before = sqlite_file.read_bytes()
    for sql in (f"attach database '{tmp_path / 'x.db'}' as x", "drop table diabetes",
                "select 1; delete from diabetes", "pragma journal_mode = delete",
                "select load_extension('/tmp/evil')"):
        with pytest.raises(DataError):
            load_table(sqlite_file, query=sql)
    with sqlite_reader._open(before, "data.sqlite", 5) as conn:  # the authorizer itself
        for sql in (f"ATTACH DATABASE '{tmp_path / 'y.db'}' AS y", "DELETE FROM diabetes",
                    "PRAGMA writable_schema = 1", "CREATE TEMP TABLE t (a)"):
            with pytest.raises(sqlite3.DatabaseError, match="not authorized|prohibited"):
                conn.execute(sql)
    assert not (tmp_path / "x.db").exists() and not (tmp_path / "y.db").exists()
    assert sqlite_file.read_bytes() == before


def test_sqlite_corrupt_and_foreign_files_are_refused(sqlite_file, tmp_path):
    data = bytearray(sqlite_file.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[page * 2: page * 4] = os.urandom(page * 2)
    bad = tmp_path / "bad.db"
    bad.write_bytes(bytes(data))
    with pytest.raises(DataError, match="damaged"):
        load_table(bad, table="diabetes")
    (tmp_path / "text.db").write_text("id,y\n1,2\n")
    with pytest.raises(UnsupportedFormatError, match="not an SQLite database"):
        load_table(tmp_path / "text.db", table="t")


def test_sqlite_wal_file_loads(tmp_path, frame):
    path = tmp_path / "wal.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        frame.to_sql("t", conn, index=False)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    _same(load_table(path, table="t").frame, frame)


def test_sqlite_limits_timeout_and_local_files(sqlite_file):
    with pytest.raises(DataLimitError, match="more than 50 rows"):
        load_table(sqlite_file, table="diabetes", limits=LoadLimits(max_rows=50))
    with pytest.raises(DataLimitError, match="longer than the limit"):
        load_table(sqlite_file, limits=LoadLimits(query_timeout=0.5), query=(
            "with recursive r(i) as (select 1 union all select i + 1 from r) "
            "select count(*) from r"))
    no_files = LoadLimits(allow_local_files=False)
    with pytest.raises(DataError, match="not allowed here"):
        load_table(f"sqlite:///{sqlite_file}", table="diabetes", limits=no_files)
    with pytest.raises(DataError, match="not allowed here"):
        list_tables(str(sqlite_file), allow_local_files=False)
    assert len(list_tables(sqlite_file.read_bytes(), allow_local_files=False)) == 2


def test_table_or_query_with_a_csv_is_a_config_error(tmp_path, frame):
    frame.to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(ConfigError, match="SQLite files and database URLs"):
        load_table(tmp_path / "d.csv", table="t")


# --- command line -------------------------------------------------------------------------

def _cli(*args, cwd):
    env = {**os.environ, "AUTOML_RUNS_DIR": str(Path(cwd) / "runs")}
    return subprocess.run([sys.executable, "-m", "automl.cli", *map(str, args)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=300)


def _on_disk(folder: Path, model: Path) -> str:
    text = "".join(p.read_bytes().decode("latin-1") for p in folder.rglob("*") if p.is_file())
    with zipfile.ZipFile(model) as zf:
        text += "".join(zf.read(n).decode("latin-1") for n in zf.namelist())
    return text


def test_cli_trains_and_predicts_from_sqlite(tmp_path, sqlite_file):
    r = _cli("train", sqlite_file, "--table", "diabetes", "--target", "y", "--time-budget",
             "25", "--max-trials", "3", "--families", "linear", "--workers", "1", "--quiet",
             "--out", "m.skops", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = _cli("predict", "m.skops", sqlite_file, "--table", "diabetes", "--out", "p.csv",
             cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert len(pd.read_csv(tmp_path / "p.csv")) == 442
    settings = json.loads(next((tmp_path / "runs").rglob("settings.json")).read_text())
    assert settings["source"] == "data.sqlite (table diabetes)"
    r = _cli("predict", "m.skops", sqlite_file, "--out", "p.csv", cwd=tmp_path)
    assert r.returncode == 2 and "--table NAME" in r.stderr and "Traceback" not in r.stderr


def test_cli_with_a_postgres_url_keeps_the_password_off_disk(tmp_path, frame):
    from sqlalchemy import create_engine

    url = require_server(POSTGRES_URL)
    name = f"automl_cli_{uuid.uuid4().hex[:10]}"
    engine = create_engine(_plain(url))
    frame.to_sql(name, engine, index=False)
    secret_url = url.replace("://postgres@", "://postgres:secret@")
    assert "secret" in secret_url, "set AUTOML_TEST_POSTGRES to a URL with user postgres"
    try:
        r = _cli("train", secret_url, "--query", f"select * from {name} where id < 300",
                 "--target", "y", "--time-budget", "25", "--max-trials", "3", "--families",
                 "linear", "--workers", "1", "--cv-folds", "3", "--quiet", "--out", "m.skops",
                 cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert "warning: The database account" in r.stderr  # a superuser: the CLI warns
        assert "can read or write the server's files" in r.stderr
        r = _cli("predict", "m.skops", secret_url, "--table", name, "--out", "p.csv",
                 cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert len(pd.read_csv(tmp_path / "p.csv")) == len(frame)
        from automl.bundle import read_manifest

        manifest = read_manifest(tmp_path / "m.skops")
        assert manifest.source.startswith("postgresql://postgres:***@")
        assert f"(query: select * from {name} where id < 300)" in manifest.source
        assert "secret" not in _on_disk(tmp_path / "runs", tmp_path / "m.skops")
        r = _cli("predict", "m.skops", secret_url, "--query", f"drop table {name}", "--out",
                 "p.csv", cwd=tmp_path)
        assert r.returncode == 2 and "secret" not in r.stderr + r.stdout
        assert _count(url, name) == len(frame)
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
        engine.dispose()
