"""Cross-entropy as information: entropy, cross-entropy and KL divergence, and how to read a loss value."""

import numpy as np
import pandas as pd
import streamlit as st

import xent_core as xc
from ui import grid, nav, share, theme
from ui import info_figures as FIG
from ui import page_params as U
from ui import table_edits as E
from ui import torch_checks_extra as TX
from ui import widgets as W
from ui.state import StateError
from xent_core import decomposition as dc

P = "info"  # session-state prefix of this page
EXAMPLES = {key: (title, np.array(y), np.array(p)) for key, title, y, p in dc.EXAMPLES}
DEFAULT = "soft"
MAX_CLASSES = 10
ROWS = ("target y", "prediction p")
BOUND = {"unit": U.Choice(dc.UNITS)}

st.set_page_config(page_title="Information · xent", page_icon=theme.FAVICON, layout="wide")
nav.sidebar()
FIGURE_ONLY = share.figure_only(P)  # ?view=figure: y and p shown read-only, for a lecture slide

st.title("Cross-entropy as information")
st.markdown(
    "For a target distribution **y** and a prediction **p** over the same classes, the cross-entropy splits "
    "into two parts: the target's own uncertainty, its **entropy** H(y), which no model can remove, and the "
    "**KL divergence** KL(y ‖ p), the extra cost of predicting p when the truth is y. Training can only shrink "
    "the KL part. With one-hot targets H(y) = 0 and the loss *is* the KL divergence."
)
st.latex(
    r"\begin{aligned} H(y,\,p) &= -\textstyle\sum_c y_c \log p_c \\"
    r" &= \underbrace{-\textstyle\sum_c y_c \log y_c}_{H(y)}"
    r" + \underbrace{\textstyle\sum_c y_c \log \frac{y_c}{p_c}}_{\mathrm{KL}(y\,\|\,p)} \end{aligned}"
)


def _example(key: str) -> np.ndarray:
    _, y, p = EXAMPLES[key]
    return np.stack([y, p]).astype(np.float64)


def _decode(query) -> tuple[np.ndarray, list[str]]:
    """The (2, C) pair from the link's y and p, or the default example and a message."""
    messages = U.check_bound(query, BOUND)
    y_text, p_text = query.get("y"), query.get("p")
    if y_text is None and p_text is None:
        preset = query.get("preset")
        if preset is not None and preset not in EXAMPLES:
            messages.append(
                f"the link's preset {U.quoted(preset)} is not one of {', '.join(EXAMPLES)}; using the default"
            )
        return _example(preset if preset in EXAMPLES else DEFAULT), messages
    try:
        if y_text is None or p_text is None:
            raise StateError("the link needs both 'y' (the target) and 'p' (the prediction)")
        y = U.decode_matrix(str(y_text), "y", max_shape=(1, MAX_CLASSES), what="a probability")[0]
        p = U.decode_matrix(str(p_text), "p", max_shape=(1, MAX_CLASSES), what="a probability")[0]
        if y.size != p.size or y.size < 2:
            raise StateError(f"the link's 'y' has {y.size} values and 'p' {p.size}; give 2 to {MAX_CLASSES} each")
        pair = np.stack([y, p])
        dc.decompose(y, p)  # refuse what the page could not show (negative entries, all zeros)
        return pair, messages
    except (StateError, xc.XentInputError) as err:
        return _example(DEFAULT), [*messages, f"{err}; showing the default example"]


def session() -> E.TableState:
    key = f"{P}.pair"
    if key not in st.session_state:
        pair, messages = _decode(st.query_params.to_dict())
        st.session_state[f"{P}.messages"] = messages
        st.session_state[key] = E.TableState(pair)
    return st.session_state[key]


def class_names(c: int) -> list[str]:
    return [f"class {k}" for k in range(c)]


