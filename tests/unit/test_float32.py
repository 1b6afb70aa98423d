"""``dtype="float32"``: where float32 is used, its error on the summaries, and its refusal.

The bounds asserted are :data:`simulator.precision.FLOAT32_BOUNDS` and
:data:`~simulator.precision.STREAMED_BOUNDS`, the ones ``docs/float32.md`` states; the
worst errors ``benchmarks/float32_error.py`` measured on the shipped scenarios (150,000
samples) are one to two orders of magnitude below them, so these small runs check that the
float32 path stays where it was measured, not that it is lucky.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import array_api_strict
import numpy as np
import pytest

from simulator import engine, precision
from simulator.engine import build_inputs, resolve_dtype, simulate, simulate_summary
from simulator.errors import SimulationError
from simulator.io import load_scenario
from simulator.model import evaluate_pair
from simulator.model.inputs import ModelInputs
from simulator.precision import (
    FLOAT32_BOUNDS,
    STREAMED_BOUNDS,
    Float32Error,
    answer_errors,
    check_float32_block,
    summary_errors,
)
from simulator.sampling import draw_block
from simulator.summary import QuestionAnswer, SummaryTable, summarize

SCENARIOS = Path(__file__).parents[2] / "scenarios"
DEEPSEEK = SCENARIOS / "deepseek.yaml"


def _arrays(inputs: ModelInputs) -> list[Any]:
    """Every array of a ModelInputs, however deep."""
    out: list[Any] = []

    def walk(x: Any) -> None:
        if isinstance(x, np.ndarray):
            out.append(x)
        elif dataclasses.is_dataclass(x) and not isinstance(x, type):
            for f in dataclasses.fields(x):
                walk(getattr(x, f.name))
        elif isinstance(x, tuple):
            for item in x:
                walk(item)

    walk(inputs)
    return out


# ------------------------------------------------------------------------ the dtype option


@pytest.mark.parametrize(
    ("given", "name"),
    [(None, "float64"), ("float64", "float64"), ("float32", "float32"), (np.float32, "float32")],
)
def test_resolve_dtype_names_the_two_types(given: Any, name: str) -> None:
    assert resolve_dtype(given) == name


@pytest.mark.parametrize("given", ["float16", "int64", "double-ish", np.complex64])
def test_resolve_dtype_refuses_other_types(given: Any) -> None:
    with pytest.raises(ValueError, match="dtype must be 'float64' or 'float32'"):
        resolve_dtype(given)


def test_float32_inputs_make_the_model_compute_in_float32() -> None:
    # The engine relies on the model following its inputs' dtype: every input array rounded
    # to float32 (draws and paths are computed in float64 first), every output float32.
    sc = load_scenario(DEEPSEEK)
    draws = draw_block(sc, 5, 0, size=64)
    inputs = build_inputs(sc, draws, dtype=np.float32)
    arrays = _arrays(inputs)
    assert arrays
    assert all(a.dtype == np.float32 for a in arrays)
    with np.errstate(over="ignore", invalid="ignore"):
        w, c = evaluate_pair(inputs)
    assert {a.dtype for a in (*w.values(), *c.values())} == {np.dtype(np.float32)}
    # The rounding happens after the draw: the float32 input is the float64 one, rounded.
    ref = build_inputs(sc, draws)
    np.testing.assert_array_equal(
        inputs.fleet.median_life, ref.fleet.median_life.astype(np.float32)
    )


def test_default_build_inputs_is_untouched_float64() -> None:
    sc = load_scenario(DEEPSEEK)
    draws = draw_block(sc, 5, 0, size=64)
    inputs = build_inputs(sc, draws)
    assert all(a.dtype == np.float64 for a in _arrays(inputs))
    assert inputs.fleet.median_life is draws["fleet.median_life"]  # no copy on the default


def test_float32_simulate_returns_float64_arrays_near_float64() -> None:
    sc = load_scenario(DEEPSEEK)
    r64 = simulate(sc, 600, rng=2, block_size=256)
    r32 = simulate(sc, 600, rng=2, block_size=256, dtype="float32")
    assert (r64.dtype, r32.dtype) == ("float64", "float32")
    w64, w32 = r64.with_shocks["hbm_gb"], r32.with_shocks["hbm_gb"]
    assert w32.dtype == np.float64
    assert not np.array_equal(w32, w64)  # float32 arithmetic was used...
    np.testing.assert_allclose(w32, w64, rtol=1e-4)  # ...and is close per sample
    # Draws are made in float64 and kept as drawn: the same in both runs.
    for name, values in r64.inputs.items():
        np.testing.assert_array_equal(r32.inputs[name], values)


@pytest.mark.parametrize("budget", [None, 0])
def test_float32_runs_do_not_depend_on_workers(budget: int | None) -> None:
    # 3 blocks of 256 (the last trimmed), each thread reusing its float64 buffers.
    sc = load_scenario(DEEPSEEK)
    kw: dict[str, Any] = {"rng": 4, "block_size": 256, "dtype": "float32", "exact_budget": budget}
    one = simulate_summary(sc, 700, workers=1, **kw)
    two = simulate_summary(sc, 700, workers=2, **kw)
    np.testing.assert_array_equal(one.summary.values, two.summary.values)
    assert one.answers == two.answers
    assert one.dtype == "float32"
    assert one.exact is (budget is None)


def test_float32_summary_equals_the_summary_of_float32_samples() -> None:
    # simulate() converts each output into fresh arrays, simulate_summary() into buffers
    # reused block after block: the same numbers, bit for bit (nothing was overwritten).
    sc = load_scenario(DEEPSEEK)
    kw: dict[str, Any] = {"rng": 6, "block_size": 256, "dtype": "float32"}
    run = simulate_summary(sc, 700, workers=2, **kw)
    kept = simulate(sc, 700, **kw)
    table = summarize(
        {v: kept.variant(v) for v in ("with_shocks", "counterfactual", "impact")},
        kept.years,
        scenario=kept.scenario_name,
    )
    np.testing.assert_array_equal(run.summary.values, table.values)


def test_float32_on_array_api_strict_matches_numpy_bit_for_bit() -> None:
    sc = load_scenario(DEEPSEEK)
    kw: dict[str, Any] = {"rng": 4, "block_size": 256, "dtype": "float32"}
    a = simulate(sc, 300, **kw)
    b = simulate(sc, 300, xp=array_api_strict, **kw)
    for m in a.metrics:
        np.testing.assert_array_equal(a.with_shocks[m], b.with_shocks[m])


# ------------------------------------------------------------------ the error and its bounds


def test_float32_error_on_every_statistic_stays_within_the_stated_bounds() -> None:
    # A small run of the shipped deepseek scenario: float32 against float64, same seed,
    # exact quantiles; then streamed, quantiles against float64's exact ones.
    sc = load_scenario(DEEPSEEK)
    kw: dict[str, Any] = {"rng": 11, "workers": 1}
    exact64 = simulate_summary(sc, 6_000, **kw)
    exact32 = simulate_summary(sc, 6_000, dtype="float32", **kw)
    assert exact64.exact
    assert exact32.exact
    found = summary_errors(exact64.summary, exact32.summary)
    assert set(found) == {"mean", "sd", "quantile", "se"}
    worst = answer_errors(exact64.answers, exact32.answers)
    assert worst is not None
    for e in [*found.values(), worst]:
        assert e.error <= FLOAT32_BOUNDS[e.kind], e
    assert found["quantile"].error > 0.0  # float32 was used: the statistics moved

    streamed64 = simulate_summary(sc, 6_000, exact_budget=0, **kw)
    streamed32 = simulate_summary(sc, 6_000, exact_budget=0, dtype="float32", **kw)
    found = summary_errors(streamed64.summary, streamed32.summary)
    found["quantile"] = summary_errors(exact64.summary, streamed32.summary)["quantile"]
    for e in found.values():
        assert e.error <= STREAMED_BOUNDS[e.kind], e


def _table(rows: list[tuple[str, str, int, str, float]]) -> SummaryTable:
    return SummaryTable(
        scenarios=tuple("s" for _ in rows),
        variants=tuple(r[0] for r in rows),
        metrics=tuple(r[1] for r in rows),
        years=tuple(r[2] for r in rows),
        statistics=tuple(r[3] for r in rows),
        values=np.array([r[4] for r in rows]),
    )


def test_summary_errors_known_values() -> None:
    # Hand-computed: |100.1 - 100| / 100 = 1e-3 (mean); p5 of hbm_gb is 0 in float64 and
    # 2e-4 in float32, measured against 1e-6 of the series' largest value (p95 = 1000):
    # 2e-4 / 1e-3 = 0.2; idle_h100e's p50 of 10 vs 13 is measured against the fleet
    # (installed_h100e's largest statistic, 1e6): 3 / 1e6 = 3e-6; NaN in both is no error;
    # a finite value against an infinite one is an infinite error.
    ref = _table(
        [
            ("with_shocks", "hbm_gb", 2030, "mean", 100.0),
            ("with_shocks", "hbm_gb", 2030, "p5", 0.0),
            ("with_shocks", "hbm_gb", 2030, "p95", 1000.0),
            ("with_shocks", "installed_h100e", 2030, "p95", 1e6),
            ("with_shocks", "idle_h100e", 2030, "p50", 10.0),
            ("impact", "hbm_gb", 2030, "sd", math.nan),
            ("impact", "hbm_gb", 2030, "se_p5", 2.0),
        ]
    )
    other = _table(
        [
            ("with_shocks", "hbm_gb", 2030, "mean", 100.1),
            ("with_shocks", "hbm_gb", 2030, "p5", 2e-4),
            ("with_shocks", "hbm_gb", 2030, "p95", 1000.0),
            ("with_shocks", "installed_h100e", 2030, "p95", 1e6),
            ("with_shocks", "idle_h100e", 2030, "p50", 13.0),
            ("impact", "hbm_gb", 2030, "sd", math.nan),
            ("impact", "hbm_gb", 2030, "se_p5", math.inf),
        ]
    )
    found = summary_errors(ref, other)
    assert found["mean"].error == pytest.approx(1e-3)
    assert found["quantile"].error == pytest.approx(0.2)
    assert found["quantile"].where == "with_shocks hbm_gb 2030 p5"
    assert found["sd"].error == 0.0
    assert found["se"].error == math.inf
    only_idle = summary_errors(
        _table([r for r in zip(*_columns(ref), strict=True) if r[1] != "hbm_gb"]),
        _table([r for r in zip(*_columns(other), strict=True) if r[1] != "hbm_gb"]),
    )
    assert only_idle["quantile"].error == pytest.approx(3e-6)


def _columns(t: SummaryTable) -> tuple[Any, ...]:
    return (t.variants, t.metrics, t.years, t.statistics, [float(v) for v in t.values])


def test_summary_errors_refuses_tables_with_other_rows() -> None:
    a = _table([("with_shocks", "hbm_gb", 2030, "mean", 1.0)])
    b = _table([("with_shocks", "hbm_gb", 2031, "mean", 1.0)])
    with pytest.raises(ValueError, match="same rows"):
        summary_errors(a, b)


def test_answer_errors_is_the_largest_absolute_difference() -> None:
    ref = [QuestionAnswer("a", "P(a)", 0.5, 0.01), QuestionAnswer("b", "P(b)", 0.2, 0.01)]
    other = [QuestionAnswer("a", "P(a)", 0.5005, 0.01), QuestionAnswer("b", "P(b)", 0.199, 0.01)]
    worst = answer_errors(ref, other)
    assert worst is not None
    assert worst.where == "b"
    assert worst.error == pytest.approx(1e-3)
    assert answer_errors([], []) is None


# ------------------------------------------------------------------------------- refusal


def _block(sc: Any, dtype: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    draws = draw_block(sc, 3, 0, size=512)
    with np.errstate(over="ignore", invalid="ignore"):
        w, c = evaluate_pair(build_inputs(sc, draws, dtype=dtype))
    return (
        {m: np.asarray(v, dtype=np.float64) for m, v in w.items()},
        {m: np.asarray(v, dtype=np.float64) for m, v in c.items()},
    )


def test_check_float32_block_passes_float32_and_refuses_a_worse_type() -> None:
    sc = load_scenario(DEEPSEEK)
    ref = _block(sc, None)
    check_float32_block(ref, _block(sc, np.float32), sc, 0)  # within the bounds: silent
    # float16 (3 decimal digits; its overflow, inf, aside) misses every bound: refused,
    # naming the statistic, both values and the bound.
    with np.errstate(over="ignore"):
        w16 = {m: v.astype(np.float16).astype(np.float64) for m, v in ref[0].items()}
    w16 = {m: np.where(np.isfinite(v), v, ref[0][m]) for m, v in w16.items()}
    with pytest.raises(Float32Error, match=r"float32 is not accurate enough.*docs/float32.md"):
        check_float32_block(ref, (w16, ref[1]), sc, 7)


def test_a_run_whose_first_block_misses_a_bound_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(precision, "FLOAT32_BOUNDS", dict.fromkeys(FLOAT32_BOUNDS, 0.0))
    sc = load_scenario(DEEPSEEK)
    check = r"a check sample of 300 paths \(drawn as block 0 of the run\)"
    with pytest.raises(Float32Error, match=check) as info:
        simulate_summary(sc, 300, rng=1, dtype="float32")
    assert isinstance(info.value, SimulationError)  # the CLI's exit 1
    with pytest.raises(Float32Error):
        simulate(sc, 300, rng=1, dtype="float32")
    simulate_summary(sc, 300, rng=1)  # float64 is never checked


def test_a_float64_overflow_in_the_check_is_the_runs_not_float32s() -> None:
    # reported as a float64 run reports it (located), not as "float32 is not accurate"
    bad = load_scenario(DEEPSEEK, ["chips.pue=1e300"])
    with pytest.raises(SimulationError, match=r"chips\.pue is 1e\+300 in that sample") as info:
        simulate_summary(bad, 300, rng=1, dtype="float32")
    assert not isinstance(info.value, Float32Error)
    assert "ran in float32" not in str(info.value)


def test_overflow_in_float32_says_float64_may_not_overflow() -> None:
    values = np.array([[1.0, math.inf]])
    with pytest.raises(SimulationError, match=r"ran in float32.*3\.4e\+38.*float64"):
        engine._check_finite("hbm_gb", values, "with the shocks", (2024, 2025), 0, None, "float32")
    with pytest.raises(SimulationError) as info:
        engine._check_finite("hbm_gb", values, "with the shocks", (2024, 2025), 0)
    assert "float32" not in str(info.value)


def test_float32_on_the_dask_executor_stand_in_equals_the_local_run() -> None:
    # The plan (dtype included) is pickled to the cluster's tasks; their blocks convert
    # into fresh arrays instead of buffers: the same numbers, bit for bit.
    from tests.unit.test_executors import InProcess

    sc = load_scenario(DEEPSEEK)
    kw: dict[str, Any] = {"rng": 8, "block_size": 200, "exact_budget": 0, "dtype": "float32"}
    local = simulate_summary(sc, 650, workers=2, **kw)
    remote = simulate_summary(sc, 650, executor=InProcess(2), **kw)
    assert remote.dtype == "float32"
    assert remote.summary.to_records() == local.summary.to_records()
    assert remote.answers == local.answers
    f64 = simulate_summary(sc, 650, workers=2, **{**kw, "dtype": "float64"})
    assert f64.summary.to_records() != local.summary.to_records()


def test_xarray_exports_record_the_dtype() -> None:
    pytest.importorskip("xarray")
    sc = load_scenario(DEEPSEEK)
    kept = simulate(sc, 200, rng=1, dtype="float32")
    run = simulate_summary(sc, 200, rng=1)
    assert kept.to_xarray().attrs["dtype"] == "float32"
    assert run.to_xarray().attrs["dtype"] == "float64"
