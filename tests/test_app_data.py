"""The Data page's databases tab, its profile, and the Train page's "Columns to leave out",
with Streamlit's AppTest, a real SQLite file and real PostgreSQL and MariaDB servers."""

from __future__ import annotations

import io
import re
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from automl.data import load_table, profile_table
from automl.plots.data import column_chart
from automl.runs import open_run
from pages._shared.data_sources import LISTING_KEY
from pages._shared.ui import SessionData
from tests.apptest import app, session, shown
from tests.data_files import cancer
from tests.servers import MYSQL_URL, POSTGRES_URL, read_only, table_on_server

ROOT = Path(__file__).resolve().parent.parent
SECRET = "Sup3rS3cretPw"


@pytest.fixture(autouse=True)
def runs_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("AUTOML_RUNS_DIR", str(tmp_path / "runs"))
    return tmp_path / "runs"


def texts(elements) -> str:
    return shown(elements)


def rendered(at: AppTest) -> str:
    """Everything drawn (element messages, dataframes included), except password boxes, as
    read: Markdown's backslash escapes removed (doubled in the protobuf text format)."""
    out = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if getattr(node, "type", None) == "text_input" and proto is not None \
                and proto.type == proto.PASSWORD:
            out.append(proto.label)
            return
        if proto is not None:
            out.append(re.sub(r"\\\\([!-/:-@\[-`{-~])", r"\1", str(proto)))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    out += [d.value.to_string() for d in at.dataframe]
    return "\n".join(out)


def listing(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "n_columns" in d.value.columns)


# --- SQLite upload -------------------------------------------------------------------------

@pytest.fixture
def sqlite_bytes(tmp_path) -> bytes:
    path = tmp_path / "cancer.db"
    with sqlite3.connect(path) as conn:
        cancer().to_sql("cancer", conn, index=False)
        pd.DataFrame({"k": [1, 2, 3]}).to_sql("small", conn, index=False)
    conn.close()
    return path.read_bytes()


def test_sqlite_upload_lists_tables_previews_and_loads(sqlite_bytes):
    at = app(state=SessionData(table=load_table(ROOT / "sample_data" / "wages.csv")))
    at.file_uploader(key="data_sqlite").set_value(
        ("cancer.db", sqlite_bytes, "application/octet-stream")).run()
    assert not at.exception and not at.error
    tables = listing(at).set_index("table")
    assert tables.loc["cancer", "rows"] == 569 and tables.loc["small", "rows"] == 3
    assert "mean_radius" in tables.loc["cancer", "columns"]
    at.selectbox(key="sqlite_table").select("cancer").run()
    at.button(key="sqlite_preview").click().run()
    assert any(len(d.value) == 20 and "mean_radius" in d.value.columns for d in at.dataframe)
    assert session(at).table.source == "wages.csv"  # a preview loads nothing
    at.button(key="sqlite_load").click().run()
    assert not at.exception and not at.error
    table = session(at).table
    assert table.frame.shape == (569, 7) and "cancer.db" in table.source
    assert {m.label: m.value for m in at.metric}["Rows"] == "569"

    at.radio(key="sqlite_how").set_value("A SQL query").run()
    at.text_area(key="sqlite_query").input("DELETE FROM cancer").run()
    at.button(key="sqlite_load").click().run()
    assert "Only reading queries" in texts(at.error)
    assert session(at).table.frame.shape == (569, 7)  # kept
    at.text_area(key="sqlite_query").input("SELECT * FROM cancer WHERE target = 1").run()
    at.button(key="sqlite_load").click().run()
    assert not at.error and len(session(at).table.frame) == 357


def test_sqlite_url_typed_as_server_url_is_refused(tmp_path, sqlite_bytes):
    (tmp_path / "x.db").write_bytes(sqlite_bytes)
    at = app()
    at.text_input(key="db_url").input(f"sqlite:///{tmp_path / 'x.db'}").run()
    at.button(key="db_connect").click().run()
    assert "not allowed here" in texts(at.error)
    assert session(at).table is None


# --- Server databases ----------------------------------------------------------------------

@pytest.fixture(params=["postgresql", "mariadb"])
def server_table(request):
    url = POSTGRES_URL if request.param == "postgresql" else MYSQL_URL
    with table_on_server(url, cancer()) as (name, exists):
        yield read_only(url), name, exists  # the app refuses administrator accounts


def _connect(at: AppTest, url: str) -> AppTest:
    at.text_input(key="db_url").input(url).run()
    return at.button(key="db_connect").click().run()


