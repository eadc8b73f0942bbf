"""Cross-entropy pitfalls: each common mistake computed both ways, side by side, checked against torch."""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

import xent_core as xc
from ui import grid, loss_figures, nav, share, tables, theme, torch_check
from ui import page_params as U
from ui import pitfalls_figures as PF
from ui import table_edits as E
from ui import torch_checks_extra as TX
from ui import widgets as W
from ui.state import StateError
from xent_core import pitfalls as pf

P = "pit"  # session-state prefix of this page
TABS = (
    "Probabilities as logits",
    "Rows not summing to 1",
    "log(softmax) vs log_softmax",
    "Multi-label",
    "Class imbalance",
)
FORUM = xc.PRESETS["probs_as_logits"]
FORUM_SHAPE = FORUM.logits.shape  # (1, 3, 2, 2)
PIXELS = PF.pixel_labels(FORUM.target.shape)  # "pixel (0, 0)", ...
ACTS = pf.UNNORMALISED
SCALES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
SHIFTS = (-1000, -500, -200, -100, -50, 0, 50, 100, 200, 500, 1000)
LSM_CLASSES = tuple(f"class {c}" for c in range(len(pf.LOG_SOFTMAX_ROW)))
WEIGHT_MODES = ("1 / count", "N / (C · count)", "custom")
IMB = pf.IMBALANCED
BOUND = {
    "pitfall": U.Choice(TABS),
    "scale": U.Choice(tuple(map(str, SCALES))),
    "shift": U.Choice(tuple(map(str, SHIFTS))),
    "dtype": U.Choice(pf.DTYPES),
    "lsm_class": U.Choice(LSM_CLASSES),
    "class_weights": U.Choice(WEIGHT_MODES),
}

BOUND_DEFAULTS = {  # the URL-bound widgets' defaults, for the share link
    "pitfall": TABS[0],
    "scale": 50,
    "shift": 0,
    "dtype": "float32",
    "lsm_class": LSM_CLASSES[-1],
    "class_weights": WEIGHT_MODES[0],
}

st.set_page_config(page_title="Pitfalls · xent", page_icon=theme.FAVICON, layout="wide")
nav.sidebar()
FIGURE_ONLY = share.figure_only(P)  # ?view=figure: the tables shown read-only, for a lecture slide

st.title("Cross-entropy pitfalls")
st.markdown(
    "Five ways to get cross-entropy wrong that run without an error and print a plausible number. Each tab "
    "computes what was written beside what was meant, and PyTorch checks both live."
)


# ---------------------------------------------------------------------------------------------- URL state


@dataclass
class UrlState:
    probs: np.ndarray  # (4, 3) pixel rows of the forum tensor
    probs_target: np.ndarray  # (4,)
    acts: np.ndarray  # (4, 3)
    acts_target: np.ndarray  # (4,)
    weights: np.ndarray  # (3,) custom class weights
    messages: list[str]
    # The page's own URL parameters as the tabs last wrote them (None: at its default), starting from the
    # link's: the share link is built from these, as a closed tab does not write its part this run.
    own: dict[str, str | None]


def _forum_rows() -> tuple[np.ndarray, np.ndarray]:
    return PF.pixel_rows(FORUM.logits), FORUM.target.reshape(-1).copy()


