"""xent_core.compare, the loss-comparison page's numbers, against torch and against the page's claims.

compare_losses: for every loss in LOSSES, on generated (N, C) logits, class-index targets and
LossOptions, the per-sample losses must be torch's (the expressions of LossInfo.torch and of
xent_core.alternatives' docstrings, written out below with torch.nn.functional in float64), row n of
the gradient must be autograd's d l_n / d z_n, target_grad its entry at the target, and mean torch's
reduction='mean'. LossInfo.torch itself is evaluated where it is a Python expression.

target_logit_sweep and loss_landscape must be compare_losses (and torch) on the logits they describe,
with the axes the dataclasses document; multilabel_losses must be torch's binary_cross_entropy_with_logits
and cross_entropy with normalised soft targets.

Then the qualitative facts the page states, as properties: cross-entropy keeps a full push (d l / d z_t
-> -1) on a confidently wrong target while MSE on softmax and the sigmoid distance go flat; hinge is
exactly 0, with an exactly 0 gradient, once the target leads by the margin; label smoothing gives
cross-entropy a finite minimiser; raising a rival logit never lowers CE, focal, hinge or sigmoid loss;
softmax + CE on multi-label rows never gets below the entropy of the normalised labels, and two
classes cannot both pass 0.5 under softmax, as they can under sigmoids. Bad input raises
XentInputError.

The torch side (the section "torch oracle") imports torch only, never xent_core, so that a bug in
one cannot hide in the other.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tests.core import strategies as xs
from tests.core import torch_oracle as oracle
from xent_core.checks import XentInputError
from xent_core.compare import (
    LOSSES,
    SHIFT_INVARIANT,
    LossOptions,
    compare_losses,
    landscape_position,
    landscape_reference,
    loss_landscape,
    multilabel_losses,
    rival_classes,
    target_logit_sweep,
)

# float64: both sides evaluate the same formulas, differing only in the order of operations.
F64 = {"rtol": 1e-10, "atol": 1e-12}

# Budgets that keep the whole file under 8 s on two cores.
MAIN = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
QUICK = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KEYS = tuple(LOSSES)
# Losses that depend on a rival logit z_c only through terms that grow with it (p_t falls, h_c and s_c rise).
MONOTONE_IN_RIVALS = ("ce", "focal", "hinge", "sigmoid")


# ---------------------------------------------------------------------------------------------- torch oracle


def torch_per_sample(key: str, z: torch.Tensor, t: torch.Tensor, *, eps: float, margin: float, p: int, gamma: float):
    """l_n for (N, C) logits z and (N,) targets t, as LossInfo.torch and alternatives.py write it in torch."""
    c = z.shape[1]
    if key == "ce":
        return F.cross_entropy(z, t, reduction="none")
    if key == "smoothed_ce":
        return F.cross_entropy(z, t, label_smoothing=eps, reduction="none")
    if key == "mse":
        return ((z.softmax(1) - F.one_hot(t, c)) ** 2).mean(1)
    if key == "hinge":
        return F.multi_margin_loss(z, t, p=p, margin=margin, reduction="none")
    if key == "focal":
        log_pt = F.log_softmax(z, 1).gather(1, t[:, None])[:, 0]
        return -((-torch.expm1(log_pt)) ** gamma) * log_pt
    if key == "sigmoid":
        return torch.where(F.one_hot(t, c) == 1, 1 - z.sigmoid(), z.sigmoid()).mean(1)
    raise ValueError(key)


def torch_mean(key: str, z: torch.Tensor, t: torch.Tensor, *, eps: float, margin: float, p: int, gamma: float):
    """The loss with torch's reduction='mean' (over samples, or over every entry for the elementwise two)."""
    c = z.shape[1]
    if key == "ce":
        return F.cross_entropy(z, t)
    if key == "smoothed_ce":
        return F.cross_entropy(z, t, label_smoothing=eps)
    if key == "mse":
        return F.mse_loss(z.softmax(1), F.one_hot(t, c).to(z.dtype))
    if key == "hinge":
        return F.multi_margin_loss(z, t, p=p, margin=margin)
    if key == "focal":
        return torch_per_sample(key, z, t, eps=eps, margin=margin, p=p, gamma=gamma).mean()
    if key == "sigmoid":
        return torch.where(F.one_hot(t, c) == 1, 1 - z.sigmoid(), z.sigmoid()).mean()
    raise ValueError(key)


