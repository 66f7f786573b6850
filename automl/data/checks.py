"""Sniffing raw text and checking a freshly read frame, shared by every loader.

Kept apart from ``loaders.py`` so the loaders stay about reading formats, and so each rule
(encodings, delimiters, column names, numbers stored as text, infinities) is small and
testable on its own.
"""

from __future__ import annotations

import codecs
import csv
import functools
import re
from collections.abc import Iterator

import charset_normalizer
import numpy as np
import pandas as pd

from automl.errors import DataError, NonNumericValuesError

__all__ = [
    "MISSING_TOKENS",
    "check_fields",
    "clean_names",
    "count_fields",
    "decode_to_utf8",
    "normalise_text",
    "numbers_from_text",
    "parse_iso_dates",
    "ragged_message",
    "read_header",
    "replace_infinities",
    "sniff_decimal",
    "sniff_delimiter",
    "split_lines",
]

# Cells that mean "no value" in files people export from spreadsheets, R and databases.
MISSING_TOKENS = ("", "NA", "N/A", "n/a", "#N/A", "<NA>", "null", "NULL", "NaN", "nan", "?", "-",
                  "None")
DELIMITERS = (",", ";", "\t", "|")
# csv.Sniffer's quote regexes take time quadratic in their input (12 s on 64 KiB of '"a",;'):
# it only breaks ties, and this much text is plenty for that (~50 ms at worst).
_SNIFFER_SAMPLE = 4096

# Encodings that charset-normalizer may rightly prefer over cp1252 for non-UTF-8 bytes.
_NON_LATIN = {
    "cp1251", "koi8_r", "koi8_u", "mac_cyrillic", "cp866", "iso8859_5",  # Cyrillic
    "cp1253", "iso8859_7", "cp1255", "iso8859_8", "cp1256", "iso8859_6", "cp874",
    "cp932", "shift_jis", "euc_jp", "gb2312", "gbk", "gb18030", "big5", "cp949", "euc_kr",
    "cp950",
}
_DECIMAL_COMMA = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+),\d+$")
_DECIMAL_DOT = re.compile(r"^[+-]?\d+\.\d+$")
_THOUSANDS_DOT = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$")
_THOUSANDS_COMMA = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")  # a physical line, as both readers split
_NEWLINE = re.compile(r"\r\n|\r|\n")
_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")


def decode_to_utf8(data: bytes) -> tuple[bytes, str]:
    """Return the bytes as UTF-8 without a BOM, and the encoding they were read as.

    Everything after this step sees UTF-8, so the CSV readers need no encoding option.
    """
    if data.startswith(codecs.BOM_UTF8):  # a BOM on top of cp1252 text does happen
        data = data[len(codecs.BOM_UTF8):]
        if _is_utf8(data):
            return data, "utf-8-sig"
    for bom, name in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                      (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(name).lstrip("\ufeff").encode("utf-8"), name
            except UnicodeDecodeError as e:
                raise DataError(f"The file starts with a {name.upper()} byte-order mark but "
                                f"byte {e.start} is not valid {name.upper()}; save the file "
                                "again as UTF-8.") from e
    if _is_utf8(data):
        return data, "utf-8"
    encoding = _guess_encoding(data[:65536])
    return data.decode(encoding, errors="replace").encode("utf-8"), encoding


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _guess_encoding(sample: bytes) -> str:
    """Guess a legacy encoding; lean to cp1252, which small Latin samples fool detectors on."""
    guesses = [m.encoding for m in charset_normalizer.from_bytes(sample)]
    if b"\x00" not in sample:  # UTF-16/32 without a BOM always has NUL bytes in text
        guesses = [g for g in guesses if not g.startswith(("utf_16", "utf_32"))]
    try:
        sample.decode("cp1252")
        cp1252_ok = True
    except UnicodeDecodeError:
        cp1252_ok = False
    if cp1252_ok and (not guesses or "cp1252" in guesses or guesses[0] not in _NON_LATIN):
        return "cp1252"
    return guesses[0] if guesses else "latin-1"


def sniff_delimiter(lines: list[str]) -> str:
    """Pick the delimiter that splits the header widest and the rows most consistently.

    ``csv.Sniffer`` alone is fooled by decimal commas (``a;b`` / ``3,14;2,5``), so it only
    breaks ties here. Falls back to a comma for single-column files.
    """
    scores: dict[str, tuple[float, int]] = {}
    for delim in DELIMITERS:
        widths = [len(row) for row in csv.reader(lines, delimiter=delim) if row]
        if not widths or widths[0] < 2:
            continue
        scores[delim] = (sum(w == widths[0] for w in widths) / len(widths), widths[0])
    if not scores:
        return ","
    best = max(scores.values())
    tied = [d for d, s in scores.items() if s == best]
    if len(tied) > 1:
        try:
            sample = "\n".join(lines)[:_SNIFFER_SAMPLE]
            sniffed = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS))
            if sniffed.delimiter in tied:
                return sniffed.delimiter
        except csv.Error:
            pass
    return tied[0]


