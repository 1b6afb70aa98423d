"""Where blocks of samples are computed: this machine, or a Dask cluster.

A run is split into fixed-size blocks whose draws depend only on the seed, the block index and
the block size (MODEL.md §6), so any machine can compute any block. The **local** executor
computes them in ``workers`` forked processes or threads of this process
(:func:`simulator.engine.simulate_summary`'s ``workers``). The **Dask** executor
(:class:`DaskExecutor`, the optional extra ``jevons[dask]``) sends groups of consecutive
blocks to the workers of a ``dask.distributed`` cluster as tasks; each task returns, for its
blocks,

- the moments (count, mean, sum of squared deviations) of every series, **per block**;
- one histogram per series and the question counts, merged over its blocks (integer counts:
  exact in any grouping);
- or, for runs whose samples fit the exact-quantile budget (and with ``save_samples``), the
  per-sample arrays of each block.

The client merges the moments block by block in block order, as the local executor does, so
the summary table and the answers are bit for bit those of a local run with the same seed,
samples, method and block size (and the same exact or streamed choice). What travels to the
workers is the resolved scenario and the block numbers, never the scenario files or data.

Failures: a task whose worker dies is recomputed elsewhere by the scheduler (Dask's
``distributed.scheduler.allowed-failures``, 3 by default); a task that raises is retried
``retries`` times. A run whose model overflows fails at once (the error is returned by the
task, not retried). Because a block's numbers do not depend on where or how often it is
computed, neither changes the result.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Self, TypeAlias

import numpy as np
from numpy.typing import NDArray

from simulator.errors import SimulationError

if TYPE_CHECKING:
    from simulator.engine import _Plan
    from simulator.streaming import Moments, QuestionSpec, StreamingSummary

__all__ = [
    "DASK_EXTRA",
    "SCHEDULER_ENV",
    "DaskExecutor",
    "ExecutorError",
    "ExecutorName",
    "ExecutorUnavailableError",
    "as_completed",
    "scheduler_address",
    "task_result",
]

ExecutorName = Literal["local", "dask"]
"""The executors a run may use."""

SCHEDULER_ENV = "JEVONS_SCHEDULER"
"""Environment variable holding the Dask scheduler's address (``tcp://host:8786``)."""

DASK_EXTRA = 'pip install "jevons[dask]"'
"""What installs the Dask executor's dependencies."""

TASKS_PER_THREAD = 4
"""Tasks a run is split into per worker thread, at most (load balance vs overhead). [-]"""

MAX_BLOCKS_PER_TASK = 8
"""Most blocks one task computes (bounds what it holds and returns). [-]"""

TASKS_IN_FLIGHT_PER_THREAD = 2
"""Tasks submitted ahead per worker thread: bounds the results waiting to be merged. [-]"""

CONNECT_TIMEOUT_S = 10.0
"""Seconds to wait for a scheduler to answer before giving up. [s]"""

LOCAL_SCHEDULER_OPTIONS: dict[str, Any] = {"dashboard_address": "127.0.0.1:0"}
"""Scheduler options of the ``LocalCluster`` jevons starts: its HTTP server (health and
metrics only, no dashboard) on a free local port instead of distributed's default 8787,
which warns "Port 8787 is already in use" beside any other cluster or notebook."""

VERSION_KEYS: tuple[str, ...] = ("jevons", "numpy", "scipy", "array-api-compat")
"""Packages whose versions must match between client and workers (they make the numbers)."""


class ExecutorUnavailableError(RuntimeError):
    """The executor cannot be used here: Dask missing, scheduler unreachable, other versions.

    The command line reports it as a usage or environment error (exit code 2).
    """


class ExecutorError(RuntimeError):
    """The cluster could not finish a run (a task failed on every try, the scheduler left)."""


def _import_distributed() -> Any:
    """``dask.distributed``, or a clear message naming the extra that installs it."""
    try:
        import distributed
    except ImportError as exc:
        msg = f"--executor dask needs Dask's distributed scheduler: {DASK_EXTRA} (missing: {exc})"
        raise ExecutorUnavailableError(msg) from None
    return distributed


def scheduler_address(scheduler: str | None) -> str | None:
    """The scheduler to use: ``scheduler``, else ``$JEVONS_SCHEDULER``, else None (start one)."""
    if scheduler:
        return scheduler
    return os.environ.get(SCHEDULER_ENV) or None


