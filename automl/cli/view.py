"""What the ``automl`` command draws in the terminal: a progress bar with the running best,
and the final leaderboard."""

from __future__ import annotations

import math

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from automl.leaderboard import best_per_family

__all__ = ["ProgressView", "print_leaderboard"]


class ProgressView:
    """A rich progress bar on stderr fed by the search's progress callback."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self._bar = Progress(
            TextColumn("[bold]searching"), BarColumn(), TimeElapsedColumn(),
            TextColumn("{task.fields[trials]} trials  best {task.fields[best]}"),
            console=Console(stderr=True), transient=False, disable=not enabled,
        )
        self._task = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._task is not None:
            self._bar.stop()

    def update(self, p) -> None:
        if not self.enabled:
            return
        if self._task is None:  # started lazily: workers are already forked by now
            self._bar.start()
            self._task = self._bar.add_task("search", total=p.budget, trials=0, best="-")
        best = "-" if p.best_value is None else f"{p.best_value:.4f} ({p.best_family})"
        trials = f"{p.n_complete} done, {p.n_pruned} pruned" + (
            f", {p.n_failed} failed" if p.n_failed else "")
        self._bar.update(self._task, completed=min(p.elapsed, p.budget), trials=trials,
                         best=best)


def _fmt(v, digits=4) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def print_leaderboard(result, top: int = 10) -> None:
    console = Console()
    board = result.leaderboard
    done = board[board["state"] == "complete"]
    table = Table(title=f"Leaderboard ({result.metric}, {len(done)} finished trials, "
                        f"{len(board)} in all)")
    for col in ["#", "family", result.metric, "± std", "fit s", "ms/1k rows", "size KB"]:
        table.add_column(col, justify="right" if col not in ("family",) else "left")
    for _, r in done.head(top).iterrows():
        table.add_row(str(r.trial), r.family, _fmt(r.score), _fmt(r["std"]), _fmt(r.fit_s, 2),
                      _fmt(r.predict_ms_per_1k, 1), _fmt(r.size_kb, 0))
    console.print(table)
    fam = best_per_family(board)
    console.print("Best per family: " + ", ".join(
        f"{r.family} {_fmt(r.score)}" for _, r in fam.iterrows()))
    console.print(f"Best: {result.best['family']} {result.metric}={_fmt(result.best['score'])}"
                  f"  model saved to {result.model_path}  (run {result.run_id}, "
                  f"{result.seconds:.1f} s)")
