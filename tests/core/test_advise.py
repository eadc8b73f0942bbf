"""advise(): notes on input torch accepts but the learner probably did not mean, and never an exception.

Each note is checked both ways: it fires on the documented mistake, on the right rows, and stays
quiet on ordinary input (a note that fires on everything teaches nothing).
"""

from __future__ import annotations

import numpy as np
import pytest

import xent_core as xc


def codes(notes) -> list[str]:
    return [n.code for n in notes]


def note(notes, code: str) -> xc.Advisory:
    found = [n for n in notes if n.code == code]
    assert len(found) == 1, f"expected one {code!r} note, got {codes(notes)}"
    return found[0]


# ---------------------------------------------------------------------------------------------- probabilities as logits


def test_flags_every_pixel_of_the_probs_as_logits_preset():
    preset = xc.PRESETS["probs_as_logits"]  # (1, 3, 2, 2): four pixels, each a distribution over 3 classes
    flagged = note(xc.advise(preset.logits, preset.target), "probabilities_as_logits")
    assert flagged.rows == (0, 1, 2, 3)
    assert "every row" in flagged.message
    assert "softmax" in flagged.message
    assert "nll_loss" in flagged.message  # what to do instead


def test_flags_the_cat_dog_probabilities_passed_as_logits():
    probs = np.array(xc.PRESETS["cat_dog"].expected["probs"])
    flagged = note(xc.advise(probs), "probabilities_as_logits")
    assert flagged.rows == (0, 1, 2)


def test_flags_only_the_rows_that_look_like_probabilities():
    logits = np.array(xc.PRESETS["seed42"].logits, dtype=np.float64)  # (6, 3) ordinary logits
    mixed = logits.copy()
    mixed[[1, 4]] = [[0.2, 0.3, 0.5], [0.0, 1.0, 0.0]]
    flagged = note(xc.advise(mixed), "probabilities_as_logits")
    assert flagged.rows == (1, 4)
    assert "row(s) 1, 4" in flagged.message


def test_probabilities_as_logits_rows_are_counted_per_position_in_k_dim_input():
    z = np.zeros((2, 3, 2))  # rows: (sample 0, pos 0), (0, 1), (1, 0), (1, 1)
    z[1, :, 0] = [0.2, 0.3, 0.5]
    assert note(xc.advise(z), "probabilities_as_logits").rows == (2,)


def test_the_cat_dog_logits_are_not_flagged():
    assert xc.advise(xc.PRESETS["cat_dog"].logits) == []  # their logs are negative: logits, not probabilities


@pytest.mark.parametrize("key", ["seed42", "batch3x4", "five_class", "cat_dog"])
def test_ordinary_preset_logits_get_no_notes(key):
    preset = xc.PRESETS[key]
    assert xc.advise(preset.logits, preset.target) == []


@pytest.mark.parametrize("seed", range(20))
def test_random_normal_logits_with_scale_2_get_no_notes(seed):
    logits = np.random.default_rng(seed).standard_normal((64, 5)) * 2
    assert xc.advise(logits) == []


def test_a_row_summing_to_one_outside_the_unit_interval_is_not_probabilities():
    assert xc.advise(np.array([[1.5, -0.5], [0.6, 0.6]])) == []  # sums 1 with a negative; in [0,1] summing 1.2


# ---------------------------------------------------------------------------------------------- float32 overflow


def test_the_overflow_limit_is_where_float32_exp_really_overflows():
    limit = xc.checks.FLOAT32_EXP_LIMIT
    with np.errstate(over="ignore"):
        assert np.isinf(np.exp(np.float32(limit + 0.01)))
    assert np.isfinite(np.exp(np.float32(limit - 0.01)))
    assert 88.7 < limit < 88.8


def test_flags_logits_beyond_the_float32_exp_limit_by_row():
    logits = np.array([[80.0, 0.0], [89.0, 0.0], [0.0, -100.0], [-80.0, 80.0], [1e4, 0.0]])
    flagged = note(xc.advise(logits), "float32_overflow")
    assert flagged.rows == (1, 2, 4)
    assert "88.7" in flagged.message
    assert "row(s) 1, 2, 4" in flagged.message


def test_logits_of_80_are_not_flagged():
    assert xc.advise(np.array([[80.0, -80.0, 0.0]])) == []


def test_float32_overflow_is_flagged_for_float32_input_too():
    assert codes(xc.advise(np.array([[100.0, 0.0]], dtype=np.float32))) == ["float32_overflow"]


def test_many_flagged_rows_are_summarised():
    logits = np.zeros((10, 2))
    logits[:, 0] = 100.0
    flagged = note(xc.advise(logits), "float32_overflow")
    assert flagged.rows == tuple(range(10))
    assert "and 4 more" in flagged.message


