"""Common cross-entropy mistakes, each computed both ways: what was written and what was meant.

Every function takes the learner's input and returns both pipelines' numbers, so a page can put
them side by side without doing any math:

* `probs_as_logits`: probabilities fed to cross_entropy (softmax applied twice) vs nll_loss(log p).
* `unnormalised_nll`: rows that do not sum to 1 fed to nll_loss(log a) vs the same rows normalised.
* `naive_log_softmax`, `log_softmax_steps`, `log_softmax_sweep`: log(exp(z) / sum(exp(z))) in a
  given dtype, the wrong way, beside the stable log_softmax and the log-sum-exp trick.
* `multilabel_sweep`: a row with several true labels under softmax + CE and sigmoid + BCE.
* `class_weighting`: one batch with and without class weights, and what 'mean' divides by.

The presets of the page live here too, as data (`UNNORMALISED`, `IMBALANCED`, `LOG_SOFTMAX_ROW`).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from xent_core import _shapes
from xent_core.activations import log_softmax, sigmoid, softmax
from xent_core.binary import binary_cross_entropy_with_logits
from xent_core.checks import (
    Advisory,
    XentInputError,
    advise,
    as_float_array,
    check_class_weight,
    check_finite,
    check_logits,
    check_non_negative,
    check_targets,
)
from xent_core.cross_entropy import cross_entropy, nll_loss
from xent_core.information import entropy
from xent_core.presets import Preset


def _frozen(values, dtype) -> np.ndarray:
    arr = np.array(values, dtype=dtype)
    arr.setflags(write=False)
    return arr


def _class_axis(arr: np.ndarray) -> int:
    return 0 if arr.ndim == 1 else 1


# ------------------------------------------------------------------------------------------ probabilities as logits


@dataclass(frozen=True)
class ProbsAsLogits:
    """One probability tensor through the pipeline that was written and the one that was meant.

    Shapes follow torch: probs (C,), (N, C) or (N, C, d1, ...); "position" means one sample (and
    pixel): the target's shape, (N, d1, ...).
    """

    probs: np.ndarray  # as given
    target: np.ndarray  # class indices
    ignored: np.ndarray  # bool, target's shape
    sums: np.ndarray  # each position's entries added up (1 for a distribution), target's shape
    double_softmax: np.ndarray  # softmax(probs) over the class axis: what cross_entropy really compares with
    wrong_per_position: np.ndarray  # F.cross_entropy(probs, target, reduction='none')
    wrong_mean: float  # F.cross_entropy(probs, target): 0.9488 for the forum tensor
    wrong_sum: float
    right_per_position: np.ndarray  # F.nll_loss(log(probs), target, reduction='none') = -log p_t
    right_sum: float  # F.nll_loss(log(probs), target, reduction='sum'): 2.8824 for the forum tensor
    right_mean: float  # ... reduction='mean': 0.7206
    entropy_given: np.ndarray  # entropy (nats) of each position's given distribution
    entropy_double: np.ndarray  # ... and after the second softmax: larger, the distribution is flatter
    advisories: tuple[Advisory, ...]  # what xent_core.advise says about `probs` passed as logits


def probs_as_logits(probs, target, *, ignore_index: int = -100) -> ProbsAsLogits:
    """Feed probabilities to cross_entropy (the mistake) and to nll_loss after a log (the fix).

    Math:   cross_entropy applies log_softmax itself, so with probabilities p it computes
                l = -log softmax(p)_t = -p_t + log sum_c exp(p_c)
            Every p_c lies in [0, 1], so exp(p_c) lies in [1, e]: the second softmax squeezes the
            distribution towards uniform and the loss towards log C, whatever the prediction.
            What was meant is l = -log p_t: nll_loss(log(p), t). (With p summing to 1,
            cross_entropy(log p, t) gives the same, since log_softmax(log p) = log p.)
            'mean' divides by the number of non-ignored positions; 'sum' adds them.
    Shapes: probs (C,), (N, C) or (N, C, d1, ..., dk); target (), (N,) or (N, d1, ..., dk).
    Raises: XentInputError for negative or non-finite probabilities (their log is undefined),
            targets out of range or of the wrong shape. A zero probability is allowed: its log is
            -inf, and a target on it costs an infinite loss, as in torch.
    Torch:  F.cross_entropy(probs, target)                          # the mistake
            F.nll_loss(torch.log(probs), target, reduction='sum')   # the fix (or 'mean')

    >>> r = probs_as_logits(np.array([[0.25, 0.75]]), np.array([1]))
    >>> round(r.right_mean, 4), round(r.wrong_mean, 4)  # -log 0.75, and the flattened value
    (0.2877, 0.4741)
    """
    p = check_logits(probs, "probs")
    check_non_negative(p, "probs", "they are probabilities, and the log of a negative number is undefined")
    targets = check_targets(p, target, ignore_index=ignore_index, allow_probs=False)
    t = targets.values
    axis = _class_axis(p)
    with np.errstate(divide="ignore"):  # log 0 = -inf is a legitimate log-probability
        log_p = np.log(p)
    wrong = cross_entropy(p, t, ignore_index=ignore_index, reduction="none")
    right = nll_loss(log_p, t, ignore_index=ignore_index, reduction="none")
    ignored = t == ignore_index
    double = softmax(p, axis=axis)
    return ProbsAsLogits(
        probs=p,
        target=t,
        ignored=ignored,
        sums=p.sum(axis=axis),
        double_softmax=double,
        wrong_per_position=wrong,
        wrong_mean=float(cross_entropy(p, t, ignore_index=ignore_index, reduction="mean")),
        wrong_sum=float(cross_entropy(p, t, ignore_index=ignore_index, reduction="sum")),
        right_per_position=right,
        right_sum=float(nll_loss(log_p, t, ignore_index=ignore_index, reduction="sum")),
        right_mean=float(nll_loss(log_p, t, ignore_index=ignore_index, reduction="mean")),
        entropy_given=entropy(p, axis=axis),
        entropy_double=entropy(double, axis=axis),
        advisories=tuple(advise(p)),
    )


# ------------------------------------------------------------------------------------------- rows not summing to 1

# The last layer's outputs of a model without softmax (sigmoids, ReLUs): what "pressing the wrong
# button" gives. Row 0 sums to 2, row 1 to 0.4, row 2 holds an entry above 1, row 3 is a distribution.
UNNORMALISED = Preset(
    key="unnormalised",
    title="Activations without a softmax: rows that do not sum to 1",
    description=(
        "Four predictions over 3 classes straight from a last layer without softmax. nll_loss(log a) reads "
        "them as probabilities anyway: row 0 (sum 2.0) looks better than it is, row 1 (sum 0.4) worse, and "
        "row 2 (an entry of 1.5) gets a negative loss."
    ),
    source="fast.ai lesson 5: 'screwy' cross-entropy numbers when the rows do not add up to 1",
    logits=_frozen([[0.9, 0.8, 0.3], [0.2, 0.1, 0.1], [1.5, 0.2, 0.1], [0.5, 0.3, 0.2]], np.float64),
    target=_frozen([0, 2, 0, 1], np.int64),
    class_names=("cat", "dog", "fish"),
    expected=MappingProxyType({"raw_per_row": (0.1054, 2.3026, -0.4055, 1.2040)}),
)


@dataclass(frozen=True)
class UnnormalisedRows:
    """Rows of non-negative scores through nll_loss(log a) as they are, and after dividing by their sums.

    N rows, C classes.
    """

    activations: np.ndarray  # (N, C) as given
    target: np.ndarray  # (N,)
    sums: np.ndarray  # (N,) each row's total: 1 for a probability distribution
    normalised: np.ndarray  # (N, C) a / sum: a distribution per row
    target_activation: np.ndarray  # (N,) a[n, t_n]
    raw_per_row: np.ndarray  # (N,) -log a_t: nll_loss(log a, t, reduction='none')
    fixed_per_row: np.ndarray  # (N,) -log(a_t / sum): the cross-entropy of the normalised row
    shift: np.ndarray  # (N,) raw - fixed = -log(sum): how much the missing normalisation moves each loss
    raw_mean: float  # nll_loss(log a, t)
    fixed_mean: float  # nll_loss(log(a / a.sum(1, keepdims=True)), t)
    negative: np.ndarray  # (N,) bool: the raw loss is below 0, impossible for a real cross-entropy


def unnormalised_nll(activations, target) -> UnnormalisedRows:
    """What nll_loss does with log-scores whose rows do not sum to 1, and what normalising fixes.

    Math:   nll_loss(log a, t) = -log a_t reads a_t as a probability. Dividing by the row's sum s
            makes it one: -log(a_t / s) = -log a_t + log s. So the raw loss is off by -log s: rows
            summing to more than 1 look better than they are (an entry above 1 even gives a
            negative loss), rows summing to less look worse. Softmax on the logits is what
            guarantees s = 1 in the first place.
    Shapes: activations (N, C), non-negative; target (N,) class indices.
    Raises: XentInputError for negative or non-finite activations, a row summing to 0 (there is
            nothing to normalise), and bad targets.
    Torch:  F.nll_loss(torch.log(a), t, reduction='none')                          # raw
            F.nll_loss(torch.log(a / a.sum(1, keepdim=True)), t, reduction='none')  # normalised

    >>> r = unnormalised_nll(np.array([[0.9, 0.8, 0.3]]), np.array([0]))  # a row summing to 2
    >>> round(float(r.raw_per_row[0]), 4), round(float(r.fixed_per_row[0]), 4)  # -log 0.9, -log 0.45
    (0.1054, 0.7985)
    """
    a = as_float_array(activations, "activations")
    if a.ndim != 2:
        raise XentInputError(f"activations must be a table of shape (N, C); got shape {a.shape}")
    check_finite(a, "activations")
    check_non_negative(a, "activations", "the log of a negative number is undefined")
    t = check_targets(a, target, ignore_index=None, allow_probs=False).values
    sums = a.sum(axis=1)
    empty = np.flatnonzero(sums == 0)
    if empty.size:
        raise XentInputError(f"row {int(empty[0])} sums to 0: there is nothing to normalise (every log is -inf)")
    normalised = a / sums[:, None]
    with np.errstate(divide="ignore"):  # log 0 = -inf: a zero on the target costs an infinite loss
        log_a, log_norm = np.log(a), np.log(normalised)
    raw = nll_loss(log_a, t, reduction="none")
    fixed = nll_loss(log_norm, t, reduction="none")
    return UnnormalisedRows(
        activations=a,
        target=t,
        sums=sums,
        normalised=normalised,
        target_activation=a[np.arange(len(t)), t],
        raw_per_row=raw,
        fixed_per_row=fixed,
        shift=-np.log(sums),
        raw_mean=float(nll_loss(log_a, t)),
        fixed_mean=float(nll_loss(log_norm, t)),
        negative=raw < 0,
    )


# ------------------------------------------------------------------------------------- log(softmax) vs log_softmax

DTYPES = ("float64", "float32", "float16")
# One row of logits for the page; it is multiplied by a scale and shifted, z = scale * row + shift.
LOG_SOFTMAX_ROW = _frozen([2.0, 1.0, 0.0, -2.0], np.float64)


def _dtype(dtype) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.name not in DTYPES:
        raise XentInputError(f"dtype must be one of {', '.join(DTYPES)}; got {dtype!r}")
    return dt


def _sum_like_torch(x: np.ndarray, axis: int) -> np.ndarray:
    """Sum along `axis`, keeping it; float16 accumulates in float32 and rounds once, as torch's CPU sum does."""
    if x.dtype == np.float16:
        return x.sum(axis=axis, keepdims=True, dtype=np.float32).astype(np.float16)
    return x.sum(axis=axis, keepdims=True)


