"""Run a function over blocks of rows on every core.

numpy releases the GIL inside its ufunc loops, so plain threads give real parallelism for the
exp-heavy softmax kernels. Small inputs run inline: a thread hand-off costs more than they do.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

_MIN_PARALLEL_WORK = 1 << 20  # elements; below this, threads cost more than they save
_SHARES_PER_WORKER = 4
_executor: ThreadPoolExecutor | None = None


def _workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=_workers(), thread_name_prefix="xent")
    return _executor


def run_blocks(block: Callable[[int, int], None], total: int, step: int, *, work: int) -> None:
    """Call block(lo, hi) for consecutive row ranges covering [0, total); ranges are disjoint.

    With `work` (elements touched) above a threshold and more than one core, the ranges are split
    into a few contiguous shares per core and run on a thread pool; more shares than cores let a
    thread that finishes early take over work, so one busy core does not hold up the call.
    """
    workers = 1 if work < _MIN_PARALLEL_WORK else _workers()  # small calls skip the affinity syscall
    if workers == 1 or total <= step:
        for lo in range(0, total, step):
            block(lo, min(lo + step, total))
        return

    def share(start: int, stop: int) -> None:
        for lo in range(start, stop, step):
            block(lo, min(lo + step, stop))

    shares = min(workers * _SHARES_PER_WORKER, -(-total // step))
    bounds = [total * k // shares for k in range(shares + 1)]
    futures = [_pool().submit(share, bounds[k], bounds[k + 1]) for k in range(shares)]
    for future in futures:
        future.result()
