"""Pure figure builders for the loss comparison: xent_core.compare results in, an SVG chart out.

Same rules as ui/figures.py (and drawn with the same kit, ui/svg.py, for the same reason: these
charts change on every edit): user text escaped, colour never the only cue (each loss also has its
own dash pattern, true labels are hatched), the numbers summarised in `alt`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence

import numpy as np

from ui import svg, theme
from ui.svg import Key, SvgChart, SvgGallery
from xent_core.compare import LOSSES, Landscape, LossResult, MultiLabel, Sweep

# One colour and one dash per loss, the same on every chart of the page.
LOSS_STYLE = {
    "ce": (theme.BLUE, None),
    "smoothed_ce": (theme.SKY, "7 4"),
    "mse": (theme.ORANGE, "2 3"),
    "hinge": (theme.GREEN, "9 3 2 3"),
    "focal": (theme.PURPLE, "14 5"),
    "sigmoid": (theme.VERMILLION, "14 4 2 4"),
}
SEQUENTIAL = [[0.0, "#f7fbff"], [0.25, "#c6dbef"], [0.5, "#6baed6"], [0.75, "#2171b5"], [1.0, "#08306b"]]
LEFT = 52  # px: room for the y tick labels and the axis title


def loss_label(key: str) -> str:
    return LOSSES[key].name


def loss_key(key: str) -> Key:
    color, dash = LOSS_STYLE[key]
    return Key(loss_label(key), color, "line", dash)


def axis_title(canvas: svg.Canvas, text: str, x: float, y_mid: float) -> None:
    canvas.text(x, y_mid, text, size=11, anchor="middle", fill=svg.MUTED, rotate=-90)


def _finite_top(*arrays) -> float:
    tops = [float(np.max(a[np.isfinite(a)], initial=0.0)) for a in arrays]
    return max(tops, default=0.0)


def vertical_bars(
    canvas: svg.Canvas,
    groups: Sequence[str],
    series: Sequence[tuple[str, np.ndarray]],
    top: float,
    *,
    y0: float,
    plot_h: float,
    right: float,
    hatched: np.ndarray | None = None,
    percent: bool = False,
) -> None:
    """Grouped vertical bars: one group per label in `groups`, one bar per (colour, values) series.

    hatched: (groups, series) bool, bars that carry the target hatch. percent: ticks as 0%..100%.
    """
    ticks = [0, 0.25, 0.5, 0.75, 1.0] if percent else svg.nice_ticks(top)
    top = ticks[-1]
    step = ticks[1] - ticks[0]

    def y_of(v: float) -> float:
        return y0 + plot_h - v / top * plot_h

    labels = [f"{t:.0%}" for t in ticks] if percent else [svg.tick_label(t, step) for t in ticks]
    svg.y_axis(canvas, ticks, labels, y_of, LEFT, right)
    n, k = len(groups), len(series)
    group_w = (right - LEFT) / max(n, 1)
    bar_w = max(1.0, group_w * 0.8 / max(k, 1))
    every = max(1, int(np.ceil(n * 44 / (right - LEFT))))  # label every `every`-th group so labels never collide
    hatch = svg.add_hatch(canvas) if hatched is not None else None
    canvas.open_plot((0.0, 1.0), (LEFT, right), (0.0, top), (y0 + plot_h, y0))
    for g in range(n):
        x0 = LEFT + g * group_w + group_w * 0.1
        for s, (color, values) in enumerate(series):
            v = float(values[g])
            v = v if np.isfinite(v) else 0.0
            x, y = x0 + s * bar_w, y_of(min(v, top))
            canvas.rect(x, y, bar_w - (1 if bar_w > 3 else 0), y0 + plot_h - y, color, mark="bar")
            if hatched is not None and hatched[g, s]:
                canvas.rect(x, y, bar_w - 1, y0 + plot_h - y, hatch)
        if g % every == 0:
            canvas.text(
                LEFT + (g + 0.5) * group_w,
                y0 + plot_h + 10,
                svg.clip(groups[g], group_w * every, 11),
                size=11,
                anchor="middle",
            )
    canvas.close_plot()
    canvas.line(LEFT, y0 + plot_h, right, y0 + plot_h, "#c7ccd1")


def loss_bars_by_sample(results: Mapping[str, LossResult], row_labels: Sequence[str]) -> SvgChart:
    """Grouped bars: for each sample, one bar per loss, so their rankings of the samples can be compared."""
    width, right = 440, 430  # px: ~0.75× on a 360 px phone
    canvas = svg.Canvas(width, 0)
    keys = [Key(loss_label(key), LOSS_STYLE[key][0]) for key in results]
    y0 = svg.legend(canvas, keys, LEFT, 12, right) + 8
    plot_h = 220
    top = _finite_top(*(r.per_sample for r in results.values())) * 1.05
    series = [(LOSS_STYLE[key][0], r.per_sample) for key, r in results.items()]
    vertical_bars(canvas, row_labels, series, top, y0=y0, plot_h=plot_h, right=right)
    axis_title(canvas, "loss", 12, y0 + plot_h / 2)
    canvas.height = int(y0 + plot_h + 24)
    rows = [
        f"{row_labels[n]}: "
        + ", ".join(f"{loss_label(key)} {theme.fmt(r.per_sample[n])}" for key, r in results.items())
        for n in range(min(len(row_labels), svg.SUMMARY_ROWS))
    ]
    return SvgChart(
        canvas.document(),
        title="Each loss on each sample",
        alt="Grouped bars, one group per sample, one bar per loss. " + svg.summary(rows, len(row_labels)),
        width=canvas.width,
        height=canvas.height,
    )


def sweep_chart(sweep: Sweep, here: float, *, x: str = "margin") -> SvgChart:
    """Loss (top panel) and |d loss / d z_t| (bottom panel) of each loss along the sweep; the sample's own place dotted.

    x: "margin" (z_t minus the strongest other logit) or "prob" (the target's softmax probability).
    here: the sample's own x, in the same unit.
    """
    width, right = 440, 428  # px: beside its explanation on a desktop, ~0.8× (10 px text) on a 360 px phone
    xs = np.asarray(sweep.margin if x == "margin" else sweep.prob, dtype=float)
    lo, hi = float(xs.min()), float(xs.max())
    if x == "prob":
        lo, hi = 0.0, 1.0
    canvas = svg.Canvas(width, 0)
    y_top = svg.legend(canvas, [loss_key(key) for key in sweep.loss], LEFT, 12, right) + 8

    def x_of(v):
        return LEFT + (np.asarray(v, dtype=float) - lo) / ((hi - lo) or 1.0) * (right - LEFT)

    if x == "prob":
        x_ticks, x_labels = [0, 0.25, 0.5, 0.75, 1.0], ["0%", "25%", "50%", "75%", "100%"]
    else:
        step = 2.0 if hi - lo <= 30 else 5.0
        x_ticks = np.arange(np.ceil(lo / step) * step, hi + 1e-9, step).tolist()
        x_labels = [f"{t:g}" for t in x_ticks]
    panels = (
        ("loss", {key: sweep.loss[key] for key in sweep.loss}, 210),
        ("the push", {key: np.abs(sweep.target_grad[key]) for key in sweep.loss}, 150),
    )
    px = x_of(xs)
    hx = float(x_of(here))
    y0 = y_top
    for title, curves, plot_h in panels:
        top = _finite_top(*curves.values()) * 1.05 or 1.0
        ticks = svg.nice_ticks(top)
        top, step = ticks[-1], ticks[1] - ticks[0]

        def y_of(v, y0=y0, plot_h=plot_h, top=top):
            return y0 + plot_h - np.minimum(np.asarray(v, dtype=float), top) / top * plot_h

        for t in x_ticks:
            canvas.line(float(x_of(t)), y0, float(x_of(t)), y0 + plot_h, svg.GRID)
        svg.y_axis(canvas, ticks, [svg.tick_label(t, step) for t in ticks], y_of, LEFT, right)
        axis_title(canvas, title, 12, y0 + plot_h / 2)
        canvas.open_plot((lo, hi), (LEFT, right), (0.0, top), (y0 + plot_h, y0))
        for key, values in curves.items():
            color, dash = LOSS_STYLE[key]
            canvas.polyline(px, y_of(values), color, width=2.5, dash=dash, mark=f"curve-{key}")
        canvas.close_plot()
        canvas.line(LEFT, y0 + plot_h, right, y0 + plot_h, "#c7ccd1")
        canvas.line(hx, y0, hx, y0 + plot_h, theme.INK, width=1.2, dash="2 3", mark="here")
        y0 += plot_h + 28
    canvas.text(hx + 4, y_top + 8, "this sample", size=11)
    for t, label in zip(x_ticks, x_labels, strict=True):
        canvas.text(float(x_of(t)), y0 - 4, label, size=11, anchor="middle", fill=svg.MUTED)
    x_title = "z_t − strongest other logit (negative: wrong, positive: right)" if x == "margin" else "p_t"
    canvas.text((LEFT + right) / 2, y0 + 14, x_title, size=11, anchor="middle", fill=svg.MUTED)
    canvas.height = int(y0 + 26)

    at = int(np.argmin(np.abs(xs - here)))
    unit = "margin" if x == "margin" else "p_t"
    parts = [
        f"{loss_label(key)} loss {theme.fmt(sweep.loss[key][at])}, push {theme.fmt(abs(sweep.target_grad[key][at]))}"
        for key in sweep.loss
    ]
    return SvgChart(
        canvas.document(),
        title="Moving the target logit from confidently wrong to confidently right",
        alt=f"Line charts of each loss (top) and of its push on the target logit (bottom) against the {unit}, "
        f"from {lo:.3g} to {hi:.3g}. At this sample ({unit} {here:.3g}): " + "; ".join(parts) + ".",
        width=canvas.width,
        height=canvas.height,
    )


@functools.lru_cache(maxsize=64)
def _raster(loss: bytes, shape: tuple[int, int], zmax: float) -> str:
    """A landscape's loss grid (float64 bytes, v ascending by rows) as a PNG data URL, top row first.
    Cached: the grids themselves come from a cache, and moving the sample's marker reuses its picture."""
    grid = np.frombuffer(loss, dtype=np.float64).reshape(shape)
    return svg.png_data_url(svg.colormap(grid[::-1], SEQUENTIAL, 0.0, zmax))


def landscape_panels(
    landscapes: Mapping[str, Landscape],
    class_names: Sequence[str],
    target: int,
    *,
    shared_scale: bool = True,
    arrows: int = 9,
) -> SvgGallery:
    """Small multiples, one loss surface per loss over (z_a − z_t, z_b − z_t), arrows pointing downhill.

    One panel per loss, each complete (title, axes, colour bar), so that the panels can wrap: four
    in a row on a desktop, one per row at full size on a phone. Each surface is a raster (its grid of
    losses as a smoothed PNG); the arrows are −gradient on at most `arrows` points per side.
    shared_scale: one colour scale and one arrow length for every panel (compare magnitudes), or
    each panel on its own (compare shapes).
    """
    keys = list(landscapes)
    if not keys:
        canvas = svg.Canvas(300, 40)
        canvas.text(8, 20, "Pick at least one loss.", size=13)
        return SvgGallery("Loss landscapes", (SvgChart(canvas.document(), "", "No loss picked.", 300, 40),))
    first = landscapes[keys[0]]
    a, b = first.rivals
    name_t, name_a, name_b = (str(class_names[i]) for i in (target, a, b))
    top = max(_finite_top(land.loss) for land in landscapes.values()) or 1.0
    strongest = max(_finite_top(np.hypot(land.grad_u, land.grad_v)) for land in landscapes.values()) or 1.0
    panels = []
    for key in keys:
        land = landscapes[key]
        zmax = top if shared_scale else (_finite_top(land.loss) or 1.0)
        unit = strongest if shared_scale else (_finite_top(np.hypot(land.grad_u, land.grad_v)) or 1.0)
        svg_text = _landscape_panel(land, loss_label(key), (name_t, name_a, name_b), zmax, unit, arrows)
        panels.append(
            SvgChart(
                svg_text,
                title=loss_label(key),
                alt=f"Loss landscape of {loss_label(key)} over z({name_a}) − z({name_t}) across and z({name_b}) − "
                f"z({name_t}) up, darker is a higher loss (scale 0 to {zmax:.3g}): from "
                f"{theme.fmt(np.nanmin(land.loss))} to {theme.fmt(np.nanmax(land.loss))}; this sample at "
                f"({land.here[0]:.3g}, {land.here[1]:.3g}).",
                width=PANEL_WIDTH,
                height=PANEL_HEIGHT,
            )
        )
    scale = "one colour scale for all" if shared_scale else "each on its own colour scale"
    return SvgGallery(
        f"Loss over two rival logits (target {name_t}); arrows point downhill, ✕ marks this sample, {scale}",
        tuple(panels),
    )


PANEL_SIDE, PANEL_TOP = 170, 28  # px: the square map, and the room above it for the title
PANEL_WIDTH = LEFT + PANEL_SIDE + 52  # the map, then the colour bar and its labels
PANEL_HEIGHT = PANEL_TOP + PANEL_SIDE + 40  # tick labels and the axis title below


def _landscape_panel(land: Landscape, title: str, names: tuple[str, str, str], zmax: float, unit: float, arrows: int):
    """One loss's map as an SVG document: raster, arrows of length ∝ |gradient| / unit, the sample's ✕,
    axes in logit differences, and a colour bar from 0 to zmax."""
    name_t, name_a, name_b = names
    side, x0, y0 = PANEL_SIDE, LEFT, PANEL_TOP
    canvas = svg.Canvas(PANEL_WIDTH, PANEL_HEIGHT)
    canvas.defs.append(
        '<marker id="head" viewBox="0 0 6 6" refX="5" refY="3" markerWidth="3.2" markerHeight="3.2" orient="auto">'
        '<path d="M0,0 L6,3 L0,6 z" fill="#1f2933" fill-opacity="0.75"/></marker>'
        f'<clipPath id="map"><rect x="{x0}" y="{y0}" width="{side}" height="{side}"/></clipPath>'
    )
    u0, u1, v0, v1 = float(land.u[0]), float(land.u[-1]), float(land.v[0]), float(land.v[-1])

    def px(u):
        return x0 + (np.asarray(u, dtype=float) - u0) / ((u1 - u0) or 1.0) * side

    def py(v):
        return y0 + side - (np.asarray(v, dtype=float) - v0) / ((v1 - v0) or 1.0) * side

    canvas.image(
        x0, y0, side, side, _raster(np.ascontiguousarray(land.loss, dtype=np.float64).tobytes(), land.loss.shape, zmax)
    )
    canvas.rect(x0, y0, side, side, "none", stroke="#c7ccd1", stroke_width=1)
    canvas.text(x0 + side / 2, 12, svg.clip(title, PANEL_WIDTH - 8, 12), size=12, anchor="middle", bold=True)

    stride = max(1, math.ceil(len(land.u) / arrows))  # at most `arrows` per side
    length = side / len(land.u) * stride * 0.9 / unit  # px per unit of gradient
    gu, gv = -land.grad_u[::stride, ::stride], -land.grad_v[::stride, ::stride]
    uu, vv = np.meshgrid(land.u[::stride], land.v[::stride])
    keep = np.hypot(gu, gv) >= unit * 0.02
    xs, ys = px(uu[keep]), py(vv[keep])
    xe, ye = xs + gu[keep] * length, ys - gv[keep] * length
    canvas.parts.append('<g clip-path="url(#map)">')
    for x1, y1, x2, y2 in zip(xs.tolist(), ys.tolist(), xe.tolist(), ye.tolist(), strict=True):
        canvas.parts.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#1f2933" '
            'stroke-opacity="0.6" stroke-width="1.5" marker-end="url(#head)" class="arrow"/>'
        )
    canvas.parts.append("</g>")
    hx, hy = float(px(np.clip(land.here[0], u0, u1))), float(py(np.clip(land.here[1], v0, v1)))
    for color, w in (("white", 4.5), (theme.VERMILLION, 2.2)):
        canvas.line(hx - 6, hy - 6, hx + 6, hy + 6, color, width=w, mark="here")
        canvas.line(hx - 6, hy + 6, hx + 6, hy - 6, color, width=w)

    for u in (u0, (u0 + u1) / 2, u1):
        canvas.text(float(px(u)), y0 + side + 10, f"{u:.3g}", size=10, anchor="middle", fill=svg.MUTED)
    canvas.text(
        x0 + side / 2,
        y0 + side + 28,
        svg.clip(f"z({name_a}) − z({name_t})", side, 11),
        size=11,
        anchor="middle",
        fill=svg.MUTED,
    )
    for v in (v0, (v0 + v1) / 2, v1):
        canvas.text(x0 - 4, float(py(v)), f"{v:.3g}", size=10, anchor="end", fill=svg.MUTED)
    axis_title(canvas, svg.clip(f"z({name_b}) − z({name_t})", side, 11), 12, y0 + side / 2)

    bx = x0 + side + 10
    stops = "".join(f'<stop offset="{1 - s:g}" stop-color="{c}"/>' for s, c in reversed(SEQUENTIAL))
    canvas.defs.append(f'<linearGradient id="seq" x1="0" y1="0" x2="0" y2="1">{stops}</linearGradient>')
    canvas.rect(bx, y0, 10, side, "url(#seq)", stroke="#c7ccd1", stroke_width=0.5, mark="scale")
    canvas.text(bx + 13, y0 + 4, f"{zmax:.3g}", size=10, fill=svg.MUTED)
    canvas.text(bx + 13, y0 + side - 4, "0", size=10, fill=svg.MUTED)
    canvas.text(bx + 13, y0 + side / 2, "loss", size=10, fill=svg.MUTED)
    return canvas.document()


