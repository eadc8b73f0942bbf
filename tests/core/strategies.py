"""Hypothesis strategies for xent_core's tests: logits batches in torch's layouts, targets, options.

Shapes follow torch: logits (C,) unbatched, (N, C), or (N, C, d1, ..., dk) with the classes second;
class-index targets (), (N,) or (N, d1, ..., dk); probability targets of the logits' shape. Values
are finite floats in [-30, 30] (no subnormals): wide enough that softmax saturates (a logit gap of
60 makes exp underflow the runner-up to ~1e-26) yet far from overflow, so every float64 comparison
with torch can be held to round-off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

REDUCTIONS = ("none", "mean", "sum")
LOGIT_BOUND = 30.0
MAX_BATCH = 5
MAX_CLASSES = 6
MAX_SIDE = 3  # d1, d2 of K-dimensional input
GAMMAS = (0.0, 0.5, 1.0, 2.0, 5.0)
# A non-default ignore index that is a real class (1) and two that are not (-100 is torch's default).
IGNORE_INDICES = (-100, 1, -1)


@dataclass(frozen=True)
class IndexBatch:
    """Logits with class-index targets (int64); entries equal to `ignore_index` are ignored."""

    logits: np.ndarray  # (C,), (N, C) or (N, C, d1, ...)
    target: np.ndarray  # (), (N,) or (N, d1, ...)
    ignore_index: int = -100

    @property
    def num_classes(self) -> int:
        return class_count(self.logits)

    @property
    def ignored(self) -> np.ndarray:
        return self.target == self.ignore_index


@dataclass(frozen=True)
class ProbBatch:
    """Logits with float targets of the same shape (class probabilities, or what torch accepts as such)."""

    logits: np.ndarray
    target: np.ndarray
    kind: str  # "softmax", "one_hot", "unnormalised" or "signed"

    @property
    def num_classes(self) -> int:
        return class_count(self.logits)


def class_axis(shape: tuple[int, ...]) -> int:
    """torch's class dimension: 0 for (C,), else 1."""
    return 0 if len(shape) == 1 else 1


def class_count(logits: np.ndarray) -> int:
    return logits.shape[class_axis(logits.shape)]


def target_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape of class-index targets for logits of `shape`: the class dimension removed."""
    return () if len(shape) == 1 else shape[:1] + shape[2:]


def _softmax_np(x: np.ndarray, axis: int) -> np.ndarray:
    """Plain numpy softmax for building targets (independent of xent_core, which is under test)."""
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def one_hot(index: np.ndarray, num_classes: int, axis: int) -> np.ndarray:
    """One-hot rows with the classes on `axis` (the logits' layout); out-of-range indices give zero rows."""
    one_hot = (index[..., None] == np.arange(num_classes)).astype(np.float64)  # classes last
    return np.moveaxis(one_hot, -1, axis)


# ---------------------------------------------------------------------------------------------- values


def floats(lo: float = -LOGIT_BOUND, hi: float = LOGIT_BOUND, *, dtype=np.float64) -> st.SearchStrategy[float]:
    """Finite floats in [lo, hi] representable in `dtype`, without subnormals."""
    width = np.dtype(dtype).itemsize * 8
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False, width=width)


def arrays(shape, lo: float = -LOGIT_BOUND, hi: float = LOGIT_BOUND, *, dtype=np.float64):
    return hnp.arrays(np.dtype(dtype), shape, elements=floats(lo, hi, dtype=dtype))


@st.composite
def logit_shapes(
    draw,
    *,
    min_classes: int = 2,
    max_classes: int = MAX_CLASSES,
    k_dims: tuple[int, ...] = (0, 1, 2),
    unbatched: bool = True,
    min_batch: int = 1,
    max_batch: int = MAX_BATCH,
) -> tuple[int, ...]:
    """(C,) (if `unbatched`), (N, C), (N, C, d1) or (N, C, d1, d2), depending on `k_dims`."""
    c = draw(st.integers(min_classes, max_classes))
    if unbatched and draw(st.integers(0, 4)) == 0:
        return (c,)
    n = draw(st.integers(min_batch, max_batch))
    k = draw(st.sampled_from(k_dims))
    sides = draw(st.tuples(*[st.integers(1, MAX_SIDE)] * k))
    return (n, c, *sides)


