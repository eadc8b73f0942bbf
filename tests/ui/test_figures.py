"""ui.figures: every builder's spec is valid plotly, marks the target without relying on colour,
labels ignored rows, escapes user text, and is pure (no Streamlit, inputs untouched)."""

from __future__ import annotations

import ast
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import xent_core as xc
from ui import figures, theme
from ui.state import Batch, batch_from_preset

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


@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize(("batch", "options"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_every_builder_gives_a_spec_plotly_validates(builder, batch, options):
    fig = builder(trace_of(batch, **options), batch.class_names)
    spec = fig.to_dict()
    validated = fig.validated()  # raises ValueError on any invalid property
    assert len(validated.data) == len(spec["data"])
    assert len(validated.layout.shapes) == len(spec["layout"].get("shapes", []))
    json.dumps(spec)  # what Streamlit sends: plain JSON, no numpy objects
    assert validated.layout.height == spec["layout"]["height"]


def test_probability_bars_has_one_bar_trace_per_class():
    trace = trace_of(batch_from_preset("five_class"))
    data = probability_bars(trace, ("cat", "dog", "plane", "fish", "building")).to_dict()["data"]
    assert [t["name"] for t in data] == ["cat", "dog", "plane", "fish", "building"]
    assert all(t["type"] == "bar" for t in data)
    np.testing.assert_allclose([t["x"][0] for t in data], trace.probs[0])


def test_probability_bars_hatch_exactly_the_target_points():
    batch = batch_from_preset("seed42")
    trace = trace_of(batch)
    data = probability_bars(trace, batch.class_names).to_dict()["data"]
    hatched = np.array([[shape == "/" for shape in t["marker"]["pattern"]["shape"]] for t in data]).T  # (N, C)
    np.testing.assert_array_equal(hatched, np.eye(3, dtype=bool)[batch.target])
    validated = probability_bars(trace, batch.class_names).validated()
    assert validated.data[batch.target[0]].marker.pattern.shape[0] == "/"


def test_probability_bars_hatch_the_dominant_soft_targets():
    target = np.array([[0.2, 0.8, 0.0], [0.4, 0.3, 0.3], [0.5, 0.5, 0.0]])
    data = figures.probability_bars(np.full((3, 3), 1 / 3), target, ("a", "b", "c")).to_dict()["data"]
    hatched = np.array([[shape == "/" for shape in t["marker"]["pattern"]["shape"]] for t in data]).T
    np.testing.assert_array_equal(hatched, [[0, 1, 0], [1, 1, 1], [1, 1, 0]])


def test_ignored_rows_are_labelled_in_probability_bars():
    batch = seed42(ignored=np.array([0, 1, 0, 0, 1, 0], bool))
    data = probability_bars(trace_of(batch), batch.class_names).to_dict()["data"]
    labels = [t for t in data if t["type"] == "scatter"]
    assert len(labels) == 1
    assert labels[0]["text"] == ["ignored", "ignored"]
    assert labels[0]["y"] == ["row 1", "row 4"]
    hatched_rows = {n for t in data[:3] for n, shape in enumerate(t["marker"]["pattern"]["shape"]) if shape}
    assert hatched_rows == {0, 2, 3, 5}  # an ignored row has no target to mark


def test_no_ignored_label_without_ignored_rows():
    batch = batch_from_preset("seed42")
    data = probability_bars(trace_of(batch), batch.class_names).to_dict()["data"]
    assert [t["type"] for t in data] == ["bar"] * 3


def test_loss_bars_draw_the_baseline_at_log_c():
    batch = batch_from_preset("batch3x4")
    trace = trace_of(batch)
    data = figures.loss_bars(trace.per_sample, trace.baseline, trace.ignored).to_dict()["data"]
    bars, baseline = data
    np.testing.assert_allclose(bars["x"], trace.per_sample)
    assert baseline["type"] == "scatter"
    assert baseline["x"] == [math.log(4), math.log(4)]
    assert baseline["y"] == ["row 0", "row 2"]
    assert baseline["line"]["dash"] == "dash"
    assert "log C = 1.386" in baseline["name"]


def test_loss_bars_label_ignored_rows():
    batch = seed42(ignored=np.array([0, 1, 0, 0, 0, 0], bool))
    trace = trace_of(batch)
    bars = figures.loss_bars(trace.per_sample, trace.baseline, trace.ignored).to_dict()["data"][0]
    assert bars["text"][1] == "ignored"
    assert bars["marker"]["color"][1] == theme.IGNORED
    assert bars["text"][0] == theme.fmt(trace.per_sample[0])
    assert "ignored" not in bars["text"][:1] + bars["text"][2:]


def test_loss_bars_axis_covers_the_largest_loss_and_the_baseline():
    per_sample = np.array([0.1, 5.0])
    layout = figures.loss_bars(per_sample, math.log(3)).to_dict()["layout"]
    assert layout["xaxis"]["range"][1] > 5.0
    layout = figures.loss_bars(np.array([0.0, 0.0]), math.log(3)).to_dict()["layout"]
    assert layout["xaxis"]["range"][1] > math.log(3)


def test_gradient_heatmap_outlines_exactly_the_target_cells():
    batch = batch_from_preset("seed42")
    trace = trace_of(batch)
    marked = figures.target_mask(trace.target_distribution)
    spec = figures.gradient_heatmap(trace.grad, batch.class_names, marked).to_dict()
    centres = {
        ((s["y0"] + s["y1"]) / 2, (s["x0"] + s["x1"]) / 2) for s in spec["layout"]["shapes"] if s["type"] == "rect"
    }
    assert centres == {(float(n), float(t)) for n, t in enumerate(batch.target)}
    heat = spec["data"][0]
    assert heat["x"] == list(batch.class_names)
    assert heat["y"] == [f"row {n}" for n in range(6)]
    np.testing.assert_array_equal(heat["z"], trace.grad)
    assert heat["zmin"] == -heat["zmax"]  # zero sits at the white middle of the diverging scale


def test_gradient_heatmap_has_no_outline_for_ignored_rows():
    batch = seed42(ignored=np.array([1, 0, 0, 0, 0, 0], bool))
    trace = trace_of(batch)
    shapes = gradient_heatmap(trace, batch.class_names).to_dict()["layout"]["shapes"]
    assert len(shapes) == 5
    assert all((s["y0"] + s["y1"]) / 2 != 0 for s in shapes)


def test_gradient_heatmap_pins_a_category_axis_for_numeric_class_names():
    trace = trace_of(Batch(np.array([[1.0, 2.0, 3.0]]), np.array([2]), ("3", "5", "8")))
    layout = gradient_heatmap(trace, ("3", "5", "8")).to_dict()["layout"]
    assert layout["xaxis"].get("type") == "category" or layout.get("autotypenumbers") == "strict"


def test_gradient_heatmap_prints_values_only_in_small_tables():
    small = trace_of(batch_from_preset("seed42"))
    assert "text" in gradient_heatmap(small, ("a", "b", "c")).to_dict()["data"][0]
    rng = np.random.default_rng(1)
    big = xc.cross_entropy_trace(rng.normal(size=(64, 20)), rng.integers(0, 20, 64))
    assert "text" not in gradient_heatmap(big, [str(c) for c in range(20)]).to_dict()["data"][0]


@pytest.mark.parametrize("builder", [probability_bars, gradient_heatmap])
def test_class_names_with_html_are_escaped_in_the_spec(builder):
    batch = seed42(class_names=HTML_NAMES)
    text = json.dumps(builder(trace_of(batch), batch.class_names).to_dict(), ensure_ascii=False)
    for name in HTML_NAMES:
        assert name not in text
    assert "&lt;b&gt;x&lt;/b&gt;" in text
    assert "a &amp; b" in text


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


def test_spec_figure_serialises_to_its_spec():
    fig = figures.loss_bars(np.array([0.5]), math.log(2))
    assert fig.to_plotly_json() is fig.to_dict()
    assert repr(fig) == "SpecFigure(2 traces)"


def test_theme_figure_merges_axes_with_the_house_axis():
    layout = theme.figure([], title=None, xaxis=dict(range=[0, 1])).to_dict()["layout"]
    assert layout["xaxis"]["range"] == [0, 1]
    assert layout["xaxis"]["gridcolor"] == theme.BASE_LAYOUT["xaxis"]["gridcolor"]
    assert layout["margin"]["t"] == 24
    theme.figure([], title="t").validated()


def test_pure_ui_modules_import_without_streamlit_or_torch():
    code = (
        "import sys\n"
        "import ui.figures, ui.theme, ui.tables, ui.state, ui.torch_check\n"
        "print(sorted(m for m in ('streamlit', 'torch') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("module", ["figures", "theme", "tables", "state", "torch_check"])
def test_pure_ui_module_never_imports_streamlit(module):
    tree = ast.parse((ROOT / "ui" / f"{module}.py").read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {name for name in imported if name.split(".")[0] == "streamlit"}
    assert "st" not in {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
