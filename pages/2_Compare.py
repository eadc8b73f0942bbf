"""Cross-entropy beside MSE, hinge, label smoothing, focal and the sigmoid loss, on the same inputs."""

import numpy as np
import streamlit as st

import xent_core as xc
from ui import compare_cache, editors, grid, loss_figures, loss_options, nav, share, state, tables, theme, torch_check
from ui import page_params as U
from ui import widgets as W
from ui.table_edits import apply_check_edits, apply_number_edits, edits

P = "cmp"  # session-state prefix of this page
DEFAULT_LOSSES = ["ce", "smoothed_ce", "mse", "hinge"]
TABS = ["Sweep one sample", "Loss landscape", "Binary & multi-label"]
MARGIN = (0.0, 5.0, 1.0, 0.1)  # min, max, default, step
BOUND = {  # the options bound to the URL: what a link may give them (Streamlit sorts out the losses itself)
    **loss_options.BOUND,
    "margin": U.Number(*MARGIN[:2]),
    "p": U.Choice(("1", "2")),
    "tab": U.Choice(tuple(TABS)),
}

st.set_page_config(page_title="Compare losses · xent", page_icon=theme.FAVICON, layout="wide")
nav.sidebar()

figure_only = share.figure_only(P)  # ?view=figure: a read-only figure for a lecture slide

st.title("Why cross-entropy? Compare the losses")
st.markdown(
    "The same batch through several losses. Look at the **confidently wrong** rows: cross-entropy "
    "charges them the most and pushes their target logit hardest, while MSE on probabilities and the "
    "sigmoid loss barely react, because their gradients vanish exactly where the model is most wrong."
)
if err := editors.url_error(P):
    st.warning(err, icon=":material/link_off:")
share.link_problems(share.bound_problems(P, BOUND))


def options() -> tuple[list[str], xc.LossOptions]:
    """Which losses and their options; all of it lives in the URL through query-parameter binding."""
    chosen = st.pills(
        "Losses",
        list(xc.LOSSES),
        selection_mode="multi",
        default=DEFAULT_LOSSES,
        format_func=lambda k: xc.LOSSES[k].name,
        key="losses",
        bind="query-params",
    )
    row = st.container(horizontal=True, vertical_alignment="bottom", gap="medium", key=f"{P}.options")
    eps = loss_options.smoothing_slider(row, chosen)
    margin = row.slider(
        "Hinge margin",
        *MARGIN,
        key="margin",
        bind="query-params",
        disabled="hinge" not in chosen,
        help="How far the target logit must lead every other logit before the hinge loss is exactly 0.",
    )
    power = W.choice(
        row,
        "Hinge p",
        [1, 2],
        default=1,
        key="p",
        disabled="hinge" not in chosen,
        help="1: linear hinge, 2: squared hinge (torch's multi_margin_loss p).",
    )
    gamma = loss_options.gamma_slider(row, chosen)
    return list(chosen or []), xc.LossOptions(label_smoothing=eps, margin=margin, p=int(power), gamma=gamma)


def ranking_lines(results: dict[str, xc.LossResult]) -> list[str]:
    """'cross-entropy: row 2 > row 0 > row 1', one line per loss, the sample it charges most first."""
    lines = []
    for key, r in results.items():
        order = sorted(range(len(r.per_sample)), key=lambda n: -r.per_sample[n])
        ranked = " > ".join(f"row {n}" for n in order)
        lines.append(f"- **{xc.LOSSES[key].name}**: {ranked}")
    return lines


@st.fragment  # its sample picker and axis rerun only this tab
def sweep_tab(batch: state.Batch, chosen: list[str], opts: xc.LossOptions) -> None:
    left, right = st.columns([2, 3], vertical_alignment="bottom")
    row = left.selectbox("Sample", range(batch.num_samples), format_func=lambda r: f"row {r}", key=f"{P}.sweep_row")
    axis = right.segmented_control(
        "Horizontal axis",
        ["margin", "prob"],
        default="margin",
        format_func=lambda a: "logit margin" if a == "margin" else "probability p_t",
        key=f"{P}.sweep_axis",
    )
    z, t = batch.logits[row], int(batch.target[row])
    sweep = compare_cache.sweep(tuple(z.tolist()), t, tuple(chosen), opts)
    here_sweep = xc.target_logit_sweep(z, t, z[t : t + 1], [], opts)  # no losses: just margin and p_t
    here = float(here_sweep.margin[0] if axis != "prob" else here_sweep.prob[0])
    chart, note = st.columns(2, vertical_alignment="center")  # side by side on a desktop, stacked on a phone
    loss_figures.sweep_chart(sweep, here, x=axis or "margin").show(chart)
    note.caption(
        "Read the bottom panel from the left: when the target logit trails far behind, cross-entropy's push "
        "stays at its maximum (|∂loss/∂z_t| → 1) while MSE's and the sigmoid loss's fade to zero: a confidently "
        "wrong model gets no signal from them. The hinge is exactly flat once the margin is met; label "
        "smoothing's push changes sign, so its best logit is finite (it never asks for 100%)."
    )


