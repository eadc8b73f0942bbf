"""Validated (logits, target) input in the rows layout, shared by every softmax-based loss.

One place validates, moves torch's class axis last, and turns per-sample losses and row
gradients back into torch's shapes and the caller's dtype.
"""

from __future__ import annotations

import numpy as np

from xent_core import _shapes
from xent_core._reduction import check_reduction, reduce
from xent_core.checks import Targets, check_logits, check_targets


class LogitBatch:
    """logits (C,), (N, C) or (N, C, d1, ...) and their target, as (M, C) rows.

    rows: (M, C) logits in the compute dtype; target_rows: (M,) class indices or (M, C)
    probabilities; M = N * d1 * ... (1 for unbatched input).
    """

    def __init__(self, logits, target, reduction: str, *, ignore_index: int | None = -100, allow_probs: bool = True):
        check_reduction(reduction)
        z = check_logits(logits)
        self.shape = z.shape
        self.out_dtype = z.dtype
        self.dtype = _shapes.compute_dtype(z.dtype)
        self.num_classes = _shapes.num_classes(z)
        self.reduction = reduction
        self.ignore_index = ignore_index
        self.targets: Targets = check_targets(z, target, ignore_index=ignore_index, allow_probs=allow_probs)
        self.rows = _shapes.to_rows(z, self.dtype)  # (M, C)
        if self.targets.kind == "index":
            self.target_rows = _shapes.targets_to_rows(self.targets.values)  # (M,)
        else:
            self.target_rows = _shapes.to_rows(self.targets.values, self.dtype)  # (M, C)

    @property
    def kind(self) -> str:
        return self.targets.kind

    def one_hot_rows(self) -> np.ndarray:
        """(M, C) targets as probabilities: one-hot rows for class indices (no ignored entries)."""
        if self.kind == "probs":
            return self.target_rows
        y = np.zeros_like(self.rows)
        y[np.arange(len(self.target_rows)), self.target_rows] = 1
        return y

    def finish_loss(self, per_sample: np.ndarray, denominator: float):
        """'none': per-sample losses in torch's target shape; otherwise the reduced scalar."""
        per_sample = per_sample.astype(self.out_dtype, copy=False)
        if self.reduction == "none":
            target_shape = self.shape[:1] + self.shape[2:] if len(self.shape) > 1 else ()
            return per_sample.reshape(target_shape)
        return reduce(per_sample, self.reduction, denominator)

    def finish_grad(self, grad_rows: np.ndarray) -> np.ndarray:
        return _shapes.from_rows(grad_rows, self.shape).astype(self.out_dtype, copy=False)


def index_target_weights(
    target_rows: np.ndarray, weight: np.ndarray | None, ignore_index: int, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For class-index targets: (valid, safe index, w[t] with 0 where ignored), each (M,).

    `safe` replaces ignored targets by 0 so they can index arrays; `valid` says which are real.
    """
    valid = target_rows != ignore_index
    safe = np.where(valid, target_rows, 0)
    w_t = valid.astype(dtype) if weight is None else np.where(valid, weight[safe], 0).astype(dtype, copy=False)
    return valid, safe, w_t
