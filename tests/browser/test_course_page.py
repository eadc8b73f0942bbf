"""examples/course_page.html in a real browser: a static course page on another origin embeds three examples.

The page is served by Python's http.server from a thread, on a free loopback port, and opened as
http://localhost:<port>/course_page.html?app=<the test server>: `localhost` against the app's
127.0.0.1 makes it another origin and another site, as a course site would be (the page-level
console and network listeners of tests/browser/conftest.py's AppPage see the iframes' events too).
The page is loaded once for the module; each test checks one iframe, the last one the console,
the network and a screenshot (tests/browser/artifacts/course-page.png, gitignored).

Expected numbers come from xent_core on the presets the links name, and are compared with the
documented ones where the course page quotes them (0.6931, 0.0202, 2.3026; 0.9488; 1.3336).
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import numpy as np
import pytest

import xent_core as xc
from tests.browser.conftest import AppPage
from tests.browser.harness import ROOT, wait_ready

pytestmark = pytest.mark.browser

EXAMPLES = ROOT / "examples"
EMBEDDED = "[data-testid=stApp].streamlit-embedded"  # Streamlit's embed mode (?embed=true)
LINK_WARNING = "This link could not be read"  # what a page says when it falls back from a link
CAT_DOG = xc.PRESETS["cat_dog"]
FORUM = xc.PRESETS["probs_as_logits"]  # the forum's 1x3x2x2 probabilities, fed to cross_entropy as logits
SEED42 = xc.PRESETS["seed42"]  # the pages' default batch
COMPARED = ("ce", "mse", "sigmoid")  # the losses the third iframe's link picks (by their names)
FRAME_CHARTS = (3, 3, 2)  # charts per iframe: playground (probabilities, losses, gradient); compare (bars, sweep)


def shown(x: float) -> str:
    """A number as the pages print it (4 decimals)."""
    return f"{float(x):.4f}"


class _Handler(SimpleHTTPRequestHandler):
    """The examples folder, quietly; /favicon.ico is 204 No Content (a course site has one, this folder not)."""

    def do_GET(self):
        if self.path.split("?")[0] == "/favicon.ico":
            self.send_response(204)
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, format, *args):  # the request log would clutter pytest's output
        pass


@contextlib.contextmanager
def static_site() -> Iterator[str]:
    """examples/ on a free loopback port, served from a thread; yields its base URL as http://localhost:<port>."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(EXAMPLES)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def course(context, base_url) -> Iterator[tuple[AppPage, list]]:
    """The course page pointed at the test server (?app=), every iframe loaded and ready: (page, frames)."""
    with static_site() as site:
        host = AppPage(context.new_page(), base_url)
        try:
            host.page.goto(f"{site}/course_page.html?app={quote(base_url, safe='')}")
            yield host, [_ready_frame(host, n, charts) for n, charts in enumerate(FRAME_CHARTS)]
        finally:
            host.page.close()


def _ready_frame(host: AppPage, n: int, charts: int):
    """The course page's nth iframe, once it shows the app and its page is ready (`charts` charts drawn)."""
    iframes = host.page.locator("iframe")
    assert iframes.count() == len(FRAME_CHARTS)
    iframe = iframes.nth(n)
    src = iframe.get_attribute("src")
    assert src.startswith(f"{host.base_url}/"), src  # the ?app= parameter was taken
    host.expect_direct_load(src)
    iframe.scroll_into_view_if_needed()  # the iframes load lazily
    frame = iframe.element_handle().content_frame()
    frame.wait_for_url(re.compile("^" + re.escape(host.base_url + "/")))
    wait_ready(frame, charts=charts)
    return frame


