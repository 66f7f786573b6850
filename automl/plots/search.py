"""Plotly figures of a run's search, built from its Optuna study: data in, Figure out.

Every function takes a :class:`~automl.runs.Run` or an ``optuna.Study`` and returns a
:class:`Chart`: the figure, or ``None`` with the reason when there is too little data (for
example parameter importances need at least two finished trials of the family in which some
parameter varies). Pages draw ``chart.figure`` or show ``chart.reason``; nothing here knows
about Streamlit.
"""

from __future__ import annotations

import warnings

import optuna
import plotly.graph_objects as go

from automl.families import REGISTRY
from automl.leaderboard import leaderboard
from automl.metrics import METRICS
from automl.plots.chart import Chart
from automl.runs import Run

__all__ = ["family_names", "family_scores", "family_study", "load_study",
           "optimization_history", "parallel_coordinate", "param_importances"]

_COMPLETE = optuna.trial.TrialState.COMPLETE


def load_study(source: Run | optuna.Study) -> optuna.Study:
    """The run's study (journal storage in the run folder), or ``source`` if already one."""
    if isinstance(source, optuna.Study):
        return source
    from automl.search.context import open_storage

    return optuna.load_study(study_name=source.study_name, storage=open_storage(source))


def _metric_title(source: Run | optuna.Study, metric: str | None) -> str:
    if metric is None and isinstance(source, Run):
        metric = source.spec.metric
    return METRICS[metric].title if metric in METRICS else (metric or "score")


def _title(family: str) -> str:
    return REGISTRY[family].title if family in REGISTRY else family


def _completed(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return study.get_trials(deepcopy=False, states=(_COMPLETE,))


def family_names(source: Run | optuna.Study) -> list[str]:
    """Families with at least one finished trial, in order of first appearance."""
    names: list[str] = []
    for t in _completed(load_study(source)):
        fam = t.params.get("family")
        if fam is not None and fam not in names:
            names.append(fam)
    return names


def family_study(source: Run | optuna.Study, family: str) -> optuna.Study:
    """An in-memory study of the family's finished trials, without the ``family`` parameter
    (so Optuna's plots see only that family's own search space)."""
    study = load_study(source)
    sub = optuna.create_study(direction=study.direction)
    for t in _completed(study):
        if t.params.get("family") != family:
            continue
        sub.add_trial(optuna.trial.create_trial(
            params={k: v for k, v in t.params.items() if k != "family"},
            distributions={k: v for k, v in t.distributions.items() if k != "family"},
            value=t.value, user_attrs={"trial": t.number}))
    return sub


def optimization_history(source: Run | optuna.Study, metric: str | None = None) -> Chart:
    """Optuna's optimization history: every finished trial's score and the best so far."""
    study = load_study(source)
    if not _completed(study):
        return Chart(None, "No trial has finished yet.")
    name = _metric_title(source, metric)
    fig = optuna.visualization.plot_optimization_history(study, target_name=name)
    fig.update_layout(title=f"Optimization history ({name})")
    return Chart(fig)


def family_scores(source: Run | optuna.Study, metric: str | None = None) -> Chart:
    """One box per family of its finished trials' CV scores, every trial drawn as a point."""
    study = load_study(source)
    direction = "maximize" if study.direction == optuna.study.StudyDirection.MAXIMIZE \
        else "minimize"
    board = leaderboard(study.get_trials(deepcopy=False), direction)
    done = board[board["state"] == "complete"] if not board.empty else board
    if done.empty:
        return Chart(None, "No trial has finished yet.")
    fig = go.Figure()
    for fam, rows in done.groupby("family", sort=False):
        fig.add_trace(go.Box(y=rows["score"], name=_title(fam), boxpoints="all", jitter=0.4,
                             pointpos=0, text=[f"trial {n}" for n in rows["trial"]]))
    name = _metric_title(source, metric)
    fig.update_layout(title=f"CV {name} by model family", yaxis_title=name, showlegend=False)
    return Chart(fig)


def _family_ready(sub: optuna.Study, family: str) -> str | None:
    """Why the family's trials cannot support a per-parameter chart, or None if they can."""
    trials = sub.get_trials(deepcopy=False)
    if len(trials) < 2:
        return (f"{_title(family)}: {len(trials)} finished trial(s); at least 2 are needed. "
                "Give the search more time or more trials.")
    varying = [p for p in {k for t in trials for k in t.params}
               if len({repr(t.params.get(p)) for t in trials}) > 1]
    if not varying:
        return f"{_title(family)}: every finished trial used the same parameters."
    return None


def param_importances(source: Run | optuna.Study, family: str) -> Chart:
    """Optuna's hyperparameter importances within one family (>= 2 finished trials with at
    least one varying parameter)."""
    sub = family_study(source, family)
    reason = _family_ready(sub, family)
    if reason:
        return Chart(None, reason)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fig = optuna.visualization.plot_param_importances(sub)
        except (ValueError, RuntimeError, ZeroDivisionError) as e:
            return Chart(None, f"{_title(family)}: importances could not be computed ({e}).")
    if not fig.data:
        return Chart(None, f"{_title(family)}: importances could not be computed.")
    fig.update_layout(title=f"Parameter importances: {_title(family)}")
    notes = [str(w.message) for w in caught if "importance" in str(w.message).lower()]
    return Chart(fig, note=notes[0] if notes else None)


def parallel_coordinate(source: Run | optuna.Study, family: str) -> Chart:
    """Optuna's parallel coordinate plot of one family's parameters against the score."""
    sub = family_study(source, family)
    reason = _family_ready(sub, family)
    if reason:
        return Chart(None, reason)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fig = optuna.visualization.plot_parallel_coordinate(sub)
        except (ValueError, RuntimeError) as e:
            return Chart(None, f"{_title(family)}: the chart could not be drawn ({e}).")
    if not fig.data:
        return Chart(None, f"{_title(family)}: the chart could not be drawn.")
    fig.update_layout(title=f"Parallel coordinates: {_title(family)}")
    return Chart(fig)
