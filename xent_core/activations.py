"""Softmax and sigmoid, and their logs, computed so that no finite input overflows.

The one trick behind all of them: exp(z - max(z)) never exceeds 1, and
log(sum(exp(z))) = max(z) + log(sum(exp(z - max(z)))). float16 input is computed in float32 and
returned as float16 (torch's CPU kernels also accumulate half in float).
"""

from __future__ import annotations

import numpy as np

from xent_core.checks import XentInputError, as_float_array


def _compute_dtype(x: np.ndarray) -> np.dtype:
    return np.dtype(np.float32) if x.dtype == np.float16 else x.dtype


def _check_temperature(temperature: float) -> float:
    t = float(temperature)
    if not (np.isfinite(t) and t > 0):
        raise XentInputError(f"temperature must be a positive number; got {temperature}")
    return t


def _scaled(logits, temperature: float) -> tuple[np.ndarray, np.dtype]:
    z = as_float_array(logits, "logits")
    out_dtype = z.dtype
    z = z.astype(_compute_dtype(z), copy=False)
    t = _check_temperature(temperature)
    if t != 1.0:
        z = z / z.dtype.type(t)
    return z, out_dtype


def logsumexp(x, *, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """log(sum(exp(x))) along `axis`, exact for any finite input.

    Math:   logsumexp(x) = m + log(sum_k exp(x_k - m)),  m = max_k x_k
            An infinite maximum is not subtracted (inf - inf would be NaN): +inf gives +inf and an
            all -inf slice gives -inf, as in torch.
    Shapes: any; `axis` is removed unless `keepdims`.
    Torch:  torch.logsumexp(x, dim=axis, keepdim=keepdims)

    >>> float(logsumexp(np.array([0.0, np.log(3.0)])))  # log(1 + 3)
    1.3862943611198906
    """
    z = as_float_array(x, "x", promote_integers=True)  # torch.logsumexp promotes integers to float32
    out_dtype = z.dtype
    z = z.astype(_compute_dtype(z), copy=False)
    m = z.max(axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        out = np.log(np.exp(z - m).sum(axis=axis, keepdims=True)) + m
    if not keepdims:
        out = np.squeeze(out, axis=axis)
    return out.astype(out_dtype, copy=False)


def log_softmax(logits, *, axis: int = -1, temperature: float = 1.0) -> np.ndarray:
    """Log of the softmax along `axis`; stable for huge logits (exp never overflows).

    Math:   log_softmax(z)_c = z_c / T - logsumexp(z / T)
    Shapes: any; the output has the shape and dtype of `logits`.
    Torch:  torch.log_softmax(logits / temperature, dim=axis)

    >>> log_softmax(np.array([1.0, 1.0])).round(6).tolist()  # log(1/2) twice
    [-0.693147, -0.693147]
    """
    z, out_dtype = _scaled(logits, temperature)
    shifted = z - z.max(axis=axis, keepdims=True)  # largest entry becomes 0, so exp cannot overflow
    out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return out.astype(out_dtype, copy=False)


def softmax(logits, *, axis: int = -1, temperature: float = 1.0) -> np.ndarray:
    """Probabilities from logits: positive, summing to 1 along `axis`.

    Math:   softmax(z)_c = exp(z_c / T) / sum_k exp(z_k / T); a temperature T > 1 flattens the
            distribution, T < 1 sharpens it. Adding a constant to every logit changes nothing.
    Shapes: any; the output has the shape and dtype of `logits`.
    Torch:  torch.softmax(logits / temperature, dim=axis)

    >>> softmax(np.array([0.0, np.log(3.0)])).round(6).tolist()
    [0.25, 0.75]
    """
    z, out_dtype = _scaled(logits, temperature)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e.astype(out_dtype, copy=False)


def sigmoid(x) -> np.ndarray:
    """The logistic function 1 / (1 + exp(-x)), elementwise, without overflow for any finite x.

    Math:   x >= 0: 1 / (1 + exp(-x));  x < 0: exp(x) / (1 + exp(x))  (the same number, no overflow)
    Shapes: any; same shape and dtype as `x`.
    Torch:  torch.sigmoid(x)

    >>> float(sigmoid(np.array(0.0)))
    0.5
    """
    z = as_float_array(x, "x", promote_integers=True)  # torch.sigmoid promotes integers to float32
    out_dtype = z.dtype
    z = z.astype(_compute_dtype(z), copy=False)
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    out = np.where(z >= 0, 1 / (1 + e), e / (1 + e))
    return out.astype(out_dtype, copy=False)


def log_sigmoid(x) -> np.ndarray:
    """log(sigmoid(x)), elementwise, exact where sigmoid(x) itself would round to 0 or 1.

    Math:   log_sigmoid(x) = min(x, 0) - log1p(exp(-|x|))
    Shapes: any; same shape and dtype as `x`.
    Torch:  torch.nn.functional.logsigmoid(x)

    >>> round(float(log_sigmoid(np.array(0.0))), 6)  # log(1/2)
    -0.693147
    """
    z = as_float_array(x, "x")
    out_dtype = z.dtype
    z = z.astype(_compute_dtype(z), copy=False)
    out = np.minimum(z, 0) - np.log1p(np.exp(-np.abs(z)))
    return out.astype(out_dtype, copy=False)
