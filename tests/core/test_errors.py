"""Bad input: every error path of the public API raises XentInputError with a message a learner can act on.

House rule ("Bad input" in STYLE.md): reject what torch rejects, accept what torch accepts, and refuse
the few inputs torch silently turns into nonsense (NaN logits, a negative label_smoothing, negative
KL targets). Each refusal is checked for its message (where, what, what is valid) and, where torch
has the same function, against what torch does with the very same input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import xent_core as xc


def t(a) -> torch.Tensor:
    """A torch tensor with numpy's dtype (float64 stays float64, int64 stays int64)."""
    return torch.tensor(np.asarray(a))


@dataclass(frozen=True)
class Case:
    call: Callable[[], object]  # the xent_core call that must raise XentInputError
    words: tuple[str, ...]  # every one must appear in the message (where, what, what is valid)
    torch_call: Callable[[], object] | None = None  # the same input given to torch


# ---------------------------------------------------------------------------------------------- inputs

Z = np.array([[1.0, 2.0, 0.5, 0.1], [0.3, 0.2, 0.7, 1.0], [0.0, -1.0, 2.0, 0.4]])  # (3, 4)
Y = np.array([0, 1, 2])  # valid class indices for Z
SOFT = np.full((3, 4), 0.25)  # valid probability targets for Z

Z_NAN = Z.copy()
Z_NAN[1, 2] = np.nan
Z_INF = np.array([[1.0, np.inf]])
Z_TEXT = np.array([[1.0, "a"]], dtype=object)
Y_OUT_OF_RANGE = np.array([0, 5, 1])
Y_NEGATIVE = np.array([0, -1, 1])
Y_FLOAT = np.array([0.0, 1.0, 2.0])
Y_ONE_HOT_INT = np.eye(4, dtype=np.int64)[Y]  # (3, 4) integer one-hot: the logits' shape
Z_3D = np.zeros((2, 3, 4))  # (N, C, d1)
LOG_PROBS = np.log(np.full((2, 3), 1 / 3))
LOG_PROBS_NAN = LOG_PROBS.copy()
LOG_PROBS_NAN[1, 2] = np.nan
SOFT_NAN = SOFT.copy()
SOFT_NAN[2, 1] = np.nan
P = np.array([0.5, 1.2])  # probabilities, one out of [0, 1]
B = np.array([0.0, 1.0])


