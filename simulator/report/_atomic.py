"""Atomic writing: files (temporary name, then rename) and whole folders (stage, then swap).

A run's output folder is published as a whole: its files are written into a private
staging folder next to it, which then takes the folder's place in one atomic step
(:func:`publish_folder`). A killed run leaves at most its staging folder, whose name
records its owner, and the next run in the same place removes it (:func:`remove_stale_stages`).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import os
import re
import shutil
import signal
import socket
import stat
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

__all__ = [
    "KILL_AT_STEP_ENV",
    "STAGE_PREFIX",
    "atomic_write",
    "current_umask",
    "exchange",
    "kill_point",
    "make_stage",
    "process_start",
    "publish_folder",
    "remove_stale_stages",
    "staging_folder",
    "stale_stages",
]


def current_umask() -> int:
    """The process's file-mode creation mask, read without changing it where possible.

    Returns
    -------
    umask : int
        The mask; read from ``/proc/self/status`` on Linux, else ``0o022``.
    """
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022


def atomic_write(path: Path, write: Callable[[BinaryIO], None], /) -> None:
    """Write a file so that ``path`` holds either its old content or the complete new one.

    Parameters
    ----------
    path : Path
        Destination; its folder must exist.
    write : callable
        Writes the content to the binary file object it is given.

    Notes
    -----
    The content goes to a temporary file in the same folder (so the rename stays on one
    filesystem), is flushed and ``fsync``-ed, gets the permissions of an ordinary new file
    (``0o666`` less the umask), and replaces ``path`` with :func:`os.replace`. On any failure
    the temporary file is removed and the exception propagates; ``path`` is untouched.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).chmod(0o666 & ~current_umask())
        Path(tmp).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise


# --- whole folders -------------------------------------------------------------------------

STAGE_PREFIX = ".jevons-"
"""Name prefix of the hidden staging folders created next to an output folder."""

KILL_AT_STEP_ENV = "JEVONS_TEST_KILL_AT_STEP"
"""Test hook: ``JEVONS_TEST_KILL_AT_STEP=N`` kills the process (SIGKILL) at publication step N.

Steps: 1 staging folder created; 2 the first outputs staged; 3 every output and the
manifest staged, nothing published; 4 the new folder published, the previous one not yet
removed (only when a previous one existed); 5 the previous one removed.
"""

LEGACY_STAGE_AGE_S = 86_400.0
"""Age after which a staging folder of jevons 0.1 (no owner in its name) is removed. [s]"""

_STAGE_RE = re.compile(
    r"^\.jevons-(?P<host>[0-9a-f]{8})-(?P<boot>[0-9a-f]{8})-(?P<pid>[0-9]+)-(?P<start>[0-9]+)-"
    r"[A-Za-z0-9_]+(?:\.old)?$"
)
_LEGACY_STAGE_RE = re.compile(r"^\.jevons-[a-z0-9_]{8}$")

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def kill_point(step: int) -> None:
    """Kill this process with SIGKILL if the test hook asks for publication step ``step``.

    Parameters
    ----------
    step : int
        The publication step reached (see :data:`KILL_AT_STEP_ENV`).
    """
    if os.environ.get(KILL_AT_STEP_ENV) == str(step):  # pragma: no cover - the process dies
        os.kill(os.getpid(), signal.SIGKILL)


def _token(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:8]


def _host_token() -> str:
    return _token(socket.gethostname())


def _boot_token() -> str:
    try:
        return _token(Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip())
    except OSError:
        return _token("")


def process_start(pid: int) -> int:
    """Start time of a process, in clock ticks after boot (0 where it cannot be read).

    Parameters
    ----------
    pid : int
        Process id.

    Returns
    -------
    int
        Field 22 of ``/proc/<pid>/stat`` on Linux; 0 elsewhere or if unreadable. Together
        with the pid it tells a process from a later one that reuses its pid.
    """
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
        return int(text[text.rindex(")") + 2 :].split()[19])
    except (OSError, ValueError, IndexError):
        return 0


def make_stage(parent: Path) -> Path:
    """Create a private staging folder in ``parent`` whose name records its owner.

    Parameters
    ----------
    parent : Path
        Folder of the output folder (so the final rename stays on one filesystem).

    Returns
    -------
    Path
        ``parent/.jevons-<host>-<boot>-<pid>-<start>-<random>``, mode ``0o777`` less the
        umask. The owner (hashed host name and boot id, pid, process start time) lets a
        later run tell a stale folder (its process is gone) from a live one.
    """
    pid = os.getpid()
    prefix = f"{STAGE_PREFIX}{_host_token()}-{_boot_token()}-{pid}-{process_start(pid)}-"
    stage = Path(tempfile.mkdtemp(dir=parent, prefix=prefix))
    stage.chmod(0o777 & ~current_umask())
    return stage