def metrics(frame) -> dict[str, str]:
    """Every st.metric in the frame: label -> value, in page order."""
    return frame.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('[data-testid=stMetric]')].map(m => [
            m.querySelector('[data-testid=stMetricLabel]').innerText.trim(),
            m.querySelector('[data-testid=stMetricValue]').innerText.trim()]))"""
    )


def assert_embedded(frame) -> None:
    """Streamlit's embed mode, no sidebar (nor its toggle), no exception block, no fallback from a bad link."""
    assert frame.locator(EMBEDDED).count() == 1
    assert frame.get_by_test_id("stSidebar").count() == 0
    assert frame.get_by_test_id("stSidebarCollapsedControl").count() == 0
    assert frame.get_by_test_id("stException").count() == 0
    warnings = frame.get_by_test_id("stAlertContentWarning").all_inner_texts()
    assert not [w for w in warnings if LINK_WARNING in w], warnings


def test_unsure_right_wrong(course):
    """1. The cat/dog preset as a read-only figure: its mean loss, and the per-sample losses the caption
    quotes (0.6931, 0.0202, 2.3026) on the loss chart; no editor."""
    _, frames = course
    frame = frames[0]
    per_sample = xc.cross_entropy(CAT_DOG.logits, CAT_DOG.target, reduction="none")
    assert [shown(v) for v in per_sample] == [shown(v) for v in CAT_DOG.expected["per_sample"]]

    assert_embedded(frame)
    assert frame.locator("h1").first.inner_text() == "Cross-entropy playground"
    assert metrics(frame) == {"Loss (mean)": shown(xc.cross_entropy(CAT_DOG.logits, CAT_DOG.target))}
    alt = frame.get_by_test_id("stImage").nth(1).locator("img").get_attribute("alt")  # the loss per sample
    assert re.findall(r"row \d+: (\d+\.\d{4})", alt) == [shown(v) for v in per_sample]
    assert frame.get_by_test_id("stButton").filter(has_text="Random batch").count() == 0  # view=figure
    assert frame.get_by_test_id("stExpander").filter(has_text="Batch setup").count() == 0


def test_probabilities_as_logits(course):
    """2. The forum's probabilities, passed to cross_entropy as logits: 0.9488, and the app's note that the
    rows look like probabilities (the note xent_core's advise() gives for them)."""
    _, frames = course
    frame = frames[1]
    loss = xc.cross_entropy(FORUM.logits, FORUM.target)
    assert shown(loss) == shown(FORUM.expected["cross_entropy_mean"])  # 0.9488
    (note,) = (a.message for a in xc.advise(FORUM.logits) if a.code == "probabilities_as_logits")

    assert_embedded(frame)
    assert shown(loss) in metrics(frame).values()
    notes = frame.get_by_test_id("stAlertContentInfo").all_inner_texts()
    assert any(note in text for text in notes), notes


def test_why_not_mse(course):
    """3. The comparison with exactly cross-entropy, MSE on softmax and the sigmoid loss, on the default
    (seed-42) batch, with the 'Sweep one sample' tab open and its chart drawn."""
    _, frames = course
    frame = frames[2]
    logits = SEED42.logits.astype(np.float64)
    results = xc.compare_losses(logits, SEED42.target, list(COMPARED), xc.LossOptions())
    assert shown(results["ce"].mean) == "1.3336"  # the documented seed-42 mean

    assert_embedded(frame)
    assert frame.locator("h1").first.inner_text() == "Why cross-entropy? Compare the losses"
    assert metrics(frame) == {f"{xc.LOSSES[k].name} (mean)": shown(results[k].mean) for k in COMPARED}
    assert frame.get_by_role("tab", selected=True).inner_text() == "Sweep one sample"
    assert frame.get_by_test_id("stImage").count() == FRAME_CHARTS[2]


def test_course_page_is_clean(course):
    """The page took the app's address from ?app=, every iframe came up without a console error, a page error
    or a failed request (bar the two probes Streamlit makes on a direct page URL), and a screenshot."""
    host, frames = course
    assert [f.url.split("?")[0] for f in frames] == [f"{host.base_url}/{p}" for p in ("Playground",) * 2 + ("Compare",)]
    assert all("embed=true" in f.url for f in frames)
    host.screenshot("course-page.png")
    host.assert_clean()
