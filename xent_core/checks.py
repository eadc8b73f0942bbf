"""Input checking and advisory notes.

Two kinds of feedback, kept apart on purpose:

* `XentInputError` (a ValueError) for input torch would reject, or would accept but turn into
  nonsense (NaN logits, a negative label_smoothing). Its message says where the problem is,
  what is wrong and what is valid, in words a learner can act on.
* `advise()` for input that is legal but suspicious (probabilities passed as logits, one-hot
  targets, soft targets that do not sum to 1). It never raises; it returns notes.

Every public loss validates once, at its entry, with the helpers below.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

FLOAT_DTYPES = (np.float16, np.float32, np.float64)
# exp(x) overflows float32 above log(float32 max) ~ 88.72; a softmax written as exp(z) / sum(exp(z)) breaks there.
FLOAT32_EXP_LIMIT = float(np.log(np.finfo(np.float32).max))


class XentInputError(ValueError):
    """Input that xent_core refuses, with a message that says where, what, and what is valid."""


# ---------------------------------------------------------------------------------------------- locations


def describe_position(
    index: tuple[int, ...], ndim: int, class_names: Sequence[str] | None = None, *, elementwise: bool = False
) -> str:
    """Name an element of a logits-shaped array the way a learner reads the table.

    (C,) -> "class 2"; (N, C) -> "row 3, column 'dog'"; (N, C, d1, ...) -> "sample 0, class 2, position (1, 0)".
    For elementwise inputs (binary losses, MSE), whose axes are not classes: "entry [3, 1]".
    """
    if elementwise:
        return f"entry {list(index)}" if ndim else "the value"

    def column(c: int) -> str:
        if class_names is not None and 0 <= c < len(class_names):
            return f"column {class_names[c]!r}"
        return f"class {c}"

    if ndim == 0:
        return "the value"
    if ndim == 1:
        return column(index[0])
    if ndim == 2:
        return f"row {index[0]}, {column(index[1])}"
    rest = ", ".join(str(i) for i in index[2:])
    return f"sample {index[0]}, {column(index[1])}, position ({rest})"


def _describe_value(value: float) -> str:
    if np.isnan(value):
        return "NaN"
    return "inf" if value > 0 else "-inf"


# ---------------------------------------------------------------------------------------------- arrays


def as_float_array(
    x, name: str, *, class_names: Sequence[str] | None = None, promote_integers: bool = False
) -> np.ndarray:
    """`x` as a floating-point numpy array (float16/32/64 kept as they are), or XentInputError.

    Integer and boolean arrays are refused where torch refuses them (softmax, the losses:
    "not implemented for 'Long'"), and promoted to float32, torch's default dtype, where torch
    promotes them (`promote_integers`: logsumexp, sigmoid, entropy).
    """
    arr = np.asarray(x)
    if arr.dtype.type in FLOAT_DTYPES:
        return arr
    if arr.dtype.kind in "iub":
        if promote_integers:
            return arr.astype(np.float32)
        raise XentInputError(f"{name} must be floating point, got {arr.dtype}; convert with .astype(float)")
    if arr.dtype.kind in "OUS":
        for index in np.ndindex(arr.shape):
            try:
                float(arr[index])
            except (TypeError, ValueError):
                where = describe_position(index, arr.ndim, class_names)
                raise XentInputError(
                    f"{where}: {str(arr[index])[:20]!r} is not a number ({name} must be numbers)"
                ) from None
        return arr.astype(np.float64)
    raise XentInputError(f"{name} must be real floating-point numbers, got dtype {arr.dtype}")


def check_finite(
    arr: np.ndarray,
    name: str,
    *,
    allow_neg_inf: bool = False,
    class_names: Sequence[str] | None = None,
    elementwise: bool = False,
) -> None:
    """Raise XentInputError at the first NaN or infinite entry (optionally allowing -inf, i.e. log 0).

    Messages read "row 3, column 'dog': NaN is not a logit" for logits, log-probabilities and
    targets, and "entry [0, 1] of weight: inf is not a finite number" for everything else.
    """
    if arr.size == 0:
        return
    # Fast path without temporaries: min and max are NaN if any entry is, and infinite if any entry is.
    low, high = arr.min(), arr.max()
    if np.isfinite(high) and (np.isfinite(low) or (allow_neg_inf and np.isneginf(low))):
        return
    bad = ~np.isfinite(arr)
    if allow_neg_inf:
        bad &= ~np.isneginf(arr)
    if bad.any():
        index = _first(bad)
        where = describe_position(index, arr.ndim, class_names, elementwise=elementwise)
        value = _describe_value(arr[index])
        noun = {"logits": "a logit", "log_probs": "a log-probability", "target": "a target"}.get(name)
        if noun is None:
            raise XentInputError(f"{where} of {name}: {value} is not a finite number")
        raise XentInputError(f"{where}: {value} is not {noun}")


def _first(mask: np.ndarray) -> tuple[int, ...]:
    """Index of the first True entry of a mask that has one."""
    return tuple(int(i) for i in np.unravel_index(int(np.flatnonzero(mask)[0]), mask.shape))


def check_non_negative(arr: np.ndarray, name: str, why: str) -> None:
    """Refuse negative entries, naming the first one."""
    bad = arr < 0
    if bad.any():
        index = _first(bad)
        where = describe_position(index, arr.ndim)
        raise XentInputError(
            f"{where}: {float(arr[index])!r} in {name} is negative; {name} must not be negative ({why})"
        )


def check_logits(x, name: str = "logits", *, class_names: Sequence[str] | None = None) -> np.ndarray:
    """Validate logits for a softmax loss: floating point, at least 1-D, every entry finite.

    Torch accepts NaN and inf logits and returns NaN; xent_core refuses them, because a NaN loss
    explains nothing. `class_names` only improves the messages ("row 3, column 'dog'").
    """
    arr = as_float_array(x, name, class_names=class_names)
    if arr.ndim == 0:
        raise XentInputError(f"{name} need a class dimension: shape (C,), (N, C) or (N, C, d1, ...); got a scalar")
    check_finite(arr, name, class_names=class_names)
    return arr


def check_same_shape(a: np.ndarray, b: np.ndarray, a_name: str, b_name: str) -> None:
    if a.shape != b.shape:
        raise XentInputError(f"{b_name} must have the shape of {a_name}, {a.shape}; got {b.shape}")


def check_unit_interval(arr: np.ndarray, name: str) -> None:
    """Every entry in [0, 1] (NaN included in the refusal), as torch's binary_cross_entropy demands."""
    bad = ~((arr >= 0) & (arr <= 1))
    if bad.any():
        index = _first(bad)
        raise XentInputError(
            f"{name}{list(index)} = {float(arr[index])!r}: every entry of {name} must be between 0 and 1"
        )


