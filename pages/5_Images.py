"""Cross-entropy on images: one loss per pixel (K-dimensional input), void pixels ignored."""

import numpy as np
import pandas as pd
import streamlit as st

import xent_core as xc
from ui import image_figures as IF
from ui import nav, share, theme
from ui import page_params as U
from ui import table_edits as E
from ui import torch_checks_extra as TX
from ui import widgets as W
from ui.scenes import FORUM_PARAMS, SCENES, SceneParams, make_scene
from ui.state import StateError
from xent_core import images as im

P = "img"  # session-state prefix of this page
DEFAULTS = dict(height=16, width=16, classes=4, noise=0.5, seed=0, void=True)
VOID = im.VOID
BOUND = {
    "scene": U.Choice(SCENES),
    "height": U.Number(2, im.MAX_SIDE, integer=True),
    "width": U.Number(2, im.MAX_SIDE, integer=True),
    "classes": U.Number(im.MIN_CLASSES, im.MAX_CLASSES, integer=True),
    "noise": U.Number(0.0, 3.0),
    "scene_seed": U.Number(0, 999, integer=True),
    "void": U.Flag(),
    "pixel_reduction": U.Choice(("mean", "sum")),
}

BOUND_DEFAULTS = {  # the URL-bound widgets' defaults, for the share link
    "scene": SCENES[0],
    "height": DEFAULTS["height"],
    "width": DEFAULTS["width"],
    "classes": DEFAULTS["classes"],
    "noise": DEFAULTS["noise"],
    "scene_seed": DEFAULTS["seed"],
    "void": DEFAULTS["void"],
    "pixel_reduction": "mean",
}

st.set_page_config(page_title="Images · xent", page_icon=theme.FAVICON, layout="wide")
nav.sidebar()
FIGURE_ONLY = share.figure_only(P)  # ?view=figure: no mask editor, for a lecture slide

st.title("Cross-entropy on images")
st.markdown(
    "A segmentation model scores **every pixel**: logits of shape (N, C, H, W), a target mask (N, H, W) of class "
    "indices, and `F.cross_entropy` takes the softmax over the class dimension at each pixel and averages the "
    f"per-pixel losses. Pixels labelled **{VOID}** (void: object boundaries, as Pascal VOC marks them) are "
    f"skipped with `ignore_index={VOID}`: no loss, no gradient, and not counted in the mean."
)


def url_state() -> dict:
    """The link's problems and its mask, read once per session (Streamlit drops bad bound values silently)."""
    key = f"{P}.url"
    if key not in st.session_state:
        query = st.query_params.to_dict()
        st.session_state[key] = {
            "messages": U.check_bound(query, BOUND),
            "mask": query.get("mask"),
        }
    return st.session_state[key]


def initial_mask(scene: im.Scene) -> np.ndarray:
    """The mask from the link (once, if it fits this scene), else the scene's own."""
    state = url_state()
    text = state.pop("mask", None)
    if not text:
        return scene.target[0].copy()
    try:
        if len(text) > U.MAX_PARAM_LENGTH:
            raise StateError(f"the link's 'mask' is too long ({len(text)} characters)")
        mask = U.decode_int_matrix(text, "mask", shape=scene.size)
        U.check_classes(mask, "mask", scene.num_classes, void=VOID)
        return mask
    except StateError as err:
        state["messages"].append(f"{err}; showing the scene's own mask")
        return scene.target[0].copy()


def options() -> tuple[SceneParams, float, str]:
    a, b, c, d = st.columns([3, 2, 2, 2], vertical_alignment="bottom")
    scene = W.choice(a, "Example", SCENES, default=SCENES[0], key="scene")
    generated = scene == SCENES[0]
    fixed = dict(bind="query-params", disabled=not generated)
    height = b.slider("Height H", 2, im.MAX_SIDE, DEFAULTS["height"], key="height", **fixed)
    width = c.slider("Width W", 2, im.MAX_SIDE, DEFAULTS["width"], key="width", **fixed)
    classes = d.slider("Classes C", im.MIN_CLASSES, im.MAX_CLASSES, DEFAULTS["classes"], key="classes", **fixed)
    e, f, g, h = st.columns([3, 2, 2, 2], vertical_alignment="bottom")
    noise = e.slider(
        "Noise on the logits (σ)",
        0.0,
        3.0,
        DEFAULTS["noise"],
        0.1,
        key="noise",
        bind="query-params",
        disabled=not generated,
        help="Standard normal noise times σ, added to every logit: a less certain, patchier model.",
    )
    seed = f.number_input(
        "Scene seed", 0, 999, DEFAULTS["seed"], 1, key="scene_seed", bind="query-params", disabled=not generated
    )
    void = g.toggle(
        f"Void boundaries ({VOID})",
        value=DEFAULTS["void"],
        key="void",
        bind="query-params",
        disabled=not generated,
        help=f"Label the objects' boundary pixels {VOID}, as Pascal VOC does: the loss ignores them.",
    )
    reduction = W.choice(h, "Reduction", ("mean", "sum"), default="mean", key="pixel_reduction")
    if not generated:
        return FORUM_PARAMS, 0.0, reduction
    return SceneParams(scene, int(height), int(width), int(classes), int(seed), bool(void)), float(noise), reduction


