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


DIMENSIONLESS = "1"
"""How a dimensionless quantity's unit is written in tables and files (the SI and CF
convention, which pint, xarray and UDUNITS read; MODEL.md's tables write ``-``)."""

PAIR_STATISTICS_IN_METRIC_UNIT: frozenset[str] = frozenset(
    {"se_mean_paired", "se_mean_independent"}
)
"""Paired statistics of a comparison (``variant = "paired"``) that are in the metric's unit;
the others (probabilities, an efficiency) are dimensionless."""


def value_unit(variant: str, metric: str, statistic: str = "") -> str:
    """Unit of a summary row's ``value``: what the ``unit`` column of ``summary.csv`` says.

    Parameters
    ----------
    variant : str
        ``with_shocks``, ``counterfactual`` or ``impact`` (a run); ``difference``,
        ``ratio`` or ``paired`` (a comparison's pair rows).
    metric : str
        Metric name (MODEL.md §9), ``compute.<segment>`` included.
    statistic : str, optional
        The statistic (``mean``, ``p50``, ``se_p50``, ``p_greater``, ...); it matters only
        for ``paired`` rows.

    Returns
    -------
    unit : str
        The metric's canonical unit (``FLOP``, ``H100e``, ``accelerators``, ``GB``, ``USD``,
        ``W``, ``J``), or ``"1"`` for a dimensionless value: ``inference_share``, an
        ``impact`` or comparison ratio, a probability. The ``impact`` of
        :data:`IMPACT_AS_DIFFERENCE` is a difference, in the metric's unit. Every statistic
        (mean, sd, quantiles and their standard errors) is in the unit of the values.

    Raises
    ------
    KeyError
        If ``metric`` is not a metric of the model.
    """
    unit = metric_unit(metric)
    unit = DIMENSIONLESS if unit == "-" else unit
    if variant == "impact" and metric not in IMPACT_AS_DIFFERENCE:
        return DIMENSIONLESS
    if variant == "ratio":
        return DIMENSIONLESS
    if variant == "paired" and statistic not in PAIR_STATISTICS_IN_METRIC_UNIT:
        return DIMENSIONLESS
    return unit
