"""The Pitfalls, Images and Information pages in a real browser: open by URL, one edit through a real widget.

Each test opens its page from a direct link, checks the numbers it starts on, makes one edit with the
keyboard or the mouse (a data-editor cell or a slider), waits until the page shows torch's value for
the new input, takes a screenshot (tests/browser/artifacts/, gitignored) and asserts that the browser
logged no error and the page shows no exception. The expected numbers come from torch (float64) on
inputs built here (the forum tensor and the generated scene from xent_core), never from the page.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import xent_core as xc
from tests.browser.harness import batch_table
from xent_core import images as im

pytestmark = pytest.mark.browser

# The page's value of a metric (by its label) is `value`: the rerun that follows an edit has shown its result.
METRIC_IS = """([label, value]) => [...document.querySelectorAll('[data-testid=stMetric]')].some(m =>
    m.querySelector('[data-testid=stMetricLabel]')?.innerText.trim() === label
    && m.querySelector('[data-testid=stMetricValue]')?.innerText.trim() === value)"""
HAS_PARAM = "k => new URLSearchParams(location.search).has(k)"


def shown(x: float) -> str:
    """A number as the pages print it (4 decimals)."""
    return f"{x:.4f}"


def metrics(page) -> dict[str, str]:
    """Every st.metric on the page: label -> value."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('[data-testid=stMetric]')].map(m => [
            m.querySelector('[data-testid=stMetricLabel]').innerText.trim(),
            m.querySelector('[data-testid=stMetricValue]').innerText.trim()]))"""
    )


def wait_metric(app, label: str, value: str, *, charts: int) -> None:
    """Wait until the metric `label` shows `value` and the script run that produced it has finished."""
    app.page.wait_for_function(METRIC_IS, arg=[label, value])
    app.wait_ready(charts=charts)


def agrees(page) -> str:
    """The text of the page's green 'PyTorch agrees' badge (st.success)."""
    return page.get_by_test_id("stAlertContentSuccess").first.inner_text()


# ---------------------------------------------------------------------------------------------- pitfalls

FORUM = xc.PRESETS["probs_as_logits"]  # seed 002's 1x3x2x2 softmax output, fed to cross_entropy as if logits
CE_MEAN, NLL_SUM, NLL_MEAN = "cross_entropy(probs) · mean", "nll_loss(log probs) · sum", "nll_loss(log probs) · mean"


def forum_losses(probs: np.ndarray, target: np.ndarray) -> dict[str, str]:
    """What was written (cross_entropy on probabilities) and what was meant (nll_loss on their log), from torch."""
    p, t = torch.tensor(probs, dtype=torch.float64), torch.tensor(target, dtype=torch.long)
    return {
        CE_MEAN: shown(F.cross_entropy(p, t).item()),
        NLL_SUM: shown(F.nll_loss(torch.log(p), t, reduction="sum").item()),
        NLL_MEAN: shown(F.nll_loss(torch.log(p), t).item()),
    }


def test_pitfalls_edit_the_forum_tensor(app):
    """The pitfalls page opens on the forum tensor's documented numbers (0.9488 written, 2.8824 / 0.7206 meant);
    typing a new probability into the tensor's editor gives torch's three losses for the edited tensor."""
    probs, target = FORUM.logits.astype(np.float64), FORUM.target
    assert forum_losses(probs, target) == {CE_MEAN: "0.9488", NLL_SUM: "2.8824", NLL_MEAN: "0.7206"}

    app.goto("/Pitfalls", charts=1)
    page = app.page
    assert metrics(page) == {CE_MEAN: "0.9488", NLL_SUM: "2.8824", NLL_MEAN: "0.7206"}
    headers, rows = batch_table(page, "The forum's probabilities, one row per pixel")  # ui/grid's table
    assert headers == ["", "target", "class 0", "class 1", "class 2"]
    assert rows[0][:2] == ["pixel (0, 0)", "class 2"]

    # Pixel (0, 0), class 2 (its target): 0.7 -> 0.9.
    assert probs[0, 2, 0, 0] == 0.7
    assert target[0, 0, 0] == 2
    cell = page.get_by_role("textbox", name="pixel (0, 0), class 2", exact=True)
    cell.click()
    cell.fill("0.9")
    page.keyboard.press("Enter")
    edited = probs.copy()
    edited[0, 2, 0, 0] = 0.9
    expected = forum_losses(edited, target)
    assert expected[CE_MEAN] != "0.9488"
    assert expected[NLL_SUM] != "2.8824"
    wait_metric(app, CE_MEAN, expected[CE_MEAN], charts=1)
    assert metrics(page) == expected
    assert "PyTorch agrees" in agrees(page)
    page.wait_for_function(HAS_PARAM, arg="p")  # the edited tensor is in the link
    app.screenshot("pitfalls-edit.png")
    app.assert_clean()


