"""Blocks computed in forked worker processes (simulator._fork): order, failures, Ctrl-C.

Every expected value is set by the test itself (squares of the indices, the exceptions the
work raises); the engine's numbers are compared with those of one worker on threads.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import warnings
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from simulator import _fork, engine
from simulator._fork import FORK_ENV, ForkedMap, WorkerLostError
from simulator.engine import simulate_summary
from simulator.errors import SimulationError
from simulator.io import load_scenario
from simulator.result import RunSummary
from simulator.schema import Scenario
from tests.unit.test_forked import no_children_left  # noqa: F401 - a fixture

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux only"),
    pytest.mark.usefixtures("no_children_left"),  # no test leaves a child process behind
]

SCENARIOS = Path(__file__).parents[2] / "scenarios"


@pytest.fixture(autouse=True)
def _forget_dask(monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``distributed`` imported (by the Dask tests before these, in one pytest session)
    nothing forks; no client of theirs is left running by now."""
    monkeypatch.delitem(sys.modules, "distributed", raising=False)
    monkeypatch.delenv(FORK_ENV, raising=False)


def _counted() -> list[int]:
    """What a child did, as its final: the indices it computed (this process's copy)."""
    return list(_DONE)


_DONE: list[int] = []


def _square(i: int) -> int:
    _DONE.append(i)
    if i % 7 == 0:
        time.sleep(0.01)  # uneven work: results arrive out of order
    return i * i


def test_results_come_in_index_order_and_each_index_is_computed_once():
    pool = ForkedMap(_square, 60, 3, final=_counted)
    assert list(pool) == [i * i for i in range(60)]
    assert len(pool.finals) == 3  # one per child
    assert sorted(i for done in pool.finals for i in done) == list(range(60))
    assert _DONE == []  # the work ran in the children, not here


def test_more_indices_than_a_default_pipe_holds():
    count = 20_000  # 80 kB of indices: above the 64 kB a pipe holds by default
    if not ForkedMap.possible(count):
        pytest.skip("this system cannot enlarge a pipe")
    assert sum(ForkedMap(int, count, 2, final=lambda: None)) == sum(range(count))


def _fail_at(folder: Path, bad: set[int], slow: int, i: int) -> int:
    if i == slow:
        time.sleep(0.3)
    if i in bad:
        (folder / str(i)).touch()
        msg = f"block {i} overflowed"
        raise SimulationError(msg)
    return i


def test_the_first_failure_in_index_order_is_raised_after_the_results_before_it(
    tmp_path: Path,
) -> None:
    # index 5 fails late (slow), index 9 fails at once: 5 is reported, as one thread would
    got: list[int] = []
    pool = ForkedMap(partial(_fail_at, tmp_path, {5, 9}, 5), 40, 2, final=lambda: None)
    with pytest.raises(SimulationError, match="block 5 overflowed") as info:
        got.extend(pool)
    assert got == [0, 1, 2, 3, 4]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["5", "9"]  # both failed
    assert any("in a worker process" in note for note in info.value.__notes__)


def _die_at(i: int) -> int:
    if i == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return i


def test_a_child_that_dies_is_said_in_words():
    with pytest.raises(WorkerLostError, match="killed by SIGKILL before finishing") as info:
        list(ForkedMap(_die_at, 10, 2, final=lambda: None))
    assert not isinstance(info.value, OSError)  # not a file error (the CLI reports those)


def _fail_then_die(i: int) -> int:
    if i == 1:
        time.sleep(0.3)
        os.kill(os.getpid(), signal.SIGKILL)
    if i == 2:
        msg = "block 2 overflowed"
        raise SimulationError(msg)
    return i


def test_a_child_dying_after_another_failed_is_said_in_words():
    # index 2 fails at once; index 1, earlier, dies with its process: its fate comes first
    with pytest.raises(WorkerLostError, match="killed by SIGKILL"):
        list(ForkedMap(_fail_then_die, 10, 2, final=lambda: None))


def test_a_result_that_cannot_travel_is_the_error_raised():
    # a lambda does not pickle: the child says so, instead of dying with status 1
    with pytest.raises(Exception, match="lambda") as info:
        list(ForkedMap(lambda i: lambda: i, 4, 2, final=lambda: None))
    assert not isinstance(info.value, WorkerLostError)


def _raise_in_final() -> None:
    msg = "no share to send"
    raise ValueError(msg)


def test_a_failed_final_is_raised_not_dropped():
    # the children's finals carry their histograms: a run without them would be wrong
    with pytest.raises(ValueError, match="no share to send"):
        list(ForkedMap(int, 6, 2, final=_raise_in_final))


def _slow(i: int) -> int:
    time.sleep(0.2)
    return i


def test_stopping_early_kills_and_reaps_the_children():
    pool = ForkedMap(_slow, 100, 2, final=lambda: None).__iter__()
    assert next(pool) == 0
    pool.close()  # the caller stops iterating (an error in its loop, say)


def test_ctrl_c_here_stops_the_children_and_is_raised():
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    started = time.perf_counter()
    try:
        with pytest.raises(KeyboardInterrupt):
            list(ForkedMap(_slow, 100, 2, final=lambda: None))  # 10 s of work
    finally:
        timer.cancel()
    assert time.perf_counter() - started < 5.0


