"""ui.loss_figures: the comparison page's charts draw the numbers xent_core.compare gives them, to scale,
as well-formed SVG, with user text escaped and every loss told apart by more than colour."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

import xent_core as xc
from tests import svg_reader
from ui import compare_cache, loss_figures, svg, theme
from ui.state import batch_from_preset

NS = svg_reader.NS
ALL = list(xc.LOSSES)
OPTS = xc.LossOptions(label_smoothing=0.1)


def seed42():
    b = batch_from_preset("seed42")
    return b.logits, b.target, b.class_names


def well_formed(chart: svg.SvgChart):
    root = svg_reader.parse(chart.svg)
    assert (int(root.get("width")), int(root.get("height"))) == (chart.width, chart.height)
    for el in root.iter(f"{NS}rect"):
        if "x" in el.attrib and el.get("class") != "key":
            assert float(el.get("x")) + float(el.get("width")) <= chart.width + 0.5
            assert float(el.get("y")) + float(el.get("height")) <= chart.height + 0.5
    for el in root.iter(f"{NS}text"):
        assert 0 <= float(el.get("y")) <= chart.height
    assert chart.title
    assert chart.alt
    return root


@pytest.mark.parametrize("keys", [ALL, ["ce"], ["mse", "hinge"]])
def test_loss_bars_by_sample_draw_each_loss_to_scale(keys):
    logits, target, _ = seed42()
    results = xc.compare_losses(logits, target, keys, OPTS)
    chart = loss_figures.loss_bars_by_sample(results, [f"row {n}" for n in range(6)])
    (plot,) = svg_reader.plots(well_formed(chart))
    bars = plot.bars()
    for key, r in results.items():
        np.testing.assert_allclose(bars[loss_figures.LOSS_STYLE[key][0]], r.per_sample, atol=0.06 / plot.px_per_y * 10)
    assert f"row 0: {xc.LOSSES[keys[0]].name} {theme.fmt(results[keys[0]].per_sample[0])}" in chart.alt


def test_loss_bars_by_sample_thin_out_labels_of_a_big_batch():
    rng = np.random.default_rng(0)
    results = xc.compare_losses(rng.normal(size=(64, 5)), rng.integers(0, 5, 64), ALL, OPTS)
    chart = loss_figures.loss_bars_by_sample(results, [f"row {n}" for n in range(64)])
    labels = [t for t in svg_reader.texts(well_formed(chart)) if t.startswith("row")]
    assert 4 <= len(labels) < 64
    assert "and 56 more rows" in chart.alt


@pytest.mark.parametrize("axis", ["margin", "prob"])
def test_sweep_chart_draws_loss_and_push_of_every_loss(axis):
    logits, target, _ = seed42()
    z, t = logits[1], int(target[1])
    sweep = compare_cache.sweep(tuple(z.tolist()), t, tuple(ALL), OPTS)
    xs_true = sweep.margin if axis == "margin" else sweep.prob
    chart = loss_figures.sweep_chart(sweep, float(xs_true[80]), x=axis)
    loss_plot, push_plot = svg_reader.plots(well_formed(chart))
    for key in ALL:
        xs, loss = loss_plot.curve(f"curve-{key}")
        np.testing.assert_allclose(xs, xs_true, atol=0.06 / loss_plot.px_per_x * 10)
        np.testing.assert_allclose(loss, sweep.loss[key], atol=0.06 / loss_plot.px_per_y * 10)
        _, push = push_plot.curve(f"curve-{key}")
        np.testing.assert_allclose(push, np.abs(sweep.target_grad[key]), atol=0.06 / push_plot.px_per_y * 10)
    dashes = {
        el.get("stroke-dasharray") for el in svg_reader.parse(chart.svg).iter(f"{NS}polyline")
    }  # one dash pattern per loss (solid counts as one): colour is not the only cue
    assert len(dashes) == len(ALL)
    assert f"cross-entropy loss {theme.fmt(sweep.loss['ce'][80])}" in chart.alt


def decode_png(href: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(href.split(",", 1)[1]))).convert("RGB"))


@pytest.mark.parametrize("shared", [True, False])
def test_landscape_panels_map_each_loss_and_mark_the_sample(shared):
    logits, target, names = seed42()
    z, t = logits[1], int(target[1])
    lands = compare_cache.landscapes(z, t, ["ce", "mse", "focal"], OPTS)
    gallery = loss_figures.landscape_panels(lands, names, t, shared_scale=shared)
    assert len(gallery.panels) == 3
    tops = []
    for panel, (key, land) in zip(gallery.panels, lands.items(), strict=True):
        root = well_formed(panel)
        (img,) = root.iter(f"{NS}image")
        raster = decode_png(img.get("href"))
        assert raster.shape == (*land.loss.shape, 3)
        # darker is higher: the darkest pixel is where the loss is largest (rows flipped: v grows upwards)
        darkness = -raster.astype(int).sum(axis=2)[::-1]
        assert darkness.flat[np.argmax(darkness)] == darkness.flat[np.argmax(land.loss)]
        crosses = [el for el in root.iter(f"{NS}line") if el.get("class") == "here"]
        assert len(crosses) == 2  # white halo + colour
        (bar,) = [el for el in root.iter(f"{NS}rect") if el.get("class") == "scale"]
        assert bar.get("fill") == "url(#seq)"
        titles = [el.text for el in root.iter(f"{NS}text") if el.get("font-weight") == "600"]
        assert titles == [xc.LOSSES[key].name]
        assert panel.alt.startswith(f"Loss landscape of {xc.LOSSES[key].name} over")
        tops.append(float(svg_reader.texts(root)[svg_reader.texts(root).index("loss") - 2]))
    # one colour scale for all panels (the largest loss), or each its own
    own = [float(f"{np.nanmax(land.loss):.3g}") for land in lands.values()]
    assert tops == ([max(own)] * 3 if shared else own)
    assert ("one colour scale for all" in gallery.title) == shared


def test_landscape_panels_fit_a_phone_one_per_row():
    logits, target, names = seed42()
    lands = compare_cache.landscapes(logits[1], int(target[1]), ALL, OPTS)
    gallery = loss_figures.landscape_panels(lands, names, int(target[1]))
    assert {(p.width, p.height) for p in gallery.panels} == {(loss_figures.PANEL_WIDTH, loss_figures.PANEL_HEIGHT)}
    assert loss_figures.PANEL_WIDTH <= 328  # a 360 px screen less Streamlit's 16 px margins: shown at full size


def test_landscape_arrows_point_downhill():
    logits, target, names = seed42()
    z, t = logits[1], int(target[1])
    land = compare_cache.landscapes(z, t, ["ce"], OPTS)["ce"]
    (panel,) = loss_figures.landscape_panels({"ce": land}, names, t).panels
    root = svg_reader.parse(panel.svg)
    arrows = [el for el in root.iter(f"{NS}line") if el.get("class") == "arrow"]
    assert 20 < len(arrows) <= 81  # at most 9 per side
    for el in arrows:
        dx = float(el.get("x2")) - float(el.get("x1"))
        dy = -(float(el.get("y2")) - float(el.get("y1")))  # px y grows downwards
        assert dx * dx + dy * dy > 0
    # the sum of the drawn directions points against the mean gradient
    du = sum(float(el.get("x2")) - float(el.get("x1")) for el in arrows)
    dv = sum(float(el.get("y1")) - float(el.get("y2")) for el in arrows)
    assert du * land.grad_u.mean() + dv * land.grad_v.mean() < 0


def test_landscape_panels_without_losses_say_so():
    (panel,) = loss_figures.landscape_panels({}, ("a", "b", "c"), 0).panels
    assert "Pick at least one loss." in svg_reader.texts(svg_reader.parse(panel.svg))


def test_multilabel_bars_hatch_exactly_the_true_labels():
    ex = xc.MULTI_LABEL
    ml = xc.multilabel_losses(ex.logits, ex.labels)
    for row in range(len(ex.labels)):
        chart = loss_figures.multilabel_bars(ml, row, ex.labels, ex.class_names)
        root = well_formed(chart)
        (plot,) = svg_reader.plots(root)
        bars = plot.bars()
        np.testing.assert_allclose(bars[theme.BLUE], ml.sigmoid_probs[row], atol=0.5 / plot.px_per_y)
        hatches = [el for el in root.iter(f"{NS}rect") if el.get("fill") == "url(#hatch)" and el.get("class") is None]
        assert len(hatches) == 2 * int(ex.labels[row].sum())
        half = [el for el in root.iter(f"{NS}line") if el.get("class") == "half"]
        assert float(plot.y(float(half[0].get("y1")))) == pytest.approx(0.5)


def test_class_names_with_markup_are_escaped():
    ex = xc.MULTI_LABEL
    ml = xc.multilabel_losses(ex.logits, ex.labels)
    names = ("<b>x</b>", "a & b", "<script>", "d", "e")
    chart = loss_figures.multilabel_bars(ml, 0, ex.labels, names)
    root = svg_reader.parse(chart.svg)
    assert not list(root.iter(f"{NS}script"))
    assert "<b>x</b>" not in chart.svg
    assert "&lt;b&gt;x&lt;/b&gt;" in chart.svg
    logits, target, _ = seed42()
    lands = compare_cache.landscapes(logits[0], int(target[0]), ["ce"], OPTS)
    gallery = loss_figures.landscape_panels(lands, ("<i>t</i>", "a & b", "c"), int(target[0]))
    for panel in gallery.panels:
        svg_reader.parse(panel.svg)
        assert "<i>" not in panel.svg
    assert "<i>t</i>" in gallery.title  # Markdown-escaped when shown (SvgGallery.show), like every title


def test_builders_leave_their_inputs_alone():
    logits, target, names = seed42()
    results = xc.compare_losses(logits, target, ALL, OPTS)
    for r in results.values():
        for a in (r.per_sample, r.grad, r.target_grad):
            a.setflags(write=False)
    loss_figures.loss_bars_by_sample(results, [f"row {n}" for n in range(6)])
    lands = compare_cache.landscapes(logits[0], int(target[0]), ALL, OPTS)
    before = {k: (land.loss.copy(), land.grad_u.copy(), land.grad_v.copy()) for k, land in lands.items()}
    loss_figures.landscape_panels(lands, names, int(target[0]))  # cached arrays are shared across sessions
    for key, land in lands.items():
        for now, then in zip((land.loss, land.grad_u, land.grad_v), before[key], strict=True):
            np.testing.assert_array_equal(now, then)
