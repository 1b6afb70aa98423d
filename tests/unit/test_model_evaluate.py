"""End-to-end known values for simulator.model.evaluate (MODEL.md §2-5, §9).

A tiny scenario, n = 2, T = 2, V = 2, computed by hand (FY = F_ref * Y FLOP, the
work of one H100e busy for a year):

- vintages 100 (year -1) and 200 (year 0); sample 1 has both doubled;
- survival kappa = 1, L = 1: S(a) = 2^-a = [1, 0.5, 0.25, 0.125, ...];
  K_0 = 100 * 0.5 + 200 = 250 H100e;
- training: share 0.4, u = 0.5, growth [-, 2, 1]; inference: share 0.6, u = 0.25,
  growth [-, 1, 2];
- C_train(0) = 0.4 * 250 * 0.5 FY = 50 FY -> B_train = [50, 100, 100] FY;
  C_inf(0) = 0.6 * 250 * 0.25 FY = 37.5 FY -> B_inf = [37.5, 37.5, 75] FY;
- K_train = [100, 200, 200], K_inf = [150, 150, 300], K = [250, 350, 500];
- fleet: k=1: O = 100*0.25 + 200*0.5 = 125, Q = 225, I = 350;
  k=2: O = 100*0.125 + 200*0.25 + 225*0.5 = 175, Q = 325, I = 500;
- chips over years -1..2: p = [1, 2, 2.5, 5] -> units = [100, 100, 90, 65];
  h = 80 GB, price 30_000 USD, q = 10 USD/GB, sigma = 0.5, w = 1000 W, load 0.5, PUE 1.2.
"""

from __future__ import annotations

import dataclasses
from types import ModuleType
from typing import Any

import pytest

from simulator.constants import F_REF, SECONDS_PER_YEAR
from simulator.model import METRICS, evaluate, metric_names
from simulator.model.inputs import (
    ChipInputs,
    FleetInputs,
    ModelInputs,
    SegmentInputs,
    ShockInputs,
)
from tests.arrays import row

FY = F_REF * SECONDS_PER_YEAR


def full(xp: ModuleType, value: float, n_columns: int) -> Any:
    return xp.full((2, n_columns), value, dtype=xp.float64)


def vec(xp: ModuleType, value: float) -> Any:
    return xp.full((2,), value, dtype=xp.float64)


def tiny_inputs(xp: ModuleType, supply_cap: float | None = None) -> ModelInputs:
    def segment(name: str, kind: Any, share: float, growth: list[float]) -> SegmentInputs:
        return SegmentInputs(
            name=name,
            kind=kind,
            share=share,
            growth=xp.asarray([growth, growth], dtype=xp.float64),
            elasticity_short=vec(xp, 0.0),
            elasticity_long=vec(xp, 0.0),
            adjustment=vec(xp, 1.0),
            pass_through=vec(xp, 1.0),
        )

    cap = None if supply_cap is None else full(xp, supply_cap, 3)
    p = xp.asarray([[1.0, 2.0, 2.5, 5.0]] * 2, dtype=xp.float64)
    return ModelInputs(
        years=(2024, 2025, 2026),
        segments=(
            segment("pretrain", "training", 0.4, [1.0, 2.0, 1.0]),
            segment("chat", "inference", 0.6, [1.0, 1.0, 2.0]),
        ),
        shocks=(),
        utilization_training=full(xp, 0.5, 3),
        utilization_inference=full(xp, 0.25, 3),
        fleet=FleetInputs(
            initial_vintages=xp.asarray([[100.0, 200.0], [200.0, 400.0]], dtype=xp.float64),
            median_life=vec(xp, 1.0),
            shape=vec(xp, 1.0),
            supply_cap=cap,
        ),
        chips=ChipInputs(
            h100e_per_unit=p,
            hbm_per_unit=full(xp, 80.0, 4),
            price=full(xp, 30_000.0, 4),
            system_power=full(xp, 1000.0, 4),
            hbm_price=full(xp, 10.0, 4),
            capex_share=full(xp, 0.5, 4),
            pue=full(xp, 1.2, 4),
            load=full(xp, 0.5, 4),
        ),
    )


def level_shock(xp: ModuleType, segments: tuple[int, ...], magnitude: float) -> ShockInputs:
    # onset 1, d = 0, width 1e-3: adoption 0.5 at k = 1, exactly 1 at k = 2
    return ShockInputs(
        name="deepseek",
        type="level",
        onset=1,
        segments=segments,
        magnitude=vec(xp, magnitude),
        ceiling=vec(xp, 1.0),
        delay=vec(xp, 0.0),
        width=vec(xp, 1e-3),
    )


def test_metric_names_order():
    names = metric_names(["a", "b"])
    assert names[:5] == (
        "compute_training",
        "compute_inference",
        "compute_total",
        "compute.a",
        "compute.b",
    )
    assert names[5:] == METRICS[3:]
    assert len(METRICS) == 17
    assert len(set(names)) == len(names)


def test_evaluate_keys_and_shapes(xp):
    got = evaluate(tiny_inputs(xp))
    assert tuple(got) == metric_names(["pretrain", "chat"])
    for name, value in got.items():
        assert value.shape == (2, 3), name


