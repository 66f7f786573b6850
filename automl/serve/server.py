"""Listening and running: the socket is bound here, before uvicorn starts, so a port in use
is one line and exit code 2 (uvicorn alone logs a traceback-free error but exits 1, or,
with workers, only after spawning them).

With one worker the model loaded to check the file is the one served. With ``--workers N``
the socket is shared by N processes that uvicorn spawns; each imports
:func:`automl.serve.app.app_from_env`, which loads the file again (a spawned process shares
nothing), and the metrics of all of them are summed through a temporary folder.
"""

from __future__ import annotations

import errno
import os
import socket
import sys
import tempfile
from pathlib import Path

from automl.errors import ConfigError

__all__ = ["LIMIT_CONCURRENCY", "bind", "serve"]

# Connections and requests in flight per worker before uvicorn answers 503: with a body of
# up to --max-bytes each, this bounds the memory that slow or many clients can take.
LIMIT_CONCURRENCY = 256
_HINTS = {errno.EADDRINUSE: "another process listens there: stop it or choose another --port",
          errno.EACCES: "ports below 1024 need privileges: choose a --port above 1023",
          errno.EADDRNOTAVAIL: "that address is not one of this machine's: check --host"}


def serve(model_path: str | Path, *, host: str = "127.0.0.1", port: int = 8000,
          workers: int = 1, max_rows: int = 10_000, max_bytes: int = 10 * 2**20,
          access_log: bool = False) -> int:
    """Serve ``model_path`` until interrupted; 0 after a clean shutdown. Bad settings, a bad
    model file or an address in use raise an AutoMLError before anything listens."""
    for name, value, low in (("--port", port, 0), ("--workers", workers, 1),
                             ("--max-rows", max_rows, 1), ("--max-bytes", max_bytes, 2)):
        if value < low or (name == "--port" and value > 65535):
            raise ConfigError(f"{name} must be at least {low}" + (" and at most 65535" if
                              name == "--port" else "") + f" (got {value}).")
    sock = bind(host, port)  # first: a port in use fails at once, before a model loads
    try:
        from automl.bundle import load_model

        model = load_model(model_path)  # a bad file fails here, once, not in every worker
    except BaseException:
        sock.close()
        raise
    import uvicorn

    options = {"log_level": "info", "access_log": access_log, "workers": workers,
               "limit_concurrency": LIMIT_CONCURRENCY, "timeout_graceful_shutdown": 10}
    bound = sock.getsockname()
    print(f"serving {model_path} ({model.task}, {model.manifest.family}) on "
          f"http://{host}:{bound[1]} with {workers} worker process(es): POST /predict; "
          "GET /health, /schema, /metrics, /docs", file=sys.stderr, flush=True)
    if workers == 1:
        from automl.serve.app import create_app

        app = create_app(model, max_rows=max_rows, max_bytes=max_bytes)
        uvicorn.Server(uvicorn.Config(app, **options)).run(sockets=[sock])
        return 0
    del model
    from uvicorn.supervisors import Multiprocess

    from automl.serve.app import ENV_MAX_BYTES, ENV_MAX_ROWS, ENV_MODEL

    with tempfile.TemporaryDirectory(prefix="automl-serve-metrics-") as folder:
        os.environ.update({ENV_MODEL: str(Path(model_path).resolve()),
                           ENV_MAX_ROWS: str(max_rows), ENV_MAX_BYTES: str(max_bytes),
                           "PROMETHEUS_MULTIPROC_DIR": folder})
        config = uvicorn.Config("automl.serve.app:app_from_env", factory=True, **options)
        Multiprocess(config, sockets=[sock]).run()
    return 0


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (not yet listening); ConfigError if it cannot be."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted connections only then;
    # without it Nagle holds each answer for the client's delayed ACK (+40 ms a request)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # not over a live listener
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        why = e.strerror or str(e)
        hint = _HINTS.get(e.errno, "check --host and --port")
        raise ConfigError(f"cannot listen on {host}:{port}: {why}; {hint}.") from None
    sock.set_inheritable(True)
    return sock
