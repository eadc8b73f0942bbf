"""The app in a real browser: direct links, edits in the data editor, bound widgets, shared URLs, embedding.

Expected losses come from torch's F.cross_entropy (float64) on the known inputs, never from the app.
Screenshots go to tests/browser/artifacts/ (gitignored).
"""

from __future__ import annotations

import base64
import html
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import xent_core as xc
from tests.browser.harness import PHONE, batch_table, type_into_cell, wait_ready
from ui import nav, state

pytestmark = pytest.mark.browser

SEED42 = xc.PRESETS["seed42"].logits.astype(np.float64)
SEED42_TARGETS = [0, 1, 0, 2, 2, 0]
# What tutorials print for torch.manual_seed(42)'s 6 x 3 batch (and torch recomputes below).
SEED42_PER_SAMPLE = ["0.3527", "3.9384", "1.9770", "0.2251", "1.3451", "0.1635"]
SEED42_MEAN = "1.3336"
EMBEDDED = "[data-testid=stApp].streamlit-embedded"  # Streamlit's embed mode (?embed=true)
LOGIT_COL0 = 3  # the batch table's columns: row number, target, ignore, class 0, class 1, ...


def page_path(script: str) -> str:
    """The URL path Streamlit gives a page script: / for the main one, /Playground for pages/1_Playground.py."""
    if "/" not in script:
        return "/"
    return "/" + re.sub(r"^\d+_", "", script.rsplit("/", 1)[1].removesuffix(".py"))


def torch_loss(logits, target, *, reduction="mean", label_smoothing=0.0, weight=None, ignore_index=-100) -> str:
    """torch's loss for these inputs, as the page prints it (4 decimals; 'none' summed like the page)."""
    out = F.cross_entropy(
        torch.tensor(np.asarray(logits, dtype=np.float64)),
        torch.tensor(target, dtype=torch.long),
        weight=None if weight is None else torch.tensor(weight, dtype=torch.float64),
        ignore_index=ignore_index,
        reduction=reduction,
        label_smoothing=label_smoothing,
    )
    return f"{float(out.sum()):.4f}"


def reduction(page, name: str):
    """The option `name` of the reduction's segmented control (a radio group, one option always chosen)."""
    return page.locator(".st-key-reduction").get_by_role("radio", name=name, exact=True)


def reduction_shown(page) -> str:
    """The reduction the segmented control shows as chosen (exactly one is)."""
    (chosen,) = page.locator(".st-key-reduction [role=radio][aria-checked=true]").all_inner_texts()
    return chosen


def query(page) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(page.url).query).items()}


def wait_query(page, key: str, value: str | None) -> None:
    """Wait until the address bar's query parameter `key` is `value` (None: absent)."""
    page.wait_for_function("([k, v]) => new URLSearchParams(location.search).get(k) === v", arg=[key, value])


def editor_logits(page) -> list[list[float]]:
    """The logits in the batch table's cells (full precision)."""
    return [[float(x) for x in row[LOGIT_COL0:]] for row in batch_table(page)[1]]


def chart_svg(page, nth: int) -> str:
    """The SVG document of the page's `nth` chart (an st.image showing a data: URL)."""
    src = page.get_by_test_id("stImage").nth(nth).locator("img").get_attribute("src")
    assert src.startswith("data:image/svg+xml;base64,")
    return base64.b64decode(src.split(",", 1)[1]).decode()


def bar_labels(page) -> list[str]:
    """The per-sample losses printed on the loss chart's bars (top to bottom), checked against its alt text."""
    labels = re.findall(r">(\d+\.\d{4})</text>", chart_svg(page, 1))
    alt = page.get_by_test_id("stImage").nth(1).locator("img").get_attribute("alt")
    assert re.findall(r"row \d+: ([^;]+)", alt) == labels
    return labels