def naive_log_softmax(logits, *, axis: int = -1) -> np.ndarray:
    """log(exp(z) / sum(exp(z))) in the logits' own dtype: THE WRONG WAY, kept to show how it fails.

    Math:   the same quantity as log_softmax(z) = z - logsumexp(z), written straight from the
            definition. In floating point it breaks long before the true answer does:
            * exp(z) overflows to inf once z > log(max float) (88.7 in float32, 11.1 in float16,
              709.8 in float64); then sum = inf and p = inf / inf = NaN, every other p = 0,
            * p underflows to 0 when z_c is far below the largest logit; log 0 = -inf, and a loss
              -log p = +inf,
            * every exp(z) underflows (all z very negative): 0 / 0 = NaN,
            although the true log-probabilities are finite and log_softmax returns them.
            Numpy's warnings for these steps are silenced: the non-finite results are the point.
    Shapes: any; the output has the shape and dtype of `logits` (float16 stays float16; its sum is
            accumulated in float32 and rounded, as torch's CPU kernels do).
    Raises: XentInputError for NaN or infinite logits (the failures should come from the formula).
    Torch:  torch.log(torch.exp(z) / torch.exp(z).sum(dim=axis, keepdim=True))   # don't; use
            torch.log_softmax(z, dim=axis)

    >>> naive_log_softmax(np.array([1000.0, 0.0])).tolist()  # exp(1000) overflows float64
    [nan, -inf]
    """
    z = check_logits(logits)
    with np.errstate(all="ignore"):
        e = np.exp(z)
        return np.log(e / _sum_like_torch(e, axis))


