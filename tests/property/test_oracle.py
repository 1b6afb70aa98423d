"""The vectorized model agrees with the scalar oracle (MODEL.md §8, invariant 8).

``tests/reference_model.py`` is a plain-Python, one-sample-at-a-time implementation of
MODEL.md §2-§5. The property test draws random valid inputs and checks that
``simulator.model.evaluate`` matches it for every sample, metric and year to 1e-9
relative to the metric's scale, with shocks and for the counterfactual. The example
tests check the oracle itself against numbers computed by hand.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
from tests.strategies import Float64Array, model_inputs

FY = F_REF * SECONDS_PER_YEAR
"""FLOP performed in one year by one H100e at full utilization."""

RTOL = 1e-9
"""Tolerance of MODEL.md §8.8, relative to each metric's scale."""

SCALE_FROM = {"idle_h100e": "capacity_required", "unmet_h100e": "capacity_required"}
"""Metrics that are differences of large numbers take their scale from another metric."""


# ---------------------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------------------


def shipment_scales(inputs: ModelInputs, i: int, q: float) -> dict[str, list[float]]:
    """Per-year scales of the metrics that are linear images of the shipments ``Q_k``.

    Shipments ``Q_k = min(max(K(k) - O(k), 0), Q_max)`` are, like idle and unmet, a
    difference of large numbers: a rounding error of order ``eps * K`` in ``Q_k`` is
    not a disagreement even when every ``Q_k`` is (nearly) zero and the metric's own
    scale is too. So each of these metrics also gets, per year, the value it would
    take if every projection-year shipment were ``q`` (the scale of
    ``capacity_required``), an upper bound of how far an error ``<= eps * q`` in the
    shipments can move it (MODEL.md §5 is linear in ``Q`` with coefficients >= 0,
    and survival ``S <= 1``).
    """
    V = inputs.n_vintages
    c = inputs.chips

    def chip(path: np.ndarray[tuple[int, ...], np.dtype[np.float64]], k: int) -> float:
        return float(path[i, k + V - 1])

    out: dict[str, list[float]] = {m: [0.0] for m in _SHIPMENT_METRICS}
    for k in range(1, len(inputs.years)):
        units = q / chip(c.h100e_per_unit, k)
        fleet_units = sum(q / chip(c.h100e_per_unit, v) for v in range(1, k + 1))
        fleet_watts = sum(
            q / chip(c.h100e_per_unit, v) * chip(c.system_power, v) for v in range(1, k + 1)
        )
        power = fleet_watts * chip(c.load, k) * chip(c.pue, k)
        out["shipments_h100e"].append(q)
        out["installed_h100e"].append(q)
        out["shipments_units"].append(units)
        out["hbm_gb"].append(units * chip(c.hbm_per_unit, k))
        out["accelerator_revenue"].append(units * chip(c.price, k))
        out["hbm_revenue"].append(units * chip(c.hbm_per_unit, k) * chip(c.hbm_price, k))
        out["datacenter_capex"].append(units * chip(c.price, k) / chip(c.capex_share, k))
        out["installed_units"].append(fleet_units)
        out["power_w"].append(power)
        out["energy_j"].append(power * SECONDS_PER_YEAR)
    return out


_SHIPMENT_METRICS = (
    "shipments_h100e",
    "installed_h100e",
    "shipments_units",
    "hbm_gb",
    "accelerator_revenue",
    "hbm_revenue",
    "datacenter_capex",
    "installed_units",
    "power_w",
    "energy_j",
)


