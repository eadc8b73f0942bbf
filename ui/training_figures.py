"""Pure figure builders for the training lab: xent_core.training results in, plotly specs out.

Same rules as ui/loss_figures.py: plain trace dicts through `theme.figure` (no validators at run time;
the tests validate every spec), colour never the only cue (each loss keeps its own dash pattern, each
class its own marker shape), and no st.* calls. Curves that stopped early (a diverged run) simply end,
with a cross where they stopped; nothing non-finite reaches a chart.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ui import theme
from ui.loss_figures import LOSS_STYLE
from xent_core.datasets import Dataset
from xent_core.training import TRAINING_LOSSES, LossRun, Progress, TrainResult

# One colour and one dash per loss, as on the comparison page; class-weighted CE is new here.
STYLE = {**LOSS_STYLE, "weighted_ce": (theme.INK, "6px,3px,1px,3px")}
MARKERS = ("circle", "square", "diamond", "triangle-up", "cross", "x")  # one shape per class
SPLITS = {"val": "validation", "train": "training", "both": "both"}
POINTS = {"train": "training points", "val": "validation points", "none": "no points"}
GAP = 0.05  # between panels, as a share of the figure


def loss_name(key: str) -> str:
    return TRAINING_LOSSES[key].name


def _axis(**extra) -> dict:
    return {**theme.BASE_LAYOUT["xaxis"], **extra}


def _values(a, digits: int = 6) -> list:
    """A float array as a JSON-ready list, nan as None (a gap, never a broken axis)."""
    arr = np.round(np.asarray(a, dtype=np.float64), digits)
    finite = np.isfinite(arr)
    if finite.all():
        return arr.tolist()
    out = arr.astype(object)
    out[~finite] = None
    return out.tolist()


def _columns(k: int, gap: float = GAP) -> list[tuple[float, float]]:
    width = (1 - gap * (k - 1)) / k
    return [(i * (width + gap), i * (width + gap) + width) for i in range(k)]


def _grid(
    n: int, gap_y: float, gap_x: float = GAP
) -> tuple[int, list[tuple[tuple[float, float], tuple[float, float]]]]:
    """Cells for n panels: one row of up to two, else rows of two (four columns are unreadable on a phone).

    Returns the number of rows and, per panel, its ((x0, x1), (y0, y1)) block in paper coordinates.
    """
    cols = n if n <= 2 else 2
    rows = -(-n // cols)
    height = (1 - gap_y * (rows - 1)) / rows
    cells = []
    for i in range(n):
        r, c = divmod(i, cols)
        top = 1 - r * (height + gap_y)
        cells.append((_columns(cols, gap_x)[c], (max(round(top - height, 9), 0.0), round(top, 9))))
    return rows, cells


def _wrap(text: str, width: int = 18) -> str:
    """Break (already escaped) text at spaces into lines of about `width` characters, joined by <br>."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


def _panel_title(text: str, x0: float, x1: float, y: float, *, size: int | None = None) -> dict:
    note = dict(
        text=text,
        x=(x0 + x1) / 2,
        y=y,
        xref="paper",
        yref="paper",
        xanchor="center",
        yanchor="bottom",
        showarrow=False,
    )
    if size:
        note["font"] = dict(size=size)
    return note


def _line(key: str, x, y, *, xaxis: str, yaxis: str, faint: bool, showlegend: bool, hover: str) -> dict:
    color, dash = STYLE[key]
    return dict(
        type="scatter",
        mode="lines",
        x=x,
        y=y,
        name=loss_name(key),
        legendgroup=key,
        showlegend=showlegend,
        line=dict(color=color, dash=dash, width=1.5 if faint else 2.5),
        opacity=0.45 if faint else 1.0,
        xaxis=xaxis,
        yaxis=yaxis,
        hovertemplate=hover,
    )


# ---------------------------------------------------------------------------------------------- curves

