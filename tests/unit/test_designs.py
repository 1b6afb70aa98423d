"""What each sampling design promises, measured (issue 10, docs/sampling.md).

- Latin hypercube: every parameter has exactly one point in each of the ``s`` strata of a
  block of ``s`` samples, after the rank correlations are imposed (Iman-Conover keeps
  values), for a full block and for a 1000-sample run.
- Iman-Conover: achieved Spearman rank correlations within stated tolerances of the
  requested ones.
- Sobol': the randomized-QMC error of a mean falls faster than Monte Carlo's on a smooth
  integrand, and the standard errors from the 8 replicates cover the true error at about
  the nominal rate.

Reference values: the test integrand ``f(u) = prod_j exp(u_j)`` on ``[0, 1]^d`` has the
integral ``(e - 1)^d`` (each factor integrates to ``e - 1``). Seeds are fixed, so each test
is deterministic; the tolerances were set from the spread over 20 seeds (docs/sampling.md,
``python docs/sampling_figures.py``).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from simulator.cli import app
from simulator.engine import simulate, simulate_summary
from simulator.io import load_scenario
from simulator.sampling import (
    SOBOL_REPLICATES,
    SobolSampleCountWarning,
    achieved_rank_correlations,
    block_uniforms,
    correlate,
    draw_block,
    rank_correlation,
    sobol_sample_count_problem,
    uncertain_names,
)
from simulator.schema import Scenario
from simulator.summary import describe, exceedance, replicate_se

SCENARIOS = Path(__file__).parents[2] / "scenarios"
NAMES = ["a", "b", "c", "d"]
PAIRS = [("a", "b", 0.7), ("a", "c", -0.4), ("b", "c", -0.2), ("c", "d", 0.5)]


@pytest.fixture(scope="module")
def deepseek() -> Scenario:
    return load_scenario(SCENARIOS / "deepseek.yaml")


def one_per_stratum(u: np.ndarray) -> bool:
    s = u.shape[0]
    return bool(np.array_equal(np.sort(np.floor(u * s).astype(np.int64)), np.arange(s)))


# --- Latin hypercube strata survive the correlations ---------------------------------------


@pytest.mark.parametrize("size", [1000, 16_384])
def test_lhs_strata_all_held_after_correlation(size: int) -> None:
    u = block_uniforms("lhs", 5, NAMES, 0, 16_384, size=size)
    c = correlate(u, PAIRS)
    # Iman-Conover leaves the first parameter's order and reorders the others around it
    assert all(not np.array_equal(c[name], u[name]) for name in NAMES[1:])
    for name in NAMES:
        assert one_per_stratum(c[name]), f"{name}: a stratum lost its point"
        np.testing.assert_array_equal(np.sort(c[name]), np.sort(u[name]))  # values kept


def test_a_1000_sample_run_is_one_latin_hypercube(deepseek) -> None:
    # What the engine draws for -n 1000: one block of 1000 (size=1000), stratified over
    # 1000, with deepseek's correlations imposed; every uncertain parameter's 1000 uniforms
    # hold one point in each of the 1000 strata (100% occupancy).
    from simulator.sampling import _correlated_uniforms

    names = uncertain_names(deepseek)
    u = _correlated_uniforms(deepseek, names, 7, 0, 16_384, 1000)
    correlated = {n for a, b, _ in deepseek.active_correlations() for n in (a, b)}
    assert correlated <= set(names)
    occupancy = [one_per_stratum(u[n]) for n in names]
    assert all(occupancy), [n for n, ok in zip(names, occupancy, strict=True) if not ok]
    # and draw_block gives 1000 values for each scalar
    draws = draw_block(deepseek, 7, 0, size=1000)
    assert {v.shape for v in draws.values()} == {(1000,)}


def test_the_last_block_is_stratified_over_its_own_size() -> None:
    # A run of 16384 + 300: block 1 holds 300 samples, a 300-point Latin hypercube.
    u = block_uniforms("lhs", 2, NAMES, 1, 16_384, size=300)
    assert all(one_per_stratum(correlate(u, PAIRS)[n]) for n in NAMES)


def test_lhs_uniforms_depend_only_on_seed_name_block_and_size() -> None:
    # common random numbers: another parameter set, same uniforms for a shared name
    a = block_uniforms("lhs", 9, ["x"], 3, 4096, size=777)
    b = block_uniforms("lhs", 9, ["q", "x", "z"], 3, 4096, size=777)
    np.testing.assert_array_equal(a["x"], b["x"])
    c = block_uniforms("lhs", 9, ["x"], 3, 8192, size=777)  # the full block's size is moot
    np.testing.assert_array_equal(a["x"], c["x"])


# --- Iman-Conover achieved rank correlations ------------------------------------------------


@pytest.mark.parametrize(
    ("method", "size", "tol"),
    [
        ("lhs", 16_384, 0.01),
        ("lhs", 1000, 0.03),
        ("random", 16_384, 0.015),
        ("random", 1000, 0.04),
        ("sobol", 16_384, 0.01),
        ("sobol", 1024, 0.04),
    ],
)
def test_achieved_rank_correlations_within_tolerance(method: str, size: int, tol: float) -> None:
    # Tolerances: 20 seeds gave a largest error of 0.004 (lhs, 16384), 0.027 (lhs, 1024),
    # 0.008 / 0.027 (random) and 0.0005 / 0.010 (sobol, per-replicate reordering);
    # docs/sampling_figures.py section 2.
    replicates = SOBOL_REPLICATES if method == "sobol" else 1
    for seed in range(3):
        u = block_uniforms(method, seed, NAMES, 0, 16_384, size=size)  # type: ignore[arg-type]
        got = rank_correlation(correlate(u, PAIRS, replicates=replicates), NAMES)
        for a, b, rho in PAIRS:
            err = got[NAMES.index(a), NAMES.index(b)] - rho
            assert abs(err) <= tol, f"{method} n={size} seed={seed} {a}~{b}: {err:+.4f}"
        # a pair of the same group that is not requested is targeted at 0
        assert abs(got[0, 3]) <= tol


def test_iman_conover_beats_the_target_as_given() -> None:
    # The scores' target is the Pearson r = 2 sin(pi rho / 6) of each Spearman rho (Kruskal
    # 1958), not rho itself: with rho itself the achieved rank correlations are biased by
    # about -0.018 at rho = 0.7 (r - rho for normals), beyond the noise at 16384 samples.
    u = block_uniforms("lhs", 0, ["a", "b"], 0, 16_384)
    got = rank_correlation(correlate(u, [("a", "b", 0.7)]))[0, 1]
    assert abs(got - 0.7) < 0.005
    biased = 6.0 / math.pi * math.asin(0.7 / 2.0)  # what the target as given would give
    assert abs(biased - 0.7) > 0.015


def test_correlation_groups_are_reordered_on_their_own() -> None:
    # adding a correlation between other parameters leaves a group's values and order
    u = block_uniforms("random", 4, ["a", "b", "c", "d"], 0, 2048)
    one = correlate(u, [("a", "b", 0.6)])
    two = correlate(u, [("a", "b", 0.6), ("c", "d", -0.3)])
    for n in ("a", "b"):
        np.testing.assert_array_equal(one[n], two[n])


def test_iman_conover_is_deterministic_and_keeps_the_error_message() -> None:
    u = block_uniforms("lhs", 1, NAMES, 0, 512)
    first, again = correlate(u, PAIRS), correlate(u, PAIRS)
    for n in NAMES:
        np.testing.assert_array_equal(first[n], again[n])
    with pytest.raises(ValueError, match="not jointly possible"):
        correlate(u, [("a", "b", 0.99), ("a", "c", 0.99), ("b", "c", -0.99)])


@pytest.mark.parametrize("size", [1, 2, 3])
def test_iman_conover_on_tiny_blocks_keeps_values(size: int) -> None:
    u = block_uniforms("lhs", 1, NAMES, 0, 16, size=size)
    c = correlate(u, PAIRS)
    for n in NAMES:
        np.testing.assert_array_equal(np.sort(c[n]), np.sort(u[n]))


def test_achieved_rank_correlations_of_a_run(deepseek) -> None:
    got = achieved_rank_correlations(deepseek, 3, 20_000, block_size=16_384)
    assert len(got) == len(deepseek.active_correlations())
    for item in got:
        assert abs(item.achieved - item.target) < 0.02, item
        assert abs(item.worst_block - item.target) >= abs(item.achieved - item.target) - 1e-12
    # the average of block 0 (16384 samples) and block 1 (3616) weighted by size
    b0 = achieved_rank_correlations(deepseek, 3, 16_384, block_size=16_384)
    assert got[0].achieved != b0[0].achieved
    assert achieved_rank_correlations(deepseek, 3, 20_000, max_blocks=1)[0] == b0[0]


def test_achieved_rank_correlations_without_correlations(deepseek) -> None:
    plain = deepseek.model_copy(update={"correlations": []})
    assert achieved_rank_correlations(plain, 1, 100) == []


# --- Sobol': randomized QMC ------------------------------------------------------------------

D = 4
EXACT = (math.e - 1.0) ** D
EXP_NAMES = [f"x{j}" for j in range(D)]


def estimate(method: str, seed: int, n: int) -> tuple[float, np.ndarray]:
    u = block_uniforms(method, seed, EXP_NAMES, 0, 1 << 14, size=n)  # type: ignore[arg-type]
    f = np.exp(np.sum([u[k] for k in EXP_NAMES], axis=0))
    return float(f.mean()), f


def rmse_slope(method: str, seeds: int = 16) -> float:
    ns = [2**k for k in range(8, 15)]
    rmse = []
    for n in ns:
        errs = [estimate(method, s, n)[0] - EXACT for s in range(seeds)]
        rmse.append(math.sqrt(float(np.mean(np.square(errs)))))
    slope, _ = np.polyfit(np.log(ns), np.log(rmse), 1)
    return float(slope)


def test_qmc_error_shrinks_faster_than_monte_carlo() -> None:
    # RMSE over 16 seeds at n = 2^8 .. 2^14. Monte Carlo: n^-0.5. Scrambled Sobol' nets on
    # a smooth integrand: about n^-1.5 (Owen 1997); 8 replicates of n/8 points keep the
    # rate (each replicate holds 32 .. 2048 points here, still short of the asymptote).
    # Measured over these 16 seeds: random -0.46, lhs -0.55, sobol -1.20.
    mc = rmse_slope("random")
    qmc = rmse_slope("sobol")
    assert -0.65 < mc < -0.35
    assert qmc < -1.0
    assert qmc < mc - 0.5


def test_sobol_replicate_standard_errors_cover_the_true_error() -> None:
    # 200 independent seeds at n = 1024: |estimate - exact| <= 2 se in about 94% of them
    # (t with 7 degrees of freedom: P(|t| <= 2) = 0.914); the iid formula s / sqrt(n)
    # would overstate the error of these QMC means by more than an order of magnitude.
    n = 1024
    covered = 0
    ratio = []
    for seed in range(200):
        mean, f = estimate("sobol", seed, n)
        se = float(describe(f, replicates=SOBOL_REPLICATES)["se_mean"])
        covered += abs(mean - EXACT) <= 2.0 * se
        ratio.append(float(np.std(f, ddof=1)) / math.sqrt(n) / se)
    assert 0.88 <= covered / 200 <= 0.99
    assert float(np.median(ratio)) > 10.0


# --- replicate standard errors in the summaries --------------------------------------------


def test_describe_with_replicates_known_value() -> None:
    # 32 samples, R = 16: replicate r holds samples r and r + 16, values r and r + 16, so
    # its mean is r + 8; sd of 8..23 (ddof 1) is sqrt(16 * 17 / 12); se = that / sqrt(16).
    x = np.arange(32.0)
    got = describe(x, replicates=16)
    assert float(got["se_mean"]) == pytest.approx(math.sqrt(16 * 17 / 12) / 4.0, rel=1e-14)
    assert all(math.isnan(float(v)) for k, v in got.items() if k.startswith("se_p"))
    assert float(got["mean"]) == pytest.approx(15.5)
    plain = describe(x)
    assert float(plain["se_mean"]) == pytest.approx(np.std(x, ddof=1) / math.sqrt(32))


def test_exceedance_with_replicates_known_value() -> None:
    # replicates 0..7 hit both of their samples, 8..15 none: fractions 1 (8x) and 0 (8x),
    # sd = sqrt(16 / 60) (ddof 1), se = sd / 4
    x = np.tile(np.r_[np.ones(8), np.zeros(8)], 2)
    p, se = exceedance(x, ">", 0.5, replicates=16)
    assert float(p) == 0.5
    assert float(se) == pytest.approx(math.sqrt(16 / 60) / 4.0, rel=1e-14)
    assert math.isnan(float(replicate_se([1.0])))


def test_sobol_run_standard_errors_streamed_equal_exact(deepseek) -> None:
    kwargs = {"rng": 5, "method": "sobol", "block_size": 1024}
    exact = simulate_summary(deepseek, 4096, workers=1, **kwargs)  # type: ignore[arg-type]
    streamed = simulate_summary(deepseek, 4096, workers=2, exact_budget=0, **kwargs)  # type: ignore[arg-type]
    assert exact.exact
    assert not streamed.exact
    for year in (2026, 2030):
        a = exact.summary.value("with_shocks", "hbm_gb", year, "se_mean")
        b = streamed.summary.value("with_shocks", "hbm_gb", year, "se_mean")
        assert a == pytest.approx(b, rel=1e-9)
    for table in (exact.summary, streamed.summary):
        assert not any(s.startswith("se_p") for s in table.statistics)
    for qa, qb in zip(exact.answers, streamed.answers, strict=True):
        assert qa.probability == qb.probability
        assert qa.se == pytest.approx(qb.se, rel=1e-12)
    # the replicate se is not the iid one
    result = simulate(deepseek, 4096, **kwargs)  # type: ignore[arg-type]
    col = result.with_shocks["hbm_gb"][:, result.years.index(2030)]
    iid = float(np.std(col, ddof=1)) / math.sqrt(4096)
    assert exact.summary.value("with_shocks", "hbm_gb", 2030, "se_mean") != pytest.approx(iid)


def test_sobol_determinism_over_workers_and_blocks(deepseek) -> None:
    a = simulate(deepseek, 2048, rng=1, method="sobol", block_size=512)
    b = simulate(deepseek, 2048, rng=1, method="sobol", block_size=512, workers=2)
    np.testing.assert_array_equal(a.with_shocks["hbm_gb"], b.with_shocks["hbm_gb"])
    # without correlations the samples do not depend on the block size either
    plain = deepseek.model_copy(update={"correlations": []})
    c = simulate(plain, 2048, rng=1, method="sobol", block_size=512)
    d = simulate(plain, 2048, rng=1, method="sobol", block_size=2048)
    np.testing.assert_array_equal(c.with_shocks["hbm_gb"], d.with_shocks["hbm_gb"])


# --- the sample-count warning ---------------------------------------------------------------


def test_sobol_sample_count_problem() -> None:
    assert sobol_sample_count_problem(1024) is None
    assert sobol_sample_count_problem(8) is None
    msg = sobol_sample_count_problem(1000)
    assert msg is not None
    assert "use 512 or 1,024 samples" in msg
    assert "use 8 samples" in (sobol_sample_count_problem(4) or "")
    assert "use 8 samples" in (sobol_sample_count_problem(1) or "")


def test_sobol_warns_when_the_count_is_not_a_power_of_two(deepseek) -> None:
    with pytest.warns(SobolSampleCountWarning, match="1,000 is not"):
        simulate(deepseek, 1000, rng=1, method="sobol")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        simulate(deepseek, 1024, rng=1, method="sobol")
        simulate(deepseek, 1000, rng=1, method="lhs")


def test_cli_says_so_for_sobol() -> None:
    result = CliRunner().invoke(
        app, ["run", str(SCENARIOS / "deepseek.yaml"), "-n", "1000", "--method", "sobol"]
    )
    assert result.exit_code == 0, result.output
    assert "note: the sobol design splits a run into 8" in result.output
    assert "use 512 or 1,024 samples" in result.output


def test_validate_shows_achieved_rank_correlations() -> None:
    # deepseek's 20,000 lhs samples with its seed: block 0 (16384) and block 1 (3616)
    plain = CliRunner().invoke(app, ["validate", str(SCENARIOS / "deepseek.yaml")])
    assert plain.exit_code == 0, plain.output
    assert "achieved" not in plain.output  # drawing samples is opt-in: validate stays instant
    args = ["validate", "--correlations", str(SCENARIOS / "deepseek.yaml")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "rank correlations, requested -> achieved by its 20,000 lhs samples" in result.output
    line = next(t for t in result.output.splitlines() if "shocks.deepseek.magnitude ~" in t)
    target, achieved = (float(v) for v in line.split(": ")[1].split(" -> "))
    assert target == 0.3
    assert abs(achieved - target) < 0.01
    assert "seed 20250127; Iman-Conover" in result.output  # base.yaml's seed, inherited


def test_validate_correlations_of_a_seedless_scenario_say_which_seed(tmp_path: Path) -> None:
    text = (SCENARIOS / "base.yaml").read_text(encoding="utf-8")
    path = tmp_path / "seedless.yaml"
    path.write_text(text.replace("  seed: 20250127", "  seed: null"), encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", "--correlations", str(path)])
    assert result.exit_code == 0, result.output
    assert "(seed 0: the scenario sets none; Iman-Conover)" in result.output


def test_validate_notes_a_sobol_sample_count(tmp_path: Path) -> None:
    text = (SCENARIOS / "base.yaml").read_text(encoding="utf-8")
    path = tmp_path / "sobol.yaml"
    path.write_text(text.replace("method: lhs", "method: sobol"), encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "note: the sobol design splits a run into 8" in result.output
    assert "use 16,384 or 32,768 samples" in result.output
