"""Boundaries of xent_core.pitfalls, .images and .decomposition: numpy only, pure, never writing into inputs.

The same promises tests/core/test_boundaries.py checks for the package's re-exported API.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import xent_core as xc
from xent_core import decomposition as dc
from xent_core import images as im
from xent_core import pitfalls as pf

ROOT = Path(__file__).resolve().parents[2]


def test_the_modules_load_numpy_but_not_torch_streamlit_plotly_or_pandas():
    probe = (
        "import json, sys; import xent_core.pitfalls, xent_core.images, xent_core.decomposition; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    loaded = set(json.loads(result.stdout))
    assert "numpy" in loaded
    assert not loaded & {"torch", "streamlit", "plotly", "pandas"}


def _frozen(x) -> np.ndarray:
    arr = np.array(x)
    arr.setflags(write=False)
    return arr


FORUM = xc.PRESETS["probs_as_logits"]
CALLS = {
    "probs_as_logits": lambda: pf.probs_as_logits(_frozen(FORUM.logits), _frozen(FORUM.target)),
    "unnormalised_nll": lambda: pf.unnormalised_nll(_frozen(pf.UNNORMALISED.logits), _frozen(pf.UNNORMALISED.target)),
    "naive_log_softmax": lambda: pf.naive_log_softmax(_frozen(pf.LOG_SOFTMAX_ROW * 100)),
    "log_softmax_steps": lambda: pf.log_softmax_steps(_frozen(pf.LOG_SOFTMAX_ROW * 100), 1, "float16"),
    "log_softmax_sweep": lambda: pf.log_softmax_sweep(_frozen(pf.LOG_SOFTMAX_ROW), 0, _frozen([1.0, 100.0])),
    "multilabel_sweep": lambda: pf.multilabel_sweep(
        _frozen(xc.MULTI_LABEL.logits[0]), _frozen(xc.MULTI_LABEL.labels[0]), _frozen([0.0, 1.0])
    ),
    "class_weighting": lambda: pf.class_weighting(
        _frozen(pf.IMBALANCED.logits), _frozen(pf.IMBALANCED.target), _frozen([1.0, 2.0, 3.0])
    ),
    "balanced_weights": lambda: pf.balanced_weights(_frozen(pf.IMBALANCED.target), 3),
    "inverse_frequency_weights": lambda: pf.inverse_frequency_weights(_frozen(pf.IMBALANCED.target), 3),
    "pixel_losses": lambda: im.pixel_losses(
        _frozen(im.forum_scene().logits), _frozen([[[2, 255], [0, 1]]]), ignore_index=255, weight=_frozen([1.0, 2, 3])
    ),
    "with_target": lambda: im.with_target(im.forum_scene(), _frozen([[0, 1], [2, 255]])),
    "decompose": lambda: dc.decompose(_frozen([0.6, 0.3, 0.1]), _frozen([0.0, 0.5, 0.5])),
    "normalise": lambda: dc.normalise(_frozen([2.0, 1.0])),
    "loss_to_probability": lambda: dc.loss_to_probability(_frozen([0.1, 1.0])),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_functions_accept_read_only_inputs(name):
    CALLS[name]()  # an in-place write into any input raises "assignment destination is read-only"


def test_results_never_alias_a_callers_array():
    logits = np.array(FORUM.logits)
    r = pf.probs_as_logits(logits, FORUM.target)
    assert not np.shares_memory(r.double_softmax, logits)
    scene = im.blob_scene(4, 4, 2)
    assert not scene.logits.flags.writeable  # scenes are shared by the page's cache: frozen
    assert not scene.target.flags.writeable
