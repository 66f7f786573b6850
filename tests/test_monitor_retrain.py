"""Retraining from monitoring: a challenger run with the champion's settings on new rows,
both scored on the newest rows, and the better one made the run's current model."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from automl.errors import ConfigError
from automl.monitor.retrain import (
    champion_of,
    compare,
    current_model_file,
    launch_retrain,
    promote,
    split_newest,
)
from automl.runs import Run
from tests.conftest import SAMPLES

WAGES = pd.read_csv(SAMPLES / "wages.csv")


def test_newest_rows_are_kept_out_of_the_challengers_rows(wages_run):
    fresh, newest = split_newest(wages_run, WAGES, combine=False)
    assert len(newest) == len(WAGES) // 4 and newest.index[-1] == WAGES.index[-1]
    assert not set(fresh.index) & set(newest.index)
    both, newest2 = split_newest(wages_run, WAGES, combine=True)
    assert len(both) == len(wages_run.read_data()) + len(fresh)
    assert newest2.equals(newest)
    with pytest.raises(ConfigError, match="target column 'wage'"):
        split_newest(wages_run, WAGES.drop(columns=["wage"]), combine=False)


@pytest.mark.slow
def test_retrain_compare_and_promote(wages_run_copy):
    run = wages_run_copy
    new = WAGES.sample(frac=1.0, random_state=3).reset_index(drop=True)
    challenger = launch_retrain(run, new, combine=True, time_budget=8,
                                root=run.path.parent)
    deadline = time.time() + 120
    while not challenger.status.state.is_ended and time.time() < deadline:
        time.sleep(0.5)
    assert challenger.status.state == "finished", challenger.status
    assert champion_of(challenger) == run.id and champion_of(run) is None
    assert Run(challenger.path).spec.config.families == run.spec.config.families
    result = compare(challenger, root=run.path.parent)
    assert result.n_rows == len(new) // 4
    assert result.metric == "r2" and -1 < result.champion_score < 1
    assert result.better in (run.id, challenger.id)
    assert current_model_file(run) == run.model_file
    promote(run, challenger)
    assert current_model_file(run) == challenger.model_file
    promote(run, run)  # and back
    assert current_model_file(run) == run.model_file
    (run.path / "current.json").write_text("{not json")
    assert current_model_file(run) == run.model_file
