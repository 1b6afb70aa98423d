"""Micro-benchmark: the model stage (``evaluate_pair``) of this tree against a git ref's.

Run on demand: ``python benchmarks/bench_model.py [--ref main] [--blocks 4] [--repeats 7]``.
The ref's ``simulator/model`` is read with ``git show`` into a temporary package (its
``simulator.model`` imports renamed), so that both versions run in one process on the same
inputs: one block of ``deepseek.yaml`` (16,384 samples) each, timed alternately in thread
CPU time (``time.thread_time``, so that other processes on the shared machine do not count).
It first checks that both give bit-identical metrics (every metric, both variants, every
scenario given), then prints the median thread CPU time per block of each and their ratio,
and the same per 1e6 samples.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from simulator.engine import build_inputs
from simulator.io import load_scenario
from simulator.model import evaluate_pair
from simulator.sampling import BLOCK_SIZE, draw_block

ROOT = Path(__file__).parents[1]
MODULES = ("__init__", "_layout", "demand", "fleet", "inputs", "market")


def model_at(ref: str, where: Path) -> Callable[..., Any]:
    """``evaluate_pair`` of ``simulator/model`` at git ``ref``, imported from ``where``."""
    sys.path.insert(0, str(Path(__file__).parent))
    from _gitref import package_at

    name = "model_at_" + "".join(c if c.isalnum() else "_" for c in ref)
    package = package_at(ref, "simulator/model", MODULES, name, where)
    return package.evaluate_pair  # type: ignore[no-any-return]


def same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two metric dicts hold the same names and bit-identical values."""
    return a.keys() == b.keys() and all(
        np.asarray(a[k]).tobytes() == np.asarray(b[k]).tobytes() for k in a
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ref", default="main", help="git ref to compare with (default main)")
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "deepseek.yaml"))
    parser.add_argument(
        "--check",
        nargs="*",
        default=[str(p) for p in sorted((ROOT / "scenarios").glob("*.yaml"))],
        help="scenarios checked for bit-identical results (default: all shipped)",
    )
    parser.add_argument("--blocks", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old = model_at(args.ref, Path(tmp))
        with np.errstate(all="ignore"):
            for path in args.check:
                sc = load_scenario(path)
                inputs = build_inputs(sc, draw_block(sc, 11, 0, block_size=2048))
                new_w, new_c = evaluate_pair(inputs)
                old_w, old_c = old(inputs)
                ok = same(new_w, old_w) and same(new_c, old_c)
                print(f"{Path(path).name:>28}: {'bit-identical' if ok else 'DIFFERENT'}")
                if not ok:
                    raise SystemExit(1)
            sc = load_scenario(args.scenario)
            blocks = [build_inputs(sc, draw_block(sc, 7, b)) for b in range(args.blocks)]
            times: dict[str, list[float]] = {"old": [], "new": []}
            for _ in range(args.repeats):
                for label, run in (("old", old), ("new", evaluate_pair)):
                    spent = 0.0
                    for inputs in blocks:
                        t0 = time.thread_time()
                        run(inputs)
                        spent += time.thread_time() - t0
                    times[label].append(spent / args.blocks)
    per_million = 1e6 / BLOCK_SIZE
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"model stage, {Path(args.scenario).name}, thread CPU, median of {args.repeats}:")
    for label in ("old", "new"):
        print(
            f"  {label} ({args.ref if label == 'old' else 'this tree'}): "
            f"{med[label] * 1e3:7.2f} ms/block of {BLOCK_SIZE:,} "
            f"(min {min(times[label]) * 1e3:.2f}), {med[label] * per_million:.2f} s per 1e6"
        )
    print(f"  old / new: {med['old'] / med['new']:.2f}x")


if __name__ == "__main__":
    main()
