"""Loading tables and inferring their schema."""

from __future__ import annotations

from automl.data.loaders import Loaded, LoadLimits, Source, Table, load_table, register_loader
from automl.data.profile import Profile, ProfileWarning, profile_table, suggested_drops
from automl.data.schema import ColumnInfo, Kind, Schema, infer_schema
from automl.data.sql import list_tables, preview

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
