"""The FastAPI app around one loaded model.

The scoring endpoints take the raw request (no FastAPI body model: one pydantic object per
row would cost more than the model for large batches) and answer JSON written with the
``json`` module. The OpenAPI document is still complete: :mod:`automl.serve.openapi` writes
the request and answer schemas from the model's manifest.
"""

from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import Response

from automl.errors import SchemaMismatchError
from automl.serve.answers import dumps, error, json_response, records
from automl.serve.batching import Batcher
from automl.serve.body import parse_json, read_body
from automl.serve.columns import column_specs
from automl.serve.errors import RequestError
from automl.serve.explaining import MAX_TOP, Explanations, parse_top
from automl.serve.metrics import MetricsMiddleware, ServeMetrics
from automl.serve.openapi import body_operation, components, install_openapi, schema_document
from automl.serve.rows import records_frame

__all__ = ["ENDPOINTS", "ENV_MAX_BYTES", "ENV_MAX_ROWS", "ENV_MODEL", "app_from_env",
           "create_app"]

ENV_MODEL, ENV_MAX_ROWS, ENV_MAX_BYTES = ("AUTOML_SERVE_MODEL", "AUTOML_SERVE_MAX_ROWS",
                                          "AUTOML_SERVE_MAX_BYTES")
ENDPOINTS = ("/predict", "/explain", "/health", "/schema", "/metrics", "/openapi.json", "/docs")
_FAILED = "the model failed to score the rows; the server's log says why."
_log = logging.getLogger("automl.serve")


def create_app(model, *, max_rows: int = 10_000, max_bytes: int = 10 * 2**20) -> FastAPI:
    """The app serving ``model`` (an :class:`automl.bundle.Model`)."""
    specs = column_specs(model)
    metrics = ServeMetrics()
    batcher = Batcher(model.predict)

    @asynccontextmanager
    async def lifespan(app):
        batcher.start()
        yield
        await batcher.stop()

    m = model.manifest
    app = FastAPI(title=f"automl model: {model.target} ({model.task}, {m.family})",
                  version=(m.sha256 or "unsealed")[:12], lifespan=lifespan, redoc_url=None,
                  description="POST rows as a JSON array of objects, one per row, to "
                              "/predict. GET /schema lists the columns.")
    app.add_middleware(MetricsMiddleware, metrics=metrics, endpoints=frozenset(ENDPOINTS))
    install_openapi(app, components(model, specs))
    about = dumps(schema_document(model, specs, max_rows, max_bytes))
    health = dumps({"status": "ok", "task": model.task, "family": m.family,
                     "worker": os.getpid()})

    async def answer(endpoint: str, request: Request, score) -> Response:
        try:
            frame = records_frame(parse_json(await read_body(request, max_bytes)), specs,
                                  max_rows)
            payload = dumps(await score(frame))
        except RequestError as e:
            metrics.errors.labels(endpoint, e.reason).inc()
            return json_response(dumps(e.to_json()), e.status, close=e.status in (408, 413))
        except SchemaMismatchError as e:  # the model's own check, after the server's
            metrics.errors.labels(endpoint, "schema").inc()
            return error(str(e), 422)
        except Exception:
            _log.exception("%s: scoring failed", endpoint)
            metrics.errors.labels(endpoint, "model").inc()
            return error(_FAILED, 500)
        metrics.rows.labels(endpoint).inc(len(frame))
        return json_response(payload)

    async def predictions(frame):
        return {"predictions": records(await batcher.score(frame))}

    @app.post("/predict", summary="Score rows", openapi_extra=body_operation(
        max_rows, "Predictions", "The rows to score"))
    async def predict(request: Request) -> Response:
        return await answer("/predict", request, predictions)

    explanations = Explanations(model, batcher, max_rows)

    @app.post("/explain", summary="Score rows and give each row's top reasons",
              openapi_extra=body_operation(explanations.max_rows, "Explanations",
                                           "The rows to explain", top=MAX_TOP))
    async def explain(request: Request) -> Response:
        return await answer("/explain", request, lambda frame: explanations(
            frame, parse_top(request.query_params.get("top"))))

    @app.get("/health", summary="Whether the model is loaded (it is, once this answers)")
    async def get_health() -> Response:
        return json_response(health)

    @app.get("/schema", summary="The model's input columns, outputs and the server's limits")
    async def get_schema() -> Response:
        return json_response(about)

    @app.get("/metrics", summary="Prometheus metrics", responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}}})
    async def get_metrics() -> Response:
        return Response(metrics.exposition(), media_type=metrics.content_type)

    return app


def app_from_env() -> FastAPI:
    """The app for a worker process of ``automl serve --workers N``: uvicorn imports this
    factory in each process, which loads the model named by ``AUTOML_SERVE_MODEL``."""
    from automl.bundle import load_model

    return create_app(load_model(os.environ[ENV_MODEL]),
                      max_rows=int(os.environ.get(ENV_MAX_ROWS, 10_000)),
                      max_bytes=int(os.environ.get(ENV_MAX_BYTES, 10 * 2**20)))
