"""Database URLs in one place: the driver a scheme uses, which URL options may reach it,
which hosts may be reached, and how a URL is shown with every credential masked.

A URL is typed by whoever uses the app, so nothing in it may steer the driver beyond
"which database, as whom": options such as MySQL's ``init_command`` or ``local_infile``, or
libpq's ``options``, ``host=/socket/dir``, ``service`` and ``passfile``, would run SQL before
the read-only transaction starts or read files on this machine. Only a short list of
harmless options per dialect passes (``OPTIONS``); every other one is refused by name,
before connecting. ``AUTOML_DB_HOSTS`` (names, addresses or CIDR blocks, comma-separated)
limits the hosts the engine connects to.
"""

from __future__ import annotations

import ipaddress
import os
import re
from typing import Any
from urllib.parse import unquote, unquote_plus

from automl.errors import DataError

__all__ = ["DRIVERS", "OPTIONS", "check_host", "driver_url", "mask_url", "scrub",
           "server_url"]

# Plain URLs name the drivers this project installs (the `db` extra).
DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg",
           "mysql": "mysql+pymysql", "mariadb": "mysql+pymysql"}
_SCHEMES = {**DRIVERS, "postgresql+psycopg": "postgresql+psycopg",
            "postgres+psycopg": "postgresql+psycopg", "mysql+pymysql": "mysql+pymysql",
            "mariadb+pymysql": "mysql+pymysql"}
_TIMEOUT = re.compile(r"\d{1,4}")
OPTIONS: dict[str, dict[str, re.Pattern]] = {  # option -> the values it may take
    "postgresql": {"sslmode": re.compile(r"disable|allow|prefer|require|verify-ca|verify-full"),
                   "connect_timeout": _TIMEOUT,
                   "application_name": re.compile(r"[^\x00-\x1f\x7f]{0,64}")},
    "mysql": {"charset": re.compile(r"\w{1,32}"), "connect_timeout": _TIMEOUT},
}
HOSTS_ENV = "AUTOML_DB_HOSTS"
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,252})")
_MASKED = "***"
_CREDENTIAL_KEY = re.compile(r"pass|pwd|secret|token|key|auth|cred", re.I)
_CREDENTIAL_TEXT = re.compile(r"(?:pass\w*|pwd)\s*=\s*'?([^\s']*)", re.I)
_AUTHORITY = re.compile(r"(?P<head>[A-Za-z][\w+.-]*://[^:/]*):(?P<secret>.*)@(?P<rest>[^@]*)",
                        re.S)


def driver_url(url: str) -> str:
    """``postgresql://...`` -> ``postgresql+psycopg://...``; explicit drivers are kept."""
    scheme, sep, rest = url.partition("://")
    return f"{DRIVERS.get(scheme, scheme)}{sep}{rest}"


def mask_url(url: str) -> str:
    """The URL with every credential as ***: ``user:secret@`` (up to the last ``@``, so a
    password holding ``@`` or ``/`` is masked whole) and options such as ``password=``,
    ``passwd=``, ``sslpassword=`` or any value holding ``password=`` (percent-encoded too)."""
    m = _AUTHORITY.fullmatch(url)
    head, rest = (f"{m['head']}:{_MASKED}@", m["rest"]) if m else ("", url)
    path, sep, query = rest.partition("?")
    if not sep:
        return head + rest
    pairs = []
    for pair in query.split("&"):
        key, eq, value = pair.partition("=")
        if eq and _is_credential(key, value):
            value = _MASKED
        pairs.append(f"{key}{eq}{value}")
    return f"{head}{path}?{'&'.join(pairs)}"


def scrub(message: str, url: str | None) -> str:
    """``message`` with every secret of ``url`` (as written and decoded) replaced by ***."""
    for secret in sorted(_secrets(url or ""), key=len, reverse=True):
        message = message.replace(secret, _MASKED)
    return message


