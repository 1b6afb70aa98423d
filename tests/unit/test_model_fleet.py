"""Known values for simulator.model.fleet (MODEL.md §3-4), on numpy and array_api_strict.

Reference values are hand calculations, written out next to each assertion.
"""

from __future__ import annotations

import math

import pytest

from simulator.constants import F_REF, SECONDS_PER_YEAR
from simulator.model import fleet
from tests.arrays import arr, row


def test_survival_is_one_at_age_zero_and_half_at_median(xp):
    # S(L) = exp(-(L/lambda)^kappa) = exp(-ln 2) = 0.5 for every shape
    median = arr(xp, [3.0, 3.0, 3.0, 5.5])
    shape = arr(xp, [0.7, 2.0, 5.0, 1.0])
    got = fleet.weibull_survival(arr(xp, [0.0, 3.0, 5.5]), median, shape)
    for i in range(4):
        assert float(got[i, 0]) == 1.0  # exactly
    for i in range(3):
        assert float(got[i, 1]) == pytest.approx(0.5, rel=1e-15)
    assert float(got[3, 2]) == pytest.approx(0.5, rel=1e-15)


def test_survival_known_values(xp):
    # kappa = 2, L = 3: lambda = 3 / sqrt(ln 2) = 3.6033672263593495;
    # S(1) = exp(-(1/lambda)^2) = exp(-ln2/9) = 0.9258747122872905
    # kappa = 1, L = 2: S(a) = 2^(-a/2): S(1) = 0.7071067811865476, S(4) = 0.25
    got = fleet.weibull_survival(arr(xp, [1.0, 4.0]), arr(xp, [3.0, 2.0]), arr(xp, [2.0, 1.0]))
    assert float(got[0, 0]) == pytest.approx(0.9258747122872905, rel=1e-15)
    assert float(got[0, 0]) == pytest.approx(math.exp(-((1 / 3.6033672263593495) ** 2)))
    assert row(got, 1) == pytest.approx([0.7071067811865476, 0.25], rel=1e-15)


def test_survival_never_overflows_for_steep_shapes(xp):
    # kappa = 1000, a/L = 10: (a/L)^kappa overflows float64 -> survival exactly 0, no warning
    got = fleet.survival_table(arr(xp, [1.0]), arr(xp, [1000.0]), 11)
    assert float(got[0, 0]) == 1.0
    assert float(got[0, 1]) == pytest.approx(0.5, rel=1e-15)
    assert float(got[0, 10]) == 0.0


def test_survival_table_ages(xp):
    # kappa = 1, L = 1: S(a) = 2^-a = [1, 0.5, 0.25, 0.125]
    got = fleet.survival_table(arr(xp, [1.0]), arr(xp, [1.0]), 4)
    assert row(got) == pytest.approx([1.0, 0.5, 0.25, 0.125], rel=1e-15)


def test_required_capacity_known_value(xp):
    # C = 0.5 * F_ref * Y FLOP at u = 0.5 -> 0.5 / 0.5 = 1 H100e; 3x that -> 3 H100e
    flop = F_REF * SECONDS_PER_YEAR
    got = fleet.required_capacity(arr(xp, [[0.5 * flop, 1.5 * flop]]), arr(xp, [[0.5, 0.5]]))
    assert row(got) == pytest.approx([1.0, 3.0], rel=1e-15)


# Hand-made survival table S(a) for a = 0..4, and two initial vintages:
# 100 H100e shipped in year -1, 200 in the base year 0.
SURVIVAL = [[1.0, 0.5, 0.25, 0.125, 0.0625]]
VINTAGES = [[100.0, 200.0]]


def test_initial_capacity(xp):
    # K_0 = 100 * S(1) + 200 * S(0) = 50 + 200 = 250
    got = fleet.initial_capacity(arr(xp, VINTAGES), arr(xp, SURVIVAL))
    assert float(got[0]) == 250.0


