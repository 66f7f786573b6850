"""Real database servers for tests: skip with a reason when absent, unless CI requires them."""

from __future__ import annotations

import os

import pytest

POSTGRES_URL = os.environ.get("AUTOML_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("AUTOML_TEST_MYSQL", "mysql://root@127.0.0.1:3306/test")


def require_server(url: str) -> str:
    """Return ``url`` if its server answers; otherwise skip (or fail in CI)."""
    from sqlalchemy import create_engine, text

    from automl.search.context import driver_url

    try:
        engine = create_engine(driver_url(url), connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:  # any failure to connect means: no server here
        if os.environ.get("AUTOML_REQUIRE_SERVERS") == "1":
            pytest.fail(f"database server required in CI but not reachable: {url}: {exc}")
        pytest.skip(f"no database server at {url} ({type(exc).__name__}); "
                    "set AUTOML_REQUIRE_SERVERS=1 to make this a failure")
    return url
