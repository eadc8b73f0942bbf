"""The comparison page in a real browser: one loss option moved with the keyboard updates the metric and
redraws the sweep chart with torch's numbers for the new option."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import xent_core as xc
from tests import svg_reader

pytestmark = pytest.mark.browser

HINGE = "hinge (multi-margin) (mean)"
METRIC_IS = """([label, value]) => [...document.querySelectorAll('[data-testid=stMetric]')].some(m =>
    m.querySelector('[data-testid=stMetricLabel]')?.innerText.trim() === label
    && m.querySelector('[data-testid=stMetricValue]')?.innerText.trim() === value)"""


def seed42() -> tuple[torch.Tensor, torch.Tensor]:
    preset = xc.PRESETS["seed42"]
    return torch.tensor(preset.logits), torch.tensor(preset.target)


def hinge_mean(margin: float) -> str:
    z, t = seed42()
    return f"{F.multi_margin_loss(z, t, p=1, margin=margin).item():.4f}"


def sweep_svg(page):
    """The sweep chart: the image whose alt text starts "Line charts"."""
    img = page.locator("[data-testid=stImage] img[alt^='Line charts']")
    return svg_reader.from_data_url(img.get_attribute("src"))


def test_hinge_margin_slider_redraws_the_sweep(app):
    app.goto("/Compare", charts=2)  # the per-sample bars and the sweep (its tab is open by default)
    page = app.page
    assert page.get_by_test_id("stMetric").filter(has_text=HINGE).get_by_test_id("stMetricValue").inner_text() == (
        hinge_mean(1.0)
    )
    before = sweep_svg(page)

    slider = page.locator(".st-key-margin").get_by_role("slider")
    slider.focus()
    page.keyboard.press("ArrowRight")  # margin 1.0 -> 1.1
    page.wait_for_function(METRIC_IS, arg=[HINGE, hinge_mean(1.1)])
    app.wait_ready(charts=2)
    page.wait_for_function("() => new URLSearchParams(location.search).get('margin') === '1.1'")

    after = sweep_svg(page)
    loss_plot, _ = svg_reader.plots(after)
    xs, drawn = loss_plot.curve("curve-hinge")
    # the hinge loss of row 0 along the sweep, from torch with the new margin
    z, t = seed42()
    z0, t0 = z[0].numpy(), int(t[0])
    rows = np.tile(z0, (len(xs), 1))
    rows[:, t0] = xs + np.delete(z0, t0).max()
    expected = F.multi_margin_loss(torch.tensor(rows), torch.full((len(xs),), t0), margin=1.1, reduction="none")
    assert np.abs(drawn - expected.numpy()).max() <= 1.5 / loss_plot.px_per_y
    _, old_drawn = svg_reader.plots(before)[0].curve("curve-hinge")
    assert np.abs(old_drawn - drawn).max() > 1.0 / loss_plot.px_per_y  # the curve moved
    app.screenshot("compare-edit.png")
    app.assert_clean()
