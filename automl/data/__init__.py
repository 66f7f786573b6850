"""Loading tables and inferring their schema.

``loaders`` is the leaf (sources, limits, the loader registry, ``load_table``); each format
module below registers its loader when imported, so importing this package registers them
all. None of them imports another format, nor this package.
"""

from __future__ import annotations

from automl.data import archives, delimited, excel, parquet, sql, sqlite  # noqa: F401 (register)
from automl.data.databases import list_tables, preview
from automl.data.loaders import Loaded, LoadLimits, Source, Table, load_table, register_loader
from automl.data.profile import Profile, ProfileWarning, profile_table, suggested_drops
from automl.data.schema import ColumnInfo, Kind, Schema, infer_schema

__all__ = [
    "ColumnInfo",
    "Kind",
    "LoadLimits",
    "Loaded",
    "Profile",
    "ProfileWarning",
    "Schema",
    "Source",
    "Table",
    "infer_schema",
    "list_tables",
    "load_table",
    "preview",
    "profile_table",
    "register_loader",
    "suggested_drops",
]
