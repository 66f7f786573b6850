"""Prometheus metrics of one served model, in a registry of its own.

Requests by endpoint and status, a latency histogram by endpoint, rows scored, and refused
or failed requests by a fixed reason code. Label values come from fixed sets only (a path
the app does not serve counts as ``other``), so a client sending random paths cannot grow
the number of series. With several worker processes (``automl serve --workers N``) each
process writes its samples to ``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics`` sums them all,
whichever worker answers.
"""

from __future__ import annotations

import os
import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

__all__ = ["MetricsMiddleware", "ServeMetrics"]

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ServeMetrics:
    """The counters and the histogram, and their exposition text."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self):
        self.registry = r = CollectorRegistry()
        self.requests = Counter("automl_serve_requests", "HTTP requests answered, by endpoint "
                                "and status", ["endpoint", "status"], registry=r)
        self.latency = Histogram("automl_serve_request_seconds", "Time from a request's "
                                 "arrival to its answer", ["endpoint"], buckets=_BUCKETS,
                                 registry=r)
        self.rows = Counter("automl_serve_rows", "Rows scored", ["endpoint"], registry=r)
        self.errors = Counter("automl_serve_errors", "Requests refused (4xx) or failed (5xx), "
                              "by reason", ["endpoint", "reason"], registry=r)

    def exposition(self) -> bytes:
        """The Prometheus text of this process, or of all workers in multiprocess mode."""
        folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if not folder:
            return generate_latest(self.registry)
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=folder)
        return generate_latest(registry)


class MetricsMiddleware:
    """Pure ASGI middleware (no per-request task or body copy) that counts every HTTP
    answer, including those of unknown paths and of errors the app did not handle."""

    def __init__(self, app, metrics: ServeMetrics, endpoints: frozenset[str]):
        self.app, self.metrics, self.endpoints = app, metrics, endpoints

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        endpoint = scope["path"] if scope["path"] in self.endpoints else "other"
        status = 500  # unless the app starts an answer

        async def counted(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        start = time.perf_counter()
        try:
            await self.app(scope, receive, counted)
        finally:
            self.metrics.requests.labels(endpoint, str(status)).inc()
            self.metrics.latency.labels(endpoint).observe(time.perf_counter() - start)
