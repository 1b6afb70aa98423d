"""Under a real memory limit a run stops with the documented message, never a traceback.

The CLI runs in a subprocess whose address space is limited with ``resource.setrlimit``
(what ``ulimit -v`` does) before it starts.
"""

from __future__ import annotations

import importlib
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

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


def test_simulate_under_ulimit_v_is_refused_before_the_work() -> None:
    # simulate() keeps every sample: 1,000,000 samples hold about 6 GB of results (9.1 GB
    # with the engine's margin), more than the 3 GiB limit, less than a workstation's free
    # memory, which is all the first release looked at (it then died with a MemoryError).
    code = (
        "from simulator import load_scenario, simulate, SimulationError\n"
        f"sc = load_scenario({DEEPSEEK!r})\n"
        "try:\n    simulate(sc, 1_000_000, rng=1)\n"
        "except SimulationError as exc:\n    print(exc)\n"
    )
    r = _limited("-c", code)
    assert r.returncode == 0, r.stderr
    assert "1,000,000 samples need about 9.1 GB" in r.stdout
    assert "simulate_summary()" in r.stdout


def test_run_under_ulimit_v_streams_instead_of_keeping_samples() -> None:
    # `jevons run` summarizes block by block: under the same limit it keeps no samples
    # beyond a quarter of what the limit leaves (the exact budget), and finishes.
    r = _limited("-m", "simulator", "run", DEEPSEEK, "-n", "200000", "--seed", "1")
    assert r.returncode == 0, r.stderr
    assert "quantiles: streamed" in r.stderr


def test_memory_error_during_a_run_is_a_message() -> None:
    # With the memory checks switched off the allocation itself fails under the limit (the
    # run is told it may keep 2,000,000 samples, about 8 GB): the MemoryError must still
    # reach the user as the documented message and exit code.
    code = (
        "import sys; import simulator.engine as e; e._available_memory = lambda: None; "
        "e.EXACT_BUDGET_BYTES = 1 << 40; "
        "from simulator.cli import main; sys.argv = ['jevons', *sys.argv[1:]]; main()"
    )
    r = _limited("-c", code, "run", DEEPSEEK, "-n", "2000000", "--seed", "1")
    assert r.returncode == EXIT_SCENARIO_ERROR, r.stderr
    assert "Traceback" not in r.stderr
    assert f"{DEEPSEEK}: {OUT_OF_MEMORY}" in r.stderr


@pytest.mark.parametrize(
    "where",
    [("simulator.engine", "simulate_summary"), ("simulator.report.writers", "write_outputs")],
)
def test_memory_error_anywhere_in_run_is_exit_1(
    where: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def exhausted(*args: object, **kwargs: object) -> None:
        raise MemoryError

    # the CLI imports the library inside the command, so patch where it is defined
    monkeypatch.setattr(importlib.import_module(where[0]), where[1], exhausted)
    r = CliRunner().invoke(app, ["run", DEEPSEEK, "-n", "50", "--out", str(tmp_path / "o")])
    assert r.exit_code == EXIT_SCENARIO_ERROR
    assert f"{DEEPSEEK}: {OUT_OF_MEMORY}" in r.stderr
    assert r.exception is None or isinstance(r.exception, SystemExit)
