"""Pure table builders: a trace in, a numeric Arrow table out (Streamlit sends Arrow as is; a
pandas frame would be converted on every rerun). Values are rounded for display only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pyarrow as pa

import xent_core as xc


def pipeline_frame(trace: xc.CrossEntropyTrace, class_names: Sequence[str]) -> pa.Table:
    """One row per sample: logits -> exp -> sum -> softmax -> pick -> -log -> weight -> share -> loss.

    When exp overflows (huge logits) the exp and sum columns show the shifted values exp(z - max),
    which is what a stable implementation computes anyway; the header says so.
    """
    n = trace.logits.shape[0]
    overflow = not np.isfinite(trace.sum_exp).all()
    if trace.target_kind == "index":
        safe = np.where(trace.ignored, 0, trace.target)
        rows = np.arange(n)
        target_names = [
            "(ignored)" if ig else str(class_names[t]) for t, ig in zip(trace.target, trace.ignored, strict=True)
        ]
        z_t = np.where(trace.ignored, np.nan, trace.scaled_logits[rows, safe])
        exp_t = np.where(trace.ignored, np.nan, (trace.exp_shifted if overflow else trace.exp)[rows, safe])
    else:
        target_names = ["probabilities"] * n
        z_t = np.full(n, np.nan)
        exp_t = np.full(n, np.nan)
    exp_sum = trace.sum_exp_shifted if overflow else trace.sum_exp
    exp_label = "exp(z_t − max)" if overflow else "exp(z_t)"
    sum_label = "Σ exp(z − max)" if overflow else "Σ exp(z)"
    return pa.table(
        {
            "row": np.arange(n),
            "target": target_names,
            "z_t": _shown(z_t),
            exp_label: _shown(exp_t),
            sum_label: _shown(exp_sum),
            "p_t = softmax": _shown(trace.target_prob),
            "−log p_t": _shown(trace.neg_log_target_prob),
            "weight": _shown(trace.sample_weight),
            "loss": _shown(trace.per_sample),
            "share of total": _shown(trace.share),
        }
    )


def class_frame(trace: xc.CrossEntropyTrace, row: int, class_names: Sequence[str]) -> pa.Table:
    """One sample, one row per class: logit, exp, softmax, target, gradient."""
    overflow = not np.isfinite(trace.sum_exp[row])
    return pa.table(
        {
            "class": [str(c) for c in class_names],
            "logit z": _shown(trace.scaled_logits[row]),
            "exp(z − max)" if overflow else "exp(z)": _shown((trace.exp_shifted if overflow else trace.exp)[row]),
            "softmax p": _shown(trace.probs[row]),
            "target y": _shown(trace.target_distribution[row]),
            "∂loss/∂z": _shown(trace.grad[row]),
        }
    )


DISPLAY_DECIMALS = 4


def class_matrix(matrix: np.ndarray, class_names: Sequence[str]) -> pa.Table:
    """One row per sample, one column per class (an (N, C) matrix shown read-only): numbers rounded
    for display, booleans as a tick or nothing."""
    columns = {"row": np.arange(matrix.shape[0])}
    for c, name in enumerate(class_names):
        values = matrix[:, c]
        columns[str(name)] = np.where(values, "✓", "") if values.dtype == bool else _shown(values)
    return pa.table(columns)


def _shown(values) -> np.ndarray:
    """Numbers as the tables print them: rounded to 4 decimals (the precision the seeds quote).

    Rounding the column here is cheaper than a per-column format config on every rerun; NaN
    stays NaN (shown as empty), and huge values keep their magnitude.
    """
    return np.round(np.asarray(values, dtype=np.float64), DISPLAY_DECIMALS)


def comparison_frame(
    results: Mapping[str, xc.LossResult], target: np.ndarray, class_names: Sequence[str], p_target: np.ndarray
) -> pa.Table:
    """One row per sample: its target, p_t, then each loss's value and d loss / d z_t (the push on the target)."""
    columns = {
        "row": np.arange(len(target)),
        "target": [str(class_names[t]) for t in target],
        "p_t": _shown(p_target),
    }
    for key, r in results.items():
        name = xc.LOSSES[key].name
        columns[name] = _shown(r.per_sample)
        columns[f"∂/∂z_t · {name}"] = _shown(r.target_grad)
    return pa.table(columns)


def multilabel_frame(ml: xc.MultiLabel, labels: np.ndarray, class_names: Sequence[str]) -> pa.Table:
    """One row per sample: its labels, then each model's loss, and softmax's floor (its best possible CE)."""
    return pa.table(
        {
            "row": np.arange(len(labels)),
            "labels": [", ".join(str(class_names[c]) for c in np.flatnonzero(row)) for row in labels],
            "sigmoid + BCE": _shown(ml.bce_per_sample),
            "softmax + CE": _shown(ml.ce_per_sample),
            "CE's floor (entropy of the target)": _shown(ml.ce_floor),
        }
    )