# Input both torch and xent_core refuse.
REJECTED_BY_BOTH = {
    "integer_logits_hint_astype_float": Case(
        lambda: xc.cross_entropy(np.array([[1, 2]]), np.array([0])),
        ("logits", "floating point", "int64", ".astype(float)"),
        lambda: F.cross_entropy(t([[1, 2]]), t([0])),
    ),
    "bool_logits": Case(
        lambda: xc.cross_entropy(Z > 0, Y),
        ("logits", "floating point", "bool"),
        lambda: F.cross_entropy(t(Z > 0), t(Y)),
    ),
    "complex_logits": Case(
        lambda: xc.cross_entropy(Z + 0j, Y),
        ("logits", "real", "complex128"),
        lambda: F.cross_entropy(t(Z + 0j), t(Y)),
    ),
    "scalar_logits_need_a_class_dimension": Case(
        lambda: xc.cross_entropy(np.array(1.0), np.array(0)),
        ("class dimension", "(C,)", "(N, C)", "scalar"),
        lambda: F.cross_entropy(t(1.0), t(0)),
    ),
    "scalar_log_probs_need_a_class_dimension": Case(
        lambda: xc.nll_loss(np.array(0.1), np.array(0)),
        ("log_probs", "class dimension", "(N, C)", "scalar"),
        lambda: F.nll_loss(t(0.1), t(0)),
    ),
    "target_out_of_range_names_row_and_valid_range": Case(
        lambda: xc.cross_entropy(np.zeros((3, 4)), Y_OUT_OF_RANGE),
        ("row 1", "target 5", "out of range", "4 classes", "0..3", "-100"),
        lambda: F.cross_entropy(t(np.zeros((3, 4))), t(Y_OUT_OF_RANGE)),
    ),
    "negative_target_names_row": Case(
        lambda: xc.cross_entropy(Z, Y_NEGATIVE),
        ("row 1", "target -1", "out of range", "0..3"),
        lambda: F.cross_entropy(t(Z), t(Y_NEGATIVE)),
    ),
    "target_out_of_range_in_k_dim_input_names_sample_and_position": Case(
        lambda: xc.cross_entropy(Z_3D, np.array([[0, 1, 2, 0], [0, 0, 7, 0]])),
        ("sample 1", "position (2,)", "target 7", "0..2"),
        lambda: F.cross_entropy(t(Z_3D), t([[0, 1, 2, 0], [0, 0, 7, 0]])),
    ),
    "nll_target_out_of_range": Case(
        lambda: xc.nll_loss(LOG_PROBS, np.array([0, 3])),
        ("row 1", "target 3", "0..2"),
        lambda: F.nll_loss(t(LOG_PROBS), t([0, 3])),
    ),
    "float_class_indices_hint_astype_int": Case(
        lambda: xc.cross_entropy(Z, Y_FLOAT),
        ("class-index", "integers", "float64", ".astype(int)"),
        lambda: F.cross_entropy(t(Z), t(Y_FLOAT)),
    ),
    "bool_class_indices": Case(
        lambda: xc.cross_entropy(Z, np.array([True, False, True])),
        ("integers", "bool"),
        lambda: F.cross_entropy(t(Z), t([True, False, True])),
    ),
    "integer_one_hot_target_hint_argmax": Case(
        lambda: xc.cross_entropy(Z, Y_ONE_HOT_INT),
        ("probabilities", "floating point", "int64", "one-hot", "argmax"),
        lambda: F.cross_entropy(t(Z), t(Y_ONE_HOT_INT)),
    ),
    "batch_size_mismatch_names_both_sizes": Case(
        lambda: xc.cross_entropy(Z, np.array([0, 1])),
        ("3 samples", "holds 2", "(3,)", "(3, 4)"),
        lambda: F.cross_entropy(t(Z), t([0, 1])),
    ),
    "target_with_extra_axis": Case(
        lambda: xc.cross_entropy(Z, np.array([[0, 1, 2]])),
        ("3 samples", "holds 1", "(3,)"),
        lambda: F.cross_entropy(t(Z), t([[0, 1, 2]])),
    ),
    "k_dim_target_shape_mismatch": Case(
        lambda: xc.cross_entropy(Z_3D, np.zeros((2, 5), dtype=np.int64)),
        ("(2, 4)", "(2, 3, 4)", "got (2, 5)"),
        lambda: F.cross_entropy(t(Z_3D), t(np.zeros((2, 5), dtype=np.int64))),
    ),
    "unbatched_logits_with_batched_target": Case(
        lambda: xc.cross_entropy(np.zeros(3), np.array([0, 1])),
        ("shape ()", "(3,)", "got (2,)"),
        lambda: F.cross_entropy(t(np.zeros(3)), t([0, 1])),
    ),
    "weight_of_wrong_size": Case(
        lambda: xc.cross_entropy(Z, Y, weight=np.array([1.0, 2.0, 3.0])),
        ("weight", "one number per class", "(4,)", "(3,)"),
        lambda: F.cross_entropy(t(Z), t(Y), weight=t([1.0, 2.0, 3.0])),
    ),
    "label_smoothing_above_one": Case(
        lambda: xc.cross_entropy(Z, Y, label_smoothing=1.5),
        ("label_smoothing", "between 0.0 and 1.0", "1.5"),
        lambda: F.cross_entropy(t(Z), t(Y), label_smoothing=1.5),
    ),
    "reduction_Mean_lists_the_choices": Case(
        lambda: xc.cross_entropy(Z, Y, reduction="Mean"),
        ("reduction", "'none'", "'mean'", "'sum'", "'Mean'"),
        lambda: F.cross_entropy(t(Z), t(Y), reduction="Mean"),
    ),
    "ignore_index_with_probability_targets": Case(
        lambda: xc.cross_entropy(Z, SOFT, ignore_index=0),
        ("ignore_index (0)", "probability", "-100"),
        lambda: F.cross_entropy(t(Z), t(SOFT), ignore_index=0),
    ),
    "bce_probs_above_one": Case(
        lambda: xc.binary_cross_entropy(P, B),
        ("probs[1]", "1.2", "between 0 and 1"),
        lambda: F.binary_cross_entropy(t(P), t(B)),
    ),
    "bce_target_below_zero": Case(
        lambda: xc.binary_cross_entropy(np.array([0.5, 0.2]), np.array([0.0, -1.0])),
        ("target[1]", "-1.0", "between 0 and 1"),
        lambda: F.binary_cross_entropy(t([0.5, 0.2]), t([0.0, -1.0])),
    ),
    "bce_nan_probs": Case(
        lambda: xc.binary_cross_entropy(np.array([0.5, np.nan]), B),
        ("NaN", "probs"),
        lambda: F.binary_cross_entropy(t([0.5, np.nan]), t(B)),
    ),
    "bce_shape_mismatch": Case(
        lambda: xc.binary_cross_entropy(np.array([0.5, 0.2]), np.array([0.0, 1.0, 1.0])),
        ("target", "shape of probs", "(2,)", "(3,)"),
        lambda: F.binary_cross_entropy(t([0.5, 0.2]), t([0.0, 1.0, 1.0])),
    ),
    "bce_with_logits_shape_mismatch": Case(
        lambda: xc.binary_cross_entropy_with_logits(np.array([0.5, 0.2]), np.array([0.0, 1.0, 1.0])),
        ("target", "shape of logits", "(2,)", "(3,)"),
        lambda: F.binary_cross_entropy_with_logits(t([0.5, 0.2]), t([0.0, 1.0, 1.0])),
    ),
    "bce_with_logits_weight_does_not_broadcast": Case(
        lambda: xc.binary_cross_entropy_with_logits(np.zeros(3), np.zeros(3), weight=np.ones(2)),
        ("weight", "(2,)", "broadcast", "(3,)"),
        lambda: F.binary_cross_entropy_with_logits(t(np.zeros(3)), t(np.zeros(3)), weight=t(np.ones(2))),
    ),
    "bce_with_logits_weight_would_enlarge_the_input": Case(
        lambda: xc.binary_cross_entropy_with_logits(np.zeros(3), np.zeros(3), weight=np.ones((2, 3))),
        ("weight", "(2, 3)", "enlarge", "(3,)"),
        lambda: F.binary_cross_entropy_with_logits(t(np.zeros(3)), t(np.zeros(3)), weight=t(np.ones((2, 3)))),
    ),
    "bce_with_logits_pos_weight_does_not_broadcast": Case(
        lambda: xc.binary_cross_entropy_with_logits(np.zeros(3), np.zeros(3), pos_weight=np.ones(2)),
        ("pos_weight", "(2,)", "broadcast", "(3,)"),
        lambda: F.binary_cross_entropy_with_logits(t(np.zeros(3)), t(np.zeros(3)), pos_weight=t(np.ones(2))),
    ),
    "mse_shape_mismatch": Case(
        lambda: xc.mse_loss(np.array([0.5, 0.2]), np.array([0.0, 1.0, 1.0])),
        ("target", "shape of input", "(2,)", "(3,)"),
        lambda: F.mse_loss(t([0.5, 0.2]), t([0.0, 1.0, 1.0])),
    ),
    "kl_div_shape_mismatch": Case(
        lambda: xc.kl_div(np.array([-0.5, -0.2]), np.array([0.0, 0.5, 0.5]), reduction="sum"),
        ("target", "shape of log_probs", "(2,)", "(3,)"),
        lambda: F.kl_div(t([-0.5, -0.2]), t([0.0, 0.5, 0.5]), reduction="sum"),
    ),
    "kl_div_reduction_lists_batchmean": Case(
        lambda: xc.kl_div(np.array([-0.5, -0.9]), np.array([0.5, 0.5]), reduction="Mean"),
        ("'none'", "'mean'", "'sum'", "'batchmean'", "'Mean'"),
        lambda: F.kl_div(t([-0.5, -0.9]), t([0.5, 0.5]), reduction="Mean"),
    ),
    "multi_margin_p3": Case(
        lambda: xc.multi_margin_loss(Z, Y, p=3),
        ("p must be 1 or 2", "3"),
        lambda: F.multi_margin_loss(t(Z), t(Y), p=3),
    ),
    "multi_margin_3d_logits": Case(
        lambda: xc.multi_margin_loss(np.zeros((2, 3, 2)), np.array([[0, 1], [1, 2]])),
        ("multi_margin_loss", "(C,) or (N, C)", "(2, 3, 2)"),
        lambda: F.multi_margin_loss(t(np.zeros((2, 3, 2))), t([[0, 1], [1, 2]])),
    ),
    "multi_margin_weight_of_wrong_size": Case(
        lambda: xc.multi_margin_loss(Z, Y, weight=np.array([1.0, 2.0])),
        ("weight", "one number per class", "(4,)", "(2,)"),
        lambda: F.multi_margin_loss(t(Z), t(Y), weight=t([1.0, 2.0])),
    ),
}

