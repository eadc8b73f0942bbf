"""Pure figure and table builders for the pitfalls page: xent_core.pitfalls results in, plotly or Arrow out.

Same rules as ui/figures.py: plain trace dicts through `theme.figure` (the tests validate every
spec), user text escaped, colour never the only cue (hatching marks targets, dashes tell lines apart,
text labels name the broken regions).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pyarrow as pa

from ui import theme
from xent_core.pitfalls import ClassWeighting, LogSoftmaxSteps, LogSoftmaxSweep, MultiLabelSweep, UnnormalisedRows

LEGEND_BELOW = dict(orientation="h", yanchor="top", y=-0.22, xanchor="left", x=0)
WRONG = theme.VERMILLION  # the pipeline that was written
RIGHT = theme.BLUE  # the pipeline that was meant
DECIMALS = 4


def special(x: float, digits: int = 4) -> str:
    """A number for a table cell, with NaN and infinities spelled out (they are the point here)."""
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "−inf"
    return theme.fmt(x, digits)


def _round(values) -> np.ndarray:
    return np.round(np.asarray(values, dtype=np.float64), DECIMALS)


def pixel_labels(shape: tuple[int, ...]) -> list[str]:
    """Positions of a target of shape (N, d1, ...) as the page names them: 'pixel (0, 1)' (sample 0 implied)."""
    labels = []
    for index in np.ndindex(*shape):
        rest = index[1:] if len(shape) > 1 else index
        prefix = f"sample {index[0]}, " if len(shape) > 1 and shape[0] > 1 else ""
        labels.append(f"{prefix}pixel ({', '.join(str(i) for i in rest)})" if rest else f"sample {index[0]}")
    return labels


def pixel_rows(tensor: np.ndarray) -> np.ndarray:
    """(N, C, d1, ...) -> (M, C), one row per position in row-major order (torch: x.movedim(1, -1).reshape(-1, C))."""
    t = np.asarray(tensor)
    if t.ndim == 1:
        return t[None, :]
    return np.moveaxis(t, 1, -1).reshape(-1, t.shape[1])


def from_pixel_rows(rows: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The inverse of `pixel_rows` for a tensor of `shape` (N, C, d1, ...)."""
    moved = np.asarray(rows).reshape((shape[0], *shape[2:], shape[1]))
    return np.ascontiguousarray(np.moveaxis(moved, -1, 1))


def pixel_frame(rows: np.ndarray, target: np.ndarray, labels: Sequence[str], class_names) -> pd.DataFrame:
    """The editor's table: a read-only position column, the target class by name, one column per class."""
    frame = pd.DataFrame(np.asarray(rows, dtype=np.float64), columns=[f"c{c}" for c in range(rows.shape[1])])
    frame.insert(0, "target", [str(class_names[t]) for t in target])
    frame.insert(0, "pixel", list(labels))
    return frame


def rows_frame(values: np.ndarray, target: np.ndarray, class_names) -> pd.DataFrame:
    frame = pd.DataFrame(np.asarray(values, dtype=np.float64), columns=[f"c{c}" for c in range(values.shape[1])])
    frame.insert(0, "target", [str(class_names[t]) for t in target])
    return frame


def double_softmax_bars(
    probs_rows: np.ndarray, double_rows: np.ndarray, target: np.ndarray, labels: Sequence[str], class_names
) -> go.Figure:
    """Each position's given distribution beside what cross_entropy makes of it (a second softmax).

    probs_rows, double_rows: (M, C), one row per position; target: (M,) (negative: ignored).
    The target class is hatched; the x axis groups classes by position.
    """
    m, c = probs_rows.shape
    names = [theme.safe_label(n) for n in class_names]
    x = [
        [theme.safe_label(labels[i]) for i in range(m) for _ in range(c)],
        [names[k] for _ in range(m) for k in range(c)],
    ]
    is_target = [bool(target[i] == k) for i in range(m) for k in range(c)]
    shapes = ["/" if t else "" for t in is_target]

    def bars(values: np.ndarray, name: str, color: str) -> dict:
        return dict(
            type="bar",
            name=name,
            x=x,
            y=np.round(values.ravel(), 4).tolist(),
            marker=dict(
                color=color, pattern=dict(shape=shapes, fgcolor=theme.INK, bgcolor=color, size=7, solidity=0.25)
            ),
            hovertemplate="%{x}: %{y:.4f}<extra>" + name + "</extra>",
        )

    data = [
        bars(probs_rows, "given probabilities p", RIGHT),
        bars(double_rows, "softmax(p): what cross_entropy compares with", WRONG),
    ]
    return theme.figure(
        data,
        title="A second softmax flattens every pixel (hatched: target)",
        height=340,
        barmode="group",
        bargap=0.2,
        yaxis=dict(range=[0, 1.02], title=dict(text="probability")),
        xaxis=dict(type="multicategory"),
    )


