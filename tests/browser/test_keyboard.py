"""Every control of every page can be reached with the Tab key alone.

A control is a widget's element container (a selectbox, a slider, a data grid, a button...), an
expander's header or a tab bar, holding something enabled that takes focus. The test presses Tab
until it has landed inside every control at least once (or 400 times, and fails). What a closed
expander holds counts once the expander's header is reached: Enter opens it. A group that the
keyboard enters once and then walks with the arrow keys (the buttons of a radio or segmented
control, the tabs of a tab bar, the cells of a grid) counts as reached when any part of it took
the focus: that is how those widgets are meant to be used.
"""

from __future__ import annotations

import pytest

from tests.browser.every_page import PAGES

pytestmark = pytest.mark.browser

MAX_TABS = 400

# Number every control, and every element in it that can take the focus; return what there is to reach.
MARK = """() => {
    const main = document.querySelector('[data-testid=stMain]');
    const focusable = 'input, button, textarea, select, summary, a[href], [tabindex]:not([tabindex="-1"]), '
        + '[role=slider], [contenteditable=true]';
    // custom components (the batch table) draw inside an open shadow root: look in there too
    const deep = (root) => [...root.querySelectorAll(focusable),
        ...[...root.querySelectorAll('*')].filter((el) => el.shadowRoot).flatMap((el) => deep(el.shadowRoot))];
    const groups = [...main.querySelectorAll(
        '[data-testid=stElementContainer], [data-testid=stExpander] summary, [data-testid=stTabs] [role=tablist]')];
    const wanted = [];
    groups.forEach((group, i) => {
        // what a closed expander holds is reached by opening it: its header is a control of its own
        const folded = group.closest('details:not([open])') && !group.matches('summary');
        const candidates = [...(group.matches(focusable) ? [group] : []), ...deep(group)];
        const inside = folded ? [] : candidates
            .filter(el => !el.disabled && el.getAttribute('aria-disabled') !== 'true' && !el.closest('canvas')
                          && el.getClientRects().length > 0);
        if (inside.length === 0) return;
        group.dataset.kbGroup = String(i);
        const label = group.innerText.trim().split('\\n')[0].slice(0, 50)
            || group.querySelector('[aria-label]')?.getAttribute('aria-label')
            || inside.map((el) => el.getAttribute('aria-label')).find(Boolean) || '';
        wanted.push({group: i, what: `${group.firstElementChild?.dataset.testid || group.tagName}: ${label}`});
    });
    return wanted;
}"""

FOCUSED_GROUP = """() => {
    const el = document.activeElement;
    const group = el && el.closest('[data-kb-group]');
    return group ? Number(group.dataset.kbGroup) : (el === document.body ? -1 : -2);
}"""


@pytest.mark.parametrize("visit", [p for p in PAGES if p.path != "/"], ids=[p.name for p in PAGES if p.path != "/"])
def test_every_control_is_reachable_with_the_tab_key(app, visit):
    page = app.page
    app.goto(visit.path, charts=visit.charts)
    page.locator("h1").first.wait_for()
    wanted = page.evaluate(MARK)
    assert len(wanted) >= 3, wanted
    page.locator("h1").first.click()  # start from the top of the page's content
    reached: set[int] = set()
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        reached.add(page.evaluate(FOCUSED_GROUP))
        if {w["group"] for w in wanted} <= reached:
            break
    missing = [w["what"] for w in wanted if w["group"] not in reached]
    assert missing == [], f"not reached with Tab: {missing}"
    app.assert_clean()