def _owner_alive(pid: int, start: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        pass
    except OSError:
        return True  # cannot tell: keep
    if start == 0:
        return True
    now = process_start(pid)
    return now in (0, start)  # another start time: the pid was reused by a later process


def stale_stages(parent: Path, *, now: float | None = None) -> list[Path]:
    """Staging folders in ``parent`` left by runs that are no longer alive.

    Parameters
    ----------
    parent : Path
        Folder to look in.
    now : float, optional
        Current time (``time.time()``) for the age of legacy folders. [s]

    Returns
    -------
    list of Path
        Folders named by :func:`make_stage` whose owner was on this machine and is gone
        (no such pid, or the pid now belongs to a process started later, or the machine
        rebooted since), and unowned folders of jevons 0.1 untouched for
        :data:`LEGACY_STAGE_AGE_S`. A folder of a live process, or of another machine
        sharing the filesystem, is never listed; nor are the two halves (``X`` and
        ``X.old``) of a run killed between the two renames of the fallback in
        :func:`publish_folder`, which are the only copies of the old and new runs.
    """
    host, boot = _host_token(), _boot_token()
    now = time.time() if now is None else now
    out: list[Path] = []
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return []
    names = {entry.name for entry in entries}
    for entry in entries:
        if not entry.name.startswith(STAGE_PREFIX):
            continue
        try:
            if not entry.is_dir(follow_symlinks=False):
                continue
            mtime = entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        m = _STAGE_RE.match(entry.name)
        if m is None:
            if _LEGACY_STAGE_RE.match(entry.name) and now - mtime > LEGACY_STAGE_AGE_S:
                out.append(Path(entry.path))
            continue
        if m["host"] != host:
            continue
        base = entry.name.removesuffix(".old")
        if base in names and f"{base}.old" in names:
            continue  # killed between the fallback's two renames: both halves are whole runs
        if m["boot"] != boot or not _owner_alive(int(m["pid"]), int(m["start"])):
            out.append(Path(entry.path))
    return sorted(out)


def remove_stale_stages(parent: Path) -> list[Path]:
    """Delete the staging folders of dead runs in ``parent`` (see :func:`stale_stages`).

    Parameters
    ----------
    parent : Path
        Folder to clean.

    Returns
    -------
    list of Path
        The folders removed. Failures to remove are ignored (another run may be
        removing the same folder).
    """
    removed = []
    for path in stale_stages(parent):
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            removed.append(path)
    return removed


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``).

    Parameters
    ----------
    a, b : Path
        Two existing paths on the same filesystem.

    Returns
    -------
    bool
        True if swapped; False if the system or filesystem cannot do it (the caller
        then falls back to two renames).

    Raises
    ------
    OSError
        If the swap is supported but fails (permissions, a mount point ...).
    """
    if _renameat2 is None:
        return False
    rc = _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), os.fspath(b))


def _load_renameat2() -> Any:
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


_renameat2: Any = _load_renameat2()


def fsync_tree(folder: Path) -> None:
    """Flush every file in ``folder`` (not recursive) and the folder itself to disk.

    Parameters
    ----------
    folder : Path
        A folder of regular files.
    """
    for entry in os.scandir(folder):
        if entry.is_file(follow_symlinks=False):
            fd = os.open(entry.path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    fsync_dir(folder)


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (renames into or out of it) to disk, where supported.

    Parameters
    ----------
    folder : Path
        The folder.
    """
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:
        shutil.copy2(src, dst, follow_symlinks=False)


def carry_over(old: Path, stage: Path, names: Iterable[str]) -> None:
    """Bring entries of the folder being replaced into the staging folder.

    Parameters
    ----------
    old : Path
        The folder that will be replaced.
    stage : Path
        The staging folder that replaces it.
    names : iterable of str
        Entries of ``old`` to keep (a user's own files next to a run's outputs). Files
        are hard-linked (copied where links are impossible), folders copied the same
        way, symbolic links copied as links.
    """
    for name in names:
        src, dst = old / name, stage / name
        if src.is_dir() and not src.is_symlink():
            shutil.copytree(src, dst, symlinks=True, copy_function=_link_or_copy)
        else:
            _link_or_copy(os.fspath(src), os.fspath(dst))


def publish_folder(stage: Path, target: Path, keep: Iterable[str] = ()) -> None:
    """Make the complete staging folder ``stage`` the folder ``target``, in one step.

    Parameters
    ----------
    stage : Path
        A complete folder made by :func:`make_stage`, next to ``target``.
    target : Path
        The folder to create or replace.
    keep : iterable of str
        Entries of an existing ``target`` to carry into the new one (see
        :func:`carry_over`).

    Notes
    -----
    A new ``target`` is ``stage`` renamed. An existing one is swapped with ``stage`` by
    one ``renameat2(RENAME_EXCHANGE)`` (Linux 3.15+ on local filesystems), then the old
    folder, now at the staging name, is deleted: at every moment ``target`` is the whole
    old folder or the whole new one. Where the system cannot swap, ``target`` is renamed
    to ``<stage>.old`` and ``stage`` to ``target``: between those two renames ``target``
    is briefly absent, and a kill there leaves both complete folders next to it.
    Leftovers of a killed run are removed by :func:`remove_stale_stages` on the next run.
    """
    fsync_tree(stage)
    if not target.exists():
        try:
            stage.rename(target)
        except OSError:
            if not target.is_dir():  # not a race with another writer creating the folder
                raise
        else:
            fsync_dir(target.parent)
            kill_point(5)
            return
    carry_over(target, stage, keep)
    with contextlib.suppress(OSError):
        stage.chmod(stat.S_IMODE(target.stat().st_mode))
    if exchange(stage, target):
        old = stage
    else:
        old = stage.with_name(stage.name + ".old")
        target.rename(old)
        try:
            stage.rename(target)
        except BaseException:
            old.rename(target)
            raise
    fsync_dir(target.parent)
    kill_point(4)
    shutil.rmtree(old, ignore_errors=True)
    kill_point(5)


@contextlib.contextmanager
def staging_folder(target: Path) -> Iterator[Path]:
    """A fresh staging folder next to ``target``, removed again if the block fails.

    Creates ``target``'s parent, removes the staging folders of dead runs there
    (:func:`remove_stale_stages`) and yields a new one (:func:`make_stage`); the block
    writes into it and ends with :func:`publish_folder`. On any exception the staging
    folder is deleted and the exception propagates, so ``target`` is left as it was.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_stages(target.parent)
    stage = make_stage(target.parent)
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