# (panel title, y-axis options); panel i uses axes x{i}/y{i} (the first is plain x/y).
# Short enough for a phone-wide panel (about 150 px); the page's caption says the rest.
_PANELS = (
    ("<b>Cross-entropy</b>", dict(rangemode="tozero")),
    ("<b>Accuracy</b>", dict(range=[0, 1.02], tickformat=".0%")),
    ("<b>Own loss</b> ÷ step 0", dict(rangemode="tozero")),
    ("<b>Gradient norm</b> (log)", dict(type="log", dtick=1)),  # powers of ten only: no crowded 2s and 5s
)


def curves_figure(result: TrainResult, *, split: str = "val") -> go.Figure:
    """Four panels over the steps, every loss overlaid: cross-entropy, accuracy, own loss, gradient norm.

    split: "val", "train" or "both" (then the training curves are faint). The own loss of each model is
    divided by its value at step 0, so that losses in different units share an axis (hover shows the
    raw value); the gradient norm is on the training set.
    """
    show = ("train", "val") if split == "both" else (split,)
    domains = [
        ((0.0, 0.44), (0.58, 1.0)),  # the gap between columns holds the right panels' y tick labels
        ((0.56, 1.0), (0.58, 1.0)),
        ((0.0, 0.44), (0.0, 0.4)),
        ((0.56, 1.0), (0.0, 0.4)),
    ]
    data, layout, notes = [], {}, []
    for i, ((x0, x1), (y0, y1)) in enumerate(domains):
        suffix = "" if i == 0 else str(i + 1)
        title, y_opts = _PANELS[i]
        layout[f"xaxis{suffix}"] = _axis(domain=[x0, x1], anchor=f"y{suffix}", title=dict(text="step" if i > 1 else ""))
        layout[f"yaxis{suffix}"] = _axis(domain=[y0, y1], anchor=f"x{suffix}", **y_opts)
        notes.append(_panel_title(title, x0, x1, y1 + 0.005))
    for key, run in result.runs.items():
        steps = list(range(len(run.ce_train)))
        for which in show:
            faint = split == "both" and which == "train"
            label = SPLITS[which]
            first = which == show[-1]  # one legend entry per loss
            ce, acc = (run.ce_val, run.acc_val) if which == "val" else (run.ce_train, run.acc_train)
            own = run.loss_val if which == "val" else run.loss_train
            scale = own[0] if len(own) and own[0] > 0 else 1.0
            data.append(
                _line(
                    key,
                    steps,
                    _values(ce),
                    xaxis="x",
                    yaxis="y",
                    faint=faint,
                    showlegend=first,
                    hover=f"%{{fullData.name}} ({label}): CE %{{y:.4f}}<extra></extra>",
                )
            )
            data.append(
                _line(
                    key,
                    steps,
                    _values(acc),
                    xaxis="x2",
                    yaxis="y2",
                    faint=faint,
                    showlegend=False,
                    hover=f"%{{fullData.name}} ({label}): %{{y:.1%}}<extra></extra>",
                )
            )
            own_trace = _line(
                key,
                steps,
                _values(own / scale),
                xaxis="x3",
                yaxis="y3",
                faint=faint,
                showlegend=False,
                hover=f"%{{fullData.name}} ({label}): own loss %{{customdata:.4g}}"
                " (%{y:.0%} of its start)<extra></extra>",
            )
            own_trace["customdata"] = _values(own)
            data.append(own_trace)
        data.append(
            _line(
                key,
                list(range(len(run.grad_norm))),
                _values(run.grad_norm),
                xaxis="x4",
                yaxis="y4",
                faint=False,
                showlegend=False,
                hover="%{fullData.name}: ‖gradient‖ %{y:.3g}<extra></extra>",
            )
        )
        if run.diverged_at is not None and len(run.ce_train):
            data.append(_stop_marker(key, run, "x", "y", run.ce_train[-1] if "train" in show else run.ce_val[-1]))
    return theme.figure(
        data,
        title="Learning curves on both sets (faint: training)"
        if split == "both"
        else f"Learning curves on the {SPLITS[split]} set",
        height=600,
        hovermode="x unified",
        annotations=notes,
        margin=dict(l=8, r=8, t=90, b=8),
        legend=dict(orientation="h", yanchor="bottom", y=1.06, xanchor="right", x=1),
        **layout,
    )


