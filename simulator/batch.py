"""Batch runs: many scenarios (and grid variants) in parallel processes, resumable.

Layout of a batch folder ``OUT``::

    OUT/<label>/          one folder per scenario, the layout of ``jevons run --out``
    OUT/index.csv         one row per scenario: status, folder, seed, samples, content hash
    OUT/index_summary.csv tidy headline statistics of every finished scenario
    OUT/batch.json        the batch's own seed (used by scenarios that set none)
    OUT/.jevons-batch.lock

``<label>`` is the scenario's ``name``, followed by its grid settings for a variant
(:mod:`simulator.grid`).

Resuming: before running a scenario, the content hash of its inputs (resolved scenario,
seed, samples, design, block size, package versions; :func:`simulator.report.writers.
inputs_sha256`) is computed; if ``OUT/<label>/manifest.json`` records the same hash and every
file it lists is present with its recorded sha256, the scenario is skipped.

Crash safety: each scenario runs in its own process and publishes its folder through
:func:`simulator.report.writers.write_outputs` (staged next to the target, then renamed), so
a batch killed at any moment, even with ``kill -9``, leaves only complete result folders;
rerunning it skips them and finishes the rest. Workers watch their parent and stop (removing
their staging folder) when it disappears; with the ``fork`` start method (Linux) they also
hold the batch lock, so a rerun waits until every worker of a killed batch has stopped. The
rerun then removes the staging folders that killed workers left behind
(:func:`simulator.report._atomic.remove_stale_stages`: never one whose owner is alive).
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import glob
import io
import json
import math
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

from simulator.engine import answer_questions, package_versions, resolve_dtype, simulate
from simulator.errors import ScenarioError, SimulationError
from simulator.grid import GridAxis, check_grid, expand_grid
from simulator.io import load_scenario, resolve_scenario
from simulator.metrics import value_unit
from simulator.report._atomic import atomic_write, remove_stale_stages
from simulator.report.writers import MANIFEST_NAME, inputs_sha256, write_outputs
from simulator.result import RunSummary, SimulationResult
from simulator.sampling import se_replicates
from simulator.sampling.streams import BLOCK_SIZE, as_seed
from simulator.summary import summarize

if TYPE_CHECKING:
    from simulator.executors import DaskExecutor
    from simulator.schema import Scenario

__all__ = [
    "INDEX_NAME",
    "INDEX_SUMMARY_NAME",
    "BatchError",
    "Job",
    "Outcome",
    "expand_files",
    "find_run_folder",
    "is_up_to_date",
    "plan_batch",
    "run_batch",
    "write_index",
]

INDEX_NAME = "index.csv"
"""File name of the batch index (one row per scenario)."""
INDEX_SUMMARY_NAME = "index_summary.csv"
"""File name of the tidy headline statistics of every finished scenario."""
STATE_NAME = "batch.json"
"""File name of the batch's own state (its seed)."""
LOCK_NAME = ".jevons-batch.lock"
"""Lock file held while a batch writes into its folder."""

INDEX_COLUMNS: tuple[str, ...] = (
    "scenario",
    "status",
    "file",
    "settings",
    "folder",
    "seed",
    "n_samples",
    "method",
    "inputs_sha256",
    "seconds",
    "message",
)
"""Columns of ``index.csv``."""

INDEX_STATISTICS: tuple[str, ...] = ("p5", "p50", "p95", "mean", "se_p50")
"""Statistics copied into ``index_summary.csv``."""

Status = Literal["done", "skipped", "failed", "pending"]
_GLOB_CHARS = frozenset("*?[")
_WATCH_INTERVAL = 0.2
"""Seconds between a worker's checks that its parent is alive. [s]"""


class BatchError(ValueError):
    """A batch that cannot start: globs that match nothing, an ``--out`` inside a run."""


