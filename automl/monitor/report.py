"""The HTML report of a monitoring check (``automl monitor ... --out report.html``): the
summary in words, the advice, what the model relies on and what moved, and one chart per
column, drifted columns first."""

from __future__ import annotations

import pandas as pd

from automl.html import e, grid, page, say, table
from automl.monitor.check import MonitorResult
from automl.monitor.words import advice, summary
from automl.plots import monitor as charts

__all__ = ["monitor_report"]

MAX_CHARTS = 40


def monitor_report(result: MonitorResult, *, model_name: str = "", source: str = "",
                   history: list[dict] | None = None) -> str:
    verdict = "Alarm" if result.alarm else "No alarm"
    parts = [f"<h1>Monitoring: {e(model_name or 'model')}</h1>",
             f"<p class=muted>Checked {e(result.checked_at)} · {result.n_rows:,} new rows · "
             f"{e(source) or 'rows as given'}</p>",
             f"<h2>{verdict}</h2>", say([advice(result)]), say(summary(result)),
             grid([charts.overview_chart(result), *([charts.history_chart(history)]
                                                    if history else [])]),
             "<h2>Columns</h2>", table(_columns(result))]
    ordered = sorted(result.columns, key=lambda c: (not c.drifted,
                                                    -result.importance.get(c.name, 0.0)))
    shown = [charts.column_drift_chart(c) for c in ordered[:MAX_CHARTS]]
    if result.prediction is not None:
        shown.insert(0, charts.column_drift_chart(result.prediction))
    parts.append(grid(shown))
    return page(f"Monitoring: {model_name or 'model'}", parts)


def _columns(r: MonitorResult) -> pd.DataFrame:
    rows = [{"column": c.name, "drifted": "yes" if c.drifted else "no", "test": c.test,
             "statistic": round(c.statistic, 4), "p-value": c.p_value,
             "PSI": round(c.psi, 4), "reliance": r.importance.get(c.name, 0.0),
             "note": c.note or ""} for c in r.columns]
    frame = pd.DataFrame(rows).sort_values(["drifted", "reliance"], ascending=False)
    return frame.assign(reliance=frame["reliance"].map("{:.1%}".format))
