"""CSV written for people: text a spreadsheet would run as a formula is escaped."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from automl.exports import csv_bytes, escape_cell, safe_frame, to_csv_safe

RISKY = ['=HYPERLINK("http://evil","x")', "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def _cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


@pytest.mark.parametrize("value", RISKY)
def test_each_formula_start_gets_a_quote(value):
    assert escape_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["plain", "a=b", " =x", "", "'=already", 5, -1.5, None])
def test_other_values_are_unchanged(value):
    assert escape_cell(value) == value


def test_text_columns_of_every_dtype_and_names_are_escaped():
    frame = pd.DataFrame({
        "obj": pd.Series(RISKY, dtype=object),
        "str": pd.Series(RISKY, dtype="str"),
        "cat": pd.Categorical(RISKY),
        "mixed": pd.Series(["=1", 2, None, "ok", -3.5, "@x"], dtype=object),
        "=name": range(6),
    })
    rows = _cells(csv_bytes(frame))
    assert rows[0] == ["obj", "str", "cat", "mixed", "'=name"]
    for col in range(3):
        assert [r[col] for r in rows[1:]] == ["'" + v for v in RISKY]
    assert [r[3] for r in rows[1:]] == ["'=1", "2", "", "ok", "-3.5", "'@x"]


def test_numbers_stay_numbers_and_text_that_looks_like_one_is_escaped():
    frame = pd.DataFrame({"score": [-1.5, 2.0, np.nan], "n": [-3, 0, 7],
                          "flag": [True, False, True], "code": ["-1.5", "7", None]})
    back = pd.read_csv(io.BytesIO(csv_bytes(frame)))
    assert back["score"].tolist()[:2] == [-1.5, 2.0] and np.isnan(back["score"].iloc[2])
    assert back["n"].tolist() == [-3, 0, 7] and back["flag"].tolist() == [True, False, True]
    assert back["code"].tolist()[:2] == ["'-1.5", "7"]


def test_the_input_frame_is_not_changed(tmp_path):
    frame = pd.DataFrame({"=a": ["=1", "b"]})
    to_csv_safe(frame, tmp_path / "out.csv")
    assert list(frame.columns) == ["=a"] and frame["=a"].tolist() == ["=1", "b"]
    assert safe_frame(frame)["'=a"].tolist() == ["'=1", "b"]
    assert _cells((tmp_path / "out.csv").read_bytes()) == [["'=a"], ["'=1"], ["b"]]


def test_the_app_turns_off_streamlit_s_own_table_export():
    """st.dataframe's built-in 'Download as CSV' writes cells as they are, formulas
    included; the app's config hides it, so CSV leaves the app only through csv_bytes."""
    root = Path(__file__).resolve().parents[1]
    code = "from streamlit import config; print(config.get_option('client.disableDataExport'))"
    r = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                       timeout=120)
    assert r.stdout.strip().splitlines()[-1] == "True", r.stderr
