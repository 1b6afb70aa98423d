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
    dtype : str
        Floating-point type of the model's arithmetic: ``"float64"`` (the default) or
        ``"float32"`` (whose error is stated in ``docs/float32.md``); the arrays here are
        float64 either way.
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
    dtype: str = "float64"

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

    def __repr__(self) -> str:
        return (
            f"SimulationResult({self.scenario_name!r}, n={self.n_samples:,}, "
            f"years={_span(self.years)}, metrics={len(self.metrics)}, "
            f"inputs={len(self.inputs)}, method={self.method!r}, seed={self.seed})"
        )

    def to_xarray(self) -> Any:
        """The per-sample arrays and input draws as an ``xarray.Dataset``.

        Returns
        -------
        xarray.Dataset
            Dimensions ``sample`` (0-based), ``year`` and ``variant`` (``with_shocks``,
            ``counterfactual``, ``impact``). One float64 variable per metric, dims
            ``(sample, year, variant)``, with attributes ``units`` (the canonical unit of
            its ``with_shocks`` and ``counterfactual`` values, ``"1"`` when dimensionless),
            ``impact_units`` (``"1"``: a ratio, except for ``idle_h100e`` and
            ``unmet_h100e``, whose impact is a difference in H100e), ``long_name`` and
            ``impact``; one float64 variable per uncertain input, named by its scenario path
            (``demand.segments.chat.elasticity.long``), dims ``(sample,)``, attribute
            ``role = "input"``. Attributes ``scenario``, ``n_samples``, ``seed`` (int, or
            its decimal digits when it does not fit int64), ``method``, ``block_size``,
            ``dtype`` (of the model's arithmetic), and ``versions`` and ``resolved`` as JSON text (so that ``to_netcdf`` can store
            them). ``ds[list(result.metrics)].to_dataarray("metric")`` stacks the metrics
            along a ``metric`` dimension.

        Raises
        ------
        simulator.errors.MissingExtraError
            If xarray is not installed (``pip install "jevons[io]"``).

        Notes
        -----
        The arrays are copied (stacked along ``variant``): it needs about as much memory
        again as the result.
        """
        from simulator.export import result_dataset

        return result_dataset(self)

    def to_pandas(self) -> Any:
        """The per-sample arrays and input draws as one wide pandas DataFrame.

        Returns
        -------
        pandas.DataFrame
            The layout of ``samples.parquet``: one row per sample and year, sample-major;
            columns ``sample`` (int64), ``year`` (int32), ``"<variant>/<metric>"`` per
            variant and metric (float64, canonical units) and ``"inputs/<parameter path>"``
            per uncertain input (its draw, repeated on each year of the sample).
            ``pandas.read_parquet("samples.parquet")`` of the same run equals it.

        Raises
        ------
        simulator.errors.MissingExtraError
            If pandas is not installed (``pip install "jevons[io]"``).
        """
        from simulator.export import result_frame

        return result_frame(self)


def _span(years: tuple[int, ...]) -> str:
    return f"{years[0]}..{years[-1]}" if years else "none"


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
    backend, dtype : str
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
    dtype: str = "float64"

    def variant(self, name: str) -> Mapping[str, NDArray[np.float64]]:
        """Always raises: a summary keeps no per-sample arrays."""
        msg = (
            f"a RunSummary keeps no per-sample arrays (variant {name!r}); use "
            "simulator.simulate() for runs that fit in memory, or save_samples"
        )
        raise TypeError(msg)

    def __repr__(self) -> str:
        quantiles = "exact" if self.exact else f"within {self.quantile_rel_error:.2g}"
        return (
            f"RunSummary({self.scenario_name!r}, n={self.n_samples:,}, "
            f"years={_span(self.years)}, metrics={len(self.metrics)}, "
            f"rows={len(self.summary):,}, answers={len(self.answers)}, "
            f"quantiles={quantiles}, method={self.method!r}, seed={self.seed})"
        )

    def to_pandas(self) -> Any:
        """The summary table as a tidy pandas DataFrame (:meth:`SummaryTable.to_pandas`)."""
        return self.summary.to_pandas()

    def to_xarray(self) -> Any:
        """The summary as an ``xarray.Dataset`` with a ``statistic`` dimension.

        Returns
        -------
        xarray.Dataset
            Dimensions ``variant``, ``year`` and ``statistic`` (``mean``, ``sd``, ``p5``
            ... ``se_p95``, as in the table); one float64 variable per metric with the
            attributes of :meth:`SimulationResult.to_xarray`; NaN where the table has no
            row (an undefined statistic). Attributes as there, plus ``exact`` (1 or 0) and
            ``quantile_rel_error``.

        Raises
        ------
        simulator.errors.MissingExtraError
            If xarray is not installed (``pip install "jevons[io]"``).
        """
        from simulator.export import run_summary_dataset

        return run_summary_dataset(self)
