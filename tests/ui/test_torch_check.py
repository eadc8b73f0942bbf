"""ui.torch_check: the live badge agrees with torch when xent_core is right and turns red when it is
not; the "equivalent PyTorch code" really prints the page's numbers when run."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import re

import numpy as np
import pytest
import torch

import xent_core as xc
from ui import torch_check
from ui.state import Batch, batch_from_preset

PRESETS_2D = [k for k, p in xc.PRESETS.items() if p.logits.ndim == 2]
DEFAULTS = dict(weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0, temperature=1.0)


def soft_batch() -> Batch:
    """batch3x4 with probability targets (rows of a softmax, plus one one-hot row)."""
    b = batch_from_preset("batch3x4")
    probs = np.array([[0.7, 0.1, 0.1, 0.1], [0.0, 1.0, 0.0, 0.0], [0.25, 0.25, 0.4, 0.1]])
    return Batch(b.logits, b.target, b.class_names, probs_target=probs)


def with_ignored(key: str, rows) -> Batch:
    b = batch_from_preset(key)
    ignored = np.zeros(b.num_samples, dtype=bool)
    ignored[list(rows)] = True
    return Batch(b.logits, b.target, b.class_names, ignored=ignored)


def options_for(batch: Batch, **changes) -> dict:
    options = dict(DEFAULTS, **changes)
    if options["weight"] == "ramp":
        options["weight"] = np.linspace(0.5, 2.0, batch.num_classes)
    return options


def check(batch: Batch, options: dict, *, loss_error: float = 0.0, grad_error: float = 0.0):
    target = batch.loss_target(options["ignore_index"])
    trace = xc.cross_entropy_trace(batch.logits, target, **options)
    grad = trace.grad.copy()
    grad[0, 0] += grad_error
    return torch_check.cross_entropy_check(batch.logits, target, trace.loss + loss_error, grad, **options)


OPTION_SETS = {
    "defaults": {},
    "weights": {"weight": "ramp"},
    "smoothing": {"label_smoothing": 0.15},
    "temperature": {"temperature": 0.35},
    "everything": {"weight": "ramp", "label_smoothing": 0.3, "temperature": 2.5},
}
REDUCTIONS = ("mean", "sum", "none")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", list(OPTION_SETS.values()), ids=list(OPTION_SETS))
@pytest.mark.parametrize("key", PRESETS_2D)
def test_cross_check_agrees_on_presets(key, options, reduction):
    batch = batch_from_preset(key)
    result = check(batch, options_for(batch, reduction=reduction, **options))
    assert result.ok, result
    assert result.max_loss_diff < 1e-12
    assert result.max_grad_diff < 1e-12


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "batch",
    [with_ignored("seed42", [1, 4]), with_ignored("cat_dog", [2]), soft_batch()],
    ids=["seed42 ignoring 1 and 4", "cat_dog ignoring 2", "probability targets"],
)
@pytest.mark.parametrize("options", list(OPTION_SETS.values()), ids=list(OPTION_SETS))
def test_cross_check_agrees_with_ignored_rows_and_probability_targets(batch, options, reduction):
    result = check(batch, options_for(batch, reduction=reduction, **options))
    assert result.ok, result
    assert result.max_loss_diff < 1e-12
    assert result.max_grad_diff < 1e-12


def test_cross_check_agrees_with_a_non_default_ignore_index():
    batch = with_ignored("seed42", [0])
    assert check(batch, options_for(batch, ignore_index=-1)).ok


def test_cross_check_agrees_when_every_row_is_ignored():
    batch = with_ignored("cat_dog", [0, 1, 2])
    result = check(batch, options_for(batch))  # mean over nothing: nan on both sides
    assert result.ok
    assert np.isnan(result.torch_loss)


def test_cross_check_reports_torchs_loss():
    batch = batch_from_preset("batch3x4")
    result = check(batch, options_for(batch))
    assert round(result.torch_loss, 4) == xc.PRESETS["batch3x4"].expected["mean"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("error", [1e-3, -0.5, float("nan")])
def test_cross_check_turns_red_for_a_wrong_loss(reduction, error):
    batch = batch_from_preset("seed42")
    result = check(batch, options_for(batch, reduction=reduction), loss_error=error)
    assert not result.ok
    assert not result.max_loss_diff <= torch_check.TOLERANCE  # large, or nan


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("error", [1e-3, 2.0, float("nan")])
def test_cross_check_turns_red_for_a_wrong_gradient(reduction, error):
    batch = with_ignored("seed42", [3])
    result = check(batch, options_for(batch, reduction=reduction), grad_error=error)
    assert not result.ok
    assert not result.max_grad_diff <= torch_check.TOLERANCE


def test_cross_check_turns_red_for_a_wrong_gradient_with_probability_targets():
    batch = soft_batch()
    assert not check(batch, options_for(batch, label_smoothing=0.1), grad_error=1e-4).ok


def test_cross_check_tolerates_round_off():
    batch = batch_from_preset("seed42")
    result = check(batch, options_for(batch), loss_error=1e-12, grad_error=-1e-12)
    assert result.ok


# ---------------------------------------------------------------------------------------- the comparison page's check

COMPARE_OPTIONS = {
    "defaults": xc.LossOptions(),
    "squared hinge, wide margin": xc.LossOptions(label_smoothing=0.3, margin=2.5, p=2, gamma=0.5),
}


def comparison(key: str, options: xc.LossOptions, keys=tuple(xc.LOSSES)):
    b = batch_from_preset(key).hard_targets()
    return b, xc.compare_losses(b.logits, b.target, list(keys), options)


@pytest.mark.parametrize("options", list(COMPARE_OPTIONS.values()), ids=list(COMPARE_OPTIONS))
@pytest.mark.parametrize("key", PRESETS_2D)
def test_comparison_check_agrees_for_every_loss(key, options):
    b, results = comparison(key, options)
    result = torch_check.comparison_check(b.logits, b.target, results, options)
    assert result.ok
    # each loss's gradient is checked against its own: a mix-up between losses would be far off
    assert result.max_grad_diff < 1e-12
    assert result.max_loss_diff < 1e-12
    assert result.torch_loss == pytest.approx(results["ce"].mean, abs=1e-12)


@pytest.mark.parametrize("what", ["per_sample", "grad"])
@pytest.mark.parametrize("loss", list(xc.LOSSES))
def test_comparison_check_turns_red_when_one_loss_is_wrong(loss, what):
    b, results = comparison("seed42", xc.LossOptions())
    wrong = getattr(results[loss], what).copy()
    wrong.flat[1] += 1e-4
    results[loss] = dataclasses.replace(results[loss], **{what: wrong})
    result = torch_check.comparison_check(b.logits, b.target, results, xc.LossOptions())
    assert not result.ok
    assert (result.max_loss_diff if what == "per_sample" else result.max_grad_diff) == pytest.approx(1e-4, rel=1e-6)


def test_comparison_check_of_one_loss_without_cross_entropy():
    b, results = comparison("cat_dog", xc.LossOptions(), keys=["hinge"])
    result = torch_check.comparison_check(b.logits, b.target, results, xc.LossOptions())
    assert result.ok
    assert np.isnan(result.torch_loss)


# ---------------------------------------------------------------------------------------------- the code snippet


CODE_CASES = {
    "seed42, defaults": (batch_from_preset("seed42"), {}),
    "temperature, sum": (batch_from_preset("batch3x4"), {"temperature": 0.5, "reduction": "sum"}),
    "weights and ignored rows": (with_ignored("seed42", [1, 4]), {"weight": "ramp", "label_smoothing": 0.1}),
    "ignore_index -1, none": (with_ignored("seed42", [0]), {"ignore_index": -1, "reduction": "none"}),
    "probability targets": (soft_batch(), {"temperature": 2.0, "weight": "ramp", "label_smoothing": 0.2}),
    "probability targets, none": (soft_batch(), {"reduction": "none"}),
    "all ignored but one": (with_ignored("cat_dog", [0, 1]), {"weight": "ramp", "temperature": 1.5}),
}

NUMBER = re.compile(r"-?(?:\d+\.\d*|inf)|nan")


def code_for(batch: Batch, options: dict) -> str:
    return torch_check.pytorch_code(
        batch.logits, batch.loss_target(options["ignore_index"]), class_names=batch.class_names, **options
    )


def printed_numbers(output: str, start: str, end: str) -> np.ndarray:
    """The numbers torch printed between the line starting with `start` and the one starting with `end`."""
    section = output.split("\n" + start if not output.startswith(start) else start, 1)[1].split("\n" + end, 1)[0]
    return np.array([float(x) for x in NUMBER.findall(section.replace("torch.float64", ""))])


@pytest.fixture
def torch_print_options():
    yield
    torch.set_printoptions(profile="default")  # the snippet sets precision=4, sci_mode=False process-wide


def assert_prints_the_trace(output: str, trace: xc.CrossEntropyTrace) -> None:
    per_sample = printed_numbers(output, "per-sample loss:", "loss:")
    loss = printed_numbers(output, "loss:", "d loss / d logits:")
    # torch prints 4 decimals: a printed value is within half a unit in the last place
    np.testing.assert_allclose(per_sample, trace.per_sample, rtol=0, atol=5.01e-5)
    if trace.reduction == "none":
        np.testing.assert_allclose(loss, trace.per_sample, rtol=0, atol=5.01e-5)
    else:
        assert loss.shape == (1,)
        np.testing.assert_allclose(loss[0], trace.loss, rtol=0, atol=5.01e-5, equal_nan=True)


@pytest.mark.usefixtures("torch_print_options")
@pytest.mark.parametrize(("batch", "changes"), list(CODE_CASES.values()), ids=list(CODE_CASES))
def test_pytorch_code_prints_the_pages_numbers(batch, changes):
    options = options_for(batch, **changes)
    trace = xc.cross_entropy_trace(batch.logits, batch.loss_target(options["ignore_index"]), **options)
    namespace: dict = {}  # a fresh namespace: the snippet must stand on its own, as when pasted into a file
    with contextlib.redirect_stdout(io.StringIO()) as out:
        exec(code_for(batch, options), namespace)
    assert_prints_the_trace(out.getvalue(), trace)
    # and at full precision: the script's own tensors
    np.testing.assert_allclose(namespace["per_sample"].detach().numpy(), trace.per_sample, rtol=1e-12, atol=1e-15)
    script_loss = namespace["loss"].detach().numpy()
    np.testing.assert_allclose(script_loss.sum(), trace.loss, rtol=1e-12, atol=1e-15, equal_nan=True)
    np.testing.assert_allclose(namespace["logits"].grad.numpy(), trace.grad, rtol=1e-10, atol=1e-15, equal_nan=True)


def test_pytorch_code_spells_out_only_the_options_in_use():
    batch = batch_from_preset("cat_dog")
    plain = code_for(batch, options_for(batch))
    assert "weight=" not in plain
    assert "label_smoothing" not in plain
    assert "ignore_index=" not in plain
    assert "logits / " not in plain
    assert "# classes: 'cat', 'dog'" in plain
    full = code_for(batch, options_for(batch, weight="ramp", label_smoothing=0.1, temperature=0.5, ignore_index=-1))
    for text in ("weight=weight", "label_smoothing=0.1", "ignore_index=-1", "logits / 0.5"):
        assert text in full


def test_pytorch_code_quotes_class_names_safely():
    batch = Batch(np.zeros((1, 2)), np.array([0]), ("it's", "a\nprint('pwned')"))
    code = code_for(batch, options_for(batch))
    compile(code, "<snippet>", "exec")
    assert "\nprint('pwned')" not in code
