"""The one reduction type and the one helper every loss uses to reduce and to scale its gradient."""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np

from xent_core.checks import XentInputError

Reduction = Literal["none", "mean", "sum"]
REDUCTIONS: tuple[str, ...] = get_args(Reduction)


def check_reduction(reduction: str, *, allowed: tuple[str, ...] = REDUCTIONS) -> None:
    """Raise XentInputError unless `reduction` is one of `allowed` (case matters, as in torch)."""
    if reduction not in allowed:
        choices = ", ".join(repr(r) for r in allowed)
        raise XentInputError(f"reduction must be one of {choices}; got {reduction!r}")


def reduce(per_sample: np.ndarray, reduction: str, denominator: float) -> np.ndarray:
    """Reduce per-sample losses: 'none' keeps them, 'sum' adds them, 'mean' divides the sum by `denominator`.

    `denominator` is what torch divides by: the count of samples, or for weighted class-index
    losses the summed weights of the non-ignored targets. A zero denominator gives nan, as in torch.
    """
    if reduction == "none":
        return per_sample
    total = per_sample.sum(dtype=per_sample.dtype)
    if reduction == "sum":
        return total
    if denominator == 0:  # torch: 0 / 0, or a smoothing term over a zero total weight; nan either way
        return per_sample.dtype.type(np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        return per_sample.dtype.type(total / per_sample.dtype.type(denominator))


def reduce_to(per_sample: np.ndarray, reduction: str, denominator: float, dtype) -> np.ndarray:
    """`reduce` in per_sample's (compute) precision, then the result in `dtype`.

    For float16 input the per-sample values are float32: summing them in half would overflow at
    65504 where torch, which accumulates half in float, does not. A result beyond half's range
    becomes inf, as torch's does, without numpy's overflow warning.
    """
    out = reduce(per_sample, reduction, denominator)
    with np.errstate(over="ignore"):
        return out.astype(dtype, copy=False) if reduction == "none" else np.dtype(dtype).type(out)


def grad_scale(reduction: str, denominator: float, *, any_valid: bool = False) -> float:
    """The factor d(reduced)/d(per_sample[n]) for an unweighted sample.

    'none' is treated as the gradient of the sum (as `loss.sum().backward()` would give).
    A zero denominator under 'mean' gives 0 when nothing counts (every target ignored: torch's
    backward skips ignored targets) and nan when some targets count but their weights sum to 0
    (torch computes weight / total_weight = 0 / 0 for them). Callers keep ignored samples at 0.
    """
    if reduction == "mean":
        if denominator == 0:
            return float("nan") if any_valid else 0.0
        return 1.0 / denominator
    return 1.0
