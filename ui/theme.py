"""The look: one plotly template, a colour-blind-safe palette, number formats.

Colours follow Okabe & Ito's palette, distinguishable with the common colour-vision deficiencies;
wherever colour carries meaning a second cue (pattern, marker, text) carries it too.
"""

from __future__ import annotations

import html
import math
import re
from pathlib import Path

import plotly.graph_objects as go

# Okabe-Ito
BLUE = "#0072B2"
ORANGE = "#E69F00"
SKY = "#56B4E9"
GREEN = "#009E73"
YELLOW = "#F0E442"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
GREY = "#999999"
INK = "#1f2933"

TARGET = BLUE  # the target class
OTHER = "#c7ccd1"  # every other class
BASELINE = VERMILLION  # the uniform-guess line log C
IGNORED = "#e4e7eb"
# Diverging scale for signed gradients: orange = negative (gradient descent raises the logit),
# blue = positive (it lowers it); white at zero.
DIVERGING = [[0.0, "#b35806"], [0.25, "#f1a340"], [0.5, "#f7f7f7"], [0.75, "#67a9cf"], [1.0, "#2166ac"]]
CLASS_COLORS = [BLUE, ORANGE, GREEN, PURPLE, SKY, VERMILLION, YELLOW, GREY]

FAVICON = str(Path(__file__).resolve().parents[1] / "assets" / "favicon.png")  # local: no CDN fetch

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


def class_color(c: int) -> str:
    return CLASS_COLORS[c % len(CLASS_COLORS)]


def safe_label(text: str) -> str:
    """User text for a plotly label: plotly reads a subset of HTML, so escape it."""
    return html.escape(str(text), quote=False)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def md_escape(text: str) -> str:
    """User text made literal for Streamlit's Markdown (st.markdown, st.caption, st.error, ...): every
    character Markdown, LaTeX ($) or Streamlit's :directives: could read is backslash-escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def fmt(x: float, digits: int = 4) -> str:
    """A number as the pages print it: fixed decimals, scientific when tiny or huge, words for non-finite."""
    if x is None:
        return "—"
    x = float(x)
    if math.isnan(x):
        return "—"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x != 0 and (abs(x) >= 1e6 or abs(x) < 10 ** (-digits)):
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}f}"


_AXIS = dict(
    gridcolor="#e8ebee",
    linecolor="#c7ccd1",
    zerolinecolor="#c7ccd1",
    ticks="",
    automargin=True,
    title=dict(standoff=6),
)

# The look of plotly's "plotly_white", spelled out: a named template is only expanded by plotly's
# validator, which `figure()` skips for speed.
BASE_LAYOUT = dict(
    paper_bgcolor="white",
    plot_bgcolor="white",
    font=dict(family=FONT, size=13, color=INK),
    margin=dict(l=8, r=8, t=56, b=8),
    legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1),
    hoverlabel=dict(font=dict(family=FONT)),
    xaxis=_AXIS,
    yaxis=_AXIS,
)


class SpecFigure(go.Figure):
    """A plotly Figure that is nothing but its JSON spec: no validation, no copies.

    `st.plotly_chart` asks a Figure only for `to_dict()` and serialises that, so handing it the
    spec directly skips plotly's validators and deep copies (5-50 ms per figure). Attribute access
    such as `fig.data` is not available; `validated()` gives a regular, validated Figure (tests
    use it to prove every spec is valid plotly).
    """

    def __init__(self, spec: dict):  # deliberately not calling go.Figure.__init__
        object.__setattr__(self, "_spec", spec)

    def to_dict(self) -> dict:
        return self._spec

    def to_plotly_json(self) -> dict:
        return self._spec

    def validated(self) -> go.Figure:
        return go.Figure(self._spec)

    def __repr__(self) -> str:
        return f"SpecFigure({len(self._spec.get('data', []))} traces)"


def figure(data: list[dict], *, title: str | None = None, height: int = 300, **layout) -> go.Figure:
    """A Figure from plain trace dicts and the house layout, without plotly's (slow) validation.

    Building through graph_objects' validators costs 50-250 ms per figure; this costs well under
    one. The tests validate every builder's output with plotly's validators instead.
    """
    merged = dict(BASE_LAYOUT, height=height, **layout)
    for axis in ("xaxis", "yaxis"):
        if axis in layout:
            merged[axis] = {**_AXIS, **layout[axis]}
    if title:
        merged["title"] = dict(text=title, font=dict(size=14), x=0, xanchor="left", y=0.99, yanchor="top")
    else:
        merged["margin"] = dict(BASE_LAYOUT["margin"], t=24)
    return SpecFigure(dict(data=data, layout=merged))


PLOTLY_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"], "responsive": True}
