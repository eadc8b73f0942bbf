"""ui.figures and ui.svg: every chart is well-formed SVG that draws its numbers to scale, marks the target
without relying on colour, labels ignored rows, escapes user text, summarises itself in alt text, and is
pure (no Streamlit, inputs untouched)."""

from __future__ import annotations

import ast
import math
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import xent_core as xc
from ui import figures, svg, theme
from ui.state import Batch, batch_from_preset
from ui.svg import SvgChart

ROOT = Path(__file__).resolve().parents[2]
HTML_NAMES = ("<b>x</b>", "a & b", "<script>alert(1)</script>")


def trace_of(batch: Batch, **options) -> xc.CrossEntropyTrace:
    return xc.cross_entropy_trace(batch.logits, batch.loss_target(), weight=batch.weight, **options)


def seed42(ignored=None, class_names=None) -> Batch:
    b = batch_from_preset("seed42")
    return Batch(b.logits, b.target, class_names or b.class_names, ignored=ignored)


def probability_bars(trace, names):
    return figures.probability_bars(trace.probs, trace.target_distribution, names, trace.ignored)


def loss_bars(trace, names):
    return figures.loss_bars(trace.per_sample, trace.baseline, trace.ignored)


def gradient_heatmap(trace, names):
    return figures.gradient_heatmap(trace.grad, names, figures.target_mask(trace.target_distribution))


BUILDERS = [probability_bars, loss_bars, gradient_heatmap]


def cases():
    """(id, batch, options): presets, ignored rows, probability targets, big tables, overflowing logits."""
    for key, preset in xc.PRESETS.items():
        if preset.logits.ndim == 2:
            yield key, batch_from_preset(key), {}
    yield "ignored rows", seed42(ignored=np.array([0, 1, 0, 0, 1, 0], bool)), {}
    yield "html names", seed42(class_names=HTML_NAMES), {}
    probs = Batch(np.array([[1.0, 2.0, 0.5], [0.0, 0.0, 0.0]]), np.array([0, 0]), ("a", "b", "c"))
    probs = probs.with_target_mode("probs")
    yield (
        "probability targets",
        Batch(probs.logits, probs.target, probs.class_names, np.array([[0.2, 0.8, 0.0], [0.4, 0.3, 0.3]])),
        {},
    )
    yield "smoothing and temperature", batch_from_preset("batch3x4"), {"label_smoothing": 0.2, "temperature": 2.5}
    rng = np.random.default_rng(0)
    big = Batch(rng.normal(size=(64, 20)), rng.integers(0, 20, 64), tuple(f"class {c}" for c in range(20)))
    yield "64 x 20", big, {"reduction": "sum"}
    yield "huge logits", Batch(np.array([[1e4, 0.0], [-1e4, 1e4]]), np.array([0, 0]), ("a", "b")), {}
    yield "one row all ignored", Batch(np.zeros((1, 2)), np.array([1]), ("a", "b"), ignored=np.array([True])), {}


CASES = list(cases())
SVG = "{http://www.w3.org/2000/svg}"


def parse(chart: SvgChart) -> ET.Element:
    """The chart's SVG as an element tree (raises on malformed markup)."""
    return ET.fromstring(chart.svg)


def rects(root: ET.Element, **attrs) -> list[dict]:
    """Every rect whose attributes include `attrs`, with numeric geometry."""
    out = []
    for el in root.iter(f"{SVG}rect"):
        a = dict(el.attrib)
        if all(a.get(k.rstrip("_")) == v for k, v in attrs.items()) and "x" in a:
            out.append({**a, **{k: float(a[k]) for k in ("x", "y", "width", "height")}})
    return out


def texts(root: ET.Element) -> list[str]:
    return [el.text or "" for el in root.iter(f"{SVG}text")]


def segments(root: ET.Element, colors: list[str]) -> dict[float, list[dict]]:
    """Probability-bar segments (plain rects in a class colour), grouped by row (their y), left to right."""
    rows: dict[float, list[dict]] = {}
    for r in rects(root):
        if r["fill"] in colors and "class" not in r:
            rows.setdefault(r["y"], []).append(r)
    return {y: sorted(v, key=lambda r: r["x"]) for y, v in sorted(rows.items())}


