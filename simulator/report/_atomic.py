"""Atomic file writing: write to a temporary name in the destination folder, then rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_write", "current_umask"]


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
