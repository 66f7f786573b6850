"""A self-contained HTML report of a model: the data, the search, how good the model is and
what drives its predictions in plain words. One file, plotly.js inside, no network needed:
it opens in any browser, attached to an e-mail or years later.

- :func:`run_report`: a run of this machine (leaderboard, out-of-fold or holdout quality).
- :func:`model_report`: a model file and a table (quality measured on the table when it has
  the target column), what ``automl explain MODEL DATA --out report.html`` writes.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd

from automl import evaluate
from automl.atomic import write_text
from automl.bundle import Model, load_model
from automl.contracts import ModelManifest
from automl.errors import AutoMLError
from automl.explain import GLOBAL_ROWS, Explanation, explain, explain_run, words
from automl.html import e as _e
from automl.html import grid as _grid
from automl.html import page
from automl.html import say as _say
from automl.html import table as _table
from automl.metrics import METRICS
from automl.plots import evaluate as eval_charts
from automl.runs import Run

__all__ = ["model_report", "run_report", "write_report"]

TOP_ROWS = 10  # leaderboard rows shown



def run_report(run: Run, *, max_rows: int = GLOBAL_ROWS) -> str:
    """The report of a finished run: its table, leaderboard, the final model's quality on
    holdout rows (or out-of-fold predictions) and its explanations."""
    if not run.model_file.exists():
        raise AutoMLError(f"Run {run.id} has no model file yet: a report can be made once "
                          "its search has ended (or after Stop).")
    model = load_model(run.model_file)
    sources = evaluate.source_choices(run)
    ev = evaluate.from_run(run, "holdout" if "holdout" in sources else "oof")
    e = explain_run(run, max_rows=max_rows)
    return _render(model, run.read_data(), str(run.spec.source or run.id), ev,
                   e, _leaderboard(run))


def model_report(model: Model | str | os.PathLike, data: pd.DataFrame, *, source: str = "",
                 runs_dir: str | os.PathLike | None = None, max_rows: int = GLOBAL_ROWS) -> str:
    """The report of a model file on a table: quality when the table has the target column,
    explanations of (a sample of) its rows; the leaderboard when the model's run folder is in
    ``runs_dir``."""
    model = model if isinstance(model, Model) else load_model(model)
    target = str(model.target)
    ev, why = None, None
    if target in data.columns:
        ev = evaluate.from_model(model, data)
    else:
        why = (f"The table has no {target!r} column, so the model's quality could not be "
               "measured on it. Add the true outcomes as that column to see it.")
    e = explain(model, data.drop(columns=[target], errors="ignore"), max_rows=max_rows)
    board = None
    run_id = model.manifest.run_id
    if run_id:
        try:
            from automl.runs import open_run

            board = _leaderboard(open_run(run_id, runs_dir))
        except AutoMLError:
            board = None
    return _render(model, data, source, ev, e, board, no_quality=why)


def write_report(html_text: str, path: str | os.PathLike) -> Path:
    """Write the report atomically (a half-written report is never left at ``path``)."""
    return write_text(path, html_text)


# --- sections -------------------------------------------------------------------------------

def _render(model: Model, data: pd.DataFrame, source: str, ev, e: Explanation,
            board: pd.DataFrame | None, *, no_quality: str | None = None) -> str:
    m = model.manifest
    parts = [f"<h1>Model report: predicting {_e(model.target)}</h1>",
             f"<p class=muted>Made {time.strftime('%Y-%m-%d %H:%M')} by automl · "
             f"{_e(m.family_title or m.family or '')} · {_e(model.task)} · "
             f"data {_e(source) or 'as given'}</p>",
             _card(model), _data_section(data, model),
             _leaderboard_section(board, m), _quality_section(ev, no_quality),
             _explain_section(e)]
    return page(f"Model report: {model.target}", parts)


def _card(model: Model) -> str:
    m = model.manifest
    metric = METRICS.get(m.metric)
    title = metric.title if metric else m.metric or "score"
    items = [("Task", m.task), ("Model", m.family_title or m.family)]
    if m.cv_score is not None:
        items.append((f"{title}, cross-validated", f"{m.cv_score:.4f}"))
    if m.holdout_score is not None:
        items.append((f"{title}, holdout ({m.holdout_rows} rows)", f"{m.holdout_score:.4f}"))
    if m.n_rows:
        items.append(("Rows trained on", f"{m.n_rows:,}"))
    members = m.members
    if len(members) > 1:
        items.append(("Ensemble of", ", ".join(f"{x.get('family')} ({x.get('weight', 0):.0%})"
                                               for x in members)))
    return "<div class=card>" + "".join(f"<div>{_e(k)}<b>{_e(v)}</b></div>"
                                        for k, v in items) + "</div>"


def _data_section(data: pd.DataFrame, model: Model) -> str:
    schema = {c.name: c.kind for c in model.schema.columns if c.kind.value != "id"}
    rows = [{"column": c, "kind": "target" if c == model.target
             else str(getattr(schema.get(c), "value", "not used")),
             "missing": f"{data[c].isna().mean():.1%}", "distinct values": data[c].nunique()}
            for c in data.columns]
    return (f"<h2>Data</h2><p>{len(data):,} rows × {data.shape[1]:,} columns; the model uses "
            f"{sum(1 for c in data.columns if c in schema)} of them to predict "
            f"<b>{_e(model.target)}</b>.</p>" + _table(pd.DataFrame(rows)))


def _leaderboard(run: Run) -> pd.DataFrame | None:
    from automl.background import live_leaderboard

    board = live_leaderboard(run)
    return None if board.empty else board


def _leaderboard_section(board: pd.DataFrame | None, manifest: ModelManifest) -> str:
    if board is None:
        return ("<h2>Search</h2><p class=muted>The run's leaderboard is not available here "
                f"(run {_e(manifest.run_id or '?')}); the model card above has its "
                "cross-validated score.</p>")
    done = board[board["state"] == "complete"].head(TOP_ROWS)
    view = pd.DataFrame({"trial": done["trial"], "family": done["family"],
                         "score (mean ± std)": [f"{a:.4f} ± {b:.4f}" for a, b in
                                                zip(done["score"], done["std"], strict=True)],
                         "fit (s)": done["fit_s"].round(2)})
    return (f"<h2>Search</h2><p>{len(board)} trials; the best {len(done)} "
            f"by cross-validated {_e(manifest.metric)}:</p>" + _table(view))


def _quality_section(ev, why: str | None) -> str:
    if ev is None:
        return f"<h2>How good is it?</h2><p class=muted>{_e(why)}</p>"
    out = [f"<h2>How good is it?</h2><p>{_e(ev.model)}: {_e(ev.source)}.</p>"]
    summary = evaluate.summary(ev)
    out.append("<div class=card>" + "".join(
        f"<div>{_e(r.title)} ({_e(r.better)} is better)<b>{r.value:.4f}</b></div>"
        for r in summary.itertuples()) + "</div>")
    if ev.task == "regression":
        res = evaluate.residuals(ev)
        charts = [eval_charts.predicted_vs_actual_chart(res, ev.target),
                  eval_charts.residual_histogram(res)]
    else:
        positive = ev.classes[1] if ev.task == "binary" else None
        gains = evaluate.lift_gain(ev, positive)
        charts = [eval_charts.roc_chart(evaluate.roc(ev, positive), positive),
                  eval_charts.pr_chart(evaluate.pr(ev, positive), positive),
                  eval_charts.confusion_chart(evaluate.at_threshold(ev, 0.5, positive)),
                  eval_charts.calibration_chart(evaluate.calibration(ev, positive=positive)),
                  eval_charts.gain_chart(gains, positive or ev.classes[0])]
        out.append(_table(evaluate.per_class(ev, None, positive).round(4)))
    out.append(_grid(charts))
    return "".join(out)


def _explain_section(e: Explanation) -> str:
    from automl.plots import explain as xc

    used = (f"{e.n_rows:,} of {e.n_total:,} rows, sampled at random" if e.sampled
            else f"all {e.n_rows:,} rows")
    top = e.importance().index[0]
    out = ["<h2>What drives the predictions</h2>",
           f"<p class=muted>SHAP values ({_e(e.method)}) on {_e(used)}. Each value says how "
           "much a column moved one prediction away from the average prediction.</p>",
           _say(words.global_summary(e)),
           _grid([xc.importance_bar(e), xc.beeswarm(e)]),
           f"<h3>How {_e(top)} changes the prediction</h3>",
           _say([words.dependence_summary(e, top)]), _grid([xc.dependence(e, top)])]
    i = int(abs(e.prediction[:, 0] - e.base[0]).argmax())
    out += [f"<h3>One row explained (row {_e(e.data.index[i])})</h3>",
            _say([words.row_summary(e, i)]), _grid([xc.waterfall(e, i)])]
    return "".join(out)
