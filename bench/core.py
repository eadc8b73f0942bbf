"""Benchmark: cross-entropy forward plus gradient, xent_core against torch on the CPU.

What it measures (the requirement from the issue): on a float32 batch of logits (default
50,000 × 1,000) with int64 class-index targets and the default 'mean' reduction,

* time of one forward-plus-gradient call, for
    xent_core: ``loss, grad = xent_core.cross_entropy_and_grad(logits, target)``
    torch:     ``z = torch.from_numpy(logits).requires_grad_(); loss = F.cross_entropy(z, t);
               loss.backward(); z.grad``  (torch's default thread count, printed)
  one warm-up of each, then ``--repeats`` interleaved runs (xent, torch, xent, torch, ...), the
  gradient freed after every run; the median and min of each and the ratio of the medians.
  Target: xent_core's median ≤ 0.8 × torch's. Also shown: the CPU time of each call over all
  threads (torch's includes its OpenMP threads' spin-waiting), and the share of the machine's CPU
  that other processes used during the timed runs: above 10% the times are flagged as unreliable
  (on a 2-core machine one busy neighbour halves what a two-thread call gets).
* peak extra memory of one call, the returned gradient included, measured the same way for both:
  in a fresh subprocess, create the inputs, make one warm-up call and free its result (so library
  start-up and thread pools are not counted), reset the kernel's peak-RSS counter (write "5" to
  /proc/self/clear_refs), read VmRSS as the baseline, make one call keeping the gradient alive,
  read VmHWM; extra = VmHWM - baseline. For xent_core, tracemalloc's peak over a second call is
  reported as a cross-check (numpy registers its data buffers with tracemalloc; torch does not).
  Target: xent_core's extra ≤ 1.1 × the size of the logits (the verdict uses the RSS figure).
* correctness: max |loss difference| and max |gradient difference| between the two.

It prints a Markdown table for the README, with PASS/FAIL against both targets and the machine.

Run, from the repository root (Linux only: it reads /proc):

    .venv/bin/python -m bench.core                   # 50,000 × 1,000, 7 repeats (well under a minute)
    .venv/bin/python -m bench.core --rows 10000 --cols 500 --repeats 11 --json bench-core.json
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

MIB = 1 << 20
TIME_TARGET = 0.8  # xent_core median time ≤ this × torch's median
MEMORY_TARGET = 1.1  # xent_core peak extra memory ≤ this × the logits' size
SEED = 0
REPO_ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------------------------------------- inputs and calls


def make_inputs(rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Standard-normal logits times 2 (float32, C-contiguous) and uniform int64 targets, reproducibly."""
    rng = np.random.default_rng(SEED)
    logits = rng.standard_normal((rows, cols), dtype=np.float32)
    logits *= 2
    target = rng.integers(0, cols, size=rows, dtype=np.int64)
    return logits, target


def xent_call(logits: np.ndarray, target: np.ndarray):
    import xent_core

    return xent_core.cross_entropy_and_grad(logits, target)


def torch_call(logits: np.ndarray, target_t):
    """(loss, grad) as torch tensors; the graph is gone once backward() returns, so only the grad stays alive."""
    import torch
    import torch.nn.functional as F

    z = torch.from_numpy(logits).requires_grad_()
    loss = F.cross_entropy(z, target_t)
    loss.backward()
    return loss.detach(), z.grad


# ---------------------------------------------------------------------------------------------- memory (child process)


def _proc_status_kib(*keys: str) -> dict[str, int]:
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in keys:
                out[name] = int(value.split()[0])  # "kB"
    return out


def _reset_peak_rss() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)


def memory_child(lib: str, rows: int, cols: int) -> dict:
    """Runs in a fresh interpreter: peak extra RSS of one call (and tracemalloc's peak for numpy)."""
    logits, target = make_inputs(rows, cols)
    if lib == "xent":
        call, args = xent_call, (logits, target)
    else:
        import torch

        call, args = torch_call, (logits, torch.from_numpy(target))

    warm = call(*args)  # library start-up, thread pools, first-call caches: not the call's memory
    del warm
    gc.collect()

    _reset_peak_rss()
    base = _proc_status_kib("VmRSS")["VmRSS"]
    result = call(*args)  # keep the returned gradient alive while reading the peak
    after = _proc_status_kib("VmRSS", "VmHWM")
    out = {
        "baseline_kib": base,
        "vmhwm_kib": after["VmHWM"],
        "peak_extra_bytes": (after["VmHWM"] - base) * 1024,
        "retained_extra_bytes": (after["VmRSS"] - base) * 1024,  # what is still held: about the gradient
    }
    del result
    gc.collect()

    if lib == "xent":
        tracemalloc.start()
        start, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        result = call(*args)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del result
        out["tracemalloc_peak_bytes"] = peak - start
    return out


