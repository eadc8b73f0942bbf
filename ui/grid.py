"""The editable tables (the batch's logits and targets, target probabilities and class weights, the
multi-label photos, the pitfalls' tensors and weights, the information page's y and p): a light
custom component (ui/grid.js, ui/grid.css) in place of `st.data_editor`.

Why not st.data_editor: its grid waits ~150 ms before it sends an edit and mounts a canvas grid
(tens of ms) whenever the table is replaced (a resize, a preset), which alone put a cell edit over
our 250 ms budget. This table is plain HTML inputs in the page (no iframe): an edit is sent the
moment it is committed (Enter, Tab, the up/down arrows, leaving the cell, a choice, a paste), and
replacing the table is cheap.

The protocol is st.data_editor's, so everything downstream is unchanged: the component's state
`edited_rows` is the edit log {row: {column: value}} of the current table, replayed onto the last
valid batch by ui/editors.py (numbers arrive as the text typed, and are parsed and checked there).
A new table (a new `version`) gets a new key, so its log starts empty, as a data editor's does.
Values and labels are shown as text, never as HTML.

`view` draws a read-only table with the same component (the step-by-step tables): plain HTML, so a
page with no st.dataframe never loads the data grid's ~1.2 MB of JavaScript, and an update is a
small DOM change rather than a canvas grid's re-render.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import pyarrow as pa
import streamlit as st

from ui.state import StateError
from ui.table_edits import col

_HERE = Path(__file__).parent
_COMPONENT = st.components.v2.component(
    "xent_grid",
    js=(_HERE / "grid.js").read_text(encoding="utf-8"),
    css=(_HERE / "grid.css").read_text(encoding="utf-8"),
)
STATE = "edited_rows"  # the component's state: st.data_editor's edit log


@dataclass(frozen=True)
class Column:
    """One column: `id` names it in the edit log ("c0", "target", ...), `label` is its header."""

    id: str
    label: str
    kind: Literal["number", "choice", "check"] = "number"
    help: str = ""
    options: tuple[str, ...] = ()  # kind "choice": what a cell may hold
    decimals: int = 4  # kind "number": digits shown (a focused cell shows every digit)


def number_columns(names: Sequence[str], *, help: str, decimals: int = 4) -> list[Column]:
    """One number column per class: c0, c1, ... headed by the class names."""
    return [Column(col(c), str(name), help=help, decimals=decimals) for c, name in enumerate(names)]


def refused_cells(
    edited_rows: Mapping, columns: Sequence[Column], parse: Callable[[object], object]
) -> list[tuple[int, int]]:
    """(row, column index) of every edited number cell whose value `parse` refuses (StateError):
    the cells the table marks, next to the messages that name them."""
    index = {column.id: c for c, column in enumerate(columns) if column.kind == "number"}
    refused = []
    for row, changes in edited_rows.items():
        if not isinstance(changes, Mapping):
            continue
        for column_id, value in changes.items():
            if column_id in index:
                try:
                    parse(value)
                except StateError:
                    refused.append((int(row), index[column_id]))
    return sorted(refused)


def grid(
    key: str,
    *,
    label: str,
    columns: Sequence[Column],
    rows: Sequence[Sequence[object]],
    version: int,
    invalid: Sequence[tuple[int, int]] = (),
    row_labels: Sequence[str] | None = None,
) -> None:
    """Draw the editable table. `rows` holds one value per column (numbers finite: they come from a
    valid batch); `label` names the table for screen readers; `invalid` lists the (row, column
    index) cells to mark (see `refused_cells`); `row_labels` names the rows (default: their
    numbers, and each cell is "row 2, <column>" to a screen reader). The edit log is read back with
    `ui.table_edits.edits(key)`; the table is sent the log too, so that one drawn anew (after a
    rerun that unmounted it) shows the edits made so far."""
    log = st.session_state.get(key)
    data = {
        "version": version,
        "label": label,
        "columns": [asdict(column) for column in columns],
        "rows": [list(row) for row in rows],
        "edits": _echo(log),
        "invalid": [list(cell) for cell in invalid],
    }
    if row_labels is not None:
        if len(row_labels) != len(rows):
            raise ValueError(f"{len(row_labels)} row labels for {len(rows)} rows")
        data["row_labels"] = [str(label) for label in row_labels]
    _COMPONENT(key=key, data=data, default={STATE: {}}, on_edited_rows_change=_nothing, width="stretch")


def _echo(log: object) -> dict:
    """The edit log as the table is sent it: rows that are mappings only (session state may hold anything)."""
    rows = log.get(STATE) if isinstance(log, Mapping) else None
    if not isinstance(rows, Mapping):
        return {}
    return {str(row): dict(changes) for row, changes in rows.items() if isinstance(changes, Mapping)}


def _nothing() -> None:
    """The component needs a callback to accept its state; the page reads the log when it reruns."""


def view(key: str, *, label: str, table: pa.Table) -> None:
    """A read-only table of `table`'s columns (numbers right-aligned; NaN as an empty cell, ±inf as ±∞).
    A stable `key` lets each rerun update the same table instead of mounting a new one."""
    columns = [
        {"label": name, "kind": "number" if pa.types.is_integer(kind) or pa.types.is_floating(kind) else "text"}
        for name, kind in zip(table.column_names, table.schema.types, strict=True)
    ]
    rows = [list(row) for row in zip(*(_plain(column.to_pylist()) for column in table.columns), strict=True)]
    _COMPONENT(key=key, data={"readonly": True, "label": label, "columns": columns, "rows": rows}, width="stretch")


def _plain(values: list) -> list:
    """JSON-safe cells: NaN becomes None (an empty cell), ±inf the text ±∞."""
    out = []
    for v in values:
        if isinstance(v, float) and not math.isfinite(v):
            v = None if math.isnan(v) else ("∞" if v > 0 else "−∞")
        out.append(v)
    return out
