"""Portability proof: the engine's whole path, from sampling to summaries, on other arrays.

Every run here is compared with the same run on NumPy (same scenario, seed, samples, block
size). Sampling stays on the host (STYLE.md §2.5), so the model's inputs are the same
numbers on every backend; what changes is the namespace the model computes in, and the
transfer of its outputs back to the host (``simulator.backends.to_host``) before they are
checked, kept, streamed into mergeable summaries or written.

- ``array_api_strict`` wraps NumPy's own arithmetic behind the strict array API, so its
  results must be **bit for bit** NumPy's: any difference means the engine or the model
  used something outside the standard (or transferred wrongly).
- CuPy (tests marked ``gpu``, skipped with the reason where CuPy or a device is missing)
  computes on the GPU, whose ``exp``, ``log`` and ``pow`` and reduction order may differ
  from NumPy's in the last bits: its outputs must agree to :data:`GPU_RTOL` of each
  metric's scale, its inputs exactly. ``benchmarks/gpu_check.sh`` reports the actual
  differences on ``deepseek.yaml``.

The runs use 3 blocks of 256 samples, the last one trimmed (700 samples), and 2 worker
threads, so block order, trimming and threading are all on the path.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import array_api_strict
import numpy as np
import pytest

from simulator import engine
from simulator.backends import to_host
from simulator.errors import SimulationError
from simulator.io import load_scenario
from simulator.result import VARIANTS, RunSummary, SimulationResult
from simulator.sampling import draw_block
from simulator.schema import Scenario
from simulator.sketch import RELATIVE_ERROR

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
N, BLOCK, SEED = 700, 256, 20260101
GPU_RTOL = 1e-9
"""Agreement asked of CuPy against NumPy, relative to each compared array's largest value.

CUDA's float64 ``exp``/``log``/``pow`` are within 2 ulp (about 4e-16); a path compounds
a few dozen of them, so 1e-9 leaves a margin of about 1e5 while still catching any real
difference (a wrong formula moves values by far more)."""

BACKENDS = [
    pytest.param("strict", id="array_api_strict"),
    pytest.param("cupy", id="cupy", marks=pytest.mark.gpu),
]


def _on(backend: str) -> dict[str, Any]:
    """Engine keywords that run on ``backend``."""
    return {"xp": array_api_strict} if backend == "strict" else {"backend": "cupy"}


def _agree(got: Any, want: Any, backend: str, what: str, rtol: float = GPU_RTOL) -> None:
    """Bit for bit under array_api_strict; within ``rtol`` of the array's scale on CuPy."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, what
    if backend == "strict":
        if got.tobytes() != want.tobytes():
            diff = np.nanmax(np.abs(got - want))
            pytest.fail(f"{what}: not bit-identical to numpy (max |difference| {diff:.3g})")
        return
    finite = np.abs(want[np.isfinite(want)])
    scale = float(finite.max()) if finite.size else 0.0
    np.testing.assert_allclose(
        got, want, rtol=rtol, atol=rtol * scale, equal_nan=True, err_msg=what
    )


@pytest.fixture(scope="module")
def deepseek() -> Scenario:
    # deepseek.yaml extends base.yaml: supply and power caps, correlations (copula), LHS,
    # a level shock with adoption, five segments: every model stage is on the path.
    return load_scenario(SCENARIOS / "deepseek.yaml")


@pytest.fixture(scope="module")
def on_numpy(deepseek: Scenario) -> SimulationResult:
    return engine.simulate(deepseek, N, rng=SEED, block_size=BLOCK, workers=2)