@dataclass(frozen=True)
class LogSoftmaxSteps:
    """Both ways of computing log-probabilities for one row of C logits, every intermediate in `dtype`."""

    dtype: str
    logits: np.ndarray  # (C,) z in `dtype` (what the computation sees after the cast)
    target: int
    # naive: log(exp(z) / sum(exp(z)))
    exp: np.ndarray  # (C,) exp(z): inf where it overflows, 0 where it underflows
    sum_exp: float  # inf if any exp overflowed, 0 if all underflowed
    log_sum_exp: float  # log(sum(exp(z))) taken literally: +inf or -inf where the sum broke
    probs: np.ndarray  # (C,) exp / sum: NaN (inf / inf, 0 / 0) or 0 (underflow)
    naive_log_probs: np.ndarray  # (C,) log(probs): NaN, -inf, or right
    naive_loss: float  # -naive_log_probs[target]: NaN or +inf where it broke
    # stable: the log-sum-exp trick
    max: float  # m = max_c z_c
    shifted: np.ndarray  # (C,) z - m: at most 0
    exp_shifted: np.ndarray  # (C,) exp(z - m): in (0, 1], the largest exactly 1
    sum_shifted: float  # in [1, C]
    log_sum_shifted: float  # log(sum(exp(z - m))) in [0, log C]
    logsumexp: float  # m + log(sum(exp(z - m))): log(sum(exp(z))) without overflow
    log_probs: np.ndarray  # (C,) z - logsumexp = log_softmax(z)
    loss: float  # -log_probs[target]
    naive_ok: np.ndarray  # (C,) bool: the naive log-probability is finite (and close to the stable one)


