"""Where the predictions to evaluate come from: a run's out-of-fold predictions or holdout,
or a model file on a labelled table; and every metric of the task on them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from automl.config import validation_label
from automl.contracts import ModelManifest
from automl.errors import ConfigError, ModelFileError, TargetError
from automl.metrics import METRICS, scored_rows
from automl.runs import Run

__all__ = ["Evaluation", "available_trials", "final_oof", "from_model", "from_run",
           "model_choices", "source_choices", "summary"]


@dataclass(frozen=True)
class Evaluation:
    """True outcomes and a model's scores for the same rows, and where they come from."""

    task: str  # "binary", "multiclass" or "regression"
    y: np.ndarray  # class codes 0..k-1 (index into ``classes``), or numbers
    scores: np.ndarray  # (n, k) class probabilities, or (n,) predicted numbers
    classes: list  # original class labels in code order; [] for regression
    X: pd.DataFrame  # the rows' input columns (for error by segment)
    target: str
    model: str  # which model, in words
    source: str  # which predictions, in words

    @property
    def n_rows(self) -> int:
        return len(self.y)

    @property
    def y_true(self) -> np.ndarray:
        """Original labels (classification) or numbers (regression)."""
        if self.task == "regression":
            return self.y
        return np.asarray(self.classes, dtype=object)[self.y]

    @property
    def predicted(self) -> np.ndarray:
        """The most probable label per row, or the predicted number."""
        if self.task == "regression":
            return self.scores
        return np.asarray(self.classes, dtype=object)[self.scores.argmax(1)]



# --- where predictions come from -----------------------------------------------------------

def from_run(run: Run, source: str = "oof", trial: int | None = None) -> Evaluation:
    """The predictions of a run's final model (``trial=None``) or of one completed trial.

    ``source="oof"``: out-of-fold predictions (every row scored by a model fitted without it).
    ``source="holdout"``: the final model on the rows the search never saw (runs trained with
    a holdout share only).
    """
    from automl.search.context import SearchContext

    if source not in ("oof", "holdout"):
        raise ConfigError(f"source must be 'oof' or 'holdout'; got {source!r}.")
    if source == "holdout" and trial is not None:
        raise ConfigError(f"Holdout predictions exist only for the final model; trial {trial} "
                          "was never refitted. Choose the final model, or out-of-fold "
                          "predictions for the trial.")
    manifest = _manifest(run) if trial is None else None
    ctx = SearchContext.from_run(run)
    spec = run.spec
    target, classes = spec.target, list(spec.classes or [])
    if source == "holdout":
        if ctx.holdout_X is None:
            raise ConfigError(f"Run {run.id} kept no holdout rows. Train with a holdout share "
                              "above 0 (Train page, or `automl train --holdout 0.2`), or use "
                              "the out-of-fold predictions.")
        from automl.bundle import load_model

        scores = _score(load_model(run.model_file), ctx.holdout_X)
        n, fit = len(ctx.holdout_y), len(ctx.y)
        return Evaluation(ctx.task, ctx.holdout_y, scores, classes, ctx.holdout_X, target,
                          _final_name(manifest),
                          f"Holdout: {n:,} rows the search never saw, scored by the final "
                          f"model refitted on the other {fit:,} rows.")
    if trial is None:
        scores, name = final_oof(run, manifest), _final_name(manifest)
    else:
        scores, name = _oof(run, trial), _trial_name(run, trial)
    if len(scores) != len(ctx.y):
        raise ModelFileError(f"The saved predictions of run {run.id} have {len(scores)} rows "
                             f"but its data has {len(ctx.y)}; the run folder was changed. "
                             "Train the run again.")
    if len(ctx.folds) == 1:  # one validation split: only its rows were scored
        scored = scored_rows(scores)
        X = ctx.X.loc[scored].reset_index(drop=True)
        return Evaluation(ctx.task, ctx.y[scored], scores[scored], classes, X, target, name,
                          f"Validation predictions ({validation_label(1)}): the "
                          f"{int(scored.sum()):,} validation rows, each scored by a model "
                          f"fitted on the other {len(ctx.y) - int(scored.sum()):,}.")
    return Evaluation(ctx.task, ctx.y, scores, classes, ctx.X, target, name,
                      f"Out-of-fold predictions ({len(ctx.folds)}-fold cross-validation): "
                      f"each of the {len(ctx.y):,} rows scored by a model fitted without it.")


def from_model(model, df: pd.DataFrame, target: str | None = None) -> Evaluation:
    """Score a labelled table with a loaded model file (:class:`automl.bundle.Model`).
    Rows without an outcome are left out (the source says how many)."""
    target = target or model.target
    if target not in df.columns:
        raise TargetError(f"The rows have no column {target!r}, the target this model "
                          "predicts. Add the known outcomes in that column to evaluate the "
                          "model (to score rows without outcomes, use `automl predict`).")
    known = df[target].notna().to_numpy()
    if not known.any():
        raise TargetError(f"Column {target!r} has no values: evaluating needs rows whose "
                          "outcome is known.")
    rows = df.loc[known].reset_index(drop=True)
    if model.task == "regression":
        y = pd.to_numeric(rows[target], errors="coerce")
        if y.isna().any():
            bad = rows.loc[y.isna(), target].unique()[:3]
            raise TargetError(f"Column {target!r} holds values that are not numbers, e.g. "
                              f"{', '.join(map(repr, bad))}; fix them to evaluate this "
                              "regression model.")
        y = y.to_numpy(dtype=float)
    else:
        y = _codes(rows[target], model.classes, target)
    X = rows.drop(columns=[target])
    dropped = int((~known).sum())
    source = f"{len(rows):,} labelled rows scored by the model file" + (
        f" ({dropped:,} rows without a {target!r} value left out)." if dropped else ".")
    m = model.manifest
    name = (f"the model file ({m.family_title or m.family or 'model'}"
            + (f", run {m.run_id})" if m.run_id else ")"))
    return Evaluation(model.task, y, _score(model, X), model.classes, X, target, name, source)


