"""CSV files that a spreadsheet opens as data, never as formulas.

Excel, LibreOffice and Google Sheets run a cell that begins with ``=``, ``+``, ``-`` or ``@``
as a formula, and treat a leading tab or carriage return the same way (OWASP, "CSV
Injection"): a predicted label ``=HYPERLINK("http://evil","x")`` becomes a link, a DDE
payload can start a program. So every text cell that begins with one of those characters,
and every column name (a header is a row of cells too), is written with a single quote in
front, which spreadsheets show as text and do not run. Numbers in number columns are data
and stay as they are (``-1.5``); text that merely looks like a number (``"-1.5"`` in a text
column) is escaped like any other text, as OWASP advises: one rule, no guessing.

Use ``csv_bytes`` for downloads and ``to_csv_safe`` for files; both write UTF-8 without the
index, one CRLF-ended line per row.
"""

from __future__ import annotations

import io
import os
from typing import IO, Any

import pandas as pd

__all__ = ["FORMULA_START", "csv_bytes", "escape_cell", "safe_frame", "to_csv_safe"]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: Any) -> Any:
    """``'=1+1`` for ``=1+1``; any value that is not such text is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names a spreadsheet cannot run."""
    out = frame.copy()
    for i in range(out.shape[1]):
        s = out.iloc[:, i]
        if _may_hold_text(s):
            out.isetitem(i, s.astype(object).map(escape_cell, na_action="ignore"))
    out.columns = [escape_cell(str(c)) for c in out.columns]
    return out


def to_csv_safe(frame: pd.DataFrame, path_or_buf: str | os.PathLike[str] | IO[str]) -> None:
    """Write ``frame`` as CSV (UTF-8, no index) with every formula-like text escaped.

    Lines end in CRLF, as RFC 4180 has it: with a bare LF the csv module leaves a value
    holding a carriage return unquoted, and the file then splits that row in two.
    """
    safe_frame(frame).to_csv(path_or_buf, index=False, lineterminator="\r\n")


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The same CSV as bytes, for a download button or an HTTP response."""
    buf = io.StringIO()
    to_csv_safe(frame, buf)
    return buf.getvalue().encode("utf-8")


def _may_hold_text(s: pd.Series) -> bool:
    return (pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype)
            or isinstance(s.dtype, pd.CategoricalDtype))
