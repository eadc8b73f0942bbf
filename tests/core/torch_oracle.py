"""The tests' own torch reference: every xent_core function computed with torch, gradients by autograd.

Kept apart from the app's cross-check code (ui/torch_check.py) on purpose, so that a bug in one cannot
hide in the other: this module imports torch and numpy only, never xent_core, ui or pages.

Every `<loss>_and_grad` mirrors the xent_core function of the same name: numpy arrays in, with the
same keyword options, and numpy `(value, grad)` out. The input is copied into a leaf tensor
(`torch.tensor(..., requires_grad=True)`), so the caller's arrays are never touched; the value is
returned exactly as torch returns it (a 0-d array for a reduced loss), so its shape and dtype can be
compared too; grad is d value / d input, and for reduction='none' the gradient of value.sum(), as
xent_core defines it. Options given as arrays (weight, pos_weight, alpha) are cast to the input's
dtype, as torch insists. The activations and `entropy` return the value only.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "binary_cross_entropy_and_grad",
    "binary_cross_entropy_with_logits_and_grad",
    "cross_entropy_and_grad",
    "entropy",
    "kl_div_and_grad",
    "log_sigmoid",
    "log_softmax",
    "logsumexp",
    "mse_loss_and_grad",
    "mse_on_softmax_and_grad",
    "multi_margin_loss_and_grad",
    "nll_loss_and_grad",
    "sigmoid",
    "sigmoid_distance_loss_and_grad",
    "sigmoid_focal_loss_and_grad",
    "softmax",
    "softmax_focal_loss_and_grad",
]


# ---------------------------------------------------------------------------------------------- plumbing


def _copy(x) -> np.ndarray:
    """A C-contiguous copy (torch cannot take numpy's negative strides)."""
    return np.array(x, order="C")


def _tensor(x) -> torch.Tensor:
    """A copy of `x` as a tensor of the same dtype."""
    return torch.tensor(_copy(x))


def _like(x, ref: torch.Tensor) -> torch.Tensor | None:
    """An option array (weight, pos_weight, target probabilities) in the dtype of `ref`, or None."""
    return None if x is None else torch.tensor(_copy(x), dtype=ref.dtype)


def _indices(target) -> torch.Tensor:
    return torch.tensor(np.array(target, dtype=np.int64, order="C"))


def _value_and_grad(x, loss: Callable[[torch.Tensor], torch.Tensor]) -> tuple[np.ndarray, np.ndarray]:
    """Run `loss` on a float64/32/16 leaf copy of `x`; backprop the sum (the identity for a reduced loss)."""
    leaf = torch.tensor(_copy(x), requires_grad=True)
    out = loss(leaf)
    out.sum().backward()
    grad = leaf.grad if leaf.grad is not None else torch.zeros_like(leaf)
    return out.detach().numpy(), grad.numpy()


def _class_dim(x: torch.Tensor) -> int:
    """torch's class dimension: 0 for unbatched (C,) input, else 1."""
    return 0 if x.dim() == 1 else 1


def _reduce(per: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "none":
        return per
    if reduction == "mean":
        return per.mean()
    if reduction == "sum":
        return per.sum()
    raise ValueError(f"unknown reduction {reduction!r}")


def _targets_as_rows(x: torch.Tensor, target) -> torch.Tensor:
    """Class-index targets as one-hot probabilities of the logits' shape; probability targets as given."""
    tgt = np.asarray(target)
    if tgt.shape == tuple(x.shape) and tgt.dtype.kind == "f":
        return _like(tgt, x)
    one_hot = F.one_hot(_indices(tgt), x.shape[_class_dim(x)]).to(x.dtype)  # classes last
    return one_hot if x.dim() == 1 else one_hot.movedim(-1, 1)


# ---------------------------------------------------------------------------------------------- cross-entropy family


def cross_entropy_and_grad(
    logits, target, *, weight=None, ignore_index: int = -100, reduction: str = "mean", label_smoothing: float = 0.0
):
    """F.cross_entropy; a float target of the logits' shape holds probabilities, anything else class indices."""
    tgt = np.asarray(target)

    def loss(x: torch.Tensor) -> torch.Tensor:
        t = _like(tgt, x) if tgt.dtype.kind == "f" else _indices(tgt)
        return F.cross_entropy(
            x,
            t,
            weight=_like(weight, x),
            ignore_index=ignore_index,
            reduction=reduction,
            label_smoothing=label_smoothing,
        )

    return _value_and_grad(logits, loss)


def nll_loss_and_grad(log_probs, target, *, weight=None, ignore_index: int = -100, reduction: str = "mean"):
    def loss(x: torch.Tensor) -> torch.Tensor:
        return F.nll_loss(x, _indices(target), weight=_like(weight, x), ignore_index=ignore_index, reduction=reduction)

    return _value_and_grad(log_probs, loss)


# ---------------------------------------------------------------------------------------------- binary losses


def binary_cross_entropy_and_grad(probs, target, *, weight=None, reduction: str = "mean"):
    def loss(x: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy(x, _like(target, x), weight=_like(weight, x), reduction=reduction)

    return _value_and_grad(probs, loss)


def binary_cross_entropy_with_logits_and_grad(logits, target, *, weight=None, pos_weight=None, reduction: str = "mean"):
    def loss(x: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(
            x, _like(target, x), weight=_like(weight, x), pos_weight=_like(pos_weight, x), reduction=reduction
        )

    return _value_and_grad(logits, loss)


def sigmoid_focal_loss_and_grad(logits, target, *, alpha: float = 0.25, gamma: float = 2.0, reduction: str = "none"):
    """torchvision.ops.sigmoid_focal_loss, written out (torchvision is not installed here)."""

    def loss(x: torch.Tensor) -> torch.Tensor:
        y = _like(target, x)
        p = torch.sigmoid(x)
        ce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
        p_t = p * y + (1 - p) * (1 - y)
        out = ce * ((1 - p_t) ** gamma)
        if alpha >= 0:
            alpha_t = alpha * y + (1 - alpha) * (1 - y)
            out = alpha_t * out
        return _reduce(out, reduction)

    return _value_and_grad(logits, loss)


# ---------------------------------------------------------------------------------------------- alternatives


def mse_loss_and_grad(input, target, *, reduction: str = "mean"):
    return _value_and_grad(input, lambda x: F.mse_loss(x, _like(target, x), reduction=reduction))


def mse_on_softmax_and_grad(logits, target, *, reduction: str = "mean"):
    """Per sample F.mse_loss(softmax, one_hot, 'none').mean(class dim); 'mean' over every entry; 'sum' of samples."""

    def loss(x: torch.Tensor) -> torch.Tensor:
        dim = _class_dim(x)
        probs = torch.softmax(x, dim)
        y = _targets_as_rows(x, target)
        if reduction == "mean":
            return F.mse_loss(probs, y, reduction="mean")
        per_sample = F.mse_loss(probs, y, reduction="none").mean(dim)
        return per_sample if reduction == "none" else per_sample.sum()

    return _value_and_grad(logits, loss)


def sigmoid_distance_loss_and_grad(logits, target, *, reduction: str = "mean"):
    """torch.where(y == 1, 1 - sigmoid, sigmoid): per sample the mean over classes; 'mean' over every entry."""

    def loss(x: torch.Tensor) -> torch.Tensor:
        dim = _class_dim(x)
        s = x.sigmoid()
        distance = torch.where(_targets_as_rows(x, target) == 1, 1 - s, s)
        if reduction == "mean":
            return distance.mean()
        per_sample = distance.mean(dim)
        return per_sample if reduction == "none" else per_sample.sum()

    return _value_and_grad(logits, loss)


def multi_margin_loss_and_grad(
    logits, target, *, p: int = 1, margin: float = 1.0, weight=None, reduction: str = "mean"
):
    def loss(x: torch.Tensor) -> torch.Tensor:
        return F.multi_margin_loss(
            x, _indices(target), p=p, margin=margin, weight=_like(weight, x), reduction=reduction
        )

    return _value_and_grad(logits, loss)


def softmax_focal_loss_and_grad(logits, target, *, gamma: float = 2.0, alpha=None, reduction: str = "mean"):
    """log_pt = log_softmax.gather(target); loss = -alpha_t * (-expm1(log_pt)) ** gamma * log_pt."""

    def loss(x: torch.Tensor) -> torch.Tensor:
        dim = _class_dim(x)
        t = _indices(target)
        log_pt = F.log_softmax(x, dim).gather(dim, t.unsqueeze(dim)).squeeze(dim)
        out = -((-torch.expm1(log_pt)) ** gamma) * log_pt
        if alpha is not None:
            alpha_t = _like(alpha, x) if np.ndim(alpha) == 0 else _like(alpha, x)[t]
            out = alpha_t * out
        return _reduce(out, reduction)

    return _value_and_grad(logits, loss)


# ---------------------------------------------------------------------------------------------- information


def kl_div_and_grad(log_probs, target, *, reduction: str = "mean", log_target: bool = False):
    def loss(x: torch.Tensor) -> torch.Tensor:
        with warnings.catch_warnings():  # 'mean' warns that it divides by numel; that is the semantics under test
            warnings.simplefilter("ignore", UserWarning)
            return F.kl_div(x, _like(target, x), reduction=reduction, log_target=log_target)

    return _value_and_grad(log_probs, loss)


def entropy(probs, *, axis: int = -1) -> np.ndarray:
    return torch.special.entr(_tensor(probs)).sum(dim=axis).numpy()


# ---------------------------------------------------------------------------------------------- activations


def logsumexp(x, *, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    return torch.logsumexp(_tensor(x), dim=axis, keepdim=keepdims).numpy()


def softmax(logits, *, axis: int = -1, temperature: float = 1.0) -> np.ndarray:
    return torch.softmax(_tensor(logits) / temperature, dim=axis).numpy()


def log_softmax(logits, *, axis: int = -1, temperature: float = 1.0) -> np.ndarray:
    return torch.log_softmax(_tensor(logits) / temperature, dim=axis).numpy()


def sigmoid(x) -> np.ndarray:
    return torch.sigmoid(_tensor(x)).numpy()


def log_sigmoid(x) -> np.ndarray:
    return F.logsigmoid(_tensor(x)).numpy()
