"""The training lab's core: the torch losses it trains with equal xent_core's (value and gradient), the
batched network and optimisers train each model exactly as plain torch would, runs are deterministic,
divergence is caught and explained, and the default setting shows what the page claims.

The page's claim ("this is what cross-entropy does, and this is what MSE does") hinges on the first
test: the training loop minimises `training.torch_loss`, and here every one of those torch losses is
compared with the xent_core function the rest of the app explains, in float64, value and gradient.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.optim.adam import adam
from torch.optim.sgd import sgd

import xent_core as xc
from xent_core import training
from xent_core.compare import LossOptions
from xent_core.datasets import DataConfig, make_dataset
from xent_core.training import TrainConfig, calibration, summarize, train

ROOT = Path(__file__).resolve().parents[2]
KEYS = tuple(training.TRAINING_LOSSES)
F64 = {"rtol": 1e-12, "atol": 1e-14}  # the same formula on both sides: round-off only


def xent_mean_and_grad(key: str, logits, target, *, weight, options: LossOptions, reduction="mean"):
    """The xent_core function each training loss must equal (the table in xent_core/training.py)."""
    if key == "ce":
        return xc.cross_entropy_and_grad(logits, target, reduction=reduction)
    if key == "smoothed_ce":
        return xc.cross_entropy_and_grad(logits, target, label_smoothing=options.label_smoothing, reduction=reduction)
    if key == "weighted_ce":
        return xc.cross_entropy_and_grad(logits, target, weight=weight, reduction=reduction)
    if key == "mse":
        return xc.mse_on_softmax_and_grad(logits, target, reduction=reduction)
    if key == "sigmoid":
        return xc.sigmoid_distance_loss_and_grad(logits, target, reduction=reduction)
    if key == "hinge":
        return xc.multi_margin_loss_and_grad(logits, target, p=options.p, margin=options.margin, reduction=reduction)
    if key == "focal":
        return xc.softmax_focal_loss_and_grad(logits, target, gamma=options.gamma, reduction=reduction)
    raise ValueError(key)


def random_case(seed: int):
    rng = np.random.default_rng(seed)
    n, c = 7, 2 + seed % 5
    logits = rng.normal(0.0, 3.0, (n, c))
    target = rng.integers(0, c, n)
    weight = rng.uniform(0.2, 3.0, c)
    options = LossOptions(
        label_smoothing=(0.05, 0.15, 0.4)[seed % 3],
        margin=(1.0, 0.7)[seed % 2],
        p=1 + seed % 2,
        gamma=(0.5, 2.0, 3.0, 0.0)[seed % 4],
    )
    return logits, target, weight, options


def torch_value_and_grad(key, logits, target, weight, options, reduction="mean"):
    z = torch.tensor(logits, requires_grad=True)
    out = training.torch_loss(
        key, z, torch.tensor(target), options=options, class_weight=torch.tensor(weight), reduction=reduction
    )
    out.sum().backward()
    return out.detach().numpy(), z.grad.numpy()


# ---------------------------------------------------------------------------------------------- the losses


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("key", KEYS)
def test_each_training_loss_equals_its_xent_core_function_value_and_gradient(key, seed):
    logits, target, weight, options = random_case(seed)
    expected, expected_grad = xent_mean_and_grad(key, logits, target, weight=weight, options=options)
    value, grad = torch_value_and_grad(key, logits, target, weight, options)
    np.testing.assert_allclose(value, expected, **F64)
    np.testing.assert_allclose(grad, expected_grad, **F64)


@pytest.mark.parametrize("key", KEYS)
def test_each_training_loss_equals_xent_core_in_the_loops_classes_second_layout(key):
    """The loop hands torch_loss (1, C, N): the same numbers as (N, C), gradient transposed."""
    logits, target, weight, options = random_case(4)
    expected, expected_grad = xent_mean_and_grad(key, logits, target, weight=weight, options=options)
    value, grad = torch_value_and_grad(key, logits.T[None].copy(), target[None], weight, options)
    np.testing.assert_allclose(value, expected, **F64)
    np.testing.assert_allclose(grad, expected_grad.T[None], **F64)


@pytest.mark.parametrize("key", KEYS)
def test_each_training_loss_equals_xent_core_per_sample(key):
    logits, target, weight, options = random_case(2)
    expected, expected_grad = xent_mean_and_grad(key, logits, target, weight=weight, options=options, reduction="none")
    value, grad = torch_value_and_grad(key, logits, target, weight, options, reduction="none")
    np.testing.assert_allclose(value, expected, **F64)
    np.testing.assert_allclose(grad, expected_grad, **F64)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_focal_training_loss_stays_finite_where_the_target_probability_rounds_to_one(gamma):
    """Plain torch autograd gives nan there for gamma < 1; the training loss takes the limit, as xent_core."""
    logits = np.array([[800.0, 0.0, 0.0], [0.0, 1.0, 2.0]])
    target = np.array([0, 2])
    options = LossOptions(gamma=gamma)
    value, grad = torch_value_and_grad("focal", logits, target, np.ones(3), options)
    expected, expected_grad = xent_mean_and_grad("focal", logits, target, weight=None, options=options)
    assert np.isfinite(grad).all()
    np.testing.assert_allclose(value, expected, **F64)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-100)


def autograd_grad(key, logits, target, weight, options, scale):
    """torch autograd on training.torch_loss: d/d logits of sum_n scale_n * loss_n."""
    z = torch.tensor(logits, requires_grad=True)
    per_sample = training.torch_loss(
        key, z, torch.tensor(target), options=options, class_weight=torch.tensor(weight), reduction="none"
    )
    (per_sample * torch.tensor(scale)).sum().backward()
    return z.grad.numpy()


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("layout", ["(N, C)", "(1, C, N)", "(N, C, H, W)"])
def test_each_written_out_loss_gradient_equals_autograd_on_the_torch_loss(key, seed, layout):
    """The loop steps with torch_loss_grad instead of autograd: the same gradient, per-sample scale included."""
    logits, target, weight, options = random_case(seed)
    if layout == "(1, C, N)":
        logits, target = logits.T[None].copy(), target[None]
    elif layout == "(N, C, H, W)":
        rng = np.random.default_rng(seed)
        logits = rng.normal(0.0, 3.0, (2, logits.shape[1], 3, 2))
        target = rng.integers(0, logits.shape[1], (2, 3, 2))
    scale = np.random.default_rng(seed + 100).uniform(0.1, 2.0, target.shape)
    expected = autograd_grad(key, logits, target, weight, options, scale)
    grad = training.torch_loss_grad(
        key,
        torch.tensor(logits),
        torch.tensor(target),
        options=options,
        class_weight=torch.tensor(weight),
        scale=torch.tensor(scale),
    ).numpy()
    np.testing.assert_allclose(grad, expected, **F64)


@pytest.mark.parametrize(
    ("key", "options", "logits", "target"),
    [
        ("focal", LossOptions(gamma=0.0), [[800.0, 0.0, 0.0], [0.0, 1.0, 2.0]], [0, 2]),  # p_t rounds to 1
        ("focal", LossOptions(gamma=0.5), [[800.0, 0.0, 0.0], [0.0, 1.0, 2.0]], [0, 2]),
        ("focal", LossOptions(gamma=2.0), [[800.0, 0.0, 0.0], [0.0, 1.0, 2.0]], [0, 2]),
        ("hinge", LossOptions(margin=1.0, p=1), [[1.0, 0.0, 0.5], [0.0, 3.0, 2.0]], [0, 1]),  # exactly at the kink
        ("hinge", LossOptions(margin=1.0, p=2), [[1.0, 0.0, 0.5], [0.0, 3.0, 2.0]], [0, 1]),
        ("sigmoid", LossOptions(), [[40.0, -40.0], [0.0, 0.0]], [1, 0]),  # saturated sigmoid
        ("mse", LossOptions(), [[90.0, -90.0], [0.0, 0.0]], [1, 0]),  # saturated softmax
    ],
)
def test_written_out_gradients_match_autograd_at_the_edges(key, options, logits, target):
    logits, target = np.array(logits), np.array(target)
    expected = autograd_grad(key, logits, target, np.ones(logits.shape[1]), options, np.full(len(target), 0.5))
    grad = training.torch_loss_grad(key, torch.tensor(logits), torch.tensor(target), options=options, scale=0.5)
    assert np.isfinite(grad.numpy()).all()
    np.testing.assert_allclose(grad.numpy(), expected, rtol=1e-12, atol=1e-300)


def test_unknown_loss_is_refused():
    with pytest.raises(xc.XentInputError, match="unknown loss 'l1'"):
        training.torch_loss("l1", torch.zeros(2, 3), torch.tensor([0, 1]))
    with pytest.raises(xc.XentInputError, match="unknown loss 'l1'"):
        training.torch_loss_grad("l1", torch.zeros(2, 3), torch.tensor([0, 1]))


def test_balanced_class_weights_give_every_class_the_same_total_weight():
    y = np.array([0] * 30 + [1] * 6 + [2] * 4)
    w = training.balanced_class_weight(y, 4)
    totals = w[:3] * np.bincount(y)
    np.testing.assert_allclose(totals, len(y) / 4)
    assert w[3] == 0  # absent class


# ---------------------------------------------------------------------------------------------- the machinery


def small_data(**changes):
    return make_dataset(dataclasses.replace(DataConfig(num_points=120, val_fraction=0.25), **changes))


def reference_run(data, config: TrainConfig, key: str):
    """One model trained the plain way: nn.Sequential, autograd and torch.optim's updates in float64,
    with the gradient of the loss taken from xent_core."""
    sizes = training.layer_sizes(config, data.num_classes)
    init = training.init_weights(config, data.num_classes)
    layers = []
    for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
        linear = nn.Linear(fan_in, fan_out, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(init[2 * i]))
            linear.bias.copy_(torch.tensor(init[2 * i + 1]))
        layers += [linear, nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    params = list(model.parameters())
    # torch.optim's own update functions (what torch.optim.SGD / Adam.step call; the classes' first
    # construction imports torch._dynamo, 2 s), with their state kept here
    buffers = [None] * len(params)
    exp_avgs = [torch.zeros_like(p) for p in params]
    exp_avg_sqs = [torch.zeros_like(p) for p in params]
    state_steps = [torch.tensor(0.0, dtype=torch.float64) for _ in params]
    x = torch.tensor(data.x_train)
    weight = training.balanced_class_weight(data.y_train, data.num_classes)
    values, norms = [], []
    for _ in range(config.steps):
        logits = model(x)
        value, grad = xent_mean_and_grad(
            key, logits.detach().numpy(), data.y_train, weight=weight, options=config.options
        )
        values.append(value)
        model.zero_grad()
        logits.backward(torch.tensor(grad))
        grads = [p.grad for p in params]
        norms.append(math.sqrt(sum(float((g**2).sum()) for g in grads)))
        with torch.no_grad():
            if config.optimizer == "adam":
                adam(
                    params,
                    grads,
                    exp_avgs,
                    exp_avg_sqs,
                    [],
                    state_steps,
                    foreach=False,
                    amsgrad=False,
                    beta1=0.9,
                    beta2=0.999,
                    lr=config.lr,
                    weight_decay=0.0,
                    eps=1e-8,
                    maximize=False,
                )
            else:
                sgd(
                    params,
                    grads,
                    buffers,
                    foreach=False,
                    weight_decay=0.0,
                    momentum=config.momentum,
                    lr=config.lr,
                    dampening=0.0,
                    nesterov=False,
                    maximize=False,
                )
    return [p.detach().numpy() for p in model.parameters()], np.array(values), np.array(norms)


@pytest.mark.parametrize(
    ("optimizer", "model", "keys"),
    [
        ("sgd", "mlp", ("ce", "mse", "sigmoid", "smoothed_ce")),
        ("adam", "mlp", ("hinge", "focal", "weighted_ce")),
        ("adam", "linear", ("ce", "sigmoid")),
    ],
)
def test_batched_training_equals_plain_torch_with_xent_core_gradients(optimizer, model, keys):
    """Stacked models, hand-written backprop and optimiser == nn.Sequential, autograd and torch.optim."""
    data = small_data(num_classes=3, imbalance=3.0)
    config = TrainConfig(
        losses=keys, optimizer=optimizer, model=model, width=8, depth=2, lr=0.05, steps=6, dtype="float64"
    )
    result = train(data, config)
    for key in keys:
        weights, values, norms = reference_run(data, config, key)
        run = result.runs[key]
        np.testing.assert_allclose(run.loss_train[: config.steps], values, rtol=1e-10, err_msg=key)
        np.testing.assert_allclose(run.grad_norm, norms, rtol=1e-10, err_msg=key)
        assert len(run.weights) == len(weights)
        for mine, theirs in zip(run.weights, weights, strict=True):
            assert mine.shape == theirs.shape
            np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-12, err_msg=key)


def test_every_model_starts_from_the_same_weights_and_so_the_same_cross_entropy():
    result = train(small_data(), TrainConfig(losses=("ce", "mse", "hinge", "focal"), steps=3))
    first = {key: (run.ce_train[0], run.acc_val[0]) for key, run in result.runs.items()}
    assert len(set(first.values())) == 1, first
    later = {key: run.ce_train[-1] for key, run in result.runs.items()}
    assert len(set(later.values())) == 4, later  # and then the losses take them apart


def test_a_models_run_does_not_depend_on_which_losses_train_beside_it():
    data = small_data()
    alone = train(data, TrainConfig(losses=("ce", "mse"), steps=30)).runs["ce"]
    crowded = train(data, TrainConfig(losses=("hinge", "sigmoid", "ce"), steps=30)).runs["ce"]
    for field in ("loss_train", "ce_val", "acc_val", "grad_norm", "grid_probs"):
        np.testing.assert_array_equal(getattr(alone, field), getattr(crowded, field), err_msg=field)


def test_same_settings_give_the_same_run_bit_for_bit():
    data = small_data(label_noise=0.1)
    config = TrainConfig(losses=("ce", "smoothed_ce", "weighted_ce"), optimizer="adam", lr=0.01, steps=40)
    a, b = train(data, config), train(small_data(label_noise=0.1), config)
    for key in config.losses:
        for field in ("loss_train", "loss_val", "ce_train", "ce_val", "acc_train", "acc_val", "grad_norm"):
            np.testing.assert_array_equal(getattr(a.runs[key], field), getattr(b.runs[key], field))
        np.testing.assert_array_equal(a.runs[key].grid_probs, b.runs[key].grid_probs)
    other = train(data, dataclasses.replace(config, seed=1))
    assert not np.array_equal(other.runs["ce"].ce_train, a.runs["ce"].ce_train)  # the seed does matter


def test_curves_do_not_depend_on_how_often_progress_is_reported():
    """The losses, cross-entropy and accuracy are measured a chunk of steps at a time, the chunk as long as
    the progress interval; the page's interval differs from the default, and must not change a number."""
    data = small_data()
    config = TrainConfig(losses=("ce", "hinge", "focal", "weighted_ce"), optimizer="adam", lr=0.01, steps=40)
    runs = [train(data, config, progress_every=every).runs for every in (1, 7, 25, 100)]
    for other in runs[1:]:
        for key in config.losses:
            for field in ("loss_train", "loss_val", "ce_train", "ce_val", "acc_train", "acc_val", "grad_norm"):
                np.testing.assert_array_equal(getattr(other[key], field), getattr(runs[0][key], field), err_msg=field)


