"""xent_core.pitfalls against torch: both pipelines of every mistake, the documented numbers, invariants.

The torch side is written out here (torch.nn.functional in float64, or in the dtype under test),
never taken from xent_core or from the app's own cross-check.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import xent_core as xc
from xent_core import pitfalls as pf

FAST = settings(max_examples=15, deadline=None)
FORUM = xc.PRESETS["probs_as_logits"]


def t64(x) -> torch.Tensor:
    return torch.tensor(np.asarray(x, dtype=np.float64))


@st.composite
def prob_tensors(draw, *, allow_zero: bool = True):
    """(N, C, H, W) per-pixel distributions and an index target, some pixels possibly ignored (-100)."""
    n, c, h, w = draw(st.integers(1, 2)), draw(st.integers(2, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    low = 0.0 if allow_zero else 0.01
    raw = draw(hnp.arrays(np.float64, (n, c, h, w), elements=st.floats(low, 1.0)))
    raw[:, 0] += 1e-3  # no all-zero pixel
    probs = raw / raw.sum(axis=1, keepdims=True)
    target = draw(hnp.arrays(np.int64, (n, h, w), elements=st.integers(0, c - 1)))
    ignored = draw(hnp.arrays(np.bool_, (n, h, w)))
    return probs, np.where(ignored, -100, target)


# ------------------------------------------------------------------------------------------ probabilities as logits


def test_probs_as_logits_gives_the_forum_numbers():
    r = pf.probs_as_logits(FORUM.logits, FORUM.target)
    expected = FORUM.expected
    assert round(r.wrong_mean, 4) == expected["cross_entropy_mean"] == 0.9488
    assert round(r.right_sum, 4) == expected["nll_of_log_sum"] == 2.8824
    assert round(r.right_mean, 4) == expected["nll_of_log_mean"] == 0.7206
    p, t = t64(FORUM.logits), torch.tensor(FORUM.target)
    assert r.wrong_mean == pytest.approx(float(F.cross_entropy(p, t)), rel=1e-12)
    assert r.right_sum == pytest.approx(float(F.nll_loss(torch.log(p), t, reduction="sum")), rel=1e-12)
    assert [a.code for a in r.advisories] == ["probabilities_as_logits"]


@FAST
@given(batch=prob_tensors())
def test_probs_as_logits_matches_torch_pipeline_by_pipeline(batch):
    probs, target = batch
    r = pf.probs_as_logits(probs, target)
    p, t = t64(probs), torch.tensor(target)
    np.testing.assert_allclose(r.wrong_per_position, F.cross_entropy(p, t, reduction="none").numpy(), rtol=1e-12)
    np.testing.assert_allclose(r.right_per_position, F.nll_loss(torch.log(p), t, reduction="none").numpy(), rtol=1e-12)
    np.testing.assert_allclose(r.double_softmax, torch.softmax(p, dim=1).numpy(), rtol=1e-12)
    if (target != -100).any():
        assert r.wrong_mean == pytest.approx(float(F.cross_entropy(p, t)), rel=1e-12)
        np.testing.assert_allclose(r.right_mean, float(F.nll_loss(torch.log(p), t)), rtol=1e-12)
    else:  # every pixel ignored: 0 / 0, as torch
        assert math.isnan(r.wrong_mean)
        assert math.isnan(r.right_mean)
    assert r.ignored.tolist() == (target == -100).tolist()


@FAST
@given(batch=prob_tensors())
def test_probabilities_as_logits_always_land_near_log_c(batch):
    # l = -p_t + log sum exp(p_c) with p a distribution: Jensen bounds it below by log C + 1/C - 1,
    # convexity above by log(C - 1 + e). The second softmax cannot tell a good model from a bad one.
    probs, target = batch
    c = probs.shape[1]
    r = pf.probs_as_logits(probs, np.where(target < 0, 0, target))
    assert np.all(r.wrong_per_position >= math.log(c) + 1 / c - 1 - 1e-12)
    assert np.all(r.wrong_per_position <= math.log(c - 1 + math.e) + 1e-12)
    assert np.all(r.entropy_double >= r.entropy_given - 1e-12)  # flatter after the second softmax


def test_a_zero_probability_on_the_target_costs_infinity_as_in_torch():
    probs = np.array([[[[0.5]], [[0.5]], [[0.0]]]])  # (1, 3, 1, 1)
    r = pf.probs_as_logits(probs, np.array([[[2]]]))
    expected = F.nll_loss(torch.log(t64(probs)), torch.tensor([[[2]]]), reduction="sum")
    assert r.right_sum == float(expected) == math.inf
    assert math.isfinite(r.wrong_mean)


@pytest.mark.parametrize(
    ("probs", "words"),
    [(np.array([[0.5, -0.1, 0.6]]), "negative"), (np.array([[0.5, np.nan, 0.5]]), "row 0, class 1 of probs: NaN")],
)
def test_probs_as_logits_refuses_what_has_no_log(probs, words):
    with pytest.raises(xc.XentInputError, match=words):
        pf.probs_as_logits(probs, np.array([0]))


def test_the_advisory_stays_quiet_once_a_row_is_no_distribution():
    probs = np.array(FORUM.logits)
    probs[0, :, 0, 0] = [0.6, 0.6, 0.6]  # pixel (0, 0) sums to 1.8
    codes = [a.code for a in pf.probs_as_logits(probs, FORUM.target).advisories]
    note = pf.probs_as_logits(probs, FORUM.target).advisories[0]
    assert codes == ["probabilities_as_logits"]
    assert 0 not in note.rows
    assert set(note.rows) == {1, 2, 3}


# ------------------------------------------------------------------------------------------- rows not summing to 1


def test_unnormalised_preset_gives_its_documented_raw_losses():
    r = pf.unnormalised_nll(pf.UNNORMALISED.logits, pf.UNNORMALISED.target)
    assert tuple(np.round(r.raw_per_row, 4)) == pf.UNNORMALISED.expected["raw_per_row"]
    assert r.negative.tolist() == [False, False, True, False]


@FAST
@given(
    acts=hnp.arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(2, 5)), elements=st.floats(0.01, 3.0)),
    data=st.data(),
)
def test_unnormalised_nll_matches_torch_and_is_off_by_log_of_the_row_sum(acts, data):
    n, c = acts.shape
    target = data.draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    r = pf.unnormalised_nll(acts, target)
    a, t = t64(acts), torch.tensor(target)
    raw = F.nll_loss(torch.log(a), t, reduction="none").numpy()
    fixed = F.cross_entropy(torch.log(a), t, reduction="none").numpy()  # log_softmax(log a) = log(a / sum)
    np.testing.assert_allclose(r.raw_per_row, raw, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(r.fixed_per_row, fixed, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(r.raw_per_row - r.fixed_per_row, -np.log(acts.sum(axis=1)), atol=1e-12)
    assert np.all(r.fixed_per_row >= 0)
    assert r.raw_mean == pytest.approx(float(raw.mean()), rel=1e-12)


@pytest.mark.parametrize(
    ("acts", "words"),
    [
        (np.array([[0.5, 0.5], [0.0, 0.0]]), "row 1 sums to 0"),
        (np.array([[0.5, -0.5], [0.2, 0.3]]), "negative"),
        (np.array([0.5, 0.5]), r"shape \(N, C\)"),
    ],
)
def test_unnormalised_nll_refuses_rows_it_cannot_normalise(acts, words):
    with pytest.raises(xc.XentInputError, match=words):
        pf.unnormalised_nll(acts, np.array([0, 1])[: len(acts)])


# ------------------------------------------------------------------------------------- log(softmax) vs log_softmax

TORCH_DTYPES = {"float64": torch.float64, "float32": torch.float32, "float16": torch.float16}


def torch_naive(z: np.ndarray, dtype: str) -> np.ndarray:
    x = torch.tensor(np.asarray(z, dtype=np.float64)).to(TORCH_DTYPES[dtype])
    e = torch.exp(x)
    return torch.log(e / e.sum(dim=-1, keepdim=True)).double().numpy()


def torch_stable(z: np.ndarray, dtype: str) -> np.ndarray:
    x = torch.tensor(np.asarray(z, dtype=np.float64)).to(TORCH_DTYPES[dtype])
    return torch.log_softmax(x, dim=-1).double().numpy()


DTYPE_RTOL = {"float64": 1e-12, "float32": 2e-6, "float16": 4e-3}  # numpy and torch round in different orders


@pytest.mark.parametrize("dtype", pf.DTYPES)
@pytest.mark.parametrize("scale", [1, 10, 100, 1000])
@pytest.mark.parametrize("shift", [-1000, 0, 200])
def test_naive_log_softmax_breaks_exactly_where_torchs_does(dtype, scale, shift):
    z = (pf.LOG_SOFTMAX_ROW * scale + shift).astype(dtype)
    ours = pf.naive_log_softmax(z).astype(np.float64)
    theirs = torch_naive(z, dtype)
    assert np.isnan(ours).tolist() == np.isnan(theirs).tolist()
    assert np.isneginf(ours).tolist() == np.isneginf(theirs).tolist()
    finite = np.isfinite(theirs)
    np.testing.assert_allclose(ours[finite], theirs[finite], rtol=DTYPE_RTOL[dtype], atol=DTYPE_RTOL[dtype])
    stable = xc.log_softmax(z).astype(np.float64)
    assert np.isfinite(stable).all()
    np.testing.assert_allclose(stable, torch_stable(z, dtype), rtol=DTYPE_RTOL[dtype], atol=DTYPE_RTOL[dtype])


def test_naive_log_softmax_fails_in_each_of_the_three_ways():
    assert pf.naive_log_softmax(np.array([100.0, 0.0], dtype=np.float32)).tolist()[0] != 0  # NaN: inf / inf
    assert np.isnan(pf.naive_log_softmax(np.array([100.0, 0.0], dtype=np.float32))[0])
    assert np.isneginf(pf.naive_log_softmax(np.array([0.0, -200.0], dtype=np.float32))[1])  # underflow: log 0
    assert np.isnan(pf.naive_log_softmax(np.array([-1000.0, -1001.0]))).all()  # 0 / 0


def test_naive_log_softmax_raises_no_numpy_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for dtype in pf.DTYPES:
            pf.naive_log_softmax((pf.LOG_SOFTMAX_ROW * 1000).astype(dtype))
            pf.naive_log_softmax(np.full(3, -1e4).astype(dtype if dtype != "float16" else "float32"))
            pf.log_softmax_steps(pf.LOG_SOFTMAX_ROW * 1000, 3, dtype)
            pf.log_softmax_sweep(pf.LOG_SOFTMAX_ROW, 0, [1, 1000], shift=-1000, dtype=dtype)


@FAST
@given(z=hnp.arrays(np.float64, st.integers(2, 6), elements=st.floats(-30, 30)), dtype=st.sampled_from(pf.DTYPES))
def test_on_ordinary_logits_both_forms_agree_with_torch(z, dtype):
    s = pf.log_softmax_steps(z, 0, dtype)
    tol = DTYPE_RTOL[dtype]
    np.testing.assert_allclose(s.log_probs.astype(np.float64), torch_stable(s.logits, dtype), rtol=tol, atol=tol)
    naive = torch_naive(s.logits, dtype)
    finite = np.isfinite(naive)
    np.testing.assert_allclose(s.naive_log_probs.astype(np.float64)[finite], naive[finite], rtol=tol, atol=tol)
    x = torch.tensor(s.logits.astype(np.float64)).to(TORCH_DTYPES[dtype])
    lse = torch.logsumexp(x.float() if dtype == "float16" else x, 0)  # CPU half: computed in float, as here
    assert s.logsumexp == pytest.approx(float(lse), rel=tol, abs=tol)
    assert s.loss == pytest.approx(-torch_stable(s.logits, dtype)[0], rel=tol, abs=tol)


@pytest.mark.parametrize("dtype", pf.DTYPES)
def test_steps_of_the_log_sum_exp_trick_stay_in_range(dtype):
    s = pf.log_softmax_steps(pf.LOG_SOFTMAX_ROW * 1000, 3, dtype)  # z up to 2000: every naive exp overflows
    c = len(pf.LOG_SOFTMAX_ROW)
    assert np.all(s.shifted <= 0)
    assert np.all((s.exp_shifted > 0) | (s.shifted < -100))
    assert s.exp_shifted.max() == 1
    assert 1 <= s.sum_shifted <= c
    assert 0 <= s.log_sum_shifted <= math.log(c)
    assert s.log_sum_exp == math.inf
    assert np.isnan(s.naive_log_probs[0])  # inf / inf
    assert s.naive_loss == math.inf  # the target's exp(z - ...) is 0 / inf = 0, and -log 0 = inf
    assert s.loss == pytest.approx(4000.0)
    assert not s.naive_ok.any()


def test_the_sweep_breaks_earlier_in_smaller_dtypes():
    scales = np.geomspace(1, 1000, 40)
    first_break = {}
    for dtype in pf.DTYPES:
        sw = pf.log_softmax_sweep(pf.LOG_SOFTMAX_ROW, 0, scales, dtype=dtype)
        assert np.isfinite(sw.loss).all()
        first_break[dtype] = scales[np.flatnonzero(~sw.naive_ok)[0]]
        assert set(sw.naive_kind) <= {"ok", "nan", "inf", "off"}
        assert [k == "ok" for k in sw.naive_kind] == sw.naive_ok.tolist()
    # class 0 has the largest logit, 2 * scale: exp overflows above 11.1 (float16), 88.7 and 709.8
    assert first_break["float16"] < first_break["float32"] < first_break["float64"]
    assert first_break["float16"] == pytest.approx(11.09 / 2, rel=0.2)
    assert first_break["float64"] == pytest.approx(709.8 / 2, rel=0.2)


def test_logits_beyond_the_dtype_are_refused():
    with pytest.raises(xc.XentInputError, match="inf is not a logit"):
        pf.log_softmax_steps(np.array([1e5, 0.0]), 0, "float16")
    with pytest.raises(xc.XentInputError, match="dtype must be one of"):
        pf.log_softmax_steps(np.array([1.0, 0.0]), 0, "float128")


# ---------------------------------------------------------------------------------------------- multi-label


def test_multilabel_sweep_matches_torch_and_ce_never_beats_its_floor():
    ex = xc.MULTI_LABEL
    values = np.linspace(-6, 10, 33)
    sw = pf.multilabel_sweep(ex.logits[0], ex.labels[0], values)
    y = t64(ex.labels[0])
    rows = t64(ex.logits[0]).repeat(len(values), 1)
    rows[:, y == 1] = t64(values)[:, None]
    bce = F.binary_cross_entropy_with_logits(rows, y.repeat(len(values), 1), reduction="none").mean(1)
    ce = F.cross_entropy(rows, (y / y.sum()).repeat(len(values), 1), reduction="none")
    np.testing.assert_allclose(sw.bce, bce.numpy(), rtol=1e-12)
    np.testing.assert_allclose(sw.ce, ce.numpy(), rtol=1e-12)
    assert sw.ce_floor == pytest.approx(math.log(2))  # two true labels
    assert np.all(sw.ce >= sw.ce_floor - 1e-12)
    assert np.all(np.diff(sw.bce) < 0)  # every step up helps BCE ...
    assert sw.ce[-1] > 5 * sw.bce[-1]  # ... while CE is stuck above log 2 (BCE keeps only the other classes' part)
    assert np.all(sw.softmax_true <= 0.5 + 1e-12)


# ---------------------------------------------------------------------------------------------- class weights


@FAST
@given(
    w=hnp.arrays(np.float64, 3, elements=st.floats(0.05, 10.0)),
    k=st.floats(0.1, 10.0),
)
def test_class_weighting_matches_torch_and_the_mean_ignores_the_weights_scale(w, k):
    z, t = pf.IMBALANCED.logits, pf.IMBALANCED.target
    r = pf.class_weighting(z, t, w)
    zz, tt, ww = t64(z), torch.tensor(t), t64(w)
    assert r.weighted_mean == pytest.approx(float(F.cross_entropy(zz, tt, weight=ww)), rel=1e-12)
    assert r.weighted_sum == pytest.approx(float(F.cross_entropy(zz, tt, weight=ww, reduction="sum")), rel=1e-12)
    assert r.weight_total == pytest.approx(float(ww[tt].sum()), rel=1e-12)
    assert r.plain_mean == pytest.approx(float(F.cross_entropy(zz, tt)), rel=1e-12)
    scaled = pf.class_weighting(z, t, w * k)
    assert scaled.weighted_mean == pytest.approx(r.weighted_mean, rel=1e-12)
    assert scaled.weighted_sum == pytest.approx(k * r.weighted_sum, rel=1e-12)
    assert r.plain_share.sum() == pytest.approx(1.0)
    assert r.weighted_share.sum() == pytest.approx(1.0)


def test_frequency_weights_and_their_denominators():
    t = pf.IMBALANCED.target  # 8, 3, 1
    inverse = pf.inverse_frequency_weights(t, 3)
    balanced = pf.balanced_weights(t, 3)
    np.testing.assert_allclose(inverse, [1 / 8, 1 / 3, 1.0])
    np.testing.assert_allclose(balanced, [12 / 24, 12 / 9, 12 / 3])
    assert pf.class_weighting(pf.IMBALANCED.logits, t, inverse).weight_total == pytest.approx(3.0)  # classes present
    assert pf.class_weighting(pf.IMBALANCED.logits, t, balanced).weight_total == pytest.approx(12.0)  # N
    uniform = pf.class_weighting(pf.IMBALANCED.logits, t, np.ones(3))
    assert uniform.weighted_mean == pytest.approx(uniform.plain_mean, rel=1e-12)
    np.testing.assert_array_equal(pf.balanced_weights(np.array([0, 0]), 3), [1 / 3, 1.0, 1.0])  # absent: 1


def test_negative_class_weights_are_refused():
    with pytest.raises(xc.XentInputError, match="negative"):
        pf.class_weighting(pf.IMBALANCED.logits, pf.IMBALANCED.target, np.array([1.0, -1.0, 1.0]))