# Input torch accepts and turns into NaN or a silently changed option; xent_core refuses it on purpose.
ACCEPTED_BY_TORCH = {
    "nan_logit_names_row_and_class": Case(
        lambda: xc.cross_entropy(Z_NAN, Y),
        ("row 1", "class 2", "NaN", "logit"),
        lambda: F.cross_entropy(t(Z_NAN), t(Y)),
    ),
    "inf_logit_names_column": Case(
        lambda: xc.cross_entropy(Z_INF, np.array([0])),
        ("row 0", "class 1", "inf", "logit"),
        lambda: F.cross_entropy(t(Z_INF), t([0])),
    ),
    "nan_log_probability": Case(
        lambda: xc.nll_loss(LOG_PROBS_NAN, np.array([0, 1])),
        ("row 1", "class 2", "NaN", "log-probability"),
        lambda: F.nll_loss(t(LOG_PROBS_NAN), t([0, 1])),
    ),
    "nan_probability_target": Case(
        lambda: xc.cross_entropy(Z, SOFT_NAN),
        ("row 2", "class 1", "NaN", "target"),
        lambda: F.cross_entropy(t(Z), t(SOFT_NAN)),
    ),
    "nan_class_weight": Case(
        lambda: xc.cross_entropy(Z, Y, weight=np.array([1.0, np.nan, 3.0, 1.0])),
        ("class 1", "NaN", "weight"),
        lambda: F.cross_entropy(t(Z), t(Y), weight=t([1.0, np.nan, 3.0, 1.0])),
    ),
    "negative_label_smoothing_torch_treats_as_zero": Case(
        lambda: xc.cross_entropy(Z, Y, label_smoothing=-0.1),
        ("label_smoothing", "between 0.0 and 1.0", "-0.1", "torch", "as 0"),
        lambda: F.cross_entropy(t(Z), t(Y), label_smoothing=-0.1),
    ),
    "mse_shapes_torch_would_broadcast": Case(
        lambda: xc.mse_loss(np.array([[0.5, 0.2]]), np.array([[0.0], [1.0]])),
        ("target", "shape of input", "(1, 2)", "(2, 1)"),
        # torch broadcasts (1, 2) against (2, 1) to a (2, 2) loss, warning that it is probably a bug.
        lambda: F.mse_loss(t([[0.5, 0.2]]), t([[0.0], [1.0]])),
    ),
    "mse_nan_input": Case(
        lambda: xc.mse_loss(np.array([np.nan, 1.0]), np.array([0.0, 1.0])),
        ("NaN", "input"),
        lambda: F.mse_loss(t([np.nan, 1.0]), t([0.0, 1.0])),
    ),
    "infinite_margin": Case(
        lambda: xc.multi_margin_loss(Z, Y, margin=np.inf),
        ("margin", "finite", "inf"),
        lambda: F.multi_margin_loss(t(Z), t(Y), margin=float("inf")),
    ),
    "negative_kl_target": Case(
        lambda: xc.kl_div(np.array([-0.5, -0.9]), np.array([-0.2, 1.2]), reduction="sum"),
        ("target", "must not be negative", "nan"),
        lambda: F.kl_div(t([-0.5, -0.9]), t([-0.2, 1.2]), reduction="sum"),
    ),
    "negative_probability_for_entropy": Case(
        lambda: xc.entropy(np.array([-0.2, 1.2])),
        ("probs", "must not be negative", "probability distributions"),
        lambda: torch.special.entr(t([-0.2, 1.2])).sum(),  # the torch call entropy's docstring names
    ),
    "zero_temperature": Case(
        lambda: xc.cross_entropy_trace(Z, Y, temperature=0),
        ("temperature", "positive", "0"),
        lambda: F.cross_entropy(t(Z) / 0.0, t(Y)),  # the trace's documented torch equivalent
    ),
}

