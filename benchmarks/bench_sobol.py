"""Where the time of a Sobol' analysis goes: SALib's sampler, the model, SALib's analysis.

Run on demand (not part of the test suite)::

    python benchmarks/bench_sobol.py                  # deepseek.yaml, N = 1024 and 4096
    python benchmarks/bench_sobol.py --base 256 1024  # other sizes

For each ``N`` it times, in one process, SALib's Saltelli/Sobol' sampler alone, the model on
the whole design (chunks on worker threads), and SALib's analysis of one metric-year, then the
whole of :func:`simulator.sobol.sobol_indices` for that metric-year. Figures move with the
machine's load: compare the stages within one run.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np

from simulator.io import load_scenario
from simulator.sampling import uncertain_names
from simulator.sobol import (
    SobolCorrelationWarning,
    _problem,
    _scenario_function,
    _seeds,
    sobol_indices,
)


def main() -> None:
    """Time the stages and print one line per size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="scenarios/deepseek.yaml")
    parser.add_argument("--base", type=int, nargs="+", default=[1024, 4096])
    args = parser.parse_args()
    from SALib.analyze import sobol as salib_analyze
    from SALib.sample import sobol as salib_sample

    sc = load_scenario(args.scenario)
    names = uncertain_names(sc)
    problem = _problem(names)
    column = list(sc.years.all).index(2027)
    function = _scenario_function(sc, names, ["hbm_gb"], [column], "with_shocks")
    sys.stdout.write(f"{args.scenario}: D = {len(names)} inputs, hbm_gb 2027, with_shocks\n")
    for n in args.base:
        design, boot = _seeds(1)
        t0 = time.perf_counter()
        points = salib_sample.sample(problem, n, calc_second_order=False, seed=design)
        t1 = time.perf_counter()
        y = np.concatenate(
            [function(points[i : i + 16_384]) for i in range(0, len(points), 16_384)]
        )[:, 0]
        t2 = time.perf_counter()
        salib_analyze.analyze(problem, y, calc_second_order=False, seed=boot)
        t3 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SobolCorrelationWarning)
            sobol_indices(sc, metrics=["hbm_gb"], years=[2027], base_samples=n, seed=1)
        t4 = time.perf_counter()
        sys.stdout.write(
            f"N = {n:>6,}: {len(points):>9,} evaluations; sampler {t1 - t0:6.2f} s, "
            f"model (1 thread) {t2 - t1:6.2f} s, analysis {t3 - t2:6.2f} s per metric-year; "
            f"sobol_indices {t4 - t3:6.2f} s\n"
        )


if __name__ == "__main__":
    main()
