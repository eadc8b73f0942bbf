"""A small SVG chart kit: numbers in, an SVG document out, drawn on the server.

Why not plotly for the playground: in headless Chromium on the 2-core reference machine a plotly
chart costs 350-600 ms of browser time per edit (the figure is rebuilt from scratch) and about 3 s
of cold load (running its 4.7 MB bundle). The same charts as SVG documents shown with `st.image`
cost the browser one image decode: edits reach the screen in about a quarter of the time (the
README has the measurements). What SVG gives up is hover; every value a chart shows is also in a
table on the page, and each chart carries a text summary for screen readers (`SvgChart.alt`).

Safety: `st.image` shows the document as a `data:` URL inside an `<img>`, where scripts never run;
every string is escaped anyway (`Canvas.text`), so the markup stays well-formed whatever a class
name holds. Fonts are the system's: an image cannot load web fonts.
"""

from __future__ import annotations

import base64
import functools
import html
import math
import struct
import zlib
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ui import theme

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
CHAR_EM = 0.56  # average glyph width of the sans-serif faces above, in ems (for fitting labels)


@dataclass(frozen=True)
class SvgChart:
    """A drawn chart: the SVG document, its heading, and a text summary for screen readers."""

    svg: str
    title: str  # shown above the image as page text, literally (it wraps on a phone; the image scales)
    alt: str
    width: int
    height: int

    def show(self, where) -> None:
        """Draw into a Streamlit container (`st`, a column, an expander): the heading, then the image."""
        where.markdown(f"**{theme.md_escape(self.title)}**")  # titles can hold class names
        where.image(self.svg, alt=self.alt, width="content")


@dataclass(frozen=True)
class SvgGallery:
    """Several drawings under one heading, shown as one element whose images wrap: side by side on a
    wide screen, one under another on a phone, each at its own size (never shrunk to fit a row)."""

    title: str
    panels: tuple[SvgChart, ...]  # each panel's own title is drawn inside it

    def show(self, where) -> None:
        where.markdown(f"**{theme.md_escape(self.title)}**")
        where.image([p.svg for p in self.panels], alt=[p.alt for p in self.panels], width="content")


def text_width(text: str, size: float) -> float:
    """Approximate rendered width in px of `text` at font size `size`."""
    return len(text) * size * CHAR_EM


def clip(text: str, width: float, size: float) -> str:
    """`text` cut with an ellipsis so that it fits `width` px at font size `size`."""
    room = max(1, int(width / (size * CHAR_EM)))
    return text if len(text) <= room else text[: max(1, room - 1)] + "…"


def nice_ticks(top: float, intervals: int = 5) -> list[float]:
    """Round tick values 0, s, 2s, ... covering [0, top] in about `intervals` steps, s from {1, 2, 2.5, 5} × 10^k."""
    if not math.isfinite(top) or top <= 0:
        return [0.0, 1.0]
    raw = top / intervals
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


def tick_label(value: float, step: float) -> str:
    """`value` with as many decimals as the tick step needs (0.25 → two, 2 → none)."""
    decimals = 0
    while decimals < 6 and abs(step * 10**decimals - round(step * 10**decimals)) > 1e-9:
        decimals += 1
    return f"{value:.{decimals}f}"


def _rgb(color: str) -> tuple[float, float, float]:
    color = color.lstrip("#")
    return tuple(int(color[i : i + 2], 16) / 255 for i in (0, 2, 4))


def luminance(color: str) -> float:
    """Relative luminance (WCAG) of a #rrggbb colour."""
    channels = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in _rgb(color)]
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]


@functools.lru_cache(maxsize=4096)
def ink_on(color: str) -> str:
    """The text colour that reads best on a `color` background: dark ink or white."""
    return theme.INK if luminance(color) > 0.3 else "#ffffff"


@functools.lru_cache(maxsize=16)
def _scale(stops: tuple) -> tuple[np.ndarray, np.ndarray]:
    return np.array([s for s, _ in stops]), np.array([_rgb(c) for _, c in stops])


def colormap(values: np.ndarray, stops: list, vmin: float, vmax: float) -> np.ndarray:
    """uint8 RGB (..., 3) of `values` on a colour scale [[position 0..1, "#rrggbb"], ...] from vmin to vmax.

    NaN takes the middle of the scale; values outside the range take its ends.
    """
    positions, rgb = _scale(tuple((s, c) for s, c in stops))
    t = (np.asarray(values, dtype=float) - vmin) / ((vmax - vmin) or 1.0)
    t = np.nan_to_num(np.clip(t, 0, 1), nan=0.5)
    channels = np.stack([np.interp(t, positions, rgb[:, i]) for i in range(3)], axis=-1)
    return np.rint(channels * 255).astype(np.uint8)


def hex_colors(rgb: np.ndarray) -> list[str]:
    """#rrggbb strings of uint8 RGB rows (..., 3), flattened."""
    return [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in rgb.reshape(-1, 3).tolist()]