def horizontal_extent(page) -> dict:
    """Widths of the document and of Streamlit's scrolling main area, and elements that stick out of the viewport
    (outside any element that scrolls horizontally itself, such as the data grids)."""
    return page.evaluate(
        """() => {
            const vw = document.documentElement.clientWidth;
            const main = document.querySelector('[data-testid=stMain]');
            const scrolls = (el) => ['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(el).overflowX);
            const outside = [];
            for (const el of document.querySelectorAll('[data-testid=stMain] *')) {
                const r = el.getBoundingClientRect();
                if (r.width === 0 || r.right <= vw + 1) continue;
                let a = el.parentElement, clipped = false;
                while (a && a !== main) { if (scrolls(a)) { clipped = true; break; } a = a.parentElement; }
                const name = `${el.tagName}.${el.getAttribute('data-testid') || el.className}`.slice(0, 80);
                if (!clipped) outside.push(`${name} right=${Math.round(r.right)}`);
            }
            return {viewport: vw, document: document.documentElement.scrollWidth,
                    main: main.scrollWidth, main_client: main.clientWidth, outside: outside.slice(0, 10)};
        }"""
    )


# ---------------------------------------------------------------------------------------------- tests


def test_playground_direct_link(app):
    """A direct link on a fresh server: the seed-42 batch, its per-sample losses and mean, torch's agreement."""
    per_sample = F.cross_entropy(torch.tensor(SEED42), torch.tensor(SEED42_TARGETS), reduction="none")
    assert [f"{v:.4f}" for v in per_sample.tolist()] == SEED42_PER_SAMPLE  # the oracle agrees with the quotes
    assert torch_loss(SEED42, SEED42_TARGETS) == SEED42_MEAN

    app.goto("/Playground")
    page = app.page
    assert app.metric() == ("Loss (mean)", SEED42_MEAN)
    assert bar_labels(page) == SEED42_PER_SAMPLE
    headers, rows = batch_table(page, "Step by step, one row per sample")
    loss_col = headers.index("loss")
    assert [float(row[loss_col]) for row in rows] == [float(v) for v in SEED42_PER_SAMPLE]
    assert [row[1] for row in batch_table(page)[1]] == [f"class {t}" for t in SEED42_TARGETS]
    assert editor_logits(page) == SEED42.tolist()
    badge = page.get_by_test_id("stAlertContentSuccess")  # Streamlit's green st.success box
    assert f"PyTorch agrees: F.cross_entropy gives {SEED42_MEAN}" in badge.inner_text()
    assert page.get_by_test_id("stImage").count() == 3
    app.screenshot("playground-desktop.png")
    app.assert_clean()


@pytest.mark.parametrize(
    "script", [script for script, *_ in nav.PAGES if "Playground" not in script]
)  # the playground has its own test above
def test_page_direct_link(app, script):
    """Every other page of the sidebar opens cleanly from a direct URL (each page's first run on this
    server, as after a deploy): a title, no console error, no failed request, no exception."""
    path = page_path(script)
    app.goto(path, charts=0)
    page = app.page
    title = page.locator("h1").first
    title.wait_for()
    app.wait_ready(charts=0)
    if path == "/":
        assert title.inner_text() == "Cross-entropy, explained by doing"
        links = page.get_by_test_id("stMain").get_by_test_id("stPageLink")
        assert links.filter(has_text="Playground").count() == 1
    assert urlsplit(page.url).path == path
    app.screenshot(f"page-{path.strip('/') or 'home'}-desktop.png")
    app.assert_clean()


