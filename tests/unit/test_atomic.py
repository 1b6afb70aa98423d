"""Staging folders: who owns them, which are stale, and publishing a folder in one step."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulator.report import _atomic


def _named(parent: Path, pid: int, start: int, *, host: str | None = None) -> Path:
    host = _atomic._host_token() if host is None else host
    path = parent / f".jevons-{host}-{_atomic._boot_token()}-{pid}-{start}-abcd1234"
    path.mkdir()
    (path / "summary.csv").write_text("x", encoding="utf-8")
    return path


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_make_stage_names_its_owner(tmp_path: Path) -> None:
    stage = _atomic.make_stage(tmp_path)
    me = os.getpid()
    assert stage.parent == tmp_path
    assert f"-{me}-{_atomic.process_start(me)}-" in stage.name
    assert _atomic.process_start(me) > 0  # Linux: /proc/self/stat is readable
    assert _atomic.stale_stages(tmp_path) == []  # we are alive


def test_stale_stages_are_those_of_dead_or_replaced_owners_only(tmp_path: Path) -> None:
    me, start = os.getpid(), _atomic.process_start(os.getpid())
    live = _named(tmp_path, me, start)
    reused = _named(tmp_path, me, start + 1)  # our pid, but a process started at another time
    dead = _named(tmp_path, _dead_pid(), 12345)
    elsewhere = _named(tmp_path, _dead_pid(), 1, host="00000000")  # another machine's
    parent_pid = os.getppid()
    other_live = _named(tmp_path, parent_pid, _atomic.process_start(parent_pid))
    (tmp_path / ".jevons-notadir").write_text("x", encoding="utf-8")
    assert _atomic.stale_stages(tmp_path) == sorted([reused, dead])
    removed = _atomic.remove_stale_stages(tmp_path)
    assert removed == sorted([reused, dead])
    assert sorted(tmp_path.iterdir()) == sorted(
        [live, elsewhere, other_live, tmp_path / ".jevons-notadir"]
    )


def test_legacy_stages_are_removed_only_when_old(tmp_path: Path) -> None:
    young = tmp_path / ".jevons-ab12cd34"
    old = tmp_path / ".jevons-zz99yy88"
    young.mkdir()
    old.mkdir()
    day_ago = time.time() - _atomic.LEGACY_STAGE_AGE_S - 60
    os.utime(old, (day_ago, day_ago))
    assert _atomic.stale_stages(tmp_path) == [old]


def test_both_halves_of_an_interrupted_fallback_are_kept(tmp_path: Path) -> None:
    dead = _named(tmp_path, _dead_pid(), 7)
    half = dead.with_name(dead.name + ".old")
    half.mkdir()
    assert _atomic.stale_stages(tmp_path) == []
    dead.rename(tmp_path / "out")  # the second rename happened: the .old one is garbage
    assert _atomic.stale_stages(tmp_path) == [half]


@pytest.mark.parametrize("can_swap", [True, False])
def test_publish_folder_replaces_a_folder_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, can_swap: bool
) -> None:
    if not can_swap:  # a system without renameat2(RENAME_EXCHANGE): two renames
        monkeypatch.setattr(_atomic, "exchange", lambda a, b: False)
    target = tmp_path / "out"
    target.mkdir()
    (target / "summary.csv").write_text("old", encoding="utf-8")
    (target / "notes.txt").write_text("mine", encoding="utf-8")
    (target / "mine").mkdir()
    (target / "mine" / "a.txt").write_text("a", encoding="utf-8")
    target.chmod(0o750)
    stage = _atomic.make_stage(tmp_path)
    (stage / "summary.csv").write_text("new", encoding="utf-8")
    _atomic.publish_folder(stage, target, keep=["notes.txt", "mine"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert (target / "summary.csv").read_text(encoding="utf-8") == "new"
    assert (target / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert (target / "mine" / "a.txt").read_text(encoding="utf-8") == "a"
    assert target.stat().st_mode & 0o777 == 0o750


def test_exchange_swaps_two_folders(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a", encoding="utf-8")
    (b / "x").write_text("b", encoding="utf-8")
    assert _atomic.exchange(a, b)  # Linux with a local filesystem
    assert (a / "x").read_text(encoding="utf-8") == "b"
    assert (b / "x").read_text(encoding="utf-8") == "a"
    with pytest.raises(FileNotFoundError):
        _atomic.exchange(a, tmp_path / "missing")
