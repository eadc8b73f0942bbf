"""Parity with torch: every public xent_core function against the tests' own torch oracle.

For each loss, on hypothesis-generated input, `<loss>_and_grad` must give torch's value and autograd
gradient (same shape, same dtype, equal to round-off in float64), and the plain `<loss>` and
`<loss>_grad` must return exactly the same numbers. The activations, `logsumexp` and `entropy` are
compared by value. float32 and float16 are compared more loosely (see the tolerances below).

Where torch's answer is nan (every target ignored under 'mean', an empty batch, class weights that
sum to 0) both must be nan and the gradients must still agree. The few places where xent_core
deliberately differs (torch multiplies 0 by inf in its formula and returns nan where the math has a
finite limit) are documented in xent_core's docstrings and pinned by the tests at the end of the file.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import xent_core as xc
from tests.core import strategies as xs
from tests.core import torch_oracle as oracle

# float64: both sides evaluate the same formula; they differ only in the order of operations
# (fused kernels, pairwise vs cascade summation) and in exp/log implementations, a few ulps each.
F64 = {"rtol": 1e-10, "atol": 1e-12}
# float32: eps is 1.2e-7, and each side rounds after every one of ~10 operations and sums up to a
# few hundred terms in its own order, with its own (vectorised) exp and log: a few ulps of the
# largest intermediate (logits up to 30) is ~1e-5 relative, ~1e-6 absolute for values near zero.
F32 = {"rtol": 1e-5, "atol": 1e-6}
# torch evaluates binary_cross_entropy_with_logits (and so torchvision's focal loss) as
# (1 - y) z - (1 + (pos_weight - 1) y) log_sigmoid(z): for z << 0 and y = 0 two terms near |z| cancel,
# leaving an absolute error of a few float32 ulps of |z| (up to 30) times pos_weight and weight
# (up to 3 each), ~2e-5; xent_core's log_sigmoid(-z) form is exact there. Example: z = -14.56, y = 0,
# weight 2.13 gives 1.0096e-6 in xent_core and 0.0 in torch.
F32_BCE_LOGITS = {"rtol": 1e-5, "atol": 3e-5}
# float16: eps is 9.8e-4. xent_core computes half input in float32 and rounds once at the end,
# torch's CPU kernels round to half after several intermediate steps (and round the weights to half),
# so a few half ulps of difference are expected (about 10 half ulps at 1 here).
F16 = {"rtol": 1e-2, "atol": 1e-2}

# Budgets that keep the whole file well under 20 s on two cores.
MAIN = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
QUICK = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------------------------------- assertions


def assert_like_torch(actual, expected: np.ndarray, *, tol: dict, what: str) -> None:
    """Same shape, same dtype, and equal within `tol` (nan where torch has nan)."""
    actual = np.asarray(actual)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, torch {expected.shape}"
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype}, torch {expected.dtype}"
    np.testing.assert_allclose(
        actual.astype(np.float64), expected.astype(np.float64), equal_nan=True, err_msg=what, **tol
    )


def assert_same_result(actual, expected, what: str) -> None:
    """Bit-for-bit the same array (the plain and the _grad functions share the _and_grad computation)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, what
    assert actual.dtype == expected.dtype, what
    np.testing.assert_array_equal(actual, expected, err_msg=what)


def check_loss(name: str, args: tuple, kwargs: dict, *, tol: dict = F64, expected=None):
    """Compare xent_core's `name` (value and gradient, all three entry points) with the torch oracle."""
    if expected is None:
        expected = getattr(oracle, f"{name}_and_grad")(*args, **kwargs)
    expected_value, expected_grad = expected
    value, grad = getattr(xc, f"{name}_and_grad")(*args, **kwargs)
    assert_like_torch(value, expected_value, tol=tol, what=f"{name} value")
    assert_like_torch(grad, expected_grad, tol=tol, what=f"{name} gradient")
    assert_same_result(getattr(xc, name)(*args, **kwargs), value, f"{name} vs {name}_and_grad")
    assert_same_result(getattr(xc, f"{name}_grad")(*args, **kwargs), grad, f"{name}_grad vs {name}_and_grad")
    return expected


# ---------------------------------------------------------------------------------------------- cases
# Each case strategy draws (args, kwargs) for one xent_core loss in the given dtype, so that the same
# input space is checked in float64 (tight) and in float32 / float16 (loose).


