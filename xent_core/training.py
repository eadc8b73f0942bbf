"""The training lab: train one small model per loss on the same data, from the same start, side by side.

Why: cross-entropy's gradient stays large on confidently wrong samples, while the gradients of MSE on
softmax probabilities and of the sigmoid distance loss vanish there (see xent_core.compare). This module
shows what that does to a real model: K copies of one network, identical at step 0, each trained on one
loss with the same optimiser, learning rate and data; every step records each model's own loss, its
cross-entropy (the one unit every model can be compared in), its accuracy and its gradient norm.

Speed: the K models are stacked along a leading axis and trained in one batched forward and backward
(torch.baddbmm on (K, H, N) tensors, samples last). The losses do not mix models and both optimisers act
element by element, so every model trains exactly as it would alone (a test checks it), in a fraction of
the time. Nothing goes through autograd: each loss's gradient (`torch_loss_grad`), the network's backward
pass and the two optimisers' updates are written out, and tests check them against torch autograd on
`torch_loss`, against an nn.Sequential and against torch.optim's own update functions. On these tiny
tensors each torch call costs more in overhead than in arithmetic, and autograd's graph was most of a
step's time (bench/training.py). The losses' values (torch_loss itself) are measured a chunk of steps
at a time, from the logits kept meanwhile.

torch is imported lazily, inside the functions, so `import xent_core` stays numpy-only. The torch losses
used for training (`torch_loss`, and `torch_loss_grad` for its gradient) are checked against xent_core's
numpy functions, value and gradient, in the tests (tests/core/test_training.py):

    key          loss                           xent_core function
    ce           cross-entropy                  cross_entropy
    smoothed_ce  label-smoothed cross-entropy   cross_entropy(label_smoothing=eps)
    weighted_ce  class-weighted cross-entropy   cross_entropy(weight=balanced_class_weight(y_train, C))
    mse          MSE on softmax                 mse_on_softmax
    sigmoid      sigmoid distance (mnist_loss)  sigmoid_distance_loss
    hinge        multi-class hinge              multi_margin_loss(p, margin)
    focal        softmax focal                  softmax_focal_loss(gamma)

Shapes: data as xent_core.datasets (x (N, 2), y (N,)); K models, S steps, G grid points per side. Inside
the loop everything is feature-major, samples last: inputs (K, 2, N), hidden layers (K, H, N), logits
(K, C, N). Curves have S + 1 entries: entry s is measured after s optimiser steps (entry 0 is the shared
start).
"""

from __future__ import annotations

import functools
import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from xent_core.checks import XentInputError
from xent_core.compare import LOSSES, LossInfo, LossOptions
from xent_core.datasets import Dataset

# One thread: on an idle 2-core machine a second one saves ~25 %, but once another process (another
# visitor's training) holds the other core, two-thread runs become several times slower (bench/training.py).
THREADS = 1

TRAINING_LOSSES: dict[str, LossInfo] = {
    **{key: LOSSES[key] for key in ("ce", "mse", "sigmoid", "hinge", "smoothed_ce", "focal")},
    "weighted_ce": LossInfo(
        "weighted_ce",
        "class-weighted CE",
        "-w_t log p_t, 'mean' divides by the sum of w_t; w_c = N / (C n_c) from the training labels",
        "F.cross_entropy(z, t, weight=w)",
    ),
}
MIN_LOSSES, MAX_LOSSES = 2, 4
DEFAULT_OPTIONS = LossOptions()  # label smoothing 0.1, hinge margin 1 and p 1, focal gamma 2
MODELS = ("linear", "mlp")  # softmax regression, or an MLP with ReLU hidden layers
OPTIMIZERS = ("adam", "sgd")  # Adam, or SGD with momentum 0.9
MAX_WIDTH, MAX_DEPTH, MAX_STEPS = 256, 4, 5000
# A training cross-entropy above this (the true class at probability e^-100 on average) only happens when
# the weights blow up, and it would flatten every chart; such a run is stopped like one that reached NaN.
EXPLODED_CE = 100.0


@dataclass(frozen=True)
class TrainConfig:
    """How to train; every field has a widget on the training page (dtype and grid are for tests)."""

    losses: tuple[str, ...] = ("ce", "mse", "sigmoid", "smoothed_ce")  # keys of TRAINING_LOSSES, 2 to 4
    model: Literal["linear", "mlp"] = "mlp"  # softmax regression (no hidden layer) or an MLP
    width: int = 32  # units per hidden layer (mlp only)
    depth: int = 2  # hidden layers (mlp only)
    optimizer: Literal["adam", "sgd"] = "sgd"  # SGD with momentum shows each loss's gradient as it is; Adam rescales it
    lr: float = 0.1  # learning rate
    momentum: float = 0.9  # sgd only
    steps: int = 300  # full-batch optimiser steps
    options: LossOptions = field(default_factory=LossOptions)  # label smoothing, hinge margin and p, focal gamma
    seed: int = 0  # the shared initialisation
    grid: int = 64  # decision regions: G x G points over the data's square
    bins: int = 20  # calibration: equal-width confidence bins over [0, 1]; 5 % wide, so that label smoothing's
    # ceiling (1 - eps + eps / C, 93 % for eps 0.1 and 3 classes) falls in a lower bin than cross-entropy's ~100 %
    dtype: Literal["float32", "float64"] = "float32"