@st.fragment
def workbench() -> None:
    params, noise, reduction = options()
    try:
        scene = make_scene(params, noise)
    except xc.XentInputError as err:
        st.error(f"This scene cannot be made: {err}", icon=":material/error:")
        return
    ts = E.table_state(f"{P}.mask", lambda: (params, initial_mask(scene)))
    if ts.value[0] != params:  # a new scene: a new mask (noise changes only the logits)
        ts.reset((params, scene.target[0].copy()))
    mask0 = ts.value[1]
    h, w = scene.size
    names = scene.class_names
    share.link_problems(url_state()["messages"])

    editor = None if FIGURE_ONLY else st.expander("Edit the target mask", key=f"{P}.edit", on_change="rerun")
    mask, errors = mask0, []
    if editor is not None and editor.open:
        E.keep_edits(ts, f"{P}.mask.{ts.version}", lambda mask: (params, mask))  # edits made before it was closed
        mask0 = ts.value[1]
        key = f"{P}.mask.{ts.version}"
        mask, errors = E.apply_label_edits(
            mask0,
            E.edits(key),
            scene.num_classes,
            VOID,
            lambda r, c: f"row {r}, column {c}",
            fallback=None if ts.effective is None else ts.effective,
        )
        ts.effective = mask
        if ts.frame is None:
            ts.frame = pd.DataFrame(mask0, columns=[f"x{c}" for c in range(w)])
        editor.caption(
            f"One cell per pixel: a class 0..{scene.num_classes - 1} "
            f"({', '.join(f'{k} = {n}' for k, n in enumerate(names))}) or {VOID} for void."
        )
        editor.data_editor(
            ts.frame,
            key=key,
            column_config={
                f"x{c}": st.column_config.NumberColumn(str(c), min_value=0, max_value=VOID, step=1, format="%d")
                for c in range(w)
            },
            num_rows="fixed",
            width="stretch",
        )

        def reset():
            ts.reset((params, scene.target[0].copy()))

        editor.button(":material/restart_alt: The scene's own mask", key=f"{P}.mask.reset", on_click=reset)
    elif ts.effective is not None:
        mask = ts.effective
    for message in errors:
        st.error(message, icon=":material/error:")
    if errors:
        st.caption("Results below use the last valid label of each cell marked above; your other edits are applied.")
    edited = not np.array_equal(mask, scene.target[0])
    E.sync_query(f"{P}.url_written", {"mask": U.encode_int_matrix(mask) if edited else None})

    target = mask[None]
    try:
        r = im.pixel_losses(scene.logits, target, ignore_index=VOID, reduction=reduction)
    except xc.XentInputError as err:
        st.error(f"These inputs cannot be used: {err}", icon=":material/error:")
        return

    total = h * w
    void_count = total - r.num_counted
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(
        f"Loss ({reduction} over counted pixels)",
        theme.fmt(r.loss),
        help=f"F.cross_entropy(logits, target, ignore_index={VOID}, reduction={reduction!r})",
    )
    m2.metric(
        "Pixel accuracy", "—" if np.isnan(r.accuracy) else f"{r.accuracy:.1%}", help="argmax == target, void excluded"
    )
    m3.metric("Counted pixels", f"{r.num_counted} of {total}", help=f"{void_count} void pixels are ignored")
    m4.metric("Uniform guess log C", theme.fmt(r.baseline), help="The loss of predicting 1/C at every pixel.")
    if r.num_counted == 0:
        st.warning(
            "Every pixel is void: the mean is 0 / 0 = nan, as in torch. Turn off the void boundaries or enlarge the "
            "image.",
            icon=":material/warning:",
        )
    check = TX.pixel_check(scene.logits, target, VOID, reduction, r)
    text = (
        f"PyTorch agrees: {check.what} gives {theme.fmt(check.torch_values['loss'])} on the "
        f"1×{scene.num_classes}×{h}×{w} logits; largest relative difference {check.max_diff:.1e} (float64)."
    )
    if check.ok:
        st.success(text, icon=":material/check_circle:")
    else:
        st.error("PyTorch DISAGREES. " + text, icon=":material/cancel:")
    if reduction == "mean":
        st.caption(
            f"mean = Σ over the {r.num_counted} counted pixels of −log p(target) / {r.num_counted}: the {void_count} "
            "void pixels are in neither the sum nor the count (dividing by all "
            f"{total} pixels would understate the loss)."
        )

    px = int(max(8, min(40, 300 // max(h, w))))
    a, b, c = st.columns(3)
    a.plotly_chart(
        IF.class_map(mask, names, VOID, "Target mask", px=px), key=f"{P}.fig.target", config=theme.PLOTLY_CONFIG
    )
    b.plotly_chart(
        IF.class_map(
            r.predicted[0], names, VOID, "Predicted class (argmax); ✕ wrong", wrong=~r.correct[0] & ~r.ignored[0], px=px
        ),
        key=f"{P}.fig.pred",
        config=theme.PLOTLY_CONFIG,
    )
    c.plotly_chart(
        IF.loss_map(r.per_pixel[0], r.ignored[0], px=px),
        key=f"{P}.fig.loss",
        config=theme.PLOTLY_CONFIG,
    )
    st.caption(
        f"Colours as in the bar chart below; cream: void ({VOID}), ignored; ✕: a wrong prediction. Hover a pixel "
        "for its class and loss."
    )
    left, right = st.columns([3, 2])
    left.plotly_chart(
        IF.class_loss_bars(r.class_loss, r.class_count, r.baseline, names),
        key=f"{P}.fig.classes",
        config=theme.PLOTLY_CONFIG,
    )
    right.dataframe(IF.class_table(r, names), hide_index=True)
    right.caption(
        "A small class the model misses has a high mean loss but few pixels, so it barely moves the overall mean: "
        "the usual reason to add class weights (torch's `weight`) in segmentation."
    )

    inside = st.expander("Look inside one pixel", key=f"{P}.inside", on_change="rerun")
    if inside.open:
        i1, i2 = inside.columns(2)
        row = i1.number_input("Row", 0, h - 1, min(h // 2, h - 1), key=f"{P}.row")
        col = i2.number_input("Column", 0, w - 1, min(w // 2, w - 1), key=f"{P}.col")
        row, col = int(row), int(col)
        label = int(mask[row, col])
        z = scene.logits[0, :, row, col]
        loss_text = (
            "void: ignored, no loss" if label == VOID else f"loss −log p = {theme.fmt(r.per_pixel[0, row, col])}"
        )
        target_text = "void" if label == VOID else names[label]
        predicted = names[r.predicted[0, row, col]]
        inside.markdown(
            f"Pixel (row {row}, column {col}): target **{target_text}**, predicted **{predicted}**, "
            f"{loss_text}. Logits: {', '.join(theme.fmt(v, 2) for v in z)}."
        )
        inside.plotly_chart(
            IF.pixel_bars(r.probs[0, :, row, col], label, names, VOID),
            key=f"{P}.fig.pixel",
            config=theme.PLOTLY_CONFIG,
        )
    code = st.expander("PyTorch code for these shapes", key=f"{P}.code", on_change="rerun")
    if code.open:
        code.code(
            "import torch\nimport torch.nn.functional as F\n\n"
            f"logits = model(images)            # ({1}, {scene.num_classes}, {h}, {w}): a score per class and pixel\n"
            f"target = masks.long()             # ({1}, {h}, {w}): a class per pixel, {VOID} = void\n"
            f"loss = F.cross_entropy(logits, target, ignore_index={VOID}, reduction={reduction!r})\n"
            f"per_pixel = F.cross_entropy(logits, target, ignore_index={VOID}, reduction='none')  # ({1}, {h}, {w})\n"
            "predicted = logits.argmax(dim=1)   # the predicted class map\n",
            language="python",
        )
    share.panel(
        P,
        "Images",
        lambda: {"mask": U.encode_int_matrix(mask)} if edited else {},
        lambda: share.bound_values(BOUND_DEFAULTS),
    )


url_state()
workbench()
