"""The pure, vectorized model: from sampled inputs to every output metric.

:func:`evaluate` runs MODEL.md §2-5 for ``n`` samples and returns the metrics of
MODEL.md §9, each shaped ``(n, T + 1)`` for the years ``base_year .. end_year``.
The engine gets the counterfactual by calling it again on the same inputs with
``shocks=()``.
"""

from __future__ import annotations

from collections.abc import Sequence

from array_api_compat import array_namespace

from simulator._typing import Array
from simulator.metrics import METRIC_UNITS
from simulator.model import demand, fleet, market
from simulator.model.inputs import ModelInputs

__all__ = ["METRICS", "evaluate", "metric_names"]

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
    safe_total = xp.where(positive, total, xp.ones_like(total))
    return xp.where(positive, part / safe_total, xp.zeros_like(part))


def evaluate(inputs: ModelInputs) -> dict[str, Array]:
    """Evaluate the model for ``n`` samples.

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
    compute is 0.
    """
    xp = array_namespace(
        inputs.utilization_training, inputs.utilization_inference, inputs.fleet.initial_vintages
    )
    fleet_in = inputs.fleet
    chips = inputs.chips
    n_years = len(inputs.years)
    n_vintages = inputs.n_vintages
    first_year = n_vintages - 1

    survival = fleet.survival_table(fleet_in.median_life, fleet_in.shape, n_vintages + n_years)
    base_fleet = fleet.initial_capacity(fleet_in.initial_vintages, survival)
    utilization = {
        "training": inputs.utilization_training,
        "inference": inputs.utilization_inference,
    }

    segment_compute: list[Array] = []
    for s, segment in enumerate(inputs.segments):
        base = demand.base_compute(segment.share, base_fleet, utilization[segment.kind][:, 0])
        baseline = demand.baseline_compute(base, segment.growth)
        efficiencies: list[Array] = []
        elasticities: list[Array] = []
        for shock in inputs.shocks:
            if s not in shock.segments:
                continue
            if shock.type == "level":
                adoption = demand.level_adoption(
                    shock.ceiling, shock.delay, shock.width, shock.onset, n_years
                )
                efficiencies.append(demand.level_efficiency(adoption, shock.magnitude))
            else:
                efficiencies.append(demand.trend_efficiency(shock.magnitude, shock.onset, n_years))
            elasticities.append(
                demand.elasticity(
                    segment.elasticity_short,
                    segment.elasticity_long,
                    segment.adjustment,
                    shock.onset,
                    n_years,
                )
            )
        segment_compute.append(
            demand.physical_compute(baseline, efficiencies, elasticities, segment.pass_through)
        )

    kind_compute: dict[str, Array] = {}
    kind_capacity: dict[str, Array] = {}
    for kind, u in utilization.items():
        total = xp.zeros_like(u)
        for segment, compute in zip(inputs.segments, segment_compute, strict=True):
            if segment.kind == kind:
                total = total + compute
        kind_compute[kind] = total
        kind_capacity[kind] = fleet.required_capacity(total, u)
    compute_total = kind_compute["training"] + kind_compute["inference"]
    capacity = kind_capacity["training"] + kind_capacity["inference"]

    paths = fleet.stock_flow(capacity, fleet_in.initial_vintages, survival, fleet_in.supply_cap)

    shipments_all = xp.concat(
        [fleet_in.initial_vintages[:, :first_year], paths.shipments], axis=-1
    )
    units_all = market.accelerator_units(shipments_all, chips.h100e_per_unit)
    units = units_all[:, first_year:]
    hbm = market.hbm_shipped(units, chips.hbm_per_unit[:, first_year:])
    accel_revenue = market.accelerator_revenue(units, chips.price[:, first_year:])
    power = market.fleet_power(
        units_all,
        survival,
        chips.system_power,
        chips.load[:, first_year:],
        chips.pue[:, first_year:],
    )

    metrics: dict[str, Array] = {
        "compute_training": kind_compute["training"],
        "compute_inference": kind_compute["inference"],
        "compute_total": compute_total,
    }
    for segment, compute in zip(inputs.segments, segment_compute, strict=True):
        metrics[f"compute.{segment.name}"] = compute
    metrics.update(
        {
            "inference_share": _share(kind_compute["inference"], compute_total),
            "capacity_required": capacity,
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
            "power_w": power,
            "energy_j": market.energy(power),
        }
    )
    return metrics
