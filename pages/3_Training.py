"""Training lab: the same network, from the same start, trained with different losses side by side."""

from collections import OrderedDict

import pandas as pd
import streamlit as st

from ui import loss_options, nav, share, theme
from ui import page_params as U
from ui import training_figures as tf
from ui import widgets as W
from xent_core import datasets as ds
from xent_core import training as tr
from xent_core.checks import XentInputError
from xent_core.compare import LossOptions

P = "lab"  # session-state prefix of this page
KINDS = ["spirals", "moons", "blobs"]  # xent_core.datasets.KINDS, the hardest first
MODELS = {"mlp": "MLP", "linear": "softmax regression"}
OPTIMIZERS = {"sgd": "SGD", "adam": "Adam"}
LEARNING_RATES = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0]
WIDTHS = [4, 8, 16, 32, 64]  # with 3 layers of 64 on 2000 points a step costs ~20 ms: 1000 steps ~20 s
IMBALANCES = [1, 2, 3, 5, 10, 20, 50, 100]
# (min, max) of the numeric settings: the widgets' bounds, and what a link may give them
CLASSES, NOISE, VAL, SEED, DEPTH, STEPS = (2, 6), (0, 50), (10, 50), (0, 9999), (1, 3), (50, 1000)
DEFAULT_DATA, DEFAULT_TRAIN = ds.DataConfig(), tr.TrainConfig()
KEEP = 16  # finished runs kept per server process: the same settings always give the same run

# Every setting is bound to the URL: its default and, where the widget shows its options through a
# format_func, that function (Streamlit writes the shown text into the URL), for the share link.
BOUND_DEFAULTS = {
    "losses": list(DEFAULT_TRAIN.losses),
    "eps": 0.1,
    "gamma": 2.0,
    "data": DEFAULT_DATA.kind,
    "classes": DEFAULT_DATA.num_classes,
    "points": DEFAULT_DATA.num_points,
    "noise": 0,
    "imbalance": 1,
    "val": 25,
    "seed": 0,
    "model": DEFAULT_TRAIN.model,
    "width": DEFAULT_TRAIN.width,
    "depth": DEFAULT_TRAIN.depth,
    "opt": DEFAULT_TRAIN.optimizer,
    "lr": DEFAULT_TRAIN.lr,
    "steps": DEFAULT_TRAIN.steps,
    "curves": "val",
    "points_shown": "train",
}
SHOWN_AS = {
    "losses": tf.loss_name,
    "model": MODELS.get,
    "opt": OPTIMIZERS.get,
    "lr": lambda v: f"{v:g}",
    "curves": lambda s: f"{tf.SPLITS[s]} set" if s != "both" else "both sets",
    "points_shown": tf.POINTS.get,
}
BOUND = {  # what a link may give each setting, in the URL's terms (Streamlit sorts out the losses itself)
    **loss_options.BOUND,
    "data": U.Choice(tuple(KINDS)),
    "classes": U.Number(*CLASSES, integer=True),
    "points": U.Number(ds.MIN_POINTS, ds.MAX_POINTS, integer=True),
    "noise": U.Number(*NOISE, integer=True),
    "imbalance": U.Choice(tuple(map(str, IMBALANCES))),
    "val": U.Number(*VAL, integer=True),
    "seed": U.Number(*SEED, integer=True),
    "model": U.Choice(tuple(MODELS.values())),
    "width": U.Choice(tuple(map(str, WIDTHS))),
    "depth": U.Number(*DEPTH, integer=True),
    "opt": U.Choice(tuple(OPTIMIZERS.values())),
    "lr": U.Choice(tuple(map(SHOWN_AS["lr"], LEARNING_RATES))),
    "steps": U.Number(*STEPS, integer=True),
    "curves": U.Choice(tuple(map(SHOWN_AS["curves"], tf.SPLITS))),
    "points_shown": U.Choice(tuple(map(SHOWN_AS["points_shown"], tf.POINTS))),
}

st.set_page_config(page_title="Training lab · xent", page_icon=theme.FAVICON, layout="wide")
nav.sidebar()
FIGURE_ONLY = share.figure_only(P)  # ?view=figure: the settings folded away and no Train button, for a lecture

