"""The information page, run headless with AppTest; entropy, cross-entropy and KL recomputed with torch."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tests.app.conftest import batch_tables, metrics, open_page, run, shown, warnings
from xent_core import decomposition as dc

PAGE = "pages/6_Information.py"
DEFAULT_Y, DEFAULT_P = [0.6, 0.3, 0.1], [0.4, 0.4, 0.2]


def oracle(y, p, unit: str = "nats") -> dict[str, str]:
    """The page's four metrics from torch (inputs normalised, as the page normalises them)."""
    yt = torch.tensor(np.asarray(y, dtype=np.float64))
    pt = torch.tensor(np.asarray(p, dtype=np.float64))
    yt, pt = yt / yt.sum(), pt / pt.sum()
    k = 1.0 if unit == "nats" else 1 / math.log(2)
    if bool((pt > 0).all()):
        ce = F.cross_entropy(torch.log(pt)[None], yt[None])
        kl = F.kl_div(torch.log(pt), yt, reduction="sum")
    else:  # log 0 = -inf: torch's cross_entropy and kl_div compute 0 * -inf = nan there; xlogy keeps 0 log 0 = 0
        ce = -torch.xlogy(yt, pt).sum()
        kl = (torch.xlogy(yt, yt) - torch.xlogy(yt, pt)).sum()
    return {
        f"Entropy H(y), {unit}": shown(float(torch.special.entr(yt).sum()) * k),
        f"Cross-entropy H(y, p), {unit}": shown(float(ce) * k),
        f"KL(y ‖ p), {unit}": shown(float(kl) * k),
        f"Uniform guess log C, {unit}": shown(math.log(len(y)) * k),
    }


def edit(at, rows: dict):
    key = f"info.table.{at.session_state['info.pair'].version}"
    at.session_state[key] = {"edited_rows": rows, "added_rows": [], "deleted_rows": []}
    return run(at)


def chart_alts(at) -> list[str]:
    """The alt texts of the page's charts (SVG images), in page order."""
    return [img.alt for element in at.get("image") for img in element.proto.imgs]


@pytest.fixture
def page():
    return open_page(PAGE)


def test_opens_on_a_soft_target_with_torchs_numbers(page):
    assert metrics(page) == oracle(DEFAULT_Y, DEFAULT_P)
    assert any(s.value.startswith("PyTorch agrees") for s in page.success)
    assert not page.warning
    assert not page.error
    assert [alt.split(".")[0] for alt in chart_alts(page)] == [
        "Two stacked bars",
        "Grouped bars, per class",
        "Bars per class, in nats",
        "A number line of losses in nats",
    ]
    assert not page.get("plotly_chart")  # the charts are server-drawn SVG (ui/info_figures.py)


def test_bits_divide_every_value_by_log_2(page):
    page.button_group(key="unit").set_value("bits")
    at = run(page)
    assert metrics(at) == oracle(DEFAULT_Y, DEFAULT_P, "bits")
    assert metrics(at)["Uniform guess log C, bits"] == shown(math.log2(3))
    in_units = [alt for alt in chart_alts(at) if not alt.startswith("Grouped bars")]  # y and p are in %
    assert len(in_units) == 3
    assert all("bits" in alt and "nats" not in alt for alt in in_units)  # the charts follow the unit


def test_editing_normalises_and_a_zero_prediction_on_a_wanted_class_costs_infinity(page):
    at = edit(page, {1: {"c2": 1.2}})  # prediction sums to 2.0 now
    assert metrics(at) == oracle(DEFAULT_Y, [0.4, 0.4, 1.2])
    assert any("the prediction summed to 2 and was divided by that" in c.value for c in at.caption)
    assert (at.query_params["y"], at.query_params["p"]) == ("0.6,0.3,0.1", "0.4,0.4,1.2")
    edit(at, {1: {"c0": 0.0}})
    got = metrics(at)
    assert got["Cross-entropy H(y, p), nats"] == "∞"
    assert got["KL(y ‖ p), nats"] == "∞"
    assert "H(y, p) = ∞" in chart_alts(at)[0]  # the charts follow the edit
    y = torch.tensor(DEFAULT_Y)
    assert float(-torch.xlogy(y, torch.tensor([0.0, 0.4, 0.2])).sum()) == math.inf  # torch agrees
    assert any("probability 0 to a class the target wants" in i.value for i in at.info)


