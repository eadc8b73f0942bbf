"""Server-side rerun time of each page after an edit, measured with Streamlit's AppTest.

    python -m bench.app [--runs 30]

What it measures: the time Streamlit spends executing the page script for one rerun after an
edit (every st.* call, xent_core, the torch cross-check, figure and table serialisation), timed
around Streamlit's own script-execution hook, so AppTest's polling is not counted. Each sample
applies a fresh edit (a different logit value) so that nothing is served from a cache.

AppTest builds a new ScriptCache for every run and so recompiles the page each time (2-3 ms);
a live server compiles a page once and keeps the bytecode. The benchmark shares one cache across
runs, as the server does (--recompile measures AppTest's own behaviour instead).

Limits: AppTest reruns the whole script, while an edit in the browser reruns only the page's
fragment, so these figures are an upper bound of what a live edit costs the server.
Browser-side time (edit to screen) is in bench/browser.py.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# AppTest sets its session state from this script-less thread, which Streamlit logs as "missing
# ScriptRunContext" on every construction. Expected here; a filter (Streamlit resets log levels).
logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
    lambda record: "missing ScriptRunContext" not in record.getMessage()
)


class ScriptTimer:
    """Times Streamlit's exec hook (the whole page script, nothing else)."""

    def __init__(self):
        import streamlit.runtime.scriptrunner.script_runner as script_runner

        self.samples: list[float] = []
        self._module = script_runner
        self._original = script_runner.exec_func_with_error_handling

        def timed(func, ctx):
            start = time.perf_counter()
            try:
                return self._original(func, ctx)
            finally:
                self.samples.append(time.perf_counter() - start)

        script_runner.exec_func_with_error_handling = timed

    def close(self):
        self._module.exec_func_with_error_handling = self._original


def share_bytecode_cache() -> None:
    """Keep compiled pages across AppTest runs, as one long-lived server process does."""
    from streamlit.runtime.scriptrunner import script_cache

    shared: dict[str, object] = {}
    original = script_cache.ScriptCache.get_bytecode

    def get_bytecode(self, script_path):
        if script_path not in shared:
            shared[script_path] = original(self, script_path)
        return shared[script_path]

    script_cache.ScriptCache.get_bytecode = get_bytecode


PAGES = {"playground": ("pages/1_Playground.py", "pg"), "compare": ("pages/2_Compare.py", "cmp")}
ALL_LOSSES = ["ce", "smoothed_ce", "mse", "hinge", "focal", "sigmoid"]


def open_page(path: str, query: dict[str, str] | None = None, session: dict | None = None):
    """An AppTest session on `path` (a page script), opened like a direct link with `query`, with
    `session` state set before its first run."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.switch_page(path)
    for key, value in (session or {}).items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def page_case(page: str, num_samples: int, num_classes: int, session: dict | None = None):
    """An AppTest on `page` with an (N, C) batch (and `session` state set first), and an edit function.

    edit(i) changes one logit of sample i; for the comparison page that sample is also the one the
    sweep and the landscape show, so their caches do not help.
    """
    from ui import state

    path, prefix = PAGES[page]
    batch = state.random_batch(num_samples, num_classes, seed=7)
    at = open_page(path, state.encode_query(batch), session)

    def edit(i: int) -> None:
        key = f"{prefix}.logits.{at.session_state[f'{prefix}.editor'].version}"
        at.session_state[key] = {
            "edited_rows": {0: {"c0": 0.5 + i}},
            "added_rows": [],
            "deleted_rows": [],
        }
        at.run()
        assert not at.exception, at.exception

    return edit


def measure(name: str, edit, runs: int, timer: ScriptTimer) -> dict:
    for i in range(3):  # warm-up: imports, torch's first call, caches
        edit(i)
    timer.samples.clear()
    for i in range(runs):
        edit(100 + i)
    ms = sorted(s * 1000 for s in timer.samples)
    return {
        "case": name,
        "runs": len(ms),
        "median_ms": statistics.median(ms),
        "p95_ms": ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))],
        "min_ms": ms[0],
    }


def print_table(rows: list[dict], targets: dict[str, float], *, first_column: str) -> None:
    """The Markdown table the README quotes: one row per case, with its verdict against the target median."""
    print(f"| {first_column} | median | p95 | min | target (median) |")
    print("|---|---:|---:|---:|---:|")
    for row in rows:
        target = targets[row["case"]]
        verdict = "pass" if row["median_ms"] <= target else "MISS"
        print(
            f"| {row['case']} | {row['median_ms']:.1f} ms | {row['p95_ms']:.1f} ms | {row['min_ms']:.1f} ms "
            f"| ≤ {target:.0f} ms ({verdict}) |"
        )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--recompile", action="store_true", help="recompile the page every run, as AppTest does")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if not args.recompile:
        share_bytecode_cache()
    timer = ScriptTimer()
    compare_all = {"losses": ALL_LOSSES}
    cases = {  # name: (page, N, C, session state, target median in ms)
        "playground 6x3": ("playground", 6, 3, None, 20.0),
        "playground 64x20": ("playground", 64, 20, None, 60.0),
        "compare 6x3, all losses, sweep tab": ("compare", 6, 3, compare_all, 30.0),
        "compare 6x3, all losses, landscape tab": ("compare", 6, 3, dict(compare_all, tab="Loss landscape"), 30.0),
    }
    targets = {name: case[-1] for name, case in cases.items()}
    try:
        rows = [
            measure(name, page_case(page, n, c, session), args.runs, timer)
            for name, (page, n, c, session, _) in cases.items()
        ]
    finally:
        timer.close()
    print_table(rows, targets, first_column="page, batch")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
