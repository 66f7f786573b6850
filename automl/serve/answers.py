"""Answers as JSON bytes: predictions as records, errors as ``{"detail", "row", "column"}``."""

from __future__ import annotations

import json

from fastapi.responses import Response

__all__ = ["dumps", "error", "json_response", "records"]


def records(frame) -> list[dict]:
    """One dict per row, the frame's columns in order, Python scalars (``tolist``)."""
    keys = [str(c) for c in frame.columns]
    return [dict(zip(keys, row, strict=True))
            for row in zip(*(frame[c].tolist() for c in frame.columns), strict=True)]


def dumps(value) -> bytes:
    """Strict JSON: a NaN from a model is an error (a 500), not an invalid answer."""
    return json.dumps(value, allow_nan=False, separators=(",", ":")).encode()


def json_response(body: bytes, status: int = 200, *, close: bool = False) -> Response:
    """``close``: after a body left unread (413, 408), the connection cannot be reused."""
    return Response(body, status, {"connection": "close"} if close else None,
                    "application/json")


def error(message: str, status: int, row: int | None = None, column: str | None = None
          ) -> Response:
    return json_response(dumps({"detail": message, "row": row, "column": column}), status)
