"""Pure figure builders for the playground: arrays in, an SVG chart (ui.svg.SvgChart) out.

No Streamlit, no math beyond layout. The playground's charts change on every edit, so they are
drawn on the server as SVG (see ui/svg.py for why and what that costs); the other pages' figures
are plotly (their own *_figures modules). Every chart marks the target without relying on colour
(hatch and outline), labels ignored rows in words, and summarises its numbers in `alt`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ui import svg, theme
from ui.svg import SvgChart

WIDTH = 420  # px: a half-width column of the wide layout beside the sidebar at 1280 px; smaller screens scale it down
LEFT = 58  # px: the row labels
MUTED = svg.MUTED


def row_labels(num_samples: int) -> list[str]:
    return [f"row {n}" for n in range(num_samples)]


def target_mask(target_distribution: np.ndarray) -> np.ndarray:
    """(N, C) bool: the classes to mark as targets, those with at least half the row's largest target weight."""
    top = target_distribution.max(axis=1, keepdims=True)
    return (target_distribution > 0) & (target_distribution >= 0.5 * top)


def probability_bars(
    probs: np.ndarray,
    target_distribution: np.ndarray,
    class_names: Sequence[str],
    ignored: np.ndarray | None = None,
) -> SvgChart:
    """Each sample's softmax as one horizontal bar split into its classes; target classes hatched and outlined.

    probs, target_distribution: (N, C); ignored: (N,) bool, faded and labelled "ignored".
    """
    n, c = probs.shape
    probs = np.nan_to_num(np.asarray(probs, dtype=float))
    ignored = np.zeros(n, dtype=bool) if ignored is None else np.asarray(ignored, dtype=bool)
    marked = target_mask(target_distribution)
    colors = [theme.class_color(k) for k in range(c)]
    inks = [svg.ink_on(color) for color in colors]
    names = [str(x) for x in class_names]
    right = WIDTH - (62 if ignored.any() else 14)

    canvas = svg.Canvas(WIDTH, 0)
    hatch = svg.add_hatch(canvas)
    keys = [svg.Key(name, colors[k]) for k, name in enumerate(names)] + [svg.Key("target", hatch, "hatch")]
    top = svg.legend(canvas, keys, LEFT, 12, right) + 4
    rh = svg.row_height(n)
    bar_h, size = rh * 0.74, min(12.0, rh * 0.55)
    span = right - LEFT
    svg.x_axis(
        canvas,
        [0, 0.25, 0.5, 0.75, 1],
        ["0%", "25%", "50%", "75%", "100%"],
        lambda v: LEFT + v * span,
        top,
        top + n * rh,
    )

    # integer pixel edges of every segment: rounding the cumulative sums keeps each bar exactly full width
    cumulative = np.concatenate([np.zeros((n, 1)), np.cumsum(probs, axis=1)], axis=1)
    edges = np.rint(LEFT + np.minimum(cumulative, 1.0) * span).astype(int).tolist()
    pct = np.rint(probs * 100).astype(int).tolist()
    marked_rows = marked.tolist()
    min_label_w = svg.text_width("00%", size) + 8
    bar_px = round(bar_h)
    outlines = []
    for r in range(n):
        y_mid = top + (r + 0.5) * rh
        y = round(y_mid - bar_h / 2)
        canvas.text(LEFT - 6, y_mid, f"row {r}", size=size, anchor="end", fill=MUTED if ignored[r] else theme.INK)
        row_edges, row_marked = edges[r], marked_rows[r]
        canvas.parts.append('<g opacity="0.35">' if ignored[r] else "<g>")
        for k in range(c):
            x0, x1 = row_edges[k], row_edges[k + 1]
            w = x1 - x0 - 1 if x1 - x0 > 1 else x1 - x0  # a 1 px white gap between classes
            canvas.block(x0, y, w, bar_px, colors[k])
            if row_marked[k]:
                canvas.block(x0, y, w, bar_px, hatch)
                outlines.append((x0, y, w, bar_px))
            if bar_h >= 11 and w >= min_label_w:
                canvas.text((x0 + x1) / 2, y_mid, f"{pct[r][k]}%", size=size, anchor="middle", fill=inks[k])
        canvas.parts.append("</g>")
        if ignored[r]:
            canvas.text(right + 6, y_mid, "ignored", size=size, fill=MUTED)
    for x, y, w, h in outlines:
        canvas.rect(x, y, w, h, "none", stroke=theme.INK, stroke_width=2.2, mark="target")
    canvas.height = int(top + n * rh + 24)

    rows = []
    for r in range(min(n, svg.SUMMARY_ROWS)):
        if ignored[r]:
            rows.append(f"row {r}: ignored")
            continue
        parts = [f"{names[k]} {probs[r, k]:.0%}{' (target)' if marked[r, k] else ''}" for k in range(c)]
        rows.append(f"row {r}: " + ", ".join(parts))
    return SvgChart(
        canvas.document(),
        title="Softmax per sample (hatched: the target class)",
        alt="Softmax probabilities, a stacked bar per sample. " + svg.summary(rows, n),
        width=canvas.width,
        height=canvas.height,
    )