# No torch function to compare with (torchvision's focal loss is not installed; temperature is ours).
XENT_ONLY = {
    "inf_logit_with_class_names_names_the_column": Case(
        lambda: xc.check_logits(Z_INF, class_names=["cat", "dog"]),
        ("row 0", "column 'dog'", "inf is not a logit"),
    ),
    "text_in_object_array_names_position": Case(
        lambda: xc.cross_entropy(Z_TEXT, np.array([0])),
        ("row 0", "class 1", "'a'", "not a number"),
    ),
    "text_in_object_array_with_class_names": Case(
        lambda: xc.check_logits(Z_TEXT, class_names=["cat", "dog"]),
        ("row 0", "column 'dog'", "'a'", "not a number"),
    ),
    "nll_plus_inf_log_probability": Case(
        lambda: xc.nll_loss(np.array([[-1.0, np.inf]]), np.array([0])),
        ("row 0", "class 1", "inf", "log-probability"),
    ),
    "softmax_focal_negative_gamma": Case(
        lambda: xc.softmax_focal_loss(Z, Y, gamma=-1),
        ("gamma", ">= 0", "-1"),
    ),
    "sigmoid_focal_negative_gamma": Case(
        lambda: xc.sigmoid_focal_loss(Z, np.zeros_like(Z), gamma=-1),
        ("gamma", ">= 0", "-1"),
    ),
    "softmax_focal_infinite_alpha": Case(
        lambda: xc.softmax_focal_loss(Z, Y, alpha=np.inf),
        ("alpha", "finite", "inf"),
    ),
    "softmax_focal_alpha_of_wrong_size": Case(
        lambda: xc.softmax_focal_loss(Z, Y, alpha=np.array([1.0, 2.0])),
        ("alpha", "one number per class", "(4,)", "(2,)"),
    ),
    "sigmoid_distance_soft_targets": Case(
        lambda: xc.sigmoid_distance_loss(Z, SOFT),
        ("sigmoid_distance_loss", "class indices", "0/1"),
    ),
    "softmax_zero_temperature": Case(
        lambda: xc.softmax(Z, temperature=0),
        ("temperature", "positive", "0"),
    ),
    "log_softmax_negative_temperature": Case(
        lambda: xc.log_softmax(Z, temperature=-1),
        ("temperature", "positive", "-1"),
    ),
    "log_softmax_nan_temperature": Case(
        lambda: xc.log_softmax(Z, temperature=float("nan")),
        ("temperature", "positive", "nan"),
    ),
    "trace_negative_temperature": Case(
        lambda: xc.cross_entropy_trace(Z, Y, temperature=-2.0),
        ("temperature", "positive", "-2"),
    ),
    "trace_k_dim_logits": Case(
        lambda: xc.cross_entropy_trace(np.zeros((2, 3, 2)), np.zeros((2, 2), dtype=np.int64)),
        ("trace", "(C,) or (N, C)", "(2, 3, 2)"),
    ),
}