# ---------------------------------------------------------------------------------------------- losses


def balanced_class_weight(target, num_classes: int) -> np.ndarray:
    """Class weights that make every class count as much as the others: w_c = N / (C * n_c).

    sklearn's class_weight="balanced"; a class absent from `target` gets weight 0 (it has no samples to weigh).
    Shapes: target (N,) -> (C,) float64.

    >>> balanced_class_weight(np.array([0, 0, 0, 1]), 2).tolist()  # 4 / (2 * 3), 4 / (2 * 1)
    [0.6666666666666666, 2.0]
    """
    n = np.bincount(np.asarray(target), minlength=num_classes).astype(np.float64)
    with np.errstate(divide="ignore"):
        return np.where(n > 0, n.sum() / (num_classes * n), 0.0)


def torch_loss(
    key: str, logits, target, *, options: LossOptions = DEFAULT_OPTIONS, class_weight=None, reduction="mean"
):
    """The torch loss the training loop minimises for `key`: torch's own function wherever torch has one.

    Shapes: as torch's cross_entropy: logits (N, C) or (N, C, d_1, ..., d_K) tensors, the classes on
    axis 1; target (N,) or (N, d_1, ..., d_K) int64; class_weight (C,) (weighted_ce only). The training
    loop passes (1, C, N): with the classes on axis 1 and the samples last, torch's softmax runs along
    the samples, several times faster than over a last axis of 2 to 6 classes.
    Returns torch's value: a 0-d tensor for 'mean' and 'sum', the target's shape for 'none'. Equal to
    the xent_core function in the module's table (same reduction), value and gradient, in every layout:
    tests/core/test_training.py.
    """
    torch, F = _torch()
    if key == "ce":
        return F.cross_entropy(logits, target, reduction=reduction)
    if key == "smoothed_ce":
        return F.cross_entropy(logits, target, label_smoothing=options.label_smoothing, reduction=reduction)
    if key == "weighted_ce":
        return F.cross_entropy(logits, target, weight=class_weight, reduction=reduction)
    num_classes = logits.shape[1]
    if key == "hinge":  # torch's multi_margin_loss takes (N, C) only: move the classes last and flatten
        rows = logits if logits.ndim == 2 else logits.movedim(1, -1).reshape(-1, num_classes)
        out = F.multi_margin_loss(rows, target.reshape(-1), p=options.p, margin=options.margin, reduction=reduction)
        return out.reshape(target.shape) if reduction == "none" else out
    if key in ("mse", "sigmoid"):
        # F.one_hot(target, C) with the classes on axis 1, like the logits (one_hot itself puts them last,
        # and checks the range with two .item() calls per use)
        classes = torch.arange(num_classes).reshape(1, num_classes, *[1] * (logits.ndim - 2))
        is_target = target.unsqueeze(1) == classes  # (N, C, d_1, ...) bool
        if key == "mse":
            per_sample = (logits.softmax(1) - is_target.to(logits.dtype)).square().mean(1)
        else:
            s = logits.sigmoid()
            per_sample = torch.where(is_target, 1 - s, s).mean(1)
    elif key == "focal":
        log_pt = logits.log_softmax(1).gather(1, target.unsqueeze(1)).squeeze(1)
        # The clamp keeps (1 - p_t)^gamma differentiable where p_t rounds to 1: for gamma < 1 autograd's
        # gamma * 0^(gamma - 1) * 0 would be nan. xent_core takes the limit, 0, there; so does this.
        one_minus_pt = (-torch.expm1(log_pt)).clamp_min(torch.finfo(logits.dtype).tiny)
        per_sample = -(one_minus_pt**options.gamma) * log_pt
    else:
        raise XentInputError(f"unknown loss {key!r}; choose from {', '.join(TRAINING_LOSSES)}")
    if reduction == "none":
        return per_sample
    return per_sample.sum() if reduction == "sum" else per_sample.mean()


def torch_loss_grad(key: str, logits, target, *, options: LossOptions = DEFAULT_OPTIONS, class_weight=None, scale=1.0):
    """d/d logits of sum_n scale_n * loss_n, where loss_n = torch_loss(key, ..., reduction="none")[n].

    What autograd gives for `torch_loss`, written out: the training loop steps with this, because on its
    small tensors autograd's graph bookkeeping costs several times the arithmetic (bench/training.py).
    scale=1/N gives the gradient of torch's 'mean'; for weighted_ce, scale=1/sum_n(w_t_n) does.
    Shapes: as torch_loss (logits (N, C, d_1, ..., d_K), target (N, d_1, ..., d_K)); scale a number or a
    tensor that broadcasts to target's shape. Returns a tensor shaped like logits.
    Equal to torch autograd on torch_loss (and so to xent_core's gradients) for every loss, in the tests.
    """
    torch, _ = _torch()
    num_classes = logits.shape[1]
    classes = torch.arange(num_classes).reshape(1, num_classes, *[1] * (logits.ndim - 2))
    one_hot = (target.unsqueeze(1) == classes).to(logits.dtype)  # (N, C, d_1, ...)
    coef = torch.as_tensor(scale, dtype=logits.dtype).expand(target.shape)
    if key == "weighted_ce":
        coef = coef * class_weight[target]  # the per-sample loss carries w_t
    return _loss_grad(key, logits, target.unsqueeze(1), one_hot, coef.unsqueeze(1), options)


