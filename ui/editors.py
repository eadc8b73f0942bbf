"""The batch editor: logits table, targets, class names, weights, shape and presets.

How edits flow (and why): the tables are ui/grid.py's light component, which speaks
`st.data_editor`'s protocol: it is given one source table per "version" (built once from the last
valid batch and kept in session state) and sends back its edit log
(`{"edited_rows": {row: {column: value}}}`), which is replayed onto the last valid batch each run.
(A data editor must get the same source table on every rerun, or it drops every second edit,
streamlit#7749; the pattern stays for both.) Replaying is idempotent, invalid cells keep their last
valid value and produce a message, and the user's other edits survive. Loading a preset, resizing
or renaming classes bumps the version, which gives the table a fresh source (built from the batch
on screen, edits included) and a new key. Streamlit forgets a widget's state when a run does not
draw it (a trip to another page); the last result then becomes the batch, so the edits stay.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import streamlit as st

import xent_core as xc
from ui import grid
from ui import state as S
from ui.grid import Column
from ui.state import Batch, StateError
from ui.table_edits import apply_number_edits, edits

INDEX_MODE, PROBS_MODE = "class index", "probabilities"


# ---------------------------------------------------------------------------------------------- pure part


def apply_logit_edits(batch: Batch, edited_rows: Mapping, *, fallback: Batch | None = None) -> tuple[Batch, list[str]]:
    """Replay the logits editor's edit log onto `batch`; an invalid cell gives a message and keeps its
    last valid value: the one in `fallback` (the previous run's result), else the one in `batch`."""
    logits = batch.logits.copy()
    target = batch.target.copy()
    ignored = batch.ignored.copy()
    errors: list[str] = []
    names = batch.class_names
    for row_key, changes in sorted(edited_rows.items(), key=lambda kv: int(kv[0])):
        r = int(row_key)
        if not 0 <= r < batch.num_samples:
            continue
        for column, value in changes.items():
            if column == "target":
                if value in names:
                    target[r] = names.index(value)
                else:
                    errors.append(f"row {r}: choose a target class")
            elif column == "ignore":
                ignored[r] = bool(value)
            elif column.startswith("c") and column[1:].isdigit() and int(column[1:]) < batch.num_classes:
                c = int(column[1:])
                try:
                    logits[r, c] = S.parse_cell(value, f"row {r}, column {names[c]!r}")
                except StateError as err:
                    errors.append(str(err))
                    if fallback is not None:
                        logits[r, c] = fallback.logits[r, c]
    return replace(batch, logits=logits, target=target, ignored=ignored), errors


def apply_matrix_edits(
    matrix: np.ndarray, edited_rows: Mapping, class_names, *, what: str, label: str, fallback: np.ndarray | None = None
) -> tuple[np.ndarray, list[str]]:
    """Replay edits of a numeric (rows x classes) table such as probability targets or weights; an invalid
    cell keeps its last valid value (from `fallback`, the previous run's result, when given)."""

    def where(r: int, c: int) -> str:
        return f"{label}row {r}, column {class_names[c]!r}" if matrix.shape[0] > 1 else f"{label}{class_names[c]!r}"

    return apply_number_edits(matrix, edited_rows, where, what=what, fallback=fallback)


LOGIT_HELP = "A logit: any real number; softmax turns the row into probabilities."
TARGET_HELP = "The true class of this sample."
IGNORE_HELP = "Ignore this row (its target becomes ignore_index = -100): no loss, no gradient, not counted."


def logits_table(batch: Batch, *, index_only: bool = False) -> tuple[list[Column], list[list]]:
    """The logits table's columns and rows: in index mode the target (a class name) and, unless
    index_only, the ignore flag, then one column per class."""
    columns = grid.number_columns(batch.class_names, help=LOGIT_HELP)
    if batch.target_mode != "index":
        return columns, batch.logits.tolist()
    names = batch.class_names
    lead = [Column("target", "target", "choice", TARGET_HELP, options=tuple(names))]
    if not index_only:
        lead.append(Column("ignore", "ignore", "check", IGNORE_HELP))
    rows = [
        [names[t], bool(i)][: len(lead)] + logits
        for t, i, logits in zip(batch.target.tolist(), batch.ignored.tolist(), batch.logits.tolist(), strict=True)
    ]
    return lead + columns, rows


# ---------------------------------------------------------------------------------------------- widgets


@dataclass
class EditorState:
    """Per-page editor bookkeeping, kept in st.session_state under the page prefix."""

    batch: Batch  # the last valid batch
    version: int = 0
    tables: dict | None = None  # version's source tables, passed unchanged to the editors
    effective: Batch | None = None  # the previous run's result for this version: each cell's last valid value
    url_error: str | None = None


def _session(prefix: str) -> EditorState:
    key = f"{prefix}.editor"
    if key not in st.session_state:
        url_error = None
        try:
            batch = S.decode_query(st.query_params.to_dict())
        except StateError as err:
            url_error = f"This link could not be read ({err}). Showing the default example instead."
            batch = S.batch_from_preset(S.DEFAULT_PRESET)
        st.session_state[key] = EditorState(batch=batch, url_error=url_error)
    return st.session_state[key]


def shown_batch(prefix: str) -> Batch:
    """The batch on screen: the last valid batch with the editors' edits (what a resize, a rename or a
    new target type starts from, so that no edit is lost), or the last valid batch before any run."""
    es = _session(prefix)
    return es.effective if es.effective is not None else es.batch


def set_batch(prefix: str, batch: Batch) -> None:
    """Replace the whole batch (preset, random, resize, rename): the editors start from fresh tables."""
    es = _session(prefix)
    es.batch = batch
    es.version += 1
    es.tables = None
    es.effective = None


def _tables(es: EditorState, index_only: bool) -> dict:
    """This version's tables ({name: (columns, rows)}), built once per version rather than on every run."""
    if es.tables is None:
        b = es.batch
        es.tables = {"logits": logits_table(b, index_only=index_only)}
        if b.probs_target is not None:
            es.tables["probs"] = (
                grid.number_columns(b.class_names, help="Target probability of this class."),
                b.probs_target.tolist(),
            )
        if b.weight is not None:
            es.tables["weight"] = (
                grid.number_columns(b.class_names, help="Weight of this class.", decimals=3),
                [b.weight.tolist()],
            )
    return es.tables


@dataclass(frozen=True)
class EditorResult:
    batch: Batch  # effective: last valid values everywhere
    errors: tuple[str, ...]  # messages for invalid edits, shown next to the editor


def controls(prefix: str, *, index_only: bool = False) -> None:
    """Preset picker, random batch, shape and target mode: everything that replaces the table.

    index_only: one class index per row, no target-type choice (the loss comparison).
    """
    es = _session(prefix)
    b = es.batch
    presets = {k: p for k, p in xc.PRESETS.items() if p.logits.ndim == 2}
    # one wrapping row (a flex container is one element; st.columns would add one per column)
    row = st.container(horizontal=True, vertical_alignment="top", key=f"{prefix}.controls")

    def load_preset():
        key = st.session_state[f"{prefix}.preset"]
        if key in presets:
            set_batch(prefix, S.batch_from_preset(key))
        st.session_state[f"{prefix}.preset"] = None  # so that picking the same example again reloads it

    row.selectbox(
        "Example",
        list(presets),
        format_func=lambda k: presets[k].title,
        index=None,
        placeholder="Load an example…",
        label_visibility="collapsed",
        key=f"{prefix}.preset",
        on_change=load_preset,
        width=300,
    )

    def randomize():
        seed = int(st.session_state.get(f"{prefix}.seed_counter", 0)) + 1
        st.session_state[f"{prefix}.seed_counter"] = seed
        cur = _session(prefix).batch
        set_batch(prefix, S.random_batch(cur.num_samples, cur.num_classes, seed))

    row.button(":material/casino: Random batch", on_click=randomize, key=f"{prefix}.random")

    def set_mode():
        mode = "probs" if st.session_state[f"{prefix}.mode"] == PROBS_MODE else "index"
        set_batch(prefix, shown_batch(prefix).with_target_mode(mode))

    def resize():
        n = int(st.session_state[f"{prefix}.n"])
        c = int(st.session_state[f"{prefix}.c"])
        set_batch(prefix, shown_batch(prefix).resized(n, c))

    def rename():
        try:
            names = S.parse_class_names(st.session_state[f"{prefix}.names"], _session(prefix).batch.num_classes)
        except StateError as err:
            st.session_state[f"{prefix}.names_error"] = str(err)
            return
        st.session_state.pop(f"{prefix}.names_error", None)
        set_batch(prefix, replace(shown_batch(prefix), class_names=names))

    # Built only while open: these widgets change rarely, and each costs ~0.4 ms on every rerun.
    # The label is fixed: a label that changed with the batch would give the expander a new identity.
    label = "Batch setup: size and class names" if index_only else "Batch setup: size, class names, target type"
    setup = row.expander(label, key=f"{prefix}.setup", on_change="rerun")
    if not setup.open:
        return
    a, c_ = setup.columns(2)
    st.session_state[f"{prefix}.n"] = b.num_samples
    st.session_state[f"{prefix}.c"] = b.num_classes
    a.number_input("Samples", 1, S.MAX_SAMPLES, key=f"{prefix}.n", on_change=resize, step=1)
    c_.number_input("Classes", S.MIN_CLASSES, S.MAX_CLASSES, key=f"{prefix}.c", on_change=resize, step=1)
    if f"{prefix}.names_error" not in st.session_state:
        st.session_state[f"{prefix}.names"] = ", ".join(b.class_names)
    setup.text_input("Class names (comma-separated)", key=f"{prefix}.names", on_change=rename)
    if st.session_state.get(f"{prefix}.names_error"):
        setup.error(st.session_state[f"{prefix}.names_error"], icon=":material/error:")
    if index_only:
        return
    setup.radio(
        "Targets",
        [INDEX_MODE, PROBS_MODE],
        index=0 if b.target_mode == "index" else 1,
        key=f"{prefix}.mode",
        on_change=set_mode,
        horizontal=True,
        help="Class indices (one true class per row) or a probability for every class (soft targets).",
    )


def batch_editor(prefix: str, *, use_weights: bool, index_only: bool = False) -> EditorResult:
    """The logits (and target) tables; returns the effective batch and the messages for bad cells.

    index_only: class-index targets without "ignore" (a link or preset with more is reduced to that).
    """
    es = _session(prefix)
    if index_only and es.batch.hard_targets() is not es.batch:
        set_batch(prefix, shown_batch(prefix).hard_targets())
    if use_weights and es.batch.weight is None:
        set_batch(prefix, replace(shown_batch(prefix), weight=np.ones(es.batch.num_classes)))
    elif not use_weights and es.batch.weight is not None:
        set_batch(prefix, replace(shown_batch(prefix), weight=None))
    if es.effective is not None and es.tables is not None and f"{prefix}.logits.{es.version}" not in st.session_state:
        # A run did not draw the editor (a trip to another page): Streamlit forgot its edit log, so
        # the last result becomes the batch, with fresh tables; the edits stay.
        set_batch(prefix, es.effective)
    tables = _tables(es, index_only)
    b = es.batch
    v = es.version
    errors: list[str] = []
    last = es.effective

    logits_key = f"{prefix}.logits.{v}"
    log = edits(logits_key)
    batch, errs = apply_logit_edits(b, log, fallback=last)
    errors += errs
    columns, rows = tables["logits"]
    refused = grid.refused_cells(log, columns, lambda value: S.parse_cell(value, ""))
    grid.grid(logits_key, label="Logits and targets", columns=columns, rows=rows, version=v, invalid=refused)

    if b.probs_target is not None:
        probs_key = f"{prefix}.probs.{v}"
        log = edits(probs_key)
        probs, errs = apply_matrix_edits(
            b.probs_target,
            log,
            b.class_names,
            what="a target probability",
            label="targets: ",
            fallback=None if last is None else last.probs_target,
        )
        errors += errs
        batch = replace(batch, probs_target=probs)
        st.caption("Target probabilities (each row is what the model should predict; rows normally sum to 1)")
        columns, rows = tables["probs"]
        refused = grid.refused_cells(log, columns, lambda value: S.parse_cell(value, "", what="a target probability"))
        grid.grid(probs_key, label="Target probabilities", columns=columns, rows=rows, version=v, invalid=refused)

    if b.weight is not None:
        weight_key = f"{prefix}.weight.{v}"
        log = edits(weight_key)
        w, errs = apply_matrix_edits(
            b.weight[None, :],
            log,
            b.class_names,
            what="a weight",
            label="weight of ",
            fallback=None if last is None or last.weight is None else last.weight[None, :],
        )
        errors += errs
        batch = replace(batch, weight=w[0])
        st.caption("Class weights (torch's `weight`: scales each class's loss; `mean` divides by the summed weights)")
        columns, rows = tables["weight"]
        refused = grid.refused_cells(log, columns, lambda value: S.parse_cell(value, "", what="a weight"))
        grid.grid(weight_key, label="Class weights", columns=columns, rows=rows, version=v, invalid=refused)
    es.effective = batch
    return EditorResult(batch, tuple(errors))


def current_batch(prefix: str) -> Batch:
    """The last valid batch (for read-only views that show no editor)."""
    return _session(prefix).batch


def url_error(prefix: str) -> str | None:
    return _session(prefix).url_error


def sync_url(prefix: str, batch: Batch) -> None:
    """Write the batch into the query string, touching only our keys (bound widgets manage theirs).

    Skipped when this session already wrote exactly this state (reading st.query_params costs
    about a millisecond per rerun).
    """
    wanted = S.encode_query(batch)
    memo = f"{prefix}.url_written"
    if st.session_state.get(memo) == wanted:
        return
    current = st.query_params
    for key in S.QUERY_KEYS:
        if key not in wanted and key in current:
            del current[key]
    for key, value in wanted.items():
        if current.get(key) != value:
            current[key] = value
    st.session_state[memo] = wanted