def loss_bars(per_sample: np.ndarray, baseline: float, ignored: np.ndarray | None = None) -> SvgChart:
    """Per-sample loss as horizontal bars, with the uniform-guess loss log C as a dashed line.

    per_sample: (N,); ignored rows (N,) bool are grey and labelled "ignored". A non-finite loss is
    drawn as an empty bar labelled with its value.
    """
    n = len(per_sample)
    values = np.asarray(per_sample, dtype=float)
    ignored = np.zeros(n, dtype=bool) if ignored is None else np.asarray(ignored, dtype=bool)
    finite = np.where(np.isfinite(values), values, 0.0)
    ticks = svg.nice_ticks(max(float(finite.max(initial=0.0)), float(baseline)) * 1.12)
    step, top_value = ticks[1] - ticks[0], ticks[-1]
    right = WIDTH - 14
    span = right - LEFT

    def scale(v: float) -> float:
        return LEFT + v / top_value * span

    canvas = svg.Canvas(WIDTH, 0)
    keys = [
        svg.Key("loss of the sample", theme.BLUE),
        svg.Key(f"uniform guess: log C = {baseline:.3f}", theme.BASELINE, "line", "4 3"),
    ]
    top = svg.legend(canvas, keys, LEFT, 12, right) + 4
    rh = svg.row_height(n)
    bar_h, size = rh * 0.74, min(12.0, rh * 0.55)
    svg.x_axis(canvas, ticks, [svg.tick_label(t, step) for t in ticks], scale, top, top + n * rh)

    for r in range(n):
        y_mid = top + (r + 0.5) * rh
        canvas.text(LEFT - 6, y_mid, f"row {r}", size=size, anchor="end", fill=MUTED if ignored[r] else theme.INK)
        if ignored[r]:
            canvas.text(LEFT + 6, y_mid, "ignored", size=size, fill=MUTED)
            continue
        w = scale(finite[r]) - LEFT
        canvas.rect(LEFT, y_mid - bar_h / 2, w, bar_h, theme.BLUE, mark="loss")
        label = theme.fmt(values[r])
        if bar_h >= 10:
            inside = w >= svg.text_width(label, size) + 10
            x = LEFT + w - 5 if inside else LEFT + w + 5
            canvas.text(
                x, y_mid, label, size=size, anchor="end" if inside else "start", fill="#ffffff" if inside else theme.INK
            )
    x = scale(baseline)
    canvas.line(x, top - 4, x, top + n * rh, theme.BASELINE, width=2, dash="6 4", mark="baseline")
    canvas.height = int(top + n * rh + 24)

    rows = [f"row {r}: " + ("ignored" if ignored[r] else theme.fmt(values[r])) for r in range(min(n, 16))]
    return SvgChart(
        canvas.document(),
        title="Loss per sample (dashed: a uniform guess, log C)",
        alt=f"Loss per sample, uniform-guess baseline log C = {baseline:.4f}. " + svg.summary(rows, n),
        width=canvas.width,
        height=canvas.height,
    )