class DaskExecutor:
    """Compute blocks of samples as tasks on a ``dask.distributed`` cluster.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``); default ``$JEVONS_SCHEDULER``;
        if neither is set, a ``LocalCluster`` is started on this machine (and closed with
        the executor), with ``n_workers`` single-threaded worker processes.
    client : distributed.Client, optional
        An existing client to use instead (not closed by :meth:`close`).
    n_workers : int, optional
        Worker processes of a started ``LocalCluster``; default
        :func:`simulator.engine.default_workers`.
    blocks_per_task : int, optional
        Blocks each task computes; default: enough for about :data:`TASKS_PER_THREAD`
        tasks per worker thread, at most :data:`MAX_BLOCKS_PER_TASK`. The numbers do not
        depend on it.
    retries : int, optional
        Times a task that raised is tried again (a worker that dies is handled by the
        scheduler, apart from this).
    check_versions : bool, optional
        Refuse workers whose ``jevons``, numpy, scipy or array-api-compat versions differ
        from this process's (their numbers could differ).

    Raises
    ------
    ExecutorUnavailableError
        If Dask is not installed, the scheduler does not answer within
        :data:`CONNECT_TIMEOUT_S`, or the workers' versions differ.

    Notes
    -----
    Use it as a context manager, or call :meth:`close`, so that a started cluster stops.
    """

    def __init__(
        self,
        scheduler: str | None = None,
        *,
        client: Any = None,
        n_workers: int | None = None,
        blocks_per_task: int | None = None,
        retries: int = 2,
        check_versions: bool = True,
    ) -> None:
        if blocks_per_task is not None and blocks_per_task < 1:
            msg = f"blocks_per_task must be an int >= 1; got {blocks_per_task!r}"
            raise ValueError(msg)
        if retries < 0:
            msg = f"retries must be an int >= 0; got {retries!r}"
            raise ValueError(msg)
        if n_workers is not None and n_workers < 1:
            msg = f"n_workers must be an int >= 1; got {n_workers!r}"
            raise ValueError(msg)
        self.blocks_per_task = blocks_per_task
        self.retries = retries
        self._cluster: Any = None
        self._own_client = client is None
        self.address = scheduler_address(scheduler) if client is None else None
        self.started_local = False
        if client is not None:
            self.client = client
        else:
            dist = _import_distributed()
            if self.address is None:
                from simulator.engine import default_workers

                n = default_workers() if n_workers is None else n_workers
                with _fast_malloc():
                    self._cluster = dist.LocalCluster(
                        n_workers=n,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=None,
                        scheduler_kwargs=LOCAL_SCHEDULER_OPTIONS,
                        # the cluster is this run's own: its workers' warnings (a task
                        # cancelled by Ctrl-C, say) are not the user's business
                        silence_logs=logging.ERROR,
                    )
                self.started_local = True
                self.client = dist.Client(self._cluster)
            else:
                try:
                    self.client = dist.Client(self.address, timeout=CONNECT_TIMEOUT_S)
                except (OSError, TimeoutError, ValueError) as exc:
                    msg = (
                        f"cannot reach the Dask scheduler at {self.address} ({exc}); start "
                        f"one with `dask scheduler` and workers with `dask worker "
                        f"{self.address}`, or check --scheduler / ${SCHEDULER_ENV}"
                    )
                    raise ExecutorUnavailableError(msg) from None
        try:
            if check_versions:
                self._check_versions()
            self.slow_workers = sum(
                1 for v in self.client.run(_trim_threshold).values() if _slow_trim(v)
            )
            """Workers that run with ``MALLOC_TRIM_THRESHOLD_`` set (slower; see the notes)."""
            self.description = self.describe()
            """Where the work runs, in words, as the executor started."""
        except BaseException:
            self.close()
            raise

    # -- life cycle ------------------------------------------------------------------------

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the client (if this executor made it) and a cluster it started."""
        if self._own_client:
            with contextlib.suppress(Exception):
                self.client.close()
        if self._cluster is not None:
            # Our own cluster's nannies kill a worker slow to stop (a loaded machine) and
            # warn about it: nothing the user can act on.
            nanny = logging.getLogger("distributed.nanny")
            level = nanny.level
            nanny.setLevel(logging.ERROR)
            try:
                with contextlib.suppress(Exception):
                    self._cluster.close()
            finally:
                nanny.setLevel(level)
            self._cluster = None

    def threads(self) -> int:
        """Worker threads in the cluster now, at least 1 [-]."""
        threads: dict[str, int] = self.client.nthreads()
        return max(1, sum(threads.values()))

    def describe(self) -> str:
        """Where the work runs, in words (for the command line)."""
        n = len(self.client.nthreads())
        where = "a local Dask cluster" if self.started_local else f"Dask at {self.address}"
        if self.address is None and not self.started_local:
            where = "Dask"
        return f"{where}, {n} worker{'s' if n != 1 else ''}, {self.threads()} threads"

    def _check_versions(self) -> None:
        mine = _versions()
        theirs: Mapping[str, Mapping[str, str]] = self.client.run(_versions)
        odd = {
            worker: {k: v for k, v in got.items() if v != mine.get(k)}
            for worker, got in theirs.items()
        }
        odd = {w: d for w, d in odd.items() if d}
        if odd:
            worker, diff = next(iter(odd.items()))
            shown = ", ".join(f"{k} {v} (here {mine.get(k)})" for k, v in sorted(diff.items()))
            msg = (
                f"{len(odd)} Dask worker(s) run other versions than this process, so their "
                f"numbers could differ: {worker}: {shown}; install the same versions on every "
                "worker"
            )
            raise ExecutorUnavailableError(msg)

    # -- work ------------------------------------------------------------------------------

    def ordered_map(
        self, fn: Callable[..., Any], items: Sequence[Any], *args: Any
    ) -> Iterator[Any]:
        """``fn(item, *args)`` for each item, computed on the cluster, yielded in item order.

        At most ``TASKS_IN_FLIGHT_PER_THREAD`` tasks per worker thread are submitted ahead, so
        the results waiting to be merged stay bounded. Each task is pure (same inputs, same
        output) and tried again ``retries`` times if it raises.
        """
        dist = _import_distributed()
        ahead = max(2, TASKS_IN_FLIGHT_PER_THREAD * self.threads())
        pending: deque[Any] = deque()
        queue = iter(items)
        try:
            for item in queue:
                pending.append(
                    self.client.submit(fn, item, *args, pure=False, retries=self.retries)
                )
                if len(pending) >= ahead:
                    yield _result(pending.popleft(), dist)
            while pending:
                yield _result(pending.popleft(), dist)
        finally:
            if pending:
                with contextlib.suppress(Exception):
                    self.client.cancel(list(pending))

    def groups(self, n_blocks: int) -> list[range]:
        """Positions ``0..n_blocks - 1`` split into consecutive groups, one per task."""
        if self.blocks_per_task is not None:
            size = self.blocks_per_task
        else:
            size = math.ceil(n_blocks / (TASKS_PER_THREAD * self.threads()))
            size = max(1, min(MAX_BLOCKS_PER_TASK, size))
        return [range(i, min(i + size, n_blocks)) for i in range(0, n_blocks, size)]


def as_completed(futures: Sequence[Any]) -> Iterator[Any]:
    """The futures of Dask tasks in the order they finish."""
    return iter(_import_distributed().as_completed(list(futures)))


def task_result(future: Any) -> Any:
    """A finished task's result, with the cluster's failures said in words (and released).

    Raises
    ------
    ExecutorError
        If the task's workers kept dying, or the cluster was lost.
    SimulationError
        If the task found that the model overflows.
    """
    return _result(future, _import_distributed())


def _result(future: Any, dist: Any) -> Any:
    """A task's result, with the cluster's failures said in words."""
    try:
        out = future.result()
    except dist.KilledWorker as exc:
        msg = (
            f"the Dask workers computing a task kept dying ({exc}); out of memory on the "
            "workers? Give them more memory or use fewer samples"
        )
        raise ExecutorError(msg) from None
    except (OSError, TimeoutError, dist.CancelledError) as exc:
        msg = f"lost the Dask cluster during the run: {type(exc).__name__}: {exc}"
        raise ExecutorError(msg) from None
    finally:
        future.release()
    if isinstance(out, _Failed):
        raise SimulationError(out.message)
    return out


MALLOC_NOTE = (
    "Dask's nannies start workers with MALLOC_TRIM_THRESHOLD_ set, which makes the model's "
    "large temporary arrays several times slower; see docs/scale-out.md for the worker setting"
)
"""Said when workers run with a low ``MALLOC_TRIM_THRESHOLD_`` (Dask's default, 65536)."""


@contextlib.contextmanager
def _fast_malloc() -> Iterator[None]:
    """Start nanny workers with jevons' allocator setting, not Dask's (see :data:`MALLOC_NOTE`).

    Dask's ``MALLOC_TRIM_THRESHOLD_=65536`` (to return memory to the system sooner) also turns
    off glibc's adaptive mmap threshold, so that every large temporary array of the model is
    mapped and faulted in afresh: the model took 3.6x as long (docs/scale-out.md,
    benchmarks/dask_local.py). The workers get what :func:`simulator._malloc.keep_freed_memory`
    sets in a ``jevons`` process, through the environment glibc reads at start-up.
    """
    import dask

    from simulator._malloc import MMAP_THRESHOLD_BYTES, TRIM_THRESHOLD_BYTES

    env = dict(dask.config.get("distributed.nanny.pre-spawn-environ", default={}) or {})
    # what every jevons command sets in its own process (simulator._malloc), through the
    # environment glibc reads at start-up
    env["MALLOC_TRIM_THRESHOLD_"] = str(TRIM_THRESHOLD_BYTES)
    env["MALLOC_MMAP_THRESHOLD_"] = str(MMAP_THRESHOLD_BYTES)
    with dask.config.set({"distributed.nanny.pre-spawn-environ": env}):
        yield


def _slow_trim(value: str | None) -> bool:
    """Whether a worker's ``MALLOC_TRIM_THRESHOLD_`` hands block memory back (Dask's 65536)."""
    from simulator._malloc import TRIM_THRESHOLD_BYTES

    if value is None:
        return False
    try:
        return int(value) < TRIM_THRESHOLD_BYTES
    except ValueError:
        return True


def _trim_threshold() -> str | None:
    """The ``MALLOC_TRIM_THRESHOLD_`` of the process (run on each worker)."""
    return os.environ.get("MALLOC_TRIM_THRESHOLD_")


def _versions() -> dict[str, str]:
    """Versions of the packages that make the numbers, in this process."""
    from simulator.engine import package_versions

    got = package_versions()
    return {k: got[k] for k in VERSION_KEYS if k in got}


# --------------------------------------------------------------------------- tasks


@dataclasses.dataclass(frozen=True)
class _Failed:
    """A task that failed for a reason retrying cannot change (the model overflowed)."""

    message: str


_Floats: TypeAlias = "tuple[Moments, NDArray[np.float64] | None, NDArray[np.int64] | None]"
"""A series' moments and per-replicate sums and counts: merged in block order (floats)."""


@dataclasses.dataclass
class GroupResult:
    """What a task returns for a group of consecutive blocks.

    Attributes
    ----------
    sizes : list of int
        Samples of each block. [-]
    moments : list of dict
        Per block, ``(variant, metric)`` to its :class:`~simulator.streaming.Moments` and,
        for a ``sobol`` run, its per-replicate sums and counts (else None, None): the
        floating-point parts of the summary, merged block by block by the client (empty
        when the run keeps samples).
    summary : StreamingSummary or None
        The group's histograms and question counts, merged over its blocks (moments left
        out: they are merged block by block by the client); None when the run keeps samples.
    arrays : list of (dict, dict, dict)
        Per block, the per-sample paths with and without the shocks and the draws of the
        uncertain inputs, when the run keeps samples (exact quantiles) or saves them; else
        empty.
    timings : dict of str to float
        Seconds the task spent sampling, in the model and summarizing. [s]
    """

    sizes: list[int]
    moments: list[dict[tuple[str, str], _Floats]]
    summary: StreamingSummary | None
    arrays: list[
        tuple[
            dict[str, NDArray[np.float64]],
            dict[str, NDArray[np.float64]],
            dict[str, NDArray[np.float64]],
        ]
    ]
    timings: dict[str, float]


def run_group(
    positions: Iterable[int],
    plan: _Plan,
    xp: Any,
    stream: bool,
    keep_arrays: bool,
    questions: Sequence[QuestionSpec],
) -> GroupResult | _Failed:
    """Compute a group of blocks of ``plan`` (a Dask task; also runs in-process).

    Parameters
    ----------
    positions : iterable of int
        Positions in ``plan.todo`` of the blocks to compute, consecutive.
    plan : _Plan
        The run (scenario, seed, block size, blocks).
    xp : array namespace or None
        Backend of the model.
    stream : bool
        Summarize each block into moments, histograms and counts.
    keep_arrays : bool
        Return each block's per-sample paths too.
    questions : sequence of QuestionSpec
        The questions whose exceedances to count.

    Returns
    -------
    GroupResult, or _Failed if the model overflowed.
    """
    from simulator.engine import _Clock, _compute_block
    from simulator.sampling import se_replicates
    from simulator.streaming import StreamingSummary, Workspace, block_moments

    replicates = se_replicates(plan.scenario.sampling.method)
    clock = _Clock()
    ws = Workspace()
    out = GroupResult([], [], None, [], {})
    merged: StreamingSummary | None = None
    try:
        for i in positions:
            a, b, drawn = _compute_block(plan, i, xp, clock)
            out.sizes.append(plan.sizes[i])
            if stream:
                started = time.perf_counter()
                part = StreamingSummary.of_block(
                    a, b, questions, ws, replicates=replicates, first=int(plan.offsets[i])
                )
                out.moments.append(block_moments(part))
                merged = part if merged is None else merged.merge(part)
                clock.add("summarize_s", time.perf_counter() - started)
            if keep_arrays:
                out.arrays.append((a, b, drawn))
    except SimulationError as exc:
        return _Failed(str(exc))
    out.summary = merged
    out.timings = dict(clock.totals)
    return out


def merge_in_order(
    merged_moments: dict[tuple[str, str], _Floats] | None,
    group: GroupResult,
) -> dict[tuple[str, str], _Floats]:
    """Merge a group's per-block moments and replicate sums into the running ones.

    Block after block: the order the local executor merges them in, so the floats are the
    same bit for bit.
    """
    from simulator.streaming import merge_moments

    out = merged_moments
    for block in group.moments:
        out = merge_moments(out, block)
    return {} if out is None else out


def run_blocks(
    executor: DaskExecutor,
    plan: _Plan,
    *,
    xp: Any,
    exact: bool,
    save: bool,
    questions: Sequence[QuestionSpec],
    on_block: Callable[[int, Any], None],
    add_time: Callable[[str, float], None],
) -> StreamingSummary | None:
    """Compute every block of ``plan`` on the cluster and merge the results in block order.

    Parameters
    ----------
    executor : DaskExecutor
        The cluster.
    plan : _Plan
        The run.
    xp : array namespace or None
        Backend of the model on the workers.
    exact : bool
        Keep samples (the run fits the exact-quantile budget): tasks return per-block arrays
        and no summaries.
    save : bool
        The run also saves its samples: tasks return per-block arrays as well.
    questions : sequence of QuestionSpec
        The questions whose exceedances to count.
    on_block : callable
        ``on_block(position, arrays)`` for each block, in block order; ``arrays`` is the
        block's ``(with_shocks, counterfactual)`` paths, or None if not returned.
    add_time : callable
        ``add_time(stage, seconds)``, for the run's timings (workers' times summed).

    Returns
    -------
    StreamingSummary or None
        The merged summary (moments merged block by block, as the local executor does), or
        None for an exact run.
    """
    from simulator.streaming import with_moments

    stream = not exact
    keep = exact or save
    groups = executor.groups(len(plan.todo))
    moments: dict[tuple[str, str], _Floats] | None = None
    histograms: StreamingSummary | None = None
    for group, got in zip(
        groups,
        executor.ordered_map(run_group, groups, plan, xp, stream, keep, questions),
        strict=True,
    ):
        for stage, seconds in got.timings.items():
            add_time(stage, seconds)
        started = time.perf_counter()
        if stream:
            moments = merge_in_order(moments, got)
            if got.summary is None:  # pragma: no cover - run_group streams when asked to
                msg = "a task returned no summary"
                raise ExecutorError(msg)
            histograms = got.summary if histograms is None else histograms.merge(got.summary)
        add_time("summarize_s", time.perf_counter() - started)
        for k, i in enumerate(group):
            on_block(i, got.arrays[k] if keep else None)
    if histograms is None or moments is None:
        return None
    return with_moments(histograms, moments)
