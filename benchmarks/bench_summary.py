"""Benchmark: the streamed summary of one block (``StreamingSummary.of_block``), old against new.

Run on demand: ``python benchmarks/bench_summary.py [--blocks 4] [--repeats 7] [--ref main]``.
Computes ``--blocks`` blocks of ``scenarios/deepseek.yaml`` (16,384 samples each), then
summarizes each with this tree's ``simulator/streaming.py`` and ``simulator/sketch.py`` and
with ``--ref``'s (loaded from git into temporary modules), alternately, ``--repeats`` times.
Prints the median thread CPU time per block (``time.thread_time``: other processes on a
loaded machine do not count) of each, the ratio, the two slowest metrics of each, and checks
that both give the same summary, bit for bit (moments, histograms, question counts).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import types
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).parents[1]


def old_streaming(ref: str) -> types.ModuleType:
    """``simulator.streaming`` as ``ref`` had it, on ``ref``'s ``simulator.sketch``."""

    sys.path.insert(0, str(Path(__file__).parent))
    from _gitref import module_from_source, show

    module_from_source("_old_sketch", show(ref, "simulator/sketch.py"))
    source = show(ref, "simulator/streaming.py").replace(
        "from simulator.sketch import", "from _old_sketch import"
    )
    return module_from_source("_old_streaming", source)


def _flat(summary: Any) -> list[Any]:
    """Everything a summary holds, as arrays and numbers, in a fixed order."""
    out: list[Any] = [summary.n, sorted(summary.hits.items())]
    for key in sorted(summary.series):
        s = summary.series[key]
        m = s.moments
        out += [m.n, m.mean, m.m2, m.nonfinite]
        h = s.histogram
        parts = [h.pos, h.neg] if hasattr(h, "pos") else [h]
        for p in parts:
            out += [p.lo, p.counts, p.zeros, p.infs, p.total]
    return out


def _same(a: Any, b: Any) -> bool:
    fa, fb = _flat(a), _flat(b)
    return len(fa) == len(fb) and all(
        np.array_equal(x, y) and np.asarray(x).shape == np.asarray(y).shape
        for x, y in zip(fa, fb, strict=True)
    )


def main() -> None:
    """Parse the options, time both versions alternately and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--ref", default="main", help="git ref of the old code (default main)")
    args = parser.parse_args()

    from simulator import streaming
    from simulator.engine import _question_specs, build_inputs
    from simulator.io import load_scenario
    from simulator.model import evaluate_pair
    from simulator.sampling import draw_block

    sc = load_scenario(ROOT / "scenarios" / "deepseek.yaml")
    questions = _question_specs(sc)
    blocks = []
    for b in range(args.blocks):
        inputs = build_inputs(sc, draw_block(sc, 7, b))
        with np.errstate(over="ignore", invalid="ignore"):
            blocks.append(evaluate_pair(inputs))
    versions = {"old": old_streaming(args.ref), "new": streaming}
    spaces = {k: m.Workspace() for k, m in versions.items()}
    times: dict[str, list[float]] = {k: [] for k in versions}
    per_metric: dict[str, dict[str, float]] = {k: {} for k in versions}
    same = True
    for _ in range(args.repeats):
        for name, mod in versions.items():
            spent = 0.0
            for w, c in blocks:
                t0 = time.thread_time()
                mod.StreamingSummary.of_block(w, c, questions, spaces[name])
                spent += time.thread_time() - t0
            times[name].append(spent / len(blocks))
    for name, mod in versions.items():  # per metric, once
        w, c = blocks[0]
        for metric in w:
            t0 = time.thread_time()
            mod.StreamingSummary.of_block(
                {metric: w[metric]}, {metric: c[metric]}, (), spaces[name]
            )
            per_metric[name][metric] = time.thread_time() - t0
    for w, c in blocks:
        same &= _same(
            versions["old"].StreamingSummary.of_block(w, c, questions),
            streaming.StreamingSummary.of_block(w, c, questions),
        )
    n = next(iter(blocks[0][0].values())).shape[0]
    print(f"StreamingSummary.of_block, deepseek, {n:,} samples a block, {args.blocks} blocks")
    med = {k: statistics.median(v) for k, v in times.items()}
    for name, t in med.items():
        slow = sorted(per_metric[name].items(), key=lambda kv: -kv[1])[:2]
        note = ", ".join(f"{m} {1e3 * s:.2f} ms" for m, s in slow)
        print(f"  {name}: {1e3 * t:.2f} ms a block (thread CPU, median); slowest: {note}")
    print(f"  old/new: {med['old'] / med['new']:.2f}x; the same summaries, bit for bit: {same}")


if __name__ == "__main__":
    main()
