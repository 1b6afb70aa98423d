"""Op-count floor: the time the model's own arithmetic needs with ideal NumPy, per sample.

Run on demand: ``python benchmarks/arithmetic_floor.py [--scenario ...] [--json out.json]``
(``benchmarks/run.py`` runs it and reports jevons' time as a multiple of it).

Method
------
1. **Count.** One block of ``deepseek.yaml`` (16,384 samples) goes through the sampling's
   inverse CDFs and paths (``values_from_uniforms`` on given uniforms, ``build_inputs``),
   the model (``evaluate_pair``) and the streamed summary
   (``StreamingSummary.of_block``) with every array an instance of :class:`Counted`, an
   ``ndarray`` subclass whose ``__array_ufunc__`` and ``__array_function__`` hooks record
   each NumPy operation (every ufunc call, in-place operators, ``out=`` calls and
   reductions included: NumPy routes all of them through ``__array_ufunc__``), its kind
   (the ufunc or function name) and the number of elements it produced (or, for a
   reduction, read). ``Counted.__getitem__``/``__setitem__`` record gathers (integer or
   boolean indexing) and assignments. The sampling modules' ``np`` is replaced, for the
   count only, by a proxy that turns every array a NumPy function returns into a
   :class:`Counted` (``np.asarray`` would otherwise drop the subclass and hide what
   follows). The model itself needs no proxy: it finds its namespace from its arrays.
   The uniforms themselves (one per uncertain scalar per sample, PCG64) are counted
   from the scenario, and the Gaussian copula (``correlate``) is counted like the rest.
2. **Cost.** Each recorded kind is timed on this machine on contiguous float64 arrays of
   16,384 elements (128 KiB, cache-resident), writing into a preallocated output where
   NumPy allows (``out=``): ideal NumPy, no allocation, no first touch. Functions without
   ``out=`` are costed as what they must do at least: a copy per element written
   (``stack``, ``concatenate``, ``where`` as a select, assignments), a gather per element
   (``take``, fancy indexing), or their own measured time (``searchsorted``,
   ``bincount``); views (``transpose``, ``reshape``, ``broadcast_to``) cost nothing.
3. **Floor** = sum over kinds of (elements per sample x seconds per element).

What it does not count: Python overhead (function calls, the per-year loops), allocation
and first touch of fresh memory, operations on scalars and small arrays (under 64
elements), and ``ndarray`` methods that bypass the hooks (``copy``, ``astype``,
``ravel`` of a non-contiguous array). It counts what the code *does*, not the fewest
operations the equations could be written with: the floor of this implementation's
arithmetic, not of every implementation.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import statistics
import sys
import timeit
import types
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).parents[1]
SMALL = 64
"""Operations producing fewer elements than this are not counted (scalars, tables). [-]"""

COPY_LIKE = {
    "stack",
    "concatenate",
    "concat",
    "copyto",
    "ascontiguousarray",
    "repeat",
    "zeros_like",
    "ones_like",
    "full_like",
    "full",
    "setitem",
    "copy",
    "array",
    "asarray",
    "where",
    "flip",
}
GATHER_LIKE = {"take", "gather"}
VIEWS = {
    "transpose",
    "permute_dims",
    "reshape",
    "broadcast_to",
    "expand_dims",
    "squeeze",
    "empty",
    "empty_like",
    "shape",
    "ndim",
    "result_type",
    "can_cast",
    "atleast_1d",
    "moveaxis",
    "swapaxes",
    "ravel",
}

_counts: Counter[tuple[str, str]] = Counter()
_stage = ["-"]


def _plain(x: Any) -> Any:
    if isinstance(x, Counted):
        return x.view(np.ndarray)
    if isinstance(x, (list, tuple)):
        return type(x)(_plain(v) for v in x)
    return x


def _wrap(x: Any) -> Any:
    if type(x) is np.ndarray:
        return x.view(Counted)
    if isinstance(x, tuple):
        return tuple(_wrap(v) for v in x)
    if isinstance(x, list):
        return [_wrap(v) for v in x]
    return x


_calls: Counter[str] = Counter()


def _record(kind: str, n: int) -> None:
    _calls[_stage[0]] += 1
    if n >= SMALL:
        _counts[_stage[0], kind] += n


class Counted(np.ndarray):
    """An ndarray that records every NumPy operation done on it (see the module notes)."""

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        args = _plain(inputs)
        if "out" in kwargs:
            kwargs["out"] = _plain(kwargs["out"])
        result = getattr(ufunc, method)(*args, **kwargs)
        name = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
        if method == "reduce":
            _record(name, int(np.size(args[0])))
        else:
            res = result[0] if isinstance(result, tuple) else result
            _record(name, int(np.size(res)))
        return _wrap(result)

    def __array_function__(
        self, func: Callable[..., Any], types: Any, args: Any, kwargs: Any
    ) -> Any:
        result = func(*_plain(args), **{k: _plain(v) for k, v in kwargs.items()})
        name = func.__name__
        if name not in VIEWS:
            # elements written, or read where a function reads more than it writes
            # (bincount, einsum, count_nonzero)
            res = result[0] if isinstance(result, tuple) else result
            sizes = [int(np.size(res))]
            for a in args:
                for item in a if isinstance(a, (list, tuple)) else (a,):
                    if isinstance(item, np.ndarray):
                        sizes.append(int(item.size))
            _record(name, max(sizes) if name not in COPY_LIKE else sizes[0])
        return _wrap(result)

    def __getitem__(self, key: Any) -> Any:
        keys = key if isinstance(key, tuple) else (key,)
        fancy = any(isinstance(k, np.ndarray) and k.ndim > 0 for k in keys)
        result = np.ndarray.__getitem__(self.view(np.ndarray), _plain(key))
        if fancy:
            _record("gather", int(np.size(result)))
        return _wrap(result)

    def __setitem__(self, key: Any, value: Any) -> None:
        base = self.view(np.ndarray)
        plain_key = _plain(key)
        _record("setitem", int(np.size(base[plain_key])))
        base[plain_key] = _plain(value)


class _CountingNumpy(types.ModuleType):
    """``numpy`` whose functions return :class:`Counted` arrays (for the sampling modules)."""

    def __init__(self) -> None:
        super().__init__("numpy")

    def __getattr__(self, name: str) -> Any:
        attr = getattr(np, name)
        if isinstance(attr, np.ufunc) or not callable(attr) or isinstance(attr, type):
            return attr  # ufuncs are counted by Counted.__array_ufunc__ on Counted inputs
        if name in {"errstate", "iinfo", "finfo", "dtype", "nextafter", "isscalar"}:
            return attr

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            return _wrap(attr(*args, **kwargs))

        return wrapped


def count(scenario_path: str) -> tuple[dict[str, dict[str, float]], int, int]:
    """Elements per sample by stage and kind, for one block; and uniforms per sample.

    :data:`_calls` holds the NumPy calls per block by stage afterwards.
    """
    from simulator import engine, sampling, sketch, streaming
    from simulator.io import load_scenario
    from simulator.model import evaluate_pair
    from simulator.sampling import designs, distributions, paths
    from simulator.streaming import StreamingSummary, Workspace

    compat_numpy = importlib.import_module("array_api_compat.numpy")
    sc = load_scenario(scenario_path)
    block = sampling.BLOCK_SIZE
    names = sampling.uncertain_names(sc)
    raw = sampling.block_uniforms(sc.sampling.method, 7, names, 0, block)
    # Warm the per-scenario caches (beta quantile tables, built once per process with
    # scipy's betaincinv) so that the count is what every later block does. The tables
    # are filled down to the lowest probability a block reaches, so warm with the
    # counted block itself too.
    for b in (1, 0):
        engine.build_inputs(sc, sampling.draw_block(sc, 7, b))
    proxy = _CountingNumpy()
    patched = [sampling, designs, distributions, paths, engine]
    saved = [m.np for m in patched]
    try:
        for m in patched:
            m.np = proxy  # type: ignore[attr-defined]
        _stage[0] = "sampling"
        uniforms: dict[str, Any] = {k: np.asarray(v).view(Counted) for k, v in raw.items()}
        pairs = sc.active_correlations()
        if pairs:
            uniforms = designs.correlate(uniforms, pairs)
        draws = sampling.values_from_uniforms(sc, uniforms, block)
        inputs = engine.build_inputs(sc, draws)
    finally:
        for m, orig in zip(patched, saved, strict=True):
            m.np = orig  # type: ignore[attr-defined]
    _stage[0] = "model"
    # xp.asarray(Counted) returns a plain ndarray (same data), and xp.zeros etc. make
    # plain arrays whose later assignments would go unseen: keep every array Counted.
    creators = ("asarray", "zeros", "ones", "empty", "full", "arange")
    originals = {name: getattr(compat_numpy, name) for name in creators}

    def counting(f: Callable[..., Any]) -> Callable[..., Any]:
        def g(*a: Any, **k: Any) -> Any:
            return _wrap(f(*a, **k))

        return g

    for name, f in originals.items():
        setattr(compat_numpy, name, counting(f))
    try:
        with np.errstate(all="ignore"):
            w, c = evaluate_pair(inputs)
    finally:
        for name, f in originals.items():
            setattr(compat_numpy, name, f)
    uncounted = [k for k, v in (*w.items(), *c.items()) if not isinstance(v, Counted)]
    if uncounted:  # an output that escaped the hooks: its operations went uncounted
        msg = f"outputs not counted: {uncounted}"
        raise RuntimeError(msg)
    _stage[0] = "summaries"
    summary_modules = [streaming, sketch]
    saved = [m.np for m in summary_modules]
    try:
        for m in summary_modules:
            m.np = proxy  # type: ignore[attr-defined]
        StreamingSummary.of_block(w, c, engine._question_specs(sc), Workspace())
    finally:
        for m, orig in zip(summary_modules, saved, strict=True):
            m.np = orig  # type: ignore[attr-defined]
    _stage[0] = "-"
    out: dict[str, dict[str, float]] = {}
    for (stage, kind), n in _counts.items():
        out.setdefault(stage, {})[kind] = n / block
    return out, len(names), block


def _time(fn: Callable[[], Any], elements: int) -> float:
    """Seconds per element of ``fn`` (best of 7 medians of 20 calls)."""
    runs = [timeit.timeit(fn, number=20) / 20 for _ in range(7)]
    return min(runs) / elements


def costs(kinds: set[str], n: int = 16_384) -> dict[str, float]:
    """Seconds per element of each kind on cache-sized contiguous arrays, ideal NumPy."""
    from scipy import special

    rng = np.random.default_rng(0)
    x = rng.uniform(0.05, 0.95, n)
    y = rng.uniform(0.05, 0.95, n)
    z = rng.uniform(0.05, 0.95, n)
    ints = (x * 1e6).astype(np.int64)
    mask = x < 0.5
    out = np.empty(n)
    idx = rng.integers(0, 2048, n)
    table = rng.uniform(size=2048)
    knots = np.sort(rng.uniform(size=16))
    copy_cost = _time(lambda: np.copyto(out, x), n)
    table_out: dict[str, float] = {"uniform": _time(lambda: rng.random(out=out), n)}
    for kind in kinds:
        base, _, method = kind.partition(".")
        uf = getattr(np, base, None) or getattr(special, base, None)
        if isinstance(uf, np.ufunc):
            if method == "reduce":
                arg = ints if base in {"bitwise_or", "bitwise_and"} else x
                table_out[kind] = _time(functools.partial(uf.reduce, arg), n)
                continue
            if method:
                table_out[kind] = copy_cost
                continue
            args: list[Any] = [x, y, z][: uf.nin]
            if base.startswith("logical"):  # used on masks
                args = [mask] * uf.nin
            if base in {"right_shift", "left_shift", "bitwise_and", "bitwise_or"}:
                args = [ints, np.int64(3)]
            if base == "invert":
                args = [mask]
            if base in {"betainc", "betaincinv"}:
                args = [np.full(n, 2.0), np.full(n, 3.0), x]
            res = uf(*args)
            buf = np.empty_like(res)
            table_out[kind] = _time(functools.partial(uf, *args, out=buf), n)
        elif kind in GATHER_LIKE:
            table_out[kind] = _time(lambda: np.take(table, idx, out=out), n)
        elif kind == "searchsorted":
            table_out[kind] = _time(lambda: np.searchsorted(knots, x), n)
        elif kind == "bincount":
            keys = (x * 4000).astype(np.int64)
            table_out[kind] = _time(functools.partial(np.bincount, keys, minlength=4096), n)
        elif kind == "where":
            table_out[kind] = _time(lambda: np.where(mask, x, y), n)
        elif kind in {"count_nonzero"}:
            table_out[kind] = _time(lambda: np.count_nonzero(mask), n)
        elif kind in {"einsum"}:
            table_out[kind] = _time(lambda: np.dot(x, y), n)
        else:  # copies, fills, assignments and anything else: one write per element
            table_out[kind] = copy_cost
    return table_out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "deepseek.yaml"))
    parser.add_argument("--json", default=None, help="write the figures here")
    args = parser.parse_args()
    counted, n_uncertain, block = count(args.scenario)
    kinds = {k for stage in counted.values() for k in stage}
    cost = costs(kinds)
    rows = []
    per_stage: dict[str, float] = {}
    uniform_s = n_uncertain * cost["uniform"]
    per_stage["sampling"] = uniform_s
    rows.append(("sampling", "uniform (PCG64)", float(n_uncertain), cost["uniform"], uniform_s))
    for stage in ("sampling", "model", "summaries"):
        for kind, elements in sorted(counted.get(stage, {}).items(), key=lambda kv: -kv[1]):
            s = elements * cost[kind]
            per_stage[stage] = per_stage.get(stage, 0.0) + s
            rows.append((stage, kind, elements, cost[kind], s))
    print(f"# op-count floor: {Path(args.scenario).name}, one block of {block:,} samples")
    print("| stage | kind | elements / sample | ns / element | ns / sample |")
    print("|---|---|---|---|---|")
    for stage, kind, elements, c, s in rows:
        if s * 1e9 >= 0.5:
            print(f"| {stage} | {kind} | {elements:,.0f} | {c * 1e9:.2f} | {s * 1e9:,.0f} |")
    total = sum(per_stage.values())
    one = np.ones(1)
    small = np.empty(1)
    per_call = _time(lambda: np.add(one, one, out=small), 1)
    print(f"NumPy call overhead (a 1-element add): {per_call * 1e9:.0f} ns")
    overhead = {st: _calls[st] * per_call / block for st in per_stage}
    for stage, s in per_stage.items():
        print(
            f"{stage:>10}: {s * 1e6:7.2f} us/sample arithmetic; {_calls[stage]:,} NumPy calls "
            f"per block, {overhead[stage] * 1e6:.2f} us/sample of call overhead"
        )
    print(f"{'total':>10}: {total * 1e6:7.2f} us/sample (one thread, ideal NumPy)")
    # The issue's floor in the same units: one uniform per uncertain scalar and one
    # multiply-add pass (a multiply and an add) over every output value of both variants.
    from simulator.io import load_scenario
    from simulator.model import metric_names

    sc = load_scenario(args.scenario)
    outputs = 2 * len(metric_names([x.name for x in sc.demand.segments])) * len(sc.years.all)
    fma = cost.get("multiply", 0.0) + cost.get("add", 0.0)
    issue_floor = n_uncertain * cost["uniform"] + outputs * fma
    ndtri = counted.get("sampling", {}).get("ndtri", 0.0) * cost.get("ndtri", 0.0)
    print(
        f"the issue's floor at the same costs: {issue_floor * 1e6:.2f} us/sample "
        f"({n_uncertain} uniforms + a multiply-add on {outputs} outputs); the op-count "
        f"floor is {total / issue_floor:.1f}x it; the normal quantiles (ndtri) alone "
        f"{ndtri * 1e6:.2f} us/sample = {ndtri / issue_floor:.1f}x it"
    )
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_block import stage_times

    measured_blocks = stage_times(args.scenario)
    measured = {
        "sampling": statistics.median(measured_blocks["sampling"]) / block,
        "model": statistics.median(
            [
                m + c
                for m, c in zip(measured_blocks["model"], measured_blocks["check"], strict=True)
            ]
        )
        / block,
        "summaries": statistics.median(measured_blocks["summary"]) / block,
    }
    print()
    print("jevons on the same machine, same moment: thread CPU time per sample (bench_block.py)")
    print("| stage | op floor us/sample | measured us/sample | measured / floor |")
    print("|---|---|---|---|")
    for stage, s in per_stage.items():
        print(
            f"| {stage} | {s * 1e6:.2f} | {measured[stage] * 1e6:.2f} | "
            f"{measured[stage] / s:.1f}x |"
        )
    all_measured = sum(measured.values())
    print(
        f"| total | {total * 1e6:.2f} | {all_measured * 1e6:.2f} | {all_measured / total:.1f}x |"
    )
    ops = {st: sum(v.values()) for st, v in counted.items()}
    print("elements operated on per sample: " + ", ".join(f"{k} {v:,.0f}" for k, v in ops.items()))
    if args.json:
        payload = {
            "block": block,
            "uncertain": n_uncertain,
            "per_sample_s": per_stage,
            "issue_floor_per_sample_s": issue_floor,
            "ndtri_per_sample_s": ndtri,
            "measured_cpu_per_sample_s": measured,
            "calls_per_block": dict(_calls),
            "call_overhead_s": per_call,
            "total_per_sample_s": total,
            "counts": counted,
            "cost_s_per_element": cost,
            "median_cost_ns": statistics.median(cost.values()) * 1e9,
        }
        Path(args.json).write_text(json.dumps(payload, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
