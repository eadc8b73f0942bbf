"""Every page's "Share / embed" panel: its link reopens exactly what was on screen, in a new session, and
its read-only variant (`view=figure`) shows the same numbers without the editors."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import streamlit as st

from tests.app.conftest import batch_tables, edit, metrics, open_page, run
from ui.scenes import SCENES

TRAINING, PITFALLS, IMAGES, INFORMATION = (
    "pages/3_Training.py",
    "pages/4_Pitfalls.py",
    "pages/5_Images.py",
    "pages/6_Information.py",
)
PREFIX = {"pages/1_Playground.py": "pg", "pages/2_Compare.py": "cmp", TRAINING: "lab", PITFALLS: "pit"}
PREFIX |= {IMAGES: "img", INFORMATION: "info"}


def shared(at, page: str, *, figure: bool = False) -> dict:
    """Open the page's share panel (and tick "read-only figure") and return its link's query."""
    prefix = PREFIX[page]
    at.session_state[f"{prefix}.share"] = True
    run(at)
    if figure:
        at.toggle(key=f"{prefix}.share.figure").set_value(True)
        run(at)
    links = [c.value for c in at.code if c.value.startswith("http")]
    assert len(links) == 1, [c.value for c in at.code]
    snippets = [c.value for c in at.code if c.value.startswith("<iframe")]
    assert len(snippets) == 1
    assert "embed=true" in snippets[0]
    return {k: v[0] if len(v) == 1 else v for k, v in parse_qs(urlsplit(links[0]).query).items()}


def editors(at) -> list:
    """The page's editable tables: data editors (an Arrow frame in an editing mode) and the batch tables
    (ui/grid.py, a custom component)."""
    return [frame for frame in at.dataframe if frame.proto.editing_mode] + batch_tables(at)


def read_only_tables(at) -> list:
    return [frame for frame in at.dataframe if not frame.proto.editing_mode]


def table_edit(at, key: str, rows: dict) -> None:
    at.session_state[key] = {"edited_rows": rows, "added_rows": [], "deleted_rows": []}
    run(at)


@pytest.fixture(autouse=True)
def fresh_runs():
    st.cache_resource.clear()  # the training page keeps finished runs per process


@pytest.mark.parametrize("page", [TRAINING, PITFALLS, IMAGES, INFORMATION])
def test_a_fresh_page_shares_a_link_with_nothing_to_say(page):
    """Every value at its default gives the bare page URL: the defaults the share link assumes are the
    widgets' own (a default changed in one place and not the other would show up here)."""
    at = open_page(page)
    assert shared(at, page) == {}


@pytest.mark.parametrize(
    ("page", "key"),
    [
        ("pages/1_Playground.py", "reduction"),
        ("pages/2_Compare.py", "p"),
        (TRAINING, "curves"),
        (TRAINING, "points_shown"),
        (TRAINING, "model"),
        (PITFALLS, "dtype"),
        (IMAGES, "pixel_reduction"),
        (INFORMATION, "unit"),
    ],
)
def test_an_empty_choice_in_a_link_is_shared_as_its_default(page, key):
    """A link's "key=" leaves a segmented control with no choice (Streamlit lets it through even with
    required=True); the page uses the default, says so, and shares the default (no "key=None")."""
    query = {key: ""} | ({"points": "100", "steps": "50"} if page == TRAINING else {})
    at = open_page(page, query)
    assert any(f"'{key}'" in w.value.replace("\\", "") for w in at.warning), [w.value for w in at.warning]
    assert key not in shared(at, page)


def test_information_link_and_figure():
    at = open_page(INFORMATION)
    at.button_group(key="unit").set_value("bits")
    run(at)
    table_edit(at, f"info.table.{at.session_state['info.pair'].version}", {1: {"c0": 0.05}})
    query = shared(at, INFORMATION)
    assert query["unit"] == "bits"
    assert {"y", "p"} <= set(query)
    again = open_page(INFORMATION, query)
    assert metrics(again) == metrics(at)
    assert editors(again)

    figure = open_page(INFORMATION, shared(at, INFORMATION, figure=True))
    assert metrics(figure) == metrics(at)
    assert not editors(figure)
    assert not [n for n in figure.number_input if n.key == "info.c"]  # no class count, no example picker
    assert read_only_tables(figure)  # y and p shown read-only


