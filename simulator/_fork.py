"""Forked worker processes: when this process may fork, and an ordered map over children.

A run's blocks are computed by several workers. Threads share one interpreter: between its
NumPy calls each block runs Python that holds the GIL, and two threads wait for each other
there (on the 2-core development machine, 2 threads took 2.64 s where 2 forked processes
took 2.22-2.38 s for the same blocks, at the same total CPU time). :class:`ForkedMap` computes
``work(0), work(1), ...`` in forked children instead and yields the results here in index
order. The children need nothing pickled to start (they inherit the run's plan); only the
results travel back, through one pipe per child.

Guarantees:

- Every index is computed once, by whichever child is free (they take the next index from a
  shared pipe), and the results are yielded in index order, so a caller that merges them in
  that order gets the same numbers as one thread would.
- The first failure in index order is raised here (with the child's traceback as a note),
  after every earlier result has been yielded; no child starts new work after a failure.
  A child that dies without reporting (killed, out of memory) is a :class:`WorkerLostError`
  that says how it died; a result or ``final()`` that cannot be pickled is reported as the
  pickling error.
- Children ignore Ctrl-C (it reaches the whole process group): this process decides. On
  Ctrl-C here, or whenever the caller stops iterating early, the children are killed and
  reaped; none outlives this process (Linux ``PR_SET_PDEATHSIG``).
- Children never print: their warnings are recorded and re-issued here, once each.
- Ctrl-C is held back while a child is forked and registered, and while children are
  killed and reaped, so that none is left behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import selectors
import signal
import struct
import sys
import traceback
import warnings
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any, Generic, NoReturn, TypeVar

__all__ = [
    "FORK_ENV",
    "ForkedMap",
    "WorkerLostError",
    "available_cores",
    "can_fork",
    "carried",
    "die_with_parent",
    "drain",
    "how_it_ended",
]

R = TypeVar("R")
F = TypeVar("F")

FORK_ENV = "JEVONS_FORK"
"""Set to ``0`` to compute blocks on threads of this process instead of forked children."""

_PR_SET_PDEATHSIG = 1
_INDEX = struct.Struct("<i")
_HEADER = struct.Struct("<Q")
_PIPE_BYTES = 1 << 16
"""Bytes a pipe holds without a reader on every Linux (its default size): the task pipe is
filled before the children start, so a map of more indices asks for a larger pipe. [B]"""


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where known); at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def can_fork() -> bool:
    """Whether work may be handed to forked children of this process.

    Not without ``os.fork``; not beside a Dask client's threads (``distributed`` imported);
    not inside a process that :mod:`multiprocessing` started (a batch worker: the batch
    already keeps the cores busy).
    """
    if not hasattr(os, "fork"):
        return False
    if "distributed" in sys.modules:
        return False
    mp = sys.modules.get("multiprocessing")
    return mp is None or mp.parent_process() is None


def die_with_parent(parent: int) -> None:
    """Ask Linux to kill this (child) process when its parent dies; exit if it already has."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def carried(exc: BaseException, where: str) -> BaseException:
    """``exc`` as it can travel back through a pipe (pickled), with its traceback as a note."""
    text = "".join(traceback.format_exception(exc))
    try:
        pickle.loads(pickle.dumps(exc))
        out = exc
    except Exception:  # noqa: BLE001 - an unpicklable exception travels as its text
        out = RuntimeError(f"{type(exc).__name__}: {exc}")
    with contextlib.suppress(AttributeError, TypeError):
        out.add_note(f"in {where}:\n{text}")
    return out


def _pipe_max() -> int:
    """Bytes of the largest pipe this process may ask for (Linux), else the default size."""
    try:
        text = Path("/proc/sys/fs/pipe-max-size").read_text(encoding="ascii")
        return max(_PIPE_BYTES, int(text.strip()))
    except (OSError, ValueError):
        return _PIPE_BYTES


def _task_pipe(count: int) -> int | None:
    """Read end of a pipe holding the indices ``0..count - 1`` (write end closed), or None.

    None where the pipe cannot hold them all (a larger pipe refused: above
    ``/proc/sys/fs/pipe-max-size``, or past the user's ``pipe-user-pages-soft``).
    """
    data = b"".join(_INDEX.pack(i) for i in range(count))
    read_fd, write_fd = os.pipe()
    try:
        if len(data) > _PIPE_BYTES:
            import fcntl

            with contextlib.suppress(OSError, AttributeError):
                fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, len(data))
        os.set_blocking(write_fd, False)  # a pipe too small: a short write, never a hang
        try:
            written = os.write(write_fd, data)
        except BlockingIOError:
            written = 0
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)
    if written != len(data):
        os.close(read_fd)
        return None
    return read_fd