def test_curves_have_steps_plus_one_entries_and_the_documented_shapes():
    data = small_data(num_classes=4)
    config = TrainConfig(losses=("ce", "mse"), steps=12, grid=9, bins=5)
    result = train(data, config)
    run = result.runs["ce"]
    for field in ("loss_train", "loss_val", "ce_train", "ce_val", "acc_train", "acc_val"):
        assert getattr(run, field).shape == (13,), field
    assert run.grad_norm.shape == (12,)
    assert run.grid_probs.shape == (9, 9, 4)
    np.testing.assert_allclose(run.grid_probs.sum(-1), 1.0, rtol=1e-5)
    assert run.val_probs.shape == (len(data.y_val), 4)
    assert run.calibration.count.sum() == len(data.y_val)
    assert result.grid.shape == (9,)
    assert result.grid[0] == -data.extent
    assert result.grid[-1] == data.extent


def test_recorded_cross_entropy_and_accuracy_match_the_final_probabilities():
    data = small_data()
    result = train(data, TrainConfig(losses=("ce", "hinge"), steps=20, dtype="float64"))
    for run in result.runs.values():
        p = run.val_probs
        rows = np.arange(len(data.y_val))
        np.testing.assert_allclose(run.ce_val[-1], -np.log(p[rows, data.y_val]).mean(), rtol=1e-9)
        assert run.acc_val[-1] == pytest.approx((p.argmax(1) == data.y_val).mean())


