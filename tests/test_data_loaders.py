"""load_table on real files written to tmp_path: encodings, delimiters, messy cells, limits."""

from __future__ import annotations

import io
import math
from pathlib import Path

import pandas as pd
import pytest

import automl.data as data_pkg
from automl.data import Kind, LoadLimits, Table, load_table, register_loader
from automl.data.loaders import Loaded, Source
from automl.errors import (
    DataError,
    EmptyDataError,
    NonNumericValuesError,
    UnsupportedFormatError,
)
from tests.data_files import small_frame, write

MiB = 1024 * 1024
SAMPLE_DATA = Path(__file__).resolve().parents[1] / "sample_data"


# --- encodings -------------------------------------------------------------------------------


def test_utf8_bom_is_stripped_from_first_header(tmp_path):
    t = load_table(write(tmp_path, "bom.csv", "\ufeffname,age\nAnn,31\nBo,42\n"))
    assert list(t.frame.columns) == ["name", "age"]
    assert t.frame["age"].tolist() == [31, 42]


def test_utf16_with_bom(tmp_path):
    t = load_table(write(tmp_path, "u16.csv", "city,temp\nZürich,3.5\nMálaga,18.25\n", "utf-16"))
    assert list(t.frame.columns) == ["city", "temp"]
    assert t.frame["city"].tolist() == ["Zürich", "Málaga"]
    assert t.frame["temp"].tolist() == [3.5, 18.25]


def test_cp1252_round_trips_accents_and_warns(tmp_path):
    text = "name,drink,price\nJosé,café,2.5\nZoë,crème brûlée — “large”,4\n"
    t = load_table(write(tmp_path, "legacy.csv", text, "cp1252"))
    assert t.frame["drink"].tolist() == ["café", "crème brûlée — “large”"]
    assert t.frame["name"].tolist() == ["José", "Zoë"]
    assert any("cp1252" in w and "not UTF-8" in w for w in t.warnings)


def test_utf8_file_has_no_encoding_warning(tmp_path):
    t = load_table(write(tmp_path, "ok.csv", "a,b\ncafé,1\n"))
    assert t.warnings == []


# --- delimiters and decimals -----------------------------------------------------------------


@pytest.mark.parametrize("delim", [",", ";", "\t", "|"])
def test_each_delimiter_is_detected(tmp_path, delim):
    rows = [["id", "colour", "size"], ["1", "red", "2.5"], ["2", "blue", "3"], ["3", "red", "1"]]
    t = load_table(write(tmp_path, "d.csv", "\n".join(delim.join(r) for r in rows) + "\n"))
    assert list(t.frame.columns) == ["id", "colour", "size"]
    assert t.frame["size"].tolist() == [2.5, 3.0, 1.0]


def test_tsv_suffix_uses_tab(tmp_path):
    t = load_table(write(tmp_path, "d.tsv", "a\tb, with comma\n1\tx, y\n2\tz\n"))
    assert list(t.frame.columns) == ["a", "b, with comma"]
    assert t.frame["b, with comma"].tolist() == ["x, y", "z"]


def test_decimal_comma_with_semicolons(tmp_path):
    text = "produkt;preis;menge\nÄpfel;3,14;2\nBirnen;1.234,50;10\nKiwi;0,5;1\n"
    t = load_table(write(tmp_path, "de.csv", text))
    assert pd.api.types.is_float_dtype(t.frame["preis"])
    assert t.frame["preis"].tolist() == pytest.approx([3.14, 1234.5, 0.5])
    assert t.frame["menge"].tolist() == [2, 10, 1]


def test_decimal_comma_column_with_junk_is_reported(tmp_path):
    body = "".join(f"p{i};{i},5\n" for i in range(20)) + "px;unknown\n"
    with pytest.raises(NonNumericValuesError, match="unknown"):
        load_table(write(tmp_path, "de.csv", "name;value\n" + body))
    t = load_table(write(tmp_path, "de.csv", "name;value\n" + body), coerce_numbers=True)
    assert t.frame["value"].iloc[0] == 0.5
    assert math.isnan(t.frame["value"].iloc[20])


def test_leading_blank_lines_and_crlf(tmp_path):
    t = load_table(write(tmp_path, "b.csv", "\n \r\na,b\r\n1,x\r\n3,y\r\n"))
    assert list(t.frame.columns) == ["a", "b"]
    assert t.frame["a"].tolist() == [1, 3]


