"""Cross-entropy and negative log-likelihood, with their gradients, exactly as torch defines them.

cross_entropy(z, y) = nll_loss(log_softmax(z), y): torch's "cross-entropy" takes raw scores
(logits), not probabilities. Everything about it lives in `cross_entropy`'s docstring.

The kernels work on rows of (M, C) and, for large inputs, in blocks of rows that fit in cache:
the logits are read once and the gradient written once, which is why numpy keeps up with torch.
"""

from __future__ import annotations

import numpy as np

from xent_core import _shapes
from xent_core._batch import LogitBatch, index_target_weights
from xent_core._parallel import run_blocks
from xent_core._reduction import check_reduction, grad_scale, reduce
from xent_core.checks import (
    XentInputError,
    as_float_array,
    check_class_weight,
    check_finite,
    check_label_smoothing,
    check_targets,
)

_BLOCK_BYTES = 1 << 19  # rows per block: ~512 KiB of logits, so a block's several passes stay in L2


def _block_rows(num_classes: int, itemsize: int) -> int:
    return max(1, _BLOCK_BYTES // max(1, num_classes * itemsize))


class _Problem(LogitBatch):
    """Validated cross-entropy input: a LogitBatch plus the class weight and label smoothing."""

    def __init__(self, logits, target, weight, ignore_index, reduction, label_smoothing):
        super().__init__(logits, target, reduction, ignore_index=int(ignore_index))
        self.weight = check_class_weight(weight, self.num_classes, self.dtype)
        self.label_smoothing = check_label_smoothing(label_smoothing)


def _ce_index(prob: _Problem, need_grad: bool):
    z = prob.rows
    m, c = z.shape
    dt = prob.dtype.type
    eps = prob.label_smoothing
    w = prob.weight
    valid, safe, w_t = index_target_weights(prob.target_rows, w, prob.ignore_index, prob.dtype)
    denominator = float(w_t.sum(dtype=np.float64)) if prob.reduction == "mean" else 1.0
    coef = grad_scale(prob.reduction, denominator, any_valid=bool(valid.any()))
    w_total = dt(c) if w is None else w.sum()

    per_sample = np.empty(m, dtype=prob.dtype)
    grad = np.empty_like(z) if need_grad else None
    # Row scale and target subtraction of the gradient (see the formula in cross_entropy_grad).
    row_scale = dt(coef) * ((dt(1 - eps)) * w_t + dt(eps / c) * w_total * valid)
    target_sub = dt(coef * (1 - eps)) * w_t
    smooth_sub = dt(coef * eps / c) * valid
    if np.isnan(coef):  # weights of the counted targets sum to 0: nan rows, ignored rows stay 0 (as torch)
        row_scale, target_sub, smooth_sub = (
            np.where(valid, a, 0).astype(prob.dtype) for a in (row_scale, target_sub, smooth_sub)
        )

    def block(lo: int, hi: int) -> None:
        zb = z[lo:hi]
        rows = np.arange(hi - lo)
        g = grad[lo:hi] if need_grad else np.empty_like(zb)
        zmax = zb.max(axis=1)
        np.subtract(zb, zmax[:, None], out=g)  # g = z - max: at most 0, so exp below cannot overflow
        picked = g[rows, safe[lo:hi]]  # z_t - max
        if eps > 0:
            shifted_dot = g.sum(axis=1) if w is None else g @ w  # sum_c w_c (z_c - max)
        np.exp(g, out=g)
        s = g.sum(axis=1)
        log_s = np.log(s)
        per = w_t[lo:hi] * (log_s - picked)  # w_t * (-log p_t)
        if eps > 0:
            smooth = (w_total * log_s - shifted_dot) * valid[lo:hi]  # -sum_c w_c log p_c
            per = dt(1 - eps) * per + dt(eps / c) * smooth
        per_sample[lo:hi] = per
        if need_grad:
            g *= (row_scale[lo:hi] / s)[:, None]
            g[rows, safe[lo:hi]] -= target_sub[lo:hi]
            if eps > 0:
                g -= smooth_sub[lo:hi, None] if w is None else smooth_sub[lo:hi, None] * w[None, :]

    run_blocks(block, m, _block_rows(c, z.itemsize), work=m * c)
    return per_sample, denominator, grad


def _ce_probs(prob: _Problem, need_grad: bool):
    z = prob.rows
    m, c = z.shape
    dt = prob.dtype.type
    eps = prob.label_smoothing
    y = prob.target_rows
    if eps > 0:
        y = dt(1 - eps) * y + dt(eps / c)
    wy = y if prob.weight is None else y * prob.weight[None, :]  # (M, C)
    wy_sum = wy.sum(axis=1)  # (M,)
    denominator = float(m)
    coef = grad_scale(prob.reduction, denominator)

    zmax = z.max(axis=1, keepdims=True)
    g = z - zmax
    shifted_dot = np.einsum("ij,ij->i", g, wy)  # sum_c w_c y_c (z_c - max)
    np.exp(g, out=g)
    s = g.sum(axis=1)
    log_s = np.log(s)
    per_sample = wy_sum * log_s - shifted_dot  # -sum_c w_c y_c log p_c
    grad = None
    if need_grad:
        g *= (dt(coef) * wy_sum / s)[:, None]
        g -= dt(coef) * wy
        grad = g
    return per_sample, denominator, grad


def _cross_entropy(logits, target, weight, ignore_index, reduction, label_smoothing, need_grad):
    prob = _Problem(logits, target, weight, ignore_index, reduction, label_smoothing)
    kernel = _ce_index if prob.kind == "index" else _ce_probs
    per_sample, denominator, grad = kernel(prob, need_grad)
    loss = prob.finish_loss(per_sample, denominator)
    return loss, (prob.finish_grad(grad) if need_grad else None)


def cross_entropy(
    logits, target, *, weight=None, ignore_index: int = -100, reduction: str = "mean", label_smoothing: float = 0.0
):
    """Cross-entropy between the softmax of `logits` and the target, exactly as torch computes it.

    Math (class-index target t_n, per-class weight w, smoothing eps, C classes; p = softmax(z_n)):
        l_n = (1 - eps) * w[t_n] * (-log p[t_n])  +  (eps / C) * sum_c w[c] * (-log p[c])
        l_n = 0 where t_n == ignore_index.
        'mean' divides sum_n l_n by sum_n w[t_n] over the non-ignored samples (not by N!), so with
        class weights the mean is a weighted average; if every target is ignored it is 0/0 = nan.
        The smoothing term is weighted by w[c] of every class but divided by the same denominator,
        which is torch's choice (aten cross_entropy_loss_label_smoothing).
    Math (class-probability target y_n, same shape as the logits):
        y'_n = (1 - eps) * y_n + eps / C;   l_n = -sum_c w[c] * y'_n[c] * log p[c]
        'mean' divides by the number of samples (N * d1 * ... * dk), whatever the weights.
        Targets need not sum to 1 and may be negative: torch accepts them, and so does this.
    Shapes: logits (C,), (N, C) or (N, C, d1, ..., dk); target (), (N,), (N, d1, ..., dk) of
        integers, or exactly the logits' shape of floats (probabilities). 'none' returns the
        per-sample losses in the target-index shape; 'mean' and 'sum' return a scalar.
    Dtypes: the result has the logits' dtype; `weight` is cast to it (torch insists they match).
    Raises: XentInputError for NaN/inf logits (torch returns nan), targets out of range, wrong
        shapes, integer logits, an ignore_index >= 0 with probability targets, label_smoothing
        outside [0, 1] (torch silently treats a negative value as 0; this refuses it).
    Torch:  torch.nn.functional.cross_entropy(logits, target, weight=weight, ignore_index=ignore_index,
                reduction=reduction, label_smoothing=label_smoothing)

    >>> round(float(cross_entropy(np.array([[0.0, 0.0, 0.0, 0.0]]), np.array([2]))), 6)  # log 4
    1.386294
    """
    return _cross_entropy(logits, target, weight, ignore_index, reduction, label_smoothing, False)[0]


def cross_entropy_and_grad(
    logits, target, *, weight=None, ignore_index: int = -100, reduction: str = "mean", label_smoothing: float = 0.0
):
    """`cross_entropy` and its gradient with respect to the logits, sharing one softmax.

    Gradient of the reduced loss (for 'none', of the sum of the per-sample losses), per sample:
        index targets: d l_n / d z_n = (1 - eps) * w[t_n] * (p - onehot(t_n)) + (eps / C) * (W * p - w)
                       with W = sum_c w[c] (W = C, w = 1 without weights); zero for ignored samples
        prob. targets: d l_n / d z_n = p * sum_c (w y')_c - w * y'
        then times 1 / denominator for 'mean' (the same denominator as the loss).
    Without weights or smoothing this is the familiar p - onehot(t): the target's logit is pushed
    up by 1 - p_t, every other logit down by its own probability; each row sums to zero.
    Torch:  z = torch.tensor(logits, requires_grad=True); F.cross_entropy(z, target, ...).backward(); z.grad
            (for reduction='none': F.cross_entropy(z, target, reduction='none').sum().backward())

    Returns (loss, grad) with grad of the logits' shape and dtype.
    """
    return _cross_entropy(logits, target, weight, ignore_index, reduction, label_smoothing, True)


def cross_entropy_grad(
    logits, target, *, weight=None, ignore_index: int = -100, reduction: str = "mean", label_smoothing: float = 0.0
) -> np.ndarray:
    """The gradient part of `cross_entropy_and_grad` (see there for the formula)."""
    return _cross_entropy(logits, target, weight, ignore_index, reduction, label_smoothing, True)[1]


def _nll(log_probs, target, weight, ignore_index, reduction, need_grad):
    check_reduction(reduction)
    x = as_float_array(log_probs, "log_probs")
    if x.ndim == 0:
        raise XentInputError("log_probs need a class dimension: shape (C,), (N, C) or (N, C, d1, ...); got a scalar")
    check_finite(x, "log_probs", allow_neg_inf=True)  # log(0) = -inf is a legitimate log-probability
    dtype = _shapes.compute_dtype(x.dtype)
    c = _shapes.num_classes(x)
    targets = check_targets(x, target, ignore_index=ignore_index, allow_probs=False)
    w = check_class_weight(weight, c, dtype)
    t = _shapes.targets_to_rows(targets.values)
    rows = _shapes.to_rows(x, dtype)
    valid, safe, w_t = index_target_weights(t, w, ignore_index, dtype)
    picked = rows[np.arange(len(t)), safe]
    with np.errstate(invalid="ignore"):
        per_sample = np.where(valid, -w_t * picked, 0).astype(dtype)
    denominator = float(w_t.sum(dtype=np.float64)) if reduction == "mean" else 1.0
    target_shape = x.shape[:1] + x.shape[2:] if x.ndim > 1 else ()
    per_sample = per_sample.astype(x.dtype, copy=False)
    loss = per_sample.reshape(target_shape) if reduction == "none" else reduce(per_sample, reduction, denominator)
    if not need_grad:
        return loss, None
    grad_rows = np.zeros_like(rows)
    scale = grad_scale(reduction, denominator, any_valid=bool(valid.any()))
    grad_rows[np.arange(len(t)), safe] = np.where(valid, -dtype.type(scale) * w_t, 0)
    return loss, _shapes.from_rows(grad_rows, x.shape).astype(x.dtype, copy=False)


def nll_loss(log_probs, target, *, weight=None, ignore_index: int = -100, reduction: str = "mean"):
    """Negative log-likelihood: minus the log-probability of the target class, optionally weighted.

    Math:   l_n = -w[t_n] * log_probs[n, t_n];  0 where t_n == ignore_index.
            'mean' divides by sum_n w[t_n] over non-ignored samples (nan if there are none).
            It does no softmax: `log_probs` must already be log-probabilities. Feed it
            log(probs) when you have probabilities (the forum fix that turns 0.9488 into 2.8824).
    Shapes: log_probs (C,), (N, C) or (N, C, d1, ..., dk); target (), (N,) or (N, d1, ..., dk).
            -inf entries (log 0) are allowed; NaN and +inf are refused.
    Torch:  torch.nn.functional.nll_loss(log_probs, target, weight=weight, ignore_index=ignore_index,
                reduction=reduction)

    >>> float(nll_loss(np.log(np.array([[0.25, 0.75]])), np.array([1])))  # -log 0.75
    0.2876820724517809
    """
    return _nll(log_probs, target, weight, ignore_index, reduction, False)[0]


def nll_loss_and_grad(log_probs, target, *, weight=None, ignore_index: int = -100, reduction: str = "mean"):
    """`nll_loss` and its gradient with respect to `log_probs`.

    Gradient: -w[t_n] at the target entry of each non-ignored sample, 0 elsewhere, times
    1 / denominator for 'mean'. ('none': the gradient of the sum.)
    Torch:  autograd of torch.nn.functional.nll_loss with respect to its input.
    """
    return _nll(log_probs, target, weight, ignore_index, reduction, True)


def nll_loss_grad(log_probs, target, *, weight=None, ignore_index: int = -100, reduction: str = "mean") -> np.ndarray:
    """The gradient part of `nll_loss_and_grad`."""
    return _nll(log_probs, target, weight, ignore_index, reduction, True)[1]
