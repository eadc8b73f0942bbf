"""The pitfalls, images and information pages' pure UI pieces: plotly figure specs are valid, URL codecs
round-trip, bound-parameter checks and table-edit replays say what is wrong and keep the last valid value."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import xent_core as xc
from ui import image_figures as IF
from ui import page_params as U
from ui import pitfalls_figures as PF
from ui import table_edits as E
from ui.state import StateError
from xent_core import images as im
from xent_core import pitfalls as pf

FORUM = xc.PRESETS["probs_as_logits"]


def _figures():
    r = pf.probs_as_logits(FORUM.logits, FORUM.target)
    labels = PF.pixel_labels(FORUM.target.shape)
    u = pf.unnormalised_nll(pf.UNNORMALISED.logits, pf.UNNORMALISED.target)
    sw = pf.log_softmax_sweep(pf.LOG_SOFTMAX_ROW, 3, [1, 10, 50, 100, 1000], dtype="float32")
    ml = pf.multilabel_sweep(xc.MULTI_LABEL.logits[0], xc.MULTI_LABEL.labels[0], np.linspace(-5, 5, 11))
    cw = pf.class_weighting(pf.IMBALANCED.logits, pf.IMBALANCED.target, np.array([1.0, 2.0, 8.0]))
    scene = im.blob_scene(8, 8, 3, seed=1)
    px = im.pixel_losses(scene.logits, scene.target, ignore_index=im.VOID)
    return {
        "double_softmax": PF.double_softmax_bars(
            PF.pixel_rows(r.probs), PF.pixel_rows(r.double_softmax), FORUM.target.reshape(-1), labels, ["a", "<b>", "c"]
        ),
        "unnormalised": PF.unnormalised_bars(u),
        "sweep": PF.log_softmax_sweep_chart(sw, 50, "class 3"),
        "multilabel": PF.multilabel_sweep_chart(ml, 1.0),
        "shares": PF.class_share_bars(cw, pf.IMBALANCED.class_names),
        "class_map": IF.class_map(scene.target[0], scene.class_names, im.VOID, "t", wrong=~px.correct[0]),
        "loss_map": IF.loss_map(px.per_pixel[0], px.ignored[0]),
        "class_bars": IF.class_loss_bars(px.class_loss, px.class_count, px.baseline, scene.class_names),
        "pixel_bars": IF.pixel_bars(px.probs[0, :, 0, 0], 1, scene.class_names, im.VOID),
    }


def test_every_figure_spec_is_valid_plotly():
    for name, fig in _figures().items():
        try:
            fig.validated()
        except ValueError as err:  # plotly names the bad property
            pytest.fail(f"{name}: {err}")


def test_class_names_are_escaped_and_void_is_drawn_as_its_own_colour():
    spec = _figures()["double_softmax"].to_dict()
    assert "&lt;b&gt;" in spec["data"][0]["x"][1]
    scene = im.forum_scene()
    mask = np.array([[2, im.VOID], [0, 1]])
    heat = IF.class_map(mask, scene.class_names, im.VOID, "t").to_dict()["data"][0]
    assert heat["z"] == [[2, 3], [0, 1]]  # void becomes step C = 3
    assert heat["text"] == [["2", "∅"], ["0", "1"]]
    assert heat["colorscale"][-1][1] == IF.VOID_COLOR


def test_sweep_bands_mark_where_the_naive_form_breaks():
    spec = _figures()["sweep"].to_dict()
    notes = [a["text"] for a in spec["layout"]["annotations"]]
    assert notes == ["naive: +inf"]  # float32, class 3: from scale 50 on, p_3 underflows
    assert spec["data"][1]["y"][:3] != [None, None, None]
    assert spec["data"][1]["y"][-1] is None


def test_pixel_rows_round_trip_the_tensor_layout():
    rows = PF.pixel_rows(FORUM.logits)
    assert rows.shape == (4, 3)
    np.testing.assert_array_equal(rows[0], FORUM.logits[0, :, 0, 0])
    np.testing.assert_array_equal(PF.from_pixel_rows(rows, FORUM.logits.shape), FORUM.logits)


@settings(max_examples=30, deadline=None)
@given(m=hnp.arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 6)), elements=st.floats(-1e6, 1e6)))
def test_matrix_codec_round_trips_exactly(m):
    np.testing.assert_array_equal(U.decode_matrix(U.encode_matrix(m), "p", shape=m.shape), m)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("1,2;3", "rows have different lengths"),
        ("1,abc", "link 'p', row 0, value 1: 'abc' is not a number"),
        ("1,nan", "NaN is not a probability"),
        ("1,2", "has shape 1×2; expected 2×2"),
    ],
)
def test_matrix_codec_names_what_it_cannot_read(text, words):
    with pytest.raises(StateError, match=words):
        U.decode_matrix(text, "p", shape=(2, 2), what="a probability")


def test_bound_parameter_checks_name_the_parameter_and_the_valid_values():
    specs = {"dtype": U.Choice(("float64", "float32")), "noise": U.Number(0, 3), "n": U.Number(2, 32, integer=True)}
    specs["void"] = U.Flag()
    query = {"dtype": "float128", "noise": "abc", "n": "2.5", "void": "maybe", "other": "x"}
    assert U.check_bound(query, specs) == [
        "'dtype' = 'float128' is not one of float64, float32; using the default",
        "'noise' = 'abc' is not a number (0 to 3); using the default",
        "'n' = '2.5' is not a whole number; using 2",
        "'void' = 'maybe' is not true or false; using the default",
    ]
    assert U.check_bound({"dtype": "float32", "noise": "3", "n": "32", "void": "False"}, specs) == []
    assert U.check_bound({"noise": ["abc", "1.5"]}, specs) == []  # repeated: the last wins, as in Streamlit


def test_label_edits_keep_the_last_valid_label_and_name_the_cell():
    mask = np.array([[0, 1], [2, 0]])
    where = lambda r, c: f"row {r}, column {c}"  # noqa: E731
    out, errors = E.apply_label_edits(mask, {0: {"x0": "2"}, 1: {"x1": 9, "x0": 255}}, 3, 255, where)
    assert out.tolist() == [[2, 1], [255, 0]]
    assert errors == ["row 1, column 1: 9 is not a class (valid: 0..2, or 255 for void)"]
    fallback = np.array([[1, 1], [1, 1]])
    out, errors = E.apply_label_edits(mask, {0: {"x1": 1.5}}, 3, None, where, fallback=fallback)
    assert out[0, 1] == 1
    assert errors == ["row 0, column 1: 1.5 is not a class (valid: 0..2)"]


def test_number_edits_refuse_negative_values_when_asked():
    out, errors = E.apply_number_edits(
        np.ones((1, 2)), {0: {"c1": -1.0, "c0": 3.0}}, lambda r, c: f"cell {c}", what="a weight", non_negative=True
    )
    assert out.tolist() == [[3.0, 1.0]]
    assert errors == ["cell 1: -1 is negative; a weight cannot be negative"]


def test_check_edits_tick_and_untick_cells_and_skip_the_rest():
    labels = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    log = {"0": {"c0": False, "c1": True}, "1": {"c2": True, "target": True, "c9": True}, "7": {"c0": True}}
    out = E.apply_check_edits(labels, log)
    np.testing.assert_array_equal(out, [[0.0, 1.0, 1.0], [0.0, 1.0, 1.0]])  # unknown columns and rows skipped
    np.testing.assert_array_equal(labels, [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])  # the input is not changed
    assert E.apply_check_edits(labels, {"0": {"c2": "yes"}})[0, 2] == 0.0  # only a real tick counts
