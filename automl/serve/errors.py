"""The one error a request can cause: what a client sent wrong, as a 4xx answer."""

from __future__ import annotations

from automl.errors import AutoMLError

__all__ = ["RequestError"]


class RequestError(AutoMLError):
    """A request the server refuses: ``status`` is the HTTP status (400, 408, 413, 415,
    422), ``reason`` a short fixed code for the metrics, ``row`` (0-based index into the
    array) and ``column`` where the fault is in one place."""

    def __init__(self, status: int, reason: str, message: str, *, row: int | None = None,
                 column: str | None = None):
        super().__init__(message)
        self.status, self.reason, self.row, self.column = status, reason, row, column

    def to_json(self) -> dict:
        """The answer's body: the message, and where the fault is (null when nowhere)."""
        return {"detail": str(self), "row": self.row, "column": self.column}
