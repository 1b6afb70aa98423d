"""Known values and contracts of simulator.sampling (MODEL.md §6, §8 item 9).

Reference quantiles are ``scipy.stats``'s; sampled means are checked within a few Monte
Carlo standard errors (fixed seeds, so the tests are deterministic); rank correlations are
``scipy.stats.spearmanr``.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import numpy as np
import pytest
from pydantic import TypeAdapter
from scipy import special, stats

from simulator.sampling import (
    BLOCK_SIZE,
    SOBOL_REPLICATES,
    as_seed,
    block_uniforms,
    correlate,
    draw_block,
    path_values,
    ppf,
    stable_hash,
    stream,
)
from simulator.sampling.designs import open_unit
from simulator.sampling.distributions import beta_quantile
from simulator.schema import Scenario
from simulator.schema.distributions import (
    Beta,
    Choice,
    Distribution,
    Fixed,
    LogNormal,
    LogUniform,
    Normal,
    Pert,
    Scalar,
    Triangular,
    TruncNormal,
    Uniform,
)
from simulator.schema.paths import Anchors, FromGrowth, StartEnd

SCALAR: TypeAdapter[Distribution] = TypeAdapter(Scalar)
U_GRID = np.concatenate([[2.0**-53, 1e-12, 1e-6, 1e-3], np.linspace(0.01, 0.99, 99)])
U_GRID = np.concatenate([U_GRID, 1.0 - U_GRID[:4]])


def minimal_scenario(**overrides: Any) -> dict[str, Any]:
    """A small valid scenario dict; keys in ``overrides`` replace top-level entries."""
    d: dict[str, Any] = {
        "name": "t",
        "years": {"base_year": 2024, "end_year": 2030},
        "demand": {
            "segments": [
                {
                    "name": "chat",
                    "kind": "inference",
                    "share": 0.6,
                    "growth": {"start": "1.8 to 3", "end": "1.1 to 1.5"},
                },
                {"name": "pre", "kind": "training", "share": 0.4, "growth": "1.5 to 2.5"},
            ]
        },
        "utilization": {
            "training": {"kind": "pert", "low": 0.2, "mode": 0.3, "high": 0.4},
            "inference": 0.1,
        },
        "fleet": {"initial_vintages": {2023: 2e6, 2024: "4e6 to 6e6"}, "median_life": 5},
        "chips": {
            "h100e_per_accelerator": {"anchors": {2023: 1.0, 2030: "2 to 4"}},
            "hbm_gb_per_accelerator": 80,
            "asp": {"from": 2024, "value": "2e4 to 3e4", "growth": 1.05},
            "system_watts": 1400,
            "hbm_price": 15,
            "accelerator_capex_share": 0.6,
            "pue": 1.3,
            "load": 0.7,
        },
    }
    d.update(overrides)
    return d


# --- streams --------------------------------------------------------------------------


def test_stable_hash_is_sha256_prefix_and_pinned():
    path = "fleet.median_life"
    digest = hashlib.sha256(path.encode("utf-8")).digest()
    assert stable_hash(path) == int.from_bytes(digest[:8], "little")
    # pinned: changing it changes every result for every seed
    assert stable_hash(path) == 14739806436143170850
    assert 0 <= stable_hash("") < 2**64


def test_stream_is_spelled_out_seed_sequence():
    g = stream(42, "fleet.median_life", 3)
    seq = np.random.SeedSequence(42, spawn_key=(stable_hash("fleet.median_life"), 3))
    ref = np.random.Generator(np.random.PCG64(seq))
    np.testing.assert_array_equal(g.random(100), ref.random(100))
    # pinned values of the contract (numpy's PCG64 and SeedSequence are stable)
    assert stream(42, "fleet.median_life", 0).integers(0, 2**52, 3).tolist() == [
        2815294904038083,
        496504245006205,
        238565635788182,
    ]


def test_streams_differ_by_path_block_and_seed():
    a = stream(1, "x", 0).random(8)
    for other in (stream(1, "y", 0), stream(1, "x", 1), stream(2, "x", 0)):
        assert not np.array_equal(a, other.random(8))


def test_stream_rejects_negative():
    with pytest.raises(ValueError, match="must be >= 0"):
        stream(-1, "x", 0)
    with pytest.raises(ValueError, match="must be >= 0"):
        stream(1, "x", -1)


def test_as_seed_accepts_int_seedsequence_generator_none():
    assert as_seed(7) == 7
    assert as_seed(np.int64(7)) == 7
    assert as_seed(np.random.SeedSequence(123)) == 123
    fresh = as_seed(None)
    assert isinstance(fresh, int)
    assert fresh >= 0
    assert fresh != as_seed(None)
    # a spawned SeedSequence gives a reproducible 128-bit integer
    child = np.random.SeedSequence(5).spawn(1)[0]
    assert as_seed(child) == as_seed(np.random.SeedSequence(5).spawn(1)[0])
    assert 0 <= as_seed(child) < 2**128


def test_as_seed_spawns_from_generator_without_consuming_it():
    g = np.random.Generator(np.random.PCG64(np.random.SeedSequence(9)))
    twin = np.random.Generator(np.random.PCG64(np.random.SeedSequence(9)))
    s1, s2 = as_seed(g), as_seed(g)
    assert s1 != s2  # each call spawns a new child
    np.testing.assert_array_equal(g.random(5), twin.random(5))  # caller's stream intact
    g3 = np.random.Generator(np.random.PCG64(np.random.SeedSequence(9)))
    assert as_seed(g3) == s1  # reproducible


@pytest.mark.parametrize("bad", [1.5, "3", True, [1, 2], np.random.RandomState(0)])
def test_as_seed_rejects_other_types(bad):
    with pytest.raises(TypeError, match="rng must be None, a non-negative int"):
        as_seed(bad)


def test_as_seed_rejects_negative_int():
    with pytest.raises(ValueError, match="non-negative"):
        as_seed(-3)


def test_block_size_is_a_power_of_two():
    assert BLOCK_SIZE == 16_384
    assert BLOCK_SIZE & (BLOCK_SIZE - 1) == 0


# --- inverse CDFs against scipy.stats ----------------------------------------------------

LN = LogNormal(kind="lognormal", median=3.0, sigma=0.6)
CASES: list[tuple[Any, Any]] = [
    (Uniform(kind="uniform", low=-2.0, high=5.0), stats.uniform(-2.0, 7.0)),
    (LogUniform(kind="loguniform", low=0.1, high=1e3), stats.loguniform(0.1, 1e3)),
    (Normal(kind="normal", mean=3.0, sd=0.5), stats.norm(3.0, 0.5)),
    (
        TruncNormal(kind="truncnormal", mean=1.0, sd=2.0, low=0.0, high=4.0),
        stats.truncnorm(-0.5, 1.5, loc=1.0, scale=2.0),
    ),
    (
        TruncNormal(kind="truncnormal", mean=0.0, sd=1.0, low=8.0),
        stats.truncnorm(8.0, np.inf),
    ),
    (
        TruncNormal(kind="truncnormal", mean=0.0, sd=1.0, high=-20.0),
        stats.truncnorm(-np.inf, -20.0),
    ),
    (LN, stats.lognorm(0.6, scale=3.0)),
    (
        Triangular(kind="triangular", low=1.0, mode=2.0, high=5.0),
        stats.triang(0.25, loc=1.0, scale=4.0),
    ),
    (
        Triangular(kind="triangular", low=1.0, mode=1.0, high=5.0),
        stats.triang(0.0, loc=1.0, scale=4.0),
    ),
    (
        Pert(kind="pert", low=0.2, mode=0.3, high=0.4),
        stats.beta(3.0, 3.0, loc=0.2, scale=0.2),
    ),
    (
        Pert(kind="pert", low=0.0, mode=1.0, high=10.0, lamb=6.0),
        stats.beta(1.6, 6.4, loc=0.0, scale=10.0),
    ),
    (
        Beta(kind="beta", alpha=0.5, beta=2.5, low=-1.0, high=1.0),
        stats.beta(0.5, 2.5, loc=-1.0, scale=2.0),
    ),
    (Beta(kind="beta", alpha=30.0, beta=0.7), stats.beta(30.0, 0.7)),
]
IDS = [f"{d.kind}-{i}" for i, (d, _) in enumerate(CASES)]


@pytest.mark.parametrize(("dist", "ref"), CASES, ids=IDS)
def test_ppf_matches_scipy_quantiles(dist, ref):
    got = ppf(dist, U_GRID)
    want = ref.ppf(U_GRID)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize(("dist", "ref"), CASES, ids=IDS)
def test_sampled_mean_within_standard_errors(dist, ref):
    n = 200_000
    u = block_uniforms("random", 2024, ["p"], 0, n)["p"]
    x = ppf(dist, u)
    se = ref.std() / math.sqrt(n)
    assert abs(x.mean() - ref.mean()) < 4.5 * se
    lo, hi = dist.support()
    assert x.min() >= lo
    assert x.max() <= hi


def test_fixed_is_a_full_array():
    got = ppf(Fixed(value=2.5), np.full((3, 4), 0.5))
    assert got.shape == (3, 4)
    assert np.all(got == 2.5)


def test_ppf_rejects_unknown_spec():
    with pytest.raises(TypeError, match="no inverse CDF"):
        ppf(object(), [0.5])


def test_choice_matches_scipy_discrete_quantile():
    dist = Choice(kind="choice", values=[3.0, 1.0, 2.0, 7.0], weights=[0.2, 0.5, 0.0, 0.3])
    ref = stats.rv_discrete(values=([1, 2, 3, 7], [0.5, 0.0, 0.2, 0.3]))
    np.testing.assert_array_equal(ppf(dist, U_GRID), ref.ppf(U_GRID))
    x = ppf(dist, block_uniforms("random", 1, ["c"], 0, 100_000)["c"])
    assert not np.any(x == 2.0)  # zero weight: never drawn
    for value, p in ((1.0, 0.5), (3.0, 0.2), (7.0, 0.3)):
        assert abs((x == value).mean() - p) < 4.5 * math.sqrt(p * (1 - p) / x.size)


def test_choice_equal_weights_and_top_rounding():
    dist = Choice(kind="choice", values=[0.1, 0.2, 0.3], weights=[1.0, 1.0, 0.0])
    assert ppf(dist, [1.0 - 2.0**-53]).tolist() == [0.2]  # never the zero-weight value
    eq = Choice(kind="choice", values=[5.0, 6.0])
    assert ppf(eq, [0.25, 0.75]).tolist() == [5.0, 6.0]


def test_lognormal_by_interval_has_those_percentiles():
    dist = LogNormal(kind="lognormal", p5=2.0, p95=4.5)
    np.testing.assert_allclose(ppf(dist, [0.05, 0.95]), [2.0, 4.5], rtol=1e-12)


def test_shorthand_interval_gives_p5_and_p95():
    positive = SCALAR.validate_python("2 to 4.5")
    assert isinstance(positive, LogNormal)
    np.testing.assert_allclose(ppf(positive, [0.05, 0.5, 0.95]), [2, 3, 4.5], rtol=1e-12)
    signed = SCALAR.validate_python("-1 to 3")
    assert isinstance(signed, Normal)
    np.testing.assert_allclose(ppf(signed, [0.05, 0.5, 0.95]), [-1, 1, 3], rtol=1e-12)


def test_beta_quantile_matches_betaincinv_on_hard_shapes():
    u = block_uniforms("random", 3, ["b"], 0, 20_000)["b"]
    u = np.concatenate([u, [2.0**-53, 1.0 - 2.0**-53, 0.5]])
    for a, b in [(0.05, 0.05), (1e-3, 2.0), (2.0, 1e-3), (1000.0, 3.0), (1.0, 101.0)]:
        want = special.betaincinv(a, b, u)
        np.testing.assert_allclose(beta_quantile(a, b, u), want, rtol=1e-11, atol=1e-300)


# --- designs --------------------------------------------------------------------------

NAMES = ["a.x", "b.y", "c.z"]


@pytest.mark.parametrize("method", ["random", "lhs", "sobol"])
def test_uniforms_strictly_inside_and_deterministic(method):
    u1 = block_uniforms(method, 11, NAMES, 2, 1024)
    u2 = block_uniforms(method, 11, NAMES, 2, 1024)
    assert set(u1) == set(NAMES)
    for n in NAMES:
        assert u1[n].shape == (1024,)
        assert u1[n].dtype == np.float64
        assert np.all((u1[n] > 0) & (u1[n] < 1))
        np.testing.assert_array_equal(u1[n], u2[n])
    u3 = block_uniforms(method, 12, NAMES, 2, 1024)
    assert not np.array_equal(u1["a.x"], u3["a.x"])


def test_random_design_is_the_parameter_stream():
    got = block_uniforms("random", 5, ["p"], 4, 64)["p"]
    k = stream(5, "p", 4).integers(0, 2**52, size=64, dtype=np.int64)
    np.testing.assert_array_equal(got, (k + 0.5) / 2**52)


def test_uniform_extremes_are_inside():
    assert open_unit([0.0, 1.0]).tolist() == [2.0**-53, 1.0 - 2.0**-53]
    assert 0.0 < 2.0**-53
    assert 1.0 - 2.0**-53 < 1.0


@pytest.mark.parametrize("block_size", [1, 7, 1000, 4096])
def test_lhs_one_point_per_stratum(block_size):
    u = block_uniforms("lhs", 3, NAMES, 5, block_size)
    for n in NAMES:
        strata = np.floor(u[n] * block_size).astype(int)
        np.testing.assert_array_equal(np.sort(strata), np.arange(block_size))


def test_sobol_blocks_are_balanced_and_cache_independent():
    b = 256
    r = SOBOL_REPLICATES
    # jump straight to block 3, then walk 0..3, then jump back to 1: same points
    direct = block_uniforms("sobol", 8, NAMES, 3, b)
    walked = [block_uniforms("sobol", 8, NAMES, k, b) for k in range(4)]
    back = block_uniforms("sobol", 8, NAMES, 1, b)
    for n in NAMES:
        np.testing.assert_array_equal(direct[n], walked[3][n])
        np.testing.assert_array_equal(back[n], walked[1][n])
        # each replicate's b / R points of an aligned block are a (0, m, 1)-net in one
        # dimension: one point in each of b / R strata
        for k in range(r):
            strata = np.floor(direct[n][k::r] * (b // r)).astype(int)
            np.testing.assert_array_equal(np.sort(strata), np.arange(b // r))
    assert not np.array_equal(walked[0]["a.x"], walked[1]["a.x"])


def test_sobol_points_do_not_depend_on_block_size():
    # sample k is point k // R of replicate k % R whatever the blocks: 3 blocks of 100
    # (not powers of 2) give the same 300 samples as one block of 512, trimmed
    whole = block_uniforms("sobol", 4, NAMES, 0, 512, size=300)
    parts = [block_uniforms("sobol", 4, NAMES, k, 100) for k in range(3)]
    for n in NAMES:
        np.testing.assert_array_equal(whole[n], np.concatenate([p[n] for p in parts]))


def test_designs_reject_bad_input():
    with pytest.raises(ValueError, match="unknown sampling method"):
        block_uniforms("halton", 1, NAMES, 0, 8)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unique"):
        block_uniforms("random", 1, ["a", "a"], 0, 8)
    assert block_uniforms("sobol", 1, [], 0, 8) == {}
    with pytest.raises(ValueError, match=r"size must be in 1\.\.block_size=8"):
        block_uniforms("lhs", 1, NAMES, 0, 8, size=9)


@pytest.mark.parametrize("method", ["random", "lhs"])
def test_common_random_numbers(method):
    small = block_uniforms(method, 21, ["b.y"], 1, 512)
    large = block_uniforms(method, 21, ["z.other", "b.y", "a.first"], 1, 512)
    np.testing.assert_array_equal(small["b.y"], large["b.y"])


# --- correlation --------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["random", "lhs", "sobol"])
@pytest.mark.parametrize("rho", [-0.8, 0.3, 0.9])
def test_achieved_spearman_two_parameters(method, rho):
    n = 16_384
    u = block_uniforms(method, 99, ["p", "q", "r"], 0, n)
    c = correlate(u, [("p", "q", rho)])
    np.testing.assert_array_equal(c["r"], u["r"])  # untouched
    x = ppf(LN, c["p"])
    y = ppf(Pert(kind="pert", low=0.0, mode=1.0, high=4.0), c["q"])
    assert stats.spearmanr(x, y).statistic == pytest.approx(rho, abs=0.03)
    for name in ("p", "q"):
        assert np.all((c[name] > 0) & (c[name] < 1))


@pytest.mark.parametrize("method", ["random", "lhs"])
def test_achieved_spearman_three_parameters(method):
    n = 20_000
    pairs = [("a", "b", 0.6), ("a", "c", -0.4), ("b", "c", -0.2)]
    u = correlate(block_uniforms(method, 7, ["a", "b", "c"], 0, n), pairs)
    got = stats.spearmanr(np.column_stack([u["a"], u["b"], u["c"]])).statistic
    assert got[0, 1] == pytest.approx(0.6, abs=0.03)
    assert got[0, 2] == pytest.approx(-0.4, abs=0.03)
    assert got[1, 2] == pytest.approx(-0.2, abs=0.03)


def test_correlate_errors():
    u = block_uniforms("random", 1, ["a", "b", "c"], 0, 16)
    with pytest.raises(ValueError, match="not positive definite"):
        correlate(u, [("a", "b", 0.99), ("a", "c", 0.99), ("b", "c", -0.99)])
    with pytest.raises(ValueError, match="cannot correlate nope"):
        correlate(u, [("a", "nope", 0.5)])
    with pytest.raises(ValueError, match="more than once"):
        correlate(u, [("a", "b", 0.0), ("b", "a", 0.3)])
    with pytest.raises(ValueError, match="itself"):
        correlate(u, [("a", "a", 0.3)])
    assert correlate(u, []) == u


# --- paths ----------------------------------------------------------------------------


def _anchors(interpolate: str = "log") -> Anchors:
    return Anchors.model_validate({"anchors": {2026: 1.0, 2030: 1.0}, "interpolate": interpolate})


def test_anchors_log_midpoint_is_geometric_mean():
    draws = {"p.anchors.2026": np.array([2.0, 1.0]), "p.anchors.2030": np.array([8.0, 9.0])}
    years = [2024, 2026, 2028, 2030, 2031]
    got = path_values(_anchors(), draws, "p", years, 2024, 2031)
    assert got.shape == (2, 5)
    np.testing.assert_allclose(got[0], [2.0, 2.0, 4.0, 8.0, 8.0], rtol=1e-14)  # sqrt(2*8)
    np.testing.assert_allclose(got[1], [1.0, 1.0, 3.0, 9.0, 9.0], rtol=1e-14)  # sqrt(1*9)
    # anchor years and beyond the ends are the draws, bit for bit
    assert got[0, 1] == 2.0
    assert got[1, 3] == 9.0
    # quarter point: 2 * 4**0.25 (hand calculation: log-linear)
    q = path_values(_anchors(), draws, "p", [2027], 2024, 2031)
    assert q[0, 0] == pytest.approx(2.0 * 4.0**0.25, rel=1e-14)


def test_anchors_linear_midpoint_is_arithmetic_mean():
    draws = {"p.anchors.2026": np.array([2.0, -1.0]), "p.anchors.2030": np.array([8.0, 3.0])}
    got = path_values(_anchors("linear"), draws, "p", [2025, 2028, 2029, 2035], 2024, 2035)
    np.testing.assert_allclose(got[0], [2.0, 5.0, 6.5, 8.0], rtol=1e-14)
    np.testing.assert_allclose(got[1], [-1.0, 1.0, 2.0, 3.0], rtol=1e-14)


def test_single_anchor_is_flat_and_three_anchors_piecewise():
    one = Anchors.model_validate({"anchors": {2027: 5.0}})
    got = path_values(one, {"p.anchors.2027": np.array([5.0, 0.0])}, "p", [2024, 2030], 2024, 2030)
    np.testing.assert_array_equal(got, [[5.0, 5.0], [0.0, 0.0]])
    three = Anchors.model_validate({"anchors": {2030: 1.0, 2025: 1.0, 2026: 1.0}})
    draws = {
        "p.anchors.2025": np.array([1.0]),
        "p.anchors.2026": np.array([10.0]),
        "p.anchors.2030": np.array([10.0]),
    }
    got = path_values(three, draws, "p", range(2024, 2032), 2024, 2031)
    np.testing.assert_allclose(got[0], [1, 1, 10, 10, 10, 10, 10, 10], rtol=1e-14)


def test_log_anchors_reject_nonpositive():
    draws = {"p.anchors.2026": np.array([0.0]), "p.anchors.2030": np.array([1.0])}
    with pytest.raises(ValueError, match="needs values > 0"):
        path_values(_anchors(), draws, "p", [2028], 2024, 2030)


def test_start_end_endpoints_exact_and_log_linear():
    spec = StartEnd.model_validate({"start": 1.0, "end": 1.0})
    draws = {"g.start": np.array([3.0, 2.0]), "g.end": np.array([1.2, 2.0])}
    years = list(range(2024, 2031))  # projection 2025..2030
    got = path_values(spec, draws, "g", years, 2024, 2030)
    assert got[0, 0] == 3.0  # base year: start
    assert got[0, 1] == 3.0  # first projection year: start, exactly
    assert got[0, -1] == 1.2  # last projection year: end, exactly
    # 2027: 2/5 of the way in log space (hand calculation)
    assert got[0, 3] == pytest.approx(math.exp(math.log(3) + 0.4 * math.log(1.2 / 3)), rel=1e-14)
    np.testing.assert_allclose(got[1], 2.0, rtol=1e-15)


def test_start_end_single_projection_year_is_start():
    spec = StartEnd.model_validate({"start": 1.0, "end": 1.0})
    draws = {"g.start": np.array([3.0]), "g.end": np.array([1.5])}
    got = path_values(spec, draws, "g", [2024, 2025], 2024, 2025)
    np.testing.assert_array_equal(got, [[3.0, 3.0]])


def test_from_growth_known_values():
    spec = FromGrowth.model_validate({"from": 2026, "value": 1.0, "growth": 1.0})
    draws = {"a.value": np.array([2.0, 10.0]), "a.growth": np.array([1.5, 0.5])}
    got = path_values(spec, draws, "a", [2024, 2026, 2027, 2028], 2024, 2030)
    np.testing.assert_allclose(got[0], [2.0, 2.0, 3.0, 4.5], rtol=1e-14)  # 2 * 1.5**2 = 4.5
    np.testing.assert_allclose(got[1], [10.0, 10.0, 5.0, 2.5], rtol=1e-14)
    assert got[0, 1] == 2.0


def test_constant_path_broadcasts_and_missing_draw_is_named():
    got = path_values(Fixed(value=1.0), {"c": np.array([1.0, 2.0])}, "c", [1, 2, 3], 0, 3)
    np.testing.assert_array_equal(got, [[1.0] * 3, [2.0] * 3])
    with pytest.raises(KeyError, match="no draws for 'c'"):
        path_values(Fixed(value=1.0), {}, "c", [1], 0, 3)


# --- draw_block ------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["random", "lhs", "sobol"])
def test_draw_block_covers_every_scalar(method):
    sc = Scenario.model_validate(minimal_scenario(sampling={"method": method}))
    out = draw_block(sc, 5, 0, block_size=512)
    scalars = dict(sc.scalars())
    assert list(out) == list(scalars)
    for name, dist in scalars.items():
        assert out[name].shape == (512,)
        assert out[name].dtype == np.float64
        if isinstance(dist, Fixed):
            assert np.all(out[name] == dist.value)
        else:
            lo, hi = dist.support()
            assert np.all((out[name] >= lo) & (out[name] <= hi))
            assert np.unique(out[name]).size > 1
    again = draw_block(sc, 5, 0, block_size=512)
    for name in out:
        np.testing.assert_array_equal(out[name], again[name])
    # the paths evaluate from these draws
    for where, spec in sc.paths():
        v = path_values(spec, out, where, sc.years.all, 2024, 2030)
        assert v.shape == (512, 7)
        assert np.all(np.isfinite(v))


def test_draw_block_prefix_stability_and_blocks_differ():
    sc = Scenario.model_validate(minimal_scenario(sampling={"method": "lhs"}))
    first = draw_block(sc, 3, 0, block_size=256)
    later = [draw_block(sc, 3, b, block_size=256) for b in range(3)]
    name = "fleet.initial_vintages.2024"
    np.testing.assert_array_equal(first[name], later[0][name])
    assert not np.array_equal(later[0][name], later[1][name])


def test_draw_block_applies_correlations():
    a = "demand.segments.chat.growth.start"
    b = "chips.asp.value"
    sc = Scenario.model_validate(minimal_scenario(correlations=[{"between": [a, b], "rho": 0.7}]))
    out = draw_block(sc, 17, 0, block_size=20_000)
    assert stats.spearmanr(out[a], out[b]).statistic == pytest.approx(0.7, abs=0.03)
    plain = draw_block(Scenario.model_validate(minimal_scenario()), 17, 0, block_size=20_000)
    np.testing.assert_array_equal(
        out["fleet.initial_vintages.2024"], plain["fleet.initial_vintages.2024"]
    )
