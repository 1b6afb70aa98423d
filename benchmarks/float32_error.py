"""The error and the speed of ``--dtype float32`` against float64, on the same seed.

Run on demand: ``python benchmarks/float32_error.py [--samples 150000] [--seed 1]
[--speed-blocks 8] [--json FILE]``. Two parts, one run:

1. **Error.** For every shipped scenario (``scenarios/*.yaml``) it runs
   ``simulate_summary`` in float64 and in float32 with the same seed and samples, once with
   exact quantiles and once streamed (the log-bucketed histogram, ``exact_budget=0``), and
   prints the worst error of each kind of statistic (mean, sd, quantiles, standard errors:
   relative, as :mod:`simulator.precision` defines it; the questions' probabilities:
   absolute), where it was, and the bound ``simulator.precision.FLOAT32_BOUNDS`` states.
   The streamed rows compare float32 streamed with float64 streamed: the histogram's own
   error against exact quantiles (``simulator.sketch.RELATIVE_ERROR``) comes on top.
2. **Speed and memory.** For ``deepseek.yaml``, one thread, it times blocks of
   ``BLOCK_SIZE`` samples through sampling (``draw_block`` + ``build_inputs``, with the
   rounding to float32), the model (``evaluate_pair``) and the conversion back to float64,
   alternating float64 and float32 block by block so that both see the same machine load,
   in thread CPU time (``time.thread_time``); and the peak of memory allocated while one
   block is computed (``tracemalloc``, which numpy reports its arrays to). Then whole
   streamed runs (``--run-samples``, one worker): CPU time and traced peak memory.

Besides the relative errors it prints each mean's and quantile's float32 error in units of
its own Monte Carlo standard error (``se_mean``, ``se_p<k>`` of the float64 run), to set it
against the uncertainty the table reports anyway.

``docs/float32.md`` states the figures this prints; rerun it after changing the model.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np

from simulator.engine import _model_dtype, _to_numpy, build_inputs, simulate_summary
from simulator.io import load_scenario
from simulator.model import evaluate_pair
from simulator.precision import (
    FLOAT32_BOUNDS,
    KINDS,
    STREAMED_BOUNDS,
    StatisticError,
    answer_errors,
    errors_in_standard_errors,
    summary_errors,
)
from simulator.sampling import BLOCK_SIZE, draw_block

ROOT = Path(__file__).parents[1]

MODES = {
    "exact": "float32 exact vs float64 exact",
    "exact in SE": "float32 exact vs float64 exact, in Monte Carlo standard errors",
    "streamed": "float32 streamed vs float64 streamed (quantiles: vs float64 exact)",
    "sketch": "float64 streamed vs float64 exact (the histogram's own error, for scale)",
}


def _plain(found: dict[str, StatisticError]) -> dict[str, dict[str, Any]]:
    return {
        kind: {"error": e.error, "where": e.where, "float64": e.float64, "float32": e.float32}
        for kind, e in found.items()
    }


def errors(path: Path, samples: int, seed: int) -> dict[str, dict[str, dict[str, Any]]]:
    """Worst error by kind of statistic of float32 runs of ``path`` against float64.

    Returns ``{"exact": ..., "streamed": ..., "sketch": ...}``: float32 exact against float64
    exact; float32 streamed against float64 streamed, except quantiles, against float64
    exact (what a streamed float32 run promises end to end); and, for scale, float64
    streamed quantiles against exact (the histogram's own error).
    """
    sc = load_scenario(path)
    run: dict[tuple[str, bool], Any] = {}
    for d in ("float64", "float32"):
        for streamed in (False, True):
            budget = 0 if streamed else None
            run[d, streamed] = simulate_summary(
                sc, samples, rng=seed, dtype=d, exact_budget=budget, workers=1
            )
    assert run["float64", False].exact, "too many --samples for exact quantiles"
    out = {}
    for mode, ref, other in (
        ("exact", run["float64", False], run["float32", False]),
        ("streamed", run["float64", True], run["float32", True]),
    ):
        found = summary_errors(ref.summary, other.summary)
        if mode == "streamed":
            found["quantile"] = summary_errors(run["float64", False].summary, other.summary)[
                "quantile"
            ]
        answer = answer_errors(ref.answers, other.answers)
        if answer is not None:
            found["probability"] = answer
        out[mode] = _plain(found)
        if mode == "exact":  # streamed quantiles move by whole histogram buckets instead
            in_se = errors_in_standard_errors(ref.summary, other.summary)
            out["exact in SE"] = _plain({f"{k} / SE": v for k, v in in_se.items()})
    sketch = summary_errors(run["float64", False].summary, run["float64", True].summary)
    out["sketch"] = _plain({"quantile": sketch["quantile"]})
    return out


def speed(path: Path, blocks: int, seed: int) -> dict[str, dict[str, float]]:
    """Median thread CPU seconds per block by stage, and peak block memory, by dtype."""
    sc = load_scenario(path)
    names: tuple[str, ...] = ()
    times: dict[str, dict[str, list[float]]] = {
        d: {"sampling": [], "model": [], "to_float64": []} for d in ("float64", "float32")
    }
    peak: dict[str, float] = {}
    for b in range(blocks):
        for d in ("float64", "float32"):
            t0 = time.thread_time()
            draws = draw_block(sc, seed, b)
            inputs = build_inputs(sc, draws, dtype=_model_dtype(d))
            t1 = time.thread_time()
            with np.errstate(over="ignore", invalid="ignore"):
                w, c = evaluate_pair(inputs)
            t2 = time.thread_time()
            names = tuple(w)
            for m in names:
                _to_numpy(w[m])
                _to_numpy(c[m])
            t3 = time.thread_time()
            times[d]["sampling"].append(t1 - t0)
            times[d]["model"].append(t2 - t1)
            times[d]["to_float64"].append(t3 - t2)
    for d in ("float64", "float32"):
        draws = draw_block(sc, seed, 0)
        tracemalloc.start()
        inputs = build_inputs(sc, draws, dtype=_model_dtype(d))
        with np.errstate(over="ignore", invalid="ignore"):
            w, c = evaluate_pair(inputs)
        out = [(_to_numpy(w[m]), _to_numpy(c[m])) for m in names]
        peak[d] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        del out, w, c, inputs
    return {
        d: {
            **{k: statistics.median(v) for k, v in times[d].items()},
            "peak_block_bytes": peak[d],
        }
        for d in times
    }


def end_to_end(path: Path, samples: int, seed: int, repeats: int) -> dict[str, dict[str, float]]:
    """CPU seconds (one worker) and traced peak memory of a streamed run, by dtype.

    ``simulate_summary(..., workers=1, exact_budget=0)`` (what ``jevons run`` does beyond
    the exact-quantile budget, without writing outputs), float64 and float32 alternately:
    the median of ``repeats`` process CPU times (``time.process_time``; one worker thread
    does the work), then one more run each under ``tracemalloc`` for the peak of memory
    allocated (numpy's arrays included), which the first block's float32 check is part of.
    """
    sc = load_scenario(path)
    cpu: dict[str, list[float]] = {"float64": [], "float32": []}
    for _ in range(repeats):
        for d, times in cpu.items():
            t0 = time.process_time()
            simulate_summary(sc, samples, rng=seed, dtype=d, workers=1, exact_budget=0)
            times.append(time.process_time() - t0)
    out: dict[str, dict[str, float]] = {}
    for d, times in cpu.items():
        tracemalloc.start()
        simulate_summary(sc, samples, rng=seed, dtype=d, workers=1, exact_budget=0)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        out[d] = {"cpu_s": statistics.median(times), "peak_bytes": float(peak)}
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=150_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--speed-blocks", type=int, default=8)
    parser.add_argument("--run-samples", type=int, default=1_000_000)
    parser.add_argument("--run-repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    report: dict[str, Any] = {"samples": args.samples, "seed": args.seed, "errors": {}}
    worst: dict[str, dict[str, dict[str, Any]]] = {mode: {} for mode in MODES}
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        found_modes = errors(path, args.samples, args.seed)
        report["errors"][path.name] = found_modes
        for mode, found in found_modes.items():
            print(f"\n{path.name}, {args.samples:,} samples, seed {args.seed}: {MODES[mode]}")
            for kind in (*KINDS, "mean / SE", "quantile / SE"):
                if kind in found:
                    e = found[kind]
                    print(
                        f"  {kind:12s} {e['error']:.3g}  at {e['where']} "
                        f"({e['float64']:.7g} vs {e['float32']:.7g})"
                    )
                    if kind not in worst[mode] or e["error"] > worst[mode][kind]["error"]:
                        worst[mode][kind] = {**e, "scenario": path.name}
    report["worst"] = worst
    for mode, bounds in (("exact", FLOAT32_BOUNDS), ("streamed", STREAMED_BOUNDS)):
        in_se = worst.get(f"{mode} in SE", {})
        print(f"\nworst over every scenario, {MODES[mode]} (bound: simulator.precision)")
        for kind in KINDS:
            if kind in worst[mode]:
                e = worst[mode][kind]
                print(
                    f"  {kind:12s} {e['error']:.3g}  bound {bounds[kind]:.3g}  "
                    f"({e['scenario']}: {e['where']})"
                )
        for kind, e in in_se.items():
            print(f"  {kind:12s} {e['error']:.3g} SE  ({e['scenario']}: {e['where']})")

    timing = speed(ROOT / "scenarios" / "deepseek.yaml", args.speed_blocks, args.seed)
    report["speed"] = timing
    print(
        f"\ndeepseek.yaml, one thread, median thread CPU ms per block of {BLOCK_SIZE:,} "
        f"samples ({args.speed_blocks} blocks each, alternating)"
    )
    print(f"  {'stage':12s} {'float64':>9s} {'float32':>9s} {'f32/f64':>8s}")
    for stage in ("sampling", "model", "to_float64"):
        a, b = timing["float64"][stage], timing["float32"][stage]
        ratio = f"{b / a:8.2f}" if a > 0 else "       -"
        print(f"  {stage:12s} {1e3 * a:9.2f} {1e3 * b:9.2f} {ratio}")
    a = sum(timing["float64"][s] for s in ("sampling", "model", "to_float64"))
    b = sum(timing["float32"][s] for s in ("sampling", "model", "to_float64"))
    print(f"  {'total':12s} {1e3 * a:9.2f} {1e3 * b:9.2f} {b / a:8.2f}")
    pa, pb = timing["float64"]["peak_block_bytes"], timing["float32"]["peak_block_bytes"]
    print(f"  peak memory of one block: {pa / 1e6:.1f} MB float64, {pb / 1e6:.1f} MB float32")
    whole = end_to_end(
        ROOT / "scenarios" / "deepseek.yaml", args.run_samples, args.seed, args.run_repeats
    )
    report["run"] = whole
    a, b = whole["float64"]["cpu_s"], whole["float32"]["cpu_s"]
    print(
        f"\ndeepseek.yaml, simulate_summary of {args.run_samples:,} samples streamed, one "
        f"worker (median of {args.run_repeats}, alternating)"
    )
    print(f"  CPU time: {a:.2f} s float64, {b:.2f} s float32 ({b / a:.2f}x)")
    pa, pb = whole["float64"]["peak_bytes"], whole["float32"]["peak_bytes"]
    print(f"  peak memory allocated: {pa / 1e6:.0f} MB float64, {pb / 1e6:.0f} MB float32")
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return report


if __name__ == "__main__":
    main()
