"""The cross-entropy playground: edit logits and targets, see every step, the loss and its gradient."""

import streamlit as st

import xent_core as xc
from ui import editors, figures, grid, nav, share, state, tables, theme, torch_check
from ui import page_params as U
from ui import widgets as W
from ui.state import Batch

P = "pg"  # session-state prefix of this page
IGNORE_INDEX = -100
REDUCTIONS = ("mean", "sum", "none")
SMOOTHING = (0.0, 1.0, 0.0, 0.01)  # min, max, default, step
TEMPERATURE = (0.1, 5.0, 1.0, 0.05)
BOUND = {  # the options bound to the URL: what a link may give them
    "reduction": U.Choice(REDUCTIONS),
    "smoothing": U.Number(*SMOOTHING[:2]),
    "temperature": U.Number(*TEMPERATURE[:2]),
}
REDUCTION_HELP = (
    "torch's `reduction`: 'mean' averages (weighted by class weights), 'sum' adds, 'none' keeps one loss per sample."
)
SMOOTHING_HELP = (
    "torch's `label_smoothing`: the target becomes (1 − ε)·one-hot + ε/C; the model is never asked for 100%."
)
TEMPERATURE_HELP = "Divides the logits before softmax: T > 1 flattens the probabilities, T < 1 sharpens them."
GRADIENT_NOTE = (
    "How to read the gradient: gradient descent moves each logit *against* its gradient. The target's "
    "gradient is negative (p − 1 < 0), so its logit is pushed **up**; every other class has a positive "
    "gradient equal to its probability, so its logit is pushed **down**. A confident, correct row has a "
    "gradient near zero: nothing left to learn."
)

st.set_page_config(page_title="Playground · xent", page_icon=theme.FAVICON, layout="wide")
nav.sidebar()
figure_only = share.figure_only(P)  # ?view=figure: a read-only figure for a lecture slide

st.title("Cross-entropy playground")
if not figure_only:
    st.markdown(
        "Each row is one sample: a **logit** per class (any real number) and its **target** class. "
        "Edit any cell: softmax, the loss and its gradient update as you type."
    )
if err := editors.url_error(P):
    st.warning(err, icon=":material/link_off:")
share.link_problems(share.bound_problems(P, BOUND))


def options() -> tuple[str, float, float, bool]:
    """Loss options; the first three live in the URL through Streamlit's query-parameter binding."""
    row = st.container(horizontal=True, vertical_alignment="bottom", gap="medium", key=f"{P}.options")
    # one click, and all three in sight
    reduction = W.choice(row, "Reduction", REDUCTIONS, default="mean", key="reduction", help=REDUCTION_HELP)
    smoothing = row.slider("Label smoothing ε", *SMOOTHING, key="smoothing", bind="query-params", help=SMOOTHING_HELP)
    temperature = row.slider(
        "Softmax temperature T", *TEMPERATURE, key="temperature", bind="query-params", help=TEMPERATURE_HELP
    )
    if "weights" not in st.session_state:  # a link with class weights (w=...) opens with them on
        st.session_state["weights"] = editors.current_batch(P).weight is not None
    use_weights = row.toggle("Class weights", key="weights", help="torch's `weight`: one factor per class.")
    return reduction, smoothing, temperature, use_weights


def denominator_text(trace: xc.CrossEntropyTrace) -> str:
    if trace.reduction != "mean":
        return "nothing is divided"
    what = "the summed weights of the non-ignored targets" if trace.target_kind == "index" else "the number of samples"
    return f"{theme.fmt(trace.denominator, 2)} here: {what}"


@st.fragment  # picking another sample reruns only this
def one_sample(trace: xc.CrossEntropyTrace, names: list[str]) -> None:
    row = st.selectbox("Sample", range(len(trace.per_sample)), format_func=lambda r: f"row {r}", key=f"{P}.row")
    grid.view(f"{P}.inside.table", label=f"Row {row}, every class", table=tables.class_frame(trace, row, names))