def _loss_grad(key: str, z, y, one_hot, coef, options: LossOptions):
    """torch_loss_grad's arithmetic, its inputs prepared (the loop prepares them once, not every step).

    z (N, C, *) logits; y (N, 1, *) int64 targets; one_hot (N, C, *) in z's dtype; coef (N, 1, *): the
    weight of each sample's loss in the sum, w_t included for weighted_ce. With p = softmax(z) over the classes,
    Y the one-hot target and C the number of classes, the gradient of one sample's loss is:
        ce, weighted_ce   p - Y          (w_t is in coef)
        smoothed_ce       p - q,  q = (1 - eps) Y + eps / C
        mse               (2 / C) p * (d - sum_c d_c p_c),  d = p - Y
        sigmoid           (1 / C) s (1 - s) * (-1 where Y else +1),  s = sigmoid(z)
        hinge             h_c = (1 / C) * [m_c > 0] * (1 if p = 1 else 2 m_c) for c != t, m_c = margin - z_t + z_c;
                          the target gets -sum_c h_c (torch's multi_margin_loss backward)
        focal             G * (Y - p),  G = -a^gamma + gamma a^(gamma - 1) log p_t * p_t,  a = 1 - p_t
                          (clamped at the smallest normal number as torch_loss does; past the clamp only -a^gamma)
    """
    torch, _ = _torch()
    num_classes = z.shape[1]
    if key in ("ce", "weighted_ce", "smoothed_ce"):
        g = z.softmax(1)
        if key == "smoothed_ce" and options.label_smoothing:
            eps = options.label_smoothing
            g.sub_(one_hot, alpha=1 - eps).sub_(eps / num_classes)
        else:
            g.sub_(one_hot)
        return g.mul_(coef)
    if key == "mse":
        p = z.softmax(1)
        d = p - one_hot
        return d.sub_((d * p).sum(1, keepdim=True)).mul_(p).mul_(coef * (2 / num_classes))
    if key == "sigmoid":
        s = z.sigmoid()
        g = (s - s * s).mul_(coef / num_classes)
        return g.sub_(2 * one_hot * g)  # minus for the target, plus for the others
    if key == "hinge":
        margin = (options.margin - z.gather(1, y)) + z  # (N, C, *): margin - z_t + z_c, torch's order
        active = (margin > 0) & (one_hot == 0)
        h = active.to(z.dtype) if options.p == 1 else torch.where(active, 2 * margin, 0.0)
        h.mul_(coef / num_classes)
        return h.sub_(one_hot * h.sum(1, keepdim=True))
    if key == "focal":
        gamma = options.gamma
        log_probs = z.log_softmax(1)
        log_pt = log_probs.gather(1, y)  # (N, 1, *)
        raw = -torch.expm1(log_pt)  # 1 - p_t, accurate near p_t = 1
        a = raw.clamp_min(torch.finfo(z.dtype).tiny)
        outer = -(a**gamma)  # d loss / d log p_t through the log; the pow term below is d / d a
        if gamma != 0:  # torch's pow backward is 0 for an exponent of 0
            pt = 1 - raw  # expm1's backward multiplies by expm1(x) + 1
            through_a = gamma * a ** (gamma - 1) * log_pt * pt
            outer = outer + torch.where(raw >= torch.finfo(z.dtype).tiny, through_a, 0.0)  # clamp_min's backward
        return (one_hot - log_probs.exp()).mul_(outer * coef)
    raise XentInputError(f"unknown loss {key!r}; choose from {', '.join(TRAINING_LOSSES)}")


# ---------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Calibration:
    """How far a model's confidence (its top probability) is from its accuracy, bin by bin."""

    edges: np.ndarray  # (B + 1,) bin edges over [0, 1]
    count: np.ndarray  # (B,) samples whose confidence falls in the bin: the confidence histogram
    confidence: np.ndarray  # (B,) their mean confidence (nan for an empty bin)
    accuracy: np.ndarray  # (B,) the share of them predicted right (nan for an empty bin)
    ece: float  # expected calibration error: sum_b count_b / N * |accuracy_b - confidence_b|
    mean_confidence: float  # over all samples


def calibration(probs, target, bins: int = 10) -> Calibration:
    """The reliability diagram and the expected calibration error (ECE) of predictions `probs`.

    Math:   confidence_n = max_c p_nc, right_n = [argmax_c p_nc == t_n]; bin b holds the samples with
            confidence in [b / B, (b + 1) / B) (the last bin includes 1); ECE = sum_b (n_b / N) |acc_b - conf_b|,
            0 for a perfectly calibrated model (Guo et al., 2017).
    Shapes: probs (N, C), target (N,).

    >>> cal = calibration(np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4]]), np.array([0, 1, 0]), bins=5)
    >>> cal.count.tolist(), round(cal.ece, 4)  # bin 0.8-1: conf 0.9, acc 0.5; bin 0.6-0.8: conf 0.6, acc 1
    ([0, 0, 0, 1, 2], 0.4)
    """
    p = np.asarray(probs, dtype=np.float64)
    t = np.asarray(target)
    if p.ndim != 2 or t.shape != p.shape[:1]:
        raise XentInputError(f"calibration takes probs (N, C) and target (N,); got {p.shape} and {t.shape}")
    if not (isinstance(bins, int) and bins >= 1):
        raise XentInputError(f"bins must be a positive integer; got {bins!r}")
    conf = p.max(axis=1)
    right = (p.argmax(axis=1) == t).astype(np.float64)
    which = np.minimum((conf * bins).astype(np.int64), bins - 1)  # (N,)
    count = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(which, weights=conf, minlength=bins) / count
        acc = np.bincount(which, weights=right, minlength=bins) / count
    n = max(len(t), 1)
    ece = float(np.nansum(count / n * np.abs(acc - mean_conf)))
    return Calibration(
        np.linspace(0.0, 1.0, bins + 1), count, mean_conf, acc, ece, float(conf.mean()) if len(t) else math.nan
    )


