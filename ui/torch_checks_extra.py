"""Live torch cross-checks for the pitfalls, images and information pages (torch imported lazily).

Each check recomputes the page's numbers with torch, the way the page's text says torch computes
them, and compares them with xent_core's. Like ui/torch_check.py this is the app's own code; the
tests use their own torch oracle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ui.torch_check import _torch  # the one lazy, single-threaded torch import

TOLERANCE = 1e-9  # float64 on both sides agrees to ~1e-15; relative to max(1, |value|)


@dataclass(frozen=True)
class Agreement:
    """How torch's numbers compare with the page's: `ok`, the largest difference, and what was compared."""

    ok: bool
    max_diff: float
    what: str  # the torch calls, for the badge
    torch_values: dict  # name -> torch's number (the headline values)


def _diff(expected, actual) -> tuple[float, bool]:
    """Largest difference where both are finite, and whether the non-finite entries (inf, nan) match exactly."""
    a = np.asarray(expected, dtype=np.float64)
    b = np.asarray(actual, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf"), False
    same_pattern = bool(np.array_equal(np.isnan(a), np.isnan(b)) and np.array_equal(a[np.isinf(a)], b[np.isinf(a)]))
    same_pattern &= bool(np.array_equal(np.isinf(a), np.isinf(b)))
    finite = np.isfinite(a) & np.isfinite(b)
    diff = float(np.max(np.abs(a[finite] - b[finite]), initial=0.0))
    scale = max(1.0, float(np.max(np.abs(a[finite]), initial=0.0)))
    return diff / scale, same_pattern


def _agreement(pairs, what: str, torch_values: dict, tolerance: float = TOLERANCE) -> Agreement:
    worst, ok = 0.0, True
    for expected, actual in pairs:
        d, same = _diff(expected, actual)
        worst = max(worst, d)
        ok &= same
    return Agreement(bool(ok and worst <= tolerance), worst, what, torch_values)


def _float(x) -> float:
    return float(x.detach()) if hasattr(x, "detach") else float(x)


# ---------------------------------------------------------------------------------------------- pitfalls


def probs_as_logits_check(probs: np.ndarray, target: np.ndarray, result) -> Agreement:
    """result: xent_core.pitfalls.probs_as_logits(probs, target)."""
    torch, F = _torch()
    p = torch.tensor(np.asarray(probs, dtype=np.float64))
    t = torch.tensor(np.asarray(target), dtype=torch.long)
    wrong = F.cross_entropy(p, t)
    right_sum = F.nll_loss(torch.log(p), t, reduction="sum")
    right_mean = F.nll_loss(torch.log(p), t)
    return _agreement(
        [
            (wrong, result.wrong_mean),
            (right_sum, result.right_sum),
            (right_mean, result.right_mean),
            (F.cross_entropy(p, t, reduction="none").numpy(), result.wrong_per_position),
            (F.nll_loss(torch.log(p), t, reduction="none").numpy(), result.right_per_position),
            (torch.softmax(p, dim=1 if p.ndim > 1 else 0).numpy(), result.double_softmax),
        ],
        "F.cross_entropy(probs, target) and F.nll_loss(torch.log(probs), target)",
        {"wrong_mean": _float(wrong), "right_sum": _float(right_sum), "right_mean": _float(right_mean)},
    )


def unnormalised_check(activations: np.ndarray, target: np.ndarray, result) -> Agreement:
    """result: xent_core.pitfalls.unnormalised_nll(activations, target)."""
    torch, F = _torch()
    a = torch.tensor(np.asarray(activations, dtype=np.float64))
    t = torch.tensor(np.asarray(target), dtype=torch.long)
    raw = F.nll_loss(torch.log(a), t, reduction="none")
    fixed = F.nll_loss(torch.log(a / a.sum(1, keepdim=True)), t, reduction="none")
    return _agreement(
        [
            (raw.numpy(), result.raw_per_row),
            (fixed.numpy(), result.fixed_per_row),
            (raw.mean(), result.raw_mean),
            (fixed.mean(), result.fixed_mean),
        ],
        "F.nll_loss(torch.log(a), t) and F.nll_loss(torch.log(a / a.sum(1, keepdim=True)), t)",
        {"raw_mean": _float(raw.mean()), "fixed_mean": _float(fixed.mean())},
    )


# float16 and float32 round differently in numpy and torch: compare to a few units of the dtype's precision.
_DTYPE_TOLERANCE = {"float64": 1e-12, "float32": 1e-5, "float16": 4e-3}


def log_softmax_check(steps) -> Agreement:
    """steps: xent_core.pitfalls.log_softmax_steps(...); torch in the same dtype, naive and stable.

    The naive form must fail exactly where xent_core's does (the same NaN and inf entries), and
    agree elsewhere; the stable one must agree everywhere.
    """
    torch, _ = _torch()
    z = torch.tensor(np.asarray(steps.logits)).to(getattr(torch, steps.dtype))
    e = torch.exp(z)
    naive = torch.log(e / e.sum(dim=0, keepdim=True))
    stable = torch.log_softmax(z, dim=0)
    tol = _DTYPE_TOLERANCE[steps.dtype]
    return _agreement(
        [
            (naive.double().numpy(), steps.naive_log_probs.astype(np.float64)),
            (stable.double().numpy(), steps.log_probs.astype(np.float64)),
        ],
        f"torch.log(torch.exp(z) / torch.exp(z).sum()) and torch.log_softmax(z, 0) in torch.{steps.dtype}",
        {"naive_loss": -float(naive[steps.target]), "loss": -float(stable[steps.target])},
        tolerance=tol,
    )


def multilabel_sweep_check(logits: np.ndarray, labels: np.ndarray, sweep) -> Agreement:
    """sweep: xent_core.pitfalls.multilabel_sweep(logits, labels, values) for one row."""
    torch, F = _torch()
    y = torch.tensor(np.asarray(labels, dtype=np.float64))
    rows = torch.tensor(np.asarray(logits, dtype=np.float64)).repeat(len(sweep.values), 1)
    rows[:, y == 1] = torch.tensor(sweep.values)[:, None]
    ys = y.repeat(len(sweep.values), 1)
    bce = F.binary_cross_entropy_with_logits(rows, ys, reduction="none").mean(1)
    ce = F.cross_entropy(rows, ys / y.sum(), reduction="none")
    return _agreement(
        [(bce.numpy(), sweep.bce), (ce.numpy(), sweep.ce)],
        "F.binary_cross_entropy_with_logits and F.cross_entropy against the normalised labels",
        {},
    )


def class_weighting_check(logits: np.ndarray, target: np.ndarray, weight: np.ndarray, result) -> Agreement:
    """result: xent_core.pitfalls.class_weighting(logits, target, weight)."""
    torch, F = _torch()
    z = torch.tensor(np.asarray(logits, dtype=np.float64))
    t = torch.tensor(np.asarray(target), dtype=torch.long)
    w = torch.tensor(np.asarray(weight, dtype=np.float64))
    plain = F.cross_entropy(z, t)
    weighted = F.cross_entropy(z, t, weight=w)
    weighted_sum = F.cross_entropy(z, t, weight=w, reduction="sum")
    return _agreement(
        [
            (plain, result.plain_mean),
            (weighted, result.weighted_mean),
            (weighted_sum, result.weighted_sum),
            (F.cross_entropy(z, t, weight=w, reduction="none").numpy(), result.weighted_per_sample),
        ],
        "F.cross_entropy(z, t) and F.cross_entropy(z, t, weight=w)",
        {"plain_mean": _float(plain), "weighted_mean": _float(weighted), "weighted_sum": _float(weighted_sum)},
    )


# ---------------------------------------------------------------------------------------------- images


def pixel_check(logits: np.ndarray, target: np.ndarray, ignore_index: int, reduction: str, result) -> Agreement:
    """result: xent_core.images.pixel_losses(logits, target, ignore_index=..., reduction=...)."""
    torch, F = _torch()
    z = torch.tensor(np.asarray(logits, dtype=np.float64))
    t = torch.tensor(np.asarray(target), dtype=torch.long)
    loss = F.cross_entropy(z, t, ignore_index=ignore_index, reduction=reduction)
    per = F.cross_entropy(z, t, ignore_index=ignore_index, reduction="none")
    same_map = bool(np.array_equal(z.argmax(1).numpy(), result.predicted))
    agreement = _agreement(
        [(loss, result.loss), (per.numpy(), result.per_pixel)],
        f"F.cross_entropy(logits, target, ignore_index={ignore_index}, reduction={reduction!r})",
        {"loss": _float(loss)},
    )
    if not same_map:
        return Agreement(False, agreement.max_diff, agreement.what + " and logits.argmax(1)", agreement.torch_values)
    return agreement


# ---------------------------------------------------------------------------------------------- information


def decomposition_check(d) -> Agreement:
    """d: xent_core.decomposition.decompose(...); torch's entr, xlogy and kl_div in float64."""
    torch, F = _torch()
    y = torch.tensor(np.asarray(d.target, dtype=np.float64))
    p = torch.tensor(np.asarray(d.prediction, dtype=np.float64))
    factor = 1.0 if d.unit == "nats" else 1.0 / np.log(2.0)
    h = torch.special.entr(y).sum() * factor
    if bool((p > 0).all()):
        ce = F.cross_entropy(torch.log(p)[None], y[None]) * factor
        kl = F.kl_div(torch.log(p), y, reduction="sum") * factor
        what = "torch.special.entr(y).sum(), F.cross_entropy(torch.log(p), y), F.kl_div(torch.log(p), y, 'sum')"
    else:  # log 0 = -inf: cross_entropy and kl_div would compute 0 * -inf = nan; xlogy keeps 0 log 0 = 0
        ce = -torch.xlogy(y, p).sum() * factor
        kl = (torch.xlogy(y, y) - torch.xlogy(y, p)).sum() * factor
        what = "torch.special.entr(y).sum(), -torch.xlogy(y, p).sum() and the KL through xlogy"
    return _agreement(
        [(h, d.entropy), (ce, d.cross_entropy), (kl, d.kl)],
        what,
        {"entropy": _float(h), "cross_entropy": _float(ce), "kl": _float(kl)},
    )