def test_progress_is_reported_in_order_and_ends_at_the_last_step():
    seen = []
    config = TrainConfig(losses=("ce", "mse"), steps=50)
    result = train(small_data(), config, on_progress=seen.append, progress_every=10)
    assert [p.step for p in seen] == [10, 20, 30, 40, 50]
    last = seen[-1]
    assert last.acc_val.shape == (51, 2)
    np.testing.assert_allclose(last.acc_val[:, 0], result.runs["ce"].acc_val)
    np.testing.assert_allclose(last.ce_val[:, 1], result.runs["mse"].ce_val)
    seen.clear()
    train(small_data(), dataclasses.replace(config, steps=7), on_progress=seen.append, progress_every=10)
    assert [p.step for p in seen] == [7]  # a run shorter than the interval still reports its end


def test_a_tie_for_the_top_logit_counts_as_wrong():
    """A model whose logits are all equal has learned nothing: accuracy 0 (not 100 %), cross-entropy log C."""
    z = torch.zeros(1, 3, 4)  # (K, C, N)
    y = torch.tensor([[[0, 1, 2, 0]]])
    means = torch.tensor([[0.5, 0], [0.5, 0], [0, 0.5], [0, 0.5]])
    ce_train, ce_val, acc_train, acc_val = training._ce_and_accuracy(z, y, means)[0].tolist()
    assert ce_train == ce_val == pytest.approx(math.log(3))
    assert acc_train == acc_val == 0.0
    z[0, 1, 1] = 1.0  # one clear winner, right: that sample counts
    assert training._ce_and_accuracy(z, y, means)[0, 2] == 0.5


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"losses": ("ce",)}, "choose 2 to 4 different losses"),
        ({"losses": ("ce", "mse", "hinge", "focal", "sigmoid")}, "choose 2 to 4"),
        ({"losses": ("ce", "ce")}, "different"),
        ({"losses": ("ce", "l1")}, "unknown loss 'l1'"),
        ({"lr": 0.0}, "learning rate"),
        ({"lr": float("inf")}, "learning rate"),
        ({"steps": 0}, "steps"),
        ({"width": 0}, "width"),
        ({"depth": 9}, "depth"),
        ({"optimizer": "rmsprop"}, "optimizer"),
    ],
)
def test_impossible_settings_raise_a_named_error(change, words):
    with pytest.raises(xc.XentInputError, match=words):
        train(small_data(), dataclasses.replace(TrainConfig(steps=2), **change))


