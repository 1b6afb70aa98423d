"""Sobol' indices (simulator.sobol): validated on functions with analytic indices.

The Ishigami and linear functions go through :func:`simulator.sobol.analyze_function`, the
same design, chunked evaluation, clipping and SALib analysis that :func:`sobol_indices` runs
on a scenario's model (it only passes a different function).

Reference values
----------------
Ishigami, ``f = sin x1 + a sin^2 x2 + b x3^4 sin x1`` with ``x_i ~ U(-pi, pi)`` independent
(Ishigami & Homma 1990; Saltelli et al., *Global Sensitivity Analysis: The Primer*, Wiley 2008,
§4.8; SALib's ``test_functions/Ishigami.py``): ``V1 = (1 + b pi^4 / 5)^2 / 2``, ``V2 = a^2 / 8``,
``V3 = 0``, ``V13 = b^2 pi^8 (1/18 - 1/50)``, ``V = V1 + V2 + V13``; ``S_i = V_i / V``,
``ST1 = (V1 + V13) / V``, ``ST2 = S2``, ``ST3 = V13 / V``. For ``a = 7, b = 0.1``:
``S1 = (0.3139, 0.4424, 0)``, ``ST = (0.5576, 0.4424, 0.2437)``.

Linear, ``f = sum c_i u_i`` with ``u_i ~ U(0, 1)``: ``Var f = sum c_i^2 / 12``, no interactions,
so ``S1_i = ST_i = c_i^2 / sum c_j^2``.
"""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest
from numpy.typing import NDArray

from simulator.io import load_scenario
from simulator.sobol import (
    SobolCorrelationWarning,
    analyze_function,
    cost,
    design_size,
    next_power_of_2,
    sobol_indices,
)

A, B = 7.0, 0.1


def _ishigami_reference() -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    pi = math.pi
    v1 = 0.5 * (1.0 + B * pi**4 / 5.0) ** 2
    v2 = A**2 / 8.0
    v13 = B**2 * pi**8 * (1.0 / 18.0 - 1.0 / 50.0)
    v = v1 + v2 + v13
    s1 = np.array([v1 / v, v2 / v, 0.0])
    st = np.array([(v1 + v13) / v, v2 / v, v13 / v])
    return s1, st, v13 / v


def ishigami(u: NDArray[np.float64]) -> NDArray[np.float64]:
    x = -math.pi + 2.0 * math.pi * u
    y = np.sin(x[:, 0]) + A * np.sin(x[:, 1]) ** 2 + B * x[:, 2] ** 4 * np.sin(x[:, 0])
    return y[:, None]


COEFFS = np.array([1.0, 2.0, 3.0, 0.0])


def linear(u: NDArray[np.float64]) -> NDArray[np.float64]:
    y: NDArray[np.float64] = u @ COEFFS
    return y[:, None]


def test_reference_values_match_the_published_rounded_ones():
    s1, st, _ = _ishigami_reference()
    np.testing.assert_allclose(s1, [0.3139, 0.4424, 0.0], atol=5e-5)
    np.testing.assert_allclose(st, [0.5576, 0.4424, 0.2437], atol=5e-5)


def test_ishigami_indices_lie_within_their_confidence_intervals():
    s1, st, _ = _ishigami_reference()
    res = analyze_function(ishigami, ["x1", "x2", "x3"], base_samples=4096, seed=1, workers=1)
    assert res.n_evaluations == 4096 * 5
    assert res.skipped == ("",)
    # 95% intervals: with this seed every one of the six covers its analytic value ...
    assert np.all(np.abs(res.S1[0] - s1) <= res.S1_conf[0])
    assert np.all(np.abs(res.ST[0] - st) <= res.ST_conf[0])
    # ... and the intervals are informative (narrower than 0.05 at N = 4096)
    assert np.all(res.S1_conf[0] < 0.05)
    assert np.all(res.ST_conf[0] < 0.05)


def test_ishigami_intervals_cover_the_truth_over_seeds():
    """Coverage of the bootstrap intervals over 8 seeds: at least 40 of 48 (nominal 95%)."""
    s1, st, _ = _ishigami_reference()
    covered = 0
    for seed in range(8):
        res = analyze_function(ishigami, ["x1", "x2", "x3"], base_samples=1024, seed=seed)
        covered += int(np.sum(np.abs(res.S1[0] - s1) <= res.S1_conf[0]))
        covered += int(np.sum(np.abs(res.ST[0] - st) <= res.ST_conf[0]))
    assert covered >= 40