def torch_losses(key: str, logits: np.ndarray, target: np.ndarray, **opts):
    """(per-sample l_n, autograd d l_n / d z_n as (N, C), the 'mean' value) for float64 numpy input."""
    z = torch.tensor(np.array(logits, dtype=np.float64), requires_grad=True)
    t = torch.tensor(np.array(target, dtype=np.int64))
    per = torch_per_sample(key, z, t, **opts)
    per.sum().backward()
    mean = torch_mean(key, z.detach(), t, **opts)
    return per.detach().numpy(), z.grad.numpy(), float(mean)


def torch_on_plane(key: str, z: np.ndarray, t: int, a: int, b: int, za: np.ndarray, zb: np.ndarray, **opts):
    """The loss of one sample with z_a, z_b set to each pair of (M,) za, zb; autograd d/dz_a and d/dz_b."""
    leaf_a = torch.tensor(za, requires_grad=True)
    leaf_b = torch.tensor(zb, requires_grad=True)
    columns = [torch.full(za.shape, float(z[c]), dtype=torch.float64) for c in range(z.size)]
    columns[a], columns[b] = leaf_a, leaf_b
    per = torch_per_sample(key, torch.stack(columns, 1), torch.full(za.shape, t), **opts)
    per.sum().backward()
    return per.detach().numpy(), leaf_a.grad.numpy(), leaf_b.grad.numpy()


def torch_multilabel(logits: np.ndarray, labels: np.ndarray, pos_weight):
    """BCE-with-logits per sample (mean over classes) and CE against y / y.sum(1), with autograd gradients."""
    y = torch.tensor(labels, dtype=torch.float64)
    pw = None if pos_weight is None else torch.tensor(pos_weight, dtype=torch.float64)
    soft = y / y.sum(1, keepdim=True)

    z = torch.tensor(logits, requires_grad=True)
    bce = F.binary_cross_entropy_with_logits(z, y, pos_weight=pw, reduction="none").mean(1)
    bce.sum().backward()
    bce_grad = z.grad.numpy()

    z2 = torch.tensor(logits, requires_grad=True)
    ce = F.cross_entropy(z2, soft, reduction="none")
    ce.sum().backward()
    ce_grad = z2.grad.numpy()

    zd = torch.tensor(logits)
    return {
        "bce_per_sample": bce.detach().numpy(),
        "bce_grad": bce_grad,
        "bce_mean": float(F.binary_cross_entropy_with_logits(zd, y, pos_weight=pw)),
        "ce_target": soft.numpy(),
        "ce_per_sample": ce.detach().numpy(),
        "ce_grad": ce_grad,
        "ce_mean": float(F.cross_entropy(zd, soft)),
        "ce_floor": torch.special.entr(soft).sum(1).numpy(),
        "sigmoid_probs": zd.sigmoid().numpy(),
        "softmax_probs": zd.softmax(1).numpy(),
    }


def torch_kwargs(options: LossOptions) -> dict:
    return {"eps": options.label_smoothing, "margin": options.margin, "p": options.p, "gamma": options.gamma}


# ---------------------------------------------------------------------------------------------- strategies


def loss_options() -> st.SearchStrategy[LossOptions]:
    """Every option in the range the page offers, with the ends (0 smoothing, 0 margin, gamma 0) often."""
    return st.builds(
        LossOptions,
        label_smoothing=xs.label_smoothings(),
        margin=st.sampled_from((0.0, 1.0, 3.0)) | st.floats(0.0, 3.0, allow_subnormal=False),
        p=st.sampled_from((1, 2)),
        gamma=st.sampled_from(xs.GAMMAS) | st.floats(0.0, 5.0, allow_subnormal=False),
    )


def batches(**kwargs) -> st.SearchStrategy[xs.IndexBatch]:
    """(N, C) logits with class-index targets, none ignored (the comparison has no ignore_index)."""
    return xs.index_batches(k_dims=(0,), unbatched=False, ignore=False, **kwargs)