@dataclass(frozen=True)
class LossRun:
    """One model, trained on one loss. Curves stop early (are shorter than S + 1) if it diverged."""

    key: str
    name: str
    loss_train: np.ndarray  # (L,) its own loss on the training set, in its own units
    loss_val: np.ndarray  # (L,) its own loss on the validation set
    ce_train: np.ndarray  # (L,) cross-entropy on the training set: comparable across every model
    ce_val: np.ndarray  # (L,) cross-entropy on the validation set
    acc_train: np.ndarray  # (L,) accuracy on the training labels (noisy ones included); a tie counts as wrong
    acc_val: np.ndarray  # (L,) accuracy on the validation set
    grad_norm: np.ndarray  # (min(L, S),) ||d loss / d parameters|| at each step, before the update
    grid_probs: np.ndarray | None  # (G, G, C) float32 final probabilities on the grid, row = y; None if diverged
    val_probs: np.ndarray | None  # (N_val, C) final probabilities of the validation points
    calibration: Calibration | None  # on the validation set
    weights: tuple[np.ndarray, ...] | None  # final parameters: W_1 (out, in), b_1 (out,), ... (nn.Linear's layout)
    diverged_at: int | None = None  # the first step whose numbers were not finite
    reason: str | None = None  # why it was stopped, in words

    @property
    def steps_done(self) -> int:
        return len(self.ce_train) - 1


@dataclass(frozen=True)
class TrainResult:
    config: TrainConfig
    runs: dict[str, LossRun]  # key -> its run, in the order of config.losses
    grid: np.ndarray  # (G,) the grid's coordinates along x and along y
    class_weight: np.ndarray  # (C,) weighted_ce's weights (balanced, from the training labels)
    seconds: float  # wall time of the training loop


@dataclass(frozen=True)
class Progress:
    """Handed to the progress callback every few steps."""

    step: int  # optimiser steps done
    steps: int  # of this many
    keys: tuple[str, ...]
    acc_val: np.ndarray  # (step + 1, K) validation accuracy so far
    ce_val: np.ndarray  # (step + 1, K) validation cross-entropy so far


# ---------------------------------------------------------------------------------------------- training


@functools.cache
def _torch():
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(THREADS)
    return torch, F


def layer_sizes(config: TrainConfig, num_classes: int) -> list[int]:
    """[2, width, ..., width, C]: the input, each hidden layer, the logits."""
    hidden = [config.width] * config.depth if config.model == "mlp" else []
    return [2, *hidden, num_classes]


def init_weights(config: TrainConfig, num_classes: int) -> list[np.ndarray]:
    """The shared start: torch.nn.Linear's default U(-1/sqrt(fan_in), 1/sqrt(fan_in)), drawn with numpy.

    Drawn from config.seed alone, so every loss (and every rerun) starts from these same numbers.
    Returns [W_1 (out, in), b_1 (out,), W_2, b_2, ...] in float64, nn.Linear's layout (y = W x + b).
    """
    rng = np.random.default_rng([int(config.seed), 7])
    sizes = layer_sizes(config, num_classes)
    out = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        bound = 1.0 / math.sqrt(fan_in)
        out.append(rng.uniform(-bound, bound, (fan_out, fan_in)))
        out.append(rng.uniform(-bound, bound, fan_out))
    return out


def check_config(config: TrainConfig, num_classes: int) -> None:
    """Raises XentInputError for impossible settings (the page's widgets allow a smaller range still)."""
    keys = config.losses
    if not MIN_LOSSES <= len(keys) <= MAX_LOSSES or len(set(keys)) != len(keys):
        raise XentInputError(f"choose {MIN_LOSSES} to {MAX_LOSSES} different losses; got {list(keys)}")
    unknown = [k for k in keys if k not in TRAINING_LOSSES]
    if unknown:
        raise XentInputError(f"unknown loss {unknown[0]!r}; choose from {', '.join(TRAINING_LOSSES)}")
    if config.model not in MODELS or config.optimizer not in OPTIMIZERS:
        raise XentInputError(f"model is one of {MODELS} and optimizer one of {OPTIMIZERS}")
    for name, value, high in (("width", config.width, MAX_WIDTH), ("depth", config.depth, MAX_DEPTH)):
        if not (isinstance(value, int) and 1 <= value <= high):
            raise XentInputError(f"{name} must be an integer from 1 to {high}; got {value!r}")
    if not (isinstance(config.steps, int) and 1 <= config.steps <= MAX_STEPS):
        raise XentInputError(f"steps must be an integer from 1 to {MAX_STEPS}; got {config.steps!r}")
    if not (math.isfinite(config.lr) and config.lr > 0):
        raise XentInputError(f"the learning rate must be a positive number; got {config.lr}")
    if not 0 <= config.momentum < 1:
        raise XentInputError(f"momentum must be in [0, 1); got {config.momentum}")
    if not 0 <= config.options.label_smoothing <= 1:
        raise XentInputError(f"label smoothing must be in [0, 1]; got {config.options.label_smoothing}")
    if not (math.isfinite(config.options.gamma) and config.options.gamma >= 0):
        raise XentInputError(f"focal gamma must be >= 0; got {config.options.gamma}")
    if config.dtype not in ("float32", "float64") or not 2 <= config.grid <= 400 or config.bins < 1:
        raise XentInputError("dtype is float32 or float64, grid 2 to 400 points, bins at least 1")
    if num_classes < 2:
        raise XentInputError(f"training needs at least 2 classes; got {num_classes}")