def assert_agrees(inputs: ModelInputs, label: str) -> None:
    """Assert ``evaluate(inputs)`` matches the oracle for every sample, metric and year."""
    from simulator.model import evaluate

    result = evaluate(inputs)
    n = int(inputs.fleet.initial_vintages.shape[0])
    n_years = len(inputs.years)
    for i in range(n):
        expected = reference_evaluate(inputs, i)
        missing = sorted(set(expected) - set(result))
        assert not missing, f"{label}: evaluate() lacks metrics {missing}"
        capacity_scale = max(abs(x) for x in expected["capacity_required"])
        floors = shipment_scales(inputs, i, capacity_scale)
        for metric, want in expected.items():
            got = np.asarray(result[metric], dtype=np.float64)
            assert got.shape == (n, n_years), (
                f"{label}: {metric} has shape {got.shape}, expected {(n, n_years)}"
            )
            scale_metric = SCALE_FROM.get(metric, metric)
            own_scale = max(abs(x) for x in expected[scale_metric])
            for k in range(n_years):
                scale = max(own_scale, floors[metric][k]) if metric in floors else own_scale
                tol = RTOL * scale
                g = float(got[i, k])
                assert math.isfinite(g), f"{label}: {metric}[{i}, {k}] = {g}"
                assert abs(g - want[k]) <= tol, (
                    f"{label}: {metric} sample {i} year index {k} ({inputs.years[k]}): "
                    f"model {g!r} vs oracle {want[k]!r}, |diff| {abs(g - want[k]):.3e} "
                    f"> tol {tol:.3e} (scale {scale:.3e})"
                )


@settings(deadline=None, max_examples=200)
@given(inputs=model_inputs())
def test_model_agrees_with_oracle(inputs: ModelInputs) -> None:
    assert_agrees(inputs, "with_shocks")
    assert_agrees(dataclasses.replace(inputs, shocks=()), "counterfactual")


@settings(deadline=None, max_examples=50)
@given(inputs=model_inputs(supply_cap=True, max_years=4))
def test_model_agrees_with_oracle_capped(inputs: ModelInputs) -> None:
    assert_agrees(inputs, "with_shocks")
    assert_agrees(dataclasses.replace(inputs, shocks=()), "counterfactual")


# ---------------------------------------------------------------------------------------
# Version 2 fleet (MODEL.md §4): order lead phi and the power cap
# ---------------------------------------------------------------------------------------


@st.composite
def model_inputs_v2(draw: st.DrawFn, /, **kwargs: Any) -> ModelInputs:
    """``model_inputs(**kwargs)`` with an order lead and (sometimes) a power cap.

    ``phi`` per sample is 0, 1 or a random value in [0, 1]. The power cap, when drawn,
    is scaled to the power the fleet would draw without it (the oracle's uncapped
    with-shocks ``power_w``) by a factor per year: below 1 (binding: partly, or with
    nothing left for new chips when the surviving fleet alone draws more), exactly 0,
    or above 1 (not binding), so that the cap binds in some years and not others.
    """
    inputs: ModelInputs = draw(model_inputs(**kwargs))
    n = int(inputs.fleet.initial_vintages.shape[0])
    n_years = len(inputs.years)
    phi = np.array(
        [draw(st.sampled_from([0.0, 1.0]) | st.floats(0.0, 1.0)) for _ in range(n)],
        dtype=np.float64,
    )
    cap: Float64Array | None = None
    if draw(st.booleans(), label="power_cap"):
        uncapped = with_fleet_v2(inputs.fleet, order_lead=phi, power_cap=None)
        probe = dataclasses.replace(inputs, fleet=uncapped)
        factor = st.sampled_from([0.0, 0.5, 1.5]) | st.floats(0.0, 0.999) | st.floats(1.0, 3.0)
        cap = np.zeros((n, n_years), dtype=np.float64)
        for i in range(n):
            power = reference_evaluate(probe, i)["power_w"]
            for k in range(n_years):
                cap[i, k] = draw(factor) * power[k]
    fleet = with_fleet_v2(inputs.fleet, order_lead=phi, power_cap=cap)
    return dataclasses.replace(inputs, fleet=fleet)


@settings(deadline=None, max_examples=60)
@given(inputs=model_inputs_v2(max_years=6))
def test_model_agrees_with_oracle_order_lead_and_power_cap(inputs: ModelInputs) -> None:
    """MODEL.md v2 §4 (phi, power cap, idle/unmet) against the oracle, both variants."""
    assert_agrees(inputs, "with_shocks")
    assert_agrees(dataclasses.replace(inputs, shocks=()), "counterfactual")