@dataclass(frozen=True)
class Job:
    """One scenario (or grid variant) of a batch.

    Attributes
    ----------
    label : str
        Its name and folder name.
    file : str
        The scenario file.
    overrides : tuple of str
        ``--set`` overrides, then the grid settings.
    settings : tuple of (str, str)
        The grid settings (empty without a grid).
    seed, samples : int
        Root seed and samples.
    method : str
        Sampling design.
    inputs_sha256 : str
        Content hash the run's manifest will hold ("" if the scenario is invalid).
    error : str
        Why the scenario cannot run ("" if it can).
    dtype : str
        Floating-point type of the model's arithmetic (``simulate``'s ``dtype``).
    """

    label: str
    file: str
    overrides: tuple[str, ...]
    settings: tuple[tuple[str, str], ...]
    seed: int
    samples: int
    method: str
    inputs_sha256: str = ""
    error: str = ""
    dtype: str = "float64"


@dataclass
class Outcome:
    """What became of a job."""

    job: Job
    status: Status = "pending"
    message: str = ""
    seconds: float = math.nan
    extra: dict[str, Any] = field(default_factory=dict)


def expand_files(patterns: Sequence[str]) -> list[Path]:
    """Scenario files from file names, folders (their ``*.yaml``) and glob patterns.

    Parameters
    ----------
    patterns : sequence of str
        Each a file, a folder, or a pattern with ``*``, ``?`` or ``[...]`` (``**`` recurses).

    Returns
    -------
    list of Path
        In the order given, each pattern's matches sorted; duplicates dropped.

    Raises
    ------
    BatchError
        If a pattern matches no file, or a named file does not exist.
    """
    out: list[Path] = []
    seen: set[str] = set()
    for pattern in patterns:
        if _GLOB_CHARS & set(pattern):
            # glob.glob, not Path.glob: the pattern may be absolute or start with "..".
            matches = [Path(p) for p in sorted(glob.glob(pattern, recursive=True))]  # noqa: PTH207
            matches = [p for p in matches if p.is_file()]
            if not matches:
                msg = f"{pattern}: no file matches this pattern"
                raise BatchError(msg)
        else:
            path = Path(pattern)
            if path.is_dir():
                matches = sorted(p for p in path.glob("*.yaml") if p.is_file())
                if not matches:
                    msg = f"{pattern}: the folder holds no *.yaml file"
                    raise BatchError(msg)
            elif path.is_file():
                matches = [path]
            else:
                msg = f"{pattern}: no such file"
                raise BatchError(msg)
        for p in matches:
            key = os.path.realpath(p)
            if key not in seen:
                seen.add(key)
                out.append(p)
    return out


def find_run_folder(out: Path) -> Path | None:
    """The run folder (a folder with a jevons ``manifest.json``) that holds ``out``, if any.

    ``out`` itself counts: a batch must not write into a single run's folder either.
    """
    here = out.absolute()
    for folder in (here, *here.parents):
        manifest = folder / MANIFEST_NAME
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and str(data.get("format", "")).startswith("jevons-manifest"):
            return folder
    return None


def _batch_seed(out: Path) -> int:
    """The batch folder's own seed: read from ``batch.json``, else drawn and saved."""
    state = out / STATE_NAME
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        seed = json.loads(state.read_text(encoding="utf-8"))["seed"]
        if isinstance(seed, int) and seed >= 0:
            return seed
    seed = as_seed(None)
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"format": "jevons-batch/1", "seed": seed}, indent=2) + "\n"
    atomic_write(state, lambda fh: _write(fh, text.encode("utf-8")))
    return seed


def _write(fh: BinaryIO, data: bytes) -> None:
    fh.write(data)


def _hash(resolved: dict[str, Any], seed: int, n: int, method: str, dtype: str = "float64") -> str:
    """The ``inputs_sha256`` the run's manifest will record, computed before the run."""
    stand_in = SimulationResult(
        scenario_name="",
        resolved=resolved,
        years=(),
        n_samples=n,
        seed=seed,
        method=method,
        block_size=BLOCK_SIZE,
        with_shocks={},
        counterfactual={},
        impact={},
        versions=package_versions(),
        dtype=dtype,
    )
    return inputs_sha256(stand_in)


