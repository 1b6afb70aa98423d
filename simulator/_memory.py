"""How much more memory this process may use: the limits the system really enforces.

``MemAvailable`` in ``/proc/meminfo`` says what the machine has free; a process may be
held to much less by its own address-space limit (``ulimit -v``, ``RLIMIT_AS``) or by the
control group it runs in (a container's ``memory.max`` in cgroup v2,
``memory.limit_in_bytes`` in cgroup v1). :func:`available_memory` is the smallest of the
headrooms that apply.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

__all__ = [
    "address_space_headroom",
    "available_memory",
    "cgroup_headroom",
    "meminfo_available",
]

_PROC = Path("/proc")
_CGROUP_ROOT = Path("/sys/fs/cgroup")
_NO_LIMIT_V1 = 1 << 60
"""cgroup v1 reports "no limit" as a huge number (PAGE_COUNTER_MAX pages); above this is none."""


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii", errors="replace")
    except OSError:
        return None


def meminfo_available(proc: Path = _PROC) -> int | None:
    """Bytes the machine can give a new allocation (``MemAvailable``), if known.

    Parameters
    ----------
    proc : Path, optional
        Mount point of procfs (for tests).

    Returns
    -------
    int or None
        ``MemAvailable`` in bytes; None where ``/proc/meminfo`` is absent or unreadable.
    """
    text = _read(proc / "meminfo")
    if text is None:
        return None
    for line in text.splitlines():
        if line.startswith("MemAvailable:"):
            with contextlib.suppress(ValueError, IndexError):
                return int(line.split()[1]) * 1024
    return None


def address_space_headroom(proc: Path = _PROC) -> int | None:
    """Bytes of address space left under ``RLIMIT_AS`` (``ulimit -v``), if limited.

    Parameters
    ----------
    proc : Path, optional
        Mount point of procfs, to read this process's ``VmSize`` (for tests).

    Returns
    -------
    int or None
        The soft limit less the process's current virtual size; None when unlimited or
        unknown.
    """
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or soft < 0:
        return None
    used = 0
    text = _read(proc / "self" / "status")
    if text is not None:
        for line in text.splitlines():
            if line.startswith("VmSize:"):
                with contextlib.suppress(ValueError, IndexError):
                    used = int(line.split()[1]) * 1024
    return max(int(soft) - used, 0)


def _limit(text: str | None) -> int | None:
    if text is None:
        return None
    value = text.strip()
    if not value or value == "max":
        return None
    try:
        n = int(value)
    except ValueError:
        return None
    return None if n >= _NO_LIMIT_V1 else n


def _usage(text: str | None) -> int:
    try:
        return int((text or "0").strip())
    except ValueError:
        return 0


def _reclaimable(text: str | None, v1: bool) -> int:
    """Inactive page cache of a group (``memory.stat``), which the kernel frees on demand."""
    key = "total_inactive_file" if v1 else "inactive_file"
    for line in (text or "").splitlines():
        name, _, value = line.partition(" ")
        if name == key:
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


def cgroup_headroom(proc: Path = _PROC, root: Path = _CGROUP_ROOT) -> int | None:
    """Bytes left under the memory limits of this process's control groups, if limited.

    Parameters
    ----------
    proc : Path, optional
        Mount point of procfs, to read ``self/cgroup`` (for tests).
    root : Path, optional
        Mount point of the cgroup filesystem (for tests).

    Returns
    -------
    int or None
        The smallest ``limit - usage`` over the process's cgroup and its ancestors:
        ``memory.max - memory.current`` (cgroup v2) and ``memory.limit_in_bytes -
        memory.usage_in_bytes`` (cgroup v1); None when no limit applies or none can be
        read.

    Notes
    -----
    A group's usage counts its page cache. The inactive part of it (``inactive_file`` in
    ``memory.stat``, ``total_inactive_file`` in cgroup v1), which the kernel frees before it
    fails an allocation, is not counted as used: the "working set" that container tools
    compare with the limit.
    """
    text = _read(proc / "self" / "cgroup")
    if text is None:
        return None
    best: int | None = None
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, group = parts
        if controllers == "":  # cgroup v2 (the unified hierarchy; under unified/ if hybrid)
            base = root if (root / "cgroup.controllers").exists() else root / "unified"
            limit_name, usage_name = "memory.max", "memory.current"
        elif "memory" in controllers.split(","):  # cgroup v1, the memory controller
            base, limit_name, usage_name = (
                root / "memory",
                "memory.limit_in_bytes",
                "memory.usage_in_bytes",
            )
        else:
            continue
        if not base.is_dir():
            continue
        folder = base / group.strip("/")
        while True:  # a parent's limit binds its children too
            limit = _limit(_read(folder / limit_name))
            if limit is not None:
                used = _usage(_read(folder / usage_name))
                used -= _reclaimable(_read(folder / "memory.stat"), v1=base.name == "memory")
                headroom = max(limit - max(used, 0), 0)
                best = headroom if best is None else min(best, headroom)
            if folder == base or base not in folder.parents:
                break
            folder = folder.parent
    return best


def available_memory() -> int | None:
    """Bytes of memory this process can still allocate, as far as the system says.

    Returns
    -------
    int or None
        The smallest of :func:`meminfo_available`, :func:`address_space_headroom` and
        :func:`cgroup_headroom`; None if none of them is known (not Linux, no limits).
    """
    known = [
        v
        for v in (meminfo_available(), address_space_headroom(), cgroup_headroom())
        if v is not None
    ]
    return min(known) if known else None
