"""Entropy and KL divergence: the information-theory view of cross-entropy.

For distributions y (the truth) and p (the prediction) over the same classes:
    H(y, p) = -sum_c y_c log p_c = H(y) + KL(y || p)
so minimising cross-entropy against fixed targets minimises the KL divergence; with one-hot
targets H(y) = 0 and the two are the same number.
"""

from __future__ import annotations

import numpy as np

from xent_core import _shapes
from xent_core._reduction import check_reduction, grad_scale, reduce_to
from xent_core.checks import as_float_array, check_finite, check_non_negative, check_same_shape


def _xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x * log(y) with 0 * log(0) = 0 (torch.xlogy)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0, x * np.log(y))


def entropy(probs, *, axis: int = -1) -> np.ndarray:
    """Shannon entropy in nats of the distributions along `axis`: the loss of a perfect prediction.

    Math:   H(y) = -sum_c y_c log y_c, with 0 log 0 = 0. Between 0 (certain) and log C (uniform).
            Divide by log 2 for bits.
    Shapes: any; `axis` is removed.
    Raises: XentInputError for negative or non-finite entries (they are not probabilities).
    Torch:  torch.special.entr(probs).sum(dim=axis)  (or torch.distributions.Categorical(probs=...).entropy())

    >>> round(float(entropy(np.array([0.5, 0.5]))), 6)  # log 2
    0.693147
    """
    y = as_float_array(probs, "probs", promote_integers=True)  # torch.special.entr promotes integers
    check_finite(y, "probs")
    check_non_negative(y, "probs", "entropy is defined for probability distributions")
    dtype = _shapes.compute_dtype(y.dtype)
    return (-_xlogy(y.astype(dtype), y.astype(dtype)).sum(axis=axis)).astype(y.dtype, copy=False)


def _kl(log_probs, target, reduction, log_target, need_grad):
    check_reduction(reduction, allowed=("none", "mean", "sum", "batchmean"))
    x = as_float_array(log_probs, "log_probs")
    check_finite(x, "log_probs", allow_neg_inf=True)
    t = as_float_array(target, "target")
    check_same_shape(x, t, "log_probs", "target")
    dtype = _shapes.compute_dtype(x.dtype)
    xs, ts = x.astype(dtype), t.astype(dtype)
    if log_target:
        check_finite(t, "target", allow_neg_inf=True)
        with np.errstate(invalid="ignore"):
            per = np.exp(ts) * (ts - xs)
            per = np.where(np.isneginf(ts), 0, per)
        weight = np.exp(ts)
    else:
        check_finite(t, "target")
        check_non_negative(t, "target", "they are probabilities; torch returns nan for them")
        with np.errstate(invalid="ignore"):
            per = _xlogy(ts, ts) - np.where(ts == 0, 0, ts * xs)
        weight = ts
    if reduction == "batchmean":  # sum / N; an empty batch gives 0 / 0 = nan, as in torch
        batch = x.shape[0] if x.ndim else 1
        loss = reduce_to(per, "mean", batch, x.dtype)
        scale = grad_scale("mean", batch)
    else:
        loss = reduce_to(per, reduction, per.size, x.dtype)
        scale = grad_scale(reduction, per.size)
    grad = (-weight * scale).astype(x.dtype) if need_grad else None
    return loss, grad


def kl_div(log_probs, target, *, reduction: str = "mean", log_target: bool = False):
    """KL divergence KL(target || prediction), with torch's argument order and reductions.

    Math:   pointwise l = y * (log y - x), where x = log_probs is the prediction's log-probability
            and y the target probability (0 where y = 0). With log_target, target holds log y.
            Careful, as in torch: the first argument is the log of the *prediction* and the second
            the *target*, and 'mean' divides by the number of entries, not of distributions;
            'batchmean' (sum / N) is the KL divergence per sample.
            Where y = 0 the term is 0 whatever x is (0 log 0 = 0, the definition's convention), also
            against x = -inf and, with log_target, for log y = -inf; torch's formula multiplies 0 by
            -inf there and returns nan.
    Shapes: log_probs any shape; target the same shape.
    Torch:  torch.nn.functional.kl_div(log_probs, target, reduction=reduction, log_target=log_target)

    >>> round(float(kl_div(np.log(np.array([0.5, 0.5])), np.array([1.0, 0.0]), reduction="sum")), 6)  # log 2
    0.693147
    """
    return _kl(log_probs, target, reduction, log_target, False)[0]


def kl_div_and_grad(log_probs, target, *, reduction: str = "mean", log_target: bool = False):
    """`kl_div` and its gradient with respect to `log_probs`: -y (over the reduction's divisor)."""
    return _kl(log_probs, target, reduction, log_target, True)


def kl_div_grad(log_probs, target, *, reduction: str = "mean", log_target: bool = False) -> np.ndarray:
    """The gradient part of `kl_div_and_grad`."""
    return _kl(log_probs, target, reduction, log_target, True)[1]
