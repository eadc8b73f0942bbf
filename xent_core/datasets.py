"""Toy 2-D classification data for the training lab: Gaussian blobs, moons and spirals, in plain numpy.

Every function is pure and seeded: the same arguments give the same points, bit for bit, and the global
numpy random state is never touched. The points of every kind lie roughly within [-2, 2]^2, so one
learning rate suits them all.

    blobs    one round cloud per class, centres evenly spaced on a circle: separable by straight lines
    moons    interleaved half circles (sklearn's two moons, continued to the right for more classes)
    spirals  one arm per class winding around the origin (CS231n's spiral data): no straight line helps

`make_dataset` adds what makes real data hard: a class imbalance, label noise on the training labels,
and a held-out (stratified) validation split.

Shapes: x (N, 2) float64 points, y (N,) int64 class indices in 0..C-1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from xent_core.checks import XentInputError

Kind = Literal["blobs", "moons", "spirals"]
KINDS: tuple[str, ...] = ("blobs", "moons", "spirals")

# The bounds the training lab's widgets offer; make_dataset refuses anything outside them.
MIN_CLASSES, MAX_CLASSES = 2, 6
MIN_POINTS, MAX_POINTS = 100, 2000
MAX_LABEL_NOISE = 0.5  # at 50 % a 2-class label carries no information at all
MAX_IMBALANCE = 100.0
MIN_VAL_FRACTION, MAX_VAL_FRACTION = 0.1, 0.5
MIN_PER_CLASS = 4  # so that every class has points on both sides of the split

BLOB_RADIUS, BLOB_STD = 1.4, 0.45  # centre circle and spread: neighbouring blobs overlap a little
MOON_JITTER = 0.12  # Gaussian noise on every moon point, before scaling
SPIRAL_TURN, SPIRAL_JITTER = 2 * np.pi, 0.25  # one full turn from centre to rim; angular noise in radians


def _rng(seed: int, stream: int) -> np.random.Generator:
    """An independent generator per purpose, so that e.g. more label noise leaves the points in place."""
    return np.random.default_rng([int(seed), stream])


def class_counts(num_points: int, num_classes: int, imbalance: float = 1.0) -> np.ndarray:
    """How many points each class gets: a geometric decay from class 0 (largest) to class C-1 (smallest).

    Math:   n_c proportional to imbalance^(-c / (C - 1)), so n_0 / n_{C-1} = imbalance (up to rounding);
            every class gets at least MIN_PER_CLASS points and the counts sum to `num_points` exactly.
    Shapes: (C,) int64.

    >>> class_counts(100, 2, 4.0).tolist()  # 4 : 1
    [80, 20]
    """
    _check_int(num_classes, "num_classes", MIN_CLASSES, MAX_CLASSES)
    _check_int(num_points, "num_points", MIN_CLASSES * MIN_PER_CLASS, 10**6)
    if not (np.isfinite(imbalance) and 1.0 <= imbalance <= MAX_IMBALANCE):
        raise XentInputError(
            f"imbalance is the ratio of the largest to the smallest class, 1..{MAX_IMBALANCE:g}; got {imbalance}"
        )
    share = float(imbalance) ** (-np.arange(num_classes) / (num_classes - 1))  # (C,)
    raw = share / share.sum() * num_points
    counts = np.floor(raw).astype(np.int64)
    left_over = num_points - int(counts.sum())  # 0 <= left_over < C: to the largest remainders
    counts[np.argsort(-(raw - counts), kind="stable")[:left_over]] += 1
    while counts.min() < MIN_PER_CLASS:  # a tiny class borrows from the largest one
        counts[np.argmin(counts)] += 1
        counts[np.argmax(counts)] -= 1
    return counts


def make_points(kind: Kind, counts, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`counts[c]` points of each class c of one kind of data, classes in order (not shuffled).

    Shapes: counts (C,) -> x (N, 2) float64, y (N,) int64, N = counts.sum().
    Raises: XentInputError for an unknown kind, fewer than 2 or more than 6 classes, or a count below 1.

    >>> x, y = make_points("moons", [3, 2])
    >>> x.shape, y.tolist()
    ((5, 2), [0, 0, 0, 1, 1])
    """
    if kind not in KINDS:
        raise XentInputError(f"unknown kind of data {kind!r}; choose from {', '.join(KINDS)}")
    counts = np.asarray(counts)
    if counts.ndim != 1 or not MIN_CLASSES <= counts.size <= MAX_CLASSES or counts.dtype.kind not in "iu":
        raise XentInputError(f"counts must be {MIN_CLASSES} to {MAX_CLASSES} integers, one per class; got {counts}")
    if (counts < 1).any():
        raise XentInputError(f"every class needs at least one point; got counts {counts.tolist()}")
    rng = _rng(seed, 0)
    num_classes = counts.size
    xs = [_GENERATORS[kind](c, num_classes, int(n), rng) for c, n in enumerate(counts)]
    y = np.repeat(np.arange(num_classes, dtype=np.int64), counts)
    return np.concatenate(xs).astype(np.float64), y


def _blob(c: int, num_classes: int, n: int, rng: np.random.Generator) -> np.ndarray:
    angle = np.pi / 2 + 2 * np.pi * c / num_classes
    centre = BLOB_RADIUS * np.array([np.cos(angle), np.sin(angle)])
    return centre + BLOB_STD * rng.standard_normal((n, 2))  # (n, 2)


