"""Runs: this session's runs (started here or opened by id); open, stop or delete one, and
remove old ones. Only the runs this session owns (started here, or unlocked with their owner
key) can be stopped or deleted; the others are view-only."""

import streamlit as st

from automl.background import stop_run
from automl.errors import AutoMLError
from automl.retention import prune_runs
from automl.runs import delete_run, list_runs, open_run
from pages._shared import show, ui
from pages._shared.live import VIEW_ONLY
from pages._shared.show import md_escape

DAY = 86400.0
NOTE_KEY = "runs_prune_note"


def prune(days_key: str) -> None:
    """Callback of "Remove old runs": only runs whose owner token this session holds."""
    ids = ui.session_run_ids()
    removed = prune_runs(float(st.session_state.get(days_key) or 0) * DAY,
                         owner_tokens={r: ui.owner_token(r) for r in ids})
    for run_id in removed:
        ui.forget_run(run_id)
    st.session_state[NOTE_KEY] = (f"Removed {len(removed)} run(s) of this session that ended "
                                  f"more than {st.session_state.get(days_key):g} days ago.")


st.title("Runs")
st.caption("The runs started in this browser session and those opened by id (sidebar, or a "
           "link ending in `?run=<id>`). Runs are folders on disk: a reload or a restart "
           "loses nothing. A run opened by id is view-only unless you enter its owner key.")
ids = ui.session_run_ids()
runs = list_runs()
runs = runs[runs["run"].isin(ids)].reset_index(drop=True)
if runs.empty:
    st.info("No runs in this session yet: start one on the Train page, or open one by id in "
            "the sidebar.")
    st.stop()

current = ui.session().current_run_id
owned = {r for r in runs["run"] if ui.owns(open_run(r))}
runs.insert(0, "current", runs["run"] == current)
runs.insert(2, "yours", runs["run"].isin(owned))
st.dataframe(runs, hide_index=True, width="stretch",
             column_config={"best_score": st.column_config.NumberColumn(format="%.4f"),
                            "current": st.column_config.CheckboxColumn(),
                            "yours": st.column_config.CheckboxColumn(
                                help="Started in this session (or unlocked with its owner "
                                     "key): you may stop and delete it")})

ids = runs["run"].tolist()
chosen = st.selectbox("Run", ids, index=ids.index(current) if current in ids else 0,
                      key="runs_choice")
state = runs.loc[runs["run"] == chosen, "state"].iloc[0]
c1, c2, c3 = st.columns(3)
if c1.button("Open", type="primary", key="runs_open", help="Make it the current run"):
    ui.set_current_run(chosen)
    st.rerun()
if chosen in owned:
    token = ui.owner_token(chosen)
    if c2.button("Stop", key="runs_stop", disabled=state not in ui.ACTIVE,
                 help="Finish early, keeping every finished trial"):
        try:
            stop_run(open_run(chosen), owner_token=token)
        except AutoMLError as e:
            show.error(e)
        else:
            st.toast(f"Stopping {md_escape(chosen)}.")
    if c3.button("Delete", key="runs_delete", help="Remove the run folder and its model file"):
        try:
            delete_run(chosen, owner_token=token)
        except AutoMLError as e:
            show.error(e)
        else:
            ui.forget_run(chosen)
            st.rerun()
    with st.expander("Owner key"):
        st.caption("Whoever has this key may stop, resume or delete the run: enter it on the "
                   "Runs page of another browser session (after a reload, say) to control "
                   "the run there. Keep it to yourself.")
        st.code(token, language=None)
else:
    st.caption(VIEW_ONLY)
    st.text_input("Owner key", type="password", key="runs_owner_key",
                  on_change=ui.unlock_run, args=(chosen, "runs_owner_key"),
                  help="The key shown on the Runs page of the session that started this run")
    if st.session_state.get("runs_owner_key:error"):
        show.error(st.session_state.pop("runs_owner_key:error"))

st.subheader("Remove old runs")
left, right = st.columns([2, 1])
left.number_input("Ended (finished, stopped or failed) more than this many days ago", 0.0,
                  3650.0, 7.0, step=1.0, key="runs_prune_days",
                  help="0 removes every ended run of this session")
right.button("Remove old runs", key="runs_prune", on_click=prune, args=("runs_prune_days",),
             help="Only runs this session owns; queued and running runs are kept. "
                  "`automl runs --prune --older-than 7d` does the same for every run.")
if st.session_state.get(NOTE_KEY):
    st.success(st.session_state.pop(NOTE_KEY))
