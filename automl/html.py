"""Pieces of the self-contained HTML reports (model, monitoring): one page with plotly.js
inside and no network needed, text always escaped, charts drawn through
:func:`automl.plots.safe.safe_figure` so that a column name cannot become markup."""

from __future__ import annotations

import html

import pandas as pd

from automl.plots.chart import Chart
from automl.plots.safe import safe_figure

__all__ = ["e", "grid", "page", "say", "table"]

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;
max-width:1100px;padding:24px;color:#1f2430;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ddd;
padding-bottom:.2em}.muted{color:#667}.card{display:flex;flex-wrap:wrap;gap:12px}
.card div{background:#f4f6fa;border-radius:8px;padding:8px 14px}.card b{display:block;
font-size:1.25em}table{border-collapse:collapse;font-size:.9em;margin:.6em 0}
td,th{border-bottom:1px solid #e3e3e3;padding:4px 10px;text-align:left}
.say{background:#fff8e1;border-left:4px solid #f5b400;padding:8px 14px;margin:.6em 0}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:12px}
@media(max-width:800px){.grid{grid-template-columns:1fr}}
"""


def page(title: str, parts: list[str]) -> str:
    """A whole HTML document: ``title`` (escaped here) and the already escaped ``parts``."""
    from plotly.offline import get_plotlyjs

    body = "\n".join(p for p in parts if p)
    return (f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
            f"<meta name=viewport content='width=device-width,initial-scale=1'>"
            f"<title>{e(title)}</title><style>{_CSS}</style>"
            f"<script>{get_plotlyjs()}</script></head><body>{body}</body></html>")


def grid(charts: list[Chart]) -> str:
    """Charts two to a row; a missing chart shows why it is missing."""
    cells = []
    for c in charts:
        if c.figure is None:
            cells.append(f"<p class=muted>{e(c.reason)}</p>")
            continue
        import plotly.io as pio

        fig = pio.to_html(safe_figure(c.figure), full_html=False, include_plotlyjs=False,
                          config={"displaylogo": False, "responsive": True})  # text, no HTML
        note = f"<p class=muted>{e(c.note)}</p>" if c.note else ""
        cells.append(f"<div>{fig}{note}</div>")
    return "<div class=grid>" + "".join(cells) + "</div>"


def say(sentences) -> str:
    """Plain-language sentences, highlighted."""
    if isinstance(sentences, str):
        sentences = [sentences]
    return "".join(f"<p class=say>{e(s)}</p>" for s in sentences if s)


def table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, escape=True, border=0, na_rep="–")


def e(value) -> str:
    """``value`` as escaped HTML text."""
    return html.escape("" if value is None else str(value))