@st.composite
def cross_entropy_index_cases(draw, dtype=np.float64):
    batch = draw(xs.index_batches(min_classes=1, dtype=dtype))
    weight = draw(xs.optional_class_weights(batch.num_classes))
    reduction = draw(xs.reductions())
    kwargs = {
        "weight": weight,
        "ignore_index": batch.ignore_index,
        "reduction": reduction,
        "label_smoothing": draw(xs.label_smoothings()),
    }
    return (batch.logits, batch.target), kwargs


@st.composite
def cross_entropy_prob_cases(draw, dtype=np.float64):
    batch = draw(xs.prob_batches(min_classes=1, dtype=dtype))
    kwargs = {
        "weight": draw(xs.optional_class_weights(batch.num_classes)),
        "reduction": draw(xs.reductions()),
        "label_smoothing": draw(xs.label_smoothings()),
    }
    return (batch.logits, batch.target), kwargs


@st.composite
def nll_loss_cases(draw, dtype=np.float64):
    """Arbitrary finite log_probs (nll_loss does no softmax), with -inf (log 0) anywhere but a live target."""
    batch = draw(xs.index_batches(min_classes=1, dtype=dtype))
    axis = xs.class_axis(batch.logits.shape)
    live_target = xs.one_hot(np.where(batch.ignored, -1, batch.target), batch.num_classes, axis) == 1
    neg_inf = draw(hnp.arrays(np.bool_, batch.logits.shape, elements=st.booleans()))
    log_probs = np.where(neg_inf & ~live_target, -np.inf, batch.logits).astype(dtype)
    weight = draw(xs.optional_class_weights(batch.num_classes))
    reduction = draw(xs.reductions())
    return (log_probs, batch.target), {"weight": weight, "ignore_index": batch.ignore_index, "reduction": reduction}


@st.composite
def binary_cross_entropy_cases(draw, dtype=np.float64):
    shape = draw(xs.any_shapes())
    probs = draw(xs.unit_probs(shape, dtype=dtype))
    target = draw(xs.binary_targets(shape, dtype=dtype))
    kwargs = {"weight": draw(xs.broadcast_weights(shape)), "reduction": draw(xs.reductions())}
    return (probs, target), kwargs


@st.composite
def binary_cross_entropy_with_logits_cases(draw, dtype=np.float64):
    shape = draw(xs.any_shapes())
    z = draw(xs.logits(shape, dtype=dtype))
    target = draw(xs.binary_targets(shape, dtype=dtype))
    kwargs = {
        "weight": draw(xs.broadcast_weights(shape)),
        "pos_weight": draw(xs.broadcast_weights(shape)),
        "reduction": draw(xs.reductions()),
    }
    return (z, target), kwargs


@st.composite
def sigmoid_focal_loss_cases(draw, dtype=np.float64):
    shape = draw(xs.any_shapes())
    z = draw(xs.logits(shape, dtype=dtype))
    target = draw(xs.binary_targets(shape, dtype=dtype))
    kwargs = {
        "alpha": draw(st.sampled_from((-1.0, 0.25, 0.0, 1.0)) | st.floats(0.0, 1.0)),
        "gamma": draw(st.sampled_from(xs.GAMMAS)),
        "reduction": draw(xs.reductions()),
    }
    return (z, target), kwargs


@st.composite
def mse_loss_cases(draw, dtype=np.float64):
    shape = draw(xs.any_shapes())
    return (draw(xs.logits(shape, dtype=dtype)), draw(xs.logits(shape, dtype=dtype))), {
        "reduction": draw(xs.reductions())
    }


@st.composite
def mse_on_softmax_cases(draw, dtype=np.float64):
    if draw(st.booleans()):
        batch = draw(xs.index_batches(ignore=False, dtype=dtype))
    else:
        batch = draw(xs.prob_batches(dtype=dtype))
    return (batch.logits, batch.target), {"reduction": draw(xs.reductions())}


@st.composite
def sigmoid_distance_loss_cases(draw, dtype=np.float64):
    if draw(st.booleans()):
        batch = draw(xs.index_batches(ignore=False, dtype=dtype))
    else:
        batch = draw(xs.multi_hot_batches(dtype=dtype))
    return (batch.logits, batch.target), {"reduction": draw(xs.reductions())}


@st.composite
def multi_margin_loss_cases(draw, dtype=np.float64):
    batch = draw(xs.index_batches(k_dims=(0,), ignore=False, dtype=dtype))  # torch: (C,) or (N, C) only
    kwargs = {
        "p": draw(st.sampled_from((1, 2))),
        "margin": draw(st.sampled_from((1.0, 0.0)) | st.floats(-1.0, 5.0)),
        "weight": draw(xs.optional_class_weights(batch.num_classes)),
        "reduction": draw(xs.reductions()),
    }
    return (batch.logits, batch.target), kwargs