def check_class_weight(weight, num_classes: int, dtype: np.dtype, name: str = "weight") -> np.ndarray | None:
    """A per-class weight of shape (C,), finite, in the logits' dtype (torch demands equal dtypes; we cast)."""
    if weight is None:
        return None
    w = as_float_array(weight, name)
    if w.shape != (num_classes,):
        raise XentInputError(f"{name} must hold one number per class, shape ({num_classes},); got shape {w.shape}")
    check_finite(w, name)
    return w.astype(dtype, copy=False)


def check_label_smoothing(label_smoothing: float) -> float:
    """Refuse values outside [0, 1]. Torch raises above 1 but silently treats a negative value as 0."""
    value = float(label_smoothing)
    if not 0.0 <= value <= 1.0:
        extra = " (torch would silently treat a negative value as 0)" if value < 0 else ""
        raise XentInputError(f"label_smoothing must be between 0.0 and 1.0; got {label_smoothing}{extra}")
    return value


# ---------------------------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Targets:
    """A validated target: class indices (`kind == "index"`) or class probabilities (`kind == "probs"`)."""

    kind: str  # "index" or "probs"
    values: np.ndarray  # index: integer array, logits' shape without the class dim; probs: logits' shape and dtype


def check_targets(
    logits: np.ndarray,
    target,
    *,
    ignore_index: int | None = -100,
    allow_probs: bool = True,
) -> Targets:
    """Decide, as torch does, what `target` holds, and validate it against `logits`.

    Torch's rule: a target with exactly the logits' shape holds class probabilities (and must be
    floating point); any other target holds class indices, shape (N, d1, ...) or () for unbatched
    logits, each in [0, C) or equal to `ignore_index`. Torch wants int64 or uint8 indices; xent_core
    accepts any integer dtype, since numpy makes int32 arrays easily and the values are what matter.
    """
    tgt = np.asarray(target)
    num_classes = logits.shape[1] if logits.ndim > 1 else logits.shape[0]

    if allow_probs and tgt.shape == logits.shape:
        if tgt.dtype.kind in "iub":
            hint = ""
            if logits.ndim >= 2 and tgt.size and ((tgt == 0) | (tgt == 1)).all() and (tgt.sum(axis=1) == 1).all():
                hint = "; it looks one-hot: pass the class indices, target.argmax(axis=1), instead"
            raise XentInputError(
                f"a target with the logits' shape {logits.shape} is read as class probabilities and must be "
                f"floating point, got {tgt.dtype}{hint}"
            )
        probs = as_float_array(tgt, "target")
        check_finite(probs, "target")
        if ignore_index is not None and ignore_index >= 0:
            raise XentInputError(
                f"ignore_index ({ignore_index}) cannot be used with class-probability targets; "
                f"leave it at -100 (torch refuses it too)"
            )
        return Targets("probs", probs.astype(logits.dtype, copy=False))

    expected_shape = logits.shape[:1] + logits.shape[2:] if logits.ndim > 1 else ()
    if logits.ndim == 1 and tgt.shape == (1,):
        tgt = tgt.reshape(())  # torch accepts a one-element target for unbatched logits
    if tgt.shape != expected_shape:
        if logits.ndim >= 2 and tgt.ndim >= 1 and tgt.shape[0] != logits.shape[0]:
            raise XentInputError(
                f"logits hold {logits.shape[0]} samples but target holds {tgt.shape[0]}; "
                f"target must have shape {expected_shape} (class indices) or {logits.shape} (probabilities)"
            )
        raise XentInputError(
            f"target must have shape {expected_shape} (class indices) or {logits.shape} (class probabilities) "
            f"for logits of shape {logits.shape}; got {tgt.shape}"
        )
    if tgt.dtype.kind not in "iu":
        if tgt.dtype.kind == "f" and tgt.size and np.all(np.isfinite(tgt)) and np.all(tgt == np.round(tgt)):
            hint = "; convert with .astype(int)"
        else:
            hint = ""
        raise XentInputError(f"class-index targets must be integers, got {tgt.dtype}{hint}")
    _check_index_range(tgt, num_classes, ignore_index)
    return Targets("index", tgt.astype(np.int64, copy=False))


