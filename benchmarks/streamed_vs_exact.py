"""Streamed summaries against exact ones on a shipped scenario: the figures of README.md.

Run on demand: ``python benchmarks/streamed_vs_exact.py [--samples 32768] [--seed 3]``.
It runs the same samples twice through ``simulate_summary``, once keeping them (exact
quantiles) and once streaming (``exact_budget=0``), and prints, per statistic, the largest
relative difference of the quantiles (bounded by ``sketch.RELATIVE_ERROR``) and the
distribution of the ratio streamed/exact of the quantiles' standard errors.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from simulator.engine import simulate_summary
from simulator.io import load_scenario
from simulator.sketch import RELATIVE_ERROR

ROOT = Path(__file__).parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "deepseek.yaml"))
    parser.add_argument("--samples", type=int, default=32_768)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    sc = load_scenario(args.scenario)
    exact = simulate_summary(sc, args.samples, rng=args.seed)
    streamed = simulate_summary(sc, args.samples, rng=args.seed, exact_budget=0)
    assert exact.exact
    assert not streamed.exact
    stats = np.array(exact.summary.statistics)
    a, b = exact.summary.values, streamed.summary.values
    print(f"{sc.name}, {args.samples:,} samples, seed {args.seed}; bound {RELATIVE_ERROR:.3e}")
    for name in ("p5", "p25", "p50", "p75", "p95", "mean", "sd"):
        rows = (stats == name) & np.isfinite(a) & (a != 0)
        rel = np.abs(b[rows] / a[rows] - 1)
        print(f"{name:>6}: max relative difference {rel.max():.3e} over {rows.sum()} values")
    for name in ("se_p5", "se_p25", "se_p50", "se_p75", "se_p95"):
        rows = (stats == name) & np.isfinite(a) & (a > 0)
        r = b[rows] / a[rows]
        lo, hi = np.quantile(r, [0.05, 0.95])
        print(f"{name:>6}: streamed/exact median {np.median(r):.2f}, 90% in {lo:.2f}-{hi:.2f}")


if __name__ == "__main__":
    main()
