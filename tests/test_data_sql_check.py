"""The one-SELECT check (sqlglot, per dialect): the bypasses of the hand-written check are
refused, on real servers where the point is that the server would have run them, and
ordinary reading queries still run."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from automl.data import LoadLimits, load_table
from automl.data.sql import check_select
from automl.data.urls import driver_url
from automl.errors import DataError
from tests.servers import MYSQL_URL, POSTGRES_URL, read_only, require_server

HOSTNAME = Path("/etc/hostname").read_text().strip()
ALLOW = LoadLimits(privileged="allow")  # administrator accounts: only the check stands


@pytest.mark.parametrize(("dialect", "sql"), [
    ("postgresql", "SELECT \"pg_read_file\"('/etc/hostname')"),
    ("postgresql", "select pg_catalog.pg_read_file('/etc/hostname')"),
    ("postgresql", "select PG_READ_FILE('/etc/hostname')"),
    ("postgresql", "select pg_catalog.\"pg_read_binary_file\"('/etc/hostname')"),
    ("postgresql", "select ('/etc/hostname'::text).pg_read_file"),
    ("postgresql", "select 2 # length(pg_read_file('/etc/hostname'))"),
    ("postgresql", "select '\\' , pg_read_file('/etc/hostname') --'"),
    ("postgresql", "select \"dblink_exec\"('dbname=test', 'drop table t')"),
    ("postgresql", "select dblink_connect('dbname=test')"),
    ("postgresql", "select * from dblink('dbname=test', 'select 1') as t(a int)"),
    ("postgresql", "select lo_import('/etc/hostname')"),
    ("postgresql", "select lo_export(1, '/tmp/x')"),
    ("postgresql", "select * from pg_ls_dir('/')"),
    ("postgresql", "select pg_stat_file('/etc/hostname')"),
    ("postgresql", "select query_to_xml('select pg_read_file(''/x'')', true, true, '')"),
    ("postgresql", "select set_config('default_transaction_read_only', 'off', false)"),
    ("postgresql", "select pg_terminate_backend(1)"),
    ("postgresql", "select pg_sleep(600)"),
    ("postgresql", "copy t to '/tmp/x'"),
    ("postgresql", "copy (select 1) to program 'id'"),
    ("postgresql", "with d as (delete from t returning *) select * from d"),
    ("postgresql", "select * into t2 from t"),
    ("postgresql", "select * from t for update"),
    ("postgresql", "select 1; select 2"),
    ("postgresql", "select 1 /* ; */ ; drop table t"),
    ("mysql", "select 1 /*! , load_file('/etc/hostname') */"),
    ("mysql", "select 1 /*M! , load_file('/etc/hostname') */"),
    ("mysql", "select '\\'' , load_file('/etc/hostname') -- '"),
    ("mysql", "select 1--1, load_file('/etc/hostname')"),
    ("mysql", "select 1 /* /* */ , load_file('/etc/hostname') */"),
    ("mysql", "select LOAD_FILE('/etc/hostname')"),
    ("mysql", "select * from t into outfile '/tmp/x'"),
    ("mysql", "select * from t into dumpfile '/tmp/x'"),
    ("mysql", "select a into @v from t"),
    ("mysql", "select sleep(600)"),
    ("mysql", "select benchmark(100000000, md5('a'))"),
    ("mysql", "select sys_exec('id')"),
    ("mysql", "select * from t lock in share mode"),
    ("sqlite", "select load_extension('/tmp/evil')"),
    ("sqlite", "select fts3_tokenizer('simple')"),
    ("sqlite", "attach database '/tmp/x.db' as x"),
    ("sqlite", "pragma writable_schema = 1"),
])
def test_refused(dialect, sql):
    with pytest.raises(DataError):
        check_select(sql, dialect)


@pytest.mark.parametrize(("dialect", "sql", "runs"), [
    ("postgresql", "select 1 /* /* nested */ , pg_read_file('/x') */", "SELECT 1"),  # nests
    ("postgresql", "select 2 # 3 as x", "SELECT 2 # 3 AS x"),  # an operator here
    ("postgresql", "select $$;drop$$ as a", "SELECT ';drop' AS a"),
    ("postgresql", "select 'a -- b' as c -- drop table t", "SELECT 'a -- b' AS c"),
    ("mysql", "select 1--1 as x", "SELECT 1 - -1 AS x"),  # minus minus: not a comment
    ("mysql", "select 1 # , load_file('/x')", "SELECT 1"),  # a comment in MySQL
    ("mysql", "select '/*!' as a", "SELECT '/*!' AS a"),
    ("sqlite", "select \"a;b\" from t limit 3", "SELECT \"a;b\" FROM t LIMIT 3"),
])
def test_what_runs_is_what_the_parser_read(dialect, sql, runs):
    assert check_select(sql, dialect) == runs


def _admin_rows(url: str, sql: str) -> list:
    from sqlalchemy import create_engine

    engine = create_engine(driver_url(url))
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.exec_driver_sql(sql)]
    finally:
        engine.dispose()


@pytest.mark.parametrize("sql", [
    "select \"pg_read_file\"('/etc/hostname') as x",
    "select 2 # 3 as y, pg_read_file('/etc/hostname') as x",
    "select ('/etc/hostname'::text).pg_read_file as x",
])
def test_postgres_file_reads_are_refused_before_the_server(sql):
    url = require_server(POSTGRES_URL)  # a superuser: the server would read the file
    assert HOSTNAME in str(_admin_rows(url, sql))
    with pytest.raises(DataError, match="calls pg_read_file") as err:
        load_table(url, query=sql, limits=ALLOW)
    assert HOSTNAME not in str(err.value)


def test_postgres_unicode_escaped_name_does_not_read_the_file():
    url = require_server(POSTGRES_URL)
    sql = "select U&\"pg\\005fread_file\"('/etc/hostname') as x"
    assert _admin_rows(url, sql)[0][0].strip() == HOSTNAME  # what runs the text as written
    with pytest.raises(DataError) as err:  # runs as the parser read it: U & "pg\005f..."
        load_table(url, query=sql, limits=ALLOW)
    assert HOSTNAME not in str(err.value)


@pytest.mark.parametrize("sql", [
    "select 1 /*!, load_file('/etc/hostname') */ as x",
    "select 1--1, load_file('/etc/hostname') as x",
])
def test_mysql_file_reads_are_refused_before_the_server(sql):
    url = require_server(MYSQL_URL)  # root holds FILE: the server would read the file
    assert HOSTNAME in str(_admin_rows(url, sql))
    with pytest.raises(DataError, match="executable comment|calls load_file") as err:
        load_table(url, query=sql, limits=ALLOW)
    assert HOSTNAME not in str(err.value)


QUERIES = {  # ordinary reading queries, written as people write them
    "postgresql": [
        "select a, b::numeric(10, 2) as b2, c from {t} where c ilike 'x%' order by a limit 5",
        "select distinct on (c) c, a from {t} order by c, a desc",
        "select c, count(*) filter (where a > 2) as n, avg(b) over () as m from {t} group by c, b",
        "with s as (select * from {t} where a > 1) select s.*, now() - interval '1 day' d from s",
        "select a, case when b > 1 then 'big' else 'small' end as size, E'x\\ty' as e from {t}",
        "select * from {t} where c ~ '^x' and a = any(array[1, 2, 3]) union all select * from {t}",
        "select date_trunc('month', now()) as m, extract(year from now()) as y, pg_typeof(1)",
    ],
    "mysql": [
        "select a, cast(b as decimal(10, 2)) b2, c from {t} where c like 'x%' order by a limit 5",
        "select c, count(*) as n, group_concat(a separator ',') as g from {t} group by c",
        "select a, if(b > 1, 'big', 'small') as size, ifnull(c, '-') as c2 from {t} limit 2, 3",
        "select * from {t} where c regexp '^x' and a in (1, 2, 3) and b <=> 1.5",
        "select date_format(now(), '%Y-%m') as m, now() + interval 1 day as d, 'it\\'s' as q",
        "select `a`, \"text\" as s, a div 2 as h, a mod 2 as r from {t}",
        "with s as (select * from {t} where a > 1) select s.* from s",
    ],
}


@pytest.mark.parametrize("kind", ["postgresql", "mysql"])
def test_ordinary_queries_still_run(kind):
    from sqlalchemy import create_engine

    admin = require_server(POSTGRES_URL if kind == "postgresql" else MYSQL_URL)
    name = f"automl_chk_{uuid.uuid4().hex[:10]}"
    engine = create_engine(driver_url(admin))
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {name} (a INT, b FLOAT, c VARCHAR(10))")
        conn.exec_driver_sql(f"INSERT INTO {name} VALUES (1, 1.5, 'xa'), (2, 2.5, 'xb'), "
                             "(3, 0.5, 'yc'), (4, 3.0, 'xd'), (5, 1.0, 'ze')")
    try:
        url = read_only(admin)
        for sql in QUERIES[kind]:
            table = load_table(url, query=sql.format(t=name))
            assert len(table.frame) >= 1, sql
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
        engine.dispose()
