"""cross_entropy_trace: every intermediate of cross-entropy, consistent with itself, with cross_entropy and with torch.

torch is the oracle: F.cross_entropy(logits / T, ...) for the values, autograd with respect to the
unscaled logits for the gradient (so the 1 / T of the chain rule is checked too).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import xent_core as xc

REDUCTIONS = ("none", "mean", "sum")
RNG = np.random.default_rng(20240806)
N, C = 5, 4
LOGITS = RNG.standard_normal((N, C)) * 3  # (N, C)
INDEX = np.array([0, 3, 1, 2, 1])  # (N,)
WITH_IGNORED = np.array([0, -100, 1, -100, 3])  # rows 1 and 3 ignored
WEIGHT = np.array([0.5, 2.0, 1.0, 3.0])  # (C,)
_raw = RNG.standard_normal((N, C)) * 2
SOFT = np.exp(_raw) / np.exp(_raw).sum(axis=1, keepdims=True)  # (N, C) rows of probabilities


@dataclass(frozen=True)
class Setup:
    target: np.ndarray
    options: dict = field(default_factory=dict)  # weight, ignore_index, label_smoothing
    temperature: float = 1.0

    @property
    def is_index(self) -> bool:
        return self.target.shape != LOGITS.shape

    @property
    def ignore_index(self) -> int:
        return self.options.get("ignore_index", -100)


SETUPS = {
    "plain": Setup(INDEX),
    "temperature_0.5": Setup(INDEX, temperature=0.5),
    "temperature_2.5": Setup(INDEX, temperature=2.5),
    "weight": Setup(INDEX, {"weight": WEIGHT}),
    "ignored_rows": Setup(WITH_IGNORED),
    "ignored_rows_weight": Setup(WITH_IGNORED, {"weight": WEIGHT}),
    "ignore_index_is_a_real_class": Setup(INDEX, {"ignore_index": 1, "weight": WEIGHT}),
    "label_smoothing": Setup(INDEX, {"label_smoothing": 0.1}),
    "label_smoothing_weight_ignored": Setup(WITH_IGNORED, {"label_smoothing": 0.2, "weight": WEIGHT}),
    "everything_index": Setup(WITH_IGNORED, {"label_smoothing": 0.3, "weight": WEIGHT}, temperature=1.7),
    "probability_targets": Setup(SOFT),
    "probability_targets_weight": Setup(SOFT, {"weight": WEIGHT}),
    "probability_targets_smoothing": Setup(SOFT, {"label_smoothing": 0.25}),
    "everything_probs": Setup(SOFT, {"label_smoothing": 0.1, "weight": WEIGHT}, temperature=0.8),
}
CASES = [pytest.param(s, r, id=f"{k}-{r}") for k, s in SETUPS.items() for r in REDUCTIONS]


def trace_of(setup: Setup, reduction: str, logits: np.ndarray = LOGITS) -> xc.CrossEntropyTrace:
    return xc.cross_entropy_trace(
        logits, setup.target, reduction=reduction, temperature=setup.temperature, **setup.options
    )


def torch_oracle(logits: np.ndarray, setup: Setup, reduction: str):
    """(per-sample losses, reduced loss ('none': their sum), d reduced / d logits) from torch autograd."""
    z = torch.tensor(logits, requires_grad=True)
    options = {k: (torch.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in setup.options.items()}
    target = torch.tensor(setup.target)
    per_sample = F.cross_entropy(z.detach() / setup.temperature, target, reduction="none", **options)
    loss = F.cross_entropy(z / setup.temperature, target, reduction=reduction, **options)
    total = loss.sum() if reduction == "none" else loss
    total.backward()
    return per_sample.numpy(), total.item(), z.grad.numpy()


def close(actual, expected, **kw):
    np.testing.assert_allclose(actual, expected, rtol=kw.get("rtol", 1e-12), atol=kw.get("atol", 1e-12))


# ---------------------------------------------------------------------------------------------- against torch


@pytest.mark.parametrize(("setup", "reduction"), CASES)
def test_trace_matches_torch(setup, reduction):
    trace = trace_of(setup, reduction)
    per_sample, loss, grad = torch_oracle(LOGITS, setup, reduction)
    close(trace.per_sample, per_sample)
    close(trace.loss, loss)
    close(trace.grad, grad)
    close(trace.probs, torch.softmax(torch.tensor(LOGITS) / setup.temperature, 1).numpy())
    close(trace.log_probs, torch.log_softmax(torch.tensor(LOGITS) / setup.temperature, 1).numpy())
    close(trace.logsumexp, torch.logsumexp(torch.tensor(LOGITS) / setup.temperature, 1).numpy())


@pytest.mark.parametrize(("setup", "reduction"), CASES)
def test_trace_agrees_with_cross_entropy_and_its_gradient(setup, reduction):
    trace = trace_of(setup, reduction)
    scaled = LOGITS / setup.temperature
    per_sample = xc.cross_entropy(scaled, setup.target, reduction="none", **setup.options)
    np.testing.assert_array_equal(trace.per_sample, per_sample)
    reduced, grad = xc.cross_entropy_and_grad(scaled, setup.target, reduction=reduction, **setup.options)
    expected_loss = reduced.sum() if reduction == "none" else reduced  # 'none': the trace reports the sum
    close(trace.loss, expected_loss, rtol=1e-14)
    close(trace.grad, grad / setup.temperature, rtol=1e-14)


# ---------------------------------------------------------------------------------------------- intermediates


@pytest.mark.parametrize(("setup", "reduction"), CASES)
def test_softmax_intermediates_are_consistent(setup, reduction):
    trace = trace_of(setup, reduction)
    close(trace.scaled_logits, LOGITS / setup.temperature)
    np.testing.assert_array_equal(trace.row_max, trace.scaled_logits.max(axis=1))
    np.testing.assert_array_equal(trace.exp_shifted.max(axis=1), 1.0)  # the row max shifts to exp(0)
    close(trace.exp_shifted / trace.sum_exp_shifted[:, None], trace.probs)
    close(trace.exp / trace.sum_exp[:, None], trace.probs)
    close(trace.logsumexp, np.log(trace.sum_exp))
    close(trace.logsumexp, trace.row_max + np.log(trace.sum_exp_shifted))
    close(trace.probs.sum(axis=1), 1.0)
    close(np.exp(trace.log_probs), trace.probs)


@pytest.mark.parametrize(("setup", "reduction"), [c for c in CASES if c.values[0].is_index])
def test_index_target_intermediates_are_consistent(setup, reduction):
    trace = trace_of(setup, reduction)
    assert trace.target_kind == "index"
    kept = ~trace.ignored
    np.testing.assert_array_equal(trace.ignored, setup.target == setup.ignore_index)
    rows = np.flatnonzero(kept)
    close(trace.target_prob[kept], trace.probs[rows, setup.target[kept]])
    close(trace.neg_log_target_prob[kept], -np.log(trace.target_prob[kept]))
    assert np.isnan(trace.target_prob[trace.ignored]).all()
    assert np.isnan(trace.neg_log_target_prob[trace.ignored]).all()
    weight = setup.options.get("weight", np.ones(C))
    close(trace.sample_weight[kept], weight[setup.target[kept]])
    close(trace.sample_weight[trace.ignored], 0.0)
    distribution_sums = trace.target_distribution.sum(axis=1)
    close(distribution_sums[kept], 1.0)
    close(distribution_sums[trace.ignored], 0.0)
    if "label_smoothing" not in setup.options:
        # without smoothing the loss of a kept row is w[t] * -log p[t]
        close(trace.per_sample[kept], trace.sample_weight[kept] * trace.neg_log_target_prob[kept])


@pytest.mark.parametrize(("setup", "reduction"), [c for c in CASES if not c.values[0].is_index])
def test_probability_target_intermediates_are_consistent(setup, reduction):
    trace = trace_of(setup, reduction)
    assert trace.target_kind == "probs"
    assert np.isnan(trace.target_prob).all()
    assert np.isnan(trace.neg_log_target_prob).all()
    assert not trace.ignored.any()
    np.testing.assert_array_equal(trace.sample_weight, 1.0)
    eps = setup.options.get("label_smoothing", 0.0)
    close(trace.target_distribution, (1 - eps) * SOFT + eps / C)
    weight = setup.options.get("weight", np.ones(C))
    close(trace.per_sample, -(weight * trace.target_distribution * trace.log_probs).sum(axis=1))


@pytest.mark.parametrize(("setup", "reduction"), CASES)
def test_denominator_and_shares_add_up_to_the_loss(setup, reduction):
    trace = trace_of(setup, reduction)
    if reduction != "mean":
        expected_denominator = 1.0
    elif setup.is_index:  # torch's weighted mean: the summed weights of the non-ignored targets
        weight = setup.options.get("weight", np.ones(C))
        kept = setup.target != setup.ignore_index
        expected_denominator = weight[setup.target[kept]].sum()
    else:  # probability targets: the number of samples, whatever the weights
        expected_denominator = N
    close(trace.denominator, expected_denominator)
    close(trace.share, trace.per_sample / expected_denominator)
    close(trace.share.sum(), trace.loss)
    close(trace.share[trace.ignored], 0.0)
    close(trace.per_sample[trace.ignored], 0.0)
    close(trace.grad[trace.ignored], 0.0)  # an ignored row gets no gradient, even with label smoothing


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_trace_echoes_its_options(reduction):
    setup = SETUPS["everything_index"]
    trace = trace_of(setup, reduction)
    assert trace.reduction == reduction
    assert trace.temperature == setup.temperature
    assert trace.label_smoothing == setup.options["label_smoothing"]
    np.testing.assert_array_equal(trace.logits, LOGITS)
    np.testing.assert_array_equal(trace.target, setup.target)
    assert trace.num_classes == C
    assert trace.baseline == pytest.approx(np.log(C))


def test_every_ignored_mean_is_nan_like_torch():
    setup = Setup(np.full(N, -100))
    trace = trace_of(setup, "mean")
    _, loss, grad = torch_oracle(LOGITS, setup, "mean")
    assert np.isnan(trace.loss)
    assert np.isnan(loss)
    assert trace.denominator == 0.0
    close(trace.grad, grad)


# ---------------------------------------------------------------------------------------------- huge and small inputs


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_huge_logits_overflow_only_the_naive_exp(reduction):
    logits = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 5.0], [3.0, 2.0, 1.0]])
    setup = Setup(np.array([0, 2, 1]))
    trace = trace_of(setup, reduction, logits)
    assert np.isinf(trace.exp).any()  # exp(1e4) is what the step-by-step view shows overflowing
    assert np.isinf(trace.sum_exp[:2]).all()
    for name in (
        "scaled_logits",
        "row_max",
        "exp_shifted",
        "sum_exp_shifted",
        "logsumexp",
        "probs",
        "log_probs",
        "target_prob",
        "neg_log_target_prob",
        "per_sample",
        "share",
        "loss",
        "grad",
    ):
        assert np.isfinite(getattr(trace, name)).all(), name
    close(trace.neg_log_target_prob[1], 1e4 - 5.0)  # p[2] underflows to 0, its -log does not
    per_sample, loss, grad = torch_oracle(logits, setup, reduction)
    close(trace.per_sample, per_sample)
    close(trace.loss, loss)
    close(trace.grad, grad)


def test_unbatched_logits_give_a_one_row_trace():
    z, y = LOGITS[1], np.array(3)  # (C,) and ()
    trace = xc.cross_entropy_trace(z, y)
    assert trace.probs.shape == (1, C)
    assert trace.per_sample.shape == (1,)
    assert trace.grad.shape == (1, C)
    loss, grad = xc.cross_entropy_and_grad(z, y)
    close(trace.loss, loss)
    close(trace.grad[0], grad)
    close(trace.loss, F.cross_entropy(torch.tensor(z), torch.tensor(y)).item())


def test_unbatched_probability_target_gives_a_one_row_trace():
    z, y = LOGITS[2], SOFT[2]  # (C,) and (C,)
    trace = xc.cross_entropy_trace(z, y, label_smoothing=0.1)
    assert trace.target_kind == "probs"
    assert trace.target.shape == (1, C)
    close(trace.loss, F.cross_entropy(torch.tensor(z), torch.tensor(y), label_smoothing=0.1).item())


def test_float32_trace_matches_torch_in_float32():
    preset = xc.PRESETS["seed42"]
    trace = xc.cross_entropy_trace(preset.logits, preset.target, temperature=2.0)
    z = torch.tensor(preset.logits, requires_grad=True)
    loss = F.cross_entropy(z / 2.0, torch.tensor(preset.target))
    loss.backward()
    assert trace.probs.dtype == np.float32
    # float32 round-off: both sides compute in single precision, in different orders
    np.testing.assert_allclose(trace.loss, loss.item(), rtol=1e-6)
    np.testing.assert_allclose(trace.grad, z.grad.numpy(), rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------------------------------------- the documented example


def test_seed42_trace_shows_the_tutorial_numbers():
    preset = xc.PRESETS["seed42"]
    trace = xc.cross_entropy_trace(preset.logits, preset.target, reduction="none")
    half_unit = 0.5 * 10.0**-preset.decimals
    np.testing.assert_allclose(trace.target_prob, preset.expected["target_probs"], rtol=0, atol=half_unit)
    np.testing.assert_allclose(trace.per_sample, preset.expected["per_sample"], rtol=0, atol=half_unit)
    np.testing.assert_allclose(trace.neg_log_target_prob, preset.expected["per_sample"], rtol=0, atol=half_unit)
    # The tutorial's softmax table, first row: tensor([0.7028, 0.2917, 0.0055])
    np.testing.assert_allclose(trace.probs[0], [0.7028, 0.2917, 0.0055], rtol=0, atol=half_unit)
    mean = xc.cross_entropy_trace(preset.logits, preset.target)
    close(mean.loss, np.mean(trace.per_sample, dtype=np.float64), rtol=1e-6)  # float32 logits
