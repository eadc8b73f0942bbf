"""The losses people try instead of cross-entropy, so that they can be compared on the same logits.

Each takes the same (logits, target) pair as `cross_entropy` and returns per-sample values for
reduction='none', so a table can put them side by side. What each does with a confidently wrong
prediction is the point of comparing them: cross-entropy's gradient stays near 1 there, while
the gradients of MSE on probabilities and of the sigmoid distance vanish.
"""

from __future__ import annotations

import numpy as np

from xent_core import _shapes
from xent_core._batch import LogitBatch
from xent_core._reduction import check_reduction, grad_scale, reduce_to
from xent_core.activations import log_softmax, sigmoid
from xent_core.checks import (
    XentInputError,
    as_float_array,
    check_class_weight,
    check_finite,
    check_logits,
    check_same_shape,
)


class _Rows(LogitBatch):
    """A LogitBatch with targets as (M, C) probability rows `y` (one-hot for class indices), no ignore_index."""

    def __init__(self, logits, target, reduction: str, *, allow_probs: bool = True):
        super().__init__(logits, target, reduction, ignore_index=None, allow_probs=allow_probs)
        self.index = self.target_rows if self.kind == "index" else None
        self.y = self.one_hot_rows()

    def finish(self, per_sample: np.ndarray, grad_rows: np.ndarray | None):
        """Reduce over samples ('mean' divides by M) and scale the row gradient to match."""
        m = per_sample.shape[0]
        loss = self.finish_loss(per_sample, m)
        if grad_rows is None:
            return loss, None
        return loss, self.finish_grad(grad_rows * self.dtype.type(grad_scale(self.reduction, m)))


# ---------------------------------------------------------------------------------------------- MSE


def _mse(x, target, reduction, need_grad):
    check_reduction(reduction)
    arr = as_float_array(x, "input")
    check_finite(arr, "input", elementwise=True)
    tgt = as_float_array(target, "target")
    check_same_shape(arr, tgt, "input", "target")  # torch broadcasts with a warning; mismatched shapes are a bug
    check_finite(tgt, "target", elementwise=True)
    dtype = _shapes.compute_dtype(arr.dtype)
    diff = arr.astype(dtype, copy=False) - tgt.astype(dtype, copy=False)
    loss = reduce_to(diff * diff, reduction, diff.size, arr.dtype)
    if not need_grad:
        return loss, None
    return loss, (2 * grad_scale(reduction, diff.size) * diff).astype(arr.dtype, copy=False)


def mse_loss(input, target, *, reduction: str = "mean"):
    """Mean squared error, entry by entry: torch's mse_loss.

    Math:   l = (x - y)^2 per entry; 'mean' averages over every entry.
    Shapes: input any shape; target exactly the same shape (torch would broadcast, with a warning).
    Torch:  torch.nn.functional.mse_loss(input, target, reduction=reduction)

    >>> float(mse_loss(np.array([1.0, 3.0]), np.array([0.0, 0.0])))  # (1 + 9) / 2
    5.0
    """
    return _mse(input, target, reduction, False)[0]


def mse_loss_and_grad(input, target, *, reduction: str = "mean"):
    """`mse_loss` and its gradient 2 (x - y) with respect to `input` (over numel for 'mean')."""
    return _mse(input, target, reduction, True)


def mse_loss_grad(input, target, *, reduction: str = "mean") -> np.ndarray:
    """The gradient part of `mse_loss_and_grad`."""
    return _mse(input, target, reduction, True)[1]


def _mse_softmax(logits, target, reduction, need_grad):
    r = _Rows(logits, target, reduction)
    c = r.num_classes
    p = np.exp(log_softmax(r.rows, axis=1))
    diff = p - r.y
    per_sample = (diff * diff).sum(axis=1) / c
    grad = None
    if need_grad:
        a = 2 * diff / c  # d l_n / d p
        grad = p * (a - (p * a).sum(axis=1, keepdims=True))  # through the softmax Jacobian
    return r.finish(per_sample, grad)