def diverging(values: np.ndarray, bound: float) -> list[str]:
    """#rrggbb colours of `values` on theme.DIVERGING, with -bound at the first stop and +bound at the last."""
    bound = bound or 1.0
    return hex_colors(colormap(values, theme.DIVERGING, -bound, bound))


def png_data_url(rgb: np.ndarray) -> str:
    """A uint8 RGB image (H, W, 3) as a data: URL of a PNG (for raster fields such as a loss landscape).

    Written by hand (filter byte 0 per row, zlib, three chunks) to avoid an imaging dependency.
    """
    h, w, _ = rgb.shape
    raw = np.concatenate([np.zeros((h, 1), np.uint8), np.ascontiguousarray(rgb, np.uint8).reshape(h, w * 3)], axis=1)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw.tobytes(), 6))
        + chunk(b"IEND", b"")
    )
    return "data:image/png;base64," + base64.b64encode(png).decode()


def _stroke(color: str, width: float, dash: str | None, mark: str | None) -> str:
    """The attributes of a stroked line: colour, width, optional dash pattern and class."""
    out = f' stroke="{color}" stroke-width="{width:g}"'
    if dash:
        out += f' stroke-dasharray="{dash}"'
    if mark:
        out += f' class="{mark}"'
    return out


_PX_LOW, _PX_HIGH = -4096, 8192
_PX_TEXT = tuple(str(v) for v in range(_PX_LOW, _PX_HIGH))  # str() of an int costs ~0.25 µs; a lookup ~0.05


def _whole_px(values: np.ndarray) -> str:
    """Whole-pixel coordinates (floats holding integers) as space-separated text."""
    if len(values) and values.min() >= _PX_LOW and values.max() < _PX_HIGH:
        return " ".join(map(_PX_TEXT.__getitem__, (values - _PX_LOW).astype(np.int64).tolist()))
    return " ".join(map(str, values.astype(np.int64).tolist()))


class Canvas:
    """An SVG document under construction, in px; coordinates are rounded to 0.1 px."""

    def __init__(self, width: float, height: float):
        self.width, self.height = math.ceil(width), math.ceil(height)
        self.defs: list[str] = []
        self.parts: list[str] = []

    def rect(self, x, y, w, h, fill, *, stroke=None, stroke_width=1.0, opacity=None, mark=None) -> None:
        """A rectangle; `mark` names what it means (a class attribute, for tests and for anyone reading the SVG)."""
        extra = f' stroke="{stroke}" stroke-width="{stroke_width:g}"' if stroke else ""
        if mark:
            extra += f' class="{mark}"'
        if opacity is not None:
            extra += f' opacity="{opacity:g}"'
        w = w if w > 0 else 0.0
        self.parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}"{extra}/>')

    def block(self, x: int, y: int, w: int, h: int, fill: str) -> None:
        """A plain filled rectangle on whole pixels: the fast path for the hundreds of cells and segments."""
        self.parts.append(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{fill}"/>')

    def line(self, x1, y1, x2, y2, stroke, *, width=1.0, dash=None, mark=None) -> None:
        self.parts.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"{_stroke(stroke, width, dash, mark)}/>'
        )

    def polyline(self, xs, ys, stroke, *, width=2.0, dash=None, mark=None) -> None:
        """A line through the points (xs[i], ys[i]), in px rounded to whole pixels (finer is invisible
        under a 2 px stroke, and whole numbers format several times faster); NaN points are left out."""
        pts = np.column_stack([np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)])
        if not np.isfinite(pts).all():
            pts = pts[np.isfinite(pts).all(axis=1)]
        self.parts.append(
            f'<polyline points="{_whole_px(np.rint(pts).ravel())}" fill="none" stroke-linejoin="round"'
            f"{_stroke(stroke, width, dash, mark)}/>"
        )

    def polygon(self, points, fill, *, stroke=None, mark=None) -> None:
        """A filled polygon through the (x, y) points (a marker: a diamond, a triangle)."""
        extra = f' stroke="{stroke}" stroke-width="1"' if stroke else ""
        if mark:
            extra += f' class="{mark}"'
        coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        self.parts.append(f'<polygon points="{coords}" fill="{fill}"{extra}/>')

    def image(self, x, y, w, h, href: str) -> None:
        """A raster (a data: URL from png_data_url) stretched over the box; the browser smooths it."""
        self.parts.append(
            f'<image x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
            f'preserveAspectRatio="none" href="{href}"/>'
        )

    def open_plot(self, x_data, x_px, y_data, y_px) -> None:
        """Start a group of marks plotted on linear axes, recording each axis as two data values and their px.

        The mapping rides along as data-x / data-y attributes ("d0 d1 p0 p1"), so that a reader of the
        SVG (the tests) can turn any mark back into numbers. Close with `close_plot`.
        """
        xs = " ".join(f"{v:.10g}" for v in (*x_data, *x_px))
        ys = " ".join(f"{v:.10g}" for v in (*y_data, *y_px))
        self.parts.append(f'<g class="plot" data-x="{xs}" data-y="{ys}">')

    def close_plot(self) -> None:
        self.parts.append("</g>")

    def text(
        self, x, y, content: str, *, size=12.0, anchor="start", fill=theme.INK, bold=False, rotate=None, mark=None
    ) -> None:
        """Text centred vertically on y; `content` is escaped (user text is safe here)."""
        weight = ' font-weight="600"' if bold else ""
        weight += f' class="{mark}"' if mark else ""
        turn = f' transform="rotate({rotate:g} {x:.1f} {y:.1f})"' if rotate else ""
        self.parts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}" text-anchor="{anchor}" dominant-baseline="central" '
            f'fill="{fill}"{weight}{turn}>{html.escape(str(content))}</text>'
        )

    def document(self) -> str:
        defs = f"<defs>{''.join(self.defs)}</defs>" if self.defs else ""
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" height="{self.height}" '
            f'viewBox="0 0 {self.width} {self.height}" font-family="{html.escape(FONT)}">'
            f'<rect width="100%" height="100%" fill="white"/>{defs}{"".join(self.parts)}</svg>'
        )


