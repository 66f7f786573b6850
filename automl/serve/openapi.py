"""The OpenAPI document and ``/schema``, written from the model's manifest and pipeline.

Each input column is one property of ``Row``: its JSON types, always nullable (the
pipeline fills in missing values), required unless it is an ID column. Categories seen in
training are listed as ``examples`` and in full (up to :data:`~automl.serve.columns.
MAX_LISTED`) as ``x-categories``, not as an ``enum``: an ``enum`` would declare the unseen
categories the server scores invalid, so generated clients and validators would refuse rows
the model accepts.
"""

from __future__ import annotations

from fastapi.openapi.utils import get_openapi

from automl.serve.columns import MAX_LISTED, ColumnSpec

__all__ = ["body_operation", "components", "install_openapi", "schema_document"]

_REF = "#/components/schemas/"
_ERRORS = {400: "The body is not JSON, or JSON this server refuses (NaN, duplicate keys, "
                "deep nesting)",
           408: "The body did not arrive in time",
           413: "Too many bytes or rows", 415: "The Content-Type is not application/json",
           422: "JSON of the wrong shape: not an array of objects, empty, a missing column, "
                "a value of the wrong type",
           500: "The model failed to score the rows"}


def _column(spec: ColumnSpec) -> dict:
    out = {"type": list(spec.json_types), "x-kind": spec.kind, "x-dtype": spec.dtype}
    about = f"{spec.kind} (training dtype {spec.dtype}, {spec.n_missing} missing in training)"
    if spec.categories is not None:
        about += (f"; {len(spec.categories)} categories seen in training (x-categories); any "
                  "other value is scored as an unseen category")
        out["examples"] = list(spec.categories[:5])
        out["x-categories"] = list(spec.categories[:MAX_LISTED])
    if not spec.required:
        about += "; an ID column: optional, the model does not use it"
    return {"description": about, **out}


def _label(classes: list) -> dict:
    types = {type(c) for c in classes}
    named = {str: "string", bool: "boolean", int: "integer", float: "number"}
    out: dict = {"enum": list(classes)}
    if len(types) == 1 and next(iter(types)) in named:
        out["type"] = named[next(iter(types))]
    return out


def components(model, specs: list[ColumnSpec]) -> dict:
    """The schemas the operations refer to: Row, Prediction, Predictions, Error."""
    prediction = {"prediction": {"type": "number"}} if model.task == "regression" else {
        "prediction": _label(model.classes),
        **{f"proba_{c}": {"type": "number", "minimum": 0, "maximum": 1}
           for c in model.classes}}
    return {
        "Row": {"type": "object", "description": "One row to score: a value per column",
                "properties": {s.name: _column(s) for s in specs},
                "required": [s.name for s in specs if s.required],
                "additionalProperties": True},
        "Prediction": {"type": "object", "properties": prediction,
                       "required": list(prediction), "additionalProperties": False},
        "Predictions": _answers("Prediction"),
        "Explanation": {"type": "object", "additionalProperties": True,
                        "properties": {**prediction, **_REASONS},
                        "required": [*prediction, *_REASONS]},
        "Explanations": _answers("Explanation"),
        "Error": {"type": "object", "required": ["detail", "row", "column"], "properties": {
            "detail": {"type": "string"},
            "row": {"type": ["integer", "null"], "minimum": 0,
                    "description": "0-based index of the faulty row in the array"},
            "column": {"type": ["string", "null"]}}},
    }


def body_operation(max_rows: int, answer: str, what: str, *, top: int | None = None) -> dict:
    """``openapi_extra`` of an operation that takes an array of rows (and, with ``top``, the
    query parameter ``top``: reasons per row, 1 to ``top``)."""
    params = [] if top is None else [{
        "name": "top", "in": "query", "required": False, "description": "reasons per row",
        "schema": {"type": "integer", "minimum": 1, "maximum": top, "default": 3}}]
    return {
        "parameters": params,
        "requestBody": {"required": True, "description": what, "content": {
            "application/json": {"schema": {"type": "array", "minItems": 1,
                                            "maxItems": max_rows,
                                            "items": {"$ref": _REF + "Row"}}}}},
        "responses": {"200": {"description": "One answer per row, in the rows' order",
                              "content": _json_of(answer)},
                      **{str(k): {"description": v, "content": _json_of("Error")}
                         for k, v in _ERRORS.items()}},
    }


_REASONS = {
    "summary": {"type": "string", "description": "Why, in a sentence"},
    "output": {"type": "string", "description": "What the effects move, e.g. P(churn = yes)"},
    "reasons": {"type": "array", "description": "The columns that moved it most", "items": {
        "type": "object", "required": ["column", "value", "effect", "text"],
        "properties": {"column": {"type": "string"},
                       "value": {"type": ["string", "number", "boolean", "null"]},
                       "effect": {"type": "number", "description": "in the output's units"},
                       "text": {"type": "string"}}}}}


def _answers(item: str) -> dict:
    return {"type": "object", "required": ["predictions"], "properties": {
        "predictions": {"type": "array", "items": {"$ref": _REF + item}}}}


def _json_of(name: str) -> dict:
    return {"application/json": {"schema": {"$ref": _REF + name}}}


def install_openapi(app, schemas: dict) -> None:
    """Make ``app.openapi()`` FastAPI's document plus ``schemas`` (built once, cached)."""
    def openapi() -> dict:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version,
                              description=app.description, routes=app.routes)
            doc.setdefault("components", {}).setdefault("schemas", {}).update(schemas)
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi


def schema_document(model, specs: list[ColumnSpec], max_rows: int, max_bytes: int) -> dict:
    """``GET /schema``: what the model takes and gives, and the server's limits."""
    m = model.manifest
    outputs = ["prediction"] + [f"proba_{c}" for c in model.classes]
    return {"task": model.task, "target": model.target, "classes": model.classes or None,
            "family": m.family, "metric": m.metric, "cv_score": m.cv_score,
            "n_rows_trained": m.n_rows, "created_at": m.created_at,
            "columns": [s.to_json() for s in specs], "outputs": outputs,
            "limits": {"max_rows": max_rows, "max_bytes": max_bytes}}
