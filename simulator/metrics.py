"""Names and units of the model's outputs (MODEL.md §9).

Metrics keep these names everywhere: Python API, CSV, JSON and charts.
"""

from __future__ import annotations

METRIC_UNITS: dict[str, str] = {
    "compute_training": "FLOP",
    "compute_inference": "FLOP",
    "compute_total": "FLOP",
    "inference_share": "-",
    "capacity_required": "H100e",
    "installed_h100e": "H100e",
    "idle_h100e": "H100e",
    "unmet_h100e": "H100e",
    "shipments_h100e": "H100e",
    "shipments_units": "accelerators",
    "installed_units": "accelerators",
    "hbm_gb": "GB",
    "accelerator_revenue": "USD",
    "hbm_revenue": "USD",
    "datacenter_capex": "USD",
    "power_w": "W",
    "energy_j": "J",
}
"""Every fixed metric name and its canonical unit; ``compute.<segment>`` is in FLOP."""

IMPACT_AS_DIFFERENCE: frozenset[str] = frozenset({"idle_h100e", "unmet_h100e"})
"""Metrics whose ``impact`` is the paired difference ``with - without`` (in the metric's
unit), not the ratio: both are 0 on most paths, where a ratio is 0/0 or x/0 and says
nothing a strategist can use. Every other metric's impact is ``with / without`` [-]."""

SEGMENT_METRIC_PREFIX = "compute."
"""Prefix of the per-segment compute metrics, ``compute.<segment>``."""


def metric_unit(name: str) -> str:
    """Canonical unit of a metric name, including ``compute.<segment>``."""
    if name.startswith(SEGMENT_METRIC_PREFIX):
        return "FLOP"
    return METRIC_UNITS[name]
