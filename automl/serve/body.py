"""Reading a request body within limits, and parsing it as strict JSON.

The size limit is enforced while the body is read: a Content-Length above it is refused
before a byte is read, and a chunked body (no length) is cut off at the first chunk that
passes it, so a huge body costs the server ``max_bytes``, never the whole upload. A body
that trickles in is cut off after ``READ_TIMEOUT`` seconds. Parsing refuses what Python's
``json`` module would otherwise accept quietly: ``NaN``/``Infinity`` literals and duplicate keys
in an object (which value would count?). A number too large for a float (``1e999``, read as
infinity) is refused where it is used, by the row checks (:mod:`automl.serve.rows`).
"""

from __future__ import annotations

import asyncio
import json

from automl.serve.errors import RequestError

__all__ = ["READ_TIMEOUT", "parse_json", "read_body"]

READ_TIMEOUT = 30.0  # seconds for a whole body to arrive


async def read_body(request, max_bytes: int) -> bytes:
    """The body of ``request`` (a Starlette Request), after checking its Content-Type and
    size; RequestError 413, 415 or 408 otherwise."""
    kind = request.headers.get("content-type", "")
    if kind.split(";", 1)[0].strip().lower() != "application/json":
        raise RequestError(415, "content_type", "send the rows as JSON with the header "
                           f"'Content-Type: application/json' (got {kind[:100]!r}).")
    length = request.headers.get("content-length", "0")  # none: chunked, counted below
    if not (length.isascii() and length.isdigit()) or int(length) > max_bytes:
        raise _too_large(max_bytes, f"Content-Length {length[:30]}")
    try:
        async with asyncio.timeout(READ_TIMEOUT):
            chunks, size = [], 0
            async for chunk in request.stream():
                size += len(chunk)
                if size > max_bytes:
                    raise _too_large(max_bytes, "the body")
                chunks.append(chunk)
    except TimeoutError:
        raise RequestError(408, "timeout", f"the body did not arrive within {READ_TIMEOUT:g} "
                           "seconds; send it at once.") from None
    return b"".join(chunks)


def _too_large(max_bytes: int, what: str) -> RequestError:
    return RequestError(413, "too_large", f"{what} is larger than this server accepts "
                        f"({max_bytes:,} bytes, set by --max-bytes); send fewer rows per "
                        "request.")


def parse_json(body: bytes):
    """The JSON value of ``body``; RequestError 400 naming the position of the fault."""
    if not body.strip():
        raise RequestError(400, "json", "the body is empty; send a JSON array of objects, "
                           "one per row.")
    try:
        return _DECODER.decode(body.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise RequestError(400, "json", f"the body is not UTF-8 text (byte {e.start}); send "
                           "JSON encoded as UTF-8.") from None
    except RecursionError:
        raise RequestError(400, "json", "the JSON is nested too deeply; send a flat array of "
                           "objects whose values are numbers, text, booleans or null.") from None
    except _Refused as e:
        raise RequestError(400, "json", str(e)) from None
    except json.JSONDecodeError as e:
        raise RequestError(400, "json", f"the body is not valid JSON: {e.msg} at line "
                           f"{e.lineno}, column {e.colno}.") from None
    except ValueError as e:  # e.g. an integer of more than 4,300 digits
        raise RequestError(400, "json", f"the body is not usable JSON: {str(e)[:200]}") from None


class _Refused(ValueError):
    """Valid to Python's parser, refused here."""


def _constant(name: str):
    raise _Refused(f"the JSON holds {name}, which is not JSON; send null for a missing value.")


def _object(pairs: list[tuple[str, object]]) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise _Refused(f"an object holds the key {dup!r} twice; send each column once per row.")
    return out


_DECODER = json.JSONDecoder(object_pairs_hook=_object, parse_constant=_constant)
