"""Screenshots of every page for the README, taken in the real browser: docs/screens/<page>.png.

    .venv/bin/python -m scripts.screenshots [--out docs/screens] [--width 1400] [--only Playground ...]

It starts the app as the browser tests do (tests/browser/harness.py: `streamlit run app.py` on a
free loopback port, headless) and opens each page of the sidebar, in its default state, from a
direct URL in Debian's Chromium (never a browser that Playwright downloads) at desktop size. Once
the script run is done and the page's charts are drawn (tests/browser/every_page.py says how many),
the window is grown to the page's full height and the page's content is saved: Streamlit's main
block with a small margin, without the sidebar, the header bar or the empty padding around it.
A page that does not come up fails the run (exit code 1) and leaves the other PNGs as they were.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tests.browser.every_page import PAGES, grow_to_content
from tests.browser.harness import DESKTOP, ROOT, app_server, launch_chromium, wait_ready

MARGIN = 24  # px of background kept around the content
HIDE_HEADER = "[data-testid=stHeader] { display: none !important; }"  # the app's top bar and its menu button

# The content box of the main block (its bounding box less its padding), widened by `margin` and kept inside stMain.
CONTENT_BOX = """margin => {
    const block = document.querySelector('[data-testid=stMainBlockContainer]');
    const main = document.querySelector('[data-testid=stMain]').getBoundingClientRect();
    const r = block.getBoundingClientRect(), s = getComputedStyle(block);
    const x0 = Math.max(main.left, r.left + parseFloat(s.paddingLeft) - margin);
    const y0 = Math.max(main.top, r.top + parseFloat(s.paddingTop) - margin);
    const x1 = Math.min(main.right, r.right - parseFloat(s.paddingRight) + margin);
    const y1 = Math.min(main.bottom, r.bottom - parseFloat(s.paddingBottom) + margin);
    return {x: x0, y: y0, width: x1 - x0, height: y1 - y0};
}"""


def shoot(context, base_url: str, page_info, out: Path) -> Path:
    """Open one page, wait until it is drawn, save its content as out/<name>.png."""
    page = context.new_page()
    try:
        page.goto(base_url + page_info.path)
        wait_ready(page, charts=page_info.charts)
        page.locator("h1").first.wait_for()
        page.add_style_tag(content=HIDE_HEADER)
        grow_to_content(page)
        wait_ready(page, charts=page_info.charts)
        path = out / f"{page_info.name.lower()}.png"
        page.screenshot(path=str(path), clip=page.evaluate(CONTENT_BOX, MARGIN), animations="disabled")
        return path
    finally:
        page.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screens", help="folder for the PNGs")
    parser.add_argument("--width", type=int, default=DESKTOP["width"], help="window width in CSS px")
    parser.add_argument("--only", nargs="+", metavar="PAGE", help="page names (home, Playground, ...)")
    args = parser.parse_args(argv)
    pages = [p for p in PAGES if not args.only or p.name in args.only]
    if args.only and len(pages) != len(args.only):
        parser.error(f"--only takes page names among {[p.name for p in PAGES]}")
    args.out.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    with app_server() as base_url, sync_playwright() as pw:
        browser = launch_chromium(pw)
        context = browser.new_context(viewport={"width": args.width, "height": DESKTOP["height"]})
        context.set_default_timeout(60_000)  # a page's first run on a fresh server (Training trains on it)
        try:
            for page_info in pages:
                start = time.monotonic()
                path = shoot(context, base_url, page_info, args.out)
                shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                print(f"{shown}  ({time.monotonic() - start:.1f} s)", flush=True)
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