@st.composite
def softmax_focal_loss_cases(draw, dtype=np.float64):
    batch = draw(xs.index_batches(ignore=False, dtype=dtype))
    alpha_kind = draw(st.sampled_from(("none", "float", "per_class")))
    alpha = {
        "none": None,
        "float": draw(st.floats(0.0, 1.0)),
        "per_class": draw(xs.class_weights(batch.num_classes)),
    }[alpha_kind]
    kwargs = {"gamma": draw(st.sampled_from(xs.GAMMAS)), "alpha": alpha, "reduction": draw(xs.reductions())}
    return (batch.logits, batch.target), kwargs


@st.composite
def kl_div_cases(draw, dtype=np.float64):
    shape = draw(xs.any_shapes())
    log_probs = draw(xs.arrays(shape, -xs.LOGIT_BOUND, 5.0, dtype=dtype))  # torch accepts any finite input
    log_target = draw(st.booleans())
    if log_target:
        target = draw(xs.arrays(shape, -xs.LOGIT_BOUND, 1.0, dtype=dtype))
    else:  # probabilities, some exactly 0 (0 log 0 = 0), some above 1 (torch does not mind)
        element = st.just(0.0) | xs.floats(0.0, 1.0, dtype=dtype) | xs.floats(0.0, 3.0, dtype=dtype)
        target = draw(hnp.arrays(np.dtype(dtype), shape, elements=element))
    kwargs = {"reduction": draw(st.sampled_from((*xs.REDUCTIONS, "batchmean"))), "log_target": log_target}
    return (log_probs, target), kwargs


def focal_grad_is_nan_in_torch(kwargs: dict, expected) -> bool:
    """torch's autograd of (1 - p_t) ** gamma is 0 * inf = nan where p_t rounds to 1 and 0 < gamma < 1.

    xent_core returns the limit 0 there; test_softmax_focal_gradient_at_saturation_matches_torch
    pins that difference, so the generated tests skip those inputs.
    """
    return 0 < kwargs["gamma"] < 1 and not np.isfinite(expected[1]).all()


# ---------------------------------------------------------------------------------------------- float64 parity


@MAIN
@given(case=cross_entropy_index_cases())
def test_cross_entropy_with_class_indices_matches_torch(case):
    check_loss("cross_entropy", *case)


@MAIN
@given(case=cross_entropy_prob_cases())
def test_cross_entropy_with_probability_targets_matches_torch(case):
    check_loss("cross_entropy", *case)


@MAIN
@given(case=nll_loss_cases())
def test_nll_loss_matches_torch_including_minus_inf_log_probs(case):
    check_loss("nll_loss", *case)


@MAIN
@given(case=binary_cross_entropy_cases())
def test_binary_cross_entropy_matches_torch_inside_the_unit_interval(case):
    check_loss("binary_cross_entropy", *case)


_BCE_PROBS = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 0.5]])
_BCE_TARGET = np.array([[0.0, 0.25, 1.0], [0.0, 0.25, 1.0], [0.0, 1.0, 1.0]])


@pytest.mark.parametrize("weight", [None, np.array([0.5, 2.0, 1.5])])
@pytest.mark.parametrize("reduction", xs.REDUCTIONS)
def test_binary_cross_entropy_at_exact_zero_and_one_matches_torch_clamp(weight, reduction):
    # torch clamps each log at -100, so p = 0 or 1 gives a loss of 100 (times the target) instead of inf.
    kwargs = {"weight": weight, "reduction": reduction}
    expected_value, _ = oracle.binary_cross_entropy_and_grad(_BCE_PROBS, _BCE_TARGET, **kwargs)
    value = xc.binary_cross_entropy(_BCE_PROBS, _BCE_TARGET, **kwargs)
    assert_like_torch(value, expected_value, tol=F64, what="binary_cross_entropy value")
    assert np.isfinite(value).all()


@pytest.mark.parametrize("reduction", xs.REDUCTIONS)
def test_binary_cross_entropy_gradient_in_the_clamped_region_matches_torch(reduction):
    # torch divides by max(p (1 - p), 1e-12) with 1e-12 stored as a float32 (9.99999996e-13) even in
    # float64, so a gradient there is -1000000003995.8029, not -1e12.
    check_loss("binary_cross_entropy", (_BCE_PROBS, _BCE_TARGET), {"reduction": reduction})


@MAIN
@given(case=binary_cross_entropy_with_logits_cases())
def test_binary_cross_entropy_with_logits_matches_torch(case):
    check_loss("binary_cross_entropy_with_logits", *case)


