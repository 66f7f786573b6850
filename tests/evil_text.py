"""User data that would render as something else if the app or a report let Markdown or HTML
through: a link, an image, a Streamlit colour directive, an HTML element, bold text, an icon."""

from __future__ import annotations

__all__ = ["BOLD", "COLOUR", "HTML", "ICON", "IMAGE", "LINK"]

LINK = "[x](http://evil.example/a)"
IMAGE = "![i](http://evil.example/i.png)"
COLOUR = ":red[big]"
HTML = "<img src=x onerror=alert(1)>"
BOLD = "**bold**"
ICON = ":material/home:"
