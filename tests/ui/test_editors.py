"""ui.editors' pure part: replaying the data editor's edit log onto the last valid batch.

The log has the shape Streamlit gives it: {row: {column: value}}, rows as int or str, the
logits in columns "c0".."c{C-1}", plus "target" (a class name) and "ignore" (a bool).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.ui.strategies import assert_same_batch, assert_same_bits
from ui import editors, grid, state
from ui.state import Batch

FAST = settings(max_examples=30, deadline=None)


def batch3() -> Batch:
    return Batch(
        logits=np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),
        target=np.array([0, 2]),
        class_names=("cat", "dog", "hot dog"),
    )


# ---------------------------------------------------------------------------------------------- logits


def test_apply_logit_edits_applies_valid_edits():
    out, errors = editors.apply_logit_edits(batch3(), {0: {"c1": 7.5}, "1": {"c0": "-2", "c2": 0}})
    assert errors == []
    np.testing.assert_array_equal(out.logits, [[1.0, 7.5, 3.0], [-2.0, 5.0, 0.0]])
    assert out.logits.dtype == np.float64


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (None, "the cell is empty"),
        ("abc", "'abc' is not a number"),
        (float("nan"), "NaN is not a logit"),
        (float("inf"), "inf is not a logit"),
        (1e7, "1e+07 is beyond ±1e+06"),
    ],
)
def test_invalid_logit_keeps_the_last_valid_value_and_names_row_and_class(value, problem):
    out, errors = editors.apply_logit_edits(batch3(), {1: {"c2": value, "c0": 9.0}})
    np.testing.assert_array_equal(out.logits, [[1.0, 2.0, 3.0], [9.0, 5.0, 6.0]])  # the valid edit still applies
    assert len(errors) == 1
    assert errors[0].startswith("row 1, column 'hot dog': ")
    assert problem in errors[0]


def test_edits_outside_the_table_are_ignored():
    log = {5: {"c0": 1.0}, -1: {"c0": 1.0}, 0: {"c3": 1.0, "c99": 1.0, "x": 1.0, "c": 1.0, "c-1": 1.0, "_index": 3}}
    out, errors = editors.apply_logit_edits(batch3(), log)
    assert errors == []
    assert_same_batch(out, batch3())


def test_target_edit_takes_a_class_name():
    out, errors = editors.apply_logit_edits(batch3(), {0: {"target": "hot dog"}, 1: {"target": "cat"}})
    assert errors == []
    np.testing.assert_array_equal(out.target, [2, 0])


@pytest.mark.parametrize("value", [None, "wolf", 1])
def test_target_edit_that_is_not_a_class_keeps_the_target_and_says_so(value):
    out, errors = editors.apply_logit_edits(batch3(), {1: {"target": value}})
    np.testing.assert_array_equal(out.target, [0, 2])
    assert errors == ["row 1: choose a target class"]


def test_ignore_edit_sets_and_clears_the_flag():
    out, _ = editors.apply_logit_edits(batch3(), {1: {"ignore": True}})
    np.testing.assert_array_equal(out.ignored, [False, True])
    back, _ = editors.apply_logit_edits(out, {1: {"ignore": False}})
    np.testing.assert_array_equal(back.ignored, [False, False])


def test_apply_logit_edits_does_not_mutate_the_batch():
    batch = batch3()
    edit_log = {0: {"c0": 10.0, "target": "dog", "ignore": True}}
    editors.apply_logit_edits(batch, edit_log)
    assert_same_batch(batch, batch3())
    assert edit_log == {0: {"c0": 10.0, "target": "dog", "ignore": True}}


def test_apply_logit_edits_keeps_names_weights_and_probability_targets():
    batch = Batch(batch3().logits, batch3().target, batch3().class_names, weight=np.array([1.0, 2.0, 3.0]))
    out, _ = editors.apply_logit_edits(batch, {0: {"c0": 0.0}})
    assert out.class_names == batch.class_names
    assert_same_bits(out.weight, batch.weight)
    assert out.probs_target is None


cell_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
    st.text(max_size=5),
    st.integers(-(10**7), 10**7),
    st.booleans(),
)
columns = st.sampled_from(["c0", "c1", "c2", "c3", "target", "ignore", "other"])
column_values = st.one_of(cell_values, st.sampled_from(["cat", "dog", "hot dog"]))
edit_logs = st.dictionaries(st.integers(-1, 3), st.dictionaries(columns, column_values, max_size=4), max_size=4)


@FAST
@given(edit_log=edit_logs)
def test_apply_logit_edits_is_idempotent(edit_log):
    once, errors_once = editors.apply_logit_edits(batch3(), edit_log)
    twice, errors_twice = editors.apply_logit_edits(once, edit_log)
    assert_same_batch(twice, once)
    assert errors_twice == errors_once


@FAST
@given(edit_log=edit_logs)
def test_apply_logit_edits_always_gives_a_valid_batch(edit_log):
    out, errors = editors.apply_logit_edits(batch3(), edit_log)
    assert np.isfinite(out.logits).all()
    assert (np.abs(out.logits) <= 1e6).all()
    assert ((out.target >= 0) & (out.target < 3)).all()
    assert all(isinstance(e, str) and e.startswith("row ") for e in errors)


# ---------------------------------------------------------------------------------------------- matrices


def test_apply_matrix_edits_applies_valid_edits():
    probs = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    out, errors = editors.apply_matrix_edits(
        probs, {0: {"c0": 0.5, "c1": "0.5"}}, ("cat", "dog", "fox"), what="a target probability", label="targets: "
    )
    assert errors == []
    np.testing.assert_array_equal(out, [[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (None, "the cell is empty"),
        ("abc", "'abc' is not a number"),
        (float("nan"), "NaN is not a target probability"),
        (float("-inf"), "-inf is not a target probability"),
        (1e7, "1e+07 is beyond ±1e+06"),
    ],
)
def test_invalid_matrix_cell_keeps_its_value_and_names_row_and_class(value, problem):
    probs = np.array([[1.0, 0.0], [0.0, 1.0]])
    out, errors = editors.apply_matrix_edits(
        probs, {1: {"c0": value}}, ("cat", "dog"), what="a target probability", label="targets: "
    )
    assert_same_bits(out, probs)
    assert len(errors) == 1
    assert errors[0].startswith("targets: row 1, column 'cat': ")
    assert problem in errors[0]


def test_invalid_weight_message_names_the_class_without_a_row():
    weight = np.array([[1.0, 2.0]])
    out, errors = editors.apply_matrix_edits(
        weight, {0: {"c1": "heavy"}}, ("cat", "dog"), what="a weight", label="weight of "
    )
    assert_same_bits(out, weight)
    assert errors == ["weight of 'dog': 'heavy' is not a number"]


def test_matrix_edits_outside_the_table_are_ignored():
    matrix = np.eye(2)
    out, errors = editors.apply_matrix_edits(
        matrix, {2: {"c0": 5.0}, 0: {"c2": 5.0, "target": "x", "ignore": True}}, ("a", "b"), what="w", label=""
    )
    assert errors == []
    assert_same_bits(out, matrix)


def test_apply_matrix_edits_does_not_mutate_the_matrix():
    matrix = np.eye(2)
    matrix.setflags(write=False)
    out, _ = editors.apply_matrix_edits(matrix, {0: {"c1": 3.0}}, ("a", "b"), what="w", label="")
    np.testing.assert_array_equal(matrix, np.eye(2))
    assert out[0, 1] == 3.0


matrix_logs = st.dictionaries(
    st.integers(-1, 2), st.dictionaries(st.sampled_from(["c0", "c1", "c2", "x"]), cell_values, max_size=3), max_size=3
)


@FAST
@given(edit_log=matrix_logs)
def test_apply_matrix_edits_is_idempotent(edit_log):
    matrix = np.array([[0.2, 0.8], [1.0, 0.0]])
    once, errors_once = editors.apply_matrix_edits(matrix, edit_log, ("a", "b"), what="w", label="")
    twice, errors_twice = editors.apply_matrix_edits(once, edit_log, ("a", "b"), what="w", label="")
    assert_same_bits(twice, once)
    assert errors_twice == errors_once
    assert np.isfinite(once).all()


# ---------------------------------------------------------------------------------------------- source tables


def test_logits_table_has_target_ignore_and_one_column_per_class():
    batch = Batch(batch3().logits, batch3().target, batch3().class_names, ignored=np.array([False, True]))
    columns, rows = editors.logits_table(batch)
    assert [c.id for c in columns] == ["target", "ignore", "c0", "c1", "c2"]
    assert [c.kind for c in columns] == ["choice", "check", "number", "number", "number"]
    assert [c.label for c in columns[2:]] == list(batch.class_names)
    assert columns[0].options == tuple(batch.class_names)
    assert [row[:2] for row in rows] == [["cat", False], ["hot dog", True]]
    assert [row[2:] for row in rows] == batch.logits.tolist()


def test_logits_table_without_ignore_or_in_probability_mode():
    columns, rows = editors.logits_table(batch3(), index_only=True)
    assert [c.id for c in columns] == ["target", "c0", "c1", "c2"]
    assert [row[0] for row in rows] == ["cat", "hot dog"]
    columns, rows = editors.logits_table(batch3().with_target_mode("probs"))
    assert [c.id for c in columns] == ["c0", "c1", "c2"]
    assert rows == batch3().logits.tolist()


def test_logits_table_is_plain_data():
    """The table goes to the browser as JSON: Python floats, bools and strings, no numpy scalars."""
    batch = Batch(batch3().logits, batch3().target, batch3().class_names, ignored=np.array([False, True]))
    _, rows = editors.logits_table(batch)
    assert {type(v) for row in rows for v in row} == {str, bool, float}


def test_table_edits_replay_onto_the_batch():
    # the column ids the table uses are the ones the edit log uses
    batch = batch3()
    columns, _ = editors.logits_table(batch)
    edit_log = {"1": {c.id: value for c, value in zip(columns, ["dog", True, "0", "0.5", "1e0"], strict=True)}}
    out, errors = editors.apply_logit_edits(batch, edit_log)
    assert errors == []
    np.testing.assert_array_equal(out.logits[1], [0.0, 0.5, 1.0])
    assert (out.target[1], out.ignored[1]) == (1, True)


def test_refused_cells_are_the_ones_the_replay_names():
    batch = batch3()
    columns, _ = editors.logits_table(batch)
    edit_log = {"0": {"c0": "abc", "c1": "2", "target": "dog"}, "1": {"c2": "", "c1": "1e9", "ignore": True}}
    _, errors = editors.apply_logit_edits(batch, edit_log)
    refused = grid.refused_cells(edit_log, columns, lambda v: state.parse_cell(v, ""))
    assert refused == [(0, 2), (1, 3), (1, 4)]  # (row, column index): c0 is column 2, c1 3, c2 4
    assert len(errors) == len(refused)