@MAIN
@given(case=sigmoid_focal_loss_cases())
def test_sigmoid_focal_loss_matches_torchvision_formula(case):
    check_loss("sigmoid_focal_loss", *case)


@QUICK
@given(case=mse_loss_cases())
def test_mse_loss_matches_torch(case):
    check_loss("mse_loss", *case)


@MAIN
@given(case=mse_on_softmax_cases())
def test_mse_on_softmax_matches_torch_expression(case):
    check_loss("mse_on_softmax", *case)


@MAIN
@given(case=sigmoid_distance_loss_cases())
def test_sigmoid_distance_loss_matches_torch_expression(case):
    check_loss("sigmoid_distance_loss", *case)


@MAIN
@given(case=multi_margin_loss_cases())
def test_multi_margin_loss_matches_torch(case):
    check_loss("multi_margin_loss", *case)


@MAIN
@given(case=softmax_focal_loss_cases())
def test_softmax_focal_loss_matches_torch_expression(case):
    args, kwargs = case
    expected = oracle.softmax_focal_loss_and_grad(*args, **kwargs)
    assume(not focal_grad_is_nan_in_torch(kwargs, expected))
    check_loss("softmax_focal_loss", args, kwargs, expected=expected)


@MAIN
@given(case=kl_div_cases())
def test_kl_div_matches_torch(case):
    check_loss("kl_div", *case)


# ---------------------------------------------------------------------------------------------- activations


def _shape_and_axis(min_dims: int = 1):
    return xs.any_shapes(min_dims=min_dims).flatmap(
        lambda shape: st.tuples(st.just(shape), st.integers(-len(shape), len(shape) - 1))
    )


@QUICK
@given(shape_axis=_shape_and_axis(), data=st.data())
def test_entropy_matches_torch_entr_sum(shape_axis, data):
    shape, axis = shape_axis
    element = st.just(0.0) | xs.floats(0.0, 1.0) | xs.floats(0.0, 3.0)
    probs = data.draw(hnp.arrays(np.float64, shape, elements=element))
    assert_like_torch(xc.entropy(probs, axis=axis), oracle.entropy(probs, axis=axis), tol=F64, what="entropy")


@QUICK
@given(shape_axis=_shape_and_axis(), keepdims=st.booleans(), data=st.data())
def test_logsumexp_matches_torch(shape_axis, keepdims, data):
    shape, axis = shape_axis
    x = data.draw(xs.logits(shape, bound=1e3))
    kwargs = {"axis": axis, "keepdims": keepdims}
    assert_like_torch(xc.logsumexp(x, **kwargs), oracle.logsumexp(x, **kwargs), tol=F64, what="logsumexp")


@pytest.mark.parametrize(
    "x",
    [
        [-np.inf, -np.inf, -np.inf],  # log 0 = -inf
        [np.inf, 0.0, 1.0],  # +inf dominates
        [np.inf, -np.inf, 2.0],
        [-np.inf, 3.0, 4.0],  # an impossible class changes nothing
    ],
)
def test_logsumexp_with_infinite_entries_matches_torch(x):
    x = np.array(x)
    assert_like_torch(xc.logsumexp(x), oracle.logsumexp(x), tol=F64, what="logsumexp")


@pytest.mark.parametrize("function", ["softmax", "log_softmax"])
@QUICK
@given(
    shape_axis=_shape_and_axis(),
    temperature=st.sampled_from((1.0, 0.5, 2.0)) | st.floats(0.05, 20.0),
    data=st.data(),
)
def test_softmax_and_log_softmax_with_temperature_match_torch(function, shape_axis, temperature, data):
    shape, axis = shape_axis
    z = data.draw(xs.logits(shape))
    kwargs = {"axis": axis, "temperature": temperature}
    expected = getattr(oracle, function)(z, **kwargs)
    assert_like_torch(getattr(xc, function)(z, **kwargs), expected, tol=F64, what=function)


@pytest.mark.parametrize("function", ["sigmoid", "log_sigmoid"])
@QUICK
@given(data=st.data())
def test_sigmoid_and_log_sigmoid_match_torch(function, data):
    x = data.draw(xs.any_shapes(min_dims=0).flatmap(lambda shape: xs.logits(shape, bound=800.0)))
    assert_like_torch(getattr(xc, function)(x), getattr(oracle, function)(x), tol=F64, what=function)


# ---------------------------------------------------------------------------------------------- layouts and sizes


def _big_case(shape: tuple[int, ...], seed: int):
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=5.0, size=shape)
    target = rng.integers(0, shape[1], size=shape[:1] + shape[2:])
    target.reshape(-1)[::7] = -100
    return logits, target, rng.uniform(0.1, 3.0, size=shape[1])


