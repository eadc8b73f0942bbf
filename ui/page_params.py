"""URL state beyond the batch: checks for every page's bound widgets, and the small codecs of the
pitfalls, images and information pages.

Pure: no Streamlit. Two kinds of URL parameter live on these pages:

* Widgets bound with `bind="query-params"`. Streamlit silently drops a value it cannot use (a
  dtype of 'float128', a noise of 'abc') and shows the default, and cuts a fraction off a whole
  number. `check_bound` reads the raw parameters first, so that the page can say so in a warning
  instead of failing silently; each message says what the widget shows instead.
* Tables the page encodes itself (a probability tensor, a target mask): rows separated by ';',
  values by ',', parsed with `ui.state.parse_cell`, so a bad link names the value it could not read.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ui import state as S
from ui.state import StateError

MAX_PARAM_LENGTH = 20_000  # characters: a 32 x 32 mask of 3-digit labels needs about 4,100
DEFAULT = "using the default"
_INTEGER = re.compile(r"[+-]?\d{1,9}", re.ASCII)


@dataclass(frozen=True)
class Choice:
    """A bound widget whose URL value must be one of `options` (as the widget displays them)."""

    options: tuple[str, ...]

    def problem(self, text: str) -> str | None:
        if text in self.options:
            return None
        return f"is not one of {', '.join(self.options)}; {DEFAULT}"


@dataclass(frozen=True)
class Number:
    """A bound slider or number input: a number in [low, high] (whole if `integer`)."""

    low: float
    high: float
    integer: bool = False

    def problem(self, text: str) -> str | None:
        kind = "a whole number" if self.integer else "a number"
        bounds = f"{_short(self.low)} to {_short(self.high)}"
        try:
            value = float(text)
        except ValueError:
            return f"is not {kind} ({bounds}); {DEFAULT}"
        if not math.isfinite(value) or not self.low <= value <= self.high:
            return f"is not {kind} from {bounds}; {DEFAULT}"
        if self.integer and value != int(value):
            return f"is not a whole number; using {int(value)}"  # Streamlit drops the fraction
        return None


@dataclass(frozen=True)
class Flag:
    """A bound toggle or checkbox: 'true' or 'false'."""

    def problem(self, text: str) -> str | None:
        return None if text.lower() in ("true", "false") else f"is not true or false; {DEFAULT}"


Spec = Choice | Number | Flag


def _short(x: float) -> str:
    return f"{x:g}"


def quoted(text: str, limit: int = 30) -> str:
    """A value from a link, quoted for a message and cut to `limit` characters (links can be long)."""
    return repr(text[:limit]) + ("…" if len(text) > limit else "")


def _last(value) -> str | None:
    """A query value as Streamlit reads it: the last of repeated parameters."""
    if isinstance(value, list | tuple):
        return str(value[-1]) if value else None
    return None if value is None else str(value)


def check_bound(query: Mapping[str, object], specs: Mapping[str, Spec]) -> list[str]:
    """Messages for the bound parameters in `query` that their widgets cannot take as given, each
    saying what the widget shows instead (Streamlit drops them without a word)."""
    messages = []
    for key, spec in specs.items():
        text = _last(query.get(key))
        if text is None:
            continue
        if len(text) > 200:
            messages.append(f"'{key}' is too long; {DEFAULT}")
            continue
        problem = spec.problem(text)
        if problem:
            messages.append(f"'{key}' = {quoted(text)} {problem}")
    return messages


def param(query: Mapping[str, object], key: str) -> str | None:
    """One raw parameter (the last if repeated), refused when absurdly long."""
    text = _last(query.get(key))
    if text is not None and len(text) > MAX_PARAM_LENGTH:
        raise StateError(f"the link's '{key}' is too long ({len(text)} characters)")
    return text


# ---------------------------------------------------------------------------------------------- codecs


def _fmt(x: float) -> str:
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


def encode_matrix(m: np.ndarray) -> str:
    """(R, K) floats -> 'a,b;c,d' (every float64 round-trips exactly)."""
    return ";".join(",".join(_fmt(v) for v in row) for row in np.asarray(m))


def encode_ints(values) -> str:
    return ",".join(str(int(v)) for v in np.asarray(values).ravel())


def encode_int_matrix(m: np.ndarray) -> str:
    return ";".join(encode_ints(row) for row in np.asarray(m))


def decode_matrix(
    text: str, key: str, *, shape: tuple[int, int] | None = None, max_shape=(64, 20), what: str = "a number"
) -> np.ndarray:
    """'a,b;c,d' -> (R, K) float64; StateError naming the first value that cannot be read.

    shape: the exact (R, K) required, or None for any shape up to `max_shape`.
    """
    rows = text.split(";")
    if len(rows) > max_shape[0]:
        raise StateError(f"the link's '{key}' has {len(rows)} rows; at most {max_shape[0]} are allowed")
    values = []
    for r, row in enumerate(rows):
        cells = row.split(",")
        if len(cells) > max_shape[1]:
            raise StateError(f"the link's '{key}' row {r} has {len(cells)} values; at most {max_shape[1]}")
        values.append(
            [S.parse_cell(cell, f"link '{key}', row {r}, value {c}", what=what) for c, cell in enumerate(cells)]
        )
    widths = {len(row) for row in values}
    if len(widths) != 1:
        raise StateError(f"the link's '{key}' rows have different lengths ({sorted(widths)})")
    matrix = np.array(values, dtype=np.float64)
    if shape is not None and matrix.shape != tuple(shape):
        raise StateError(
            f"the link's '{key}' has shape {matrix.shape[0]}×{matrix.shape[1]}; expected {shape[0]}×{shape[1]}"
        )
    return matrix


def decode_ints(text: str, key: str, *, count: int | None = None) -> np.ndarray:
    """'1,2,3' -> int64 array; StateError for anything that is not a whole number (or the wrong count)."""
    out = []
    for part in text.split(","):
        part = part.strip()
        if not _INTEGER.fullmatch(part):
            raise StateError(f"the link's '{key}' holds {part[:20]!r}, which is not a whole number")
        out.append(int(part))
    if count is not None and len(out) != count:
        raise StateError(f"the link's '{key}' holds {len(out)} values; expected {count}")
    return np.array(out, dtype=np.int64)


def decode_int_matrix(text: str, key: str, *, shape: tuple[int, int]) -> np.ndarray:
    rows = text.split(";")
    if len(rows) != shape[0]:
        raise StateError(f"the link's '{key}' has {len(rows)} rows; expected {shape[0]}")
    return np.stack([decode_ints(row, key, count=shape[1]) for row in rows])


def check_classes(values: np.ndarray, key: str, num_classes: int, *, void: int | None = None) -> None:
    """Every value a class index in 0..C-1 (or the void label)."""
    ok = (values >= 0) & (values < num_classes)
    if void is not None:
        ok |= values == void
    if not ok.all():
        bad = int(values.ravel()[np.flatnonzero(~ok.ravel())[0]])
        valid = f"0..{num_classes - 1}" + (f" or {void}" if void is not None else "")
        raise StateError(f"the link's '{key}' holds class {bad}, which does not exist (valid: {valid})")


def class_options(names: Sequence[str]) -> list[str]:
    return [str(n) for n in names]
