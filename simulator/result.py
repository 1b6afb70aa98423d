"""The result of a simulation: per-sample arrays of every metric, or their summary."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.summary import QuestionAnswer, SummaryTable

VARIANTS: tuple[str, ...] = ("with_shocks", "counterfactual", "impact")
"""Variant names (MODEL.md §9): with the shocks, without them, and their ratio."""

INPUTS_PREFIX = "inputs/"
"""Key prefix of the input draws in a samples file: ``"inputs/<parameter path>"``."""


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
    inputs : dict of str to ndarray, shape (n,)
        The per-sample draw of every uncertain scalar parameter, keyed by its dotted
        scenario path (``demand.segments.chat.elasticity.long``,
        ``fleet.supply_cap.anchors.2027``, ...; see
        :func:`simulator.sampling.uncertain_names`), in the parameter's unit: the value the
        model used (after correlation and any domain truncation), row ``i`` belonging to
        sample ``i`` of every metric. Fixed parameters are not repeated here.
    backend : str
        The array library the model ran on: ``"numpy"``, ``"cupy"``, or the name of the
        namespace given as ``xp`` (``"array_api_strict"``).
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
    inputs: Mapping[str, NDArray[np.float64]] = field(default_factory=dict)
    backend: str = "numpy"

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


@dataclass(frozen=True)
class RunSummary:
    """The summary of a run: what :func:`simulator.engine.simulate_summary` returns.

    It carries the same metadata as :class:`SimulationResult` but no per-sample arrays:
    ``summary`` and ``answers`` were merged block by block as the run went.

    Attributes
    ----------
    scenario_name, resolved, years, n_samples, seed, method, block_size
        As in :class:`SimulationResult`.
    metrics : tuple of str
        Metric names, in model order.
    summary : SummaryTable
        The tidy summary of every variant, metric and year (MODEL.md §7, §9).
    answers : list of QuestionAnswer
        Answers to the scenario's questions, in scenario order.
    exact : bool
        True when quantiles are exact (the samples fitted the memory budget); False when
        they come from the mergeable histogram, within ``quantile_rel_error`` of exact.
    quantile_rel_error : float
        Largest relative error of a reported quantile (0 when exact). [-]
    timings : dict of str to float
        Seconds per stage; ``sampling_s``, ``model_s`` and ``summarize_s`` are summed over
        workers (so they may exceed the wall time ``simulate_s``).
    versions : dict of str to str
        Versions of the numerical packages.
    samples_file : Path or None
        Where the per-sample paths were streamed (``save_samples``), else None.
    backend : str
        As in :class:`SimulationResult`.
    """

    scenario_name: str
    resolved: Mapping[str, Any]
    years: tuple[int, ...]
    n_samples: int
    seed: int
    method: str
    block_size: int
    metrics: tuple[str, ...]
    summary: SummaryTable
    answers: list[QuestionAnswer]
    exact: bool
    quantile_rel_error: float
    timings: Mapping[str, float] = field(default_factory=dict)
    versions: Mapping[str, str] = field(default_factory=dict)
    samples_file: Path | None = None
    backend: str = "numpy"

    def variant(self, name: str) -> Mapping[str, NDArray[np.float64]]:
        """Always raises: a summary keeps no per-sample arrays."""
        msg = (
            f"a RunSummary keeps no per-sample arrays (variant {name!r}); use "
            "simulator.simulate() for runs that fit in memory, or save_samples"
        )
        raise TypeError(msg)
