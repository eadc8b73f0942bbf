"""The training lab in a real browser: it trains on opening, trains again on Train with new settings, shows
progress while it trains, and draws charts that hold the run's numbers.

Expected numbers come from xent_core.training run here with the same settings (training is deterministic,
on one thread in both processes), never from the page and never typed by hand.
Screenshots go to tests/browser/artifacts/ (gitignored).
"""

from __future__ import annotations

import numpy as np
import pytest

from xent_core import datasets as ds
from xent_core import training as tr

pytestmark = pytest.mark.browser

RESULT = ".st-key-lab-result"  # the container of the finished run (st.container(key="lab.result"))
TRAIN = (
    ".st-key-lab-train button:visible"  # Streamlit draws the button twice (with and without its tooltip), one hidden
)
CHANGED = "The settings changed since this run"
# Records, from before a click on, whether a progress bar or a chart appeared outside the finished run's
# container: the page's progress bar and live chart exist only while the server trains.
WATCH_PROGRESS = """() => {
    window.__progress = {bars: 0, live: 0};
    new MutationObserver(() => {
        if (document.querySelector('[data-testid=stProgress]')) window.__progress.bars += 1;
        const live = [...document.querySelectorAll('.js-plotly-plot')].filter(p => !p.closest('.st-key-lab-result'));
        if (live.length) window.__progress.live += 1;
    }).observe(document.body, {childList: true, subtree: true});
}"""


def expected_run(**data_changes) -> tr.TrainResult:
    """The page's default settings (4 losses, 2 x 32 MLP, SGD, 300 steps on 600 points), data changed as given."""
    return tr.train(ds.make_dataset(ds.DataConfig(**data_changes)), tr.TrainConfig())


def shown_metrics(page) -> dict[str, str]:
    """{loss name: validation accuracy} as the result's metrics show them."""
    metrics = page.locator(RESULT).get_by_test_id("stMetric")
    return {
        m.get_by_test_id("stMetricLabel").inner_text().strip(): m.get_by_test_id("stMetricValue").inner_text().strip()
        for m in metrics.all()
    }


def summary_lines(page) -> list[str]:
    return [li.strip() for li in page.locator(".st-key-lab-summary li").all_inner_texts()]


def wait_summary(page, first_line: str) -> None:
    """Wait until the summary's first line reads `first_line` (the run with those numbers is on screen)."""
    page.wait_for_function(
        "s => document.querySelector('.st-key-lab-summary li')?.innerText.trim() === s", arg=first_line
    )


def curves_on_screen(page) -> list[dict]:
    """The traces of the drawn curves chart (the first chart of the result), read from plotly's own div."""
    return page.locator(f"{RESULT} .js-plotly-plot").first.evaluate(
        "gd => gd.data.map(t => ({name: t.name, mode: t.mode, yaxis: t.yaxis, x: Array.from(t.x), y: Array.from(t.y)}))"
    )


def assert_shows(page, result: tr.TrainResult) -> None:
    """The metrics, the summary and the curves chart on screen are those of `result`."""
    runs = list(result.runs.values())
    assert shown_metrics(page) == {r.name: f"{100 * r.acc_val[-1]:.0f} %" for r in runs}
    assert summary_lines(page) == tr.summarize(result, diverged=False)
    charts = page.locator(f"{RESULT} .js-plotly-plot")
    assert charts.count() == 3  # curves, decision regions, calibration
    for i in range(3):
        assert charts.nth(i).locator(".main-svg").count() > 0, f"chart {i} is not drawn"
    ce_lines = [t for t in curves_on_screen(page) if t["yaxis"] == "y" and t["mode"] == "lines"]
    assert [t["name"] for t in ce_lines] == [r.name for r in runs]
    for trace, run in zip(ce_lines, runs, strict=True):
        assert trace["x"] == list(range(len(run.ce_val)))
        np.testing.assert_allclose(trace["y"], run.ce_val, rtol=1e-5)  # the figure keeps 6 significant digits


def test_trains_on_opening_then_again_with_new_settings_and_shows_the_run(app):
    page = app.page
    spirals = expected_run()
    app.goto("/Training", charts=3)  # the first visit trains the default setting by itself
    wait_summary(page, tr.summarize(spirals, diverged=False)[0])
    app.wait_ready(charts=3)
    assert_shows(page, spirals)
    assert page.get_by_text(CHANGED).count() == 0
    # What the page claims of its default, as measured in this run: cross-entropy ahead of MSE.
    assert spirals.runs["ce"].acc_val[-1] > spirals.runs["mse"].acc_val[-1]
    before = curves_on_screen(page)

    # A new setting keeps the last run on screen, says so, and trains only on Train.
    page.locator(".st-key-data").get_by_role("radio", name="moons").click()
    page.get_by_text(CHANGED).wait_for()
    app.wait_ready(charts=3)
    assert "data=moons" in page.url
    assert_shows(page, spirals)

    page.evaluate(WATCH_PROGRESS)
    page.locator(TRAIN).click()
    page.mouse.move(5, 5)  # off the button, so that its tooltip does not cover the screenshot
    moons = expected_run(kind="moons")
    wait_summary(page, tr.summarize(moons, diverged=False)[0])
    app.wait_ready(charts=3)
    page.get_by_text(CHANGED).wait_for(state="detached")
    progress = page.evaluate("() => window.__progress")
    assert progress["bars"] > 0, "no progress bar while training"
    assert progress["live"] > 0, "no live chart while training"
    assert page.get_by_test_id("stProgress").count() == 0  # and both are gone once the run is done
    assert_shows(page, moons)
    assert curves_on_screen(page) != before
    app.screenshot("training-moons-desktop.png")
    app.assert_clean()
