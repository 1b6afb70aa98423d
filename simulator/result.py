"""The result of a simulation: per-sample arrays of every metric, both variants."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

VARIANTS: tuple[str, ...] = ("with_shocks", "counterfactual", "impact")
"""Variant names (MODEL.md §9): with the shocks, without them, and their ratio."""


@dataclass(frozen=True)
class SimulationResult:
    """Per-sample paths of every metric of MODEL.md §9, in both variants.

    Attributes
    ----------
    scenario_name : str
        The scenario's ``name``.
    resolved : dict
        The fully resolved scenario (after ``extends`` and overrides), as plain data.
    years : tuple of int
        Calendar years ``base_year .. end_year``.
    n_samples : int
        Number of samples.
    seed : int
        Root seed (entropy) of the run; passing it back reproduces the run.
    method : str
        Sampling design: ``random``, ``lhs`` or ``sobol``.
    block_size : int
        Samples per random-stream block (part of the reproducibility contract).
    with_shocks, counterfactual, impact : dict of str to ndarray, shape (n, T + 1)
        Metric name to per-sample paths, in canonical units (MODEL.md §1, §9).
        ``impact = with_shocks / counterfactual`` per sample (``0/0 = 1``), except for
        the metrics of :data:`simulator.metrics.IMPACT_AS_DIFFERENCE` (``idle_h100e``,
        ``unmet_h100e``), whose impact is the difference ``with_shocks - counterfactual``.
    timings : dict of str to float
        Wall-clock seconds spent in each stage.
    versions : dict of str to str
        Versions of jevons, numpy and scipy that produced the result.
    """

    scenario_name: str
    resolved: Mapping[str, Any]
    years: tuple[int, ...]
    n_samples: int
    seed: int
    method: str
    block_size: int
    with_shocks: Mapping[str, NDArray[np.float64]]
    counterfactual: Mapping[str, NDArray[np.float64]]
    impact: Mapping[str, NDArray[np.float64]]
    timings: Mapping[str, float] = field(default_factory=dict)
    versions: Mapping[str, str] = field(default_factory=dict)

    @property
    def metrics(self) -> tuple[str, ...]:
        """Metric names, in model order."""
        return tuple(self.with_shocks)

    def variant(self, name: str) -> Mapping[str, NDArray[np.float64]]:
        """Arrays of one variant: ``with_shocks``, ``counterfactual`` or ``impact``."""
        if name not in VARIANTS:
            msg = f"variant must be one of {', '.join(VARIANTS)}; got {name!r}"
            raise ValueError(msg)
        out: Mapping[str, NDArray[np.float64]] = getattr(self, name)
        return out