def test_plain_csv_uses_the_pyarrow_engine(tmp_path, monkeypatch):
    engines: list[str] = []
    real = pd.read_csv

    def spy(*args, **kwargs):
        engines.append(kwargs["engine"])
        return real(*args, **kwargs)

    monkeypatch.setattr("automl.data.loaders.pd.read_csv", spy)
    load_table(write(tmp_path, "a.csv", "a,b\n1,x\n"))
    load_table(write(tmp_path, "b.csv", "a;b\n1,5;x\n"))
    assert engines == ["pyarrow", "c"]


def test_quoted_commas_stay_in_their_field(tmp_path):
    t = load_table(write(tmp_path, "q.csv", 'name,note\nAnn,"likes tea, not coffee"\nBo,ok\n'))
    assert t.frame["note"].tolist() == ["likes tea, not coffee", "ok"]


# --- missing values, empty and malformed files ------------------------------------------------


def test_missing_tokens_become_missing(tmp_path):
    tokens = ["", "NA", "N/A", "n/a", "null", "NULL", "NaN", "nan", "?", "-", "None"]
    body = "".join(f"{i},{tok},{tok}\n" for i, tok in enumerate(tokens))
    t = load_table(write(tmp_path, "m.csv", "id,num,cat\n" + body + "99,1.5,x\n"))
    assert t.frame["num"].isna().sum() == len(tokens)
    assert t.frame["cat"].isna().sum() == len(tokens)
    assert t.frame["num"].iloc[-1] == 1.5
    assert t.schema["num"].n_missing == len(tokens)


def test_spaces_around_values_are_stripped(tmp_path):
    t = load_table(write(tmp_path, "s.csv", "a,b\n x , 1 \ny, NA \n"))
    assert t.frame["a"].tolist() == ["x", "y"]
    assert t.frame["b"].iloc[0] == 1
    assert math.isnan(t.frame["b"].iloc[1])


@pytest.mark.parametrize("content", [b"", b"   \n\n  \r\n", "\ufeff".encode()])
def test_empty_file(tmp_path, content):
    with pytest.raises(EmptyDataError, match=r"empty\.csv is empty"):
        load_table(write(tmp_path, "empty.csv", content))


def test_header_only_file(tmp_path):
    with pytest.raises(EmptyDataError, match=r"has column names \(a, b, c\) but no rows"):
        load_table(write(tmp_path, "h.csv", "a,b,c\n"))


def test_ragged_row_names_its_line(tmp_path):
    with pytest.raises(DataError, match="line 4 has 4 fields but the header has 3"):
        load_table(write(tmp_path, "r.csv", "a,b,c\n1,2,3\n4,5,6\n7,8,9,10\n11,12,13\n"))


def test_rows_all_longer_than_header_are_not_shifted(tmp_path):
    with pytest.raises(DataError, match="line 2 has 4 fields"):
        load_table(write(tmp_path, "r.csv", "a,b,c\n1,2,3,4\n5,6,7,8\n"))


@pytest.mark.parametrize(("text", "line", "got", "want"), [
    ("a,b,c\n1,2,3\n4,5\n6,7,8\n", 3, 2, 3),  # too few: never padded with missing values
    ("a;b;c\n1,5;2;3\n4,5;6\n", 3, 2, 3),  # the C reader (decimal commas) pads silently
    ("\n\na,b\n1,2\n3\n", 5, 1, 2),  # leading blank lines still count
    ('a,b\n1,"x\ny"\n2,"p",q\n', 4, 3, 2),  # a quoted line break does not shift the count
    ("a;b\n1,5;x\n2,5;y;z\n", 3, 3, 2),
    ("a,b,c\n0,1,2,3\n", 2, 4, 3),  # pyarrow would make the extra field an index
])
def test_ragged_rows_name_line_and_field_counts(tmp_path, text, line, got, want):
    with pytest.raises(DataError, match=rf"line {line} has {got} fields but the header has "
                                        rf"{want}.*Fix that row"):
        load_table(write(tmp_path, "r.csv", text))


def test_blank_lines_between_and_after_rows_are_fine(tmp_path):
    t = load_table(write(tmp_path, "b.csv", "a,b\n1,2\n \t\n3,4\n\n\n"))
    assert t.frame.to_dict("list") == {"a": [1, 3], "b": [2, 4]}


@pytest.mark.parametrize("text", ['a,b\n1,"x\ny"\n2,"z"\n', 'a;b\n1,5;"x\r\ny"\n2,5;z\n'])
def test_quoted_newline_stays_in_one_row(tmp_path, text):
    t = load_table(write(tmp_path, "q.csv", text))
    assert len(t.frame) == 2
    assert t.frame["b"].tolist()[0].replace("\r", "") == "x\ny"