@settings(deadline=None, max_examples=30)
@given(inputs=model_inputs_v2(supply_cap=True, max_years=4))
def test_model_agrees_with_oracle_order_lead_and_both_caps(inputs: ModelInputs) -> None:
    """As above with a supply cap too: ``Q_k = min(D, Q_max, Q_pow)``."""
    assert_agrees(inputs, "with_shocks")
    assert_agrees(dataclasses.replace(inputs, shocks=()), "counterfactual")


# ---------------------------------------------------------------------------------------
# The oracle itself satisfies MODEL.md version 2's invariants 2, 10 and 11
# ---------------------------------------------------------------------------------------


def _fleet_v2(inputs: ModelInputs, **changes: Any) -> ModelInputs:
    """``inputs`` with the v2 fleet fields (and any other fleet field) changed."""
    fleet = inputs.fleet
    order_lead = changes.pop("order_lead", getattr(fleet, "order_lead", None))
    power_cap = changes.pop("power_cap", getattr(fleet, "power_cap", None))
    fleet = dataclasses.replace(fleet, **changes) if changes else fleet
    return dataclasses.replace(
        inputs, fleet=with_fleet_v2(fleet, order_lead=order_lead, power_cap=power_cap)
    )


@settings(deadline=None, max_examples=60)
@given(inputs=model_inputs_v2(max_years=6))
def test_oracle_v2_conservation_and_caps(inputs: ModelInputs) -> None:
    """Invariant 2: ``idle * unmet = 0``, ``I - K = idle - unmet``, ``Q <= Q_max``, and
    ``power <= max(P_max, P_O)``: where new chips ship (and so add power), ``power <=
    P_max``."""
    n = int(inputs.fleet.initial_vintages.shape[0])
    cap = getattr(inputs.fleet, "power_cap", None)
    for variant in (inputs, dataclasses.replace(inputs, shocks=())):
        for i in range(n):
            out = reference_evaluate(variant, i)
            scale = max(out["capacity_required"])
            for k in range(1, len(inputs.years)):
                idle, unmet = out["idle_h100e"][k], out["unmet_h100e"][k]
                assert idle * unmet == 0.0
                gap = out["installed_h100e"][k] - out["capacity_required"][k]
                assert abs(gap - (idle - unmet)) <= 1e-12 * scale
                if inputs.fleet.supply_cap is not None:
                    assert out["shipments_h100e"][k] <= float(inputs.fleet.supply_cap[i, k])
                if cap is not None and out["shipments_units"][k] > 0.0:
                    assert out["power_w"][k] <= float(cap[i, k]) * (1 + 1e-12)


@settings(deadline=None, max_examples=60)
@given(inputs=model_inputs_v2(max_years=6), data=st.data())
def test_oracle_v2_order_lead(inputs: ModelInputs, data: st.DataObject) -> None:
    """Invariant 10: the counterfactual does not depend on ``phi``; with no caps and
    ``phi = 1`` a first shock that cuts compute in its onset year leaves ``idle(k_m) >=
    K^B(k_m) - K(k_m) > 0`` and ships no less in that year than with ``phi = 0``."""
    n = int(inputs.fleet.initial_vintages.shape[0])
    phi = np.array([data.draw(st.floats(0.0, 1.0)) for _ in range(n)])
    cf = dataclasses.replace(inputs, shocks=())
    for i in range(n):
        assert reference_evaluate(_fleet_v2(cf, order_lead=phi), i) == reference_evaluate(
            _fleet_v2(cf, order_lead=np.zeros(n)), i
        )
    if not inputs.shocks:
        return
    free = _fleet_v2(inputs, power_cap=None, supply_cap=None)
    lead = _fleet_v2(free, order_lead=np.ones(n))
    just_in_time = _fleet_v2(free, order_lead=np.zeros(n))
    k_m = min(shock.onset for shock in inputs.shocks)
    for i in range(n):
        out = reference_evaluate(lead, i)
        base = reference_evaluate(dataclasses.replace(lead, shocks=()), i)
        scale = max(out["capacity_required"])
        K, KB = out["capacity_required"], base["capacity_required"]
        assert K[:k_m] == KB[:k_m]  # no gain before the first onset: exactly the baseline
        if K[k_m] < KB[k_m] - 1e-9 * scale:
            assert out["idle_h100e"][k_m] >= KB[k_m] - K[k_m] - 1e-12 * scale
            jit = reference_evaluate(just_in_time, i)
            assert out["shipments_h100e"][k_m] >= jit["shipments_h100e"][k_m] - 1e-12 * scale


