"""Sampling stage, this tree against a git ref, side by side in one process.

Run on demand::

    python benchmarks/bench_sampling.py                 # against main, deepseek.yaml
    python benchmarks/bench_sampling.py --ref 4e03a13 --blocks 8 --repeats 7
    python benchmarks/bench_sampling.py --check-only    # bit-for-bit comparison only
    python benchmarks/bench_sampling.py --no-check --engine 1000000   # and inside the engine

The sampling package (``simulator/sampling/*.py``) of ``--ref`` is read with ``git show``
into a temporary package, so both versions run in one process on the same machine state.
The stage is what ``benchmarks/bench_block.py`` calls sampling: ``draw_block`` and
``build_inputs`` (whose paths come from ``path_values``; the engine's reference to it is
swapped for the old one while the old version is timed). Old and new are timed block by
block, alternately, in thread CPU time (``time.thread_time``), so other processes' load
does not count; the figures are medians over repeats of the mean per block.

Before timing, the script checks that both versions draw the same numbers, bit for bit,
for every shipped scenario and every design (``random``, ``lhs``, ``sobol``), full and
partial blocks, and the paths of ``build_inputs``, and that every kind's inverse CDF, the
truncated inverse CDF, the beta quantile and the copula agree on inputs the scenarios
never draw (ties, tails, tiny blocks); it stops with exit status 1 if not.

``--engine N`` also times the stage where the harness does, inside ``simulate_summary``
(2 worker threads), old and new alternately; run it with ``--no-check`` so that each
version's first run pays for its one-time tables, as a fresh process does.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import types
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from simulator import engine
from simulator.io import load_scenario
from simulator.sampling import BLOCK_SIZE
from simulator.schema.distributions import (
    Beta,
    LogNormal,
    Normal,
    Pert,
    Triangular,
    TruncNormal,
    Uniform,
)
from simulator.schema.scenario import Scenario

ROOT = Path(__file__).parents[1]
MODULES = ("streams", "distributions", "designs", "paths", "__init__")


def load_reference(ref: str, where: Path) -> types.ModuleType:
    """Import ``simulator/sampling`` as it is at git ``ref``, as package ``_ref_sampling``."""
    sys.path.insert(0, str(Path(__file__).parent))
    from _gitref import package_at

    return package_at(ref, "simulator/sampling", MODULES, "_ref_sampling", where)


def _same(a: Any, b: Any) -> bool:
    """Bit-for-bit equality of two float arrays (NaN payloads and signed zeros included)."""
    x, y = np.ascontiguousarray(a), np.ascontiguousarray(b)
    return x.shape == y.shape and x.dtype == y.dtype and x.tobytes() == y.tobytes()


def _differences(old: Mapping[str, Any], new: Mapping[str, Any], what: str) -> list[str]:
    if list(old) != list(new):
        return [f"{what}: keys differ"]
    return [f"{what}: {k}" for k in old if not _same(old[k], new[k])]


def _inputs(sc: Scenario, draws: Mapping[str, Any], path_values: Callable[..., Any]) -> Any:
    saved = getattr(engine, "path_values")  # noqa: B009 - swapped, so not imported
    setattr(engine, "path_values", path_values)  # noqa: B010
    try:
        return engine.build_inputs(sc, draws)
    finally:
        setattr(engine, "path_values", saved)  # noqa: B010


def _flatten(x: Any, prefix: str = "") -> dict[str, Any]:
    """Every array inside a ModelInputs (dataclasses, tuples), by attribute path."""
    out: dict[str, Any] = {}
    if isinstance(x, np.ndarray):
        out[prefix] = x
    elif isinstance(x, (list, tuple)):
        for i, v in enumerate(x):
            out.update(_flatten(v, f"{prefix}[{i}]"))
    elif hasattr(x, "__dataclass_fields__"):
        for f in x.__dataclass_fields__:
            out.update(_flatten(getattr(x, f), f"{prefix}.{f}"))
    return out


def check(old: types.ModuleType, scenarios: list[Path]) -> list[str]:
    """Every difference between the two versions' draws and paths (empty: identical)."""
    from simulator import sampling as new

    problems: list[str] = []
    cases = [(BLOCK_SIZE, 0), (BLOCK_SIZE, 3), (1000, 1), (7, 2), (2, 0), (1, 5)]
    for path in scenarios:
        base = load_scenario(path)
        for method in ("lhs", "random", "sobol"):
            sc = base.model_copy(
                update={"sampling": base.sampling.model_copy(update={"method": method})}
            )
            for seed in (1, 7):
                for size, block in cases:
                    what = f"{path.name} {method} seed={seed} block={block} size={size}"
                    a = old.draw_block(sc, seed, block, size=size)
                    b = new.draw_block(sc, seed, block, size=size)
                    problems += _differences(a, b, what)
                    if size >= 2:
                        ia = _flatten(_inputs(sc, a, old.path_values))
                        ib = _flatten(_inputs(sc, b, new.path_values))
                        problems += _differences(ia, ib, f"{what} inputs")
    return problems


