"""Documented example batches, as data, with the numbers their sources print.

Each preset records where it comes from and what it should give; the tests recompute every
expected number from the preset object, and the pages load presets from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np


@dataclass(frozen=True)
class Preset:
    """An example input. `logits` is (N, C), or (N, C, d1, ...) for image-like examples."""

    key: str
    title: str
    description: str
    source: str
    logits: np.ndarray
    target: np.ndarray  # class indices, shape logits.shape without the class axis
    class_names: tuple[str, ...]
    expected: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))  # name -> documented value
    decimals: int = 4  # how many decimals the source prints

    @property
    def num_classes(self) -> int:
        return self.logits.shape[1]


def _frozen(values, dtype) -> np.ndarray:
    arr = np.array(values, dtype=dtype)
    arr.setflags(write=False)
    return arr


# torch.manual_seed(42); torch.randn((6, 3)) * 2, printed to full float32 precision.
SEED42 = Preset(
    key="seed42",
    title="Seed-42 batch: 6 samples, 3 classes",
    description=(
        "The batch from the 'Cross Entropy Loss Explained' tutorial: random logits for 6 objects and "
        "3 classes, taken apart step by step (softmax, pick the target, -log)."
    ),
    source="torch.manual_seed(42); acts = torch.randn((6, 3)) * 2; targ = tensor([0, 1, 0, 2, 2, 0])",
    logits=_frozen(
        [
            [3.853830575942993, 2.9745681285858154, -0.9947950839996338],
            [0.879178524017334, -1.5162622928619385, 2.156635284423828],
            [1.6016011238098145, 3.361241102218628, 0.711719810962677],
            [-1.3732459545135498, 1.220932960510254, 2.669475555419922],
            [-0.4632486402988434, 0.08351898193359375, -0.5031505823135376],
            [1.719717025756836, -0.6194535493850708, -0.7914209961891174],
        ],
        np.float32,
    ),
    target=_frozen([0, 1, 0, 2, 2, 0], np.int64),
    class_names=("class 0", "class 1", "class 2"),
    expected=MappingProxyType(
        {
            "per_sample": (0.3527, 3.9384, 1.9770, 0.2251, 1.3451, 0.1635),
            "target_probs": (0.7028, 0.0195, 0.1385, 0.7984, 0.2605, 0.8492),
        }
    ),
)

# Printed (4 decimals) output of torch.randn(3, 4) in the datagy tutorial; no seed was given, so
# the printed values are the data. Their mean CE is 1.2130 (the tutorial's full-precision run: 1.2129983).
BATCH_3X4 = Preset(
    key="batch3x4",
    title="3 samples, 4 classes (datagy tutorial)",
    description=(
        "Random predictions for 3 samples over 4 classes with labels [0, 1, 2]; nn.CrossEntropyLoss gives about 1.21."
    ),
    source="preds = torch.randn(3, 4); labels = torch.LongTensor([0, 1, 2]); nn.CrossEntropyLoss()(preds, labels)",
    logits=_frozen(
        [
            [0.3703, -0.1607, -0.7473, -2.2135],
            [0.6929, -0.2042, -0.7660, -0.3613],
            [-0.3363, 0.6417, 0.3103, 0.3132],
        ],
        np.float64,
    ),
    target=_frozen([0, 1, 2], np.int64),
    class_names=("class 0", "class 1", "class 2", "class 3"),
    expected=MappingProxyType({"mean": 1.2130}),
)

# A 1x3x2x2 tensor of per-pixel probabilities (3 classes on a 2x2 image), from a PyTorch forum
# question. Passed to cross_entropy as if it were logits it gives 0.9488; the intended loss is
# nll_loss(log(probs), reduction='sum') = 2.8824 (0.7206 as a mean over the 4 pixels).
PROBS_AS_LOGITS = Preset(
    key="probs_as_logits",
    title="Probabilities passed as logits (2x2 image, 3 classes)",
    description=(
        "Each pixel holds a probability distribution over 3 classes. cross_entropy expects logits and "
        "softmaxes them again, giving 0.9488; the cross-entropy the asker meant is 2.8824 (summed)."
    ),
    source="PyTorch forums, 'Cross Entropy Loss Math under the hood'",
    logits=_frozen(
        [[[[0.1, 0.3], [0.4, 0.5]], [[0.2, 0.3], [0.4, 0.5]], [[0.7, 0.4], [0.2, 0.0]]]],
        np.float64,
    ),
    target=_frozen([[[2, 2], [0, 1]]], np.int64),
    class_names=("class 0", "class 1", "class 2"),
    expected=MappingProxyType({"cross_entropy_mean": 0.9488, "nll_of_log_sum": 2.8824, "nll_of_log_mean": 0.7206}),
)

# The cat/dog spreadsheet from fast.ai lesson 5: one unconfident row, one confidently right, one
# confidently wrong. The lesson quotes losses of 0.3, 0.01 and 1.0; those are base-10 logs
# (Excel's LOG): -log10(0.5) = 0.30, -log10(0.98) = 0.0088, -log10(0.1) = 1.0. In nats, which torch
# uses, they are 0.6931, 0.0202 and 2.3026. The probabilities are reconstructed from those quoted
# losses; the logits are their logs, so softmax returns exactly these probabilities.
_CAT_DOG_PROBS = np.array([[0.5, 0.5], [0.98, 0.02], [0.9, 0.1]])
CAT_DOG = Preset(
    key="cat_dog",
    title="Cat vs dog: unsure, confidently right, confidently wrong",
    description=(
        "Three predictions for cat/dog: 50/50 on a cat, 98% cat on a cat, 90% cat on a dog. Cross-entropy "
        "charges a little for being unsure, almost nothing for being right, and a lot for being confidently wrong."
    ),
    source="fast.ai lesson 5 (2018), cat/dog cross-entropy spreadsheet",
    logits=_frozen(np.log(_CAT_DOG_PROBS), np.float64),
    target=_frozen([0, 0, 1], np.int64),
    class_names=("cat", "dog"),
    expected=MappingProxyType(
        {
            "probs": tuple(map(tuple, _CAT_DOG_PROBS)),
            "per_sample": (0.6931, 0.0202, 2.3026),
            "per_sample_log10": (0.30, 0.01, 1.00),
        }
    ),
    decimals=2,
)

# The five-class softmax walk-through from the same lesson: one prediction over cat, dog, plane,
# fish and building. The lesson quotes only the sum of the exponentials, 12.14; these logits are
# ours, chosen to reproduce that sum, with fish as the true class.
FIVE_CLASS = Preset(
    key="five_class",
    title="One image, five classes: cat, dog, plane, fish, building",
    description=(
        "Softmax by hand: exponentiate each score (always positive), add them up (12.14), divide. "
        "The result is positive and sums to 1."
    ),
    source="fast.ai lesson 5 (2018), softmax spreadsheet (sum of exponentials 12.14; logits reconstructed)",
    logits=_frozen([[1.5, 0.2, -1.2, 1.7, -0.41]], np.float64),
    target=_frozen([3], np.int64),
    class_names=("cat", "dog", "plane", "fish", "building"),
    expected=MappingProxyType({"sum_exp": 12.14}),
    decimals=2,
)

PRESETS: MappingProxyType = MappingProxyType(
    {p.key: p for p in (SEED42, BATCH_3X4, CAT_DOG, FIVE_CLASS, PROBS_AS_LOGITS)}
)


@dataclass(frozen=True)
class MultiLabelExample:
    """Rows that may carry several true labels: `labels` is (N, C) of 0 and 1, not class indices."""

    title: str
    description: str
    logits: np.ndarray  # (N, C)
    labels: np.ndarray  # (N, C) 0/1
    class_names: tuple[str, ...]


# Photos that show more than one thing: a cat with a dog, a lone fish, a plane over a building. The
# logits are ours: a model that already sees both animals in the first row (both logits high).
MULTI_LABEL = MultiLabelExample(
    title="Photos with several things in them",
    description=(
        "Row 0 shows a cat and a dog, row 1 a fish, row 2 a plane over a building. Sigmoid + binary "
        "cross-entropy can say yes to both animals; softmax must split one unit of probability between them."
    ),
    logits=_frozen(
        [[3.0, 2.5, -2.0, -3.0, -1.0], [-2.0, -1.5, -3.0, 2.0, -2.5], [-1.0, -2.0, 1.5, -2.0, 0.5]], np.float64
    ),
    labels=_frozen([[1, 1, 0, 0, 0], [0, 0, 0, 1, 0], [0, 0, 1, 0, 1]], np.float64),
    class_names=("cat", "dog", "plane", "fish", "building"),
)


def random_batch(num_samples: int, num_classes: int, *, seed: int, scale: float = 2.0) -> Preset:
    """A reproducible random batch: standard-normal logits times `scale`, uniform targets."""
    rng = np.random.default_rng(seed)
    logits = np.round(rng.standard_normal((num_samples, num_classes)) * scale, 4)
    target = rng.integers(0, num_classes, size=num_samples)
    return Preset(
        key=f"random-{seed}",
        title=f"Random batch (seed {seed})",
        description=f"{num_samples} samples, {num_classes} classes, logits ~ N(0, {scale}^2), rounded to 4 decimals.",
        source=f"numpy.random.default_rng({seed})",
        logits=_frozen(logits, np.float64),
        target=_frozen(target, np.int64),
        class_names=tuple(f"class {c}" for c in range(num_classes)),
    )