@st.composite
def samples(draw, *, min_classes: int = 2, bound: float = xs.LOGIT_BOUND):
    """One sample's logits (C,) and its target class; values from a few integers too, to make ties."""
    c = draw(st.integers(min_classes, xs.MAX_CLASSES))
    element = xs.floats(-bound, bound) | st.sampled_from((-1.0, 0.0, 1.0))
    z = draw(hnp.arrays(np.float64, (c,), elements=element))
    return z, draw(st.integers(0, c - 1))


@st.composite
def multilabel_cases(draw):
    """(N, C) logits, 0/1 labels with at least one 1 per row, and pos_weight None or (C,).

    Some rows get their logits at softmax's optimum for the row (log of the normalised labels, the
    others far below), where the cross-entropy is at its floor.
    """
    n = draw(st.integers(1, xs.MAX_BATCH))
    c = draw(st.integers(2, xs.MAX_CLASSES))
    z = draw(xs.logits((n, c)))
    labels = draw(hnp.arrays(np.bool_, (n, c), elements=st.booleans()))
    for row in range(n):
        if not labels[row].any():
            labels[row, draw(st.integers(0, c - 1))] = True
        if draw(st.integers(0, 3)) == 0:
            z[row] = np.where(labels[row], draw(xs.floats(-5.0, 5.0)), -xs.LOGIT_BOUND)
    pos_weight = draw(st.none() | xs.arrays((c,), 0.1, 3.0))
    return z, labels.astype(np.float64), pos_weight


# ---------------------------------------------------------------------------------------------- compare_losses


@MAIN
@given(batch=batches(), options=loss_options())
def test_every_loss_matches_torch_per_sample_gradient_and_mean(batch, options):
    z, t = batch.logits, batch.target
    results = compare_losses(z, t, KEYS, options)
    assert list(results) == list(KEYS)
    rows = np.arange(len(t))
    for key, r in results.items():
        per, grad, mean = torch_losses(key, z, t, **torch_kwargs(options))
        np.testing.assert_allclose(r.per_sample, per, err_msg=f"{key} per_sample", **F64)
        assert r.grad.shape == z.shape
        # torch's autograd of (1 - p_t) ** gamma is 0 * inf = nan where p_t rounds to 1 and 0 < gamma < 1;
        # xent_core returns the limit there (pinned in test_parity), so only those rows are skipped.
        finite = np.isfinite(grad).all(axis=1)
        assert finite.all() or (key == "focal" and 0 < options.gamma < 1), f"{key}: torch gradient not finite"
        assert np.isfinite(r.grad).all(), key
        np.testing.assert_allclose(r.grad[finite], grad[finite], err_msg=f"{key} grad", **F64)
        np.testing.assert_allclose(r.target_grad[finite], grad[rows, t][finite], err_msg=f"{key} target_grad", **F64)
        np.testing.assert_array_equal(r.target_grad, r.grad[rows, t])
        np.testing.assert_allclose(r.mean, mean, err_msg=f"{key} mean", **F64)


@QUICK
@given(batch=batches(), options=loss_options())
def test_loss_info_torch_strings_give_the_per_sample_losses(batch, options):
    # What the page prints as "the torch call that gives the same numbers", run as printed. focal's
    # string is a formula with a where-clause ("log p_t, p_t = ..."), not an expression: checked above.
    z = torch.tensor(batch.logits)
    t = torch.tensor(batch.target)
    names = {"F": F, "torch": torch, "z": z, "t": t, "C": z.shape[1], **torch_kwargs(options)}
    results = compare_losses(batch.logits, batch.target, KEYS, options)
    for key, info in LOSSES.items():
        assert info.key == key
        if key == "focal":
            continue
        expected = eval(info.torch, names).numpy()  # our own constant strings, run as the page shows them
        np.testing.assert_allclose(results[key].per_sample, expected, err_msg=info.torch, **F64)


@pytest.mark.parametrize("key", ["xent", "CE", "", "cross_entropy"])
def test_unknown_loss_key_raises(key):
    with pytest.raises(XentInputError, match="unknown loss"):
        compare_losses(np.zeros((2, 3)), np.array([0, 1]), ["ce", key])


