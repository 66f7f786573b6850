"""Data: upload a table, pick a sample or read a database; preview, kinds, profile."""

import pandas as pd
import streamlit as st

from pages._shared import data_sources as sources
from pages._shared import profile as prof
from pages._shared import show, ui

st.title("Data")
upload_tab, sample_tab, db_tab = st.tabs(["Upload a file", "Sample data",
                                          "Databases"])
with upload_tab:
    sources.file_upload(sources.TRAINING)

with sample_tab:
    samples = {s.file: s for s in show.samples()}
    name = st.selectbox("Sample data set", list(samples),
                        format_func=lambda f: f"{f} — {samples[f].task}" if samples[f].task
                        else f)
    if name:
        st.caption(f"Source: {samples[name].source}. Licence: {samples[name].licence}.")
        st.button("Load sample", key="load_sample", on_click=ui.use_sample,
                  args=(name, samples[name].target))

with db_tab:
    sources.database_tabs(sources.TRAINING)

table = ui.table()
if table is None:
    st.info("Upload a file or load a sample data set to begin.")
    st.stop()

frame = table.frame
st.subheader(show.md_escape(table.source))
c1, c2, c3 = st.columns(3)
c1.metric("Rows", f"{len(frame):,}")
c2.metric("Columns", f"{frame.shape[1]:,}")
missing = int(frame.isna().sum().sum())
c3.metric("Missing cells", f"{missing:,}", help=f"{missing / max(frame.size, 1):.1%} of all cells")
for note in table.warnings:
    st.warning(show.md_escape(note))

st.markdown("**Preview** (first 100 rows)")
st.dataframe(frame.head(100), width="stretch")

st.markdown("**Columns**")
schema = pd.DataFrame([{
    "column": c.name, "kind": c.kind.value, "dtype": c.dtype, "missing": c.n_missing,
    "missing %": round(100 * c.n_missing / max(len(frame), 1), 1), "distinct": c.n_unique,
} for c in table.schema.columns])
st.dataframe(schema, width="stretch", hide_index=True)
st.caption("Kinds decide the preprocessing: numeric, categorical, boolean, datetime, text; "
           "ID-like columns are dropped before learning.")

with st.expander("Profile: warnings and distributions", expanded=True):
    prof.show_profile(table)
st.page_link("pages/train.py", label="Next: choose a target and train", icon="➡️")