def plan_batch(
    files: Sequence[Path],
    out: Path,
    *,
    overrides: Sequence[str] = (),
    grid: Sequence[GridAxis] = (),
    samples: int | None = None,
    seed: int | None = None,
    method: str | None = None,
    dtype: str = "float64",
) -> list[Job]:
    """The jobs of a batch: every file times every grid variant, validated and hashed.

    Invalid scenarios (and grid values that do not fit a file) become jobs with an
    ``error``; so do scenarios whose labels collide (their folders would be the same).

    Parameters
    ----------
    files : sequence of Path
        Scenario files.
    out : Path
        The batch folder (for the batch seed, when a scenario sets none and ``seed`` is None).
    overrides : sequence of str
        ``--set`` overrides applied to every scenario.
    grid : sequence of GridAxis
        Sweep axes applied to every scenario.
    samples, seed, method : optional
        Override the scenarios' ``sampling`` settings.
    dtype : {"float64", "float32"}, optional
        Floating-point type of every run's model arithmetic
        (:func:`simulator.engine.simulate`); part of each job's content hash.

    Returns
    -------
    list of Job
    """
    dtype = resolve_dtype(dtype)
    variants = expand_grid(grid)
    jobs: list[Job] = []
    positions: dict[int, str] = {}
    batch_seed: int | None = None
    for path in files:
        problems = check_grid(path, overrides, grid) if grid else []
        if problems:
            text = "\n".join(str(p) for p in problems)
            jobs.append(Job(path.stem, str(path), tuple(overrides), (), 0, 0, "", error=text))
            continue
        for v in variants:
            ovr = (*overrides, *v.overrides)
            label = path.stem + v.suffix
            try:
                resolved = resolve_scenario(path, ovr)
                sc = load_scenario(path, ovr)
            except ScenarioError as exc:
                jobs.append(Job(label, str(path), ovr, v.settings, 0, 0, "", error=str(exc)))
                continue
            label = sc.name + v.suffix
            if seed is not None:
                s = seed
            elif sc.sampling.seed is not None:
                s = sc.sampling.seed
            else:
                if batch_seed is None:
                    batch_seed = _batch_seed(out)
                s = batch_seed
            n = sc.sampling.samples if samples is None else samples
            m = method or sc.sampling.method
            where = resolved.positions.get("name", (str(path), 1, 1))
            positions[len(jobs)] = f"{where[0]}:{where[1]}:{where[2]}"
            digest = _hash(resolved.data, s, n, m, dtype)
            jobs.append(Job(label, str(path), ovr, v.settings, s, n, m, digest, dtype=dtype))
    labels = [j.label for j in jobs if not j.error]
    for i, j in enumerate(jobs):
        if not j.error and labels.count(j.label) > 1:
            others = [
                positions[k]
                for k, o in enumerate(jobs)
                if o.label == j.label and k != i and k in positions
            ]
            msg = (
                f"{positions[i]}: name: {j.label!r} is also the name of the scenario at "
                f"{', '.join(others)}; result folders are named by scenario, so give each a "
                "different `name`"
            )
            jobs[i] = dataclasses.replace(j, error=msg)
    return jobs


def is_up_to_date(folder: Path, inputs_hash: str) -> bool:
    """Whether ``folder`` holds a complete run with this content hash.

    True when its ``manifest.json`` records ``inputs_sha256 == inputs_hash`` and every file
    the manifest lists exists with the recorded size and sha256.
    """
    try:
        manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
        if manifest.get("inputs_sha256") != inputs_hash:
            return False
        files = manifest["files"]
        for name, meta in files.items():
            path = folder / name
            if Path(name).name != name or path.stat().st_size != meta["bytes"]:
                return False
            if _sha256(path) != meta["sha256"]:
                return False
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False
    return True


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def ctrl_c_latch() -> Iterator[threading.Event]:
    """Remember a Ctrl-C even where Python swallows the ``KeyboardInterrupt`` it raises.

    Python runs a signal handler between two bytecodes of the main thread, wherever that
    is: inside ``os.fork``'s after-fork hooks (logging's ``_releaseLock``), a ``__del__``
    or a weakref callback, the ``KeyboardInterrupt`` is printed as "Exception ignored" and
    lost, and a batch would carry on as if Ctrl-C had not been pressed (seen in CI). This
    handler sets the returned event before raising, so a loop that checks the event stops
    anyway. Outside the main thread, or where SIGINT is ignored, it changes nothing.
    """
    hit = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield hit
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.SIG_IGN or previous is None:
        yield hit
        return

    def on_sigint(signum: int, frame: Any) -> None:
        hit.set()
        if callable(previous):
            previous(signum, frame)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_sigint)
    try:
        yield hit
    finally:
        signal.signal(signal.SIGINT, previous)