# ---------------------------------------------------------------------------------------------- divergence


def test_a_huge_learning_rate_is_stopped_and_explained_not_drawn():
    config = TrainConfig(losses=("ce", "mse"), lr=1000.0, steps=200)
    result = train(small_data(), config, progress_every=10)
    for run in result.runs.values():
        assert run.diverged_at is not None
        assert "learning rate 1000 is too large" in run.reason
        assert run.steps_done < config.steps
        for field in ("loss_train", "ce_train", "ce_val", "acc_val", "grad_norm"):
            curve = getattr(run, field)
            assert np.isfinite(curve).all(), field  # nothing a chart would choke on
        assert (run.ce_train <= training.EXPLODED_CE).all()
        assert run.grid_probs is None
        assert run.calibration is None
        assert run.weights is None
    lines = summarize(result)
    assert all("diverged" in line for line in lines)


def test_weights_that_overflow_to_nan_are_caught_as_nan():
    result = train(small_data(), TrainConfig(losses=("ce", "sigmoid"), lr=1e30, steps=30), progress_every=5)
    reasons = {run.reason for run in result.runs.values()}
    assert any("NaN or infinite" in r for r in reasons), reasons


def test_one_diverging_loss_does_not_stop_the_others():
    result = train(small_data(), TrainConfig(losses=("ce", "sigmoid"), lr=30.0, steps=60))
    ce, sigmoid = result.runs["ce"], result.runs["sigmoid"]
    assert ce.diverged_at is not None
    assert sigmoid.diverged_at is None
    assert sigmoid.steps_done == 60
    assert sigmoid.grid_probs is not None
    assert any(line.startswith("cross-entropy diverged") for line in summarize(result))


