"""Cross-entropy beside its alternatives, on the same inputs: per-sample values, sweeps and landscapes.

The comparison page asks one question of every loss: how much does it punish each sample, and how hard
does it push the logits? This module answers it for a fixed menu of multi-class losses on class-index
targets, all through the loss functions of this package (nothing is re-derived here):

    key          loss                                       xent_core function (its _and_grad)
    ce           cross-entropy                              cross_entropy
    smoothed_ce  label-smoothed cross-entropy               cross_entropy(label_smoothing=eps)
    mse          MSE between softmax and the one-hot row    mse_on_softmax
    hinge        multi-class margin (hinge) loss            multi_margin_loss(p, margin)
    focal        softmax focal loss                         softmax_focal_loss(gamma)
    sigmoid      fast.ai's mnist_loss, per class            sigmoid_distance_loss

Shapes: logits (N, C) and target (N,) class indices, as cross_entropy's batched form.
For 'none' each loss's gradient is that of the sum, so row n of it is d l_n / d z_n.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from xent_core.activations import sigmoid, softmax
from xent_core.alternatives import (
    mse_on_softmax_and_grad,
    multi_margin_loss_and_grad,
    sigmoid_distance_loss_and_grad,
    softmax_focal_loss_and_grad,
)
from xent_core.binary import binary_cross_entropy_with_logits_and_grad
from xent_core.checks import XentInputError, as_float_array, check_finite, check_logits, check_targets
from xent_core.cross_entropy import cross_entropy_and_grad
from xent_core.information import entropy


def _check_2d(logits: np.ndarray, function: str) -> None:
    if logits.ndim != 2:
        raise XentInputError(f"{function} takes a batch of logits of shape (N, C); got shape {logits.shape}")


@dataclass(frozen=True)
class LossOptions:
    """The options of the comparison's losses; each loss reads only its own."""

    label_smoothing: float = 0.1  # smoothed_ce: the share of the target's mass spread over all classes
    margin: float = 1.0  # hinge: how far the target logit must lead every other one
    p: int = 1  # hinge: 1 (linear) or 2 (squared)
    gamma: float = 2.0  # focal: how strongly easy samples are faded out; 0 is cross-entropy


@dataclass(frozen=True)
class LossInfo:
    key: str
    name: str  # for a legend
    formula: str  # l_n in plain text (p = softmax(z), t = the target class, s = sigmoid)
    torch: str  # the torch call that gives the same per-sample numbers


LOSSES: dict[str, LossInfo] = {
    info.key: info
    for info in (
        LossInfo("ce", "cross-entropy", "-log p_t", "F.cross_entropy(z, t, reduction='none')"),
        LossInfo(
            "smoothed_ce",
            "label-smoothed CE",
            "-(1 - eps) log p_t - (eps / C) sum_c log p_c",
            "F.cross_entropy(z, t, label_smoothing=eps, reduction='none')",
        ),
        LossInfo(
            "mse",
            "MSE on softmax",
            "(1 / C) sum_c (p_c - y_c)^2",
            "((z.softmax(1) - F.one_hot(t, C)) ** 2).mean(1)",
        ),
        LossInfo(
            "hinge",
            "hinge (multi-margin)",
            "(1 / C) sum_{c != t} max(0, margin - z_t + z_c)^p",
            "F.multi_margin_loss(z, t, p=p, margin=margin, reduction='none')",
        ),
        LossInfo(
            "focal",
            "focal",
            "-(1 - p_t)^gamma log p_t",
            "-(1 - p_t) ** gamma * log p_t, p_t = z.softmax(1).gather(1, t[:, None])",
        ),
        LossInfo(
            "sigmoid",
            "sigmoid distance (mnist_loss)",
            "(1 / C) sum_c |y_c - s_c|, s = sigmoid(z)",
            "torch.where(F.one_hot(t, C) == 1, 1 - z.sigmoid(), z.sigmoid()).mean(1)",
        ),
    )
}


