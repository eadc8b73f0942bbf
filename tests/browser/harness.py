"""The real-browser harness, shared by the browser tests (conftest.py here) and bench/browser.py.

  * `app_server()`: `streamlit run app.py` on a free port of the loopback interface, headless,
    with no file watcher (others may edit files during a run: no "source changed" banner).
  * `launch_chromium()`: Debian's /usr/bin/chromium (or $XENT_CHROMIUM) through Playwright's
    `executable_path`, never a browser downloaded by `playwright install`.
  * `wait_ready()`: waiting for a finished script run; `select_cell()`: driving st.data_editor's
    canvas grid (bench/browser.py's reference page; our pages' tables are ui/grid.py's, driven by
    `type_into_cell()` and read by `batch_table()`).

Playwright is imported only where a browser is launched, so that importing this module (pytest's
doctest collection does) works without it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("XENT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-sync",
    "--disable-component-update",
    "--no-first-run",
]
SERVER_START_TIMEOUT = 60.0  # s; a cold start imports streamlit, numpy and plotly on a busy 2-core box
# The page has finished its script run (the status widget itself appears only after a delay).
READY = "[data-testid=stApp][data-test-script-state=notRunning]"
DESKTOP = {"width": 1400, "height": 1000}
PHONE = {"width": 390, "height": 844}
HEADER_PX = 35  # the height of a data grid's header row and of each of its rows (Streamlit's defaults)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


class ServerError(RuntimeError):
    """The app server did not come up; the message ends with the tail of its log."""


@contextlib.contextmanager
def app_server(
    log_path: Path | None = None,
    *,
    timeout: float = SERVER_START_TIMEOUT,
    script: Path = ROOT / "app.py",
    cwd: Path = ROOT,
) -> Iterator[str]:
    """Run `streamlit run <script>` (the app by default) on a free loopback port until the block ends;
    yields its base URL. Streamlit reads its settings from `cwd`/.streamlit (the app's, by default).

    The server's output goes to `log_path` (a temporary file if None). Raises ServerError if the
    server exits or is not healthy within `timeout` seconds.
    """
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",  # loopback only
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
    ]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with open(log_path, "w+") if log_path else tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while not _healthy(f"http://127.0.0.1:{port}/_stcore/health"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise ServerError(f"streamlit did not start (exit code {proc.poll()}):\n{log.read()[-3000:]}")
                time.sleep(0.1)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def launch_chromium(playwright):
    """Debian's Chromium, headless, through a running `sync_playwright()`."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


# A drawn chart: a plotly chart, or one of the app's server-drawn SVG charts (an st.image whose image has loaded).
CHARTS_DRAWN = """n => {
  const plotly = [...document.querySelectorAll('.js-plotly-plot')].filter((p) => p.querySelector('.main-svg'));
  const images = [...document.querySelectorAll('[data-testid=stImage] img')].filter((i) => i.naturalWidth);
  return plotly.length + images.length >= n;
}"""


def wait_ready(page, *, charts: int = 3) -> None:
    """Wait until at least `charts` charts are drawn, the script run has finished, and every element is drawn
    (no skeleton: the frontend loads some elements' code on first use and shows a placeholder until then)."""
    if charts:
        page.wait_for_function(CHARTS_DRAWN, arg=charts)
    page.wait_for_selector(READY, state="attached")
    page.wait_for_function("() => !document.querySelector('[data-testid^=stSkeleton]')")


def select_cell(page, col: int, row: int, *, grid: int = 0) -> None:
    """Select cell (col, row) of the `grid`-th data grid on the page: a click into the row, then arrow keys.

    glide-data-grid draws on a canvas, but keeps an accessibility table inside it whose cells
    (`td#glide-cell-<col>-<row>`, column 0 being the row index) carry aria-selected. The click goes
    to the row's last column (its position follows from the fixed row height); a click that lands
    while the grid's hover toolbar appears is dropped, so it is repeated until a cell of the row is
    selected. (The keyboard alone cannot start a selection once the mouse has moved on the page.)
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    canvas = page.get_by_test_id("stDataFrame").nth(grid).get_by_test_id("data-grid-canvas")
    target = canvas.locator(f"td#glide-cell-{col}-{row}[aria-selected=true]")
    if target.count():
        return
    in_row = canvas.locator(f"tr[aria-rowindex='{row + 2}'] td[aria-selected=true]")  # aria rows count from 1
    box = canvas.bounding_box()
    x, y = box["x"] + box["width"] - 25, box["y"] + HEADER_PX * (row + 1.5)
    page.mouse.move(x, y, steps=5)
    for attempt in range(3):
        page.mouse.click(x, y)
        try:
            in_row.wait_for(state="attached", timeout=1500)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
    current = int(in_row.get_attribute("id").split("-")[2])  # glide-cell-<col>-<row>
    for _ in range(abs(current - col)):
        page.keyboard.press("ArrowLeft" if current > col else "ArrowRight")
    target.wait_for(state="attached")


BATCH_TABLE = "Logits and targets"  # the aria-label of the playground's and comparison's batch table (ui/grid.py)

_READ_TABLE = """table => {
    const value = (cell) => {
        const control = cell.querySelector('input, select');
        if (!control) return cell.textContent;
        if (control.type === 'checkbox') return String(control.checked);
        return control.tagName === 'SELECT' ? control.value : control.dataset.full;
    };
    return [[...table.tHead.rows[0].cells].map((th) => th.textContent),
            [...table.tBodies[0].rows].map((tr) => [...tr.cells].map(value))];
}"""


def batch_table(page, label: str = BATCH_TABLE) -> tuple[list[str], list[list[str]]]:
    """(headers, rows) of one of the batch's tables (ui/grid.py), found by its aria-label; each row starts
    with its row number. A number cell gives its value with every digit (or as typed), a choice the
    option chosen, a checkbox "true" or "false"."""
    table = page.locator(f'table[aria-label="{label}"]')
    table.wait_for()
    return table.evaluate(_READ_TABLE)


def type_into_cell(page, row: int, column: str, text: str, *, commit: str = "Enter") -> None:
    """Click the batch table's cell (`row`, class `column`), replace its text with `text`, and commit
    it with the key `commit` (Enter moves down a row, Tab to the next cell)."""
    cell = page.get_by_role("textbox", name=f"row {row}, {column}", exact=True)
    cell.click()
    cell.fill(text)
    page.keyboard.press(commit)
