"""A run folder is always one complete run, whatever moment the process is killed at.

``jevons run --out DIR`` is run in a subprocess and killed with SIGKILL at each step of the
publication (the test hook ``JEVONS_TEST_KILL_AT_STEP``, see ``simulator.report._atomic``);
each time ``DIR`` must be either the previous complete run or the new complete run, checked
file by file against its own manifest's sha256 hashes, and the next run must remove the
staging folders the killed runs left, but never one of a live process.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from simulator.report import _atomic
from simulator.report._atomic import KILL_AT_STEP_ENV, STAGE_PREFIX

ROOT = Path(__file__).parents[2]
DEEPSEEK = str(ROOT / "scenarios" / "deepseek.yaml")
OLD_SEED, NEW_SEED = 1, 2


def _run(out: Path, seed: int, kill_at: int | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    env.pop(KILL_AT_STEP_ENV, None)
    if kill_at is not None:
        env[KILL_AT_STEP_ENV] = str(kill_at)
    cmd = [sys.executable, "-m", "simulator", "run", DEEPSEEK, "-n", "40"]
    cmd += ["--seed", str(seed), "--out", str(out), "--save-samples"]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)


def _complete_run_seed(folder: Path) -> int:
    """The seed of the one complete run ``folder`` holds; fails if it is not one."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    listed = manifest["files"]
    assert set(listed) == {p.name for p in folder.iterdir()} - {"manifest.json"}
    for name, entry in listed.items():
        digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        assert digest == entry["sha256"], f"{name} is not the file the manifest lists"
    seed = int(manifest["seed"])
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["metadata"]["seed"] == seed
    return seed


def _stages(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(STAGE_PREFIX))


@pytest.fixture(scope="module")
def old_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("template") / "out"
    done = _run(out, OLD_SEED)
    assert done.returncode == 0, done.stderr
    assert _complete_run_seed(out) == OLD_SEED
    return out


def test_kill_at_every_publication_step_leaves_one_complete_run(
    old_run: Path, tmp_path: Path
) -> None:
    # (step, whether DIR held a previous run); the new-folder case has no step 4.
    cases = [(n, True) for n in (1, 2, 3, 4, 5)] + [(n, False) for n in (3, 5)]
    parents = {
        case: tmp_path / f"step{case[0]}-{'replace' if case[1] else 'new'}" for case in cases
    }
    for (_, replace), parent in parents.items():
        parent.mkdir()
        if replace:
            shutil.copytree(old_run, parent / "out")

    def kill(case: tuple[int, bool]) -> subprocess.CompletedProcess[str]:
        return _run(parents[case] / "out", NEW_SEED, kill_at=case[0])

    with ThreadPoolExecutor(max_workers=2) as pool:
        done = dict(zip(cases, pool.map(kill, cases), strict=True))

    leftovers = tmp_path / "next-run"
    leftovers.mkdir()
    for (step, replace), proc in done.items():
        assert proc.returncode == -signal.SIGKILL, (step, replace, proc.stderr)
        assert "Traceback" not in proc.stderr
        out, parent = parents[step, replace] / "out", parents[step, replace]
        if step <= 3:  # killed before publication: the previous run, or nothing
            if replace:
                assert _complete_run_seed(out) == OLD_SEED
            else:
                assert not out.exists()
        else:
            assert _complete_run_seed(out) == NEW_SEED
        stages = _stages(parent)
        # the killed run left its staging folder (before step 5), nothing else
        assert len(stages) == (0 if step == 5 else 1), (step, replace, stages)
        for name in stages:
            (parent / name).rename(leftovers / name)

    # The next run in that folder (replacing a run, next to the user's own file) removes
    # the dead runs' staging folders, and not a live one.
    live = leftovers / (_atomic.make_stage(leftovers).name)
    assert len(_stages(leftovers)) == 5 + 1  # steps 1-4 replacing, 3 new; ours
    shutil.copytree(old_run, leftovers / "out")
    (leftovers / "out" / "notes.txt").write_text("mine", encoding="utf-8")
    proc = _run(leftovers / "out", NEW_SEED)
    assert proc.returncode == 0, proc.stderr
    assert _stages(leftovers) == [live.name]
    assert (leftovers / "out" / "notes.txt").read_text(encoding="utf-8") == "mine"
    (leftovers / "out" / "notes.txt").unlink()
    assert _complete_run_seed(leftovers / "out") == NEW_SEED
