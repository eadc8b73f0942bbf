"""Moving between torch's layouts and the (M, C) "rows" layout every loss computes in.

Torch puts the class dimension second: (C,), (N, C) or (N, C, d1, ..., dk). The kernels here want
one sample per row with the classes contiguous, so K-dimensional input is transposed once on the
way in and once on the way out. (N, C) input passes through without a copy.
"""

from __future__ import annotations

import numpy as np

from xent_core.checks import XentInputError


def compute_dtype(dtype: np.dtype) -> np.dtype:
    """float16 is computed in float32 (as torch's CPU kernels accumulate half in float)."""
    return np.dtype(np.float32) if dtype == np.float16 else np.dtype(dtype)


def num_classes(logits: np.ndarray) -> int:
    return logits.shape[0] if logits.ndim == 1 else logits.shape[1]


def to_rows(arr: np.ndarray, dtype: np.dtype | None = None) -> np.ndarray:
    """(C,) -> (1, C); (N, C) -> itself; (N, C, d1, ...) -> (N * d1 * ..., C)."""
    if arr.ndim == 1:
        rows = arr[None, :]
    elif arr.ndim == 2:
        rows = arr
    else:
        rows = np.moveaxis(arr, 1, -1).reshape(-1, arr.shape[1])
    return rows if dtype is None else rows.astype(dtype, copy=False)


def from_rows(rows: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Inverse of `to_rows` for an array of logits' shape."""
    if len(shape) == 1:
        return rows[0]
    if len(shape) == 2:
        return rows
    moved = rows.reshape((shape[0], *shape[2:], shape[1]))
    return np.ascontiguousarray(np.moveaxis(moved, -1, 1))


def targets_to_rows(target: np.ndarray) -> np.ndarray:
    """Class indices of shape (), (N,) or (N, d1, ...) -> (M,) in the row order of `to_rows`."""
    return target.reshape(-1)


def check_batched_2d(logits: np.ndarray, name: str, function: str) -> None:
    """For losses torch defines only on (C,) or (N, C) input (multi_margin_loss)."""
    if logits.ndim not in (1, 2):
        raise XentInputError(f"{function} takes {name} of shape (C,) or (N, C), as torch does; got {logits.shape}")
