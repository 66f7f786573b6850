""".xlsx workbooks: the first sheet, capped on the table it stands for before pandas reads it.

An .xlsx file is zipped XML, and its sizes can lie twice: the zip's declared sizes (checked
first, as for any archive), and the XML's own shortcuts, which no declared size shows. One
long shared string referenced by every cell, or a cell at row 2,000,000 after row 1 (pandas
fills the rows between), make a small workbook a huge frame. So the first sheet's XML is
streamed once through expat, keeping no element, adding up what the frame will hold: the length
of every text value (shared strings by their index) and 8 bytes for every cell of the
rectangle pandas builds; counting stops just past ``LoadLimits.max_bytes``, a column past
``max_columns`` or a row past ``max_rows``. Only then does pandas read the workbook, which
openpyxl has already opened (read-only) for the count.
"""

from __future__ import annotations

import functools
import io
import re
import zipfile
from typing import IO
from xml.parsers import expat

import pandas as pd

from automl.data.loaders import (
    NA_OPTIONS,
    XLSX_EXPANSION,
    Loaded,
    LoadLimits,
    Source,
    check_shape,
    check_unpacked,
    register_loader,
)
from automl.errors import AutoMLError, DataError, UnsupportedFormatError

__all__ = ["load_excel", "sheet_size"]

_CELL_REF = re.compile(r"([A-Za-z]{1,7})\d+$")  # openpyxl itself stops at three letters


def load_excel(src: Source, limits: LoadLimits) -> Loaded:
    """First sheet of an .xlsx workbook; header names come from openpyxl, unmangled."""
    from openpyxl.reader.excel import ExcelReader

    if not src.data.startswith(b"PK"):
        raise UnsupportedFormatError(f"{src.name} is not an .xlsx workbook (old .xls files "
                                     "are not supported); save it as .xlsx or CSV.")
    try:
        with zipfile.ZipFile(io.BytesIO(src.data)) as z:  # sizes as declared: zipfile never
            unpacked = sum(i.file_size for i in z.infolist())  # reads past them
    except zipfile.BadZipFile as e:
        raise _unreadable(src.name, e) from e
    check_unpacked(src.name, unpacked, limits.max_bytes * XLSX_EXPANSION)
    try:
        reader = ExcelReader(io.BytesIO(src.data), read_only=True, data_only=True,
                             keep_links=False)  # what pandas opens, opened once for both
        reader.read()
        book = reader.wb
        try:
            with reader.archive.open(_first_sheet(reader)) as xml:
                sheet_size(xml, [len(s) for s in reader.shared_strings], src.name, limits)
            header = list(next(book.worksheets[0].iter_rows(max_row=1, values_only=True), ()))
            frame = pd.read_excel(book, engine="openpyxl", sheet_name=0,
                                  nrows=limits.max_rows + 1, **NA_OPTIONS)
        finally:
            book.close()
    except AutoMLError:
        raise
    except Exception as e:
        raise _unreadable(src.name, e) from e
    if len(header) >= frame.shape[1]:
        frame.columns = header[: frame.shape[1]]
    return Loaded(frame)


def _unreadable(name: str, e: Exception) -> DataError:
    return DataError(f"{name} could not be read as an Excel workbook ({e}); save it again as "
                     ".xlsx or CSV.")


def sheet_size(xml: IO[bytes], string_lengths: list[int], name: str,
               limits: LoadLimits) -> int:
    """Stream a worksheet's XML; return about the bytes its frame takes, refusing (typed
    ``DataLimitError``) as soon as a limit is passed. Keeps no element: a row of a million
    cells costs a pass over it, not a million objects."""
    counter = _SheetCounter(string_lengths, name, limits)
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = counter.start
    parser.EndElementHandler = counter.end
    parser.CharacterDataHandler = counter.chars
    parser.buffer_text = True
    parser.ParseFile(xml)
    return counter.size()


class _SheetCounter:
    """expat handlers adding up a sheet: text lengths, and the rectangle pandas fills."""

    def __init__(self, string_lengths: list[int], name: str, limits: LoadLimits):
        self.lengths, self.name, self.limits = string_lengths, name, limits
        self.text = self.rectangle = self.last_row = self.width = 0
        self.row = self.col = self.row_width = 0
        self.kind: str | None = None  # the open cell's type, None outside a cell
        self.chars_in: str | None = None  # "v" or "t" while inside one, for its text
        self.value: list[str] = []

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        tag = _local(tag)
        if tag == "c":
            self.col = _column(attrs.get("r"), self.col + 1)
            self.row_width = max(self.row_width, self.col)
            self.kind, self.value = attrs.get("t", "n"), []
        elif tag in ("v", "t") and self.kind is not None:
            self.chars_in = tag
        elif tag == "row":
            self.row = _number(attrs.get("r"), self.row + 1)
            self.col = self.row_width = 0

    def chars(self, data: str) -> None:
        if self.chars_in is not None:
            self.value.append(data)

    def end(self, tag: str) -> None:
        tag = _local(tag)
        if tag == "c" and self.kind is not None:
            self._cell(self.kind, "".join(self.value))
            self.kind = None
        elif tag in ("v", "t"):
            self.chars_in = None
        elif tag == "row":
            self.rectangle += self.row_width  # openpyxl builds each row out to its last cell
            check_unpacked(self.name, self.size(), self.limits.max_bytes, at_least=True)

    def size(self) -> int:
        return self.text + 8 * max(self.rectangle, self.last_row * self.width)

    def _cell(self, kind: str, value: str) -> None:
        if not value and kind != "inlineStr":
            return  # no value: openpyxl reads None, pandas a missing cell
        if kind == "s":
            index = int(value)
            self.text += self.lengths[index] if 0 <= index < len(self.lengths) else 0
        elif kind in ("inlineStr", "str", "e"):
            self.text += len(value)
        self.width = max(self.width, self.col)
        self.last_row = self.row
        if self.col > self.limits.max_columns:
            check_shape(self.name, 0, self.limits.max_columns + 1, self.limits)
        if self.row > self.limits.max_rows + 1:  # the header, then the rows allowed
            check_shape(self.name, self.limits.max_rows + 1, 0, self.limits)


def _number(value: str | None, default: int) -> int:
    try:
        return int(float(value)) if value else default
    except (ValueError, OverflowError):
        return default  # openpyxl refuses it a moment later, with its own message


@functools.cache
def _local(tag: str) -> str:
    """``c`` for ``http://schemas.openxmlformats.org/spreadsheetml/2006/main c``."""
    return tag.rpartition(" ")[2]


def _column(ref: str | None, default: int) -> int:
    m = _CELL_REF.match(ref or "")
    return _column_number(m[1].upper()) if m else default


@functools.cache
def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _first_sheet(reader) -> str:
    """The part name of the first worksheet, as ``book.worksheets[0]`` (and pandas) read it."""
    for _, rel in reader.parser.find_sheets():
        if rel.target in reader.valid_files and "chartsheet" not in rel.Type:
            return rel.target
    raise DataError("The workbook has no worksheet; add a sheet with a header row and data, "
                    "or save the table as CSV.")


register_loader((".xlsx", ".xlsm", ".xls"), load_excel)
