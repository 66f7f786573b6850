"""How a worker learns it must stop: the run's control file, and a signal during a fit.

The control file carries ``stop_at`` (a Unix time), moved earlier by the supervisor as the
expected refit time grows, or set to now by a Stop button. Between folds a worker reads it.
A fit that would run past the hard deadline is interrupted by SIGUSR1, which raises
``StopRequested`` only while a fit is in progress, never inside storage writes. A missing or
unreadable control file means stop, and so does the end of the supervisor that started the
worker (``owner``: its pid and start time), where the kernel did not end the worker already.
A worker on another machine reads the stop time from the study instead (``read``).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from contextlib import contextmanager

from automl.processes import process_alive
from automl.runs import Run

__all__ = ["StopRequested", "StopSignal"]


class StopRequested(Exception):
    """Raised inside a fit when the supervisor asks the worker to stop now."""


class StopSignal:
    def __init__(self, run: Run, poll_seconds: float = 0.25,
                 owner: tuple[int, int | None] | None = None,
                 read: Callable[[], float] | None = None):
        self.run = run
        self.read = read or run.stop_at  # a worker on another machine reads the study's
        self.poll_seconds = poll_seconds
        self.owner = owner
        self._stop_at = 0.0
        self._read_at = 0.0
        self._in_fit = False
        self._interrupted = False

    def requested(self) -> bool:
        if self._interrupted:
            return True
        now = time.time()
        if now - self._read_at >= self.poll_seconds:
            self._stop_at, self._read_at = self.read(), now
            if self.owner is not None and not process_alive(*self.owner):
                self._stop_at = 0.0  # the supervisor is gone: nobody keeps the budget
        return now >= self._stop_at

    def seconds_left(self) -> float:
        """Seconds until the stop time as last read (0 once a stop is due)."""
        if self.requested():
            return 0.0
        return max(0.0, self._stop_at - time.time())

    def install_handler(self) -> None:
        """Let SIGUSR1 interrupt a fit (main thread of a worker process only)."""
        signal.signal(signal.SIGUSR1, self._on_signal)

    def _on_signal(self, signum, frame):
        self._interrupted = True
        if self._in_fit:
            raise StopRequested

    @contextmanager
    def fitting(self):
        self._in_fit = True
        try:
            if self._interrupted:
                raise StopRequested
            yield
        finally:
            self._in_fit = False
