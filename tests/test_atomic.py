"""Atomic file writes: a reader sees the old file or the new one, never a half-written one,
and many threads writing one file at once do not get in each other's way."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from automl.atomic import replacing, write_json, write_text
from automl.explain.explanation import Explanation


def _together(n: int, work) -> list[Exception]:
    """Run ``work(i)`` in ``n`` threads released at the same moment; the errors raised."""
    barrier, errors = threading.Barrier(n), []

    def go(i):
        barrier.wait()
        try:
            work(i)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "status.json"
    write_json(path, {"state": "running"})
    with pytest.raises(RuntimeError), replacing(path) as tmp:
        tmp.write_text("{half")
        raise RuntimeError("the writer died")
    assert path.read_text() == '{\n  "state": "running"\n}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["status.json"]


def test_the_written_file_follows_the_umask_not_the_temporary_files_0600(tmp_path):
    path = write_text(tmp_path / "report.html", "<p>hi</p>")
    assert path.stat().st_mode & 0o777 == 0o666 & ~_umask()
    assert write_text(tmp_path / "secret", "x", mode=0o600).stat().st_mode & 0o777 == 0o600


def _umask() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("Umask:"):
            return int(line.split()[1], 8)
    raise AssertionError("no Umask line")


def test_threads_writing_one_report_at_once_never_fail(tmp_path):
    from automl.report import write_report

    path = tmp_path / "report.html"
    texts = [f"<html>{i}</html>" * 2000 for i in range(16)]
    assert _together(16, lambda i: write_report(texts[i], path)) == []
    assert path.read_text() in texts
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_threads_saving_one_explanation_at_once_never_fail(tmp_path):
    from automl.explain import cache

    features = pd.DataFrame({"a": np.arange(50.0), "b": np.arange(50.0)})
    e = Explanation(values=np.ones((50, 2, 1)), base=np.zeros(1), prediction=np.full((50, 1), 2.0),
                    data=features, columns=["a", "b"], outputs=["y"], units="value",
                    task="regression", classes=[], target="y", method="exact", n_total=50)
    path = tmp_path / "explain" / "entry.npz"
    assert _together(16, lambda i: cache._save(path, e, features)) == []
    with np.load(path, allow_pickle=False) as z:
        assert z["values"].shape == (50, 2, 1)
    assert [p.name for p in path.parent.iterdir()] == ["entry.npz"]
