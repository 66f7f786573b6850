"""Numbers stored as text and infinities: made numbers, reported, or refused."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from automl.data import Kind, load_table
from automl.errors import NonNumericValuesError
from tests.data_files import write

# --- numbers stored as text, infinities -------------------------------------------------------


def _mostly_numbers(tmp_path: Path) -> Path:
    values = [str(i * 1.5) for i in range(30)]
    values[4], values[17] = "abc", "n.a."
    return write(tmp_path, "n.csv", "x,label\n" + "".join(f"{v},k{i}\n" for i, v in
                                                        enumerate(values)))


def test_junk_in_numeric_column_raises_with_examples(tmp_path):
    with pytest.raises(NonNumericValuesError) as err:
        load_table(_mostly_numbers(tmp_path))
    msg = str(err.value)
    assert "Column 'x'" in msg and "2 value(s)" in msg
    assert "row 5 ('abc')" in msg and "row 18 ('n.a.')" in msg
    assert "coerce_numbers=True" in msg


def test_coerce_numbers_blanks_junk_and_warns(tmp_path):
    t = load_table(_mostly_numbers(tmp_path), coerce_numbers=True)
    assert pd.api.types.is_float_dtype(t.frame["x"])
    assert t.frame["x"].isna().sum() == 2
    assert t.frame["x"].iloc[3] == 4.5
    assert t.schema["x"].kind is Kind.NUMERIC
    assert any("'x'" in w and "2 value(s)" in w for w in t.warnings)


def test_text_column_with_few_numbers_stays_text(tmp_path):
    body = "".join(f"{i},{'7' if i == 0 else 'cat' + str(i % 3)}\n" for i in range(30))
    t = load_table(write(tmp_path, "c.csv", "id,animal\n" + body))
    assert t.frame["animal"].iloc[0] == "7"
    assert t.schema["animal"].kind is Kind.CATEGORICAL


def test_numbers_padded_with_spaces_become_numeric(tmp_path):
    t = load_table(write(tmp_path, "p.csv", 'a,b\n" 1 ",x\n" 2",y\n'))
    assert pd.api.types.is_integer_dtype(t.frame["a"])
    assert t.frame["a"].tolist() == [1, 2]


def test_mixed_numbers_and_words_stay_text(tmp_path):
    """The documented rule: under 90% numbers stays text (categorical); 90% or more is a
    numeric column with junk, which raises NonNumericValuesError (see test above)."""
    body = "".join(f"{i},{i if i % 2 else 'word' + str(i % 4)}\n" for i in range(40))
    t = load_table(write(tmp_path, "m.csv", "id,mixed\n" + body))
    assert t.frame["mixed"].tolist()[:3] == ["word0", "1", "word2"]
    assert t.schema["mixed"].kind is Kind.CATEGORICAL


def test_infinite_values_become_missing_with_warning(tmp_path):
    t = load_table(write(tmp_path, "inf.csv",
                         "a,b\n1,inf\n2,-inf\n3,1e400\n4,2.5\n5,-1e400\n6,NaN\n"))
    assert t.frame["b"].isna().tolist() == [True, True, True, False, True, True]
    assert any("'b'" in w and "4 infinite" in w for w in t.warnings)
    assert not any("'a'" in w for w in t.warnings)
