"""ui.tables: the step-by-step tables show the trace's own numbers (rounded for display only)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

import xent_core as xc
from ui import tables
from ui.state import Batch, batch_from_preset

PIPELINE_COLUMNS = [
    "row",
    "target",
    "z_t",
    "exp(z_t)",
    "Σ exp(z)",
    "p_t = softmax",
    "−log p_t",
    "weight",
    "loss",
    "share of total",
]


def column(table: pa.Table, name: str) -> np.ndarray:
    return table.column(name).to_numpy(zero_copy_only=False)


def shown(values) -> np.ndarray:
    return np.round(np.asarray(values, dtype=np.float64), tables.DISPLAY_DECIMALS)


def test_pipeline_frame_has_the_pipeline_columns_one_row_per_sample():
    batch = batch_from_preset("seed42")
    trace = xc.cross_entropy_trace(batch.logits, batch.target)
    table = tables.pipeline_frame(trace, batch.class_names)
    assert table.column_names == PIPELINE_COLUMNS
    assert table.num_rows == 6
    np.testing.assert_array_equal(column(table, "row"), np.arange(6))
    assert column(table, "target").tolist() == [batch.class_names[t] for t in batch.target]


OPTIONS = [
    {},
    {"reduction": "sum"},
    {"reduction": "none", "temperature": 0.5},
    {"label_smoothing": 0.3},
    {"weight": np.array([0.5, 2.0, 1.0])},
]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(o) or "defaults")
def test_pipeline_frame_values_are_the_traces(options):
    batch = batch_from_preset("seed42")
    ignored = np.array([0, 0, 1, 0, 0, 0], bool)
    target = np.where(ignored, -100, batch.target)
    trace = xc.cross_entropy_trace(batch.logits, target, **options)
    table = tables.pipeline_frame(trace, batch.class_names)
    np.testing.assert_array_equal(column(table, "p_t = softmax"), shown(trace.target_prob))
    np.testing.assert_array_equal(column(table, "−log p_t"), shown(trace.neg_log_target_prob))
    np.testing.assert_array_equal(column(table, "loss"), shown(trace.per_sample))
    np.testing.assert_array_equal(column(table, "weight"), shown(trace.sample_weight))
    np.testing.assert_array_equal(column(table, "share of total"), shown(trace.share))
    np.testing.assert_array_equal(column(table, "Σ exp(z)"), shown(trace.sum_exp))
    keep = ~ignored
    rows = np.arange(6)[keep]
    np.testing.assert_array_equal(column(table, "z_t")[keep], shown(trace.scaled_logits[rows, batch.target[keep]]))
    np.testing.assert_array_equal(column(table, "exp(z_t)")[keep], shown(trace.exp[rows, batch.target[keep]]))
    assert column(table, "target")[2] == "(ignored)"


def test_pipeline_frame_matches_the_documented_seed42_numbers():
    preset = xc.PRESETS["seed42"]
    trace = xc.cross_entropy_trace(preset.logits.astype(np.float64), preset.target)
    table = tables.pipeline_frame(trace, preset.class_names)
    np.testing.assert_allclose(column(table, "loss"), preset.expected["per_sample"], atol=1e-4)
    np.testing.assert_allclose(column(table, "p_t = softmax"), preset.expected["target_probs"], atol=1e-4)


def test_pipeline_frame_columns_agree_with_each_other():
    batch = batch_from_preset("batch3x4")
    trace = xc.cross_entropy_trace(batch.logits, batch.target)
    table = tables.pipeline_frame(trace, batch.class_names)
    p = column(table, "p_t = softmax")
    # rounding to 4 decimals bounds how well the displayed columns can agree
    np.testing.assert_allclose(column(table, "exp(z_t)") / column(table, "Σ exp(z)"), p, atol=2e-4)
    np.testing.assert_allclose(column(table, "−log p_t"), -np.log(p), atol=1e-3)
    np.testing.assert_allclose(column(table, "share of total").sum(), trace.loss, atol=1e-3)


def test_pipeline_frame_with_probability_targets_leaves_the_index_columns_blank():
    logits = np.array([[1.0, 2.0], [0.0, 0.0]])
    trace = xc.cross_entropy_trace(logits, np.array([[0.25, 0.75], [1.0, 0.0]]))
    table = tables.pipeline_frame(trace, ("a", "b"))
    assert column(table, "target").tolist() == ["probabilities", "probabilities"]
    for name in ("z_t", "exp(z_t)", "p_t = softmax", "−log p_t"):
        assert np.isnan(column(table, name)).all(), name
    np.testing.assert_array_equal(column(table, "loss"), shown(trace.per_sample))


def test_pipeline_frame_switches_to_shifted_columns_when_exp_overflows():
    trace = xc.cross_entropy_trace(np.array([[1e4, 0.0, -1e4], [1.0, 2.0, 3.0]]), np.array([0, 2]))
    assert not np.isfinite(trace.sum_exp).all()  # the case this test is about
    table = tables.pipeline_frame(trace, ("a", "b", "c"))
    assert "exp(z_t − max)" in table.column_names
    assert "Σ exp(z − max)" in table.column_names
    assert "exp(z_t)" not in table.column_names
    assert "Σ exp(z)" not in table.column_names
    for name in table.column_names[2:]:
        assert np.isfinite(column(table, name)).all(), name
    np.testing.assert_array_equal(column(table, "exp(z_t − max)"), [1.0, 1.0])
    np.testing.assert_array_equal(column(table, "Σ exp(z − max)"), shown(trace.sum_exp_shifted))
    np.testing.assert_array_equal(column(table, "loss"), shown(trace.per_sample))


def test_pipeline_frame_leaves_the_target_logit_of_ignored_rows_blank():
    trace = xc.cross_entropy_trace(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1, -100]))
    table = tables.pipeline_frame(trace, ("a", "b"))
    assert np.isnan(column(table, "z_t")[1])
    assert np.isnan(column(table, "exp(z_t)")[1])


def test_pipeline_frame_rounds_for_display_only():
    trace = xc.cross_entropy_trace(np.array([[0.123456789, 1e-7]]), np.array([0]))
    table = tables.pipeline_frame(trace, ("a", "b"))
    assert column(table, "z_t")[0] == 0.1235
    assert trace.scaled_logits[0, 0] == 0.123456789  # the trace itself is untouched


def test_class_frame_has_one_row_per_class():
    batch = batch_from_preset("five_class")
    trace = xc.cross_entropy_trace(batch.logits, batch.target, label_smoothing=0.1)
    table = tables.class_frame(trace, 0, batch.class_names)
    assert table.num_rows == 5
    assert column(table, "class").tolist() == list(batch.class_names)
    assert table.column_names == ["class", "logit z", "exp(z)", "softmax p", "target y", "∂loss/∂z"]
    np.testing.assert_array_equal(column(table, "softmax p"), shown(trace.probs[0]))
    np.testing.assert_array_equal(column(table, "target y"), shown(trace.target_distribution[0]))
    np.testing.assert_array_equal(column(table, "∂loss/∂z"), shown(trace.grad[0]))
    np.testing.assert_allclose(column(table, "exp(z)").sum(), xc.PRESETS["five_class"].expected["sum_exp"], atol=5e-3)


def test_class_frame_of_an_overflowing_row_uses_shifted_exponentials():
    trace = xc.cross_entropy_trace(np.array([[1e4, 0.0], [1.0, 2.0]]), np.array([0, 1]))
    overflowing = tables.class_frame(trace, 0, ("a", "b"))
    assert "exp(z − max)" in overflowing.column_names
    assert np.isfinite(column(overflowing, "exp(z − max)")).all()
    assert "exp(z)" in tables.class_frame(trace, 1, ("a", "b")).column_names


def test_tables_take_any_sequence_of_names():
    batch = Batch(np.array([[1.0, 2.0]]), np.array([1]), ("a", "b"))
    trace = xc.cross_entropy_trace(batch.logits, batch.target)
    assert column(tables.pipeline_frame(trace, ["x", "y"]), "target").tolist() == ["y"]
    assert column(tables.class_frame(trace, 0, "xy"), "class").tolist() == ["x", "y"]


def test_class_matrix_has_a_row_number_then_one_column_per_class():
    table = tables.class_matrix(np.array([[1.23456, -2.0], [0.5, 3.0]]), ("cat", "dog"))
    assert table.column_names == ["row", "cat", "dog"]
    assert table["row"].to_pylist() == [0, 1]
    assert table["cat"].to_pylist() == [1.2346, 0.5]  # rounded for display, like every table
    ticks = tables.class_matrix(np.array([[True, False]]), ("cat", "dog"))
    assert (ticks["cat"].to_pylist(), ticks["dog"].to_pylist()) == (["✓"], [""])
