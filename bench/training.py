"""Training-lab speed: K losses x S full-batch steps of a small MLP, as the training page runs them.

    python -m bench.training [--runs 7] [--threads 1 2]

What it measures: `xent_core.training.train` end to end (the training loop, the per-step curves on
both sets, the final grid of probabilities and the calibration), wall time and this process's CPU
time, for the issue's case (4 losses x 300 steps, 600 points, a 2 x 32 MLP) and a few neighbours.
Each case is warmed up once (torch's first calls) and then timed `--runs` times; the median is
compared with the target.

CPU time is printed beside wall time because this machine is shared: when other processes hold the
two cores, wall time grows while CPU time stays closer to what the training itself costs. The load
average and the current cost of one tiny torch op are printed for the same reason: a step is ~150
torch calls on tiny tensors, so the figures scale with that per-call cost.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time

TARGET_S = 1.0  # the budget for 4 losses x 300 steps on 600 points with a 2 x 32 MLP


def cases():
    from xent_core.datasets import DataConfig
    from xent_core.training import TrainConfig

    four = ("ce", "mse", "sigmoid", "smoothed_ce")
    return {  # name: (data, config, target in seconds or None)
        "issue: 4 losses x 300 steps, 600 points (450 train + 150 val), 2x32, SGD": (
            DataConfig(num_points=600),
            TrainConfig(losses=four),
            TARGET_S,
        ),
        "600 training points (800 with validation), otherwise the same": (
            DataConfig(num_points=800),
            TrainConfig(losses=four),
            TARGET_S,
        ),
        "the same with Adam": (DataConfig(num_points=600), TrainConfig(losses=four, optimizer="adam", lr=0.01), None),
        "hinge, focal, weighted CE, CE; 6 classes": (
            DataConfig(num_points=600, num_classes=6),
            TrainConfig(losses=("hinge", "focal", "weighted_ce", "ce")),
            None,
        ),
        "the page's largest: 4 losses x 1000 steps, 2000 points, 3x64 (timed once)": (
            DataConfig(num_points=2000),
            TrainConfig(losses=four, width=64, depth=3, steps=1000),
            None,
        ),
    }


def op_overhead_us(n: int = 20000) -> float:
    """The time of one torch op on a 1-element tensor: what this machine charges per call right now."""
    import torch

    x = torch.zeros(1)
    best = math.inf
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n // 5):
            x.add(1.0)
        best = min(best, (time.perf_counter() - start) / (n // 5))
    return best * 1e6


def measure(data_config, config, runs: int) -> dict:
    from xent_core.datasets import make_dataset
    from xent_core.training import train

    data = make_dataset(data_config)
    if config.steps * data_config.num_points > 10**6:
        runs = 1  # the long case: its size is the point, not its spread
    else:
        train(data, config)  # warm-up
    wall, cpu, loop = [], [], []
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        result = train(data, config)
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
        loop.append(result.seconds)
    return {
        "median": statistics.median(wall),
        "min": min(wall),
        "cpu": statistics.median(cpu),
        "loop": statistics.median(loop),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="torch intra-op thread counts to try")
    parser.add_argument("--quick", action="store_true", help="only the issue's case")
    args = parser.parse_args(argv)

    import torch

    from xent_core import training

    training._torch()  # import torch and apply the module's own thread setting first
    print(f"load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    print(f"one tiny torch op now costs {op_overhead_us():.1f} us (a training step makes ~150 of them)")
    print(f"torch {torch.__version__}, training.THREADS = {training.THREADS}\n")
    print("| case | threads | median (wall) | min (wall) | CPU time | loop only | target |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    selected = list(cases().items())[:1] if args.quick else list(cases().items())
    for threads in args.threads:
        torch.set_num_threads(threads)
        for name, (data_config, config, target) in selected:
            if threads != args.threads[0] and target is None:
                continue  # other thread counts: only the cases with a target
            row = measure(data_config, config, args.runs)
            verdict = "—" if target is None else f"≤ {target:g} s ({'pass' if row['median'] <= target else 'MISS'})"
            print(
                f"| {name} | {threads} | {row['median']:.3f} s | {row['min']:.3f} s | {row['cpu']:.3f} s "
                f"| {row['loop']:.3f} s | {verdict} |"
            )
    torch.set_num_threads(training.THREADS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
