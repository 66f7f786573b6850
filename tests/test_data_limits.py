"""The input gate: archives (.gz, .zip) and size limits, checked while reading."""

from __future__ import annotations

import gzip
import io
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from automl.data import LoadLimits, load_table
from automl.errors import (
    DataError,
    DataLimitError,
    EmptyDataError,
    UnsupportedFormatError,
)
from tests.data_files import small_frame, write

MiB = 1024 * 1024


# --- archives ---------------------------------------------------------------------------------


def _zip(tmp_path: Path, name: str, members: dict[str, bytes] | None) -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for member, content in (members or {}).items():
            z.writestr(member, content)
    return path


def test_gzip_inner_suffix_picks_the_format(tmp_path):
    t = load_table(write(tmp_path, "data.csv.gz", gzip.compress(b"a;b\n1,5;x\n")))
    assert t.frame["a"].tolist() == [1.5]
    assert t.source == "data.csv.gz"
    tsv = load_table(write(tmp_path, "data.tsv.gz", gzip.compress(b"a\tb, c\n1\tx, y\n")))
    assert list(tsv.frame.columns) == ["a", "b, c"]


def test_zip_with_one_member_of_each_format(tmp_path):
    buf = io.BytesIO()
    small_frame().to_parquet(buf, index=False)
    t = load_table(_zip(tmp_path, "p.zip", {"dir/t.parquet": buf.getvalue(),
                                            "__MACOSX/dir/._t.parquet": b"junk"}))
    assert t.frame["city"].tolist()[:2] == ["Köln", "Lyon"]
    t = load_table(_zip(tmp_path, "data.csv.zip", {"data.csv": b"a,b\n1,x\n"}))
    assert t.frame["a"].tolist() == [1]


def test_messages_inside_archives_name_the_inner_file(tmp_path):
    with pytest.raises(DataError, match=r"data\.zip/in\.csv: line 3 has 1 fields"):
        load_table(_zip(tmp_path, "data.zip", {"in.csv": b"a,b\n1,2\n3\n"}))


def test_zip_with_several_members_lists_them(tmp_path):
    path = _zip(tmp_path, "two.zip", {"a.csv": b"a\n1\n", "b.csv": b"b\n2\n"})
    with pytest.raises(DataError, match=r"holds 2 files \(a\.csv, b\.csv\).*exactly one"):
        load_table(path)


@pytest.mark.parametrize(("name", "content", "error", "match"), [
    ("empty.zip", None, EmptyDataError, "holds no files"),
    ("j.zip", {"data.json": b"{}"}, UnsupportedFormatError, "'data.json'.*data.csv.gz"),
    ("data.gz", gzip.compress(b"a\n1\n"), UnsupportedFormatError, "named like data.csv.gz"),
    ("bad.csv.gz", b"\x1f\x8b not gzip", DataError, "could not be unpacked as a gzip"),
    ("bad.zip", b"PK\x03\x04 broken", DataError, "could not be unpacked as a zip"),
    ("cut.csv.gz", gzip.compress(b"a\n1\n" * 999)[:40], DataError, "damaged"),
])
def test_bad_archives(tmp_path, name, content, error, match):
    path = (_zip(tmp_path, name, content) if isinstance(content, dict | None.__class__)
            else write(tmp_path, name, content))
    with pytest.raises(error, match=match):
        load_table(path)


@pytest.mark.parametrize("kind", ["gz", "zip"])
def test_archive_bomb_is_refused_while_unpacking(tmp_path, kind):
    raw = b"a\n" + b"0\n" * (20 * MiB)  # 40 MiB that packs into about 40 KiB
    path = (write(tmp_path, "bomb.csv.gz", gzip.compress(raw)) if kind == "gz"
            else _zip(tmp_path, "bomb.zip", {"bomb.csv": raw}))
    del raw
    tracemalloc.start()
    try:
        with pytest.raises(DataLimitError, match=r"unpacks to more than 1\.0 MiB.*max_bytes"):
            load_table(path, limits=LoadLimits(max_bytes=MiB))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * MiB  # refused a chunk past the limit, not after inflating 40 MiB


