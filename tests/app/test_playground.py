"""The playground page, run headless with Streamlit's AppTest against torch as the oracle."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import xent_core as xc
from tests.app.conftest import batch_tables, edit, errors, metric, open_page, open_setup, shown, table_view, torch_loss
from ui import nav, state

SEED42 = xc.PRESETS["seed42"]


def pipeline_table(at):
    """The step-by-step table, as the browser gets it."""
    return table_view(at, "Step by step")


def test_landing_page_links_to_every_page():
    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import ROOT

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert "Cross-entropy" in at.title[0].value
    links = [el for el in at.main.children.values() if el.type == "page_link"]
    # one link per page in the sidebar's list, in its order (page names as Streamlit derives them)
    expected = [Path(script).stem.split("_", 1)[1] for script, *_ in nav.PAGES[1:]]
    assert [link.proto.page for link in links] == expected
    assert len(expected) >= 5


def test_opens_on_the_seed42_batch_with_its_documented_losses(playground):
    at = playground
    assert metric(at, "Loss (mean)") == shown(torch_loss(SEED42.logits, SEED42.target))
    losses = pipeline_table(at)["loss"].to_numpy()
    np.testing.assert_array_equal(np.round(losses, 4), SEED42.expected["per_sample"])
    np.testing.assert_array_equal(
        np.round(pipeline_table(at)["p_t = softmax"].to_numpy(), 4), SEED42.expected["target_probs"]
    )
    assert any("PyTorch agrees" in s.value for s in at.success)
    assert not at.error


@pytest.mark.parametrize("key", ["batch3x4", "cat_dog", "five_class"])
def test_every_preset_loads_and_matches_torch(playground, key):
    at = playground
    at.selectbox(key="pg.preset").set_value(key).run()
    preset = xc.PRESETS[key]
    assert metric(at, "Loss (mean)") == shown(torch_loss(preset.logits, preset.target))
    assert len(pipeline_table(at)) == preset.logits.shape[0]


def test_cat_dog_preset_shows_the_spreadsheet_losses_in_nats(playground):
    at = playground
    at.selectbox(key="pg.preset").set_value("cat_dog").run()
    losses = np.round(pipeline_table(at)["loss"].to_numpy(), 4)
    np.testing.assert_array_equal(losses, xc.PRESETS["cat_dog"].expected["per_sample"])


@pytest.mark.parametrize(
    ("reduction", "smoothing", "temperature"),
    [("sum", 0.0, 1.0), ("none", 0.0, 1.0), ("mean", 0.1, 1.0), ("mean", 0.0, 2.5), ("sum", 0.3, 0.5)],
)
def test_options_change_the_loss_as_torch_does(playground, reduction, smoothing, temperature):
    at = playground
    at.segmented_control(key="reduction").set_value(reduction)
    at.slider(key="smoothing").set_value(smoothing)
    at.slider(key="temperature").set_value(temperature)
    at.run()
    assert not at.exception
    expected = torch_loss(
        SEED42.logits, SEED42.target, reduction=reduction, label_smoothing=smoothing, temperature=temperature
    )
    assert metric(at, "Loss") == shown(expected)


def test_class_weights_make_mean_divide_by_the_summed_weights(playground):
    at = playground
    at.toggle(key="weights").set_value(True).run()
    at.session_state[f"pg.weight.{at.session_state['pg.editor'].version}"] = {
        "edited_rows": {0: {"c0": 2.0, "c2": 0.5}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    weight = np.array([2.0, 1.0, 0.5])
    assert metric(at, "Loss (mean)") == shown(torch_loss(SEED42.logits, SEED42.target, weight=weight))
    # the pipeline shows the denominator: the summed weights of the targets [0,1,0,2,2,0]: 2+1+2+.5+.5+2
    assert "8.00 here" in " ".join(m.value for m in at.markdown)


def test_editing_a_logit_updates_loss_pipeline_and_url(playground):
    at = edit(playground, {1: {"c2": -3.0}})
    logits = SEED42.logits.astype(np.float64).copy()
    logits[1, 2] = -3.0
    assert metric(at, "Loss (mean)") == shown(torch_loss(logits, SEED42.target))
    decoded = state.decode_query(at.query_params)
    assert decoded.logits[1, 2] == -3.0


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (None, "empty"),
        ("abc", "not a number"),
        (float("nan"), "NaN is not a logit"),
        (float("inf"), "inf is not a logit"),
        (1e7, "beyond ±1e+06"),
    ],
)
def test_a_bad_cell_shows_a_message_and_keeps_the_other_edits(playground, value, words):
    at = edit(playground, {0: {"c1": value}, 2: {"c0": 5.0}})
    messages = errors(at)
    assert any("row 0, column 'class 1'" in m and words in m for m in messages), messages
    assert not at.exception
    logits = SEED42.logits.astype(np.float64).copy()
    logits[2, 0] = 5.0  # the valid edit is applied; the bad cell keeps its last valid value
    assert metric(at, "Loss (mean)") == shown(torch_loss(logits, SEED42.target))


def test_a_cell_broken_after_an_edit_keeps_the_value_typed_before(playground):
    at = edit(playground, {0: {"c1": 4.0}})
    at = edit(at, {0: {"c1": "4.0x"}})  # the editor's log now holds only the bad value for this cell
    assert any("row 0, column 'class 1'" in m for m in errors(at))
    logits = SEED42.logits.astype(np.float64).copy()
    logits[0, 1] = 4.0  # the last valid value, not the preset's
    assert metric(at, "Loss (mean)") == shown(torch_loss(logits, SEED42.target))
    at = edit(at, {0: {"c1": -1.0}})  # and a valid value after that is taken as usual
    logits[0, 1] = -1.0
    assert metric(at, "Loss (mean)") == shown(torch_loss(logits, SEED42.target))
    assert not at.error


def test_ignoring_a_row_removes_it_from_loss_and_denominator(playground):
    at = edit(playground, {1: {"ignore": True}})
    target = SEED42.target.copy()
    target[1] = -100
    assert metric(at, "Loss (mean)") == shown(torch_loss(SEED42.logits, target))
    assert "5.00 here" in " ".join(m.value for m in at.markdown)


def test_changing_a_target_class_by_name(playground):
    at = edit(playground, {1: {"target": "class 2"}})
    target = SEED42.target.copy()
    target[1] = 2
    assert metric(at, "Loss (mean)") == shown(torch_loss(SEED42.logits, target))


def test_renaming_classes_and_refusing_duplicates(playground):
    at = open_setup(playground)
    at.text_input(key="pg.names").set_value("cat, dog, bird").run()
    assert at.session_state["pg.editor"].batch.class_names == ("cat", "dog", "bird")
    at.text_input(key="pg.names").set_value("cat, cat, bird").run()
    assert any("appears twice" in m for m in errors(at))
    assert at.session_state["pg.editor"].batch.class_names == ("cat", "dog", "bird")
    assert not at.exception


def test_resizing_keeps_the_overlap_and_pads_with_zeros(playground):
    at = open_setup(playground)
    at.number_input(key="pg.n").set_value(8).run()
    at.number_input(key="pg.c").set_value(4).run()
    batch = at.session_state["pg.editor"].batch
    assert batch.logits.shape == (8, 4)
    np.testing.assert_array_equal(batch.logits[:6, :3], SEED42.logits.astype(np.float64))
    assert metric(at, "Loss (mean)") == shown(torch_loss(batch.logits, batch.target))


def test_probability_targets_mode_matches_torch(playground):
    at = open_setup(playground)
    at.radio(key="pg.mode").set_value("probabilities").run()
    onehot = np.eye(3)[SEED42.target]
    assert metric(at, "Loss (mean)") == shown(torch_loss(SEED42.logits, onehot))
    edit(at, {0: {"c0": 0.6, "c1": 0.4}}, table="probs")
    onehot[0] = [0.6, 0.4, 0.0]
    assert metric(at, "Loss (mean)") == shown(torch_loss(SEED42.logits, onehot))


def test_random_batch_is_reproducible_and_matches_torch(playground):
    at = playground
    at.button(key="pg.random").click().run()
    batch = at.session_state["pg.editor"].batch
    again = state.random_batch(6, 3, seed=1)
    np.testing.assert_array_equal(batch.logits, again.logits)
    assert metric(at, "Loss (mean)") == shown(torch_loss(batch.logits, batch.target))


def test_url_round_trip_restores_the_exact_state(playground):
    at = edit(playground, {3: {"c1": 0.123456789}, 4: {"ignore": True}})
    at.segmented_control(key="reduction").set_value("sum")
    at.slider(key="smoothing").set_value(0.2)
    at.run()
    # The page writes the batch; the browser writes the bound widgets (reduction, smoothing) itself.
    query = {k: at.query_params[k] for k in at.query_params} | {"reduction": "sum", "smoothing": "0.2"}
    again = open_page(query=query)
    restored = again.session_state["pg.editor"].batch
    assert restored.logits[3, 1] == 0.123456789
    assert restored.ignored.tolist() == [False, False, False, False, True, False]
    assert metric(again, "Loss") == metric(at, "Loss")


def test_share_link_carries_batch_and_non_default_options(playground):
    at = playground
    at.slider(key="temperature").set_value(2.0)
    at.session_state["pg.share"] = True  # the user opens the expander
    at.run()
    links = [c.value for c in at.code if c.value.startswith("http")]
    assert links, [c.value for c in at.code]
    assert "temperature=2.0" in links[0]
    assert "z=" in links[0]
    assert "reduction" not in links[0]  # at its default
    assert any("embed=true" in c.value and "<iframe" in c.value for c in at.code)


@pytest.mark.parametrize(
    "query",
    [
        {"z": "1,2;3"},
        {"z": "1,2;3,4", "t": "0,5"},
        {"z": "1,abc"},
        {"z": "1,2", "names": "a,a"},
        {"preset": "nope"},
        {"z": "1e400,2"},
        {"z": ";;;"},
        {"z": "1,2", "w": "1"},
        {"z": "1,2", "ignore": "7"},
        # the options Streamlit binds to the URL, which it would otherwise drop without a word
        {"reduction": ""},  # reaches the segmented control as no choice at all
        {"reduction": "median"},
        {"smoothing": "abc"},
        {"temperature": "0"},
    ],
)
def test_a_malformed_link_explains_itself_and_shows_the_default(query):
    at = open_page(query=query)
    assert any("could not be read" in w.value for w in at.warning), [w.value for w in at.warning]
    assert metric(at, "Loss (mean)") == shown(torch_loss(SEED42.logits, SEED42.target))


def test_probabilities_passed_as_logits_get_an_advisory_note():
    at = open_page(query={"z": "0.7,0.2,0.1;0.1,0.8,0.1", "t": "0,1"})
    assert any("like probabilities" in i.value for i in at.info)


def test_huge_logits_stay_finite_and_warn_about_float32():
    at = open_page(query={"z": "1000000,-1000000,0;3,2,1", "t": "1,0"})
    assert not at.error
    assert metric(at, "Loss (mean)") == shown(torch_loss([[1e6, -1e6, 0], [3, 2, 1]], [1, 0]))
    assert any("float32" in i.value for i in at.info)


def grid_data(at, label: str = "Logits and targets") -> dict:
    """What the page sends to one of its batch tables (ui/grid.py): columns, rows, edit log, refused cells."""
    for element in at.get("bidi_component"):
        data = json.loads(element.proto.json)
        if data["label"] == label:
            return data
    raise AssertionError(f"no table {label!r}")


def test_the_table_echoes_the_edits_and_marks_the_refused_cells(playground):
    data = grid_data(playground)
    assert [c["id"] for c in data["columns"]] == ["target", "ignore", "c0", "c1", "c2"]
    assert [row[2:] for row in data["rows"]] == SEED42.logits.tolist()
    assert (data["edits"], data["invalid"]) == ({}, [])
    at = edit(playground, {0: {"c1": "abc"}, 2: {"c0": "5"}})
    data = grid_data(at)
    assert data["edits"] == {"0": {"c1": "abc"}, "2": {"c0": "5"}}  # a table drawn anew shows them
    assert data["invalid"] == [[0, 3]]  # row 0's class 1: the cell the message names
    assert [row[2:] for row in data["rows"]] == SEED42.logits.tolist()  # the source rows stay; edits replay onto them


def test_figure_view_hides_the_editor():
    at = open_page(query={"view": "figure", "preset": "cat_dog"})
    assert metric(at, "Loss (mean)") == shown(torch_loss(xc.PRESETS["cat_dog"].logits, xc.PRESETS["cat_dog"].target))
    assert not batch_tables(at)  # the batch table (ui/grid.py), which the editable page has
    assert batch_tables(open_page(query={"preset": "cat_dog"}))


def test_batch_setup_widgets_exist_only_while_open(playground):
    at = playground
    assert not at.number_input  # closed: nothing built, nothing paid for on each rerun
    open_setup(at)
    assert [n.label for n in at.number_input] == ["Samples", "Classes"]


@pytest.mark.parametrize(
    "change",
    ["weights on", "one more sample", "renamed classes", "probability targets"],
)
def test_an_edit_survives_a_change_to_the_whole_table(playground, change):
    """Class weights, a resize, new names or another target type give the editor a fresh table; it starts
    from what is on screen, edits included."""
    at = edit(playground, {1: {"c2": 7.25}})
    if change == "weights on":
        at.toggle(key="weights").set_value(True).run()
    else:
        open_setup(at)
        if change == "one more sample":
            at.number_input(key="pg.n").set_value(7).run()
        elif change == "renamed classes":
            at.text_input(key="pg.names").set_value("cat, dog, bird").run()
        else:
            at.radio(key="pg.mode").set_value("probabilities").run()
    assert not at.exception
    assert at.session_state["pg.editor"].batch.logits[1, 2] == 7.25