@st.fragment  # its sample picker and scale switch rerun only this tab
def landscape_tab(batch: state.Batch, chosen: list[str], opts: xc.LossOptions) -> None:
    if batch.num_classes < 3:
        st.info("The landscape needs at least three classes: add one under **Batch setup**.", icon=":material/info:")
        return
    left, right = st.columns([2, 3], vertical_alignment="bottom")
    row = left.selectbox("Sample", range(batch.num_samples), format_func=lambda r: f"row {r}", key=f"{P}.land_row")
    shared = right.toggle("Same colour scale and arrow length for every loss", value=True, key=f"{P}.shared")
    if not chosen:
        st.info("Pick at least one loss above.", icon=":material/info:")
        return
    z, t = batch.logits[row], int(batch.target[row])
    lands = compare_cache.landscapes(z, t, chosen, opts)
    loss_figures.landscape_panels(lands, batch.class_names, t, shared_scale=shared).show(st)
    a, b = lands[chosen[0]].rivals
    names = [theme.md_escape(name) for name in batch.class_names]
    st.caption(
        f"Each panel moves the logits of {names[a]} and {names[b]} (the strongest wrong classes) relative to the "
        f"target {names[t]}, all else fixed. Bottom left is confidently right. Arrows show where gradient descent "
        "moves: long arrows in the top right mean a loss that corrects confident mistakes quickly."
    )


@st.fragment  # its own example: an edit here reruns only this tab
def multilabel_tab() -> None:
    ex = xc.MULTI_LABEL
    st.markdown(
        "When a photo can show several things at once, each class is its own yes/no question: **sigmoid + "
        "binary cross-entropy**. Softmax cannot do this: its probabilities share one unit, so two true "
        "classes get at most 50% each, and cross-entropy against the split target never drops below its "
        "entropy (log 2 ≈ 0.693 for two labels). " + ex.description
    )
    names = ex.class_names
    logit_columns = grid.number_columns(names, help="This class's logit: sigmoid(logit) is P(the photo shows it).")
    label_columns = [
        grid.Column(c.id, c.label, "check", help="Tick if the photo shows this class.") for c in logit_columns
    ]
    left, right = st.columns(2)
    left.caption("Logits (one row per photo)")
    right.caption("True labels (tick every class in the photo)")
    logits, labels, errors = ex.logits, ex.labels, []
    if figure_only:  # the example's tables, read-only
        with left:
            grid.view(f"{P}.ml.logits", label="Photo logits", table=tables.class_matrix(logits, names))
        with right:
            grid.view(f"{P}.ml.labels", label="True labels", table=tables.class_matrix(labels.astype(bool), names))
    else:
        with left:
            key = f"{P}.ml.logits"
            log = edits(key)
            logits, errors = apply_number_edits(
                logits, log, lambda r, c: f"row {r}, column {names[c]!r}", what="a logit"
            )
            refused = grid.refused_cells(log, logit_columns, lambda value: state.parse_cell(value, ""))
            grid.grid(
                key, label="Photo logits", columns=logit_columns, rows=ex.logits.tolist(), version=0, invalid=refused
            )
        with right:
            key = f"{P}.ml.labels"
            labels = apply_check_edits(labels, edits(key))
            grid.grid(key, label="True labels", columns=label_columns, rows=ex.labels.astype(bool).tolist(), version=0)
    for message in errors:
        st.error(message + " (the example's value is used instead)", icon=":material/error:")
    pos_weight = st.slider(
        "pos_weight (BCE's weight on the positive labels, the same for every class)",
        0.1,
        10.0,
        1.0,
        0.1,
        key=f"{P}.ml.pos_weight",
        help="torch's pos_weight: > 1 counts a missed true label more than a false alarm (for rare labels).",
    )
    try:
        ml = xc.multilabel_losses(logits, labels, pos_weight=np.full(len(names), pos_weight))
    except xc.XentInputError as err:
        st.error(f"These labels cannot be used: {err}", icon=":material/error:")
        return
    check = torch_check.multilabel_check(logits, labels, pos_weight, ml)
    _badge(check, "F.binary_cross_entropy_with_logits and F.cross_entropy")
    a, b = st.columns(2)
    a.metric("sigmoid + BCE (mean)", theme.fmt(ml.bce_mean))
    b.metric("softmax + CE (mean)", theme.fmt(ml.ce_mean))
    grid.view(f"{P}.ml.table", label="Each photo's losses", table=tables.multilabel_frame(ml, labels, names))
    row = st.selectbox("Photo", range(len(labels)), format_func=lambda r: f"row {r}", key=f"{P}.ml.row")
    loss_figures.multilabel_bars(ml, row, labels, names).show(st)