@settings(deadline=None, max_examples=60)
@given(inputs=model_inputs(max_years=6))
def test_oracle_v2_clock_never_above_version_1(inputs: ModelInputs) -> None:
    """Invariant 11: with ``eps_short <= eps_long`` every segment's with-shock compute is
    at most version 1's one-clock form ``B prod_m X_m(k)^(pi eps(k - k_m) - 1)``."""
    segments = tuple(
        dataclasses.replace(
            seg,
            elasticity_short=np.minimum(seg.elasticity_short, seg.elasticity_long),
            elasticity_long=np.maximum(seg.elasticity_short, seg.elasticity_long),
        )
        for seg in inputs.segments
    )
    inputs = dataclasses.replace(inputs, segments=segments)
    n = int(inputs.fleet.initial_vintages.shape[0])
    for i in range(n):
        out = reference_evaluate(inputs, i)
        base = reference_evaluate(dataclasses.replace(inputs, shocks=()), i)
        for s, seg in enumerate(segments):
            e_s, e_l = float(seg.elasticity_short[i]), float(seg.elasticity_long[i])
            a, pi = float(seg.adjustment[i]), float(seg.pass_through[i])
            for k in range(len(inputs.years)):
                log_v1 = 0.0
                for shock in inputs.shocks:
                    if s not in shock.segments or k < shock.onset:
                        continue
                    if shock.type == "level":
                        f = float(shock.ceiling[i]) / (
                            1
                            + math.exp(
                                -(k - shock.onset - float(shock.delay[i])) / float(shock.width[i])
                            )
                        )
                        x = 1 / ((1 - f) + f / float(shock.magnitude[i]))
                    else:
                        x = float(shock.magnitude[i]) ** (k - shock.onset)
                    eps = e_l + (e_s - e_l) * math.exp(-(k - shock.onset) / a)
                    log_v1 += math.log(x) * (pi * eps - 1)
                v1 = base[f"compute.{seg.name}"][k] * math.exp(log_v1)
                assert out[f"compute.{seg.name}"][k] <= v1 * (1 + 1e-12)


# ---------------------------------------------------------------------------------------
# The oracle itself, against hand-computed numbers
# ---------------------------------------------------------------------------------------


def _a(*values: float) -> np.ndarray[tuple[int, ...], np.dtype[np.float64]]:
    """One sample: a (1, len) array, or (1,) for a single value."""
    return np.array([values], dtype=np.float64)


def _s(value: float) -> np.ndarray[tuple[int, ...], np.dtype[np.float64]]:
    return np.array([value], dtype=np.float64)


def _segment(
    name: str,
    kind: Kind,
    share: float,
    growth: tuple[float, ...],
    *,
    e_short: float = 1.0,
    e_long: float | None = None,
    adjustment: float = 1.0,
    pass_through: float = 1.0,
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
    segments: tuple[int, ...],
    magnitude: float,
    *,
    ceiling: float = 1.0,
    delay: float = 0.0,
    width: float = 1.0,
) -> ShockInputs:
    return ShockInputs(
        name="s",
        type=type_,
        onset=onset,
        segments=segments,
        magnitude=_s(magnitude),
        ceiling=_s(ceiling),
        delay=_s(delay),
        width=_s(width),
    )


def _flat_chips(cols: int) -> ChipInputs:
    one = _a(*([1.0] * cols))
    return ChipInputs(
        h100e_per_unit=one,
        hbm_per_unit=one,
        price=one,
        system_power=one,
        hbm_price=one,
        capex_share=one,
        pue=one,
        load=one,
    )