def sniff_decimal(lines: list[str], delimiter: str) -> tuple[str, str | None]:
    """Return ``(decimal, thousands)``: ``(",", ".")`` for ``1.234,5;7``, ``(".", ",")`` for
    ``"1,234.5",7``. Only values grouped in threes lose their separators later, so a quoted
    ``"1,2"`` stays text.
    """
    fields = [f.strip() for row in csv.reader(lines[1:], delimiter=delimiter) for f in row]
    if delimiter == ",":
        return ".", "," if any(_THOUSANDS_COMMA.match(f) for f in fields) else None
    comma = sum(bool(_DECIMAL_COMMA.match(f)) for f in fields)
    dot = sum(bool(_DECIMAL_DOT.match(f)) and not _THOUSANDS_DOT.match(f) for f in fields)
    if comma == 0 or comma <= dot:
        return ".", "," if any(_THOUSANDS_COMMA.match(f) and "." in f for f in fields) else None
    return ",", "." if any(_THOUSANDS_DOT.match(f) for f in fields) else None


def split_lines(text: str) -> list[str]:
    """Split on ``\\r\\n``, ``\\r`` or ``\\n`` only: ``str.splitlines`` also splits on form feeds
    and other characters that the CSV readers keep inside a field."""
    return _NEWLINE.split(text)


def read_header(text: str, delimiter: str) -> tuple[list[str], int]:
    """The first record of ``text`` and where it ends (a header may hold quoted newlines)."""
    _raise_field_limit(len(text))
    pos = [0]
    return next(csv.reader(_lines(text, pos), delimiter=delimiter), []), pos[0]


def count_fields(text: str, delimiter: str, most: int) -> int:
    """The number of fields in the first record of ``text``, but at most ``most + 1``.

    The work is bounded by the fields counted, not by the line: a 600 KB header of 300,000
    fields is refused after ``most + 1`` of them, before ``read_header`` builds a list of
    them all. Reads as the csv module does (a quote opens a value only at its start, ``""``
    inside quotes is one quote, quoted line breaks stay in the value), so the two agree.
    """
    if not text or text[0] in "\r\n":
        return 0  # an empty first line: the csv module reads it as a record of no fields
    field = _field_pattern(delimiter)
    pos = n = 0
    while n <= most:
        end = field.match(text, pos).end()
        n += 1
        if end >= len(text) or text[end] != delimiter:
            break
        pos = end + 1
    return n


@functools.cache
def _field_pattern(delimiter: str) -> re.Pattern[str]:
    """One field: quoted (possessive, so an unclosed quote costs one pass), or plain."""
    d = re.escape(delimiter)
    return re.compile(rf'"(?:[^"]++|"")*+(?:"[^{d}\r\n]*+)?|[^{d}"\r\n][^{d}\r\n]*+|')