def _decode(query) -> UrlState:
    """Read this page's link once per session: bad parts give a message and their default."""
    messages = U.check_bound(query, BOUND)
    probs, probs_target = _forum_rows()
    acts, acts_target = ACTS.logits.copy(), ACTS.target.copy()
    weights = pf.inverse_frequency_weights(IMB.target, IMB.num_classes)
    try:
        if (text := U.param(query, "p")) is not None:
            probs = U.decode_matrix(text, "p", shape=probs.shape, what="a probability")
        if (text := U.param(query, "t")) is not None:
            probs_target = U.decode_ints(text, "t", count=len(PIXELS))
            U.check_classes(probs_target, "t", FORUM.num_classes)
    except StateError as err:
        messages.append(f"{err}; showing the forum's tensor")
        probs, probs_target = _forum_rows()
    try:
        if (text := U.param(query, "a")) is not None:
            acts = U.decode_matrix(text, "a", shape=acts.shape, what="an activation")
        if (text := U.param(query, "at")) is not None:
            acts_target = U.decode_ints(text, "at", count=len(acts))
            U.check_classes(acts_target, "at", ACTS.num_classes)
    except StateError as err:
        messages.append(f"{err}; showing the default activations")
        acts, acts_target = ACTS.logits.copy(), ACTS.target.copy()
    weights_text = None  # the link's custom weights, once they have been read
    try:
        if (text := U.param(query, "w")) is not None:
            linked = U.decode_matrix(text, "w", shape=(1, IMB.num_classes), what="a weight")[0]
            if (linked < 0).any():
                raise StateError("the link's 'w' holds a negative class weight")
            weights, weights_text = linked, text
    except StateError as err:
        messages.append(f"{err}; using the default weights")
    own = {**_probs_params(probs, probs_target), **_acts_params(acts, acts_target), "w": weights_text}
    return UrlState(probs, probs_target, acts, acts_target, weights, messages, own)


def _probs_params(rows: np.ndarray, target: np.ndarray) -> dict[str, str | None]:
    """The forum tensor's URL parameters ('p', 't'); None where it holds the forum's values."""
    forum, forum_target = _forum_rows()
    return {
        "p": None if np.array_equal(rows, forum) else U.encode_matrix(rows),
        "t": None if np.array_equal(target, forum_target) else U.encode_ints(target),
    }


def _acts_params(acts: np.ndarray, target: np.ndarray) -> dict[str, str | None]:
    """The activation rows' URL parameters ('a', 'at'); None where they hold the example's values."""
    return {
        "a": None if np.array_equal(acts, ACTS.logits) else U.encode_matrix(acts),
        "at": None if np.array_equal(target, ACTS.target) else U.encode_ints(target),
    }


def url_state() -> UrlState:
    key = f"{P}.url"
    if key not in st.session_state:
        st.session_state[key] = _decode(st.query_params.to_dict())
    return st.session_state[key]


def sync_url(params: dict[str, str | None]) -> None:
    E.sync_query(f"{P}.url_written", params)
    url_state().own.update(params)


def badge(check: TX.Agreement) -> None:
    text = f"PyTorch agrees ({check.what}, float64): largest relative difference {check.max_diff:.1e}."
    if check.ok:
        st.success(text, icon=":material/check_circle:")
    else:
        st.error("PyTorch DISAGREES. " + text, icon=":material/cancel:")


def table(
    where,
    key: str,
    ts: E.TableState,
    values: np.ndarray,
    target: np.ndarray | None,
    names,
    *,
    label: str,
    help_text: str,
    row_labels=None,
    decimals: int = 4,
) -> None:
    """The editable table of `values` (R, C), non-negative as every table here, with each row's target
    class when `target` is given: ui/grid's table (an edit is sent when committed; st.data_editor
    waits ~150 ms), or in the read-only figure view the same values (`ts.frame`) as a plain table."""
    if FIGURE_ONLY:
        config = number_columns(names, help_text, f"%.{decimals}f")
        where.dataframe(ts.frame, column_config=config, hide_index=row_labels is not None, width="stretch")
        return
    columns = grid.number_columns(names, help=help_text, decimals=decimals)
    rows = np.asarray(values, dtype=np.float64).tolist()
    if target is not None:
        options = tuple(str(n) for n in names)
        columns.insert(0, grid.Column("target", "target", "choice", "The true class.", options=options))
        rows = [[options[t], *row] for t, row in zip(np.asarray(target).tolist(), rows, strict=True)]
    refused = grid.refused_cells(E.edits(key), columns, lambda v: E.parse_number(v, non_negative=True))
    with where:
        grid.grid(
            key, label=label, columns=columns, rows=rows, version=ts.version, invalid=refused, row_labels=row_labels
        )


