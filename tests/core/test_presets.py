"""Documented numbers: every preset reproduces what its source prints, recomputed from the preset object.

Each documented value is recomputed twice, with xent_core and with torch, and must round to the
published number at the precision the source prints. `RECIPES` says how each (preset, expected key)
is computed; a preset that gains an expected number without a recipe fails
`test_every_documented_number_has_a_recipe`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import xent_core as xc


def decimals_of(value: float) -> int:
    """Decimals in the shortest repr of `value` (1.977 -> 3); the preset's `decimals` is the floor."""
    text = repr(float(value))
    return 0 if "." not in text or "e" in text else len(text.split(".")[1].rstrip("0"))


def assert_rounds_to(actual, documented, preset: xc.Preset) -> None:
    """`actual` rounds to `documented` at the printed precision: within half a unit of its last decimal."""
    actual = np.asarray(actual, dtype=np.float64).ravel()
    documented = np.asarray(documented, dtype=np.float64).ravel()
    assert actual.shape == documented.shape
    for a, d in zip(actual, documented, strict=True):
        places = max(preset.decimals, decimals_of(d))
        assert abs(a - d) <= 0.5 * 10.0**-places * (1 + 1e-9), f"{a} does not round to {d} at {places} decimals"


def tt(a) -> torch.Tensor:
    return torch.tensor(np.array(a))


# How to recompute each documented number: (preset key, expected key) -> {"xent": f, "torch": f}, f(preset) -> value.
Recipe = dict[str, Callable[[xc.Preset], object]]
RECIPES: dict[tuple[str, str], Recipe] = {
    ("seed42", "per_sample"): {
        "xent": lambda p: xc.cross_entropy(p.logits, p.target, reduction="none"),
        "torch": lambda p: F.cross_entropy(tt(p.logits), tt(p.target), reduction="none").numpy(),
    },
    ("seed42", "target_probs"): {
        "xent": lambda p: xc.softmax(p.logits)[np.arange(len(p.target)), p.target],
        "torch": lambda p: torch.softmax(tt(p.logits), 1)[torch.arange(len(p.target)), tt(p.target)].numpy(),
    },
    ("batch3x4", "mean"): {
        "xent": lambda p: xc.cross_entropy(p.logits, p.target),
        "torch": lambda p: F.cross_entropy(tt(p.logits), tt(p.target)).item(),
    },
    ("probs_as_logits", "cross_entropy_mean"): {
        "xent": lambda p: xc.cross_entropy(p.logits, p.target),
        "torch": lambda p: F.cross_entropy(tt(p.logits), tt(p.target)).item(),
    },
    ("probs_as_logits", "nll_of_log_sum"): {
        "xent": lambda p: _nll_of_log(p, "sum"),
        "torch": lambda p: F.nll_loss(torch.log(tt(p.logits)), tt(p.target), reduction="sum").item(),
    },
    ("probs_as_logits", "nll_of_log_mean"): {
        "xent": lambda p: _nll_of_log(p, "mean"),
        "torch": lambda p: F.nll_loss(torch.log(tt(p.logits)), tt(p.target), reduction="mean").item(),
    },
    ("cat_dog", "probs"): {
        "xent": lambda p: xc.softmax(p.logits),
        "torch": lambda p: torch.softmax(tt(p.logits), 1).numpy(),
    },
    ("cat_dog", "per_sample"): {
        "xent": lambda p: xc.cross_entropy(p.logits, p.target, reduction="none"),
        "torch": lambda p: F.cross_entropy(tt(p.logits), tt(p.target), reduction="none").numpy(),
    },
    ("cat_dog", "per_sample_log10"): {  # the lesson's spreadsheet uses Excel's LOG, base 10
        "xent": lambda p: xc.cross_entropy(p.logits, p.target, reduction="none") / np.log(10),
        "torch": lambda p: F.cross_entropy(tt(p.logits), tt(p.target), reduction="none").numpy() / math.log(10),
    },
    ("five_class", "sum_exp"): {
        "xent": lambda p: xc.cross_entropy_trace(p.logits, p.target).sum_exp[0],
        "torch": lambda p: torch.exp(tt(p.logits)).sum().item(),
    },
}


def _nll_of_log(preset: xc.Preset, reduction: str):
    """The forum's fix: log of the probabilities into nll_loss (0 would give -inf; none occurs at a target)."""
    with np.errstate(divide="ignore"):  # pixel (1, 1) has probability 0 for class 2, which is not its target
        log_p = np.log(preset.logits)
    return xc.nll_loss(log_p, preset.target, reduction=reduction)


DOCUMENTED = [(key, name) for key, preset in xc.PRESETS.items() for name in preset.expected]


def test_every_documented_number_has_a_recipe():
    assert set(DOCUMENTED) == set(RECIPES)


def test_every_preset_documents_at_least_one_number():
    assert all(preset.expected for preset in xc.PRESETS.values())


@pytest.mark.parametrize("backend", ["xent", "torch"])
@pytest.mark.parametrize(("key", "name"), DOCUMENTED, ids=[f"{k}.{n}" for k, n in DOCUMENTED])
def test_preset_reproduces_its_documented_number(key, name, backend):
    preset = xc.PRESETS[key]
    assert_rounds_to(RECIPES[key, name][backend](preset), preset.expected[name], preset)


# ---------------------------------------------------------------------------------------------- the seeds, spelled out


def test_seed42_per_sample_loss_is_the_tutorials():
    per_sample = xc.cross_entropy(xc.PRESETS["seed42"].logits, xc.PRESETS["seed42"].target, reduction="none")
    assert tuple(np.round(per_sample.astype(np.float64), 4)) == (0.3527, 3.9384, 1.9770, 0.2251, 1.3451, 0.1635)