def measure_memory(lib: str, rows: int, cols: int) -> dict:
    cmd = [sys.executable, "-m", "bench.core", "--_memory-child", lib, "--rows", str(rows), "--cols", str(cols)]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"memory child for {lib} failed ({proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------- timing and correctness


def compare(logits: np.ndarray, target: np.ndarray, target_t) -> dict:
    """Max |loss diff| and max |grad diff| between xent_core and torch (also the warm-up of each)."""
    x_loss, x_grad = xent_call(logits, target)
    t_loss, t_grad = torch_call(logits, target_t)
    t_grad_np = t_grad.numpy()
    grad_diff = 0.0
    step = max(1, (1 << 24) // max(1, logits.shape[1]))  # compare in slabs: no full-size temporary
    for lo in range(0, logits.shape[0], step):
        diff = np.abs(x_grad[lo : lo + step] - t_grad_np[lo : lo + step])
        grad_diff = max(grad_diff, float(diff.max()))
    return {
        "loss_xent": float(x_loss),
        "loss_torch": float(t_loss),
        "max_abs_loss_diff": abs(float(x_loss) - float(t_loss)),
        "max_abs_grad_diff": grad_diff,
        "max_abs_grad": float(np.abs(t_grad_np).max()),
        "grad_dtype_xent": str(x_grad.dtype),
        "grad_shape_ok": x_grad.shape == logits.shape,
    }


def _machine_busy_seconds() -> float:
    """CPU seconds spent by everything on the machine so far (all CPUs, from /proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    busy = sum(fields[:8]) - idle  # user nice system idle iowait irq softirq steal; guest is inside user
    return busy / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def time_interleaved(logits: np.ndarray, target: np.ndarray, target_t, repeats: int) -> dict:
    """Interleaved timed runs, and how much of the machine other processes used meanwhile."""
    times: dict[str, list[float]] = {"xent": [], "torch": [], "xent_cpu": [], "torch_cpu": []}
    busy0, own0, wall0 = _machine_busy_seconds(), _own_cpu_seconds(), time.perf_counter()
    for _ in range(repeats):
        for name, call, args in (("xent", xent_call, (logits, target)), ("torch", torch_call, (logits, target_t))):
            t0, c0 = time.perf_counter(), time.process_time()
            result = call(*args)
            times[name].append(time.perf_counter() - t0)
            times[name + "_cpu"].append(time.process_time() - c0)  # all of this process's threads
            del result  # free the gradient before the next run
    wall = time.perf_counter() - wall0
    others = max(0.0, (_machine_busy_seconds() - busy0) - (_own_cpu_seconds() - own0))
    cpus = os.cpu_count() or 1
    return {**times, "other_cpu_share": others / (wall * cpus)}  # 0: the machine was ours alone


# ---------------------------------------------------------------------------------------------- report


def machine() -> dict:
    import torch

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    model = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            model = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), model)
    except OSError:
        pass
    return {
        "cpu": model,
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "kernel": platform.release(),
    }


def _mib(b: float) -> str:
    return f"{b / MIB:,.1f} MiB"


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.1f} ms"


def _verdict(ok: bool) -> str:
    return "**PASS**" if ok else "**FAIL**"


def markdown(res: dict) -> str:
    m, t, mem, c = res["machine"], res["time"], res["memory"], res["correctness"]
    n, k = res["rows"], res["cols"]
    inp = res["input_bytes"]
    xm, tm = mem["xent"], mem["torch"]
    x_ratio = xm["peak_extra_bytes"] / inp
    t_ratio = tm["peak_extra_bytes"] / inp
    tr = xm["tracemalloc_peak_bytes"] / inp
    lines = [
        f"Cross-entropy forward + gradient, {n:,} × {k:,} float32 logits ({_mib(inp)}), int64 targets, "
        f"reduction='mean'; {res['repeats']} interleaved runs after a warm-up.",
        "",
        "| | xent_core | torch | xent_core / torch | target | result |",
        "|---|---:|---:|---:|---|---|",
        f"| time, median | {_ms(t['xent_median'])} | {_ms(t['torch_median'])} | {t['ratio_median']:.2f}× "
        f"| ≤ {TIME_TARGET}× torch | {_verdict(t['ratio_median'] <= TIME_TARGET)} |",
        f"| time, min | {_ms(t['xent_min'])} | {_ms(t['torch_min'])} | {t['xent_min'] / t['torch_min']:.2f}× | | |",
        f"| CPU time, all threads, median | {_ms(t['xent_cpu_median'])} | {_ms(t['torch_cpu_median'])} "
        f"| {t['xent_cpu_median'] / t['torch_cpu_median']:.2f}× | | |",
        f"| peak extra memory (VmHWM − VmRSS before the call) | {_mib(xm['peak_extra_bytes'])} = {x_ratio:.2f}× input "
        f"| {_mib(tm['peak_extra_bytes'])} = {t_ratio:.2f}× input | {x_ratio / t_ratio:.2f}× "
        f"| xent_core ≤ {MEMORY_TARGET}× input | {_verdict(x_ratio <= MEMORY_TARGET)} |",
        f"| peak allocated (tracemalloc, numpy only) | {_mib(xm['tracemalloc_peak_bytes'])} = {tr:.2f}× input "
        f"| n/a | | cross-check | {'agrees' if (tr <= MEMORY_TARGET) == (x_ratio <= MEMORY_TARGET) else 'DISAGREES'} |",
        f"| still held after the call (≈ the gradient) | {_mib(xm['retained_extra_bytes'])} "
        f"| {_mib(tm['retained_extra_bytes'])} | | | |",
        "",
        f"Agreement: max |loss diff| = {c['max_abs_loss_diff']:.2e} (loss {c['loss_torch']:.6f}), "
        f"max |grad diff| = {c['max_abs_grad_diff']:.2e} (max |grad| {c['max_abs_grad']:.2e}).",
        f"Machine: {m['cpu']}, {m['cpu_count']} CPUs ({m['usable_cpus']} usable), Linux {m['kernel']}; "
        f"Python {m['python']}, numpy {m['numpy']}, torch {m['torch']} ({m['torch_threads']} threads).",
        f"Runs (ms): xent_core {', '.join(f'{x * 1e3:.0f}' for x in t['xent_runs'])}; "
        f"torch {', '.join(f'{x * 1e3:.0f}' for x in t['torch_runs'])}.",
        f"Other processes used {t['other_cpu_share']:.0%} of the machine's CPU time during the timed runs "
        f"(1-min load average before: {t['loadavg_1min_before']:.2f}).",
    ]
    if t["other_cpu_share"] > 0.1:
        lines.append(
            "**Warning: the machine was busy, so the times above are not trustworthy; rerun on an idle machine.**"
        )
    return "\n".join(lines)


def run(rows: int, cols: int, repeats: int) -> dict:
    import torch

    logits, target = make_inputs(rows, cols)
    target_t = torch.from_numpy(target)
    correctness = compare(logits, target, target_t)  # also the warm-up of each
    load_before = os.getloadavg()[0]
    times = time_interleaved(logits, target, target_t, repeats)
    del logits, target, target_t
    gc.collect()
    memory = {lib: measure_memory(lib, rows, cols) for lib in ("xent", "torch")}
    xm, tmed = statistics.median(times["xent"]), statistics.median(times["torch"])
    input_bytes = rows * cols * 4
    result = {
        "rows": rows,
        "cols": cols,
        "repeats": repeats,
        "input_bytes": input_bytes,
        "machine": machine(),
        "time": {
            "xent_runs": times["xent"],
            "torch_runs": times["torch"],
            "xent_median": xm,
            "torch_median": tmed,
            "xent_min": min(times["xent"]),
            "torch_min": min(times["torch"]),
            "ratio_median": xm / tmed,
            "xent_cpu_runs": times["xent_cpu"],
            "torch_cpu_runs": times["torch_cpu"],
            "xent_cpu_median": statistics.median(times["xent_cpu"]),
            "torch_cpu_median": statistics.median(times["torch_cpu"]),
            "other_cpu_share": times["other_cpu_share"],
            "loadavg_1min_before": load_before,
        },
        "memory": memory,
        "correctness": correctness,
    }
    result["pass"] = {
        "time": result["time"]["ratio_median"] <= TIME_TARGET,
        "memory": memory["xent"]["peak_extra_bytes"] <= MEMORY_TARGET * input_bytes,
    }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.core", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000, help="batch size N (default 50,000)")
    parser.add_argument("--cols", type=int, default=1_000, help="number of classes C (default 1,000)")
    parser.add_argument("--repeats", type=int, default=7, help="interleaved timed runs of each (default 7)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON to PATH")
    parser.add_argument("--_memory-child", choices=("xent", "torch"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args._memory_child:
        print(json.dumps(memory_child(args._memory_child, args.rows, args.cols)))
        return 0

    result = run(args.rows, args.cols, args.repeats)
    print(markdown(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
        print(f"\n(results written to {args.json})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
