"""Invariants of the sampling layer (MODEL.md §6 and §8 item 9), checked by hypothesis.

Hypothesis owns the seeds; every draw below is a pure function of them.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.sampling import (
    SOBOL_REPLICATES,
    block_uniforms,
    correlate,
    draw_block,
    path_values,
    ppf,
)
from simulator.schema import Scenario
from simulator.schema.distributions import (
    Beta,
    Choice,
    LogNormal,
    Normal,
    Pert,
    Triangular,
    TruncNormal,
    Uniform,
)
from simulator.schema.paths import Anchors, FromGrowth, StartEnd
from tests.unit.test_sampling import minimal_scenario

SEEDS = st.integers(0, 2**63 - 1)
METHODS = st.sampled_from(["random", "lhs", "sobol"])
NAME = st.text("abcxyz.", min_size=1, max_size=12)
POW2 = st.sampled_from([1, 2, 16, 64, 256, 1024])
finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
positive = st.floats(1e-3, 1e3, allow_nan=False, allow_infinity=False)


@settings(deadline=None, max_examples=30)
@given(
    method=METHODS,
    seed=SEEDS,
    block=st.integers(0, 10_000),
    block_size=POW2,
    names=st.lists(NAME, min_size=1, max_size=5, unique=True),
)
def test_uniforms_strictly_inside_and_reproducible(method, seed, block, block_size, names):
    u = block_uniforms(method, seed, names, block, block_size)
    again = block_uniforms(method, seed, names, block, block_size)
    assert sorted(u) == sorted(names)
    for n in names:
        assert u[n].shape == (block_size,)
        assert np.all(u[n] > 0.0)
        assert np.all(u[n] < 1.0)
        np.testing.assert_array_equal(u[n], again[n])


@settings(deadline=None, max_examples=30)
@given(
    method=st.sampled_from(["random", "lhs"]),
    seed=SEEDS,
    block=st.integers(0, 1000),
    block_size=st.integers(1, 600),
    names=st.lists(NAME, min_size=2, max_size=6, unique=True),
)
def test_common_random_numbers_random_and_lhs(method, seed, block, block_size, names):
    """A parameter's uniforms do not depend on which other parameters exist."""
    alone = block_uniforms(method, seed, names[:1], block, block_size)
    together = block_uniforms(method, seed, names, block, block_size)
    np.testing.assert_array_equal(alone[names[0]], together[names[0]])


@settings(deadline=None, max_examples=30)
@given(seed=SEEDS, block=st.integers(0, 1000), block_size=st.integers(1, 2000))
def test_lhs_exactly_one_point_per_stratum(seed, block, block_size):
    u = block_uniforms("lhs", seed, ["p", "q"], block, block_size)
    for x in u.values():
        strata = np.floor(x * block_size).astype(np.int64)
        np.testing.assert_array_equal(np.sort(strata), np.arange(block_size))


