"""An automated accessibility scan of every page (axe-core in the real browser), and a phone-width screenshot of each.

axe-core comes from the npm registry, pinned in ./dev (`ensure_axe`, into $VENV/npm); $XENT_AXE may
name another axe.min.js. Without it the scan is skipped on a developer machine and fails in CI
(CI set), as the other browser tests do without Chromium.

Each page is opened from its URL at desktop size in its default state (open tabs and expanders only:
Streamlit does not render the others) and grown to its full height, because axe leaves the colour
contrast of text outside the viewport "incomplete" instead of checking it. axe then runs with the
WCAG 2.0/2.1/2.2 level A and AA rules, and the test fails on any violation of impact "serious" or
"critical" that the allow-list below does not name. The full results go to
tests/browser/artifacts/axe-<page>.json; the page is then narrowed to a phone (390 px) and
photographed whole: artifacts/phone-<page>.png (gitignored).
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.browser.conftest import ARTIFACTS, _missing
from tests.browser.every_page import PAGES, grow_to_content, settle
from tests.browser.harness import PHONE

pytestmark = pytest.mark.browser

AXE = Path(os.environ.get("XENT_AXE") or Path(sys.prefix) / "npm/node_modules/axe-core/axe.min.js")
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]  # WCAG 2.x, levels A and AA
FAILING_IMPACTS = {"serious", "critical"}


@dataclass(frozen=True)
class Allowed:
    """A violation the app accepts: axe rule `rule`, on an element `el` for which the JavaScript `where` is true."""

    rule: str
    where: str
    reason: str


ALLOWED = (
    Allowed(
        "color-contrast",
        "(el => { const box = el.closest('.stElementContainer');"
        " return !!box && !!box.querySelector('[disabled], [aria-disabled=true]'); })(el)",
        "The greyed-out label of a disabled widget (e.g. Compare's 'Focal γ' slider while focal loss is not picked). "
        "WCAG 1.4.3 sets no contrast minimum for an inactive control, but Streamlit marks only the control as "
        "disabled, not its label, so axe cannot tell.",
    ),
    Allowed(
        "color-contrast",
        "!!el.closest('[data-testid=stCode] .token')",
        "A syntax-highlighting token in an st.code block (e.g. a string, #09ab3b on #f9fafb: 2.9:1). Streamlit owns "
        "that palette: the theme's codeTextColor styles inline code only, and the tokens of a code block are not "
        "themable without custom CSS.",
    ),
)


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.is_file():
        _missing(f"the accessibility scan needs axe-core at {AXE} (./dev test installs it)")
    return AXE.read_text()


# For each selector: is an allow-list entry's `where` true for its element, and where it is: the data-testid
# and st-key-* names of its ancestors and its own text.
INSPECT = """([selectors, wheres]) => selectors.map((s) => {
    const GENERIC = ['stScreencast', 'stApp', 'stAppViewContainer', 'stMainBlockContainer', 'stVerticalBlock',
                     'stElementContainer', 'stMarkdown', 'stLayoutWrapper', 'stHorizontalBlock'];
    const el = document.querySelector(s);
    if (!el) return {allowed: false, where: '(gone)', text: ''};
    const allowed = wheres.some((w) => new Function('el', 'return ' + w)(el));
    const names = [];
    for (let a = el; a; a = a.parentElement) {
        const key = [...a.classList].find((c) => c.startsWith('st-key-'));
        const id = a.getAttribute('data-testid');
        if (key) names.push(key);
        else if (id && !GENERIC.includes(id)
                 && id !== names[names.length - 1]) names.push(id);
    }
    return {allowed, where: names.reverse().join(' > '), text: (el.innerText || el.textContent).trim().slice(0, 70)};
})"""


def unexpected(page, violations: list[dict]) -> list[str]:
    """One line per element of a serious or critical violation that no allow-list entry takes:
    'rule (impact) in <where>: "<text>" <details>'."""
    out = []
    for v in violations:
        if v["impact"] not in FAILING_IMPACTS:
            continue
        wheres = [a.where for a in ALLOWED if a.rule == v["id"]]
        seen = page.evaluate(INSPECT, [[node["target"][-1] for node in v["nodes"]], wheres])
        for node, el in zip(v["nodes"], seen, strict=True):
            if not el["allowed"]:
                out.append(f'{v["id"]} ({v["impact"]}) in {el["where"]}: "{el["text"]}" {details(node)}')
    return out


def details(node: dict) -> str:
    """axe's measurements for a node: colours and contrast for color-contrast, else its failure summary."""
    for check in node.get("any", []):
        data = check.get("data") or {}
        if isinstance(data, dict) and "contrastRatio" in data:
            ratio, needed = data["contrastRatio"], data["expectedContrastRatio"]
            return f"({data['fgColor']} on {data['bgColor']}: {ratio}:1, needs {needed})"
    return "(" + re.sub(r"\s+", " ", node.get("failureSummary", ""))[:200] + ")"


@pytest.mark.parametrize("visit", PAGES, ids=[p.name for p in PAGES])
def test_page_accessibility(app, axe_source, visit):
    """No serious or critical WCAG 2 A/AA violation outside the allow-list; a phone-width screenshot of the page."""
    page = app.page
    app.goto(visit.path, charts=visit.charts)
    page.locator("h1").first.wait_for()
    grow_to_content(page)
    page.add_script_tag(content=axe_source)
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", TAGS
    )
    (ARTIFACTS / f"axe-{visit.name}.json").write_text(
        json.dumps({k: results[k] for k in ("testEngine", "url", "violations", "incomplete")}, indent=1)
    )
    found = unexpected(page, results["violations"])

    page.set_viewport_size(PHONE)
    settle(page)
    app.wait_ready(charts=visit.charts)
    app.screenshot(f"phone-{visit.name}.png")
    app.assert_clean()
    assert found == [], "\n".join(found)
