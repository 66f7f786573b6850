"""Loading tables and inferring their schema."""

from __future__ import annotations

from automl.data.loaders import Loaded, LoadLimits, Source, Table, load_table, register_loader
from automl.data.schema import ColumnInfo, Kind, Schema, infer_schema

__all__ = [
    "ColumnInfo",
    "Kind",
    "LoadLimits",
    "Loaded",
    "Schema",
    "Source",
    "Table",
    "infer_schema",
    "load_table",
    "register_loader",
]
