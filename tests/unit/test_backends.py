"""Choosing the array backend: numpy, cupy, auto (simulator.backends and ``--backend``).

Whether CuPy can run is decided by :func:`simulator.backends.probe_cupy`; here it is fed
stand-in ``cupy`` modules (missing, no device, a failing kernel, a working one), and the
CLI is run with the probe's answer patched, so these tests give the same result on a
machine with a GPU and without one. The real CuPy runs in the ``gpu`` tests
(tests/unit/test_portability.py) and ``benchmarks/gpu_check.sh``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import array_api_strict
import numpy as np
import pytest
from typer.testing import CliRunner

from simulator import backends, engine
from simulator.backends import (
    NUMPY,
    BackendUnavailableError,
    CupyStatus,
    namespace_for,
    probe_cupy,
    resolve_backend,
    to_host,
)
from simulator.cli import app
from simulator.errors import EXIT_USAGE
from simulator.io import load_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
DEEPSEEK = str(SCENARIOS / "deepseek.yaml")
INSTALL = 'pip install "jevons[gpu]"'


class _Runtime:
    """Stand-in for ``cupy.cuda.runtime``."""

    def __init__(self, count: int | Exception) -> None:
        self.count = count

    def getDeviceCount(self) -> int:
        if isinstance(self.count, Exception):
            raise self.count
        return self.count

    def getDeviceProperties(self, device: int) -> dict[str, Any]:
        return {"name": b"Test GPU", "totalGlobalMem": 80 * 10**9}


def _fake_cupy(count: int | Exception = 1, kernel: Exception | None = None) -> Any:
    """A ``cupy`` module whose device count and first kernel behave as told."""

    def arange(n: int, dtype: Any = None) -> Any:
        if kernel is not None:
            raise kernel
        return np.arange(n, dtype=np.float64)

    return SimpleNamespace(
        float64=np.float64,
        arange=arange,
        cuda=SimpleNamespace(runtime=_Runtime(count), Device=lambda: SimpleNamespace(id=0)),
    )


# --- probing CuPy ------------------------------------------------------------------------


def test_probe_says_cupy_is_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cupy", None)  # `import cupy` raises ImportError
    status = probe_cupy()
    assert not status.usable
    assert status.detail.startswith("CuPy is not installed (")
    assert "cupy" in status.detail


def test_probe_says_no_device(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(RuntimeError("cudaErrorNoDevice: x")))
    assert probe_cupy() == CupyStatus(False, "no CUDA device is usable (cudaErrorNoDevice: x)")
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(0))
    assert probe_cupy() == CupyStatus(False, "no CUDA device is usable (CUDA sees 0 devices)")


def test_probe_says_a_kernel_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    failing = _fake_cupy(1, kernel=RuntimeError("nvrtc: libnvrtc.so.12 not found"))
    monkeypatch.setitem(sys.modules, "cupy", failing)
    status = probe_cupy()
    assert status == CupyStatus(
        False, "CuPy could not run a kernel on the GPU (nvrtc: libnvrtc.so.12 not found)"
    )


def test_probe_describes_a_usable_device(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(2))
    assert probe_cupy() == CupyStatus(True, "cuda:0, Test GPU, 80 GB")


# --- resolving a name --------------------------------------------------------------------


def _cupy_is(monkeypatch: pytest.MonkeyPatch, status: CupyStatus) -> None:
    """Make the backends see ``status``; a usable 'CuPy' is array_api_strict in disguise."""
    monkeypatch.setattr(backends, "cupy_status", lambda: status)
    monkeypatch.setattr(backends, "cupy_namespace", lambda: array_api_strict)


MISSING = CupyStatus(False, "CuPy is not installed (No module named 'cupy')")
USABLE = CupyStatus(True, "cuda:0, Test GPU, 80 GB")


def test_numpy_needs_no_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends, "cupy_status", lambda: pytest.fail("probed"))
    assert resolve_backend("numpy") is NUMPY
    assert NUMPY.xp is None
    assert NUMPY.describe() == "numpy (cpu)"


def test_cupy_where_missing_says_why_and_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    _cupy_is(monkeypatch, MISSING)
    with pytest.raises(BackendUnavailableError) as info:
        resolve_backend("cupy")
    text = str(info.value)
    assert "CuPy is not installed (No module named 'cupy')" in text
    assert INSTALL in text
    assert "NVIDIA GPU" in text


def test_auto_falls_back_to_numpy_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    _cupy_is(monkeypatch, MISSING)
    chosen = resolve_backend("auto")
    assert (chosen.name, chosen.xp, chosen.device) == ("numpy", None, "cpu")
    assert chosen.note == "CuPy not used: CuPy is not installed (No module named 'cupy')"


@pytest.mark.parametrize("name", ["cupy", "auto"])
def test_cupy_and_auto_pick_a_usable_device(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    _cupy_is(monkeypatch, USABLE)
    chosen = resolve_backend(name)
    assert (chosen.name, chosen.xp, chosen.note) == ("cupy", array_api_strict, "")
    assert chosen.describe() == "cupy (cuda:0, Test GPU, 80 GB)"


def test_unknown_name_and_both_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match=r"backend must be one of numpy, cupy, auto; got 'gpu'"):
        resolve_backend("gpu")
    with pytest.raises(ValueError, match="give backend= or xp=, not both"):
        namespace_for("numpy", array_api_strict)


def test_namespace_for_names_what_runs() -> None:
    assert namespace_for() == (None, "numpy")
    assert namespace_for(xp=np) == (None, "numpy")
    assert namespace_for("numpy") == (None, "numpy")
    assert namespace_for(xp=array_api_strict) == (array_api_strict, "array_api_strict")


def test_the_engine_refuses_cupy_where_it_cannot_run(monkeypatch: pytest.MonkeyPatch) -> None:
    _cupy_is(monkeypatch, MISSING)
    sc = load_scenario(DEEPSEEK)
    with pytest.raises(BackendUnavailableError, match="jevons"):
        engine.simulate(sc, 10, rng=1, backend="cupy")
    with pytest.raises(BackendUnavailableError, match="jevons"):
        engine.simulate_summary(sc, 10, rng=1, backend="cupy")


def test_the_engine_runs_auto_on_numpy_where_cupy_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _cupy_is(monkeypatch, MISSING)
    sc = load_scenario(DEEPSEEK)
    auto = engine.simulate(sc, 300, rng=1, backend="auto")
    plain = engine.simulate(sc, 300, rng=1)
    assert auto.backend == plain.backend == "numpy"
    assert auto.with_shocks["hbm_gb"].tobytes() == plain.with_shocks["hbm_gb"].tobytes()


# --- the transfer to the host ------------------------------------------------------------


def test_to_host_keeps_numpy_arrays_and_copies_others() -> None:
    a = np.arange(6.0).reshape(2, 3)
    assert to_host(a) is a  # no copy on the CPU path
    b = to_host(array_api_strict.asarray(a))
    assert type(b) is np.ndarray
    assert b.tobytes() == a.tobytes()


def test_to_host_copies_a_device_array_explicitly(monkeypatch: pytest.MonkeyPatch) -> None:
    # CuPy refuses implicit conversion (np.asarray of a cupy array raises TypeError); the
    # transfer must go through .get(). A stand-in ndarray class behaves the same way.
    class DeviceArray:
        def __init__(self, values: np.ndarray) -> None:
            self.values = values

        def get(self) -> np.ndarray:
            return self.values.copy()

        def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
            msg = "Implicit conversion to a NumPy array is not allowed."
            raise TypeError(msg)

    # array_api_compat < 1.10 also checks isinstance(a, cupy.generic) (CuPy's scalars)
    scalar = type("generic", (), {})
    monkeypatch.setitem(sys.modules, "cupy", SimpleNamespace(ndarray=DeviceArray, generic=scalar))
    values = np.array([[1.5, 2.5]])
    out = to_host(DeviceArray(values))
    assert type(out) is np.ndarray
    assert out.tobytes() == values.tobytes()


# --- the command line --------------------------------------------------------------------

runner = CliRunner()


def _invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


@pytest.mark.parametrize(
    "command",
    [
        ["run", DEEPSEEK, "-n", "20"],
        ["compare", DEEPSEEK, str(SCENARIOS / "bull.yaml"), "-n", "20"],
        ["attribute", DEEPSEEK, str(SCENARIOS / "bull.yaml"), "-m", "hbm_gb", "-y", "2027"],
    ],
    ids=["run", "compare", "attribute"],
)
def test_backend_cupy_where_missing_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    _cupy_is(monkeypatch, MISSING)
    r = _invoke(*command, "--backend", "cupy")
    assert r.exit_code == EXIT_USAGE, r.output
    assert r.stderr.startswith("--backend cupy: the cupy backend cannot run here: ")
    assert "CuPy is not installed (No module named 'cupy')" in r.stderr
    assert INSTALL in r.stderr
    assert "or use --backend numpy" in r.stderr
    assert "Traceback" not in r.stderr
    assert r.stdout == ""  # refused before any work


def test_backend_auto_without_cupy_runs_on_numpy_with_a_note(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _cupy_is(monkeypatch, MISSING)
    auto = _invoke("run", DEEPSEEK, "-n", "300", "--seed", "3", "--json", "--backend", "auto")
    plain = _invoke("run", DEEPSEEK, "-n", "300", "--seed", "3", "--json")
    assert auto.exit_code == plain.exit_code == 0, auto.output
    assert auto.stderr.startswith(
        "note: --backend auto: running on numpy; CuPy not used: CuPy is not installed"
    )
    assert "note:" not in plain.stderr
    assert json.loads(auto.stdout) == json.loads(plain.stdout)


def test_backend_cupy_runs_and_is_recorded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # 'CuPy' here is array_api_strict (see _cupy_is): the run goes through the non-numpy
    # path of the engine, says where it ran, records it, and gives numpy's numbers.
    _cupy_is(monkeypatch, USABLE)
    args = ["run", DEEPSEEK, "-n", "300", "--seed", "3", "--workers", "2"]
    on = _invoke(*args, "--backend", "cupy", "--out", str(tmp_path / "gpu"))
    plain = _invoke(*args, "--out", str(tmp_path / "cpu"))
    assert on.exit_code == plain.exit_code == 0, on.output
    said = " ".join(on.stderr.split())  # rich wraps long lines
    assert "(2 workers, on cupy (cuda:0, Test GPU, 80 GB); summaries" in said
    assert "2 workers; summaries" in " ".join(plain.stderr.split())
    manifest = json.loads((tmp_path / "gpu" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["backend"] == {"name": "cupy", "device": "cuda:0, Test GPU, 80 GB"}
    plain_manifest = json.loads((tmp_path / "cpu" / "manifest.json").read_text("utf-8"))
    assert plain_manifest["backend"] == {"name": "numpy", "device": "cpu"}
    gpu_csv = (tmp_path / "gpu" / "summary.csv").read_text(encoding="utf-8")
    assert gpu_csv == (tmp_path / "cpu" / "summary.csv").read_text(encoding="utf-8")


def test_help_lists_the_backends() -> None:
    r = _invoke("run", "--help")
    assert r.exit_code == 0
    text = " ".join(r.stdout.replace("│", " ").split())
    assert "--backend" in text
    assert "numpy|cupy|auto" in text
    assert 'pip install "jevons[gpu]"' in text


def test_out_of_gpu_memory_is_a_message_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    # CuPy's OutOfMemoryError is a MemoryError defined in cupy.cuda.memory; a stand-in.
    oom = type("OutOfMemoryError", (MemoryError,), {"__module__": "cupy.cuda.memory"})

    def fail(*args: Any, **kwargs: Any) -> Any:
        msg = "Out of memory allocating 1,048,576 bytes"
        raise oom(msg)

    _cupy_is(monkeypatch, USABLE)
    monkeypatch.setattr(engine, "simulate_summary", fail)
    r = _invoke("run", DEEPSEEK, "-n", "20", "--backend", "cupy")
    assert r.exit_code == 1
    said = " ".join(r.stderr.split())
    assert "out of GPU memory on cuda:0, Test GPU, 80 GB (Out of memory allocating" in said
    assert "use fewer --workers" in said
    assert "Traceback" not in r.stderr