def test_keys_choose_which_losses_are_computed():
    results = compare_losses(np.array([[1.0, 0.0, -1.0]]), np.array([2]), ["hinge", "ce"])
    assert list(results) == ["hinge", "ce"]
    assert compare_losses(np.array([[1.0, 0.0, -1.0]]), np.array([2]), []) == {}


@pytest.mark.parametrize(
    ("logits", "target"),
    [
        (np.zeros((2, 3)), np.array([0, 3])),  # out of range
        (np.zeros((2, 3)), np.array([-1, 0])),  # negative
        (np.zeros((2, 3)), np.array([-100, 0])),  # torch's ignore_index: the comparison has none
        (np.zeros((2, 3)), np.array([0, 1, 2])),  # one target too many
        (np.zeros((2, 3)), np.array([0])),
        (np.zeros((2, 3)), np.array([0.0, 1.0])),  # float class indices
        (np.zeros((2, 3)), np.eye(3)[[0, 1]]),  # one-hot rows instead of indices
        (np.zeros(3), np.array(0)),  # one sample without its batch dimension
        (np.zeros((2, 3, 1)), np.zeros((2, 1), dtype=np.int64)),  # K-dimensional
        (np.array([[0.0, np.nan, 1.0]]), np.array([0])),
    ],
)
def test_bad_targets_or_logits_raise(logits, target):
    with pytest.raises(XentInputError):
        compare_losses(logits, target, KEYS)


@pytest.mark.parametrize(
    "options",
    [
        LossOptions(label_smoothing=-0.1),
        LossOptions(label_smoothing=1.5),
        LossOptions(gamma=-1.0),
        LossOptions(gamma=float("nan")),
        LossOptions(p=3),
        LossOptions(margin=float("inf")),
    ],
)
def test_options_a_loss_refuses_raise(options):
    with pytest.raises(XentInputError):
        compare_losses(np.zeros((2, 3)), np.array([0, 1]), KEYS, options)


def test_empty_batch_has_nan_mean_like_torch():
    results = compare_losses(np.zeros((0, 3)), np.zeros(0, dtype=np.int64), KEYS)
    for key, r in results.items():
        assert r.per_sample.shape == (0,), key
        assert r.grad.shape == (0, 3), key
        assert math.isnan(r.mean), key


# ---------------------------------------------------------------------------------------------- target_logit_sweep


@MAIN
@given(
    sample=samples(),
    values=hnp.arrays(np.float64, st.integers(1, 8), elements=xs.floats(-40.0, 40.0)),
    options=loss_options(),
)
def test_sweep_is_compare_losses_with_the_target_logit_replaced(sample, values, options):
    z, t = sample
    before = z.copy()
    sweep = target_logit_sweep(z, t, values, KEYS, options)
    np.testing.assert_array_equal(z, before)  # the caller's logits are not touched
    np.testing.assert_array_equal(sweep.values, values)
    max_other = max(z[c] for c in range(z.size) if c != t)
    np.testing.assert_array_equal(sweep.margin, values - max_other)
    rows = np.tile(z, (values.size, 1))
    rows[:, t] = values
    np.testing.assert_allclose(sweep.prob, oracle.softmax(rows, axis=1)[:, t], **F64)
    for k, v in enumerate(values):
        row = z.copy()
        row[t] = v
        one = compare_losses(row[None], np.array([t]), KEYS, options)
        for key in KEYS:
            np.testing.assert_allclose(sweep.loss[key][k], one[key].per_sample[0], err_msg=key, **F64)
            np.testing.assert_allclose(sweep.target_grad[key][k], one[key].target_grad[0], err_msg=key, **F64)


@MAIN
@given(sample=samples(bound=5.0))
def test_cross_entropy_pushes_a_confidently_wrong_target_fully_while_mse_and_sigmoid_go_flat(sample):
    # Logits within [-5, 5], so z_t at 20 or more below the best rival is also far below 0 (sigmoid saturated).
    z, t = sample
    max_other = max(z[c] for c in range(z.size) if c != t)
    sweep = target_logit_sweep(z, t, max_other + np.array([-30.0, -25.0, -20.0]), KEYS)
    np.testing.assert_allclose(sweep.target_grad["ce"], -1.0, rtol=0, atol=1e-6)
    assert (np.abs(sweep.target_grad["mse"]) < 1e-6).all()
    assert (np.abs(sweep.target_grad["sigmoid"]) < 1e-6).all()
    # while at a tie both still push (the flatness above is saturation, not a dead loss)
    tie = target_logit_sweep(z, t, [max_other], KEYS)
    assert tie.target_grad["mse"][0] < -1e-3
    assert tie.target_grad["sigmoid"][0] < -1e-3