def tiny_scenario(*, cap: float | None = None, shocks: bool = True) -> ModelInputs:
    """One sample, base year 2024 and T = 1, one initial vintage of 1000 H100e.

    Segments: ``train`` (training, share 0.25, growth 2), ``infer`` (inference, share
    0.75, growth 4, elasticity 2 right after the shock, 0 in the long run). Shock:
    level, onset 1, on ``infer``, M = 4, ceiling 1, delay 0, width 1. Utilization 0.5
    (training), 0.25 (inference). Median life 1 year, shape 1. Chips (2024, 2025):
    p = 2, 4; h = 80, 100; price = 25e3, 30e3; w = 1000, 1500; q = 10, 12;
    sigma = 0.5, 0.6; PUE = 1.2, 1.5; load = 0.5, 0.8.
    """
    return ModelInputs(
        years=(2024, 2025),
        segments=(
            _segment("train", "training", 0.25, (1.0, 2.0)),
            _segment("infer", "inference", 0.75, (1.0, 4.0), e_short=2.0, e_long=0.0),
        ),
        shocks=(_shock("level", 1, (1,), 4.0),) if shocks else (),
        utilization_training=_a(0.5, 0.5),
        utilization_inference=_a(0.25, 0.25),
        fleet=FleetInputs(
            initial_vintages=_a(1000.0),
            median_life=_s(1.0),
            shape=_s(1.0),
            supply_cap=None if cap is None else _a(0.0, cap),
        ),
        chips=ChipInputs(
            h100e_per_unit=_a(2.0, 4.0),
            hbm_per_unit=_a(80.0, 100.0),
            price=_a(25e3, 30e3),
            system_power=_a(1000.0, 1500.0),
            hbm_price=_a(10.0, 12.0),
            capex_share=_a(0.5, 0.6),
            pue=_a(1.2, 1.5),
            load=_a(0.5, 0.8),
        ),
    )


def _close(got: list[float], want: list[float]) -> None:
    assert got == pytest.approx(want, rel=1e-12, abs=0.0)


def test_oracle_tiny_scenario_by_hand() -> None:
    out = reference_evaluate(tiny_scenario(), 0)
    # K_0 = 1000 (one vintage, age 0, S(0) = 1)
    # C_train(0) = 0.25 * 1000 * 0.5 * FY = 125 FY; C_infer(0) = 0.75 * 1000 * 0.25 FY
    # = 187.5 FY. Baseline k = 1: B_train = 250 FY, B_infer = 750 FY.
    # Shock at k = 1: f = 1 / (1 + exp(0)) = 0.5, X = 1 / (0.5 + 0.5 / 4) = 1.6;
    # eps(0) = 0 + (2 - 0) * exp(0) = 2, exponent 1 * 2 - 1 = 1: C_infer(1) = 1.6 * 750 FY.
    _close(out["compute.train"], [125 * FY, 250 * FY])
    _close(out["compute.infer"], [187.5 * FY, 1200 * FY])
    _close(out["compute_training"], [125 * FY, 250 * FY])
    _close(out["compute_inference"], [187.5 * FY, 1200 * FY])
    _close(out["compute_total"], [312.5 * FY, 1450 * FY])
    _close(out["inference_share"], [0.6, 24 / 29])  # 187.5 / 312.5; 1200 / 1450
    # K(1) = 250 / 0.5 + 1200 / 0.25 = 500 + 4800
    _close(out["capacity_required"], [1000.0, 5300.0])
    # lambda = 1 / ln 2, S(1) = exp(-ln 2) = 0.5: O(1) = 500, D = Q_1 = 4800, I = 5300
    _close(out["shipments_h100e"], [1000.0, 4800.0])
    _close(out["installed_h100e"], [1000.0, 5300.0])
    assert out["idle_h100e"] == [0.0, 0.0]
    assert out["unmet_h100e"] == [0.0, 0.0]
    # units = 1000 / 2, 4800 / 4
    _close(out["shipments_units"], [500.0, 1200.0])
    _close(out["installed_units"], [500.0, 500 * 0.5 + 1200])
    _close(out["hbm_gb"], [500 * 80.0, 1200 * 100.0])
    _close(out["accelerator_revenue"], [500 * 25e3, 1200 * 30e3])
    _close(out["hbm_revenue"], [500 * 80 * 10.0, 1200 * 100 * 12.0])
    _close(out["datacenter_capex"], [500 * 25e3 / 0.5, 1200 * 30e3 / 0.6])
    # power(0) = 500 * 1 * 1000 W * 0.5 * 1.2 = 300 kW
    # power(1) = (250 * 1000 + 1200 * 1500) * 0.8 * 1.5 = 2.46 MW (old units at w(2024))
    _close(out["power_w"], [300e3, 2.46e6])
    _close(out["energy_j"], [300e3 * SECONDS_PER_YEAR, 2.46e6 * SECONDS_PER_YEAR])


