"""``automl serve``: one model file behind an HTTP API (FastAPI on uvicorn).

``POST /predict`` takes a JSON array of objects, one per row, and answers
``{"predictions": [...]}``: per row the columns of ``Model.predict`` (``prediction``, then
``proba_<class>`` for each class). ``GET /health``, ``/schema``, ``/metrics`` (Prometheus)
and ``/openapi.json`` (written from the model's manifest) describe it. Modules:
``POST /explain`` adds each row's top reasons. Modules: :mod:`.app` (the app), :mod:`.body`
(reading and parsing), :mod:`.rows` (checks and the frame), :mod:`.columns` and
:mod:`.openapi` (what the model takes), :mod:`.batching` (concurrent requests in one call),
:mod:`.explaining`, :mod:`.answers`, :mod:`.metrics`, :mod:`.server` (sockets, uvicorn,
worker processes).

What a careless or malicious client can send, and the answer (a JSON body
``{"detail", "row", "column"}``, never a traceback; no bad input gets a 5xx):

- another Content-Type than ``application/json``: 415;
- a body above ``--max-bytes``: 413, from its Content-Length before reading, or, chunked,
  at the first chunk past the limit (the rest is never read; the connection is closed);
  a body that trickles in for over 30 s: 408;
- bytes that are not UTF-8, text that is not JSON, ``NaN``/``Infinity``, duplicate keys,
  nesting deeper than Python's recursion limit, an integer of over 4,300 digits: 400;
- JSON that is not an array of objects, an empty array, a row without a column (named,
  with close names as hints), a value of the wrong type (text or a boolean in a number
  column, an object or array anywhere, a number beyond a float's range): 422 with the
  row and the column; more rows than ``--max-rows``: 413;
- unknown keys: ignored; unseen categories: scored, as ``automl predict`` does;
- random paths and methods: 404/405, counted in the metrics under ``other``/their
  endpoint, never as new label values;
- many or slow connections: at most 256 connections and requests in flight per worker
  (then 503), each body capped and timed, so memory stays near 256 × ``--max-bytes``
  (times the parsed JSON's overhead) at worst; ``/explain`` takes at most 100 rows and
  runs one explanation at a time.

A model that fails on rows that passed the checks gets 500 with a fixed message; the
traceback goes to the server's log. The model file is loaded once per worker process with
:func:`automl.bundle.load_model` (checked, never unpickled).
"""

from __future__ import annotations

from automl.serve.app import create_app
from automl.serve.errors import RequestError

__all__ = ["RequestError", "create_app"]