def check_fields(text: str, delimiter: str, width: int, *, name: str, first_line: int = 1,
                 max_records: int | None = None) -> int:
    """Return how many data records follow the header; raise ``DataError`` naming the line of
    the first one with more or fewer than ``width`` fields, or of a quote never closed.

    Neither reader can be trusted with this: the C reader pads short rows with missing values
    and pyarrow reads an unclosed quote at the end as one giant field. Lines of only spaces and
    tabs are skipped, as the readers skip them. Stops after ``max_records`` records.
    """
    records = 0
    if '"' not in text:  # no quoting: one line is one record, and counting is enough
        for i, line in enumerate(split_lines(text)[1:]):
            n = line.count(delimiter) + 1
            if n == 1 and not line.strip(" \t"):
                continue
            if n != width:
                raise DataError(ragged_message(name, first_line + 1 + i, n, width, delimiter))
            records += 1
            if max_records is not None and records > max_records:
                break
        return records
    _raise_field_limit(len(text))
    pos = [0]
    reader = csv.reader(_lines(text, pos), delimiter=delimiter)
    start = nxt = (first_line, 0)  # (line, offset) of the record read last, and of the next
    if next(reader, None) is not None:
        nxt = (first_line + reader.line_num, pos[0])
    for row in reader:
        start, nxt = nxt, (first_line + reader.line_num, pos[0])
        if len(row) <= 1 and not text[start[1]:nxt[1]].strip(" \t\r\n"):
            continue
        if len(row) != width:
            raise DataError(ragged_message(name, start[0], len(row), width, delimiter))
        records += 1
        if max_records is not None and records > max_records:
            return records
    tail = text[start[1]:]
    if '"' in tail:  # the last record runs to the end: did a quote open and never close?
        try:
            for _ in csv.reader(_lines(tail, [0]), delimiter=delimiter, strict=True):
                pass
        except csv.Error as e:
            if "unexpected end of data" in str(e):
                raise DataError(f"{name}: the quote (\") that opens a value on line {start[0]} "
                                "is never closed, so the rest of the file would be read as one "
                                "value. Close the quote, or double it (\"\") if it is part of "
                                "the text.") from e
    return records


def _lines(text: str, pos: list[int]) -> Iterator[str]:
    for m in _LINE.finditer(text):
        pos[0] = m.end()
        yield m.group()


def _raise_field_limit(size: int) -> None:
    """Let one field be as long as the whole text (the default stops at 128 KiB). The setting
    is process-wide, so it only ever grows."""
    csv.field_size_limit(max(csv.field_size_limit(), min(size + 1, 2**31 - 1)))


def ragged_message(name: str, line: int, got: int, want: int, delim: str) -> str:
    """Say which line has the wrong number of fields, and the usual cause."""
    cause = (f"often a {delim!r} inside a value that should be quoted" if got > want else
             f"often a missing {delim!r}, or a line break inside a value that is not quoted")
    return (f"{name}: line {line} has {got} fields but the header has {want}, so its values "
            f"cannot be matched to the columns. Fix that row ({cause}) and load again.")


def clean_names(raw: list[object]) -> tuple[list[str], list[str]]:
    """Make column names non-empty, unique, stripped strings; say what was renamed.

    Linear in the number of names, however many repeat: each repeated name remembers the
    next suffix to try, so 2,000 copies of one name cost 2,000 steps, not 2,000 squared.
    """
    names: list[str] = []
    notes: list[str] = []
    for i, value in enumerate(raw):
        name = "" if value is None else str(value).strip()
        if isinstance(value, float) and value.is_integer():
            name = str(int(value))
        if not name:
            name = f"column_{i + 1}"
            notes.append(f"Column {i + 1} has no name; it was named '{name}'.")
        names.append(name)
    seen = set(names)
    kept: set[str] = set()
    next_suffix: dict[str, int] = {}
    for i, name in enumerate(names):
        if name not in kept:
            kept.add(name)
            continue
        k = next_suffix.get(name, 1)
        while f"{name}.{k}" in seen:
            k += 1
        next_suffix[name] = k + 1
        names[i] = f"{name}.{k}"
        seen.add(names[i])
        notes.append(f"Column name '{name}' appears more than once; column {i + 1} was renamed "
                     f"'{names[i]}'. Rename the columns in the file to keep your own names.")
    return names, notes


