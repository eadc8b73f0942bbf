"""Editable tables: replaying the edit log of ui/grid.py's tables (every page's but the images'
mask) and of `st.data_editor` (that mask), which send the same log.

The pattern is the playground's (see ui/editors.py): the editor gets the same source table on
every rerun (a new one only when the whole value is replaced, which bumps a version and so the
editor's key), and its edit log `{"edited_rows": {row: {column: value}}}` is replayed onto the
last valid value each run. A bad cell gives a message naming it and keeps its last valid value.
Streamlit forgets the edit log when a run does not draw the editor (another tab, a closed expander,
another page): `keep_edits` then makes the last result the table's value.

The replay functions are pure; `TableState` and `edits` are the thin Streamlit part.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

from ui import state as S
from ui.state import StateError

_INTEGER = re.compile(r"\s*[+-]?\d{1,9}(\.0*)?\s*", re.ASCII)


def col(c: int) -> str:
    return f"c{c}"


# ---------------------------------------------------------------------------------------------- pure replay


def _rows(edited_rows: Mapping, num_rows: int):
    for row_key, changes in sorted(edited_rows.items(), key=lambda kv: int(kv[0])):
        r = int(row_key)
        if 0 <= r < num_rows and isinstance(changes, Mapping):
            yield r, changes


def _column_index(column: str, prefix: str, width: int) -> int | None:
    if column.startswith(prefix) and column[len(prefix) :].isdigit():
        c = int(column[len(prefix) :])
        if c < width:
            return c
    return None


def parse_number(value, where: str = "", *, what: str = "a number", non_negative: bool = False) -> float:
    """A typed cell as a float (`ui.state.parse_cell`); StateError names `where` when it is refused,
    negative ones included where `non_negative`."""
    number = S.parse_cell(value, where, what=what)
    if non_negative and number < 0:
        raise StateError(f"{where}: {number:g} is negative; {what} cannot be negative")
    return number


def apply_number_edits(
    matrix: np.ndarray,
    edited_rows: Mapping,
    where: Callable[[int, int], str],
    *,
    what: str,
    fallback: np.ndarray | None = None,
    non_negative: bool = False,
    prefix: str = "c",
) -> tuple[np.ndarray, list[str]]:
    """Replay numeric edits of an (R, K) table (columns c0, c1, ...); bad cells keep their last valid value.

    where(r, c) names a cell in messages ("pixel (0, 1), class 2"); fallback is the previous run's
    result, whose cell values count as the last valid ones.
    """

    def parse(value, r: int, c: int) -> float:
        return parse_number(value, where(r, c), what=what, non_negative=non_negative)

    return _replay_cells(np.array(matrix, dtype=np.float64, copy=True), edited_rows, prefix, parse, fallback)


def _replay_cells(out: np.ndarray, edited_rows: Mapping, prefix: str, parse, fallback) -> tuple[np.ndarray, list[str]]:
    """Write each edited cell of `out` (columns prefix0, prefix1, ...) as parse(value, r, c) gives it; a cell
    parse refuses keeps fallback's value (the previous run's, its last valid one) and adds the message."""
    errors: list[str] = []
    for r, changes in _rows(edited_rows, out.shape[0]):
        for column, value in changes.items():
            c = _column_index(str(column), prefix, out.shape[1])
            if c is None:
                continue
            try:
                out[r, c] = parse(value, r, c)
            except StateError as err:
                errors.append(str(err))
                if fallback is not None:
                    out[r, c] = fallback[r, c]
    return out, errors


def apply_check_edits(matrix: np.ndarray, edited_rows: Mapping) -> np.ndarray:
    """Replay a table of checkboxes (columns c0, c1, ...): an edited cell becomes 1.0 if ticked, else 0.0."""
    out, _ = _replay_cells(
        np.array(matrix, dtype=np.float64, copy=True), edited_rows, "c", lambda value, r, c: float(value is True), None
    )
    return out


def apply_choice_edits(
    indices: np.ndarray, edited_rows: Mapping, column: str, options: Sequence[str], where: Callable[[int], str]
) -> tuple[np.ndarray, list[str]]:
    """Replay a selectbox column holding one of `options` per row; stored as the option's index."""
    out = np.array(indices, dtype=np.int64, copy=True)
    errors: list[str] = []
    for r, changes in _rows(edited_rows, out.shape[0]):
        if column in changes:
            value = changes[column]
            if value in options:
                out[r] = list(options).index(value)
            else:
                errors.append(f"{where(r)}: choose one of {', '.join(options)}")
    return out, errors


