"""Pure figure builders for the information page: xent_core.decomposition results in, plotly out.

The decomposition H(y, p) = H(y) + KL(y || p) is one stacked bar beside the entropy alone, so the
shared part lines up; the uniform-guess baseline log C is a dashed line. Patterns and text labels
carry what colour carries.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import plotly.graph_objects as go

from ui import theme
from xent_core.decomposition import Decomposition, LossScale

LEGEND_BELOW = dict(orientation="h", yanchor="top", y=-0.16, xanchor="left", x=0)
ENTROPY = theme.BLUE
KL = theme.ORANGE
PRED = theme.GREEN


def _num(x: float, unit: str) -> str:
    return f"{theme.fmt(x, 3)} {unit}"


def decomposition_bars(d: Decomposition) -> go.Figure:
    """Two stacked bars: H(y) alone, and H(y, p) = H(y) + KL(y || p); log C dashed across."""
    unit = d.unit
    finite = math.isfinite(d.kl)
    top = max(d.baseline, d.entropy + (d.kl if finite else d.baseline)) * 1.25 or 1.0
    kl_height = d.kl if finite else top - d.entropy
    cats = ["H(y)", "H(y, p)"]
    data = [
        dict(
            type="bar",
            name="H(y): the target's own uncertainty",
            x=cats,
            y=[d.entropy, d.entropy],
            marker=dict(color=ENTROPY),
            text=[_num(d.entropy, unit)] * 2,
            textposition="inside",
            insidetextanchor="middle",
            hovertemplate="H(y) = %{y:.4f} " + unit + "<extra></extra>",
        ),
        dict(
            type="bar",
            name="KL(y ‖ p): the prediction's excess",
            x=cats[1:],
            y=[kl_height],
            marker=dict(color=KL, pattern=dict(shape="/", fgcolor="white", bgcolor=KL, size=8, solidity=0.2)),
            text=[_num(d.kl, unit) if finite else "∞ (p = 0 where y > 0)"],
            textposition="inside",
            insidetextanchor="middle",
            hovertemplate=("KL = %{y:.4f} " + unit if finite else "KL = ∞") + "<extra></extra>",
        ),
        dict(
            type="scatter",
            mode="lines",
            x=cats,
            y=[d.baseline, d.baseline],
            name=f"uniform guess: log C = {_num(d.baseline, unit)}",
            line=dict(color=theme.BASELINE, dash="dash", width=2),
            hoverinfo="name",
        ),
    ]
    total = _num(d.cross_entropy, unit) if math.isfinite(d.cross_entropy) else "∞"
    notes = [
        dict(
            x=cats[1],
            y=min(d.entropy + kl_height, top),
            text=f"<b>H(y, p) = {total}</b>",
            showarrow=False,
            yanchor="bottom",
        )
    ]
    return theme.figure(
        data,
        title="H(y, p) = H(y) + KL(y ‖ p)",
        height=420,
        legend=dict(LEGEND_BELOW, y=-0.12),
        barmode="stack",
        bargap=0.45,
        annotations=notes,
        yaxis=dict(range=[0, top], title=dict(text=unit)),
        xaxis=dict(type="category"),
    )


def distribution_bars(d: Decomposition, class_names: Sequence[str]) -> go.Figure:
    """The target y and the prediction p side by side, per class."""
    names = [theme.safe_label(n) for n in class_names]
    data = [
        dict(
            type="bar",
            name="target y",
            x=names,
            y=d.target.tolist(),
            marker=dict(color=ENTROPY),
            hovertemplate="%{x}: y = %{y:.4f}<extra></extra>",
        ),
        dict(
            type="bar",
            name="prediction p",
            x=names,
            y=d.prediction.tolist(),
            marker=dict(color=PRED, pattern=dict(shape=".", fgcolor="white", bgcolor=PRED, size=6, solidity=0.3)),
            hovertemplate="%{x}: p = %{y:.4f}<extra></extra>",
        ),
    ]
    return theme.figure(
        data,
        title="The two distributions",
        height=300,
        barmode="group",
        xaxis=dict(type="category"),
        yaxis=dict(range=[0, 1.02], tickformat=".0%"),
    )


def term_bars(d: Decomposition, class_names: Sequence[str]) -> go.Figure:
    """Per class: −y log p (cross-entropy term) split into −y log y and y log(y / p) (which can be negative)."""
    names = [theme.safe_label(n) for n in class_names]
    kl = [v if math.isfinite(v) else None for v in d.kl_terms.tolist()]
    data = [
        dict(
            type="bar",
            name="−y log y (entropy term)",
            x=names,
            y=d.entropy_terms.tolist(),
            marker=dict(color=ENTROPY),
            hovertemplate="%{x}: %{y:.4f}<extra>entropy term</extra>",
        ),
        dict(
            type="bar",
            name="y log(y / p) (KL term)",
            x=names,
            y=kl,
            marker=dict(color=KL, pattern=dict(shape="/", fgcolor="white", bgcolor=KL, size=8, solidity=0.2)),
            hovertemplate="%{x}: %{y:.4f}<extra>KL term</extra>",
        ),
        dict(
            type="scatter",
            mode="markers",
            name="−y log p (their sum)",
            x=names,
            y=[v if math.isfinite(v) else None for v in d.cross_entropy_terms.tolist()],
            marker=dict(symbol="diamond", size=11, color=theme.INK),
            hovertemplate="%{x}: %{y:.4f}<extra>cross-entropy term</extra>",
        ),
    ]
    return theme.figure(
        data,
        title=f"Each class's share ({d.unit})",  # short for a phone: the page's caption says KL terms can be < 0
        height=330,
        legend=LEGEND_BELOW,
        barmode="relative",
        xaxis=dict(type="category"),
        yaxis=dict(title=dict(text=d.unit)),
    )


def loss_ruler(scale: LossScale, *, here: float | None = None, floor: float | None = None) -> go.Figure:
    """A number line of losses: the loss each probability of the true class costs, log C, and this example."""
    unit = scale.unit
    xs = scale.losses.tolist()
    labels = [
        f"p = {p:.3g}" if abs(p - 1 / scale.num_classes) > 1e-12 else f"p = 1/{scale.num_classes}" for p in scale.probs
    ]
    data = [
        dict(
            type="scatter",
            mode="markers+text",
            x=xs,
            y=[0] * len(xs),
            text=labels,
            textposition=["top center" if i % 2 == 0 else "bottom center" for i in range(len(labels))],
            marker=dict(symbol="line-ns-open", size=18, line=dict(width=2, color=theme.INK)),
            name="probability given to the true class",
            hovertemplate="%{text}: loss %{x:.4f} " + unit + "<extra></extra>",
            showlegend=False,
        ),
        dict(
            type="scatter",
            mode="markers",
            x=[scale.baseline],
            y=[0],
            marker=dict(symbol="diamond", size=14, color=theme.BASELINE),
            name=f"uniform guess log C = {_num(scale.baseline, unit)}",
            hoverinfo="name",
        ),
    ]
    if floor is not None and math.isfinite(floor):
        data.append(
            dict(
                type="scatter",
                mode="markers",
                x=[floor],
                y=[0],
                marker=dict(symbol="triangle-up", size=14, color=ENTROPY),
                name=f"floor H(y) = {_num(floor, unit)}",
                hoverinfo="name",
            )
        )
    if here is not None and math.isfinite(here):
        data.append(
            dict(
                type="scatter",
                mode="markers",
                x=[here],
                y=[0],
                marker=dict(symbol="x", size=14, color=KL, line=dict(width=2, color=KL)),
                name=f"this example H(y, p) = {_num(here, unit)}",
                hoverinfo="name",
            )
        )
    right = max(xs + [scale.baseline] + ([here] if here is not None and math.isfinite(here) else [])) * 1.1
    return theme.figure(
        data,
        title="Reading a loss: the probability it gives the true class",
        height=230,
        xaxis=dict(range=[-0.12 * right, right], title=dict(text=f"loss ({unit})")),
        yaxis=dict(visible=False, range=[-0.6, 1.2]),
    )