def show_errors(errors: list[str]) -> None:
    for message in errors:
        st.error(message, icon=":material/error:")
    if errors:
        st.caption("Results below use the last valid value of each cell marked above; your other edits are applied.")


def number_columns(names, help_text: str, fmt: str = "%.4f") -> dict:
    return {E.col(c): st.column_config.NumberColumn(str(n), help=help_text, format=fmt) for c, n in enumerate(names)}


# ---------------------------------------------------------------------------------------------- tab 1


@st.fragment
def probs_tab() -> None:
    st.markdown(
        "From a PyTorch forum thread: a segmentation model's output already went through softmax, and this "
        "1×3×2×2 tensor of per-pixel probabilities went into `F.cross_entropy`. But cross_entropy expects "
        "**logits**: it applies `log_softmax` itself, so the probabilities are softmaxed a **second time**. "
        "Every entry lies in [0, 1], so every exp(p) lies in [1, e]: each distribution is squeezed towards "
        "uniform and the loss towards log 3 ≈ 1.0986, whatever the model predicted. Edit the tensor below."
    )
    url = url_state()
    ts = E.table_state(f"{P}.probs", lambda: (url.probs, url.probs_target))
    E.keep_edits(ts, f"{P}.probs.{ts.version}")  # edits made before this tab was closed
    names = FORUM.class_names
    rows0, target0 = ts.value
    if ts.frame is None:
        ts.frame = PF.pixel_frame(rows0, target0, PIXELS, names)
    key = f"{P}.probs.{ts.version}"
    rows, target, errors = E.apply_value_and_target_edits(
        ts, key, names, lambda r, c: f"{PIXELS[r]}, {names[c]}", lambda r: PIXELS[r], what="a probability"
    )

    left, right = st.columns([3, 2], vertical_alignment="top")
    table(
        left,
        key,
        ts,
        rows0,
        target0,
        names,
        label="The forum's probabilities, one row per pixel",
        help_text="The probability of this class at this pixel (the model's softmax output).",
        row_labels=PIXELS,
    )

    def reset():
        ts.reset(_forum_rows())

    if not FIGURE_ONLY:
        right.button(":material/restart_alt: The forum's tensor", key=f"{P}.probs.reset", on_click=reset)
    right.caption(
        "Rows are the 4 pixels of the 2×2 image, columns the 3 classes (the tensor's dimension 1), as "
        "`probs.permute(0, 2, 3, 1).reshape(-1, 3)` lays them out."
    )
    with left:
        show_errors(errors)
    probs, tgt = PF.from_pixel_rows(rows, FORUM_SHAPE), target.reshape(FORUM.target.shape)
    sync_url(_probs_params(rows, target))
    try:
        r = pf.probs_as_logits(probs, tgt)
    except xc.XentInputError as err:
        st.error(f"This tensor cannot be used: {err}", icon=":material/error:")
        return

    wrong, meant = st.columns(2)
    with wrong.container(border=True):
        st.markdown("**What was written**: cross_entropy on probabilities")
        st.code("F.cross_entropy(probs, target)", language="python", wrap_lines=True)
        st.metric("cross_entropy(probs) · mean", theme.fmt(r.wrong_mean), help="torch's default reduction='mean'")
        st.caption(f"Summed over the 4 pixels: {theme.fmt(r.wrong_sum)}. Uniform guess: log 3 = 1.0986.")
    with meant.container(border=True):
        st.markdown("**What was meant**: the log of the probabilities, into nll_loss")
        st.code("F.nll_loss(torch.log(probs), target, reduction='sum')", language="python", wrap_lines=True)
        a, b = st.columns(2)
        a.metric("nll_loss(log probs) · sum", theme.fmt(r.right_sum))
        b.metric("nll_loss(log probs) · mean", theme.fmt(r.right_mean))
        st.caption("The same as −Σ log p_t by hand. Better still: keep the model's logits and call cross_entropy.")
    badge(TX.probs_as_logits_check(probs, tgt, r))

    st.markdown("**How xent spots it.** `xent_core.advise` looks at what you pass as logits:")
    if r.advisories:
        for note in r.advisories:
            st.info(note.message, icon=":material/lightbulb:")
    else:
        st.caption(
            "…and stays quiet for this tensor: it speaks up only where every entry of a pixel lies in [0, 1] and "
            "the pixel's entries sum to 1 (see the 'sum of p' column below)."
        )
    st.plotly_chart(
        PF.double_softmax_bars(PF.pixel_rows(r.probs), PF.pixel_rows(r.double_softmax), target, PIXELS, names),
        key=f"{P}.fig.double",
        config=theme.PLOTLY_CONFIG,
    )
    st.dataframe(PF.probs_table(r, PIXELS, names), hide_index=True)
    st.caption(
        "cross_entropy(p) = −log softmax(p)_t: the second softmax gives the target far less than p_t when the "
        "model is sure and right, and far more when it is sure and wrong, so every pixel's loss is pulled to log 3."
    )