# --- workers -----------------------------------------------------------------------------------


def _watch_parent(parent: int) -> None:
    """Stop this worker (through SIGTERM, so that staging is cleaned) when its parent dies."""
    while True:
        time.sleep(_WATCH_INTERVAL)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGTERM)
            return


def _on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _work(job: Job, out: str, save_samples: bool, parent: int, conn: Any) -> None:
    """Run one job in a worker process and send its outcome back."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C stops
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    t0 = time.perf_counter()
    reply: dict[str, Any]
    try:
        reply = _run_job(job, Path(out), save_samples)
    except ScenarioError as exc:
        reply = {"status": "failed", "message": str(exc)}
    except SimulationError as exc:
        reply = {"status": "failed", "message": f"{job.file}: {exc}"}
    except OSError as exc:
        reply = {"status": "failed", "message": str(exc)}
    except MemoryError:
        reply = {
            "status": "failed",
            "message": f"{job.file}: out of memory: use fewer samples (-n) or fewer --jobs",
        }
    except Exception as exc:  # noqa: BLE001 - a bug must fail one scenario, not the batch
        reply = {"status": "failed", "message": f"internal error: {type(exc).__name__}: {exc}"}
    reply["seconds"] = time.perf_counter() - t0
    with contextlib.suppress(OSError):
        conn.send(reply)
        conn.close()


def _run_job(job: Job, out: Path, save_samples: bool) -> dict[str, Any]:
    resolved = resolve_scenario(job.file, job.overrides)
    sc = load_scenario(job.file, job.overrides)
    result = simulate(
        sc,
        job.samples,
        rng=job.seed,
        method=job.method,  # type: ignore[arg-type]
        resolved=resolved.data,
        dtype=job.dtype,
    )
    summary = summarize(
        {v: result.variant(v) for v in ("with_shocks", "counterfactual", "impact")},
        result.years,
        scenario=job.label,
        replicates=se_replicates(result.method),
    )
    answers = answer_questions(sc, result)
    write_outputs(
        out / job.label,
        result,
        summary,
        answers=answers,
        manifest_extra={
            "scenario_file": job.file,
            "overrides": list(job.overrides),
            "grid": dict(job.settings),
            "label": job.label,
        },
        save_samples=save_samples,
    )
    got = inputs_sha256(result)
    message = "" if got == job.inputs_sha256 else "content hash differs from the planned one"
    return {"status": "done", "message": message}


# --- the scheduler ------------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(out: Path, waiting: Callable[[], None]) -> Iterator[None]:
    """Hold the batch folder's lock (fcntl, where available) for the duration."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    fh = (out / LOCK_NAME).open("a+b")
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            waiting()
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        yield
    finally:
        fh.close()


def _clean_staging(out: Path) -> int:
    """Remove staging folders that killed workers left in ``out`` (never a live owner's)."""
    return len(remove_stale_stages(out))


def _context() -> Any:
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    return multiprocessing.get_context(method)


