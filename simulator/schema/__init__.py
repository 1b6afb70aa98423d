"""The scenario language (pydantic models; no numerics)."""

from __future__ import annotations

from simulator.schema.distributions import DISTRIBUTION_KINDS, Distribution, Fixed, Scalar
from simulator.schema.paths import PATH_TAGS, Anchors, FromGrowth, Path, StartEnd
from simulator.schema.scenario import (
    Chips,
    Correlation,
    Demand,
    Domain,
    Fleet,
    Question,
    Sampling,
    Scenario,
    Segment,
    Shock,
    Utilization,
    Years,
)

__all__ = [
    "DISTRIBUTION_KINDS",
    "PATH_TAGS",
    "Anchors",
    "Chips",
    "Correlation",
    "Demand",
    "Distribution",
    "Domain",
    "Fixed",
    "Fleet",
    "FromGrowth",
    "Path",
    "Question",
    "Sampling",
    "Scalar",
    "Scenario",
    "Segment",
    "Shock",
    "StartEnd",
    "Utilization",
    "Years",
]
