"""Numerical stability: huge logits give finite results that equal torch's, where a naive formula overflows.

Each extreme input is also fed to the textbook formula exp(z) / sum(exp(z)) to show that it really
is extreme: a naive implementation would fail these tests.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import xent_core as xc


def extreme(scale: float, dtype) -> np.ndarray:
    """(4, 3) logits with entries of +-scale, mixed with ordinary values; every row has a different winner."""
    base = np.array([[1.0, 0.0, -1.0], [-1.0, 1.0, 0.0], [0.0, -1.0, 1.0], [1.0, 1.0, -1.0]])
    small = np.array([[0.0, 2.0, 0.0], [0.5, 0.0, -3.0], [1.0, 0.0, 0.0], [0.0, 0.0, 7.0]])
    return (base * scale + small).astype(dtype)


TARGET = np.array([1, 0, 2, 2])  # several targets sit on a -scale logit: the loss is about 2 * scale
CASES = [
    pytest.param(1e4, np.float64, id="1e4-float64"),
    pytest.param(1e30, np.float64, id="1e30-float64"),
    pytest.param(1e4, np.float32, id="1e4-float32"),
]
REDUCTIONS = ("none", "mean", "sum")


def tol(dtype) -> dict:
    # float32: both sides round in single precision, but in different orders
    return {"rtol": 1e-6, "atol": 0} if dtype == np.float32 else {"rtol": 1e-12, "atol": 0}


def naive_softmax(z: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize(("scale", "dtype"), CASES)
def test_the_naive_softmax_breaks_on_these_logits(scale, dtype):
    """Shows the inputs are extreme enough that a naive implementation would fail the tests below."""
    assert not np.isfinite(naive_softmax(extreme(scale, dtype))).all()


@pytest.mark.parametrize(("scale", "dtype"), CASES)
def test_softmax_is_finite_and_equals_torch(scale, dtype):
    z = extreme(scale, dtype)
    ours = xc.softmax(z)
    assert ours.dtype == dtype
    assert np.isfinite(ours).all()
    np.testing.assert_allclose(ours.sum(axis=1), 1.0, **tol(dtype))
    np.testing.assert_allclose(ours, torch.softmax(torch.tensor(z), 1).numpy(), **tol(dtype))


@pytest.mark.parametrize(("scale", "dtype"), CASES)
def test_log_softmax_is_finite_and_equals_torch(scale, dtype):
    z = extreme(scale, dtype)
    ours = xc.log_softmax(z)
    assert ours.dtype == dtype
    assert np.isfinite(ours).all()
    np.testing.assert_allclose(ours, torch.log_softmax(torch.tensor(z), 1).numpy(), **tol(dtype))


@pytest.mark.parametrize(("scale", "dtype"), CASES)
def test_logsumexp_is_finite_and_equals_torch(scale, dtype):
    z = extreme(scale, dtype)
    ours = xc.logsumexp(z, axis=1)
    assert np.isfinite(ours).all()
    np.testing.assert_allclose(ours, torch.logsumexp(torch.tensor(z), 1).numpy(), **tol(dtype))
    with np.errstate(over="ignore"):
        assert not np.isfinite(np.log(np.exp(z).sum(axis=1))).all()  # the naive formula overflows


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("scale", "dtype"), CASES)
def test_cross_entropy_and_grad_are_finite_and_equal_torch(scale, dtype, reduction):
    z = extreme(scale, dtype)
    loss, grad = xc.cross_entropy_and_grad(z, TARGET, reduction=reduction)
    assert np.isfinite(loss).all()
    assert np.isfinite(grad).all()
    zt = torch.tensor(z, requires_grad=True)
    expected = F.cross_entropy(zt, torch.tensor(TARGET), reduction=reduction)
    expected.sum().backward()
    np.testing.assert_allclose(loss, expected.detach().numpy(), **tol(dtype))
    np.testing.assert_allclose(grad, zt.grad.numpy(), **tol(dtype), err_msg="gradient")
    np.testing.assert_allclose(xc.cross_entropy(z, TARGET, reduction=reduction), loss, rtol=0, atol=0)


@pytest.mark.parametrize(("scale", "dtype"), CASES)
def test_confidently_wrong_loss_grows_with_the_logit_gap(scale, dtype):
    """Row 1 puts -scale + 0.5 on its target and +scale on the winner: the loss is the gap, 2 * scale - 0.5."""
    per_sample = xc.cross_entropy(extreme(scale, dtype), TARGET, reduction="none")
    np.testing.assert_allclose(per_sample[1], 2 * scale - 0.5, rtol=1e-6)
    np.testing.assert_allclose(per_sample[0], scale - 2, rtol=1e-6)  # target 2 below the winner


@pytest.mark.parametrize(("scale", "dtype"), CASES)
def test_probability_targets_stay_finite_and_equal_torch(scale, dtype):
    z = extreme(scale, dtype)
    soft = np.full(z.shape, 1 / 3, dtype=dtype)
    loss, grad = xc.cross_entropy_and_grad(z, soft)
    zt = torch.tensor(z, requires_grad=True)
    expected = F.cross_entropy(zt, torch.tensor(soft))
    expected.backward()
    assert np.isfinite(loss)
    assert np.isfinite(grad).all()
    np.testing.assert_allclose(loss, expected.item(), **tol(dtype))
    np.testing.assert_allclose(grad, zt.grad.numpy(), **tol(dtype))


SIGMOID_INPUTS = [
    pytest.param(np.array([-1e4, -800.0, -30.0, 0.0, 30.0, 800.0, 1e4]), id="float64"),
    pytest.param(np.array([-1e4, -800.0, -30.0, 0.0, 30.0, 800.0, 1e4], dtype=np.float32), id="float32"),
]


@pytest.mark.parametrize("x", SIGMOID_INPUTS)
def test_sigmoid_at_extremes_equals_torch(x):
    ours = xc.sigmoid(x)
    assert ours.dtype == x.dtype
    np.testing.assert_allclose(ours, torch.sigmoid(torch.tensor(x)).numpy(), **tol(x.dtype))
    assert ours[0] == 0.0
    assert ours[-1] == 1.0
    with np.errstate(over="ignore"):
        assert np.isinf(np.exp(-x)).any()  # 1 / (1 + exp(-x)) goes through inf here


@pytest.mark.parametrize("x", SIGMOID_INPUTS)
def test_log_sigmoid_at_extremes_equals_torch(x):
    ours = xc.log_sigmoid(x)
    assert np.isfinite(ours).all()
    np.testing.assert_allclose(ours, F.logsigmoid(torch.tensor(x)).numpy(), **tol(x.dtype))
    np.testing.assert_allclose(ours[0], -1e4, rtol=1e-12)  # log sigmoid(-x) -> -x, not log(0) = -inf
    with np.errstate(over="ignore", divide="ignore"):
        naive = np.log(1 / (1 + np.exp(-x)))
    assert not np.isfinite(naive).all()


@pytest.mark.parametrize("x", SIGMOID_INPUTS)
def test_binary_cross_entropy_with_logits_at_extremes_equals_torch(x):
    y = np.tile(np.array([0.0, 1.0], dtype=x.dtype), len(x))[: len(x)]
    loss, grad = xc.binary_cross_entropy_with_logits_and_grad(x, y, reduction="sum")
    xt = torch.tensor(x, requires_grad=True)
    expected = F.binary_cross_entropy_with_logits(xt, torch.tensor(y), reduction="sum")
    expected.backward()
    assert np.isfinite(loss)
    assert np.isfinite(grad).all()
    np.testing.assert_allclose(loss, expected.item(), **tol(x.dtype))
    np.testing.assert_allclose(grad, xt.grad.numpy(), **tol(x.dtype))