def _stop_marker(key: str, run: LossRun, xaxis: str, yaxis: str, y: float) -> dict:
    return dict(
        type="scatter",
        mode="markers",
        x=[len(run.ce_train) - 1],
        y=_values([y]),
        marker=dict(symbol="x-thin", size=14, line=dict(width=3, color=STYLE[key][0])),
        showlegend=False,
        xaxis=xaxis,
        yaxis=yaxis,
        hovertemplate=f"{loss_name(key)} diverged at step {run.diverged_at}: stopped<extra></extra>",
    )


def live_figure(progress: Progress) -> go.Figure:
    """Validation accuracy of every model so far, on the axis of the whole run (it grows as it trains)."""
    steps = list(range(progress.acc_val.shape[0]))
    data = [
        _line(
            key,
            steps,
            _values(progress.acc_val[:, i]),
            xaxis="x",
            yaxis="y",
            faint=False,
            showlegend=True,
            hover="%{fullData.name}: %{y:.1%}<extra></extra>",
        )
        for i, key in enumerate(progress.keys)
    ]
    return theme.figure(
        data,
        title=f"Validation accuracy while training: step {progress.step} of {progress.steps}",
        height=300,
        xaxis=dict(range=[0, progress.steps], title=dict(text="step")),
        yaxis=dict(range=[0, 1.02], tickformat=".0%"),
    )


# ---------------------------------------------------------------------------------------------- regions


def _tint(color: str, amount: float) -> str:
    """`color` mixed with white: amount 0 is white, 1 the colour itself."""
    rgb = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
    mixed = [round(255 + (c - 255) * amount) for c in rgb]
    return f"rgb({mixed[0]},{mixed[1]},{mixed[2]})"


def region_colorscale(num_classes: int) -> list[list]:
    """A colour scale over [0, C]: class c's stretch [c, c + 1) goes from a pale to a strong tint of its colour.

    With z = predicted class + confidence (see `region_values`) one heatmap shows both: the hue says which
    class wins there, the strength how sure the model is.
    """
    scale = []
    for c in range(num_classes):
        lo, hi = c / num_classes, (c + 1) / num_classes
        scale.append([lo, _tint(theme.class_color(c), 0.08)])
        scale.append([hi - 1e-6 if c < num_classes - 1 else hi, _tint(theme.class_color(c), 0.6)])
    return scale


def region_values(probs: np.ndarray) -> np.ndarray:
    """(G, G, C) probabilities -> (G, G) values: the winning class plus its confidence rescaled to [0, 1).

    Confidence 1/C (a uniform guess) maps to 0 and 1 to just under 1, so the value stays in its class's stretch.
    """
    c = probs.shape[-1]
    top = probs.max(-1)
    strength = np.clip((top - 1.0 / c) / (1.0 - 1.0 / c), 0.0, 0.999)
    return probs.argmax(-1) + strength


# Titles short enough for a phone; what the colours and outlines mean is in `regions_caption`.
REGIONS_TITLE = {
    "train": "Decision regions, with the training points",
    "val": "Decision regions, with the validation points",
    "none": "Decision regions",
}
REGION_GAP = 0.16  # between rows of panels: room for the next row's heading


def regions_caption(points: str) -> str:
    """What the regions figure shows, for the caption under it (too long for a title on a phone)."""
    text = (
        "The colour is the class each final model predicts there, its strength how confident the model is; "
        "the percentage under each name is the model's accuracy on the validation set."
    )
    if points == "train":
        text += " A point with a dark outline is one whose label the label noise changed."
    return text