def test_pitfalls_link_keeps_a_closed_tabs_settings_and_its_figure_hides_the_tables():
    at = open_page(PITFALLS)
    edit_key = f"pit.probs.{at.session_state['pit.probs'].version}"
    table_edit(at, edit_key, {0: {"c2": 0.5}})
    first_tab = metrics(at)
    at.session_state["pitfall"] = "log(softmax) vs log_softmax"  # another tab: the edited tensor's is closed
    run(at)
    at.select_slider(key="scale").set_value(200)
    run(at)
    query = shared(at, PITFALLS)
    assert query["p"] == "0.1,0.2,0.5;0.3,0.3,0.4;0.4,0.4,0.2;0.5,0.5,0"  # kept from the closed tab
    assert (query["pitfall"], query["scale"]) == ("log(softmax) vs log_softmax", "200")
    again = open_page(PITFALLS, query)
    assert metrics(again) == metrics(at)
    on_first_tab = open_page(PITFALLS, {k: v for k, v in query.items() if k != "pitfall"})
    assert metrics(on_first_tab) == first_tab

    at = open_page(PITFALLS, {"pitfall": "log(softmax) vs log_softmax", "dtype": "float16", "scale": "200"})
    query = shared(at, PITFALLS)
    assert (query["pitfall"], query["dtype"], query["scale"]) == ("log(softmax) vs log_softmax", "float16", "200")
    figure = open_page(PITFALLS, shared(at, PITFALLS, figure=True))
    assert metrics(figure) == metrics(at)

    figure = open_page(
        PITFALLS, {"view": "figure", "p": query.get("p", "0.1,0.2,0.7;0.3,0.3,0.4;0.4,0.4,0.2;0.5,0.5,0")}
    )
    assert not editors(figure)
    assert read_only_tables(figure)  # the tensor, read-only
    assert not [b for b in figure.button if b.key == "pit.probs.reset"]


def test_images_link_and_figure():
    at = open_page(IMAGES)
    at.slider(key="noise").set_value(1.5)
    run(at)
    at.session_state["img.edit"] = True
    run(at)
    table_edit(at, f"img.mask.{at.session_state['img.mask'].version}", {0: {"x0": 255}})
    query = shared(at, IMAGES)
    assert query["noise"] == "1.5"
    assert "mask" in query
    again = open_page(IMAGES, query)
    assert metrics(again) == metrics(at)

    figure = open_page(IMAGES, shared(at, IMAGES, figure=True))
    assert metrics(figure) == metrics(at)
    assert not [e for e in figure.expander if e.label == "Edit the target mask"]


def test_training_link_and_figure():
    small = {"points": "100", "steps": "50"}
    at = open_page(TRAINING, small)
    at.segmented_control(key="model").set_value("linear")
    at.button(key="lab.train").click()
    run(at)
    at.slider(key="steps").set_value(200)  # moved after training: the link still gives the run on screen
    run(at)
    query = shared(at, TRAINING)
    assert query["model"] == "softmax regression"  # as the widget shows it, which is what Streamlit reads
    assert (query["points"], query["steps"]) == ("100", "50")
    assert "losses" not in query  # at its default
    st.cache_resource.clear()
    again = open_page(TRAINING, query)
    assert again.session_state["lab.run"][1].config == at.session_state["lab.run"][1].config
    assert again.session_state["lab.run"][0].config == at.session_state["lab.run"][0].config
    assert metrics(again) == metrics(at)

    figure = open_page(TRAINING, shared(at, TRAINING, figure=True))
    assert metrics(figure) == metrics(at)
    assert not [b for b in figure.button if b.key == "lab.train"]
    assert [e.label for e in figure.expander][:1] == ["Settings of this run"]
    figure.slider(key="steps").set_value(100)  # the folded-away settings still move; nothing says "press Train"
    run(figure)
    assert not any("press **Train**" in i.value for i in figure.info)
    assert any("does not train" in i.value for i in figure.info)


def navigate(at, page: str) -> None:
    """Switch pages as the sidebar does: the browser drops the query string."""
    for key in list(at.query_params):
        del at.query_params[key]
    at.switch_page(page)
    run(at)


