"""Pure figure builders for the information page: xent_core.decomposition results in, an SVG chart out.

Drawn with the server-side kit (ui/svg.py), as on the playground and the comparison: each of these
charts changes on every edit, and a plotly figure costs the browser tens of ms to rebuild where an image
costs one decode. What hover gave is printed instead: the totals on the bars and in the page's
metrics, y and p in its table, each class's cross-entropy term over its tick (up to six classes);
every value is also in the charts' `alt` text.

The decomposition H(y, p) = H(y) + KL(y || p) is one stacked bar beside the entropy alone, so the
shared part lines up; the uniform-guess baseline log C is a dashed line. Patterns, markers and text
labels carry what colour carries.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ui import svg, theme
from ui.loss_figures import LEFT, axis_title, vertical_bars
from ui.svg import Key, SvgChart
from xent_core.decomposition import Decomposition, LossScale

ENTROPY = theme.BLUE
KL = theme.ORANGE
PRED = theme.GREEN
WIDTH, RIGHT = 440, 428  # px: ~0.8× on a 360 px phone
BASELINE_DASH = "6 4"
AXIS = "#c7ccd1"


def _num(x: float, unit: str) -> str:
    return f"{theme.fmt(x, 3)} {unit}" if math.isfinite(x) else "∞"


def _chart(canvas: svg.Canvas, title: str, alt: str) -> SvgChart:
    return SvgChart(canvas.document(), title=title, alt=alt, width=canvas.width, height=canvas.height)


def decomposition_bars(d: Decomposition) -> SvgChart:
    """Two stacked bars: H(y) alone, and H(y, p) = H(y) + KL(y || p); log C dashed across.

    An infinite KL (p = 0 where y > 0) is drawn to the top of the plot and labelled ∞.
    """
    unit, finite = d.unit, math.isfinite(d.kl)
    canvas = svg.Canvas(WIDTH, 0)
    keys = [
        Key("H(y): the target's own uncertainty", ENTROPY),
        Key("KL(y ‖ p): the prediction's excess", KL),
        Key(f"uniform guess: log C = {_num(d.baseline, unit)}", theme.BASELINE, "line", BASELINE_DASH),
    ]
    y0 = svg.legend(canvas, keys, LEFT, 12, RIGHT) + 22  # room for the total above the bar
    plot_h = 240
    ticks = svg.nice_ticks(max(d.baseline, d.entropy + (d.kl if finite else d.baseline)) * 1.2 or 1.0)
    top, step = ticks[-1], ticks[1] - ticks[0]

    def y_of(v: float) -> float:
        return y0 + plot_h - min(v, top) / top * plot_h

    svg.y_axis(canvas, ticks, [svg.tick_label(t, step) for t in ticks], y_of, LEFT, RIGHT)
    axis_title(canvas, unit, 12, y0 + plot_h / 2)
    group_w = (RIGHT - LEFT) / 2
    bar_w = group_w * 0.5
    canvas.open_plot((0.0, 1.0), (LEFT, RIGHT), (0.0, top), (y0 + plot_h, y0))
    kl_top = d.entropy + d.kl if finite else top
    for g, (name, segments) in enumerate(
        [("H(y)", [("entropy", 0.0, d.entropy)]), ("H(y, p)", [("entropy", 0.0, d.entropy), ("kl", d.entropy, kl_top)])]
    ):
        x = LEFT + g * group_w + (group_w - bar_w) / 2
        for mark, lo, hi in segments:
            color = ENTROPY if mark == "entropy" else KL
            canvas.rect(x, y_of(hi), bar_w, y_of(lo) - y_of(hi), color, mark=mark)
            if y_of(lo) - y_of(hi) >= 18:
                value = d.entropy if mark == "entropy" else d.kl
                mid = (y_of(lo) + y_of(hi)) / 2
                canvas.text(x + bar_w / 2, mid, _num(value, unit), size=12, anchor="middle", fill=svg.ink_on(color))
        canvas.text(x + bar_w / 2, y0 + plot_h + 12, name, size=12, anchor="middle")
    canvas.line(
        LEFT, y_of(d.baseline), RIGHT, y_of(d.baseline), theme.BASELINE, width=2, dash=BASELINE_DASH, mark="baseline"
    )
    canvas.close_plot()
    canvas.line(LEFT, y0 + plot_h, RIGHT, y0 + plot_h, AXIS)
    total = _num(d.cross_entropy, unit)
    canvas.text(LEFT + 1.5 * group_w, y_of(kl_top) - 10, f"H(y, p) = {total}", size=12, anchor="middle", bold=True)
    canvas.height = int(y0 + plot_h + 26)
    alt = (
        f"Two stacked bars. H(y) = {_num(d.entropy, unit)}; H(y, p) = {total}, of which H(y) "
        f"{_num(d.entropy, unit)} and KL(y ‖ p) {_num(d.kl, unit)}. Uniform guess log C = {_num(d.baseline, unit)}."
    )
    return _chart(canvas, "H(y, p) = H(y) + KL(y ‖ p)", alt)


def distribution_bars(d: Decomposition, class_names: Sequence[str]) -> SvgChart:
    """The target y and the prediction p side by side, per class (p hatched)."""
    canvas = svg.Canvas(WIDTH, 0)
    keys = [Key("target y", ENTROPY), Key("prediction p (hatched)", PRED, "hatched")]
    y0 = svg.legend(canvas, keys, LEFT, 12, RIGHT) + 8
    plot_h = 180
    names = [str(n) for n in class_names]
    hatched = np.tile([False, True], (len(names), 1))
    series = [(ENTROPY, d.target), (PRED, d.prediction)]
    vertical_bars(canvas, names, series, 1.0, y0=y0, plot_h=plot_h, right=RIGHT, hatched=hatched, percent=True)
    canvas.height = int(y0 + plot_h + 24)
    parts = [f"{names[c]}: y {d.target[c]:.1%}, p {d.prediction[c]:.1%}" for c in range(len(names))]
    return _chart(canvas, "The two distributions", "Grouped bars, per class. " + svg.summary(parts[:8], len(parts)))


def term_bars(d: Decomposition, class_names: Sequence[str]) -> SvgChart:
    """Per class: −y log p (the cross-entropy term, a black tick) as −y log y (the entropy term, up from 0)
    plus y log(y / p) (the KL term: stacked on it when positive, down from 0 when negative).

    An infinite KL term (p = 0 where y > 0) is drawn to the top of the plot and labelled ∞.
    """
    unit = d.unit
    canvas = svg.Canvas(WIDTH, 0)
    keys = [
        Key("−y log y (entropy term)", ENTROPY),
        Key("y log(y / p) (KL term)", KL),
        Key("−y log p (their sum)", theme.INK, "line"),
    ]
    y0 = svg.legend(canvas, keys, LEFT, 12, RIGHT) + 12
    plot_h = 200
    ent, kl, ce = d.entropy_terms, d.kl_terms, d.cross_entropy_terms
    finite = np.isfinite(kl)
    ups = ent + np.where(finite & (kl > 0), kl, 0.0)
    downs = np.where(finite & (kl < 0), kl, 0.0)
    hi = max(float(ups.max(initial=0.0)), float(np.max(ce[np.isfinite(ce)], initial=0.0)))
    hi = hi if finite.all() else max(hi, float(d.baseline))
    lo = float(downs.min(initial=0.0))
    # at least a twentieth of log C tall: near-perfect predictions have terms of 1e-9, which would
    # otherwise fill the chart and print six equal tick labels
    ticks = svg.nice_ticks(max(hi * 1.1, 0.05 * d.baseline))
    step = ticks[1] - ticks[0]
    below = [-(k + 1) * step for k in range(math.ceil(-lo * 1.1 / step))] if lo < 0 else []
    ticks = sorted(below) + ticks
    bottom, top = ticks[0], ticks[-1]

    def y_of(v: float) -> float:
        return y0 + (top - min(max(v, bottom), top)) / (top - bottom) * plot_h

    svg.y_axis(canvas, ticks, [svg.tick_label(t, step) for t in ticks], y_of, LEFT, RIGHT)
    axis_title(canvas, unit, 12, y0 + plot_h / 2)
    names = [str(n) for n in class_names]
    n = len(names)
    group_w = (RIGHT - LEFT) / max(n, 1)
    bar_w = group_w * 0.6
    every = max(1, int(np.ceil(n * 44 / (RIGHT - LEFT))))
    canvas.open_plot((0.0, 1.0), (LEFT, RIGHT), (bottom, top), (y0 + plot_h, y0))
    for c in range(n):
        x = LEFT + c * group_w + (group_w - bar_w) / 2
        canvas.rect(x, y_of(ent[c]), bar_w, y_of(0) - y_of(ent[c]), ENTROPY, mark="entropy")
        if not finite[c]:
            canvas.rect(x, y0, bar_w, y_of(ent[c]) - y0, KL, mark="kl")
            canvas.text(x + bar_w / 2, y0 - 8, "∞", size=13, anchor="middle", bold=True)
        elif kl[c] >= 0:
            canvas.rect(x, y_of(ent[c] + kl[c]), bar_w, y_of(ent[c]) - y_of(ent[c] + kl[c]), KL, mark="kl")
        else:
            canvas.rect(x, y_of(0), bar_w, y_of(kl[c]) - y_of(0), KL, mark="kl")
        if np.isfinite(ce[c]):
            canvas.line(x - 3, y_of(ce[c]), x + bar_w + 3, y_of(ce[c]), theme.INK, width=3, mark="ce")
            if n <= 6:  # each class's share of the loss, printed while there is room
                above = min(y_of(ce[c]), y_of(ups[c]))
                canvas.text(x + bar_w / 2, above - 9, theme.fmt(ce[c], 3), size=11, anchor="middle", mark="ce-value")
        if c % every == 0:
            label = svg.clip(names[c], group_w * every, 11)
            canvas.text(LEFT + (c + 0.5) * group_w, y0 + plot_h + 10, label, size=11, anchor="middle")
    canvas.close_plot()
    canvas.line(LEFT, y_of(0), RIGHT, y_of(0), AXIS)
    canvas.height = int(y0 + plot_h + 24)
    parts = [
        f"{names[c]}: entropy term {theme.fmt(ent[c], 3)}, KL term {theme.fmt(kl[c], 3)}, "
        f"cross-entropy term {theme.fmt(ce[c], 3)}"
        for c in range(n)
    ]
    alt = f"Bars per class, in {unit}. " + svg.summary(parts[: svg.SUMMARY_ROWS], n)
    return _chart(canvas, f"Each class's share ({unit})", alt)  # short for a phone: the caption says KL can be < 0


def _marker(canvas: svg.Canvas, kind: str, x: float, y: float, color: str, mark: str, *, size: float = 7) -> None:
    r = size
    if kind == "diamond":
        canvas.polygon([(x, y - r), (x + r, y), (x, y + r), (x - r, y)], color, mark=mark)
    elif kind == "triangle":
        canvas.polygon([(x, y - r), (x + r, y + r * 0.8), (x - r, y + r * 0.8)], color, mark=mark)
    else:  # a cross
        canvas.line(x - r, y - r, x + r, y + r, color, width=3, mark=mark)
        canvas.line(x - r, y + r, x + r, y - r, color, width=3)


def loss_ruler(scale: LossScale, *, here: float | None = None, floor: float | None = None) -> SvgChart:
    """A number line of losses: the loss each probability of the true class costs, log C (a diamond),
    the floor H(y) (a triangle) and this example's H(y, p) (a cross)."""
    unit = scale.unit
    canvas = svg.Canvas(WIDTH, 0)
    points = [
        ("baseline", "diamond", theme.BASELINE, scale.baseline, f"uniform guess log C = {_num(scale.baseline, unit)}")
    ]
    if floor is not None and math.isfinite(floor):
        points.append(("floor", "triangle", ENTROPY, floor, f"floor H(y) = {_num(floor, unit)}"))
    if here is not None and math.isfinite(here):
        points.append(("here", "cross", KL, here, f"this example H(y, p) = {_num(here, unit)}"))
    y = 12.0
    for mark, kind, color, _, label in points:  # a legend of the markers themselves, one per line
        _marker(canvas, kind, LEFT - 30, y, color, f"key-{mark}", size=5)
        canvas.text(LEFT - 18, y, label, size=12)
        y += 20
    y0 = y + 12
    losses = [float(v) for v in scale.losses]
    # the scale ends a little past log C (and the floor); an H(y, p) far beyond sits at the right edge,
    # said in words, so that a huge loss does not squeeze the probability marks into a corner
    fixed = max([*losses, *(v for mark, *_, v, _ in points if mark != "here")]) * 1.08 or 1.0
    right_value = max(fixed, min(here, 2.5 * fixed)) * 1.04 if here is not None and math.isfinite(here) else fixed
    left_px, right_px = LEFT - 30, RIGHT - 10

    def x_of(v: float) -> float:
        return left_px + min(v, right_value) / right_value * (right_px - left_px)

    axis_y = y0 + 30
    canvas.open_plot((0.0, right_value), (left_px, right_px), (0.0, 1.0), (axis_y, axis_y - 1))
    canvas.line(left_px, axis_y, right_px, axis_y, theme.INK, width=1.5)
    row_end = {-20: -math.inf, 20: -math.inf}  # labels alternate above and below; where they would still
    for i, (p, loss) in enumerate(zip(scale.probs, losses, strict=True)):  # touch, the later one is left out
        x = x_of(loss)
        canvas.line(x, axis_y - 9, x, axis_y + 9, theme.INK, width=2, mark="tick")
        label = f"p = 1/{scale.num_classes}" if abs(p - 1 / scale.num_classes) <= 1e-12 else f"p = {p:.3g}"
        half, dy = svg.text_width(label, 11) / 2, -20 if i % 2 == 0 else 20
        if x - half >= row_end[dy] + 6 or label.startswith("p = 1/"):  # the 1/C mark is always named
            canvas.text(x, axis_y + dy, label, size=11, anchor="middle", mark="p-label")
            row_end[dy] = x + half
    for mark, kind, color, value, _ in points:
        _marker(canvas, kind, x_of(value), axis_y, color, mark)
        if value > right_value:
            canvas.text(x_of(value) - 10, axis_y - 18, "off the scale →", size=11, anchor="end", fill=color)
    canvas.close_plot()
    ticks = svg.nice_ticks(right_value)
    ticks = [t for t in ticks if t <= right_value]
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    for t in ticks:
        canvas.text(x_of(t), axis_y + 42, svg.tick_label(t, step), size=11, anchor="middle", fill=svg.MUTED)
    canvas.text((left_px + right_px) / 2, axis_y + 60, f"loss ({unit})", size=11, anchor="middle", fill=svg.MUTED)
    canvas.height = int(axis_y + 72)
    marks = ", ".join(f"p = {p:.3g}: {theme.fmt(v, 3)}" for p, v in zip(scale.probs, losses, strict=True))
    alt = (
        f"A number line of losses in {unit}. The loss when the true class gets probability {marks}. "
        + "; ".join(label for *_, label in points)
        + "."
    )
    return _chart(canvas, "Reading a loss: the probability it gives the true class", alt)
