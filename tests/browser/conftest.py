"""Real-browser fixtures: one `streamlit run` server per session, Debian's Chromium driven by Playwright.

The browser is Debian's /usr/bin/chromium (or $XENT_CHROMIUM), never one downloaded by
`playwright install`. Without it the browser tests are skipped on a developer machine, but fail
in CI (where the environment variable CI is set), so a broken CI image cannot pass silently.

Everything runs on the loopback interface: the server binds 127.0.0.1 on a free port.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.browser.harness import CHROMIUM, DESKTOP, ServerError, app_server, launch_chromium, wait_ready

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"  # screenshots and the server log (gitignored)
TIMEOUT_MS = 30_000  # Playwright's default wait; the first page of a session also pays torch's import
NOT_FOUND = "Failed to load resource: the server responded with a status of 404 (Not Found)"


def _missing(reason: str) -> None:
    """Skip on a developer machine; fail in CI (CI set), so that a broken CI image cannot pass silently."""
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def base_url() -> Iterator[str]:
    """The app (`streamlit run app.py`) on a free loopback port for the whole session; its log is in artifacts/."""
    if not Path(CHROMIUM).exists():
        _missing(f"the browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        with app_server(ARTIFACTS / "server.log") as url:
            yield url
    except ServerError as err:
        pytest.fail(str(err), pytrace=False)


@pytest.fixture(scope="session")
def browser(base_url):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the browser tests need playwright (pip install -r requirements-dev.txt)")
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def context(browser):
    """One browser context for the session: its HTTP cache keeps the frontend's JavaScript across pages.

    Each test still gets a fresh page, and so a fresh Streamlit session (state lives per websocket).
    """
    ctx = browser.new_context(viewport=DESKTOP)
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


@dataclass
class AppPage:
    """A Playwright page on the app, with the console and network log the tests assert on."""

    page: object  # playwright.sync_api.Page
    base_url: str
    console_errors: list[tuple[str, str]] = field(default_factory=list)  # (text, resource URL)
    page_errors: list[str] = field(default_factory=list)
    failed_responses: list[tuple[int, str]] = field(default_factory=list)
    known_probes: set[str] = field(default_factory=set)

    def __post_init__(self):
        def on_console(msg):
            if msg.type == "error":
                self.console_errors.append((msg.text, msg.location.get("url", "")))

        self.page.on("console", on_console)
        self.page.on("pageerror", lambda err: self.page_errors.append(str(err)))
        self.page.on("response", lambda r: r.status >= 400 and self.failed_responses.append((r.status, r.url)))

    def goto(self, path_and_query: str, *, charts: int = 3) -> None:
        """Open a URL directly (a fresh load) and wait until the script run is done and `charts` charts exist."""
        url = self.base_url + path_and_query
        self.expect_direct_load(url)
        self.page.goto(url)
        self.wait_ready(charts=charts)

    def expect_direct_load(self, url: str) -> None:
        """Tolerate the two requests that Streamlit's frontend, loaded directly on a page's URL, gets 404 for.

        Opened on /<Page>, the frontend first asks for /<Page>/_stcore/health and
        /<Page>/_stcore/host-config (relative to the page URL), gets 404 for both (Chromium logs
        "Failed to load resource" for each), then asks at the root, which works. That is the
        framework, not this app, so exactly these two URLs are tolerated.
        """
        page_name = urlsplit(url).path.strip("/").split("/")[0]
        if page_name:
            base = f"{self.base_url}/{page_name}/_stcore"
            self.known_probes |= {f"{base}/health", f"{base}/host-config"}

    def wait_ready(self, *, charts: int = 3) -> None:
        wait_ready(self.page, charts=charts)

    def metric(self) -> tuple[str, str]:
        """(label, value) of the loss metric."""
        m = self.page.get_by_test_id("stMetric")
        return m.get_by_test_id("stMetricLabel").inner_text().strip(), m.get_by_test_id("stMetricValue").inner_text()

    def wait_metric(self, value: str) -> None:
        """Wait until the loss metric shows `value` and the rerun that produced it has finished."""
        self.page.wait_for_function(
            "v => document.querySelector('[data-testid=stMetricValue]')?.innerText.trim() === v", arg=value
        )
        self.wait_ready()

    def unexpected_errors(self) -> list[str]:
        """Console errors, page errors and failed requests, except the two known probes of a direct page URL."""
        tolerated = {url for status, url in self.failed_responses if status == 404 and url in self.known_probes}
        out = [f"HTTP {status} {url}" for status, url in self.failed_responses if url not in tolerated]
        out += [
            f"console: {text} ({url})"
            for text, url in self.console_errors
            if not (text == NOT_FOUND and url in tolerated)
        ]
        out += [f"page error: {err}" for err in self.page_errors]
        return out

    def assert_clean(self) -> None:
        """No console error, page error or failed request (bar the known probes), and no exception block."""
        assert self.unexpected_errors() == []
        exceptions = self.page.get_by_test_id("stException")
        assert exceptions.count() == 0, exceptions.all_inner_texts()

    def screenshot(self, name: str) -> Path:
        """The whole page (Streamlit scrolls inside stMain, so the viewport is grown to fit it first)."""
        page = self.page
        size = page.viewport_size
        height = page.evaluate(
            "() => Math.max(document.documentElement.scrollHeight,"
            " document.querySelector('[data-testid=stMain]')?.scrollHeight || 0)"
        )
        path = ARTIFACTS / name
        page.set_viewport_size({"width": size["width"], "height": min(int(height), 8000)})
        try:
            page.wait_for_timeout(300)  # let plotly and the grid settle after the resize
            page.screenshot(path=str(path))
        finally:
            page.set_viewport_size(size)
        return path


@pytest.fixture
def open_app(context, base_url) -> Iterator[Callable[[], AppPage]]:
    """A factory of fresh pages (each a new Streamlit session), closed at the end of the test."""
    pages: list[AppPage] = []

    def make() -> AppPage:
        pages.append(AppPage(context.new_page(), base_url))
        return pages[-1]

    yield make
    for app_page in pages:
        app_page.page.close()


@pytest.fixture
def app(open_app) -> AppPage:
    return open_app()