def regions_figure(
    result: TrainResult, data: Dataset, *, points: str = "train", class_names: Sequence[str] | None = None
) -> go.Figure:
    """One panel per loss: the final model's predicted class over the plane (strength = confidence), with points.

    points: "train" (the labels the model saw; a label changed by label noise has a dark outline),
    "val" (true labels) or "none".
    """
    runs = list(result.runs.values())
    c = data.num_classes
    names = [theme.safe_label(n) for n in (class_names or [f"class {i}" for i in range(c)])]
    grid = _values(result.grid, 4)
    ext = float(data.extent)
    traces, layout, notes = [], {}, []
    if points == "train":
        xs, ys, flipped = data.x_train, data.y_train, data.flipped
    elif points == "val":
        xs, ys, flipped = data.x_val, data.y_val, np.zeros(len(data.y_val), dtype=bool)
    else:
        xs, ys, flipped = np.zeros((0, 2)), np.zeros(0, dtype=int), np.zeros(0, dtype=bool)
    rows, cells = _grid(len(runs), REGION_GAP)
    for i, (run, ((x0, x1), (y0, y1))) in enumerate(zip(runs, cells, strict=True)):
        suffix = "" if i == 0 else str(i + 1)
        xa, ya = f"x{suffix}", f"y{suffix}"
        if run.grid_probs is not None:
            traces.append(
                dict(
                    type="heatmap",
                    x=grid,
                    y=grid,
                    z=np.round(region_values(run.grid_probs), 3).tolist(),
                    zmin=0,
                    zmax=c,
                    colorscale=region_colorscale(c),
                    showscale=False,
                    hoverinfo="skip",
                    xaxis=xa,
                    yaxis=ya,
                )
            )
            heading = f"<b>{_wrap(theme.safe_label(run.name))}</b><br>{100 * run.acc_val[-1]:.0f} % right on validation"
        else:
            notes.append(
                dict(
                    text="diverged",
                    x=0,
                    y=0,
                    xref=xa,
                    yref=ya,
                    showarrow=False,
                    font=dict(color=theme.VERMILLION),
                    bgcolor="rgba(255,255,255,0.9)",
                    bordercolor=theme.VERMILLION,
                    borderpad=4,
                )
            )
            heading = f"<b>{_wrap(theme.safe_label(run.name))}</b><br>diverged at step {run.diverged_at}"
        for cls in range(c):
            mine = ys == cls
            if not mine.any():
                continue
            traces.append(
                dict(
                    type="scatter",
                    mode="markers",
                    x=_values(xs[mine, 0], 4),
                    y=_values(xs[mine, 1], 4),
                    name=names[cls],
                    legendgroup=f"class{cls}",
                    showlegend=i == 0,
                    marker=dict(
                        symbol=MARKERS[cls % len(MARKERS)],
                        size=6,
                        color=theme.class_color(cls),
                        line=dict(
                            width=[1.6 if f else 0.6 for f in flipped[mine]],
                            color=[theme.INK if f else "white" for f in flipped[mine]],
                        ),
                    ),
                    xaxis=xa,
                    yaxis=ya,
                    hovertemplate=f"{names[cls]}<extra></extra>",
                )
            )
        square = dict(range=[-ext, ext], showgrid=False, zeroline=False, constrain="domain")
        layout[f"xaxis{suffix}"] = _axis(domain=[x0, x1], anchor=ya, **square)
        # a panel narrower than its cell is tall shrinks towards its heading, not into the middle of the cell
        layout[f"yaxis{suffix}"] = _axis(
            domain=[y0, y1], anchor=xa, scaleanchor=xa, constraintoward="top", showticklabels=x0 == 0, **square
        )
        notes.append(_panel_title(heading, x0, x1, y1, size=12))
    return theme.figure(
        traces,
        title=REGIONS_TITLE[points],
        height=500 if rows == 1 else 680,
        annotations=notes,
        margin=dict(l=8, r=8, t=96, b=8),
        legend=dict(orientation="h", yanchor="top", y=-0.12, xanchor="center", x=0.5),
        **layout,
    )


# ---------------------------------------------------------------------------------------------- calibration


CALIBRATION_GAP = 0.17  # between rows of panels: the histogram's tick labels, then the next row's heading


