"""The type every chart builder returns: a figure, or why there is none."""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go

__all__ = ["Chart"]


@dataclass(frozen=True)
class Chart:
    """A figure, or ``None`` and why; ``note`` carries a caveat about a figure that exists."""

    figure: go.Figure | None
    reason: str | None = None
    note: str | None = None

    def __bool__(self) -> bool:
        return self.figure is not None
