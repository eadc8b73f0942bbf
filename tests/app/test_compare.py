"""The "Compare losses" page, run headless with Streamlit's AppTest against torch as the oracle.

Every expected number is computed here with torch.nn.functional in float64, never read back from the
app (nor from ui.torch_check, the page's own cross-check).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import xent_core as xc
from tests import svg_reader
from tests.app.conftest import batch_tables, errors, open_page, shown, table_view
from ui import state, theme

PAGE = "pages/2_Compare.py"
SEED42 = xc.PRESETS["seed42"]
DEFAULT = ["ce", "smoothed_ce", "mse", "hinge"]
ALL = ["ce", "smoothed_ce", "mse", "hinge", "focal", "sigmoid"]
SWEEP, LANDSCAPE, MULTI = "Sweep one sample", "Loss landscape", "Binary & multi-label"
ML = xc.MULTI_LABEL


# ---------------------------------------------------------------------------------------------- oracle


def torch_per_sample(logits, target, key, *, eps=0.1, margin=1.0, p=1, gamma=2.0) -> torch.Tensor:
    """One loss per sample, in torch float64 (logits may require grad)."""
    z = logits if isinstance(logits, torch.Tensor) else torch.tensor(np.array(logits, dtype=np.float64))
    t = torch.tensor(np.array(target), dtype=torch.long)
    onehot = F.one_hot(t, z.shape[1]).to(torch.float64)
    if key == "ce":
        return F.cross_entropy(z, t, reduction="none")
    if key == "smoothed_ce":
        return F.cross_entropy(z, t, label_smoothing=eps, reduction="none")
    if key == "mse":
        return ((F.softmax(z, dim=1) - onehot) ** 2).mean(1)
    if key == "hinge":
        return F.multi_margin_loss(z, t, p=p, margin=margin, reduction="none")
    if key == "focal":
        log_pt = F.log_softmax(z, dim=1).gather(1, t[:, None])[:, 0]
        return -((1 - log_pt.exp()) ** gamma) * log_pt
    if key == "sigmoid":
        return (onehot - torch.sigmoid(z)).abs().mean(1)
    raise ValueError(key)


def torch_mean(logits, target, key, **opts) -> float:
    """The loss with reduction='mean', through torch's own reduction where torch has one."""
    z = torch.tensor(np.array(logits, dtype=np.float64))
    t = torch.tensor(np.array(target), dtype=torch.long)
    if key == "ce":
        return float(F.cross_entropy(z, t))
    if key == "smoothed_ce":
        return float(F.cross_entropy(z, t, label_smoothing=opts.get("eps", 0.1)))
    if key == "hinge":
        return float(F.multi_margin_loss(z, t, p=opts.get("p", 1), margin=opts.get("margin", 1.0)))
    return float(torch_per_sample(z, target, key, **opts).mean())


def label(key: str) -> str:
    return f"{xc.LOSSES[key].name} (mean)"


def expected_metrics(logits, target, keys, **opts) -> dict[str, str]:
    return {label(k): shown(torch_mean(logits, target, k, **opts)) for k in keys}


