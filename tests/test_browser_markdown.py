"""User data in a real browser: a table whose file name, column names and values are Markdown
links and images, HTML, Streamlit directives and emphasis is uploaded; the Data and Train
pages (text, warnings, labels, charts) and a link with a malformed ``?run=`` show all of it
as written: no link, image or styled element made from user data exists in the page's DOM.

Skips when no browser can start (a failure with AUTOML_REQUIRE_BROWSER=1).
"""

from __future__ import annotations

import pandas as pd
import pytest

from tests.browser import (
    VIEWPORT,
    AppServer,
    go_to,
    open_app,
    select_option,
    wait_idle,
    wait_title,
)
from tests.evil_text import BOLD, COLOUR, HTML, ICON, IMAGE, LINK

pytestmark = pytest.mark.slow

ANCHOR = '<a href="http://evil.example/h">h</a>'
FILE = f"![f](evil.png) {BOLD} {COLOUR}.csv"
DIRECTIVES = f"{COLOUR} {ICON} :smile:"  # colour, icon and emoji shortcode

# What user data must never become: a link or image pointing at evil.example, an element
# from its HTML, a coloured span from :red[...], an icon from :material/...:, bold text.
FORBIDDEN = """() => {
    const hit = [];
    for (const el of document.querySelectorAll('a, img, image, strong, b, span')) {
        const refs = ['href', 'xlink:href', 'src'].map(a => el.getAttribute(a) || '');
        if (refs.some(v => (v.includes('evil') && !v.startsWith('#')) || v === 'x'))
            hit.push(el.outerHTML.slice(0, 200));
        if (['STRONG', 'B'].includes(el.tagName) && /^(bold|h|v)$/.test(el.textContent))
            hit.push(el.outerHTML.slice(0, 200));
        if (el.tagName === 'SPAN' && /color|stMarkdownColored/.test(
                (el.getAttribute('style') || '') + (el.className.baseVal ?? el.className))
                && /^big$/.test(el.textContent))
            hit.push(el.outerHTML.slice(0, 200));
        if (el.getAttribute('data-testid') === 'stIconMaterial' && el.textContent === 'home')
            hit.push(el.outerHTML.slice(0, 200));
    }
    return hit;
}"""


@pytest.fixture
def server(tmp_path):
    with AppServer(tmp_path / "runs", log_path=tmp_path / "streamlit.log") as srv:
        yield srv


def assert_nothing_rendered(page) -> None:
    wait_idle(page)
    page.wait_for_timeout(500)  # charts draw after the script run
    found = page.evaluate(FORBIDDEN)
    assert not found, found


def test_user_data_is_never_rendered_as_markdown_or_html(chromium, server, tmp_path):
    n = 60
    frame = pd.DataFrame({
        LINK: [float(i % 7) for i in range(n)],
        IMAGE: [(LINK, IMAGE, COLOUR, HTML, BOLD, ICON)[i % 6] for i in range(n)],
        ANCHOR: [('<a href="http://evil.example/v">v</a>', "<b>bold</b>")[i % 2]
                 for i in range(n)],
        DIRECTIVES: ["same"] * n,
        "y": ["yes", "no"] * (n // 2),
    })
    csv = tmp_path / FILE
    frame.to_csv(csv, index=False)
    context, page = open_app(chromium, server.url, viewport=VIEWPORT)
    try:
        page.locator('[data-testid="stFileUploader"] input[type="file"]').first \
            .set_input_files(csv)
        page.locator('[data-testid="stSidebar"]').get_by_text(FILE).wait_for()
        main = page.locator('[data-testid="stMain"]')
        main.get_by_role("heading", name=FILE).wait_for()  # the subheader, as written
        main.get_by_text(DIRECTIVES).first.wait_for()  # a profile warning quotes it
        assert_nothing_rendered(page)
        for column in (IMAGE, ANCHOR):  # bar charts of the values, titled with the name
            select_option(page, "Chart of column", column)
            main.locator('[data-testid="stPlotlyChart"]').first.wait_for()
            assert_nothing_rendered(page)

        go_to(page, "Train")
        main.get_by_text(DIRECTIVES).first.wait_for()  # the "Flagged" caption
        select_option(page, "Target (the column to predict)", DIRECTIVES)
        page.get_by_role("button", name="Start search").click()
        main.locator('[data-testid="stAlertContentError"]').first.wait_for()
        assert DIRECTIVES in main.locator(
            '[data-testid="stAlertContentError"]').first.inner_text()
        assert_nothing_rendered(page)

        page.goto(f"{server.url}/?run=[x](http://evil.example/r)")
        wait_title(page, "Data")
        side = page.locator('[data-testid="stSidebar"]')
        side.get_by_text("is not a run id").wait_for()
        assert "evil" not in side.inner_text()
        assert_nothing_rendered(page)
    finally:
        context.close()