def test_seed42_target_probabilities_are_the_tutorials():
    preset = xc.PRESETS["seed42"]
    picked = xc.softmax(preset.logits)[np.arange(6), preset.target].astype(np.float64)
    assert tuple(np.round(picked, 4)) == (0.7028, 0.0195, 0.1385, 0.7984, 0.2605, 0.8492)


def test_seed42_logits_are_torch_randn_with_seed_42_times_2_bit_for_bit():
    preset = xc.PRESETS["seed42"]
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(42)
        acts = torch.randn((6, 3)) * 2
    finally:
        torch.random.set_rng_state(state)
    assert preset.logits.dtype == np.float32
    np.testing.assert_array_equal(preset.logits, acts.numpy())


def test_seed42_loss_keeps_the_float32_dtype():
    preset = xc.PRESETS["seed42"]
    assert xc.cross_entropy(preset.logits, preset.target, reduction="none").dtype == np.float32


def test_batch3x4_mean_is_the_datagy_value():
    preset = xc.PRESETS["batch3x4"]
    assert abs(xc.cross_entropy(preset.logits, preset.target) - 1.2130) < 5e-5
    # The tutorial's full-precision run printed 1.2129982709884644; the 4-decimal logits land within 1e-4.
    assert abs(xc.cross_entropy(preset.logits, preset.target) - 1.2129982709884644) < 1e-4


def test_probs_as_logits_shows_the_forum_numbers():
    preset = xc.PRESETS["probs_as_logits"]
    assert round(float(xc.cross_entropy(preset.logits, preset.target)), 4) == 0.9488
    assert round(float(_nll_of_log(preset, "sum")), 4) == 2.8824
    assert round(float(_nll_of_log(preset, "mean")), 4) == 0.7206


def test_probs_as_logits_holds_a_distribution_per_pixel():
    np.testing.assert_allclose(xc.PRESETS["probs_as_logits"].logits.sum(axis=1), 1.0, rtol=1e-12)


def test_cat_dog_softmax_returns_the_spreadsheet_probabilities():
    preset = xc.PRESETS["cat_dog"]
    np.testing.assert_allclose(xc.softmax(preset.logits), np.array(preset.expected["probs"]), rtol=1e-12)


def test_cat_dog_losses_in_nats_and_in_the_lessons_base_10():
    preset = xc.PRESETS["cat_dog"]
    nats = xc.cross_entropy(preset.logits, preset.target, reduction="none")
    assert tuple(np.round(nats, 4)) == (0.6931, 0.0202, 2.3026)
    assert tuple(np.round(nats / np.log(10), 2)) == (0.30, 0.01, 1.00)


def test_five_class_sum_of_exponentials_is_12_14():
    preset = xc.PRESETS["five_class"]
    assert round(float(np.exp(preset.logits).sum()), 2) == 12.14
    assert round(float(xc.cross_entropy_trace(preset.logits, preset.target).sum_exp[0]), 2) == 12.14


# ---------------------------------------------------------------------------------------------- preset objects


@pytest.mark.parametrize("key", xc.PRESETS)
def test_preset_is_well_formed(key):
    preset = xc.PRESETS[key]
    assert preset.key == key
    assert preset.logits.ndim >= 2
    assert preset.target.shape == preset.logits.shape[:1] + preset.logits.shape[2:]
    assert preset.target.dtype == np.int64
    assert ((preset.target >= 0) & (preset.target < preset.num_classes)).all()
    assert len(preset.class_names) == preset.num_classes
    assert preset.title
    assert preset.description
    assert preset.source
    assert np.isfinite(xc.cross_entropy(preset.logits, preset.target))


@pytest.mark.parametrize("key", xc.PRESETS)
def test_preset_arrays_are_read_only(key):
    preset = xc.PRESETS[key]
    for arr in (preset.logits, preset.target):
        assert not arr.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            arr[(0,) * arr.ndim] = 1


def test_presets_mapping_is_read_only():
    with pytest.raises(TypeError):
        xc.PRESETS["mine"] = xc.PRESETS["seed42"]  # type: ignore[index]
    with pytest.raises(TypeError):
        xc.PRESETS["seed42"].expected["mean"] = 0.0  # type: ignore[index]


def test_random_batch_is_reproducible_for_a_seed():
    a, b = xc.random_batch(5, 4, seed=7), xc.random_batch(5, 4, seed=7)
    np.testing.assert_array_equal(a.logits, b.logits)
    np.testing.assert_array_equal(a.target, b.target)


def test_random_batch_differs_across_seeds():
    a, b = xc.random_batch(5, 4, seed=7), xc.random_batch(5, 4, seed=8)
    assert not np.array_equal(a.logits, b.logits)


def test_random_batch_has_the_requested_shape_rounding_and_read_only_arrays():
    batch = xc.random_batch(8, 3, seed=1, scale=2.0)
    assert batch.logits.shape == (8, 3)
    assert batch.target.shape == (8,)
    assert ((batch.target >= 0) & (batch.target < 3)).all()
    np.testing.assert_array_equal(batch.logits, np.round(batch.logits, 4))  # "rounded to 4 decimals"
    assert not batch.logits.flags.writeable
    assert not batch.target.flags.writeable
    assert len(batch.class_names) == 3


def test_random_batch_scale_scales_the_logits():
    small, large = xc.random_batch(200, 3, seed=3, scale=0.5), xc.random_batch(200, 3, seed=3, scale=5.0)
    assert 0.3 < small.logits.std() < 0.7
    assert 3.0 < large.logits.std() < 7.0
