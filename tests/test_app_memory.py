"""Many users over time: the app's memory returns near its baseline after 100 sessions.

Each session loads its own table (a fresh copy, as an upload would be), opens the app on
its Data page (the table's profile), and goes away. The Python heap is measured with
tracemalloc (not RSS, which the allocator keeps), after a warm-up that fills the bounded
caches and imports.
"""

from __future__ import annotations

import gc
import tracemalloc

import pandas as pd
import pytest

from automl.data import load_table
from pages._shared.ui import SessionData
from tests.apptest import WAGES, app

SESSIONS = 100
WARM_UP = 20  # more than the largest cache's bound (16 profiles)
# Each session's table is 30,000 rows (0.6 MB): one left behind per session would add 60 MB.
GROWTH_LIMIT_MB = 16


def _session(i: int) -> None:
    frame = pd.concat([load_table(WAGES).frame] * 10, ignore_index=True).assign(session=i)
    from automl.data import Table, infer_schema

    table = Table(frame, infer_schema(frame), f"upload-{i}.csv", [], f"hash-{i}")
    at = app(state=SessionData(table=table, target_hint="wage"))  # the Data page: profile
    assert not at.exception


@pytest.mark.slow
def test_memory_returns_near_its_baseline_after_100_sessions():
    for i in range(WARM_UP):  # imports, page modules, and the caches up to their bounds
        _session(i)
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for i in range(SESSIONS):
            _session(1_000 + i)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    growth = (after - base) / 2**20
    print(f"heap growth over {SESSIONS} sessions: {growth:.2f} MB")
    assert growth < GROWTH_LIMIT_MB, f"the heap grew {growth:.1f} MB over {SESSIONS} sessions"