@MAIN
@given(
    sample=samples(bound=5.0),
    margin=st.sampled_from((0.0, 1.0)) | st.floats(0.0, 3.0, allow_subnormal=False),
    p=st.sampled_from((1, 2)),
)
def test_hinge_is_exactly_zero_with_zero_gradient_once_the_margin_is_met(sample, margin, p):
    z, t = sample
    max_other = max(z[c] for c in range(z.size) if c != t)
    # a coarse grid, and a hair (1e-7) either side of the margin: the loss switches off there and not before
    values = max_other + np.concatenate([np.linspace(-5.0, 5.0, 41), margin + np.array([-1e-7, 1e-7])])
    sweep = target_logit_sweep(z, t, values, ["hinge"], LossOptions(margin=margin, p=p))
    lead = values - max_other
    met = lead >= margin + 1e-9  # keep clear of the boundary, where rounding decides; see the exact case below
    short = lead <= margin - 1e-9
    assert met.any()
    assert short.any()
    assert (sweep.loss["hinge"][met] == 0).all()
    assert (sweep.target_grad["hinge"][met] == 0).all()
    assert (sweep.loss["hinge"][short] > 0).all()
    assert (sweep.target_grad["hinge"][short] < 0).all()


@pytest.mark.parametrize("margin", [0.0, 1.0, 2.5])
@pytest.mark.parametrize("p", [1, 2])
def test_hinge_is_exactly_zero_at_the_margin_itself(margin, p):
    # Dyadic numbers, so z_t - max_other == margin holds exactly.
    z, t = np.array([0.5, 2.0, -1.0, 1.75]), 0
    sweep = target_logit_sweep(z, t, [2.0 + margin - 0.25, 2.0 + margin], ["hinge"], LossOptions(margin=margin, p=p))
    assert sweep.loss["hinge"][1] == 0
    assert sweep.target_grad["hinge"][1] == 0
    assert sweep.loss["hinge"][0] > 0
    assert sweep.target_grad["hinge"][0] < 0


@MAIN
@given(sample=samples(bound=5.0), eps=st.sampled_from((0.01, 1.0)) | st.floats(0.01, 1.0))
def test_label_smoothing_gives_cross_entropy_a_finite_minimiser(sample, eps):
    z, t = sample
    max_other = max(z[c] for c in range(z.size) if c != t)
    values = max_other + np.linspace(-20.0, 30.0, 51)
    sweep = target_logit_sweep(z, t, values, ["ce", "smoothed_ce"], LossOptions(label_smoothing=eps))
    smoothed = sweep.target_grad["smoothed_ce"]
    assert smoothed[0] < 0 < smoothed[-1]  # pushed up when low, pushed back down when too confident
    assert (np.diff(smoothed) >= 0).all()  # p_t - (1 - eps + eps / C): one sign change
    assert 0 < np.argmin(sweep.loss["smoothed_ce"]) < values.size - 1
    assert (sweep.target_grad["ce"] <= 0).all()  # p_t - 1: plain CE always wants z_t higher
    assert (np.diff(sweep.loss["ce"]) <= 0).all()


def test_sweep_refuses_a_batch_and_bad_values():
    with pytest.raises(XentInputError):
        target_logit_sweep(np.zeros((2, 3)), 0, [0.0], KEYS)
    with pytest.raises(XentInputError):
        target_logit_sweep(np.zeros(3), 3, [0.0], KEYS)
    with pytest.raises(XentInputError):
        target_logit_sweep(np.zeros(3), 0, [0.0, np.inf], KEYS)
    with pytest.raises(XentInputError):
        target_logit_sweep(np.zeros(3), 0, [0.0], ["nope"])


