"""Edit-to-screen latency of the app's pages in a real browser (Debian's Chromium, driven by Playwright).

    python -m bench.browser [--pages baseline playground compare pitfalls images information] [--runs 15]
                            [--loads 5] [--json PATH]

What it measures. The app is started as the browser tests start it (tests/browser/harness.py:
`streamlit run app.py` on a free loopback port) and each page is opened in headless Chromium.
"baseline" is not ours: it is the reference page the playground issue sets its targets against
(bench/baseline_page.py: a 6×3 st.data_editor, a selectbox, a number input, a slider and three
plotly charts, plain Streamlit with its default settings), served by a second server, so that each
run also says how fast this machine is today. For each widget kind (baseline: each of its four
inputs; playground: the reduction's segmented control, the label-smoothing slider moved with the
keyboard, a logit cell of the batch table, the example selectbox (a new batch), the "Samples"
number input's +/- buttons; compare: the sweep's sample selectbox, the hinge-margin slider, the
focal-loss pill, a logit cell; pitfalls: a cell of the forum tensor; images: the noise slider;
information: the bits/nats switch and a cell of the prediction; the training page is left out, its
edits start a training run) it makes
`--runs` edits, alternating values so that every edit changes the result, after one untimed
warm-up edit:

  * t0 is the page's own timestamp (`event.timeStamp`, the performance.now() clock) of the input
    event that makes the change: the pointerdown on the option or the +/- button, the keydown of
    the slider's arrow key or of the Enter that commits the cell. A capture-phase listener on
    `window` records the first such event after the harness arms it, just before dispatching.
  * The last change on screen is the latest of: a DOM mutation under the app root
    (`[data-testid=stApp]` and the open shadow roots in it, where ui/grid.py's tables draw: nodes,
    attributes, text), an animation frame in which a canvas draws
    the text of three or more cells (the data grids draw on canvases; a frame with one or two is
    the grid's ~500 ms highlight animation of the selected cell, not content), and a chart image's
    `load` (decoded). Mutations inside a <canvas> are left
    out: a canvas's children are fallback content for assistive technology and never painted (the
    data grids update their hidden accessibility table ~200 ms after drawing; counting it would add
    that much to every edit that touches a table).
  * An edit is done once the metrics or the charts differ from before t0 (every edit changes one
    of them), the script state (`data-test-script-state`) is `notRunning`, and nothing has changed
    on screen for 300 ms (--quiet-ms). (Seeing the state go to `running` is no signal: after a fast
    fragment rerun the frontend often commits `running` and `notRunning` in one render, so the
    attribute never changes.)
  * latency = last change on screen - t0: input event, websocket round trip, the (fragment) rerun on the
    server, and the frontend applying every delta (React, the charts' image decodes, the grid's table).

Cold load: a fresh browser context (empty HTTP cache, no session) per repetition, from navigation
start (performance.now() = 0) until the page's charts are drawn (PAGES below):
`requestAnimationFrame` polling until that many chart images (server-drawn SVG in `st.image`) have
decoded (tests/browser/harness.py's CHARTS_DRAWN). The server is warm (the edits ran first, torch
is imported), so this is the browser's cold start, not the server's.

Limits.
  * The last change is not the last paint: the frame that shows the final DOM or canvas comes
    after it, typically one frame (~16 ms) later, more on a busy CPU.
  * Animations or hover effects that mutate the DOM within the quiet window would be counted; the
    harness drives the keyboard where it can and parks the mouse on the empty header after clicks.
  * Polling (rAF) adds up to one frame to the cold-load figure.
  * Headless Chromium with --disable-gpu rasterises in software, and the browser, the server and
    this harness share the machine's cores: the figures are for this machine and its load at the
    time, not for a user's laptop. Compare runs made on the same machine, not across machines.
  * The "Samples" +/- edit resizes the batch, which gives the batch table a new source (a new
    component instance to mount); like every other edit measured here it reruns only the page's
    fragment.
Server-side rerun time alone (no browser) is measured by bench/app.py.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import sync_playwright

import xent_core as xc
from tests.browser.harness import CHARTS_DRAWN as HARNESS_CHARTS_DRAWN
from tests.browser.harness import CHROMIUM, DESKTOP, app_server, launch_chromium, select_cell, wait_ready

TIMEOUT_MS = 60_000
BASELINE = Path(__file__).with_name("baseline_page.py")
PARK = (700, 20)  # the mouse rests here between edits: the empty, transparent header

KINDS = {  # page: {kind: the widget, as the table shows it}
    "baseline": {
        "selectbox": "Reduction (mean ↔ sum)",
        "slider": "Label smoothing (ArrowRight / ArrowLeft)",
        "number_input": "Temperature (+ / −)",
        "data_editor": "Logit cell (type, Enter)",
    },
    "playground": {
        "segmented": "Reduction (mean ↔ sum)",
        "selectbox": "Example (3×4 batch ↔ seed-42 batch)",
        "slider": "Label smoothing ε (ArrowRight / ArrowLeft)",
        "number_input": "Samples (+ / −)",
        "data_editor": "Logit cell (type, Enter)",
    },
    "compare": {
        "selectbox": "Sweep tab: sample (row 0 ↔ row 1)",
        "slider": "Hinge margin (ArrowRight / ArrowLeft)",
        "pills": "Losses: focal on / off",
        "data_editor": "Logit cell (type, Enter)",
    },
    "pitfalls": {"data_editor": "Forum tensor: a probability cell (type, Enter)"},
    "images": {"slider": "Noise (ArrowRight / ArrowLeft)"},
    "information": {
        "segmented": "Unit: bits ↔ nats",
        "data_editor": "Prediction cell (type, Enter)",
    },
}
PAGES = {  # page: (path, charts drawn when ready)
    "baseline": ("/", 3),  # bench/baseline_page.py, on a server of its own
    "playground": ("/Playground", 3),
    "compare": ("/Compare", 2),
    "pitfalls": ("/Pitfalls", 1),
    "images": ("/Images", 4),
    "information": ("/Information", 4),
}

INSTALL = """() => {
  if (window.__bench) return;
  const root = document.querySelector('[data-testid=stApp]');
  const b = window.__bench = {armed: false, t0: null, last: 0, before: null};
  const seen = () => { b.last = performance.now(); };
  // DOM changes, except inside a <canvas>: a canvas's children are fallback content for assistive
  // technology (the data grids keep an accessibility table there, updated ~200 ms after the grid is
  // drawn) and are never painted.
  const observer = new MutationObserver((records) => {
    for (const r of records) {
      const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      if (!(el && el.closest('canvas'))) { seen(); return; }
    }
  });
  const all = {subtree: true, childList: true, attributes: true, characterData: true};
  const watch = (node) => observer.observe(node, all);
  watch(root);
  // The batch and step-by-step tables (ui/grid.py) draw inside open shadow roots, which an observer
  // of the document does not see: watch the ones there are and every one attached from now on.
  for (const el of root.querySelectorAll('*')) if (el.shadowRoot) watch(el.shadowRoot);
  const attachShadow = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (...args) {
    const shadow = attachShadow.apply(this, args);
    watch(shadow);
    return shadow;
  };
  // What is painted without a DOM change: the data grids' canvas drawing, and a chart image's decode.
  // A grid's redraw is counted per animation frame by the text it draws: a frame that draws three or
  // more cells' text is content; one or two is the grid's highlight animation on the selected cell,
  // which keeps repainting that cell for ~500 ms after every edit.
  const fillText = CanvasRenderingContext2D.prototype.fillText;
  let texts = 0, drawn = 0;
  CanvasRenderingContext2D.prototype.fillText = function (...args) {
    texts += 1; drawn = performance.now();
    return fillText.apply(this, args);
  };
  const frame = () => { if (texts >= 3) b.last = Math.max(b.last, drawn); texts = 0; requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
  document.addEventListener('load', (e) => { if (e.target.tagName === 'IMG') seen(); }, true);
  const mark = (e) => { if (b.armed && b.t0 === null) { b.t0 = e.timeStamp; b.armed = false; } };
  for (const type of ['pointerdown', 'keydown']) window.addEventListener(type, mark, true);
}"""
# What an edit changes: the metrics' text and the charts' images (a sample picked for the sweep changes
# only its chart). The tail of each data: URL stands for the image (base64 of the SVG's last bytes).
METRIC = """([...document.querySelectorAll('[data-testid=stMetric]')].map((m) => m.innerText).join('|')
  + [...document.querySelectorAll('[data-testid=stImage] img')].map((i) => i.src.length + i.src.slice(-400))
    .join('|'))"""
ARM = f"() => Object.assign(window.__bench, {{armed: true, t0: null, before: {METRIC}}})"
SETTLED = f"""(quiet) => {{
  const b = window.__bench;
  const state = document.querySelector('[data-testid=stApp]').getAttribute('data-test-script-state');
  if (b.t0 === null || {METRIC} === b.before || state !== 'notRunning') return false;
  if (performance.now() - b.last < quiet) return false;
  return b.last - b.t0;
}}"""
CHARTS_DRAWN = f"""(n) => ({HARNESS_CHARTS_DRAWN})(n) ? performance.now() : false"""


# ---------------------------------------------------------------------------------------------- page


def timed(page, action: Callable[[], None], quiet_ms: int, what: str, charts: int) -> float:
    """Run `action` (which dispatches one input event) and return its edit-to-last-mutation latency in ms."""
    page.mouse.move(*PARK)
    page.evaluate(ARM)
    action()
    page.mouse.move(*PARK)
    try:
        latency = page.wait_for_function(SETTLED, arg=quiet_ms, polling=50).json_value()
    except PlaywrightTimeoutError:
        state = page.evaluate("() => window.__bench")
        raise RuntimeError(f"{what}: the result did not change, or the page never settled ({state})") from None
    wait_ready(page, charts=charts)
    return float(latency)


def baseline_edits(page) -> dict[str, Callable[[int], Callable[[], None]]]:
    """bench/baseline_page.py: the reference page of the targets (st.data_editor, selectbox, number input,
    slider, three plotly charts)."""

    def slider(i: int):
        page.locator(".st-key-smoothing").get_by_role("slider").focus()
        key = "ArrowRight" if i % 2 == 0 else "ArrowLeft"
        return lambda: page.keyboard.press(key)

    def number_input(i: int):
        box = page.get_by_test_id("stNumberInput")
        return box.get_by_test_id("stNumberInputStepUp" if i % 2 == 0 else "stNumberInputStepDown").click

    # columns: row index, cat, dog, bird
    return {
        "selectbox": select_option(page, "Reduction", ("sum", "mean")),
        "slider": slider,
        "number_input": number_input,
        "data_editor": cell_edit(page, col=1),
    }


def playground_edits(page) -> dict[str, Callable[[int], Callable[[], None]]]:
    """For each kind: prepare(i) does the untimed set-up of edit i and returns the timed action."""

    def segmented(i: int):
        return page.locator(".st-key-reduction").get_by_role("radio", name="sum" if i % 2 == 0 else "mean").click

    def slider(i: int):
        page.get_by_test_id("stSlider").filter(has_text="Label smoothing").locator("input[type=range]").focus()
        key = "ArrowRight" if i % 2 == 0 else "ArrowLeft"
        return lambda: page.keyboard.press(key)

    def number_input(i: int):
        box = page.get_by_test_id("stNumberInput").filter(has_text="Samples")
        if box.count() == 0:  # the "Batch setup" expander builds its widgets only while open
            page.get_by_test_id("stExpander").filter(has_text="Batch setup").locator("summary").click()
            box.wait_for()
            wait_ready(page)
        return box.get_by_test_id("stNumberInputStepUp" if i % 2 == 0 else "stNumberInputStepDown").click

    examples = (xc.PRESETS["batch3x4"].title, xc.PRESETS["seed42"].title)
    return {
        "segmented": segmented,
        "slider": slider,
        "data_editor": grid_cell_edit(page),
        "selectbox": select_option(page, "Example", examples),  # ends on the seed-42 batch, where it began
        "number_input": number_input,  # last: opening "Batch setup" adds widgets to the page
    }


def compare_edits(page) -> dict[str, Callable[[int], Callable[[], None]]]:
    def slider(i: int):
        page.locator(".st-key-margin").get_by_role("slider").focus()
        key = "ArrowRight" if i % 2 == 0 else "ArrowLeft"
        return lambda: page.keyboard.press(key)

    def pills(i: int):
        return page.locator(".st-key-losses").get_by_role("button", name="focal", exact=True).click

    return {
        "selectbox": select_option(page, "Sample", ("row 1", "row 0")),
        "slider": slider,
        "pills": pills,
        "data_editor": grid_cell_edit(page),
    }


def pitfalls_edits(page) -> dict[str, Callable[[int], Callable[[], None]]]:
    return {"data_editor": grid_cell_edit(page, "pixel (0, 0), class 2", values=("0.9", "0.7"))}


def images_edits(page) -> dict[str, Callable[[int], Callable[[], None]]]:
    def slider(i: int):
        page.locator(".st-key-noise").get_by_role("slider").focus()
        key = "ArrowRight" if i % 2 == 0 else "ArrowLeft"
        return lambda: page.keyboard.press(key)

    return {"slider": slider}


def information_edits(page) -> dict[str, Callable[[int], Callable[[], None]]]:
    def segmented(i: int):
        label = "bits" if i % 2 == 0 else "nats"
        return page.locator(".st-key-unit button").filter(has_text=re.compile(f"^{label}$")).click

    return {"segmented": segmented, "data_editor": grid_cell_edit(page, "prediction p, class 2", values=("0.5", "0.2"))}


def select_option(page, name: str, options: tuple[str, str]) -> Callable[[int], Callable[[], None]]:
    """The selectbox named `name`: open it (untimed), then pick options[i % 2] (the timed click)."""

    def selectbox(i: int):
        box = page.get_by_role("combobox", name=name, exact=True)
        option = page.get_by_role("option", name=options[i % 2], exact=True)
        for _ in range(5):  # a click that lands while the fragment re-renders can be dropped
            box.click()
            try:
                option.wait_for(timeout=3000)
                break
            except PlaywrightTimeoutError:
                page.keyboard.press("Escape")
        return option.click

    return selectbox


def grid_cell_edit(page, name: str = "row 0, ", values=("1.5", "-1.5")) -> Callable[[int], Callable[[], None]]:
    """A cell of a ui/grid.py table, the first whose accessible name starts with `name` (a batch table's
    "row 0, <class>"); Enter commits."""

    def data_editor(i: int):
        cell = page.get_by_role("textbox", name=re.compile("^" + re.escape(name))).first
        cell.click()
        cell.fill(values[i % 2])
        return lambda: page.keyboard.press("Enter")

    return data_editor


def cell_edit(page, col: int, row: int = 0, values=("1.5", "-1.5")) -> Callable[[int], Callable[[], None]]:
    """A cell of an st.data_editor grid (the reference page's table)."""

    def data_editor(i: int):
        select_cell(page, col=col, row=row)
        page.keyboard.press("Enter")
        cell = page.locator("input.gdg-input")
        cell.wait_for()
        cell.fill(values[i % 2])
        return lambda: page.keyboard.press("Enter")

    return data_editor


EDITS = {
    "baseline": baseline_edits,
    "playground": playground_edits,
    "compare": compare_edits,
    "pitfalls": pitfalls_edits,
    "images": images_edits,
    "information": information_edits,
}


def measure_edits(browser, base_url: str, page_name: str, runs: int, quiet_ms: int, log) -> dict[str, list[float]]:
    path, charts = PAGES[page_name]
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{base_url}{path}")
    wait_ready(page, charts=charts)
    page.evaluate(INSTALL)
    samples: dict[str, list[float]] = {}
    for kind, prepare in EDITS[page_name](page).items():
        # Edit 0 is a warm-up, not counted; every edit flips the value, so each one changes the result.
        latencies = [timed(page, prepare(i), quiet_ms, f"{kind} edit {i}", charts) for i in range(runs + 1)]
        samples[kind] = latencies[1:]
        log(f"{page_name} {kind}: {', '.join(f'{x:.0f}' for x in samples[kind])} ms")
    context.close()
    return samples


def measure_cold_loads(browser, base_url: str, page_name: str, loads: int, log) -> list[float]:
    path, charts = PAGES[page_name]
    out = []
    for _ in range(loads):
        context = browser.new_context(viewport=DESKTOP)  # empty cache, new Streamlit session
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.goto(f"{base_url}{path}", wait_until="commit")
        out.append(float(page.wait_for_function(CHARTS_DRAWN, arg=charts, polling="raf").json_value()))
        context.close()
    log(f"{page_name} cold load: {', '.join(f'{x:.0f}' for x in out)} ms")
    return out


# ---------------------------------------------------------------------------------------------- report


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default)."""
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def summary(samples: list[float]) -> dict:
    return {
        "n": len(samples),
        "p50_ms": round(percentile(samples, 50), 1),
        "p95_ms": round(percentile(samples, 95), 1),
        "min_ms": round(min(samples), 1),
        "max_ms": round(max(samples), 1),
        "samples_ms": [round(x, 1) for x in samples],
    }


def markdown(results: dict[str, dict]) -> str:
    lines = [
        "| page | kind | widget | n | p50 (ms) | p95 (ms) | min (ms) | max (ms) |",
        "|---|---|---|--:|--:|--:|--:|--:|",
    ]
    for key, r in results.items():
        page_name, kind = key.split(":")
        path, charts = PAGES[page_name]
        label = f"{path}, navigation start → {charts} charts drawn" if kind == "cold_load" else KINDS[page_name][kind]
        lines.append(
            f"| {page_name} | {kind} | {label} | {r['n']} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} "
            f"| {r['min_ms']:.0f} | {r['max_ms']:.0f} |"
        )
    return "\n".join(lines)


def environment(browser) -> dict:
    import streamlit

    return {
        "chromium": browser.version,
        "streamlit": streamlit.__version__,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="timed edits per widget kind (default 15)")
    parser.add_argument("--loads", type=int, default=5, help="cold page loads (default 5)")
    parser.add_argument("--quiet-ms", type=int, default=300, help="no DOM mutation for this long = done (300)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--pages", nargs="+", choices=list(PAGES), default=list(PAGES), help="pages to measure")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        parser.error(f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    results, failed = {}, []
    with contextlib.ExitStack() as stack:
        app_url = stack.enter_context(app_server())
        if "baseline" in args.pages:  # Streamlit's default settings: run from a folder with no .streamlit/
            empty = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            baseline_url = stack.enter_context(app_server(script=BASELINE, cwd=empty))
        pw = stack.enter_context(sync_playwright())
        browser = launch_chromium(pw)
        env = environment(browser)
        log(f"server {app_url}; {env}")
        for page_name in args.pages:
            base_url = baseline_url if page_name == "baseline" else app_url
            try:
                samples = measure_edits(browser, base_url, page_name, args.runs, args.quiet_ms, log)
                samples["cold_load"] = measure_cold_loads(browser, base_url, page_name, args.loads, log)
            except PlaywrightError as err:  # one broken page (a timeout, a crash) does not cost the others' figures
                log(f"{page_name}: FAILED, left out of the table: {str(err).splitlines()[0]}")
                failed.append(page_name)
                continue
            results.update({f"{page_name}:{kind}": summary(values) for kind, values in samples.items()})
        browser.close()

    print(markdown(results))
    if failed:
        print(f"\nNot measured (see the log): {', '.join(failed)}")
    if args.json:
        payload = {"environment": env, "quiet_ms": args.quiet_ms, "results": results, "failed": failed}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
