"""K-dimensional cross-entropy on image-like grids: a loss per pixel, void pixels ignored.

Semantic segmentation scores every pixel: logits (N, C, H, W), a target mask (N, H, W) of class
indices, and torch's cross_entropy averages the per-pixel losses. Datasets mark pixels that should
not count (object boundaries, unlabelled areas) with a "void" label, 255 in Pascal VOC, and pass
ignore_index=255 so that those pixels add nothing to the loss and nothing to its denominator.

* `blob_scene`, `forum_scene`: example inputs (a generated scene of blobs, seed 002's 2x2 tensor).
* `pixel_losses`: the per-pixel loss, the predicted class map and per-class means, reduced as torch does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from xent_core._reduction import check_reduction, reduce
from xent_core.activations import softmax
from xent_core.checks import XentInputError, check_class_weight, check_logits, check_targets
from xent_core.cross_entropy import cross_entropy
from xent_core.presets import PROBS_AS_LOGITS

VOID = 255  # Pascal VOC's label for pixels that do not count
MAX_SIDE = 32
MAX_CLASSES = 10
MIN_CLASSES = 2


@dataclass(frozen=True)
class Scene:
    """An image-like example: logits (1, C, H, W), a target mask (1, H, W), and the void label."""

    key: str
    title: str
    description: str
    logits: np.ndarray  # (1, C, H, W) float64
    target: np.ndarray  # (1, H, W) int64: class indices, `ignore_index` for void pixels
    class_names: tuple[str, ...]  # (C,)
    ignore_index: int = VOID

    @property
    def num_classes(self) -> int:
        return self.logits.shape[1]

    @property
    def size(self) -> tuple[int, int]:
        return self.logits.shape[2], self.logits.shape[3]


def _frozen(arr: np.ndarray) -> np.ndarray:
    arr = np.ascontiguousarray(arr)
    arr.setflags(write=False)
    return arr


def _check_scene_shape(height: int, width: int, num_classes: int) -> None:
    for name, value, low, high in (
        ("height", height, 1, MAX_SIDE),
        ("width", width, 1, MAX_SIDE),
        ("num_classes", num_classes, MIN_CLASSES, MAX_CLASSES),
    ):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or not low <= value <= high:
            raise XentInputError(f"{name} must be a whole number from {low} to {high}; got {value!r}")


def _box_blur(x: np.ndarray) -> np.ndarray:
    """3x3 mean over the last two axes, edges repeated: soft borders between predicted regions."""
    h, w = x.shape[-2:]
    padded = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(1, 1), (1, 1)], mode="edge")
    out = np.zeros_like(x)
    for dy in range(3):
        for dx in range(3):
            out += padded[..., dy : dy + h, dx : dx + w]
    return out / 9.0


def _boundary(mask: np.ndarray) -> np.ndarray:
    """(H, W) bool: background pixels (class 0) with a 4-neighbour that belongs to an object.

    The band lies on the background's side, so that even a 2-pixel object keeps its pixels.
    """
    near = np.zeros(mask.shape, dtype=bool)
    near[1:, :] |= mask[:-1, :] > 0
    near[:-1, :] |= mask[1:, :] > 0
    near[:, 1:] |= mask[:, :-1] > 0
    near[:, :-1] |= mask[:, 1:] > 0
    return near & (mask == 0)


def blob_scene(
    height: int = 16,
    width: int = 16,
    num_classes: int = 4,
    *,
    seed: int = 0,
    noise: float = 0.5,
    void_boundaries: bool = True,
    ignore_index: int = VOID,
    confidence: float = 4.0,
) -> Scene:
    """A generated scene: background (class 0) with one elliptic blob per other class, and a model's logits.

    The target mask draws the blobs; the "model" sees each blob slightly displaced and resized
    (and now and then as the wrong class), so its mistakes sit at object edges, as a real
    segmenter's do. Its logits are `confidence` on its predicted class, blurred over 3x3 pixels
    (less sure near its own borders), plus `noise` times standard normal noise. With
    `void_boundaries`, a 1-pixel band of background around every object gets the void label
    `ignore_index`, as VOC marks object outlines (on the outside, so no object loses its pixels).
    The same seed gives the same blobs and the same noise pattern at every noise level.
    Shapes: logits (1, C, H, W) float64, target (1, H, W) int64; H, W <= 32, 2 <= C <= 10.
    Raises: XentInputError for sizes out of range, a negative seed, a negative or non-finite noise.
    """
    _check_scene_shape(height, width, num_classes)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise XentInputError(f"seed must be a non-negative whole number; got {seed!r}")
    noise = float(noise)
    if not (np.isfinite(noise) and noise >= 0):
        raise XentInputError(f"noise must be a non-negative number; got {noise}")
    rng = np.random.default_rng([int(seed), height, width, num_classes])
    yy, xx = np.mgrid[0:height, 0:width] + 0.5
    target = np.zeros((height, width), dtype=np.int64)
    guess = np.zeros((height, width), dtype=np.int64)
    radius = max(1.2, 0.22 * min(height, width))
    for c in range(1, num_classes):
        cy, cx = rng.uniform(0, height), rng.uniform(0, width)
        ry, rx = radius * rng.uniform(0.6, 1.3, size=2)
        target[((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1] = c
        dy, dx = rng.normal(0, 0.25, size=2) * (ry, rx)
        grow = rng.uniform(0.75, 1.25)
        seen_as = c if rng.random() > 0.2 or num_classes < 3 else int(rng.integers(1, num_classes))
        guess[((yy - cy - dy) / (ry * grow)) ** 2 + ((xx - cx - dx) / (rx * grow)) ** 2 <= 1] = seen_as
    onehot = (guess[None, :, :] == np.arange(num_classes)[:, None, None]).astype(np.float64)  # (C, H, W)
    noise_field = np.random.default_rng([int(seed), height, width, num_classes, 1]).standard_normal(onehot.shape)
    logits = confidence * _box_blur(onehot) + noise * noise_field
    if void_boundaries:
        target = np.where(_boundary(target), ignore_index, target)
    names = ("background", *(f"class {c}" for c in range(1, num_classes)))
    return Scene(
        key="blobs",
        title=f"Generated scene: {height}×{width}, {num_classes} classes",
        description=(
            "Background and one blob per class; the model sees each blob a little displaced, so its "
            "mistakes sit at the edges." + (" Boundary pixels are void." if void_boundaries else "")
        ),
        logits=_frozen(logits[None]),
        target=_frozen(target[None]),
        class_names=names,
        ignore_index=ignore_index,
    )


def forum_scene(ignore_index: int = VOID) -> Scene:
    """Seed 002's 1x3x2x2 tensor read as logits, as torch's cross_entropy reads it: mean loss 0.9488.

    (Those numbers are really probabilities; see xent_core.pitfalls.probs_as_logits for what was meant.)
    """
    preset = PROBS_AS_LOGITS
    return Scene(
        key="forum",
        title="Seed 002: the forum's 2×2 image, 3 classes",
        description=(
            "A 1×3×2×2 tensor and a 2×2 target mask from a PyTorch forum question. cross_entropy reads the "
            "numbers as logits and gives 0.9488."
        ),
        logits=_frozen(preset.logits.astype(np.float64)),
        target=_frozen(preset.target.astype(np.int64)),
        class_names=preset.class_names,
        ignore_index=ignore_index,
    )


def with_target(scene: Scene, target) -> Scene:
    """The scene with another target mask (1, H, W) or (H, W), validated against its logits."""
    t = np.asarray(target)
    if t.ndim == 2:
        t = t[None]
    t = check_targets(scene.logits, t, ignore_index=scene.ignore_index, allow_probs=False).values
    return replace(scene, target=_frozen(t.copy()))


@dataclass(frozen=True)
class PixelLosses:
    """Cross-entropy of every pixel and what a segmentation page shows of it.

    Shapes for logits (N, C, d1, ..., dk): "pixel arrays" are (N, d1, ..., dk), the target's shape.
    """

    per_pixel: np.ndarray  # F.cross_entropy(..., reduction='none'): 0 at ignored pixels, as in torch
    ignored: np.ndarray  # bool: target == ignore_index
    probs: np.ndarray  # softmax over the class axis, the logits' shape
    predicted: np.ndarray  # int64: argmax over classes, the predicted class map
    target_prob: np.ndarray  # softmax probability of the target class (nan at ignored pixels)
    correct: np.ndarray  # bool: predicted == target (False at ignored pixels)
    loss: float  # reduced as torch does ('mean': over non-ignored pixels, weighted; or 'sum')
    reduction: str  # 'mean' or 'sum'
    denominator: float  # what 'mean' divides by: the summed weights of the counted pixels (their number)
    num_counted: int  # pixels that are not ignored
    class_count: np.ndarray  # (C,) counted pixels per target class
    class_loss: np.ndarray  # (C,) mean per-pixel loss over each class's pixels (nan if none)
    class_accuracy: np.ndarray  # (C,) share of each class's pixels predicted right (nan if none)
    accuracy: float  # share of counted pixels predicted right (nan if none)
    baseline: float  # log C: the loss of a uniform guess at every pixel


def pixel_losses(logits, target, *, ignore_index: int = -100, reduction: str = "mean", weight=None) -> PixelLosses:
    """Per-pixel cross-entropy, the predicted map and per-class means for K-dimensional input.

    Math:   l[n, i] = -w[t] log softmax(z[n, :, i])[t], t = target[n, i], for every position i
            (pixel); 0 where target == ignore_index. 'mean' divides the sum by the summed weights
            of the non-ignored pixels (their count without weights): void pixels leave both the
            numerator and the denominator. With every pixel ignored the mean is 0/0 = nan, as in torch.
            class_loss[c] averages l over the pixels whose target is c (weights included).
    Shapes: logits (N, C, d1, ..., dk) (images: (N, C, H, W)); target (N, d1, ..., dk).
            (N, C) input works too: each sample is one "pixel".
    Raises: XentInputError as cross_entropy does (non-finite logits, targets out of range that
            are not the ignore index, shapes that do not match).
    Torch:  F.cross_entropy(logits, target, weight=weight, ignore_index=ignore_index, reduction=reduction),
            and reduction='none' for per_pixel; logits.argmax(1) for the predicted map.

    >>> r = pixel_losses(np.zeros((1, 2, 1, 2)), np.array([[[0, 255]]]), ignore_index=255)
    >>> round(r.loss, 6), r.num_counted  # log 2 over the one counted pixel
    (0.693147, 1)
    """
    check_reduction(reduction, allowed=("mean", "sum"))
    z = check_logits(logits)
    if z.ndim < 2:
        raise XentInputError(f"pixel_losses takes logits of shape (N, C, d1, ...); got {z.shape}")
    t = check_targets(z, target, ignore_index=ignore_index, allow_probs=False).values
    c = z.shape[1]
    w = check_class_weight(weight, c, np.dtype(np.float64))
    per = cross_entropy(z, t, weight=w, ignore_index=ignore_index, reduction="none").astype(np.float64)
    ignored = t == ignore_index
    counted = ~ignored
    safe = np.where(ignored, 0, t)
    probs = softmax(z, axis=1)
    target_prob = np.take_along_axis(probs, safe[:, None], axis=1)[:, 0]
    target_prob = np.where(ignored, np.nan, target_prob)
    predicted = z.argmax(axis=1)
    correct = (predicted == t) & counted
    flat_t = t[counted]
    count = np.bincount(flat_t, minlength=c)
    loss_by_class = np.bincount(flat_t, weights=per[counted], minlength=c)
    right_by_class = np.bincount(flat_t, weights=correct[counted].astype(np.float64), minlength=c)
    sample_w = np.ones(flat_t.size) if w is None else w[flat_t]
    denominator = float(sample_w.sum()) if reduction == "mean" else 1.0
    n_counted = int(counted.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        class_loss = np.where(count > 0, loss_by_class / count, np.nan)
        class_accuracy = np.where(count > 0, right_by_class / count, np.nan)
    reduced = reduce(per.ravel(), reduction, denominator)
    return PixelLosses(
        per_pixel=per,
        ignored=ignored,
        probs=probs,
        predicted=predicted,
        target_prob=target_prob,
        correct=correct,
        loss=float(reduced),
        reduction=reduction,
        denominator=denominator,
        num_counted=n_counted,
        class_count=count,
        class_loss=class_loss,
        class_accuracy=class_accuracy,
        accuracy=float(correct.sum() / n_counted) if n_counted else float("nan"),
        baseline=float(np.log(c)),
    )
