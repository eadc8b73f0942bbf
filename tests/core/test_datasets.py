"""The training lab's data: shapes, bounds, determinism, and that imbalance, label noise and the split do
what their documentation says."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import xent_core as xc
from xent_core import datasets as ds
from xent_core.datasets import DataConfig, class_counts, make_dataset, make_points


@pytest.mark.parametrize("kind", ds.KINDS)
@pytest.mark.parametrize("num_classes", [2, 3, 6])
def test_points_have_documented_shapes_dtypes_and_stay_in_the_square(kind, num_classes):
    counts = np.arange(5, 5 + num_classes)
    x, y = make_points(kind, counts, seed=3)
    assert x.shape == (counts.sum(), 2)
    assert x.dtype == np.float64
    assert y.dtype == np.int64
    assert np.bincount(y).tolist() == counts.tolist()
    assert np.isfinite(x).all()
    assert np.abs(x).max() < 3.0  # "roughly within [-2, 2]^2": one learning rate suits every kind


@pytest.mark.parametrize("kind", ds.KINDS)
def test_same_seed_same_points_and_another_seed_other_points(kind):
    a = make_points(kind, [30, 30, 30], seed=1)
    b = make_points(kind, [30, 30, 30], seed=1)
    c = make_points(kind, [30, 30, 30], seed=2)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.allclose(a[0], c[0])


def test_generators_leave_numpys_global_random_state_alone():
    before = np.random.get_state()[1].copy()  # noqa: NPY002 (the legacy global state is what is checked)
    make_dataset(DataConfig(label_noise=0.2))
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002


def test_blob_classes_sit_around_separate_centres():
    x, y = make_points("blobs", [200, 200, 200], seed=0)
    centres = np.array([x[y == c].mean(axis=0) for c in range(3)])
    gaps = [np.linalg.norm(centres[a] - centres[b]) for a in range(3) for b in range(a + 1, 3)]
    assert min(gaps) > 4 * ds.BLOB_STD  # far apart compared with the spread: an easy, linearly separable set


def test_spiral_arms_wind_around_the_origin():
    """Along one arm the angle keeps turning as the radius grows (what makes the data non-linear)."""
    x, y = make_points("spirals", [400, 400], seed=0)
    arm = x[y == 0]
    r = np.hypot(arm[:, 0], arm[:, 1])
    angle = np.unwrap(np.arctan2(arm[np.argsort(r), 1], arm[np.argsort(r), 0]))
    assert angle[-40:].mean() - angle[:40].mean() > np.pi  # at least half a turn from centre to rim


@pytest.mark.parametrize(("n", "c", "ratio"), [(100, 2, 4.0), (600, 3, 10.0), (2000, 6, 100.0), (101, 5, 1.0)])
def test_class_counts_sum_exactly_and_follow_the_imbalance_ratio(n, c, ratio):
    counts = class_counts(n, c, ratio)
    assert counts.sum() == n
    assert counts.min() >= ds.MIN_PER_CLASS
    assert (np.diff(counts) <= 0).all()  # class 0 is the largest
    if counts.min() > ds.MIN_PER_CLASS:  # not lifted to the minimum
        assert counts[0] / counts[-1] == pytest.approx(ratio, rel=0.15)


def test_a_tiny_class_is_lifted_to_the_minimum():
    counts = class_counts(100, 6, 100.0)
    assert counts.min() == ds.MIN_PER_CLASS
    assert counts.sum() == 100


def test_split_is_stratified_and_sized_as_asked():
    config = DataConfig(kind="moons", num_classes=4, num_points=400, val_fraction=0.3, imbalance=5.0)
    data = make_dataset(config)
    counts = class_counts(400, 4, 5.0)
    val_counts = np.bincount(data.y_val, minlength=4)
    assert len(data.y_train) + len(data.y_val) == 400
    assert (val_counts >= 1).all()
    np.testing.assert_allclose(val_counts, np.round(0.3 * counts), atol=1)
    assert data.x_train.shape == (len(data.y_train), 2)
    assert data.x_val.shape == (len(data.y_val), 2)


def test_training_and_validation_points_are_different_points():
    data = make_dataset(DataConfig(num_points=300))
    both = np.concatenate([data.x_train, data.x_val])
    assert len(np.unique(both, axis=0)) == len(both)


@pytest.mark.parametrize("noise", [0.1, 0.25, 0.5])
def test_label_noise_changes_exactly_that_share_of_training_labels_to_another_class(noise):
    data = make_dataset(DataConfig(num_points=500, label_noise=noise, num_classes=3))
    assert data.flipped.sum() == round(noise * len(data.y_train))
    assert (data.y_train[data.flipped] != data.clean_train[data.flipped]).all()
    assert set(np.unique(data.y_train)) <= {0, 1, 2}


def test_label_noise_moves_neither_the_points_nor_the_validation_labels():
    clean = make_dataset(DataConfig(label_noise=0.0))
    noisy = make_dataset(DataConfig(label_noise=0.3))
    np.testing.assert_array_equal(clean.x_train, noisy.x_train)
    np.testing.assert_array_equal(clean.y_train, noisy.clean_train)
    np.testing.assert_array_equal(clean.y_val, noisy.y_val)
    assert clean.flipped.sum() == 0


def test_extent_covers_every_point():
    for kind in ds.KINDS:
        data = make_dataset(DataConfig(kind=kind, num_classes=6, num_points=2000))
        both = np.concatenate([data.x_train, data.x_val])
        assert np.abs(both).max() <= data.extent < np.abs(both).max() * 1.2


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"kind": "circles"}, "unknown kind"),
        ({"num_classes": 7}, "num_classes must be an integer from 2 to 6"),
        ({"num_classes": 1}, "num_classes"),
        ({"num_points": 99}, "num_points must be an integer from 100 to 2000"),
        ({"num_points": 600.0}, "num_points"),
        ({"label_noise": 0.6}, "label_noise"),
        ({"label_noise": float("nan")}, "label_noise"),
        ({"imbalance": 0.5}, "imbalance"),
        ({"val_fraction": 0.05}, "val_fraction"),
        ({"seed": -1}, "seed"),
    ],
)
def test_settings_outside_the_bounds_raise_a_named_error(change, words):
    with pytest.raises(xc.XentInputError, match=words):
        make_dataset(dataclasses.replace(DataConfig(), **change))


def test_make_points_rejects_bad_counts():
    with pytest.raises(xc.XentInputError, match="at least one point"):
        make_points("blobs", [5, 0])
    with pytest.raises(xc.XentInputError, match="one per class"):
        make_points("blobs", [5])