def mse_on_softmax(logits, target, *, reduction: str = "mean"):
    """Squared error between softmax probabilities and the one-hot target: the "why not MSE?" loss.

    Math:   p = softmax(z_n), y = onehot(t_n) (or the given probabilities)
            l_n = (1 / C) * sum_c (p_c - y_c)^2, the mean over classes, so that 'mean' equals
            torch's mse_loss on the (N, C) probability table. It is bounded by 2 / C: however wrong
            and confident the prediction, the loss cannot grow, and its gradient vanishes.
    Shapes: as cross_entropy (class-index targets without ignore_index, or probability targets).
    Torch:  F.mse_loss(torch.softmax(logits, 1), F.one_hot(target, C).to(logits.dtype), reduction='none').mean(1)
            for 'none'; reduction='mean' is plain F.mse_loss(torch.softmax(logits, 1), one_hot);
            'sum' is the sum of the 'none' values.

    >>> float(mse_on_softmax(np.array([[0.0, 0.0]]), np.array([0])))  # ((0.5 - 1)^2 + 0.5^2) / 2
    0.25
    """
    return _mse_softmax(logits, target, reduction, False)[0]


def mse_on_softmax_and_grad(logits, target, *, reduction: str = "mean"):
    """`mse_on_softmax` and its gradient with respect to the logits.

    Gradient: with a = 2 (p - y) / C, d l_n / d z_j = p_j * (a_j - sum_c p_c a_c), the softmax
    Jacobian applied to a. Both factors shrink as p saturates, which is why it learns slowly
    from confident mistakes.
    """
    return _mse_softmax(logits, target, reduction, True)


def mse_on_softmax_grad(logits, target, *, reduction: str = "mean") -> np.ndarray:
    """The gradient part of `mse_on_softmax_and_grad`."""
    return _mse_softmax(logits, target, reduction, True)[1]


# ---------------------------------------------------------------------------------------------- sigmoid distance


def _sigmoid_distance(logits, target, reduction, need_grad):
    r = _Rows(logits, target, reduction)
    if r.kind == "probs" and not ((r.y == 0) | (r.y == 1)).all():
        raise XentInputError("sigmoid_distance_loss takes class indices or 0/1 (multi-hot) targets")
    c = r.num_classes
    s = sigmoid(r.rows)
    positive = r.y == 1
    per_sample = np.where(positive, 1 - s, s).sum(axis=1) / c
    grad = None
    if need_grad:
        grad = np.where(positive, -1, 1) * s * (1 - s) / c
    return r.finish(per_sample, grad)


def sigmoid_distance_loss(logits, target, *, reduction: str = "mean"):
    """The fast.ai book's `mnist_loss`, per class: how far each sigmoid is from its 0/1 target.

    Math:   s = sigmoid(z);  d_c = 1 - s_c where y_c = 1, else s_c;  l_n = (1 / C) * sum_c d_c
            Bounded by 1 and flat where the sigmoid saturates: a confidently wrong logit barely
            moves, the failure mode the forum thread asks about.
    Shapes: as cross_entropy; targets are class indices or 0/1 rows of the logits' shape.
    Torch:  torch.where(y == 1, 1 - logits.sigmoid(), logits.sigmoid()).mean(1) for 'none', where
            y = F.one_hot(target, C) (or the 0/1 rows); 'mean' is the mean over every entry.

    >>> float(sigmoid_distance_loss(np.array([[0.0, 0.0]]), np.array([0])))  # (0.5 + 0.5) / 2
    0.5
    """
    return _sigmoid_distance(logits, target, reduction, False)[0]


def sigmoid_distance_loss_and_grad(logits, target, *, reduction: str = "mean"):
    """`sigmoid_distance_loss` and its gradient: -+ s (1 - s) / C, which vanishes as |z| grows."""
    return _sigmoid_distance(logits, target, reduction, True)


