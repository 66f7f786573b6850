"""Real HTTP servers for the serving tests, on loopback ports nothing else holds.

``app_server(app)`` runs an app in uvicorn in a thread (fast: the model is loaded once per
test module); ``served(model_file, ...)`` runs the real ``automl serve`` command in a
subprocess and waits for ``/health``. Both yield the base URL.
"""

from __future__ import annotations

import contextlib
import math
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import uvicorn

from automl.serve.server import bind

__all__ = ["Served", "app_server", "free_port", "json_rows", "served"]


def free_port() -> int:
    """A port free at the time of asking (for a server that must be told one)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def json_rows(frame: pd.DataFrame) -> list[dict]:
    """``frame`` as JSON records: Python scalars, dates as ISO text, blanks as None."""
    rows = frame.astype(object).to_dict("records")
    return [{k: _plain(v) for k, v in r.items()} for r in rows]


def _plain(value):
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.isoformat() if isinstance(value, pd.Timestamp) else value


@contextlib.contextmanager
def app_server(app) -> Iterator[str]:
    """``app`` served by uvicorn in a thread on a port bound here (no race for it)."""
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


class Served:
    """A running ``automl serve``: its URL, process and log (stderr) so far."""

    def __init__(self, url: str, process: subprocess.Popen, log: Path):
        self.url, self.process, self.log_file = url, process, log

    @property
    def log(self) -> str:
        return self.log_file.read_text(errors="replace")


@contextlib.contextmanager
def served(model_file, *args, tmp_path: Path, timeout: float = 90) -> Iterator[Served]:
    """``automl serve MODEL_FILE --port 0 ARGS`` until it answers /health; stopped (SIGTERM)
    on leaving. The port is the one the command prints (bound by it: no race)."""
    log = tmp_path / f"serve-{time.monotonic_ns()}.log"
    with log.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "automl.cli", "serve", str(model_file),
                                 "--port", "0", *map(str, args)], stdout=err, stderr=err)
    try:
        url = _wait(proc, log, timeout)
        yield Served(url, proc, log)
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _wait(proc: subprocess.Popen, log: Path, timeout: float) -> str:
    deadline, url = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"automl serve exited with {proc.returncode}:\n{log.read_text()}")
        if url is None:
            found = re.search(r"on (http://127\.0\.0\.1:\d+) ", log.read_text())
            url = found.group(1) if found else None
        if url is not None:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    return url
        time.sleep(0.1)
    raise RuntimeError(f"automl serve did not answer /health in {timeout:.0f} s:\n"
                       f"{log.read_text()}")