def log_softmax_steps(logits, target: int, dtype="float32") -> LogSoftmaxSteps:
    """One row of logits (C,), cast to `dtype`, through the naive formula and the log-sum-exp trick.

    Math:   naive:  log p_c = log(exp(z_c) / sum_k exp(z_k))
            stable: m = max_k z_k;  logsumexp(z) = m + log(sum_k exp(z_k - m));  log p_c = z_c - logsumexp(z)
            The two are equal in exact arithmetic (multiply numerator and denominator by exp(-m));
            in floating point only the second keeps every exp in (0, 1] and the sum in [1, C].
            float16 is computed in float32 and rounded back, as torch's CPU log_softmax does.
    Shapes: logits (C,); target a class index.
    Raises: XentInputError for logits that are not finite (also after the cast: 70000 is inf in
            float16), an unknown dtype, or a target out of range.
    Torch:  torch.log(torch.exp(z) / torch.exp(z).sum())  and  torch.log_softmax(z, dim=0),
            with z = torch.tensor(logits, dtype=getattr(torch, dtype))

    >>> s = log_softmax_steps(np.array([100.0, 0.0]), 1, "float32")
    >>> s.naive_loss, round(s.loss, 3)  # exp(100) overflows float32: p_1 = 1 / inf = 0, -log 0 = inf
    (inf, 100.0)
    """
    dt = _dtype(dtype)
    raw = check_logits(logits)
    if raw.ndim != 1:
        raise XentInputError(f"log_softmax_steps takes one row of logits (C,); got shape {raw.shape}")
    with np.errstate(over="ignore"):
        z = raw.astype(dt)
    check_finite(z, "logits")  # e.g. 1e5 cast to float16 is inf
    t = int(check_targets(z, np.asarray(target), ignore_index=None, allow_probs=False).values)
    with np.errstate(all="ignore"):
        e = np.exp(z)
        s = _sum_like_torch(e, 0)[0]
        probs = e / s
        naive = np.log(probs)
        naive_lse = np.log(s)
    cd = _shapes.compute_dtype(dt)
    zc = z.astype(cd)
    m = zc.max()
    shifted = zc - m
    exp_shifted = np.exp(shifted)
    sum_shifted = exp_shifted.sum()
    log_sum_shifted = np.log(sum_shifted)
    stable = log_softmax(z)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(naive) & (np.abs(naive.astype(np.float64) - stable.astype(np.float64)) <= _close(dt, stable))
    return LogSoftmaxSteps(
        dtype=dt.name,
        logits=z,
        target=t,
        exp=e,
        sum_exp=float(s),
        log_sum_exp=float(naive_lse),
        probs=probs,
        naive_log_probs=naive,
        naive_loss=float(-naive[t]) + 0.0,  # + 0.0: a loss of -0.0 prints as 0
        max=float(m),
        shifted=shifted.astype(dt),
        exp_shifted=exp_shifted.astype(dt),
        sum_shifted=float(sum_shifted),
        log_sum_shifted=float(log_sum_shifted),
        logsumexp=float((m + log_sum_shifted).astype(dt)),
        log_probs=stable,
        loss=float(-stable[t]) + 0.0,
        naive_ok=ok,
    )