def sigmoid_distance_loss_grad(logits, target, *, reduction: str = "mean") -> np.ndarray:
    """The gradient part of `sigmoid_distance_loss_and_grad`."""
    return _sigmoid_distance(logits, target, reduction, True)[1]


# ---------------------------------------------------------------------------------------------- hinge


def _multi_margin(logits, target, p, margin, weight, reduction, need_grad):
    if p not in (1, 2):
        raise XentInputError(f"p must be 1 or 2, as in torch; got {p}")
    margin = float(margin)
    if not np.isfinite(margin):
        raise XentInputError(f"margin must be a finite number; got {margin}")
    z0 = check_logits(logits)
    _shapes.check_batched_2d(z0, "logits", "multi_margin_loss")
    r = _Rows(z0, target, reduction, allow_probs=False)
    z = r.rows
    m, c = z.shape
    rows = np.arange(m)
    w = check_class_weight(weight, c, r.dtype)
    z_t = z[rows, r.index][:, None]
    h = margin - z_t + z  # (M, C): the margin violation of every class against the target
    h[rows, r.index] = 0  # the target itself does not count
    active = h > 0
    h = np.where(active, h, 0)
    w_t = np.ones(m, dtype=r.dtype) if w is None else w[r.index]
    per_sample = w_t * (h if p == 1 else h * h).sum(axis=1) / c
    grad = None
    if need_grad:
        grad = (w_t[:, None] / c) * (active.astype(r.dtype) if p == 1 else 2 * h)
        grad[rows, r.index] = -grad.sum(axis=1)
    loss, grad = r.finish(per_sample, grad)
    if reduction == "none" and z0.ndim == 1 and np.shape(target) == (1,):
        loss = loss.reshape(1)  # torch keeps the one-element target's shape here
    return loss, grad


def multi_margin_loss(logits, target, *, p: int = 1, margin: float = 1.0, weight=None, reduction: str = "mean"):
    """Multi-class hinge loss: every wrong class must score at least `margin` below the target.

    Math:   l_n = (w[t] / C) * sum_{c != t} max(0, margin - z_t + z_c)^p
            Note torch's division by C (the number of classes), and that the weight multiplies the
            powered term. Exactly zero, with a zero gradient, once every margin is met: it stops
            caring about a sample that is right by enough, unlike cross-entropy. 'mean' is over N.
    Shapes: logits (C,) or (N, C) only (as torch); target () or (N,) class indices in range.
    Raises: XentInputError for p other than 1 or 2 (torch raises too).
    Torch:  torch.nn.functional.multi_margin_loss(logits, target, p=p, margin=margin, weight=weight,
                reduction=reduction)

    >>> round(float(multi_margin_loss(np.array([[2.0, 1.5, 0.0]]), np.array([0]))), 6)  # (0.5 + 0) / 3
    0.166667
    """
    return _multi_margin(logits, target, p, margin, weight, reduction, False)[0]


def multi_margin_loss_and_grad(
    logits, target, *, p: int = 1, margin: float = 1.0, weight=None, reduction: str = "mean"
):
    """`multi_margin_loss` and its (sub)gradient with respect to the logits.

    Gradient: for each wrong class c with a violated margin (h_c = margin - z_t + z_c > 0),
    d/dz_c = w[t] * (1 if p == 1 else 2 h_c) / C, and the target gets minus their sum. At h_c == 0
    exactly it takes 0, as torch's kernel does. Times 1 / N for 'mean'.
    """
    return _multi_margin(logits, target, p, margin, weight, reduction, True)


def multi_margin_loss_grad(
    logits, target, *, p: int = 1, margin: float = 1.0, weight=None, reduction: str = "mean"
) -> np.ndarray:
    """The gradient part of `multi_margin_loss_and_grad`."""
    return _multi_margin(logits, target, p, margin, weight, reduction, True)[1]


# ---------------------------------------------------------------------------------------------- focal


