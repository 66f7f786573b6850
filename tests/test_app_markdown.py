"""User data is shown as written, never as Markdown: a real run on a table whose column names,
category values, class labels and source name are links, images, HTML, Streamlit colour and
icon directives and emphasis. Every page is drawn with AppTest and every string that Streamlit
renders as Markdown (text elements, alerts, captions, widget labels and help) is checked."""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import pytest
from google.protobuf.message import Message

import automl
from automl.data import load_table
from automl.runs import Run
from pages._shared.show import md_escape
from pages._shared.ui import SessionData
from tests.apptest import app
from tests.evil_text import BOLD, COLOUR, HTML, ICON, IMAGE, LINK

CONSTANT = "![c](http://evil.example/c.png) same"
TARGET = f"{BOLD} y"
CLASSES = ("[yes](http://evil.example/y)", ":red[no]")
SOURCE = f"![s](evil.png) {BOLD} {COLOUR}.csv"  # no "/": a file name keeps no folder
# Substrings that would render as a link, image, HTML, colour, icon or bold if left raw.
RAW = ("](http", "<img", ":red[", BOLD, ICON)
# Fields whose text Streamlit draws as plain text, and elements that draw no Markdown.
PLAIN_FIELDS = {"id", "form_id", "icon", "url", "placeholder", "default", "value", "format",
                "language", "code_text", "spec", "deploy_params"}
PLAIN_ELEMENTS = {"json", "code", "arrow_data_frame", "plotly_chart", "text", "selectbox",
                  "multiselect"}
LABELLED = {"selectbox", "multiselect"}  # plain options, but a Markdown label and help


def evil_table():
    rng = np.random.default_rng(0)
    n = 120
    signal = rng.normal(size=n)
    frame = pd.DataFrame({
        LINK: signal,
        IMAGE: [(LINK, IMAGE, COLOUR, HTML, BOLD, ICON)[i % 6] for i in range(n)],
        f"{COLOUR} {ICON}": rng.normal(size=n),
        HTML: rng.normal(size=n),
        CONSTANT: ["same"] * n,
        TARGET: np.where(signal + rng.normal(scale=0.5, size=n) > 0, *CLASSES),
    })
    return load_table(io.BytesIO(frame.to_csv(index=False).encode()), name=SOURCE)


@pytest.fixture(scope="module")
def evil(tmp_path_factory) -> tuple[object, Run]:
    table = evil_table()
    result = automl.train(table, TARGET, time_budget=40, max_trials=3, cv_folds=3,
                          families=["linear"], runs_dir=tmp_path_factory.mktemp("runs"))
    return table, Run(result.run_dir)


def markdown_strings(at) -> list[tuple[str, str]]:
    """(element type, text) for every string of the page that Streamlit renders as Markdown."""
    found = []

    def strings(msg: Message, kind: str):
        for field, value in msg.ListFields():
            if field.name in PLAIN_FIELDS or (kind in LABELLED and field.name == "options"):
                continue
            for v in value if isinstance(value, list | tuple) or hasattr(value, "extend") \
                    else [value]:
                if isinstance(v, Message):
                    strings(v, kind)
                elif isinstance(v, str):
                    found.append((kind, v))

    def walk(node):
        kind, proto = getattr(node, "type", ""), getattr(node, "proto", None)
        if isinstance(proto, Message) and (kind not in PLAIN_ELEMENTS or kind in LABELLED):
            strings(proto, kind)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return found


def assert_literal(at) -> str:
    """No raw payload in any Markdown string of the page, and no HTML tag from user data in
    a chart (Plotly draws tags in its text); returns the Markdown strings, joined."""
    for chart in at.get("plotly_chart"):
        spec = chart.proto.spec
        assert "<img" not in spec and "<a " not in spec, spec[:300]
    texts = markdown_strings(at)
    bad = [(kind, t) for kind, t in texts
           if any(re.search(r"(?<!\\)" + re.escape(r), t) for r in RAW)]
    assert not bad, "\n".join(map(repr, bad))
    return "\n".join(t for _, t in texts)