def run_batch(
    jobs: Sequence[Job],
    out: Path,
    *,
    workers: int = 1,
    save_samples: bool = False,
    on_event: Callable[[Outcome], None] | None = None,
    on_tick: Callable[[list[str]], None] | None = None,
    on_wait: Callable[[], None] | None = None,
    executor: DaskExecutor | None = None,
) -> list[Outcome]:
    """Run the jobs of a batch in parallel worker processes; skip those up to date.

    Parameters
    ----------
    jobs : sequence of Job
        From :func:`plan_batch`.
    out : Path
        The batch folder (created if missing).
    workers : int, optional
        Worker processes at a time, ``>= 1``.
    save_samples : bool, optional
        Also write ``samples.npz`` in each result folder.
    on_event : callable, optional
        Called with each job's outcome as it is settled (skipped, done, failed).
    on_tick : callable, optional
        Called about ten times a second with the labels of the jobs running.
    on_wait : callable, optional
        Called if another batch holds the folder's lock (this one then waits for it).
    executor : DaskExecutor, optional
        Run each scenario as a task on this Dask cluster instead of in local processes
        (``workers`` is then unused): the task gets the resolved scenario, runs it as a
        local worker process would, and returns its summary and answers (and its samples
        with ``save_samples``); this process writes the result folders. The numbers are
        the same.

    Returns
    -------
    list of Outcome
        One per job, in order. If interrupted (``KeyboardInterrupt``), the running workers
        are stopped, the outcomes so far are attached to the exception as ``outcomes``, and
        it propagates.
    """
    out.mkdir(parents=True, exist_ok=True)
    outcomes = [Outcome(j) for j in jobs]
    with ctrl_c_latch() as ctrl_c, _locked(out, on_wait or (lambda: None)):
        _clean_staging(out)
        todo: list[int] = []
        for i, o in enumerate(outcomes):
            if o.job.error:
                o.status, o.message = "failed", o.job.error
            elif is_up_to_date(out / o.job.label, o.job.inputs_sha256):
                o.status = "skipped"
            else:
                todo.append(i)
                continue
            if on_event is not None:
                on_event(o)
        if executor is not None:
            _run_on_cluster(executor, outcomes, todo, out, save_samples, on_event, on_tick, ctrl_c)
            return outcomes
        ctx = _context()
        running: dict[int, tuple[Any, Any]] = {}
        parent = os.getpid()
        try:
            while todo or running:
                if ctrl_c.is_set():  # a Ctrl-C whose KeyboardInterrupt was swallowed
                    raise KeyboardInterrupt
                while todo and len(running) < max(1, workers):
                    i = todo.pop(0)
                    recv, send = ctx.Pipe(duplex=False)
                    proc = ctx.Process(
                        target=_work,
                        args=(outcomes[i].job, str(out), save_samples, parent, send),
                        name=f"jevons-batch-{outcomes[i].job.label}",
                        daemon=False,
                    )
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", DeprecationWarning)  # fork + threads
                        proc.start()
                    send.close()
                    running[i] = (proc, recv)
                ready = multiprocessing.connection.wait(
                    [p.sentinel for p, _ in running.values()], timeout=0.1
                )
                for i in [i for i, (p, _) in running.items() if p.sentinel in ready]:
                    proc, recv = running.pop(i)
                    _settle(outcomes[i], proc, recv)
                    if on_event is not None:
                        on_event(outcomes[i])
                if on_tick is not None:
                    on_tick([outcomes[i].job.label for i in running])
        except BaseException as exc:
            for proc, _ in running.values():
                proc.terminate()
            for proc, recv in running.values():
                proc.join(10)
                recv.close()
            if isinstance(exc, KeyboardInterrupt):
                for o in outcomes:  # a worker may have published just before it was stopped
                    if o.status == "pending" and is_up_to_date(
                        out / o.job.label, o.job.inputs_sha256
                    ):
                        o.status = "done"
                exc.outcomes = outcomes  # type: ignore[attr-defined]
            raise
    return outcomes


