"""Server-side rerun time of the pitfalls, images and information pages after an edit (AppTest).

    python -m bench.pages [--runs 30]

Same method as bench/app.py (whose ScriptTimer, share_bytecode_cache and measure this reuses): the
time Streamlit spends executing the page script for one rerun, timed around its exec hook, with the
compiled page kept across runs as a live server keeps it. Every sample applies a fresh edit; the
images page's scene cache is cleared before each run, so every sample regenerates its scene.

Limits: AppTest reruns the whole script, while in the browser these edits rerun only the page's
fragment, so the figures are an upper bound of what an edit costs the server.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from bench.app import ROOT, ScriptTimer, measure, open_page, print_table, share_bytecode_cache

PITFALLS, IMAGES, INFORMATION = "pages/4_Pitfalls.py", "pages/5_Images.py", "pages/6_Information.py"


def _run(at) -> None:
    at.run()
    assert not at.exception, at.exception


def _table_edit(at, table: str, rows: dict) -> None:
    state = at.session_state[table]
    at.session_state[f"{table}.{state.version}"] = {"edited_rows": rows, "added_rows": [], "deleted_rows": []}


def pitfalls_probs() -> Callable[[int], None]:
    at = open_page(PITFALLS)

    def edit(i: int) -> None:
        _table_edit(at, "pit.probs", {0: {"c0": 0.05 + (i % 50) / 1000}})
        _run(at)

    return edit


def pitfalls_rows() -> Callable[[int], None]:
    at = open_page(PITFALLS, {"pitfall": "Rows not summing to 1"})

    def edit(i: int) -> None:
        _table_edit(at, "pit.acts", {1: {"c1": 0.1 + (i % 50) / 100}})
        _run(at)

    return edit


def pitfalls_log_softmax() -> Callable[[int], None]:
    at = open_page(PITFALLS, {"pitfall": "log(softmax) vs log_softmax"})
    scales = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
    dtypes = ("float64", "float32", "float16")

    def edit(i: int) -> None:
        at.select_slider(key="scale").set_value(scales[i % len(scales)])
        at.button_group(key="dtype").set_value(dtypes[i % 3])
        _run(at)

    return edit


def pitfalls_multilabel() -> Callable[[int], None]:
    at = open_page(PITFALLS, {"pitfall": "Multi-label"})

    def edit(i: int) -> None:
        at.selectbox(key="pit.ml.row").set_value(i % 3)
        _run(at)

    return edit


def pitfalls_imbalance() -> Callable[[int], None]:
    at = open_page(PITFALLS, {"pitfall": "Class imbalance", "class_weights": "custom"})

    def edit(i: int) -> None:
        _table_edit(at, "pit.weights", {0: {"c2": 1.0 + i % 40}})
        _run(at)

    return edit


def images(query: dict[str, str], *, editor_open: bool = False) -> Callable[[int], None]:
    from ui.scenes import make_scene

    at = open_page(IMAGES, query, {"img.edit": True} if editor_open else None)

    def edit(i: int) -> None:
        make_scene.cache_clear()  # an upper bound: every rerun regenerates the scene
        if editor_open:
            at.session_state["img.edit"] = True
        at.slider(key="noise").set_value(round(0.1 * (1 + i % 29), 1))
        _run(at)

    return edit


def information() -> Callable[[int], None]:
    at = open_page(INFORMATION)

    def edit(i: int) -> None:
        _table_edit(at, "info.pair", {1: {"c0": 0.1 + (i % 50) / 100}})
        _run(at)

    return edit


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    share_bytecode_cache()
    timer = ScriptTimer()
    big = {"height": "32", "width": "32", "classes": "10"}
    cases = {  # name: (make the edit function, target median in ms)
        "pitfalls: probabilities as logits (edit a cell)": (pitfalls_probs, 30.0),
        "pitfalls: rows not summing to 1 (edit a cell)": (pitfalls_rows, 30.0),
        "pitfalls: log(softmax) (scale + dtype)": (pitfalls_log_softmax, 30.0),
        "pitfalls: multi-label (pick a photo)": (pitfalls_multilabel, 30.0),
        "pitfalls: class imbalance (custom weight)": (pitfalls_imbalance, 30.0),
        "images 16×16×4, default (noise)": (lambda: images({}), 30.0),
        "images 32×32×10 (noise)": (lambda: images(big), 80.0),
        "images 32×32×10, mask editor open (noise)": (lambda: images(big, editor_open=True), 80.0),
        "information, default (edit a cell)": (information, 30.0),
    }
    try:
        rows = [(measure(name, make(), args.runs, timer), target) for name, (make, target) in cases.items()]
    finally:
        timer.close()
    print_table([row for row, _ in rows], {row["case"]: target for row, target in rows}, first_column="page, case")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