def _call(key: str, options: LossOptions):
    """The xent_core `_and_grad` function for `key`, and the loss's own options as keywords."""
    if key == "ce":
        return cross_entropy_and_grad, {}
    if key == "smoothed_ce":
        return cross_entropy_and_grad, {"label_smoothing": options.label_smoothing}
    if key == "mse":
        return mse_on_softmax_and_grad, {}
    if key == "hinge":
        return multi_margin_loss_and_grad, {"p": options.p, "margin": options.margin}
    if key == "focal":
        return softmax_focal_loss_and_grad, {"gamma": options.gamma}
    if key == "sigmoid":
        return sigmoid_distance_loss_and_grad, {}
    raise XentInputError(f"unknown loss {key!r}; choose from {', '.join(LOSSES)}")


@dataclass(frozen=True)
class LossResult:
    """One loss on one batch."""

    per_sample: np.ndarray  # (N,) l_n
    grad: np.ndarray  # (N, C) d l_n / d z_n
    target_grad: np.ndarray  # (N,) d l_n / d z_{n, t_n}: negative means "raise the target logit"
    mean: float  # the loss with reduction='mean', as torch reports it


def compare_losses(logits, target, keys, options: LossOptions = LossOptions()) -> dict[str, LossResult]:
    """Every loss in `keys` on the same (N, C) logits and (N,) class-index targets.

    Raises: XentInputError for logits that are not (N, C) or not finite, targets out of range, an
    unknown key, or an option a loss refuses (label smoothing outside [0, 1], a negative gamma, a
    non-finite margin, p other than 1 or 2).
    """
    z = check_logits(logits)
    _check_2d(z, "compare_losses")
    t = check_targets(z, target, ignore_index=None, allow_probs=False).values
    rows = np.arange(len(t))
    out = {}
    for key in keys:
        fn, kwargs = _call(key, options)
        per_sample, grad = fn(z, t, reduction="none", **kwargs)
        # Without class weights every one of these losses' 'mean' is the mean of its per-sample values.
        mean = float(per_sample.mean()) if len(t) else float("nan")
        out[key] = LossResult(per_sample, grad, grad[rows, t], mean)
    return out


@dataclass(frozen=True)
class Sweep:
    """The losses of one sample as its target logit moves, everything else held fixed."""

    values: np.ndarray  # (V,) the target logit z_t
    margin: np.ndarray  # (V,) z_t minus the largest other logit: < 0 wrong, > 0 right
    prob: np.ndarray  # (V,) softmax probability of the target
    loss: dict[str, np.ndarray]  # key -> (V,) the sample's loss
    target_grad: dict[str, np.ndarray]  # key -> (V,) d loss / d z_t


def target_logit_sweep(logits, target: int, values, keys, options: LossOptions = LossOptions()) -> Sweep:
    """Each loss of one sample (logits (C,), class `target`) with z_t set to each of `values` (V,).

    What the curves show: as z_t goes from confidently wrong to confidently right, cross-entropy's
    d l / d z_t = p_t - 1 tends to -1 (a full push) when wrong, while the MSE and sigmoid losses
    saturate and their gradients vanish; hinge is exactly 0 once z_t leads by the margin; with label
    smoothing the loss has its minimum at a finite z_t.
    """
    z = check_logits(logits)
    if z.ndim != 1:
        raise XentInputError(f"target_logit_sweep takes one sample's logits (C,); got shape {z.shape}")
    t = int(check_targets(z, np.asarray(target), ignore_index=None, allow_probs=False).values)
    v = as_float_array(values, "values")
    check_finite(v, "values", elementwise=True)
    rows = np.tile(z, (v.size, 1))  # (V, C)
    rows[:, t] = v.ravel()
    targets = np.full(v.size, t)
    others = np.delete(z, t)
    margin = v.ravel() - (others.max() if others.size else 0.0)
    results = compare_losses(rows, targets, keys, options)
    return Sweep(
        values=v.ravel(),
        margin=margin,
        prob=softmax(rows)[:, t],
        loss={k: r.per_sample for k, r in results.items()},
        target_grad={k: r.target_grad for k, r in results.items()},
    )