def test_oracle_tiny_counterfactual_and_cap_by_hand() -> None:
    # Counterfactual: C_infer(1) = 750 FY, K(1) = 500 + 3000, O(1) = 500, Q_1 = 3000.
    cf = reference_evaluate(tiny_scenario(shocks=False), 0)
    _close(cf["capacity_required"], [1000.0, 3500.0])
    _close(cf["shipments_h100e"], [1000.0, 3000.0])
    _close(cf["inference_share"], [0.6, 0.75])
    # Cap 3000 with the shock: D = 4800, Q_1 = 3000, unmet 1800, I(1) = 3500.
    # The cap's column 0 (given as 0) is ignored: the base year is observed.
    capped = reference_evaluate(tiny_scenario(cap=3000.0), 0)
    _close(capped["shipments_h100e"], [1000.0, 3000.0])
    _close(capped["unmet_h100e"], [0.0, 1800.0])
    _close(capped["installed_h100e"], [1000.0, 3500.0])
    _close(capped["capacity_required"], [1000.0, 5300.0])
    # Demand far below the surviving fleet: idle = O - K.
    idle = reference_evaluate(
        dataclasses.replace(
            tiny_scenario(shocks=False),
            segments=(
                _segment("train", "training", 0.25, (1.0, 0.5)),
                _segment("infer", "inference", 0.75, (1.0, 0.5)),
            ),
        ),
        0,
    )
    # K(1) = 0.5 * 1000 = 500 = O(1): D = 0, idle 0; now halve again via utilization
    _close(idle["capacity_required"], [1000.0, 500.0])
    assert idle["shipments_h100e"][1] == 0.0
    assert idle["idle_h100e"][1] == pytest.approx(0.0, abs=1e-9)
    idle2 = reference_evaluate(
        dataclasses.replace(
            tiny_scenario(shocks=False),
            segments=(
                _segment("train", "training", 0.25, (1.0, 0.2)),
                _segment("infer", "inference", 0.75, (1.0, 0.2)),
            ),
        ),
        0,
    )
    # K(1) = 0.2 * 1000 = 200, O(1) = 500: idle 300, Q_1 = 0, I(1) = 500
    _close(idle2["idle_h100e"], [0.0, 300.0])
    _close(idle2["installed_h100e"], [1000.0, 500.0])
    assert idle2["shipments_h100e"] == [1000.0, 0.0]


def test_oracle_harmonic_level_shock() -> None:
    # MODEL.md §2: half the work at 10x efficiency saves 45% of FLOP. f = 0.5 at onset
    # (delay 0), M = 10: X = 1 / (0.5 + 0.05) = 1 / 0.55. eps = 0: C = B * X^-1 = 0.55 B.
    base = ModelInputs(
        years=(2024, 2025),
        segments=(_segment("a", "training", 1.0, (1.0, 1.0), e_short=0.0),),
        shocks=(),
        utilization_training=_a(1.0, 1.0),
        utilization_inference=_a(1.0, 1.0),
        fleet=FleetInputs(initial_vintages=_a(100.0), median_life=_s(5.0), shape=_s(2.0)),
        chips=_flat_chips(2),
    )
    shocked = dataclasses.replace(base, shocks=(_shock("level", 1, (0,), 10.0),))
    b = reference_evaluate(base, 0)["compute_total"]
    c = reference_evaluate(shocked, 0)["compute_total"]
    _close(b, [100 * FY, 100 * FY])
    _close(c, [100 * FY, 55 * FY])
    # Ceiling 0 or M = 1 changes nothing (MODEL.md §8.3).
    for shock in (_shock("level", 1, (0,), 10.0, ceiling=0.0), _shock("level", 1, (0,), 1.0)):
        _close(
            reference_evaluate(dataclasses.replace(base, shocks=(shock,)), 0)["compute_total"], b
        )