def test_header_with_quoted_newline(tmp_path):
    t = load_table(write(tmp_path, "h.csv", '"first\nname",age\nAnn,3\n'))
    assert list(t.frame.columns) == ["first\nname", "age"]
    assert t.frame["age"].tolist() == [3]


@pytest.mark.parametrize(("text", "line"), [
    ('a,b\n1,"x\n', 2),  # pyarrow alone reads this as the value 'x\n'
    ('a,b\n1,2\n3,"oops\n4,5\n6,7\n', 3),
    ('a;b\n1,5;"x\n2,5;y\n', 2),
    ('"a,b\n1,2\n', 1),
])
def test_unclosed_quote_names_its_line(tmp_path, text, line):
    with pytest.raises(DataError, match=rf"quote .* on line {line} is never closed.*Close"):
        load_table(write(tmp_path, "u.csv", text))


def test_duplicate_and_empty_headers_are_renamed_with_warnings(tmp_path):
    t = load_table(write(tmp_path, "h.csv", " a ,b,a,,b\n1,2,3,4,5\n"))
    assert list(t.frame.columns) == ["a", "b", "a.1", "column_4", "b.1"]
    assert t.frame.iloc[0].tolist() == [1, 2, 3, 4, 5]
    assert any("'a' appears more than once" in w for w in t.warnings)
    assert any("Column 4 has no name" in w for w in t.warnings)


def test_thousands_commas_in_quoted_fields(tmp_path):
    t = load_table(write(tmp_path, "t.csv", 'item,price,code\nA,"1,234.56","1,2"\n'
                                            'B,"12,000",7\nC,3.5,"3,4"\n'))
    assert t.frame["price"].tolist() == [1234.56, 12000.0, 3.5]
    assert t.frame["code"].tolist() == ["1,2", "7", "3,4"]  # not grouped in threes: text


def test_thousands_commas_with_semicolons(tmp_path):
    t = load_table(write(tmp_path, "t.csv", "a;b\nx;1,234.56\ny;2\n"))
    assert t.frame["b"].tolist() == [1234.56, 2.0]


def test_utf16_semicolons_and_decimal_commas(tmp_path):
    t = load_table(write(tmp_path, "u.csv", "ort;wert\nKöln;1.234,5\nWien;2,25\n", "utf-16"))
    assert t.frame["wert"].tolist() == [1234.5, 2.25]


def test_damaged_utf16_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="UTF-16 byte-order mark.*save the file again as UTF-8"):
        load_table(write(tmp_path, "u.csv", b"\xff\xfea\x00,"))


def test_field_longer_than_csv_module_default(tmp_path):
    long = "x" * 200_000  # the csv module refuses fields over 128 KiB unless told otherwise
    t = load_table(write(tmp_path, "l.csv", f'a,b\n1,"{long}\n"\n2,"y"""\n'))
    assert t.frame["b"].str.len().tolist() == [200_000, 2]  # stripped of the newline


# --- other formats and sources ----------------------------------------------------------------


def test_parquet_round_trip(tmp_path):
    path = tmp_path / "t.parquet"
    small_frame().to_parquet(path, index=False)
    t = load_table(path)
    pd.testing.assert_frame_equal(t.frame, small_frame(), check_dtype=False)
    assert t.schema["flag"].kind is Kind.BOOLEAN


def test_excel_round_trip_with_messy_header(tmp_path):
    df = small_frame()
    df.columns = ["id", " city ", "temp", "id"]
    path = tmp_path / "t.xlsx"
    df.to_excel(path, index=False)
    t = load_table(path)
    assert list(t.frame.columns) == ["id", "city", "temp", "id.1"]
    assert t.frame["city"].tolist()[:2] == ["Köln", "Lyon"]
    assert t.frame["temp"].tolist()[0] == 3.5
    assert any("more than once" in w for w in t.warnings)


def test_excel_numbers_with_junk_and_missing_tokens(tmp_path):
    values: list[object] = [float(i) for i in range(30)]
    values[2], values[9] = "n/a", "twelve"
    path = tmp_path / "x.xlsx"
    pd.DataFrame({"amount": values, "k": range(30)}).to_excel(path, index=False)
    with pytest.raises(NonNumericValuesError, match=r"1 value\(s\).*row 10 \('twelve'\)"):
        load_table(path)
    t = load_table(path, coerce_numbers=True)
    assert t.frame["amount"].isna().sum() == 2
    assert t.schema["amount"].kind is Kind.NUMERIC


