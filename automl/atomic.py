"""Files that a reader never sees half-written, however many writers there are.

Each write goes to a temporary file with a name of its own (``tempfile.mkstemp``) in the
target's folder, which then replaces the target (``os.replace``, atomic on one file system).
A reader sees the old content or the new one; two threads or processes writing one file at
the same moment each replace it whole, and the last one wins. A fixed temporary name (such as
``name.tmp`` or one made from the pid) breaks as soon as two threads of the app write the
same file: one renames the other's half-written temporary away. Optuna's journal storage is
the larger version of the same idea (append-only records).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["replacing", "write_bytes", "write_json", "write_text"]


def _umask() -> int:
    """The process's umask, read without changing it where Linux says it (/proc)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    old = os.umask(0o022)  # elsewhere: set and restore (at import, before any thread)
    os.umask(old)
    return old


_DEFAULT_MODE = 0o666 & ~_umask()  # what open() would have given the file


@contextmanager
def replacing(path: str | os.PathLike, *, suffix: str = ".tmp", mode: int | None = None,
              fsync: bool = False) -> Iterator[Path]:
    """Yield a new temporary path next to ``path``; when the block ends without an error it
    replaces ``path``, else it is removed and ``path`` is left as it was. For writers that
    want a file name (``np.savez`` needs ``suffix=".npz"``, skops, ``to_parquet``).

    ``mode``: the file's permissions (default: as ``open`` would create it under the umask,
    not the temporary file's 0o600); ``fsync``: flush to disk before the replace.
    """
    path = Path(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    tmp = Path(name)
    try:
        os.fchmod(fd, _DEFAULT_MODE if mode is None else mode)
        os.close(fd)
        fd = -1
        yield tmp
        if fsync:
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if fd >= 0:
            os.close(fd)
        tmp.unlink(missing_ok=True)


def write_bytes(path: str | os.PathLike, data: bytes, **options) -> Path:
    """Write ``data`` to ``path`` atomically (options as for :func:`replacing`)."""
    with replacing(path, **options) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8", **options) -> Path:
    """Write ``text`` to ``path`` atomically (options as for :func:`replacing`)."""
    return write_bytes(path, text.encode(encoding), **options)


def write_json(path: str | os.PathLike, data, **options) -> Path:
    """Write ``data`` as indented JSON (anything else as ``str``) to ``path`` atomically."""
    return write_text(path, json.dumps(data, indent=2, default=str), **options)
