"""glibc allocator settings of the command line (simulator._malloc)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from simulator import _malloc

ROOT = Path(__file__).parents[2]

# A block's outputs: allocate and touch 20 arrays of 3 MiB (one metric of a 16,384-sample
# block over 24 years, each), free them all; 30 rounds, counting the faults of the last 20.
_FAULTS = """
import resource, sys
import numpy as np
from simulator._malloc import keep_freed_memory
applied = keep_freed_memory() if sys.argv[1] == "tuned" else False
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for i in range(30):
    if i == 10:
        start = faults()
    arrays = [np.empty(3 * 2**20 // 8) for _ in range(20)]
    for a in arrays:
        a.fill(1.0)
    del arrays, a
print(applied, faults() - start)
"""


def _faults(mode: str) -> tuple[bool, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run(
        [sys.executable, "-c", _FAULTS, mode],
        capture_output=True, text=True, check=True, env=env, timeout=60,
    ).stdout.split()  # fmt: skip
    return out[0] == "True", int(out[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is Linux's")
def test_freed_block_memory_is_reused_without_page_faults() -> None:
    # glibc's defaults return the 60 MiB freed at the top of the heap to the kernel (more
    # than twice the largest mmap'd size), so every round faults its pages in afresh
    # (15,360 faults of 4 KiB); tuned, the pages are reused from the second round on.
    applied, tuned = _faults("tuned")
    if not applied:
        pytest.skip("this C library has no glibc mallopt")
    _, default = _faults("default")
    assert default > 20 * 5_000  # a fresh fault per page, nearly every round
    assert tuned < default / 20  # the kernel's own faults (huge pages, say) aside


@pytest.mark.parametrize(
    ("name", "value"), [("MALLOC_TRIM_THRESHOLD_", "131072"), ("JEVONS_MALLOC", "default")]
)
def test_the_users_malloc_environment_wins(
    name: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, value)
    assert _malloc.keep_freed_memory() is False
