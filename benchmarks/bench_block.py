"""Micro-benchmark: one block of deepseek.yaml through each stage, one thread.

Run on demand: ``python benchmarks/bench_block.py [--blocks 8] [--repeats 5]``. Prints the
median time per block of: sampling (``draw_block`` + ``build_inputs``), the model
(``evaluate_pair``), the finiteness check and the streamed summary
(``StreamingSummary.of_block``), in milliseconds per 16,384 samples. Used to measure each
speed-up of issue 8 on its own; compare figures printed by one run only (shared machine).
Times are the thread's CPU time (``time.thread_time``), so that other processes on a loaded
machine do not count; memory stalls and first touches of fresh pages still do.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from simulator.engine import _check_finite, _question_specs, build_inputs
from simulator.io import load_scenario
from simulator.model import evaluate_pair
from simulator.sampling import BLOCK_SIZE, draw_block
from simulator.streaming import StreamingSummary, Workspace

ROOT = Path(__file__).parents[1]


def stage_times(scenario: str, blocks: int = 4, repeats: int = 5) -> dict[str, list[float]]:
    """Thread CPU seconds per block of each stage, one list entry per repeat."""
    sc = load_scenario(scenario)
    questions = _question_specs(sc)
    ws = Workspace()
    years = sc.years.all
    stages: dict[str, list[float]] = {"sampling": [], "model": [], "check": [], "summary": []}
    for _ in range(repeats):
        acc = dict.fromkeys(stages, 0.0)
        for b in range(blocks):
            t0 = time.thread_time()
            draws = draw_block(sc, 7, b)
            inputs = build_inputs(sc, draws)
            t1 = time.thread_time()
            with np.errstate(over="ignore", invalid="ignore"):
                w, c = evaluate_pair(inputs)
            t2 = time.thread_time()
            for m in w:
                _check_finite(m, w[m], "w", years, 0)
                _check_finite(m, c[m], "c", years, 0)
            t3 = time.thread_time()
            StreamingSummary.of_block(w, c, questions, ws)
            t4 = time.thread_time()
            acc["sampling"] += t1 - t0
            acc["model"] += t2 - t1
            acc["check"] += t3 - t2
            acc["summary"] += t4 - t3
        for k, spent in acc.items():
            stages[k].append(spent / blocks)
    return stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "deepseek.yaml"))
    parser.add_argument("--blocks", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    stages = stage_times(args.scenario, args.blocks, args.repeats)
    total = 0.0
    for k, times in stages.items():
        med = statistics.median(times) * 1e3
        total += med
        print(f"{k:>9}: {med:8.2f} ms/block  (min {min(times) * 1e3:.2f})")
    print(f"{'total':>9}: {total:8.2f} ms/block of {BLOCK_SIZE:,} samples")


if __name__ == "__main__":
    main()