def test_oracle_trend_shock_and_elasticity_decay() -> None:
    # T = 3, trend shock r = 2 from onset 1 on segment "a": X(1) = 1, X(2) = 2, X(3) = 4,
    # so l(1) = 0, l(2) = ln 2, l(3) = 2 ln 2: increments dl(2) = dl(3) = ln 2.
    # eps_short = 3, eps_long = 1, a = 1: eps(tau) = 1 + 2 exp(-tau); pass_through 0.5.
    # MODEL.md v2 §2, each increment on its own clock:
    #   ln C(2) - ln B = -ln 2 + 0.5 ln 2 eps(0) = ln 2 (1.5 - 1):  C(2) = B 2^0.5
    #   ln C(3) - ln B = -2 ln 2 + 0.5 ln 2 (eps(1) + eps(0)) = ln 2 exp(-1):  C(3) = B 2^(1/e)
    # (version 1's one clock from onset gave 2^(exp(-1) - 0.5) and 4^(exp(-2) - 0.5).)
    # Segment "b" is not in the shock's list: unchanged.
    inputs = ModelInputs(
        years=(2024, 2025, 2026, 2027),
        segments=(
            _segment(
                "a",
                "inference",
                0.5,
                (1.0, 1.0, 1.0, 1.0),
                e_short=3.0,
                e_long=1.0,
                pass_through=0.5,
            ),
            _segment("b", "training", 0.5, (1.0, 3.0, 1.0, 1.0)),
        ),
        shocks=(_shock("trend", 1, (0,), 2.0),),
        utilization_training=_a(1.0, 1.0, 1.0, 1.0),
        utilization_inference=_a(1.0, 1.0, 1.0, 1.0),
        fleet=FleetInputs(
            # two vintages (2023, 2024) of 100 each; L = 2, kappa = 2:
            # S(1) = exp(-(1 / lambda)^2) with lambda = 2 / sqrt(ln 2): S(1) = 2^(-1/4)
            initial_vintages=_a(100.0, 100.0),
            median_life=_s(2.0),
            shape=_s(2.0),
        ),
        chips=_flat_chips(5),
    )
    out = reference_evaluate(inputs, 0)
    s1 = 2.0**-0.25
    k0 = 100 + 100 * s1
    a = [
        0.5 * k0 * FY,
        0.5 * k0 * FY,  # X = 1 at onset
        0.5 * k0 * FY * 2.0**0.5,
        0.5 * k0 * FY * 2.0 ** math.exp(-1),
    ]
    _close(out["compute.a"], a)
    _close(out["compute.b"], [0.5 * k0 * FY, 1.5 * k0 * FY, 1.5 * k0 * FY, 1.5 * k0 * FY])
    _close(out["capacity_required"], [k0] + [a[k] / FY + 1.5 * k0 for k in (1, 2, 3)])
    # Fleet: S(2) = 2^-1 (a/lambda)^2 = 4 ln2 / 4 = ln 2; O(1) = 100 S(2) + 100 S(1)
    s2 = 0.5
    assert math.isclose(out["installed_h100e"][0], k0, rel_tol=1e-12)
    o1 = 100 * s2 + 100 * s1
    _close(out["shipments_h100e"][:2], [100.0, 2 * k0 - o1])
    # Flat chips (all ones): units = H100e, power = installed units.
    _close(out["installed_units"], out["installed_h100e"])
    _close(out["power_w"], out["installed_h100e"])
