"""Inputs that are small on disk but ask for far more work or memory are refused early.

A 600 KB header of 300,000 fields, a Parquet dictionary of one long value repeated in every
row, an .xlsx shared string referenced by every cell: each must be refused by the limits
(``LoadLimits``) before the work it asks for is done. Where today's code would hang, the load
runs in a child process with a generous timeout as a hang guard (no timed assertions).
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from automl.data import LoadLimits, load_table
from automl.data.checks import clean_names, count_fields, read_header
from automl.errors import AutoMLError, DataLimitError, UnsupportedFormatError

MiB = 1024 * 1024
HANG_GUARD = 120  # seconds; the refusals take about one (see the report), today's code minutes


def _child(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=HANG_GUARD, env={**os.environ, "AUTOML_RUNS_DIR": str(cwd)})


# --- CSV: wide headers ------------------------------------------------------------------------


def test_wide_header_is_refused_by_train_before_any_per_column_work(tmp_path):
    """300,000 header fields in 600 KB, every name the same (the worst case for renaming)."""
    (tmp_path / "wide.csv").write_text("c0," + "a," * 299_999 + "a\n" + "1," * 300_000 + "1\n")
    r = _child("-m", "automl.cli", "train", "wide.csv", "--target", "c0", "--out", "m.skops",
               cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "more than 2,000 columns, over the limit of 2,000" in r.stderr
    assert "LoadLimits.max_columns" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "m.skops").exists()


def test_quoted_delimiters_do_not_hide_a_wide_header(tmp_path):
    """A first name holding thousands of quoted commas, then 300,000 plain fields."""
    path = tmp_path / "q.csv"
    path.write_text('"' + "," * 5000 + '",' + ",".join(["a"] * 300_000) + "\n1\n")
    code = ("from automl.data import load_table\n"
            "try:\n    load_table('q.csv')\n"
            "except Exception as e:\n    print(type(e).__name__, e)\n")
    r = _child("-c", code, cwd=tmp_path)
    assert "DataLimitError" in r.stdout and "more than 2,000 columns" in r.stdout, r.stdout


def test_header_at_the_column_limit_loads_and_names_stay_unique(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text(",".join(["a"] * 3 + ["a.2"] + [f"c{i}" for i in range(6)]) + "\n"
                    + ",".join(["1"] * 10) + "\n")
    t = load_table(path, limits=LoadLimits(max_columns=10))
    assert list(t.frame.columns)[:4] == ["a", "a.1", "a.3", "a.2"]
    with pytest.raises(DataLimitError, match="more than 9 columns, over the limit of 9"):
        load_table(path, limits=LoadLimits(max_columns=9))


def test_quoted_header_fields_count_once(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text('"x,y","multi\nline, name",z\n1,2,3\n')
    t = load_table(path, limits=LoadLimits(max_columns=3))
    assert list(t.frame.columns) == ["x,y", "multi\nline, name", "z"]


def test_delimiter_sniffer_sees_a_bounded_sample(tmp_path, monkeypatch):
    """csv.Sniffer takes time quadratic in its input (12 s on 64 KiB of '"a",;' here); it
    only breaks ties between delimiters, so it gets a few KiB of a long line, not all of it."""
    sizes: list[int] = []
    sniff = csv.Sniffer.sniff

    def recording(self, sample, delimiters=None):
        sizes.append(len(sample))
        return sniff(self, sample, delimiters)

    monkeypatch.setattr(csv.Sniffer, "sniff", recording)
    path = tmp_path / "tie.csv"
    path.write_text('"a",;' * 13_000 + "\n" + "1,2\n")
    with pytest.raises(AutoMLError):
        load_table(path)
    assert sizes and max(sizes) <= 4096


def test_clean_names_of_many_duplicates():
    names, notes = clean_names(["a"] * 2000 + ["a.1", "", None, 3.0])
    assert names[:3] == ["a", "a.2", "a.3"] and names[2000] == "a.1"
    assert len(set(names)) == len(names) == 2004
    assert names[-3:] == ["column_2002", "column_2003", "3"]
    assert sum("appears more than once" in n for n in notes) == 1999


HEADERS = st.text(st.sampled_from(['a', '"', ',', ';', '\t', '\r', '\n', ' ']), max_size=40)


@settings(max_examples=1000, derandomize=True, database=None, deadline=None)
@given(text=HEADERS, cap=st.integers(0, 6), delim=st.sampled_from([",", ";", "\t"]))
def test_count_fields_agrees_with_the_header_reader(text, cap, delim):
    """The bounded counter sees the same first record as ``read_header`` (the csv module)."""
    header, _ = read_header(text, delim)
    assert count_fields(text, delim, cap) == min(len(header), cap + 1)


# --- Parquet: dictionaries --------------------------------------------------------------------


def _parquet(tmp_path: Path, table: pa.Table, **options) -> Path:
    path = tmp_path / "t.parquet"
    pq.write_table(table, path, compression="zstd", **options)
    return path


def test_parquet_dictionary_that_expands_past_the_limit_is_refused(tmp_path):
    """20,000 rows of one 10 kB value: a 2 kB file that is 200 MB once dense."""
    one = pa.DictionaryArray.from_arrays(pa.array(np.zeros(20_000, dtype="int32")),
                                         pa.array(["x" * 10_000]))
    path = _parquet(tmp_path, pa.table({"n": np.zeros(20_000), "s": one}))
    assert path.stat().st_size < 20_000
    with pytest.raises(DataLimitError, match=r"unpacks to more than 10\.0 MiB.*max_bytes"):
        load_table(path, limits=LoadLimits(max_bytes=10 * MiB))


def test_parquet_delta_prefix_strings_are_refused(tmp_path):
    """DELTA_BYTE_ARRAY shares prefixes between values: its dense size is unknown until
    decoded, so the loader says how to write the file instead."""
    path = _parquet(tmp_path, pa.table({"s": ["x" * 10_000] * 2_000}), use_dictionary=False,
                    column_encoding={"s": "DELTA_BYTE_ARRAY"})
    with pytest.raises(UnsupportedFormatError, match="'s'.*DELTA_BYTE_ARRAY.*dictionary"):
        load_table(path)


def test_parquet_under_the_limit_loads_as_before(tmp_path):
    frame = pd.DataFrame({"s": ["x" * 100] * 1000, "c": pd.Categorical(["p", "q"] * 500),
                          "n": np.arange(1000)})
    path = tmp_path / "ok.parquet"
    frame.to_parquet(path, index=False)
    t = load_table(path, limits=LoadLimits(max_bytes=150_000))  # dense ~117 kB
    assert t.frame.shape == (1000, 3) and t.frame["s"].iloc[0] == "x" * 100
    assert isinstance(t.frame["c"].dtype, pd.CategoricalDtype)
    with pytest.raises(DataLimitError, match="unpacks to more than"):
        load_table(path, limits=LoadLimits(max_bytes=100_000))


def test_parquet_nested_column_is_refused_with_a_message(tmp_path):
    path = tmp_path / "l.parquet"
    pd.DataFrame({"n": [1, 2], "l": [[1.0, 2.0], [3.0]]}).to_parquet(path, index=False)
    with pytest.raises(UnsupportedFormatError, match="column 'l' holds list.*Flatten"):
        load_table(path)


# --- Excel: shared strings --------------------------------------------------------------------


def _xlsx_with_rows(tmp_path: Path, rows: str) -> Path:
    """A workbook made by openpyxl, then given a shared-strings table ('n', 's' and a
    10,000-character 'yyy...' at index 2, as Excel writes them) and a sheet of ``rows``."""
    import openpyxl

    path = tmp_path / "s.xlsx"
    openpyxl.Workbook().save(path)  # openpyxl itself writes text inline, never shared
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    kind = "officedocument.spreadsheetml.sharedStrings+xml"
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(b"</Types>", (
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
        f'{kind}"/></Types>').encode())
    parts["xl/sharedStrings.xml"] = (f'<sst xmlns="{ns}"><si><t>n</t></si><si><t>s</t></si>'
                                     f'<si><t>{"y" * 10_000}</t></si></sst>').encode()
    parts["xl/worksheets/sheet1.xml"] = (
        f'<worksheet xmlns="{ns}"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c>'
        f'<c r="B1" t="s"><v>1</v></c></row>{rows}</sheetData></worksheet>').encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def test_xlsx_shared_string_referenced_by_every_cell_is_refused(tmp_path):
    """One 10 kB shared string in 20,000 cells: a 0.2 MB file, a 200 MB table."""
    path = _xlsx_with_rows(tmp_path, "".join(
        f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}" t="s"><v>2</v></c></row>'
        for r in range(2, 20_002)))
    assert path.stat().st_size < 250_000
    with pytest.raises(DataLimitError, match=r"unpacks to more than 10\.0 MiB.*max_bytes"):
        load_table(path, limits=LoadLimits(max_bytes=10 * MiB))


def test_xlsx_far_row_that_pandas_would_fill_up_to_is_refused(tmp_path):
    path = _xlsx_with_rows(tmp_path, '<row r="1999999"><c r="A1999999"><v>1</v></c></row>')
    with pytest.raises(DataLimitError, match="unpacks to more than 1.0 MiB"):
        load_table(path, limits=LoadLimits(max_bytes=MiB))
    with pytest.raises(DataLimitError, match="more than 1,000 rows"):
        load_table(path, limits=LoadLimits(max_rows=1000))


def test_xlsx_under_the_limits_loads(tmp_path):
    path = _xlsx_with_rows(tmp_path, "".join(
        f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}" t="s"><v>2</v></c></row>'
        for r in range(2, 12)))
    t = load_table(path, limits=LoadLimits(max_bytes=200_000))  # 10 x 10 kB, and 2 names
    assert t.frame.shape == (10, 2) and t.frame["s"].str.len().tolist() == [10_000] * 10
    with pytest.raises(DataLimitError, match="unpacks to more than"):
        load_table(path, limits=LoadLimits(max_bytes=90_000))


def test_xlsx_row_wider_than_the_column_limit_is_refused(tmp_path):
    path = tmp_path / "w.xlsx"
    pd.DataFrame([[1, 2, 3], [4, 5, 6]]).to_excel(path, index=False, header=False)
    with pytest.raises(DataLimitError, match="more than 2 columns, over the limit of 2"):
        load_table(path, limits=LoadLimits(max_columns=2))