def parse_label(value, where: str, num_classes: int, void: int | None) -> int:
    """One typed class label: a whole number in 0..C-1, or the void label."""
    valid = f"valid: 0..{num_classes - 1}" + (f", or {void} for void" if void is not None else "")
    if value is None or (isinstance(value, str) and not value.strip()):
        raise StateError(f"{where}: the cell is empty; enter a class ({valid})")
    if isinstance(value, bool):
        raise StateError(f"{where}: {value!r} is not a class ({valid})")
    if isinstance(value, float):
        if not np.isfinite(value) or value != int(value):
            raise StateError(f"{where}: {value:g} is not a class ({valid})")
        label = int(value)
    elif isinstance(value, int | np.integer):
        label = int(value)
    elif isinstance(value, str) and _INTEGER.fullmatch(value):
        label = int(float(value))
    else:
        raise StateError(f"{where}: {str(value)[:20]!r} is not a class ({valid})")
    if not (0 <= label < num_classes or (void is not None and label == void)):
        raise StateError(f"{where}: {label} is not a class ({valid})")
    return label


def apply_label_edits(
    mask: np.ndarray,
    edited_rows: Mapping,
    num_classes: int,
    void: int | None,
    where: Callable[[int, int], str],
    *,
    fallback: np.ndarray | None = None,
    prefix: str = "x",
) -> tuple[np.ndarray, list[str]]:
    """Replay edits of an (H, W) table of class labels (columns x0, x1, ...)."""

    def parse(value, r: int, c: int) -> int:
        return parse_label(value, where(r, c), num_classes, void)

    return _replay_cells(np.array(mask, dtype=np.int64, copy=True), edited_rows, prefix, parse, fallback)


def resize_columns(matrix: np.ndarray, num_columns: int) -> np.ndarray:
    """Keep the first columns that fit, pad with zeros; a row left with no positive entry gets 1 in column 0."""
    old = np.asarray(matrix, dtype=np.float64)
    out = np.zeros((old.shape[0], num_columns))
    keep = min(num_columns, old.shape[1])
    out[:, :keep] = old[:, :keep]
    out[~(out > 0).any(axis=1), 0] = 1.0
    return out


# ---------------------------------------------------------------------------------------------- session


@dataclass
class TableState:
    """A page's editable value, kept in st.session_state: the last valid value and its editor's version."""

    value: Any  # the last value set as a whole (a preset, a link, a reset)
    version: int = 0
    frame: Any = None  # the editor's source table for this version, passed unchanged every rerun
    effective: Any = None  # the previous run's result for this version: each cell's last valid value

    def reset(self, value: Any) -> None:
        self.value = value
        self.version += 1
        self.frame = None
        self.effective = None


def keep_edits(ts: TableState, key: str, as_value: Callable[[Any], Any] = lambda effective: effective) -> None:
    """Keep the edits of a table whose editor a run did not draw (another tab, a closed expander, a
    trip to another page): Streamlit then forgets the editor's edit log, so the last result
    (`as_value(ts.effective)`) becomes the table's value, with a fresh editor. Call before building
    the editor (`key`: its key for the current version)."""
    if ts.frame is None or ts.effective is None or key in st.session_state:
        return
    value = as_value(ts.effective)
    if not _same(value, ts.value):
        ts.reset(value)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    return a == b


def table_state(key: str, make: Callable[[], Any]) -> TableState:
    if key not in st.session_state:
        st.session_state[key] = TableState(make())
    return st.session_state[key]


def apply_value_and_target_edits(
    ts: TableState, key: str, names: Sequence[str], where: Callable[[int, int], str], row_name, *, what: str
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Replay the editor `key` of a table of non-negative values (columns c0, c1, ...) with a "target"
    selectbox column, over ts.value = (values, target); remembers the result as ts.effective."""
    values0, target0 = ts.value
    log = edits(key)
    last = ts.effective
    fallback = None if last is None else last[0]
    values, errors = apply_number_edits(values0, log, where, what=what, fallback=fallback, non_negative=True)
    target, errs = apply_choice_edits(target0, log, "target", names, row_name)
    ts.effective = (values, target)
    return values, target, errors + errs


def edits(key: str) -> Mapping:
    """The data editor's edit log (edited rows only; these tables have a fixed number of rows)."""
    value = st.session_state.get(key)
    return value.get("edited_rows", {}) if isinstance(value, Mapping) else {}


def sync_query(memo_key: str, params: Mapping[str, str | None]) -> None:
    """Write (or, for None, remove) a page's own URL parameters, touching only those that changed.

    `memo_key` names the session-state entry remembering what this session last wrote (reading
    st.query_params on every rerun costs about a millisecond). Bound widgets manage their own keys.
    """
    memo = st.session_state.setdefault(memo_key, {})
    for key, value in params.items():
        if memo.get(key, "?") == value:
            continue
        if value is None:
            if key in st.query_params:
                del st.query_params[key]
        else:
            st.query_params[key] = value
        memo[key] = value
