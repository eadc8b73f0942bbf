"""ui.state: the batch, its URL encoding and the validation of every piece of user text.

Round trips are checked bit for bit; every rejection is a StateError whose message says where
(which parameter, row, value) and what is wrong.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xent_core as xc
from tests.ui.strategies import assert_same_batch, assert_same_bits, batches
from ui import state as S
from ui.state import Batch, StateError

FAST = settings(max_examples=20, deadline=None)
ROUND_TRIP = settings(max_examples=40, deadline=None)
PRESETS_2D = [k for k, p in xc.PRESETS.items() if p.logits.ndim == 2]


def encoded_fits(query: dict[str, str]) -> bool:
    return all(len(v) <= S.MAX_QUERY_LENGTH for v in query.values())


# ---------------------------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("key", PRESETS_2D)
def test_every_2d_preset_round_trips_through_the_url(key):
    batch = S.batch_from_preset(key)
    assert_same_batch(S.decode_query(S.encode_query(batch)), batch)


@pytest.mark.parametrize("key", PRESETS_2D)
def test_preset_batch_holds_the_preset_data_as_float64(key):
    preset = xc.PRESETS[key]
    batch = S.batch_from_preset(key)
    assert batch.logits.dtype == np.float64
    assert batch.target.dtype == np.int64
    np.testing.assert_array_equal(batch.logits, preset.logits.astype(np.float64))
    np.testing.assert_array_equal(batch.target, preset.target)
    assert batch.class_names == preset.class_names
    assert batch.target_mode == "index"
    assert not batch.ignored.any()


@ROUND_TRIP
@given(batch=batches())
def test_encode_then_decode_restores_the_batch_bit_for_bit(batch):
    query = S.encode_query(batch)
    # Batches whose link exceeds the length cap are covered by
    # test_a_full_size_batch_at_full_precision_fits_in_the_link (a known bug).
    if encoded_fits(query):
        assert_same_batch(S.decode_query(query), batch)


@FAST
@given(batch=batches(max_samples=4, max_classes=4))
def test_encoded_query_is_plain_strings_with_known_keys(batch):
    query = S.encode_query(batch)
    assert set(query) <= set(S.QUERY_KEYS)
    assert all(isinstance(v, str) for v in query.values())
    assert ("y" in query) == (batch.probs_target is not None)
    assert ("w" in query) == (batch.weight is not None)
    assert ("ignore" in query) == bool(batch.ignored.any())


def test_negative_zero_and_subnormals_survive_the_url():
    logits = np.array([[-0.0, 5e-324, -1e-310], [0.1 + 0.2, -1e6, 1e6]])
    batch = Batch(logits, np.array([0, 2]), ("a", "b c", "ü 猫"), weight=np.array([-0.0, 1.5, 5e-324]))
    back = S.decode_query(S.encode_query(batch))
    assert_same_batch(back, batch)
    assert np.signbit(back.logits[0, 0])


def test_a_full_size_batch_at_full_precision_fits_in_the_link():
    logits = np.full((S.MAX_SAMPLES, S.MAX_CLASSES), -123456.78901234567)
    batch = Batch(logits, np.zeros(S.MAX_SAMPLES, dtype=np.int64), tuple(S.default_class_names(S.MAX_CLASSES)))
    assert_same_batch(S.decode_query(S.encode_query(batch)), batch)


# ---------------------------------------------------------------------------------------------- defaults


def test_no_query_gives_the_seed42_preset():
    assert S.DEFAULT_PRESET == "seed42"
    assert_same_batch(S.decode_query({}), S.batch_from_preset("seed42"))


def test_unrelated_parameters_give_the_default_preset():
    assert_same_batch(S.decode_query({"view": "figure", "reduction": "sum"}), S.batch_from_preset("seed42"))


def test_preset_cat_dog_gives_the_cat_dog_batch():
    batch = S.decode_query({"preset": "cat_dog"})
    assert batch.class_names == ("cat", "dog")
    np.testing.assert_array_equal(batch.target, [0, 0, 1])
    np.testing.assert_allclose(xc.softmax(batch.logits, axis=1), xc.PRESETS["cat_dog"].expected["probs"])


def test_logits_in_the_link_take_precedence_over_a_preset():
    batch = S.decode_query({"preset": "cat_dog", "z": "1,2,3"})
    np.testing.assert_array_equal(batch.logits, [[1.0, 2.0, 3.0]])
    assert batch.class_names == ("class 0", "class 1", "class 2")


def test_missing_targets_default_to_class_zero():
    batch = S.decode_query({"z": "1,2;3,4"})
    np.testing.assert_array_equal(batch.target, [0, 0])
    assert batch.target.dtype == np.int64


def test_probability_targets_switch_to_probability_mode():
    batch = S.decode_query({"z": "1,2;3,4", "y": "0.25,0.75;1,0"})
    assert batch.target_mode == "probs"
    np.testing.assert_array_equal(batch.probs_target, [[0.25, 0.75], [1.0, 0.0]])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["1,2", "3,4"], [[3.0, 4.0]]),  # a repeated parameter: the last one wins, as in Streamlit
        (["1,2"], [[1.0, 2.0]]),
    ],
)
def test_repeated_parameter_uses_the_last_value(value, expected):
    np.testing.assert_array_equal(S.decode_query({"z": value}).logits, expected)


def test_repeated_parameter_with_an_empty_list_counts_as_absent():
    assert_same_batch(S.decode_query({"z": []}), S.batch_from_preset("seed42"))


# ---------------------------------------------------------------------------------------------- rejections


def _rows(n: int, c: int = 2) -> str:
    return ";".join(",".join(["1"] * c) for _ in range(n))


MALFORMED = {
    "ragged rows": ({"z": "1,2;3"}, r"'z' rows have different lengths \(\[1, 2\]\)"),
    "text cell": ({"z": "1,abc"}, r"link 'z', row 0, value 1: 'abc' is not a number"),
    "NaN cell": ({"z": "1,2;nan,0"}, r"link 'z', row 1, value 0: NaN is not a logit"),
    "inf cell": ({"z": "inf,2"}, r"link 'z', row 0, value 0: inf is not a logit; enter a finite number"),
    "-inf cell": ({"z": "1,-inf"}, r"value 1: -inf is not a logit"),
    "empty cell": ({"z": "1,,2"}, r"link 'z', row 0, value 1: the cell is empty"),
    "empty matrix": ({"z": ""}, r"link 'z', row 0, value 0: the cell is empty"),
    "trailing semicolon": ({"z": "1,2;"}, r"link 'z', row 1, value 0: the cell is empty"),
    "beyond +1e6": ({"z": "1,1e7"}, r"value 1: 1e\+07 is beyond ±1e\+06"),
    "beyond -1e6": ({"z": "-2e6,0"}, r"value 0: -2e\+06 is beyond ±1e\+06"),
    "too many rows": ({"z": _rows(S.MAX_SAMPLES + 1)}, r"'z' has 65 rows; at most 64"),
    "too many classes": ({"z": _rows(1, S.MAX_CLASSES + 1)}, r"'z' row 0 has 21 values; at most 20 classes"),
    "one class": ({"z": "1;2"}, r"'z' needs at least 2 classes"),
    "target too large": ({"z": "1,2;3,4", "t": "0,2"}, r"target 2 \(row 1\) is out of range for 2 classes \(0\.\.1\)"),
    "negative target": ({"z": "1,2", "t": "-1"}, r"target -1 \(row 0\) is out of range for 2 classes"),
    "fractional target": ({"z": "1,2", "t": "0.5"}, r"'t' holds '0\.5', which is not a whole number"),
    "text target": ({"z": "1,2", "t": "cat"}, r"'t' holds 'cat', which is not a whole number"),
    "empty target": ({"z": "1,2", "t": ""}, r"'t' holds '', which is not a whole number"),
    "too many targets": ({"z": "1,2", "t": "0,1"}, r"1 rows of logits but 2 targets"),
    "too few targets": ({"z": "1,2;3,4", "t": "1"}, r"2 rows of logits but 1 targets"),
    "ignore beyond rows": ({"z": "1,2;3,4", "ignore": "2"}, r"ignores row 2, but there are only 2 rows"),
    "negative ignore": ({"z": "1,2", "ignore": "-1"}, r"ignores row -1, but there are only 1 rows"),
    "text ignore": ({"z": "1,2", "ignore": "0,x"}, r"'ignore' holds 'x', which is not a whole number"),
    "too few names": ({"z": "1,2,3", "names": "a,b"}, r"give 3 class names separated by commas; got 2"),
    "too many names": ({"z": "1,2", "names": "a,b,c"}, r"give 2 class names separated by commas; got 3"),
    "duplicate names": ({"z": "1,2", "names": "cat, cat"}, r"class names must differ; 'cat' appears twice"),
    "empty name": ({"z": "1,2", "names": "cat, "}, r"class 1 needs a name"),
    "long name": ({"z": "1,2", "names": "a," + "b" * 25}, r"is longer than 24 characters"),
    "too few weights": ({"z": "1,2,3", "w": "1,2"}, r"gives 2 class weights for 3 classes"),
    "too many weights": ({"z": "1,2", "w": "1,2,3"}, r"gives 3 class weights for 2 classes"),
    "NaN weight": ({"z": "1,2", "w": "1,nan"}, r"link 'w', class 1: NaN is not a weight"),
    "text weight": ({"z": "1,2", "w": "heavy,1"}, r"link 'w', class 0: 'heavy' is not a number"),
    "huge weight": ({"z": "1,2", "w": "1,1e9"}, r"link 'w', class 1: 1e\+09 is beyond ±1e\+06"),
    "probabilities of another shape": ({"z": "1,2", "y": "1,0;0,1"}, r"probability targets have shape \(2, 2\)"),
    "NaN probability": ({"z": "1,2", "y": "nan,1"}, r"link 'y', row 0, value 0: NaN is not a target probability"),
    "unknown preset": ({"preset": "cats"}, r"preset 'cats', which does not exist \(choices: seed42, .*cat_dog"),
    "4-d preset": (
        {"preset": "probs_as_logits"},
        r"preset 'probs_as_logits' is image-shaped; this page takes \(N, C\) batches",
    ),
    "over-long z": (
        {"z": "1," * (S.MAX_QUERY_LENGTH // 2 + 1)},
        rf"the link's 'z' is too long \({S.MAX_QUERY_LENGTH + 2} characters\)",
    ),
    "over-long names": ({"z": "1,2", "names": "a" * (S.MAX_QUERY_LENGTH + 1)}, r"the link's 'names' is too long"),
    "over-long preset": ({"preset": "x" * (S.MAX_QUERY_LENGTH + 1)}, r"the link's 'preset' is too long"),
    "repeated, last malformed": ({"z": ["1,2", "1,x"]}, r"link 'z', row 0, value 1: 'x' is not a number"),
    "repeated, last over-long": ({"z": ["1,2", "1," * (S.MAX_QUERY_LENGTH // 2 + 1)]}, r"the link's 'z' is too long"),
}


@pytest.mark.parametrize(("query", "message"), list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_query_raises_state_error_saying_where_and_what(query, message):
    with pytest.raises(StateError, match=message):
        S.decode_query(query)


def test_state_error_is_a_value_error():
    assert issubclass(StateError, ValueError)


def test_huge_integer_target_is_a_state_error():
    with pytest.raises(StateError):
        S.decode_query({"z": "1,2", "t": "99999999999999999999"})


def test_huge_integer_ignore_row_is_a_state_error():
    with pytest.raises(StateError, match="too large for a row or class number"):
        S.decode_query({"z": "1,2", "ignore": "99999999999999999999"})


# ---------------------------------------------------------------------------------------------- fuzzing


def assert_valid_batch(batch: Batch) -> None:
    n, c = batch.logits.shape
    assert 1 <= n <= S.MAX_SAMPLES
    assert S.MIN_CLASSES <= c <= S.MAX_CLASSES
    assert batch.logits.dtype == np.float64
    assert np.isfinite(batch.logits).all()
    assert (np.abs(batch.logits) <= S.LOGIT_LIMIT).all()
    assert batch.target.shape == (n,)
    assert ((batch.target >= 0) & (batch.target < c)).all()
    assert len(batch.class_names) == c
    assert len(set(batch.class_names)) == c
    assert batch.ignored.shape == (n,)
    assert batch.ignored.dtype == np.bool_
    if batch.probs_target is not None:
        assert batch.probs_target.shape == (n, c)
        assert np.isfinite(batch.probs_target).all()
    if batch.weight is not None:
        assert batch.weight.shape == (c,)
        assert np.isfinite(batch.weight).all()


def decodes_or_refuses(query) -> None:
    try:
        batch = S.decode_query(query)
    except StateError as err:
        message = str(err)
    else:
        assert_valid_batch(batch)
        return
    assert message  # always a message for the page


text_values = st.one_of(st.text(), st.lists(st.text(), max_size=3))


@settings(max_examples=60, deadline=None)
@given(query=st.dictionaries(st.one_of(st.sampled_from(S.QUERY_KEYS), st.text()), text_values))
def test_decode_query_on_arbitrary_text_gives_a_valid_batch_or_a_state_error(query):
    decodes_or_refuses(query)


# Text that looks almost right, so that decoding gets past the first checks and into the deep ones.
TOKENS = ("0", "1", "2", "-0", "0.5", "1e-300", "1e6", "1e7", "-3", "nan", "inf", "", " ", "x", "1_0", "٣", "a b")
near_miss = st.lists(
    st.lists(st.sampled_from(TOKENS), min_size=1, max_size=5).map(",".join), min_size=1, max_size=4
).map(";".join)


@settings(max_examples=80, deadline=None)
@given(query=st.dictionaries(st.sampled_from(S.QUERY_KEYS), near_miss | st.sampled_from(("seed42", "cat_dog"))))
def test_decode_query_on_near_miss_text_gives_a_valid_batch_or_a_state_error(query):
    decodes_or_refuses(query)


# ---------------------------------------------------------------------------------------------- cells and names


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1.5", 1.5), (" -2 ", -2.0), (3, 3.0), (np.float32(0.25), 0.25), ("1e6", 1e6), (-1e6, -1e6), ("-0", -0.0)],
)
def test_parse_cell_accepts_numbers_and_numeric_text(value, expected):
    result = S.parse_cell(value, "row 0")
    assert type(result) is float
    assert result == expected
    assert np.signbit(result) == np.signbit(expected)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "row 2, column 'dog': the cell is empty; enter a number"),
        ("", "row 2, column 'dog': the cell is empty; enter a number"),
        ("   ", "row 2, column 'dog': the cell is empty; enter a number"),
        ("abc", "row 2, column 'dog': 'abc' is not a number"),
        ("x" * 50, "row 2, column 'dog': '" + "x" * 20 + "' is not a number"),
        (True, "row 2, column 'dog': True is not a number"),
        ([1], "row 2, column 'dog': '[1]' is not a number"),
        (float("nan"), "row 2, column 'dog': NaN is not a logit; enter a number"),
        ("inf", "row 2, column 'dog': inf is not a logit; enter a finite number"),
        (float("-inf"), "row 2, column 'dog': -inf is not a logit; enter a finite number"),
        (1e7, "row 2, column 'dog': 1e+07 is beyond ±1e+06, the range this page accepts"),
    ],
)
def test_parse_cell_message_says_where_and_what(value, message):
    with pytest.raises(StateError) as info:
        S.parse_cell(value, "row 2, column 'dog'")
    assert str(info.value) == message


def test_parse_cell_message_names_what_the_cell_holds():
    with pytest.raises(StateError, match=r"^weight of 'cat': NaN is not a weight; enter a number$"):
        S.parse_cell("nan", "weight of 'cat'", what="a weight")


def test_parse_cell_message_shows_a_value_just_beyond_the_limit_as_beyond_it():
    with pytest.raises(StateError) as info:
        S.parse_cell("1000001", "row 0")
    assert "1e+06 is beyond" not in str(info.value)


def test_parse_cell_honours_its_limit():
    assert S.parse_cell("5", "here", limit=5) == 5.0
    with pytest.raises(StateError, match=r"^here: 5\.5 is beyond ±5, the range this page accepts$"):
        S.parse_cell("5.5", "here", limit=5)


@pytest.mark.parametrize(
    ("text", "count", "expected"),
    [
        ("cat,dog", 2, ("cat", "dog")),
        (" cat , hot dog ,猫 ", 3, ("cat", "hot dog", "猫")),
        ("<b>x</b>,y", 2, ("<b>x</b>", "y")),
        ("a" * 24 + ",b", 2, ("a" * 24, "b")),
    ],
)
def test_parse_class_names_strips_and_keeps_the_names(text, count, expected):
    assert S.parse_class_names(text, count) == expected


@pytest.mark.parametrize(
    ("text", "count", "message"),
    [
        ("cat,dog", 3, "give 3 class names separated by commas; got 2"),
        ("cat", 2, "give 2 class names separated by commas; got 1"),
        ("cat,,dog", 3, "class 1 needs a name"),
        (" ,dog", 2, "class 0 needs a name"),
        ("cat," + "d" * 25, 2, "class name '" + "d" * 24 + "'… is longer than 24 characters"),
        ("dog,cat,dog", 3, "class names must differ; 'dog' appears twice"),
        ("dog, dog ", 2, "class names must differ; 'dog' appears twice"),
    ],
)
def test_parse_class_names_message_says_what_is_wrong(text, count, message):
    with pytest.raises(StateError) as info:
        S.parse_class_names(text, count)
    assert str(info.value) == message


# ---------------------------------------------------------------------------------------------- Batch


def small_batch(**changes) -> Batch:
    fields = dict(
        logits=np.arange(6, dtype=np.float64).reshape(2, 3),
        target=np.array([2, 1]),
        class_names=("cat", "dog", "fox"),
    )
    fields.update(changes)
    return Batch(**fields)


def test_batch_defaults_to_no_ignored_rows():
    batch = small_batch()
    np.testing.assert_array_equal(batch.ignored, [False, False])
    assert (batch.num_samples, batch.num_classes, batch.target_mode) == (2, 3, "index")


@FAST
@given(batch=batches(max_samples=8, max_classes=6), n=st.integers(1, 10), c=st.integers(2, 8))
def test_resized_keeps_the_overlapping_block(batch, n, c):
    out = batch.resized(n, c)
    kn, kc = min(n, batch.num_samples), min(c, batch.num_classes)
    assert out.logits.shape == (n, c)
    assert out.target.shape == out.ignored.shape == (n,)
    assert len(out.class_names) == c
    assert_same_bits(out.logits[:kn, :kc], batch.logits[:kn, :kc])
    np.testing.assert_array_equal(out.ignored[:kn], batch.ignored[:kn])
    assert out.class_names[:kc] == batch.class_names[:kc]
    kept_target = batch.target[:kn]
    np.testing.assert_array_equal(out.target[:kn], np.where(kept_target < c, kept_target, 0))
    if batch.probs_target is not None:
        assert_same_bits(out.probs_target[:kn, :kc], batch.probs_target[:kn, :kc])
    if batch.weight is not None:
        assert_same_bits(out.weight[:kc], batch.weight[:kc])


@FAST
@given(batch=batches(max_samples=8, max_classes=6), dn=st.integers(0, 3), dc=st.integers(0, 3))
def test_resized_pads_new_cells_with_neutral_values(batch, dn, dc):
    n, c = batch.num_samples, batch.num_classes
    out = batch.resized(n + dn, c + dc)
    assert (out.logits[n:] == 0).all()
    assert (out.logits[:, c:] == 0).all()
    assert (out.target[n:] == 0).all()
    assert not out.ignored[n:].any()
    assert out.class_names[c:] == tuple(f"class {k}" for k in range(c, c + dc))
    assert out.target_mode == batch.target_mode
    if batch.probs_target is not None:
        np.testing.assert_array_equal(out.probs_target[n:], np.eye(c + dc)[np.zeros(dn, dtype=int)])
        assert (out.probs_target[:n, c:] == 0).all()
    if batch.weight is not None:
        assert (out.weight[c:] == 1).all()
    else:
        assert out.weight is None


def test_resized_to_the_same_shape_is_the_same_batch():
    batch = small_batch(ignored=np.array([True, False]), weight=np.array([1.0, 2.0, 3.0]))
    assert_same_batch(batch.resized(2, 3), batch)


def test_shrinking_classes_moves_targets_that_no_longer_exist_to_class_zero():
    out = small_batch().resized(2, 2)
    np.testing.assert_array_equal(out.target, [0, 1])
    assert out.class_names == ("cat", "dog")


def test_resized_does_not_mutate_the_batch():
    batch = small_batch(weight=np.array([1.0, 2.0, 3.0]))
    before = (batch.logits.copy(), batch.target.copy(), batch.weight.copy())
    batch.resized(4, 5)
    batch.resized(1, 2)
    for now, then in zip((batch.logits, batch.target, batch.weight), before, strict=True):
        np.testing.assert_array_equal(now, then)


def test_resized_class_names_stay_unique():
    out = Batch(np.zeros((1, 2)), np.array([0]), ("class 2", "a")).resized(1, 3)
    assert len(set(out.class_names)) == 3, out.class_names


def test_with_target_mode_probs_gives_one_hot_of_the_targets():
    batch = small_batch()
    probs = batch.with_target_mode("probs")
    assert probs.target_mode == "probs"
    np.testing.assert_array_equal(probs.probs_target, [[0, 0, 1], [0, 1, 0]])
    assert_same_bits(probs.logits, batch.logits)
    np.testing.assert_array_equal(probs.target, batch.target)


@FAST
@given(batch=batches(max_samples=8, max_classes=6))
def test_with_target_mode_index_then_probs_then_index_round_trips(batch):
    index = Batch(batch.logits, batch.target, batch.class_names, weight=batch.weight)  # no ignored rows
    assert_same_batch(index.with_target_mode("probs").with_target_mode("index"), index)


@settings(max_examples=10, deadline=None)
@given(batch=batches(max_samples=8, max_classes=6))
def test_with_target_mode_to_the_current_mode_changes_nothing(batch):
    assert batch.with_target_mode(batch.target_mode) is batch


def test_with_target_mode_round_trip_keeps_ignored_rows():
    batch = small_batch(ignored=np.array([True, False]))
    np.testing.assert_array_equal(batch.with_target_mode("probs").with_target_mode("index").ignored, [True, False])


def test_loss_target_maps_ignored_rows_to_the_ignore_index():
    batch = small_batch(ignored=np.array([True, False]))
    np.testing.assert_array_equal(batch.loss_target(), [-100, 1])
    np.testing.assert_array_equal(batch.loss_target(ignore_index=-1), [-1, 1])
    np.testing.assert_array_equal(batch.target, [2, 1])  # the index itself is kept for un-ignoring


def test_loss_target_gives_probabilities_in_probability_mode():
    batch = small_batch().with_target_mode("probs")
    assert batch.loss_target() is batch.probs_target


def test_loss_target_is_accepted_by_xent_core():
    batch = small_batch(ignored=np.array([False, True]))
    trace = xc.cross_entropy_trace(batch.logits, batch.loss_target())
    np.testing.assert_array_equal(trace.ignored, [False, True])


def test_random_batch_is_reproducible_and_valid():
    a, b = S.random_batch(5, 4, seed=3), S.random_batch(5, 4, seed=3)
    assert_same_batch(a, b)
    assert_valid_batch(a)
    assert re.fullmatch(r"class \d", a.class_names[0])