@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize(("batch", "options"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_every_chart_is_well_formed_svg_inside_its_canvas(builder, batch, options):
    chart = builder(trace_of(batch, **options), batch.class_names)
    root = parse(chart)
    assert (root.get("width"), root.get("height")) == (str(chart.width), str(chart.height))
    assert root.get("viewBox") == f"0 0 {chart.width} {chart.height}"
    for r in rects(root):
        assert r["x"] >= -0.5, r
        assert r["x"] + r["width"] <= chart.width + 0.5, r
        assert r["y"] >= -0.5, r
        assert r["y"] + r["height"] <= chart.height + 0.5, r
    for el in root.iter(f"{SVG}text"):
        assert 0 <= float(el.get("y")) <= chart.height
    n = batch.num_samples
    assert chart.title
    assert chart.alt
    assert [f"row {r}:" in chart.alt for r in range(n)][: min(n, 8)] == [True] * min(n, 8)
    assert ("more rows" in chart.alt) == ((n > 8 and builder is not loss_bars) or n > 16)


def test_probability_segments_are_proportional_and_fill_each_bar():
    batch = batch_from_preset("five_class")
    trace = trace_of(batch)
    chart = probability_bars(trace, batch.class_names)
    colors = [theme.class_color(k) for k in range(5)]
    rows = list(segments(parse(chart), colors).values())
    assert len(rows) == batch.num_samples
    for r, row in enumerate(rows):
        assert [s["fill"] for s in row] == colors
        left, right = row[0]["x"], row[-1]["x"] + row[-1]["width"]
        span = right - left + 1  # the last segment gives up its 1 px gap too (unless it is a sliver)
        np.testing.assert_allclose([s["width"] for s in row], trace.probs[r] * span, atol=1.6)


def hatched(chart: SvgChart, num_classes: int) -> np.ndarray:
    """(N, C) bool: which segments carry the target hatch, found by position."""
    root = parse(chart)
    rows = segments(root, [theme.class_color(k) for k in range(num_classes)])
    out = np.zeros((len(rows), num_classes), dtype=bool)
    marks = {(h["x"], h["y"]) for h in rects(root, fill="url(#hatch)") if "class" not in h}
    for r, (y, row) in enumerate(rows.items()):
        for k, seg in enumerate(row):
            out[r, k] = (seg["x"], y) in marks
    assert out.sum() == len(marks) == len(rects(root, class_="target"))  # each hatch has its outline
    return out


def test_probability_bars_hatch_exactly_the_target_segments():
    batch = batch_from_preset("seed42")
    chart = probability_bars(trace_of(batch), batch.class_names)
    np.testing.assert_array_equal(hatched(chart, 3), np.eye(3, dtype=bool)[batch.target])
    assert "class 0 70% (target)" in chart.alt


def test_probability_bars_hatch_the_dominant_soft_targets():
    target = np.array([[0.2, 0.8, 0.0], [0.4, 0.3, 0.3], [0.5, 0.5, 0.0]])
    probs = np.array([[0.3, 0.4, 0.3], [0.2, 0.5, 0.3], [0.3, 0.3, 0.4]])
    chart = figures.probability_bars(probs, target, ("a", "b", "c"))
    np.testing.assert_array_equal(hatched(chart, 3), [[0, 1, 0], [1, 1, 1], [1, 1, 0]])


def test_probability_bars_label_and_fade_ignored_rows():
    batch = seed42(ignored=np.array([0, 1, 0, 0, 1, 0], bool))
    chart = probability_bars(trace_of(batch), batch.class_names)
    root = parse(chart)
    assert texts(root).count("ignored") == 2
    faded = [g for g in root.iter(f"{SVG}g") if g.get("opacity") == "0.35"]
    assert len(faded) == 2
    np.testing.assert_array_equal(hatched(chart, 3).any(axis=1), [1, 0, 1, 1, 0, 1])  # nothing to mark when ignored
    assert "row 1: ignored" in chart.alt
    plain = probability_bars(trace_of(seed42()), seed42().class_names)
    assert "ignored" not in texts(parse(plain))


def test_probability_bars_print_percentages_that_fit():
    batch = batch_from_preset("seed42")
    trace = trace_of(batch)
    printed = set(texts(parse(probability_bars(trace, batch.class_names))))
    assert {f"{round(p * 100)}%" for p in trace.probs.ravel() if p > 0.2} <= printed


def test_loss_bars_are_proportional_and_labelled_with_their_values():
    batch = batch_from_preset("batch3x4")
    trace = trace_of(batch)
    chart = figures.loss_bars(trace.per_sample, trace.baseline, trace.ignored)
    root = parse(chart)
    bars = rects(root, class_="loss")
    widths = np.array([b["width"] for b in bars])
    np.testing.assert_allclose(widths / widths.max(), trace.per_sample / trace.per_sample.max(), atol=2e-3)
    for value in trace.per_sample:
        assert theme.fmt(value) in texts(root)
    (line,) = [el for el in root.iter(f"{SVG}line") if el.get("class") == "baseline"]
    assert line.get("stroke-dasharray")
    x_base = float(line.get("x1"))
    x0, px_per_unit = bars[0]["x"], widths.max() / trace.per_sample.max()
    assert x_base == pytest.approx(x0 + math.log(4) * px_per_unit, abs=0.2)
    assert "log C = 1.386" in " ".join(texts(root))


def test_loss_bars_label_ignored_rows_and_draw_no_bar():
    batch = seed42(ignored=np.array([0, 1, 0, 0, 0, 0], bool))
    trace = trace_of(batch)
    chart = figures.loss_bars(trace.per_sample, trace.baseline, trace.ignored)
    root = parse(chart)
    assert len(rects(root, class_="loss")) == 5
    assert texts(root).count("ignored") == 1
    assert "row 1: ignored" in chart.alt


def test_loss_bars_axis_covers_the_largest_loss_and_the_baseline():
    def last_tick(per_sample, baseline):
        labels = texts(parse(figures.loss_bars(per_sample, baseline)))
        return max(float(t) for t in labels if re.fullmatch(r"\d+(\.\d+)?", t))

    assert last_tick(np.array([0.1, 5.0]), math.log(3)) >= 5.0
    assert last_tick(np.array([0.0, 0.0]), math.log(3)) >= math.log(3)


def test_loss_bars_survive_non_finite_losses():
    chart = figures.loss_bars(np.array([np.inf, np.nan, 1.0]), math.log(2))
    printed = texts(parse(chart))
    assert "∞" in printed
    assert "—" in printed
    assert "1.0000" in printed


def test_gradient_heatmap_colours_by_sign_and_outlines_the_targets():
    batch = batch_from_preset("seed42")
    trace = trace_of(batch)
    marked = figures.target_mask(trace.target_distribution)
    chart = figures.gradient_heatmap(trace.grad, batch.class_names, marked)
    root = parse(chart)
    cells = [r for r in rects(root) if "class" not in r and "stroke" not in r and r["fill"].startswith("#")]
    cells = [c for c in cells if c["fill"] != "white" and c["width"] > 20]
    assert len(cells) == trace.grad.size
    cells.sort(key=lambda c: (c["y"], c["x"]))
    for cell, g in zip(cells, trace.grad.ravel(), strict=True):
        r, _, b = (int(cell["fill"][i : i + 2], 16) for i in (1, 3, 5))
        if abs(g) > 0.02:
            assert (r > b) == (g < 0), (cell["fill"], g)  # orange below zero, blue above
    outlines = sorted((o["y"], o["x"]) for o in rects(root, class_="target"))
    assert len(outlines) == batch.num_samples
    xs = sorted({c["x"] for c in cells})
    assert [xs.index(x - 2) for _, x in outlines] == batch.target.tolist()
    printed = texts(root)
    assert f"{trace.grad[1, 1]:+.3f}".replace("-", "−") in printed
    assert list(batch.class_names) == printed[:3]


def test_gradient_heatmap_has_no_outline_for_ignored_rows():
    batch = seed42(ignored=np.array([1, 0, 0, 0, 0, 0], bool))
    assert len(rects(parse(gradient_heatmap(trace_of(batch), batch.class_names)), class_="target")) == 5


def test_gradient_heatmap_prints_values_only_while_rows_are_tall_enough():
    def cell_values(trace, names):
        root = parse(gradient_heatmap(trace, names))
        (scale,) = rects(root, fill="url(#scale)")
        return [el.text for el in root.iter(f"{SVG}text") if float(el.get("x")) < scale["x"] and el.text[0] in "+−"]

    small = trace_of(batch_from_preset("seed42"))
    assert len(cell_values(small, ("a", "b", "c"))) == small.grad.size
    rng = np.random.default_rng(1)
    big = xc.cross_entropy_trace(rng.normal(size=(64, 20)), rng.integers(0, 20, 64))
    assert cell_values(big, [str(c) for c in range(20)]) == []


def test_gradient_heatmap_scale_is_symmetric_about_zero():
    grad = np.array([[-0.5, 0.1], [0.2, 0.2]])
    printed = texts(parse(figures.gradient_heatmap(grad, ("a", "b"), np.eye(2, dtype=bool))))
    assert "+0.5" in printed
    assert "−0.5" in printed
    assert "0" in printed


@pytest.mark.parametrize("builder", [probability_bars, gradient_heatmap])
def test_class_names_with_markup_are_escaped(builder):
    batch = seed42(class_names=HTML_NAMES)
    chart = builder(trace_of(batch), batch.class_names)
    root = parse(chart)  # well-formed despite the names
    assert not list(root.iter(f"{SVG}script"))
    assert not list(root.iter(f"{SVG}b"))
    for name in HTML_NAMES:
        assert name not in chart.svg
    assert "&lt;b&gt;x&lt;/b&gt;" in chart.svg
    assert "a &amp; b" in chart.svg
    assert any(t in ("<b>x</b>", "a & b") for t in texts(root))  # the reader sees the name as typed


def test_long_class_names_are_clipped_to_their_column():
    names = ("a" * 40, "b", "c")
    grad = np.zeros((1, 3))
    printed = texts(parse(figures.gradient_heatmap(grad, names, np.zeros((1, 3), dtype=bool))))
    assert printed[0].endswith("…")
    assert len(printed[0]) < 12


def test_target_mask_marks_the_largest_target_weights():
    distribution = np.array([[0.0, 1.0, 0.0], [0.5, 0.25, 0.25], [0.0, 0.0, 0.0], [0.05, 0.9, 0.05]])
    np.testing.assert_array_equal(figures.target_mask(distribution), [[0, 1, 0], [1, 1, 1], [0, 0, 0], [0, 1, 0]])


@pytest.mark.parametrize("builder", BUILDERS)
def test_builders_do_not_mutate_their_inputs(builder):
    batch = seed42(ignored=np.array([0, 1, 0, 0, 0, 0], bool))
    trace = trace_of(batch, label_smoothing=0.1)
    arrays = (trace.probs, trace.target_distribution, trace.ignored, trace.per_sample, trace.grad)
    before = [a.copy() for a in arrays]
    for a in arrays:
        a.setflags(write=False)  # any in-place write raises
    names = list(batch.class_names)
    builder(trace, names)
    assert names == list(batch.class_names)
    for a, b in zip(arrays, before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_nice_ticks_cover_the_range_with_round_steps():
    for top in (0.01, 0.7, 1.0, 3.3, 4.41, 17.0, 1234.0):
        ticks = svg.nice_ticks(top)
        step = ticks[1] - ticks[0]
        assert ticks[0] == 0
        assert ticks[-1] >= top - 1e-12
        assert ticks[-1] - step < top
        assert 3 <= len(ticks) <= 7
        mantissa = step / 10 ** math.floor(math.log10(step))
        assert any(math.isclose(mantissa, m) for m in (1, 2, 2.5, 5))
    assert svg.nice_ticks(0.0) == svg.nice_ticks(math.nan) == [0.0, 1.0]
    assert [svg.tick_label(t, 0.25) for t in (0, 0.25, 0.5)] == ["0.00", "0.25", "0.50"]
    assert svg.tick_label(4.0, 2.0) == "4"


def test_diverging_colours_hit_the_scale_stops():
    assert svg.diverging(np.array([-2.0, 0.0, 2.0, 9.0, np.nan]), 2.0) == [
        theme.DIVERGING[0][1],
        theme.DIVERGING[2][1],
        theme.DIVERGING[-1][1],
        theme.DIVERGING[-1][1],
        theme.DIVERGING[2][1],
    ]


def test_text_colour_contrasts_with_its_background():
    assert svg.ink_on("#ffffff") == theme.INK
    assert svg.ink_on(theme.YELLOW) == theme.INK
    assert svg.ink_on("#2166ac") == "#ffffff"


def test_chart_shows_its_title_then_the_image_with_alt_text():
    calls = []

    class Recorder:
        def markdown(self, text):
            calls.append(("markdown", text))

        def image(self, image, alt, width):
            calls.append(("image", image[:4], alt, width))

    chart = figures.loss_bars(np.array([0.5]), math.log(2))
    chart.show(Recorder())
    assert calls == [("markdown", f"**{theme.md_escape(chart.title)}**"), ("image", "<svg", chart.alt, "content")]


def test_theme_figure_merges_axes_with_the_house_axis():
    layout = theme.figure([], title=None, xaxis=dict(range=[0, 1])).to_dict()["layout"]
    assert layout["xaxis"]["range"] == [0, 1]
    assert layout["xaxis"]["gridcolor"] == theme.BASE_LAYOUT["xaxis"]["gridcolor"]
    assert layout["margin"]["t"] == 24
    fig = theme.figure([dict(type="bar", x=[1])], title="t")
    assert fig.to_plotly_json() is fig.to_dict()
    assert repr(fig) == "SpecFigure(1 traces)"
    fig.validated()


def test_pure_ui_modules_import_without_streamlit_or_torch():
    code = (
        "import sys\n"
        "import ui.figures, ui.svg, ui.theme, ui.tables, ui.state, ui.torch_check\n"
        "print(sorted(m for m in ('streamlit', 'torch') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("module", ["figures", "svg", "theme", "tables", "state", "torch_check"])
def test_pure_ui_module_never_imports_streamlit(module):
    tree = ast.parse((ROOT / "ui" / f"{module}.py").read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {name for name in imported if name.split(".")[0] == "streamlit"}
    assert "st" not in {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
