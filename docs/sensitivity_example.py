"""Reproduce the Sobol' figures of docs/sensitivity.md (deepseek.yaml, hbm_gb, 2027).

Run from the repository root::

    python docs/sensitivity_example.py

It prints, as Markdown, the top inputs by total index for ``N = 1024`` and ``N = 4096`` base
samples (seed 20250127, the scenario's own), which ``docs/sensitivity.md`` quotes. About a
minute on two cores.
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np

from simulator.io import load_scenario
from simulator.sobol import SobolCorrelationWarning, SobolResult, sobol_indices

SCENARIO = "scenarios/deepseek.yaml"
METRIC, YEAR = "hbm_gb", 2027
SEED = 20250127
TOP = 10


def table(res: SobolResult, top: int) -> str:
    """The top inputs by ST as a Markdown table."""
    i, t = res.metrics.index(METRIC), res.years.index(YEAR)
    lines = [
        "| # | input | ST | S1 |",
        "|---|---|---|---|",
    ]
    for rank, j in enumerate(res.ranked(METRIC, YEAR)[:top], start=1):
        lines.append(
            f"| {rank} | `{res.inputs[j]}` | {res.ST[i, t, j]:.3f} ± {res.ST_conf[i, t, j]:.3f} "
            f"| {res.S1[i, t, j]:.3f} ± {res.S1_conf[i, t, j]:.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Print the worked example."""
    scenario = load_scenario(SCENARIO)
    for n in (1024, 4096):
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SobolCorrelationWarning)
            res = sobol_indices(
                scenario, metrics=[METRIC], years=[YEAR], base_samples=n, seed=SEED
            )
        elapsed = time.perf_counter() - started
        i, t = 0, 0
        s1_sum = float(np.sum(res.S1[i, t]))
        no_effect = int(np.sum((res.ST[i, t] == 0.0) & (res.ST_conf[i, t] == 0.0)))
        width = float(np.mean(res.ST_conf[i, t, res.ranked(METRIC, YEAR)[:5]]))
        sys.stdout.write(
            f"\n### N = {n}: {res.n_evaluations:,} evaluations, "
            f"{len(res.inputs)} inputs, seed {res.seed} ({elapsed:.0f} s)\n\n"
        )
        sys.stdout.write(table(res, TOP) + "\n")
        sys.stdout.write(
            f"\nsum of S1 = {s1_sum:.2f}; inputs with no effect at all (ST = 0): {no_effect}; "
            f"mean half-width of the top 5 ST intervals: {width:.3f}\n"
        )


if __name__ == "__main__":
    main()
