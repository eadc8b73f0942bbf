"""Every page embedded as a course site embeds it (`?embed=true`, a 700×500 iframe) and on a 360 px phone:
no sidebar, nothing wider than the screen, and every chart scaled to fit yet still legible.

Opening a page's URL in a viewport of the iframe's size is what the iframe shows (tests/browser/
test_course_page.py loads real iframes from another origin for three examples). Widths are checked on
Streamlit's element containers: a wide table or code block scrolls inside its own box, which is fine;
an element that sticks out of the screen is not.
"""

from __future__ import annotations

import urllib.parse

import pytest

import xent_core as xc
from tests.browser.every_page import PAGES, Page, grow_to_content

pytestmark = pytest.mark.browser

LOSS_NAMES = [urllib.parse.quote_plus(info.name) for info in xc.LOSSES.values()]  # every loss: six panels
IFRAME = {"width": 700, "height": 500}
NARROW_PHONE = {"width": 360, "height": 740}
# A chart drawn on the server is shrunk to the screen's width; at this scale its 10-11 px labels are
# still about 7 px tall, the smallest the charts allow (each is drawn at most ~440 px wide for that).
# A plotly chart is laid out for its container's width instead, so only its edges are checked.
MIN_CHART_SCALE = 0.7

LAYOUT = """() => {
    const width = document.documentElement.clientWidth;
    const main = document.querySelector('[data-testid=stMain]');
    const outside = [];
    for (const box of main.querySelectorAll('[data-testid=stElementContainer]')) {
        const r = box.getBoundingClientRect();
        if (r.width > 0 && (r.left < -1 || r.right > width + 1)) {
            outside.push(`${box.firstElementChild?.dataset.testid}: ${Math.round(r.left)}..${Math.round(r.right)}`);
        }
    }
    const charts = [...main.querySelectorAll('[data-testid=stImage] img, .js-plotly-plot')].map(el => {
        const r = el.getBoundingClientRect();
        return {alt: (el.alt || 'plotly').slice(0, 60), left: r.left, right: r.right, width: r.width,
                natural: el.naturalWidth || null};  // plotly: none, it takes its container's width
    });
    return {width, overflow: document.documentElement.scrollWidth - width, outside, charts};
}"""


def check_layout(page) -> list[str]:
    """What does not fit the screen: element containers outside it, charts cut off or shrunk below MIN_CHART_SCALE."""
    grow_to_content(page)
    seen = page.evaluate(LAYOUT)
    problems = [f"page scrolls sideways by {seen['overflow']} px"] if seen["overflow"] > 1 else []
    problems += [f"outside the screen: {what}" for what in seen["outside"]]
    for chart in seen["charts"]:
        if chart["left"] < -1 or chart["right"] > seen["width"] + 1:
            problems.append(f"chart cut off: {chart['alt']} ({chart['left']:.0f}..{chart['right']:.0f} px)")
        if chart["natural"] and chart["width"] < MIN_CHART_SCALE * chart["natural"] - 1:
            problems.append(f"chart shrunk to {chart['width'] / chart['natural']:.2f}×: {chart['alt']}")
    return problems


@pytest.mark.parametrize("figure", [False, True], ids=["editable", "figure"])
@pytest.mark.parametrize("visit", PAGES, ids=[p.name for p in PAGES])
def test_page_fits_a_course_iframe_without_its_sidebar(app, visit, figure):
    """Each page as a course site embeds it: editable, or as a read-only figure (view=figure)."""
    page = app.page
    page.set_viewport_size(IFRAME)
    app.goto(f"{visit.path}?embed=true" + ("&view=figure" if figure else ""), charts=visit.charts)
    page.locator("h1").first.wait_for()
    assert page.get_by_test_id("stSidebar").count() == 0  # and so nothing of the page depends on it
    assert page.get_by_test_id("stExpandSidebarButton").count() == 0
    assert check_layout(page) == []  # (tests/app/test_share.py checks what the figure view hides)
    app.assert_clean()


# the default state of every page, and Compare's other two tabs (a link can open either)
PHONE_VISITS = (
    *PAGES,
    Page(
        "/Compare?tab=Loss+landscape&losses=" + "&losses=".join(LOSS_NAMES), "Compare-landscape", 7
    ),  # its bars and six panels
    Page("/Compare?tab=Binary+%26+multi-label", "Compare-multilabel", 2),
)


@pytest.mark.parametrize("visit", PHONE_VISITS, ids=[p.name for p in PHONE_VISITS])
def test_page_fits_a_360_px_phone(app, visit):
    page = app.page
    page.set_viewport_size(NARROW_PHONE)
    app.goto(visit.path, charts=visit.charts)
    page.locator("h1").first.wait_for()
    assert check_layout(page) == []
    app.assert_clean()
