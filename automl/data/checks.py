"""Sniffing raw text and checking a freshly read frame, shared by every loader.

Kept apart from ``loaders.py`` so the loaders stay about reading formats, and so each rule
(encodings, delimiters, column names, numbers stored as text, infinities) is small and
testable on its own.
"""

from __future__ import annotations

import codecs
import csv
import re

import charset_normalizer
import numpy as np
import pandas as pd

from automl.errors import NonNumericValuesError

__all__ = [
    "MISSING_TOKENS",
    "clean_names",
    "decode_to_utf8",
    "normalise_text",
    "numbers_from_text",
    "parse_iso_dates",
    "replace_infinities",
    "sniff_decimal",
    "sniff_delimiter",
]

# Cells that mean "no value" in files people export from spreadsheets, R and databases.
MISSING_TOKENS = ("", "NA", "N/A", "n/a", "#N/A", "<NA>", "null", "NULL", "NaN", "nan", "?", "-",
                  "None")
DELIMITERS = (",", ";", "\t", "|")

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
_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")


def decode_to_utf8(data: bytes) -> tuple[bytes, str]:
    """Return the bytes as UTF-8 without a BOM, and the encoding they were read as.

    Everything after this step sees UTF-8, so the CSV readers need no encoding option.
    """
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):], "utf-8-sig"
    for bom, name in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                      (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(name).lstrip("\ufeff").encode("utf-8"), name
    try:
        data.decode("utf-8")
        return data, "utf-8"
    except UnicodeDecodeError:
        pass
    encoding = _guess_encoding(data[:65536])
    return data.decode(encoding, errors="replace").encode("utf-8"), encoding


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
            sniffed = csv.Sniffer().sniff("\n".join(lines), delimiters="".join(DELIMITERS))
            if sniffed.delimiter in tied:
                return sniffed.delimiter
        except csv.Error:
            pass
    return tied[0]


def sniff_decimal(lines: list[str], delimiter: str) -> tuple[str, str | None]:
    """Return ``(decimal, thousands)``: ``(",", ".")`` for files like ``1.234,5;7``."""
    if delimiter == ",":
        return ".", None
    fields = [f.strip() for row in csv.reader(lines[1:], delimiter=delimiter) for f in row]
    comma = sum(bool(_DECIMAL_COMMA.match(f)) for f in fields)
    dot = sum(bool(_DECIMAL_DOT.match(f)) and not _THOUSANDS_DOT.match(f) for f in fields)
    if comma == 0 or comma <= dot:
        return ".", None
    return ",", "." if any(_THOUSANDS_DOT.match(f) for f in fields) else None


def clean_names(raw: list[object]) -> tuple[list[str], list[str]]:
    """Make column names non-empty, unique, stripped strings; say what was renamed."""
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
    for i, name in enumerate(names):
        if names.index(name) == i:
            continue
        k = 1
        while f"{name}.{k}" in seen:
            k += 1
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
    because silently keeping it as text would hide a numeric feature from the model.
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
    if thousands:
        text = text.str.replace(thousands, "", regex=False)
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
