"""Train: target, task, metric, families and budget; start a background search and watch it."""

import streamlit as st

from automl.background import launch_run, shared_storage
from automl.config import TrainConfig
from automl.errors import AutoMLError
from automl.families import REGISTRY
from automl.metrics import DEFAULT_METRIC, METRICS
from automl.tasks import TASKS, detect_task
from pages._shared import live, show, ui
from pages._shared import profile as prof
from pages._shared.show import md_escape

st.title("Train")
KEEP = {"persist_state": "session"}  # settings survive page switches, also during a run
table = ui.table()


def settings(table) -> tuple[TrainConfig, list[str]] | None:
    """Draw the search settings for ``table``; when Start is clicked, return a config and the
    columns to leave out."""
    frame, columns = table.frame, [str(c) for c in table.frame.columns]
    left, right = st.columns(2)
    target = left.selectbox(
        "Target (the column to predict)", columns,
        key=ui.default("train_target", show.suggest_target(columns, ui.session().target_hint)),
        **KEEP)
    detected = detect_task(frame[target])
    task = left.selectbox("Task", TASKS, key=ui.default(f"train_task:{target}", detected),
                          help=f"Detected from the target's values: {md_escape(detected)}.",
                          **KEEP)
    metrics = [m for m in METRICS.values() if task in m.tasks]
    metric = left.selectbox("Metric", [m.name for m in metrics],
                            format_func=lambda n: f"{METRICS[n].title} ({METRICS[n].direction})",
                            key=ui.default(f"train_metric:{task}", DEFAULT_METRIC[task]), **KEEP)
    names = [n for n, f in REGISTRY.items() if f.supports(task)]
    families = left.multiselect("Model families", names, format_func=lambda n: REGISTRY[n].title,
                                key=ui.default(f"train_families:{task}", names), **KEEP)
    reasons = prof.drop_reasons(prof.profile(table, target), target)
    drops = left.multiselect(
        "Columns to leave out", [c for c in columns if c != target],
        key=ui.default(f"train_drop:{target}", list(reasons)), **KEEP,
        help="Pre-filled with the columns the profile flags as ID-like, constant, leaky or "
             "mostly missing (see the Data page's profile).")
    if reasons:
        left.caption("Flagged: " + "; ".join(f"**{md_escape(c)}** ({md_escape(r)})"
                                             for c, r in reasons.items()))
    budget = right.slider("Time budget (seconds)", 10, 600, step=5,
                          key=ui.default("train_budget", 60), **KEEP,
                          help="Wall-clock limit of the whole run, refit and save included.")
    max_trials = right.slider("Max trials (0 = no cap)", 0, 500,
                              key=ui.default("train_max_trials", 0), **KEEP)
    folds = right.slider("Cross-validation folds (0 = automatic)", 0, 10,
                         key=ui.default("train_folds", 0), **KEEP,
                         help="Automatic: 5 folds, 3 above 20,000 rows, down to 2 when a "
                              "wide table would leave too few trials in the budget, and 1 "
                              "(one 80/20 validation split) when even 2 would, or above "
                              "250,000 rows.")
    with right.expander("Advanced"):
        seed = st.number_input("Seed", 0, 2**31 - 1, step=1, key=ui.default("train_seed", 0),
                               **KEEP)
        holdout = st.slider(
            "Holdout share", 0.0, 0.5, step=0.05, key=ui.default("train_holdout", 0.0), **KEEP,
            help="Rows kept out of the search; the final model is scored on them once.")
        shared = shared_storage()
        share = shared is not None and st.checkbox(
            f"Share with workers on other machines ({shared[1]})",
            key=ui.default("train_shared", False), **KEEP,
            help="The study, the data and the model go into this database, so that "
                 "`automl worker --run RUN_ID --storage URL` on another machine can join "
                 "the search. The operator set the URL for this app.")
    if not st.button("Start search", type="primary", key="start_search"):
        return None
    if not families:
        st.error("Choose at least one model family.")
        return None
    try:
        return TrainConfig(target=target, task=task, metric=metric, time_budget=float(budget),
                           max_trials=max_trials or None, cv_folds=folds or None,
                           families=tuple(families), seed=int(seed),
                           holdout=float(holdout), storage=shared[0] if share else None), [
            c for c in drops if c != target]
    except AutoMLError as e:
        show.error(e)
        return None


if table is None:
    st.info("Load a table on the Data page first.")
    st.page_link("pages/data.py", label="Go to Data", icon="📄")
else:
    st.caption(f"Table: {md_escape(table.source)} ({len(table.frame):,} rows × "
               f"{table.frame.shape[1]:,} columns)")
    chosen = settings(table)
    if chosen is not None:
        config, drops = chosen
        try:
            run, warnings = launch_run(prof.without(table, drops), config)
        except AutoMLError as e:
            show.error(e)
        else:
            ui.hold_run(run)  # this session may stop, resume and delete it
            ui.set_current_run(run.id)
            for note in warnings:
                st.warning(md_escape(note))
            if not warnings:
                st.rerun()  # redraw the sidebar with the new run

run = ui.current_run()
if run is not None:
    st.divider()
    live.watch(run)