@pytest.mark.parametrize(
    "shape",
    [
        pytest.param((100, 2000), id="many-classes"),  # 32 rows per cache block: crosses block boundaries
        pytest.param((40, 3000, 2), id="many-classes-K-dim"),
    ],
)
@pytest.mark.parametrize("reduction", xs.REDUCTIONS)
def test_cross_entropy_matches_torch_across_blocks(shape, reduction):
    logits, target, weight = _big_case(shape, seed=len(shape))
    kwargs = {"weight": weight, "reduction": reduction, "label_smoothing": 0.1}
    check_loss("cross_entropy", (logits, target), kwargs)
    check_loss("cross_entropy", (logits, np.abs(logits)), {"reduction": reduction})


def test_cross_entropy_matches_torch_when_split_across_threads():
    # Above 2**20 elements the rows are shared out to a thread pool; 'none' checks every row's loss.
    logits, target, weight = _big_case((2**18 + 3, 4), seed=0)
    check_loss("cross_entropy", (logits, target), {"weight": weight, "reduction": "none", "label_smoothing": 0.1})


@pytest.mark.parametrize(
    "view",
    [
        pytest.param(lambda z: z.T, id="transposed"),
        pytest.param(lambda z: z.T[::-1], id="negative-stride"),
        pytest.param(lambda z: z.T[:, ::2], id="strided-classes"),
    ],
)
def test_non_contiguous_logits_match_torch(view):
    z = view(np.random.default_rng(3).normal(scale=4.0, size=(6, 5)))  # (5, C) with odd strides
    c = z.shape[1]
    target = np.arange(len(z)) % c
    weight = np.linspace(0.5, 2.0, 2 * c)[::2]  # a strided weight too
    check_loss("cross_entropy", (z, target), {"weight": weight, "label_smoothing": 0.3})
    check_loss("cross_entropy", (z, np.abs(z)), {"weight": weight})
    check_loss("nll_loss", (z, target), {"weight": weight})
    check_loss("softmax_focal_loss", (z, target), {"alpha": weight})
    check_loss("mse_on_softmax", (z, target), {})
    check_loss("multi_margin_loss", (z, target), {"weight": weight})
    check_loss("binary_cross_entropy_with_logits", (z, np.abs(z) / 10), {"pos_weight": weight})
    assert_like_torch(xc.softmax(z), oracle.softmax(z), tol=F64, what="softmax")


# ---------------------------------------------------------------------------------------------- where torch says nan


def _rng_logits(*shape: int) -> np.ndarray:
    return np.random.default_rng(sum(shape) + len(shape)).normal(scale=3.0, size=shape)


_W4 = np.array([0.5, 2.0, 0.0, 1.5])
_ALL_IGNORED = [
    pytest.param((_rng_logits(3, 4), np.full(3, -100)), {}, id="N,C"),
    pytest.param((_rng_logits(4), np.array(-100)), {}, id="unbatched"),
    pytest.param((_rng_logits(2, 4, 3), np.full((2, 3), -100)), {"weight": _W4}, id="N,C,d1-weight"),
    pytest.param((_rng_logits(2, 4, 2, 3), np.full((2, 2, 3), 1)), {"ignore_index": 1}, id="N,C,d1,d2-ignore1"),
    pytest.param((_rng_logits(3, 4), np.full(3, -100)), {"weight": _W4, "label_smoothing": 0.3}, id="weight-smooth"),
    pytest.param((_rng_logits(3, 4), np.full(3, 1)), {"ignore_index": 1, "label_smoothing": 1.0}, id="smooth1"),
]


@pytest.mark.parametrize(("args", "kwargs"), _ALL_IGNORED)
def test_cross_entropy_mean_over_all_ignored_targets_is_nan_with_zero_gradient(args, kwargs):
    expected = oracle.cross_entropy_and_grad(*args, **kwargs)
    assert np.isnan(expected[0]), "torch's answer here is nan"
    assert (expected[1] == 0).all(), "torch's gradient here is zero"
    check_loss("cross_entropy", args, kwargs, expected=expected)


@pytest.mark.parametrize(("args", "kwargs"), [p for p in _ALL_IGNORED if "label_smoothing" not in p.values[1]])
def test_nll_loss_mean_over_all_ignored_targets_is_nan_with_zero_gradient(args, kwargs):
    expected = oracle.nll_loss_and_grad(*args, **kwargs)
    assert np.isnan(expected[0]), "torch's answer here is nan"
    check_loss("nll_loss", args, kwargs, expected=expected)