def _warn(i: int) -> int:
    warnings.warn(f"careful with {i}", UserWarning, stacklevel=1)
    return i


def test_warnings_of_the_children_are_issued_here_once_each():
    with pytest.warns(UserWarning, match="careful with") as caught:
        assert list(ForkedMap(_warn, 3, 2, final=lambda: None)) == [0, 1, 2]
    assert sorted(str(w.message) for w in caught) == [f"careful with {i}" for i in range(3)]
    with pytest.warns(UserWarning, match="careful with 0") as caught:
        list(ForkedMap(lambda i: _warn(0), 20, 2, final=lambda: None))
    assert len(caught) == 1  # as threads would show it: once


def test_where_forking_is_not_done(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ForkedMap.possible(10)
    monkeypatch.setenv(FORK_ENV, "0")
    assert not ForkedMap.possible(10)
    monkeypatch.delenv(FORK_ENV)
    monkeypatch.setitem(sys.modules, "distributed", object())  # a Dask client's threads
    assert not ForkedMap.possible(10)
    monkeypatch.delitem(sys.modules, "distributed")
    monkeypatch.setattr(_fork, "_pipe_max", lambda: 1 << 16)
    assert not ForkedMap.possible(20_000)


# --- the engine -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def deepseek() -> Scenario:
    return load_scenario(SCENARIOS / "deepseek.yaml")


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the runs whose blocks went to forked children."""
    calls: list[int] = []
    real = ForkedMap.__iter__

    def spied(self: ForkedMap) -> object:  # type: ignore[type-arg]
        calls.append(self.workers)
        return real(self)

    monkeypatch.setattr(ForkedMap, "__iter__", spied)
    return calls


@pytest.mark.parametrize("workers", [2, 3])
def test_a_forked_run_gives_one_threads_numbers_bit_for_bit(
    deepseek: Scenario, workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _spy(monkeypatch)

    def run(workers: int) -> RunSummary:
        return simulate_summary(deepseek, 5000, rng=3, block_size=512, workers=workers,
                                exact_budget=0)  # fmt: skip

    forked = run(workers)
    assert calls == [workers]
    one = run(1)
    monkeypatch.setenv(FORK_ENV, "0")
    threads = run(workers)
    assert calls == [workers]  # neither of these forked
    for other in (one, threads):
        np.testing.assert_array_equal(forked.summary.values, other.summary.values)
        assert forked.answers == other.answers
    # the children's stage times come back: sampling and the model ran only there
    assert forked.timings["sampling_s"] > 0
    assert forked.timings["model_s"] > 0


def test_exact_runs_and_saved_samples_stay_on_threads(
    deepseek: Scenario, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls = _spy(monkeypatch)
    simulate_summary(deepseek, 2000, rng=1, block_size=512, workers=2)  # fits: exact
    simulate_summary(
        deepseek, 2000, rng=1, block_size=512, workers=2, exact_budget=0,
        save_samples=tmp_path / "s.npz",
    )  # fmt: skip
    assert calls == []


def test_an_overflow_in_a_child_is_the_same_error_as_on_one_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = _spy(monkeypatch)
    bad = load_scenario(SCENARIOS / "deepseek.yaml", ["chips.pue=1e300"])
    with pytest.raises(SimulationError) as one:
        simulate_summary(bad, 600, rng=1, block_size=128, workers=1, exact_budget=0)
    with pytest.raises(SimulationError) as two:
        simulate_summary(bad, 600, rng=1, block_size=128, workers=2, exact_budget=0)
    assert calls == [2]
    assert str(two.value) == str(one.value)
    assert "in that sample" in str(two.value)


def test_a_worker_killed_mid_run_is_a_simulation_error(
    deepseek: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _spy(monkeypatch)
    real = engine._compute_block

    def dies_at_block_3(plan: Any, i: int, *args: Any) -> Any:
        if i == 3:
            os.kill(os.getpid(), signal.SIGKILL)  # in a child: as the OOM killer would
        return real(plan, i, *args)

    monkeypatch.setattr(engine, "_compute_block", dies_at_block_3)
    with pytest.raises(SimulationError, match="killed by SIGKILL before finishing its blocks"):
        simulate_summary(deepseek, 1000, rng=1, block_size=128, workers=2, exact_budget=0)
    assert calls == [2]


def test_a_task_pipe_that_cannot_hold_the_blocks_falls_back_to_threads(
    deepseek: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    # where the blocks' indices do not fit a pipe (past the user's pipe-user-pages-soft
    # Linux gives 8 KiB pipes), _task_pipe says None: the run goes on threads, same numbers
    calls = _spy(monkeypatch)
    kw: dict[str, Any] = {"rng": 2, "block_size": 256, "exact_budget": 0}
    expected = simulate_summary(deepseek, 3000, workers=1, **kw)
    monkeypatch.setattr(_fork, "_task_pipe", lambda count: None)
    got = simulate_summary(deepseek, 3000, workers=2, **kw)
    assert calls == []
    np.testing.assert_array_equal(got.summary.values, expected.summary.values)
