"""glibc allocator settings for block-by-block runs: keep freed memory for the next block.

A run computes its samples in blocks; each block allocates the model's outputs and
temporaries (tens of MB per worker thread) and frees them when the block is summarized.
glibc's defaults hand memory back to the kernel as soon as about twice the largest recent
``mmap``'d size sits free at the top of the heap (``M_TRIM_THRESHOLD``), and serve every
allocation above a dynamic threshold with a fresh ``mmap``: so the next block touches new
pages, one page fault per 4 KiB, and on the project's virtual machines memory returned to
the host is slow to touch again (``PERF-NOTES.md``: ~0.6 GB/s instead of ~9.5 GB/s).
Measured on one block of ``deepseek.yaml`` (``benchmarks/bench_model.py``, thread CPU time):
the model stage took 48 ms per block with glibc's defaults and 31 to 38 ms with the settings
below; a whole ``jevons run -n 300000`` halved its system time (1.23 s to 0.6 s).

:func:`keep_freed_memory` raises both thresholds for the process. The command line calls it
(a short-lived process whose memory is bounded by its blocks in flight); a long-lived Python
process that runs many simulations may prefer glibc's defaults, which return memory sooner,
and can call it itself if it wants the speed. It does nothing off glibc, nothing where the
user has set ``MALLOC_TRIM_THRESHOLD_`` or ``MALLOC_MMAP_THRESHOLD_`` (their choice wins), and
nothing with ``JEVONS_MALLOC=default`` (glibc's defaults; ``benchmarks/bench_malloc.py``
measures a run both ways).
"""

from __future__ import annotations

import ctypes
import os
import sys

__all__ = ["MMAP_THRESHOLD_BYTES", "OPT_OUT", "TRIM_THRESHOLD_BYTES", "keep_freed_memory"]

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
"""``mallopt`` parameter numbers, from glibc's ``malloc.h``."""

MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024
"""Allocations below this come from the heap and are reused, not ``mmap``'d afresh [B]
(glibc's own ceiling for its dynamic threshold on 64-bit, ``DEFAULT_MMAP_THRESHOLD_MAX``)."""

TRIM_THRESHOLD_BYTES = 1024 * 1024 * 1024
"""Free memory kept at the top of a heap before it is returned to the kernel [B]."""

_ENV = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_")
OPT_OUT = "JEVONS_MALLOC"
"""Set to ``default`` to keep glibc's defaults."""


def keep_freed_memory() -> bool:
    """Make glibc keep freed block memory for reuse instead of returning it to the kernel.

    Returns
    -------
    bool
        Whether the settings were applied: ``False`` off Linux, without glibc's
        ``mallopt``, where ``MALLOC_TRIM_THRESHOLD_`` / ``MALLOC_MMAP_THRESHOLD_`` is set in
        the environment, or with ``JEVONS_MALLOC=default``.
    """
    if not sys.platform.startswith("linux") or any(name in os.environ for name in _ENV):
        return False
    if os.environ.get(OPT_OUT) == "default":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (or no symbol table to look it up in)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    mmap_set: int = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    trim_set: int = mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
    return mmap_set == 1 and trim_set == 1