def _close(dt: np.dtype, reference: np.ndarray) -> np.ndarray:
    """How far a finite naive log-probability may sit from the stable one and still count as right.

    A subnormal probability has only a few significant bits, so its log can be off by about 1;
    the tolerance is a few units of the dtype's precision of the value, plus that slack near underflow.
    """
    eps = float(np.finfo(dt).eps)
    return 8 * eps * np.maximum(1.0, np.abs(reference.astype(np.float64))) + 1e-3 * (dt == np.float16)


@dataclass(frozen=True)
class LogSoftmaxSweep:
    """The target's loss, naive and stable, as the logits row is scaled: z = scale * row + shift."""

    dtype: str
    scales: np.ndarray  # (S,)
    naive_loss: np.ndarray  # (S,) -log(exp(z_t) / sum(exp(z))): NaN or +inf where it breaks
    loss: np.ndarray  # (S,) -log_softmax(z)_t: finite throughout
    naive_ok: np.ndarray  # (S,) bool: the naive loss is finite and agrees with the stable one
    naive_kind: tuple[str, ...]  # (S,) "ok", "nan", "inf" (a +inf loss: p_t underflowed to 0) or "off"


def log_softmax_sweep(row, target: int, scales, *, shift: float = 0.0, dtype="float32") -> LogSoftmaxSweep:
    """The target's loss both ways for z = scale * row + shift at each of `scales` (S,), in `dtype`.

    Shows the ranges of scale where the naive formula fails while the stable one stays finite.
    Scales whose logits leave the dtype's range (inf after the cast) are refused.
    Shapes: row (C,); scales (S,).
    Torch:  z = (scale * row + shift).to(dtype); -torch.log(torch.exp(z) / torch.exp(z).sum())[t] and
            -torch.log_softmax(z, 0)[t]
    """
    dt = _dtype(dtype)
    base = check_logits(row).astype(np.float64)
    if base.ndim != 1:
        raise XentInputError(f"log_softmax_sweep takes one row of logits (C,); got shape {base.shape}")
    s = as_float_array(scales, "scales", promote_integers=True).astype(np.float64).ravel()
    check_finite(s, "scales", elementwise=True)
    t = int(check_targets(base, np.asarray(target), ignore_index=None, allow_probs=False).values)
    with np.errstate(over="ignore"):
        z = (s[:, None] * base[None, :] + float(shift)).astype(dt)  # (S, C)
    check_finite(z, "logits")
    naive = -naive_log_softmax(z, axis=-1)[:, t] + 0  # + 0: no -0.0 losses
    stable = -log_softmax(z, axis=-1)[:, t] + 0
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(naive) & (np.abs(naive.astype(np.float64) - stable.astype(np.float64)) <= _close(dt, stable))
    kind = tuple(
        "ok" if good else "nan" if np.isnan(v) else "inf" if np.isinf(v) else "off"
        for good, v in zip(ok, naive, strict=True)
    )
    return LogSoftmaxSweep(dt.name, s, naive, stable, ok, kind)


