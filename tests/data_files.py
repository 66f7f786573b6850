"""Small tables and files for the data tests: a file written from text or bytes, a frame with
one column of each kind, and real data (sklearn's breast cancer table)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer

__all__ = ["cancer", "small_frame", "write"]


def write(tmp_path: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def small_frame() -> pd.DataFrame:
    """3 rows: integers, text with a missing value, floats with a NaN, booleans."""
    return pd.DataFrame({"id": [1, 2, 3], "city": ["Köln", "Lyon", None],
                         "temp": [3.5, np.nan, 20.0], "flag": [True, False, True]})


def cancer(n: int | None = None) -> pd.DataFrame:
    """Real data: sklearn's breast cancer table, names without spaces."""
    data = load_breast_cancer(as_frame=True).frame
    data.columns = [c.replace(" ", "_") for c in data.columns]
    return data.iloc[:n, [0, 1, 2, 3, 4, 5, -1]] if n else data.iloc[:, [0, 1, 2, 3, 4, 5, -1]]