def _agree(before: Callable[..., Any], after: Callable[..., Any], *args: Any) -> bool:
    """Whether two functions give the same bits and type, or raise the same exception."""
    results: list[Any] = []
    for f in (before, after):
        try:
            results.append(f(*args))
        except Exception as err:  # noqa: BLE001 - compared, not handled
            results.append(type(err))
    x, y = results
    if isinstance(x, type) or isinstance(y, type):
        return x is y
    return type(x) is type(y) and _same(x, y)


def check_functions(old: types.ModuleType) -> list[str]:
    """Differences of the inverse CDFs and the copula on inputs the scenarios never draw."""
    from simulator import sampling as new
    from simulator.sampling import distributions

    old_dist = sys.modules[f"{old.__name__}.distributions"]
    problems: list[str] = []
    rng = np.random.default_rng(5)
    edges = [0.5, 0.25, 0.75, 1 - 2**-53, 2**-53, 1e-300, 5e-324, 1e-20, 0.0, 1.0]
    probabilities = [
        np.array(edges),
        rng.random(10_000),
        np.exp(-rng.uniform(0, 60, 10_000)),
        1 - np.exp(-rng.uniform(0, 36, 10_000)),
        rng.random((3, 50)),
    ]
    shapes = [(3.0, 3.0), (1.0, 1.0), (1.0, 5.0), (5.0, 1.0), (1.0001, 30.0), (30.0, 1.0001)]
    shapes += [(2.5, 1.5), (0.5, 0.5), (0.3, 2.0), (12.0, 1.2), (1.2, 12.0), (2.0, 50.0)]
    with np.errstate(all="ignore"):
        for a, b in shapes:
            for k, u in enumerate(probabilities):
                x = old_dist.beta_quantile(a, b, u)
                y = distributions.beta_quantile(a, b, u)
                if not _same(x, y):
                    problems.append(f"beta_quantile({a}, {b}) on set {k}")
    specs = [
        Normal(kind="normal", mean=2.0, sd=0.5),
        LogNormal(kind="lognormal", median=3.0, sigma=0.6),
        LogNormal(kind="lognormal", p5=1.05, p95=1.3),
        TruncNormal(kind="truncnormal", mean=0.0, sd=1.0, low=-1.0, high=3.0),
        Pert(kind="pert", low=0.2, mode=0.3, high=0.8),
        Beta(kind="beta", alpha=0.5, beta=2.0, low=1.0, high=2.0),
        Triangular(kind="triangular", low=4.0, mode=5.5, high=7.0),
        Uniform(kind="uniform", low=-1.0, high=1.0),
    ]
    inside: list[Any] = [probabilities[1], np.array(edges[:6]), np.float64(0.3)]
    domains = [(1.0, np.inf), (-np.inf, 2.5), (1.1, 1.2)]
    with np.errstate(all="ignore"):
        for spec in specs:
            for k, u in enumerate(inside):
                if np.ndim(u) == 0 and isinstance(spec, (Pert, Beta)):
                    continue  # the old version raised TypeError on a scalar; this one maps it
                if not _agree(old_dist.ppf, distributions.ppf, spec, u):
                    problems.append(f"ppf({spec.label()}) on set {k}")
                if not spec.truncatable:
                    continue
                for low, high in domains:
                    before, after = old_dist.truncated_ppf, distributions.truncated_ppf
                    if not _agree(before, after, spec, u, low, high):
                        problems.append(f"truncated_ppf({spec.label()}, {low}, {high}) set {k}")
    names = ["a", "b", "c", "d", "e"]
    pairs = [("a", "b", 0.7), ("a", "c", -0.4), ("b", "c", -0.2), ("d", "e", 0.5)]
    for size in (1, 2, 3, 5, 64, 1000, 4096):
        coarse = {n: np.round(rng.random(size), 2).clip(0.01, 0.99) for n in names}  # ties
        fine = {n: rng.random(size) for n in names}
        for label, given in (("ties", coarse), ("random", fine)):
            for replicates in (1, 3, 8):
                what = f"correlate {label} size={size} replicates={replicates}"
                was = old.correlate(given, pairs, replicates=replicates)
                now = new.correlate(given, pairs, replicates=replicates)
                problems += _differences(was, now, what)
    return problems


def timing(
    old: types.ModuleType, scenario: Path, blocks: int, repeats: int
) -> dict[str, list[float]]:
    """Thread CPU seconds per block, old and new alternately, block by block.

    Keys ``old``/``new`` (draw_block + build_inputs) and ``old draw``/``new draw``
    (draw_block alone).
    """
    from simulator import sampling as new

    sc = load_scenario(scenario)
    versions = {"old": old, "new": new}
    for mod in versions.values():  # warm the per-process caches (beta tables)
        _inputs(sc, mod.draw_block(sc, 7, 0), mod.path_values)
    spent: dict[str, list[float]] = {k: [] for v in versions for k in (v, f"{v} draw")}
    for _ in range(repeats):
        acc = dict.fromkeys(spent, 0.0)
        for b in range(1, blocks + 1):
            for name, mod in versions.items():
                t0 = time.thread_time()
                draws = mod.draw_block(sc, 7, b)
                t1 = time.thread_time()
                _inputs(sc, draws, mod.path_values)
                t2 = time.thread_time()
                acc[name] += t2 - t0
                acc[f"{name} draw"] += t1 - t0
        for key, seconds in acc.items():
            spent[key].append(seconds / blocks)
    return spent


