"""Known values for simulator.model.demand (MODEL.md §2), on numpy and array_api_strict.

Reference values are hand calculations, written out next to each assertion.
"""

from __future__ import annotations

import math

import pytest

from simulator.constants import F_REF, SECONDS_PER_YEAR
from simulator.model import demand
from tests.arrays import arr, row


def test_base_compute_known_value(xp):
    # 0.25 share * 1000 H100e * 0.4 utilization = 100 H100e fully busy;
    # 100 * 989e12 FLOP/s * 31_557_600 s = 3.12104664e24 FLOP
    got = demand.base_compute(0.25, arr(xp, [1000.0]), arr(xp, [0.4]))
    assert float(got[0]) == pytest.approx(3.12104664e24, rel=1e-14)
    one_h100e_year = F_REF * SECONDS_PER_YEAR  # 989e12 * 31_557_600 = 3.12104664e22 FLOP
    assert one_h100e_year == pytest.approx(3.12104664e22, rel=1e-14)


def test_baseline_compounds_growth_and_ignores_column_zero(xp):
    # B = [10, 10*2, 10*2*3] = [10, 20, 60]; column 0 of growth (99) is ignored
    got = demand.baseline_compute(
        arr(xp, [10.0, 1.0]), arr(xp, [[99.0, 2.0, 3.0], [0.5, 1.5, 1.0]])
    )
    assert row(got, 0) == [10.0, 20.0, 60.0]
    assert row(got, 1) == [1.0, 1.5, 1.5]


def test_level_adoption_logistic_by_hand(xp):
    # onset k_m = 1, d = 0, w = 1: f(k) = c / (1 + exp(-(k - 1)))
    # k=0: before onset -> 0; k=1: c/2; k=2: c/(1+e^-1) = c*0.7310585786300049;
    # k=3: c/(1+e^-2) = c*0.8807970779778823
    got = demand.level_adoption(
        arr(xp, [1.0, 0.8]), arr(xp, [0.0, 0.0]), arr(xp, [1.0, 1.0]), 1, 4
    )
    assert row(got, 0) == pytest.approx([0.0, 0.5, 0.7310585786300049, 0.8807970779778823])
    assert row(got, 1) == pytest.approx(
        [0.0, 0.4, 0.8 * 0.7310585786300049, 0.8 * 0.8807970779778823], rel=1e-15
    )


def test_level_adoption_before_midpoint_and_no_overflow(xp):
    # d = 1, w = 1, onset 1: k=1 -> z = (1 - 1 - 1)/1 = -1 -> 1/(1+e^1) = 0.2689414213699951;
    # k=2 -> z = 0 -> 0.5
    got = demand.level_adoption(arr(xp, [1.0]), arr(xp, [1.0]), arr(xp, [1.0]), 1, 3)
    assert row(got)[1] == pytest.approx(0.2689414213699951, rel=1e-15)
    assert row(got)[2] == 0.5
    # a tiny width (1e-3) makes z = -1000, 0, +1000 at k = 1, 2, 3: no overflow warning
    # (pytest turns it into an error), and adoption is a step: 0 before the midpoint,
    # 1/2 at it, exactly 1 after it (exp(-1000) = 0 in float64)
    step = demand.level_adoption(arr(xp, [1.0]), arr(xp, [1.0]), arr(xp, [1e-3]), 1, 4)
    assert row(step) == [0.0, 0.0, 0.5, 1.0]


def test_harmonic_mix_half_the_work_at_ten_times_saves_45_percent(xp):
    # X = 1 / ((1 - 0.5) + 0.5/10) = 1 / 0.55; FLOP needed = 1/X = 0.55 -> saves 45%.
    # The arithmetic mix (0.5*1 + 0.5*10 = 5.5 -> 1/5.5 = 0.18) would wrongly save 82%.
    got = demand.level_efficiency(arr(xp, [[0.5]]), arr(xp, [10.0]))
    assert float(got[0, 0]) == pytest.approx(1 / 0.55, rel=1e-15)
    assert 1 - 1 / float(got[0, 0]) == pytest.approx(0.45, rel=1e-14)
    assert 1 - 1 / float(got[0, 0]) != pytest.approx(1 - 1 / 5.5, rel=1e-3)


def test_level_efficiency_is_exactly_one_without_gain_or_adoption(xp):
    # M = 1 -> 1 - 1/M = 0 -> X = 1/(1 - f*0) = 1 exactly; f = 0 -> X = 1 exactly
    no_gain = demand.level_efficiency(arr(xp, [[0.0, 0.3, 1.0]]), arr(xp, [1.0]))
    assert row(no_gain) == [1.0, 1.0, 1.0]
    no_adoption = demand.level_efficiency(arr(xp, [[0.0, 0.0]]), arr(xp, [7.0]))
    assert row(no_adoption) == [1.0, 1.0]
    # full adoption: X = M
    full = demand.level_efficiency(arr(xp, [[1.0]]), arr(xp, [4.0]))
    assert float(full[0, 0]) == pytest.approx(4.0, rel=1e-15)


