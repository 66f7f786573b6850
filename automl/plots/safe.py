"""Plotly figures whose text cannot become HTML.

Plotly draws every title, tick label, legend entry, hover text and annotation as its own
small HTML dialect (``<a href>``, ``<b>``, ``<span style>``...), so a column named
``<a href="http://...">x</a>`` or such a category value would become a real link in the
chart. :func:`safe_figure` escapes ``&``, ``<`` and ``>`` in every string of a figure (Plotly
shows ``&lt;`` as ``<``), keeping only the tags the project's own charts write (``<br>`` and
hover ``<extra>``). The app and the HTML report draw what it returns.
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["escape_text", "safe_figure"]

_KEEP = re.compile(r"(<br>|<extra>|</extra>)")
_SKIP = {"template", "customdata", "ids", "uid", "meta", "selectedpoints"}  # never drawn


def escape_text(text: str) -> str:
    """``text`` with ``&``, ``<`` and ``>`` as entities, except the tags kept."""
    parts = _KEEP.split(text)
    return "".join(p if i % 2 else p.replace("&", "&amp;").replace("<", "&lt;")
                   .replace(">", "&gt;") for i, p in enumerate(parts))


def safe_figure(figure) -> dict:
    """The figure (a plotly Figure or its dict) as a dict with every drawn string escaped."""
    data = figure.to_plotly_json() if hasattr(figure, "to_plotly_json") else figure
    return _walk(data)


def _walk(value):
    if isinstance(value, str):
        return escape_text(value) if "<" in value or ">" in value or "&" in value else value
    if isinstance(value, dict):
        return {k: v if k in _SKIP else _walk(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_walk(v) for v in value]
    if isinstance(value, np.ndarray) and value.dtype.kind in "OUS":
        return np.array([_walk(v) for v in value.ravel()], dtype=object).reshape(value.shape)
    return value