# ---------------------------------------------------------------------------------------------- tab 2


@st.fragment
def rows_tab() -> None:
    st.markdown(
        "Cross-entropy looks up −log of the probability given to the true class, and that only means something "
        "if each row is a distribution: *\"if they don't add up to 1 you've got a trouble\"* (fast.ai, lesson 5). "
        "Here are a last layer's outputs without softmax. `nll_loss` takes their log without complaint; the "
        "numbers are screwy: a row that sums to 2 looks better than it is, a row summing to 0.4 worse, and an "
        "entry above 1 even gives a **negative** loss."
    )
    url = url_state()
    ts = E.table_state(f"{P}.acts", lambda: (url.acts, url.acts_target))
    E.keep_edits(ts, f"{P}.acts.{ts.version}")
    names = ACTS.class_names
    acts0, target0 = ts.value
    labels = [f"row {n}" for n in range(len(target0))]
    if ts.frame is None:
        ts.frame = PF.rows_frame(acts0, target0, names)
    key = f"{P}.acts.{ts.version}"
    acts, target, errors = E.apply_value_and_target_edits(
        ts, key, names, lambda r, c: f"{labels[r]}, column {names[c]!r}", lambda r: labels[r], what="an activation"
    )

    left, right = st.columns([3, 2], vertical_alignment="top")
    table(
        left,
        key,
        ts,
        acts0,
        target0,
        names,
        label="Activations, one row per sample",
        help_text="The last layer's output for this class (no softmax).",
    )

    def reset():
        ts.reset((ACTS.logits.copy(), ACTS.target.copy()))

    if not FIGURE_ONLY:
        right.button(":material/restart_alt: The example rows", key=f"{P}.acts.reset", on_click=reset)
    with left:
        show_errors(errors)
    sync_url(_acts_params(acts, target))
    try:
        r = pf.unnormalised_nll(acts, target)
    except xc.XentInputError as err:
        st.error(f"These rows cannot be used: {err}", icon=":material/error:")
        return
    a, b = right.columns(2)
    a.metric("nll_loss(log a) · mean", theme.fmt(r.raw_mean), help="The rows as given.")
    b.metric("normalised · mean", theme.fmt(r.fixed_mean), help="Each row divided by its sum first.")
    if r.negative.any():
        rows_text = ", ".join(str(int(n)) for n in np.flatnonzero(r.negative))
        right.warning(
            f"Row(s) {rows_text}: a negative loss. A real cross-entropy is never below 0; an entry above 1 is not "
            "a probability.",
            icon=":material/warning:",
        )
    badge(TX.unnormalised_check(acts, target, r))
    st.plotly_chart(PF.unnormalised_bars(r), key=f"{P}.fig.rows", config=theme.PLOTLY_CONFIG)
    st.dataframe(PF.unnormalised_table(r, names), hide_index=True)
    st.markdown(
        "**What normalising fixes.** Dividing a row by its sum s turns it into a distribution, and "
        "−log(a_t / s) = −log a_t + log s: the raw loss is off by exactly −log s (last column). After it every "
        "loss is ≥ 0 and rows compare fairly. The real fix is upstream: end the model with logits and let "
        "`F.cross_entropy` apply the softmax, which guarantees s = 1."
    )


