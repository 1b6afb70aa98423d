"""The Dask executor's merge, without Dask: an in-process stand-in for the cluster.

The reference is the local executor (:func:`simulator.engine.simulate_summary` on threads)
on the same seed, samples and block size: the summary table and the answers must be equal bit
for bit, since the per-block moments are merged in block order and histograms and counts are
integer sums. The stand-in sends every task's arguments and result through ``pickle``, as a
cluster would. The tests with a real ``LocalCluster`` are in ``test_dask_executor.py``.
"""

from __future__ import annotations

import pickle
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from simulator.cli import app
from simulator.engine import simulate_summary
from simulator.errors import EXIT_USAGE, SimulationError
from simulator.executors import DASK_EXTRA, DaskExecutor, ExecutorUnavailableError
from simulator.io import load_scenario
from simulator.schema import Scenario

SCENARIOS = Path(__file__).parents[2] / "scenarios"
DEEPSEEK = str(SCENARIOS / "deepseek.yaml")


class InProcess(DaskExecutor):
    """A DaskExecutor whose 'cluster' is this process: tasks run in order, through pickle."""

    def __init__(self, blocks_per_task: int) -> None:  # no client, no cluster
        self.blocks_per_task = blocks_per_task
        self.retries = 0
        self.tasks = 0

    def threads(self) -> int:
        return 2

    def ordered_map(
        self, fn: Callable[..., Any], items: Sequence[Any], *args: Any
    ) -> Iterator[Any]:
        for item in items:
            self.tasks += 1
            task, arg, rest = pickle.loads(pickle.dumps((fn, item, args)))
            out = pickle.loads(pickle.dumps(task(arg, *rest)))
            if type(out).__name__ == "_Failed":
                raise SimulationError(out.message)
            yield out

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def deepseek() -> Scenario:
    return load_scenario(SCENARIOS / "deepseek.yaml")


@pytest.mark.parametrize("budget", [0, None], ids=["streamed", "exact"])
@pytest.mark.parametrize("per_task", [1, 3])
def test_grouped_blocks_give_the_local_table_bit_for_bit(
    deepseek: Scenario, budget: int | None, per_task: int
) -> None:
    # 7 blocks of 200 samples (the last one short): groups of 3 are 3, 3, 1.
    local = simulate_summary(
        deepseek, 1_350, rng=11, block_size=200, workers=2, exact_budget=budget
    )
    ex = InProcess(per_task)
    remote = simulate_summary(
        deepseek, 1_350, rng=11, block_size=200, exact_budget=budget, executor=ex
    )
    assert ex.tasks == -(-7 // per_task)
    assert remote.exact is local.exact is (budget is None)
    assert remote.summary.to_records() == local.summary.to_records()
    assert remote.answers == local.answers
    assert remote.n_samples == local.n_samples == 1_350


@pytest.mark.parametrize("budget", [0, None], ids=["streamed", "exact"])
def test_sobol_replicate_errors_are_the_local_ones_bit_for_bit(
    deepseek: Scenario, budget: int | None
) -> None:
    # sobol keeps per-replicate sums (floats, merged block by block like the moments) and
    # per-replicate question hits: groups of 3 blocks must not change their rounding.
    kwargs: dict[str, Any] = {"rng": 5, "block_size": 128, "method": "sobol"}
    local = simulate_summary(deepseek, 1_024, workers=2, exact_budget=budget, **kwargs)
    remote = simulate_summary(
        deepseek, 1_024, exact_budget=budget, executor=InProcess(3), **kwargs
    )
    assert remote.summary.to_records() == local.summary.to_records()
    assert remote.answers == local.answers
    se = [r for r in local.summary.to_records() if r["statistic"] == "se_mean"]
    assert se  # the replicate standard errors are there to compare


def test_saved_samples_are_those_of_a_local_run(deepseek: Scenario, tmp_path: Path) -> None:
    simulate_summary(
        deepseek, 500, rng=3, block_size=128, exact_budget=0, save_samples=tmp_path / "a.npz"
    )
    simulate_summary(
        deepseek,
        500,
        rng=3,
        block_size=128,
        exact_budget=0,
        save_samples=tmp_path / "b.npz",
        executor=InProcess(2),
    )
    with np.load(tmp_path / "a.npz") as a, np.load(tmp_path / "b.npz") as b:
        assert sorted(a.files) == sorted(b.files)
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_an_overflow_on_the_cluster_is_a_simulation_error(deepseek: Scenario) -> None:
    bad = load_scenario(SCENARIOS / "deepseek.yaml", ["chips.pue=1e300"])
    with pytest.raises(SimulationError, match=r"chips\.pue is 1e\+300 in that sample"):
        simulate_summary(bad, 300, rng=1, block_size=128, executor=InProcess(1))


def test_executor_arguments_are_checked(deepseek: Scenario) -> None:
    with pytest.raises(ValueError, match="executor must be 'local', 'dask' or a DaskExecutor"):
        simulate_summary(deepseek, 10, executor="ray")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="give executor='dask' too"):
        simulate_summary(deepseek, 10, scheduler="tcp://127.0.0.1:8786")


# --- without Dask installed --------------------------------------------------------------------


@pytest.fixture
def no_dask(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import distributed`` fail, as where the extra is not installed."""
    monkeypatch.setitem(sys.modules, "distributed", None)


@pytest.mark.usefixtures("no_dask")
def test_missing_dask_names_the_extra(deepseek: Scenario) -> None:
    with pytest.raises(ExecutorUnavailableError, match=r'pip install "jevons\[dask\]"'):
        simulate_summary(deepseek, 10, executor="dask")


@pytest.mark.usefixtures("no_dask")
@pytest.mark.parametrize("command", ["run", "batch"])
def test_cli_without_dask_says_which_extra_and_exits_2(command: str, tmp_path: Path) -> None:
    args = [command, DEEPSEEK, "-n", "10", "--executor", "dask"]
    if command == "batch":
        args += ["--out", str(tmp_path / "b")]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == EXIT_USAGE, r.output
    assert DASK_EXTRA in r.stderr
    assert "Traceback" not in r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)


def test_scheduler_with_the_local_executor_is_a_usage_error() -> None:
    r = CliRunner().invoke(
        app, ["run", DEEPSEEK, "-n", "10", "--executor", "local", "--scheduler", "tcp://x:1"]
    )
    assert r.exit_code == EXIT_USAGE
    assert "--scheduler" in r.stderr
    assert "needs --executor dask" in r.stderr


def test_workers_with_a_scheduler_is_a_usage_error() -> None:
    r = CliRunner().invoke(
        app, ["run", DEEPSEEK, "-n", "10", "--scheduler", "tcp://x:1", "--workers", "2"]
    )
    assert r.exit_code == EXIT_USAGE
    assert "--workers is for the local executor" in r.stderr


def test_help_names_the_executor_and_the_scheduler_variable() -> None:
    for command in ("run", "batch"):
        text = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"}).stdout
        assert "--executor" in text
        assert "--scheduler" in text
        assert "JEVONS_SCHEDULER" in text
