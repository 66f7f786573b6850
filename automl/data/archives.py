"""Unpack ``.gz`` and ``.zip`` files before the format loaders see them.

The size limit applies to the unpacked bytes and is enforced while inflating in 1 MiB chunks,
so a small archive that expands to gigabytes (a zip bomb) is refused just past the limit
instead of filling memory. The inner file's suffix picks the format (``data.csv.gz`` is CSV).
"""

from __future__ import annotations

import gzip
import io
import zipfile
from collections.abc import Callable
from pathlib import PurePosixPath

from automl.data.loaders import (
    Loaded,
    LoadLimits,
    Source,
    find_loader,
    register_loader,
    size_text,
)
from automl.errors import (
    AutoMLError,
    DataError,
    DataLimitError,
    EmptyDataError,
    UnsupportedFormatError,
)

__all__ = ["INNER_SUFFIXES", "load_archive", "unpack"]

INNER_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq", ".xlsx", ".xlsm")
CHUNK = 1 << 20
_JUNK = ("__MACOSX/", ".DS_Store", "Thumbs.db")  # what zip tools add beside the real file


def load_archive(src: Source, limits: LoadLimits) -> Loaded:
    """``data.csv.gz`` and one-file zips: unpack (capped), then load the file inside."""
    name, suffix, data = unpack(src.name, src.data, limits.max_bytes)
    inner = Source(name=name, data=data, format=suffix)
    return find_loader(inner)(inner, limits)


def unpack(name: str, data: bytes, max_bytes: int) -> tuple[str, str, bytes]:
    """Return ``(name to show, inner suffix, unpacked bytes)`` for a ``.gz`` or ``.zip`` file."""
    try:
        if name.lower().endswith(".gz"):
            inner = name[:-3]
            _check_suffix(name, inner)
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
                return name, _suffix(inner), _read_capped(f.read, name, max_bytes)
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            info = _only_member(name, z)
            _check_suffix(name, info.filename)
            shown = f"{name}/{PurePosixPath(info.filename).name}"
            if info.file_size > max_bytes:
                _too_big(name, max_bytes)
            with z.open(info) as f:
                return shown, _suffix(info.filename), _read_capped(f.read, name, max_bytes)
    except AutoMLError:
        raise
    except Exception as e:  # zlib, zipfile, gzip and EOF errors: all mean a damaged file
        kind = "gzip" if name.lower().endswith(".gz") else "zip"
        raise DataError(f"{name} could not be unpacked as a {kind} file ({e}); it may be "
                        "damaged or password-protected. Unpack it yourself and load the "
                        "file inside.") from e


def _suffix(inner: str) -> str:
    return PurePosixPath(inner).suffix.lower()


def _check_suffix(name: str, inner: str) -> None:
    if _suffix(inner) not in INNER_SUFFIXES:
        raise UnsupportedFormatError(
            f"{name} holds {PurePosixPath(inner).name!r}, which is not a format the loaders "
            f"read. Archives may hold one file ending in {', '.join(INNER_SUFFIXES)}, named "
            "like data.csv.gz or data.zip containing data.csv.")


def _only_member(name: str, z: zipfile.ZipFile) -> zipfile.ZipInfo:
    members = [i for i in z.infolist() if not i.is_dir()
               and not any(j in i.filename for j in _JUNK)]
    if not members:
        raise EmptyDataError(f"{name} holds no files; put one CSV, TSV, Parquet or .xlsx file "
                             "in it.")
    if len(members) > 1:
        shown = ", ".join(i.filename for i in members[:10]) + (", ..." if len(members) > 10
                                                               else "")
        raise DataError(f"{name} holds {len(members)} files ({shown}); it must hold exactly "
                        "one. Load the files one at a time, or zip only the one you need.")
    return members[0]


def _read_capped(read: Callable[[int], bytes], name: str, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while chunk := read(CHUNK):
        total += len(chunk)
        if total > max_bytes:
            _too_big(name, max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_big(name: str, max_bytes: int) -> None:
    raise DataLimitError(
        f"{name} unpacks to more than {size_text(max_bytes)}, over the limit "
        "(LoadLimits.max_bytes, which counts unpacked bytes). Load a sample of the data, or "
        "raise the limit with load_table(..., limits=LoadLimits(max_bytes=...)).")


register_loader((".gz", ".zip"), load_archive)
