"""Pure figure builders for the loss comparison: xent_core.compare results in, a plotly Figure out.

Same rules as ui/figures.py: plain trace dicts through `theme.figure` (no validators at run time; the
tests validate every spec), user text escaped, colour never the only cue (each loss also has its
own dash pattern).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from ui import theme
from xent_core.compare import LOSSES, Landscape, LossResult, MultiLabel, Sweep

# One colour and one dash per loss, the same on every chart of the page.
LOSS_STYLE = {
    "ce": (theme.BLUE, "solid"),
    "smoothed_ce": (theme.SKY, "dash"),
    "mse": (theme.ORANGE, "dot"),
    "hinge": (theme.GREEN, "dashdot"),
    "focal": (theme.PURPLE, "longdash"),
    "sigmoid": (theme.VERMILLION, "longdashdot"),
}
SEQUENTIAL = [[0.0, "#f7fbff"], [0.25, "#c6dbef"], [0.5, "#6baed6"], [0.75, "#2171b5"], [1.0, "#08306b"]]


def loss_label(key: str) -> str:
    return LOSSES[key].name


def _color(key: str) -> str:
    return LOSS_STYLE[key][0]


def _axis(**extra) -> dict:
    return {**theme.BASE_LAYOUT["xaxis"], **extra}


def loss_bars_by_sample(results: Mapping[str, LossResult], row_labels: Sequence[str]) -> go.Figure:
    """Grouped bars: for each sample, one bar per loss, so their rankings of the samples can be compared."""
    labels = [theme.safe_label(x) for x in row_labels]
    data = [
        dict(
            type="bar",
            name=loss_label(key),
            x=labels,
            y=r.per_sample.tolist(),
            marker=dict(color=_color(key)),
            hovertemplate="%{x} · %{fullData.name}: %{y:.4f}<extra></extra>",
        )
        for key, r in results.items()
    ]
    return theme.figure(
        data,
        title="Each loss on each sample",
        height=320,
        barmode="group",
        bargap=0.2,
        xaxis=dict(type="category"),
        yaxis=dict(title=dict(text="loss")),
    )


def sweep_chart(sweep: Sweep, here: float, *, x: str = "margin") -> go.Figure:
    """Loss (top) and |d loss / d z_t| (bottom) of each loss along the sweep; the sample's own place dashed.

    x: "margin" (z_t minus the strongest other logit) or "prob" (the target's softmax probability).
    here: the sample's own x, in the same unit.
    """
    xs = (sweep.margin if x == "margin" else sweep.prob).tolist()
    data = []
    for key in sweep.loss:
        color, dash = LOSS_STYLE[key]
        common = dict(type="scatter", mode="lines", x=xs, name=loss_label(key), legendgroup=key)
        data.append(
            dict(
                common,
                y=sweep.loss[key].tolist(),
                line=dict(color=color, dash=dash, width=2.5),
                hovertemplate="%{fullData.name}: loss %{y:.4f}<extra></extra>",
            )
        )
        data.append(
            dict(
                common,
                y=np.abs(sweep.target_grad[key]).tolist(),
                line=dict(color=color, dash=dash, width=2.5),
                showlegend=False,
                xaxis="x2",
                yaxis="y2",
                hovertemplate="%{fullData.name}: |∂loss/∂z_t| %{y:.4f}<extra></extra>",
            )
        )
    x_title = "z_t − strongest other logit (negative: wrong, positive: right)" if x == "margin" else "p_t"
    marker = dict(type="line", x0=here, x1=here, y0=0, y1=1, yref="paper", line=dict(color=theme.INK, dash="dot"))
    return theme.figure(
        data,
        title="Moving the target logit from confidently wrong to confidently right",
        height=560,
        hovermode="x unified",
        shapes=[marker],
        annotations=[
            # inside the top panel, under its upper edge: above it sits the legend
            dict(x=here, y=0.99, yref="paper", text=" this sample", showarrow=False, xanchor="left", yanchor="top")
        ],
        margin=dict(theme.BASE_LAYOUT["margin"], t=96),  # room for a two-line legend under the title
        xaxis=dict(domain=[0, 1], anchor="y", matches="x2", showticklabels=False),
        yaxis=dict(domain=[0.55, 1.0], title=dict(text="loss"), rangemode="tozero"),
        xaxis2=_axis(domain=[0, 1], anchor="y2", title=dict(text=x_title)),
        yaxis2=_axis(domain=[0.0, 0.45], title=dict(text="|∂loss/∂z_t|: the push"), rangemode="tozero"),
    )


def _arrows(land: Landscape, stride: int, unit: float, axis_suffix: str) -> dict:
    """Descent directions (−gradient) on every `stride`-th grid point, as line segments with heads.

    unit: the gradient length drawn as one grid step times the stride (shared across panels, so a
    short arrow means a weak push on every panel alike). Arrows under 2% of that are left out.
    """
    scale = (land.u[1] - land.u[0]) * stride * 0.9 / unit
    gu, gv = -land.grad_u[::stride, ::stride], -land.grad_v[::stride, ::stride]
    x0, y0 = np.meshgrid(land.u[::stride], land.v[::stride])
    keep = np.hypot(gu, gv) >= unit * 0.02
    n = int(keep.sum())
    # Each arrow is (start, end, gap): one trace for all of them; None breaks the line between arrows.
    xs = np.column_stack([x0[keep], x0[keep] + gu[keep] * scale, np.zeros(n)]).round(4).ravel().tolist()
    ys = np.column_stack([y0[keep], y0[keep] + gv[keep] * scale, np.zeros(n)]).round(4).ravel().tolist()
    xs[2::3] = ys[2::3] = [None] * n
    return dict(
        type="scatter",
        mode="lines+markers",
        x=xs,
        y=ys,
        line=dict(color="rgba(31,41,51,0.55)", width=1.2),
        marker=dict(symbol="arrow", size=[0, 7, 0] * n, angleref="previous", color="rgba(31,41,51,0.8)"),
        hoverinfo="skip",
        showlegend=False,
        xaxis=f"x{axis_suffix}",
        yaxis=f"y{axis_suffix}",
    )


def landscape_grid(
    landscapes: Mapping[str, Landscape],
    class_names: Sequence[str],
    target: int,
    *,
    shared_scale: bool = True,
    arrows: int = 9,
) -> go.Figure:
    """Small multiples, one heatmap per loss over (z_a − z_t, z_b − z_t), arrows pointing downhill.

    shared_scale: one colour scale and one arrow length for every panel (compare magnitudes), or each
    panel on its own (compare shapes). arrows: about this many arrows per side.
    """
    keys = list(landscapes)
    k = len(keys)
    if k == 0:
        return theme.figure([], title="Pick at least one loss", height=200)
    first = landscapes[keys[0]]
    a, b = first.rivals
    name_t, name_a, name_b = (theme.safe_label(class_names[i]) for i in (target, a, b))
    stride = max(1, len(first.u) // arrows)
    top = max(float(land.loss.max()) for land in landscapes.values()) or 1.0
    strongest = max(float(np.hypot(land.grad_u, land.grad_v).max()) for land in landscapes.values()) or 1.0
    gap = 0.04
    width = (1 - gap * (k - 1)) / k
    data, layout, titles = [], {}, []
    for idx, key in enumerate(keys):
        land = landscapes[key]
        suffix = "" if idx == 0 else str(idx + 1)
        x0 = idx * (width + gap)
        zmax = top if shared_scale else (float(land.loss.max()) or 1.0)
        unit = strongest if shared_scale else (float(np.hypot(land.grad_u, land.grad_v).max()) or 1.0)
        data.append(
            dict(
                type="heatmap",
                x=land.u.tolist(),
                y=land.v.tolist(),
                z=np.round(land.loss, 4).tolist(),
                zmin=0,
                zmax=zmax,
                colorscale=SEQUENTIAL,
                showscale=shared_scale and idx == k - 1,
                colorbar=dict(title=dict(text="loss"), thickness=10),
                xaxis=f"x{suffix}",
                yaxis=f"y{suffix}",
                hovertemplate=f"{name_a} − {name_t}: %{{x:.2f}}<br>{name_b} − {name_t}: %{{y:.2f}}"
                "<br>loss %{z:.4f}<extra></extra>",
            )
        )
        data.append(_arrows(land, stride, unit, suffix))
        data.append(
            dict(
                type="scatter",
                mode="markers",
                x=[land.here[0]],
                y=[land.here[1]],
                marker=dict(symbol="x", size=12, color=theme.VERMILLION, line=dict(width=2, color="white")),
                name="this sample",
                showlegend=False,
                xaxis=f"x{suffix}",
                yaxis=f"y{suffix}",
                hovertemplate="this sample<extra></extra>",
            )
        )
        layout[f"xaxis{suffix}"] = _axis(
            domain=[x0, x0 + width],
            anchor=f"y{suffix}",
            title=dict(text=f"z({name_a}) − z({name_t})"),
            range=[land.u[0], land.u[-1]],
            constrain="domain",
        )
        layout[f"yaxis{suffix}"] = _axis(
            anchor=f"x{suffix}",
            title=dict(text=f"z({name_b}) − z({name_t})" if idx == 0 else ""),
            range=[land.v[0], land.v[-1]],
            scaleanchor=f"x{suffix}",
        )
        titles.append(
            dict(
                text=f"<b>{loss_label(key)}</b>",
                x=x0 + width / 2,
                y=1.0,
                xref="paper",
                yref="paper",
                xanchor="center",
                yanchor="bottom",
                showarrow=False,
            )
        )
    return theme.figure(
        data,
        title=f"Loss over two rival logits (target {name_t}); arrows point downhill, ✕ marks this sample",
        height=330 if k > 2 else 420,
        annotations=titles,
        **layout,
    )


def multilabel_bars(ml: MultiLabel, row: int, labels: np.ndarray, class_names: Sequence[str]) -> go.Figure:
    """One row's probabilities under sigmoid (each class alone) and softmax (shares of one), 0.5 marked.

    labels: (N, C) 0/1; the true classes are hatched.
    """
    names = [theme.safe_label(x) for x in class_names]
    true = labels[row].astype(bool).tolist()
    pattern = dict(shape=["/" if t else "" for t in true], fgcolor=theme.INK, size=7, solidity=0.25)
    data = [
        dict(
            type="bar",
            name="sigmoid (each class alone)",
            x=names,
            y=ml.sigmoid_probs[row].tolist(),
            marker=dict(color=theme.BLUE, pattern=dict(pattern, bgcolor=theme.BLUE)),
            hovertemplate="%{x}: sigmoid %{y:.3f}<extra></extra>",
        ),
        dict(
            type="bar",
            name="softmax (shares of one)",
            x=names,
            y=ml.softmax_probs[row].tolist(),
            marker=dict(color=theme.ORANGE, pattern=dict(pattern, bgcolor=theme.ORANGE)),
            hovertemplate="%{x}: softmax %{y:.3f}<extra></extra>",
        ),
    ]
    line = dict(type="line", x0=0, x1=1, xref="paper", y0=0.5, y1=0.5, line=dict(color=theme.INK, dash="dot"))
    return theme.figure(
        data,
        title="Probabilities of each class (hatched: a true label)",
        height=340,
        barmode="group",
        shapes=[line],
        xaxis=dict(type="category"),
        yaxis=dict(range=[0, 1.02], tickformat=".0%"),
    )
