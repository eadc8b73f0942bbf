"""Pure figure builders for the images page: masks, class maps and loss maps of one image.

Heatmaps of (H, W) arrays with square pixels and row 0 at the top, as images are drawn. Classes get
fixed colours (background dark, as segmentation datasets draw it; void cream, as Pascal VOC does);
colour is never the only cue: small grids print the labels in the cells, wrong pixels get a cross,
and hovering names the class.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import pyarrow as pa

from ui import theme
from xent_core.images import PixelLosses

BACKGROUND = "#3b4650"
VOID_COLOR = "#f3ead3"
EXTRA = ("#8c564b", "#6a3d9a")  # two more for up to 10 classes, after Okabe-Ito's seven colours
SEG_COLORS = (BACKGROUND, theme.BLUE, theme.ORANGE, theme.GREEN, theme.PURPLE, theme.SKY, theme.VERMILLION)
SEG_COLORS += (theme.YELLOW, *EXTRA)
TEXT_LIMIT = 144  # print labels in the cells up to 12 x 12 pixels
LOSS_SCALE = "Cividis"  # sequential and colour-blind safe


def seg_color(c: int) -> str:
    return SEG_COLORS[c % len(SEG_COLORS)]


def _stepped(colors: Sequence[str]) -> list:
    """A colour scale of flat steps, one per integer value 0..K-1 (for zmin=-0.5, zmax=K-0.5)."""
    k = len(colors)
    scale = []
    for i, color in enumerate(colors):
        scale += [[i / k, color], [(i + 1) / k, color]]
    return scale


def _image_layout(height: int, width: int, title: str, *, px: int) -> dict:
    """Square pixels, row 0 on top; the figure's height follows the grid (px per pixel, within bounds)."""
    side = int(min(420, max(200, px * height + 80)))
    return dict(
        title=title,
        height=side,
        xaxis=dict(
            range=[-0.5, width - 0.5],
            showgrid=False,
            zeroline=False,
            constrain="domain",
            tickmode="auto",
            nticks=min(width, 9),
        ),
        yaxis=dict(
            range=[height - 0.5, -0.5],
            showgrid=False,
            zeroline=False,
            scaleanchor="x",
            constrain="domain",
            nticks=min(height, 9),
        ),
    )


def class_map(
    labels: np.ndarray,
    class_names: Sequence[str],
    void: int,
    title: str,
    *,
    wrong: np.ndarray | None = None,
    px: int = 14,
) -> go.Figure:
    """An (H, W) map of class labels (void pixels in cream); `wrong` (H, W) bool marks pixels with a cross.

    No legend (it would squeeze the map): `class_loss_bars` uses the same colours and names the classes,
    hovering names a pixel's class, and grids up to 12 x 12 print the labels in the cells."""
    h, w = labels.shape
    c = len(class_names)
    names = [theme.safe_label(n) for n in class_names]
    is_void = labels == void
    shown = np.where(is_void, c, labels)  # void is drawn as one extra step after the classes
    safe = np.where(is_void, 0, labels).tolist()
    hover = [
        [("void: ignored" if v else names[k]) for k, v in zip(row, vrow, strict=True)]
        for row, vrow in zip(safe, is_void.tolist(), strict=True)
    ]
    heat = dict(
        type="heatmap",
        z=shown.tolist(),
        zmin=-0.5,
        zmax=c + 0.5,
        colorscale=_stepped([seg_color(k) for k in range(c)] + [VOID_COLOR]),
        showscale=False,
        customdata=hover,
        hovertemplate="row %{y}, column %{x}: %{customdata}<extra></extra>",
        xgap=1 if h * w <= 256 else 0,
        ygap=1 if h * w <= 256 else 0,
    )
    if h * w <= TEXT_LIMIT:
        heat["text"] = [
            ["∅" if v else str(k) for k, v in zip(row, vrow, strict=True)]
            for row, vrow in zip(labels.tolist(), is_void.tolist(), strict=True)
        ]
        heat["texttemplate"] = "%{text}"  # plotly picks a dark or light text colour per cell
    data = [heat]
    if wrong is not None and wrong.any():
        rows, cols = np.nonzero(wrong)
        data.append(
            dict(
                type="scatter",
                mode="markers",
                x=cols.tolist(),
                y=rows.tolist(),
                marker=dict(symbol="x-thin", size=max(5, min(12, px - 4)), line=dict(color="white", width=1.5)),
                name="wrong pixel",
                hoverinfo="skip",
                showlegend=False,
            )
        )
    return theme.figure(data, **_image_layout(h, w, title, px=px), showlegend=False)