def test_landing_link_then_bound_options(app):
    """The landing page's link opens the playground; the reduction selectbox and the smoothing slider
    (moved with the keyboard) change the loss to torch's and write themselves into the URL."""
    app.goto("/", charts=0)
    page = app.page
    link = page.get_by_test_id("stMain").get_by_role("link", name=re.compile("Playground"))
    link.click()
    page.wait_for_url(re.compile(r"/Playground"))
    app.wait_ready()
    assert app.metric() == ("Loss (mean)", SEED42_MEAN)
    assert "reduction" not in query(page)  # a bound option at its default stays out of the URL

    reduction(page, "sum").click()
    expected_sum = torch_loss(SEED42, SEED42_TARGETS, reduction="sum")
    app.wait_metric(expected_sum)
    assert app.metric() == ("Loss (sum)", expected_sum)
    wait_query(page, "reduction", "sum")

    slider = page.get_by_test_id("stSlider").filter(has_text="Label smoothing")
    slider.get_by_role("slider").focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    expected = torch_loss(SEED42, SEED42_TARGETS, reduction="sum", label_smoothing=0.03)
    app.wait_metric(expected)
    assert slider.get_by_test_id("stSliderThumbValue").inner_text() == "0.03"
    assert app.metric() == ("Loss (sum)", expected)
    wait_query(page, "smoothing", "0.03")
    params = query(page)
    assert params["reduction"] == "sum"
    assert state.decode_query(params).logits.tolist() == SEED42.tolist()  # the batch is still in the URL

    reduction(page, "mean").click()
    app.wait_metric(torch_loss(SEED42, SEED42_TARGETS, label_smoothing=0.03))
    wait_query(page, "reduction", None)  # back at its default: out of the URL
    app.assert_clean()


def test_edit_share_embed(app, open_app):
    """Typing into the batch table (committed with Enter, then with Tab) reruns the loss, checked against torch,
    and writes the URL; the page's share link matches it, and the page's iframe snippet (embed=true),
    put into another page, shows the same batch and loss."""
    app.goto("/Playground")
    page = app.page
    type_into_cell(page, 0, "class 0", "-1.25")  # row 0's target class
    edited = SEED42.copy()
    edited[0, 0] = -1.25
    expected = torch_loss(edited, SEED42_TARGETS)
    assert expected != SEED42_MEAN
    app.wait_metric(expected)
    page.wait_for_function("() => new URLSearchParams(location.search).get('z')?.startsWith('-1.25,')")

    type_into_cell(page, 3, "class 2", "7.5", commit="Tab")  # row 3's target class
    edited[3, 2] = 7.5
    expected = torch_loss(edited, SEED42_TARGETS)
    app.wait_metric(expected)
    badge = page.get_by_test_id("stAlertContentSuccess").inner_text()
    assert f"PyTorch agrees: F.cross_entropy gives {expected}" in badge
    assert editor_logits(page) == edited.tolist()
    page.wait_for_function("() => new URLSearchParams(location.search).get('z')?.split(';')[3]?.endsWith(',7.5')")
    assert state.decode_query(query(page)).logits.tolist() == edited.tolist()
    assert page.locator(EMBEDDED).count() == 0
    app.screenshot("playground-after-edit.png")
    app.assert_clean()

    sharing = page.get_by_test_id("stExpander").filter(has_text="Share / embed")
    sharing.locator("summary").click()
    codes = sharing.get_by_test_id("stCode")
    codes.nth(1).wait_for()
    link, snippet = (code.inner_text().strip() for code in codes.all())
    assert link == page.url  # what the address bar shows (bound options at their defaults are left out)
    assert link == f"{app.base_url}/Playground?{urlencode(state.encode_query(state.decode_query(query(page))))}"
    src = html.unescape(re.fullmatch(r'<iframe src="([^"]+)".*</iframe>', snippet, re.DOTALL).group(1))
    assert src == f"{link}&embed=true&embed_options=light_theme"

    host = open_app()  # a course page with the snippet in it
    host.expect_direct_load(src)
    host.page.set_content(f"<!doctype html><title>A course page</title><body>{snippet}</body>")
    frame = host.page.locator("iframe").element_handle().content_frame()
    wait_ready(frame)
    assert frame.get_by_test_id("stMetricValue").inner_text() == expected
    assert editor_logits(frame) == edited.tolist()
    assert frame.locator(EMBEDDED).count() == 1
    assert frame.get_by_test_id("stException").count() == 0
    host.screenshot("embedded-iframe.png")
    host.assert_clean()


