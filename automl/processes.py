"""Processes of a run: which are alive, how a worker ends with its parent, and signals.

A pid alone is not a process: after its process ends the pid is free, and an unrelated one
may get it. So a process is known by its pid and its start time (``/proc/<pid>/stat`` field
22, clock ticks since boot), which the status records next to the pid.

A worker must not outlive the supervisor that started it (it would train until the budget
ends, for hours). On Linux the worker asks the kernel for SIGKILL when its parent ends
(``prctl(PR_SET_PDEATHSIG)``), then checks that its parent is still the expected one, which
closes the race of a parent that ended before the request. With the forkserver start method
the worker's parent is the forkserver, which exits when the supervisor does (it reads a
pipe that only the supervisor holds), so the chain ends within a second. Between folds a
worker also checks that its supervisor lives: the fallback where prctl does not exist.

Secrets reach a child process in its environment (``STORAGE_ENV``), which only its own user
can read (/proc/<pid>/environ is 0400), never in its arguments or the run folder.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
from pathlib import Path

__all__ = ["STORAGE_ENV", "Terminated", "as_worker_signals", "die_with_parent", "process_alive",
           "raise_on_signals", "restore_signals", "signal_name", "start_time"]

STORAGE_ENV = "AUTOML_STORAGE_URL"  # a storage URL with its password, for child processes
_PR_SET_PDEATHSIG = 1
_ENDING = (signal.SIGTERM, signal.SIGHUP)


def _stat(pid) -> list[str] | None:
    """/proc/<pid>/stat after the command name (its state first), or None."""
    try:
        text = Path(f"/proc/{int(pid)}/stat").read_text()
    except (OSError, ValueError, OverflowError):
        return None
    return text.rpartition(") ")[2].split()


def start_time(pid) -> int | None:
    """When process ``pid`` started (clock ticks since boot); None where that is unknown."""
    fields = _stat(pid)
    return int(fields[19]) if fields else None


def _parent(pid) -> int | None:
    fields = _stat(pid)
    return int(fields[1]) if fields else None


def process_alive(pid, started: int | None = None) -> bool:
    """Whether process ``pid`` runs on this machine (a zombie counts as ended) and, when
    ``started`` is given, is the process that started then rather than a later one that
    reused the pid. No pid: True (nothing known to have ended)."""
    if not pid:
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    except (ValueError, TypeError, OverflowError, OSError):
        return False  # not a pid at all
    fields = _stat(pid)
    if fields is None:
        return True  # no /proc here: the signal check above is all there is
    return fields[0] not in ("Z", "X") and (started is None or int(fields[19]) == started)


def die_with_parent(pid: int, started: int | None) -> bool:
    """Make this process end when its parent does (Linux), and say whether it should go on:
    its parent, or its parent's parent (a forkserver in between), is still process ``pid``
    started at ``started``."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # no libc prctl: the fallback
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
    parent = os.getppid()
    grandparent = _parent(parent)
    if parent != pid and grandparent is not None and grandparent != pid:
        return False  # reparented: the expected parent ended before prctl took effect
    return process_alive(pid, started)


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP in the main thread: a run unwinds as on Ctrl-C (its workers are
    ended, its status says why) instead of dying where it stands."""

    def __init__(self, signum: int):
        self.signum = int(signum)
        super().__init__(signal.Signals(signum).name)


def _raise(signum, frame) -> None:
    raise Terminated(signum)


def raise_on_signals() -> dict:
    """Turn SIGTERM and SIGHUP into :class:`Terminated` (main thread only); returns the
    previous handlers, for :func:`restore_signals`."""
    return {s: signal.signal(s, _raise) for s in _ENDING}


def restore_signals(previous: dict) -> None:
    for s, handler in previous.items():
        signal.signal(s, handler)


def signal_name(exc: BaseException) -> str:
    """The signal behind an interruption: SIGINT for Ctrl-C, else the one Terminated says."""
    return signal.Signals(getattr(exc, "signum", signal.SIGINT)).name


def as_worker_signals() -> None:
    """In a worker started by a supervisor: Ctrl-C at a terminal reaches the whole process
    group, and the supervisor ends its workers itself, so a worker ignores SIGINT; a
    handler inherited through fork gives way to the default for SIGTERM and SIGHUP."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for s in _ENDING:
        signal.signal(s, signal.SIG_DFL)