@st.fragment
def workbench() -> None:
    """The example picker, the batch setup, the options and everything they change: an edit reruns only
    this fragment (a resize or a new example included), and Streamlit's front end reuses the elements
    whose content did not change."""
    if not figure_only:
        editors.controls(P)
    reduction, smoothing, temperature, use_weights = options()
    if figure_only:
        result = editors.EditorResult(editors.current_batch(P), ())
    else:
        result = editors.batch_editor(P, use_weights=use_weights)
        for message in result.errors:
            st.error(theme.md_escape(message), icon=":material/error:")  # may quote names and typed text
        if result.errors:
            st.caption(
                "Results below use the last valid value of each cell marked above; your other edits are applied."
            )

    batch: Batch = result.batch
    target = batch.loss_target(IGNORE_INDEX)
    loss_options = dict(
        weight=batch.weight,
        ignore_index=IGNORE_INDEX,
        reduction=reduction,
        label_smoothing=smoothing,
        temperature=temperature,
    )
    try:
        trace = xc.cross_entropy_trace(batch.logits, target, **loss_options)
    except xc.XentInputError as err:
        st.error(f"These inputs cannot be used: {err}", icon=":material/error:")
        return

    # headline: the loss, the uniform-guess baseline, and torch's verdict
    names = batch.class_names
    head1, head2 = st.columns([2, 5])
    loss_label = {"mean": "Loss (mean)", "sum": "Loss (sum)", "none": "Loss (sum of per-sample)"}[reduction]
    head1.metric(
        loss_label,
        theme.fmt(trace.loss),
        delta=f"uniform guess: log C = {theme.fmt(trace.baseline)}",
        delta_color="off",
        delta_arrow="off",
        help="What torch returns (for 'none': the sum of the per-sample losses). log C is the loss of predicting "
        "1/C for every class, where training starts.",
    )
    check = torch_check.cross_entropy_check(batch.logits, target, trace.loss, trace.grad, **loss_options)
    badge = (
        f"PyTorch agrees: F.cross_entropy gives {theme.fmt(check.torch_loss)}; largest difference "
        f"{check.max_loss_diff:.1e} in the loss, {check.max_grad_diff:.1e} in the gradient (float64)."
    )
    if check.ok:
        head2.success(badge, icon=":material/check_circle:")
    else:
        head2.error("PyTorch DISAGREES. " + badge, icon=":material/cancel:")
    for note in xc.advise(batch.logits, target if batch.target_mode == "probs" else None):
        st.info(note.message, icon=":material/lightbulb:")

    # charts: drawn on the server as SVG (ui/svg.py says why); their numbers are in the tables below
    left, right = st.columns(2)
    figures.probability_bars(trace.probs, trace.target_distribution, names, trace.ignored).show(left)
    figures.loss_bars(trace.per_sample, trace.baseline, trace.ignored).show(right)
    figures.gradient_heatmap(trace.grad, names, figures.target_mask(trace.target_distribution)).show(st)
    st.caption(GRADIENT_NOTE)

    # the pipeline, step by step
    st.subheader("Step by step")
    st.markdown(
        "For each sample: **exp** each logit, **sum** them, divide (**softmax**), pick the target's probability "
        "p, take **−log p**, multiply by the class **weight**, and divide by the reduction's denominator "
        f"({denominator_text(trace)})."
    )
    grid.view(f"{P}.pipeline", label="Step by step, one row per sample", table=tables.pipeline_frame(trace, names))

    # details built only when opened (each costs a few ms per edit otherwise)
    inside = st.expander("Look inside one sample: every class", key=f"{P}.inside", on_change="rerun")
    if inside.open:
        with inside:
            one_sample(trace, names)
    code = st.expander("PyTorch code for exactly this example", key=f"{P}.code", on_change="rerun")
    if code.open:
        code.code(torch_check.pytorch_code(batch.logits, target, class_names=names, **loss_options), language="python")

    editors.sync_url(P, batch)
    bound = {"reduction": (reduction, "mean"), "smoothing": (smoothing, 0.0), "temperature": (temperature, 1.0)}
    share.panel(P, "Playground", state.encode_query(batch), bound)


workbench()