def any_shapes(*, min_dims: int = 0, max_dims: int = 3) -> st.SearchStrategy[tuple[int, ...]]:
    """Shapes for the elementwise losses and activations (any rank, sides 1..5)."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=5)


def logits(shape, *, dtype=np.float64, bound: float = LOGIT_BOUND):
    return arrays(shape, -bound, bound, dtype=dtype)


# ---------------------------------------------------------------------------------------------- batches


@st.composite
def index_batches(
    draw,
    *,
    min_classes: int = 2,
    max_classes: int = MAX_CLASSES,
    k_dims: tuple[int, ...] = (0, 1, 2),
    unbatched: bool = True,
    ignore: bool = True,
    dtype=np.float64,
    bound: float = LOGIT_BOUND,
) -> IndexBatch:
    """Logits and in-range class indices; with `ignore`, some entries replaced by the ignore index.

    The ignore index is -100 (torch's default), 1 (a real class, so every target 1 is ignored too)
    or -1.
    """
    shape = draw(logit_shapes(min_classes=min_classes, max_classes=max_classes, k_dims=k_dims, unbatched=unbatched))
    z = draw(logits(shape, dtype=dtype, bound=bound))
    c = shape[class_axis(shape)]
    target = draw(hnp.arrays(np.int64, target_shape(shape), elements=st.integers(0, c - 1)))
    ignore_index = -100
    if ignore and draw(st.booleans()):
        ignore_index = draw(st.sampled_from(IGNORE_INDICES))
        mask = draw(hnp.arrays(np.bool_, target.shape, elements=st.booleans()))
        target = np.where(mask, ignore_index, target).astype(np.int64)
    return IndexBatch(z, np.asarray(target, dtype=np.int64), ignore_index)


@st.composite
def prob_targets(
    draw, shape: tuple[int, ...], *, kinds=("softmax", "one_hot", "unnormalised", "signed"), dtype=np.float64
):
    """Float targets of the logits' shape, and their kind.

    softmax: rows of a softmax of random numbers (some entries round to 0 when the spread is wide);
    one_hot: exact 0/1 rows; unnormalised: non-negative rows that need not sum to 1; signed: entries
    in [-1, 2], which torch accepts too.
    """
    kind = draw(st.sampled_from(kinds))
    axis = class_axis(shape)
    c = shape[axis]
    if kind == "softmax":
        spread = draw(st.sampled_from((1.0, 5.0, 40.0)))
        raw = draw(arrays(shape, -spread, spread))
        target = _softmax_np(raw, axis)
    elif kind == "one_hot":
        index = draw(hnp.arrays(np.int64, target_shape(shape), elements=st.integers(0, c - 1)))
        target = one_hot(index, c, axis)
    elif kind == "unnormalised":
        target = draw(arrays(shape, 0.0, 3.0))
    else:
        target = draw(arrays(shape, -1.0, 2.0))
    return np.asarray(target, dtype=dtype), kind


@st.composite
def prob_batches(
    draw,
    *,
    min_classes: int = 2,
    max_classes: int = MAX_CLASSES,
    k_dims: tuple[int, ...] = (0, 1, 2),
    unbatched: bool = True,
    kinds=("softmax", "one_hot", "unnormalised", "signed"),
    dtype=np.float64,
    bound: float = LOGIT_BOUND,
) -> ProbBatch:
    shape = draw(logit_shapes(min_classes=min_classes, max_classes=max_classes, k_dims=k_dims, unbatched=unbatched))
    z = draw(logits(shape, dtype=dtype, bound=bound))
    target, kind = draw(prob_targets(shape, kinds=kinds, dtype=dtype))
    return ProbBatch(z, target, kind)


@st.composite
def multi_hot_batches(draw, *, k_dims: tuple[int, ...] = (0, 1, 2), dtype=np.float64) -> ProbBatch:
    """Logits with 0/1 targets of the same shape: any number of positive classes per sample."""
    shape = draw(logit_shapes(k_dims=k_dims))
    z = draw(logits(shape, dtype=dtype))
    target = draw(hnp.arrays(np.bool_, shape, elements=st.booleans())).astype(dtype)
    return ProbBatch(z, target, "multi_hot")


# ---------------------------------------------------------------------------------------------- options


@st.composite
def class_weights(draw, num_classes: int, *, lo: float = 0.1, hi: float = 3.0, allow_zero: bool = True):
    """Per-class weights in [lo, hi]; with `allow_zero`, sometimes one class gets weight 0."""
    w = draw(arrays((num_classes,), lo, hi))
    if allow_zero and draw(st.integers(0, 3)) == 0:
        w[draw(st.integers(0, num_classes - 1))] = 0.0
    return w


def optional_class_weights(num_classes: int, **kwargs):
    return st.none() | class_weights(num_classes, **kwargs)


def label_smoothings() -> st.SearchStrategy[float]:
    """0 and 1 (the ends torch accepts) and anything between."""
    return st.sampled_from((0.0, 1.0)) | st.floats(0.0, 1.0, allow_subnormal=False)


def reductions() -> st.SearchStrategy[str]:
    return st.sampled_from(REDUCTIONS)


def unit_probs(shape, *, margin: float = 0.0, dtype=np.float64):
    """Probabilities strictly inside (margin, 1 - margin), for binary_cross_entropy's input."""
    width = np.dtype(dtype).itemsize * 8
    element = st.floats(margin, 1.0 - margin, exclude_min=True, exclude_max=True, allow_subnormal=False, width=width)
    return hnp.arrays(np.dtype(dtype), shape, elements=element)


def binary_targets(shape, *, dtype=np.float64):
    """Targets in [0, 1] for the binary losses: hard 0/1 labels or soft ones."""
    hard = hnp.arrays(np.dtype(dtype), shape, elements=st.sampled_from((0.0, 1.0)))
    soft = arrays(shape, 0.0, 1.0, dtype=dtype)
    return hard | soft


@st.composite
def broadcast_weights(draw, shape: tuple[int, ...], *, lo: float = 0.1, hi: float = 3.0):
    """None, a weight of the full shape, or one broadcast along the last axis (torch's usual (C,))."""
    choice = draw(st.sampled_from(("none", "full", "last")))
    if choice == "none" or (choice == "last" and not shape):
        return None
    return draw(arrays(shape if choice == "full" else shape[-1:], lo, hi))