def test_ishigami_second_order_x1_x3_is_the_only_interaction():
    _, _, s13 = _ishigami_reference()
    res = analyze_function(
        ishigami, ["x1", "x2", "x3"], base_samples=4096, seed=3, second_order=True
    )
    assert res.n_evaluations == 4096 * (2 * 3 + 2)
    assert res.S2 is not None
    assert res.S2_conf is not None
    s2, conf = res.S2[0], res.S2_conf[0]
    assert abs(s2[0, 2] - s13) <= conf[0, 2]
    assert abs(s2[0, 1]) <= conf[0, 1]
    assert abs(s2[1, 2]) <= conf[1, 2]
    assert np.isnan(s2[1, 0])  # lower triangle unused


def test_linear_model_indices_are_the_squared_coefficient_shares():
    expected = COEFFS**2 / np.sum(COEFFS**2)  # 1/14, 4/14, 9/14, 0
    res = analyze_function(linear, ["a", "b", "c", "none"], base_samples=2048, seed=5)
    np.testing.assert_allclose(res.S1[0], expected, atol=0.02)
    np.testing.assert_allclose(res.ST[0], expected, atol=0.02)
    assert np.all(np.abs(res.S1[0] - expected) <= res.S1_conf[0] + 1e-12)
    assert np.all(np.abs(res.ST[0] - expected) <= res.ST_conf[0] + 1e-12)
    # an input the function ignores: A and AB_j agree exactly, so ST is exactly 0
    assert res.ST[0, 3] == 0.0
    assert res.ST_conf[0, 3] == 0.0


def test_constant_and_non_finite_outputs_are_skipped_with_a_reason():
    def three(u: NDArray[np.float64]) -> NDArray[np.float64]:
        y = u @ COEFFS
        bad = np.where(u[:, 0] > 0.5, np.inf, y)
        return np.stack([y, np.full_like(y, 4.2), bad], axis=1)

    res = analyze_function(three, ["a", "b", "c", "d"], base_samples=64, seed=0)
    assert res.skipped[0] == ""
    assert res.skipped[1].startswith("constant (4.2)")
    assert res.skipped[2].startswith("not finite in ")
    assert np.all(np.isfinite(res.ST[0]))
    assert np.all(np.isnan(res.ST[1:]))


def test_points_are_strictly_inside_the_unit_cube():
    seen: list[tuple[float, float]] = []
    lock = threading.Lock()

    def record(u: NDArray[np.float64]) -> NDArray[np.float64]:
        with lock:
            seen.append((float(u.min()), float(u.max())))
        return linear(u)

    analyze_function(record, ["a", "b", "c", "d"], base_samples=256, seed=2, chunk=100)
    assert len(seen) == math.ceil(256 * 6 / 100)
    assert min(lo for lo, _ in seen) > 0.0
    assert max(hi for _, hi in seen) < 1.0


def test_results_do_not_depend_on_workers_or_chunks_and_repeat_with_the_seed():
    names = ["x1", "x2", "x3"]
    one = analyze_function(ishigami, names, base_samples=512, seed=11, workers=1)
    many = analyze_function(ishigami, names, base_samples=512, seed=11, workers=3, chunk=77)
    np.testing.assert_array_equal(one.ST, many.ST)
    np.testing.assert_array_equal(one.S1_conf, many.S1_conf)
    other = analyze_function(ishigami, names, base_samples=512, seed=12)
    assert not np.array_equal(one.S1, other.S1)


def test_unseeded_run_records_a_seed_that_repeats_it():
    names = ["x1", "x2", "x3"]
    first = analyze_function(ishigami, names, base_samples=64)
    again = analyze_function(ishigami, names, base_samples=64, seed=first.seed)
    np.testing.assert_array_equal(first.ST, again.ST)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"base_samples": 100}, "power of 2"),
        ({"base_samples": 4}, "at least 8"),
        ({"confidence": 1.0}, "confidence must be in"),
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        analyze_function(linear, ["a", "b", "c", "d"], **kwargs)


def test_function_returning_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match=r"shape \(48, K\)"):
        analyze_function(lambda u: u[:, 0], ["a", "b", "c", "d"], base_samples=8)


def test_design_size_and_power_of_2():
    assert design_size(51, 1024) == 1024 * 53
    assert design_size(51, 1024, second_order=True) == 1024 * 104
    assert [next_power_of_2(n) for n in (1, 2, 3, 1000, 1024, 1025)] == [1, 2, 4, 1024, 1024, 2048]
    with pytest.raises(ValueError, match="positive"):
        next_power_of_2(0)


# ------------------------------------------------------------------ on a real scenario


@pytest.fixture(scope="module")
def deepseek():
    return load_scenario("scenarios/deepseek.yaml")


def test_cost_counts_the_scenario_inputs(deepseek):
    # deepseek.yaml has 51 uncertain scalar parameters (path anchors included)
    assert cost(deepseek, 64) == 64 * 53
    assert cost(deepseek, 64, second_order=True) == 64 * 104