@settings(deadline=None, max_examples=20)
@given(seed=SEEDS, block=st.integers(0, 200), m=st.integers(4, 12))
def test_sobol_blocks_are_one_dimensional_nets(seed, block, m):
    """An aligned block of 2**m samples holds 2**m / R points of each replicate, a net."""
    b = 2**m
    r = SOBOL_REPLICATES
    u = block_uniforms("sobol", seed, ["a", "b", "c", "d"], block, b)
    for x in u.values():
        for k in range(r):
            strata = np.floor(x[k::r] * (b // r)).astype(np.int64)
            np.testing.assert_array_equal(np.sort(strata), np.arange(b // r))


@settings(deadline=None, max_examples=15)
@given(method=METHODS, seed=SEEDS, n_blocks=st.integers(1, 4))
def test_prefix_stability(method, seed, n_blocks):
    """Block 0 is the same whatever number of blocks is later drawn."""
    sc = Scenario.model_validate(minimal_scenario(sampling={"method": method}))
    alone = draw_block(sc, seed, 0, block_size=64)
    blocks = [draw_block(sc, seed, b, block_size=64) for b in range(n_blocks)]
    for name, values in alone.items():
        np.testing.assert_array_equal(values, blocks[0][name])


@settings(deadline=None, max_examples=15)
@given(method=METHODS, seed=SEEDS)
def test_different_seeds_differ(method, seed):
    a = block_uniforms(method, seed, ["p"], 0, 64)["p"]
    b = block_uniforms(method, seed + 1, ["p"], 0, 64)["p"]
    assert not np.array_equal(a, b)


def _dists() -> st.SearchStrategy[object]:
    widths = st.floats(1e-3, 1e3, allow_nan=False, allow_infinity=False)
    return st.one_of(
        st.builds(lambda lo, w: Uniform(kind="uniform", low=lo, high=lo + w), finite, widths),
        st.builds(lambda m, s: Normal(kind="normal", mean=m, sd=s), finite, positive),
        st.builds(
            lambda m, s, a, w: TruncNormal(
                kind="truncnormal", mean=m, sd=s, low=m + a * s, high=m + (a + w) * s
            ),
            finite,
            positive,
            st.floats(-10, 10),
            st.floats(0.01, 20),
        ),
        st.builds(
            lambda med, s: LogNormal(kind="lognormal", median=med, sigma=s),
            positive,
            st.floats(0.01, 3),
        ),
        st.builds(
            lambda lo, w1, w2: Triangular(
                kind="triangular", low=lo, mode=lo + w1, high=lo + w1 + w2
            ),
            finite,
            st.floats(0, 100),
            st.floats(1e-3, 100),
        ),
        st.builds(
            lambda lo, w1, w2, lam: Pert(
                kind="pert", low=lo, mode=lo + w1, high=lo + w1 + w2, lamb=lam
            ),
            finite,
            st.floats(0, 100),
            st.floats(1e-3, 100),
            st.floats(0.5, 20),
        ),
        st.builds(
            lambda a, b: Beta(kind="beta", alpha=a, beta=b),
            st.floats(0.1, 50),
            st.floats(0.1, 50),
        ),
        st.builds(
            lambda vals, w: Choice(kind="choice", values=vals, weights=[w] * len(vals)),
            st.lists(finite, min_size=1, max_size=5),
            st.floats(0.1, 10),
        ),
    )


@settings(deadline=None, max_examples=60)
@given(dist=_dists(), seed=SEEDS)
def test_ppf_is_monotone_and_inside_support(dist, seed):
    u = np.sort(block_uniforms("random", seed, ["u"], 0, 512)["u"])
    u = np.concatenate([[2.0**-53], u, [1.0 - 2.0**-53]])
    x = ppf(dist, u)
    lo, hi = dist.support()
    assert np.all(np.isfinite(x))
    assert np.all(x >= lo)
    assert np.all(x <= hi)
    assert np.all(np.diff(x) >= -1e-12 * np.maximum(1.0, np.abs(x[1:])))


@settings(deadline=None, max_examples=20)
@given(
    seed=SEEDS,
    method=st.sampled_from(["random", "lhs"]),
    rho=st.floats(-0.95, 0.95),
)
def test_correlation_sign_and_untouched_others(seed, method, rho):
    u = block_uniforms(method, seed, ["a", "b", "c"], 0, 4096)
    c = correlate(u, [("a", "b", rho)])
    np.testing.assert_array_equal(c["c"], u["c"])
    assert np.all((c["a"] > 0) & (c["a"] < 1))
    r = np.corrcoef(np.argsort(np.argsort(c["a"])), np.argsort(np.argsort(c["b"])))[0, 1]
    assert abs(r - rho) < 0.08


@settings(deadline=None, max_examples=40)
@given(
    years=st.lists(st.integers(2000, 2060), min_size=1, max_size=4, unique=True),
    values=st.lists(positive, min_size=4, max_size=4),
    log=st.booleans(),
)
def test_anchor_paths_stay_within_anchor_range_and_hit_anchors(years, values, log):
    spec = Anchors.model_validate(
        {"anchors": dict.fromkeys(years, 1.0), "interpolate": "log" if log else "linear"}
    )
    draws = {f"p.anchors.{y}": np.array([v]) for y, v in zip(years, values, strict=False)}
    grid = list(range(1995, 2066))
    got = path_values(spec, draws, "p", grid, 1995, 2065)[0]
    vals = [values[i] for i in range(len(years))]
    assert np.all(got >= min(vals) * (1 - 1e-12))
    assert np.all(got <= max(vals) * (1 + 1e-12))
    for y, v in zip(years, vals, strict=True):
        assert got[grid.index(y)] == v
    first, last = min(years), max(years)
    assert np.all(got[: grid.index(first)] == draws[f"p.anchors.{first}"][0])
    assert np.all(got[grid.index(last) :] == draws[f"p.anchors.{last}"][0])


@settings(deadline=None, max_examples=40)
@given(
    base=st.integers(2000, 2050),
    horizon=st.integers(1, 30),
    start=positive,
    end=positive,
    frm=st.integers(1990, 2090),
    growth=st.floats(0.5, 2.0),
)
def test_start_end_and_growth_paths_monotone_between_ends(base, horizon, start, end, frm, growth):
    years = list(range(base, base + horizon + 1))
    se = StartEnd.model_validate({"start": 1.0, "end": 1.0})
    got = path_values(
        se,
        {"g.start": np.array([start]), "g.end": np.array([end])},
        "g",
        years,
        base,
        base + horizon,
    )[0]
    assert got[0] == start
    assert got[-1] == (end if horizon > 1 else start)
    d = np.diff(got)
    tol = 1e-12 * max(start, end)
    assert np.all(d >= -tol) or np.all(d <= tol)
    fg = FromGrowth.model_validate({"from": frm, "value": 1.0, "growth": 1.0})
    g = path_values(
        fg,
        {"a.value": np.array([start]), "a.growth": np.array([growth])},
        "a",
        years,
        base,
        base + horizon,
    )[0]
    steps = np.maximum(np.asarray(years) - frm, 0)
    np.testing.assert_allclose(g, start * growth**steps, rtol=1e-12)