def engine_timing(
    old: types.ModuleType, scenario: Path, samples: int, workers: int, rounds: int
) -> dict[str, list[float]]:
    """Thread CPU seconds of the sampling stage inside ``simulate_summary``, per run.

    The engine's ``draw_block`` and ``build_inputs`` are wrapped to add up their thread
    CPU time over the worker threads; old (its ``draw_block`` and ``path_values`` swapped
    into the engine) and new alternate, ``rounds`` times. Each version's first run
    includes its one-time work (the beta quantile tables), as a fresh process would.
    """
    from simulator import sampling as new

    sc = load_scenario(scenario)
    lock = threading.Lock()
    spent: dict[str, list[float]] = {"old": [], "new": []}
    total = [0.0]

    def timed(f: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.thread_time()
            try:
                return f(*args, **kwargs)
            finally:
                with lock:
                    total[0] += time.thread_time() - t0

        return wrapper

    saved = {k: getattr(engine, k) for k in ("draw_block", "build_inputs", "path_values")}
    try:
        setattr(engine, "build_inputs", timed(saved["build_inputs"]))  # noqa: B010
        for _ in range(rounds):
            for name, mod in (("old", old), ("new", new)):
                setattr(engine, "draw_block", timed(mod.draw_block))  # noqa: B010
                setattr(engine, "path_values", mod.path_values)  # noqa: B010
                total[0] = 0.0
                engine.simulate_summary(sc, samples, rng=1, workers=workers)
                spent[name].append(total[0])
    finally:
        for k, f in saved.items():
            setattr(engine, k, f)
    return spent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ref", default="main", help="git ref of the old version")
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "deepseek.yaml"))
    parser.add_argument("--blocks", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--check-only", action="store_true")
    parser.add_argument(
        "--engine",
        type=int,
        default=0,
        metavar="N",
        help="also time the stage inside simulate_summary of N samples (2 workers)",
    )
    parser.add_argument("--rounds", type=int, default=2, help="engine runs per version")
    parser.add_argument("--no-check", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old = load_reference(args.ref, Path(tmp))
        if not args.no_check:
            problems = check_functions(old)
            problems += check(old, sorted((ROOT / "scenarios").glob("*.yaml")))
            if problems:
                print(f"{len(problems)} differences from {args.ref}:")
                print("\n".join(problems[:40]))
                return 1
            print(f"draws and paths identical to {args.ref}, bit for bit")
        if args.check_only:
            return 0
        # the engine runs first: with --no-check, each version's first run builds its tables
        runs = (
            engine_timing(old, Path(args.scenario), args.engine, 2, args.rounds)
            if args.engine
            else {}
        )
        spent = timing(old, Path(args.scenario), args.blocks, args.repeats)
    med = {k: statistics.median(v) for k, v in spent.items()}
    per_million = 1e6 / BLOCK_SIZE
    print(
        f"# sampling stage (draw_block + build_inputs), {Path(args.scenario).name}, "
        f"thread CPU time, median of {args.repeats} x {args.blocks} blocks"
    )
    for name in ("old", "new"):
        print(
            f"{name} ({args.ref if name == 'old' else 'this tree'}): "
            f"{med[name] * 1e3:7.2f} ms/block of {BLOCK_SIZE:,}  "
            f"{med[name] * per_million:6.3f} s per 1e6 samples  "
            f"(min {min(spent[name]) * 1e3:.2f} ms); draw_block alone "
            f"{med[name + ' draw'] * 1e3:.2f} ms/block"
        )
    print(
        f"old / new: {med['old'] / med['new']:.2f}x "
        f"(draw_block alone {med['old draw'] / med['new draw']:.2f}x)"
    )
    if runs:
        print(
            f"# inside simulate_summary, {args.engine:,} samples, 2 workers: thread CPU "
            "seconds of draw_block + build_inputs summed over the workers, per run "
            "(each version's first run includes its one-time tables)"
        )
        scale = 1e6 / args.engine
        for name in ("old", "new"):
            shown = ", ".join(f"{t:.3f}" for t in runs[name])
            per = ", ".join(f"{t * scale:.2f}" for t in runs[name])
            print(f"{name}: {shown} s; per 1e6 samples: {per} s")
        ratios = ", ".join(f"{a / b:.2f}x" for a, b in zip(runs["old"], runs["new"], strict=True))
        print(f"old / new per round: {ratios}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