def probs_table(result, labels: Sequence[str], class_names) -> pa.Table:
    """One row per position: target, p_t, the row sum, softmax(p)_t, and both pipelines' losses."""
    p = pixel_rows(result.probs)
    d = pixel_rows(result.double_softmax)
    t = np.asarray(result.target).reshape(-1)
    ignored = np.asarray(result.ignored).reshape(-1)
    safe = np.where(ignored, 0, t)
    rows = np.arange(len(t))
    return pa.table(
        {
            "position": list(labels),
            "target": ["(ignored)" if ig else str(class_names[k]) for k, ig in zip(safe, ignored, strict=True)],
            "sum of p": _round(np.asarray(result.sums).reshape(-1)),
            "p_t": _round(np.where(ignored, np.nan, p[rows, safe])),
            "softmax(p)_t": _round(np.where(ignored, np.nan, d[rows, safe])),
            "cross_entropy(p)": _round(np.asarray(result.wrong_per_position).reshape(-1)),
            "−log p_t": _round(np.asarray(result.right_per_position).reshape(-1)),
        }
    )


def unnormalised_bars(r: UnnormalisedRows) -> go.Figure:
    """Per row: nll_loss(log a) as given beside the normalised loss; 0 marked (no real cross-entropy is below it)."""
    labels = [f"row {n}" for n in range(len(r.target))]
    data = [
        dict(
            type="bar",
            orientation="h",
            name="nll_loss(log a): rows as given",
            y=labels,
            x=_finite_list(r.raw_per_row),
            marker=dict(color=WRONG, pattern=dict(shape="x", fgcolor="white", bgcolor=WRONG, size=6, solidity=0.2)),
            text=[special(v) for v in r.raw_per_row],
            textposition="outside",
            hovertemplate="%{y}: %{text}<extra>as given</extra>",
        ),
        dict(
            type="bar",
            orientation="h",
            name="after dividing each row by its sum",
            y=labels,
            x=_finite_list(r.fixed_per_row),
            marker=dict(color=RIGHT),
            text=[special(v) for v in r.fixed_per_row],
            textposition="outside",
            hovertemplate="%{y}: %{text}<extra>normalised</extra>",
        ),
    ]
    line = dict(type="line", x0=0, x1=0, y0=0, y1=1, yref="paper", line=dict(color=theme.INK, width=1.5))
    return theme.figure(
        data,
        title="Loss per row: as given vs normalised (a loss below 0 is impossible for a real cross-entropy)",
        height=max(220, 90 + 60 * len(labels)),
        barmode="group",
        shapes=[line],
        xaxis=dict(title=dict(text="loss")),
        yaxis=dict(autorange="reversed", type="category"),
    )


def _finite_list(values) -> list:
    return [float(v) if np.isfinite(v) else None for v in np.asarray(values, dtype=np.float64)]


def unnormalised_table(r: UnnormalisedRows, class_names) -> pa.Table:
    return pa.table(
        {
            "row": np.arange(len(r.target)),
            "target": [str(class_names[t]) for t in r.target],
            "a_t": _round(r.target_activation),
            "row sum": _round(r.sums),
            "−log a_t (as given)": _round(r.raw_per_row),
            "−log(a_t / sum) (normalised)": _round(r.fixed_per_row),
            "difference = −log(sum)": _round(r.shift),
        }
    )


