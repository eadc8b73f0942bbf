"""AppTest helpers: run the real multipage app from its entry point, then switch to a page."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
PLAYGROUND = "pages/1_Playground.py"


def open_page(page: str = PLAYGROUND, query: dict[str, str] | None = None) -> AppTest:
    """A fresh session on `page`, opened the way a browser opens a direct link."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def run(at: AppTest) -> AppTest:
    """Rerun after setting state or widget values; an exception anywhere on the page fails the test."""
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def errors(at: AppTest) -> list[str]:
    """The page's error messages as a reader sees them: Markdown's backslash escapes removed (the pages
    escape messages that quote class names or typed text, ui.theme.md_escape)."""
    return [re.sub(r"\\(.)", r"\1", e.value) for e in at.error]


def warnings(at: AppTest) -> str:
    """The page's warnings as a reader sees them, joined (escapes removed as in `errors`)."""
    return " ".join(re.sub(r"\\(.)", r"\1", w.value) for w in at.warning)


def metrics(at: AppTest) -> dict[str, str]:
    """Every metric on the page: label -> shown value."""
    return {m.label: m.value for m in at.metric}


def metric(at: AppTest, label_start: str) -> str:
    for m in at.metric:
        if m.label.startswith(label_start):
            return m.value
    raise AssertionError(f"no metric starting with {label_start!r}: {[m.label for m in at.metric]}")


def editor_key(at: AppTest, table: str = "logits") -> str:
    """The session-state key of the current logits/probs/weight editor (its version changes on reloads)."""
    return f"pg.{table}.{at.session_state['pg.editor'].version}"


def edit(at: AppTest, rows: dict, table: str = "logits") -> AppTest:
    """Simulate data-editor edits: {row: {column: value}} (columns 'c0', 'c1', ..., 'target', 'ignore')."""
    at.session_state[editor_key(at, table)] = {"edited_rows": rows, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_setup(at: AppTest) -> AppTest:
    """Open the "Batch setup" expander (its widgets exist only while it is open)."""
    at.session_state["pg.setup"] = True
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def torch_loss(logits, target, *, reduction="mean", weight=None, label_smoothing=0.0, temperature=1.0) -> float:
    """The oracle: torch's F.cross_entropy in float64 ('none' summed, as the page reports it)."""
    z = torch.tensor(np.asarray(logits, dtype=np.float64)) / temperature
    t = torch.tensor(np.asarray(target))
    if t.dtype != torch.float64:
        t = t.long()
    w = None if weight is None else torch.tensor(np.asarray(weight, dtype=np.float64))
    out = F.cross_entropy(z, t, weight=w, reduction=reduction, label_smoothing=label_smoothing)
    return float(out.sum())


def shown(value: float) -> str:
    """How the page prints a loss (theme.fmt with 4 decimals)."""
    from ui import theme

    return theme.fmt(value)


@pytest.fixture
def playground() -> AppTest:
    return open_page()


def table_view(at: AppTest, label_start: str) -> pd.DataFrame:
    """A read-only table the page drew with ui/grid.view (found by the start of its label), as the browser
    gets it: numbers as numbers, an empty cell as NaN."""
    for element in at.get("bidi_component"):
        data = json.loads(element.proto.json)
        if data.get("readonly") and data["label"].startswith(label_start):
            frame = pd.DataFrame(data["rows"], columns=[c["label"] for c in data["columns"]])
            for column in data["columns"]:
                if column["kind"] == "number":
                    infinite = {"∞": np.inf, "−∞": -np.inf}
                    frame[column["label"]] = pd.to_numeric(frame[column["label"]].replace(infinite))
            return frame
    raise AssertionError(f"no table labelled {label_start!r}")


def batch_tables(at: AppTest) -> list:
    """The page's editable batch tables (ui/grid.grid; a read-only ui/grid.view is not one)."""
    return [e for e in at.get("bidi_component") if not json.loads(e.proto.json).get("readonly")]
