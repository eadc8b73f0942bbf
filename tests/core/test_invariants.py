"""Invariants: what must hold between xent_core's own functions, whatever torch says.

Softmax ignores shifts and sums to one; cross-entropy is non-negative, equals log C for a uniform
guess, has gradient rows that sum to zero, is the same for class indices and their one-hot rows,
is entropy plus KL divergence, and is what focal loss becomes at gamma = 0. Bounded losses stay in
bounds, hinge loss goes exactly flat once every margin is met, and no function writes to its input.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import xent_core as xc
from tests.core import strategies as xs

# Two float64 routes to the same number (a different kernel, or the formula rearranged): they agree
# to a few ulps of the largest intermediate, and logits stay within +-30, well inside these bounds.
CLOSE = {"rtol": 1e-12, "atol": 1e-12}

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def rows_layout(x: np.ndarray) -> np.ndarray:
    """(C,) -> (1, C); (N, C, d1, ...) -> (N * d1 * ..., C): one sample per row, classes last."""
    return x[None, :] if x.ndim == 1 else np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


# ---------------------------------------------------------------------------------------------- softmax


@SETTINGS
@given(z=xs.logit_shapes().flatmap(xs.logits), shift=st.floats(-1e3, 1e3))
def test_softmax_is_shift_invariant(z, shift):
    axis = xs.class_axis(z.shape)
    # Adding `shift` rounds each logit by up to ulp(1e3) / 2 ~ 6e-14, which moves a probability by as much.
    np.testing.assert_allclose(xc.softmax(z + shift, axis=axis), xc.softmax(z, axis=axis), rtol=0, atol=1e-12)
    np.testing.assert_allclose(xc.log_softmax(z + shift, axis=axis), xc.log_softmax(z, axis=axis), rtol=0, atol=1e-12)


@SETTINGS
@given(z=xs.logit_shapes().flatmap(xs.logits), temperature=st.floats(0.05, 20.0))
def test_softmax_rows_are_positive_and_sum_to_one(z, temperature):
    axis = xs.class_axis(z.shape)
    p = xc.softmax(z, axis=axis, temperature=temperature)
    assert (p >= 0).all()
    np.testing.assert_allclose(p.sum(axis=axis), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.exp(xc.log_softmax(z, axis=axis, temperature=temperature)), p, **CLOSE)


# ---------------------------------------------------------------------------------------------- cross-entropy


@SETTINGS
@given(batch=xs.index_batches(min_classes=1), data=st.data())
def test_cross_entropy_is_non_negative_for_class_indices(batch, data):
    kwargs = {
        "weight": data.draw(xs.optional_class_weights(batch.num_classes)),
        "ignore_index": batch.ignore_index,
        "label_smoothing": data.draw(xs.label_smoothings()),
    }
    per_sample = xc.cross_entropy(batch.logits, batch.target, reduction="none", **kwargs)
    assert (per_sample >= 0).all()  # exact: log(sum exp(z - max)) >= 0 >= z_c - max, term by term


@SETTINGS
@given(batch=xs.prob_batches(min_classes=1, kinds=("softmax", "one_hot")), data=st.data())
def test_cross_entropy_is_non_negative_for_probability_targets(batch, data):
    kwargs = {
        "weight": data.draw(xs.optional_class_weights(batch.num_classes)),
        "label_smoothing": data.draw(xs.label_smoothings()),
    }
    per_sample = xc.cross_entropy(batch.logits, batch.target, reduction="none", **kwargs)
    # Softmax rows sum to 1 only up to round-off, so a loss that should be exactly 0 may come out as
    # -1e-15; the true value is >= 0.
    assert (per_sample >= -1e-12).all()


@SETTINGS
@given(
    shape=xs.logit_shapes(min_classes=1),
    value=xs.floats(),
    label_smoothing=xs.label_smoothings(),
    data=st.data(),
)
def test_cross_entropy_at_equal_logits_is_log_num_classes(shape, value, label_smoothing, data):
    z = np.full(shape, value)
    c = shape[xs.class_axis(shape)]
    target = data.draw(st.integers(0, c - 1).map(lambda t: np.full(xs.target_shape(shape), t)))
    probs, _ = data.draw(xs.prob_targets(shape, kinds=("softmax", "one_hot")))
    for tgt in (target, probs):
        loss = xc.cross_entropy(z, tgt, label_smoothing=label_smoothing)
        np.testing.assert_allclose(loss, np.log(c), **CLOSE)


@pytest.mark.parametrize("smoothing", ["none", "smoothed"])
@SETTINGS
@given(batch=xs.index_batches(min_classes=1), reduction=xs.reductions(), data=st.data())
def test_cross_entropy_gradient_rows_sum_to_zero(smoothing, batch, reduction, data):
    eps = data.draw(xs.label_smoothings()) if smoothing == "smoothed" else 0.0
    grad = xc.cross_entropy_grad(
        batch.logits, batch.target, ignore_index=batch.ignore_index, reduction=reduction, label_smoothing=eps
    )
    np.testing.assert_allclose(grad.sum(axis=xs.class_axis(grad.shape)), 0.0, rtol=0, atol=1e-12)


@SETTINGS
@given(batch=xs.index_batches(min_classes=1, ignore=False), reduction=xs.reductions(), eps=xs.label_smoothings())
def test_class_indices_equal_their_one_hot_probability_targets(batch, reduction, eps):
    one_hot = xs.one_hot(batch.target, batch.num_classes, xs.class_axis(batch.logits.shape))
    by_index = xc.cross_entropy_and_grad(batch.logits, batch.target, reduction=reduction, label_smoothing=eps)
    by_probs = xc.cross_entropy_and_grad(batch.logits, one_hot, reduction=reduction, label_smoothing=eps)
    np.testing.assert_allclose(by_index[0], by_probs[0], **CLOSE)
    np.testing.assert_allclose(by_index[1], by_probs[1], **CLOSE)


@SETTINGS
@given(batch=xs.index_batches(min_classes=1), reduction=xs.reductions(), data=st.data())
def test_label_smoothing_zero_is_plain_nll_of_log_softmax(batch, reduction, data):
    weight = data.draw(xs.optional_class_weights(batch.num_classes, allow_zero=False))
    kwargs = {"weight": weight, "ignore_index": batch.ignore_index, "reduction": reduction}
    smoothed_by_zero = xc.cross_entropy(batch.logits, batch.target, label_smoothing=0.0, **kwargs)
    np.testing.assert_array_equal(smoothed_by_zero, xc.cross_entropy(batch.logits, batch.target, **kwargs))
    log_probs = xc.log_softmax(batch.logits, axis=xs.class_axis(batch.logits.shape))
    np.testing.assert_allclose(smoothed_by_zero, xc.nll_loss(log_probs, batch.target, **kwargs), **CLOSE)


@SETTINGS
@given(batch=xs.index_batches(min_classes=1, ignore=False), eps=xs.label_smoothings(), data=st.data())
def test_label_smoothing_mixes_the_target_with_the_uniform_distribution(batch, eps, data):
    # Per sample (and so for 'sum'); 'mean' would divide by different denominators under weights.
    weight = data.draw(xs.optional_class_weights(batch.num_classes))
    c = batch.num_classes
    mixed = (1 - eps) * xs.one_hot(batch.target, c, xs.class_axis(batch.logits.shape)) + eps / c
    for reduction in ("none", "sum"):
        smoothed = xc.cross_entropy_and_grad(
            batch.logits, batch.target, weight=weight, reduction=reduction, label_smoothing=eps
        )
        by_mixture = xc.cross_entropy_and_grad(batch.logits, mixed, weight=weight, reduction=reduction)
        np.testing.assert_allclose(smoothed[0], by_mixture[0], **CLOSE)
        np.testing.assert_allclose(smoothed[1], by_mixture[1], **CLOSE)


@SETTINGS
@given(batch=xs.prob_batches(k_dims=(0,), unbatched=False, kinds=("softmax", "one_hot")))
def test_cross_entropy_is_entropy_plus_kl_divergence(batch):
    log_p = xc.log_softmax(batch.logits, axis=1)  # (N, C)
    y = batch.target  # (N, C), rows sum to 1
    # log_softmax(log p) = log p, so cross_entropy on log p as logits is H(y, p) = -sum_c y_c log p_c.
    cross = xc.cross_entropy(log_p, y, reduction="none")
    kl = np.array([xc.kl_div(log_p[n], y[n], reduction="sum") for n in range(len(y))])
    assert (kl >= -1e-12).all()  # KL >= 0, up to the rows' round-off from 1
    np.testing.assert_allclose(cross, xc.entropy(y) + kl, **CLOSE)


# ---------------------------------------------------------------------------------------------- focal


@SETTINGS
@given(batch=xs.index_batches(ignore=False), reduction=xs.reductions())
def test_softmax_focal_with_gamma_zero_and_no_alpha_is_cross_entropy(batch, reduction):
    focal = xc.softmax_focal_loss_and_grad(batch.logits, batch.target, gamma=0.0, alpha=None, reduction=reduction)
    cross = xc.cross_entropy_and_grad(batch.logits, batch.target, reduction=reduction)
    np.testing.assert_allclose(focal[0], cross[0], **CLOSE)
    np.testing.assert_allclose(focal[1], cross[1], **CLOSE)


@SETTINGS
@given(
    shape_and_arrays=xs.any_shapes().flatmap(lambda s: st.tuples(xs.logits(s), xs.binary_targets(s))),
    reduction=xs.reductions(),
)
def test_sigmoid_focal_with_gamma_zero_and_alpha_off_is_bce_with_logits(shape_and_arrays, reduction):
    z, y = shape_and_arrays
    focal = xc.sigmoid_focal_loss_and_grad(z, y, alpha=-1.0, gamma=0.0, reduction=reduction)
    bce = xc.binary_cross_entropy_with_logits_and_grad(z, y, reduction=reduction)
    np.testing.assert_allclose(focal[0], bce[0], **CLOSE)
    np.testing.assert_allclose(focal[1], bce[1], **CLOSE)


# ---------------------------------------------------------------------------------------------- bounded and flat losses


@SETTINGS
@given(batch=xs.index_batches(ignore=False))
def test_mse_on_softmax_is_at_most_two_over_num_classes(batch):
    per_sample = xc.mse_on_softmax(batch.logits, batch.target, reduction="none")
    assert (per_sample <= 2 / batch.num_classes).all()
    assert (per_sample >= 0).all()


@SETTINGS
@given(
    batch=xs.index_batches(k_dims=(0,), ignore=False),
    p=st.sampled_from((1, 2)),
    margin=st.floats(0.0, 5.0),
    gap=st.floats(1e-6, 10.0),
    data=st.data(),
)
def test_multi_margin_loss_is_exactly_zero_with_zero_gradient_once_every_margin_is_met(batch, p, margin, gap, data):
    z = rows_layout(batch.logits).copy()
    t = batch.target.reshape(-1)
    rows = np.arange(len(t))
    others = np.where(np.arange(batch.num_classes) == t[:, None], -np.inf, z)
    # Target logit at least `margin + gap` above every other; the gap absorbs the rounding of the sum.
    z[rows, t] = np.maximum(others.max(axis=1), -xs.LOGIT_BOUND) + margin + gap
    z = z.reshape(batch.logits.shape)
    weight = data.draw(xs.optional_class_weights(batch.num_classes))
    for reduction in xs.REDUCTIONS:
        loss, grad = xc.multi_margin_loss_and_grad(
            z, batch.target, p=p, margin=margin, weight=weight, reduction=reduction
        )
        assert (np.asarray(loss) == 0).all()
        assert (grad == 0).all()


# ---------------------------------------------------------------------------------------------- purity and shapes

_RNG = np.random.default_rng(7)
_Z = _RNG.normal(scale=4.0, size=(3, 4, 2))  # (N, C, d1)
_T = np.array([[0, 3], [-100, 1], [2, 2]])
_T_NO_IGNORE = np.array([[0, 3], [1, 1], [2, 2]])
_P = np.exp(_Z) / np.exp(_Z).sum(axis=1, keepdims=True)
_W = np.array([0.5, 2.0, 1.0, 1.5])
_Y01 = (_RNG.random(size=_Z.shape) > 0.5).astype(np.float64)

# (function, args, kwargs): every public function that takes arrays, with array-valued options.
_CALLS = [
    ("cross_entropy_and_grad", (_Z, _T), {"weight": _W, "label_smoothing": 0.2}),
    ("cross_entropy_and_grad", (_Z, _P), {"weight": _W, "label_smoothing": 0.2}),
    ("cross_entropy_and_grad", (_Z[:, :, 0], _T[:, 0]), {"weight": _W}),
    ("cross_entropy_and_grad", (_Z[:, :, 0], _P[:, :, 0]), {}),
    ("nll_loss_and_grad", (np.log(_P), _T), {"weight": _W}),
    ("nll_loss_and_grad", (np.log(_P[:, :, 0]), _T[:, 0]), {"weight": _W}),
    ("binary_cross_entropy_and_grad", (_P, _Y01), {"weight": _W[None, :, None]}),
    ("binary_cross_entropy_with_logits_and_grad", (_Z, _Y01), {"weight": _Z**2, "pos_weight": np.full(2, 3.0)}),
    ("sigmoid_focal_loss_and_grad", (_Z, _Y01), {"reduction": "mean"}),
    ("mse_loss_and_grad", (_Z, _P), {}),
    ("mse_on_softmax_and_grad", (_Z, _T_NO_IGNORE), {}),
    ("mse_on_softmax_and_grad", (_Z[:, :, 0], _P[:, :, 0]), {}),
    ("sigmoid_distance_loss_and_grad", (_Z, _Y01), {}),
    ("sigmoid_distance_loss_and_grad", (_Z[:, :, 0], _T_NO_IGNORE[:, 0]), {}),
    ("multi_margin_loss_and_grad", (_Z[:, :, 0], _T_NO_IGNORE[:, 0]), {"p": 2, "weight": _W}),
    ("softmax_focal_loss_and_grad", (_Z, _T_NO_IGNORE), {"alpha": _W}),
    ("softmax_focal_loss_and_grad", (_Z[:, :, 0], _T_NO_IGNORE[:, 0]), {"alpha": _W, "gamma": 0.5}),
    ("kl_div_and_grad", (np.log(_P), _P[::-1].copy()), {"reduction": "batchmean"}),
    ("kl_div_and_grad", (np.log(_P), np.log(_P[::-1])), {"log_target": True}),
    ("entropy", (_P,), {"axis": 1}),
    ("logsumexp", (_Z,), {"axis": 1}),
    ("softmax", (_Z,), {"axis": 1, "temperature": 2.0}),
    ("softmax", (_Z[:, :, 0],), {}),
    ("log_softmax", (_Z,), {"axis": 1, "temperature": 0.5}),
    ("log_softmax", (_Z[:, :, 0],), {}),
    ("sigmoid", (_Z,), {}),
    ("log_sigmoid", (_Z,), {}),
    ("cross_entropy_trace", (_Z[:, :, 0], _T[:, 0]), {"weight": _W, "temperature": 2.0}),
]


def _arrays_in(args: tuple, kwargs: dict) -> list[np.ndarray]:
    return [a for a in (*args, *kwargs.values()) if isinstance(a, np.ndarray)]


def _cast(x, dtype):
    return x.astype(dtype) if isinstance(x, np.ndarray) and x.dtype.kind == "f" else x


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16], ids=["float64", "float32", "float16"])
@pytest.mark.parametrize(("function", "args", "kwargs"), _CALLS, ids=[c[0] for c in _CALLS])
def test_inputs_are_never_mutated(function, args, kwargs, dtype):
    args = tuple(_cast(a, dtype) for a in args)
    kwargs = {k: _cast(v, dtype) for k, v in kwargs.items()}
    before = [a.copy() for a in _arrays_in(args, kwargs)]
    getattr(xc, function)(*args, **kwargs)
    for original, after in zip(before, _arrays_in(args, kwargs), strict=True):
        np.testing.assert_array_equal(after, original)


@pytest.mark.parametrize(("function", "args", "kwargs"), _CALLS, ids=[c[0] for c in _CALLS])
def test_read_only_inputs_are_accepted(function, args, kwargs):
    # The presets hold read-only arrays; any attempt to write into an input would raise here.
    args = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)
    kwargs = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    for a in _arrays_in(args, kwargs):
        a.setflags(write=False)
    getattr(xc, function)(*args, **kwargs)


_GRAD_FUNCTIONS = {
    "cross_entropy_grad": lambda b: (b.logits, b.target),
    "nll_loss_grad": lambda b: (b.logits, b.target),
    "mse_on_softmax_grad": lambda b: (b.logits, b.target),
    "sigmoid_distance_loss_grad": lambda b: (b.logits, b.target),
    "softmax_focal_loss_grad": lambda b: (b.logits, b.target),
    "multi_margin_loss_grad": lambda b: (b.logits, b.target),
    "binary_cross_entropy_with_logits_grad": lambda b: (b.logits, np.zeros_like(b.logits)),
    "sigmoid_focal_loss_grad": lambda b: (b.logits, np.ones_like(b.logits)),
    "mse_loss_grad": lambda b: (b.logits, np.zeros_like(b.logits)),
    "binary_cross_entropy_grad": lambda b: (xc.sigmoid(b.logits), np.ones_like(b.logits)),
    "kl_div_grad": lambda b: (xc.log_softmax(b.logits), np.full_like(b.logits, 0.25)),
}


@pytest.mark.parametrize("function", _GRAD_FUNCTIONS)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    batch=xs.index_batches(ignore=False, dtype=np.float32) | xs.index_batches(ignore=False),
    reduction=xs.reductions(),
)
def test_gradient_has_the_shape_and_dtype_of_the_input(function, batch, reduction):
    if function == "multi_margin_loss_grad":
        assume(batch.logits.ndim <= 2)  # torch defines it for (C,) and (N, C) only
    grad = getattr(xc, function)(*_GRAD_FUNCTIONS[function](batch), reduction=reduction)
    assert grad.shape == batch.logits.shape
    assert grad.dtype == batch.logits.dtype