def available_trials(run: Run) -> pd.DataFrame:
    """Completed trials whose out-of-fold predictions were saved, best first: trial, family,
    score (the mean CV metric)."""
    from automl.background import live_leaderboard

    board = live_leaderboard(run)
    if board.empty:
        return pd.DataFrame(columns=["trial", "family", "score"])
    done = board[board["state"] == "complete"]
    done = done[[_oof_file(run, n).exists() for n in done["trial"]]]
    return done[["trial", "family", "score"]].reset_index(drop=True)


def model_choices(run: Run) -> dict[int | None, str]:
    """What the Evaluate page offers: ``None`` (the final model, when saved) and every
    trial with saved predictions, each with a label in words."""
    from automl.families import REGISTRY

    choices: dict[int | None, str] = {}
    if run.model_file.exists():
        choices[None] = "Final model: " + _final_name(_manifest(run))
    metric = METRICS.get(run.spec.metric)
    for t in available_trials(run).itertuples():
        title = REGISTRY[t.family].title if t.family in REGISTRY else t.family
        choices[int(t.trial)] = (f"Trial {t.trial} · {title} · "
                                 f"{metric.title if metric else 'score'} {t.score:.4f}")
    return choices


def source_choices(run: Run, trial: int | None = None) -> dict[str, str]:
    """Which predictions there are for the model: out-of-fold always, holdout for the final
    model of a run trained with a holdout share."""
    choices = {"oof": "Out-of-fold (cross-validation)"}
    if trial is None and run.spec.config.holdout and run.model_file.exists():
        choices["holdout"] = "Holdout (rows the search never saw)"
    return choices


def _manifest(run: Run) -> ModelManifest:
    from automl.bundle import read_manifest

    if not run.model_file.exists():
        raise ModelFileError(f"Run {run.id} has no model file yet: it is saved when the search "
                             "ends (or after Stop). Wait for it, or choose a trial.")
    return read_manifest(run.model_file)


def _oof_file(run: Run, trial: int):
    return run.path / "oof" / f"{int(trial)}.npy"


def _oof(run: Run, trial: int) -> np.ndarray:
    if not _oof_file(run, trial).exists():
        raise ConfigError(f"Trial {trial} of run {run.id} has no saved out-of-fold "
                          "predictions (only completed trials have them; pruned, failed and "
                          "stopped ones do not). Choose a completed trial.")
    return run.load_oof(int(trial)).astype(float)


def final_oof(run: Run, manifest: ModelManifest | None = None) -> np.ndarray:
    """The final model's out-of-fold predictions: its trial's, or for an ensemble the sum of
    its members' weighted by their (normalised) weights. ``manifest`` defaults to the one in
    the run's model file."""
    manifest = _manifest(run) if manifest is None else manifest
    members = manifest.members
    if manifest.family != "ensemble" or not members:
        return _oof(run, manifest.best_trial)
    weights = np.array([float(m["weight"]) for m in members])
    if not weights.sum() > 0:
        raise ModelFileError(f"The ensemble of run {run.id} has no positive member weight; "
                             "train the run again.")
    weights = weights / weights.sum()
    return sum(w * _oof(run, m["trial"]) for w, m in zip(weights, members, strict=True))


def _final_name(manifest: ModelManifest) -> str:
    members = manifest.members
    if manifest.family == "ensemble" and members:
        parts = ", ".join(f"{m['trial']} ({m['weight']:.0%})" for m in members)
        return f"ensemble of trials {parts}"
    title = manifest.family_title or manifest.family
    return f"{title}, trial {manifest.best_trial}"


def _trial_name(run: Run, trial: int) -> str:
    from automl.families import REGISTRY

    board = available_trials(run)
    family = board.loc[board["trial"] == trial, "family"]
    if family.empty:
        return f"trial {trial}"
    title = REGISTRY[family.iloc[0]].title if family.iloc[0] in REGISTRY else family.iloc[0]
    return f"{title}, trial {trial}"


def _score(model, X: pd.DataFrame) -> np.ndarray:
    if model.task == "regression":
        return model.predict(X)["prediction"].to_numpy(dtype=float)
    return model.predict_proba(X)


def _codes(labels: pd.Series, classes: list, target: str) -> np.ndarray:
    """Class codes of ``labels``; a label is matched as it is, else by its text."""
    exact = {c: i for i, c in enumerate(classes)}
    text = {str(c): i for i, c in enumerate(classes)}
    codes = labels.map(lambda v: exact.get(v, text.get(str(v))))
    unknown = labels[codes.isna()].unique()
    if len(unknown):
        raise TargetError(f"Column {target!r} holds labels the model never saw in training: "
                          f"{', '.join(map(repr, unknown[:5]))} (it knows "
                          f"{', '.join(map(repr, classes))}). Leave those rows out to "
                          "evaluate it, or train a model on data with those classes.")
    return codes.to_numpy(dtype=np.int64)


# --- both tasks ------------------------------------------------------------------------------

def summary(ev: Evaluation) -> pd.DataFrame:
    """Every metric of the task on these predictions: metric, title, value, better."""
    rows = [{"metric": m.name, "title": m.title, "value": m(ev.y, ev.scores),
             "better": "higher" if m.direction == "maximize" else "lower"}
            for m in METRICS.values() if ev.task in m.tasks]
    return pd.DataFrame(rows, columns=["metric", "title", "value", "better"])