def test_zip_member_declared_too_big_is_refused_before_reading(tmp_path, monkeypatch):
    path = _zip(tmp_path, "z.zip", {"z.csv": b"a\n" + b"1\n" * 2000})
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda *a, **k: pytest.fail("opened"))
    with pytest.raises(DataLimitError, match="unpacks to more than"):
        load_table(path, limits=LoadLimits(max_bytes=1000))


# --- limits ----------------------------------------------------------------------------------


def test_row_limit(tmp_path):
    path = write(tmp_path, "rows.csv", "a\n" + "".join(f"{i}\n" for i in range(11)))
    assert len(load_table(path, limits=LoadLimits(max_rows=11)).frame) == 11
    with pytest.raises(DataLimitError, match=r"rows.*LoadLimits\.max_rows.*sample"):
        load_table(path, limits=LoadLimits(max_rows=10))


def test_row_limit_with_c_engine(tmp_path):
    path = write(tmp_path, "rows.csv", "a;b\n" + "".join(f"{i},5;x\n" for i in range(11)))
    with pytest.raises(DataLimitError, match="more than 10 rows"):
        load_table(path, limits=LoadLimits(max_rows=10))


def test_column_limit(tmp_path):
    path = write(tmp_path, "cols.csv", ",".join(f"c{i}" for i in range(6)) + "\n" +
                 ",".join("1" * 6) + "\n")
    with pytest.raises(DataLimitError, match=r"more than 5 columns.*limit of 5.*max_columns"):
        load_table(path, limits=LoadLimits(max_columns=5))


def test_column_limit_parquet(tmp_path):
    path = tmp_path / "t.parquet"
    small_frame().to_parquet(path, index=False)
    with pytest.raises(DataLimitError, match="max_columns"):
        load_table(path, limits=LoadLimits(max_columns=3))


@pytest.mark.parametrize("suffix", [".parquet", ".xlsx"])
def test_compressed_formats_are_capped_on_what_they_unpack_to(tmp_path, suffix):
    """A small file of repeated values unpacks to far more: refused before it is read,
    while the same table under a higher limit loads."""
    import pandas as pd

    frame = pd.DataFrame({"a": [0.0] * 30_000, "b": ["same text"] * 30_000})
    path = tmp_path / f"bomb{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(path, index=False, compression="zstd")
        limit = 300_000  # file ~2 kB; 60,000 cells are at least 480 kB in memory
    else:
        frame.to_excel(path, index=False)
        limit = 500_000  # file ~250 kB; its XML ~3.3 MB, over 4 x the limit
    assert path.stat().st_size < limit
    with pytest.raises(DataLimitError, match=r"unpacks to .* over the limit"):
        load_table(path, limits=LoadLimits(max_bytes=limit))
    assert load_table(path, limits=LoadLimits(max_bytes=100 * limit)).frame.shape == (30_000, 2)


def test_byte_limit_for_paths_and_uploads(tmp_path):
    path = write(tmp_path, "big.csv", "a\n" + "1\n" * 600)
    with pytest.raises(DataLimitError, match=r"over the limit.*max_bytes.*sample"):
        load_table(path, limits=LoadLimits(max_bytes=1000))
    buf = io.BytesIO(path.read_bytes())
    with pytest.raises(DataLimitError, match="1,202 bytes, over the limit of 1,000 bytes"):
        load_table(buf, name="big.csv", limits=LoadLimits(max_bytes=1000))


class _Endless(io.RawIOBase):
    """A stream that cannot seek and never ends, like a socket: reads must stop at the cap."""

    name = "endless.csv"
    size = None

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        buf[:] = b"1\n" * (len(buf) // 2) + b"1" * (len(buf) % 2)
        return len(buf)


def test_byte_limit_checks_known_size_before_reading():
    class Huge(io.BytesIO):
        size = 10 * 1024**3  # what Streamlit's UploadedFile reports

        def read(self, *args):
            raise AssertionError("read before the size was checked")

    with pytest.raises(DataLimitError, match=r"10240\.0 MiB, over the limit"):
        load_table(Huge(b"a\n1\n"), name="huge.csv")
    with pytest.raises(DataLimitError, match="more than 1,000 bytes"):
        load_table(_Endless(), limits=LoadLimits(max_bytes=1000))