def test_trend_efficiency_known_values(xp):
    # r = 1.5, onset 1: [1, 1 (k = k_m: r^0), 1.5, 1.5^2 = 2.25]
    got = demand.trend_efficiency(arr(xp, [1.5, 1.0]), 1, 4)
    assert row(got, 0) == pytest.approx([1.0, 1.0, 1.5, 2.25], rel=1e-15)
    assert row(got, 1) == [1.0, 1.0, 1.0, 1.0]  # r = 1: exactly 1


def test_elasticity_moves_from_short_to_long(xp):
    # short 0.2, long 1, a = 1, onset 1: tau = max(k - 1, 0) = [0, 0, 1, 2]
    # eps = 1 + (0.2 - 1) exp(-tau) = [0.2, 0.2, 1 - 0.8/e, 1 - 0.8/e^2]
    got = demand.elasticity(arr(xp, [0.2]), arr(xp, [1.0]), arr(xp, [1.0]), 1, 4)
    expected = [0.2, 0.2, 1 - 0.8 * math.exp(-1), 1 - 0.8 * math.exp(-2)]
    assert row(got) == pytest.approx(expected, rel=1e-15)
    assert row(got)[2] == pytest.approx(0.7056964470628462, rel=1e-15)
    # short = long: constant, exactly
    flat = demand.elasticity(arr(xp, [0.7]), arr(xp, [0.7]), arr(xp, [2.0]), 2, 4)
    assert row(flat) == [0.7, 0.7, 0.7, 0.7]


def level_shock_compute(xp, *, eps: float, pi: float, magnitude: float, width: float = 1.0):
    """Compute after one level shock (onset 1, d = 0, ceiling 1) on B = [10, 20, 40, 80]."""
    baseline = arr(xp, [[10.0, 20.0, 40.0, 80.0]])
    adoption = demand.level_adoption(arr(xp, [1.0]), arr(xp, [0.0]), arr(xp, [width]), 1, 4)
    efficiency = demand.level_efficiency(adoption, arr(xp, [magnitude]))
    gain = demand.log_efficiency_gain([efficiency], baseline)
    one = arr(xp, [1.0])
    return demand.physical_compute(
        baseline, gain, arr(xp, [eps]), arr(xp, [eps]), one, arr(xp, [pi])
    )


def test_level_shock_with_unit_elasticity_changes_nothing(xp):
    # pi * eps - 1 = 0 -> X^0 = exp(0 * log X) = 1 exactly
    got = level_shock_compute(xp, eps=1.0, pi=1.0, magnitude=10.0)
    assert row(got) == [10.0, 20.0, 40.0, 80.0]


def test_level_shock_with_zero_elasticity_divides_by_efficiency(xp):
    # eps = 0: C = B * X^-1. M = 4 -> 1 - 1/M = 0.75. Adoption (w = 1) as above:
    # k=1: f = 0.5 -> X = 1/(1 - 0.375) = 1.6 -> C = 20/1.6 = 12.5
    # k=2: f = 0.7310585786300049 -> 1/X = 1 - 0.75 f = 0.45170606602749633 -> C = 18.068...
    # k=3: f = 0.8807970779778823 -> 1/X = 0.33940219151658824 -> C = 80 * that
    got = level_shock_compute(xp, eps=0.0, pi=1.0, magnitude=4.0)
    expected = [
        10.0,
        12.5,
        40.0 * (1 - 0.75 * 0.7310585786300049),
        80.0 * 0.33940219151658824,
    ]
    assert row(got) == pytest.approx(expected, rel=1e-14)


def test_level_shock_at_full_adoption_divides_compute_by_magnitude(xp):
    # width 1e-3: f jumps from 0.5 at onset (z = 0) to exactly 1 after (z = 1000,
    # exp(-1000) = 0 in float64). eps = 0 -> C = B / M = [10, 20/1.6, 40/4, 80/4]
    got = level_shock_compute(xp, eps=0.0, pi=1.0, magnitude=4.0, width=1e-3)
    assert row(got) == pytest.approx([10.0, 12.5, 10.0, 20.0], rel=1e-14)


def test_zero_pass_through_acts_like_zero_elasticity(xp):
    # pi = 0 -> exponent -1 whatever eps: same as eps = 0
    got = level_shock_compute(xp, eps=3.0, pi=0.0, magnitude=4.0, width=1e-3)
    assert row(got) == pytest.approx([10.0, 12.5, 10.0, 20.0], rel=1e-14)


def test_jevons_elasticity_above_one_raises_compute(xp):
    # eps = 2, full adoption: C = B * M^(2 - 1) = B * 4 from k = 2
    got = level_shock_compute(xp, eps=2.0, pi=1.0, magnitude=4.0, width=1e-3)
    assert row(got) == pytest.approx([10.0, 32.0, 160.0, 320.0], rel=1e-14)


