"""The table profile on the Data page and the columns the Train page offers to leave out.

A profile is computed once per table content and target (``st.cache_data`` keyed on the
table's data hash), so reruns and page switches stay fast.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from automl.data import Profile, Table, profile_table, suggested_drops
from automl.data.loaders import frame_hash
from automl.plots.data import column_chart
from pages._shared import show, ui

_SHOW = {"high": st.error, "medium": st.warning, "low": st.info}


@st.cache_data(max_entries=16, show_spinner="Profiling the table…")
def _profile(data_hash: str, target: str | None, _table: Table) -> Profile:
    return profile_table(_table.frame, _table.schema, target)


def profile(table: Table, target: str | None = None) -> Profile:
    """The table's profile; with a target (one of its columns), leakage and balance checks."""
    target = target if target in table.schema.names else None
    return _profile(table.data_hash, target, table)


def chosen_target(table: Table) -> str | None:
    """The target picked on the Train page, else a sample's documented target."""
    for name in (st.session_state.get("train_target"), ui.session().target_hint):
        if name in table.schema.names:
            return name
    return None


def show_profile(table: Table) -> None:
    """Warnings with what to do, a per-column summary, and one column's chart."""
    target = chosen_target(table)
    p = profile(table, target)
    st.caption(f"Target: **{show.md_escape(target)}** (leakage and class balance checked)"
               if target else
               "No target chosen yet: pick one on the Train page to check for leakage and "
               "class balance.")
    if not p.warnings:
        st.success("No warnings: no ID-like, constant, leaky or mostly missing columns found.")
    for w in p.warnings:
        _SHOW.get(w.severity, st.info)(f"{show.md_escape(w.message)} **What to do:** "
                                       f"{show.md_escape(w.action)}")
    st.dataframe(summary(p), width="stretch", hide_index=True)
    name = st.selectbox("Chart of column", [c.name for c in p.columns], key="profile_column")
    if name is not None:
        show.chart(column_chart(p.column(name)))


def summary(p: Profile) -> pd.DataFrame:
    """One row per column as shown: kind, missing share, unique, top values, statistics."""
    view = p.to_frame()
    view["missing_share"] = (100 * view["missing_share"]).round(1)
    for col in ("min", "max", "mean", "std"):
        view[col] = view[col].map(_fmt)
    return view.rename(columns={"missing_share": "missing %", "n_unique": "unique",
                                "top_values": "top values"})


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def drop_reasons(p: Profile, target: str) -> dict[str, str]:
    """Suggested columns to leave out (never the target) and why, in words."""
    out = {}
    for name in suggested_drops(p):
        if name != target:
            codes = [w.code.replace("_", " ") for w in p.warnings if name in w.columns]
            out[name] = ", ".join(dict.fromkeys(codes))
    return out


def without(table: Table, columns: list[str]) -> Table:
    """``table`` less ``columns``, keeping its source name for provenance."""
    if not columns:
        return table
    frame = table.frame.drop(columns=columns)
    return Table(frame, table.schema.without(*columns), table.source, list(table.warnings),
                 frame_hash(frame))
