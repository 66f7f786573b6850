"""Fold models kept for bagging: the final model can be the k models a trial's folds fitted.

Averaging a trial's fold models costs no refit on all rows, and often scores better than
one refit (AutoGluon keeps its fold models for the same reason); its out-of-fold
predictions are exactly the trial's, so the ensemble chosen on them is the ensemble saved.
Only the trials that may end in the final model are kept: the best few overall and the best
of each family, written by the worker that ran them as a skops file in the run folder
(``folds/<trial>.skops``) and read back only with automl's own types trusted.
"""

from __future__ import annotations

import zipfile

import optuna

from automl.atomic import write_bytes
from automl.runs import Run

__all__ = ["KEEP", "keep_fold_models", "load_fold_models", "worth_keeping"]

KEEP = 10  # the best trials overall whose fold models are kept (plus each family's best)


def worth_keeping(study: optuna.Study, number: int, value: float, family: str) -> bool:
    """Whether a trial that just completed with ``value`` may end in the final model."""
    maximize = study.direction == optuna.study.StudyDirection.MAXIMIZE
    done = [t for t in study.get_trials(deepcopy=False,
                                        states=(optuna.trial.TrialState.COMPLETE,))
            if t.number != number and t.value is not None]
    better = [t for t in done if (t.value > value if maximize else t.value < value)]
    if len(better) < KEEP:
        return True
    return not any(t.params.get("family") == family for t in better)


def keep_fold_models(run: Run, number: int, pipes: list) -> None:
    from automl.bundle import _skops

    path = run.path / "folds" / f"{number}.skops"
    path.parent.mkdir(exist_ok=True)
    write_bytes(path, _skops().dumps(list(pipes), compression=zipfile.ZIP_DEFLATED))


def load_fold_models(run: Run, number: int) -> list | None:
    """The trial's fold models, or None when they were not kept or cannot be read."""
    from automl.bundle import ALLOWED_TYPES, _skops

    path = run.path / "folds" / f"{number}.skops"
    try:
        data = path.read_bytes()
        sio = _skops()
        untrusted = set(sio.get_untrusted_types(data=data))
        if untrusted - set(ALLOWED_TYPES):
            return None
        pipes = sio.loads(data, trusted=sorted(untrusted))
    except Exception:  # missing, damaged or written by another version: refit instead
        return None
    return list(pipes) if isinstance(pipes, list) else None
