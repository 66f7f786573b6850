"""Trials as a table: every finished trial and the best per family."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # optuna is not imported for the type alone: `import automl` stays light
    import optuna

__all__ = ["COLUMNS", "best_per_family", "leaderboard", "study_leaderboard"]

COLUMNS = ["trial", "family", "state", "score", "std", "fit_s", "predict_ms_per_1k",
           "size_kb", "worker", "params", "error"]
_STATES = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed", "RUNNING": "running"}


def leaderboard(trials, direction: str = "maximize", include_unfinished: bool = False
                ) -> pd.DataFrame:
    """One row per trial, best first. ``score`` is the mean CV metric; ``std`` across folds.

    Completed trials come first; pruned ones show the mean of the folds they got through;
    failed ones carry their error. Trials stopped by the time budget are left out.
    """
    rows = []
    for t in trials:
        state = _STATES.get(t.state.name)
        if state is None or (state == "running" and not include_unfinished):
            continue
        attrs = t.user_attrs
        if attrs.get("stopped") and state != "complete":
            continue
        folds = attrs.get("fold_scores") or []
        score = t.value if state == "complete" else (sum(folds) / len(folds) if folds else None)
        rows.append({
            "trial": t.number,
            "family": t.params.get("family"),
            "state": state,
            "score": score,
            "std": attrs.get("std"),
            "fit_s": attrs.get("fit_s"),
            "predict_ms_per_1k": attrs.get("predict_ms_per_1k"),
            "size_kb": attrs.get("size_kb"),
            "worker": attrs.get("worker"),  # host/pid: which machine and process ran it
            "params": {k: v for k, v in t.params.items() if k != "family"},
            "error": attrs.get("error") or (t.system_attrs.get("fail_reason") if state == "failed"
                                            else None),
        })
    df = pd.DataFrame(rows, columns=COLUMNS)
    if df.empty:
        return df
    order = {"complete": 0, "pruned": 1, "running": 2, "failed": 3}
    df["_o"] = df["state"].map(order)
    df = df.sort_values(["_o", "score"], ascending=[True, direction == "minimize"],
                        na_position="last", kind="stable")
    return df.drop(columns="_o").reset_index(drop=True)


def best_per_family(board: pd.DataFrame) -> pd.DataFrame:
    """The top completed trial of each family, in leaderboard order."""
    done = board[board["state"] == "complete"]
    return done.drop_duplicates("family", keep="first").reset_index(drop=True)


def study_leaderboard(study: optuna.Study) -> pd.DataFrame:
    direction = "maximize" if study.direction.name == "MAXIMIZE" else "minimize"
    return leaderboard(study.get_trials(deepcopy=False), direction)
