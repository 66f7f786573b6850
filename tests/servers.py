"""Real database servers for tests: skip with a reason when absent, unless CI requires them.

``POSTGRES_URL`` and ``MYSQL_URL`` are administrator accounts (to create and drop test
tables); ``read_only(url)`` is the same server as the account ``automl_ro``, which may only
read the test database. ``.ci/run`` creates it from ``.ci/automl_ro.*.sql``; ``read_only``
runs the same files when the account is missing, so local runs work too.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

POSTGRES_URL = os.environ.get("AUTOML_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("AUTOML_TEST_MYSQL", "mysql://root@127.0.0.1:3306/test")
RO_USER = "automl_ro"
_SETUP = Path(__file__).resolve().parent.parent / ".ci"


def require_server(url: str) -> str:
    """Return ``url`` if its server answers; otherwise skip (or fail in CI)."""
    try:
        _run(url, ["select 1"])
    except Exception as exc:  # any failure to connect means: no server here
        if os.environ.get("AUTOML_REQUIRE_SERVERS") == "1":
            pytest.fail(f"database server required in CI but not reachable: {url}: {exc}")
        pytest.skip(f"no database server at {url} ({type(exc).__name__}); "
                    "set AUTOML_REQUIRE_SERVERS=1 to make this a failure")
    return url


def read_only(admin_url: str) -> str:
    """The URL of ``automl_ro`` on ``admin_url``'s server, created there if missing."""
    require_server(admin_url)
    scheme, rest = admin_url.split("://", 1)
    url = f"{scheme}://{RO_USER}@{rest.split('@', 1)[1]}"
    try:
        _run(url, ["select 1"])
    except Exception:
        kind = "postgres" if scheme.startswith("postgres") else "mysql"
        text = (_SETUP / f"automl_ro.{kind}.sql").read_text()
        lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("--")]
        _run(admin_url, [s for s in "\n".join(lines).split(";\n") if s.strip()])
    return url


@contextlib.contextmanager
def table_on_server(url: str, frame: pd.DataFrame) -> Iterator[tuple[str, Callable[[], bool]]]:
    """``frame`` as a new table on ``url``'s server (skip if absent), dropped on leaving:
    yields its name and a check that it still exists."""
    from sqlalchemy import create_engine, inspect

    from automl.search.context import driver_url

    require_server(url)
    name = f"automl_ui_{uuid.uuid4().hex[:10]}"
    engine = create_engine(driver_url(url))
    frame.to_sql(name, engine, index=False)
    try:
        yield name, lambda: inspect(engine).has_table(name)
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
        engine.dispose()


def _run(url: str, statements: list[str]) -> None:
    from sqlalchemy import create_engine

    from automl.data.urls import driver_url

    engine = create_engine(driver_url(url), connect_args={"connect_timeout": 3})
    try:
        with engine.begin() as conn:
            for sql in statements:
                conn.exec_driver_sql(sql.rstrip(";"))
    finally:
        engine.dispose()