def _check_index_range(tgt: np.ndarray, num_classes: int, ignore_index: int | None) -> None:
    bad = (tgt < 0) | (tgt >= num_classes)
    if ignore_index is not None:
        bad &= tgt != ignore_index
    if bad.any():
        flat = int(np.flatnonzero(bad)[0])
        index = np.unravel_index(flat, tgt.shape) if tgt.ndim else ()
        where = ""
        if tgt.ndim == 1:
            where = f"row {int(index[0])}: "
        elif tgt.ndim > 1:
            where = f"sample {int(index[0])}, position {tuple(int(i) for i in index[1:])}: "
        valid = f"0..{num_classes - 1}"
        if ignore_index is not None:
            valid += f" or the ignore index {ignore_index}"
        raise XentInputError(
            f"{where}target {int(tgt[index])} is out of range for {num_classes} classes (valid: {valid})"
        )


# ---------------------------------------------------------------------------------------------- advisory notes


@dataclass(frozen=True)
class Advisory:
    """A note about legal but suspicious input. `rows` lists the affected samples (row indices)."""

    code: str
    message: str
    rows: tuple[int, ...] = ()


def _rows_text(rows: Sequence[int], limit: int = 6) -> str:
    shown = ", ".join(str(r) for r in rows[:limit])
    return shown + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


def _as_rows(arr: np.ndarray) -> np.ndarray:
    """(C,) -> (1, C); (N, C, d1, ...) -> (N * d1 * ..., C) with the class axis last."""
    if arr.ndim == 1:
        return arr[None, :]
    return np.moveaxis(arr, 1, -1).reshape(-1, arr.shape[1])