ALL_CASES = {**REJECTED_BY_BOTH, **ACCEPTED_BY_TORCH, **XENT_ONLY}
assert len(ALL_CASES) == len(REJECTED_BY_BOTH) + len(ACCEPTED_BY_TORCH) + len(XENT_ONLY), "duplicate case ids"


def _message(case: Case) -> str:
    with pytest.raises(xc.XentInputError) as info:
        case.call()
    return str(info.value)


# ---------------------------------------------------------------------------------------------- messages


def test_xent_input_error_is_a_value_error():
    assert issubclass(xc.XentInputError, ValueError)


@pytest.mark.parametrize("case", ALL_CASES.values(), ids=ALL_CASES.keys())
def test_refusal_message_says_where_what_and_what_is_valid(case):
    message = _message(case)
    missing = [w for w in case.words if w not in message]
    assert not missing, f"{missing} not in {message!r}"


def test_nan_logit_message_is_exact():
    assert _message(ACCEPTED_BY_TORCH["nan_logit_names_row_and_class"]) == "row 1, class 2: NaN is not a logit"


def test_check_logits_with_class_names_names_the_column():
    z = np.array([[0.0, 1.0], [2.0, np.nan]])
    with pytest.raises(xc.XentInputError, match=r"^row 1, column 'dog': NaN is not a logit$"):
        xc.check_logits(z, class_names=["cat", "dog"])