# ---------------------------------------------------------------------------------------------- multi-label


@dataclass(frozen=True)
class MultiLabelSweep:
    """One multi-label row as the logits of its true labels rise together, the others fixed."""

    values: np.ndarray  # (V,) the logit given to every true label
    bce: np.ndarray  # (V,) mean over classes of BCE-with-logits: tends to the other classes' part
    ce: np.ndarray  # (V,) cross-entropy against the normalised labels: never below `ce_floor`
    ce_floor: float  # entropy of the normalised labels: log k for k true labels
    softmax_true: np.ndarray  # (V,) softmax probability of each true label (they share one unit)
    sigmoid_true: np.ndarray  # (V,) sigmoid of the true labels' logit (each free to reach 1)


def multilabel_sweep(logits, labels, values) -> MultiLabelSweep:
    """Set every true label's logit of one row (C,) to each of `values` (V,) and score both models.

    Math:   sigmoid + BCE: each class is its own yes/no question, so as the true labels' logit v
            grows, their terms -log sigmoid(v) go to 0. softmax + CE against the normalised labels
            (1/k on each of k true labels): the k true classes share one unit of probability, so
            each gets at most 1/k and the loss never drops below log k.
    Shapes: logits (C,); labels (C,) of 0 and 1 with at least one 1; values (V,).
    Raises: XentInputError for labels that are not 0/1, a row without a true label, bad logits.
    Torch:  F.binary_cross_entropy_with_logits(z, y) and F.cross_entropy(z[None], (y / y.sum())[None])
            for each row z of the sweep.
    """
    z = check_logits(logits).astype(np.float64)
    if z.ndim != 1:
        raise XentInputError(f"multilabel_sweep takes one row of logits (C,); got shape {z.shape}")
    y = as_float_array(labels, "labels", promote_integers=True).astype(np.float64)
    if y.shape != z.shape:
        raise XentInputError(f"labels of shape {y.shape} must match the logits' shape {z.shape}")
    if not np.all((y == 0) | (y == 1)):
        raise XentInputError("labels are 0 or 1 (one per class)")
    if not y.any():
        raise XentInputError("the row has no true label; tick at least one class")
    v = as_float_array(values, "values", promote_integers=True).astype(np.float64).ravel()
    check_finite(v, "values", elementwise=True)
    true = y == 1
    rows = np.tile(z, (v.size, 1))  # (V, C)
    rows[:, true] = v[:, None]
    ys = np.tile(y, (v.size, 1))
    target = ys / y.sum()
    bce = binary_cross_entropy_with_logits(rows, ys, reduction="none").mean(axis=1)
    ce = cross_entropy(rows, target, reduction="none")
    first = int(np.flatnonzero(true)[0])
    return MultiLabelSweep(
        values=v,
        bce=bce,
        ce=ce,
        ce_floor=float(entropy(target[0])),
        softmax_true=softmax(rows)[:, first],
        sigmoid_true=sigmoid(v),
    )