# ---------------------------------------------------------------------------------------------- tab 3


@st.fragment
def log_softmax_tab() -> None:
    st.markdown(
        "`torch.log(torch.softmax(z))` and `F.log_softmax(z)` are the same in exact arithmetic. Written from the "
        'definition, log(exp(z) / Σ exp(z)) overflows or underflows long before the answer does: *"less '
        'numerically stable than F.log_softmax"* (the forum thread). Scale and shift the logits '
        f"z = scale · ({', '.join(f'{v:g}' for v in pf.LOG_SOFTMAX_ROW)}) + shift and switch the dtype."
    )
    c1, c2, c3, c4 = st.columns([3, 3, 3, 3], vertical_alignment="bottom")
    scale = c1.select_slider("Logit scale", SCALES, value=50, key="scale", bind="query-params")
    shift = c2.select_slider(
        "Shift every logit by",
        SHIFTS,
        value=0,
        key="shift",
        bind="query-params",
        help="Softmax ignores a shift: the true log-probabilities stay the same. The naive formula does not.",
    )
    dtype = W.choice(c3, "dtype", pf.DTYPES, default="float32", key="dtype")
    target_name = c4.selectbox(
        "Target class",
        LSM_CLASSES,
        index=len(LSM_CLASSES) - 1,
        key="lsm_class",
        bind="query-params",
        help="The class whose loss −log p_t the metrics and the chart follow.",
    )
    target = LSM_CLASSES.index(target_name or LSM_CLASSES[-1])
    try:
        steps = pf.log_softmax_steps(pf.LOG_SOFTMAX_ROW * scale + shift, target, dtype)
        sweep = pf.log_softmax_sweep(pf.LOG_SOFTMAX_ROW, target, SCALES, shift=shift, dtype=dtype)
    except xc.XentInputError as err:
        st.error(f"These logits cannot be used: {err}", icon=":material/error:")
        return
    a, b, c = st.columns(3)
    a.metric("naive loss −log(exp(z_t) / Σ)", PF.special(steps.naive_loss))
    b.metric("stable loss −log_softmax(z)_t", PF.special(steps.loss))
    broken = int((~steps.naive_ok).sum())
    c.metric("classes the naive form gets wrong", f"{broken} of {len(LSM_CLASSES)}")
    badge_check = TX.log_softmax_check(steps)
    text = (
        f"PyTorch agrees ({badge_check.what}): the naive form fails at the same classes, and the values agree "
        f"to {badge_check.max_diff:.1e} (relative)."
    )
    if badge_check.ok:
        st.success(text, icon=":material/check_circle:")
    else:
        st.error("PyTorch DISAGREES. " + text, icon=":material/cancel:")
    st.dataframe(PF.steps_table(steps, LSM_CLASSES), hide_index=True)
    st.markdown("**The log-sum-exp trick**, written out: subtract the largest logit before exponentiating.")
    st.latex(
        r"\begin{aligned} \log p_c &= z_c - \log\textstyle\sum_k e^{z_k} \\"
        r" &= z_c - \Big(m + \log\textstyle\sum_k e^{z_k - m}\Big), \qquad m = \max_k z_k \end{aligned}"
    )
    st.markdown(
        f"Here ({steps.dtype}): m = {PF.special(steps.max)}; every z − m ≤ 0, so every exp(z − m) lies in (0, 1] "
        f"and their sum Σ = {PF.special(steps.sum_shifted)} lies in [1, {len(LSM_CLASSES)}]; "
        f"logsumexp = m + log Σ = {PF.special(steps.max)} + {PF.special(steps.log_sum_shifted)} = "
        f"**{PF.special(steps.logsumexp)}**. Taken literally, log(Σ exp(z)) = **{PF.special(steps.log_sum_exp)}**."
    )
    st.plotly_chart(
        PF.log_softmax_sweep_chart(sweep, scale, LSM_CLASSES[target]), key=f"{P}.fig.lsm", config=theme.PLOTLY_CONFIG
    )
    st.caption(
        "Where the naive loss is NaN, exp overflowed (inf / inf) or every exp underflowed (0 / 0); +inf means the "
        "target's probability underflowed to 0. 'inaccurate' means a subnormal probability kept only a few "
        "significant bits. float16 breaks first: exp overflows above z ≈ 11."
    )