HATCH_ID = "hatch"


def add_hatch(canvas: Canvas) -> str:
    """Define the diagonal hatch that marks target classes; returns its fill reference."""
    canvas.defs.append(
        f'<pattern id="{HATCH_ID}" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="{theme.INK}" '
        'stroke-width="1.6" stroke-opacity="0.6"/></pattern>'
    )
    return f"url(#{HATCH_ID})"


class Key(NamedTuple):
    """One legend entry: kind "box" (a filled square), "hatch" (the target hatch over white, outlined;
    `color` is the hatch's fill reference), "hatched" (a square in the colour under the hatch, which
    the chart defines with `add_hatch`) or "line" (a line in the colour, dashed by `dash`)."""

    label: str
    color: str
    kind: str = "box"
    dash: str | None = None


def legend(canvas: Canvas, keys: list[Key], x0: float, y: float, x_max: float) -> float:
    """The keys in a row, wrapped onto more lines between x0 and x_max; returns the y below the legend."""
    size = 12.0
    x, line_h = x0, size + 8
    for key in keys:
        label = clip(key.label, 280, size)
        swatch = 22 if key.kind == "line" else 14
        w = swatch + 4 + text_width(label, size) + 14
        if x + w > x_max and x > x0:
            x, y = x0, y + line_h
        if key.kind == "line":
            canvas.line(x, y, x + swatch, y, key.color, width=2.5, dash=key.dash)
        elif key.kind == "hatch":
            canvas.rect(x + 2, y - 5, 10, 10, "white", stroke=theme.INK, stroke_width=1.5, mark="key")
            canvas.rect(x + 2, y - 5, 10, 10, key.color, mark="key")
        elif key.kind == "hatched":
            canvas.rect(x + 2, y - 5, 10, 10, key.color, mark="key")
            canvas.rect(x + 2, y - 5, 10, 10, f"url(#{HATCH_ID})", mark="key")
        else:
            canvas.rect(x + 2, y - 5, 10, 10, key.color, mark="key")
        canvas.text(x + swatch + 4, y, label, size=size)
        x += w
    return y + line_h / 2 + 2


GRID = "#e8ebee"
MUTED = "#52606d"


def x_axis(canvas: Canvas, ticks: list[float], labels: list[str], scale, y_top: float, y_bottom: float) -> None:
    """Vertical grid lines at `ticks` between y_top and y_bottom, their labels below."""
    for tick, label in zip(ticks, labels, strict=True):
        x = scale(tick)
        canvas.line(x, y_top, x, y_bottom, GRID)
        canvas.text(x, y_bottom + 10, label, size=11, anchor="middle", fill=MUTED)


def y_axis(canvas: Canvas, ticks: list[float], labels: list[str], scale, x_left: float, x_right: float) -> None:
    """Horizontal grid lines at `ticks` between x_left and x_right, their labels to the left."""
    for tick, label in zip(ticks, labels, strict=True):
        y = scale(tick)
        canvas.line(x_left, y, x_right, y, GRID)
        canvas.text(x_left - 5, y, label, size=11, anchor="end", fill=MUTED)


def row_height(n: int) -> int:
    """Height in px of one row of a per-sample chart: roomy for a few samples, compact for 64."""
    return min(28, max(12, 560 // max(n, 1)))


SUMMARY_ROWS = 8  # rows a chart's text summary spells out; the page's tables hold the rest


def summary(items: list[str], total: int) -> str:
    """The first rows' descriptions `items` joined for a screen reader, saying how many of `total` are left out."""
    shown = "; ".join(items)
    if total > len(items):
        shown += f"; and {total - len(items)} more rows (the tables list every value)"
    return shown
