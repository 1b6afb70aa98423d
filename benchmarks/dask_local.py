"""The Dask executor against the local one on this machine: the figures of docs/scale-out.md.

Run on demand (needs ``pip install "jevons[dask]"``)::

    python benchmarks/dask_local.py [--samples 1000000] [--workers 2] [--seed 3]
    python benchmarks/dask_local.py --samples 200000 --dask-malloc   # Dask's worker default
    python benchmarks/dask_local.py --task-bytes   # what one task of 1 and 8 blocks returns

It runs ``simulate_summary`` on ``scenarios/deepseek.yaml`` (streamed summaries, as
``jevons run`` beyond the exact-quantile budget) on the same seed: in ``--workers`` forked
processes (the local executor on Linux), on ``--workers`` threads of this process (the
local executor with ``JEVONS_FORK=0``), then on a ``LocalCluster`` of ``--workers``
single-threaded worker processes (the Dask executor), and prints the wall time of each,
samples per second, how long the cluster took to start, how many tasks the run became, and
whether the two summary tables are equal bit for bit (they must be). *model s* is the time
spent in the model summed over threads or processes. ``--dask-malloc`` starts the cluster with
Dask's default worker environment (``MALLOC_TRIM_THRESHOLD_=65536``, which jevons replaces
with its own allocator setting in the clusters it starts), to measure what that setting
costs (docs/scale-out.md).

On one machine the Dask executor is not expected to be faster than the local one: the same
cores do the same work, plus starting worker processes and sending each task's summaries
back (moments per block and one histogram per series per task, 11 to 17 MB for
``deepseek.yaml``). What it measures is that overhead; the gain comes from adding machines
(docs/scale-out.md).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import pickle
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from simulator._fork import FORK_ENV, ForkedMap
from simulator._malloc import keep_freed_memory
from simulator.engine import simulate_summary
from simulator.executors import LOCAL_SCHEDULER_OPTIONS, DaskExecutor
from simulator.io import load_scenario
from simulator.sampling import BLOCK_SIZE

ROOT = Path(__file__).parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "deepseek.yaml"))
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--dask-malloc", action="store_true")
    parser.add_argument("--task-bytes", action="store_true")
    args = parser.parse_args()
    keep_freed_memory()  # what every `jevons` command does first (simulator/_malloc.py)
    sc = load_scenario(args.scenario)
    if args.task_bytes:
        _task_bytes(sc, args.seed)
        return
    n = args.samples

    locals_: list[tuple[str, float, Any]] = []
    for fork in ("1", "0"):  # forked worker processes (the default on Linux), then threads
        os.environ[FORK_ENV] = fork
        forked = ForkedMap.possible(-(-n // BLOCK_SIZE))
        t0 = time.perf_counter()
        run = simulate_summary(sc, n, rng=args.seed, workers=args.workers, exact_budget=0)
        kind = "forked processes" if forked else "threads"
        locals_.append((f"local, {args.workers} {kind}", time.perf_counter() - t0, run))
        if not forked:
            break
    del os.environ[FORK_ENV]
    local = locals_[0][2]

    t0 = time.perf_counter()
    with _executor(args.workers, args.dask_malloc) as ex:
        t_start = time.perf_counter() - t0
        groups = len(ex.groups(-(-n // local.block_size)))
        t0 = time.perf_counter()
        remote = simulate_summary(sc, n, rng=args.seed, exact_budget=0, executor=ex)
        t_dask = time.perf_counter() - t0

    same = all(
        other.summary.to_records() == local.summary.to_records() and other.answers == local.answers
        for other in [remote, *(run for _, _, run in locals_)]
    )
    print(f"{sc.name}: {n:,} samples, seed {args.seed}, streamed summaries")
    print(f"{'executor':<44} {'wall s':>8} {'samples/s':>10} {'model s':>8}")
    for label, seconds, run in locals_:
        print(f"{label:<44} {seconds:8.1f} {n / seconds:10,.0f} {run.timings['model_s']:8.1f}")
    label = f"dask LocalCluster, {args.workers} processes, {groups} tasks"
    if args.dask_malloc:
        label += ", Dask's malloc"
    print(f"{label:<44} {t_dask:8.1f} {n / t_dask:10,.0f} {remote.timings['model_s']:8.1f}")
    print(f"cluster start: {t_start:.1f} s (not in the wall time above)")
    print(f"summary tables and answers equal bit for bit: {same}")
    if not same:
        raise SystemExit(1)


def _task_bytes(sc: Any, seed: int) -> None:
    """Pickled size of what a streamed task returns, for 1 and 8 blocks (no cluster)."""
    from simulator.engine import _plan, _question_specs
    from simulator.executors import run_group
    from simulator.sampling import BLOCK_SIZE

    plan = _plan(sc, 8 * BLOCK_SIZE, seed, None, BLOCK_SIZE, 1, None)
    questions = _question_specs(plan.scenario)
    print(f"scenario: {len(pickle.dumps(plan)):,} bytes pickled (sent with every task)")
    for blocks in (1, 8):
        got = run_group(range(blocks), plan, None, True, False, questions)
        print(f"a task of {blocks} block(s) returns {len(pickle.dumps(got)):,} bytes pickled")


@contextlib.contextmanager
def _executor(workers: int, dask_malloc: bool) -> Iterator[DaskExecutor]:
    if not dask_malloc:
        with DaskExecutor(n_workers=workers) as ex:
            yield ex
        return
    distributed: Any = importlib.import_module("distributed")
    with (
        distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            scheduler_kwargs=LOCAL_SCHEDULER_OPTIONS,
        ) as cluster,
        distributed.Client(cluster) as client,
        DaskExecutor(client=client) as ex,
    ):
        yield ex


if __name__ == "__main__":
    main()