def test_two_shocks_multiply(xp):
    # trend r = 2 from onset 1 ([1, 1, 2, 4]) and a full level shock M = 4 (width 1e-3,
    # [1, 1.6, 4, 4]), eps = 0: C = B / (X1 * X2) = [10, 20/1.6, 40/8, 80/16]
    baseline = arr(xp, [[10.0, 20.0, 40.0, 80.0]])
    level = demand.level_efficiency(
        demand.level_adoption(arr(xp, [1.0]), arr(xp, [0.0]), arr(xp, [1e-3]), 1, 4),
        arr(xp, [4.0]),
    )
    trend = demand.trend_efficiency(arr(xp, [2.0]), 1, 4)
    gain = demand.log_efficiency_gain([level, trend], baseline)
    zero, one = arr(xp, [0.0]), arr(xp, [1.0])
    got = demand.physical_compute(baseline, gain, zero, zero, one, one)
    assert row(got) == pytest.approx([10.0, 12.5, 5.0, 5.0], rel=1e-14)


def test_no_shock_returns_baseline_exactly(xp):
    baseline = arr(xp, [[10.0, 20.0, 40.0]])
    x = arr(xp, [0.3])
    assert row(demand.physical_compute(baseline, None, x, x, x, x)) == [10.0, 20.0, 40.0]
    # A gain of exactly 0 (M = 1, ceiling 0) is neutral too: exp(0) = 1.
    zero_gain = demand.log_efficiency_gain([arr(xp, [[1.0, 1.0, 1.0]])], baseline)
    assert row(demand.physical_compute(baseline, zero_gain, x, x, x, x)) == [10.0, 20.0, 40.0]


def test_each_increment_meets_the_short_run_elasticity_as_it_arrives(xp):
    # MODEL.md §2 (version 2). B = 10 flat; efficiency X = [1, 2, 4, 4] (two increments of
    # ln 2, in years 1 and 2); short 0, long 1, a = 1, pi = 1, so eps(tau) = 1 - e^-tau.
    # ln C(k) = ln 10 - l(k) + sum_j dl(j) eps(k - j):
    #   k=1: ln 10 - ln 2 + ln2 * eps(0)                      -> C = 10 / 2 = 5
    #   k=2: ln 10 - ln 4 + ln2 * (eps(1) + eps(0))           -> C = 10 * 2^(-1 - e^-1)
    #   k=3: ln 10 - ln 4 + ln2 * (eps(2) + eps(1))           -> C = 10 * 2^(-e^-1 - e^-2)
    # 2^(-1 - e^-1) = 0.38751..., 2^(-e^-1 - e^-2) = 0.70498... (math.pow, below).
    baseline = arr(xp, [[10.0, 10.0, 10.0, 10.0]])
    gain = demand.log_efficiency_gain([arr(xp, [[1.0, 2.0, 4.0, 4.0]])], baseline)
    got = demand.physical_compute(
        baseline, gain, arr(xp, [0.0]), arr(xp, [1.0]), arr(xp, [1.0]), arr(xp, [1.0])
    )
    e1, e2 = math.exp(-1.0), math.exp(-2.0)
    expected = [10.0, 5.0, 10.0 * 2 ** (-1 - e1), 10.0 * 2 ** (-e1 - e2)]
    assert row(got) == pytest.approx(expected, rel=1e-14)
    # Version 1's single clock from onset (k = 1) gave C(2) = 10 * 4^(eps(1) - 1)
    # = 10 * 2^(-2 e^-1) = 4.7926..., a shallower dip than version 2's 3.8751...
    assert row(got)[2] < 10.0 * 2 ** (-2 * e1)


def test_a_step_gain_meets_the_one_clock_form_of_version_1(xp):
    # A gain that arrives whole at onset (k = 1): every increment has the same age, so
    # C(k) = B X^(pi eps(k - 1) - 1) (MODEL.md §2). X = 4, short 0.2, long 1.4, a = 2, pi 0.9.
    baseline = arr(xp, [[10.0, 20.0, 40.0, 80.0]])
    gain = demand.log_efficiency_gain([arr(xp, [[1.0, 4.0, 4.0, 4.0]])], baseline)
    short, long, a, pi = 0.2, 1.4, 2.0, 0.9
    got = demand.physical_compute(
        baseline, gain, arr(xp, [short]), arr(xp, [long]), arr(xp, [a]), arr(xp, [pi])
    )
    eps = [long + (short - long) * math.exp(-tau / a) for tau in (0, 1, 2)]
    expected = [10.0] + [
        b * 4.0 ** (pi * e - 1) for b, e in zip((20.0, 40.0, 80.0), eps, strict=True)
    ]
    assert row(got) == pytest.approx(expected, rel=1e-13)