def _softmax_focal(logits, target, gamma, alpha, reduction, need_grad):
    gamma = float(gamma)
    if not (np.isfinite(gamma) and gamma >= 0):
        raise XentInputError(f"gamma must be a number >= 0; got {gamma}")
    r = _Rows(logits, target, reduction, allow_probs=False)
    m, c = r.rows.shape
    rows = np.arange(m)
    if alpha is None:
        alpha_t = np.ones(m, dtype=r.dtype)
    elif np.ndim(alpha) == 0:
        a = float(alpha)
        if not np.isfinite(a):
            raise XentInputError(f"alpha must be finite; got {alpha}")
        alpha_t = np.full(m, a, dtype=r.dtype)
    else:
        alpha_t = check_class_weight(alpha, c, r.dtype, name="alpha")[r.index]
    log_p = log_softmax(r.rows, axis=1)
    log_pt = log_p[rows, r.index]
    one_minus_pt = -np.expm1(log_pt)  # 1 - p_t without cancellation when p_t is close to 1
    modulator = one_minus_pt**gamma
    per_sample = -alpha_t * modulator * log_pt
    grad = None
    if need_grad:
        p = np.exp(log_p)
        pt = np.exp(log_pt)
        if gamma == 0:
            slope = -np.ones_like(pt)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                extra = gamma * one_minus_pt ** (gamma - 1) * pt * log_pt
            extra = np.where(one_minus_pt > 0, extra, 0)  # its limit at p_t = 1 is 0
            slope = extra - modulator
        # d l / d z_j = alpha_t * slope * (onehot_j - p_j)
        onehot = np.zeros_like(p)
        onehot[rows, r.index] = 1
        grad = (alpha_t * slope)[:, None] * (onehot - p)
    return r.finish(per_sample, grad)


def softmax_focal_loss(logits, target, *, gamma: float = 2.0, alpha=None, reduction: str = "mean"):
    """Focal loss on the softmax: cross-entropy scaled down on samples the model already gets right.

    Math:   p_t = softmax(z_n)[t_n];  l_n = -alpha_t * (1 - p_t)^gamma * log(p_t)
            alpha: None (1), one number, or one weight per class (alpha_t = alpha[t_n]).
            gamma = 0 with alpha None is exactly cross_entropy. 'mean' averages over samples.
    Shapes: as cross_entropy with class-index targets (no ignore_index).
    Torch:  log_pt = F.log_softmax(logits, 1).gather(1, target[:, None])[:, 0]
            (-alpha_t * (-torch.expm1(log_pt)) ** gamma * log_pt).mean()

    >>> round(float(softmax_focal_loss(np.array([[0.0, 0.0]]), np.array([0]), gamma=0)), 6)  # log 2
    0.693147
    """
    return _softmax_focal(logits, target, gamma, alpha, reduction, False)[0]


def softmax_focal_loss_and_grad(logits, target, *, gamma: float = 2.0, alpha=None, reduction: str = "mean"):
    """`softmax_focal_loss` and its gradient with respect to the logits.

    Gradient: d l_n / d z_j = alpha_t * [gamma (1 - p_t)^(gamma - 1) p_t log p_t - (1 - p_t)^gamma] * (onehot_j - p_j);
    with gamma = 0 it is alpha_t * (p - onehot), cross-entropy's. Times 1 / N for 'mean'.
    Where 1 - p_t rounds to 0 (a saturated, correct sample) the first term is taken at its limit, 0;
    torch's autograd of the expression above gives nan there for 0 < gamma < 1 (inf * 0).
    """
    return _softmax_focal(logits, target, gamma, alpha, reduction, True)


def softmax_focal_loss_grad(logits, target, *, gamma: float = 2.0, alpha=None, reduction: str = "mean") -> np.ndarray:
    """The gradient part of `softmax_focal_loss_and_grad`."""
    return _softmax_focal(logits, target, gamma, alpha, reduction, True)[1]