def test_md_escape_keeps_every_markdown_and_directive_character_literal():
    assert md_escape("total_day_minutes = $5 *x*") == r"total_day_minutes = \$5 \*x\*"
    assert md_escape(LINK) == r"\[x\](http\://evil.example/a)"
    assert md_escape(":red[big] :material/home: :smile:") == \
        r"\:red\[big\] \:material\/home\: \:smile\:"
    assert md_escape(HTML) == r"\<img src=x onerror=alert(1)\>"
    assert md_escape("__init__ _x_ www.evil.example a@b.example &amp;") == \
        r"\_\_init\_\_ \_x\_ www\.evil.example a\@b.example \&amp;"
    assert md_escape("a\n# b\r\n- c") == "a # b - c"  # user data never starts a line
    for start, escaped in [("# h", r"\# h"), ("- l", r"\- l"), ("1. n", r"1\. n"),
                           ("> q", r"\> q"), ("  + l", r"  \+ l")]:
        assert md_escape(start) == escaped
    for plain in ("total_day_minutes", "été 42", "a.b (c) - d, e!", "x_1 = 3"):
        assert md_escape(plain) == plain  # a widget label is also its aria-label


def test_safe_figure_escapes_user_tags_in_titles_ticks_and_legends():
    import plotly.graph_objects as go

    from automl.plots.safe import safe_figure

    fig = go.Figure(go.Bar(x=np.array(['<a href="http://evil">v</a>', "R&D"], dtype=object),
                           y=[1, 2], name="<b>n</b>", customdata=["<keep>", "x"],
                           hovertemplate=f"{HTML} %{{y}}<br>more<extra></extra>"))
    fig.update_layout(title=f"How {HTML} moves it", xaxis_title='<a href="http://evil">t</a>')
    safe = safe_figure(fig)
    bar = safe["data"][0]
    assert list(bar["x"]) == ['&lt;a href="http://evil"&gt;v&lt;/a&gt;', "R&amp;D"]
    assert bar["name"] == "&lt;b&gt;n&lt;/b&gt;"
    assert bar["hovertemplate"] == ("&lt;img src=x onerror=alert(1)&gt; %{y}<br>more"
                                    "<extra></extra>")  # the project's own tags stay
    assert list(bar["customdata"]) == ["<keep>", "x"]  # not drawn: what a click returns
    assert safe["layout"]["title"]["text"] == "How &lt;img src=x onerror=alert(1)&gt; moves it"
    assert "<a" not in safe["layout"]["xaxis"]["title"]["text"]
    go.Figure(safe)  # still a valid figure


@pytest.mark.slow
def test_every_page_shows_user_data_literally(evil, monkeypatch):
    table, run = evil
    monkeypatch.setenv("AUTOML_RUNS_DIR", str(run.path.parent))
    state = SessionData(table=table, run_ids=[run.id], current_run_id=run.id,
                        owner_tokens={})

    at = app(state=state)  # Data page and the sidebar
    joined = assert_literal(at)
    assert at.subheader[0].value == md_escape(SOURCE)
    assert f"**{md_escape(SOURCE)}**" in joined  # the sidebar's table line
    assert md_escape(CONSTANT) in joined  # a profile warning quotes the column

    at = app("train", state=state)
    at.selectbox(key="train_target").select(TARGET).run()
    joined = assert_literal(at)
    assert f"**{md_escape(CONSTANT)}**" in joined  # "Flagged: ..." caption
    at.selectbox(key="train_target").select(CONSTANT).run()
    at.button(key="start_search").click().run()  # refused: the message quotes the column
    assert md_escape(CONSTANT) in "\n".join(e.value for e in at.error)
    assert_literal(at)

    for page in ("results", "model", "runs"):
        at = app(page, state=state, run_id=run.id)
        assert not at.exception, (page, at.exception)
        assert_literal(at)
    assert md_escape(TARGET) in assert_literal(app("model", state=state, run_id=run.id))

    at = app("evaluate", state=state, run_id=run.id)
    joined = assert_literal(at)
    assert any(md_escape(c) in joined for c in CLASSES)  # the threshold slider's label

    at = app("explain", state=state, run_id=run.id)
    joined = assert_literal(at)
    assert md_escape(LINK) in joined  # a what-if widget's label and the sentences


@pytest.mark.slow
def test_the_html_report_shows_user_data_as_text(evil):
    from automl.report import run_report

    _, run = evil
    html = run_report(run)
    assert "<img src=x" not in html  # escaped in the tables and sentences
    # and in the charts' JSON, where "<" is written \u003c: as it is, Plotly would draw a tag
    assert "\\u003cimg src=x" not in html
    assert '"&lt;img src=x onerror=alert(1)&gt;"' in html  # a tick label, drawn as text
