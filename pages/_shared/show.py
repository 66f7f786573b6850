"""Display helpers shared by the pages: sample data sets, scores, leaderboards, charts, and
:func:`md_escape` for any user data shown in an element that renders Markdown."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from automl.data import Table, load_table
from automl.plots.safe import safe_figure

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_data"
_TARGET_NAMES = ("target", "label", "class", "y", "outcome", "churn", "status", "result")
# CommonMark's backslash escape before what could start Markdown: emphasis, code, links and
# images, HTML, maths, strikethrough, entities; "_" only where it is not inside a word;
# ":" before a letter or "/" or after a word (Streamlit's :red[...], :material/...: and
# :emoji: shortcodes, http:// autolinks); "@" (e-mail autolinks) and "www." autolinks; a
# heading, quote or list marker at the start. Snake_case names or "a.b" stay as they are,
# so a widget's label (which is also its aria-label) reads as the column's name.
_SPECIAL = re.compile(r"[\\`*\[\]<>$~@]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])|:(?=[A-Za-z/])"
                      r"|(?<=[\w+-]):|&(?=#?\w+;)|(?<=\bwww)\.|(?<=:material)/"
                      r"|^\s*(?:[#>+=-]|\d+[.)])", re.IGNORECASE)


def md_escape(text) -> str:
    """``text`` shown as written by every element that renders Markdown (st.markdown,
    captions, alerts, toasts, titles, widget labels and help): links, images, HTML,
    emphasis, code, maths, autolinks and Streamlit's directives stay literal. Line breaks
    become spaces, so user data never starts a line of its own."""
    return _SPECIAL.sub(_backslash, " ".join(str(text).splitlines()))


def _backslash(m: re.Match) -> str:
    s = m[0]
    if s[-1] in ".)" and s.strip()[:-1].isdigit():  # "1." or "2)" opening a numbered list
        return s[:-1] + "\\" + s[-1]
    lead = len(s) - len(s.lstrip())
    return s[:lead] + "\\" + s[lead:]


def error(e: Exception | str) -> None:
    """An error message (engine messages quote column names and values) as written."""
    st.error(md_escape(e))


@dataclass(frozen=True)
class Sample:
    file: str
    task: str
    source: str
    licence: str
    target: str | None


def samples() -> list[Sample]:
    """The bundled data sets, described by the table in sample_data/README.md."""
    text = (SAMPLE_DIR / "README.md").read_text(encoding="utf-8")
    found = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        m = re.fullmatch(r"`([^`]+\.csv)`", cells[0]) if len(cells) >= 5 else None
        if m and (SAMPLE_DIR / m[1]).is_file():
            target = re.search(r"`([^`]+)`", cells[1])
            found[m[1]] = Sample(m[1], cells[1].replace("`", ""), cells[3].replace("*", ""),
                                 cells[4], target[1] if target else None)
    for path in sorted(SAMPLE_DIR.glob("*.csv")):  # a CSV the README does not describe yet
        found.setdefault(path.name, Sample(path.name, "", "", "see sample_data/README.md", None))
    return sorted(found.values(), key=lambda s: s.file)


@st.cache_data(show_spinner="Loading sample data…")
def load_sample(file: str) -> Table:
    """A bundled sample (the same for every session, so safe to cache)."""
    return load_table(SAMPLE_DIR / file)


def suggest_target(columns: list[str], hint: str | None = None) -> str:
    """The documented target, else a column named like a target, else the last column."""
    if hint in columns:
        return hint
    for name in _TARGET_NAMES:
        for c in columns:
            if str(c).lower() == name:
                return c
    return columns[-1]


def score(value) -> str:
    return "–" if value is None or pd.isna(value) else f"{value:.4f}"


def board_view(board: pd.DataFrame, titles: dict[str, str]) -> pd.DataFrame:
    """The leaderboard as shown: family titles, mean ± std as text, params as text."""
    view = board.copy()
    view["family"] = view["family"].map(lambda f: titles.get(f, f))
    view.insert(4, "mean ± std", [f"{score(m)} ± {score(s)}"
                                  for m, s in zip(view["score"], view["std"], strict=True)])
    view["params"] = view["params"].map(lambda p: ", ".join(f"{k.split('__', 1)[-1]}={v:.4g}"
                                                            if isinstance(v, float)
                                                            else f"{k.split('__', 1)[-1]}={v}"
                                                            for k, v in (p or {}).items()))
    return view.rename(columns={"fit_s": "fit (s)", "predict_ms_per_1k": "predict (ms/1k rows)",
                                "size_kb": "size (kB)"})


def chart(c) -> None:
    """Draw an automl.plots.Chart, or say why there is none."""
    if c.figure is None:
        st.info(md_escape(c.reason))
        return
    st.plotly_chart(safe_figure(c.figure), width="stretch")  # user text never as HTML
    if c.note:
        st.caption(md_escape(c.note))