def controls(ts: E.TableState) -> str:
    """The example picker, the number of classes (neither in the read-only figure view) and the unit."""
    left, mid, right = st.columns([4, 2, 2], vertical_alignment="bottom")

    def load():
        key = st.session_state[f"{P}.example"]
        if key in EXAMPLES:
            ts.reset(_example(key))
        st.session_state[f"{P}.example"] = None  # picking the same example again reloads it

    def resize():
        c = int(st.session_state[f"{P}.c"])
        old = ts.effective if ts.effective is not None else ts.value
        ts.reset(E.resize_columns(old, c))

    if not FIGURE_ONLY:
        left.selectbox(
            "Example",
            list(EXAMPLES),
            format_func=lambda k: EXAMPLES[k][0],
            index=None,
            placeholder="Load an example…",
            key=f"{P}.example",
            on_change=load,
        )
        st.session_state[f"{P}.c"] = ts.value.shape[1]
        mid.number_input("Classes C", 2, MAX_CLASSES, key=f"{P}.c", on_change=resize, step=1)
    return W.choice(
        left if FIGURE_ONLY else right,
        "Unit",
        dc.UNITS,
        default="nats",
        key="unit",
        help="nats use the natural log (torch's losses); bits use log base 2 (divide by log 2 ≈ 0.693).",
    )


@st.fragment
def workbench() -> None:
    ts = session()
    share.link_problems(st.session_state.get(f"{P}.messages", []))
    E.keep_edits(ts, f"{P}.table.{ts.version}")  # edits made before a trip to another page
    unit = controls(ts)
    c = ts.value.shape[1]
    names = class_names(c)
    key = f"{P}.table.{ts.version}"
    if ts.frame is None:
        ts.frame = pd.DataFrame(ts.value, columns=[E.col(k) for k in range(c)], index=list(ROWS))
    pair, errors = E.apply_number_edits(
        ts.value,
        E.edits(key),
        lambda r, k: f"{ROWS[r]}, {names[k]!r}",
        what="a probability",
        fallback=ts.effective,
        non_negative=True,
    )
    if FIGURE_ONLY:
        config = {E.col(k): st.column_config.NumberColumn(n, format="%.4f") for k, n in enumerate(names)}
        st.dataframe(ts.frame, column_config=config, width="stretch")
    else:  # ui/grid: an edit is sent when committed (st.data_editor waits ~150 ms), as on the playground
        columns = grid.number_columns(names, help="Any non-negative number; rows are normalised.")
        refused = grid.refused_cells(E.edits(key), columns, lambda value: E.parse_number(value, non_negative=True))
        grid.grid(
            key,
            label="Target y and prediction p",
            columns=columns,
            rows=ts.value.tolist(),
            version=ts.version,
            invalid=refused,
            row_labels=ROWS,
        )
    for message in errors:
        st.error(message, icon=":material/error:")
    if errors:
        st.caption("Results below use the last valid value of each cell marked above; your other edits are applied.")
    try:
        d = dc.decompose(pair[0], pair[1], unit=unit)
        st.session_state[f"{P}.last_valid"] = pair
    except xc.XentInputError as err:
        st.error(f"These distributions cannot be used: {err}.", icon=":material/error:")
        pair = st.session_state.get(f"{P}.last_valid", _example(DEFAULT))
        if pair.shape[1] != c:
            return
        st.caption("Showing the last valid pair instead.")
        d = dc.decompose(pair[0], pair[1], unit=unit)
    ts.effective = pair
    notes = [
        f"the {what} summed to {total:.4g} and was divided by that"
        for what, total in (("target", d.target_total), ("prediction", d.prediction_total))
        if abs(total - 1) > 1e-9
    ]
    if notes:
        st.caption("Normalised: " + "; ".join(notes) + ".")
    own = (
        {}
        if np.array_equal(pair, _example(DEFAULT))
        else {"y": U.encode_matrix(pair[:1]), "p": U.encode_matrix(pair[1:])}
    )
    E.sync_query(f"{P}.url_written", {"y": own.get("y"), "p": own.get("p")})

    m1, m2, m3, m4 = st.columns(4)
    fmt = theme.fmt  # ∞ where p = 0 on a class the target wants
    m1.metric(f"Entropy H(y), {unit}", fmt(d.entropy), help="torch.special.entr(y).sum()")
    m2.metric(f"Cross-entropy H(y, p), {unit}", fmt(d.cross_entropy), help="F.cross_entropy(torch.log(p), y)")
    m3.metric(f"KL(y ‖ p), {unit}", fmt(d.kl), help="F.kl_div(torch.log(p), y, reduction='sum')")
    m4.metric(f"Uniform guess log C, {unit}", fmt(d.baseline), help="H(y, p) of p = 1/C against a one-hot y")
    check = TX.decomposition_check(d)
    text = f"PyTorch agrees ({check.what}, float64): largest relative difference {check.max_diff:.1e}."
    if check.ok:
        st.success(text, icon=":material/check_circle:")
    else:
        st.error("PyTorch DISAGREES. " + text, icon=":material/cancel:")
    if not np.isfinite(d.kl):
        st.info(
            "The prediction gives probability 0 to a class the target wants: −log 0 = ∞. This is why models output "
            "logits: softmax never gives exactly 0, so the loss stays finite (if huge).",
            icon=":material/lightbulb:",
        )
    left, right = st.columns(2)
    FIG.decomposition_bars(d).show(left)
    FIG.distribution_bars(d, names).show(right)
    FIG.term_bars(d, names).show(right)
    right.caption("A KL term y log(y / p) is negative where p > y; the KL terms still sum to KL(y ‖ p) ≥ 0.")
    reading(d, unit)
    share.panel(P, "Information", own, {"unit": (unit, "nats")})


