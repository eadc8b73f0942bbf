"""Binary (sigmoid) losses: one independent yes/no decision per entry, for binary and multi-label targets.

Unlike softmax cross-entropy, nothing here makes the classes compete: every entry gets its own
sigmoid, so several classes can be likely at once (or none).
"""

from __future__ import annotations

import numpy as np

from xent_core import _shapes
from xent_core._reduction import check_reduction, grad_scale, reduce_to
from xent_core.activations import log_sigmoid, sigmoid
from xent_core.checks import (
    XentInputError,
    as_float_array,
    check_finite,
    check_same_shape,
    check_unit_interval,
)

_LOG_CLAMP = -100.0  # torch clamps log(p) and log(1 - p) at -100 so that p = 0 or 1 gives a finite loss
# torch's binary_cross_entropy backward divides by max(p (1 - p), EPSILON) with EPSILON = 1e-12 stored as a
# float32 (9.99999996e-13) whatever the input's dtype; using the same number keeps float64 gradients equal.
_GRAD_EPS = float(np.float32(1e-12))


def _prepare(x, target, name: str, reduction: str):
    check_reduction(reduction)
    arr = as_float_array(x, name)
    check_finite(arr, name, elementwise=True)
    tgt = as_float_array(target, "target")
    check_same_shape(arr, tgt, name, "target")
    check_finite(tgt, "target", elementwise=True)
    dtype = _shapes.compute_dtype(arr.dtype)
    return arr, arr.astype(dtype, copy=False), tgt.astype(dtype, copy=False)


def _broadcast_weight(weight, shape: tuple[int, ...], dtype: np.dtype, name: str) -> np.ndarray | None:
    if weight is None:
        return None
    w = as_float_array(weight, name)
    check_finite(w, name, elementwise=True)
    try:
        np.broadcast_shapes(w.shape, shape)
    except ValueError:
        raise XentInputError(f"{name} of shape {w.shape} does not broadcast to the input's shape {shape}") from None
    if np.broadcast_shapes(w.shape, shape) != shape:
        raise XentInputError(f"{name} of shape {w.shape} would enlarge the input's shape {shape}")
    return w.astype(dtype, copy=False)


def _finish(per_element: np.ndarray, grad: np.ndarray | None, reduction: str, out_dtype):
    loss = reduce_to(per_element, reduction, per_element.size, out_dtype)
    if grad is None:
        return loss, None
    return loss, (grad * grad_scale(reduction, per_element.size)).astype(out_dtype, copy=False)


def _bce(probs, target, weight, reduction, need_grad):
    orig, p, y = _prepare(probs, target, "probs", reduction)
    check_unit_interval(p, "probs")
    check_unit_interval(y, "target")
    w = _broadcast_weight(weight, p.shape, p.dtype, "weight")
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), _LOG_CLAMP)
        log_1mp = np.maximum(np.log1p(-p), _LOG_CLAMP)
    per = -(y * log_p + (1 - y) * log_1mp)
    grad = (p - y) / np.maximum(p * (1 - p), p.dtype.type(_GRAD_EPS)) if need_grad else None
    if w is not None:
        per = per * w
        grad = grad * w if need_grad else None
    return _finish(per, grad, reduction, orig.dtype)


def binary_cross_entropy(probs, target, *, weight=None, reduction: str = "mean"):
    """Binary cross-entropy between probabilities and targets in [0, 1], entry by entry.

    Math:   l = -w * (y * log(p) + (1 - y) * log(1 - p)), each log clamped at -100 (torch's choice,
            so that p = 0 or 1 gives 100 instead of inf). 'mean' averages over every entry.
    Shapes: probs any shape; target the same shape; weight broadcastable to it.
    Raises: XentInputError if probs or target leave [0, 1] (torch raises too), or shapes differ.
    Torch:  torch.nn.functional.binary_cross_entropy(probs, target, weight=weight, reduction=reduction)

    >>> round(float(binary_cross_entropy(np.array([0.5]), np.array([1.0]))), 6)  # log 2
    0.693147
    """
    return _bce(probs, target, weight, reduction, False)[0]


