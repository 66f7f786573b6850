"""Fuzz the CSV loader: whatever the bytes, only the engine's own errors may escape.

A crash in pandas, pyarrow, the csv module or a codec would reach the user as a traceback
instead of a message that says what to fix, so any exception that is not an ``AutoMLError``
fails here. Two strategies (random bytes, and CSV-like text built from the things real files
get wrong) share 2,000 derandomised examples, so a failure reproduces on every run.
"""

from __future__ import annotations

import codecs
import gzip
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from automl.data import LoadLimits, load_table
from automl.errors import AutoMLError

pytestmark = pytest.mark.slow

LIMITS = LoadLimits(max_bytes=512 * 1024, max_rows=50, max_columns=12)
FUZZ = settings(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def check_load(data: bytes, name: str) -> None:
    """Load; an engine error is fine, anything else fails, and a table must be well named."""
    try:
        table = load_table(io.BytesIO(data), name=name, limits=LIMITS)
    except AutoMLError:
        return
    names = list(table.frame.columns)
    assert all(isinstance(c, str) for c in names), names
    assert len(set(names)) == len(names), names
    assert len(table.frame) >= 1


@settings(FUZZ, max_examples=700)
@given(data=st.binary(max_size=600) | st.binary(max_size=40).map(lambda b: b"a,b\n" + b),
       name=st.sampled_from(["f.csv", "f.tsv", "f.txt", "f.csv.gz"]))
def test_random_bytes(data: bytes, name: str) -> None:
    check_load(gzip.compress(data) if name.endswith(".gz") else data, name)


NUMBERS = st.sampled_from(["1", "-2", "3.5", "1.234,56", "1,234.56", "12,000", "0,5", "1e400",
                           "-1e400", "inf", "NaN", "nan", "-", "?", "NA", "1e5", "007", "+3",
                           "2024-01-31", "2024-13-45", "9999999999999999999999", "0x1F",
                           "1_000", ".5", "5.", "TRUE", "false"])
WORDS = st.text(st.characters(max_codepoint=0x2FF) | st.sampled_from(
    ['"', "'", ",", ";", "\t", "|", "\n", "\r", " ", "\x00", "\x0c", "é", "\u2028", "\ufeff",
     "😀"]), max_size=8)
LONG = st.integers(1, 300).map(lambda n: "x" * (n * 1000))  # past the csv module's 128 KiB


@st.composite
def cells(draw: st.DrawFn, delim: str) -> str:
    value = draw(st.one_of(NUMBERS, WORDS, st.just(""), LONG if draw(st.integers(0, 30)) == 0
                           else st.just("")))
    how = draw(st.sampled_from(["plain", "plain", "quoted", "unclosed"]))
    if how == "quoted" or (how == "plain" and any(c in value for c in f'{delim}"\r\n')
                           and draw(st.booleans())):
        return '"' + value.replace('"', '""') + '"'
    return '"' + value if how == "unclosed" and draw(st.integers(0, 9)) == 0 else value


@st.composite
def csv_texts(draw: st.DrawFn) -> tuple[bytes, str]:
    delim = draw(st.sampled_from([",", ";", "\t", "|"]))
    width = draw(st.integers(1, 6))
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    header = [draw(st.sampled_from(["a", "a", "", " b ", "1", "1.0", "x.1", '"q"', "é"]))
              for _ in range(width)]
    lines = [delim.join(header)]
    for _ in range(draw(st.integers(0, 8))):
        n = width + draw(st.sampled_from([0, 0, 0, 0, 0, -1, 1]))
        lines.append(delim.join(draw(cells(delim)) for _ in range(max(n, 0))))
        if draw(st.integers(0, 9)) == 0:
            lines.append(draw(st.sampled_from(["", " ", "\t", delim])))
    text = draw(st.sampled_from(["", "\n", " \n"])) + eol.join(lines)
    text += draw(st.sampled_from(["", eol, eol + eol]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.integers(0, 19)) == 0:
        data = codecs.BOM_UTF8 + data  # a stray BOM on top of another encoding
    name = draw(st.sampled_from(["d.csv", "d.csv", "d.tsv", "d.txt", "d.csv.gz"]))
    return (gzip.compress(data) if name.endswith(".gz") else data), name


@settings(FUZZ, max_examples=1300)
@given(case=csv_texts())
def test_csv_like_text(case: tuple[bytes, str]) -> None:
    check_load(*case)
