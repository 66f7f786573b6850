"""Placeholder home page until the browser app lands: says how to use the engine today."""

import streamlit as st

st.title("AutoML dashboard")
st.write(
    "The browser app is being built. The engine already works from the command line:"
)
st.code(
    "automl train sample_data/<table>.csv --target <column> --time-budget 60 --out model.skops\n"
    "automl predict model.skops new_rows.csv --out scored.csv",
    language="bash",
)