# ---------------------------------------------------------------------------------------------- class imbalance

# A defect detector's batch: 8 parts without defect, 3 scratched, 1 cracked. The model is good on
# the common class and poor on the rare ones; the logits are ours.
IMBALANCED = Preset(
    key="imbalanced",
    title="Imbalanced batch: 8 'no defect', 3 'scratch', 1 'crack'",
    description=(
        "Twelve inspected parts. The model is sure and right about the eight parts without a defect and "
        "unsure or wrong about the rare scratches and the one crack."
    ),
    source="xent: made up to show torch's class weights",
    logits=_frozen(
        [
            [3.0, 0.5, -1.0],
            [2.5, 0.0, -0.5],
            [3.2, 1.0, -1.5],
            [2.8, 0.2, -1.0],
            [2.0, 0.5, 0.0],
            [3.5, 0.0, -2.0],
            [2.2, 1.2, -0.5],
            [2.9, 0.3, -1.2],
            [1.5, 1.0, -0.5],
            [2.0, 0.5, 0.2],
            [0.5, 1.8, 0.0],
            [1.8, 0.6, 0.4],
        ],
        np.float64,
    ),
    target=_frozen([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 2], np.int64),
    class_names=("no defect", "scratch", "crack"),
)


def _class_counts(target, num_classes: int) -> tuple[np.ndarray, int]:
    t = np.asarray(target)
    if t.dtype.kind not in "iu" or t.ndim != 1:
        raise XentInputError(f"target must be a 1-D array of class indices; got {t.dtype} of shape {t.shape}")
    if int(num_classes) < 1:
        raise XentInputError(f"num_classes must be at least 1; got {num_classes}")
    if t.size and (t.min() < 0 or t.max() >= num_classes):
        raise XentInputError(f"targets must lie in 0..{num_classes - 1}")
    return np.bincount(t, minlength=num_classes).astype(np.float64), t.size


def inverse_frequency_weights(target, num_classes: int) -> np.ndarray:
    """Class weights 1 / count_c: every class's samples together weigh 1.

    Then sum_n w[t_n] is the number of classes present, and the weighted 'mean' divides by that,
    not by N. Classes absent from `target` get weight 1 (no sample uses it).
    Shapes: target (N,) class indices -> (C,).

    >>> inverse_frequency_weights(np.array([0, 0, 0, 1]), 2).tolist()
    [0.3333333333333333, 1.0]
    """
    counts, _ = _class_counts(target, num_classes)
    with np.errstate(divide="ignore"):
        return np.where(counts > 0, 1.0 / counts, 1.0)


def balanced_weights(target, num_classes: int) -> np.ndarray:
    """Class weights N / (C * count_c) (scikit-learn's "balanced"): each class carries weight N / C in total.

    Then sum_n w[t_n] = N when every class is present, so the weighted 'mean' divides by N after
    all. Classes absent from `target` get weight 1 (no sample uses it).
    Shapes: target (N,) class indices -> (C,).

    >>> balanced_weights(np.array([0, 0, 0, 1]), 2).tolist()
    [0.6666666666666666, 2.0]
    """
    counts, n = _class_counts(target, num_classes)
    with np.errstate(divide="ignore"):
        return np.where(counts > 0, n / (num_classes * counts), 1.0)


