"""Benchmark: writing a run's outputs (summary CSV and JSON, charts, manifest), old against new.

Run on demand: ``python benchmarks/bench_output.py [-n 10000] [--repeats 5] [--ref main]``.
Simulates ``scenarios/deepseek.yaml`` once (the output stage costs the same at any size: the
charts are drawn from the summary table), then calls ``write_outputs`` of this tree and of
``--ref`` (its ``simulator/report/charts.py`` and ``writers.py``, loaded from git into
temporary modules) alternately, ``--repeats`` times each, into fresh folders; the new code
both as it runs (charts drawn in ``min(cores, charts)`` processes) and with its charts drawn
in one process (``new, 1 process``: what the parallel drawing adds). Prints the
median wall time of each, the CPU time of this process plus its children (forked chart
processes), and the ratios; then checks that both wrote the same charts, byte for byte.
Compare figures printed by one run only (the machine is shared).
"""

from __future__ import annotations

import argparse
import filecmp
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parents[1]


def old_write_outputs(ref: str) -> Callable[..., Any]:
    """``write_outputs`` as ``ref`` had it (its charts and writers modules)."""

    sys.path.insert(0, str(Path(__file__).parent))
    from _gitref import module_from_source, show

    module_from_source("_old_charts", show(ref, "simulator/report/charts.py"))
    writers = show(ref, "simulator/report/writers.py").replace(
        "from simulator.report.charts import", "from _old_charts import"
    )
    return module_from_source("_old_writers", writers).write_outputs  # type: ignore[no-any-return]


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    """Parse the options, time both versions alternately and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--samples", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--ref", default="main", help="git ref of the old code (default main)")
    args = parser.parse_args()

    from simulator.engine import simulate_summary
    from simulator.io import load_scenario
    from simulator.report.writers import write_outputs

    run = simulate_summary(
        load_scenario(ROOT / "scenarios" / "deepseek.yaml"), args.samples, rng=1
    )
    from simulator.report import charts

    def one_process(*a: Any, **k: Any) -> Any:
        real = getattr(charts, "default_workers")  # noqa: B009 - not exported
        setattr(charts, "default_workers", lambda _tasks: 1)  # noqa: B010
        try:
            return write_outputs(*a, **k)
        finally:
            setattr(charts, "default_workers", real)  # noqa: B010

    versions = {
        "old": old_write_outputs(args.ref),
        "new": write_outputs,
        "new, 1 process": one_process,
    }
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in versions}
    work = Path(tempfile.mkdtemp(prefix="jevons-bench-output-"))
    try:
        for i in range(args.repeats):
            for name, write in versions.items():
                out = work / f"{name.replace(', ', '-').replace(' ', '')}-{i}"
                wall, cpu = time.perf_counter(), _cpu()
                write(out, run, run.summary, answers=run.answers)
                times[name].append((time.perf_counter() - wall, _cpu() - cpu))
        print(f"write_outputs, deepseek {args.samples:,} samples, {args.repeats} runs each")
        med = {
            k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
            for k, v in times.items()
        }
        for name, (wall, cpu) in med.items():
            print(f"  {name}: wall {wall:.3f} s, CPU (all processes) {cpu:.3f} s")
        for name in ("new", "new, 1 process"):
            print(
                f"  old/({name}): wall {med['old'][0] / med[name][0]:.2f}x, "
                f"CPU {med['old'][1] / med[name][1]:.2f}x"
            )
        pngs = sorted(p.name for p in (work / "new-0").glob("*.png"))
        old_pngs = sorted(p.name for p in (work / "old-0").glob("*.png"))
        same = pngs == old_pngs and all(
            filecmp.cmp(work / "old-0" / p, work / "new-0" / p, shallow=False) for p in pngs
        )
        print(f"  {len(pngs)} charts, byte-identical to the old ones: {same}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