def test_out_of_range_target_message_is_exact():
    message = _message(REJECTED_BY_BOTH["target_out_of_range_names_row_and_valid_range"])
    assert message == "row 1: target 5 is out of range for 4 classes (valid: 0..3 or the ignore index -100)"


def test_out_of_range_message_shows_the_ignore_index_in_use():
    with pytest.raises(xc.XentInputError, match=r"valid: 0\.\.3 or the ignore index -1\)"):
        xc.cross_entropy(Z, np.array([0, -100, 1]), ignore_index=-1)


def test_describe_position_reads_like_the_table():
    assert xc.describe_position((2,), 1) == "class 2"
    assert xc.describe_position((3, 1), 2, ["cat", "dog"]) == "row 3, column 'dog'"
    assert xc.describe_position((0, 2, 1, 0), 4) == "sample 0, class 2, position (1, 0)"


LOSSES_WITH_REDUCTION = {
    "cross_entropy": (
        lambda r: xc.cross_entropy(Z, Y, reduction=r),
        lambda r: F.cross_entropy(t(Z), t(Y), reduction=r),
    ),
    "nll_loss": (
        lambda r: xc.nll_loss(LOG_PROBS, np.array([0, 1]), reduction=r),
        lambda r: F.nll_loss(t(LOG_PROBS), t([0, 1]), reduction=r),
    ),
    "binary_cross_entropy": (
        lambda r: xc.binary_cross_entropy(np.array([0.5]), np.array([1.0]), reduction=r),
        lambda r: F.binary_cross_entropy(t([0.5]), t([1.0]), reduction=r),
    ),
    "binary_cross_entropy_with_logits": (
        lambda r: xc.binary_cross_entropy_with_logits(np.array([0.5]), np.array([1.0]), reduction=r),
        lambda r: F.binary_cross_entropy_with_logits(t([0.5]), t([1.0]), reduction=r),
    ),
    "mse_loss": (
        lambda r: xc.mse_loss(np.array([0.5]), np.array([1.0]), reduction=r),
        lambda r: F.mse_loss(t([0.5]), t([1.0]), reduction=r),
    ),
    "multi_margin_loss": (
        lambda r: xc.multi_margin_loss(Z, Y, reduction=r),
        lambda r: F.multi_margin_loss(t(Z), t(Y), reduction=r),
    ),
    "mse_on_softmax": (lambda r: xc.mse_on_softmax(Z, Y, reduction=r), None),
    "sigmoid_distance_loss": (lambda r: xc.sigmoid_distance_loss(Z, Y, reduction=r), None),
    "softmax_focal_loss": (lambda r: xc.softmax_focal_loss(Z, Y, reduction=r), None),
    "sigmoid_focal_loss": (lambda r: xc.sigmoid_focal_loss(Z, np.zeros_like(Z), reduction=r), None),
    "cross_entropy_trace": (lambda r: xc.cross_entropy_trace(Z, Y, reduction=r), None),
}


@pytest.mark.parametrize("name", LOSSES_WITH_REDUCTION)
@pytest.mark.parametrize("reduction", ["Mean", "average", ""])
def test_every_loss_refuses_an_unknown_reduction_and_lists_the_choices(name, reduction):
    xent_call, torch_call = LOSSES_WITH_REDUCTION[name]
    with pytest.raises(xc.XentInputError, match=r"'none', 'mean', 'sum'") as info:
        xent_call(reduction)
    assert repr(reduction) in str(info.value)
    if torch_call is not None:
        with pytest.raises(Exception):  # noqa: B017, PT011 - torch's exception types vary; that it raises is the point
            torch_call(reduction)


# ---------------------------------------------------------------------------------------------- torch agrees


