"""Results: the full leaderboard, the best trial of each family and the search's charts."""

import streamlit as st

from automl.background import live_leaderboard
from automl.config import validation_label
from automl.families import REGISTRY
from automl.leaderboard import best_per_family
from automl.metrics import METRICS
from automl.plots import search as plots
from pages._shared import show, ui
from pages._shared.show import md_escape

st.title("Results")
run = ui.current_run()
if run is None:
    st.info("No run yet: start one on the Train page, or open one on the Runs page.")
    st.stop()

titles = {n: f.title for n, f in REGISTRY.items()}
spec, state = run.spec, run.status.state
metric = METRICS.get(spec.metric)
better = "higher" if metric and metric.direction == "maximize" else "lower"
st.caption(f"Run `{run.id}` · " + md_escape(
    f"{state} · target {spec.target} · {spec.task} · "
    f"{validation_label(spec.cv_folds)} · {metric.title if metric else ''} ({better} is "
    "better)"))
if state.is_active:
    st.info("The search is still running: this page shows the trials finished so far "
            "(reload it, or watch the live view on the Train page).")

board = live_leaderboard(run)
if board.empty:
    st.info("No trial has finished yet.")
    st.stop()

st.subheader("Leaderboard")
st.caption(f"{(board['state'] == 'complete').sum()} complete, "
           f"{(board['state'] == 'pruned').sum()} pruned, "
           f"{(board['state'] == 'failed').sum()} failed. Click a column header to sort.")
st.dataframe(show.board_view(board, titles), hide_index=True, width="stretch",
             column_config={"score": st.column_config.NumberColumn(format="%.4f"),
                            "std": st.column_config.NumberColumn(format="%.4f")})

st.subheader("Best of each family")
best = best_per_family(board)
st.dataframe(show.board_view(best, titles)[["family", "trial", "mean ± std", "fit (s)",
                                          "predict (ms/1k rows)", "size (kB)", "params"]],
             hide_index=True, width="stretch")

st.subheader("Search")
study = plots.load_study(run)
left, right = st.columns(2)
with left:
    show.chart(plots.optimization_history(study, spec.metric))
with right:
    show.chart(plots.family_scores(study, spec.metric))

families = plots.family_names(study)
if families:
    st.subheader("Parameters, per family")
    for tab, family in zip(st.tabs([md_escape(titles.get(f, f)) for f in families]), families,
                           strict=True):
        with tab:
            show.chart(plots.param_importances(study, family))
            show.chart(plots.parallel_coordinate(study, family))
