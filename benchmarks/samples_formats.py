"""samples.npz against samples.parquet: run time, file size and peak memory of a streamed run.

Run on demand: ``python benchmarks/samples_formats.py [--samples 100000 ...] [--formats npz
parquet] [--seed 3]``. Each
format runs in its own process (``simulate_summary(..., exact_budget=0, save_samples=...)``,
the path ``jevons run --save-samples`` takes for large runs), so that peak memory (the
process's ``ru_maxrss``) is that format's alone; the figures of docs/formats.md come from it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).parents[1]

_CHILD = """
import json, resource, sys, time
from simulator.engine import simulate_summary
from simulator.io import load_scenario
scenario, n, seed, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
sc = load_scenario(scenario)
t = time.perf_counter()
run = simulate_summary(sc, n, rng=seed, exact_budget=0, save_samples=path)
seconds = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "peak": peak, "metrics": len(run.metrics)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "deepseek.yaml"))
    parser.add_argument("--samples", type=int, nargs="+", default=[100_000])
    parser.add_argument("--formats", nargs="+", default=["npz", "parquet"])
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    print(f"{Path(args.scenario).name}, streamed (exact_budget=0), seed {args.seed}")
    print(f"{'samples':>10}  {'format':<16}{'seconds':>9}{'file MB':>10}{'peak MB':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.samples:
            for fmt in args.formats:
                name = f"samples.{fmt}"
                path = Path(tmp) / name
                cmd = [sys.executable, "-c", _CHILD, args.scenario, str(n), str(args.seed)]
                out = subprocess.run(
                    [*cmd, str(path)], check=True, capture_output=True, text=True
                ).stdout
                got = json.loads(out.strip().splitlines()[-1])
                size = path.stat().st_size / 1e6
                print(
                    f"{n:>10,}  {name:<16}{got['seconds']:>9.1f}{size:>10.1f}"
                    f"{got['peak'] / 1e6:>10.0f}"
                )
                path.unlink()


if __name__ == "__main__":
    main()