def binary_cross_entropy_and_grad(probs, target, *, weight=None, reduction: str = "mean"):
    """`binary_cross_entropy` and its gradient with respect to `probs` (it takes probabilities, not logits).

    Gradient: w * (p - y) / max(p * (1 - p), 1e-12), torch's formula with its clamp, times
    1 / numel for 'mean'. Differentiating through the probabilities is what makes this loss
    numerically fragile near 0 and 1; `binary_cross_entropy_with_logits` avoids it.
    Torch:  autograd of torch.nn.functional.binary_cross_entropy with respect to its input.
    """
    return _bce(probs, target, weight, reduction, True)


def binary_cross_entropy_grad(probs, target, *, weight=None, reduction: str = "mean") -> np.ndarray:
    """The gradient part of `binary_cross_entropy_and_grad`."""
    return _bce(probs, target, weight, reduction, True)[1]


def _bce_logits(logits, target, weight, pos_weight, reduction, need_grad):
    orig, z, y = _prepare(logits, target, "logits", reduction)
    w = _broadcast_weight(weight, z.shape, z.dtype, "weight")
    pw = _broadcast_weight(pos_weight, z.shape, z.dtype, "pos_weight")
    # -log sigmoid(z) and -log(1 - sigmoid(z)) = -log sigmoid(-z), both without overflow.
    if pw is None:
        per = -(y * log_sigmoid(z) + (1 - y) * log_sigmoid(-z))
    else:
        per = -(pw * y * log_sigmoid(z) + (1 - y) * log_sigmoid(-z))
    grad = None
    if need_grad:
        s = sigmoid(z)
        grad = s - y if pw is None else s * (pw * y + 1 - y) - pw * y
    if w is not None:
        per = per * w
        grad = grad * w if need_grad else None
    return _finish(per, grad, reduction, orig.dtype)


def binary_cross_entropy_with_logits(logits, target, *, weight=None, pos_weight=None, reduction: str = "mean"):
    """Sigmoid followed by binary cross-entropy, fused so that no logit overflows.

    Math:   l = -w * (pos_weight * y * log(sigmoid(z)) + (1 - y) * log(1 - sigmoid(z)))
            pos_weight > 1 makes missed positives cost more (class imbalance in multi-label data).
            'mean' averages over every entry.
    Shapes: logits any shape, usually (N, C) for C independent labels; target the same shape with
            values usually in [0, 1]; weight broadcastable to the logits; pos_weight broadcastable
            along the last axis, typically (C,).
    Torch:  torch.nn.functional.binary_cross_entropy_with_logits(logits, target, weight=weight,
                pos_weight=pos_weight, reduction=reduction)

    >>> round(float(binary_cross_entropy_with_logits(np.array([0.0]), np.array([1.0]))), 6)  # log 2
    0.693147
    """
    return _bce_logits(logits, target, weight, pos_weight, reduction, False)[0]


def binary_cross_entropy_with_logits_and_grad(logits, target, *, weight=None, pos_weight=None, reduction: str = "mean"):
    """`binary_cross_entropy_with_logits` and its gradient with respect to the logits.

    Gradient: w * (sigmoid(z) * (pos_weight * y + 1 - y) - pos_weight * y), which is
    w * (sigmoid(z) - y) without pos_weight; times 1 / numel for 'mean'.
    Torch:  autograd of torch.nn.functional.binary_cross_entropy_with_logits.
    """
    return _bce_logits(logits, target, weight, pos_weight, reduction, True)


def binary_cross_entropy_with_logits_grad(
    logits, target, *, weight=None, pos_weight=None, reduction: str = "mean"
) -> np.ndarray:
    """The gradient part of `binary_cross_entropy_with_logits_and_grad`."""
    return _bce_logits(logits, target, weight, pos_weight, reduction, True)[1]