@pytest.mark.parametrize(("column", "bad_step", "why"), [(0, 3, "loss"), (2, 5, "logits"), (2, 4, "exploded")])
def test_the_first_bad_record_ends_a_run(column, bad_step, why):
    rec = np.ones((11, 6))
    gn = np.ones(10)
    rec[bad_step, column] = np.nan if why != "exploded" else 1e4
    rec[bad_step + 2 :, :] = np.nan
    assert training._valid_length(rec, gn, 10) == (bad_step, why)
    gn[1] = np.inf
    assert training._valid_length(rec, gn, 10) == (2, "gradient")  # record 2 comes after the bad step 1
    assert training._valid_length(np.ones((11, 6)), np.ones(10), 10) == (11, None)


# ---------------------------------------------------------------------------------------------- calibration


def test_ece_is_zero_for_a_calibrated_model_and_one_for_a_confidently_wrong_one():
    confident_right = calibration(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0, 1]))
    assert confident_right.ece == 0.0
    confident_wrong = calibration(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([1, 0]))
    assert confident_wrong.ece == 1.0
    # 10 samples at 70 % confidence, 7 of them right: calibrated
    probs = np.tile([0.7, 0.3], (10, 1))
    cal = calibration(probs, np.array([0] * 7 + [1] * 3))
    assert cal.ece == pytest.approx(0.0, abs=1e-12)
    assert cal.count.tolist() == [0] * 7 + [10, 0, 0]
    assert np.isnan(cal.accuracy[0])
    assert cal.accuracy[7] == pytest.approx(0.7)


