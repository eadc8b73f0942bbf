"""The training lab page, run headless with Streamlit's AppTest.

Every expected number comes from xent_core.training run here with the same settings (training is
deterministic), never typed by hand; the core's own correctness is tests/core/test_training.py's job.
The runs are kept small (100 points, 50 steps) so that the whole file takes a few seconds.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import numpy as np
import plotly.graph_objects as go
import pytest
import streamlit as st

from tests.app.conftest import open_page
from ui import training_figures as tf
from xent_core import datasets as ds
from xent_core import training as tr
from xent_core.compare import LossOptions

PAGE = "pages/3_Training.py"
SMALL = {"points": "100", "steps": "50"}
CHARTS = {"lab.fig.curves", "lab.fig.regions", "lab.fig.calibration"}


def run(at):
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def charts(at) -> dict[str, dict]:
    return {c.key: json.loads(c.proto.spec) for c in at.get("plotly_chart")}


def shown_run(at) -> tuple[ds.Dataset, tr.TrainResult]:
    return at.session_state["lab.run"]


def expected(data_config: ds.DataConfig, train_config: tr.TrainConfig) -> tr.TrainResult:
    return tr.train(ds.make_dataset(data_config), train_config)


def accuracy_metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def summary_lines(at) -> list[str]:
    for md in at.markdown:
        if md.value.startswith("- After "):
            return [line.removeprefix("- ") for line in md.value.splitlines()]
    raise AssertionError("no summary on the page")


@pytest.fixture(autouse=True)
def fresh_runs():
    """Each test trains for itself: no run kept by another test (the page shares finished runs per process)."""
    st.cache_resource.clear()


@pytest.fixture
def small():
    return open_page(PAGE, SMALL)


def test_opens_trains_and_shows_what_the_core_computes(small):
    data_config = ds.DataConfig(num_points=100)
    train_config = tr.TrainConfig(steps=50)
    result = expected(data_config, train_config)
    data, shown = shown_run(small)
    assert data.config == data_config
    assert shown.config == train_config
    assert accuracy_metrics(small) == {r.name: f"{100 * r.acc_val[-1]:.0f} %" for r in result.runs.values()}
    assert summary_lines(small) == tr.summarize(result, diverged=False)
    assert set(charts(small)) == CHARTS
    assert not small.error
    assert not small.info
    table = small.dataframe[0].value
    assert table["loss"].tolist() == [r.name for r in result.runs.values()]


def test_curves_chart_holds_every_losss_curves_and_no_broken_numbers(small):
    _, result = shown_run(small)
    spec = charts(small)["lab.fig.curves"]
    names = [t["name"] for t in spec["data"] if t.get("showlegend")]
    assert names == [r.name for r in result.runs.values()]
    ce_traces = [t for t in spec["data"] if t.get("yaxis") == "y" and t["mode"] == "lines"]
    for trace, run in zip(ce_traces, result.runs.values(), strict=True):
        np.testing.assert_allclose(trace["y"], run.ce_val, rtol=1e-5)
        assert trace["x"] == list(range(51))


def test_display_options_redraw_without_training_again(small):
    before = shown_run(small)
    spec = charts(small)
    small.segmented_control(key="curves").set_value("both")
    small.segmented_control(key="points_shown").set_value("val")
    run(small)
    assert shown_run(small) is before  # the very same run object: nothing was retrained
    after = charts(small)
    lines = [t for t in after["lab.fig.curves"]["data"] if t["mode"] == "lines"]
    assert len(lines) > len([t for t in spec["lab.fig.curves"]["data"] if t["mode"] == "lines"])
    assert any(t.get("opacity") == 0.45 for t in lines)  # the faint training curves
    data, _ = before
    points = sum(len(t["x"]) for t in after["lab.fig.regions"]["data"] if t["type"] == "scatter") // 4  # per panel
    assert points == len(data.y_val)


def test_a_changed_setting_keeps_the_last_run_until_train_is_pressed(small):
    before = shown_run(small)
    small.slider(key="steps").set_value(100)
    run(small)
    assert shown_run(small) is before
    assert any("settings changed" in i.value for i in small.info), [i.value for i in small.info]
    small.button(key="lab.train").click()
    run(small)
    _, result = shown_run(small)
    assert result.config.steps == 100
    assert not small.info
    assert accuracy_metrics(small) == {
        r.name: f"{100 * r.acc_val[-1]:.0f} %"
        for r in expected(ds.DataConfig(num_points=100), tr.TrainConfig(steps=100)).runs.values()
    }


def test_the_same_link_gives_the_same_numbers_in_a_new_session(small):
    first = charts(small)["lab.fig.curves"]
    st.cache_resource.clear()  # the second session trains again rather than reusing the first's run
    again = open_page(PAGE, SMALL)
    assert shown_run(again) is not shown_run(small)
    assert charts(again)["lab.fig.curves"] == first
    assert accuracy_metrics(again) == accuracy_metrics(small)


def test_a_link_sets_every_option():
    query = {
        "data": "moons",
        "classes": "4",
        "points": "300",
        "noise": "20",
        "imbalance": "5",
        "val": "30",
        "seed": "7",
        "model": "softmax regression",
        "losses": ["cross-entropy", "focal", "class-weighted CE"],
        "gamma": "1.5",
        "opt": "Adam",
        "lr": "0.03",
        "steps": "50",
    }
    at = open_page(PAGE, query)
    data, result = shown_run(at)
    assert data.config == ds.DataConfig(
        kind="moons", num_classes=4, num_points=300, label_noise=0.2, imbalance=5.0, val_fraction=0.3, seed=7
    )
    assert result.config == tr.TrainConfig(
        losses=("ce", "focal", "weighted_ce"),
        model="linear",
        optimizer="adam",
        lr=0.03,
        steps=50,
        options=LossOptions(gamma=1.5),
        seed=7,
    )
    assert at.slider(key="depth").disabled  # softmax regression has no hidden layers
    assert not at.slider(key="gamma").disabled
    assert at.slider(key="eps").disabled


def test_a_diverging_run_is_stopped_and_explained_not_drawn():
    at = open_page(PAGE, SMALL | {"lr": "100"})
    _, result = shown_run(at)
    assert all(r.diverged_at is not None for r in result.runs.values())
    messages = [e.value for e in at.error]
    assert len(messages) == len(result.runs)
    assert all("learning rate 100 is too large" in m for m in messages), messages
    assert set(accuracy_metrics(at).values()) == {"diverged"}
    figs = charts(at)
    assert set(figs) == CHARTS
    for trace in figs["lab.fig.curves"]["data"]:
        ys = [y for y in trace["y"] if y is not None]
        assert np.isfinite(ys).all()
        assert max(ys, default=0) <= tr.EXPLODED_CE
    assert not any(t["type"] == "heatmap" for t in figs["lab.fig.regions"]["data"])
    for spec in figs.values():
        go.Figure(spec)  # plotly's validators accept every spec (the page itself skips them for speed)


def test_every_chart_and_the_live_chart_are_valid_plotly(small):
    small.segmented_control(key="curves").set_value("both")
    run(small)
    for spec in charts(small).values():
        go.Figure(spec)
    seen = []
    data = ds.make_dataset(ds.DataConfig(num_points=100))
    tr.train(data, tr.TrainConfig(steps=20, lr=30.0), on_progress=seen.append, progress_every=5)
    for progress in seen:  # some of its curves stop (diverged): gaps, not broken numbers
        tf.live_figure(progress).validated()


def test_fewer_than_two_losses_cannot_be_trained(small):
    before = shown_run(small)
    small.multiselect(key="losses").set_value(["ce"])
    run(small)
    assert small.button(key="lab.train").disabled
    assert any("at least two losses" in i.value for i in small.info)
    assert shown_run(small) is before  # the last run stays on screen


def test_a_link_with_five_losses_keeps_four():
    names = [tr.TRAINING_LOSSES[k].name for k in ("ce", "mse", "hinge", "focal", "sigmoid")]
    at = open_page(PAGE, SMALL | {"losses": names})
    assert at.session_state["losses"] == ["ce", "mse", "hinge", "focal"]
    assert len(shown_run(at)[1].runs) == 4


@pytest.mark.parametrize(
    "bad",
    [
        {"data": ""},  # an empty value reaches a segmented control as no choice at all
        {"model": ""},
        {"opt": ""},
        {"curves": ""},
        {"points_shown": ""},
        {"data": "circles"},
        {"lr": "0.5"},
        {"classes": "9"},
        {"seed": "abc"},
    ],
)
def test_a_bad_setting_in_a_link_is_named_and_the_default_trains(bad):
    at = open_page(PAGE, SMALL | bad)
    (key,) = bad
    shown = [w.value.replace("\\", "") for w in at.warning]  # drop the Markdown escapes
    assert [text for text in shown if "could not be read" in text and f"'{key}'" in text], shown
    data, result = shown_run(at)
    assert data.config == ds.DataConfig(num_points=100)
    assert result.config == tr.TrainConfig(steps=50)
    assert set(charts(at)) == CHARTS


def test_the_share_link_carries_every_setting_and_reads_back_without_a_warning():
    query = SMALL | {
        "data": "blobs",
        "classes": "5",
        "imbalance": "3",
        "model": "softmax regression",
        "opt": "Adam",
        "lr": "0.003",
        "curves": "both sets",
        "points_shown": "no points",
    }
    at = open_page(PAGE, query)
    assert not at.warning, [w.value for w in at.warning]
    at.session_state["lab.share"] = True
    run(at)
    (link,) = [c.value for c in at.code if c.value.startswith("http")]
    shared = {k: v[0] if len(v) == 1 else v for k, v in parse_qs(urlsplit(link).query).items()}
    assert shared.items() >= query.items()
    again = open_page(PAGE, shared)
    assert not again.warning, [w.value for w in again.warning]
    assert shown_run(again)[0].config == shown_run(at)[0].config
    assert shown_run(again)[1].config == shown_run(at)[1].config