def _is_text(s: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(s.dtype) or s.dtype == object


def _only_strings(s: pd.Series) -> bool:
    if s.dtype != object:
        return pd.api.types.is_string_dtype(s.dtype)
    return pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty")


def normalise_text(frame: pd.DataFrame) -> None:
    """Strip spaces around text values and treat missing-value tokens as missing, in place."""
    for col in frame.columns:
        s = frame[col]
        if not _only_strings(s):
            continue  # object columns may mix types; str.strip would blank the non-strings
        stripped = s.str.strip()
        frame[col] = stripped.mask(stripped.isin(MISSING_TOKENS))


def numbers_from_text(frame: pd.DataFrame, *, name: str, decimal: str = ".",
                      thousands: str | None = None, coerce: bool = False) -> list[str]:
    """Turn text columns that hold numbers into numbers, in place.

    A column where every value is a number becomes numeric. One where at least 90% are but
    some are not raises ``NonNumericValuesError`` (or, with ``coerce``, blanks those cells),
    because silently keeping it as text would hide a numeric feature from the model. Below
    90% the column stays text, so a mix of numbers and words is categorical.
    """
    notes: list[str] = []
    for col in frame.columns:
        s = frame[col]
        if not _is_text(s) or pd.api.types.is_bool_dtype(s.dtype):
            continue
        present = s.notna()
        n_present = int(present.sum())
        if n_present == 0 or _share_of_numbers(s[present].sample(
                min(n_present, 1000), random_state=0), decimal, thousands) < 0.5:
            continue  # a sample that is mostly words: skip parsing every value
        numbers = _to_numbers(s, decimal, thousands)
        bad = present & numbers.isna()
        n_bad = int(bad.sum())
        if n_bad == 0:
            frame[col] = numbers
        elif n_bad <= 0.1 * n_present:
            where = np.flatnonzero(bad.to_numpy())[:3]
            examples = ", ".join(f"row {i + 1} ({s.iloc[i]!r})" for i in where)
            if not coerce:
                raise NonNumericValuesError(
                    f"Column '{col}' in {name} holds numbers except {n_bad} value(s) that are "
                    f"not numbers: {examples}. Fix or blank those cells, or pass "
                    "coerce_numbers=True (--coerce-numbers) to treat them as missing.")
            frame[col] = numbers
            notes.append(f"Column '{col}': {n_bad} value(s) that are not numbers were treated "
                         f"as missing ({examples}).")
    return notes


def _to_numbers(s: pd.Series, decimal: str, thousands: str | None) -> pd.Series:
    text = s.astype("str").str.strip()  # "str" keeps missing values missing
    if thousands:  # only where the digits are grouped in threes: "1,2" is not 12
        t, d = re.escape(thousands), re.escape(decimal)
        grouped = text.str.fullmatch(rf"[+-]?\d{{1,3}}(?:{t}\d{{3}})+(?:{d}\d*)?")
        text = text.mask(grouped.fillna(False).astype(bool),
                         text.str.replace(thousands, "", regex=False))
    if decimal != ".":
        text = text.str.replace(decimal, ".", regex=False)
    return pd.to_numeric(text, errors="coerce")


def _share_of_numbers(s: pd.Series, decimal: str, thousands: str | None) -> float:
    return float(_to_numbers(s, decimal, thousands).notna().mean())


def parse_iso_dates(frame: pd.DataFrame) -> None:
    """Parse text columns of ISO dates (``2024-01-31``, ``2024-01-31 10:00``), in place.

    Whichever CSV engine read the file, ISO dates then come back as ``datetime64[us]``.
    """
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            frame[col] = s.dt.as_unit("us")
            continue
        if not _is_text(s):
            continue
        present = s.dropna()
        head = present.iloc[:200]
        if head.empty or not all(isinstance(v, str) for v in head):
            if len(head) and all(type(v).__name__ == "date" for v in head):  # pyarrow date32
                frame[col] = pd.to_datetime(s).dt.as_unit("us")
            continue
        if not head.str.fullmatch(_ISO_DATE).all():
            continue
        parsed = pd.to_datetime(s, format="ISO8601", errors="coerce")
        if int(parsed.notna().sum()) == len(present):
            frame[col] = parsed.dt.as_unit("us")


def replace_infinities(frame: pd.DataFrame) -> list[str]:
    """Replace +/-inf with NaN in float columns, in place; models cannot use them."""
    notes: list[str] = []
    for col in frame.columns:
        s = frame[col]
        if not pd.api.types.is_float_dtype(s.dtype):
            continue
        infinite = np.isinf(s.to_numpy(dtype=float, na_value=np.nan))
        n = int(infinite.sum())
        if n:
            frame[col] = s.mask(infinite)
            notes.append(f"Column '{col}': {n} infinite value(s) were treated as missing.")
    return notes