st.title("Training lab: watch the losses train")
st.markdown(
    "Why does cross-entropy train better than MSE or a sigmoid “distance” loss? Here one small network is "
    "copied once per loss: every copy starts from **the same weights**, sees **the same data** and takes "
    "the same optimiser steps; only the loss differs. Every model's **cross-entropy** is measured as well, "
    "so that all of them can be compared in one unit, whatever they were trained on."
)
share.link_problems(share.bound_problems(P, BOUND))


def settings() -> tuple[ds.DataConfig, tr.TrainConfig]:
    """Every training setting, each bound to the URL; the widgets' bounds are the only values allowed."""
    bound = dict(bind="query-params")
    # In the read-only figure view the settings still exist (they hold the link's values) but start folded away.
    box = st.expander("Settings of this run", expanded=False) if FIGURE_ONLY else st.container(border=True)
    with box, st.container(key=f"{P}.settings"):
        loss_col, eps_col, gamma_col = st.columns([5, 1, 1], vertical_alignment="bottom")
        losses = loss_col.multiselect(
            "Losses to compare (2 to 4)",
            list(tr.TRAINING_LOSSES),
            default=list(DEFAULT_TRAIN.losses),
            format_func=tf.loss_name,
            max_selections=tr.MAX_LOSSES,
            wrap=True,
            key="losses",
            help="Class-weighted CE weighs each class by N / (C · its count in the training labels).",
            **bound,
        )
        eps = loss_options.smoothing_slider(eps_col, losses)
        gamma = loss_options.gamma_slider(gamma_col, losses)
        data_col, model_col, train_col = st.columns(3, gap="large")
        with data_col:
            kind = W.choice(st, "Data", KINDS, default=DEFAULT_DATA.kind, key="data")
            classes_col, points_col = st.columns(2)
            classes = classes_col.slider("Classes", *CLASSES, DEFAULT_DATA.num_classes, key="classes", **bound)
            points = points_col.slider(
                "Points",
                ds.MIN_POINTS,
                ds.MAX_POINTS,
                DEFAULT_DATA.num_points,
                50,
                key="points",
                help="Before the split into training and validation points.",
                **bound,
            )
            with st.expander("Noise, imbalance, split, seed", key=f"{P}.harder"):
                noise = st.slider(
                    "Label noise",
                    *NOISE,
                    0,
                    5,
                    format="%d %%",
                    key="noise",
                    help="The share of the training labels changed to another class at random. Validation "
                    "labels stay true, so validation accuracy shows what each model learned about the real classes.",
                    **bound,
                )
                imbalance = st.select_slider(
                    "Class imbalance: the largest class has this many times the points of the smallest",
                    IMBALANCES,
                    value=1,
                    key="imbalance",
                    **bound,
                )
                val = st.slider("Validation share", *VAL, 25, 5, format="%d %%", key="val", **bound)
                seed = st.number_input(
                    "Seed",
                    *SEED,
                    0,
                    1,
                    key="seed",
                    help="Draws the points, the split, the label noise and the initial weights.",
                    **bound,
                )
        with model_col:
            model = W.choice(
                st,
                "Model",
                list(MODELS),
                default=DEFAULT_TRAIN.model,
                format_func=MODELS.get,
                key="model",
                help="Softmax regression has no hidden layer: its regions are cut by straight lines.",
            )
            linear = model == "linear"
            width_col, depth_col = st.columns(2)
            width = width_col.select_slider(
                "Hidden width", WIDTHS, value=DEFAULT_TRAIN.width, key="width", disabled=linear, **bound
            )
            depth = depth_col.slider(
                "Hidden layers", *DEPTH, DEFAULT_TRAIN.depth, key="depth", disabled=linear, **bound
            )
        with train_col:
            optimizer = W.choice(
                st,
                "Optimiser",
                list(OPTIMIZERS),
                default=DEFAULT_TRAIN.optimizer,
                format_func=OPTIMIZERS.get,
                key="opt",
                help="SGD (momentum 0.9) steps in proportion to each loss's gradient; Adam rescales every "
                "gradient to a similar size, which hides part of the difference between the losses.",
            )
            lr_col, steps_col = st.columns(2)
            lr = lr_col.select_slider(
                "Learning rate",
                LEARNING_RATES,
                value=DEFAULT_TRAIN.lr,
                format_func=lambda v: f"{v:g}",
                key="lr",
                **bound,
            )
            steps = steps_col.slider(
                "Steps",
                *STEPS,
                DEFAULT_TRAIN.steps,
                50,
                key="steps",
                help="Full-batch steps: each one uses every training point.",
                **bound,
            )
    data = ds.DataConfig(
        kind=kind,
        num_classes=classes,
        num_points=points,
        label_noise=noise / 100,
        imbalance=float(imbalance),
        val_fraction=val / 100,
        seed=int(seed),
    )
    train = tr.TrainConfig(
        losses=tuple(losses),
        model=model,
        width=width,
        depth=depth,
        optimizer=optimizer,
        lr=lr,
        steps=steps,
        options=LossOptions(label_smoothing=eps, gamma=gamma),
        seed=int(seed),
    )
    return data, train


