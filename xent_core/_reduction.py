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
    with np.errstate(divide="ignore", invalid="ignore"):
        return per_sample.dtype.type(total / per_sample.dtype.type(denominator))


def grad_scale(reduction: str, denominator: float) -> float:
    """The factor d(reduced)/d(per_sample[n]) for an unweighted sample.

    'none' is treated as the gradient of the sum (as `loss.sum().backward()` would give).
    A zero denominator contributes nothing, as in torch, whose backward skips ignored targets.
    """
    if reduction == "mean":
        return 0.0 if denominator == 0 else 1.0 / denominator
    return 1.0
