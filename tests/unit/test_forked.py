"""Tasks run in forked processes (the charts of a run): results, failures, warnings, files.

Every expected value is set by the test itself: the task results, the exception a task
raises, the warning it issues; chart files are compared with those written in one process.
"""

from __future__ import annotations

import os
import signal
import time
import warnings
from functools import partial
from pathlib import Path

import pytest

from simulator.report import _forked, charts
from tests.unit.test_charts import _result


def _children() -> set[int]:
    """Pids of this process's children, running or not yet waited for (from /proc)."""
    me = os.getpid()
    pids: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        if int(stat[stat.rindex(")") + 2 :].split()[1]) == me:
            pids.add(int(entry.name))
    return pids


@pytest.fixture
def no_children_left():
    """Fail the test if a process it forked is still there (running, or a zombie) after it."""
    if not Path("/proc/self/stat").is_file():
        pytest.skip("needs Linux /proc to list child processes")
    before = _children()
    yield
    assert _children() <= before


def _square(i: int) -> tuple[int, int]:
    return i * i, os.getpid()


def _mark_then_square(folder: Path, i: int) -> tuple[int, int]:
    (folder / f"{i}-{os.getpid()}").touch()
    return _square(i)


def test_results_come_back_in_task_order_from_two_processes(tmp_path, no_children_left):
    tasks = [partial(_mark_then_square, tmp_path, i) for i in range(12)]

    def first() -> None:
        while not any(tmp_path.iterdir()):
            time.sleep(0.01)

    got = _forked.run_forked(tasks, 2, first=first)
    assert [v for v, _ in got] == [i * i for i in range(12)]
    assert {pid for _, pid in got} - {os.getpid()}  # a child took a task (the first)


def test_one_worker_runs_here_in_order():
    order: list[int] = []
    got = _forked.run_forked([partial(order.append, i) for i in range(4)], 1)
    assert got == [None] * 4
    assert order == [0, 1, 2, 3]


def _fail_in_child(parent: int, i: int) -> int:
    if os.getpid() != parent:
        msg = f"task {i} failed"
        raise ValueError(msg)
    time.sleep(0.02)
    return i


def test_a_failing_task_in_a_child_is_raised_here_with_its_traceback(no_children_left):
    tasks = [partial(_fail_in_child, os.getpid(), i) for i in range(6)]
    with pytest.raises(ValueError, match=r"task \d failed") as info:
        _forked.run_forked(tasks, 2, first=lambda: time.sleep(0.2))
    assert any("in a chart process" in note for note in info.value.__notes__)


def _kill_child(parent: int) -> int:
    if os.getpid() != parent:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.02)
    return 0


def test_a_killed_child_is_reported(no_children_left):
    tasks = [partial(_kill_child, os.getpid()) for _ in range(4)]
    with pytest.raises(ChildProcessError, match="killed by SIGKILL"):
        _forked.run_forked(tasks, 2, first=lambda: time.sleep(0.2))


def _warn(i: int) -> int:
    warnings.warn(f"careful with {i}", UserWarning, stacklevel=1)
    return i


def test_warnings_of_children_are_issued_here():
    with pytest.warns(UserWarning, match="careful with") as caught:
        got = _forked.run_forked([partial(_warn, i) for i in range(3)], 2)
    assert got == [0, 1, 2]
    assert sorted(str(w.message) for w in caught) == [f"careful with {i}" for i in range(3)]


def test_a_failure_of_the_work_alongside_stops_everything(no_children_left):
    def first() -> None:
        msg = "disk on fire"
        raise OSError(msg)

    with pytest.raises(OSError, match="disk on fire"):
        _forked.run_forked([partial(time.sleep, 0.05) for _ in range(8)], 2, first=first)


def test_default_workers():
    assert _forked.default_workers(1) == 1
    assert 1 <= _forked.default_workers(12) <= min(12, _forked.available_cores())


