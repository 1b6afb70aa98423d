"""The memory a run may use: free memory, ``ulimit -v`` and cgroup v1/v2 limits."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from simulator import _memory, engine
from simulator.errors import SimulationError

GIB = 1 << 30


def _tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="ascii")


def test_meminfo_available_reads_kib(tmp_path: Path) -> None:
    _tree(tmp_path, {"meminfo": "MemTotal:  100 kB\nMemAvailable:   2048 kB\n"})
    assert _memory.meminfo_available(tmp_path) == 2048 * 1024
    assert _memory.meminfo_available(tmp_path / "none") is None


def test_cgroup_v2_limit_less_usage_and_the_tightest_ancestor(tmp_path: Path) -> None:
    proc, cg = tmp_path / "proc", tmp_path / "cg"
    _tree(proc, {"self/cgroup": "0::/user.slice/job\n"})
    _tree(
        cg,
        {
            "cgroup.controllers": "memory\n",
            "user.slice/memory.max": f"{4 * GIB}\n",
            "user.slice/memory.current": f"{3 * GIB}\n",  # the parent binds: 1 GiB left
            "user.slice/job/memory.max": f"{2 * GIB}\n",
            "user.slice/job/memory.current": f"{GIB // 2}\n",
        },
    )
    assert _memory.cgroup_headroom(proc, cg) == GIB
    (cg / "user.slice/memory.max").write_text("max\n", encoding="ascii")
    assert _memory.cgroup_headroom(proc, cg) == 2 * GIB - GIB // 2


def test_cgroup_inactive_page_cache_is_not_counted_as_used(tmp_path: Path) -> None:
    proc, cg = tmp_path / "proc", tmp_path / "cg"
    _tree(proc, {"self/cgroup": "0::/job\n"})
    _tree(
        cg,
        {
            "cgroup.controllers": "memory\n",
            "job/memory.max": f"{4 * GIB}\n",
            "job/memory.current": f"{3 * GIB}\n",  # of which 2 GiB inactive file cache
            "job/memory.stat": f"anon 123\nactive_file 5\ninactive_file {2 * GIB}\n",
        },
    )
    assert _memory.cgroup_headroom(proc, cg) == 3 * GIB
    # cgroup v1 names it total_inactive_file
    _tree(proc, {"self/cgroup": "7:memory:/job\n"})
    _tree(
        cg,
        {
            "memory/job/memory.limit_in_bytes": f"{4 * GIB}\n",
            "memory/job/memory.usage_in_bytes": f"{3 * GIB}\n",
            "memory/job/memory.stat": f"inactive_file 1\ntotal_inactive_file {GIB}\n",
        },
    )
    assert _memory.cgroup_headroom(proc, cg) == 2 * GIB


def test_cgroup_v2_without_limit_is_none(tmp_path: Path) -> None:
    proc, cg = tmp_path / "proc", tmp_path / "cg"
    _tree(proc, {"self/cgroup": "0::/\n"})
    _tree(cg, {"cgroup.controllers": "memory\n", "memory.max": "max\n"})
    assert _memory.cgroup_headroom(proc, cg) is None


def test_cgroup_v1_and_hybrid(tmp_path: Path) -> None:
    proc, cg = tmp_path / "proc", tmp_path / "cg"
    # hybrid: v1 memory controller, v2 mounted under unified/ without a limit
    _tree(proc, {"self/cgroup": "4:memory:/docker/abc\n3:cpu:/\n0::/\n"})
    _tree(
        cg,
        {
            "memory/docker/abc/memory.limit_in_bytes": f"{3 * GIB}\n",
            "memory/docker/abc/memory.usage_in_bytes": f"{GIB}\n",
            "memory/memory.limit_in_bytes": "9223372036854771712\n",  # v1's "no limit"
            "memory/memory.usage_in_bytes": f"{5 * GIB}\n",
            "unified/cgroup.controllers": "memory\n",
        },
    )
    assert _memory.cgroup_headroom(proc, cg) == 2 * GIB


def test_cgroup_v1_group_not_visible_walks_up_to_the_mount(tmp_path: Path) -> None:
    # inside a container the group path of /proc/self/cgroup is not under the mount
    proc, cg = tmp_path / "proc", tmp_path / "cg"
    _tree(proc, {"self/cgroup": "4:memory:/process_api/xyz\n"})
    _tree(
        cg,
        {
            "memory/memory.limit_in_bytes": f"{GIB}\n",
            "memory/memory.usage_in_bytes": f"{GIB // 4}\n",
        },
    )
    assert _memory.cgroup_headroom(proc, cg) == GIB - GIB // 4


def test_address_space_headroom_under_ulimit_v() -> None:
    # a real RLIMIT_AS in a child process: the headroom is the limit less its VmSize
    code = textwrap.dedent(
        """
        import resource
        from simulator import _memory
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, resource.RLIM_INFINITY))
        print(_memory.address_space_headroom(), _memory.available_memory())
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    headroom, available = int(out[0]), int(out[1])
    assert 0 < headroom < 2 << 30
    assert headroom > (2 << 30) - (1 << 30)  # a bare interpreter uses far less than 1 GiB
    assert available <= headroom


def test_engine_refuses_what_the_limits_do_not_allow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_memory, "address_space_headroom", lambda: GIB)
    monkeypatch.setattr(_memory, "meminfo_available", lambda: 100 * GIB)
    monkeypatch.setattr(_memory, "cgroup_headroom", lambda: None)
    assert engine._available_memory() == GIB
    with pytest.raises(SimulationError, match=r"more than the 1\.1 GB available"):
        engine._check_memory(1_000_000, 20, 12)