def _sigmoid_focal(logits, target, alpha, gamma, reduction, need_grad):
    orig, z, y = _prepare(logits, target, "logits", reduction)
    gamma = float(gamma)
    if not (np.isfinite(gamma) and gamma >= 0):
        raise XentInputError(f"gamma must be a number >= 0; got {gamma}")
    alpha = float(alpha)
    p, q = sigmoid(z), sigmoid(-z)  # q = 1 - p without cancellation
    ce = -(y * log_sigmoid(z) + (1 - y) * log_sigmoid(-z))
    # 1 - p_t = 1 - (p y + (1 - p)(1 - y)) = p (1 - y) + (1 - p) y: a sum of non-negative terms, so it
    # keeps its precision where torchvision's 1 - p_t cancels to 0 (z = -40, y = 0 gives 4e-18, not 0).
    one_minus_pt = p * (1 - y) + q * y
    modulator = one_minus_pt**gamma
    per = ce * modulator
    alpha_t = alpha * y + (1 - alpha) * (1 - y) if alpha >= 0 else None
    if alpha_t is not None:
        per = alpha_t * per
    grad = None
    if need_grad:
        grad = (p * (1 - y) - q * y) * modulator  # p - y, without cancelling to 0 when p rounds to y
        if gamma != 0:
            # gamma (1 - p_t)^(gamma - 1) d(1 - p_t)/dz, with d(1 - p_t)/dz = (1 - 2y) p q. Where 1 - p_t
            # underflows to 0 (|z| > 745 in float64) the power is inf and the product is taken at its
            # limit, 0 (the factor p q vanishes faster), where torch's autograd gives nan.
            positive = one_minus_pt > 0
            safe = np.where(positive, one_minus_pt, 1)
            slope = np.where(positive, gamma * safe ** (gamma - 1) * ((1 - 2 * y) * p * q), 0)
            grad = grad + ce * slope
        if alpha_t is not None:
            grad = alpha_t * grad
    return _finish(per, grad, reduction, orig.dtype)


def sigmoid_focal_loss(logits, target, *, alpha: float = 0.25, gamma: float = 2.0, reduction: str = "none"):
    """Focal loss on independent sigmoids (RetinaNet): binary cross-entropy that fades on easy entries.

    Math:   p = sigmoid(z);  p_t = p * y + (1 - p) * (1 - y);  ce = BCE-with-logits(z, y)
            l = alpha_t * (1 - p_t)^gamma * ce,  alpha_t = alpha * y + (1 - alpha) * (1 - y)
            (alpha < 0 turns the alpha factor off). gamma = 0 and alpha < 0 give plain BCE.
            The defaults, including reduction='none', are torchvision's. 1 - p_t is computed as
            p (1 - y) + (1 - p) y, which equals torchvision's 1 - p_t to round-off but does not cancel
            to 0 on confident entries, so the gradient there is its (tiny) true value, not torch's nan.
    Shapes: logits any shape; target the same shape, in [0, 1].
    Torch:  torchvision.ops.sigmoid_focal_loss(logits, target, alpha=alpha, gamma=gamma, reduction=reduction)

    >>> round(float(sigmoid_focal_loss(np.array([0.0]), np.array([1.0]), alpha=-1, gamma=0)[0]), 6)  # plain BCE
    0.693147
    """
    return _sigmoid_focal(logits, target, alpha, gamma, reduction, False)[0]


def sigmoid_focal_loss_and_grad(logits, target, *, alpha: float = 0.25, gamma: float = 2.0, reduction: str = "none"):
    """`sigmoid_focal_loss` and its gradient with respect to the logits.

    Gradient: alpha_t * [(p - y) * (1 - p_t)^gamma + ce * gamma * (1 - p_t)^(gamma - 1) * d(1 - p_t)/dz],
    with d(1 - p_t)/dz = (1 - 2y) * p * (1 - p); times 1 / numel for 'mean'. Where 1 - p_t is exactly 0
    (only if p itself underflows) the second term is taken at its limit, 0; torch's autograd gives nan.
    Torch:  autograd of torchvision.ops.sigmoid_focal_loss.
    """
    return _sigmoid_focal(logits, target, alpha, gamma, reduction, True)


def sigmoid_focal_loss_grad(
    logits, target, *, alpha: float = 0.25, gamma: float = 2.0, reduction: str = "none"
) -> np.ndarray:
    """The gradient part of `sigmoid_focal_loss_and_grad`."""
    return _sigmoid_focal(logits, target, alpha, gamma, reduction, True)[1]
