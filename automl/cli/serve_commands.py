"""``automl serve``: a model file behind an HTTP API (automl.serve)."""

from __future__ import annotations

__all__ = ["serve_command"]


def serve_command(args) -> int:
    from automl.errors import ConfigError

    raise ConfigError("automl serve is being built")