@dataclass(frozen=True)
class Landscape:
    """A loss over the plane of two logit differences, with its gradient there."""

    rivals: tuple[int, int]  # the classes a and b whose logits move (never the target)
    u: np.ndarray  # (S,) z_a - z_t along x
    v: np.ndarray  # (S,) z_b - z_t along y
    loss: np.ndarray  # (S, S) loss[i, j] at u[j], v[i] (rows are y, as a heatmap wants)
    grad_u: np.ndarray  # (S, S) d loss / d z_a
    grad_v: np.ndarray  # (S, S) d loss / d z_b
    here: tuple[float, float]  # the sample's own (u, v)

    def with_position(self, here: tuple[float, float]) -> Landscape:
        """The same grid with another sample's place marked (samples can share a grid)."""
        return replace(self, here=here)


def rival_classes(logits, target: int) -> tuple[int, int]:
    """The two non-target classes with the largest logits (ties to the lower index): the main rivals."""
    z = np.asarray(logits, dtype=np.float64)
    order = [c for c in np.argsort(-z, kind="stable") if c != target]
    if len(order) < 2:
        raise XentInputError(f"a landscape needs at least 3 classes; this sample has {z.size}")
    return int(order[0]), int(order[1])


SHIFT_INVARIANT = frozenset({"ce", "smoothed_ce", "mse", "hinge", "focal"})  # adding c to every logit changes nothing


def landscape_reference(logits, target: int, key: str, rivals: tuple[int, int]) -> tuple[float, ...]:
    """What `loss_landscape` of this sample depends on, as a hashable tuple (for caching).

    The rivals' own logits are replaced by the grid, so they are left out (set to z_t); for a
    shift-invariant loss the logits are also shifted to z_t = 0. Two samples with the same reference
    have the same landscape: with three classes and a shift-invariant loss, every sample does.
    """
    z = np.array(check_logits(logits), dtype=np.float64)
    a, b = rivals
    z[[a, b]] = z[target]
    if key in SHIFT_INVARIANT:
        z -= z[target]
    return tuple(z.tolist())


def landscape_position(logits, target: int, rivals: tuple[int, int]) -> tuple[float, float]:
    """The sample's own place on its landscape: (z_a - z_t, z_b - z_t)."""
    z = np.asarray(logits, dtype=np.float64)
    return float(z[rivals[0]] - z[target]), float(z[rivals[1]] - z[target])


def loss_landscape(
    logits,
    target: int,
    key: str,
    *,
    extent: float = 6.0,
    steps: int = 41,
    rivals: tuple[int, int] | None = None,
    options: LossOptions = LossOptions(),
) -> Landscape:
    """One loss of one sample (logits (C,), C >= 3) over the plane u = z_a - z_t, v = z_b - z_t.

    z_t and every other logit stay at the sample's values; a and b are `rivals` (by default the two
    strongest wrong classes). u and v run over [-extent, extent] in `steps` steps each. The origin is
    a three-way tie; the lower left (both rivals far below the target) is the confident, right corner.
    The gradient field (grad_u, grad_v) is d loss / d (z_a, z_b): descent moves against it.
    """
    z = check_logits(logits)
    if z.ndim != 1:
        raise XentInputError(f"loss_landscape takes one sample's logits (C,); got shape {z.shape}")
    t = int(check_targets(z, np.asarray(target), ignore_index=None, allow_probs=False).values)
    a, b = rival_classes(z, t) if rivals is None else rivals
    if not all(isinstance(r, int | np.integer) and not isinstance(r, bool) for r in (a, b)):
        raise XentInputError(f"rivals must be two class indices (integers); got {a!r} and {b!r}")
    a, b = int(a), int(b)
    if len({a, b, t}) != 3 or not (0 <= a < z.size and 0 <= b < z.size):
        raise XentInputError(f"rivals must be two distinct classes other than the target {t}; got {a} and {b}")
    if not (np.isfinite(extent) and extent > 0) or not 2 <= steps <= 401:
        raise XentInputError("the landscape needs a positive extent and 2 to 401 steps")
    axis = np.linspace(-extent, extent, steps)
    uu, vv = np.meshgrid(axis, axis)  # (S, S): uu varies along columns, vv along rows
    rows = np.tile(z.astype(np.float64), (uu.size, 1))
    rows[:, a] = z[t] + uu.ravel()
    rows[:, b] = z[t] + vv.ravel()
    result = compare_losses(rows, np.full(uu.size, t), [key], options)[key]
    shape = uu.shape
    return Landscape(
        rivals=(a, b),
        u=axis,
        v=axis,
        loss=result.per_sample.reshape(shape),
        grad_u=result.grad[:, a].reshape(shape),
        grad_v=result.grad[:, b].reshape(shape),
        here=landscape_position(z, t, (a, b)),
    )


