"""Streaming summaries: the sketch's error bound, exact merges, simulate_summary's contracts.

Reference values are numpy's own (``np.quantile``, ``np.mean``, ``np.std``) on the same
numbers, and :func:`simulator.simulate` + :func:`simulator.summarize` on the same run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import special

from simulator.engine import answer_questions, simulate, simulate_summary
from simulator.io import load_scenario
from simulator.result import RunSummary
from simulator.sampling.distributions import beta_quantile
from simulator.schema import Scenario
from simulator.sketch import RELATIVE_ERROR, LogHistogram, SignedHistogram, bucket_value
from simulator.streaming import Moments
from simulator.summary import _quantile_linear, summarize

SCENARIOS = Path(__file__).parents[2] / "scenarios"
PROBS = [0.0, 0.001, 0.05, 0.25, 0.5, 0.75, 0.95, 0.999, 1.0]


@pytest.fixture(scope="module")
def deepseek() -> Scenario:
    return load_scenario(SCENARIOS / "deepseek.yaml")


def awkward(n: int = 40_000, rows: int = 6, seed: int = 1) -> np.ndarray:
    """Rows of lognormal values over many decades, with zeros, infinities and ties."""
    rng = np.random.default_rng(seed)
    x = rng.lognormal(3.0, 2.5, size=(rows, n))
    x[1, : n // 3] = 0.0
    x[2, : n // 50] = np.inf
    x[3] = 0.0
    x[4, ::2] = 7.0
    return x


def exact_quantiles(x: np.ndarray, probs: list[float]) -> np.ndarray:
    """np.quantile per row, with +inf handled as a very large value."""
    big = np.where(np.isinf(x), 1e300, x)
    q = np.quantile(big, probs, axis=1)
    return np.where(q > 1e299, np.inf, q)


def test_bucket_value_is_within_the_bound_of_every_value_in_its_bucket() -> None:
    rng = np.random.default_rng(0)
    x = np.exp(rng.uniform(-700, 700, 200_000))
    keys = LogHistogram.of(x[np.newaxis, :]).lo[0]  # smallest key, as a smoke check
    assert keys > 0
    rep = bucket_value(x.view(np.int64) >> 44)
    assert np.max(np.abs(rep / x - 1)) <= RELATIVE_ERROR
    assert bucket_value(np.array([0]))[0] == 0.0


def test_sketch_quantiles_are_within_the_stated_bound() -> None:
    x = awkward()
    got = LogHistogram.of(x).quantiles(PROBS)
    want = exact_quantiles(x, PROBS)
    special_ = ~np.isfinite(want) | (want == 0)
    np.testing.assert_array_equal(got[special_], want[special_])
    rel = np.abs(got[~special_] / want[~special_] - 1)
    assert rel.max() <= RELATIVE_ERROR
    assert RELATIVE_ERROR <= 0.005  # the bound


@pytest.mark.parametrize("cuts", [[7], [1, 2, 3, 5000, 20000], list(range(0, 40_000, 999))])
def test_sketch_merge_is_exact_in_any_split_and_order(cuts: list[int]) -> None:
    x = awkward()
    whole = LogHistogram.of(x)
    parts = [LogHistogram.of(p) for p in np.split(x, cuts, axis=1)]
    forward = LogHistogram.empty(x.shape[0])
    for part in parts:
        forward = forward.merge(part)
    backward = LogHistogram.empty(x.shape[0])
    for part in reversed(parts):
        backward = backward.merge(part)
    for merged in (forward, backward):
        assert merged.total == whole.total
        np.testing.assert_array_equal(merged.quantiles(PROBS), whole.quantiles(PROBS))
        np.testing.assert_array_equal(merged.zeros, whole.zeros)
        np.testing.assert_array_equal(merged.infs, whole.infs)


def test_sketch_refuses_negative_and_nan_but_takes_negative_zero() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        LogHistogram.of(np.array([[1.0, -2.0]]))
    with pytest.raises(ValueError, match="non-negative"):
        LogHistogram.of(np.array([[1.0, np.nan]]))
    h = LogHistogram.of(np.array([[-0.0, 0.0, 3.0]]))
    assert h.zeros[0] == 2
    with pytest.raises(ValueError, match="merge"):
        h.merge(LogHistogram.empty(2))


def test_chan_merge_matches_numpy_moments() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(1e6, 3.0, size=(3, 10_001))  # large mean, small spread: the hard case
    merged = Moments(0, np.zeros(3), np.zeros(3), np.zeros(3, np.int64))
    for part in np.array_split(x, 7, axis=1):
        merged = merged.merge(Moments.of(np.ascontiguousarray(part)))
    np.testing.assert_allclose(merged.mean, x.mean(axis=1), rtol=1e-14)
    np.testing.assert_allclose(merged.m2 / (x.shape[1] - 1), x.var(axis=1, ddof=1), rtol=1e-10)


def test_sample_select_quantiles_equal_numpy_bit_for_bit() -> None:
    rng = np.random.default_rng(3)
    p = np.array([0.0, 0.05, 0.0493, 0.0507, 0.25, 0.5, 0.4984, 0.5016, 0.95, 0.999, 1.0])
    cases = [
        rng.lognormal(size=(60_000, 4)),
        np.sort(rng.random((50_000, 2)), axis=0),  # sorted: a strided subsample still works
        np.sort(rng.random((50_000, 2)), axis=0)[::-1].copy(),
        rng.integers(0, 4, size=(30_000, 3)).astype(float),  # heavy ties
        np.zeros((20_000, 2)),
        rng.standard_cauchy((40_001, 3)),
    ]
    for x in cases:
        np.testing.assert_array_equal(_quantile_linear(x, p), np.quantile(x, p, axis=0))


def test_beta_quantile_on_pert_shapes_matches_betaincinv() -> None:
    # PERT shapes are alpha, beta in [1, 5]; the quintic table must agree to 1e-11.
    rng = np.random.default_rng(4)
    for _ in range(12):
        a, b = 1.0 + 4.0 * rng.random(), 1.0 + 4.0 * rng.random()
        u = np.concatenate([rng.random(20_000), [1e-300, 2.0**-53, 0.5, 1.0 - 2.0**-53]])
        np.testing.assert_allclose(
            beta_quantile(a, b, u), special.betaincinv(a, b, u), rtol=1e-11, atol=1e-300
        )


def test_exact_run_equals_simulate_then_summarize(deepseek) -> None:
    result = simulate(deepseek, 3000, rng=5, block_size=1024)
    table = summarize(
        {v: result.variant(v) for v in ("with_shocks", "counterfactual", "impact")},
        result.years,
        scenario=deepseek.name,
    )
    run = simulate_summary(deepseek, 3000, rng=5, block_size=1024, workers=2)
    assert run.exact
    assert run.quantile_rel_error == 0.0
    assert run.summary.statistics == table.statistics
    np.testing.assert_array_equal(run.summary.values, table.values)
    assert run.answers == answer_questions(deepseek, result)


def test_streamed_run_is_within_the_bound_and_independent_of_workers(deepseek) -> None:
    exact = simulate_summary(deepseek, 4000, rng=6, block_size=512, workers=1)
    one = simulate_summary(deepseek, 4000, rng=6, block_size=512, workers=1, exact_budget=0)
    two = simulate_summary(deepseek, 4000, rng=6, block_size=512, workers=2, exact_budget=0)
    assert not one.exact
    assert one.quantile_rel_error == RELATIVE_ERROR
    np.testing.assert_array_equal(one.summary.values, two.summary.values)
    assert one.answers == two.answers == exact.answers  # counts are exact
    stats = np.array(exact.summary.statistics)
    want, got = exact.summary.values, one.summary.values
    assert exact.summary.statistics == one.summary.statistics
    for name in ("p5", "p25", "p50", "p75", "p95"):
        rows = stats == name
        w, g = want[rows], got[rows]
        close = (w == g) | np.isclose(g, w, rtol=RELATIVE_ERROR * (1 + 1e-12), atol=0)
        assert close.all(), name
    for name in ("mean", "sd", "se_mean"):
        rows = stats == name
        np.testing.assert_allclose(got[rows], want[rows], rtol=1e-9, equal_nan=True)


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_streamed_run_equals_merging_every_block_in_order(deepseek, workers: int) -> None:
    # The engine merges each thread's histograms in the thread (integers: any order) and
    # only the moments in block order: the table must be the one that merging whole block
    # summaries one after the other gives, bit for bit.
    from simulator.engine import _question_specs
    from simulator.streaming import StreamingSummary

    result = simulate(deepseek, 4000, rng=6, block_size=512)
    questions = _question_specs(deepseek)
    merged = StreamingSummary(0, {}, {})
    for first in range(0, 4000, 512):
        rows = slice(first, first + 512)
        w = {m: result.variant("with_shocks")[m][rows] for m in result.metrics}
        c = {m: result.variant("counterfactual")[m][rows] for m in result.metrics}
        merged = merged.merge(StreamingSummary.of_block(w, c, questions, first=first))
    want = merged.table(result.years, scenario=deepseek.name)
    run = simulate_summary(deepseek, 4000, rng=6, block_size=512, workers=workers, exact_budget=0)
    assert run.summary.to_records() == want.to_records()
    assert run.answers == merged.answers(questions)


def test_save_samples_streams_the_same_arrays_as_simulate(deepseek, tmp_path) -> None:
    result = simulate(deepseek, 1500, rng=7, block_size=512)
    path = tmp_path / "s.npz"
    run = simulate_summary(
        deepseek, 1500, rng=7, block_size=512, workers=2, exact_budget=0, save_samples=path
    )
    assert run.samples_file == path
    assert [p.name for p in tmp_path.iterdir()] == ["s.npz"]  # no temporary files left
    with np.load(path) as npz:
        np.testing.assert_array_equal(npz["years"], result.years)
        for variant in ("with_shocks", "counterfactual", "impact"):
            for m in result.metrics:
                np.testing.assert_array_equal(npz[f"{variant}/{m}"], result.variant(variant)[m])
        inputs = {k.removeprefix("inputs/") for k in npz.files if k.startswith("inputs/")}
        assert inputs == set(result.inputs)
        for name, values in result.inputs.items():
            np.testing.assert_array_equal(npz[f"inputs/{name}"], values)


def test_run_summary_has_no_samples(deepseek) -> None:
    run = simulate_summary(deepseek, 200, rng=1)
    assert isinstance(run, RunSummary)
    with pytest.raises(TypeError, match="no per-sample arrays"):
        run.variant("with_shocks")


def test_cli_module_imports_no_numerics() -> None:
    code = (
        "import sys, simulator.cli; "
        "heavy = [m for m in ('numpy', 'scipy', 'matplotlib', 'pydantic') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_signed_histogram_is_within_the_bound_and_merges_exactly() -> None:
    # Paired differences (impact of idle and unmet capacity) take either sign.
    rng = np.random.default_rng(8)
    x = rng.normal(0.0, 1e3, size=(4, 30_000))
    x[1] = np.abs(x[1])
    x[2] = -np.abs(x[2])
    x[3, :5000] = 0.0
    whole = SignedHistogram.of(x)
    merged = SignedHistogram.empty(4)
    for part in np.array_split(x, 9, axis=1):
        merged = merged.merge(SignedHistogram.of(np.ascontiguousarray(part)))
    probs = [0.0, 0.05, 0.25, 0.75, 0.95, 1.0]  # none interpolates across zero here
    got = merged.quantiles(probs)
    np.testing.assert_array_equal(got, whole.quantiles(probs))
    want = np.quantile(x, probs, axis=1)
    nonzero = want != 0
    assert np.max(np.abs(got[nonzero] / want[nonzero] - 1)) <= RELATIVE_ERROR
    np.testing.assert_array_equal(got[~nonzero], 0.0)


def test_streamed_summary_has_no_undefined_rows_either() -> None:
    # Demand halves every year, so without the shock nothing is shipped after the base year
    # (shipments 0), while the shock (M = 4, elasticity 3: Jevons) makes demand grow: every
    # sample's shipment impact is x / 0 = +inf. Its mean, sd and quantiles are undefined
    # (MODEL.md §7) and must have no row, streamed as exact.
    scenario = Scenario.model_validate(
        {
            "name": "shrinking",
            "years": {"base_year": 2024, "end_year": 2027},
            "demand": {
                "segments": [
                    {
                        "name": "all",
                        "kind": "training",
                        "share": 1.0,
                        "growth": 0.5,
                        "elasticity": 3.0,
                    }
                ]
            },
            "shocks": [
                {
                    "name": "m",
                    "type": "level",
                    "onset": 2025,
                    "magnitude": 4.0,
                    "applies_to": ["all"],
                    "adoption": {"width": 0.1},
                }
            ],
            "utilization": {"training": 0.3, "inference": 0.3},
            "fleet": {"initial_vintages": {2024: "4e6 to 6e6"}, "median_life": 5},
            "chips": {
                "h100e_per_accelerator": 1,
                "hbm_gb_per_accelerator": 80,
                "asp": 25000,
                "system_watts": 1000,
                "hbm_price": 15,
                "accelerator_capex_share": 0.6,
                "pue": 1.3,
                "load": 0.7,
            },
        }
    )
    exact = simulate_summary(scenario, 2000, rng=1, block_size=512, workers=1)
    streamed = simulate_summary(scenario, 2000, rng=1, block_size=512, workers=1, exact_budget=0)
    assert not streamed.exact
    for run in (exact, streamed):
        assert np.all(np.isfinite(run.summary.values))
        keys = set(
            zip(
                run.summary.variants,
                run.summary.metrics,
                run.summary.years,
                run.summary.statistics,
                strict=True,
            )
        )
        assert ("impact", "shipments_h100e", 2026, "mean") not in keys
        assert ("impact", "shipments_h100e", 2026, "p50") not in keys
        assert ("with_shocks", "shipments_h100e", 2026, "p50") in keys
    rows = {
        (v, m, y, s)
        for v, m, y, s in zip(
            exact.summary.variants,
            exact.summary.metrics,
            exact.summary.years,
            exact.summary.statistics,
            strict=True,
        )
    }
    streamed_rows = set(
        zip(
            streamed.summary.variants,
            streamed.summary.metrics,
            streamed.summary.years,
            streamed.summary.statistics,
            strict=True,
        )
    )
    assert rows == streamed_rows