def torch_multilabel(logits, labels, pos_weight: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample losses of both models: BCE-with-logits (with pos_weight, mean over classes) and soft-target CE."""
    z, y, pw = _multilabel_tensors(logits, labels, pos_weight)
    bce = F.binary_cross_entropy_with_logits(z, y, pos_weight=pw, reduction="none").mean(1)
    return bce, F.cross_entropy(z, y / y.sum(1, keepdim=True), reduction="none")


def expected_ml_metrics(logits, labels, pos_weight: float = 1.0) -> dict[str, str]:
    """The multi-label tab's two metrics, through torch's own 'mean' reduction."""
    z, y, pw = _multilabel_tensors(logits, labels, pos_weight)
    return {
        "sigmoid + BCE (mean)": shown(float(F.binary_cross_entropy_with_logits(z, y, pos_weight=pw))),
        "softmax + CE (mean)": shown(float(F.cross_entropy(z, y / y.sum(1, keepdim=True)))),
    }


def _multilabel_tensors(logits, labels, pos_weight: float):
    z = torch.tensor(np.array(logits, dtype=np.float64))
    y = torch.tensor(np.array(labels, dtype=np.float64))
    return z, y, torch.full((y.shape[1],), pos_weight, dtype=torch.float64)


# ---------------------------------------------------------------------------------------------- page helpers


def seed42() -> tuple[np.ndarray, np.ndarray]:
    return SEED42.logits.astype(np.float64), SEED42.target.copy()


def metrics(at) -> dict[str, str]:
    """The loss metrics of the comparison (label -> shown value), in page order."""
    return {m.label: m.value for m in at.metric if m.label.endswith(" (mean)")}


def ml_metrics(at) -> dict[str, str]:
    wanted = ("sigmoid + BCE (mean)", "softmax + CE (mean)")
    return {m.label: m.value for m in at.metric if m.label in wanted}


def loss_metrics(at) -> dict[str, str]:
    """The comparison's metrics without the multi-label tab's."""
    ml = ml_metrics(at)
    return {k: v for k, v in metrics(at).items() if k not in ml}


def run(at):
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def choose(at, keys):
    at.button_group(key="losses").set_value(list(keys))
    return run(at)


def open_tab(at, tab: str):
    at.session_state["tab"] = tab
    return run(at)


def edit(at, rows: dict):
    """Simulate edits of the comparison's logits editor: {row: {"c0": value, ...}}."""
    key = f"cmp.logits.{at.session_state['cmp.editor'].version}"
    at.session_state[key] = {"edited_rows": rows, "added_rows": [], "deleted_rows": []}
    return run(at)


def edit_table(at, key: str, rows: dict):
    at.session_state[key] = {"edited_rows": rows, "added_rows": [], "deleted_rows": []}
    return run(at)


def charts(at) -> dict[str, ET.Element | list[ET.Element]]:
    """The page's server-drawn charts by the first words of their alt text, each as its parsed SVG
    (the landscape, "land": the list of its panels)."""
    out = {}
    for element in at.get("image"):
        for img in element.proto.imgs:
            name = CHART_NAMES[img.alt.split(",")[0].split(".")[0].split(" of ")[0]]
            svg = svg_reader.from_data_url(img.url)
            if name == "land":
                out.setdefault(name, []).append(svg)
            else:
                out[name] = svg
    return out


CHART_NAMES = {  # the opening words of each chart's alt text -> a short name
    "Grouped bars": "bars",
    "Line charts": "sweep",
    "Loss landscape": "land",
    "Row 0": "ml",
}


def comparison_table(at):
    return table_view(at, "Each loss on each sample")


def agrees(at) -> bool:
    return any(s.value.startswith("PyTorch agrees") for s in at.success)


@pytest.fixture
def page():
    return open_page(PAGE)


# ---------------------------------------------------------------------------------------------- tests


def test_opens_on_seed42_with_torchs_means_and_the_torch_badge(page):
    logits, target = seed42()
    assert metrics(page) == expected_metrics(logits, target, DEFAULT)
    assert metrics(page)[label("ce")] == "1.3336"  # the tutorial's number
    badges = [s.value for s in page.success]
    assert len(badges) == 1, badges
    assert badges[0].startswith("PyTorch agrees (every loss and gradient")
    assert not page.error
    assert not page.warning


def test_per_sample_table_matches_torch(page):
    at = choose(page, ALL)
    logits, target = seed42()
    table = comparison_table(at)
    assert table["row"].tolist() == list(range(6))
    assert table["target"].tolist() == [SEED42.class_names[t] for t in target]
    p_t = F.softmax(torch.tensor(logits), dim=1)[torch.arange(6), torch.tensor(target)].numpy()
    np.testing.assert_array_equal(table["p_t"].to_numpy(), np.round(p_t, 4))
    for key in ALL:
        expected = np.round(torch_per_sample(logits, target, key).numpy(), 4)
        np.testing.assert_array_equal(table[xc.LOSSES[key].name].to_numpy(), expected, err_msg=key)


def test_turning_losses_on_and_off_adds_and_removes_their_metrics(page):
    assert label("focal") not in metrics(page)
    assert label("sigmoid") not in metrics(page)
    logits, target = seed42()
    at = choose(page, ALL)
    assert list(metrics(at)) == [label(k) for k in ALL]
    assert metrics(at) == expected_metrics(logits, target, ALL)
    assert any(s.value.startswith("PyTorch agrees") for s in at.success)
    choose(at, ["mse", "sigmoid"])
    assert metrics(at) == expected_metrics(logits, target, ["mse", "sigmoid"])


@pytest.mark.parametrize(
    ("widget", "value", "changed"),
    [("eps", 0.3, "smoothed_ce"), ("margin", 2.5, "hinge"), ("p", 2, "hinge"), ("gamma", 0.5, "focal")],
)
def test_an_option_changes_exactly_its_own_loss(page, widget, value, changed):
    at = choose(page, ALL)
    before = metrics(at)
    if widget == "p":
        at.button_group(key="p").set_value(value)
    else:
        at.slider(key=widget).set_value(value)
    run(at)
    logits, target = seed42()
    after = metrics(at)
    assert after == expected_metrics(logits, target, ALL, **{widget: value})
    assert {k for k in after if after[k] != before[k]} == {label(changed)}


def test_editing_logits_and_a_target_moves_every_metric_to_torchs_value(page):
    at = choose(page, ALL)
    before = metrics(at)
    edit(at, {1: {"c2": -3.0}, 4: {"c0": 2.5}, 3: {"target": "class 0"}})
    logits, target = seed42()
    logits[1, 2], logits[4, 0], target[3] = -3.0, 2.5, 0
    after = metrics(at)
    assert after == expected_metrics(logits, target, ALL)
    assert all(after[k] != before[k] for k in after)
    assert not at.error
    assert any(s.value.startswith("PyTorch agrees") for s in at.success)
    expected = np.round(torch_per_sample(logits, target, "hinge").numpy(), 4)
    np.testing.assert_array_equal(comparison_table(at)["hinge (multi-margin)"].to_numpy(), expected)


@pytest.mark.parametrize(
    ("value", "words"),
    [("abc", "not a number"), (float("nan"), "NaN is not a logit"), (1e9, "beyond ±1e+06"), (None, "empty")],
)
def test_a_bad_cell_names_its_place_and_keeps_the_metrics(page, value, words):
    at = edit(page, {0: {"c1": value}})
    messages = errors(at)
    assert any("row 0, column 'class 1'" in m and words in m for m in messages), messages
    logits, target = seed42()
    assert metrics(at) == expected_metrics(logits, target, DEFAULT)


def test_a_bad_cell_does_not_block_the_other_edits(page):
    at = edit(page, {0: {"c1": "abc"}, 2: {"c0": 5.0}})
    assert any("row 0, column 'class 1'" in m for m in errors(at))
    logits, target = seed42()
    logits[2, 0] = 5.0
    assert metrics(at) == expected_metrics(logits, target, DEFAULT)


def test_sweep_tab_draws_every_loss_and_its_push_as_torch_computes_them(page):
    at = choose(page, ALL)
    opts = {"eps": 0.3, "margin": 2.0, "gamma": 0.5}
    for widget, value in opts.items():
        at.slider(key=widget).set_value(value)
    open_tab(at, SWEEP)
    figs = charts(at)
    assert set(figs) == {"bars", "sweep"}  # the closed tabs' charts are not built
    loss_plot, push_plot = svg_reader.plots(figs["sweep"])
    # row 0 (the default sample); x is z_t minus the strongest other logit: rebuild each row, ask torch
    logits, target = seed42()
    z, t = logits[0], int(target[0])
    (here,) = [el for el in figs["sweep"].iter(f"{svg_reader.NS}line") if el.get("class") == "here"][:1]
    assert float(loss_plot.x(float(here.get("x1")))) == pytest.approx(z[t] - np.delete(z, t).max(), abs=0.05)
    for key in ALL:
        xs, loss_drawn = loss_plot.curve(f"curve-{key}")
        _, push_drawn = push_plot.curve(f"curve-{key}")
        rows = np.tile(z, (len(xs), 1))
        rows[:, t] = xs + np.delete(z, t).max()
        zz = torch.tensor(rows, requires_grad=True)
        per = torch_per_sample(zz, np.full(len(xs), t), key, **opts)
        per.sum().backward()
        # drawn to 0.1 px: compare within a pixel of each panel's scale (x itself is read back to 0.05 px)
        slope = np.abs(zz.grad[:, t].numpy())
        tol = 1.0 / loss_plot.px_per_y + slope * 0.1 / loss_plot.px_per_x
        assert np.all(np.abs(loss_drawn - per.detach().numpy()) <= tol), key
        # the push is a step function for the hinge: half a pixel of x can land on either side of a step
        jump = np.abs(np.diff(slope)) > 0.05
        near_step = np.r_[jump, False] | np.r_[False, jump]
        assert np.allclose(push_drawn[~near_step], slope[~near_step], atol=1.0 / push_plot.px_per_y + 0.02), key


def test_landscape_tab_draws_one_map_per_chosen_loss(page):
    at = open_tab(page, LANDSCAPE)
    for keys in (DEFAULT, ["ce", "focal"]):
        choose(at, keys)
        figs = charts(at)
        assert set(figs) == {"bars", "land"}
        panels = figs["land"]
        assert len(panels) == len(keys)
        for panel, key in zip(panels, keys, strict=True):
            (img,) = panel.iter(f"{svg_reader.NS}image")
            assert img.get("href").startswith("data:image/png;base64,")
            titles = [el.text for el in panel.iter(f"{svg_reader.NS}text") if el.get("font-weight") == "600"]
            assert titles == [xc.LOSSES[key].name]
        assert not at.info


def test_multilabel_tab_draws_sigmoid_and_softmax_bars(page):
    at = open_tab(page, MULTI)
    figs = charts(at)
    assert set(figs) == {"bars", "ml"}
    (plot,) = svg_reader.plots(figs["ml"])
    bars = plot.bars()
    z = torch.tensor(ML.logits[0])
    half_px = 0.5 / plot.px_per_y
    np.testing.assert_allclose(bars[theme.BLUE], torch.sigmoid(z).numpy(), atol=half_px)
    np.testing.assert_allclose(bars[theme.ORANGE], F.softmax(z, dim=0).numpy(), atol=half_px)


@pytest.mark.parametrize("how", ["selectbox", "url"])
def test_two_classes_give_the_landscape_an_info_message(how):
    cat_dog = xc.PRESETS["cat_dog"]
    if how == "url":
        at = open_page(PAGE, {"preset": "cat_dog", "tab": LANDSCAPE})
        assert at.session_state["tab"] == LANDSCAPE
    else:
        at = open_page(PAGE)
        at.selectbox(key="cmp.preset").set_value("cat_dog")
        open_tab(at, LANDSCAPE)
    assert at.session_state["cmp.editor"].batch.class_names == cat_dog.class_names
    assert metrics(at) == expected_metrics(cat_dog.logits, cat_dog.target, DEFAULT)
    assert any("at least three classes" in i.value for i in at.info), [i.value for i in at.info]
    assert "land" not in charts(at)
    assert not at.error


def test_multilabel_metrics_and_pos_weight_match_torch(page):
    at = open_tab(page, MULTI)
    assert ml_metrics(at) == expected_ml_metrics(ML.logits, ML.labels)
    bce, ce = torch_multilabel(ML.logits, ML.labels)
    table = table_view(at, "Each photo's losses")
    np.testing.assert_array_equal(table["sigmoid + BCE"].to_numpy(), np.round(bce.numpy(), 4))
    np.testing.assert_array_equal(table["softmax + CE"].to_numpy(), np.round(ce.numpy(), 4))
    assert table["labels"].tolist() == ["cat, dog", "fish", "plane, building"]
    assert sum(s.value.startswith("PyTorch agrees") for s in at.success) == 2  # the comparison's and this tab's

    before = ml_metrics(at)
    at.slider(key="cmp.ml.pos_weight").set_value(3.0)
    run(at)
    after = ml_metrics(at)
    assert after == expected_ml_metrics(ML.logits, ML.labels, pos_weight=3.0)
    assert after["sigmoid + BCE (mean)"] != before["sigmoid + BCE (mean)"]
    assert after["softmax + CE (mean)"] == before["softmax + CE (mean)"]


def test_editing_a_multilabel_logit_matches_torch(page):
    at = edit_table(open_tab(page, MULTI), "cmp.ml.logits", {0: {"c1": "-1"}})  # c1: dog
    logits = ML.logits.copy()
    logits[0, 1] = -1.0
    assert ml_metrics(at) == expected_ml_metrics(logits, ML.labels)
    # a bad cell there names its place and falls back to the example's value
    edit_table(at, "cmp.ml.logits", {0: {"c1": "x"}})
    assert any("row 0, column 'dog'" in m for m in errors(at)), errors(at)
    assert ml_metrics(at) == expected_ml_metrics(ML.logits, ML.labels)


def test_the_multilabel_figure_view_shows_the_example_read_only():
    at = open_page(PAGE, {"view": "figure", "tab": MULTI})
    assert not batch_tables(at)
    logits, labels = table_view(at, "Photo logits"), table_view(at, "True labels")
    np.testing.assert_array_equal(logits[list(ML.class_names)].to_numpy(), ML.logits)
    assert (labels[list(ML.class_names)] == "✓").to_numpy().tolist() == ML.labels.astype(bool).tolist()
    assert ml_metrics(at) == expected_ml_metrics(ML.logits, ML.labels)


def test_a_row_without_labels_gives_an_error_not_an_exception(page):
    at = edit_table(open_tab(page, MULTI), "cmp.ml.labels", {0: {"c0": False, "c1": False}})  # cat, dog
    messages = errors(at)
    assert any("row 0 has no true label" in m for m in messages), messages
    assert not ml_metrics(at)
    logits, target = seed42()
    assert loss_metrics(at) == expected_metrics(logits, target, DEFAULT)  # the rest of the page still works


def test_a_link_reproduces_batch_losses_and_options():
    batch = state.Batch(
        logits=np.array([[0.5, -1.25, 2.0, 0.1], [1.5, 0.25, -0.75, 3.0], [-2.0, 1.0, 0.5, 0.0]]),
        target=np.array([2, 0, 1]),
        class_names=("ant", "bee", "cat", "dog"),
    )
    keys = ["ce", "smoothed_ce", "focal"]
    query = state.encode_query(batch) | {"losses": [xc.LOSSES[k].name for k in keys], "eps": "0.3", "gamma": "1.5"}
    at = open_page(PAGE, query)
    restored = at.session_state["cmp.editor"].batch
    np.testing.assert_array_equal(restored.logits, batch.logits)
    np.testing.assert_array_equal(restored.target, batch.target)
    assert restored.class_names == batch.class_names
    assert at.session_state["losses"] == keys
    assert at.session_state["eps"] == 0.3
    assert metrics(at) == expected_metrics(batch.logits, batch.target, keys, eps=0.3, gamma=1.5)
    assert not at.warning


@pytest.mark.parametrize(
    "query",
    [{"z": "1,abc"}, {"z": "1,2;3"}, {"z": "1,2,3", "t": "7"}, {"p": ""}, {"p": "3"}, {"eps": "2"}, {"tab": "nope"}],
)
def test_a_malformed_link_warns_and_shows_the_default_batch(query):
    at = open_page(PAGE, query)
    assert any("could not be read" in w.value for w in at.warning), [w.value for w in at.warning]
    logits, target = seed42()
    assert metrics(at) == expected_metrics(logits, target, DEFAULT)


def test_a_probability_target_link_is_reduced_to_class_indices():
    z = [[1.0, 2.0, 0.0], [0.5, -1.0, 3.0], [0.0, 0.0, 1.0]]
    query = {"z": "1,2,0;0.5,-1,3;0,0,1", "y": "0.2,0.7,0.1;0.6,0.3,0.1;0.1,0.1,0.8", "t": "0,0,0"}
    at = open_page(PAGE, query)
    batch = at.session_state["cmp.editor"].batch
    assert batch.probs_target is None
    assert batch.target.tolist() == [1, 0, 2]  # each row's most likely class
    assert metrics(at) == expected_metrics(z, [1, 0, 2], DEFAULT)
    assert not at.error
    assert "y" not in at.query_params  # the page rewrote its link to what it shows
    assert at.query_params["t"] == "1,0,2"


def test_the_share_link_reopens_the_same_comparison(page):
    keys = ["ce", "smoothed_ce", "hinge", "focal"]
    at = choose(page, keys)
    at.slider(key="eps").set_value(0.25)
    at.slider(key="margin").set_value(2.0)
    at.button_group(key="p").set_value(2)
    run(at)
    edit(at, {5: {"c1": 1.75}})
    at.session_state["cmp.share"] = True
    run(at)
    links = [c.value for c in at.code if c.value.startswith("http")]
    assert len(links) == 1, [c.value for c in at.code]
    query = {k: v[0] if len(v) == 1 else v for k, v in parse_qs(urlsplit(links[0]).query).items()}
    assert "gamma" not in query  # at its default
    again = open_page(PAGE, query)
    assert not again.warning, [w.value for w in again.warning]  # every bound value reads back
    assert metrics(again) == metrics(at)
    logits, target = seed42()
    logits[5, 1] = 1.75
    assert metrics(again) == expected_metrics(logits, target, keys, eps=0.25, margin=2.0, p=2)