# ---------------------------------------------------------------------------------------------- loss_landscape


@st.composite
def landscape_cases(draw):
    z, t = draw(samples(min_classes=3))
    others = [c for c in range(z.size) if c != t]
    rivals = None
    if draw(st.booleans()):
        a, b = draw(st.permutations(others))[:2]
        rivals = (a, b)
    return {
        "z": z,
        "t": t,
        "key": draw(st.sampled_from(KEYS)),
        "rivals": rivals,
        "extent": draw(st.sampled_from((6.0, 0.5)) | st.floats(0.1, 12.0)),
        "steps": draw(st.integers(2, 9)),
        "options": draw(loss_options()),
    }


@MAIN
@given(case=landscape_cases())
def test_landscape_is_the_loss_and_autograd_over_the_two_rival_logits(case):
    z, t, key, steps = case["z"], case["t"], case["key"], case["steps"]
    options = case["options"]
    land = loss_landscape(z, t, key, extent=case["extent"], steps=steps, rivals=case["rivals"], options=options)
    a, b = land.rivals
    assert land.rivals == (case["rivals"] or rival_classes(z, t))
    np.testing.assert_allclose(land.u, np.linspace(-case["extent"], case["extent"], steps), **F64)
    np.testing.assert_array_equal(land.v, land.u)
    for field in (land.loss, land.grad_u, land.grad_v):
        assert field.shape == (steps, steps)
    assert land.here == (z[a] - z[t], z[b] - z[t])

    # loss[i, j] is at u[j], v[i]: whole grid against torch (values and d/dz_a, d/dz_b) ...
    uu, vv = np.meshgrid(land.u, land.v)
    za, zb = (z[t] + uu).ravel(), (z[t] + vv).ravel()
    loss, grad_a, grad_b = torch_on_plane(key, z, t, a, b, za, zb, **torch_kwargs(options))
    np.testing.assert_allclose(land.loss.ravel(), loss, err_msg="loss", **F64)
    finite = np.isfinite(grad_a) & np.isfinite(grad_b)  # focal with 0 < gamma < 1, see above
    assert finite.all() or (key == "focal" and 0 < options.gamma < 1)
    np.testing.assert_allclose(land.grad_u.ravel()[finite], grad_a[finite], err_msg="grad_u", **F64)
    np.testing.assert_allclose(land.grad_v.ravel()[finite], grad_b[finite], err_msg="grad_v", **F64)

    # ... and a few points against compare_losses on the logits written out by hand.
    for i, j in {(0, 0), (steps - 1, 0), (0, steps - 1), (steps // 2, steps // 3)}:
        row = z.copy()
        row[a], row[b] = z[t] + land.u[j], z[t] + land.v[i]
        r = compare_losses(row[None], np.array([t]), [key], options)[key]
        np.testing.assert_allclose(land.loss[i, j], r.per_sample[0], err_msg=f"loss[{i}, {j}]", **F64)
        np.testing.assert_allclose(land.grad_u[i, j], r.grad[0, a], err_msg=f"grad_u[{i}, {j}]", **F64)
        np.testing.assert_allclose(land.grad_v[i, j], r.grad[0, b], err_msg=f"grad_v[{i}, {j}]", **F64)


@QUICK
@given(
    sample=samples(min_classes=3),
    key=st.sampled_from(KEYS),
    rival_values=st.tuples(xs.floats(), xs.floats()),
    shift=st.sampled_from((0.0, 1.0)) | xs.floats(-10.0, 10.0),
)
def test_samples_with_the_same_landscape_reference_have_the_same_landscape(sample, key, rival_values, shift):
    # The page caches landscapes on landscape_reference: the rivals' own logits do not matter (the grid
    # replaces them), nor, for the losses in SHIFT_INVARIANT, a constant added to every logit.
    z, t = sample
    rivals = rival_classes(z, t)
    other = z.copy()
    other[list(rivals)] = rival_values
    assert landscape_reference(other, t, key, rivals) == landscape_reference(z, t, key, rivals)
    if key in SHIFT_INVARIANT:
        other = other + shift
        np.testing.assert_allclose(
            landscape_reference(other, t, key, rivals), landscape_reference(z, t, key, rivals), rtol=0, atol=1e-13
        )
    land, moved = (loss_landscape(x, t, key, steps=5, rivals=rivals) for x in (z, other))
    for field in ("loss", "grad_u", "grad_v"):
        np.testing.assert_allclose(getattr(moved, field), getattr(land, field), err_msg=field, **F64)
    assert moved.here == landscape_position(other, t, rivals)


def test_shift_invariant_losses_are_those_that_ignore_a_constant_added_to_every_logit():
    z, t = np.array([[0.3, -1.2, 2.0, 0.5]]), np.array([1])
    base, shifted = compare_losses(z, t, KEYS), compare_losses(z + 3.0, t, KEYS)
    invariant = {key for key in KEYS if np.allclose(shifted[key].per_sample, base[key].per_sample, rtol=1e-12)}
    assert invariant == SHIFT_INVARIANT


@QUICK
@given(sample=samples(min_classes=3), key=st.sampled_from(MONOTONE_IN_RIVALS))
def test_raising_a_rival_never_lowers_ce_focal_hinge_or_sigmoid_loss(sample, key):
    # So the lower-left corner (both rivals far below the target) is the landscape's minimum.
    z, t = sample
    land = loss_landscape(z, t, key, extent=8.0, steps=9)
    assert (land.grad_u >= 0).all()
    assert (land.grad_v >= 0).all()
    assert land.loss[0, 0] == land.loss.min()


@QUICK
@given(sample=samples(min_classes=3))
def test_rival_classes_are_the_two_largest_other_logits_ties_to_the_lower_index(sample):
    z, t = sample
    expected = sorted((c for c in range(z.size) if c != t), key=lambda c: (-z[c], c))[:2]
    assert rival_classes(z, t) == tuple(expected)


def test_rival_classes_on_a_worked_example():
    assert rival_classes(np.array([3.0, 1.0, 5.0, 1.0, 4.0]), 2) == (4, 0)
    assert rival_classes(np.array([0.0, 2.0, 2.0, 2.0]), 2) == (1, 3)


@pytest.mark.parametrize(
    ("logits", "target", "rivals"),
    [
        (np.array([1.0, 2.0]), 0, None),  # fewer than 3 classes
        (np.array([1.0, 2.0]), 0, (1, 1)),
        (np.array([1.0]), 0, None),
        (np.array([1.0, 2.0, 3.0]), 0, (0, 1)),  # the target as a rival
        (np.array([1.0, 2.0, 3.0]), 0, (2, 2)),  # the same class twice
        (np.array([1.0, 2.0, 3.0]), 0, (1, 3)),  # out of range
        (np.array([1.0, 2.0, 3.0]), 0, (-1, 1)),
        (np.array([1.0, 2.0, 3.0]), 0, (1.5, 2)),  # not a class index
        (np.array([[1.0, 2.0, 3.0]]), 0, None),  # a batch, not one sample
        (np.array([1.0, 2.0, 3.0]), 3, None),  # target out of range
    ],
)
def test_landscape_refuses_too_few_classes_and_invalid_rivals(logits, target, rivals):
    with pytest.raises(XentInputError):
        loss_landscape(logits, target, "ce", rivals=rivals)


@pytest.mark.parametrize(
    "kwargs", [{"steps": 1}, {"steps": 402}, {"extent": 0.0}, {"extent": -1.0}, {"extent": float("nan")}]
)
def test_landscape_refuses_an_empty_or_oversized_grid(kwargs):
    with pytest.raises(XentInputError):
        loss_landscape(np.array([1.0, 2.0, 3.0]), 0, "ce", **kwargs)


# ---------------------------------------------------------------------------------------------- multilabel_losses


@MAIN
@given(case=multilabel_cases())
def test_multilabel_losses_match_torch_bce_and_soft_target_cross_entropy(case):
    z, labels, pos_weight = case
    ml = multilabel_losses(z, labels, pos_weight=pos_weight)
    expected = torch_multilabel(z, labels, pos_weight)
    for field, value in expected.items():
        np.testing.assert_allclose(getattr(ml, field), value, err_msg=field, **F64)
    value, _ = oracle.binary_cross_entropy_with_logits_and_grad(z, labels, pos_weight=pos_weight)
    np.testing.assert_allclose(ml.bce_mean, value, **F64)
    np.testing.assert_allclose(ml.bce_per_sample.mean(), ml.bce_mean, **F64)  # equal row lengths


@MAIN
@given(case=multilabel_cases())
def test_softmax_cross_entropy_never_drops_below_the_entropy_of_the_normalised_labels(case):
    z, labels, _ = case
    ml = multilabel_losses(z, labels)
    k = labels.sum(axis=1)
    np.testing.assert_allclose(ml.ce_floor, np.log(k), **F64)  # log 2 for two labels
    # >= up to round-off: at the optimum both are log k, computed two ways (1 ulp apart for k = 3, 5, 6).
    # A real breach is far larger: float32 labels put the floor 2e-9 above the loss (fixed in compare.py).
    slack = 4 * np.spacing(ml.ce_floor)
    assert (ml.ce_per_sample >= ml.ce_floor - slack).all(), ml.ce_per_sample - ml.ce_floor
    # and softmax cannot say yes twice: at most one class per row above 0.5, true or not
    assert ((ml.softmax_probs > 0.5).sum(axis=1) <= 1).all()


@pytest.mark.parametrize("dtype", [np.float64, np.int64, np.bool_])
def test_two_true_labels_can_both_pass_half_under_sigmoid_but_not_under_softmax(dtype):
    z = np.array([[4.0, 4.0, -4.0, -4.0]])
    labels = np.array([[1, 1, 0, 0]]).astype(dtype)
    ml = multilabel_losses(z, labels)
    assert (ml.sigmoid_probs[0, :2] > 0.98).all()
    assert ml.bce_per_sample[0] < 0.02
    assert ml.softmax_probs[0, :2].sum() <= 1
    assert not (ml.softmax_probs[0, :2] > 0.5).all()
    assert ml.ce_per_sample[0] >= ml.ce_floor[0]
    np.testing.assert_allclose(ml.ce_floor, [math.log(2)], **F64)
    # Integer and boolean labels (a table of checkboxes) are computed like float ones, in float64.
    assert ml.ce_target.dtype == ml.ce_floor.dtype == np.float64
    # At softmax's best for this row (0.5 each) the loss is at the floor, and the floor is not above it.
    best = multilabel_losses(np.array([[0.0, 0.0, -30.0, -30.0]]), labels)
    assert best.ce_per_sample[0] >= best.ce_floor[0]
    np.testing.assert_allclose(best.ce_per_sample, best.ce_floor, rtol=1e-12)


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ([[1.0, 0.0, 0.0], [0.0, 0.5, 1.0]], r"row 1, class 1: labels are 0 or 1"),
        ([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [2.0, 0.0, 1.0]], r"row 2, class 0"),
        ([[1.0, -1.0, 0.0], [1.0, 0.0, 0.0]], r"row 0, class 1"),
        ([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]], r"row 2 has no true label"),
        ([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]], r"row 0 has no true label"),
        ([[1.0, 0.0, 0.0], [1.0, np.nan, 0.0]], r"entry \[1, 1\] of labels: NaN"),
    ],
)
def test_multilabel_refuses_bad_labels_naming_the_row(labels, message):
    # Rows are numbered from 0, as everywhere else in the app ("row 0" is the first row of the table).
    labels = np.array(labels)
    with pytest.raises(XentInputError, match=message):
        multilabel_losses(np.zeros(labels.shape), labels)


@pytest.mark.parametrize(
    ("logits", "labels"),
    [
        (np.zeros((2, 3)), np.ones((2, 2))),  # shape mismatch
        (np.zeros((2, 3)), np.ones((3, 3))),
        (np.zeros((2, 3)), np.ones(3)),  # torch would broadcast one row of labels; refused
        (np.zeros(3), np.ones(3)),  # one sample without its batch dimension
        (np.zeros((2, 3, 1)), np.ones((2, 3, 1))),
        (np.array([[0.0, np.inf, 0.0]]), np.ones((1, 3))),
    ],
)
def test_multilabel_refuses_mismatched_shapes_and_bad_logits(logits, labels):
    with pytest.raises(XentInputError):
        multilabel_losses(logits, labels)