@dataclass(frozen=True)
class ClassWeighting:
    """One batch's cross-entropy without and with class weights. N samples, C classes."""

    weight: np.ndarray  # (C,)
    per_sample: np.ndarray  # (N,) -log p_t, unweighted
    sample_weight: np.ndarray  # (N,) w[t_n]
    weighted_per_sample: np.ndarray  # (N,) w[t_n] * (-log p_t): F.cross_entropy(..., weight=w, reduction='none')
    plain_sum: float  # sum_n -log p_t
    plain_mean: float  # plain_sum / N: F.cross_entropy(z, t)
    weighted_sum: float  # sum_n w[t_n] (-log p_t): reduction='sum'
    weight_total: float  # sum_n w[t_n]: what 'mean' divides by
    weighted_mean: float  # weighted_sum / weight_total: F.cross_entropy(z, t, weight=w)
    weighted_sum_over_n: float  # weighted_sum / N: what 'mean' does NOT compute
    class_count: np.ndarray  # (C,) samples per class
    class_loss: np.ndarray  # (C,) mean -log p_t of each class's samples (nan if none)
    plain_share: np.ndarray  # (C,) fraction of plain_sum from each class's samples
    weighted_share: np.ndarray  # (C,) fraction of weighted_sum from each class's samples


def class_weighting(logits, target, weight) -> ClassWeighting:
    """The same batch with and without class weights, and the denominator of the weighted 'mean'.

    Math:   l_n = -log softmax(z_n)[t_n];  weighted: w[t_n] * l_n.
            'mean' without weights: sum_n l_n / N. With weights torch divides by the summed weights
            of the targets, not by N:  sum_n w[t_n] l_n / sum_n w[t_n]. So the weighted mean stays on
            the scale of a per-sample loss (a weighted average), while each rare-class sample counts
            w[t] times as much. Shares show how much of the total each class's samples contribute.
    Shapes: logits (N, C); target (N,); weight (C,), non-negative.
    Raises: XentInputError for bad logits, targets or weights (negative weights included).
    Torch:  F.cross_entropy(z, t) and F.cross_entropy(z, t, weight=w) (and reduction='none'/'sum')

    >>> r = class_weighting(np.zeros((2, 2)), np.array([0, 1]), np.array([1.0, 3.0]))
    >>> round(r.weighted_mean, 4), round(r.weighted_sum_over_n, 4)  # log 2, and 4 log 2 / 2
    (0.6931, 1.3863)
    """
    z = check_logits(logits)
    if z.ndim != 2:
        raise XentInputError(f"class_weighting takes logits of shape (N, C); got {z.shape}")
    t = check_targets(z, target, ignore_index=None, allow_probs=False).values
    c = z.shape[1]
    w = check_class_weight(weight, c, np.dtype(np.float64))
    if w is None:
        raise XentInputError("class_weighting needs class weights, one per class")
    check_non_negative(w, "weight", "a class weight scales that class's loss")
    per = cross_entropy(z, t, reduction="none").astype(np.float64)
    weighted = cross_entropy(z, t, weight=w, reduction="none").astype(np.float64)
    w_t = w[t]
    n = len(t)
    count = np.bincount(t, minlength=c)
    plain_by_class = np.bincount(t, weights=per, minlength=c)
    weighted_by_class = np.bincount(t, weights=weighted, minlength=c)
    with np.errstate(invalid="ignore", divide="ignore"):
        class_loss = np.where(count > 0, plain_by_class / count, np.nan)
        plain_share = plain_by_class / plain_by_class.sum() if plain_by_class.sum() > 0 else np.zeros(c)
        weighted_share = weighted_by_class / weighted_by_class.sum() if weighted_by_class.sum() > 0 else np.zeros(c)
    return ClassWeighting(
        weight=w,
        per_sample=per,
        sample_weight=w_t,
        weighted_per_sample=weighted,
        plain_sum=float(per.sum()),
        plain_mean=float(cross_entropy(z, t)),
        weighted_sum=float(weighted.sum()),
        weight_total=float(w_t.sum()),
        weighted_mean=float(cross_entropy(z, t, weight=w)),
        weighted_sum_over_n=float(weighted.sum() / n) if n else float("nan"),
        class_count=count,
        class_loss=class_loss,
        plain_share=plain_share,
        weighted_share=weighted_share,
    )
