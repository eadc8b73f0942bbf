"""xent_core.decomposition: H(y, p) = H(y) + KL(y || p) against torch, units, and reading a loss."""

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
from xent_core import decomposition as dc

FAST = settings(max_examples=20, deadline=None)


@st.composite
def pairs(draw, *, positive_prediction: bool = True):
    c = draw(st.integers(2, 8))
    y = draw(hnp.arrays(np.float64, c, elements=st.floats(0.0, 5.0)))
    y[draw(st.integers(0, c - 1))] += 0.5  # never all zero
    low = 0.001 if positive_prediction else 0.0
    p = draw(hnp.arrays(np.float64, c, elements=st.floats(low, 5.0)))
    p[0] += 0.5
    return y, p


@FAST
@given(pair=pairs(), unit=st.sampled_from(dc.UNITS))
def test_decomposition_matches_torch_in_nats_and_bits(pair, unit):
    y_raw, p_raw = pair
    d = dc.decompose(y_raw, p_raw, unit=unit)
    y = torch.tensor(y_raw / y_raw.sum())
    p = torch.tensor(p_raw / p_raw.sum())
    factor = 1.0 if unit == "nats" else 1 / math.log(2)
    assert d.entropy == pytest.approx(float(torch.special.entr(y).sum()) * factor, rel=1e-12, abs=1e-12)
    assert d.cross_entropy == pytest.approx(float(F.cross_entropy(torch.log(p)[None], y[None])) * factor, rel=1e-10)
    assert d.kl == pytest.approx(float(F.kl_div(torch.log(p), y, reduction="sum")) * factor, rel=1e-9, abs=1e-12)
    assert d.cross_entropy == pytest.approx(d.entropy + d.kl, rel=1e-12)
    assert d.kl >= -1e-12
    np.testing.assert_allclose(d.entropy_terms + d.kl_terms, d.cross_entropy_terms, atol=1e-12)
    assert d.baseline == pytest.approx(math.log(y_raw.size) * factor)


@FAST
@given(pair=pairs())
def test_kl_is_zero_exactly_when_the_prediction_is_the_target(pair):
    y, _ = pair
    same = dc.decompose(y, 3 * y)  # scaling does not matter: both are normalised
    assert same.kl == pytest.approx(0.0, abs=1e-12)
    assert same.cross_entropy == pytest.approx(same.entropy, rel=1e-12)


def test_one_hot_targets_make_the_loss_all_kl():
    d = dc.decompose([0.0, 1.0, 0.0], [0.2, 0.7, 0.1])
    assert d.entropy == 0
    expected = float(F.cross_entropy(torch.log(torch.tensor([[0.2, 0.7, 0.1]])), torch.tensor([1])))
    assert d.cross_entropy == pytest.approx(expected) == pytest.approx(d.kl)


def test_bits_are_nats_divided_by_log_2():
    nats = dc.decompose([0.5, 0.5], [0.25, 0.75])
    bits = dc.decompose([0.5, 0.5], [0.25, 0.75], unit="bits")
    assert bits.entropy == pytest.approx(1.0)
    assert bits.cross_entropy == pytest.approx(nats.cross_entropy / math.log(2))


def test_a_zero_prediction_where_the_target_is_not_zero_costs_infinity():
    d = dc.decompose([0.5, 0.5, 0.0], [1.0, 0.0, 0.0])
    assert d.cross_entropy == math.inf
    assert d.kl == math.inf
    assert math.isfinite(d.entropy)
    fine = dc.decompose([1.0, 0.0, 0.0], [0.5, 0.5, 0.0])  # p = 0 only where y = 0: 0 log 0 = 0
    assert fine.cross_entropy == pytest.approx(math.log(2))


@pytest.mark.parametrize(
    ("y", "p", "words"),
    [
        ([0.5, -0.5], [0.5, 0.5], "negative"),
        ([0.0, 0.0], [0.5, 0.5], "target are all 0"),
        ([0.5, 0.5], [0.2, 0.3, 0.5], "target has 2 classes but prediction has 3"),
        ([0.5, np.inf], [0.5, 0.5], r"entry \[1\]: inf is not a target"),
    ],
)
def test_bad_distributions_are_refused_with_a_reason(y, p, words):
    with pytest.raises(xc.XentInputError, match=words):
        dc.decompose(y, p)


def test_loss_scale_ends_at_the_uniform_guess():
    scale = dc.loss_scale(4)
    assert scale.probs[-1] == 0.25
    assert scale.losses[-1] == pytest.approx(math.log(4)) == pytest.approx(scale.baseline)
    np.testing.assert_allclose(scale.losses, -np.log(scale.probs))
    np.testing.assert_allclose(dc.loss_to_probability(scale.losses), scale.probs)
    bits = dc.loss_scale(4, unit="bits")
    assert bits.baseline == pytest.approx(2.0)
    assert dc.loss_to_probability(1.0, unit="bits") == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("train", "val", "verdict"),
    [(1.08, 1.10, "learning_nothing"), (0.30, 0.62, "overfitting"), (0.50, 0.35, "val_below_train"),
     (0.40, 0.42, "healthy")],
)  # fmt: skip
def test_train_val_reading(train, val, verdict):
    reading = dc.train_val_reading(train, val, 3)
    assert reading.verdict == verdict
    assert reading.train_prob == pytest.approx(math.exp(-train))
    assert reading.gap == pytest.approx(val - train)


def test_train_val_reading_refuses_negative_losses():
    with pytest.raises(xc.XentInputError, match="validation loss must be a finite number of at least 0"):
        dc.train_val_reading(0.3, -1.0, 3)
