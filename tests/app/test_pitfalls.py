"""The pitfalls page, run headless with AppTest; every expected number is computed here with torch."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import xent_core as xc
from tests.app.conftest import batch_tables, metrics, open_page, run, shown, warnings

PAGE = "pages/4_Pitfalls.py"
FORUM = xc.PRESETS["probs_as_logits"]
PIXEL_ROWS = FORUM.logits[0].reshape(3, 4).T.copy()  # (4 pixels, 3 classes), row-major pixels
TARGET = FORUM.target.reshape(-1).copy()
ROWS_TAB, LSM_TAB, ML_TAB, IMB_TAB = (
    "Rows not summing to 1",
    "log(softmax) vs log_softmax",
    "Multi-label",
    "Class imbalance",
)


def edit(at, table: str, rows: dict):
    """Simulate edits of one of the page's data editors ('probs', 'acts' or 'weights')."""
    key = f"pit.{table}.{at.session_state[f'pit.{table}'].version}"
    at.session_state[key] = {"edited_rows": rows, "added_rows": [], "deleted_rows": []}
    return run(at)


def forum_oracle(pixel_rows: np.ndarray, target: np.ndarray) -> dict[str, str]:
    """The three headline numbers, from torch on the (1, 3, 2, 2) tensor."""
    p = torch.tensor(pixel_rows.T.reshape(1, 3, 2, 2).copy())
    t = torch.tensor(target.reshape(1, 2, 2))
    return {
        "cross_entropy(probs) · mean": shown(float(F.cross_entropy(p, t))),
        "nll_loss(log probs) · sum": shown(float(F.nll_loss(torch.log(p), t, reduction="sum"))),
        "nll_loss(log probs) · mean": shown(float(F.nll_loss(torch.log(p), t))),
    }


def agrees(at) -> bool:
    return any(s.value.startswith("PyTorch agrees") for s in at.success)


@pytest.fixture
def page():
    return open_page(PAGE)


def test_opens_on_the_forum_tensor_with_its_documented_numbers(page):
    got = metrics(page)
    assert got == forum_oracle(PIXEL_ROWS, TARGET)
    assert got["cross_entropy(probs) · mean"] == "0.9488"
    assert got["nll_loss(log probs) · sum"] == "2.8824"
    assert got["nll_loss(log probs) · mean"] == "0.7206"
    assert any("like probabilities" in i.value for i in page.info)  # the advisory check fires
    assert agrees(page)
    assert not page.error
    assert not page.warning


def test_editing_the_tensor_moves_both_pipelines_as_torch_does(page):
    at = edit(page, "probs", {0: {"c2": 0.5}, 3: {"target": "class 0"}})
    rows, target = PIXEL_ROWS.copy(), TARGET.copy()
    rows[0, 2], target[3] = 0.5, 0
    assert metrics(at) == forum_oracle(rows, target)
    notes = [i.value for i in at.info]
    assert len(notes) == 1
    assert notes[0].startswith("row(s) 1, 2, 3 look like probabilities")  # pixel 0 now sums to 0.8
    assert at.query_params["p"] == "0.1,0.2,0.5;0.3,0.3,0.4;0.4,0.4,0.2;0.5,0.5,0"
    assert at.query_params["t"] == "2,2,0,0"


@pytest.mark.parametrize(("value", "words"), [(-0.2, "is negative"), ("abc", "is not a number")])
def test_a_bad_cell_names_the_pixel_and_keeps_its_last_value(page, value, words):
    at = edit(page, "probs", {1: {"c1": value}, 2: {"c0": 0.5}})
    messages = [e.value for e in at.error]
    assert any(m.startswith("pixel (0, 1), class 1") and words in m for m in messages), messages
    rows = PIXEL_ROWS.copy()
    rows[2, 0] = 0.5  # the other edit still applies
    assert metrics(at) == forum_oracle(rows, TARGET)
    (table,) = [json.loads(e.proto.json) for e in batch_tables(at)]
    assert table["row_labels"] == ["pixel (0, 0)", "pixel (0, 1)", "pixel (1, 0)", "pixel (1, 1)"]
    assert [c["id"] for c in table["columns"]] == ["target", "c0", "c1", "c2"]
    assert table["invalid"] == [[1, 2]]  # pixel (0, 1)'s class 1 (the target column comes first)


def test_a_link_restores_the_tensor_and_a_broken_one_falls_back_with_a_warning():
    rows, target = PIXEL_ROWS.copy(), TARGET.copy()
    rows[1] = [0.1, 0.1, 0.8]
    target[0] = 1
    at = open_page(PAGE, {"p": ";".join(",".join(repr(float(v)) for v in r) for r in rows), "t": "1,2,0,1"})
    assert metrics(at) == forum_oracle(rows, target)
    assert not at.warning
    broken = open_page(PAGE, {"p": "0.1,0.2;0.3", "dtype": "float128"})
    warning = warnings(broken)
    assert "'p' rows have different lengths" in warning
    assert "'dtype' = 'float128' is not one of float64, float32, float16" in warning
    assert metrics(broken) == forum_oracle(PIXEL_ROWS, TARGET)