def _summary(scenario: Scenario, *, exact: bool, **on: Any) -> RunSummary:
    return engine.simulate_summary(
        scenario,
        N,
        rng=SEED,
        block_size=BLOCK,
        workers=2,
        exact_budget=None if exact else 0,
        **on,
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_inputs_reach_the_namespace_unchanged(deepseek: Scenario, backend: str) -> None:
    # The host-to-device transfer: every model input is an array of the backend's
    # namespace and holds exactly the host draw (a copy, on any backend).
    from simulator.backends import namespace_for

    xp, _ = namespace_for(**_on(backend))
    draws = {k: v[:100] for k, v in draw_block(deepseek, SEED, 1, block_size=BLOCK).items()}
    host = engine.build_inputs(deepseek, draws)
    moved = engine.build_inputs(deepseek, draws, xp=xp)
    pairs = list(_arrays(host, moved, "inputs"))
    # every array of ModelInputs: 5 per segment, 4 per shock, 2 utilizations, 6 fleet
    # arrays (deepseek has both caps) and 8 chip paths
    assert deepseek.fleet.supply_cap is not None
    assert deepseek.fleet.power_cap is not None
    expected = 5 * len(deepseek.demand.segments) + 4 * len(deepseek.shocks) + 2 + 6 + 8
    assert len(pairs) == expected
    for where, a, b in pairs:
        assert isinstance(a, np.ndarray), where
        assert not isinstance(b, np.ndarray), f"{where} stayed a numpy array"
        assert to_host(b).tobytes() == a.tobytes(), where


def _arrays(a: Any, b: Any, where: str) -> Any:
    """(path, a-array, b-array) for every array field of two ModelInputs trees."""
    if isinstance(a, np.ndarray):
        yield where, a, b
    elif dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            yield from _arrays(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, tuple) and a and not isinstance(a[0], int | str):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from _arrays(x, y, f"{where}[{i}]")


@pytest.mark.parametrize("backend", BACKENDS)
def test_simulate_gives_numpys_paths(
    deepseek: Scenario, on_numpy: SimulationResult, backend: str
) -> None:
    got = engine.simulate(deepseek, N, rng=SEED, block_size=BLOCK, workers=2, **_on(backend))
    assert got.backend == ("array_api_strict" if backend == "strict" else "cupy")
    assert on_numpy.backend == "numpy"
    assert got.n_samples == N
    assert got.metrics == on_numpy.metrics
    for variant in VARIANTS:
        for m in on_numpy.metrics:
            a = got.variant(variant)[m]
            assert type(a) is np.ndarray  # results come back to the host as numpy
            _agree(a, on_numpy.variant(variant)[m], backend, f"{variant}/{m}")


@pytest.mark.parametrize("exact", [True, False], ids=["exact", "streamed"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_simulate_summary_gives_numpys_table(
    deepseek: Scenario, backend: str, *, exact: bool
) -> None:
    # Exact: the kept samples summarized at the end; streamed (exact_budget=0): each
    # block's host copy summarized into mergeable moments, counts and histograms.
    want = _summary(deepseek, exact=exact)
    got = _summary(deepseek, exact=exact, **_on(backend))
    assert got.exact is want.exact is exact
    assert got.backend != want.backend == "numpy"
    for column in ("scenarios", "variants", "metrics", "years", "statistics"):
        assert getattr(got.summary, column) == getattr(want.summary, column), column
    assert len(want.summary) > 1000
    # Streamed quantiles come from histogram buckets: a sample within rounding of a bucket's
    # edge may land in the next bucket on the GPU, moving a quantile by up to the sketch's
    # error on each side.
    rtol = GPU_RTOL if exact else 2 * RELATIVE_ERROR + GPU_RTOL
    for key in dict.fromkeys(zip(want.summary.variants, want.summary.metrics, strict=True)):
        rows = [
            i
            for i, k in enumerate(zip(want.summary.variants, want.summary.metrics, strict=True))
            if k == key
        ]
        _agree(
            got.summary.values[rows], want.summary.values[rows], backend, f"summary {key}", rtol
        )
    assert [a.name for a in got.answers] == [a.name for a in want.answers]
    assert want.answers  # deepseek.yaml asks questions
    for a, b in zip(got.answers, want.answers, strict=True):
        if backend == "strict":
            assert (a.probability, a.se) == (b.probability, b.se), a.name
        else:  # a sample within rounding of a threshold may fall on the other side
            assert abs(a.probability - b.probability) <= 2 / N, a.name


@pytest.mark.parametrize("backend", BACKENDS)
def test_saved_samples_are_numpys(deepseek: Scenario, tmp_path: Path, backend: str) -> None:
    # samples.npz is streamed block by block from the host copies of device outputs.
    kw: dict[str, Any] = {"rng": SEED, "block_size": BLOCK, "workers": 2, "exact_budget": 0}
    engine.simulate_summary(deepseek, N, save_samples=tmp_path / "np.npz", **kw)
    engine.simulate_summary(deepseek, N, save_samples=tmp_path / "on.npz", **kw, **_on(backend))
    with np.load(tmp_path / "np.npz") as want, np.load(tmp_path / "on.npz") as got:
        assert sorted(got.files) == sorted(want.files)
        assert len(want.files) > 50
        for key in want.files:
            _agree(got[key], want[key], backend, key)


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_overflow_is_caught_after_the_transfer(tmp_path: Path, backend: str) -> None:
    # Non-finite values are found on the host copy, with the same message as on numpy.
    sc = load_scenario(SCENARIOS / "deepseek.yaml", ["chips.pue=1e300"])
    messages = []
    for on in ({}, _on(backend)):
        with pytest.raises(SimulationError) as info:
            engine.simulate_summary(sc, 50, rng=1, workers=1, **on)
        messages.append(str(info.value))
    assert "chips.pue is 1e+300 in that sample" in messages[0]
    assert messages[1] == messages[0]
