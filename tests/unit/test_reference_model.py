"""The scalar oracle (``tests/reference_model.py``) against numbers worked out by hand.

Each case is small enough to compute with pen and paper from MODEL.md version 2; the
working is in the comments. They check the version-2 parts of the oracle: the
per-increment elasticity clock (§2), the order lead ``phi`` and the power cap (§4), and
``idle``/``unmet`` comparing the installed fleet with demand (§4). ``FY`` is the FLOP one
H100e performs in a year at full utilization, ``F_ref * Y``.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from simulator.constants import F_REF, SECONDS_PER_YEAR
from simulator.model.inputs import (
    ChipInputs,
    FleetInputs,
    Kind,
    ModelInputs,
    SegmentInputs,
    ShockInputs,
    ShockType,
)
from tests.reference_model import reference_evaluate, with_fleet_v2

FY = F_REF * SECONDS_PER_YEAR
"""FLOP performed in one year by one H100e at full utilization."""

Float64Array = np.ndarray[tuple[int, ...], np.dtype[np.float64]]

STEP_DELAY = -50.0
"""An adoption midpoint this far before onset (width 0.5) gives ``f = c`` exactly in
float64 from onset on: ``exp(-100) ~ 4e-44`` is below half an ulp of 1. A true step."""


def _a(*values: float) -> Float64Array:
    """One sample: a (1, len) array."""
    return np.array([values], dtype=np.float64)


def _s(value: float) -> Float64Array:
    """One sample: a (1,) array."""
    return np.array([value], dtype=np.float64)


def _segment(
    kind: Kind,
    share: float,
    growth: tuple[float, ...],
    *,
    e_short: float = 1.0,
    e_long: float | None = None,
    adjustment: float = 1.0,
    pass_through: float = 1.0,
    name: str = "a",
) -> SegmentInputs:
    return SegmentInputs(
        name=name,
        kind=kind,
        share=share,
        growth=_a(*growth),
        elasticity_short=_s(e_short),
        elasticity_long=_s(e_short if e_long is None else e_long),
        adjustment=_s(adjustment),
        pass_through=_s(pass_through),
    )


def _shock(
    type_: ShockType,
    onset: int,
    magnitude: float,
    *,
    delay: float = 0.0,
    width: float = 0.5,
) -> ShockInputs:
    return ShockInputs(
        name="s",
        type=type_,
        onset=onset,
        segments=(0,),
        magnitude=_s(magnitude),
        ceiling=_s(1.0),
        delay=_s(delay),
        width=_s(width),
    )


def _chips(
    cols: int, *, p: float = 1.0, w: float = 1.0, load: float = 1.0, pue: float = 1.0
) -> ChipInputs:
    def flat(value: float) -> Float64Array:
        return _a(*([value] * cols))

    return ChipInputs(
        h100e_per_unit=flat(p),
        hbm_per_unit=flat(1.0),
        price=flat(1.0),
        system_power=flat(w),
        hbm_price=flat(1.0),
        capex_share=flat(1.0),
        pue=flat(pue),
        load=flat(load),
    )


def one_segment(
    segment: SegmentInputs,
    shocks: tuple[ShockInputs, ...],
    *,
    T: int,
    chips: ChipInputs | None = None,
) -> ModelInputs:
    """One sample, base year 2024, one initial vintage of 1000 H100e, utilization 1.

    Median life 1 year, shape 1: ``lambda = 1 / ln 2``, ``S(a) = 2^-a``.
    """
    return ModelInputs(
        years=tuple(range(2024, 2024 + T + 1)),
        segments=(segment,),
        shocks=shocks,
        utilization_training=_a(*([1.0] * (T + 1))),
        utilization_inference=_a(*([1.0] * (T + 1))),
        fleet=FleetInputs(initial_vintages=_a(1000.0), median_life=_s(1.0), shape=_s(1.0)),
        chips=_chips(T + 1) if chips is None else chips,
    )


def _v2(
    inputs: ModelInputs, *, phi: float = 0.0, power_cap: tuple[float, ...] | None = None
) -> ModelInputs:
    fleet = with_fleet_v2(
        inputs.fleet,
        order_lead=_s(phi),
        power_cap=None if power_cap is None else _a(*power_cap),
    )
    return dataclasses.replace(inputs, fleet=fleet)


def _close(got: list[float], want: list[float]) -> None:
    assert got == pytest.approx(want, rel=1e-12, abs=0.0)


# ---------------------------------------------------------------------------------------
# §2: the elasticity clock runs per increment of efficiency
# ---------------------------------------------------------------------------------------


def test_step_adoption_equals_version_1_form() -> None:
    # Level shock, onset 1, M = 4, adopted in full at onset (a step): X(k) = 4 for k >= 1,
    # so l(1) = ln 4 and every later increment is 0. eps_short 0.5, eps_long 1.5, a = 1:
    # eps(tau) = 1.5 - exp(-tau). v2: ln C(k) = ln B - ln 4 + ln 4 eps(k - 1), i.e. version
    # 1's C = B X^(eps(k - k_m) - 1): C(1) = B 4^-0.5 = B / 2, C(2) = B 4^(0.5 - 1/e),
    # C(3) = B 4^(0.5 - e^-2). Growth 1: B(k) = C(0) = 1000 FY (share 1, K_0 = 1000, u = 1).
    seg = _segment("training", 1.0, (1.0, 1.0, 1.0, 1.0), e_short=0.5, e_long=1.5)
    shock = _shock("level", 1, 4.0, delay=STEP_DELAY)
    out = reference_evaluate(one_segment(seg, (shock,), T=3), 0)
    b = 1000 * FY
    _close(
        out["compute_total"],
        [b, b / 2, b * 4 ** (0.5 - math.exp(-1)), b * 4 ** (0.5 - math.exp(-2))],
    )


def test_two_year_adoption_meets_the_short_run_elasticity() -> None:
    # Level shock, onset 1, M = 4, ceiling 1, delay 0, width 1/ln 3:
    #   f(1) = 1 / (1 + e^0) = 0.5,  X(1) = 1 / (0.5 + 0.5/4) = 1.6
    #   f(2) = 1 / (1 + e^-ln3) = 0.75, X(2) = 1 / (0.25 + 0.75/4) = 16/7
    # l(1) = ln 1.6, l(2) = ln(16/7): increments ln 1.6 (year 1) and ln(10/7) (year 2).
    # eps_short 0, eps_long 2, a = 1: eps(tau) = 2 - 2 exp(-tau); eps(0) = 0, eps(1) = 2 - 2/e.
    # C(1) = B exp(-ln 1.6 + ln 1.6 eps(0)) = B / 1.6
    # C(2) = B exp(-ln(16/7) + ln 1.6 eps(1) + ln(10/7) eps(0)) = B (7/16) 1.6^(2 - 2/e)
    # Version 1 (one clock from onset) gave C(2) = B (16/7)^(eps(1) - 1), higher, since
    # the second year's increment met eps_long-ish instead of eps_short (invariant 11).
    seg = _segment("inference", 1.0, (1.0, 1.0, 1.0), e_short=0.0, e_long=2.0)
    shock = _shock("level", 1, 4.0, width=1.0 / math.log(3.0))
    out = reference_evaluate(one_segment(seg, (shock,), T=2), 0)
    b = 1000 * FY
    c2 = b * 7 / 16 * 1.6 ** (2 - 2 / math.e)
    _close(out["compute_total"], [b, b / 1.6, c2])
    version_1 = b * (16 / 7) ** (1 - 2 / math.e)
    assert c2 < version_1 * (1 - 1e-3)
    # Capacity follows (u = 1): K = C / FY. The fleet is just in time: O(1) = 1000 S(1)
    # = 500 < K(1) = 625, so Q_1 = 125; O(2) = 1000/4 + 125/2 = 312.5, Q_2 = K(2) - 312.5.
    _close(out["capacity_required"], [1000.0, 625.0, c2 / FY])
    _close(out["shipments_h100e"], [1000.0, 125.0, c2 / FY - 312.5])
    assert out["idle_h100e"] == [0.0, 0.0, 0.0]
    assert out["unmet_h100e"] == [0.0, 0.0, 0.0]


def test_trend_shock_increments_start_at_the_short_run_elasticity() -> None:
    # Trend r = 3 from onset 1: X(1) = 1, X(2) = 3, X(3) = 9; increments ln 3 in years 2, 3.
    # eps_short 0, eps_long 1, a = 1: eps(tau) = 1 - exp(-tau). pass_through 1.
    # C(2) = B exp(-ln 3 + ln 3 eps(0)) = B / 3
    # C(3) = B exp(-2 ln 3 + ln 3 (eps(1) + eps(0))) = B 3^(-2 + 1 - 1/e) = B 3^(-1 - 1/e)
    seg = _segment("training", 1.0, (1.0, 1.0, 1.0, 1.0), e_short=0.0, e_long=1.0)
    out = reference_evaluate(one_segment(seg, (_shock("trend", 1, 3.0),), T=3), 0)
    b = 1000 * FY
    _close(out["compute_total"], [b, b, b / 3, b * 3 ** (-1 - 1 / math.e)])


# ---------------------------------------------------------------------------------------
# §4: order lead phi
# ---------------------------------------------------------------------------------------


def glut(phi: float, *, shocks: bool = True) -> dict[str, list[float]]:
    """T = 1; growth 2; a step shock (M = 4, elasticity 0) cuts compute to a quarter.

    K(0) = K^B(0) = 1000; K^B(1) = 2000; K(1) = 2000 / 4 = 500; O(1) = 1000 S(1) = 500.
    """
    seg = _segment("training", 1.0, (1.0, 2.0), e_short=0.0)
    shock = _shock("level", 1, 4.0, delay=STEP_DELAY)
    inputs = one_segment(seg, (shock,) if shocks else (), T=1)
    return reference_evaluate(_v2(inputs, phi=phi), 0)


def test_order_lead_one_gives_a_glut_in_the_shock_year() -> None:
    # phi = 1: K^(1) = K(0) K^B(1) / K^B(0) = 1000 * 2000 / 1000 = 2000, ordered on the
    # trend. D = 2000 - 500 = 1500 = Q_1; I(1) = 2000; idle = max(1500 - (500 - 500), 0)
    # = 1500 = K^B(1) - K(1) (invariant 10's bound, with equality here); unmet 0.
    out = glut(1.0)
    _close(out["capacity_required"], [1000.0, 500.0])
    _close(out["shipments_h100e"], [1000.0, 1500.0])
    _close(out["installed_h100e"], [1000.0, 2000.0])
    _close(out["idle_h100e"], [0.0, 1500.0])
    assert out["unmet_h100e"] == [0.0, 0.0]
    # Flat chips (all ones): units = H100e, power = installed units = 500 + 1500.
    _close(out["power_w"], [1000.0, 2000.0])


def test_order_lead_zero_and_half() -> None:
    # phi = 0: K^ = K = 500 = O(1): nothing shipped, nothing idle (version 1). K(1) and
    # O(1) are 500 only to rounding (exp, log), so compare to 1e-12 of K(0).
    out = glut(0.0)
    assert out["shipments_h100e"] == pytest.approx([1000.0, 0.0], rel=0.0, abs=1e-9)
    assert out["idle_h100e"] == pytest.approx([0.0, 0.0], rel=0.0, abs=1e-9)
    assert out["unmet_h100e"] == [0.0, 0.0]
    # phi = 0.5: K^ = 0.5 * 500 + 0.5 * 2000 = 1250, Q_1 = 750, idle 750.
    half = glut(0.5)
    _close(half["shipments_h100e"], [1000.0, 750.0])
    _close(half["idle_h100e"], [0.0, 750.0])
    _close(half["installed_h100e"], [1000.0, 1250.0])


def test_counterfactual_does_not_depend_on_order_lead() -> None:
    # Without shocks K^ = K^B: Q_1 = 2000 - 500 = 1500 for any phi; no idle, no unmet.
    for phi in (0.0, 0.3, 1.0):
        cf = glut(phi, shocks=False)
        _close(cf["shipments_h100e"], [1000.0, 1500.0])
        assert cf["idle_h100e"] == [0.0, 0.0]
        assert cf["unmet_h100e"] == [0.0, 0.0]


def test_order_lead_rebound_leaves_demand_unmet() -> None:
    # Elasticity 3 (step, M = 4): C(1) = B 4^(3 - 1) = 16 B, K(1) = 32000. phi = 1 orders
    # on the trend: K^ = 2000, Q_1 = 1500, I = 2000; unmet = (32000 - 500) - 1500 = 30000.
    seg = _segment("training", 1.0, (1.0, 2.0), e_short=3.0)
    shock = _shock("level", 1, 4.0, delay=STEP_DELAY)
    out = reference_evaluate(_v2(one_segment(seg, (shock,), T=1), phi=1.0), 0)
    _close(out["capacity_required"], [1000.0, 32000.0])
    _close(out["shipments_h100e"], [1000.0, 1500.0])
    _close(out["unmet_h100e"], [0.0, 30000.0])
    assert out["idle_h100e"] == [0.0, 0.0]


# ---------------------------------------------------------------------------------------
# §4: power cap
# ---------------------------------------------------------------------------------------


def capped(power_cap: tuple[float, ...], *, w: float = 1000.0) -> dict[str, list[float]]:
    """No shock, growth 2 a year, T = 2; chips p = 2 H100e/unit, w W, load 0.5, PUE 1.2.

    K = 1000, 2000, 4000. Uncapped: O(1) = 500, Q_1 = 1500. Units of the base vintage
    1000 / 2 = 500. With w = 1000 a unit draws w load PUE = 600 W, an H100e 300 W.
    """
    seg = _segment("training", 1.0, (1.0, 2.0, 2.0))
    chips = _chips(3, p=2.0, w=w, load=0.5, pue=1.2)
    inputs = one_segment(seg, (), T=2, chips=chips)
    return reference_evaluate(_v2(inputs, power_cap=power_cap), 0)


def test_power_cap_binds_in_one_year_and_not_the_next() -> None:
    # Column 0 (given as 0) is ignored: the base year is observed.
    # k = 1: P_O = 500 units * S(1) * 1000 W * 0.5 * 1.2 = 150 kW; P_max = 300 kW:
    #   Q_pow = (300e3 - 150e3) * 2 / 600 = 500 < D = 1500: Q_1 = 500, I = 1000,
    #   unmet = (2000 - 500) - 500 = 1000; power(1) = 150 kW + 250 units * 600 W = P_max.
    # k = 2: cap 1e12 W, not binding. O(2) = 1000 S(2) + 500 S(1) = 250 + 250 = 500;
    #   D = 4000 - 500 = 3500 = Q_2; I = K = 4000; unmet 0.
    #   power(2) = (500/4 + 250/2 + 1750) * 600 W = 2000 * 600 = 1.2 MW.
    out = capped((0.0, 300e3, 1e12))
    _close(out["capacity_required"], [1000.0, 2000.0, 4000.0])
    _close(out["shipments_h100e"], [1000.0, 500.0, 3500.0])
    _close(out["installed_h100e"], [1000.0, 1000.0, 4000.0])
    _close(out["unmet_h100e"], [0.0, 1000.0, 0.0])
    assert out["idle_h100e"] == [0.0, 0.0, 0.0]
    _close(out["power_w"], [300e3, 300e3, 1.2e6])
    # Uncapped, for comparison: Q_1 = 1500, power(1) = (250 + 750) * 600 W = 600 kW;
    # O(2) = 1000 S(2) + 1500 S(1) = 1000, Q_2 = 3000.
    free = capped((1e12, 1e12, 1e12))
    _close(free["shipments_h100e"], [1000.0, 1500.0, 3000.0])
    _close(free["power_w"], [300e3, 600e3, 1.2e6])


def test_power_cap_below_the_surviving_fleet_ships_nothing() -> None:
    # P_max(1) = 100 kW < P_O(1) = 150 kW: Q_pow = 0, Q_1 = 0, unmet = 2000 - 500 = 1500,
    # power(1) = P_O = 150 kW (invariant 2: power <= max(P_max, P_O)).
    out = capped((0.0, 100e3, 1e12))
    _close(out["shipments_h100e"][:2], [1000.0, 0.0])
    _close(out["unmet_h100e"][:2], [0.0, 1500.0])
    _close(out["power_w"][:2], [300e3, 150e3])


def test_power_cap_with_zero_power_per_unit_does_not_bind() -> None:
    # w = 0: w(k) load(k) PUE(k) = 0, so Q_pow is infinite (MODEL.md §4), even at cap 0.
    out = capped((0.0, 0.0, 0.0), w=0.0)
    _close(out["shipments_h100e"], [1000.0, 1500.0, 3000.0])
    assert out["power_w"] == [0.0, 0.0, 0.0]


def test_supply_and_power_caps_take_the_minimum() -> None:
    # k = 1 as in the binding case (Q_pow = 500) with a supply cap of 300: Q_1 = 300,
    # unmet = 1500 - 300 = 1200.
    seg = _segment("training", 1.0, (1.0, 2.0))
    chips = _chips(2, p=2.0, w=1000.0, load=0.5, pue=1.2)
    inputs = one_segment(seg, (), T=1, chips=chips)
    inputs = dataclasses.replace(
        inputs, fleet=dataclasses.replace(inputs.fleet, supply_cap=_a(0.0, 300.0))
    )
    out = reference_evaluate(_v2(inputs, power_cap=(0.0, 300e3)), 0)
    _close(out["shipments_h100e"], [1000.0, 300.0])
    _close(out["unmet_h100e"], [0.0, 1200.0])
    # and with the supply cap at 800 the power cap (500) binds instead
    inputs = dataclasses.replace(
        inputs, fleet=dataclasses.replace(inputs.fleet, supply_cap=_a(0.0, 800.0))
    )
    out = reference_evaluate(_v2(inputs, power_cap=(0.0, 300e3)), 0)
    _close(out["shipments_h100e"], [1000.0, 500.0])


def test_v1_fleet_inputs_mean_no_lead_and_no_cap() -> None:
    # A FleetInputs without the v2 fields (or with them None) is phi = 0, no power cap.
    seg = _segment("training", 1.0, (1.0, 2.0), e_short=0.0)
    shock = _shock("level", 1, 4.0, delay=STEP_DELAY)
    inputs = one_segment(seg, (shock,), T=1)
    plain = reference_evaluate(inputs, 0)
    nones = reference_evaluate(
        dataclasses.replace(
            inputs, fleet=with_fleet_v2(inputs.fleet, order_lead=None, power_cap=None)
        ),
        0,
    )
    assert plain == nones == glut(0.0)
