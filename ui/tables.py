"""Pure table builders: a trace in, a numeric Arrow table out (Streamlit sends Arrow as is; a
pandas frame would be converted on every rerun). The page formats the numbers
with `number_columns` (column formats cost nothing; formatting every cell as text costs milliseconds)."""

from __future__ import annotations

from collections.abc import Sequence

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
        z_t = trace.scaled_logits[rows, safe]
        exp_t = (trace.exp_shifted if overflow else trace.exp)[rows, safe]
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
            "z_t": z_t,
            exp_label: exp_t,
            sum_label: exp_sum,
            "p_t = softmax": trace.target_prob,
            "−log p_t": trace.neg_log_target_prob,
            "weight": trace.sample_weight,
            "loss": trace.per_sample,
            "share of total": trace.share,
        }
    )


def class_frame(trace: xc.CrossEntropyTrace, row: int, class_names: Sequence[str]) -> pa.Table:
    """One sample, one row per class: logit, exp, softmax, target, gradient."""
    overflow = not np.isfinite(trace.sum_exp[row])
    return pa.table(
        {
            "class": [str(c) for c in class_names],
            "logit z": trace.scaled_logits[row],
            "exp(z − max)" if overflow else "exp(z)": (trace.exp_shifted if overflow else trace.exp)[row],
            "softmax p": trace.probs[row],
            "target y": trace.target_distribution[row],
            "∂loss/∂z": trace.grad[row],
        }
    )


def number_columns(table: pa.Table, fmt: str = "%.4f") -> dict:
    """st.dataframe column_config that prints every float column with `fmt`."""
    import streamlit as st

    return {
        field.name: st.column_config.NumberColumn(field.name, format=fmt)
        for field in table.schema
        if pa.types.is_floating(field.type)
    }