_EMPTY = np.zeros((0, 4))
_EMPTY_INDEX = np.zeros(0, dtype=np.int64)
_EMPTY_BATCHES = [
    pytest.param("cross_entropy", (_EMPTY, _EMPTY_INDEX), {}, id="cross_entropy-index"),
    pytest.param("cross_entropy", (_EMPTY, _EMPTY), {}, id="cross_entropy-probs"),
    pytest.param("cross_entropy", (np.zeros((0, 4, 2)), np.zeros((0, 2), dtype=np.int64)), {}, id="cross_entropy-Kdim"),
    pytest.param("cross_entropy", (_EMPTY, _EMPTY_INDEX), {"weight": _W4, "label_smoothing": 0.2}, id="ce-w-smooth"),
    pytest.param("nll_loss", (_EMPTY, _EMPTY_INDEX), {}, id="nll_loss"),
    pytest.param("binary_cross_entropy", (_EMPTY, _EMPTY), {}, id="binary_cross_entropy"),
    pytest.param("binary_cross_entropy_with_logits", (_EMPTY, _EMPTY), {}, id="bce_with_logits"),
    pytest.param("sigmoid_focal_loss", (_EMPTY, _EMPTY), {"reduction": "mean"}, id="sigmoid_focal_loss"),
    pytest.param("mse_loss", (_EMPTY, _EMPTY), {}, id="mse_loss"),
    pytest.param("mse_on_softmax", (_EMPTY, _EMPTY_INDEX), {}, id="mse_on_softmax"),
    pytest.param("sigmoid_distance_loss", (_EMPTY, _EMPTY_INDEX), {}, id="sigmoid_distance_loss"),
    pytest.param("softmax_focal_loss", (_EMPTY, _EMPTY_INDEX), {}, id="softmax_focal_loss"),
    pytest.param("kl_div", (_EMPTY, _EMPTY), {}, id="kl_div-mean"),
    pytest.param("kl_div", (_EMPTY, _EMPTY), {"reduction": "batchmean"}, id="kl_div-batchmean"),
    # multi_margin_loss is left out: torch returns uninitialised memory for an empty batch under 'mean'.
]


@pytest.mark.parametrize(("name", "args", "kwargs"), _EMPTY_BATCHES)
def test_mean_over_an_empty_batch_is_nan_with_empty_gradient(name, args, kwargs):
    expected = getattr(oracle, f"{name}_and_grad")(*args, **kwargs)
    assert np.isnan(expected[0]), "torch's answer here is nan"
    check_loss(name, args, kwargs, expected=expected)


@pytest.mark.parametrize("reduction", ["sum", "none"])
@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss", "softmax_focal_loss", "mse_on_softmax"])
def test_sum_and_none_over_an_empty_batch_match_torch(name, reduction):
    check_loss(name, (_EMPTY, _EMPTY_INDEX), {"reduction": reduction})


# ---------------------------------------------------------------------------------------------- known differences


@pytest.mark.parametrize(
    ("name", "label_smoothing"), [("cross_entropy", 0.0), ("cross_entropy", 0.2), ("nll_loss", None)]
)
def test_mean_with_zero_total_weight_is_nan_with_nan_gradient_in_counted_rows(name, label_smoothing):
    # The counted targets' weights sum to 0: torch's loss is 0 / 0 and its backward divides by 0 too,
    # so the counted rows' gradients are nan; the ignored row's stays 0.
    logits = np.array([[1.0, 2.0, 3.0], [0.5, 0.1, 0.2], [1.0, 1.0, 1.0]])
    target = np.array([0, 0, -100])
    kwargs = {"weight": np.array([0.0, 1.0, 2.0])}
    if label_smoothing is not None:
        kwargs["label_smoothing"] = label_smoothing
    check_loss(name, (logits, target), kwargs)
    value, grad = getattr(xc, f"{name}_and_grad")(logits, target, **kwargs)
    assert np.isnan(value)
    assert np.isnan(grad[:2]).any(axis=1).all()
    assert (grad[2] == 0).all()


# ---------------------------------------------------------------------------------------------- deliberate differences
# torch evaluates these expressions literally and multiplies 0 by inf at points where the quantity has
# a finite limit; xent_core returns the limit and says so in its docstring. Each test checks both
# sides, so that it fails if torch ever changes (and the docstring must then change too).


