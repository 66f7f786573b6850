"""The run's journal storage, with a lock that ends with the process holding it.

Optuna's journal file backend serialises appends with a lock file (a symlink, or a file made
with O_EXCL) that a writer killed while appending leaves behind; every other writer then
waits out a grace period (30 s by default) before it breaks the lock, which stalls a short
run past its budget, and a shorter grace period would break the lock of a live writer on a
slow disk. Workers here are killed on purpose at the hard deadline, so the lock is an
``fcntl.flock`` on a file next to the journal instead: the kernel drops it with its holder,
so a stale lock cannot exist and a live one is never broken.
"""

from __future__ import annotations

import os

from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from automl.locks import hold

__all__ = ["FlockLock", "journal_storage"]


class FlockLock:
    """Optuna's journal lock as an exclusive ``flock`` on ``path``: the ``acquire`` and
    ``release`` that ``JournalFileBackend`` calls (its lock base class is private)."""

    def __init__(self, path: str):
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        self._fd = hold(self.path)
        return True

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


def journal_storage(path: str | os.PathLike) -> JournalStorage:
    """Optuna's journal storage in ``path``, locked through ``.<name>.flock`` beside it."""
    path = os.fspath(path)
    head, name = os.path.split(path)
    lock = FlockLock(os.path.join(head, f".{name}.flock"))
    return JournalStorage(JournalFileBackend(path, lock_obj=lock))