@st.cache_resource
def _finished_runs() -> OrderedDict:
    """Finished runs by their settings, shared by every session of this server (training is deterministic)."""
    return OrderedDict()


def train_now(data_config: ds.DataConfig, train_config: tr.TrainConfig) -> tuple[ds.Dataset, tr.TrainResult] | None:
    """Train with a progress bar and a live chart, or return the finished run of the same settings."""
    store = _finished_runs()
    key = (data_config, train_config)
    if key in store:
        store.move_to_end(key)
        return store[key]
    bar = st.progress(0.0, text="Preparing the data and PyTorch…")
    live = st.empty()

    def show(progress: tr.Progress) -> None:
        bar.progress(progress.step / progress.steps, text=f"Training: step {progress.step} of {progress.steps}")
        live.plotly_chart(tf.live_figure(progress), key=f"{P}.fig.live.{progress.step}", config=theme.PLOTLY_CONFIG)

    try:
        data = ds.make_dataset(data_config)
        result = tr.train(data, train_config, on_progress=show, progress_every=max(10, train_config.steps // 12))
    except XentInputError as err:
        st.error(f"These settings cannot be trained: {err}", icon=":material/error:")
        return None
    finally:
        bar.empty()
        live.empty()
    store[key] = (data, result)
    while len(store) > KEEP:
        store.popitem(last=False)
    return data, result


def numbers_table(result: tr.TrainResult) -> pd.DataFrame:
    rows = []
    for run in result.runs.values():
        cal = run.calibration
        rows.append(
            {
                "loss": run.name,
                "accuracy (val)": f"{100 * run.acc_val[-1]:.1f} %",
                "accuracy (train)": f"{100 * run.acc_train[-1]:.1f} %",
                "cross-entropy (val)": theme.fmt(run.ce_val[-1]),
                "own loss (val)": theme.fmt(run.loss_val[-1]),
                "ECE": "—" if cal is None else theme.fmt(cal.ece, 3),
                "confidence": "—" if cal is None else f"{100 * cal.mean_confidence:.0f} %",
                "steps": str(run.steps_done) if run.diverged_at is None else f"{run.steps_done}, diverged",
            }
        )
    return pd.DataFrame(rows)


def run_settings(data: ds.DataConfig, train: tr.TrainConfig) -> dict[str, object]:
    """The settings widgets' values, in their own units, that give this run: what its share link holds
    (the widgets may have moved on since it was trained)."""
    return {
        "losses": list(train.losses),
        "eps": train.options.label_smoothing,
        "gamma": train.options.gamma,
        "data": data.kind,
        "classes": data.num_classes,
        "points": data.num_points,
        "noise": round(data.label_noise * 100),
        "imbalance": round(data.imbalance),
        "val": round(data.val_fraction * 100),
        "seed": data.seed,
        "model": train.model,
        "width": train.width,
        "depth": train.depth,
        "opt": train.optimizer,
        "lr": train.lr,
        "steps": train.steps,
    }


@st.fragment
def results(data: ds.Dataset, result: tr.TrainResult) -> None:
    """The finished run. Display options rerun only this fragment: the run itself is never recomputed here."""
    with st.container(key=f"{P}.result"):
        st.subheader("What happened")
        with st.container(key=f"{P}.summary"):
            st.markdown("\n".join(f"- {line}" for line in tr.summarize(result, diverged=False)))
        for run in result.runs.values():
            if run.diverged_at is not None:
                st.error(f"**{run.name}** {run.reason}", icon=":material/trending_up:")
        st.caption("Validation accuracy after training")
        for col, run in zip(st.columns(len(result.runs)), result.runs.values(), strict=True):
            diverged = run.diverged_at is not None
            col.metric(
                run.name,
                "diverged" if diverged else f"{100 * run.acc_val[-1]:.0f} %",
                help=f"torch: {tr.TRAINING_LOSSES[run.key].torch}",
            )
        st.dataframe(numbers_table(result), hide_index=True, key=f"{P}.table")

        split_col, points_col = st.columns(2)
        split = W.choice(
            split_col, "Curves on", list(tf.SPLITS), default="val", format_func=SHOWN_AS["curves"], key="curves"
        )
        points = W.choice(
            points_col,
            "Points on the regions",
            list(tf.POINTS),
            default="train",
            format_func=SHOWN_AS["points_shown"],
            key="points_shown",
        )
        st.plotly_chart(tf.curves_figure(result, split=split), key=f"{P}.fig.curves", config=theme.PLOTLY_CONFIG)
        st.caption(
            "Cross-entropy and accuracy compare the models in the same units. The own-loss panel shows how far "
            "each model got on the objective it was actually given: its loss divided by its value at step 0, as "
            "the losses come in different units. The gradient norm ‖∂loss/∂weights‖ (log scale) is how hard each "
            "loss pushes the weights: where it is small, SGD barely moves (MSE and the sigmoid loss saturate when "
            "a prediction is confidently wrong)."
        )
        st.plotly_chart(
            tf.regions_figure(result, data, points=points), key=f"{P}.fig.regions", config=theme.PLOTLY_CONFIG
        )
        st.caption(tf.regions_caption(points))
        st.plotly_chart(tf.calibration_figure(result), key=f"{P}.fig.calibration", config=theme.PLOTLY_CONFIG)
        st.caption(
            "Top: reliability, the share right among the samples at each confidence (a model's top probability); "
            "a calibrated model's bars reach the diagonal. Bottom: how many samples are that confident. "
            "Expected calibration error (ECE): the average gap between how sure a model is and how often it is right. "
            "Label smoothing never asks for 100 %, so its confidences sit lower (often below its accuracy)."
        )
    share.panel(
        P,
        "Training",
        {},
        lambda: share.bound_values(BOUND_DEFAULTS, SHOWN_AS, run_settings(data.config, result.config)),
        what="this training run",
    )


data_config, train_config = settings()
enough = len(train_config.losses) >= tr.MIN_LOSSES
clicked = not FIGURE_ONLY and st.button(
    "Train",
    key=f"{P}.train",
    type="primary",
    icon=":material/play_arrow:",
    disabled=not enough,
    help="Trains one model per loss with these settings: under a second for the defaults, up to ~20 s for the "
    "largest network, data set and number of steps.",
)
if not enough:
    st.info("Pick at least two losses to compare.", icon=":material/info:")
last = st.session_state.get(f"{P}.run")
if enough and (clicked or last is None):
    fresh = train_now(data_config, train_config)
    if fresh is not None:
        st.session_state[f"{P}.run"] = last = fresh
if last is not None:
    data, result = last
    if (data.config, result.config) != (data_config, train_config):
        st.info(
            "The settings changed since this run. This read-only view does not train: open the page without "
            "`view=figure` to train with them. Below is the run of the link."
            if FIGURE_ONLY
            else "The settings changed since this run: press **Train** to train with them. Below is the last run.",
            icon=":material/refresh:",
        )
    results(data, result)