def _remote_job(
    job: Job, scenario: Scenario, resolved: dict[str, Any], save_samples: bool
) -> dict[str, Any]:
    """Run one job on a Dask worker (a task): what :func:`_run_job` computes, not written."""
    t0 = time.perf_counter()
    try:
        result = simulate(
            scenario,
            job.samples,
            rng=job.seed,
            method=job.method,  # type: ignore[arg-type]
            resolved=resolved,
            dtype=job.dtype,
        )
    except SimulationError as exc:
        return {"status": "failed", "message": f"{job.file}: {exc}"}
    except MemoryError:
        return {
            "status": "failed",
            "message": f"{job.file}: out of memory on the Dask worker: use fewer samples (-n)",
        }
    summary = summarize(
        {v: result.variant(v) for v in ("with_shocks", "counterfactual", "impact")},
        result.years,
        scenario=job.label,
    )
    answers = answer_questions(scenario, result)
    run: SimulationResult | RunSummary = result
    if not save_samples:  # the samples stay on the worker
        run = RunSummary(
            scenario_name=result.scenario_name,
            resolved=result.resolved,
            years=result.years,
            n_samples=result.n_samples,
            seed=result.seed,
            method=result.method,
            block_size=result.block_size,
            metrics=result.metrics,
            summary=summary,
            answers=answers,
            exact=True,
            quantile_rel_error=0.0,
            timings=result.timings,
            versions=result.versions,
        )
    return {
        "status": "done",
        "run": run,
        "summary": summary,
        "answers": answers,
        "seconds": time.perf_counter() - t0,
    }


def _run_on_cluster(
    executor: DaskExecutor,
    outcomes: list[Outcome],
    todo: list[int],
    out: Path,
    save_samples: bool,
    on_event: Callable[[Outcome], None] | None,
    on_tick: Callable[[list[str]], None] | None,
    ctrl_c: threading.Event | None = None,
) -> None:
    """Run the jobs ``todo`` as tasks on a Dask cluster; write each result folder here."""
    from simulator.executors import ExecutorError, as_completed, task_result

    futures: dict[Any, int] = {}
    for i in todo:
        job = outcomes[i].job
        try:
            resolved = resolve_scenario(job.file, job.overrides)
            sc = load_scenario(job.file, job.overrides)
        except ScenarioError as exc:
            outcomes[i].status, outcomes[i].message = "failed", str(exc)
            if on_event is not None:
                on_event(outcomes[i])
            continue
        future = executor.client.submit(
            _remote_job, job, sc, resolved.data, save_samples, pure=False, retries=1
        )
        futures[future] = i
    pending = set(futures)
    try:
        for future in as_completed(list(futures)):
            if ctrl_c is not None and ctrl_c.is_set():  # a swallowed KeyboardInterrupt
                raise KeyboardInterrupt
            pending.discard(future)
            o = outcomes[futures[future]]
            t0 = time.perf_counter()
            try:
                reply = task_result(future)
            except ExecutorError as exc:
                reply = {"status": "failed", "message": f"{o.job.file}: {exc}"}
            except Exception as exc:  # noqa: BLE001 - a bug must fail one scenario, not the batch
                reply = {
                    "status": "failed",
                    "message": f"internal error: {type(exc).__name__}: {exc}",
                }
            if reply["status"] == "done":
                reply = _publish(o.job, out, reply, save_samples)
            o.status, o.message = reply["status"], reply.get("message", "")
            o.seconds = float(reply.get("seconds", 0.0)) + time.perf_counter() - t0
            if on_event is not None:
                on_event(o)
            if on_tick is not None:
                on_tick([outcomes[futures[f]].job.label for f in pending][:3])
    except BaseException as exc:
        executor.client.cancel(list(pending))
        if isinstance(exc, KeyboardInterrupt):
            exc.outcomes = outcomes  # type: ignore[attr-defined]
        raise