def calibration_figure(result: TrainResult) -> go.Figure:
    """Per loss, a reliability diagram (top) and the confidence histogram (bottom), on the validation set.

    Reliability: for the samples whose top probability falls in each bin, the share predicted right; a
    calibrated model's bars reach the diagonal. Bars above it: under-confident; below: over-confident.
    """
    runs = list(result.runs.values())
    tallest = max((int(r.calibration.count.max()) for r in runs if r.calibration is not None), default=1)
    traces, layout, notes = [], {}, []
    rows, cells = _grid(len(runs), CALIBRATION_GAP, 0.1)  # x gap: room for "100%" beside the next "0%"
    for i, (run, ((x0, x1), (b0, b1))) in enumerate(zip(runs, cells, strict=True)):
        top, bottom = ("" if i == 0 else str(2 * i + 1)), str(2 * i + 2)  # axis suffixes: x, x2, x3, ...
        color = STYLE[run.key][0]
        first, last_row = x0 == 0, b0 == 0
        span = b1 - b0  # the cell's reliability diagram on its top 58 %, the histogram on its bottom 26 %
        for axis, (y0, y1) in ((top, (b0 + 0.42 * span, b1)), (bottom, (b0, b0 + 0.26 * span))):
            layout[f"xaxis{axis}"] = _axis(
                domain=[x0, x1],
                anchor=f"y{axis}",
                range=[0, 1],
                tickformat=".0%",
                tickvals=[0, 0.5, 1],  # three labels fit a phone-wide panel
                title=dict(text="confidence" if axis == bottom and last_row else ""),
                showticklabels=axis == bottom,
            )
            layout[f"yaxis{axis}"] = _axis(domain=[y0, y1], anchor=f"x{axis}", showticklabels=first)
        layout[f"yaxis{top}"].update(range=[0, 1.02], tickformat=".0%", title=dict(text="accuracy" if first else ""))
        layout[f"yaxis{bottom}"].update(range=[0, tallest * 1.1], title=dict(text="samples" if first else ""))
        cal = run.calibration
        if cal is None:
            heading = f"<b>{_wrap(theme.safe_label(run.name))}</b><br>diverged at step {run.diverged_at}"
            notes.append(_panel_title(heading, x0, x1, b1, size=12))
            notes.append(
                dict(
                    text="diverged",
                    x=0.5,
                    y=0.5,
                    xref=f"x{top}",
                    yref=f"y{top}",
                    showarrow=False,
                    font=dict(color=theme.VERMILLION),
                )
            )
            continue
        centres = _values((cal.edges[:-1] + cal.edges[1:]) / 2, 4)
        width = float(cal.edges[1] - cal.edges[0])
        traces.append(
            dict(
                type="scatter",
                mode="lines",
                x=[0, 1],
                y=[0, 1],
                line=dict(color=theme.GREY, dash="dot", width=1),
                hoverinfo="skip",
                showlegend=False,
                xaxis=f"x{top}",
                yaxis=f"y{top}",
            )
        )
        traces.append(
            dict(
                type="bar",
                x=centres,
                y=_values(cal.accuracy, 4),
                width=width * 0.92,
                marker=dict(color=color, line=dict(width=0)),
                customdata=_values(cal.confidence, 4),
                name=run.name,
                showlegend=False,
                xaxis=f"x{top}",
                yaxis=f"y{top}",
                hovertemplate="mean confidence %{customdata:.1%}: %{y:.1%} right<extra></extra>",
            )
        )
        traces.append(
            dict(
                type="bar",
                x=centres,
                y=cal.count.tolist(),
                width=width * 0.92,
                marker=dict(color=color, opacity=0.6, line=dict(width=0)),
                name=run.name,
                showlegend=False,
                xaxis=f"x{bottom}",
                yaxis=f"y{bottom}",
                hovertemplate=f"%{{y}} samples at %{{x:.0%}} ± {50 * width:.0f} %<extra></extra>",
            )
        )
        name = _wrap(theme.safe_label(run.name))
        heading = f"<b>{name}</b><br>ECE {cal.ece:.3f}<br>confidence {100 * cal.mean_confidence:.0f} %"
        notes.append(_panel_title(heading, x0, x1, b1, size=12))
    return theme.figure(
        traces,
        title="Calibration on the validation set",
        height=470 if rows == 1 else 860,
        bargap=0,
        annotations=notes,
        margin=dict(l=8, r=8, t=92, b=8),
        **layout,
    )