@dataclass(frozen=True)
class MultiLabel:
    """Rows with several true labels, through sigmoid + BCE and through softmax + cross-entropy."""

    sigmoid_probs: np.ndarray  # (N, C) sigmoid(z): each class on its own, any number can be near 1
    softmax_probs: np.ndarray  # (N, C) softmax(z): shares of one unit, two classes cannot both pass 0.5
    bce_per_sample: np.ndarray  # (N,) mean over classes of BCE-with-logits (with pos_weight)
    bce_grad: np.ndarray  # (N, C) d bce_n / d z
    bce_mean: float  # F.binary_cross_entropy_with_logits(z, y, pos_weight=...), reduction 'mean'
    ce_target: np.ndarray  # (N, C) the labels normalised to sum to 1: softmax's best possible answer
    ce_per_sample: np.ndarray  # (N,) cross-entropy against ce_target
    ce_grad: np.ndarray  # (N, C) d ce_n / d z
    ce_floor: np.ndarray  # (N,) the least cross-entropy any logits can reach: the target's entropy
    ce_mean: float  # F.cross_entropy(z, y / y.sum(1, keepdim=True)), reduction 'mean'


def multilabel_losses(logits, labels, *, pos_weight=None) -> MultiLabel:
    """Multi-label rows (logits (N, C), labels (N, C) of 0 and 1) under both models.

    sigmoid + BCE treats each class as its own yes/no question, so a row with two true labels can
    have both probabilities near 1 and its loss near 0. softmax + CE must share one unit of
    probability: against the normalised labels (two labels: 0.5 each) its best is p = 0.5 for both,
    and its loss never drops below that target's entropy (log 2 for two labels).
    Torch: F.binary_cross_entropy_with_logits(z, y, pos_weight=pos_weight) and
    F.cross_entropy(z, y / y.sum(1, keepdim=True)).
    Raises: XentInputError if a label is not 0 or 1, or a row has no true label.
    """
    z = check_logits(logits)
    _check_2d(z, "multilabel_losses")
    # 0/1 labels come as ints or bools from a table of checkboxes: compute in the logits' dtype, not
    # as_float_array's float32, or ce_target and ce_floor lose precision (the floor rose above the loss).
    y = as_float_array(labels, "labels", promote_integers=True)
    y = y.astype(np.result_type(y.dtype, z.dtype), copy=False)
    if y.shape != z.shape:
        raise XentInputError(f"labels of shape {y.shape} must match the logits' shape {z.shape}")
    check_finite(y, "labels", elementwise=True)
    bad = np.argwhere((y != 0) & (y != 1))
    if bad.size:
        n, c = bad[0]
        raise XentInputError(f"row {n}, class {c}: labels are 0 or 1; got {y[n, c]:g}")
    empty = np.flatnonzero(y.sum(axis=1) == 0)
    if empty.size:
        raise XentInputError(f"row {empty[0]} has no true label; tick at least one class per row")
    c = z.shape[1]
    bce, bce_grad = binary_cross_entropy_with_logits_and_grad(z, y, pos_weight=pos_weight, reduction="none")
    ce_target = y / y.sum(axis=1, keepdims=True)
    ce, ce_grad = cross_entropy_and_grad(z, ce_target, reduction="none")
    n = len(z)
    return MultiLabel(
        sigmoid_probs=sigmoid(z),
        softmax_probs=softmax(z),
        bce_per_sample=bce.mean(axis=1),
        bce_grad=bce_grad / c,  # 'none' gives d(sum)/dz; the per-sample value is the mean over C classes
        bce_mean=float(bce.mean()) if n else float("nan"),
        ce_target=ce_target,
        ce_per_sample=ce,
        ce_grad=ce_grad,
        ce_floor=entropy(ce_target, axis=1),
        ce_mean=float(ce.mean()) if n else float("nan"),
    )
