"""Where a check's training rows come from, for the multivariate check: a file the user
names, or the model's run folder on this machine (only if it still holds the very data the
model was trained on, by its hash)."""

from __future__ import annotations

import pandas as pd

from automl.bundle import Model
from automl.errors import AutoMLError

__all__ = ["reference_rows"]


def reference_rows(model: Model, *, runs_dir=None, reference=None) -> pd.DataFrame | None:
    """The training rows without the target, or None when neither is at hand."""
    if reference is not None:
        from automl.data import load_table

        frame = reference if isinstance(reference, pd.DataFrame) else load_table(
            reference).frame
        return frame.drop(columns=[model.target], errors="ignore")
    run_id = model.manifest.run_id
    if not run_id:
        return None
    from automl.runs import open_run

    try:
        run = open_run(run_id, runs_dir)
        if run.spec.data_hash != model.manifest.data_hash:
            return None
        return run.read_data().drop(columns=[model.target], errors="ignore")
    except (AutoMLError, OSError, ValueError):
        return None