def gradient_heatmap(grad: np.ndarray, class_names: Sequence[str], marked: np.ndarray) -> SvgChart:
    """The gradient of the loss with respect to every logit, as a signed heatmap.

    grad: (N, C); marked: (N, C) bool, the target cells, drawn with a dark outline (a cue that does
    not rely on colour). Values are printed in the cells while rows are tall enough to read them;
    the colour scale is symmetric about zero (orange: negative, descent raises the logit; blue:
    positive, descent lowers it).
    """
    n, c = grad.shape
    grad = np.asarray(grad, dtype=float)
    finite = np.where(np.isfinite(grad), grad, 0.0)
    bound = float(np.max(np.abs(finite), initial=0.0)) or 1.0
    cell_w = 66 if c <= 10 else 54
    rh = max(svg.row_height(n), 22) if n <= 24 else svg.row_height(n)
    show_values = rh >= 16 and n * c <= 400
    size = min(12.0, rh * 0.55)
    header = 26
    bar_x = LEFT + c * cell_w + 22
    canvas = svg.Canvas(bar_x + 12 + 64, 0)

    for k, name in enumerate(class_names):
        canvas.text(
            LEFT + (k + 0.5) * cell_w, header / 2, svg.clip(str(name), cell_w - 6, 12), size=12, anchor="middle"
        )
    fills = svg.diverging(finite.ravel(), bound)
    for r in range(n):
        y = header + r * rh
        canvas.text(LEFT - 6, y + rh / 2, f"row {r}", size=size, anchor="end")
        for k in range(c):
            fill = fills[r * c + k]
            canvas.block(LEFT + k * cell_w, y, cell_w - 1, rh - 1, fill)
            if show_values:
                label = f"{grad[r, k]:+.3f}".replace("-", "−") if np.isfinite(grad[r, k]) else theme.fmt(grad[r, k])
                canvas.text(
                    LEFT + (k + 0.5) * cell_w, y + rh / 2, label, size=size, anchor="middle", fill=svg.ink_on(fill)
                )
    for r, k in zip(*np.nonzero(marked), strict=True):
        canvas.rect(
            LEFT + k * cell_w + 2,
            header + r * rh + 2,
            cell_w - 4,
            rh - 4,
            "none",
            stroke=theme.INK,
            stroke_width=2.2,
            mark="target",
        )

    # colour scale: +bound at the top, -bound at the bottom
    bar_h = min(n * rh, 180.0)
    stops = "".join(f'<stop offset="{1 - s:g}" stop-color="{color}"/>' for s, color in reversed(theme.DIVERGING))
    canvas.defs.append(f'<linearGradient id="scale" x1="0" y1="0" x2="0" y2="1">{stops}</linearGradient>')
    canvas.rect(bar_x, header, 12, bar_h, "url(#scale)", stroke="#c7ccd1", stroke_width=0.5)
    for frac, label in ((0.0, f"+{bound:.2g}"), (0.5, "0"), (1.0, f"−{bound:.2g}")):
        canvas.text(bar_x + 16, header + frac * bar_h, label, size=11, fill=MUTED)
    canvas.text(bar_x, header / 2, "∂loss/∂z", size=11, fill=MUTED)
    canvas.height = int(max(header + n * rh, header + bar_h + 8) + 6)

    names = [str(x) for x in class_names]
    rows = [
        f"row {r}: "
        + ", ".join(f"{names[k]} {theme.fmt(grad[r, k], 3)}{' (target)' if marked[r, k] else ''}" for k in range(c))
        for r in range(min(n, svg.SUMMARY_ROWS))
    ]
    return SvgChart(
        canvas.document(),
        title="Gradient of the loss for each logit (outlined: the target class)",
        alt="Gradient of the loss with respect to each logit; negative means gradient descent raises the logit. "
        + svg.summary(rows, n),
        width=canvas.width,
        height=canvas.height,
    )