# ---------------------------------------------------------------------------------------------- tab 4


@st.fragment
def multilabel_tab() -> None:
    ex = xc.MULTI_LABEL
    names = ex.class_names
    st.markdown(
        "A photo can show a cat **and** a dog. Softmax cannot say so: its probabilities share one unit, so two "
        "true classes get at most 50% each, and cross-entropy against the split target (0.5, 0.5) never drops "
        "below log 2 ≈ 0.693. Sigmoid + binary cross-entropy asks one yes/no question per class and can say yes "
        "to both. Row 0 shows a cat and a dog, row 1 a fish, row 2 a plane over a building."
    )
    ml = xc.multilabel_losses(ex.logits, ex.labels)
    a, b, c = st.columns([2, 2, 3], vertical_alignment="bottom")
    a.metric("sigmoid + BCE · mean (right)", theme.fmt(ml.bce_mean))
    b.metric("softmax + CE · mean (wrong)", theme.fmt(ml.ce_mean))
    labels_text = [", ".join(names[k] for k in np.flatnonzero(row)) for row in ex.labels]
    row = c.selectbox(
        "Photo", range(len(ex.labels)), format_func=lambda r: f"row {r}: {labels_text[r]}", key=f"{P}.ml.row"
    )
    check = torch_check.multilabel_check(ex.logits, ex.labels, 1.0, ml)
    values = np.linspace(-6.0, 10.0, 81)
    sweep = pf.multilabel_sweep(ex.logits[row], ex.labels[row], values)
    sweep_check = TX.multilabel_sweep_check(ex.logits[row], ex.labels[row], sweep)
    ok = check.ok and sweep_check.ok
    text = (
        "PyTorch agrees (F.binary_cross_entropy_with_logits and F.cross_entropy, float64): largest difference "
        f"{max(check.max_loss_diff, sweep_check.max_diff):.1e}."
    )
    if ok:
        st.success(text, icon=":material/check_circle:")
    else:
        st.error("PyTorch DISAGREES. " + text, icon=":material/cancel:")
    left, right = st.columns(2)
    loss_figures.multilabel_bars(ml, row, ex.labels, names).show(left)
    right.plotly_chart(PF.multilabel_sweep_chart(sweep), key=f"{P}.fig.mlsweep", config=theme.PLOTLY_CONFIG)
    st.dataframe(tables.multilabel_frame(ml, ex.labels, names), hide_index=True)
    st.caption(
        "In torch: `F.binary_cross_entropy_with_logits(logits, labels)` with 0/1 labels of shape (N, C). Edit "
        "the logits and labels on the **Compare losses** page, tab 'Binary & multi-label'."
    )


# ---------------------------------------------------------------------------------------------- tab 5