# ---------------------------------------------------------------------------------------------- targets


def test_flags_one_hot_probability_targets():
    preset = xc.PRESETS["seed42"]
    one_hot = np.eye(3)[preset.target]
    flagged = note(xc.advise(preset.logits, one_hot), "one_hot_targets")
    assert flagged.rows == tuple(range(6))
    assert "argmax" in flagged.message  # what to do instead
    assert "weight" in flagged.message  # why it matters


@pytest.mark.parametrize(
    "target",
    [
        np.array([0, 1, 0, 2, 2, 0]),  # class indices are what the note recommends
        np.eye(3)[[0, 1, 0, 2, 2, 0]] * 0.9 + 0.1 / 3,  # smoothed one-hot
        np.eye(3, dtype=np.int64)[[0, 1, 0, 2, 2, 0]],  # integer one-hot: an error in the losses, not a note
    ],
    ids=["indices", "smoothed", "integer_one_hot"],
)
def test_targets_that_are_not_float_one_hot_are_not_flagged_as_one_hot(target):
    assert "one_hot_targets" not in codes(xc.advise(xc.PRESETS["seed42"].logits, target))


def test_one_hot_is_flagged_only_when_every_row_is_one_hot():
    target = np.eye(3)[[0, 1, 0, 2, 2, 0]]
    target[3] = [0.2, 0.3, 0.5]
    assert "one_hot_targets" not in codes(xc.advise(xc.PRESETS["seed42"].logits, target))


def test_flags_target_rows_not_summing_to_one_or_negative():
    logits = np.zeros((4, 3))
    target = np.array([[0.2, 0.3, 0.5], [1.0, 1.0, 1.0], [0.5, 0.6, -0.1], [0.0, 0.0, 0.0]])
    flagged = note(xc.advise(logits, target), "targets_not_normalised")
    assert flagged.rows == (1, 2, 3)  # row 2 sums to 1 but holds a negative entry
    assert "row(s) 1, 2, 3" in flagged.message
    assert "torch accepts" in flagged.message


def test_softmax_targets_are_not_flagged():
    rng = np.random.default_rng(0)
    raw = rng.standard_normal((8, 4)) * 3
    target = np.exp(raw) / np.exp(raw).sum(axis=1, keepdims=True)
    assert xc.advise(rng.standard_normal((8, 4)), target) == []


def test_target_sum_tolerance_is_respected():
    logits = np.zeros((2, 2))
    target = np.array([[0.5, 0.5005], [0.5, 0.51]])
    assert note(xc.advise(logits, target), "targets_not_normalised").rows == (1,)
    assert xc.advise(logits, target, sum_tolerance=0.1) == []


def test_notes_come_in_the_documented_order():
    logits = np.array([[0.5, 0.5], [100.0, 0.0]])
    target = np.array([[1.0, 0.0], [0.0, 1.0]]) * 2
    assert codes(xc.advise(logits, target)) == ["probabilities_as_logits", "float32_overflow", "targets_not_normalised"]


# ---------------------------------------------------------------------------------------------- never raises

GARBAGE = {
    "text": "abc",
    "none": None,
    "ragged": [[1.0, 2.0], [3.0]],
    "nan_scalar": np.nan,
    "nan_row": [[np.nan, 1.0], [0.5, 0.5]],
    "dict": {"a": 1},
    "object": object(),
    "text_array": np.array([["a", "b"]]),
    "empty": np.zeros((0, 3)),
    "one_class": np.array([[0.3], [0.7]]),
    "scalar": 3.0,
    "inf_row": [[np.inf, 0.0]],
    "both_infinities": [[np.inf, -np.inf]],
    "huge_finite": [[1e308, 1e308]],
    "complex": np.array([[1 + 2j, 3.0]]),
}


@pytest.mark.parametrize(
    "garbage",
    [pytest.param(v, id=k) for k, v in GARBAGE.items()],
)
def test_advise_never_raises_on_garbage_logits(garbage):
    notes = xc.advise(garbage)
    assert isinstance(notes, list)
    assert all(isinstance(n, xc.Advisory) for n in notes)


@pytest.mark.parametrize(
    "garbage",
    [  # complex targets are skipped before any arithmetic (not floating point)
        pytest.param(v, id=k) for k, v in GARBAGE.items()
    ],
)
def test_advise_never_raises_on_garbage_targets(garbage):
    notes = xc.advise(np.array([[1.0, 2.0]]), garbage)
    assert isinstance(notes, list)


def test_advise_skips_nan_rows_but_still_flags_the_others():
    logits = np.array([[np.nan, 0.5], [0.5, 0.5], [np.inf, 100.0]])
    assert [(n.code, n.rows) for n in xc.advise(logits)] == [("probabilities_as_logits", (1,))]
