"""Every page of the app as the accessibility scan and scripts/screenshots.py visit it, and whole-page helpers.

`PAGES` follows the sidebar (ui/nav.py), so a new page is visited as soon as it is in the navigation;
its number of charts (what `wait_ready` waits for) must then be added to `CHARTS`, or `PAGES` fails
to build.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from ui import nav

# Charts each page draws in its default state: server-drawn SVG images (st.image) or plotly charts.
CHARTS = {"/": 0, "/Playground": 3, "/Compare": 2, "/Training": 3, "/Pitfalls": 1, "/Images": 4, "/Information": 4}
MAX_HEIGHT = 8000  # px; the tallest page's default state is under half of that at 390 px wide


class Page(NamedTuple):
    path: str  # the URL path: / or /Playground
    name: str  # for file names: home, Playground, ...
    charts: int


def page_path(script: str) -> str:
    """The URL path Streamlit gives a page script: / for the main one, /Playground for pages/1_Playground.py."""
    if "/" not in script:
        return "/"
    return "/" + re.sub(r"^\d+_", "", script.rsplit("/", 1)[1].removesuffix(".py"))


def _pages() -> tuple[Page, ...]:
    paths = [page_path(script) for script, *_ in nav.PAGES]
    if missing := [p for p in paths if p not in CHARTS]:
        raise KeyError(f"tests/browser/every_page.py: add the number of charts of {missing} to CHARTS")
    return tuple(Page(p, p.strip("/") or "home", CHARTS[p]) for p in paths)


PAGES = _pages()


def settle(page) -> None:
    """Wait two animation frames: the layout and paint after a resize are done."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def grow_to_content(page) -> None:
    """Make the viewport as tall as the page's content (Streamlit scrolls inside stMain), then let it settle."""
    height = page.evaluate(
        "() => Math.max(document.documentElement.scrollHeight,"
        " document.querySelector('[data-testid=stMain]')?.scrollHeight || 0)"
    )
    page.set_viewport_size({"width": page.viewport_size["width"], "height": min(int(height), MAX_HEIGHT)})
    settle(page)