def test_state_survives_a_trip_to_another_page_in_the_link_and_the_address_bar():
    at = open_page(IMAGES, {"scene": SCENES[1]})  # the forum's 2 × 2 tensor
    at.session_state["img.edit"] = True
    run(at)
    table_edit(at, f"img.mask.{at.session_state['img.mask'].version}", {0: {"x0": 255}})
    before = metrics(at)
    navigate(at, "pages/1_Playground.py")
    navigate(at, IMAGES)
    at.query_params["scene"] = SCENES[1]  # a bound widget: the browser puts it back itself
    run(at)
    assert metrics(at) == before
    assert at.query_params["mask"] == "255,2;0,1"  # written again after the switch
    query = shared(at, IMAGES)
    assert query["mask"] == "255,2;0,1"
    assert metrics(open_page(IMAGES, query)) == before

    at = open_page(INFORMATION, {"preset": "onehot_wrong"})
    before = metrics(at)
    navigate(at, "pages/1_Playground.py")
    navigate(at, INFORMATION)
    assert metrics(at) == before
    query = shared(at, INFORMATION)
    assert {"y", "p"} <= set(query)
    assert metrics(open_page(INFORMATION, query)) == before


def test_a_read_only_page_is_editable_again_after_a_trip_through_the_sidebar():
    at = open_page("pages/2_Compare.py", {"view": "figure"})
    assert not editors(at)
    navigate(at, "pages/1_Playground.py")
    assert editors(at)
    navigate(at, "pages/2_Compare.py")
    assert editors(at)
    assert [b for b in at.button if b.key == "cmp.random"]


def test_compare_link_keeps_the_open_tab():
    at = open_page("pages/2_Compare.py", {"tab": "Loss landscape"})
    query = shared(at, "pages/2_Compare.py")
    assert query["tab"] == "Loss landscape"
    again = open_page("pages/2_Compare.py", query)
    assert [i.value for i in again.caption if "strongest wrong classes" in i.value]  # the landscape tab is open


def test_compare_figure_hides_the_editor_and_the_example_picker():
    at = open_page("pages/2_Compare.py")
    edit_key = f"cmp.logits.{at.session_state['cmp.editor'].version}"
    table_edit(at, edit_key, {2: {"c1": -3.0}})
    query = shared(at, "pages/2_Compare.py", figure=True)
    assert query["view"] == "figure"
    figure = open_page("pages/2_Compare.py", query)
    assert metrics(figure) == metrics(at)
    assert not editors(figure)
    assert not [b for b in figure.button if b.key == "cmp.random"]


def test_playground_figure_link():
    at = open_page()
    edit(at, {0: {"c0": 2.5}})
    query = shared(at, "pages/1_Playground.py", figure=True)
    figure = open_page("pages/1_Playground.py", query)
    assert metrics(figure) == metrics(at)
    assert not editors(figure)


def test_edits_survive_runs_that_do_not_draw_their_editor():
    """Streamlit forgets a data editor's edit log when a run does not draw it; the pages keep the edits."""
    # a trip to another page
    for page, prefix in (("pages/1_Playground.py", "pg"), ("pages/2_Compare.py", "cmp")):
        at = open_page(page)
        table_edit(at, f"{prefix}.logits.{at.session_state[f'{prefix}.editor'].version}", {0: {"c0": 2.5}})
        edited = metrics(at)
        navigate(at, "app.py")
        navigate(at, page)
        assert metrics(at) == edited, page
        assert at.query_params["z"].startswith("2.5,")  # and the address bar holds them again

    at = open_page(INFORMATION)
    table_edit(at, f"info.table.{at.session_state['info.pair'].version}", {1: {"c0": 0.05}})
    edited = metrics(at)
    navigate(at, TRAINING)
    navigate(at, INFORMATION)
    assert metrics(at) == edited

    # another tab of the same page
    at = open_page(PITFALLS)
    table_edit(at, f"pit.probs.{at.session_state['pit.probs'].version}", {0: {"c2": 0.5}})
    edited = metrics(at)
    at.session_state["pitfall"] = "Rows not summing to 1"
    run(at)
    at.session_state["pitfall"] = "Probabilities as logits"
    run(at)
    assert metrics(at) == edited

    # a closed expander
    at = open_page(IMAGES)
    at.session_state["img.edit"] = True
    run(at)
    table_edit(at, f"img.mask.{at.session_state['img.mask'].version}", {0: {"x0": 255}})
    edited = metrics(at)
    at.session_state["img.edit"] = False
    run(at)
    assert metrics(at) == edited
    at.session_state["img.edit"] = True
    run(at)
    assert metrics(at) == edited
    assert at.session_state["img.mask"].value[1][0, 0] == 255  # the editor's fresh table starts from the edit
