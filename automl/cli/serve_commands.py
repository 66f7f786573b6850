"""``automl serve``: a model file behind an HTTP API (automl.serve)."""

from __future__ import annotations

__all__ = ["serve_command"]


def serve_command(args) -> int:
    from automl.serve.server import serve

    return serve(args.model, host=args.host, port=args.port, workers=args.workers,
                 max_rows=args.max_rows, max_bytes=args.max_bytes, access_log=args.access_log)