def advise(logits, target=None, *, sum_tolerance: float = 1e-3) -> list[Advisory]:
    """Notes on input that torch accepts but that is probably not what the user meant. Never raises.

    Checks, in order:
    * "probabilities_as_logits": rows whose entries all lie in [0, 1] and sum to 1. cross_entropy
      applies softmax itself, so feeding it probabilities softmaxes twice and flattens the result
      (the forum example: 0.9488 instead of the intended 2.8824 summed).
    * "float32_overflow": logits beyond +-88.7, where exp overflows float32, so a hand-written
      exp(z) / sum(exp(z)) gives inf or NaN (log_softmax and xent_core stay finite).
    * "one_hot_targets": probability targets that are exactly one-hot. Class indices give the same
      loss without class weights, but with `weight` torch's 'mean' divides by the number of samples
      for probability targets and by the summed weights for index targets.
    * "targets_not_normalised": probability targets with a row that does not sum to 1, or with negative entries.

    Rows are numbered as the (N, C) table shows them; K-dimensional input counts every position as a row.
    """
    with np.errstate(all="ignore"):
        return _advise(logits, target, sum_tolerance)


def _as_real(x) -> np.ndarray | None:
    """float64 array of `x`, or None for anything that is not a real numeric array."""
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError):
        return None
    if arr.dtype.kind not in "iubf":
        return None
    return arr.astype(np.float64)


def _advise(logits, target, sum_tolerance: float) -> list[Advisory]:
    notes: list[Advisory] = []
    z = _as_real(logits)
    if z is None:
        return notes
    if z.ndim == 0 or z.size == 0 or z.shape[-1 if z.ndim == 1 else 1] < 2:
        return notes
    rows = _as_rows(z)
    finite = np.isfinite(rows).all(axis=1)

    in_unit = finite & ((rows >= 0) & (rows <= 1)).all(axis=1) & (np.abs(rows.sum(axis=1) - 1) <= sum_tolerance)
    if in_unit.any():
        hit = [int(r) for r in np.flatnonzero(in_unit)]
        everyone = len(hit) == len(rows)
        subject = "every row looks" if everyone else f"row(s) {_rows_text(hit)} look"
        notes.append(
            Advisory(
                "probabilities_as_logits",
                f"{subject} like probabilities (between 0 and 1, summing to 1), but cross_entropy expects "
                f"logits: it applies softmax itself, so probabilities get softmaxed twice and the loss comes "
                f"out too flat. Pass log-probabilities to nll_loss instead, or the raw scores before softmax.",
                tuple(hit),
            )
        )

    large = finite & (np.abs(rows) > FLOAT32_EXP_LIMIT).any(axis=1)
    if large.any():
        hit = [int(r) for r in np.flatnonzero(large)]
        notes.append(
            Advisory(
                "float32_overflow",
                f"row(s) {_rows_text(hit)} hold logits beyond ±{FLOAT32_EXP_LIMIT:.1f}: in float32, exp() of such a "
                f"value overflows to inf (or every term underflows to 0), so a hand-written exp(z) / sum(exp(z)) "
                f"gives inf or NaN. log_softmax and cross_entropy subtract the row maximum first and stay exact.",
                tuple(hit),
            )
        )

    if target is None:
        return notes
    t_raw = np.asarray(target) if not isinstance(target, list | tuple) else None
    if t_raw is not None and t_raw.dtype.kind != "f":
        return notes
    t = _as_real(target)
    if t is None or t.shape != z.shape:
        return notes
    t_rows = _as_rows(t)
    t_finite = np.isfinite(t_rows).all(axis=1)
    one_hot = t_finite & ((t_rows == 0) | (t_rows == 1)).all(axis=1) & (t_rows.sum(axis=1) == 1)
    if one_hot.all():
        notes.append(
            Advisory(
                "one_hot_targets",
                "the targets are one-hot probability rows. Class indices (target.argmax(axis=1)) give the same "
                "loss unless you use class weights: then 'mean' divides by the number of samples for probability "
                "targets but by the summed weights of the targets for class indices, and ignore_index only works "
                "with class indices.",
                tuple(range(len(t_rows))),
            )
        )
    off = t_finite & ((np.abs(t_rows.sum(axis=1) - 1) > sum_tolerance) | (t_rows < 0).any(axis=1))
    if off.any():
        hit = [int(r) for r in np.flatnonzero(off)]
        notes.append(
            Advisory(
                "targets_not_normalised",
                f"target row(s) {_rows_text(hit)} are not probability distributions (they do not sum to 1, or "
                f"hold negative entries). torch accepts them and scales the loss accordingly, but the value is "
                f"no longer a cross-entropy between distributions.",
                tuple(hit),
            )
        )
    return notes