def _publish(job: Job, out: Path, reply: dict[str, Any], save_samples: bool) -> dict[str, Any]:
    """Write a remotely computed job's result folder, as :func:`_run_job` does."""
    run = reply["run"]
    try:
        write_outputs(
            out / job.label,
            run,
            reply["summary"],
            answers=reply["answers"],
            manifest_extra={
                "scenario_file": job.file,
                "overrides": list(job.overrides),
                "grid": dict(job.settings),
                "label": job.label,
            },
            save_samples=save_samples,
        )
    except OSError as exc:
        return {"status": "failed", "message": str(exc)}
    except MemoryError:
        return {"status": "failed", "message": f"{job.file}: out of memory writing the results"}
    got = inputs_sha256(run)
    message = "" if got == job.inputs_sha256 else "content hash differs from the planned one"
    return {"status": "done", "message": message, "seconds": reply["seconds"]}


def _settle(outcome: Outcome, proc: Any, recv: Any) -> None:
    reply: dict[str, Any] | None = None
    with contextlib.suppress(EOFError, OSError):
        if recv.poll():
            reply = recv.recv()
    recv.close()
    proc.join()
    if reply is None:
        outcome.status = "failed"
        outcome.message = (
            f"{outcome.job.file}: the worker process stopped without a result "
            f"(exit code {proc.exitcode}; out of memory?)"
        )
        return
    outcome.status = reply["status"]
    outcome.message = reply.get("message", "")
    outcome.seconds = float(reply.get("seconds", math.nan))


# --- the index ------------------------------------------------------------------------------------


def _unit(variant: str, metric: str) -> str:
    try:
        return value_unit(variant, metric)
    except KeyError:
        return ""


def _read_summary(folder: Path) -> list[dict[str, str]]:
    with (
        contextlib.suppress(OSError),
        (folder / "summary.csv").open(encoding="utf-8", newline="") as fh,
    ):
        return list(csv.DictReader(fh))
    return []


def write_index(
    out: Path, outcomes: Sequence[Outcome], metrics: Sequence[str]
) -> dict[str, list[dict[str, str]]]:
    """Write ``index.csv`` and ``index_summary.csv`` (atomically) from the result folders.

    Parameters
    ----------
    out : Path
        The batch folder.
    outcomes : sequence of Outcome
        The batch's outcomes.
    metrics : sequence of str
        Metrics copied into ``index_summary.csv`` (variants ``with_shocks`` and ``impact``,
        statistics :data:`INDEX_STATISTICS`, every year).

    Returns
    -------
    dict
        Label to the summary rows copied, for the terminal table.
    """
    index = io.StringIO()
    w = csv.writer(index, lineterminator="\n")
    w.writerow(INDEX_COLUMNS)
    summary = io.StringIO()
    ws = csv.writer(summary, lineterminator="\n")
    ws.writerow(("scenario", "variant", "metric", "year", "statistic", "value", "unit"))
    rows_by_label: dict[str, list[dict[str, str]]] = {}
    wanted = set(metrics)
    for o in outcomes:
        j = o.job
        folder = out / j.label
        ok = o.status in ("done", "skipped")
        w.writerow(
            (
                j.label,
                o.status,
                j.file,
                ";".join(f"{k}={v}" for k, v in j.settings),
                j.label if ok else "",  # relative to the batch folder
                j.seed if ok else "",
                j.samples if ok else "",
                j.method if ok else "",
                j.inputs_sha256,
                "" if math.isnan(o.seconds) else f"{o.seconds:.3f}",
                o.message.replace("\n", " | "),
            )
        )
        if not ok:
            continue
        rows = [
            r
            for r in _read_summary(folder)
            if r.get("metric") in wanted
            and r.get("variant") in ("with_shocks", "impact")
            and r.get("statistic") in INDEX_STATISTICS
        ]
        rows_by_label[j.label] = rows
        for r in rows:
            ws.writerow(
                (
                    j.label,
                    r["variant"],
                    r["metric"],
                    r["year"],
                    r["statistic"],
                    r["value"],
                    r.get("unit") or _unit(r["variant"], r["metric"]),  # older folders: none
                )
            )
    for name, text in ((INDEX_NAME, index.getvalue()), (INDEX_SUMMARY_NAME, summary.getvalue())):
        data = text.encode("utf-8")
        atomic_write(out / name, lambda fh, data=data: _write(fh, data))  # type: ignore[misc]
    return rows_by_label
