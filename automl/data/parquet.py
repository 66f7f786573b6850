"""Parquet files, capped on the size their columns take once dense, before pandas sees them.

Parquet's encodings make a small file stand for a large table: one long string in a
dictionary, referenced by every row, is a 2 kB file and gigabytes of text. Sizes declared in
the file's metadata say nothing about that, so the loader first counts: fixed-width columns
from the metadata (rows x width), string columns by reading them as dictionaries (pyarrow
keeps the indices, never the repeated values) and adding up the value lengths the indices
point at, batch by batch, stopping just past ``LoadLimits.max_bytes``. Only then is the file
read into a frame. Two things cannot be counted that way and are refused with a message:
nested columns (lists, structs, maps: a model takes one value per cell) and strings written
with ``DELTA_BYTE_ARRAY`` (each value may repeat a prefix of the last, which pyarrow cannot
read as a dictionary).
"""

from __future__ import annotations

import io

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from automl.data.loaders import (
    Loaded,
    LoadLimits,
    Source,
    check_shape,
    check_unpacked,
    register_loader,
)
from automl.errors import AutoMLError, DataError, UnsupportedFormatError

__all__ = ["dense_bytes", "load_parquet"]

BATCH_ROWS = 65_536  # rows per counted batch: indices only, so a few hundred kB each


def load_parquet(src: Source, limits: LoadLimits) -> Loaded:
    """Check shape and dense size, then read the file with pandas as before."""
    try:
        file = pq.ParquetFile(io.BytesIO(src.data))
        meta, schema = file.metadata, file.schema_arrow
        check_shape(src.name, meta.num_rows, len(schema), limits)
        strings = _check_columns(src.name, file)
        declared = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        fixed = sum(_fixed_width(f.type) * meta.num_rows for f in schema
                    if f.name not in strings)
        check_unpacked(src.name, max(declared, fixed), limits.max_bytes)
        if strings:
            _count_strings(src, strings, fixed, limits.max_bytes)
        frame = pd.read_parquet(io.BytesIO(src.data), engine="pyarrow")
    except AutoMLError:
        raise
    except Exception as e:
        raise DataError(f"{src.name} could not be read as Parquet ({e}); write it again with "
                        "pandas or pyarrow, or save it as CSV.") from e
    if not isinstance(frame.index, pd.RangeIndex):
        frame = frame.reset_index()  # a saved index is data the user may want
    return Loaded(frame)


def dense_bytes(array: pa.Array) -> int:
    """Bytes ``array`` takes once every value is written out: for a dictionary, the lengths
    of the values its indices point at (plus an offset each), without building them."""
    if isinstance(array, pa.DictionaryArray):
        values = array.dictionary
        if not _is_string(values.type):
            return _fixed_width(values.type) * len(array)
        lengths = pc.binary_length(values)
        total = pc.sum(pc.take(lengths, array.indices)).as_py() or 0
        return int(total) + 4 * len(array)
    return array.nbytes


def _check_columns(name: str, file: pq.ParquetFile) -> list[str]:
    """Refuse what cannot be counted; return the string columns to count."""
    strings = []
    for i, f in enumerate(file.schema_arrow):
        t = f.type.value_type if pa.types.is_dictionary(f.type) else f.type
        if pa.types.is_nested(t):
            raise UnsupportedFormatError(
                f"{name}: column '{f.name}' holds {t} values (lists, structs or maps); a "
                "model takes one value per cell. Flatten that column into plain columns, or "
                "drop it, and write the file again.")
        if not _is_string(t):
            continue
        strings.append(f.name)
        for g in range(file.metadata.num_row_groups):
            if "DELTA_BYTE_ARRAY" in file.metadata.row_group(g).column(i).encodings:
                raise UnsupportedFormatError(
                    f"{name}: column '{f.name}' is written with DELTA_BYTE_ARRAY encoding, "
                    "whose unpacked size cannot be checked before reading it. Write the file "
                    "again with dictionary or plain encoding (the pandas and pyarrow "
                    "defaults), or save it as CSV.")
    return strings


def _count_strings(src: Source, columns: list[str], fixed: int, cap: int) -> None:
    file = pq.ParquetFile(io.BytesIO(src.data), read_dictionary=columns)
    total = fixed
    for batch in file.iter_batches(batch_size=BATCH_ROWS, columns=columns):
        total += sum(dense_bytes(c) for c in batch.columns)
        check_unpacked(src.name, total, cap, at_least=True)


def _is_string(t: pa.DataType) -> bool:
    return (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t)
            or pa.types.is_large_binary(t) or pa.types.is_string_view(t)
            or pa.types.is_binary_view(t))


def _fixed_width(t: pa.DataType) -> int:
    """Bytes per value of a fixed-width type (a bit for booleans rounds up to a byte)."""
    if pa.types.is_dictionary(t):
        t = t.value_type
    try:
        return max(1, t.bit_width // 8)
    except ValueError:  # no fixed width (strings are counted separately)
        return 8


register_loader((".parquet", ".pq"), load_parquet)