def test_stock_flow_without_cap(xp):
    # K = [-, 300, 100, 500]
    # k=0: observed: I = K_0 = 250, Q_0 = 200, idle = unmet = 0
    # k=1: O = 100*S2 + 200*S1 = 25 + 100 = 125; D = 300 - 125 = 175 = Q; I = 300
    # k=2: O = 100*S3 + 200*S2 + 175*S1 = 12.5 + 50 + 87.5 = 150; K = 100 -> D = Q = 0,
    #      I = 150, idle = 150 - 100 = 50
    # k=3: O = 100*S4 + 200*S3 + 175*S2 + 0*S1 = 6.25 + 25 + 43.75 = 75; D = Q = 425; I = 500
    required = arr(xp, [[999.0, 300.0, 100.0, 500.0]])  # column 0 unused
    got = fleet.stock_flow(required, arr(xp, VINTAGES), arr(xp, SURVIVAL), None)
    assert row(got.surviving) == [250.0, 125.0, 150.0, 75.0]
    assert row(got.shipments) == [200.0, 175.0, 0.0, 425.0]
    assert row(got.installed) == [250.0, 300.0, 150.0, 500.0]
    assert row(got.idle) == [0.0, 0.0, 50.0, 0.0]
    assert row(got.unmet) == [0.0, 0.0, 0.0, 0.0]


def test_stock_flow_with_cap_carries_unmet_demand(xp):
    # K = 300 every year, Q_max = 100 per year.
    # k=1: O = 125, D = 175, Q = 100, unmet = 75, I = 225
    # k=2: O = 100*S3 + 200*S2 + 100*S1 = 12.5 + 50 + 50 = 112.5;
    #      D = 300 - 112.5 = 187.5 = last year's unmet 75 + retirements 225 - 112.5;
    #      Q = 100, unmet = 87.5, I = 212.5
    # k=3: O = 100*S4 + 200*S3 + 100*S2 + 100*S1 = 6.25 + 25 + 25 + 50 = 106.25;
    #      D = 193.75, Q = 100, unmet = 93.75, I = 206.25
    required = arr(xp, [[0.0, 300.0, 300.0, 300.0]])
    cap = arr(xp, [[0.0, 100.0, 100.0, 100.0]])  # column 0 unused (base year observed)
    got = fleet.stock_flow(required, arr(xp, VINTAGES), arr(xp, SURVIVAL), cap)
    assert row(got.surviving) == [250.0, 125.0, 112.5, 106.25]
    assert row(got.wanted)[1:] == [175.0, 187.5, 193.75]
    assert row(got.shipments) == [200.0, 100.0, 100.0, 100.0]
    assert row(got.unmet) == [0.0, 75.0, 87.5, 93.75]
    assert row(got.installed) == [250.0, 225.0, 212.5, 206.25]
    assert row(got.idle) == [0.0, 0.0, 0.0, 0.0]

    # the same demand without the cap is met every year:
    # k=1: Q = 175; k=2: O = 12.5 + 50 + 87.5 = 150, Q = 150;
    # k=3: O = 6.25 + 25 + 43.75 + 75 = 150, Q = 150
    free = fleet.stock_flow(required, arr(xp, VINTAGES), arr(xp, SURVIVAL), None)
    assert row(free.shipments) == [200.0, 175.0, 150.0, 150.0]
    assert row(free.installed) == [250.0, 300.0, 300.0, 300.0]


def test_stock_flow_is_vectorized_over_samples(xp):
    # sample 1 is sample 0 scaled by 2 (homogeneity), sample 0 as in the no-cap test
    required = arr(xp, [[0.0, 300.0, 100.0, 500.0], [0.0, 600.0, 200.0, 1000.0]])
    survival = arr(xp, SURVIVAL * 2)
    got = fleet.stock_flow(required, arr(xp, [[100.0, 200.0], [200.0, 400.0]]), survival, None)
    assert row(got.shipments, 0) == [200.0, 175.0, 0.0, 425.0]
    assert row(got.shipments, 1) == [400.0, 350.0, 0.0, 850.0]
