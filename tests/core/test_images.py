"""xent_core.images against torch's K-dimensional cross_entropy, and the generated scenes' promises."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import xent_core as xc
from xent_core import images as im

FAST = settings(max_examples=15, deadline=None)
VOID = im.VOID


@st.composite
def segmentations(draw):
    """logits (N, C, H, W) and a mask (N, H, W) with some void pixels."""
    n, c, h, w = draw(st.integers(1, 2)), draw(st.integers(2, 5)), draw(st.integers(1, 5)), draw(st.integers(1, 5))
    logits = draw(hnp.arrays(np.float64, (n, c, h, w), elements=st.floats(-20, 20)))
    mask = draw(hnp.arrays(np.int64, (n, h, w), elements=st.integers(0, c - 1)))
    void = draw(hnp.arrays(np.bool_, (n, h, w)))
    return logits, np.where(void, VOID, mask)


@FAST
@given(batch=segmentations(), reduction=st.sampled_from(["mean", "sum"]))
def test_pixel_losses_match_torchs_k_dimensional_cross_entropy(batch, reduction):
    logits, mask = batch
    r = im.pixel_losses(logits, mask, ignore_index=VOID, reduction=reduction)
    z, t = torch.tensor(logits), torch.tensor(mask)
    per = F.cross_entropy(z, t, ignore_index=VOID, reduction="none").numpy()
    np.testing.assert_allclose(r.per_pixel, per, rtol=1e-12, atol=1e-12)
    expected = float(F.cross_entropy(z, t, ignore_index=VOID, reduction=reduction))
    if math.isnan(expected):  # every pixel void: 0 / 0
        assert math.isnan(r.loss)
    else:
        assert r.loss == pytest.approx(expected, rel=1e-12, abs=1e-12)
    np.testing.assert_array_equal(r.predicted, z.argmax(1).numpy())
    counted = mask != VOID
    assert r.num_counted == int(counted.sum())
    assert r.ignored.tolist() == (~counted).tolist()
    assert np.all(r.per_pixel[~counted] == 0)
    # per class: the mean of torch's per-pixel losses over that class's pixels
    for k in range(logits.shape[1]):
        pixels = per[mask == k]
        assert r.class_count[k] == pixels.size
        if pixels.size:
            assert r.class_loss[k] == pytest.approx(pixels.mean(), rel=1e-12, abs=1e-12)
        else:
            assert math.isnan(r.class_loss[k])
    if counted.any():
        right = (z.argmax(1).numpy() == mask)[counted]
        assert r.accuracy == pytest.approx(right.mean())


def test_the_forum_scene_gives_0_9488_as_torch_does():
    scene = im.forum_scene()
    r = im.pixel_losses(scene.logits, scene.target, ignore_index=scene.ignore_index)
    expected = float(F.cross_entropy(torch.tensor(scene.logits), torch.tensor(scene.target)))
    assert round(r.loss, 4) == round(expected, 4) == xc.PRESETS["probs_as_logits"].expected["cross_entropy_mean"]
    assert r.num_counted == 4


def test_the_mean_leaves_void_pixels_out_of_the_denominator():
    logits = np.zeros((1, 2, 1, 4))  # every pixel: log 2
    mask = np.array([[[0, 1, VOID, VOID]]])
    r = im.pixel_losses(logits, mask, ignore_index=VOID)
    assert r.loss == pytest.approx(math.log(2))  # (2 log 2) / 2, not / 4
    assert r.denominator == 2
    assert im.pixel_losses(logits, mask, ignore_index=VOID, reduction="sum").loss == pytest.approx(2 * math.log(2))


def test_a_class_weight_weights_the_pixels_and_the_denominator():
    rng = np.random.default_rng(0)
    logits, mask = rng.standard_normal((1, 3, 4, 4)), rng.integers(0, 3, (1, 4, 4))
    w = np.array([0.5, 2.0, 1.0])
    r = im.pixel_losses(logits, mask, weight=w)
    expected = F.cross_entropy(torch.tensor(logits), torch.tensor(mask), weight=torch.tensor(w))
    assert r.loss == pytest.approx(float(expected), rel=1e-12)


def test_blob_scenes_are_reproducible_and_noise_moves_only_the_logits():
    a = im.blob_scene(16, 16, 4, seed=3, noise=0.5)
    b = im.blob_scene(16, 16, 4, seed=3, noise=0.5)
    quiet = im.blob_scene(16, 16, 4, seed=3, noise=0.0)
    other = im.blob_scene(16, 16, 4, seed=4, noise=0.5)
    np.testing.assert_array_equal(a.logits, b.logits)
    np.testing.assert_array_equal(a.target, quiet.target)
    assert not np.array_equal(a.logits, quiet.logits)
    assert not np.array_equal(a.target, other.target)
    assert a.logits.shape == (1, 4, 16, 16)
    assert a.target.shape == (1, 16, 16)
    labels = set(np.unique(a.target).tolist())
    assert labels <= {0, 1, 2, 3, VOID}
    assert VOID in labels
    assert not a.logits.flags.writeable


def test_void_marks_the_background_band_around_objects_and_leaves_objects_whole():
    plain = im.blob_scene(24, 24, 5, seed=1, void_boundaries=False)
    voided = im.blob_scene(24, 24, 5, seed=1, void_boundaries=True)
    t, v = plain.target[0], voided.target[0]
    changed = t != v
    assert np.all(v[changed] == VOID)
    assert np.all(t[changed] == 0)  # background only: every object keeps all its pixels
    padded = np.pad(t, 1, mode="edge")
    near_object = (padded[:-2, 1:-1] > 0) | (padded[2:, 1:-1] > 0) | (padded[1:-1, :-2] > 0) | (padded[1:-1, 2:] > 0)
    np.testing.assert_array_equal(changed, near_object & (t == 0))
    tiny = im.blob_scene(4, 4, 3, seed=0)
    for k in np.unique(im.blob_scene(4, 4, 3, seed=0, void_boundaries=False).target):
        assert (tiny.target == k).any()  # even on a 4 x 4 grid no class disappears


def test_the_noise_free_model_gets_most_pixels_right_and_is_unsure_at_its_edges():
    scene = im.blob_scene(32, 32, 10, seed=0, noise=0.0)
    r = im.pixel_losses(scene.logits, scene.target, ignore_index=VOID)
    assert r.accuracy > 0.7
    assert r.loss < r.baseline  # better than a uniform guess


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        (dict(height=33), "height must be a whole number from 1 to 32"),
        (dict(num_classes=11), "num_classes must be a whole number from 2 to 10"),
        (dict(noise=-1.0), "noise must be a non-negative number"),
        (dict(seed=-2), "seed must be a non-negative whole number"),
    ],
)
def test_scene_settings_out_of_range_raise_a_named_error(kwargs, words):
    with pytest.raises(xc.XentInputError, match=words):
        im.blob_scene(**kwargs)


def test_a_mask_out_of_range_is_refused_with_its_position():
    scene = im.forum_scene()
    with pytest.raises(xc.XentInputError, match=r"position \(1, 0\): target 7 is out of range"):
        im.with_target(scene, np.array([[2, 2], [7, 1]]))
    assert im.with_target(scene, np.array([[2, VOID], [0, 1]])).target[0, 0, 1] == VOID
    with pytest.raises(xc.XentInputError, match="reduction"):
        im.pixel_losses(scene.logits, scene.target, reduction="none")