def test_calibration_rejects_mismatched_shapes():
    with pytest.raises(xc.XentInputError, match=r"probs \(N, C\) and target \(N,\)"):
        calibration(np.ones((3, 2)) / 2, np.array([0, 1]))


# ---------------------------------------------------------------------------------------------- the default run


@pytest.fixture(scope="module")
def default_run():
    """The page's default setting (spirals, 3 classes, 2x32 MLP, SGD with momentum, 300 steps), run once."""
    return train(make_dataset(DataConfig()), TrainConfig())


def test_default_setting_cross_entropy_beats_mse_and_the_sigmoid_loss(default_run):
    """What the page says about its default, as measured: CE ends above MSE, and MSE above the sigmoid loss."""
    runs = default_run.runs
    assert set(runs) == {"ce", "mse", "sigmoid", "smoothed_ce"}
    assert all(r.diverged_at is None for r in runs.values())
    assert runs["ce"].acc_val[-1] > runs["mse"].acc_val[-1] > runs["sigmoid"].acc_val[-1]
    assert runs["ce"].ce_val[-1] < runs["mse"].ce_val[-1] < runs["sigmoid"].ce_val[-1]
    # and it gets there sooner: its accuracy is ahead at every tenth of the run after the start
    for step in range(30, 301, 30):
        assert runs["ce"].acc_val[step] >= runs["mse"].acc_val[step], step
    # the reason, from the first step on: the same weights get a bigger push from cross-entropy
    assert runs["ce"].grad_norm[0] > runs["mse"].grad_norm[0]


def test_default_setting_label_smoothing_lowers_confidence(default_run):
    ce, smoothed = default_run.runs["ce"], default_run.runs["smoothed_ce"]
    assert smoothed.calibration.mean_confidence < ce.calibration.mean_confidence - 0.03
    assert smoothed.val_probs.max(1).max() < ce.val_probs.max(1).max()


def test_summary_reads_its_numbers_from_the_run(default_run):
    lines = summarize(default_run)
    runs = sorted(default_run.runs.values(), key=lambda r: -r.acc_val[-1])
    expected = ", ".join(f"{r.name} {100 * r.acc_val[-1]:.0f} %" for r in runs)
    assert lines[0] == f"After 300 steps, validation accuracy: {expected}."
    assert lines[1].startswith("Reaching ")
    assert "cross-entropy at step " in lines[1]
    assert any(f"{default_run.runs['ce'].calibration.ece:.3f}" in line for line in lines)
    assert not any("diverged" in line for line in lines)


def test_importing_the_training_module_does_not_load_torch():
    probe = "import json, sys; import xent_core.training, xent_core.datasets; print(json.dumps('torch' in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) is False