def multilabel_bars(ml: MultiLabel, row: int, labels: np.ndarray, class_names: Sequence[str]) -> SvgChart:
    """One row's probabilities under sigmoid (each class alone) and softmax (shares of one), 0.5 dotted.

    labels: (N, C) 0/1; the true classes are hatched.
    """
    width, right = 440, 428  # px: ~0.8× on a 360 px phone
    canvas = svg.Canvas(width, 0)
    true = labels[row].astype(bool)
    keys = [
        Key("sigmoid (each class alone)", theme.BLUE),
        Key("softmax (shares of one)", theme.ORANGE),
        Key("true label", f"url(#{svg.HATCH_ID})", "hatch"),
    ]
    y0 = svg.legend(canvas, keys, LEFT, 12, right) + 8
    plot_h = 220
    series = [(theme.BLUE, ml.sigmoid_probs[row]), (theme.ORANGE, ml.softmax_probs[row])]
    names = [str(x) for x in class_names]
    hatched = np.column_stack([true, true])
    vertical_bars(canvas, names, series, 1.0, y0=y0, plot_h=plot_h, right=right, hatched=hatched, percent=True)
    half = y0 + plot_h / 2
    canvas.line(LEFT, half, right, half, theme.INK, width=1.2, dash="2 3", mark="half")
    canvas.height = int(y0 + plot_h + 24)
    parts = [
        f"{names[c]}{' (true)' if true[c] else ''}: sigmoid {ml.sigmoid_probs[row, c]:.0%}, softmax "
        f"{ml.softmax_probs[row, c]:.0%}"
        for c in range(len(names))
    ]
    return SvgChart(
        canvas.document(),
        title="Probabilities of each class (hatched: a true label; dotted: 50%)",
        alt=f"Row {row}. " + "; ".join(parts) + ".",
        width=canvas.width,
        height=canvas.height,
    )
