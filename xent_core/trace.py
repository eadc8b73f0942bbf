"""Every intermediate of cross-entropy, sample by sample, for pages that explain it step by step.

Pages display these numbers; they never recompute them. The loss and gradient come from
`cross_entropy_and_grad`, so the trace and the loss can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xent_core._reduction import check_reduction
from xent_core.activations import log_softmax
from xent_core.checks import XentInputError, check_class_weight, check_logits, check_targets
from xent_core.cross_entropy import cross_entropy_and_grad


@dataclass(frozen=True)
class CrossEntropyTrace:
    """The pipeline logits -> exp -> sum -> softmax -> pick -> -log -> weight -> reduce, per sample.

    N samples, C classes. Index-target fields are NaN for probability targets and vice versa.
    """

    logits: np.ndarray  # (N, C) as given
    temperature: float
    scaled_logits: np.ndarray  # (N, C) logits / temperature: what the softmax sees
    row_max: np.ndarray  # (N,) subtracted before exp so that exp cannot overflow
    exp: np.ndarray  # (N, C) exp(scaled logits); inf where that overflows (see exp_shifted)
    sum_exp: np.ndarray  # (N,) inf where exp overflows
    exp_shifted: np.ndarray  # (N, C) exp(scaled - row_max), always finite, largest entry 1
    sum_exp_shifted: np.ndarray  # (N,)
    logsumexp: np.ndarray  # (N,) row_max + log(sum_exp_shifted)
    probs: np.ndarray  # (N, C) softmax
    log_probs: np.ndarray  # (N, C) log_softmax
    target_kind: str  # "index" or "probs"
    target: np.ndarray  # (N,) class indices, or (N, C) probabilities
    target_distribution: np.ndarray  # (N, C) what the loss compares with: one-hot or y, after smoothing
    ignored: np.ndarray  # (N,) bool: target == ignore_index
    target_prob: np.ndarray  # (N,) p[t_n] (index targets; NaN if ignored or for probability targets)
    neg_log_target_prob: np.ndarray  # (N,) -log p[t_n]
    sample_weight: np.ndarray  # (N,) w[t_n], 0 if ignored; 1 for probability targets
    label_smoothing: float
    per_sample: np.ndarray  # (N,) the unreduced loss: torch's reduction='none'
    reduction: str
    denominator: float  # what 'mean' divides by: summed sample weights (index) or N (probabilities); 1 otherwise
    share: np.ndarray  # (N,) each sample's contribution to the reduced loss: per_sample / denominator
    loss: float  # the reduced loss ('none': the sum of per_sample, which its gradient belongs to)
    grad: np.ndarray  # (N, C) d loss / d logits, the 1 / temperature included

    @property
    def num_classes(self) -> int:
        return self.logits.shape[1]

    @property
    def baseline(self) -> float:
        """log C: the loss of a uniform guess, what an untrained classifier scores."""
        return float(np.log(self.num_classes))


def cross_entropy_trace(
    logits,
    target,
    *,
    weight=None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
    temperature: float = 1.0,
) -> CrossEntropyTrace:
    """Cross-entropy with every intermediate kept, for (C,) or (N, C) logits.

    Same semantics as `cross_entropy` (see there), plus a softmax temperature T: the loss is that
    of logits / T, and the gradient is with respect to the unscaled logits (so it carries 1 / T).
    Shapes: logits (C,) or (N, C) (a single sample becomes N = 1); target as in cross_entropy.
    Torch:  F.cross_entropy(logits / temperature, target, weight=weight, ignore_index=ignore_index,
                reduction=reduction, label_smoothing=label_smoothing)

    >>> t = cross_entropy_trace(np.array([[0.0, np.log(3.0)]]), np.array([1]))
    >>> round(float(t.target_prob[0]), 6), round(float(t.loss), 6)  # p = 3/4, -log(3/4)
    (0.75, 0.287682)
    """
    check_reduction(reduction)
    z = check_logits(logits)
    if z.ndim > 2:
        raise XentInputError(f"the step-by-step trace takes logits of shape (C,) or (N, C); got {z.shape}")
    t = float(temperature)
    if not (np.isfinite(t) and t > 0):
        raise XentInputError(f"temperature must be a positive number; got {temperature}")
    tgt = np.asarray(target)
    if z.ndim == 1:
        z = z[None, :]
        tgt = tgt.reshape(1, -1) if tgt.shape == (z.shape[1],) else tgt.reshape(1)
    z = z.astype(np.float64, copy=False) if z.dtype != np.float32 else z
    targets = check_targets(z, tgt, ignore_index=ignore_index)
    n, c = z.shape
    w = check_class_weight(weight, c, z.dtype)
    scaled = z / z.dtype.type(t)

    options = dict(weight=w, ignore_index=ignore_index, label_smoothing=label_smoothing)
    per_sample, _ = cross_entropy_and_grad(scaled, targets.values, reduction="none", **options)
    reduced_reduction = "sum" if reduction == "none" else reduction
    loss, grad = cross_entropy_and_grad(scaled, targets.values, reduction=reduced_reduction, **options)
    grad = grad / z.dtype.type(t)  # chain rule through z / T

    row_max = scaled.max(axis=1)
    exp_shifted = np.exp(scaled - row_max[:, None])
    sum_exp_shifted = exp_shifted.sum(axis=1)
    with np.errstate(over="ignore"):
        exp = np.exp(scaled)
        sum_exp = exp.sum(axis=1)
    log_probs = log_softmax(scaled, axis=1)
    probs = np.exp(log_probs)
    eps = float(label_smoothing)

    rows = np.arange(n)
    if targets.kind == "index":
        idx = targets.values
        ignored = idx == ignore_index
        safe = np.where(ignored, 0, idx)
        onehot = np.zeros_like(z)
        onehot[rows, safe] = 1
        onehot[ignored] = 0
        distribution = (1 - eps) * onehot + (eps / c) * (~ignored)[:, None]
        target_prob = np.where(ignored, np.nan, probs[rows, safe])
        neg_log = np.where(ignored, np.nan, -log_probs[rows, safe])
        sample_weight = np.where(ignored, 0.0, 1.0 if w is None else w[safe]).astype(z.dtype)
        denominator = float(sample_weight.sum()) if reduction == "mean" else 1.0
    else:
        ignored = np.zeros(n, dtype=bool)
        distribution = (1 - eps) * targets.values + eps / c
        target_prob = np.full(n, np.nan)
        neg_log = np.full(n, np.nan)
        sample_weight = np.ones(n, dtype=z.dtype)
        denominator = float(n) if reduction == "mean" else 1.0

    with np.errstate(divide="ignore", invalid="ignore"):
        share = per_sample / denominator if denominator else np.full(n, np.nan)
    return CrossEntropyTrace(
        logits=z,
        temperature=t,
        scaled_logits=scaled,
        row_max=row_max,
        exp=exp,
        sum_exp=sum_exp,
        exp_shifted=exp_shifted,
        sum_exp_shifted=sum_exp_shifted,
        logsumexp=row_max + np.log(sum_exp_shifted),
        probs=probs,
        log_probs=log_probs,
        target_kind=targets.kind,
        target=targets.values,
        target_distribution=distribution,
        ignored=ignored,
        target_prob=target_prob,
        neg_log_target_prob=neg_log,
        sample_weight=sample_weight,
        label_smoothing=eps,
        per_sample=per_sample,
        reduction=reduction,
        denominator=denominator,
        share=share,
        loss=float(loss),
        grad=grad,
    )