def test_rows_tab_shows_the_screwy_losses_and_the_normalised_ones():
    at = open_page(PAGE, {"pitfall": ROWS_TAB})
    acts, target = xc.pitfalls.UNNORMALISED.logits, xc.pitfalls.UNNORMALISED.target

    def oracle(a, t):
        a, t = torch.tensor(a), torch.tensor(t)
        return {
            "nll_loss(log a) · mean": shown(float(F.nll_loss(torch.log(a), t))),
            "normalised · mean": shown(float(F.nll_loss(torch.log(a / a.sum(1, keepdim=True)), t))),
        }

    assert metrics(at) == oracle(acts, target)
    assert any("negative loss" in w.value for w in at.warning)
    assert agrees(at)
    edit(at, "acts", {2: {"c0": 0.7}})  # row 2 now sums to 1.0: no entry above 1
    changed = acts.copy()
    changed[2, 0] = 0.7
    assert metrics(at) == oracle(changed, target)
    assert not at.warning
    edit(at, "acts", {2: {"c0": 0.7}, 0: {"c1": -1.0}})
    assert any("row 0, column 'dog'" in e.value and "negative" in e.value for e in at.error)
    assert metrics(at) == oracle(changed, target)
    (table,) = [json.loads(e.proto.json) for e in batch_tables(at)]
    assert table["invalid"] == [[0, 2]]  # the refused cell is marked (the target column comes first)


def torch_naive_and_stable(scale: int, shift: int, dtype: str, target: int) -> tuple[float, float]:
    z = (torch.tensor([2.0, 1.0, 0.0, -2.0], dtype=torch.float64) * scale + shift).to(getattr(torch, dtype))
    naive = torch.log(torch.exp(z) / torch.exp(z).sum())
    return -float(naive[target]), -float(torch.log_softmax(z, 0)[target])


def shown_special(x: float) -> str:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "−inf"
    return shown(x)


@pytest.mark.parametrize(
    ("scale", "shift", "dtype", "target"),
    [
        (50, 0, "float32", "class 3"),
        (10, 0, "float16", "class 0"),
        (2, -1000, "float64", "class 1"),
    ],
)
def test_log_softmax_tab_fails_where_torchs_naive_form_fails(scale, shift, dtype, target):
    query = {"pitfall": LSM_TAB, "scale": str(scale), "shift": str(shift), "dtype": dtype, "lsm_class": target}
    at = open_page(PAGE, query)
    naive, stable = torch_naive_and_stable(scale, shift, dtype, int(target[-1]))
    got = metrics(at)
    assert got["naive loss −log(exp(z_t) / Σ)"] == shown_special(naive)
    # float16: torch rounds logsumexp to half before subtracting, xent_core rounds once at the end
    tol = 4e-3 if dtype == "float16" else 1e-4
    assert float(got["stable loss −log_softmax(z)_t"]) == pytest.approx(stable, abs=tol)
    assert math.isfinite(stable)
    assert agrees(at)
    assert not at.warning


def test_log_softmax_widgets_change_the_numbers():
    at = open_page(PAGE, {"pitfall": LSM_TAB})
    assert metrics(at)["naive loss −log(exp(z_t) / Σ)"] == "inf"  # the default: scale 50 in float32, class 3
    at.button_group(key="dtype").set_value("float64")
    run(at)
    naive, stable = torch_naive_and_stable(50, 0, "float64", 3)
    assert metrics(at)["naive loss −log(exp(z_t) / Σ)"] == shown(naive) == shown(stable) == "200.0000"


def test_multilabel_tab_matches_torch():
    at = open_page(PAGE, {"pitfall": ML_TAB})
    ex = xc.MULTI_LABEL
    z, y = torch.tensor(ex.logits), torch.tensor(ex.labels)
    assert metrics(at) == {
        "sigmoid + BCE · mean (right)": shown(float(F.binary_cross_entropy_with_logits(z, y))),
        "softmax + CE · mean (wrong)": shown(float(F.cross_entropy(z, y / y.sum(1, keepdim=True)))),
    }
    assert agrees(at)


def imbalance_oracle(weight) -> dict[str, str]:
    z, t = torch.tensor(xc.pitfalls.IMBALANCED.logits), torch.tensor(xc.pitfalls.IMBALANCED.target)
    w = torch.tensor(np.asarray(weight, dtype=np.float64))
    return {
        "mean without weights": shown(float(F.cross_entropy(z, t))),
        "mean with weights": shown(float(F.cross_entropy(z, t, weight=w))),
        "sum with weights": shown(float(F.cross_entropy(z, t, weight=w, reduction="sum"))),
    }


def test_class_weights_and_the_weighted_mean_match_torch():
    at = open_page(PAGE, {"pitfall": IMB_TAB})
    assert metrics(at) == imbalance_oracle([1 / 8, 1 / 3, 1.0])  # 1 / count
    assert any("Σ w[t] = 3.0000" in m.value for m in at.markdown)
    at.radio(key="class_weights").set_value("N / (C · count)")
    run(at)
    assert metrics(at) == imbalance_oracle([12 / 24, 12 / 9, 12 / 3])
    at.radio(key="class_weights").set_value("custom")
    run(at)
    edit(at, "weights", {0: {"c2": 10.0}})
    assert metrics(at) == imbalance_oracle([1 / 8, 1 / 3, 10.0])
    assert at.query_params["w"] == "0.125,0.3333333333333333,10"
    edit(at, "weights", {0: {"c2": 10.0, "c1": -1.0}})
    assert any(e.value.startswith("weight of 'scratch': -1 is negative") for e in at.error)
    assert metrics(at) == imbalance_oracle([1 / 8, 1 / 3, 10.0])


def test_a_link_with_a_negative_custom_weight_warns_and_keeps_the_default_weights():
    at = open_page(PAGE, {"pitfall": IMB_TAB, "class_weights": "custom", "w": "-1,2,3"})
    assert "negative class weight" in warnings(at)
    assert metrics(at) == imbalance_oracle([1 / 8, 1 / 3, 1.0])  # the defaults, not the link's
    assert "w" not in at.query_params