def _badge(check: torch_check.CrossCheck, what: str) -> None:
    text = (
        f"PyTorch agrees ({what}, float64): largest difference {check.max_loss_diff:.1e} in a loss, "
        f"{check.max_grad_diff:.1e} in a gradient."
    )
    if check.ok:
        st.success(text, icon=":material/check_circle:")
    else:
        st.error("PyTorch DISAGREES. " + text, icon=":material/cancel:")


@st.fragment
def workbench() -> None:
    """The example picker, the batch setup, the options and everything they change: an edit reruns only
    this fragment (a resize or a new example included), and Streamlit's front end reuses the elements
    whose content did not change."""
    if not figure_only:
        editors.controls(P, index_only=True)
    chosen, opts = options()
    if figure_only:
        result = editors.EditorResult(editors.current_batch(P).hard_targets(), ())
    else:
        result = editors.batch_editor(P, use_weights=False, index_only=True)
    for message in result.errors:
        st.error(theme.md_escape(message), icon=":material/error:")  # may quote names and typed text
    if result.errors:
        st.caption("Results below use the last valid value of each cell marked above; your other edits are applied.")
    batch = result.batch
    if not chosen:
        st.info("Pick at least one loss above.", icon=":material/info:")
    try:
        results = xc.compare_losses(batch.logits, batch.target, chosen, opts)
    except xc.XentInputError as err:
        st.error(f"These inputs cannot be used: {err}", icon=":material/error:")
        return
    probs = xc.softmax(batch.logits)
    p_target = probs[np.arange(batch.num_samples), batch.target]

    if results:
        _badge(torch_check.comparison_check(batch.logits, batch.target, results, opts), "every loss and gradient")
        means = st.container(horizontal=True, gap="medium", key=f"{P}.means")  # wraps on a phone
        for key, r in results.items():
            means.metric(f"{xc.LOSSES[key].name} (mean)", theme.fmt(r.mean), help=f"torch: {xc.LOSSES[key].torch}")
        left, right = st.columns([3, 2])
        loss_figures.loss_bars_by_sample(results, [f"row {n}" for n in range(batch.num_samples)]).show(left)
        if batch.num_samples <= 8:
            right.markdown("**How each loss ranks the samples** (the one it charges most first)")
            right.markdown("\n".join(ranking_lines(results)))
            order = " < ".join(f"row {n}" for n in np.argsort(p_target, kind="stable"))
            right.caption(f"By the target's probability p_t, from most wrong to most right: {order}.")
        per_sample = tables.comparison_frame(results, batch.target, batch.class_names, p_target)
        grid.view(f"{P}.per_sample", label="Each loss on each sample", table=per_sample)
        st.caption(
            "∂/∂z_t is each loss's gradient with respect to the target logit: negative means "
            "'raise the target logit', and its size is how hard the loss pushes."
        )

    sweep, land, multi = st.tabs(TABS, key="tab", bind="query-params")
    if sweep.open and chosen:
        with sweep:
            sweep_tab(batch, chosen, opts)
    if land.open:
        with land:
            landscape_tab(batch, chosen, opts)
    if multi.open:
        with multi:
            multilabel_tab()

    editors.sync_url(P, batch)
    bound = {
        # Streamlit writes a bound multiselect's options as they are displayed (format_func), repeated
        "losses": ([xc.LOSSES[k].name for k in chosen], [xc.LOSSES[k].name for k in DEFAULT_LOSSES]),
        "eps": (opts.label_smoothing, 0.1),
        "margin": (opts.margin, 1.0),
        "p": (opts.p, 1),
        "gamma": (opts.gamma, 2.0),
    }
    share.panel(
        P,
        "Compare",
        state.encode_query(batch),
        lambda: bound | share.bound_values({"tab": TABS[0]}),  # the open tab
        what="this comparison",
    )


workbench()
