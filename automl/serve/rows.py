"""JSON records checked against the model's columns and turned into a DataFrame.

The checks go column by column over plain lists (one ``map(type, ...)`` per column; a slow
path that finds the faulty row only runs once a column is known to hold one), so a batch of
thousands of rows costs a few milliseconds and no per-row model object is built. What is
refused, each with the 0-based row and the column in the answer:

- a body that is not an array, an empty array, more rows than ``--max-rows`` (413),
- an element that is not an object, a row without one of the model's columns (named, with
  close names from that row as hints),
- in a number column anything but a number or null (text, even text of digits, booleans),
  and numbers beyond a float's range,
- in any column an object or an array as a value.

Keys the model does not know are ignored, as ``automl predict`` ignores extra columns.
Values of text, category, boolean and date columns may be any scalar: a number or a boolean
there is read as its text, and a category never seen in training is scored as such.
"""

from __future__ import annotations

import difflib
import math

import numpy as np
import pandas as pd

from automl.serve.columns import ColumnSpec
from automl.serve.errors import RequestError

__all__ = ["records_frame"]

_NUMBER_TYPES = frozenset({int, float, type(None)})
_SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})


def records_frame(data, specs: list[ColumnSpec], max_rows: int) -> pd.DataFrame:
    """``data`` (parsed JSON) as a frame of the model's columns, in its order."""
    if not isinstance(data, list):
        wrap = " (wrap a single row in [ ])" if isinstance(data, dict) else ""
        raise RequestError(422, "shape", "the body must be a JSON array of objects, one per "
                           f"row; got {_describe(data)}{wrap}.")
    if not data:
        raise RequestError(422, "empty", "the array is empty; send at least one row.")
    if len(data) > max_rows:
        raise RequestError(413, "too_many_rows", f"{len(data):,} rows is more than this server "
                           f"scores in one request ({max_rows:,}, set by --max-rows); split "
                           "them into several requests.")
    for i, row in enumerate(data):
        if type(row) is not dict:
            raise RequestError(422, "shape", f"row {i} is {_describe(row)}, not an object of "
                               "column names and values.", row=i)
    required = [s.name for s in specs if s.required]
    wanted = frozenset(required)
    if not all(row.keys() >= wanted for row in data):
        _missing(data, required, wanted)
    columns = {}
    for s in specs:
        values = [r[s.name] for r in data] if s.required else [r.get(s.name) for r in data]
        columns[s.name] = _numbers(s.name, values) if s.numeric else _scalars(s, values)
    try:
        return pd.DataFrame(columns)
    except UnicodeEncodeError:  # a lone surrogate ("\ud800") is valid JSON, not text
        name, i = next((n, i) for n, v in columns.items() if v.dtype == object
                       for i, x in enumerate(v) if isinstance(x, str) and not _encodes(x))
        raise RequestError(422, "type", f"row {i}, column {name!r}: the text holds a lone "
                           "UTF-16 surrogate (an escape such as \\ud800 without its pair), "
                           "which is not a character.", row=i, column=name) from None


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _missing(data: list[dict], required: list[str], wanted: frozenset) -> None:
    i, row = next((i, r) for i, r in enumerate(data) if not r.keys() >= wanted)
    missing = [n for n in required if n not in row]
    extra = [k for k in row if k not in wanted]
    hints = {m: difflib.get_close_matches(m, extra, n=1) for m in missing[:20]}
    hint = "; ".join(f"{m!r} -> {h[0]!r}?" for m, h in hints.items() if h)
    raise RequestError(
        422, "missing_column", f"row {i} lacks {len(missing)} column(s) the model was trained "
        f"on: {missing[:20]}{' ...' if len(missing) > 20 else ''}. Send every column in every "
        "row (null for a missing value)" + (f"; did you mean: {hint}" if hint else "."),
        row=i, column=missing[0])


def _numbers(name: str, values: list) -> np.ndarray:
    if set(map(type, values)) <= _NUMBER_TYPES:
        try:
            out = np.array(values, dtype=float)  # None becomes NaN: a missing value
        except OverflowError:  # an integer beyond a float's range
            out = np.array([_float_or_inf(v) for v in values], dtype=float)
        if not np.isinf(out).any():
            return out
        i = int(np.flatnonzero(np.isinf(out))[0])
        raise RequestError(422, "type", f"row {i}, column {name!r}: {_describe(values[i])} is "
                           "beyond the range of a float.", row=i, column=name)
    i = next(i for i, v in enumerate(values) if type(v) not in _NUMBER_TYPES)
    raise RequestError(422, "type", f"row {i}, column {name!r}: expected a number or null, got "
                       f"{_describe(values[i])}{_unquote(values[i])}.", row=i, column=name)


def _scalars(spec: ColumnSpec, values: list) -> np.ndarray:
    types = set(map(type, values))
    if not types <= _SCALAR_TYPES:
        i = next(i for i, v in enumerate(values) if type(v) not in _SCALAR_TYPES)
        raise RequestError(422, "type", f"row {i}, column {spec.name!r}: expected text, a "
                           f"number, a boolean or null, got {_describe(values[i])}.",
                           row=i, column=spec.name)
    if float in types:
        for i, v in enumerate(values):
            if type(v) is float and not math.isfinite(v):
                raise RequestError(422, "type", f"row {i}, column {spec.name!r}: the number "
                                   "is beyond the range of a float.", row=i, column=spec.name)
        if spec.dtype.lower().startswith("int"):  # 3.0 in a column of whole numbers is "3"
            values = [int(v) if type(v) is float and v.is_integer() else v for v in values]
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _describe(value) -> str:
    if isinstance(value, str):
        return f"the text {value[:40]!r}" + ("..." if len(value) > 40 else "")
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int) and abs(value) > 10**40:
        return f"an integer of {len(str(abs(value)))} digits"
    return {dict: "an object", list: "an array", type(None): "null"}.get(
        type(value), f"the number {value}")


def _float_or_inf(value) -> float:
    try:
        return np.nan if value is None else float(value)
    except OverflowError:
        return math.inf


def _unquote(value) -> str:
    """A hint for a number sent as text, as from a CSV file read without types."""
    if not isinstance(value, str):
        return ""
    try:
        number = float(value)
    except ValueError:
        return ""
    return " (send numbers without quotes)" if math.isfinite(number) else ""