def test_no_fork_beside_a_dask_client(monkeypatch):
    # a Dask client keeps threads running; a child forked beside them could inherit a
    # lock one of them holds
    monkeypatch.setitem(__import__("sys").modules, "distributed", object())
    assert _forked.default_workers(12) == 1


def _ctrl_c_here(parent: int, i: int) -> int:
    if os.getpid() == parent:
        time.sleep(0.1)  # the child is in its task
        raise KeyboardInterrupt  # Ctrl-C in this process
    os.kill(os.getpid(), signal.SIGKILL)  # a child that dies of it without a word
    return i


def test_ctrl_c_in_this_process_is_raised_as_such(no_children_left):
    # not as "a chart process died" (exit 3 from the CLI): the interrupt comes first
    tasks = [partial(_ctrl_c_here, os.getpid(), i) for i in range(6)]
    with pytest.raises(KeyboardInterrupt):
        _forked.run_forked(tasks, 2)


def test_children_ignore_sigint(no_children_left):
    # Ctrl-C reaches the whole process group; a child must not die of it mid-chart
    def interrupt_the_group() -> None:
        time.sleep(0.1)
        for pid in _children():
            os.kill(pid, signal.SIGINT)

    def slow_square(i: int) -> tuple[int, int]:
        time.sleep(0.3)
        return _square(i)

    got = _forked.run_forked(
        [partial(slow_square, i) for i in range(4)], 2, first=interrupt_the_group
    )
    assert [value for value, _ in got] == [0, 1, 4, 9]


def test_a_failed_fork_runs_every_task_here(monkeypatch, no_children_left):
    def no_fork() -> int:
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    fds = len(list(Path("/proc/self/fd").iterdir()))
    got = _forked.run_forked([partial(_square, i) for i in range(4)], 3)
    assert [v for v, _ in got] == [0, 1, 4, 9]
    assert {pid for _, pid in got} == {os.getpid()}
    assert len(list(Path("/proc/self/fd").iterdir())) == fds  # no pipe left open


def test_charts_in_two_processes_are_the_files_of_one(tmp_path):
    result = _result()
    metrics = ("hbm_revenue", "power_w")
    one = charts.write_charts(result, tmp_path / "one", metrics=metrics, workers=1)
    two = charts.write_charts(result, tmp_path / "two", metrics=metrics, workers=2)
    assert [p.name for p in one] == [p.name for p in two]
    assert len(one) > 2
    for a, b in zip(one, two, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert not list((tmp_path / "two").glob(".*"))


def test_a_chart_that_fails_leaves_no_file(tmp_path, monkeypatch, no_children_left):
    real = charts._save

    def save(fig, path):
        if path.name == "hbm_revenue.png":
            msg = "no space left"
            raise OSError(msg)
        real(fig, path)

    monkeypatch.setattr(charts, "_save", save)
    with pytest.raises(OSError, match="no space left"):
        charts.write_charts(_result(), tmp_path, metrics=("hbm_revenue",), workers=2)
    assert not (tmp_path / "hbm_revenue.png").exists()
    assert not list(tmp_path.glob(".*"))


@pytest.mark.parametrize(("workers", "most"), [(1, 1), (None, 2)])
def test_jevons_run_draws_charts_in_at_most_its_workers(
    workers: int | None, most: int, tmp_path, monkeypatch
):
    # --workers 1 on a shared machine means one core, for the charts too
    from typer.testing import CliRunner

    from simulator.cli import app

    used: list[int] = []
    real = _forked.run_forked

    def spy(tasks, n, **kwargs):
        used.append(n)
        return real(tasks, n, **kwargs)

    monkeypatch.setattr(charts, "run_forked", spy)
    monkeypatch.setattr(_forked, "available_cores", lambda: 2)
    monkeypatch.delitem(__import__("sys").modules, "distributed", raising=False)
    args = ["run", str(Path(__file__).parents[1] / "data" / "valid.yaml"), "-n", "200"]
    args += ["--out", str(tmp_path / "out")] + ([] if workers is None else ["--workers", "1"])
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert used == [most]