@pytest.mark.parametrize(("value", "words"), [(-0.5, "is negative"), (None, "empty")])
def test_a_bad_cell_names_its_place_and_keeps_the_last_value(page, value, words):
    at = edit(page, {1: {"c1": value}, 0: {"c2": 0.3}})
    messages = [e.value for e in at.error]
    assert any(m.startswith("prediction p, 'class 1'") and words in m for m in messages), messages
    assert metrics(at) == oracle([0.6, 0.3, 0.3], DEFAULT_P)
    (table,) = [json.loads(e.proto.json) for e in batch_tables(at)]
    assert table["row_labels"] == ["target y", "prediction p"]
    assert table["invalid"] == [[1, 1]]  # the refused cell is marked; the accepted edit is not
    assert table["edits"] == {"1": {"c1": value}, "0": {"c2": 0.3}}


def test_an_all_zero_row_is_refused_and_the_last_valid_pair_shown(page):
    at = edit(page, {0: {"c0": 0.0, "c1": 0.0, "c2": 0.0}})
    assert any("target are all 0" in e.value for e in at.error)
    assert metrics(at) == oracle(DEFAULT_Y, DEFAULT_P)


def test_examples_and_class_count(page):
    page.selectbox(key="info.example").set_value("onehot_wrong")
    at = run(page)
    assert metrics(at) == oracle([1.0, 0.0, 0.0], [0.05, 0.9, 0.05])
    assert metrics(at)["Entropy H(y), nats"] == "0.0000"
    at.number_input(key="info.c").set_value(4)
    run(at)
    assert metrics(at) == oracle([1.0, 0.0, 0.0, 0.0], [0.05, 0.9, 0.05, 0.0])


def test_a_link_restores_the_pair_and_a_broken_link_warns():
    at = open_page(PAGE, {"y": "0.2,0.8", "p": "0.5,0.5", "unit": "bits"})
    assert metrics(at) == oracle([0.2, 0.8], [0.5, 0.5], "bits")
    assert not at.warning
    broken = open_page(PAGE, {"y": "0.2,0.8", "p": "0.5,0.3,0.2", "unit": "furlongs"})
    warning = warnings(broken)
    assert "'y' has 2 values and 'p' 3" in warning
    assert "'unit' = 'furlongs' is not one of nats, bits" in warning
    assert metrics(broken) == oracle(DEFAULT_Y, DEFAULT_P)


def test_a_link_picks_an_example_by_name():
    _, _, y, p = next(e for e in dc.EXAMPLES if e[0] == "onehot_wrong")  # (key, title, y, p)
    at = open_page(PAGE, {"preset": "onehot_wrong", "view": "figure"})
    assert metrics(at) == oracle(y, p)
    assert not at.warning
    unknown = open_page(PAGE, {"preset": "nope"})
    assert "preset 'nope' is not one of soft" in warnings(unknown)
    assert metrics(unknown) == oracle(DEFAULT_Y, DEFAULT_P)


def test_train_and_validation_losses_are_read_against_log_c(page):
    page.number_input(key="info.train").set_value(0.2)
    page.number_input(key="info.val").set_value(0.9)
    at = run(page)
    text = " ".join(m.value for m in at.markdown)
    assert f"the true class gets {math.exp(-0.2):.0%} on average; validation: {math.exp(-0.9):.0%}" in text
    assert "overfitting" in text
    at.number_input(key="info.train").set_value(1.1)
    at.number_input(key="info.val").set_value(1.12)
    run(at)
    assert "near the uniform guess log C = 1.099" in " ".join(m.value for m in at.markdown)
