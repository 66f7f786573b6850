"""Runs: this session's runs (started here or opened by id); open, stop or delete one."""

import streamlit as st

from automl.background import stop_run
from automl.errors import AutoMLError
from automl.runs import delete_run, list_runs, open_run
from pages import _ui as ui

st.title("Runs")
st.caption("The runs started in this browser session and those opened by id (sidebar, or a "
           "link ending in `?run=<id>`). Runs are folders on disk: a reload or a restart "
           "loses nothing.")
ids = ui.session_run_ids()
runs = list_runs()
runs = runs[runs["run"].isin(ids)].reset_index(drop=True)
if runs.empty:
    st.info("No runs in this session yet: start one on the Train page, or open one by id in "
            "the sidebar.")
    st.stop()

current = ui.session().current_run_id
runs.insert(0, "current", runs["run"] == current)
st.dataframe(runs, hide_index=True, width="stretch",
             column_config={"best_score": st.column_config.NumberColumn(format="%.4f"),
                            "current": st.column_config.CheckboxColumn()})

ids = runs["run"].tolist()
chosen = st.selectbox("Run", ids, index=ids.index(current) if current in ids else 0,
                      key="runs_choice")
state = runs.loc[runs["run"] == chosen, "state"].iloc[0]
c1, c2, c3 = st.columns(3)
if c1.button("Open", type="primary", key="runs_open", help="Make it the current run"):
    ui.set_current_run(chosen)
    st.rerun()
if c2.button("Stop", key="runs_stop", disabled=state not in ui.ACTIVE,
             help="Finish early, keeping every finished trial"):
    stop_run(open_run(chosen))
    st.toast(f"Stopping {chosen}.")
if c3.button("Delete", key="runs_delete", help="Remove the run folder and its model file"):
    if state in ui.ACTIVE:
        st.error(f"Run {chosen} is {state}: stop it first, then delete it once it has ended.")
    else:
        try:
            delete_run(chosen)
        except AutoMLError as e:
            st.error(str(e))
        else:
            ui.forget_run(chosen)
            st.rerun()
