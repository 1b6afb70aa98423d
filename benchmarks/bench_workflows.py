"""Benchmark: where the time of compare, attribute and batch goes.

Run on demand (not part of the test suite): ``python benchmarks/bench_workflows.py``.
Machines here are shared and noisy, so read the ratios printed by one run (a hybrid of an
attribution against one simulate call, a batch with 2 jobs against 1), not absolute
figures across runs.

- ``compare``: one ``simulate`` per scenario plus the paired statistics;
- ``attribute``: one ``simulate`` per hybrid scenario (2^k when exact), so its cost is
  about ``evaluations x simulate``;
- ``batch``: per scenario ``simulate + summarize + write_outputs`` in its own process.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from simulator.attribution import attribute
from simulator.batch import plan_batch, run_batch
from simulator.compare import Entry, compare
from simulator.engine import simulate
from simulator.io import load_scenario, resolve_scenario

ROOT = Path(__file__).parents[1]
SCENARIOS = ROOT / "scenarios"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=2_000)
    args = parser.parse_args()
    n = args.samples
    bull, bear = (load_scenario(SCENARIOS / f"{s}.yaml") for s in ("bull", "bear"))

    t0 = time.perf_counter()
    simulate(bull, n, rng=1)
    one = time.perf_counter() - t0
    print(f"simulate(bull, {n:,}): {one:.2f} s")

    t0 = time.perf_counter()
    cmp = compare([Entry("bull", bull), Entry("bear", bear)], samples=n, rng=1)
    cmp.table()
    print(f"compare bull bear + table: {time.perf_counter() - t0:.2f} s")

    a = resolve_scenario(SCENARIOS / "deepseek.yaml").data
    b = resolve_scenario(SCENARIOS / "bull.yaml").data
    t0 = time.perf_counter()
    r = attribute(a, b, metric="hbm_gb", year=2027, samples=n, rng=1, groups=["demand.segments"])
    t = time.perf_counter() - t0
    print(
        f"attribute deepseek -> bull (segments grouped: {len(r.players)} players, "
        f"{r.method}): {r.evaluations} hybrids in {t:.2f} s, {t / r.evaluations:.2f} s each "
        f"({t / r.evaluations / one:.2f} x one simulate)"
    )

    files = sorted(SCENARIOS.glob("*.yaml"))
    for jobs in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "runs"
            plan = plan_batch(files, out, samples=n, seed=1)
            t0 = time.perf_counter()
            outcomes = run_batch(plan, out, workers=jobs)
            t = time.perf_counter() - t0
            t_resume = time.perf_counter()
            run_batch(plan, out, workers=jobs)
            t_resume = time.perf_counter() - t_resume
        done = sum(o.status == "done" for o in outcomes)
        print(
            f"batch of {len(files)} scenarios, --jobs {jobs}: {t:.2f} s ({done} done); "
            f"rerun, all up to date: {t_resume:.2f} s"
        )


if __name__ == "__main__":
    main()