def test_softmax_focal_gradient_at_saturation_is_its_limit_where_torch_gives_nan():
    args, kwargs = (np.array([[30.0, -30.0]]), np.array([0])), {"gamma": 0.5}
    _, torch_grad = oracle.softmax_focal_loss_and_grad(*args, **kwargs)
    assert np.isnan(torch_grad).all()  # log_pt rounds to 0: 0.5 * 0 ** -0.5 = inf, times 0
    # The exact gradient is of the order of exp(-60) * sqrt(exp(-60)); in float64 that is 0.
    np.testing.assert_array_equal(xc.softmax_focal_loss_grad(*args, **kwargs), [[0.0, 0.0]])


@pytest.mark.parametrize("alpha", [0.25, 1.0, -1.0])
@pytest.mark.parametrize("z", [-40.0, -800.0, 40.0])
def test_sigmoid_focal_gradient_of_a_confident_entry_is_tiny_where_torch_gives_nan(alpha, z):
    # y = 0 and z << 0 (or y = 1 and z >> 0) is a confident, correct entry: its loss and gradient
    # vanish. torchvision's 1 - p_t rounds to 0, so torch's gradient is nan for 0 < gamma < 1.
    y = np.array([0.0 if z < 0 else 1.0])
    args, kwargs = (np.array([z]), y), {"alpha": alpha, "gamma": 0.5}
    _, torch_grad = oracle.sigmoid_focal_loss_and_grad(*args, **kwargs)
    assert np.isnan(torch_grad).all()
    value, grad = xc.sigmoid_focal_loss_and_grad(*args, **kwargs)
    # The exact values: 1 - p_t = q = sigmoid(-|z|), ce = softplus(-|z|) ~ q, loss = alpha_t q^1.5,
    # gradient ~ -+1.5 alpha_t q^1.5 (the modulator's term dominates).
    q = float(np.exp(-abs(z)))
    alpha_t = 1.0 if alpha < 0 else (alpha if y[0] == 1 else 1 - alpha)
    np.testing.assert_allclose(value, [alpha_t * q**1.5], rtol=1e-12, atol=0)
    np.testing.assert_allclose(grad, [np.sign(z) * -1.5 * alpha_t * q**1.5], rtol=1e-12, atol=0)


def test_kl_div_takes_zero_target_terms_as_zero_where_torch_gives_nan():
    # A target probability of 0 against a predicted log-probability of -inf: 0 * log(0 / 0) = 0 by the
    # definition's convention; torch computes xlogy(0, 0) - 0 * -inf = nan.
    args, kwargs = (np.array([-np.inf, 0.0]), np.array([0.0, 1.0])), {"reduction": "sum"}
    assert np.isnan(oracle.kl_div_and_grad(*args, **kwargs)[0])
    value, grad = xc.kl_div_and_grad(*args, **kwargs)
    assert value == 0.0
    np.testing.assert_array_equal(grad, [-0.0, -1.0])


def test_kl_div_with_log_target_takes_minus_inf_target_terms_as_zero_where_torch_gives_nan():
    args, kwargs = (np.array([-1.0, 0.0]), np.array([-np.inf, 0.0])), {"reduction": "sum", "log_target": True}
    assert np.isnan(oracle.kl_div_and_grad(*args, **kwargs)[0])  # exp(-inf) * (-inf + 1) = 0 * -inf
    value, grad = xc.kl_div_and_grad(*args, **kwargs)
    assert value == 0.0  # only the second term counts: exp(0) * (0 - 0)
    np.testing.assert_array_equal(grad, [-0.0, -1.0])


# ---------------------------------------------------------------------------------------------- float32 and float16

LOSS_CASES = {
    "cross_entropy-index": ("cross_entropy", cross_entropy_index_cases),
    "cross_entropy-probs": ("cross_entropy", cross_entropy_prob_cases),
    "nll_loss": ("nll_loss", nll_loss_cases),
    "binary_cross_entropy": ("binary_cross_entropy", binary_cross_entropy_cases),
    "binary_cross_entropy_with_logits": ("binary_cross_entropy_with_logits", binary_cross_entropy_with_logits_cases),
    "sigmoid_focal_loss": ("sigmoid_focal_loss", sigmoid_focal_loss_cases),
    "mse_loss": ("mse_loss", mse_loss_cases),
    "mse_on_softmax": ("mse_on_softmax", mse_on_softmax_cases),
    "sigmoid_distance_loss": ("sigmoid_distance_loss", sigmoid_distance_loss_cases),
    "multi_margin_loss": ("multi_margin_loss", multi_margin_loss_cases),
    "softmax_focal_loss": ("softmax_focal_loss", softmax_focal_loss_cases),
    "kl_div": ("kl_div", kl_div_cases),
}