def _next_index(fd: int) -> int | None:
    """The next index from the shared task pipe; None once it is empty."""
    data = os.read(fd, _INDEX.size)  # Linux hands each reader whole 4-byte records
    return _INDEX.unpack(data)[0] if len(data) == _INDEX.size else None


def _send(fh: Any, message: tuple[Any, ...]) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    fh.write(_HEADER.pack(len(payload)))
    fh.write(payload)
    fh.flush()


def _child(
    work: Callable[[int], Any], final: Callable[[], Any], tasks: int, out: int, parent: int
) -> NoReturn:
    """Body of a forked child: compute indices from the pipe, send each result, then final.

    A failure (of the work, of ``final`` or of pickling what they return) is sent as an
    ``("error", index, exception)`` message, index -1 for ``final``; the child then exits.
    """
    code = 0
    try:
        die_with_parent(parent)
        with os.fdopen(out, "wb") as fh, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            index = -1
            try:
                while (got := _next_index(tasks)) is not None:
                    index = got
                    _send(fh, ("result", index, work(index)))
                index = -1
                notes = {(w.category, str(w.message), w.filename, w.lineno) for w in caught}
                _send(fh, ("final", final(), sorted(notes, key=repr)))
            except BaseException as exc:  # noqa: BLE001 - reported to the parent
                _send(fh, ("error", index, carried(exc, "a worker process")))
    except BaseException:  # noqa: BLE001 - nothing may escape a forked child
        code = 1
    finally:
        os._exit(code)


class _Reader:
    """Messages from one child's result pipe, read as they arrive."""

    def __init__(self, pid: int, fd: int) -> None:
        self.pid, self.fd = pid, fd
        self.buffer = bytearray()
        self.finished = False  # sent its final message, or an error
        self.closed = False  # end of file

    def feed(self) -> list[tuple[Any, ...]]:
        """Read what is there; the whole messages received so far."""
        data = os.read(self.fd, 1 << 20)
        if not data:
            self.closed = True
        self.buffer += data
        out = []
        while len(self.buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self.buffer)
            if len(self.buffer) < _HEADER.size + size:
                break
            out.append(pickle.loads(self.buffer[_HEADER.size : _HEADER.size + size]))
            del self.buffer[: _HEADER.size + size]
        return out


class WorkerLostError(RuntimeError):
    """A worker process ended without reporting (killed, say, by the out-of-memory killer)."""


_SIGINT = frozenset({signal.SIGINT})