def _moon(c: int, num_classes: int, n: int, rng: np.random.Generator) -> np.ndarray:
    # sklearn's moons are (cos t, sin t) and (1 - cos t, 0.5 - sin t): moon c is centred at (c, c % 2 / 2)
    # and opens down for odd c; the row of moons is then centred and scaled into [-2, 2].
    t = rng.uniform(0.0, np.pi, n)
    sign = -1.0 if c % 2 else 1.0
    pts = np.column_stack([c + np.cos(t), 0.5 * (c % 2) + sign * np.sin(t)])
    pts += MOON_JITTER * rng.standard_normal((n, 2))
    half_width = (num_classes + 1) / 2  # the row spans x in [-1, C]
    return (pts - [(num_classes - 1) / 2, 0.25]) * (2.0 / half_width)  # (n, 2)


def _spiral(c: int, num_classes: int, n: int, rng: np.random.Generator) -> np.ndarray:
    r = rng.uniform(0.0, 1.0, n)
    angle = 2 * np.pi * c / num_classes + SPIRAL_TURN * r + SPIRAL_JITTER * rng.standard_normal(n)
    return 1.8 * r[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])  # (n, 2)


_GENERATORS = {"blobs": _blob, "moons": _moon, "spirals": _spiral}


@dataclass(frozen=True)
class DataConfig:
    """What the data looks like; every field has a widget on the training page."""

    kind: Kind = "spirals"
    num_classes: int = 3  # C, 2..6
    num_points: int = 600  # N before the split, 100..2000
    label_noise: float = 0.0  # share of the TRAINING labels replaced by another class, 0..0.5
    imbalance: float = 1.0  # largest class / smallest class, 1..100
    val_fraction: float = 0.25  # share of each class held out for validation, 0.1..0.5
    seed: int = 0  # points, split and noise all follow from it


@dataclass(frozen=True)
class Dataset:
    """A training set (labels possibly noisy) and a clean validation set."""

    config: DataConfig
    x_train: np.ndarray  # (N_train, 2) float64
    y_train: np.ndarray  # (N_train,) int64: the labels the model sees, with label noise
    clean_train: np.ndarray  # (N_train,) int64: the true labels of the training points
    x_val: np.ndarray  # (N_val, 2) float64
    y_val: np.ndarray  # (N_val,) int64: true labels (noise is applied to training labels only)
    extent: float  # every point lies in [-extent, extent]^2: the square the decision regions cover

    @property
    def num_classes(self) -> int:
        return self.config.num_classes

    @property
    def flipped(self) -> np.ndarray:
        """(N_train,) bool: the training points whose label noise changed."""
        return self.y_train != self.clean_train


def make_dataset(config: DataConfig = DataConfig()) -> Dataset:
    """The points of `config`, split into training and validation sets, with label noise and imbalance.

    How: class counts from `class_counts` (the imbalance); the points from `make_points`; then per class
    round(val_fraction * n_c) points (at least one) go to validation (a stratified split, so that a rare
    class is in both sets); finally round(label_noise * N_train) training labels, picked at random, are
    changed to a different class, also at random. Validation labels stay true, so validation accuracy
    measures what the model learned about the real classes.
    Raises: XentInputError for any field outside the bounds above.

    >>> data = make_dataset(DataConfig(kind="blobs", num_classes=2, num_points=100, val_fraction=0.2))
    >>> data.x_train.shape, data.x_val.shape
    ((80, 2), (20, 2))
    """
    _check_config(config)
    counts = class_counts(config.num_points, config.num_classes, config.imbalance)
    x, y = make_points(config.kind, counts, seed=config.seed)
    split_rng, noise_rng = _rng(config.seed, 1), _rng(config.seed, 2)
    is_val = np.zeros(len(y), dtype=bool)
    start = 0
    for n in counts:
        n_val = min(n - 1, max(1, round(config.val_fraction * n)))
        is_val[start + split_rng.choice(n, size=n_val, replace=False)] = True
        start += n
    train_idx = split_rng.permutation(np.flatnonzero(~is_val))  # shuffled: classes are not in blocks
    val_idx = split_rng.permutation(np.flatnonzero(is_val))
    clean = y[train_idx]
    noisy = clean.copy()
    n_flip = round(config.label_noise * len(clean))
    if n_flip:
        rows = noise_rng.choice(len(clean), size=n_flip, replace=False)
        noisy[rows] = (clean[rows] + noise_rng.integers(1, config.num_classes, size=n_flip)) % config.num_classes
    extent = float(np.ceil(np.abs(x).max() * 1.05 * 10) / 10)  # a round number a bit beyond the farthest point
    return Dataset(config, x[train_idx], noisy, clean, x[val_idx], y[val_idx], extent)


def _check_int(value, name: str, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not low <= value <= high:
        raise XentInputError(f"{name} must be an integer from {low} to {high}; got {value!r}")


def _check_config(config: DataConfig) -> None:
    if config.kind not in KINDS:
        raise XentInputError(f"unknown kind of data {config.kind!r}; choose from {', '.join(KINDS)}")
    _check_int(config.num_classes, "num_classes", MIN_CLASSES, MAX_CLASSES)
    _check_int(config.num_points, "num_points", MIN_POINTS, MAX_POINTS)
    _check_int(config.seed, "seed", 0, 2**32 - 1)
    if not (np.isfinite(config.label_noise) and 0.0 <= config.label_noise <= MAX_LABEL_NOISE):
        raise XentInputError(
            f"label_noise is a share of the training labels, 0 to {MAX_LABEL_NOISE}; got {config.label_noise}"
        )
    if not (np.isfinite(config.val_fraction) and MIN_VAL_FRACTION <= config.val_fraction <= MAX_VAL_FRACTION):
        raise XentInputError(
            f"val_fraction must be from {MIN_VAL_FRACTION} to {MAX_VAL_FRACTION}; got {config.val_fraction}"
        )