@pytest.mark.filterwarnings("ignore:Using a target size:UserWarning")  # torch warns before it raises (mse)
@pytest.mark.parametrize("case", REJECTED_BY_BOTH.values(), ids=REJECTED_BY_BOTH.keys())
def test_torch_refuses_the_same_input(case):
    with pytest.raises(Exception):  # noqa: B017, PT011 - torch's exception types vary; that it raises is the point
        case.torch_call()


@pytest.mark.filterwarnings("ignore:Using a target size:UserWarning")  # torch's own broadcasting warning (mse)
@pytest.mark.parametrize("case", ACCEPTED_BY_TORCH.values(), ids=ACCEPTED_BY_TORCH.keys())
def test_torch_silently_accepts_what_xent_core_refuses_on_purpose(case):
    """torch returns a number (often NaN, or a result with the option ignored) where xent_core explains."""
    out = case.torch_call()
    assert isinstance(out, torch.Tensor)


def test_torch_turns_nan_logits_into_a_nan_loss():
    """Why xent_core refuses NaN logits: torch's answer explains nothing."""
    assert torch.isnan(ACCEPTED_BY_TORCH["nan_logit_names_row_and_class"].torch_call())


def test_torch_treats_negative_label_smoothing_as_zero():
    """The message's claim: torch silently uses 0 for a negative label_smoothing."""
    negative = F.cross_entropy(t(Z), t(Y), label_smoothing=-0.1)
    assert float(negative) == float(F.cross_entropy(t(Z), t(Y)))


# Functions refusing integer input say "torch refuses integer ... too"; that must be true of the torch twin.
INTEGER_INPUT = {
    "log_softmax": (lambda a: xc.log_softmax(a), lambda a: torch.log_softmax(t(a), 0)),
    "softmax": (lambda a: xc.softmax(a), lambda a: torch.softmax(t(a), 0)),
    "log_sigmoid": (lambda a: xc.log_sigmoid(a), lambda a: F.logsigmoid(t(a))),
    "mse_loss": (lambda a: xc.mse_loss(a, a), lambda a: F.mse_loss(t(a), t(a))),
    "binary_cross_entropy_with_logits": (
        lambda a: xc.binary_cross_entropy_with_logits(a, np.ones(2)),
        lambda a: F.binary_cross_entropy_with_logits(t(a), t(np.ones(2))),
    ),
    "nll_loss": (lambda a: xc.nll_loss(a, np.array(0)), lambda a: F.nll_loss(t(a), t(0))),
    "logsumexp": (lambda a: xc.logsumexp(a), lambda a: torch.logsumexp(t(a), 0)),
    "sigmoid": (lambda a: xc.sigmoid(a), lambda a: torch.sigmoid(t(a))),
    "entropy": (lambda a: xc.entropy(a), lambda a: torch.special.entr(t(a)).sum()),
}
TORCH_PROMOTES_INTEGERS = ("logsumexp", "sigmoid", "entropy")


@pytest.mark.parametrize("name", [n for n in INTEGER_INPUT if n not in TORCH_PROMOTES_INTEGERS])
def test_integer_input_is_refused_where_torch_refuses_it(name):
    xent_call, torch_call = INTEGER_INPUT[name]
    ints = np.array([1, 2])
    with pytest.raises(xc.XentInputError, match=r"must be floating point.*\.astype\(float\)"):
        xent_call(ints)
    with pytest.raises(Exception):  # noqa: B017, PT011 - torch's exception types vary; that it raises is the point
        torch_call(ints)


@pytest.mark.parametrize("name", TORCH_PROMOTES_INTEGERS)
def test_integer_input_is_promoted_to_float32_where_torch_promotes_it(name):
    xent_call, torch_call = INTEGER_INPUT[name]
    ints = np.array([1, 2])
    ours = np.asarray(xent_call(ints))
    theirs = torch_call(ints).numpy()
    assert ours.dtype == theirs.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


@pytest.mark.parametrize(
    "call",
    [
        lambda: xc.binary_cross_entropy(P, B),
        lambda: xc.cross_entropy(np.array([["1.0", "a"]]), np.array([0])),
    ],
    ids=["bce_out_of_range_value", "text_in_string_array"],
)
def test_messages_show_values_as_a_learner_typed_them(call):
    with pytest.raises(xc.XentInputError) as info:
        call()
    assert "np." not in str(info.value)


