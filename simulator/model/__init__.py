"""The pure, vectorized model: from sampled inputs to every output metric.

:func:`evaluate` runs MODEL.md §2-5 (version 2) for ``n`` samples and returns the
metrics of MODEL.md §9, each shaped ``(n, T + 1)`` for the years
``base_year .. end_year``. :func:`evaluate_pair` gives the with-shock variant and the
counterfactual together (the engine's entry point): they share the baseline, and the
counterfactual's required capacity is the trend that orders follow (order lead).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from array_api_compat import array_namespace

from simulator._typing import Array
from simulator.metrics import METRIC_UNITS
from simulator.model import demand, fleet, market
from simulator.model._layout import is_numpy, scratch
from simulator.model.inputs import ModelInputs, ShockInputs

__all__ = ["METRICS", "evaluate", "evaluate_pair", "metric_names"]

METRICS: tuple[str, ...] = tuple(METRIC_UNITS)
"""Names of the fixed metrics of MODEL.md §9, without the per-segment ``compute.<name>``."""

_SEGMENT_AFTER = "compute_total"
"""Per-segment metrics follow this one in :func:`metric_names`."""


def metric_names(segment_names: Sequence[str]) -> tuple[str, ...]:
    """All metric names, in output order, for the given segments.

    Parameters
    ----------
    segment_names : sequence of str
        Segment names, in scenario order.

    Returns
    -------
    tuple of str
        :data:`METRICS` with ``compute.<segment>`` inserted after ``compute_total``.

    Notes
    -----
    MODEL.md §9.
    """
    position = METRICS.index(_SEGMENT_AFTER) + 1
    per_segment = tuple(f"compute.{name}" for name in segment_names)
    return METRICS[:position] + per_segment + METRICS[position:]


def _share(part: Array, total: Array, /) -> Array:
    """``part / total`` where ``total > 0``, else 0, in [-]."""
    xp = array_namespace(part, total)
    positive = total > 0
    if is_numpy(xp):
        # the same quotient where total > 0 (the divisor 1 elsewhere), then 0 there
        blocked = np.logical_not(positive)
        safe = scratch("model.share", total, total.shape[-1], total.dtype)
        np.copyto(safe, total.T)
        np.copyto(safe, 1.0, where=blocked.T)
        share = np.divide(part, safe.T)
        np.copyto(share, 0.0, where=blocked)
        return share
    safe_total = xp.where(positive, total, xp.ones_like(total))
    return xp.where(positive, part / safe_total, xp.zeros_like(part))


class _Demand(NamedTuple):
    """Compute by segment and kind, and required capacity, of one variant."""

    segments: list[Array]
    kinds: dict[str, Array]
    total: Array
    capacity: Array


class _Shared(NamedTuple):
    """What both variants share.

    Survival, utilization, the baseline per segment, the compute one H100e does per kind
    and year, the power limit and the initial vintages' part of the stock-flow.
    """

    survival: Array
    utilization: dict[str, Array]
    baselines: list[Array]
    flop_per_h100e: dict[str, Array]
    power: fleet.PowerLimit | None
    basis: fleet.FleetBasis


def _shared(inputs: ModelInputs) -> _Shared:
    fleet_in = inputs.fleet
    chips = inputs.chips
    n_years = len(inputs.years)
    first_year = inputs.n_vintages - 1
    survival = fleet.survival_table(
        fleet_in.median_life, fleet_in.shape, inputs.n_vintages + n_years
    )
    base_fleet = fleet.initial_capacity(fleet_in.initial_vintages, survival)
    utilization = {
        "training": inputs.utilization_training,
        "inference": inputs.utilization_inference,
    }
    power = None
    if fleet_in.power_cap is not None:
        power = fleet.PowerLimit(
            cap=fleet_in.power_cap,
            h100e_per_unit=chips.h100e_per_unit,
            system_power=chips.system_power,
            load=chips.load[:, first_year:],
            pue=chips.pue[:, first_year:],
        )
    baselines = [
        demand.baseline_compute(
            demand.base_compute(segment.share, base_fleet, utilization[segment.kind][:, 0]),
            segment.growth,
        )
        for segment in inputs.segments
    ]
    return _Shared(
        survival,
        utilization,
        baselines,
        flop_per_h100e={
            kind: fleet.flop_per_h100e(u, scratch_key=f"model.flop.{kind}")
            for kind, u in utilization.items()
        },
        power=power,
        # private to this evaluation: in the thread's reusable buffers (NumPy)
        basis=fleet.fleet_basis(
            fleet_in.initial_vintages, survival, n_years, power=power, scratch_key="model.basis"
        ),
    )


def _efficiency(shock: ShockInputs, n_years: int, key: str) -> Array:
    """Efficiency multiplier ``X_m(k)`` of one shock (MODEL.md §2), shape ``(n, T + 1)``.

    With NumPy, a level shock's adoption and efficiency are in the thread's reusable
    buffers for ``key``: private to one evaluation.
    """
    if shock.type == "level":
        adoption = demand.level_adoption(
            shock.ceiling,
            shock.delay,
            shock.width,
            shock.onset,
            n_years,
            scratch_key="model.adoption",
        )
        return demand.level_efficiency(adoption, shock.magnitude, scratch_key=key)
    return demand.trend_efficiency(shock.magnitude, shock.onset, n_years)


def _demand(inputs: ModelInputs, shared: _Shared, shocks: tuple[ShockInputs, ...]) -> _Demand:
    """MODEL.md §2-3 for one variant: ``shocks=()`` gives the counterfactual."""
    xp = array_namespace(inputs.utilization_training, inputs.utilization_inference)
    n_years = len(inputs.years)
    segment_compute: list[Array] = []
    # A shock's efficiency path, and the log gain of a set of shocks, are the same for
    # every segment they apply to: computed once each.
    efficiency_of: dict[int, Array] = {}
    log_gain_of: dict[tuple[int, ...], Array] = {}
    for s, (segment, baseline) in enumerate(zip(inputs.segments, shared.baselines, strict=True)):
        applying = tuple(m for m, shock in enumerate(shocks) if s in shock.segments)
        log_gain = None
        if applying and applying in log_gain_of:
            log_gain = log_gain_of[applying]
        elif applying:
            for m in applying:
                if m not in efficiency_of:
                    efficiency_of[m] = _efficiency(shocks[m], n_years, f"model.efficiency.{m}")
            log_gain = demand.log_efficiency_gain(
                [efficiency_of[m] for m in applying],
                baseline,
                scratch_key=f"model.log_gain.{applying}",
            )
            log_gain_of[applying] = log_gain
        segment_compute.append(
            demand.physical_compute(
                baseline,
                log_gain,
                segment.elasticity_short,
                segment.elasticity_long,
                segment.adjustment,
                segment.pass_through,
            )
        )
    kinds: dict[str, Array] = {}
    numpy = is_numpy(xp)
    for kind, u in shared.utilization.items():
        parts = [
            c for s, c in zip(inputs.segments, segment_compute, strict=True) if s.kind == kind
        ]
        if numpy and parts:
            # 0 + C_1 + C_2 + ..., the first sum into a new array and the rest in place
            total = np.add(parts[0], np.zeros((), dtype=u.dtype))
            for compute in parts[1:]:
                total += compute
        else:
            total = xp.zeros_like(u)
            for compute in parts:
                total = total + compute
        kinds[kind] = total
    # fleet.required_capacity, with the divisor computed once for both variants
    if numpy:
        required = np.divide(kinds["training"], shared.flop_per_h100e["training"])
        inference = scratch("model.capacity", required, required.shape[-1], required.dtype)
        np.divide(kinds["inference"].T, shared.flop_per_h100e["inference"].T, out=inference)
        required += inference.T
    else:
        capacity = {kind: kinds[kind] / shared.flop_per_h100e[kind] for kind in kinds}
        required = capacity["training"] + capacity["inference"]
    return _Demand(
        segments=segment_compute,
        kinds=kinds,
        total=kinds["training"] + kinds["inference"],
        capacity=required,
    )


def _supply(
    inputs: ModelInputs, shared: _Shared, need: _Demand, trend: Array | None
) -> dict[str, Array]:
    """MODEL.md §4-5 for one variant; ``trend`` is ``K^B`` (None for the counterfactual)."""
    fleet_in = inputs.fleet
    chips = inputs.chips
    n_years = len(inputs.years)
    first_year = inputs.n_vintages - 1
    survival = shared.survival

    paths = fleet.stock_flow(
        need.capacity,
        fleet_in.initial_vintages,
        survival,
        fleet_in.supply_cap,
        planned=fleet.planned_capacity(
            need.capacity, trend, fleet_in.order_lead, scratch_key="model.planned"
        ),
        power=shared.power,
        basis=shared.basis,
        scratch_key="model.stock_flow",  # surviving and wanted are not metrics
    )

    units_all = market.accelerator_units(paths.shipped, chips.h100e_per_unit)
    units = units_all[:, first_year:]
    hbm = market.hbm_shipped(units, chips.hbm_per_unit[:, first_year:])
    accel_revenue = market.accelerator_revenue(units, chips.price[:, first_year:])
    power_w = market.fleet_power(
        units_all,
        survival,
        chips.system_power,
        chips.load[:, first_year:],
        chips.pue[:, first_year:],
    )

    metrics: dict[str, Array] = {
        "compute_training": need.kinds["training"],
        "compute_inference": need.kinds["inference"],
        "compute_total": need.total,
    }
    for segment, compute in zip(inputs.segments, need.segments, strict=True):
        metrics[f"compute.{segment.name}"] = compute
    metrics.update(
        {
            "inference_share": _share(need.kinds["inference"], need.total),
            "capacity_required": need.capacity,
            "installed_h100e": paths.installed,
            "idle_h100e": paths.idle,
            "unmet_h100e": paths.unmet,
            "shipments_h100e": paths.shipments,
            "shipments_units": units,
            "installed_units": market.installed_units(units_all, survival, n_years),
            "hbm_gb": hbm,
            "accelerator_revenue": accel_revenue,
            "hbm_revenue": market.hbm_revenue(hbm, chips.hbm_price[:, first_year:]),
            "datacenter_capex": market.datacenter_capex(
                accel_revenue, chips.capex_share[:, first_year:]
            ),
            "power_w": power_w,
            "energy_j": market.energy(power_w),
        }
    )
    return metrics


def evaluate(inputs: ModelInputs) -> dict[str, Array]:
    """Evaluate the model for ``n`` samples, with the shocks in ``inputs.shocks``.

    Parameters
    ----------
    inputs : ModelInputs
        Sampled inputs; the shocks in ``inputs.shocks`` are applied (pass
        ``dataclasses.replace(inputs, shocks=())`` for the counterfactual).

    Returns
    -------
    dict of str to array
        Every metric of :func:`metric_names` (``inputs.segments``), each shape
        ``(n, T + 1)`` for the years ``base_year .. end_year``, in the unit of
        MODEL.md §9: FLOP, [-], H100e, accelerators, GB, USD, W, J.

    Notes
    -----
    MODEL.md §2 (demand), §3 (capacity), §4 (fleet) and §5 (market). The base-year
    fleet ``K_0`` comes from the initial vintages and sets base-year compute, so the
    fleet and demand agree at ``k = 0``. ``inference_share`` is 0 where total
    compute is 0. With shocks and an order lead, the orders placed a year ahead
    follow the counterfactual's required capacity, which is computed here too; use
    :func:`evaluate_pair` to get both variants at the cost of one.
    """
    shared = _shared(inputs)
    need = _demand(inputs, shared, inputs.shocks)
    trend = None
    if inputs.shocks and inputs.fleet.order_lead is not None:
        trend = _demand(inputs, shared, ()).capacity
    return _supply(inputs, shared, need, trend)


def evaluate_pair(inputs: ModelInputs) -> tuple[dict[str, Array], dict[str, Array]]:
    """Evaluate the model with the shocks and without them, on the same samples.

    Parameters
    ----------
    inputs : ModelInputs
        Sampled inputs, shocks included.

    Returns
    -------
    with_shocks, counterfactual : dict of str to array
        As :func:`evaluate` of ``inputs`` and of ``dataclasses.replace(inputs,
        shocks=())``, with the survival table and baseline compute computed once.

    Notes
    -----
    MODEL.md §2 and §4: the counterfactual is the same recursion on the baseline
    ``B``; its required capacity ``K^B`` is the trend that orders placed a year ahead
    follow in the with-shock variant (``fleet.order_lead``).
    """
    shared = _shared(inputs)
    base = _demand(inputs, shared, ())
    counterfactual = _supply(inputs, shared, base, None)
    if not inputs.shocks:
        return counterfactual, counterfactual
    need = _demand(inputs, shared, inputs.shocks)
    return _supply(inputs, shared, need, base.capacity), counterfactual
