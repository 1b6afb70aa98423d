"""`jevons run` with the allocator setting of every command, and with glibc's defaults.

Runs ``jevons run SCENARIO -n N --workers 1 --json`` alternately with and without
``JEVONS_MALLOC=default`` (see ``simulator/_malloc.py``) and prints, per run, the child's
user and system CPU time and its minor page faults (``os.wait4``): CPU time and page
faults, unlike wall time, barely move with the load of a shared machine.

    python benchmarks/bench_malloc.py [--samples 300000] [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def _run(scenario: str, n: int, default: bool) -> tuple[float, float, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env["PYTHONPATH"] = str(ROOT)
    if default:
        env["JEVONS_MALLOC"] = "default"
    else:
        env.pop("JEVONS_MALLOC", None)
    cmd = [sys.executable, "-m", "simulator", "run", scenario, "-n", str(n), "--seed", "1"]
    proc = subprocess.Popen(
        [*cmd, "--workers", "1", "--json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        msg = f"jevons run failed: {cmd}"
        raise SystemExit(msg)
    return usage.ru_utime, usage.ru_stime, usage.ru_minflt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "deepseek.yaml"))
    parser.add_argument("--samples", type=int, default=300_000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    rows: dict[str, list[tuple[float, float, int]]] = {"glibc defaults": [], "jevons": []}
    for _ in range(args.repeats):
        rows["glibc defaults"].append(_run(args.scenario, args.samples, default=True))
        rows["jevons"].append(_run(args.scenario, args.samples, default=False))
    print(
        f"# jevons run {Path(args.scenario).name} -n {args.samples:,} --workers 1, "
        f"median of {args.repeats}"
    )
    print("| allocator | user s | system s | minor page faults |")
    print("|---|---|---|---|")
    for name, runs in rows.items():
        user = statistics.median(r[0] for r in runs)
        system = statistics.median(r[1] for r in runs)
        faults = statistics.median(r[2] for r in runs)
        print(f"| {name} | {user:.2f} | {system:.2f} | {faults:,.0f} |")


if __name__ == "__main__":
    main()
