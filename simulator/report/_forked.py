"""Run independent tasks in forked child processes and in this one (charts in parallel).

Rendering a chart is CPU-bound Python and C++ that holds the GIL, so threads do not help;
forked children do, and need nothing pickled to start: they inherit the run's summary and
the already-imported matplotlib. :func:`run_forked` hands the tasks out one at a time through
a pipe (whoever is free takes the next), runs its own share in this process too, and
returns each task's result in task order.

Guarantees:

- Every task runs at most once. A task that raises stops its process from taking more; the
  others finish the task in hand, nothing new is started (the pipe is drained), every child
  is waited for, and the first failure (in task order) is raised here, with the child's
  traceback as a note. Children never print: their warnings are recorded and re-issued here.
- A child dies with the process that forked it (Linux ``PR_SET_PDEATHSIG``), so a killed run
  leaves no process writing into its folder.
- Where ``os.fork`` is missing, or one worker is asked for, the tasks run here, in order.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import warnings
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeVar

from simulator._fork import (
    available_cores,
    can_fork,
    carried,
    die_with_parent,
    drain,
    how_it_ended,
)

__all__ = ["MAX_TASKS", "available_cores", "default_workers", "run_forked"]

T = TypeVar("T")

MAX_TASKS = 256
"""Most tasks one call hands out through its pipe (one byte each); more run in order here."""


def default_workers(tasks: int) -> int:
    """Processes to run ``tasks`` independent tasks in: ``min(cores, tasks)``, or 1.

    One (no fork) inside a process that :mod:`multiprocessing` started (a batch worker: the
    batch already keeps the cores busy) and where ``os.fork`` is missing.

    Parameters
    ----------
    tasks : int
        Number of tasks.

    Returns
    -------
    int
        At least 1.
    """
    if tasks <= 1 or not can_fork():  # no fork beside a Dask client's threads, say
        return 1
    return max(1, min(available_cores(), tasks))


def _next_task(fd: int) -> int | None:
    """The next task index from the shared pipe, None when it is empty and closed."""
    while True:
        try:
            byte = os.read(fd, 1)
        except InterruptedError:  # pragma: no cover - retried by Python itself since 3.5
            continue
        return byte[0] if byte else None


def _work(
    tasks: Sequence[Callable[[], T]], fd: int
) -> tuple[dict[int, T], tuple[int, BaseException] | None, list[Any]]:
    """Take tasks from the pipe until it is empty or one fails; results, failure, warnings."""
    results: dict[int, T] = {}
    failure: tuple[int, BaseException] | None = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        while (index := _next_task(fd)) is not None:
            try:
                results[index] = tasks[index]()
            except BaseException as exc:  # noqa: BLE001 - reported to the parent
                failure = (index, exc)
                break
    notes = [(w.category, str(w.message), w.filename, w.lineno) for w in caught]
    return results, failure, notes


def _child(tasks: Sequence[Callable[[], T]], fd: int, out: int, parent: int) -> NoReturn:
    """Body of a forked child: work, send ``(results, failure, warnings)``, exit (never return)."""
    code = 0
    try:
        # Ctrl-C reaches the whole process group: the parent decides what it stops (it
        # drains the pipe, so no new chart starts, and waits for the ones in hand)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        die_with_parent(parent)
        results, failure, notes = _work(tasks, fd)
        sent = (
            results,
            None if failure is None else (failure[0], carried(failure[1], "a chart process")),
            notes,
        )
        try:
            payload = pickle.dumps(sent)
        except Exception as exc:  # noqa: BLE001 - a result that cannot travel
            payload = pickle.dumps(
                ({}, (min(results, default=0), carried(exc, "a chart process")), notes)
            )
        with os.fdopen(out, "wb") as fh:
            fh.write(payload)
    except BaseException:  # noqa: BLE001 - nothing may escape a forked child
        code = 1
    finally:
        os._exit(code)


def run_forked(
    tasks: Sequence[Callable[[], T]],
    workers: int,
    *,
    first: Callable[[], None] | None = None,
) -> list[T]:
    """Run every task once, in ``workers`` processes (``workers - 1`` forked children).

    Parameters
    ----------
    tasks : sequence of callable
        Independent tasks; each returns a picklable result. They may write files (each its
        own, atomically) but must not rely on state changed by another task.
    workers : int
        Processes, this one included; 1 (or no ``os.fork``) runs the tasks here, in order.
    first : callable, optional
        Run in this process after the children start and before it takes tasks of its own
        (other work to overlap with the tasks). If it raises, no new task is started, the
        children are waited for and its exception propagates.

    Returns
    -------
    list
        Each task's result, in task order.

    Raises
    ------
    BaseException
        The first failure in task order (a child's with its traceback as a note);
        ``ChildProcessError`` if a child died without reporting (killed, say).
    """
    n = len(tasks)
    workers = min(workers, n)
    if workers <= 1 or n > MAX_TASKS or not hasattr(os, "fork"):
        if first is not None:
            first()
        return [task() for task in tasks]

    read_fd, write_fd = os.pipe()
    os.write(write_fd, bytes(range(n)))  # n <= 256 bytes: below the pipe's buffer
    os.close(write_fd)
    children: dict[int, int] = {}  # pid -> read end of its result pipe
    parent = os.getpid()
    own: dict[int, T] = {}
    failures: list[tuple[int, BaseException]] = []
    notes: list[Any] = []
    try:
        for _ in range(workers - 1):
            try:
                result_r, result_w = os.pipe()
            except OSError:  # out of descriptors: the processes started so far do it
                break
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)  # fork + threads
                    pid = os.fork()
            except OSError:  # no memory or process slot for a child: do without it
                os.close(result_r)
                os.close(result_w)
                break
            if pid == 0:  # pragma: no cover - the child's coverage is not collected
                os.close(result_r)
                _child(tasks, read_fd, result_w, parent)
            os.close(result_w)
            children[pid] = result_r
        if first is not None:
            first()
        results, failure, own_notes = _work(tasks, read_fd)
        own.update(results)
        notes.extend(own_notes)
        if failure is not None:
            failures.append(failure)
    except BaseException:
        drain(read_fd)
        with contextlib.suppress(Exception):  # the failure here is the one to report
            _collect(children)
        raise
    finally:
        if failures or children:
            drain(read_fd)
        os.close(read_fd)
    interrupted = next((f for f in failures if isinstance(f[1], KeyboardInterrupt)), None)
    try:
        reports = _collect(children)
    except BaseException:
        if interrupted is not None:  # Ctrl-C here: that, not a child it stopped
            raise interrupted[1] from None
        raise
    if interrupted is not None:
        raise interrupted[1]
    for results, failure, child_notes in reports:
        own.update(results)
        notes.extend(child_notes)
        if failure is not None:
            failures.append(failure)
    for category, message, filename, lineno in notes:
        warnings.warn_explicit(message, category, filename, lineno)
    if failures:
        raise min(failures, key=lambda f: f[0])[1]
    missing = [i for i in range(n) if i not in own]
    if missing:  # pragma: no cover - a child that died mid-task is reported by _collect
        msg = f"tasks {missing} were not run"
        raise ChildProcessError(msg)
    return [own[i] for i in range(n)]


def _collect(children: dict[int, int]) -> list[tuple[dict[int, Any], Any, list[Any]]]:
    """Read every child's report and wait for it; raise if one died without a report."""
    reports: list[tuple[dict[int, Any], Any, list[Any]]] = []
    dead: list[str] = []
    interrupted: BaseException | None = None
    for pid, fd in list(children.items()):
        data = b""
        while True:
            try:
                with os.fdopen(fd, "rb") as fh:
                    data = fh.read()
                break
            except BaseException as exc:  # noqa: BLE001 - e.g. Ctrl-C: keep reaping
                interrupted = interrupted or exc
                data = b""
                break
        if interrupted is not None:  # Ctrl-C: do not wait on a child that may hang
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        while True:
            try:
                _, status = os.waitpid(pid, 0)
                break
            except ChildProcessError:
                status = 0
                break
            except BaseException as exc:  # noqa: BLE001 - Ctrl-C: kill it, then reap it
                interrupted = interrupted or exc
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        del children[pid]
        if data:
            reports.append(pickle.loads(data))
        else:
            dead.append(f"process {pid} {how_it_ended(status)}")
    if interrupted is not None:
        raise interrupted
    if dead:
        msg = "a chart process died without finishing: " + "; ".join(dead)
        raise ChildProcessError(msg)
    return reports
