"""The AutoML dashboard: a router over pages/ and the shared sidebar. Run: `make run`."""

import streamlit as st

from pages._shared import ui
from pages._shared.show import md_escape

st.set_page_config(page_title="AutoML", page_icon=":bar_chart:", layout="wide")
nav = st.navigation([
    st.Page("pages/data.py", title="Data", icon=":material/table:", default=True),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/results.py", title="Results", icon=":material/leaderboard:"),
    st.Page("pages/evaluate.py", title="Evaluate", icon=":material/analytics:"),
    st.Page("pages/explain.py", title="Explain", icon=":material/lightbulb:"),
    st.Page("pages/model.py", title="Model", icon=":material/download:"),
    st.Page("pages/predict.py", title="Predict", icon=":material/online_prediction:"),
    st.Page("pages/monitor.py", title="Monitor", icon=":material/monitoring:"),
    st.Page("pages/runs.py", title="Runs", icon=":material/history:"),
])
ui.sync_url()

with st.sidebar:
    st.text_input("Open run by id", key="open_run_id", on_change=ui.open_typed_run,
                  args=("open_run_id",), placeholder="20260101-120000-abc123")
    ui.show_flash()
    table = ui.table()
    if table is None:
        st.caption("Table: none loaded yet")
    else:
        rows, cols = table.frame.shape
        st.caption(f"Table: **{md_escape(table.source)}** ({rows:,} rows × {cols:,} columns)")
    ui.run_caption()

nav.run()