def test_paste_a_block_and_a_bad_cell(app):
    """A block pasted from a spreadsheet (tab-separated, one line per row) fills the cells from the one it
    lands in; text typed into a cell is named in a message and marked, and the loss uses its last valid
    value; Escape undoes typing that was not committed."""
    app.goto("/Playground")
    page = app.page
    cell = page.get_by_role("textbox", name="row 1, class 1", exact=True)
    cell.click()
    cell.evaluate(
        """(el, text) => {
            const data = new DataTransfer();
            data.setData('text/plain', text);
            el.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));
        }""",
        "1\t2\n3\t4\n",
    )
    edited = SEED42.copy()
    edited[1:3, 1:3] = [[1, 2], [3, 4]]
    app.wait_metric(torch_loss(edited, SEED42_TARGETS))
    assert editor_logits(page) == edited.tolist()

    type_into_cell(page, 0, "class 2", "1,5")  # a decimal comma: not a number here
    page.get_by_test_id("stAlertContentError").wait_for()
    app.wait_ready()
    assert "row 0, column 'class 2': '1,5' is not a number" in page.get_by_test_id("stAlertContentError").inner_text()
    assert page.get_by_role("textbox", name="row 0, class 2", exact=True).get_attribute("aria-invalid") == "true"
    assert app.metric()[1] == torch_loss(edited, SEED42_TARGETS)  # the last valid value of that cell

    other = page.get_by_role("textbox", name="row 4, class 0", exact=True)
    other.click()
    other.fill("9")
    page.keyboard.press("Escape")
    assert other.input_value() == str(SEED42[4, 0])  # the value with every digit, as the cell showed it when focused
    app.screenshot("playground-paste-and-bad-cell.png")
    app.assert_clean()


def test_choices_checkboxes_arrows_and_a_new_example(app):
    """A target chosen, a row ignored, a cell committed with the down arrow: each reruns the loss as
    torch computes it; the next cell shows every digit while focused. Loading an example rebuilds
    the table with no edits left over."""
    app.goto("/Playground")
    page = app.page
    targets = list(SEED42_TARGETS)
    page.get_by_role("combobox", name="row 0, target", exact=True).select_option("class 1")
    targets[0] = 1
    app.wait_metric(torch_loss(SEED42, targets))

    page.get_by_role("checkbox", name="row 2, ignore", exact=True).check()
    ignored = [t if r != 2 else -100 for r, t in enumerate(targets)]
    app.wait_metric(torch_loss(SEED42, ignored))

    edited = SEED42.copy()
    edited[4, 0] = 2.0
    type_into_cell(page, 4, "class 0", "2", commit="ArrowDown")
    app.wait_metric(torch_loss(edited, ignored))
    below = page.get_by_role("textbox", name="row 5, class 0", exact=True)
    assert below.evaluate("el => el.getRootNode().activeElement === el")
    assert float(below.input_value()) == SEED42[5, 0]  # every digit, not the 4 shown
    page.keyboard.press("Enter")  # the last row: nothing below, nothing changed, nothing sent
    assert below.input_value() == str(SEED42[5, 0])
    rows = batch_table(page)[1]
    assert [row[1:3] for row in rows[:3]] == [["class 1", "false"], ["class 1", "false"], ["class 0", "true"]]
    assert page.locator("td.edited").count() == 3  # the three cells changed are tinted

    page.get_by_role("combobox", name="Example").click()
    page.get_by_role("option", name=re.compile("^Cat vs dog")).click()
    cat_dog = xc.PRESETS["cat_dog"]
    app.wait_metric(torch_loss(cat_dog.logits, cat_dog.target.tolist()))
    assert editor_logits(page) == cat_dog.logits.tolist()
    assert page.locator("td.edited").count() == 0
    app.assert_clean()