class ForkedMap(Generic[R, F]):
    """``work(i)`` for ``i`` in ``0..count - 1`` in forked children, results in index order.

    Iterate it once (or :meth:`close` it unused). After the last result, :attr:`finals`
    holds ``final()`` as each child computed it once its work was done (per child, in no
    particular order: for state the children accumulated, such as integer counts, that
    merges in any order).

    Parameters
    ----------
    work : callable
        ``work(i)``; its result must pickle. Runs in a child, on the state this process had
        when it forked.
    count : int
        Number of indices. [-]
    workers : int
        Children to fork (at most ``count``). [-]
    final : callable
        Called once in each child after its last index; its result must pickle.

    Raises
    ------
    OSError
        On construction, if the indices do not fit a pipe here (then compute them
        otherwise; :meth:`possible` says so beforehand where it can).
    BaseException
        While iterating: the first failure in index order, with the child's traceback as a
        note; :class:`WorkerLostError` if a child died without reporting.
    """

    def __init__(
        self, work: Callable[[int], R], count: int, workers: int, final: Callable[[], F]
    ) -> None:
        self.work, self.count, self.final = work, count, final
        self.workers = max(1, min(workers, count))
        self.finals: list[F] = []
        tasks = _task_pipe(count)
        if tasks is None:
            msg = f"{count} indices do not fit a pipe here"
            raise OSError(msg)
        self._tasks = tasks

    @staticmethod
    def possible(count: int) -> bool:
        """Whether a map of ``count`` indices may run in children here.

        On Linux, where :func:`can_fork`, unless ``$JEVONS_FORK`` is ``0``, for as many
        indices as a pipe can hold (262,144 with Linux's default limit of 1 MiB).
        """
        if not sys.platform.startswith("linux"):  # elsewhere, forking after some
            return False  # libraries' threads start (Accelerate, GCD on macOS) is unsafe
        if not can_fork() or os.environ.get(FORK_ENV, "").strip() == "0":
            return False
        return count * _INDEX.size <= _pipe_max()

    def close(self) -> None:
        """Release the task pipe of a map that was not iterated (idempotent)."""
        if self._tasks >= 0:
            os.close(self._tasks)
            self._tasks = -1

    def __iter__(self) -> Generator[R, None, None]:
        if self._tasks < 0:
            msg = "a ForkedMap is iterated once"
            raise RuntimeError(msg)
        tasks = self._tasks
        readers: dict[int, _Reader] = {}
        parent = os.getpid()
        try:
            for _ in range(self.workers):
                self._fork_one(tasks, parent, readers)
            yield from self._collect(readers, tasks)
        finally:
            # a second Ctrl-C waits until every child is killed and reaped
            old = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGINT)
            try:
                self._stop(readers)
                self.close()
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def _fork_one(self, tasks: int, parent: int, readers: dict[int, _Reader]) -> None:
        """Fork one child and add its reader to ``readers``, Ctrl-C held back meanwhile."""
        result_r, result_w = os.pipe()
        old = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGINT)
        try:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)  # fork + threads
                    pid = os.fork()
            except BaseException:
                os.close(result_r)
                raise
            if pid == 0:  # pragma: no cover - the child's coverage is not collected
                try:
                    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent's to handle
                    signal.pthread_sigmask(signal.SIG_SETMASK, old)
                    os.close(result_r)
                    for other in readers.values():
                        os.close(other.fd)
                    _child(self.work, self.final, tasks, result_w, parent)
                finally:
                    os._exit(1)
            readers[pid] = _Reader(pid, result_r)
        finally:
            os.close(result_w)
            signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def _collect(self, readers: dict[int, _Reader], tasks: int) -> Iterator[R]:
        results: dict[int, R] = {}
        failures: dict[int, BaseException] = {}
        lost: list[str] = []
        notes: set[Any] = set()
        done = 0
        with selectors.DefaultSelector() as sel:
            for r in readers.values():
                sel.register(r.fd, selectors.EVENT_READ, r)
            while done < self.count:
                if done in results:
                    yield results.pop(done)
                    done += 1
                    continue
                if done in failures:
                    raise failures[done]
                if not sel.get_map():  # every child ended: one died, or final() failed
                    if lost:
                        raise WorkerLostError(lost[0])
                    if failures:
                        raise min(failures.items())[1]
                    msg = f"index {done} was not computed"  # pragma: no cover - defensive
                    raise WorkerLostError(msg)
                for key, _ in sel.select():
                    reader: _Reader = key.data
                    for kind, *rest in reader.feed():
                        if kind == "result":
                            results[rest[0]] = rest[1]
                        elif kind == "error":
                            reader.finished = True
                            failures[rest[0]] = rest[1]
                            drain(tasks)  # no child starts another index
                        else:
                            reader.finished = True
                            self.finals.append(rest[0])
                            notes.update(rest[1])
                    if reader.closed:
                        sel.unregister(reader.fd)
                        if not reader.finished:
                            lost.append(self._lost(reader))
                            drain(tasks)
                            if not failures:
                                raise WorkerLostError(lost[0])
        # every result is in: wait for the children's final messages
        for reader in readers.values():
            while not reader.closed:
                for kind, *rest in reader.feed():
                    if kind == "final":
                        reader.finished = True
                        self.finals.append(rest[0])
                        notes.update(rest[1])
                    elif kind == "error":  # final() failed (index -1)
                        reader.finished = True
                        failures[rest[0]] = rest[1]
            if not reader.finished:
                raise WorkerLostError(self._lost(reader))
        if failures:  # final() failed in a child: its share is missing
            raise min(failures.items())[1]
        for category, message, filename, lineno in sorted(notes, key=repr):
            warnings.warn_explicit(message, category, filename, lineno)

    @staticmethod
    def _lost(reader: _Reader) -> str:
        """Why a child ended without its final message, in words (it is reaped here)."""
        pid = reader.pid
        _, status = os.waitpid(pid, 0)
        reader.pid = 0
        return (
            f"a worker process (pid {pid}) {how_it_ended(status)} before finishing its blocks "
            "(out of memory?); run again, or with fewer --workers"
        )

    @staticmethod
    def _stop(readers: dict[int, _Reader]) -> None:
        """Kill children that have not finished, and reap every child."""
        for r in readers.values():
            if r.pid and not r.closed:
                with contextlib.suppress(OSError):
                    os.kill(r.pid, signal.SIGKILL)
        for r in readers.values():
            with contextlib.suppress(OSError):
                os.close(r.fd)
            if r.pid:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(r.pid, 0)
                r.pid = 0


def drain(fd: int) -> None:
    """Take everything still in a shared task pipe, so that no process starts another task."""
    os.set_blocking(fd, False)
    with contextlib.suppress(BlockingIOError, OSError):
        while os.read(fd, 1 << 16):
            pass


def how_it_ended(status: int) -> str:
    """A child's wait status in words: ``killed by SIGKILL``, ``exited with status 1``."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(sig).name}"
        return f"killed by signal {sig}"
    return f"exited with status {os.waitstatus_to_exitcode(status)}"