def _expected_in(name: str, args: tuple, kwargs: dict, dtype) -> tuple[np.ndarray, np.ndarray]:
    if name == "multi_margin_loss" and dtype == np.float16:
        # torch has no half multi_margin kernel on the CPU: compute on the same (half-representable)
        # numbers in float32, as xent_core does for half input, and round the result to half.
        args32 = tuple(a.astype(np.float32) if a.dtype == np.float16 else a for a in args)
        return tuple(r.astype(np.float16) for r in oracle.multi_margin_loss_and_grad(*args32, **kwargs))
    return getattr(oracle, f"{name}_and_grad")(*args, **kwargs)


def low_precision_tolerance(name: str, dtype, args: tuple, kwargs: dict) -> dict:
    if dtype == np.float16:
        return F16
    if name in ("binary_cross_entropy_with_logits", "sigmoid_focal_loss"):
        # F32_BCE_LOGITS bounds each element's error; a 'sum' of n elements is within n times that.
        n = args[0].size if kwargs["reduction"] == "sum" else 1
        return {**F32_BCE_LOGITS, "atol": F32_BCE_LOGITS["atol"] * max(n, 1)}
    return F32


def check_low_precision(key: str, data, dtype) -> None:
    name, cases = LOSS_CASES[key]
    args, kwargs = data.draw(cases(dtype))
    expected = _expected_in(name, args, kwargs, dtype)
    if name in ("softmax_focal_loss", "sigmoid_focal_loss") and 0 < kwargs["gamma"] < 1:
        # d/db b ** gamma = gamma * b ** (gamma - 1) is inf at b = 1 - p_t = 0, and inf * 0 = nan. In
        # low precision 1 - p_t rounds to 0 already at moderate logits (|z| > 8 in half), at a slightly
        # different logit on each side (xent_core computes half in float32; torch's sigmoid and ours
        # differ by an ulp), so one side may be nan where the other is finite. Not a semantic difference.
        # (What each side returns exactly there, and xent_core's RuntimeWarning, are pinned by
        # test_sigmoid_focal_gradient_at_saturation_matches_torch.)
        with np.errstate(all="ignore"):
            grad = getattr(xc, f"{name}_grad")(*args, **kwargs)
        assume(np.isfinite(expected[1]).all() and np.isfinite(grad).all())
    tol = low_precision_tolerance(name, dtype, args, kwargs)
    check_loss(name, args, kwargs, tol=tol, expected=expected)


@pytest.mark.parametrize("key", LOSS_CASES)
@FEW
@given(data=st.data())
def test_every_loss_matches_torch_in_float32(key, data):
    check_low_precision(key, data, np.float32)


@pytest.mark.parametrize("key", LOSS_CASES)
@FEW
@given(data=st.data())
def test_every_loss_keeps_float16_and_stays_close_to_torch(key, data):
    check_low_precision(key, data, np.float16)


ACTIVATIONS = ["softmax", "log_softmax", "logsumexp", "sigmoid", "log_sigmoid", "entropy"]


@pytest.mark.parametrize("dtype", [np.float32, np.float16], ids=["float32", "float16"])
@pytest.mark.parametrize("function", ACTIVATIONS)
@FEW
@given(data=st.data())
def test_activations_keep_low_precision_dtypes_and_match_torch(function, dtype, data):
    shape = data.draw(xs.any_shapes(min_dims=1))
    lo = 0.0 if function == "entropy" else -xs.LOGIT_BOUND
    x = data.draw(xs.arrays(shape, lo, xs.LOGIT_BOUND, dtype=dtype))
    tol = F32 if dtype == np.float32 else F16
    assert_like_torch(getattr(xc, function)(x), getattr(oracle, function)(x), tol=tol, what=function)


@pytest.mark.parametrize("reduction", xs.REDUCTIONS)
@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("mse_loss", (np.full((4, 4, 4, 4), 21.0, np.float16), np.zeros((4, 4, 4, 4), np.float16))),
        ("binary_cross_entropy_with_logits", (np.full((64, 64), -30.0, np.float16), np.ones((64, 64), np.float16))),
        ("kl_div", (np.full((64, 64), -30.0, np.float16), np.ones((64, 64), np.float16))),
    ],
)
def test_float16_sums_beyond_half_range_are_inf_like_torch_and_means_stay_finite(name, args, reduction):
    # The elements fit in half but their sum does not (> 65504): torch accumulates in float, so 'mean'
    # is finite and only 'sum' is inf. Summing in half would overflow (and warn) for 'mean' too.
    expected = getattr(oracle, f"{name}_and_grad")(*args, reduction=reduction)
    check_loss(name, args, {"reduction": reduction}, tol=F16, expected=expected)
    assert np.isinf(expected[0]).any() == (reduction == "sum")