def test_legacy_xls_gets_a_clear_message(tmp_path):
    with pytest.raises(UnsupportedFormatError, match=r"save it as \.xlsx"):
        load_table(write(tmp_path, "old.xls", b"\xd0\xcf\x11\xe0 not a zip"))


def test_file_like_with_name_attribute(tmp_path):
    buf = io.BytesIO(b"a;b\n1;x\n2;y\n")
    buf.name = "upload.csv"
    t = load_table(buf)
    assert t.source == "upload.csv"
    assert t.frame["a"].tolist() == [1, 2]


def test_file_like_with_name_argument_picks_format(tmp_path):
    buf = io.BytesIO()
    small_frame().to_parquet(buf, index=False)
    t = load_table(buf, name="dir/upload.parquet")
    assert t.source == "upload.parquet"
    assert len(t.frame) == 3


def test_unnamed_file_like_asks_for_a_name():
    with pytest.raises(UnsupportedFormatError, match="name="):
        load_table(io.BytesIO(b"a\n1\n"))


def test_source_is_the_file_name_only(tmp_path):
    sub = tmp_path / "deep" / "folder"
    sub.mkdir(parents=True)
    assert load_table(write(sub, "x.csv", "a\n1\n")).source == "x.csv"


def test_unsupported_suffix_lists_supported(tmp_path):
    with pytest.raises(UnsupportedFormatError) as err:
        load_table(write(tmp_path, "data.json", "{}"))
    assert "'.json'" in str(err.value)
    for suffix in (".csv", ".parquet", ".xlsx"):
        assert suffix in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="No file at"):
        load_table(tmp_path / "nope.csv")


def test_unknown_url_scheme_is_refused_and_hides_password():
    with pytest.raises(UnsupportedFormatError) as err:
        load_table("oracle://me:s3cret@db.example.com/sales", table="t")
    assert "s3cret" not in str(err.value)


def test_registry_dispatches_urls_by_scheme(monkeypatch):
    monkeypatch.setattr("automl.data.loaders._LOADERS", dict(data_pkg.loaders._LOADERS))
    seen: list[Source] = []

    def fake(src: Source, limits: LoadLimits) -> Loaded:
        seen.append(src)
        return Loaded(pd.DataFrame({"x": [1, 2]}))

    register_loader("sqlite://", fake)
    t = load_table("sqlite+pysqlite://user:pw@/tmp/db.sqlite")
    assert t.frame["x"].tolist() == [1, 2]
    assert seen[0].url == "sqlite+pysqlite://user:pw@/tmp/db.sqlite"
    assert "pw" not in t.source


# --- hash, schema, package surface -------------------------------------------------------------


def test_data_hash_stable_and_sensitive(tmp_path):
    a = write(tmp_path, "a.csv", "x,y\n1,foo\n2,bar\n")
    first, second = load_table(a), load_table(a)
    assert first.data_hash == second.data_hash
    assert len(first.data_hash) == 64
    changed = load_table(write(tmp_path, "b.csv", "x,y\n1,foo\n3,bar\n"))
    renamed = load_table(write(tmp_path, "c.csv", "x,z\n1,foo\n2,bar\n"))
    assert changed.data_hash != first.data_hash
    assert renamed.data_hash != first.data_hash


def test_iso_dates_parse_the_same_with_either_engine(tmp_path):
    comma = load_table(write(tmp_path, "a.csv", "d,v\n2024-01-31,1.5\n2024-02-29,2\n"))
    semi = load_table(write(tmp_path, "b.csv", "d;v\n2024-01-31;1,5\n2024-02-29;2\n"))
    for t in (comma, semi):
        assert str(t.frame["d"].dtype) == "datetime64[us]"
        assert t.schema["d"].kind is Kind.DATETIME
    assert comma.data_hash == semi.data_hash


@pytest.mark.parametrize(("file", "target"), [("credit.csv", "Status"),
                                               ("churn.csv", "churn"),
                                               ("wages.csv", "wage")])
def test_sample_data_loads_cleanly(file, target):
    t = load_table(SAMPLE_DATA / file)
    assert isinstance(t, Table)
    assert t.warnings == []
    assert target in t.frame.columns and len(t.frame) > 500
    assert len(t.schema.names_of(Kind.CATEGORICAL, Kind.BOOLEAN)) >= 2


def test_package_exports():
    expected = {"load_table", "Table", "LoadLimits", "register_loader", "infer_schema",
                "Schema", "ColumnInfo", "Kind"}
    assert expected <= set(data_pkg.__all__)
    for name in data_pkg.__all__:
        assert hasattr(data_pkg, name)
