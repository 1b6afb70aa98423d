"""One measurement for ``benchmarks/run.py``, run in a fresh process; prints one JSON line.

Usage (the harness calls it; ``PYTHONPATH`` chooses which jevons tree is measured)::

    python benchmarks/_measure.py jevons SCENARIO SAMPLES WORKERS SEED
    python benchmarks/_measure.py floor SCENARIO SAMPLES WORKERS SEED

``jevons`` runs what ``jevons run SCENARIO -n SAMPLES --out DIR`` runs, through the
library of whichever tree is first on ``sys.path``: ``simulate_summary`` when the tree has
it, else ``simulate`` + ``summarize`` + ``answer_questions`` (the release before streaming
summaries); then ``write_outputs`` into a temporary folder. Where the tree's command line
tunes glibc's allocator (``simulator._malloc.keep_freed_memory``, called by every ``jevons``
command), this does too, so the measured process is the command's. ``floor`` draws the same number
of uniforms and does one multiply-add pass over every output array the model writes.
Peak memory is read by the parent (``os.wait4``), not here.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

T_START = time.perf_counter()


def _timed(module: Any, name: str, bucket: dict[str, float], key: str, lock: Any) -> None:
    """Wrap ``module.name`` so that its time is added to ``bucket[key]`` (any thread)."""
    inner = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            with lock:
                bucket[key] += time.perf_counter() - t0

    setattr(module, name, wrapper)


def measure_jevons(scenario: str, n: int, workers: int, seed: int) -> dict[str, Any]:
    import simulator
    from simulator import engine
    from simulator.io import load_scenario, resolve_scenario
    from simulator.report.writers import write_outputs

    try:  # what `jevons` does first in every command, where the tree has it
        from simulator._malloc import keep_freed_memory
    except ImportError:
        pass
    else:
        keep_freed_memory()
    t_imported = time.perf_counter()
    sc = load_scenario(scenario)
    resolved = resolve_scenario(scenario, ()).data
    split = {"sampling_s": 0.0, "model_s": 0.0, "summarize_s": 0.0, "output_s": 0.0}
    streaming = hasattr(engine, "simulate_summary")
    result: Any
    t0 = time.perf_counter()
    if streaming:
        run = engine.simulate_summary(sc, n, rng=seed, workers=workers, resolved=resolved)
        for key in ("sampling_s", "model_s", "summarize_s"):
            split[key] = run.timings[key]
        result, table, answers = run, run.summary, run.answers
        exact = run.exact
    else:
        from simulator.summary import summarize

        lock = threading.Lock()
        _timed(engine, "draw_block", split, "sampling_s", lock)
        _timed(engine, "build_inputs", split, "sampling_s", lock)
        _timed(engine, "evaluate", split, "model_s", lock)
        result = engine.simulate(sc, n, rng=seed, workers=workers, resolved=resolved)
        t1 = time.perf_counter()
        table = summarize(
            {v: result.variant(v) for v in ("with_shocks", "counterfactual", "impact")},
            result.years,
            scenario=sc.name,
        )
        answers = engine.answer_questions(sc, result)
        split["summarize_s"] = time.perf_counter() - t1
        exact = True
    t2 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="jevons-bench-") as tmp:
        write_outputs(Path(tmp) / "out", result, table, answers=answers)
    t3 = time.perf_counter()
    split["output_s"] = t3 - t2
    return {
        "tree": str(Path(simulator.__file__).parent.parent),
        "streaming": streaming,
        "exact": exact,
        "import_s": t_imported - T_START,
        "work_s": t3 - t0,
        "p50_hbm_2027": table.value("with_shocks", "hbm_gb", 2027, "p50"),
        **split,
    }


def measure_floor(scenario: str, n: int, workers: int, seed: int) -> dict[str, Any]:
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    from simulator.io import load_scenario
    from simulator.model import metric_names
    from simulator.schema.distributions import Fixed

    sc = load_scenario(scenario)
    n_uncertain = sum(1 for _, d in sc.scalars() if not isinstance(d, Fixed))
    n_outputs = 2 * len(metric_names([s.name for s in sc.demand.segments]))
    n_years = len(sc.years.all)
    block = 16_384
    t0 = time.perf_counter()
    local = threading.local()

    def work(b: int) -> float:
        size = min(block, n - b * block)
        if not hasattr(local, "u"):
            local.u = np.empty(n_uncertain * block)
            local.y = np.ones((block, n_years))
        rng = np.random.Generator(np.random.PCG64([seed, b]))
        u = local.u[: n_uncertain * size]
        rng.random(out=u)
        y = local.y[:size]
        for _ in range(n_outputs):  # one multiply-add pass over each output array
            np.multiply(y, 1.0000001, out=y)
            np.add(y, 1e-9, out=y)
        return float(u[0] + y[0, 0])

    blocks = range((n + block - 1) // block)
    if workers == 1:
        for b in blocks:
            work(b)
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(work, blocks))
    return {
        "uniforms": n * n_uncertain,
        "output_arrays": n_outputs,
        "work_s": time.perf_counter() - t0,
        "sampling_s": 0.0,
        "model_s": 0.0,
        "summarize_s": 0.0,
        "output_s": 0.0,
    }


def main() -> None:
    mode, scenario, n, workers, seed = sys.argv[1:6]
    fn = measure_jevons if mode == "jevons" else measure_floor
    out = fn(scenario, int(n), int(workers), int(seed))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
