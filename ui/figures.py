"""Pure figure builders: arrays in, a plotly Figure out. No Streamlit, no math beyond layout.

Traces are plain dicts wrapped by `theme.figure` without plotly's validators (which cost tens of
milliseconds per figure); tests run every builder's output through the validators instead.
Few traces per figure, so a changed figure is cheap to send and to redraw.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ui import theme


def row_labels(num_samples: int) -> list[str]:
    return [f"row {n}" for n in range(num_samples)]


def target_mask(target_distribution: np.ndarray) -> np.ndarray:
    """(N, C) bool: the classes to mark as targets, those with at least half the row's largest target weight."""
    top = target_distribution.max(axis=1, keepdims=True)
    return (target_distribution > 0) & (target_distribution >= 0.5 * top)


def _rows_height(n: int, minimum: int = 180) -> int:
    return int(min(1200, max(minimum, 70 + 26 * n)))


def probability_bars(
    probs: np.ndarray,
    target_distribution: np.ndarray,
    class_names: Sequence[str],
    ignored: np.ndarray | None = None,
) -> go.Figure:
    """Each sample's softmax as one horizontal bar split into its classes; target classes hatched and outlined.

    probs, target_distribution: (N, C); ignored: (N,) bool, labelled "ignored".
    """
    n, c = probs.shape
    labels = row_labels(n)
    names = [theme.safe_label(x) for x in class_names]
    marked = target_mask(target_distribution)
    data = []
    for k in range(c):
        is_target = marked[:, k].tolist()
        data.append(
            dict(
                type="bar",
                orientation="h",
                name=names[k],
                y=labels,
                x=probs[:, k].tolist(),
                marker=dict(
                    color=theme.class_color(k),
                    line=dict(
                        color=[theme.INK if t else "white" for t in is_target],
                        width=[2.5 if t else 1 for t in is_target],
                    ),
                    pattern=dict(
                        shape=["/" if t else "" for t in is_target],
                        bgcolor=theme.class_color(k),
                        fgcolor=theme.INK,
                        size=8,
                        solidity=0.2,
                    ),
                ),
                customdata=[" (target)" if t else "" for t in is_target],
                # the class name comes from `name`, never pasted into the template (it could hold %{...})
                hovertemplate="%{y} · %{fullData.name}%{customdata}: p = %{x:.4f}<extra></extra>",
            )
        )
    any_ignored = ignored is not None and bool(ignored.any())
    if any_ignored:
        rows = np.flatnonzero(ignored)
        data.append(
            dict(
                type="scatter",
                x=[1.01] * len(rows),
                y=[labels[r] for r in rows],
                mode="text",
                text=["ignored"] * len(rows),
                textposition="middle right",
                showlegend=False,
                hoverinfo="skip",
            )
        )
    return theme.figure(
        data,
        title="Softmax probabilities per sample (hatched: target class)",
        height=_rows_height(n),
        barmode="stack",
        bargap=0.25,
        legend=dict(theme.BASE_LAYOUT["legend"], traceorder="normal"),
        xaxis=dict(range=[0, 1.13 if any_ignored else 1], tickformat=".0%"),
        yaxis=dict(autorange="reversed", type="category"),
    )


def loss_bars(per_sample: np.ndarray, baseline: float, ignored: np.ndarray | None = None) -> go.Figure:
    """Per-sample loss as horizontal bars, with the uniform-guess loss log C as a dashed line."""
    n = len(per_sample)
    labels = row_labels(n)
    ignored = np.zeros(n, dtype=bool) if ignored is None else ignored
    values = [float(v) for v in per_sample]
    top = max(max(values, default=0.0), baseline) * 1.18 or 1.0
    data = [
        dict(
            type="bar",
            orientation="h",
            y=labels,
            x=values,
            marker=dict(color=[theme.IGNORED if ig else theme.BLUE for ig in ignored]),
            text=["ignored" if ig else theme.fmt(v) for v, ig in zip(values, ignored, strict=True)],
            textposition="auto",
            hovertemplate="%{y}: loss %{x:.4f}<extra></extra>",
            showlegend=False,
        ),
        dict(
            type="scatter",
            x=[baseline, baseline],
            y=[labels[0], labels[-1]] if n else [],
            mode="lines",
            line=dict(color=theme.BASELINE, dash="dash", width=2),
            name=f"uniform guess: log C = {baseline:.3f}",
            hoverinfo="name",
        ),
    ]
    return theme.figure(
        data,
        title="Loss per sample (dashed: the loss of a uniform guess)",
        height=_rows_height(n),
        xaxis=dict(range=[0, top]),
        yaxis=dict(autorange="reversed", type="category"),
        showlegend=True,
    )


def gradient_heatmap(grad: np.ndarray, class_names: Sequence[str], marked: np.ndarray) -> go.Figure:
    """The gradient of the loss with respect to every logit, as a signed heatmap.

    grad: (N, C); marked: (N, C) bool, the target cells, drawn with a square outline (a cue that
    does not rely on colour). Values are printed in the cells while the table is small enough to read.
    """
    n, c = grad.shape
    labels = row_labels(n)
    names = [theme.safe_label(x) for x in class_names]
    bound = float(np.max(np.abs(grad), initial=0.0)) or 1.0
    show_text = n * c <= 160
    heat = dict(
        type="heatmap",
        z=grad.tolist(),
        x=names,
        y=labels,
        zmin=-bound,
        zmax=bound,
        colorscale=theme.DIVERGING,
        colorbar=dict(title=dict(text="∂loss/∂z"), thickness=12),
        hovertemplate="%{y} · %{x}: ∂loss/∂z = %{z:.5f}<extra></extra>",
        xgap=1,
        ygap=1,
    )
    if show_text:
        heat["text"] = [[f"{v:+.3f}" for v in row] for row in grad.tolist()]
        heat["texttemplate"] = "%{text}"
    rows, cols = np.nonzero(marked)
    # Target cells get a dark outline: a cue that survives any colour vision. Categorical axes
    # place category k at coordinate k, so a cell spans k - 0.5 .. k + 0.5.
    outlines = [
        dict(
            type="rect",
            xref="x",
            yref="y",
            x0=int(k) - 0.46,
            x1=int(k) + 0.46,
            y0=int(r) - 0.42,
            y1=int(r) + 0.42,
            line=dict(color=theme.INK, width=2.5),
            fillcolor="rgba(0,0,0,0)",
        )
        for r, k in zip(rows, cols, strict=True)
    ]
    data = [heat]
    return theme.figure(
        data,
        title="Gradient of the loss for each logit (outlined: target class)",
        height=_rows_height(n, minimum=220),
        shapes=outlines,
        # category axes: class names such as "3" must not turn the axis numeric (outlines use positions)
        xaxis=dict(side="top", type="category"),
        yaxis=dict(autorange="reversed", type="category"),
    )
