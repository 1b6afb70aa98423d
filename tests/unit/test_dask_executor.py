"""The Dask executor on a real ``LocalCluster``: the same numbers as a local run, even when a
worker dies mid-run.

One cluster serves the module: two worker processes of one thread each (processes, not
threads, so that a worker can be killed without killing the tests; two, so that one survives),
no dashboard. The reference is always the local executor on the same seed, samples and block
size: tables and answers equal bit for bit (``to_records`` compares every float with ``==``).
Skipped, saying why, where Dask is not installed.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

distributed = pytest.importorskip(
    "distributed", reason='Dask is not installed (pip install "jevons[dask]")'
)
import cloudpickle

from simulator.cli import app
from simulator.engine import answer_questions, simulate, simulate_summary
from simulator.executors import (
    LOCAL_SCHEDULER_OPTIONS,
    SCHEDULER_ENV,
    DaskExecutor,
    ExecutorUnavailableError,
    _fast_malloc,
    _slow_trim,
    _trim_threshold,
)
from simulator.io import load_scenario
from simulator.schema import Scenario
from simulator.summary import summarize

SCENARIOS = Path(__file__).parents[2] / "scenarios"
DEEPSEEK = str(SCENARIOS / "deepseek.yaml")

# The worker plugin below is defined here: send it to the workers by value, not by name.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with (
        _fast_malloc(),  # as DaskExecutor starts its own: faster workers (docs/scale-out.md)
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            scheduler_kwargs=LOCAL_SCHEDULER_OPTIONS,
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


def test_workers_started_by_jevons_keep_freed_memory(client: Any) -> None:
    # the environment glibc reads at start-up: jevons' own thresholds (simulator._malloc),
    # not Dask's MALLOC_TRIM_THRESHOLD_=65536, which faults every block's arrays afresh
    from simulator._malloc import TRIM_THRESHOLD_BYTES

    values = set(client.run(_trim_threshold).values())
    assert values == {str(TRIM_THRESHOLD_BYTES)}
    assert not any(_slow_trim(v) for v in values)


@pytest.mark.parametrize(
    ("value", "slow"), [(None, False), ("65536", True), ("1073741824", False), ("x", True)]
)
def test_which_trim_thresholds_are_noted_as_slow(value: str | None, slow: bool) -> None:
    assert _slow_trim(value) is slow


@pytest.fixture(scope="module")
def deepseek() -> Scenario:
    return load_scenario(SCENARIOS / "deepseek.yaml")


@pytest.mark.parametrize("budget", [0, None], ids=["streamed", "exact"])
def test_the_cluster_gives_the_local_table_bit_for_bit(
    client: Any, deepseek: Scenario, budget: int | None
) -> None:
    local = simulate_summary(deepseek, 1_500, rng=5, block_size=300, exact_budget=budget)
    ex = DaskExecutor(client=client, blocks_per_task=2)
    remote = simulate_summary(
        deepseek, 1_500, rng=5, block_size=300, exact_budget=budget, executor=ex
    )
    assert remote.exact is local.exact is (budget is None)
    assert remote.summary.to_records() == local.summary.to_records()
    assert remote.answers == local.answers
    assert remote.timings["model_s"] > 0  # the workers' times come back


class KillOnSecondTask(distributed.WorkerPlugin):  # type: ignore[misc,name-defined]
    """Kill the worker process as it starts its second task, once per marker file."""

    def __init__(self, marker: str) -> None:
        self.marker = marker
        self.started = 0

    def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
        if finish != "executing":
            return
        self.started += 1
        if self.started == 2 and not os.path.exists(self.marker):  # noqa: PTH110
            Path(self.marker).touch()
            os._exit(1)


def test_a_worker_killed_mid_run_changes_and_loses_nothing(
    client: Any, deepseek: Scenario, tmp_path: Path
) -> None:
    marker = tmp_path / "killed"
    local = simulate_summary(deepseek, 2_400, rng=9, block_size=300, exact_budget=0)
    client.register_plugin(KillOnSecondTask(str(marker)), name="kill-on-second-task")
    try:
        ex = DaskExecutor(client=client, blocks_per_task=1, retries=0)
        remote = simulate_summary(
            deepseek, 2_400, rng=9, block_size=300, exact_budget=0, executor=ex
        )
    finally:
        client.unregister_worker_plugin("kill-on-second-task")
    assert marker.exists()  # a worker did die, after it had computed a block
    assert remote.n_samples == 2_400
    assert remote.summary.to_records() == local.summary.to_records()
    assert remote.answers == local.answers
    client.wait_for_workers(2, timeout=60)  # the nanny restarted it, for the next tests


def _json(args: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    r = CliRunner().invoke(app, args, env=env)
    assert r.exit_code == 0, r.output
    out: dict[str, Any] = json.loads(r.stdout)
    return out


def test_cli_run_on_the_cluster_prints_the_local_numbers(client: Any) -> None:
    args = ["run", DEEPSEEK, "-n", "900", "--seed", "4", "--json", "--exact-memory", "0"]
    local = _json(args)
    address = client.scheduler.address
    assert _json([*args, "--scheduler", address]) == local
    assert _json([*args, "--executor", "dask"], env={SCHEDULER_ENV: address}) == local


def test_cli_batch_on_the_cluster_writes_the_local_results(client: Any, tmp_path: Path) -> None:
    # The reference is what a local batch worker computes (batch._run_job): simulate, then
    # summarize and answer, in this process (a local batch would add its charts' time).
    sc = load_scenario(DEEPSEEK)
    result = simulate(sc, 200, rng=2, method=sc.sampling.method)
    variants = {v: result.variant(v) for v in ("with_shocks", "counterfactual", "impact")}
    summarize(variants, result.years, scenario="deepseek").to_csv(tmp_path / "local.csv")
    answers = [a.to_dict() for a in answer_questions(sc, result)]

    # Two scenarios spread over the cluster.
    args = ["batch", DEEPSEEK, str(SCENARIOS / "bull.yaml"), "-n", "200", "--seed", "2"]
    args += ["--out", str(tmp_path / "dask"), "--scheduler", client.scheduler.address]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "executor: Dask at" in r.stderr
    assert "2 run, 0 up to date, 0 failed" in r.stderr
    folder = tmp_path / "dask" / "deepseek"
    assert (folder / "summary.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    assert json.loads((folder / "summary.json").read_text())["questions"] == answers
    assert (tmp_path / "dask" / "bull" / "manifest.json").is_file()
    # Resumable as a local batch: the same content hashes, so a rerun skips both.
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "0 run, 2 up to date" in r.stderr


def test_an_unreachable_scheduler_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("simulator.executors.CONNECT_TIMEOUT_S", 1.0)
    r = CliRunner().invoke(app, ["run", DEEPSEEK, "-n", "10", "--scheduler", "tcp://127.0.0.1:9"])
    assert r.exit_code == 2, r.output
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in r.stderr
    assert "Traceback" not in r.output


def test_workers_with_other_versions_are_refused(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only this process's versions are patched: the workers report their real ones.
    monkeypatch.setattr(
        "simulator.engine.package_versions", lambda: {"jevons": "0.0.0", "numpy": "1.0"}
    )
    with pytest.raises(ExecutorUnavailableError, match="run other versions") as info:
        DaskExecutor(client=client)
    assert "jevons" in str(info.value)
    assert "(here 0.0.0)" in str(info.value)


def test_the_cluster_jevons_starts_leaves_port_8787_alone() -> None:
    # distributed's default HTTP port is 8787; with it held (another cluster, a notebook)
    # the scheduler warned "Port 8787 is already in use" (an error under this suite's
    # filterwarnings, and noise in a user's terminal): jevons' own cluster uses a free port
    with contextlib.ExitStack() as stack:
        holder = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
        try:
            holder.bind(("0.0.0.0", 8787))
            holder.listen()
        except OSError:
            pass  # already held by something else: the case under test all the same
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ex = stack.enter_context(DaskExecutor(n_workers=1))
        assert ex.started_local
        port = ex.client.scheduler_info()["services"]["dashboard"]
        assert port != 8787