def reading(d: dc.Decomposition, unit: str) -> None:
    st.subheader("What is a good loss?")
    scale = dc.loss_scale(d.num_classes, unit=unit)
    FIG.loss_ruler(scale, here=d.cross_entropy, floor=d.entropy).show(st)
    base = "e" if unit == "nats" else "2"
    st.markdown(
        f"- **The random-guess baseline is log C = {theme.fmt(d.baseline, 3)} {unit}** (C = {d.num_classes}): the "
        "loss of predicting 1/C for every class, where an untrained classifier starts. A loss at or above it means "
        "the model has learned nothing (or is confidently wrong).\n"
        f"- **A loss L means the true class gets probability {base}^−L** on (geometric) average: 0.105 nats is "
        "90%, 0.693 is 50%, 2.303 is 10%. One confidently wrong sample (p = 0.001: 6.9 nats) weighs as much as "
        "dozens of good ones.\n"
        "- **The floor is H(y)**: 0 for one-hot targets, above 0 for soft or smoothed ones, so a smoothed model "
        "can never reach 0. What counts as good depends on the task: compare with log C and with a simple baseline "
        "model, not with 0."
    )
    st.subheader("Training vs validation loss")
    a, b, c = st.columns([2, 2, 5], vertical_alignment="top")
    train = a.number_input(f"Training loss ({unit})", 0.0, 50.0, 0.35, 0.05, key=f"{P}.train")
    val = b.number_input(f"Validation loss ({unit})", 0.0, 50.0, 0.62, 0.05, key=f"{P}.val")
    try:
        tv = dc.train_val_reading(train, val, d.num_classes, unit=unit)
    except xc.XentInputError as err:
        c.error(str(err), icon=":material/error:")
        return
    c.markdown(
        f"Training: the true class gets {tv.train_prob:.0%} on average; validation: {tv.val_prob:.0%} "
        f"(log C = {theme.fmt(tv.baseline, 3)} {unit} with {d.num_classes} classes).\n\n**{tv.message}**"
    )
    st.caption(
        "The training loss is measured on data the model has fitted, the validation loss on data it has not seen. "
        "A validation loss that rises while the training loss keeps falling is the classic sign to stop training. "
        "The loss can rise while accuracy still improves: a few confidently wrong samples dominate the mean."
    )


workbench()
