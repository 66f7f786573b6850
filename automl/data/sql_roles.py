"""Database accounts that can do more than read tables: found right after connecting.

A PostgreSQL superuser (or a member of pg_read_server_files, pg_write_server_files or
pg_execute_server_program, or a role that can SET ROLE to one of these) and a MySQL/MariaDB
account with the FILE or SUPER privilege (``GRANT ALL ON *.*`` included, also through a
role) can read the server's files with one SELECT that the query check does not know, for
example through a function a superuser created. The app refuses such an account unless
``AUTOML_ALLOW_PRIVILEGED_DB=1`` (one person on their own machine); the command line and
Python warn (``LoadLimits.privileged``: ``"refuse"``, ``"warn"`` or ``"allow"``).
"""

from __future__ import annotations

import os
import re
from typing import Any

from automl.errors import ConfigError, DataError

__all__ = ["ALLOW_ENV", "MODES", "app_policy", "check_account", "privileges"]

MODES = ("refuse", "warn", "allow")
ALLOW_ENV = "AUTOML_ALLOW_PRIVILEGED_DB"
_PG_FILE_ROLES = ("pg_read_server_files", "pg_write_server_files", "pg_execute_server_program")
_PG_QUERY = f"""
SELECT r.rolname FROM pg_catalog.pg_roles r
WHERE (r.rolsuper OR r.rolname IN {_PG_FILE_ROLES!r})
  AND pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER')
ORDER BY r.rolname"""
_GLOBAL_GRANT = re.compile(r"^GRANT (.+?) ON \*\.\* TO ", re.I)
_MYSQL_RISKY = ("ALL PRIVILEGES", "FILE", "SUPER")


def app_policy() -> str:
    """``"allow"`` when ``AUTOML_ALLOW_PRIVILEGED_DB=1`` is set, else ``"refuse"``."""
    return "allow" if os.environ.get(ALLOW_ENV, "").strip() == "1" else "refuse"


def check_account(conn: Any, mode: str, where: str) -> list[str]:
    """Apply ``mode`` to the account of ``conn``: raise (refuse), or return a warning."""
    if mode not in MODES:
        raise ConfigError(f"LoadLimits.privileged is {mode!r}; use one of {', '.join(MODES)}.")
    if mode == "allow":
        return []
    found = privileges(conn)
    if not found:
        return []
    what = (f"The database account on {where} can read or write the server's files "
            f"({'; '.join(found)}).")
    if mode == "refuse":
        raise DataError(f"{what} Connect with an account that may only read (for example one "
                        "with SELECT on the tables you need), or, on your own machine, start "
                        f"the app with {ALLOW_ENV}=1.")
    return [f"{what} Use an account that may only read; the read-only transaction does not "
            "stop what such an account can do with a SELECT."]


def privileges(conn: Any) -> list[str]:
    """What the connected account holds beyond reading, in words; empty for a plain reader."""
    if conn.dialect.name == "postgresql":
        roles = [r[0] for r in conn.exec_driver_sql(_PG_QUERY)]
        return [f"member of {r}" if r in _PG_FILE_ROLES else f"superuser role {r}"
                for r in roles]
    lines = [r[0] for r in conn.exec_driver_sql("SHOW GRANTS")]
    for role in _mysql_roles(conn):
        try:
            lines += [r[0] for r in conn.exec_driver_sql(f"SHOW GRANTS FOR {role}")]
        except Exception:
            continue  # a role whose grants cannot be shown here
    risky = set()
    for line in lines:
        m = _GLOBAL_GRANT.match(line)
        if m:
            held = {p.strip().upper() for p in m[1].split(",")}
            risky.update(p for p in _MYSQL_RISKY if p in held)
    return [("all privileges on *.*" if p == "ALL PRIVILEGES" else f"the {p} privilege")
            for p in sorted(risky)]


def _mysql_roles(conn: Any) -> list[str]:
    """Roles the account may use (MariaDB's APPLICABLE_ROLES), quoted for SHOW GRANTS."""
    try:
        rows = conn.exec_driver_sql("SELECT ROLE_NAME FROM information_schema.APPLICABLE_ROLES")
    except Exception:
        return []
    return ["`" + str(r[0]).replace("`", "``") + "`" for r in rows]
