"""Under a real memory limit a run stops with the documented message, never a traceback.

The CLI runs in a subprocess whose address space is limited with ``resource.setrlimit``
(what ``ulimit -v`` does) before it starts.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulator import cli
from simulator.cli import OUT_OF_MEMORY, app
from simulator.errors import EXIT_SCENARIO_ERROR

ROOT = Path(__file__).parents[2]
DEEPSEEK = str(ROOT / "scenarios" / "deepseek.yaml")
LIMIT = 3 << 30
"""Address-space limit of the child process: enough to start, not for 10^6 samples. [B]"""


def _limit_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


def _limited(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, *args],
        preexec_fn=_limit_address_space,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_run_under_ulimit_v_is_refused_before_the_work() -> None:
    # 1,000,000 samples hold about 6 GB of results (9.1 GB with the engine's margin): more
    # than the 3 GiB limit, less than a workstation's free memory, which is all the first
    # release looked at (it then died with a MemoryError traceback).
    r = _limited("-m", "simulator", "run", DEEPSEEK, "-n", "1000000", "--seed", "1")
    assert r.returncode == EXIT_SCENARIO_ERROR, r.stderr
    assert "Traceback" not in r.stderr
    assert "1,000,000 samples need about 9.1 GB" in r.stderr
    assert "use fewer samples" in r.stderr


def test_memory_error_during_a_run_is_a_message() -> None:
    # With the pre-run check switched off the allocation itself fails under the limit:
    # the MemoryError must still reach the user as the documented message and exit code.
    code = (
        "import sys; import simulator.engine as e; e._check_memory = lambda *a: None; "
        "from simulator.cli import main; sys.argv = ['jevons', *sys.argv[1:]]; main()"
    )
    r = _limited("-c", code, "run", DEEPSEEK, "-n", "2000000", "--seed", "1")
    assert r.returncode == EXIT_SCENARIO_ERROR, r.stderr
    assert "Traceback" not in r.stderr
    assert f"{DEEPSEEK}: {OUT_OF_MEMORY}" in r.stderr


@pytest.mark.parametrize("where", ["simulate", "write_outputs"])
def test_memory_error_anywhere_in_run_is_exit_1(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def exhausted(*args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(cli, where, exhausted)
    r = CliRunner().invoke(app, ["run", DEEPSEEK, "-n", "50", "--out", str(tmp_path / "o")])
    assert r.exit_code == EXIT_SCENARIO_ERROR
    assert f"{DEEPSEEK}: {OUT_OF_MEMORY}" in r.stderr
    assert r.exception is None or isinstance(r.exception, SystemExit)