def loss_map(per_pixel: np.ndarray, ignored: np.ndarray, *, px: int = 14) -> go.Figure:
    """The per-pixel loss as a heatmap; void pixels are left blank (they have no loss)."""
    h, w = per_pixel.shape
    values = np.where(ignored, np.nan, np.round(per_pixel, 4))
    z = [[None if np.isnan(v) else v for v in row] for row in values.tolist()]
    top = float(np.nanmax(values)) if (~ignored).any() else 1.0
    heat = dict(
        type="heatmap",
        z=z,
        zmin=0,
        zmax=max(top, 1e-9),
        colorscale=LOSS_SCALE,
        colorbar=dict(title=dict(text="loss"), thickness=10),
        hovertemplate="row %{y}, column %{x}: loss %{z:.4f}<extra></extra>",
        hoverongaps=False,
        xgap=1 if h * w <= 256 else 0,
        ygap=1 if h * w <= 256 else 0,
    )
    if h * w <= TEXT_LIMIT:
        heat["text"] = [["void" if v is None else f"{v:.2f}" for v in row] for row in z]
        heat["texttemplate"] = "%{text}"
    return theme.figure([heat], **_image_layout(h, w, "Loss per pixel (blank: void)", px=px))


def class_loss_bars(
    class_loss: np.ndarray, class_count: np.ndarray, baseline: float, class_names: Sequence[str]
) -> go.Figure:
    """Mean loss of each class's pixels (with their count), and the uniform guess log C dashed."""
    names = [theme.safe_label(n) for n in class_names]
    values = [None if np.isnan(v) else float(v) for v in class_loss]
    data = [
        dict(
            type="bar",
            x=names,
            y=values,
            marker=dict(color=[seg_color(k) for k in range(len(names))], line=dict(color=theme.INK, width=1)),
            text=[("no pixels" if v is None else theme.fmt(v, 3)) for v in values],
            textposition="outside",
            customdata=[int(n) for n in class_count],
            hovertemplate="%{x}: mean loss %{y:.4f} over %{customdata} pixels<extra></extra>",
            showlegend=False,
        ),
        dict(
            type="scatter",
            mode="lines",
            x=[names[0], names[-1]],
            y=[baseline, baseline],
            line=dict(color=theme.BASELINE, dash="dash", width=2),
            name=f"uniform guess: log C = {baseline:.3f}",
            hoverinfo="name",
        ),
    ]
    top = max([v for v in values if v is not None] + [baseline]) * 1.2 or 1.0
    return theme.figure(
        data,
        title="Mean loss of each class's pixels",
        height=300,
        xaxis=dict(type="category"),
        yaxis=dict(range=[0, top], title=dict(text="mean loss")),
        showlegend=True,
    )


def class_table(r: PixelLosses, class_names: Sequence[str]) -> pa.Table:
    """One row per class: its counted pixels, their mean loss and the share predicted right."""

    def column(values: np.ndarray, decimals: int) -> pa.Array:  # classes without pixels: an empty cell
        return pa.array(np.round(values, decimals), mask=np.isnan(values))

    return pa.table(
        {
            "class": [str(n) for n in class_names],
            "pixels": r.class_count.astype(np.int64),
            "mean loss": column(r.class_loss, 4),
            "accuracy": column(r.class_accuracy, 3),
        }
    )


def pixel_bars(probs: np.ndarray, label: int, class_names: Sequence[str], void: int) -> go.Figure:
    """One pixel's softmax over the classes, in the maps' colours; the target class hatched (none if void)."""
    names = [theme.safe_label(n) for n in class_names]
    is_target = [k == label for k in range(len(names))]
    data = [
        dict(
            type="bar",
            x=names,
            y=np.asarray(probs, dtype=np.float64).tolist(),
            marker=dict(
                color=[seg_color(k) for k in range(len(names))],
                line=dict(color=theme.INK, width=[2.5 if t else 0.5 for t in is_target]),
                pattern=dict(shape=["/" if t else "" for t in is_target], fgcolor="white", size=8, solidity=0.25),
            ),
            text=[f"{p:.1%}" for p in probs],
            textposition="outside",
            hovertemplate="%{x}: p = %{y:.4f}<extra></extra>",
        )
    ]
    title = "This pixel's softmax" + (" (void: no target)" if label == void else " (hatched: target class)")
    return theme.figure(
        data, title=title, height=280, xaxis=dict(type="category"), yaxis=dict(range=[0, 1.15], tickformat=".0%")
    )