def test_evaluate_known_values(xp):
    got = evaluate(tiny_inputs(xp))
    assert row(got["compute.pretrain"]) == pytest.approx([50 * FY, 100 * FY, 100 * FY], rel=1e-14)
    assert row(got["compute_inference"]) == pytest.approx(
        [37.5 * FY, 37.5 * FY, 75 * FY], rel=1e-14
    )
    assert row(got["compute_total"]) == pytest.approx([87.5 * FY, 137.5 * FY, 175 * FY], rel=1e-14)
    # 37.5/87.5, 37.5/137.5, 75/175
    assert row(got["inference_share"]) == pytest.approx([3 / 7, 3 / 11, 3 / 7], rel=1e-14)
    assert row(got["capacity_required"]) == pytest.approx([250.0, 350.0, 500.0], rel=1e-14)
    assert row(got["installed_h100e"]) == pytest.approx([250.0, 350.0, 500.0], rel=1e-14)
    assert row(got["shipments_h100e"]) == pytest.approx([200.0, 225.0, 325.0], rel=1e-14)
    assert row(got["idle_h100e"]) == [0.0, 0.0, 0.0]
    assert row(got["unmet_h100e"]) == [0.0, 0.0, 0.0]
    # units = Q / p = [200/2, 225/2.5, 325/5] = [100, 90, 65]
    assert row(got["shipments_units"]) == pytest.approx([100.0, 90.0, 65.0], rel=1e-14)
    assert row(got["hbm_gb"]) == pytest.approx([8000.0, 7200.0, 5200.0], rel=1e-14)
    assert row(got["accelerator_revenue"]) == pytest.approx([3e6, 2.7e6, 1.95e6], rel=1e-14)
    assert row(got["hbm_revenue"]) == pytest.approx([80_000.0, 72_000.0, 52_000.0], rel=1e-14)
    assert row(got["datacenter_capex"]) == pytest.approx([6e6, 5.4e6, 3.9e6], rel=1e-14)
    # installed units: k=0: 100*0.5 + 100 = 150; k=1: 25 + 50 + 90 = 165;
    # k=2: 12.5 + 25 + 45 + 65 = 147.5
    assert row(got["installed_units"]) == pytest.approx([150.0, 165.0, 147.5], rel=1e-14)
    # power = installed units * 1000 W * 0.5 * 1.2 = units * 600 W
    assert row(got["power_w"]) == pytest.approx([90_000.0, 99_000.0, 88_500.0], rel=1e-14)
    assert row(got["energy_j"]) == pytest.approx(
        [90_000.0 * SECONDS_PER_YEAR, 99_000.0 * SECONDS_PER_YEAR, 88_500.0 * SECONDS_PER_YEAR],
        rel=1e-14,
    )


def test_evaluate_is_homogeneous_in_the_initial_fleet(xp):
    # sample 1 has every initial vintage doubled: every extensive metric doubles
    got = evaluate(tiny_inputs(xp))
    for name in ("compute_total", "capacity_required", "shipments_units", "power_w"):
        assert row(got[name], 1) == pytest.approx([2 * v for v in row(got[name], 0)], rel=1e-14)
    assert row(got["inference_share"], 1) == pytest.approx(row(got["inference_share"], 0))


def test_evaluate_supply_cap(xp):
    # cap 200 H100e/year: k=1: O = 125, D = 225, Q = 200, unmet 25, I = 325
    # k=2: O = 12.5 + 50 + 200*0.5 = 162.5, D = 500 - 162.5 = 337.5, Q = 200, unmet 137.5
    got = evaluate(tiny_inputs(xp, supply_cap=200.0))
    assert row(got["shipments_h100e"]) == pytest.approx([200.0, 200.0, 200.0], rel=1e-14)
    assert row(got["unmet_h100e"]) == pytest.approx([0.0, 25.0, 137.5], rel=1e-14)
    assert row(got["installed_h100e"]) == pytest.approx([250.0, 325.0, 362.5], rel=1e-14)


def test_counterfactual_is_exactly_the_baseline(xp):
    base = tiny_inputs(xp)
    shocked = dataclasses.replace(base, shocks=(level_shock(xp, (0,), 4.0),))
    counterfactual = evaluate(dataclasses.replace(shocked, shocks=()))
    reference = evaluate(base)
    for name, value in reference.items():
        assert row(counterfactual[name], 0) == row(value, 0), name
        assert row(counterfactual[name], 1) == row(value, 1), name


def test_level_shock_only_touches_its_segments(xp):
    # eps = 0, M = 4 on training only: B_train / X with X = [1, 1.6, 4]
    # -> [50, 100/1.6, 100/4] FY = [50, 62.5, 25] FY; inference untouched bit-for-bit
    base = evaluate(tiny_inputs(xp))
    got = evaluate(dataclasses.replace(tiny_inputs(xp), shocks=(level_shock(xp, (0,), 4.0),)))
    assert row(got["compute.pretrain"]) == pytest.approx([50 * FY, 62.5 * FY, 25 * FY], rel=1e-14)
    assert row(got["compute.chat"]) == row(base["compute.chat"])
    assert row(got["compute_inference"], 1) == row(base["compute_inference"], 1)


def test_level_shock_without_gain_changes_nothing(xp):
    # M = 1: X = 1 exactly, so every metric is bit-for-bit the unshocked one
    base = evaluate(tiny_inputs(xp))
    got = evaluate(dataclasses.replace(tiny_inputs(xp), shocks=(level_shock(xp, (0, 1), 1.0),)))
    for name, value in base.items():
        assert row(got[name]) == row(value), name