def test_shared_link_restores_state(app):
    """A link built with the app's own URL encoding (cat/dog, one row ignored, class weights, sum, ε = 0.1)
    shows that batch, those options, and torch's loss for them."""
    preset = state.batch_from_preset("cat_dog")
    ignored, weight = np.array([False, True, False]), np.array([2.0, 0.5])
    batch = state.Batch(preset.logits, preset.target, preset.class_names, ignored=ignored, weight=weight)
    params = state.encode_query(batch) | {"reduction": "sum", "smoothing": "0.1"}
    assert {"ignore": "1", "w": "2,0.5"}.items() <= params.items()
    app.goto(f"/Playground?{urlencode(params)}")
    target = np.where(ignored, -100, batch.target).tolist()
    expected = torch_loss(batch.logits, target, reduction="sum", label_smoothing=0.1, weight=weight)
    plain = torch_loss(batch.logits, batch.target.tolist(), reduction="sum", label_smoothing=0.1)
    assert expected != plain
    page = app.page
    assert app.metric() == ("Loss (sum)", expected)
    headers, rows = batch_table(page)
    assert headers[LOGIT_COL0:] == ["cat", "dog"]
    assert [row[1:3] for row in rows] == [["cat", "false"], ["cat", "true"], ["dog", "false"]]
    assert editor_logits(page) == batch.logits.tolist()
    assert page.get_by_role("switch", name="Class weights").is_checked()
    assert [float(x) for x in batch_table(page, "Class weights")[1][0][1:]] == weight.tolist()
    assert reduction_shown(page) == "sum"
    smoothing = page.get_by_test_id("stSlider").filter(has_text="Label smoothing")
    assert smoothing.get_by_test_id("stSliderThumbValue").inner_text() == "0.10"
    assert f"F.cross_entropy gives {expected}" in page.get_by_test_id("stAlertContentSuccess").inner_text()
    assert query(page) == params  # nothing rewritten or dropped
    app.assert_clean()


@pytest.mark.parametrize(
    ("bad_query", "reason"),
    [
        pytest.param("z=1,2;3", "rows have different lengths", id="ragged-rows"),
        pytest.param("z=1,2;x,4", "'x' is not a number", id="not-a-number"),
        pytest.param(
            "preset=nope&reduction=median&smoothing=abc&temperature=99",
            "preset 'nope', which does not exist",
            id="unknown-preset-and-options",
        ),
    ],
)
def test_malformed_link_falls_back(app, bad_query, reason):
    """A broken link gives a warning that says what is wrong, and the default example; never an exception.
    Bound options that their widgets cannot take are named in a second warning and dropped from the URL."""
    app.goto(f"/Playground?{bad_query}")
    page = app.page
    for key in ("reduction", "smoothing", "temperature"):
        wait_query(page, key, None)
    assert reduction_shown(page) == "mean"
    warnings = page.get_by_test_id("stAlertContentWarning").all_inner_texts()
    assert any("This link could not be read" in text and reason in text for text in warnings), warnings
    bound = [k for k in ("reduction", "smoothing", "temperature") if f"{k}=" in bad_query]
    options = [text for text in warnings if "Parts of this link could not be read" in text]
    assert len(warnings) == 1 + bool(bound), warnings
    assert all(f"'{key}'" in options[0] for key in bound), warnings
    assert app.metric() == ("Loss (mean)", SEED42_MEAN)
    app.assert_clean()


@pytest.mark.parametrize("path", ["/", "/Playground"])
def test_phone_width(app, path):
    """At 390 px (a phone) nothing sticks out sideways: no horizontal scrolling of the page."""
    app.page.set_viewport_size(PHONE)
    app.goto(path, charts=0 if path == "/" else 3)
    app.page.locator("h1").first.wait_for()
    widths = horizontal_extent(app.page)
    assert widths["document"] <= PHONE["width"], widths
    assert widths["main"] <= widths["main_client"], widths
    assert widths["outside"] == [], widths
    app.screenshot(f"phone-390-{path.strip('/') or 'home'}.png")
    app.assert_clean()
