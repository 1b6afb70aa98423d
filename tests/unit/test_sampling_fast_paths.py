"""The sampling stage's fast paths give exactly what their plain forms give (issue 8).

Each fast path of ``simulator.sampling`` is checked against the plain NumPy/SciPy form it
replaces, bit for bit: the radix-sort ``_argsort`` against ``numpy.argsort``; the one-pass
beta quantile against the two calls of ``_beta_lower`` and the mirror that
``beta_quantile`` made before (written out here); the in-place Latin hypercube, the
truncated inverse CDF and Iman-Conover's ``(k, s)`` layout against their expressions. The
reference values are those expressions evaluated by NumPy and SciPy in the test itself.
``benchmarks/bench_sampling.py`` checks the same against the previous release's code.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import numpy.typing as npt
import pytest
from scipy import special

from simulator.sampling import block_uniforms, correlate, designs, distributions, stream
from simulator.sampling.designs import _argsort, _iman_conover, _iman_conover_rows
from simulator.sampling.distributions import beta_quantile, truncated_ppf
from simulator.schema.distributions import LogNormal, Normal, Pert

FloatArray = npt.NDArray[np.float64]


def same_bits(a: object, b: object) -> bool:
    x, y = np.asarray(a), np.asarray(b)
    return x.shape == y.shape and x.dtype == y.dtype and x.tobytes() == y.tobytes()


# --- _argsort ------------------------------------------------------------------------------


def near_duplicates(rng: np.random.Generator, n: int, pairs: int) -> FloatArray:
    """Normal values, ``pairs`` of them a few ulps above another (one 32-bit key each)."""
    x = rng.standard_normal(n)
    src = rng.choice(n, size=2 * pairs, replace=False)
    x[src[pairs:]] = np.nextafter(x[src[:pairs]], np.inf) + rng.integers(0, 3, pairs) * 1e-15
    return x


@pytest.mark.parametrize("seed", range(6))
def test_argsort_is_numpys_on_distinct_values(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for x in (
        rng.standard_normal(16_384),
        rng.random(5000) * 1e-300,  # subnormal spacing
        np.exp(rng.standard_normal(3000) * 30),  # a range of many orders of magnitude
        near_duplicates(rng, 16_384, 40),  # runs of equal keys, mended one by one
        near_duplicates(rng, 4096, 300),  # more runs than are mended: numpy's own sort
    ):
        assert len(np.unique(x)) == x.size
        np.testing.assert_array_equal(_argsort(x), np.argsort(x))


def test_argsort_with_ties_or_non_finite_values_is_numpys_own() -> None:
    rng = np.random.default_rng(1)
    tied = np.round(rng.standard_normal(10_000), 3)  # many exact ties
    some_tied = rng.standard_normal(10_000)
    some_tied[17] = some_tied[4000]  # one tie: a run that is mended finds it
    zeros = np.array([0.0, -0.0, 1.0, -1.0, 0.0])
    for x in (
        tied,
        some_tied,
        zeros,
        np.array([1.0, np.nan, 0.5]),
        np.array([np.inf, 0.0, -np.inf]),
        np.full(7, 2.5),
        np.array([3.0]),
        np.array([2.0, 1.0]),
        np.array([1e308, -1e308]),  # hi - lo overflows
    ):
        np.testing.assert_array_equal(_argsort(x), np.argsort(x))


def test_argsort_takes_a_guess_only_when_it_sorts() -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal(1000)
    right = np.argsort(x)
    assert _argsort(x, right.copy()) is not None
    np.testing.assert_array_equal(_argsort(x, right.copy()), right)
    wrong = right.copy()
    wrong[[3, 4]] = wrong[[4, 3]]
    np.testing.assert_array_equal(_argsort(x, wrong), right)
    tied = np.array([1.0, 1.0, 0.0])
    np.testing.assert_array_equal(_argsort(tied, np.array([2, 0, 1])), np.argsort(tied))


# --- Iman-Conover ----------------------------------------------------------------------------


def test_iman_conover_layouts_agree_and_rows_are_contiguous() -> None:
    u = block_uniforms("lhs", 3, ["a", "b", "c"], 0, 2048)
    cols = np.stack([u["a"], u["b"], u["c"]])
    p = np.linalg.cholesky(np.array([[1.0, 0.5, 0.2], [0.5, 1.0, 0.1], [0.2, 0.1, 1.0]]))
    rows = _iman_conover_rows(cols, p)
    assert same_bits(_iman_conover(cols.T, p), rows.T)
    for j in range(3):
        np.testing.assert_array_equal(np.sort(rows[j]), np.sort(cols[j]))  # values kept
    np.testing.assert_array_equal(rows[0], cols[0])  # the first keeps its order
    out = correlate(u, [("a", "b", 0.5), ("a", "c", 0.2)])
    assert all(out[n].flags.c_contiguous and out[n].ndim == 1 for n in "abc")


def test_van_der_waerden_scores_are_cached_read_only() -> None:
    scores = designs._scores(100)
    assert same_bits(scores, special.ndtri(np.arange(1, 101) / 101.0))
    assert designs._scores(100) is scores
    with pytest.raises(ValueError, match="read-only"):
        scores[0] = 0.0


# --- Latin hypercube -------------------------------------------------------------------------


def test_lhs_is_its_expression() -> None:
    # (permutation(s) + (k + 0.5) 2**-52) / s, clipped: the design's definition
    for size in (1, 2, 1000):
        g = stream(4, "x.y", 2)
        strata = g.permutation(size)
        k = g.integers(0, 2**52, size=size, dtype=np.int64)
        want = np.clip((strata + (k + 0.5) * 2.0**-52) / size, 2.0**-53, 1 - 2.0**-53)
        got = block_uniforms("lhs", 4, ["x.y"], 2, 4096, size=size)["x.y"]
        assert same_bits(got, want)


# --- beta quantile ---------------------------------------------------------------------------


def two_call_form(a: float, b: float, u: FloatArray) -> FloatArray:
    """What beta_quantile computed before the one-pass form (shapes >= 1)."""
    out = np.empty_like(u)
    lower = u <= 0.5
    out[lower] = distributions._beta_lower(a, b, u[lower])
    upper = ~lower
    x = 1.0 - distributions._beta_lower(b, a, 1.0 - u[upper])
    small = x < distributions._MIRROR_MIN
    if small.any():
        x[small] = special.betaincinv(a, b, u[upper][small])
    out[upper] = x
    return out


@pytest.mark.parametrize(
    ("a", "b"),
    [(3.0, 3.0), (3.6666, 2.3333), (1.0, 1.0), (1.0, 5.0), (5.0, 1.0), (1.0001, 30.0)],
)
def test_beta_quantile_one_pass_is_the_two_call_form(a: float, b: float) -> None:
    rng = np.random.default_rng(11)
    edges = [0.5, 0.25, 0.75, 2.0**-53, 1 - 2.0**-53, 1e-300, 1e-20, 1 - 1e-17]
    u = np.concatenate([edges, rng.random(20_000), np.exp(-rng.uniform(0, 60, 2000))])
    u = np.concatenate([u, 1.0 - np.exp(-rng.uniform(0, 36, 2000))])
    with np.errstate(divide="ignore"):
        assert same_bits(beta_quantile(a, b, u), two_call_form(a, b, u))
        want = two_call_form(a, b, u).reshape(2, -1)
        assert same_bits(beta_quantile(a, b, u.reshape(2, -1)), want)


def test_pert_of_a_scalar_is_a_value() -> None:
    pert = Pert(kind="pert", low=0.2, mode=0.5, high=0.8)
    got = distributions.ppf(pert, 0.5)
    assert float(got) == pytest.approx(0.5, abs=1e-12)  # the median of a symmetric PERT


def test_tables_are_built_once_when_threads_ask_together() -> None:
    builds: list[tuple[float, float]] = []

    @distributions._built_once
    def table(a: float, b: float) -> tuple[float, float]:
        builds.append((a, b))
        time.sleep(0.05)
        return (a, b)

    got: list[tuple[float, float]] = []
    threads = [threading.Thread(target=lambda: got.append(table(2.0, 3.0))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert builds == [(2.0, 3.0)]
    assert got == [(2.0, 3.0)] * 4
    for i in range(distributions._TABLES_KEPT + 1):  # the oldest is dropped beyond the bound
        table(float(i), 0.0)
    table(2.0, 3.0)
    assert builds.count((2.0, 3.0)) == 2


# --- truncated inverse CDF -------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec", [LogNormal(kind="lognormal", p5=1.05, p95=1.3), Normal(kind="normal", mean=2, sd=1)]
)
def test_truncated_ppf_is_its_expression(spec: LogNormal | Normal) -> None:
    u = np.random.default_rng(3).random(5000)
    low, high = 1.1, 1.2
    f_lo, f_hi = distributions.cdf(spec, low), distributions.cdf(spec, high)
    q = np.clip(f_lo + u * (f_hi - f_lo), np.nextafter(0.0, 1.0), np.nextafter(1.0, 0.0))
    if isinstance(spec, LogNormal):
        want = np.clip(np.exp(spec.mu + spec.s * special.ndtri(q)), low, high)
    else:
        want = np.clip(spec.mean + spec.sd * special.ndtri(q), low, high)
    assert same_bits(truncated_ppf(spec, u, low, high), want)
    scalar = truncated_ppf(spec, np.float64(0.3), low, high)
    assert np.ndim(scalar) == 0
    assert low <= float(scalar) <= high


@pytest.mark.parametrize(("a", "b"), [(3.0, 3.0), (3.6666, 2.3333), (1.0001, 30.0)])
def test_pair_table_filled_on_demand_is_the_whole_table(a: float, b: float) -> None:
    # filled in pieces, lowest interval first asked for 1900, then lower, down to 0
    table = distributions._PairTable(a, b)
    assert table.lowest == distributions._QUINTIC_KNOTS - 1  # nothing built yet
    for lowest in (1900, 1899, 1500, 700, 3, 0):
        table.fill(lowest)
        assert table.lowest <= lowest
    lower, upper = distributions._beta_quintic_table(a, b), distributions._beta_quintic_table(b, a)
    assert same_bits(table.coef, np.concatenate([lower[0], upper[0]], axis=1))
    assert same_bits(table.ok, np.concatenate([lower[1], upper[1]]))
    assert table.all_ok == bool(lower[1].all() and upper[1].all())


def test_a_block_fills_only_the_intervals_it_reaches() -> None:
    u = block_uniforms("lhs", 1, ["p"], 0, 16_384)["p"]
    a, b = 2.7182, 1.6180  # a shape no other test uses: its table starts empty
    beta_quantile(a, b, u)
    table = distributions._beta_pair_table(a, b)
    # the smallest of min(u, 1 - u) is about 1 / (2 * 16384): log u about -10.4
    lowest_logu = np.log(np.minimum(u, 1 - u)).min()
    reached = int((lowest_logu - distributions._LOGU_MIN) / distributions._QUINTIC_H)
    assert table.lowest <= reached < table.lowest + distributions._FILL_STEP
    assert table.lowest > 1000  # about a quarter of the table, not all of it
