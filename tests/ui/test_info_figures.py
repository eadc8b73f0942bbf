"""The information page's SVG charts, read back into numbers (tests/svg_reader.py) and compared with the
decomposition they draw: every bar, tick and marker sits where its value says, to within a pixel."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from tests import svg_reader
from tests.svg_reader import NS
from tests.ui.test_loss_figures import well_formed
from ui import info_figures as INF
from ui import svg
from xent_core import decomposition as dc

SOFT = dc.decompose([0.6, 0.3, 0.1], [0.4, 0.4, 0.2])
NEGATIVE_TERMS = dc.decompose([0.2, 0.3, 0.5], [0.6, 0.3, 0.1])  # KL terms of both signs
ZERO_WHERE_WANTED = dc.decompose([0.6, 0.3, 0.1], [0.0, 0.5, 0.5])  # p = 0 where y > 0: KL = ∞


def plot_of(chart) -> svg_reader.Plot:
    (plot,) = svg_reader.plots(well_formed(chart))
    return plot


def spans(plot: svg_reader.Plot, mark: str) -> list[tuple[float, float]]:
    """(bottom, top) in data units of each rect with class `mark`, left to right."""
    rects = sorted(
        (el for el in plot.element.iter(f"{NS}rect") if el.get("class") == mark), key=lambda e: float(e.get("x"))
    )
    out = []
    for el in rects:
        y, h = float(el.get("y")), float(el.get("height"))
        out.append((float(plot.y(y + h)), float(plot.y(y))))
    return out


def line_levels(plot: svg_reader.Plot, mark: str) -> list[float]:
    lines = sorted(
        (el for el in plot.element.iter(f"{NS}line") if el.get("class") == mark), key=lambda e: float(e.get("x1"))
    )
    return [float(plot.y(float(el.get("y1")))) for el in lines]


def tol(plot: svg_reader.Plot) -> float:
    return 0.11 / plot.px_per_y  # coordinates are rounded to 0.1 px


@pytest.mark.parametrize("unit", ["nats", "bits"])
def test_decomposition_stacks_kl_on_the_entropy_and_draws_log_c(unit):
    d = dc.decompose([0.6, 0.3, 0.1], [0.4, 0.4, 0.2], unit=unit)
    chart = INF.decomposition_bars(d)
    plot = plot_of(chart)
    entropy, (kl,) = spans(plot, "entropy"), spans(plot, "kl")
    np.testing.assert_allclose(entropy, [(0, d.entropy), (0, d.entropy)], atol=tol(plot))
    np.testing.assert_allclose(kl, (d.entropy, d.entropy + d.kl), atol=tol(plot))
    np.testing.assert_allclose(line_levels(plot, "baseline"), [d.baseline], atol=tol(plot))
    assert f"H(y, p) = {d.cross_entropy:.3f} {unit}" in svg_reader.texts(svg_reader.parse(chart.svg))
    assert f"KL(y ‖ p) {d.kl:.3f} {unit}" in chart.alt


def test_an_infinite_kl_fills_the_bar_to_the_top_and_says_so():
    chart = INF.decomposition_bars(ZERO_WHERE_WANTED)
    plot = plot_of(chart)
    (kl,) = spans(plot, "kl")
    top = plot.y(float(plot.element.get("data-y").split()[3]))  # the plot's top edge, in data units
    assert kl[0] == pytest.approx(ZERO_WHERE_WANTED.entropy, abs=tol(plot))
    assert kl[1] == pytest.approx(float(top), abs=tol(plot))
    assert "H(y, p) = ∞" in svg_reader.texts(svg_reader.parse(chart.svg))


def test_distributions_draw_y_and_p_per_class():
    chart = INF.distribution_bars(SOFT, ["cat", "dog", "<b>bird</b>"])
    plot = plot_of(chart)
    bars = plot.bars()
    np.testing.assert_allclose(bars[INF.ENTROPY], SOFT.target, atol=tol(plot))
    np.testing.assert_allclose(bars[INF.PRED], SOFT.prediction, atol=tol(plot))
    assert "<b>bird</b>" in svg_reader.texts(svg_reader.parse(chart.svg))  # user text, escaped, shown literally
    assert "dog: y 30.0%, p 40.0%" in chart.alt


def test_terms_stack_positive_kl_on_the_entropy_term_and_hang_negative_kl_below_zero():
    d = NEGATIVE_TERMS
    plot = plot_of(INF.term_bars(d, ["x", "y", "z"]))
    np.testing.assert_allclose(spans(plot, "entropy"), [(0, e) for e in d.entropy_terms], atol=tol(plot))
    expected_kl = [(e, e + k) if k >= 0 else (k, 0.0) for e, k in zip(d.entropy_terms, d.kl_terms, strict=True)]
    np.testing.assert_allclose(spans(plot, "kl"), expected_kl, atol=tol(plot))
    np.testing.assert_allclose(line_levels(plot, "ce"), d.cross_entropy_terms, atol=tol(plot))
    assert d.kl_terms[0] < 0 < d.kl_terms[2]  # the example has both signs


def test_an_infinite_kl_term_is_drawn_to_the_top_and_has_no_sum_tick():
    d = ZERO_WHERE_WANTED
    chart = INF.term_bars(d, ["x", "y", "z"])
    plot = plot_of(chart)
    assert math.isinf(d.kl_terms[0])
    assert len(line_levels(plot, "ce")) == 2  # the infinite class's −y log p is not drawn
    assert "∞" in svg_reader.texts(svg_reader.parse(chart.svg))
    assert "KL term ∞" in chart.alt


def test_the_ruler_places_every_tick_and_marker_at_its_loss():
    d = SOFT
    scale = dc.loss_scale(3)
    chart = INF.loss_ruler(scale, here=d.cross_entropy, floor=d.entropy)
    plot = plot_of(chart)
    ticks = sorted(
        float(plot.x(float(el.get("x1")))) for el in plot.element.iter(f"{NS}line") if el.get("class") == "tick"
    )
    np.testing.assert_allclose(ticks, sorted(scale.losses), atol=0.11 / plot.px_per_x)

    def centre(mark: str) -> float:
        shapes = [el for el in plot.element.iter() if el.get("class") == mark]
        if shapes[0].tag == f"{NS}polygon":
            xs = [float(pt.split(",")[0]) for pt in shapes[0].get("points").split()]
            return float(plot.x((min(xs) + max(xs)) / 2))
        return float(plot.x((float(shapes[0].get("x1")) + float(shapes[0].get("x2"))) / 2))

    for mark, value in [("baseline", scale.baseline), ("floor", d.entropy), ("here", d.cross_entropy)]:
        assert centre(mark) == pytest.approx(value, abs=0.11 / plot.px_per_x), mark
    assert "p = 1/3" in svg_reader.texts(svg_reader.parse(chart.svg))
    assert f"this example H(y, p) = {d.cross_entropy:.3f} nats" in chart.alt


def test_the_ruler_leaves_out_what_is_not_finite():
    chart = INF.loss_ruler(dc.loss_scale(4, unit="bits"), here=math.inf, floor=0.0)
    kinds = {el.get("class") for el in svg_reader.parse(chart.svg).iter() if el.get("class")}
    assert {"baseline", "floor"} <= kinds
    assert "here" not in kinds


@pytest.mark.parametrize("miss", [1e-6, 1e-8, 1e-12])
def test_a_near_perfect_prediction_keeps_a_readable_axis(miss):
    """Terms of 1e-9 nats do not fill the chart: the axis keeps a twentieth of log C and distinct labels."""
    chart = INF.term_bars(dc.decompose([1.0, 0.0], [1.0, miss]), ["a", "b"])
    plot = plot_of(chart)
    labels = [t for t in svg_reader.texts(svg_reader.parse(chart.svg)) if t[:1].isdigit() or t[:1] == "-"]
    assert len(labels) == len(set(labels)) >= 3, labels
    assert float(plot.element.get("data-y").split()[1]) >= 0.05 * math.log(2)


@pytest.mark.parametrize("here", [4.0, 13.8])
def test_a_huge_loss_does_not_squeeze_the_ruler(here):
    scale = dc.loss_scale(3)
    chart = INF.loss_ruler(scale, here=here, floor=0.0)
    plot = plot_of(chart)
    xs = sorted(float(el.get("x1")) for el in plot.element.iter(f"{NS}line") if el.get("class") == "tick")
    gaps = np.diff(xs)
    assert gaps.min() >= 8, gaps  # px between the probability marks: their labels alternate above and below
    far = here > 2.5 * 1.08 * scale.baseline
    assert ("off the scale →" in svg_reader.texts(svg_reader.parse(chart.svg))) == far
    assert f"this example H(y, p) = {here:.3f} nats" in chart.alt


@pytest.mark.parametrize(
    ("classes", "unit", "here"), [(3, "nats", 13.8), (3, "nats", 2.5), (2, "bits", 0.2), (10, "nats", 30)]
)
def test_ruler_labels_never_overlap_and_always_name_log_c(classes, unit, here):
    chart = INF.loss_ruler(dc.loss_scale(classes, unit=unit), here=here, floor=0.0)
    labels = [el for el in svg_reader.parse(chart.svg).iter(f"{NS}text") if el.get("class") == "p-label"]
    for row in {el.get("y") for el in labels}:
        extents = sorted(
            (float(el.get("x")) - svg.text_width(el.text, 11) / 2, float(el.get("x")) + svg.text_width(el.text, 11) / 2)
            for el in labels
            if el.get("y") == row
        )
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(extents)), extents
    assert f"p = 1/{classes}" in [el.text for el in labels]


def test_each_class_cross_entropy_term_is_printed_while_there_is_room():
    d = NEGATIVE_TERMS
    values = [el.text for el in svg_reader.parse(INF.term_bars(d, ["x", "y", "z"]).svg).iter(f"{NS}text")]
    assert [v for v in values if v in {f"{t:.3f}" for t in d.cross_entropy_terms}] == [
        f"{t:.3f}" for t in d.cross_entropy_terms
    ]
    many = dc.decompose(np.full(8, 1 / 8), np.arange(1, 9) / 36)
    marks = {el.get("class") for el in svg_reader.parse(INF.term_bars(many, list("abcdefgh")).svg).iter(f"{NS}text")}
    assert "ce-value" not in marks  # eight classes: no room; the alt text has them
