"""Known values for simulator.model.market (MODEL.md §5), on numpy and array_api_strict.

Reference values are hand calculations, written out next to each assertion.
"""

from __future__ import annotations

import pytest

from simulator.model import market
from tests.arrays import arr, row


def test_units_hbm_revenue_capex_known_values(xp):
    # Q = [200, 175] H100e, p = [2, 2.5] H100e/unit -> units = [100, 70]
    units = market.accelerator_units(arr(xp, [[200.0, 175.0]]), arr(xp, [[2.0, 2.5]]))
    assert row(units) == [100.0, 70.0]
    # h = [80, 141] GB/unit -> hbm = [8000, 9870] GB
    hbm = market.hbm_shipped(units, arr(xp, [[80.0, 141.0]]))
    assert row(hbm) == [8000.0, 9870.0]
    # price = [25_000, 30_000] USD -> [2.5e6, 2.1e6] USD
    revenue = market.accelerator_revenue(units, arr(xp, [[25_000.0, 30_000.0]]))
    assert row(revenue) == [2.5e6, 2.1e6]
    # q = [10, 12] USD/GB -> [80_000, 118_440] USD
    assert row(market.hbm_revenue(hbm, arr(xp, [[10.0, 12.0]]))) == [80_000.0, 118_440.0]
    # sigma = [0.5, 0.6] -> capex = [5e6, 3.5e6] USD
    capex = market.datacenter_capex(revenue, arr(xp, [[0.5, 0.6]]))
    assert row(capex) == pytest.approx([5e6, 3.5e6], rel=1e-15)


# Three vintages of units: 100 shipped in year -1, 200 in the base year 0, 50 in year 1;
# survival S(a) = [1, 0.5, 0.25]; output years k = 0, 1 (the last two columns).
UNITS = [[100.0, 200.0, 50.0]]
SURVIVAL = [[1.0, 0.5, 0.25, 0.125]]


def test_installed_units_include_initial_vintages(xp):
    # k=0: 100*S1 + 200*S0 = 50 + 200 = 250
    # k=1: 100*S2 + 200*S1 + 50*S0 = 25 + 100 + 50 = 175
    got = market.installed_units(arr(xp, UNITS), arr(xp, SURVIVAL), 2)
    assert row(got) == [250.0, 175.0]


def test_power_uses_each_vintages_own_system_power(xp):
    # w = [500, 1000, 2000] W by vintage; load = [0.5, 0.8]; PUE = [1.2, 1.1]
    # k=0: (100*0.5*500 + 200*1*1000) * 0.5 * 1.2 = 225_000 * 0.6 = 135_000 W
    # k=1: (100*0.25*500 + 200*0.5*1000 + 50*1*2000) * 0.8 * 1.1
    #      = (12_500 + 100_000 + 100_000) * 0.88 = 187_000 W
    power = market.fleet_power(
        arr(xp, UNITS),
        arr(xp, SURVIVAL),
        arr(xp, [[500.0, 1000.0, 2000.0]]),
        arr(xp, [[0.5, 0.8]]),
        arr(xp, [[1.2, 1.1]]),
    )
    assert row(power) == pytest.approx([135_000.0, 187_000.0], rel=1e-15)
    # energy = power * 31_557_600 s: 135_000 W -> 4.260276e12 J; 187_000 W -> 5.9012712e12 J
    assert row(market.energy(power)) == pytest.approx([4.260276e12, 5.9012712e12], rel=1e-15)
