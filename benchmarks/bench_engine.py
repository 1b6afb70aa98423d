"""Benchmark: samples per second of simulate() and summarize() on a shipped scenario.

Run on demand (not part of the test suite): ``python benchmarks/bench_engine.py``.
Machines here are shared and noisy, so compare the ratios printed by one run (workers
2 vs 1, summarize vs simulate), not absolute figures across runs.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from simulator.engine import simulate
from simulator.io import load_scenario
from simulator.summary import summarize

ROOT = Path(__file__).parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "deepseek.yaml"))
    parser.add_argument("--samples", type=int, nargs="+", default=[16_384, 131_072])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sc = load_scenario(args.scenario)
    print(
        f"scenario {sc.name}, {len(sc.uncertain())} uncertain parameters, "
        f"{len(sc.years.all)} years; median of {args.repeats} runs"
    )
    print(
        f"{'samples':>9} {'workers':>7} {'simulate s':>10} {'samples/s':>10} "
        f"{'summarize s':>11} {'samples/s':>10}"
    )
    for n in args.samples:
        for workers in (1, 2):
            sims, sums = [], []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                r = simulate(sc, n, rng=1, workers=workers)
                t1 = time.perf_counter()
                summarize(
                    {v: r.variant(v) for v in ("with_shocks", "counterfactual", "impact")},
                    r.years,
                    scenario=sc.name,
                )
                t2 = time.perf_counter()
                sims.append(t1 - t0)
                sums.append(t2 - t1)
            s, m = statistics.median(sims), statistics.median(sums)
            print(f"{n:>9,} {workers:>7} {s:>10.2f} {n / s:>10,.0f} {m:>11.2f} {n / m:>10,.0f}")


if __name__ == "__main__":
    main()
