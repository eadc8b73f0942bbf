"""Hypothesis strategies for the UI package: batches as the playground holds them (ui.state.Batch).

Sizes span the page's whole range (N 1..64, C 2..20). Values span everything the URL accepts
(|x| <= 1e6), with the awkward floats mixed in on purpose: negative zero, subnormals, the largest
accepted value and numbers whose shortest repr is long.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ui import state as S

AWKWARD_FLOATS = (
    0.0,
    -0.0,
    5e-324,  # smallest subnormal
    -2.2250738585072014e-308,  # smallest normal
    1e-300,
    0.1 + 0.2,  # 0.30000000000000004: the shortest repr is 17 digits
    -123456.78901234567,
    S.LOGIT_LIMIT,
    -S.LOGIT_LIMIT,
    np.nextafter(S.LOGIT_LIMIT, 0.0),
)

finite_values = st.one_of(
    st.floats(-S.LOGIT_LIMIT, S.LOGIT_LIMIT, allow_nan=False, allow_infinity=False),
    st.sampled_from(AWKWARD_FLOATS),
)

# Names the class-name field can hold: non-empty, short, no commas (the separator), no surrounding
# whitespace (the parser strips it); spaces inside and any unicode are fine.
class_name = st.text(
    alphabet=st.characters(exclude_categories=("Cs",), exclude_characters=","),
    min_size=1,
    max_size=S.MAX_NAME_LENGTH,
).filter(lambda s: s == s.strip())


@st.composite
def batches(draw, *, max_samples: int = S.MAX_SAMPLES, max_classes: int = S.MAX_CLASSES) -> S.Batch:
    """A valid Batch: any shape the page allows, optional probability targets, ignored rows and weights."""
    n = draw(st.integers(1, max_samples))
    c = draw(st.integers(S.MIN_CLASSES, max_classes))
    logits = draw(hnp.arrays(np.float64, (n, c), elements=finite_values))
    target = draw(hnp.arrays(np.int64, n, elements=st.integers(0, c - 1)))
    names = tuple(draw(st.lists(class_name, min_size=c, max_size=c, unique=True)))
    probs = draw(st.none() | hnp.arrays(np.float64, (n, c), elements=st.floats(0.0, 1.0)))
    ignored = draw(hnp.arrays(np.bool_, n))
    weight = draw(st.none() | hnp.arrays(np.float64, c, elements=finite_values))
    return S.Batch(logits, target, names, probs, ignored, weight)


def assert_same_bits(actual: np.ndarray | None, expected: np.ndarray | None) -> None:
    """Equal dtype, shape and bytes: float64 values identical bit for bit (so -0.0 != 0.0)."""
    if expected is None:
        assert actual is None
        return
    assert actual is not None
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    assert actual.tobytes() == expected.tobytes(), (actual, expected)


def assert_same_batch(actual: S.Batch, expected: S.Batch) -> None:
    assert_same_bits(actual.logits, expected.logits)
    assert_same_bits(actual.target, expected.target)
    assert actual.class_names == expected.class_names
    assert_same_bits(actual.probs_target, expected.probs_target)
    assert_same_bits(actual.ignored, expected.ignored)
    assert_same_bits(actual.weight, expected.weight)