@pytest.mark.parametrize(
    "call",
    [
        lambda: xc.entropy(np.array([[0.5, 0.5], [-0.2, 1.2]])),
        lambda: xc.kl_div(np.log(np.full((2, 2), 0.5)), np.array([[0.5, 0.5], [-0.2, 1.2]]), reduction="sum"),
    ],
    ids=["entropy", "kl_div"],
)
def test_negative_probability_message_names_the_position(call):
    with pytest.raises(xc.XentInputError, match="row 1"):
        call()


# ---------------------------------------------------------------------------------------------- accepted like torch


def _ce_both(logits, target, **options):
    ours = xc.cross_entropy(logits, target, reduction="none", **options)
    torch_options = {k: (t(v) if isinstance(v, np.ndarray) else v) for k, v in options.items()}
    theirs = F.cross_entropy(t(logits), t(target), reduction="none", **torch_options).numpy()
    return ours, theirs


def test_accepts_negative_class_weights_like_torch():
    ours, theirs = _ce_both(Z, Y, weight=np.array([1.0, -2.0, 3.0, 0.5]))
    assert (ours < 0).any()  # row 1's target has a negative weight: the loss is negative, as in torch
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_accepts_negative_soft_targets_like_torch():
    signed = np.array([[0.5, -0.2, 0.3, 0.4], [1.2, -0.2, 0.0, 0.0], [0.0, 0.0, -1.0, 2.0]])
    ours, theirs = _ce_both(Z, signed)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_accepts_soft_targets_not_summing_to_one_like_torch():
    unnormalised = np.array([[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0], [0.1, 0.2, 0.0, 0.3]])
    ours, theirs = _ce_both(Z, unnormalised)
    assert ours[1] == 0  # an all-zero target row costs nothing
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.int16, np.int64])
def test_accepts_any_integer_dtype_for_class_indices(dtype):
    """torch takes int64 and uint8; xent_core also takes int32 and int16, which numpy makes easily."""
    ours = xc.cross_entropy(Z, Y.astype(dtype), reduction="none")
    np.testing.assert_allclose(ours, F.cross_entropy(t(Z), t(Y), reduction="none").numpy(), rtol=1e-12)
    if dtype in (np.uint8, np.int64):
        F.cross_entropy(t(Z), t(Y.astype(dtype)))  # the dtypes torch itself accepts


def test_accepts_a_single_class_problem_like_torch():
    z, y = np.array([[0.3], [1.0]]), np.array([0, 0])
    loss, grad = xc.cross_entropy_and_grad(z, y)
    assert loss == 0.0 == float(F.cross_entropy(t(z), t(y)))
    np.testing.assert_array_equal(grad, np.zeros_like(z))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_accepts_an_empty_batch_like_torch(reduction):
    z, y = np.zeros((0, 3)), np.zeros(0, dtype=np.int64)
    loss, grad = xc.cross_entropy_and_grad(z, y, reduction=reduction)
    expected = F.cross_entropy(t(z), t(y), reduction=reduction).numpy()  # 'mean' of nothing is nan in torch too
    np.testing.assert_array_equal(loss, expected)
    assert grad.shape == (0, 3)


def test_nll_loss_accepts_log_of_zero_like_torch():
    log_probs = np.array([[-np.inf, 0.0], [np.log(0.5), np.log(0.5)]])  # log(0) = -inf is a log-probability
    y = np.array([1, 0])
    np.testing.assert_allclose(xc.nll_loss(log_probs, y), float(F.nll_loss(t(log_probs), t(y))), rtol=1e-12)


@pytest.mark.parametrize(
    ("xent_call", "torch_call"),
    [
        (xc.cross_entropy, F.cross_entropy),
        (lambda z, y: xc.nll_loss(xc.log_softmax(z), y), lambda z, y: F.nll_loss(torch.log_softmax(z, 0), y)),
        (xc.multi_margin_loss, F.multi_margin_loss),
    ],
    ids=["cross_entropy", "nll_loss", "multi_margin_loss"],
)
def test_accepts_unbatched_logits_with_a_one_element_target_like_torch(xent_call, torch_call):
    z, y = np.array([0.0, 1.0, 2.0]), np.array([1])
    expected = float(torch_call(t(z), t(y)))
    np.testing.assert_allclose(xent_call(z, y), expected, rtol=1e-12)
