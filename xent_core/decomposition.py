"""Cross-entropy as information: H(y, p) = H(y) + KL(y || p), in nats or bits, and how to read a loss.

For a target distribution y and a prediction p over the same C classes:
    H(y)        = -sum_c y_c log y_c           the target's own uncertainty: the least loss possible
    H(y, p)     = -sum_c y_c log p_c           the cross-entropy, what the training loss averages
    KL(y || p)  =  sum_c y_c log(y_c / p_c)    the excess, >= 0, zero only when p = y
A model can only shrink the KL part; with one-hot targets H(y) = 0 and the loss is all KL.
Bits use log base 2 (divide nats by log 2).

* `decompose`: the three quantities and their per-class terms for one (y, p) pair.
* `loss_scale`: what a loss value means as the probability given to the true class, and log C.
* `train_val_reading`: a train and a validation loss read against each other and log C.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from xent_core.checks import XentInputError, as_float_array, check_finite, check_non_negative
from xent_core.information import entropy, kl_div

UNITS = ("nats", "bits")
_LN2 = math.log(2.0)


def _unit_factor(unit: str) -> float:
    if unit not in UNITS:
        raise XentInputError(f"unit must be 'nats' or 'bits'; got {unit!r}")
    return 1.0 if unit == "nats" else 1.0 / _LN2


def normalise(weights, name: str = "weights") -> tuple[np.ndarray, float]:
    """(C,) non-negative numbers divided by their sum, and that sum: a probability distribution.

    Raises: XentInputError for negative or non-finite entries, or a sum of 0 (nothing to normalise).

    >>> normalise(np.array([2.0, 1.0, 1.0]))[0].tolist()
    [0.5, 0.25, 0.25]
    """
    w = as_float_array(weights, name, promote_integers=True).astype(np.float64)
    if w.ndim != 1 or w.size < 1:
        raise XentInputError(f"{name} must be one number per class, shape (C,); got shape {w.shape}")
    check_finite(w, name, elementwise=True)
    check_non_negative(w, name, "they are probabilities (or weights to be normalised into them)")
    total = float(w.sum())
    if total == 0:
        raise XentInputError(f"{name} are all 0: give at least one class a positive value")
    return w / total, total


@dataclass(frozen=True)
class Decomposition:
    """H(y), H(y, p) and KL(y || p) for one pair of distributions over C classes, in `unit`."""

    unit: str  # "nats" or "bits"
    target: np.ndarray  # (C,) y, normalised
    prediction: np.ndarray  # (C,) p, normalised
    target_total: float  # what the given y summed to before normalising (1 if it was a distribution)
    prediction_total: float
    entropy: float  # H(y)
    cross_entropy: float  # H(y, p) = entropy + kl (inf if p_c = 0 where y_c > 0)
    kl: float  # KL(y || p) >= 0
    entropy_terms: np.ndarray  # (C,) -y_c log y_c
    cross_entropy_terms: np.ndarray  # (C,) -y_c log p_c
    kl_terms: np.ndarray  # (C,) y_c log(y_c / p_c): may be negative per class, never in total
    baseline: float  # log C: the cross-entropy of the uniform guess against a one-hot target

    @property
    def num_classes(self) -> int:
        return self.target.size


def decompose(target, prediction, *, unit: str = "nats") -> Decomposition:
    """Entropy, cross-entropy and KL divergence of a target y and a prediction p (both (C,)).

    Math:   H(y, p) = H(y) + KL(y || p), term by term: -y log p = -y log y + y log(y / p).
            Both inputs are normalised first (divided by their sums), so any non-negative
            weights can be given. Terms with y_c = 0 are 0 (0 log 0 = 0); a class with
            y_c > 0 but p_c = 0 makes H(y, p) and KL infinite (the prediction ruled out what happens).
    Shapes: target (C,), prediction (C,).
    Raises: XentInputError for different lengths, negative or non-finite entries, an all-zero input,
            or an unknown unit.
    Torch:  H(y) = torch.special.entr(y).sum();  H(y, p) = F.cross_entropy(torch.log(p), y) (for p > 0)
            or -torch.xlogy(y, p).sum();  KL = F.kl_div(torch.log(p), y, reduction='sum'); bits: / log(2).

    >>> d = decompose(np.array([0.5, 0.5]), np.array([0.25, 0.75]), unit="bits")
    >>> d.entropy, round(d.cross_entropy, 4), round(d.kl, 4)  # 1 bit, then 1 + KL
    (1.0, 1.2075, 0.2075)
    """
    factor = _unit_factor(unit)
    y, y_total = normalise(target, "target")
    p, p_total = normalise(prediction, "prediction")
    if y.shape != p.shape:
        raise XentInputError(f"target has {y.size} classes but prediction has {p.size}; give one number per class")
    with np.errstate(divide="ignore", invalid="ignore"):
        log_p = np.log(p)
        log_y = np.log(y)
        h_terms = np.where(y > 0, -y * log_y, 0.0)
        ce_terms = np.where(y > 0, -y * log_p, 0.0)
        kl_terms = np.where(y > 0, y * (log_y - log_p), 0.0)
    h = float(entropy(y)) + 0.0  # + 0.0: a certain target has entropy 0, not -0.0 (which prints as "-0.0000")
    kl = float(kl_div(log_p, y, reduction="sum")) + 0.0
    return Decomposition(
        unit=unit,
        target=y,
        prediction=p,
        target_total=y_total,
        prediction_total=p_total,
        entropy=h * factor,
        cross_entropy=(h + kl) * factor,
        kl=kl * factor,
        entropy_terms=h_terms * factor + 0.0,
        cross_entropy_terms=ce_terms * factor,
        kl_terms=kl_terms * factor,
        baseline=math.log(y.size) * factor,
    )


def loss_to_probability(loss, *, unit: str = "nats") -> np.ndarray:
    """The probability whose -log is `loss`: exp(-L) in nats, 2^-L in bits.

    A mean cross-entropy L means the model gives the true class, on (geometric) average, this
    probability. Shapes: any; elementwise.

    >>> round(float(loss_to_probability(np.log(2.0))), 6)
    0.5
    """
    factor = _unit_factor(unit)
    value = as_float_array(loss, "loss", promote_integers=True).astype(np.float64)
    with np.errstate(over="ignore"):
        return np.exp(-value / factor)


@dataclass(frozen=True)
class LossScale:
    """Reference points for reading a loss with C classes, in `unit`."""

    unit: str
    num_classes: int
    baseline: float  # log C: predicting 1/C for every class, where an untrained model starts
    probs: np.ndarray  # (K,) probabilities given to the true class
    losses: np.ndarray  # (K,) -log of each: the loss that probability costs


def loss_scale(num_classes: int, *, unit: str = "nats", probs=(0.99, 0.9, 0.7, 0.5)) -> LossScale:
    """Losses for a few probabilities of the true class, and the uniform-guess baseline log C.

    1/C is appended to `probs` (sorted, largest first) so that the table ends at the baseline.
    """
    factor = _unit_factor(unit)
    if isinstance(num_classes, bool) or not isinstance(num_classes, int | np.integer) or num_classes < 2:
        raise XentInputError(f"num_classes must be a whole number of at least 2; got {num_classes!r}")
    p = as_float_array(np.asarray(probs, dtype=np.float64), "probs").ravel()
    if not np.all((p > 0) & (p <= 1)):
        raise XentInputError("probs must lie in (0, 1]")
    p = np.array(sorted(set(p.tolist()) | {1.0 / num_classes}, reverse=True))
    return LossScale(unit, int(num_classes), math.log(num_classes) * factor, p, -np.log(p) * factor)


@dataclass(frozen=True)
class TrainValReading:
    """A train and a validation loss side by side, in `unit`."""

    unit: str
    train: float
    val: float
    baseline: float  # log C
    train_prob: float  # exp(-train): the true class's (geometric) mean probability on the training set
    val_prob: float
    gap: float  # val - train
    verdict: str  # "learning_nothing", "overfitting", "val_below_train", "healthy"
    message: str


def train_val_reading(
    train_loss: float, val_loss: float, num_classes: int, *, unit: str = "nats", tolerance: float = 0.1
) -> TrainValReading:
    """Read a train and a validation cross-entropy against each other and against log C.

    Rules of thumb (not laws): both near or above log C: the model has learned nothing yet;
    validation well above training (by more than `tolerance` times the training loss, and by more
    than 0.05 nats): overfitting; validation below training: regularisation (dropout, label
    smoothing, augmentation) acts during training only, or the training loss is an average over an
    epoch in which the model improved; otherwise healthy.
    Raises: XentInputError for negative or non-finite losses.
    """
    factor = _unit_factor(unit)
    values = []
    for name, value in (("train loss", train_loss), ("validation loss", val_loss)):
        v = float(value)
        if not (math.isfinite(v) and v >= 0):
            raise XentInputError(f"the {name} must be a finite number of at least 0; got {value}")
        values.append(v)
    train, val = values
    if isinstance(num_classes, bool) or not isinstance(num_classes, int | np.integer) or num_classes < 2:
        raise XentInputError(f"num_classes must be a whole number of at least 2; got {num_classes!r}")
    baseline = math.log(num_classes) * factor
    gap = val - train
    if min(train, val) >= 0.9 * baseline:
        verdict = "learning_nothing"
        message = (
            f"Both losses sit near the uniform guess log C = {baseline:.3f}: the model predicts about 1/C for "
            "every class. Check the labels, the learning rate and that the logits reach the loss unsoftmaxed."
        )
    elif gap > max(tolerance * train, 0.05 * factor):
        verdict = "overfitting"
        message = (
            "Validation loss is well above training loss: the model fits the training set better than new data "
            "(overfitting). More data, augmentation, regularisation or early stopping help."
        )
    elif gap < -0.05 * factor:
        verdict = "val_below_train"
        message = (
            "Validation loss is below training loss. Common and usually harmless: dropout, label smoothing or "
            "augmentation make the training loss harder during training only, and the training loss is often "
            "averaged over an epoch while the model improved."
        )
    else:
        verdict = "healthy"
        message = "Training and validation loss are close: the model generalises about as well as it fits."
    return TrainValReading(
        unit=unit,
        train=train,
        val=val,
        baseline=baseline,
        train_prob=math.exp(-train / factor),
        val_prob=math.exp(-val / factor),
        gap=gap,
        verdict=verdict,
        message=message,
    )


# Example pairs for the page: (key, title, target y, prediction p).
EXAMPLES = (
    ("soft", "Soft target: annotators disagree", (0.6, 0.3, 0.1), (0.4, 0.4, 0.2)),
    ("onehot_right", "One-hot target, confident and right", (1.0, 0.0, 0.0), (0.9, 0.07, 0.03)),
    ("onehot_wrong", "One-hot target, confident and wrong", (1.0, 0.0, 0.0), (0.05, 0.9, 0.05)),
    (
        "smoothed",
        "Label smoothing 0.1 against a sharp prediction",
        (0.9 + 0.1 / 3, 0.1 / 3, 0.1 / 3),
        (0.99, 0.005, 0.005),
    ),
    ("uniform", "Uniform prediction: the random guess", (1.0, 0.0, 0.0), (1 / 3, 1 / 3, 1 / 3)),
    ("perfect", "Prediction equals the target: KL = 0", (0.6, 0.3, 0.1), (0.6, 0.3, 0.1)),
)
