"""Display units of the report layer: the only place where metrics leave their canonical unit.

Each metric of MODEL.md §9 is computed and summarized in its canonical unit (FLOP, H100e,
accelerators, GB, USD, W, J). Tables and charts show it in a unit a strategist reads at a
glance; the unit is always stated in the label.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["DisplayUnit", "display_unit", "format_number", "format_ratio"]


@dataclass(frozen=True)
class DisplayUnit:
    """How one metric is shown.

    Attributes
    ----------
    label : str
        Unit as printed in a column or axis label, e.g. ``"M units"``, ``"$B"``.
    scale : float
        Multiplier from the canonical unit to the displayed one. [display unit / canonical]
    scientific : bool
        Print in e-notation (compute in FLOP spans too many orders of magnitude).
    description : str
        A short human name of the metric.
    """

    label: str
    scale: float
    scientific: bool = False
    description: str = ""


_J_PER_TWH = 3.6e15
"""Joules in one terawatt-hour. [J/TWh]"""

_UNITS: dict[str, DisplayUnit] = {
    "compute_training": DisplayUnit("1e27 FLOP", 1e-27, False, "Training compute"),
    "compute_inference": DisplayUnit("1e27 FLOP", 1e-27, False, "Inference compute"),
    "compute_total": DisplayUnit("1e27 FLOP", 1e-27, False, "Total compute"),
    "inference_share": DisplayUnit("%", 100.0, False, "Inference share of compute"),
    "capacity_required": DisplayUnit("M H100e", 1e-6, False, "Capacity required"),
    "installed_h100e": DisplayUnit("M H100e", 1e-6, False, "Installed fleet"),
    "idle_h100e": DisplayUnit("M H100e", 1e-6, False, "Idle capacity"),
    "unmet_h100e": DisplayUnit("M H100e", 1e-6, False, "Unmet demand"),
    "shipments_h100e": DisplayUnit("M H100e", 1e-6, False, "Shipments (H100e)"),
    "shipments_units": DisplayUnit("M units", 1e-6, False, "Accelerator shipments"),
    "installed_units": DisplayUnit("M units", 1e-6, False, "Accelerators in service"),
    "hbm_gb": DisplayUnit("EB", 1e-9, False, "HBM shipped"),
    "accelerator_revenue": DisplayUnit("$B", 1e-9, False, "Accelerator revenue"),
    "hbm_revenue": DisplayUnit("$B", 1e-9, False, "HBM revenue"),
    "datacenter_capex": DisplayUnit("$B", 1e-9, False, "Data-centre capex"),
    "power_w": DisplayUnit("GW", 1e-9, False, "Fleet power"),
    "energy_j": DisplayUnit("TWh", 1.0 / _J_PER_TWH, False, "Fleet energy"),
}
"""Display units by metric name (MODEL.md §9). GB -> EB is 1e-9 (1 GB = 1e9 B, 1 EB = 1e18 B)."""


def display_unit(metric: str) -> DisplayUnit:
    """Display unit of a metric; compute (``compute.<segment>`` too) is shown in 1e27 FLOP.

    Parameters
    ----------
    metric : str
        Metric name (MODEL.md §9).

    Returns
    -------
    unit : DisplayUnit
        The unit; an unknown metric is shown unscaled, labelled ``"canonical unit"``.
    """
    if metric in _UNITS:
        return _UNITS[metric]
    if metric.startswith("compute."):
        segment = metric.removeprefix("compute.")
        return DisplayUnit("1e27 FLOP", 1e-27, False, f"Compute: {segment}")
    return DisplayUnit("canonical unit", 1.0, False, metric)


def format_number(value: float, unit: DisplayUnit) -> str:
    """Format a value given in the canonical unit, converted to ``unit``.

    Parameters
    ----------
    value : float
        Value in the metric's canonical unit. [canonical unit]
    unit : DisplayUnit
        Display unit.

    Returns
    -------
    text : str
        Three significant digits, trailing zeros kept (``"5.80"``, ``"123"``,
        ``"1,105"``, ``"1.23e+27"`` in e-notation); ``"inf"`` and ``"n/a"`` for infinite and
        undefined values.
    """
    if math.isnan(value):
        return "n/a"
    shown = value * unit.scale
    if math.isinf(shown):
        return "inf" if shown > 0 else "-inf"
    if unit.scientific:
        return f"{shown:.2e}"
    if shown != 0 and abs(shown) < 0.01:
        return f"{shown:.2g}"
    if abs(shown) >= 1000:
        return f"{shown:,.0f}"
    return f"{shown:#.3g}".rstrip(".")


def format_ratio(value: float) -> str:
    """Format an impact ratio (with / without) as ``"1.23x"``.

    Parameters
    ----------
    value : float
        Ratio. [-]

    Returns
    -------
    text : str
        The ratio with three decimals (three significant digits from 10 on) and an
        ``x``; ``"inf"``, ``"n/a"``.
    """
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "inf"
    return f"{value:.3f}x" if value < 10 else f"{value:.3g}x"