@pytest.mark.parametrize("variant", ["with_shocks", "counterfactual"])
def test_deepseek_indices_are_finite_and_consistent(deepseek, variant):
    with pytest.warns(SobolCorrelationWarning, match=r"NOT imposed.*\n  demand\.segments"):
        res = sobol_indices(
            deepseek,
            metrics=["hbm_gb", "shipments_h100e"],
            years=[2026, 2027],
            variant=variant,
            base_samples=256,
            seed=4,
        )
    assert res.n_evaluations == 256 * 53
    assert res.S1.shape == (2, 2, 51)
    assert not res.skipped
    for a in (res.S1, res.S1_conf, res.ST, res.ST_conf):
        assert np.all(np.isfinite(a))
    # ST >= S1 holds for the true indices; the estimates within their intervals
    gap, slack = res.S1 - res.ST, res.S1_conf + res.ST_conf
    assert np.all(gap <= slack)
    assert np.all(res.ST + res.ST_conf >= 0.0)
    shock = [j for j, name in enumerate(res.inputs) if name.startswith("shocks.deepseek.")]
    assert len(shock) == 3
    if variant == "counterfactual":
        # the shock's parameters do not enter the model without the shocks: exactly no effect
        assert np.all(res.ST[:, :, shock] == 0.0)
        assert np.all(res.S1[:, :, shock] == 0.0)
    else:  # with the shocks they matter somewhere (the shock is live from 2025)
        assert np.max(res.ST[:, :, shock]) > 0.01
    rows = res.rows()
    assert len(rows) == 2 * 2 * 51
    assert list(rows[0]) == [
        "metric",
        "year",
        "variant",
        "input",
        "S1",
        "S1_conf",
        "ST",
        "ST_conf",
    ]
    first = rows[0]
    assert first["ST"] == max(r["ST"] for r in rows[:51])  # ranked by ST within a metric-year
    assert len(res.to_pandas()) == len(rows)


def test_impact_of_a_scenario_without_shocks_is_constant_and_skipped():
    base = load_scenario("scenarios/base.yaml")
    assert not base.shocks
    with pytest.warns(SobolCorrelationWarning):
        res = sobol_indices(
            base, metrics=["hbm_gb"], years=[2027], variant="impact", base_samples=8, seed=0
        )
    assert res.skipped == {("hbm_gb", 2027): res.skipped[("hbm_gb", 2027)]}
    assert res.skipped[("hbm_gb", 2027)].startswith("constant (1)")
    assert res.rows() == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"metrics": ["hbm"]}, r"unknown metric 'hbm'; valid metrics: compute_training, "),
        ({"years": [2040]}, "year 2040 not in the scenario; valid years: 2024 to 2030"),
        ({"variant": "both"}, "unknown variant 'both'; valid variants: with_shocks, "),
    ],
)
def test_unknown_names_are_refused_listing_the_valid_ones(kwargs, message):
    sc = load_scenario("tests/data/valid.yaml")
    args = {"metrics": ["hbm_gb"], "years": [2027], "variant": "with_shocks"} | kwargs
    with pytest.raises(ValueError, match=message):
        sobol_indices(sc, base_samples=8, **args)


def test_no_uncertain_parameter_is_refused():
    sc = load_scenario("tests/data/valid.yaml", FIXED)
    with pytest.raises(ValueError, match="no uncertain parameters"):
        sobol_indices(sc, metrics=["hbm_gb"], years=[2027], base_samples=8)


FIXED = [
    "demand.segments.frontier.elasticity=1",
    "shocks.deepseek.magnitude=3",
    "utilization.inference=0.5",
    "fleet.median_life=5",
    "chips.load=0.7",
    "correlations=[]",
]
"""Overrides that make every parameter of tests/data/valid.yaml a fixed number."""


def test_impact_driven_by_one_input_gets_all_the_variance():
    """valid.yaml: the only inference segment (chat) has fixed elasticities and the shock a fixed
    adoption, so the impact on inference compute is a function of the shock's magnitude alone:
    S1 = ST = 1 for it and 0 for every other input (up to rounding, 1e-31 here). Idle capacity is 0 throughout,
    so its impact (a paired difference) is constant and skipped."""
    sc = load_scenario("tests/data/valid.yaml")
    with pytest.warns(SobolCorrelationWarning):
        res = sobol_indices(
            sc,
            metrics=["compute_inference", "idle_h100e"],
            years=[2027],
            variant="impact",
            base_samples=64,
            seed=2,
        )
    m = res.inputs.index("shocks.deepseek.magnitude")
    others = [j for j in range(len(res.inputs)) if j != m]
    assert abs(res.S1[0, 0, m] - 1.0) <= res.S1_conf[0, 0, m]
    assert abs(res.ST[0, 0, m] - 1.0) <= res.ST_conf[0, 0, m]
    assert np.all(np.abs(res.ST[0, 0, others]) < 1e-12)
    assert res.skipped == {
        ("idle_h100e", 2027): "constant (0) across the design: no variance to apportion"
    }