@st.fragment
def imbalance_tab() -> None:
    names = IMB.class_names
    st.markdown(
        "A defect detector sees 8 good parts for every 3 scratched and 1 cracked one. Unweighted, the loss is "
        "dominated by the common class the model already gets right. Class weights (torch's `weight`) scale "
        "each sample's loss by the weight of its target class, so the rare classes count for more. Here the "
        "model is sure and right about the good parts, unsure or wrong about the scratches and the crack."
    )
    url = url_state()
    left, right = st.columns([2, 3], vertical_alignment="top")
    mode = left.radio(
        "Class weights",
        WEIGHT_MODES,
        key="class_weights",
        bind="query-params",
        horizontal=True,
        help="1 / count: each class's samples together weigh 1. N / (C · count): scikit-learn's 'balanced'.",
    )
    ts = E.table_state(f"{P}.weights", lambda: url.weights.copy())
    if mode == "1 / count":
        weight = pf.inverse_frequency_weights(IMB.target, IMB.num_classes)
    elif mode == "N / (C · count)":
        weight = pf.balanced_weights(IMB.target, IMB.num_classes)
    else:
        E.keep_edits(ts, f"{P}.weights.{ts.version}")  # edits made before another mode was picked
        if ts.frame is None:
            ts.frame = pd.DataFrame([ts.value], columns=[E.col(c) for c in range(len(names))])
        key = f"{P}.weights.{ts.version}"
        w, errors = E.apply_number_edits(
            ts.value[None, :],
            E.edits(key),
            lambda r, c: f"weight of {names[c]!r}",
            what="a weight",
            fallback=None if ts.effective is None else ts.effective[None, :],
            non_negative=True,
        )
        weight = w[0]
        ts.effective = weight
        with right:
            st.caption("Custom class weights")
            table(
                right,
                key,
                ts,
                ts.value[None, :],
                None,
                names,
                label="Custom class weights",
                help_text="The weight of this class.",
                row_labels=["weight"],
                decimals=3,
            )
            show_errors(errors)
    is_custom = mode == "custom"
    default_weights = pf.inverse_frequency_weights(IMB.target, IMB.num_classes)
    sync_url(
        {"w": U.encode_matrix(weight[None, :]) if is_custom and not np.allclose(weight, default_weights) else None}
    )
    if not is_custom:
        left.caption("Weights: " + ", ".join(f"{n}: {w:.3f}" for n, w in zip(names, weight, strict=True)))
    try:
        cw = pf.class_weighting(IMB.logits, IMB.target, weight)
    except xc.XentInputError as err:
        st.error(f"These weights cannot be used: {err}", icon=":material/error:")
        return
    a, b, c = st.columns(3)
    a.metric("mean without weights", theme.fmt(cw.plain_mean), help="F.cross_entropy(z, t): the sum over N = 12")
    b.metric("mean with weights", theme.fmt(cw.weighted_mean), help="F.cross_entropy(z, t, weight=w)")
    c.metric("sum with weights", theme.fmt(cw.weighted_sum), help="reduction='sum'")
    badge(TX.class_weighting_check(IMB.logits, IMB.target, weight, cw))
    n = len(IMB.target)
    st.markdown(
        "**What the weighted `mean` divides by.** Not by the number of samples but by the summed weights of "
        f"their targets: Σ w[t]·(−log p_t) = {theme.fmt(cw.weighted_sum)}, Σ w[t] = {theme.fmt(cw.weight_total)}, "
        f"so mean = {theme.fmt(cw.weighted_sum)} / {theme.fmt(cw.weight_total)} = **{theme.fmt(cw.weighted_mean)}**, "
        f"a weighted average of the per-sample losses. Dividing by N = {n} would give "
        f"{theme.fmt(cw.weighted_sum_over_n)}"
        + (
            " (the same here: with scikit-learn's 'balanced' weights Σ w[t] = N)."
            if mode == "N / (C · count)"
            else ", which changes with the scale of the weights; torch's mean does not."
        )
    )
    st.plotly_chart(PF.class_share_bars(cw, names), key=f"{P}.fig.share", config=theme.PLOTLY_CONFIG)
    samples = st.expander("Every sample", key=f"{P}.samples", on_change="rerun")
    if samples.open:
        samples.dataframe(PF.weighting_table(cw, IMB.target, names), hide_index=True)


# ---------------------------------------------------------------------------------------------- page

share.link_problems(url_state().messages)
tabs = st.tabs(TABS, key="pitfall", bind="query-params")
for tab, body in zip(tabs, (probs_tab, rows_tab, log_softmax_tab, multilabel_tab, imbalance_tab), strict=True):
    if tab.open:
        with tab:
            body()
share.panel(
    P,
    "Pitfalls",
    {k: v for k, v in url_state().own.items() if v is not None},
    lambda: share.bound_values(BOUND_DEFAULTS),
    what="these pitfalls",
)
