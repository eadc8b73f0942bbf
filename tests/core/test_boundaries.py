"""Boundaries: importing xent_core loads numpy only, and no public function mutates its inputs.

"xent_core never imports streamlit or plotly, and torch only lazily" and "every function pure and
non-mutating" (STYLE.md). The import check runs in a fresh interpreter, since this test session has
imported torch already.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import xent_core as xc

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("torch", "streamlit", "plotly", "pandas")


def test_import_loads_numpy_but_not_torch_streamlit_plotly_or_pandas():
    probe = "import json, sys; import xent_core; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    loaded = set(json.loads(result.stdout))
    assert "numpy" in loaded
    assert "xent_core" in loaded
    assert not loaded & set(FORBIDDEN), sorted(loaded & set(FORBIDDEN))


# ---------------------------------------------------------------------------------------------- no mutation


def make_inputs(*, writable: bool) -> SimpleNamespace:
    """Every array the calls below use; read-only (any in-place write raises) or writable."""
    rng = np.random.default_rng(5)
    z = rng.standard_normal((4, 3)) * 2
    soft = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    arrays = {
        "z": z,  # (N, C)
        "z32": z.astype(np.float32),
        "z3d": rng.standard_normal((2, 3, 2)),  # (N, C, d1)
        "y": np.array([0, 2, 1, 2]),
        "y_ignored": np.array([0, -100, 1, 2]),
        "y3d": np.array([[0, 2], [1, 1]]),
        "soft": soft,
        "soft32": soft.astype(np.float32),
        "multi_hot": np.array([[1.0, 0, 1], [0, 0, 1], [1, 1, 0], [0, 0, 0]]),
        "w": np.array([0.5, 2.0, 1.0]),  # (C,)
        "p": np.array([[0.2, 0.9, 0.5], [0.0, 1.0, 0.3]]),
        "b": np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.5]]),
        "z2": z[:2].copy(),
        "element_w": np.array([1.0, 2.0, 0.5]),
        "log_p": np.log(soft),
    }
    for arr in arrays.values():
        arr.setflags(write=writable)
    return SimpleNamespace(**arrays)


Call = Callable[[SimpleNamespace], object]
# Every public function that takes arrays, with calls that reach its main code paths.
CALLS: dict[str, list[Call]] = {
    "softmax": [
        lambda a: xc.softmax(a.z),
        lambda a: xc.softmax(a.z32, temperature=2.0),
        lambda a: xc.softmax(a.z3d, axis=1),
    ],
    "log_softmax": [lambda a: xc.log_softmax(a.z), lambda a: xc.log_softmax(a.z, temperature=0.5)],
    "logsumexp": [lambda a: xc.logsumexp(a.z, axis=1, keepdims=True)],
    "sigmoid": [lambda a: xc.sigmoid(a.z)],
    "log_sigmoid": [lambda a: xc.log_sigmoid(a.z)],
    "check_logits": [lambda a: xc.check_logits(a.z, class_names=("a", "b", "c"))],
    "advise": [lambda a: xc.advise(a.z, a.soft), lambda a: xc.advise(a.soft, a.multi_hot)],
    "cross_entropy_trace": [
        lambda a: xc.cross_entropy_trace(a.z, a.y_ignored, weight=a.w, label_smoothing=0.1, temperature=2.0),
        lambda a: xc.cross_entropy_trace(a.z32, a.soft32, reduction="none"),
        lambda a: xc.cross_entropy_trace(a.z[0], a.y[0]),
    ],
    "entropy": [lambda a: xc.entropy(a.soft)],
    "compare_losses": [lambda a: xc.compare_losses(a.z, a.y, list(xc.LOSSES))],
    "target_logit_sweep": [lambda a: xc.target_logit_sweep(a.z[0], 1, a.element_w, list(xc.LOSSES))],
    "loss_landscape": [
        lambda a: xc.loss_landscape(a.z[0], 1, "ce", steps=5),
        lambda a: xc.loss_landscape(a.z[0], 1, "sigmoid", steps=5, rivals=(2, 0)),
    ],
    "landscape_reference": [lambda a: xc.landscape_reference(a.z[0], 1, "hinge", (0, 2))],
    "landscape_position": [lambda a: xc.landscape_position(a.z[0], 1, (0, 2))],
    "rival_classes": [lambda a: xc.rival_classes(a.z[0], 1)],
    "multilabel_losses": [lambda a: xc.multilabel_losses(a.z[:3], a.multi_hot[:3], pos_weight=a.w)],
    "probs_as_logits": [lambda a: xc.probs_as_logits(a.soft, a.y)],
    "unnormalised_nll": [lambda a: xc.unnormalised_nll(a.p, a.y[:2])],
    "naive_log_softmax": [lambda a: xc.naive_log_softmax(a.z32)],
    "log_softmax_steps": [lambda a: xc.log_softmax_steps(a.z[0], 1, "float16")],
    "log_softmax_sweep": [lambda a: xc.log_softmax_sweep(a.z[0], 1, a.element_w)],
    "multilabel_sweep": [lambda a: xc.multilabel_sweep(a.z[0], a.multi_hot[0], a.element_w)],
    "class_weighting": [lambda a: xc.class_weighting(a.z, a.y, a.w)],
    "pixel_losses": [lambda a: xc.pixel_losses(a.z3d, a.y3d, weight=a.w)],
    "decompose": [lambda a: xc.decompose(a.soft[0], a.soft[1], unit="bits")],
    "loss_to_probability": [lambda a: xc.loss_to_probability(a.element_w)],
}


def _family(names: tuple[str, ...], *calls: Callable) -> None:
    """Give a loss, its _and_grad and its _grad the same calls: call(f, a) -> f(...)."""
    for name in names:
        f = getattr(xc, name)
        CALLS[name] = [lambda a, f=f, call=call: call(f, a) for call in calls]


def _trio(base: str) -> tuple[str, str, str]:
    return base, f"{base}_and_grad", f"{base}_grad"


_family(
    _trio("cross_entropy"),
    lambda f, a: f(a.z, a.y_ignored, weight=a.w, label_smoothing=0.2),
    lambda f, a: f(a.z, a.soft, weight=a.w, label_smoothing=0.2, reduction="sum"),
    lambda f, a: f(a.z3d, a.y3d, reduction="none"),
    lambda f, a: f(a.z32, a.y),
)
_family(
    _trio("nll_loss"),
    lambda f, a: f(a.log_p, a.y_ignored, weight=a.w),
    lambda f, a: f(a.log_p, a.y, reduction="none"),
)
_family(_trio("mse_loss"), lambda f, a: f(a.p, a.b))
_family(
    _trio("mse_on_softmax"),
    lambda f, a: f(a.z, a.y),
    lambda f, a: f(a.z, a.soft),
    lambda f, a: f(a.z3d, a.y3d, reduction="none"),
)
_family(
    _trio("multi_margin_loss"),
    lambda f, a: f(a.z, a.y, weight=a.w),
    lambda f, a: f(a.z, a.y, p=2, margin=0.5),
)
_family(_trio("sigmoid_distance_loss"), lambda f, a: f(a.z, a.y), lambda f, a: f(a.z, a.multi_hot))
_family(
    _trio("softmax_focal_loss"),
    lambda f, a: f(a.z, a.y, alpha=a.w),
    lambda f, a: f(a.z, a.y, gamma=0.0, alpha=0.25),
)
_family(_trio("binary_cross_entropy"), lambda f, a: f(a.p, a.b, weight=a.element_w))
_family(_trio("binary_cross_entropy_with_logits"), lambda f, a: f(a.z2, a.b, weight=a.element_w, pos_weight=a.w))
_family(
    _trio("sigmoid_focal_loss"),
    lambda f, a: f(a.z2, a.b),
    lambda f, a: f(a.z2, a.b, alpha=-1, gamma=0.5, reduction="mean"),
)
_family(
    _trio("kl_div"),
    lambda f, a: f(a.log_p, a.soft, reduction="batchmean"),
    lambda f, a: f(a.log_p, a.log_p, log_target=True),
)

NO_ARRAY_INPUT = {
    "describe_position",
    "random_batch",
    "blob_scene",
    "forum_scene",
    "loss_scale",
    "train_val_reading",
}  # they take indices and sizes, not arrays


def test_every_public_function_is_covered():
    public = {name for name in xc.__all__ if inspect.isfunction(getattr(xc, name))}
    assert len(public) > 40  # the probe found the functions, not nothing
    assert set(CALLS) | NO_ARRAY_INPUT == public


@pytest.mark.parametrize("name", sorted(CALLS))
def test_public_function_accepts_read_only_inputs(name):
    """An in-place write into a read-only input raises 'assignment destination is read-only'."""
    inputs = make_inputs(writable=False)
    for call in CALLS[name]:
        call(inputs)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_public_function_leaves_writable_inputs_unchanged(name):
    inputs = make_inputs(writable=True)
    before = {key: arr.copy() for key, arr in vars(inputs).items()}
    for call in CALLS[name]:
        call(inputs)
    for key, arr in vars(inputs).items():
        np.testing.assert_array_equal(arr, before[key], err_msg=f"{name} changed its input {key!r}")


def test_results_do_not_alias_the_inputs():
    """Writing into a result must not reach back into the caller's logits."""
    a = make_inputs(writable=True)
    for result in (
        xc.softmax(a.z),
        xc.log_softmax(a.z),
        xc.cross_entropy_grad(a.z, a.y),
        xc.cross_entropy(a.z, a.y, reduction="none"),
        xc.mse_on_softmax_grad(a.z, a.y),
        xc.binary_cross_entropy_with_logits_grad(a.z2, a.b),
    ):
        assert not np.shares_memory(result, a.z)