# ---------------------------------------------------------------------------------------------- images

IMG_LOSS = "Loss (mean over counted pixels)"
IMG_CHARTS = 4  # target mask, predicted classes, per-pixel loss, per-class loss
VOID = 255


def scene_loss(noise: float) -> str:
    """torch's K-dimensional cross_entropy on the page's default scene (16x16, 4 classes, seed 0, void edges)."""
    scene = im.blob_scene(16, 16, 4, seed=0, noise=noise, void_boundaries=True)
    loss = F.cross_entropy(torch.tensor(scene.logits), torch.tensor(scene.target), ignore_index=VOID)
    return shown(loss.item())


def test_images_noise_slider(app):
    """The images page opens on the generated 16x16 scene and its torch loss; one step of the noise slider
    (keyboard, 0.5 -> 0.6) gives torch's loss on the noisier logits and writes noise=0.6 into the link."""
    app.goto("/Images", charts=IMG_CHARTS)
    page = app.page
    assert metrics(page)[IMG_LOSS] == scene_loss(0.5)
    assert page.locator("[class*=st-key-img-fig-]").count() == IMG_CHARTS

    expected = scene_loss(0.6)
    assert expected != scene_loss(0.5)
    slider = page.locator(".st-key-noise").get_by_role("slider")
    slider.focus()
    page.keyboard.press("ArrowRight")
    wait_metric(app, IMG_LOSS, expected, charts=IMG_CHARTS)
    assert page.locator(".st-key-noise").get_by_test_id("stSliderThumbValue").inner_text() == "0.60"
    assert f"gives {expected}" in agrees(page)
    page.wait_for_function("() => new URLSearchParams(location.search).get('noise') === '0.6'")
    app.screenshot("images-edit.png")
    app.assert_clean()


# ---------------------------------------------------------------------------------------------- information

INFO_CHARTS = 4  # stacked decomposition, the two distributions, the per-class terms, the loss ruler
Y, P = [0.6, 0.3, 0.1], [0.4, 0.4, 0.2]  # the page's default: a soft target and a prediction
H_Y, H_YP, KL = "Entropy H(y), nats", "Cross-entropy H(y, p), nats", "KL(y ‖ p), nats"


def information(y, p) -> dict[str, str]:
    """H(y), H(y, p) and KL(y || p) in nats from torch, both rows normalised as the page normalises them."""
    yt, pt = torch.tensor(y, dtype=torch.float64), torch.tensor(p, dtype=torch.float64)
    yt, pt = yt / yt.sum(), pt / pt.sum()
    return {
        H_Y: shown(torch.special.entr(yt).sum().item()),
        H_YP: shown(F.cross_entropy(torch.log(pt)[None], yt[None]).item()),
        KL: shown(F.kl_div(torch.log(pt), yt, reduction="sum").item()),
    }


def test_information_edit_the_prediction(app):
    """The information page opens on the soft example; typing a new probability for the prediction's last
    class into the editor gives torch's cross-entropy and KL for it (H(y) stays), and H(y, p) = H(y) + KL."""
    app.goto("/Information", charts=INFO_CHARTS)
    page = app.page
    assert metrics(page).items() >= information(Y, P).items()
    headers, rows = batch_table(page, "Target y and prediction p")  # ui/grid's table, rows named
    assert headers == ["", "class 0", "class 1", "class 2"]
    assert [row[0] for row in rows] == ["target y", "prediction p"]
    assert [[float(x) for x in row[1:]] for row in rows] == [Y, P]

    edited = [*P[:-1], 0.5]  # p(class 2): 0.2 -> 0.5; the row then sums to 1.3 and the page normalises it
    expected = information(Y, edited)
    assert expected[H_YP] != information(Y, P)[H_YP]
    cell = page.get_by_role("textbox", name="prediction p, class 2", exact=True)
    cell.click()
    cell.fill("0.5")
    page.keyboard.press("Enter")
    wait_metric(app, H_YP, expected[H_YP], charts=INFO_CHARTS)
    assert metrics(page).items() >= expected.items()
    assert "PyTorch agrees" in agrees(page)
    page.wait_for_function(HAS_PARAM, arg="p")
    app.screenshot("information-edit.png")
    app.assert_clean()