def _forward(params, x):
    """Logits (K, C, N) of the K stacked models on x (K, 2, N), and each layer's input [x, h_1, ...].

    Feature-major: samples on the last axis, so every elementwise op, reduction and softmax runs along
    the samples. params: [W_1 (K, out, in), b_1 (K, out, 1), W_2, b_2, ...]; ReLU after all but the last.
    """
    torch, _ = _torch()
    inputs = [x]
    h = x
    for i in range(0, len(params), 2):
        h = torch.baddbmm(params[i + 1], params[i], h)  # (K, out, N): W h + b, one matmul per model
        if i + 2 < len(params):
            h = h.relu()
            inputs.append(h)
    return h, inputs


def _backward(params, inputs, dz, rows: int):
    """d loss / d parameters (K, P), in the layout of the flat parameter tensor, from dz = d loss / d logits.

    Backpropagation written out (autograd would add ~25 graph nodes per step, most of the step's time):
    for z = W h + b:  dW = dz h^T, db = dz summed over the samples, dh = W^T dz, and through the ReLU dh
    is kept where h > 0. Only the first `rows` samples (the training set) enter the loss; dz is (K, C, rows).
    The tests compare the result with torch autograd on an nn.Sequential of the same weights.
    """
    torch, _ = _torch()
    k = dz.shape[0]
    grads = [None] * len(params)
    g = dz  # (K, out, rows)
    for layer in range(len(params) // 2 - 1, -1, -1):
        h = inputs[layer][:, :, :rows]  # (K, in, rows)
        grads[2 * layer] = torch.bmm(g, h.transpose(1, 2)).reshape(k, -1)  # (K, out * in)
        grads[2 * layer + 1] = g.sum(2)  # (K, out)
        if layer:
            g = torch.bmm(params[2 * layer].transpose(1, 2), g)  # (K, in, rows)
            g = torch.ops.aten.threshold_backward(g, h, 0)  # g where h > 0, else 0: one fused op
    return torch.cat(grads, 1)  # (K, P)


class _Adam:
    """torch.optim.Adam's update (defaults betas=(0.9, 0.999), eps=1e-8), written out for one tensor.

    The same operations in the same order as torch's single-tensor Adam, so the numbers are the same
    (a test steps both side by side); torch.optim's own bookkeeping costs ~10 times the arithmetic here.
    """

    def __init__(self, param, lr: float, betas=(0.9, 0.999), eps: float = 1e-8):
        torch, _ = _torch()
        self.param, self.lr, self.betas, self.eps, self.t = param, lr, betas, eps, 0
        self.m, self.v = torch.zeros_like(param), torch.zeros_like(param)

    def step(self, grad) -> None:
        b1, b2 = self.betas
        self.t += 1
        self.m.lerp_(grad, 1 - b1)
        self.v.mul_(b2).addcmul_(grad, grad, value=1 - b2)
        denom = (self.v.sqrt() / math.sqrt(1 - b2**self.t)).add_(self.eps)
        self.param.addcdiv_(self.m, denom, value=-self.lr / (1 - b1**self.t))


class _SGD:
    """torch.optim.SGD with momentum (no dampening, no Nesterov): buf = momentum * buf + g; p -= lr * buf."""

    def __init__(self, param, lr: float, momentum: float):
        torch, _ = _torch()
        self.param, self.lr, self.momentum = param, lr, momentum
        self.buf = torch.zeros_like(param)  # torch starts from buf = g; 0 * momentum + g is the same number

    def step(self, grad) -> None:
        self.buf.mul_(self.momentum).add_(grad)
        self.param.add_(self.buf, alpha=-self.lr)


def _ce_and_accuracy(z, y, means):
    """(K, 4): cross-entropy and accuracy of each model on both sets, [ce_train, ce_val, acc_train, acc_val].

    z (K, C, N) logits, y (K, 1, N) targets, means (N, 2) the weights of the train and validation means.
    A tie for the top logit counts as wrong (so a model whose logits are all equal scores 0, not 100 %);
    argmax would be the same otherwise but is ~10 times slower on this layout.
    """
    torch, _ = _torch()
    z_target = z.gather(1, y)  # (K, 1, N)
    nll = z.log_softmax(1).gather(1, y).neg_()  # (K, 1, N): -log softmax(z)_t (logsumexp is 3x slower here)
    rival = z.scatter(1, y, -math.inf).amax(1, keepdim=True)  # (K, 1, N): the best other logit
    right = (z_target > rival).to(z.dtype)  # (K, 1, N)
    return (torch.cat([nll, right], 1) @ means).reshape(z.shape[0], 4)  # (K, 2, 2): [ce, acc] x [train, val]


# Columns of the per-step record.
_LOSS_TR, _LOSS_VAL, _CE_TR, _CE_VAL, _ACC_TR, _ACC_VAL = range(6)


def train(
    data: Dataset,
    config: TrainConfig = TrainConfig(),
    *,
    on_progress: Callable[[Progress], None] | None = None,
    progress_every: int = 25,
) -> TrainResult:
    """Train one model per loss in `config.losses` on `data`, full batch, from the same initial weights.

    Every step: one forward of all K models on the training and validation points together; the gradient
    of each model's own training loss (`torch_loss` per sample, averaged over the training points as torch's
    'mean' does; `torch_loss_grad`'s arithmetic); backpropagation through the network; one optimiser step.
    Recorded per step and model: its loss and cross-entropy on both sets, its accuracy on both, and its
    gradient norm. After the last step: probabilities on a G x G grid (decision regions) and on the
    validation set (calibration).

    Divergence: a model whose loss, cross-entropy or gradient stops being finite, or whose training
    cross-entropy passes EXPLODED_CE (a learning rate far too large makes the weights blow up), is cut
    off: its curves end at the last good step, it has no regions or calibration, and `reason` says what
    happened. Models are independent, so the others train on; the loop ends once all have diverged.
    on_progress: called every `progress_every` steps and at the end with a `Progress`.
    Deterministic: the same data and config give the same numbers, bit for bit (one thread).
    Raises: XentInputError for a config outside the bounds (see check_config).
    """
    check_config(config, data.num_classes)
    torch, _ = _torch()
    with torch.inference_mode():  # nothing here needs autograd: its bookkeeping would cost ~15 % of a run
        return _train(data, config, on_progress, progress_every)


def _train(data: Dataset, config: TrainConfig, on_progress, progress_every: int) -> TrainResult:
    """train's body, run in torch's inference mode."""
    torch, _ = _torch()
    dtype = getattr(torch, config.dtype)
    keys = tuple(config.losses)
    k, c, steps = len(keys), data.num_classes, config.steps
    n_tr = len(data.y_train)
    x = torch.tensor(np.concatenate([data.x_train, data.x_val]).T, dtype=dtype)  # (2, N): training points first
    n = x.shape[1]
    xk = x.expand(k, 2, n)  # (K, 2, N), a view
    y_tr = torch.from_numpy(data.y_train.astype(np.int64))[None]  # (1, N_train)
    y_val = torch.from_numpy(data.y_val.astype(np.int64))[None]  # (1, N_val)
    y_all = torch.cat([y_tr, y_val], 1).expand(k, 1, n)  # (K, 1, N) for gather along the classes
    # Train and validation means of per-sample numbers (K, 2, N) in one matmul with this (N, 2) matrix.
    means = torch.zeros(n, 2, dtype=dtype)
    means[:n_tr, 0] = 1.0 / n_tr
    means[n_tr:, 1] = 1.0 / (n - n_tr)
    weight = balanced_class_weight(data.y_train, c)
    weight_t = torch.tensor(weight, dtype=dtype)
    opts = config.options

    y_row = y_all[0]  # (1, N)
    # Each model's own loss on both sets from its per-sample losses (K, N) in one batched matmul with
    # `own_means` (K, N, 2): torch's 'mean', i.e. 1 / (the set's size) per sample, or for weighted CE, whose
    # per-sample values already carry w_t, 1 / (the set's summed w_t), torch's weighted mean.
    own_means = means.expand(k, n, 2).clone()
    for i, key in enumerate(keys):
        if key == "weighted_ce":
            w_t = weight_t[y_row[0]]  # (N,)
            own_means[i, :n_tr, 0] = 1.0 / w_t[:n_tr].sum()
            own_means[i, n_tr:, 1] = 1.0 / w_t[n_tr:].sum()

    # The gradient of each model's training loss (torch_loss_grad's arithmetic) needs, per model, the weight
    # of every sample's loss in it: own_means' training column, times w_t for weighted CE; 0 on the
    # validation points, which never reach the gradient.
    one_hot = (y_row[:, None, :] == torch.arange(c)[None, :, None]).to(dtype)  # (1, C, N)
    coefs = own_means[:, None, :, 0].clone()  # (K, 1, N)
    for i, key in enumerate(keys):
        if key == "weighted_ce":
            coefs[i] *= weight_t[y_row]

    def own_losses(zs):  # the logits of m steps (m, K, C, N) -> K x (m, 2): each model's own loss, [train, val]
        return [
            torch_loss(key, zs[:, i], y_row.expand(len(zs), n), options=opts, class_weight=weight_t, reduction="none")
            @ own_means[i]
            for i, key in enumerate(keys)
        ]  # K x (m, 2)

    # Every parameter of the K models lives in one (K, P) tensor, so that the optimiser and the gradient
    # norm are one operation each; the layers are views into it: W (K, out, in), b (K, out, 1).
    init = init_weights(config, c)
    flat = torch.tensor(np.tile(np.concatenate([p.ravel() for p in init]), (k, 1)), dtype=dtype)  # (K, P)
    params, offset = [], 0
    for p in init:
        params.append(flat[:, offset : offset + p.size].view(k, p.shape[0], -1))
        offset += p.size
    opt = _Adam(flat, config.lr) if config.optimizer == "adam" else _SGD(flat, config.lr, config.momentum)

    record = torch.full((steps + 1, k, 6), math.nan, dtype=dtype)  # (S + 1, K, 6)
    grad_norm = torch.full((steps, k), math.nan, dtype=dtype)  # (S, K)
    # The losses, cross-entropy and accuracy are measured a chunk of steps at a time, from the logits kept
    # meanwhile: a few batched passes instead of ~40 small torch calls per step.
    chunk = torch.empty((min(progress_every, 64), k, c, n), dtype=dtype)  # (M, K, C, N)
    pending: list[int] = []  # the steps whose logits wait in `chunk`

    def measure() -> None:
        m = len(pending)
        if m:
            steps_in_chunk = slice(pending[0], pending[-1] + 1)
            for i, own in enumerate(own_losses(chunk[:m])):
                record[steps_in_chunk, i, : _LOSS_VAL + 1] = own
            stats = _ce_and_accuracy(chunk[:m].reshape(m * k, c, n), y_all[:1].expand(m * k, 1, n), means)
            record[steps_in_chunk, :, _CE_TR:] = stats.reshape(m, k, 4)
            pending.clear()

    start = time.perf_counter()
    done, reported = steps, -1
    for step in range(steps + 1):
        z, inputs = _forward(params, xk)  # (K, C, N)
        chunk[len(pending)] = z
        pending.append(step)
        if step == steps:
            break
        dz = torch.cat(
            [_loss_grad(key, z[i : i + 1], y_all[:1], one_hot, coefs[i : i + 1], opts) for i, key in enumerate(keys)]
        )  # (K, C, N), zero on the validation points
        grad = _backward(params, inputs, dz[:, :, :n_tr], n_tr)  # (K, P)
        grad_norm[step] = torch.linalg.vector_norm(grad, dim=1)
        opt.step(grad)
        if len(pending) == len(chunk):
            measure()
        if (step + 1) % progress_every == 0:
            measure()
            if not _alive(record, grad_norm, step).any():
                done = step + 1  # every model has diverged: stop
                break
            if on_progress is not None and step + 1 < steps:  # the last report follows the last forward pass
                on_progress(_progress(step + 1, steps, keys, record))
                reported = step + 1
    measure()
    seconds = time.perf_counter() - start
    if on_progress is not None and reported != done:
        on_progress(_progress(done, steps, keys, record))

    rec = record.double().numpy()
    gn = grad_norm.double().numpy()
    grid = np.linspace(-data.extent, data.extent, config.grid)
    gx, gy = np.meshgrid(grid, grid)  # (G, G): rows are y
    grid_x = torch.tensor(np.stack([gx.ravel(), gy.ravel()]), dtype=dtype).expand(k, 2, -1)  # (K, 2, G*G)
    grid_probs = _forward(params, grid_x)[0].softmax(1).transpose(1, 2).float().numpy()  # (K, G*G, C)
    val_probs = _forward(params, xk[:, :, n_tr:])[0].softmax(1).transpose(1, 2).double().numpy()  # (K, N_val, C)
    weights = [p.double().numpy() for p in params]  # (K, out, in) and (K, out, 1)
    runs = {}
    for i, key in enumerate(keys):
        length, why = _valid_length(rec[:, i], gn[:, i], done)
        if why is None:
            extras = dict(
                grid_probs=grid_probs[i].reshape(config.grid, config.grid, c),
                val_probs=val_probs[i],
                calibration=calibration(val_probs[i], data.y_val, config.bins),
                weights=tuple(w[i] if j % 2 == 0 else w[i, :, 0] for j, w in enumerate(weights)),
            )
        else:
            extras = dict(grid_probs=None, val_probs=None, calibration=None, weights=None)
        runs[key] = LossRun(
            key=key,
            name=TRAINING_LOSSES[key].name,
            loss_train=rec[:length, i, _LOSS_TR].copy(),
            loss_val=rec[:length, i, _LOSS_VAL].copy(),
            ce_train=rec[:length, i, _CE_TR].copy(),
            ce_val=rec[:length, i, _CE_VAL].copy(),
            acc_train=rec[:length, i, _ACC_TR].copy(),
            acc_val=rec[:length, i, _ACC_VAL].copy(),
            grad_norm=gn[: min(length, steps), i].copy(),
            diverged_at=None if why is None else length,
            reason=None if why is None else _explain(why, length, config),
            **extras,
        )
    return TrainResult(config, runs, grid, weight, seconds)


def _alive(record, grad_norm, step: int):
    """(K,) bool: the models that have not diverged by `step` (finite numbers, cross-entropy below the limit)."""
    torch, _ = _torch()
    ok = torch.isfinite(record[: step + 1]).all(-1).all(0) & (record[: step + 1, :, _CE_TR] <= EXPLODED_CE).all(0)
    return ok & torch.isfinite(grad_norm[: step + 1]).all(0)


def _progress(step: int, steps: int, keys, record) -> Progress:
    """The curves so far, nan from the step where a model diverged on (so a live chart just stops)."""
    rec = record[: step + 1].double().numpy()  # (s + 1, K, 6)
    with np.errstate(invalid="ignore"):
        good = np.isfinite(rec).all(-1) & ~(rec[:, :, _CE_TR] > EXPLODED_CE)  # (s + 1, K)
    alive = np.logical_and.accumulate(good, axis=0)
    return Progress(
        step, steps, keys, np.where(alive, rec[:, :, _ACC_VAL], np.nan), np.where(alive, rec[:, :, _CE_VAL], np.nan)
    )


def _valid_length(rec: np.ndarray, gn: np.ndarray, done: int) -> tuple[int, str | None]:
    """How many records of one model are good (rec (S + 1, 6), gn (S,)) and, if it diverged, what broke first.

    Record s is good if it is finite, its training cross-entropy is at most EXPLODED_CE, and the gradients
    of steps 0..s-1 were finite; the first bad one ends the run.
    """
    rec = rec[: done + 1]
    loss_ok = np.isfinite(rec[:, [_LOSS_TR, _LOSS_VAL]]).all(1)  # (done + 1,)
    finite = np.isfinite(rec).all(1)
    with np.errstate(invalid="ignore"):
        tame = ~(rec[:, _CE_TR] > EXPLODED_CE)
    grad_ok = np.append(True, np.isfinite(gn[:done]))  # record s needs the gradient of step s - 1
    bad = np.flatnonzero(~(loss_ok & finite & tame & grad_ok))
    if not bad.size:
        return done + 1, None
    s = int(bad[0])
    why = "gradient" if not grad_ok[s] else "loss" if not loss_ok[s] else "logits" if not finite[s] else "exploded"
    return s, why


def _explain(why: str, step: int, config: TrainConfig) -> str:
    what = {
        "loss": "its loss became NaN or infinite",
        "logits": "its logits overflowed (the cross-entropy became NaN or infinite)",
        "gradient": "its gradient became NaN or infinite",
        "exploded": f"its cross-entropy passed {EXPLODED_CE:g}: the weights were blowing up",
    }[why]
    optimizer = "Adam" if config.optimizer == "adam" else "SGD with momentum"
    return (
        f"stopped at step {step}: {what}. The learning rate {config.lr:g} is too large for this loss with "
        f"{optimizer}; try a smaller one."
    )


# ---------------------------------------------------------------------------------------------- reading the result


def summarize(result: TrainResult, *, diverged: bool = True) -> list[str]:
    """A few sentences that read the run: who reached what accuracy, how fast, and how well calibrated.

    Every number comes from `result`; nothing is written by hand. diverged: end with one sentence per
    diverged run (its reason); a page that shows those reasons elsewhere passes False.
    """
    runs = list(result.runs.values())
    fine = [r for r in runs if r.diverged_at is None]
    lines = []
    if fine:
        ranked = sorted(fine, key=lambda r: -r.acc_val[-1])
        steps = result.config.steps
        accs = ", ".join(f"{r.name} {_pct(r.acc_val[-1])}" for r in ranked)
        lines.append(f"After {steps} steps, validation accuracy: {accs}.")
        best = ranked[0].acc_val[-1]
        bar = math.floor(0.9 * best * 20) / 20  # 90 % of the best, rounded down to 5 points
        start = max(r.acc_val[0] for r in fine)
        if bar > start and len(fine) > 1:  # a bar some model met at step 0 says nothing about speed
            reached = {r.key: _first_at_least(r.acc_val, bar) for r in fine}
            order = sorted(fine, key=lambda r: (reached[r.key] is None, reached[r.key] or 0))
            parts = [
                f"{r.name} at step {reached[r.key]}" if reached[r.key] is not None else f"{r.name} never did"
                for r in order
            ]
            lines.append(f"Reaching {_pct(bar)} validation accuracy: " + "; ".join(parts) + ".")
        ce = sorted(fine, key=lambda r: r.ce_val[-1])
        lines.append(
            "Validation cross-entropy (the common unit, lower is better): "
            + ", ".join(f"{r.name} {r.ce_val[-1]:.3f}" for r in ce)
            + "."
        )
        pushed = [r for r in fine if len(r.grad_norm)]
        if len(pushed) > 1:
            order = sorted(pushed, key=lambda r: -r.grad_norm[0])
            lines.append(
                "Gradient norm at step 0, the same weights for every loss (how hard each loss pushes at the start): "
                + ", ".join(f"{r.name} {r.grad_norm[0]:.3g}" for r in order)
                + "."
            )
        cal = sorted(fine, key=lambda r: r.calibration.ece)
        lines.append(
            "Calibration on the validation set (ECE, lower is better; mean confidence): "
            + ", ".join(f"{r.name} {r.calibration.ece:.3f} ({_pct(r.calibration.mean_confidence)})" for r in cal)
            + "."
        )
    for r in runs:
        if diverged and r.diverged_at is not None:
            lines.append(f"{r.name} diverged: {r.reason}")
    return lines


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def _first_at_least(curve: np.ndarray, bar: float) -> int | None:
    hit = np.flatnonzero(curve >= bar - 1e-12)
    return int(hit[0]) if hit.size else None
