"""Advisory file locks (``fcntl.flock``) that the kernel drops when their holder ends.

A lock held by a process that was killed ends with it: there is no stale lock to wait out,
and a lock that cannot be taken means that a live process holds it. Locks taken through two
``open`` calls conflict even within one process, so threads (the app's sessions) are
serialised too. POSIX only, as the rest of the process handling (signals, fork).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["hold", "is_held", "locked"]


def hold(path: str | os.PathLike, *, shared: bool = False, wait: bool = True) -> int | None:
    """Lock ``path`` (created if missing) and return the file descriptor that holds the
    lock until it is closed, by ``os.close`` or by the end of the process. ``shared``: many
    holders at once, none exclusive. ``wait=False``: None at once if another holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
                    | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextmanager
def locked(path: str | os.PathLike, *, shared: bool = False) -> Iterator[None]:
    """Hold the lock on ``path`` for the duration of the block."""
    fd = hold(path, shared=shared)
    try:
        yield
    finally:
        os.close(fd)


def is_held(path: str | os.PathLike) -> bool:
    """Whether some live process (this one included) holds a lock on ``path``."""
    fd = hold(path, wait=False)
    if fd is None:
        return True
    os.close(fd)
    return False