@pytest.mark.slow
def test_server_connect_preview_load_and_refuse_drop(server_table):
    url, name, exists = server_table
    at = _connect(app(), url)
    assert not at.exception and not at.error, texts(at.error)
    assert name in list(listing(at)["table"])
    at.selectbox(key="db_table").select(name).run()
    at.button(key="db_preview").click().run()
    assert any(len(d.value) == 20 and "mean_radius" in d.value.columns for d in at.dataframe)
    at.button(key="db_load").click().run()
    assert not at.exception and not at.error
    table = session(at).table
    assert table.frame.shape == (569, 7) and name in table.source

    at.radio(key="db_how").set_value("A SQL query").run()
    at.text_area(key="db_query").input(f"DROP TABLE {name}").run()
    at.button(key="db_load").click().run()
    assert "Only reading queries" in texts(at.error)
    assert exists() and session(at).table is table  # the table and the loaded data stay
    at.text_area(key="db_query").input(f"SELECT 1; DROP TABLE {name}").run()
    at.button(key="db_preview").click().run()
    assert "more than one statement" in texts(at.error) and exists()


@pytest.mark.slow
def test_server_password_is_never_shown_or_kept(server_table):
    url, name, _ = server_table
    scheme, rest = url.split("://", 1)
    user, host = rest.split("@", 1)
    secret_url = f"{scheme}://{user}:{SECRET}@{host}"
    at = _connect(app(), secret_url)
    assert not at.exception
    if not at.error:  # trust authentication (PostgreSQL here): the password is not checked
        at.selectbox(key="db_table").select(name).run()
        at.button(key="db_preview").click().run()
        at.button(key="db_load").click().run()
        assert "***" in session(at).table.source
    else:  # a wrong password (MariaDB's root has none): a plain message
        assert "***" in texts(at.error) or "password" in texts(at.error).lower()
    assert "***" in rendered(at)
    assert SECRET not in rendered(at)
    assert SECRET not in repr(session(at))
    assert SECRET not in repr(at.session_state[LISTING_KEY])  # created by Connect


def test_bad_server_is_an_error_not_a_traceback():
    at = _connect(app(), f"postgresql://u:{SECRET}@127.0.0.1:1/nodb")
    assert not at.exception and at.error
    assert SECRET not in rendered(at)


# --- Profile and Train's columns to leave out ----------------------------------------------

def flagged_frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"customer_id": np.arange(1000, 1200), "age": rng.integers(18, 80, 200),
                         "income": rng.normal(50, 10, 200).round(2), "const": ["same"] * 200,
                         "outcome": rng.choice(["yes", "no"], 200)})


def _csv_table():
    return load_table(io.BytesIO(flagged_frame().to_csv(index=False).encode()), name="flagged.csv")


def test_profile_shows_warnings_with_actions_and_column_stats():
    at = app(state=SessionData(table=_csv_table()))
    warned = texts(at.warning)
    assert "'customer_id' look like row identifiers" in warned
    assert "'const' hold the same value in every row" in warned
    assert "What to do:" in warned
    stats = next(d.value for d in at.dataframe if "top values" in d.value.columns)
    stats = stats.set_index("column")
    assert stats.loc["const", "unique"] == 1 and stats.loc["age", "kind"] == "numeric"
    assert stats.loc["const", "top values"] == "same (200)"
    assert at.selectbox(key="profile_column").value == "customer_id"
    at.selectbox(key="profile_column").select("income").run()
    assert not at.exception and at.get("plotly_chart")


def test_column_chart_data_matches_the_profile():
    p = profile_table(flagged_frame(), target="outcome")
    income = column_chart(p.column("income")).figure.data[0]
    assert sum(income.y) == 200
    bars = column_chart(p.column("outcome")).figure.data[0]
    assert sorted(bars.x) == ["no", "yes"] and sum(bars.y) == 200


def test_train_prefills_columns_to_leave_out_and_the_run_excludes_them(monkeypatch):
    import automl.background

    monkeypatch.setattr(automl.background, "_spawn", lambda *args: None)  # no search
    at = app("train", state=SessionData(table=_csv_table()))
    assert at.selectbox(key="train_target").value == "outcome"
    drops = at.multiselect(key="train_drop:outcome")
    assert drops.value == ["customer_id", "const"]
    assert "**customer_id** (id like)" in texts(at.caption)
    at.button(key="start_search").click().run()
    assert not at.exception and not at.error, texts(at.error)
    run = open_run(session(at).current_run_id)
    names = [c["name"] for c in run.spec.schema]
    assert names == ["age", "income"]
    assert run.spec.source == "flagged.csv"
    assert session(at).table.frame.shape[1] == 5  # the loaded table itself is unchanged
