"""Delimited text files (.csv, .tsv, .txt): encoding, delimiter and decimal sniffed, the
header read by ``checks``, the body by pyarrow's reader where it can be trusted, else by
pandas' C reader; ragged rows and unpaired quotes are refused with the line they are on."""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Callable
from functools import partial

import pandas as pd

from automl.data.checks import (
    check_fields,
    clean_names,
    count_fields,
    decode_to_utf8,
    read_header,
    sniff_decimal,
    sniff_delimiter,
    split_lines,
)
from automl.data.loaders import (
    NA_OPTIONS,
    Loaded,
    LoadLimits,
    Source,
    check_shape,
    register_loader,
)
from automl.errors import DataError, EmptyDataError

__all__ = ["load_csv"]

_LEADING_BLANK_LINES = re.compile(rb"^(?:[ \t\r]*\n)+")
_SAMPLE = 65536  # characters the delimiter and decimal sniffers look at


def load_csv(src: Source, limits: LoadLimits) -> Loaded:
    """A CSV, TSV or text table: sniffed, checked for shape and read (see the module)."""
    data, encoding = decode_to_utf8(src.data)
    first_line = 1  # line numbers in messages count the blank lines dropped here
    if blank := _LEADING_BLANK_LINES.match(data):  # the readers disagree on the header's line
        first_line += blank.group().count(b"\n")
        data = data[blank.end():]
    if not data.strip():
        raise EmptyDataError(f"{src.name} is empty; choose a file with a header row and data "
                             "rows.")
    text = data.decode("utf-8", "replace")
    lines = [ln for ln in split_lines(text[:_SAMPLE]) if ln.strip()]
    lines = lines[:200] if len(lines) < 2 or len(text) <= _SAMPLE else lines[:-1][:200]
    delim = "\t" if src.suffix == ".tsv" else sniff_delimiter(lines)  # on 64 KiB
    # the column limit before any work per column: counting stops one field past it
    check_shape(src.name, 0, count_fields(text, delim, limits.max_columns), limits)
    header, end = read_header(text, delim)
    names, notes = clean_names(header)
    if encoding not in ("utf-8", "utf-8-sig", "utf-16", "utf-32"):
        notes.append(f"{src.name} is not UTF-8; it was read as {encoding}. Check that accented "
                     "letters look right, or save the file as UTF-8.")
    decimal, thousands = sniff_decimal(lines, delim)
    count = partial(check_fields, text, delim, len(names), name=src.name,
                    first_line=first_line, max_records=limits.max_rows)
    body = data[len(text[:end].encode()):]  # the readers' idea of the header may differ
    frame = _read_csv(body, src.name, names, delim, decimal,
                      thousands if decimal == "," else None, limits.max_rows, count)
    return Loaded(frame, notes, decimal, thousands)


def _read_csv(data: bytes, name: str, names: list[str], delim: str, decimal: str,
              thousands: str | None, max_rows: int, count: Callable[[], int]) -> pd.DataFrame:
    """pyarrow's multithreaded reader when the options allow, else the C reader.

    Neither is trusted with the shape of rows: pyarrow names no line and reads an unclosed
    final quote as one value; the C reader pads short rows. So ``count`` (``check_fields``)
    runs when pyarrow fails or quotes do not pair up, and before the C reader, which must agree.
    """
    if not data.strip():
        count()  # only the header: was a quote in it left open?
        return pd.DataFrame(columns=names)
    opts = {"sep": delim, "header": None, **NA_OPTIONS}
    if decimal == ".":
        try:  # without names, so that rows wider than the header fail instead of becoming an index
            frame = pd.read_csv(io.BytesIO(data), engine="pyarrow", **opts)
        except Exception:  # the C engine below re-reads the file and explains what is wrong
            frame = None
        if (frame is not None and frame.shape[1] == len(names)
                and (data.count(b'"') % 2 == 0 or count() == len(frame))):
            frame.columns = names
            return frame
    records = count()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(io.BytesIO(data), engine="c", decimal=decimal, index_col=False,
                                thousands=thousands, nrows=max_rows + 1, names=names, **opts)
    except Exception as e:  # ragged rows were caught above; this is rarer damage
        m = re.search(r"row (\d+)", str(e))
        where = f" near data row {int(m[1])}" if m else ""
        raise DataError(f"{name} could not be read as CSV{where} ({e}). Check for an "
                        "unclosed quote there, or save the file again from a spreadsheet.") from e
    if len(frame) != records:
        raise DataError(f"{name}: the CSV reader found {len(frame)} rows where there are "
                        f"{records} lines of data, so quotes or line breaks inside values are "
                        f"ambiguous. Save the file again from a spreadsheet, with every value "
                        f"that holds {delim!r}, a quote or a line break in quotes.")
    return frame


register_loader((".csv", ".tsv", ".txt"), load_csv)
