"""Helpers of the Explain page: cached explanations, picking a row (by index, by searching,
by clicking a chart) and the what-if form. Widget keys start with ``explain_``."""

from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd
import streamlit as st

from automl.data.schema import Kind
from automl.explain import Explanation, explain_run, run_explainer, run_features, words
from automl.runs import Run
from pages._shared.show import md_escape

WHAT_IF_COLUMNS = 12  # the most important columns get a widget; the rest keep their values
MATCHES = 100  # search results listed at most
MAX_OPTIONS = 500  # more categories than this get a text box instead of a select box


def say(*sentences: str) -> None:
    """Write generated sentences (they quote column names and values, shown as written):
    one as a paragraph, several as a list."""
    text = [md_escape(t) for t in sentences]
    st.markdown(text[0] if len(text) == 1 else "\n".join(f"- {t}" for t in text))


@st.cache_data(show_spinner="Explaining the model on a sample of its rows…", max_entries=8)
def global_explanation(run_dir: str, saved_at: float) -> Explanation:
    """The run's global explanation (also cached on disk in the run folder)."""
    return explain_run(Run(run_dir))


@st.cache_data(show_spinner=False, max_entries=8)
def features(run_dir: str, saved_at: float) -> pd.DataFrame:
    """The run's table without its target: the rows to pick from."""
    return run_features(Run(run_dir))


def explain_rows(run: Run, rows: pd.DataFrame) -> Explanation:
    """Explain a few rows with the run's explainer (kept in memory; one row takes ms)."""
    return run_explainer(run).explain(rows)


@st.cache_data(show_spinner="Searching the rows…", max_entries=32)
def matching_rows(run_dir: str, saved_at: float, text: str) -> list[int]:
    """:func:`find_rows` in the run's table, remembered per search text."""
    return find_rows(features(run_dir, saved_at), text)


def find_rows(frame: pd.DataFrame, text: str, limit: int = MATCHES) -> list[int]:
    """Positions of the rows where some cell contains ``text`` (ignoring case)."""
    text = text.strip().lower()
    if not text:
        return []
    hit = np.zeros(len(frame), dtype=bool)
    for column in frame.columns:
        hit |= frame[column].astype(str).str.lower().str.contains(text, regex=False).to_numpy()
    return [int(p) for p in np.flatnonzero(hit)[:limit]]


def describe_row(frame: pd.DataFrame, pos: int, n: int = 4) -> str:
    """ "row 12: KS, 128, area_code_415, no, …" for a select box of matches."""
    values = [words.value_text(v) for v in frame.iloc[pos].to_numpy()[:n]]
    return f"row {pos}: " + ", ".join(values) + (", …" if frame.shape[1] > n else "")


def pick_row(key: str, frame: pd.DataFrame, event) -> None:
    """Make the row clicked in a chart (``event`` of st.plotly_chart) the chosen row, once
    per click (a selection stays in the event on later reruns)."""
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    label = points[0].get("customdata") if points else None
    if isinstance(label, list):
        label = label[0] if label else None
    seen = f"{key}:clicked"
    if label is None or st.session_state.get(seen) == label:
        return
    st.session_state[seen] = label
    with contextlib.suppress(KeyError, TypeError):
        st.session_state[key] = int(frame.index.get_loc(label))


def follow_search(row_key: str, search_key: str, frame: pd.DataFrame) -> None:
    """Callback of the search box: jump to the first matching row."""
    found = find_rows(frame, str(st.session_state.get(search_key) or ""), limit=1)
    if found:
        st.session_state[row_key] = found[0]


def follow_match(row_key: str, match_key: str) -> None:
    """Callback of the matches' select box: show the chosen row."""
    if st.session_state.get(match_key) is not None:
        st.session_state[row_key] = int(st.session_state[match_key])


def what_if_form(run: Run, frame: pd.DataFrame, pos: int, order: list[str]) -> pd.DataFrame:
    """A form with a widget per important column, prefilled with row ``pos``'s values.
    Returns the row as edited (the original until the form is submitted)."""
    schema = run_explainer(run).model.schema
    row = frame.iloc[[pos]].copy()
    shown = order[:WHAT_IF_COLUMNS]
    with st.form("explain_whatif"):
        cells = st.columns(3)
        values = {}
        for n, column in enumerate(shown):
            key = f"explain_whatif:{run.id}:{pos}:{column}"
            with cells[n % 3]:
                values[column] = _widget(column, schema[column].kind, frame[column],
                                         row[column].iloc[0], key)
        st.form_submit_button("Show the new prediction", type="primary")
    if len(order) > len(shown):
        st.caption(f"The other {len(order) - len(shown)} columns keep this row's values.")
    for column, value in values.items():
        row[column] = [np.nan if value is None or value == "" else value]
        if pd.api.types.is_datetime64_any_dtype(frame[column]):
            row[column] = pd.to_datetime(row[column], errors="coerce")
    return row


def _widget(column: str, kind: Kind, values: pd.Series, current, key: str):
    missing = pd.isna(current) if np.ndim(current) == 0 else False
    if kind == Kind.NUMERIC:
        integer = pd.api.types.is_integer_dtype(values)
        value = None if missing else (int(current) if integer else float(current))
        return st.number_input(md_escape(column), value=value, step=1 if integer else None,
                               format=None if integer else _float_format(values), key=key)
    if kind in (Kind.CATEGORICAL, Kind.BOOLEAN):
        options = list(pd.unique(values.dropna()))
        if len(options) <= MAX_OPTIONS:
            options = sorted(options, key=lambda v: (str(type(v)), v))
            if missing or current not in options:
                options = [None if missing else current, *options]
            index = options.index(None if missing else current)
            return st.selectbox(md_escape(column), options, index=index,
                                format_func=words.value_text,
                                key=key)
    return st.text_input(md_escape(column), value="" if missing else words.value_text(current),
                         key=key)


def _float_format(values: pd.Series) -> str:
    """As many decimals as the column's values need (1 to 6)."""
    sample = values.dropna().to_numpy(dtype=float)[:500]
    for decimals in range(1, 7):
        if np.allclose(np.round(sample, decimals), sample, rtol=0, atol=1e-9):
            return f"%.{decimals}f"
    return "%.6f"