def steps_table(s: LogSoftmaxSteps, class_names) -> pa.Table:
    """One row per class: the naive computation's steps, then the stable one's (every value in s.dtype)."""
    return pa.table(
        {
            "class": [("→ " if k == s.target else "") + str(n) for k, n in enumerate(class_names)],
            "z": [special(v) for v in s.logits],
            "exp(z)": [special(v, 4) for v in s.exp],
            "exp(z) / Σ": [special(v, 4) for v in s.probs],
            "log(exp(z) / Σ)  naive": [special(v) for v in s.naive_log_probs],
            "z − max": [special(v) for v in s.shifted],
            "exp(z − max)": [special(v, 4) for v in s.exp_shifted],
            "z − logsumexp  stable": [special(v) for v in s.log_probs],
        }
    )


_KIND_TEXT = {"nan": "NaN", "inf": "+inf", "off": "inaccurate"}
_KIND_COLOR = {"nan": "rgba(213, 94, 0, 0.16)", "inf": "rgba(230, 159, 0, 0.18)", "off": "rgba(153, 153, 153, 0.18)"}


def _runs(kinds: Sequence[str]) -> list[tuple[int, int, str]]:
    """Maximal runs [start, end] of equal, non-'ok' kinds."""
    runs = []
    start = 0
    for i in range(1, len(kinds) + 1):
        if i == len(kinds) or kinds[i] != kinds[start]:
            if kinds[start] != "ok":
                runs.append((start, i - 1, kinds[start]))
            start = i
    return runs


def log_softmax_sweep_chart(sw: LogSoftmaxSweep, current: float, target_name: str) -> go.Figure:
    """The target's loss against the logit scale: the stable line throughout, the naive one where it works.

    Shaded bands (labelled NaN, +inf or inaccurate) mark the scales where the naive formula breaks.
    """
    x = sw.scales.tolist()
    logx = np.log10(sw.scales)
    shapes, notes = [], []
    for lo, hi, kind in _runs(sw.naive_kind):
        # band edges half-way (in log space) to the neighbouring scales
        left = 10 ** ((logx[lo - 1] + logx[lo]) / 2) if lo > 0 else x[lo]
        right = 10 ** ((logx[hi] + logx[hi + 1]) / 2) if hi + 1 < len(x) else x[hi]
        shapes.append(
            dict(
                type="rect",
                x0=left,
                x1=right,
                y0=0,
                y1=1,
                yref="paper",
                fillcolor=_KIND_COLOR[kind],
                line=dict(width=0),
                layer="below",
            )
        )
        notes.append(
            dict(
                x=math.log10(math.sqrt(left * right)),
                y=0.98,
                yref="paper",
                text=f"naive: {_KIND_TEXT[kind]}",
                showarrow=False,
                yanchor="top",
                font=dict(size=11, color=theme.INK),
            )
        )
    shapes.append(
        dict(type="line", x0=current, x1=current, y0=0, y1=1, yref="paper", line=dict(color=theme.INK, dash="dot"))
    )
    naive = [float(v) if ok else None for v, ok in zip(sw.naive_loss, sw.naive_ok, strict=True)]
    data = [
        dict(
            type="scatter",
            mode="lines+markers",
            name="−log_softmax(z)_t (stable)",
            x=x,
            y=[float(v) for v in sw.loss],
            line=dict(color=RIGHT, width=3),
            marker=dict(symbol="circle", size=7),
            hovertemplate="scale %{x}: %{y:.4g}<extra>stable</extra>",
        ),
        dict(
            type="scatter",
            mode="markers",
            name="−log(exp(z_t) / Σ exp(z)) (naive, where it works)",
            x=x,
            y=naive,
            marker=dict(symbol="x", size=10, color=WRONG),
            hovertemplate="scale %{x}: %{y:.4g}<extra>naive</extra>",
        ),
    ]
    return theme.figure(
        data,
        title=f"Loss of {theme.safe_label(target_name)} as the logits grow ({sw.dtype}; dotted: the scale above)",
        height=380,
        shapes=shapes,
        annotations=notes,
        xaxis=dict(type="log", title=dict(text="logit scale")),
        yaxis=dict(title=dict(text="loss"), rangemode="tozero"),
        legend=LEGEND_BELOW,
        margin=dict(theme.BASE_LAYOUT["margin"], b=8),
    )


