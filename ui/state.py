"""A batch's state (logits, targets, names, weights) and its compact URL encoding.

Everything here is pure: no Streamlit. The page reads the URL once per session with
`decode_query`, writes it from callbacks with `encode_query`, and validates edits with
`parse_cell`. Options that are plain widgets (reduction, smoothing, temperature) live in the URL
through Streamlit's own `bind="query-params"`; the matrix needs this module's encoding.

URL parameters (all optional; absent means the default example):
    preset   a key of xent_core.PRESETS (ignored when z is given)
    z        logits, rows separated by ';', values by ','     e.g. z=1,2,0;0.5,-1,3
    t        class-index targets, one per row                  e.g. t=0,2
    y        probability targets (switches to probability mode), like z
    names    class names separated by ','                      e.g. names=cat,dog,bird
    w        class weights, one per class
    ignore   rows whose target is ignored (ignore_index)       e.g. ignore=1,4
    view     'figure' hides the editor (a read-only figure for a lecture)
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

import xent_core as xc

MAX_SAMPLES = 64
MAX_CLASSES = 20
MIN_CLASSES = 2
LOGIT_LIMIT = 1e6  # larger values are refused: they teach nothing and hide typos
MAX_NAME_LENGTH = 24
MAX_QUERY_LENGTH = 40_000  # characters per parameter: 64 x 20 logits at full float64 precision need at most ~32,000
DEFAULT_PRESET = "seed42"


# Plain ASCII decimal numbers only: Python's float() would also take "1_0", "inf" spelled out,
# or digits of other scripts, which a hand-edited link should not smuggle in.
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(inf|infinity|nan)", re.ASCII | re.IGNORECASE)
_INTEGER = re.compile(r"[+-]?\d{1,9}", re.ASCII)


class StateError(ValueError):
    """A malformed piece of state (URL or edit), with a message for the page."""


@dataclass(frozen=True)
class Batch:
    """What the user edits: an (N, C) batch with its targets, names and options that shape it."""

    logits: np.ndarray  # (N, C) float64
    target: np.ndarray  # (N,) int64 class indices (kept in probability mode too, for switching back)
    class_names: tuple[str, ...]  # (C,)
    probs_target: np.ndarray | None = None  # (N, C) float64 when the targets are probabilities
    ignored: np.ndarray = field(default=None)  # (N,) bool: rows whose target is ignore_index
    weight: np.ndarray | None = None  # (C,) float64 class weights, or None

    def __post_init__(self):
        if self.ignored is None:
            object.__setattr__(self, "ignored", np.zeros(len(self.target), dtype=bool))

    @property
    def num_samples(self) -> int:
        return self.logits.shape[0]

    @property
    def num_classes(self) -> int:
        return self.logits.shape[1]

    @property
    def target_mode(self) -> str:
        return "index" if self.probs_target is None else "probs"

    def loss_target(self, ignore_index: int = -100) -> np.ndarray:
        """The target array xent_core takes: indices with ignore_index on ignored rows, or probabilities
        (ignore flags do not apply to probability targets)."""
        if self.probs_target is not None:
            return self.probs_target
        return np.where(self.ignored, ignore_index, self.target)

    def resized(self, num_samples: int, num_classes: int) -> Batch:
        """Grow with zeros (new rows target class 0) or shrink, keeping what fits."""
        n, c = num_samples, num_classes
        logits = np.zeros((n, c))
        keep_n, keep_c = min(n, self.num_samples), min(c, self.num_classes)
        logits[:keep_n, :keep_c] = self.logits[:keep_n, :keep_c]
        target = np.zeros(n, dtype=np.int64)
        target[:keep_n] = np.where(self.target[:keep_n] < c, self.target[:keep_n], 0)
        ignored = np.zeros(n, dtype=bool)
        ignored[:keep_n] = self.ignored[:keep_n]
        names = self.class_names[:keep_c] + tuple(default_class_names(c)[keep_c:])
        names = _unique_names(names)
        probs = None
        if self.probs_target is not None:
            probs = np.zeros((n, c))
            probs[:keep_n, :keep_c] = self.probs_target[:keep_n, :keep_c]
            probs[np.arange(keep_n, n), 0] = 1.0
        weight = None
        if self.weight is not None:
            weight = np.ones(c)
            weight[:keep_c] = self.weight[:keep_c]
        return Batch(logits, target, names, probs, ignored, weight)

    def with_target_mode(self, mode: str) -> Batch:
        """Switch between class indices and probabilities (one-hot of the current indices)."""
        if mode == self.target_mode:
            return self
        if mode == "probs":
            # torch has no ignore_index for probability targets; the flags are kept for switching back.
            probs = np.zeros_like(self.logits)
            probs[np.arange(self.num_samples), self.target] = 1.0
            return replace(self, probs_target=probs)
        return replace(self, probs_target=None)

    def hard_targets(self) -> Batch:
        """One class index per row, nothing ignored, no class weights: what every loss of the comparison takes.

        Probability targets become their most likely class.
        """
        if self.probs_target is None and not self.ignored.any() and self.weight is None:
            return self
        target = self.target if self.probs_target is None else self.probs_target.argmax(axis=1).astype(np.int64)
        return Batch(self.logits, target, self.class_names)


def default_class_names(num_classes: int) -> list[str]:
    return [f"class {c}" for c in range(num_classes)]


def _unique_names(names) -> tuple[str, ...]:
    """Rename repeats to the first free "class k" so that every name stays distinct."""
    taken = set(names)
    seen: set[str] = set()
    out = []
    for c, name in enumerate(names):
        if name in seen:
            k = c
            while f"class {k}" in taken:
                k += 1
            name = f"class {k}"
            taken.add(name)
        out.append(name)
        seen.add(name)
    return tuple(out)


def batch_from_preset(key: str) -> Batch:
    preset = xc.PRESETS[key]
    if preset.logits.ndim != 2:
        raise StateError(f"preset {key!r} is not an (N, C) batch")
    return Batch(
        logits=preset.logits.astype(np.float64),
        target=preset.target.astype(np.int64),
        class_names=preset.class_names,
    )


def random_batch(num_samples: int, num_classes: int, seed: int) -> Batch:
    preset = xc.random_batch(num_samples, num_classes, seed=seed)
    return Batch(logits=np.array(preset.logits), target=np.array(preset.target), class_names=preset.class_names)


# ---------------------------------------------------------------------------------------------- cells


def parse_cell(value, where: str, *, limit: float = LOGIT_LIMIT, what: str = "a logit") -> float:
    """One edited number, or StateError with a message that says where and why."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise StateError(f"{where}: the cell is empty; enter a number")
    if isinstance(value, bool):
        raise StateError(f"{where}: {value!r} is not a number")
    if isinstance(value, str) and not _NUMBER.fullmatch(value.strip()):
        raise StateError(f"{where}: {value[:20]!r} is not a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise StateError(f"{where}: {str(value)[:20]!r} is not a number") from None
    if math.isnan(number):
        raise StateError(f"{where}: NaN is not {what}; enter a number")
    if math.isinf(number):
        raise StateError(f"{where}: {'inf' if number > 0 else '-inf'} is not {what}; enter a finite number")
    if abs(number) > limit:
        shown = f"{number:g}"
        if abs(float(shown)) <= limit:  # ':g' rounded it onto the limit (1000001 -> 1e+06): show it whole
            shown = repr(number)
        raise StateError(f"{where}: {shown} is beyond ±{limit:g}, the range this page accepts")
    return number


def parse_class_names(text: str, num_classes: int) -> tuple[str, ...]:
    """Comma-separated class names: exactly C of them, non-empty, unique, short."""
    names = tuple(part.strip() for part in str(text).split(","))
    if len(names) != num_classes:
        raise StateError(f"give {num_classes} class names separated by commas; got {len(names)}")
    for c, name in enumerate(names):
        if not name:
            raise StateError(f"class {c} needs a name")
        if len(name) > MAX_NAME_LENGTH:
            raise StateError(f"class name {name[:MAX_NAME_LENGTH]!r}… is longer than {MAX_NAME_LENGTH} characters")
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise StateError(f"class names must differ; {dupes[0]!r} appears twice")
    return names


# ---------------------------------------------------------------------------------------------- URL


def _fmt(x: float) -> str:
    """Shortest text that reads back as the same float64 ('1' for 1.0)."""
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


def _encode_matrix(m: np.ndarray) -> str:
    return ";".join(",".join(_fmt(v) for v in row) for row in m)


def _encode_vector(v) -> str:
    return ",".join(_fmt(x) if isinstance(x, float | np.floating) else str(int(x)) for x in v)


def encode_query(batch: Batch) -> dict[str, str]:
    """The query parameters that restore `batch` exactly (floats round-trip bit for bit)."""
    params = {
        "z": _encode_matrix(batch.logits),
        "t": _encode_vector(batch.target),
        "names": ",".join(batch.class_names),
    }
    if batch.probs_target is not None:
        params["y"] = _encode_matrix(batch.probs_target)
    if batch.ignored.any():
        params["ignore"] = ",".join(str(int(i)) for i in np.flatnonzero(batch.ignored))
    if batch.weight is not None:
        params["w"] = ",".join(_fmt(x) for x in batch.weight)
    return params


QUERY_KEYS = ("preset", "z", "t", "y", "names", "w", "ignore")


def _param(query: Mapping[str, str], key: str) -> str | None:
    value = query.get(key)
    if value is None:
        return None
    if isinstance(value, list):  # repeated parameter: the last one wins, as in Streamlit
        value = value[-1] if value else None
    if value is not None and len(value) > MAX_QUERY_LENGTH:
        raise StateError(f"the link's '{key}' is too long ({len(value)} characters)")
    return value


def _decode_matrix(text: str, key: str, *, limit: float, what: str) -> np.ndarray:
    rows = [row for row in text.split(";")]
    if len(rows) > MAX_SAMPLES:
        raise StateError(f"the link's '{key}' has {len(rows)} rows; at most {MAX_SAMPLES} are allowed")
    values = []
    for r, row in enumerate(rows):
        cells = row.split(",")
        if len(cells) > MAX_CLASSES:
            raise StateError(f"the link's '{key}' row {r} has {len(cells)} values; at most {MAX_CLASSES} classes")
        values.append(
            [
                parse_cell(cell, f"link '{key}', row {r}, value {c}", limit=limit, what=what)
                for c, cell in enumerate(cells)
            ]
        )
    widths = {len(row) for row in values}
    if len(widths) != 1:
        raise StateError(f"the link's '{key}' rows have different lengths ({sorted(widths)})")
    matrix = np.array(values, dtype=np.float64)
    if matrix.shape[1] < MIN_CLASSES:
        raise StateError(f"the link's '{key}' needs at least {MIN_CLASSES} classes")
    return matrix


def _decode_ints(text: str, key: str) -> list[int]:
    out = []
    for part in text.split(","):
        part = part.strip()
        if not _INTEGER.fullmatch(part):
            if part.lstrip("+-").isdigit() and part.isascii():
                raise StateError(f"the link's '{key}' holds {part[:20]!r}, too large for a row or class number")
            raise StateError(f"the link's '{key}' holds {part[:20]!r}, which is not a whole number")
        out.append(int(part))
    return out


def decode_query(query: Mapping[str, str]) -> Batch:
    """Rebuild a batch from URL parameters; StateError (with a message) if they are malformed.

    No relevant parameters gives the default preset.
    """
    z = _param(query, "z")
    if z is None:
        key = _param(query, "preset") or DEFAULT_PRESET
        choices = ", ".join(k for k, p in xc.PRESETS.items() if p.logits.ndim == 2)
        if key not in xc.PRESETS:
            raise StateError(f"the link asks for preset {key[:30]!r}, which does not exist (choices: {choices})")
        if xc.PRESETS[key].logits.ndim != 2:
            raise StateError(f"preset {key!r} is image-shaped; this page takes (N, C) batches (choices: {choices})")
        return batch_from_preset(key)

    logits = _decode_matrix(z, "z", limit=LOGIT_LIMIT, what="a logit")
    n, c = logits.shape

    t = _param(query, "t")
    if t is None:
        target = np.zeros(n, dtype=np.int64)
    else:
        target = np.array(_decode_ints(t, "t"), dtype=np.int64)
        if len(target) != n:
            raise StateError(f"the link has {n} rows of logits but {len(target)} targets")
        bad = np.flatnonzero((target < 0) | (target >= c))
        if bad.size:
            r = int(bad[0])
            raise StateError(
                f"the link's target {int(target[r])} (row {r}) is out of range for {c} classes (0..{c - 1})"
            )

    names_text = _param(query, "names")
    names = tuple(default_class_names(c)) if names_text is None else parse_class_names(names_text, c)

    probs = None
    y = _param(query, "y")
    if y is not None:
        probs = _decode_matrix(y, "y", limit=LOGIT_LIMIT, what="a target probability")
        if probs.shape != logits.shape:
            raise StateError(f"the link's probability targets have shape {probs.shape}, the logits {logits.shape}")

    ignored = np.zeros(n, dtype=bool)
    ig = _param(query, "ignore")
    if ig:
        for r in _decode_ints(ig, "ignore"):
            if not 0 <= r < n:
                raise StateError(f"the link ignores row {r}, but there are only {n} rows")
            ignored[r] = True

    weight = None
    w = _param(query, "w")
    if w is not None:
        cells = w.split(",")
        if len(cells) != c:
            raise StateError(f"the link gives {len(cells)} class weights for {c} classes")
        weight = np.array([parse_cell(x, f"link 'w', class {k}", what="a weight") for k, x in enumerate(cells)])
    return Batch(logits, target, names, probs, ignored, weight)