def server_url(url: str) -> Any:
    """The SQLAlchemy URL to connect with, after refusing, before any connection is made:
    unknown schemes or drivers, a missing or odd host (a socket path), options outside
    ``OPTIONS`` (named in the message), and hosts outside ``AUTOML_DB_HOSTS``."""
    import sqlalchemy as sa

    shown = mask_url(url)
    scheme, _, rest = url.partition("://")
    if scheme.lower() not in _SCHEMES:
        raise DataError(f"Databases of type '{scheme}' are not supported; use a postgresql://, "
                        "mysql://, mariadb:// or sqlite:/// URL (the drivers are chosen here).")
    try:
        u = sa.make_url(f"{_SCHEMES[scheme.lower()]}://{rest}")
    except Exception:
        raise DataError(f"{shown} is not a database URL like "
                        "postgresql://user:password@host:5432/dbname.") from None
    dialect = u.get_backend_name()
    check_host(u.host, shown)
    if u.database and ("=" in u.database or "/" in u.database):
        raise DataError(f"{shown}: the database name {u.database!r} holds '=' or '/'; name "
                        "one database, as in postgresql://user@host:5432/dbname.")
    allowed = OPTIONS[dialect]
    refused = sorted(k for k in u.query if k not in allowed)
    if refused:
        raise DataError(
            f"{shown}: the URL option{'s' if len(refused) > 1 else ''} {', '.join(refused)} "
            f"{'are' if len(refused) > 1 else 'is'} not allowed (options can make the driver "
            f"run SQL or read files before the read-only transaction). Allowed: "
            f"{', '.join(allowed)}; put a password in the URL as user:password@host.")
    for key, value in u.query.items():
        if not isinstance(value, str) or not allowed[key].fullmatch(value):
            raise DataError(f"{shown}: the URL option {key} is given twice or has a value "
                            "that is not allowed; give it once, with a plain value.")
    return u


def check_host(host: str | None, shown: str) -> None:
    """Refuse a missing host, a host that is not a plain name or address (a libpq socket
    directory such as ``%2Ftmp``, several hosts), and one outside ``AUTOML_DB_HOSTS``."""
    if not host:
        raise DataError(f"{shown} names no host; write the server's name or address, as in "
                        "postgresql://user@host:5432/dbname (local sockets are not used).")
    if "@" in host:
        raise DataError(f"{shown}: the host part holds '@'; write a password that holds '@' "
                        "as %40, as in postgresql://user:a%40b@host/dbname.")
    ip = _address(host)
    if ip is None and not _HOST.fullmatch(host):
        raise DataError(f"{shown}: {host!r} is not a host name or address (socket paths and "
                        "lists of hosts are not used); write one server's name or address.")
    allowed = [h.strip().lower() for h in os.environ.get(HOSTS_ENV, "").split(",") if h.strip()]
    if not allowed or host.lower() in allowed:
        return
    if ip is not None:
        for entry in allowed:
            try:
                if ip in ipaddress.ip_network(entry, strict=False):
                    return
            except ValueError:
                continue
    raise DataError(f"The database host {host!r} is not one this app may connect to "
                    f"({HOSTS_ENV} lists the allowed hosts); use an allowed host, or ask "
                    "whoever runs the app to add it.")


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _is_credential(key: str, value: str) -> bool:
    return bool(_CREDENTIAL_KEY.search(unquote_plus(key))
                or _CREDENTIAL_TEXT.search(unquote_plus(value)))


def _secrets(url: str) -> set[str]:
    """Every credential in ``url``, as written and decoded."""
    found = set()
    m = _AUTHORITY.fullmatch(url)
    if m:
        found.add(m["secret"])
        found.add(m["secret"].split("@", 1)[0])  # what a URL parser takes as the password
        rest = m["rest"]
    else:
        rest = url
    for pair in rest.partition("?")[2].split("&"):
        key, eq, value = pair.partition("=")
        if eq and _is_credential(key, value):
            found.add(value)
            found.update(m[1] for m in _CREDENTIAL_TEXT.finditer(unquote_plus(value)))
    return {form for s in found if s for form in (s, unquote(s), unquote_plus(s)) if form}
