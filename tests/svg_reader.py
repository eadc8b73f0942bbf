"""Reading the app's server-drawn SVG charts back into numbers, as a test would read a plot by eye.

Charts record each plot's axes on a `<g class="plot" data-x="d0 d1 p0 p1" data-y="...">` group
(ui.svg.Canvas.open_plot): data values d0, d1 sit at pixels p0, p1. Inverting that mapping turns a
polyline's points or a bar's top back into data, to within the drawing's rounding (0.1 px for
shapes, 0.5 px for polyline points).
"""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import numpy as np

NS = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def from_data_url(url: str) -> ET.Element:
    """The SVG behind an `<img>`'s data: URL (how st.image ships an SVG string)."""
    prefix = "data:image/svg+xml;base64,"
    assert url.startswith(prefix), url[:40]
    return parse(base64.b64decode(url[len(prefix) :]).decode())


def _axis(text: str):
    d0, d1, p0, p1 = (float(v) for v in text.split())
    return lambda px: d0 + (np.asarray(px, dtype=float) - p0) / (p1 - p0) * (d1 - d0), abs(p1 - p0) / abs(d1 - d0)


@dataclass
class Plot:
    element: ET.Element

    def __post_init__(self):
        self.x, self.px_per_x = _axis(self.element.get("data-x"))
        self.y, self.px_per_y = _axis(self.element.get("data-y"))

    def curve(self, mark: str) -> tuple[np.ndarray, np.ndarray]:
        """The data points of the polyline with class `mark`."""
        (line,) = [el for el in self.element.iter(f"{NS}polyline") if el.get("class") == mark]
        pts = np.array(line.get("points").replace(",", " ").split(), dtype=float).reshape(-1, 2)
        return self.x(pts[:, 0]), self.y(pts[:, 1])

    def bars(self) -> dict[str, np.ndarray]:
        """The values of the bars (rects with class "bar"), per fill colour, left to right."""
        out: dict[str, list[tuple[float, float]]] = {}
        for el in self.element.iter(f"{NS}rect"):
            if el.get("class") == "bar":
                top = float(el.get("y"))
                out.setdefault(el.get("fill"), []).append((float(el.get("x")), float(self.y(top))))
        return {fill: np.array([v for _, v in sorted(bars)]) for fill, bars in out.items()}


def plots(root: ET.Element) -> list[Plot]:
    return [Plot(g) for g in root.iter(f"{NS}g") if g.get("class") == "plot"]


def texts(root: ET.Element) -> list[str]:
    return [el.text or "" for el in root.iter(f"{NS}text")]