def multilabel_sweep_chart(sw: MultiLabelSweep, current: float | None = None) -> go.Figure:
    """BCE and CE of one multi-label row as its true labels' logit rises; CE's floor log k dashed."""
    x = sw.values.tolist()
    data = [
        dict(
            type="scatter",
            mode="lines",
            name="sigmoid + BCE (right)",
            x=x,
            y=sw.bce.tolist(),
            line=dict(color=RIGHT, width=3),
            hovertemplate="logit %{x:.1f}: BCE %{y:.4f}<extra></extra>",
        ),
        dict(
            type="scatter",
            mode="lines",
            name="softmax + CE (wrong)",
            x=x,
            y=sw.ce.tolist(),
            line=dict(color=WRONG, width=3, dash="dash"),
            hovertemplate="logit %{x:.1f}: CE %{y:.4f}<extra></extra>",
        ),
        dict(
            type="scatter",
            mode="lines",
            name=f"CE's floor: entropy of the split target = {sw.ce_floor:.3f}",
            x=[x[0], x[-1]],
            y=[sw.ce_floor, sw.ce_floor],
            line=dict(color=theme.GREY, width=1.5, dash="dot"),
            hoverinfo="skip",
        ),
    ]
    shapes = []
    if current is not None:
        shapes.append(
            dict(type="line", x0=current, x1=current, y0=0, y1=1, yref="paper", line=dict(color=theme.INK, dash="dot"))
        )
    return theme.figure(
        data,
        title="Raise every true label's logit: BCE → 0, CE stays above its floor",
        height=360,
        legend=LEGEND_BELOW,
        shapes=shapes,
        xaxis=dict(title=dict(text="logit of the true labels")),
        yaxis=dict(title=dict(text="loss"), rangemode="tozero"),
    )


def class_share_bars(cw: ClassWeighting, class_names) -> go.Figure:
    """Each class's share of the total loss, without and with the class weights."""
    names = [theme.safe_label(n) for n in class_names]
    counts = [int(c) for c in cw.class_count]
    labels = [f"{n} ({c} sample{'s' if c != 1 else ''})" for n, c in zip(names, counts, strict=True)]
    data = [
        dict(
            type="bar",
            name="no weights",
            x=labels,
            y=cw.plain_share.tolist(),
            marker=dict(color=theme.GREY),
            text=[f"{v:.0%}" for v in cw.plain_share],
            textposition="outside",
            hovertemplate="%{x}: %{y:.1%} of the loss<extra>no weights</extra>",
        ),
        dict(
            type="bar",
            name="with the class weights",
            x=labels,
            y=cw.weighted_share.tolist(),
            marker=dict(color=RIGHT, pattern=dict(shape="/", fgcolor="white", bgcolor=RIGHT, size=7, solidity=0.2)),
            text=[f"{v:.0%}" for v in cw.weighted_share],
            textposition="outside",
            hovertemplate="%{x}: %{y:.1%} of the loss<extra>weighted</extra>",
        ),
    ]
    return theme.figure(
        data,
        title="Share of the total loss coming from each class's samples",
        height=320,
        barmode="group",
        yaxis=dict(range=[0, 1.12], tickformat=".0%"),
        xaxis=dict(type="category"),
    )


def weighting_table(cw: ClassWeighting, target: np.ndarray, class_names) -> pa.Table:
    return pa.table(
        {
            "sample": np.arange(len(target)),
            "target": [str(class_names[t]) for t in target],
            "−log p_t": _round(cw.per_sample),
            "w[target]": _round(cw.sample_weight),
            "w · (−log p_t)": _round(cw.weighted_per_sample),
        }
    )
