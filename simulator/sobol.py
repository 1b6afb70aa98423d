"""Variance-based sensitivity of a scenario's outputs: Sobol' indices with SALib.

Which uncertain input drives the spread of ``hbm_gb`` in 2027? The first-order index ``S1``
of an input is the share of the output's variance it explains on its own (the variance of
the output's conditional mean given that input, over the output's variance); the total
index ``ST`` is the share that would remain if every other input were known (its own effect
plus all its interactions). ``ST - S1`` measures an input's interactions; an input with
``ST ~ 0`` could be fixed at any value of its range without changing the output's
distribution. See ``docs/sensitivity.md`` for how to read them.

The pipeline (:func:`sobol_indices`, on the core :func:`analyze_function`):

1. SALib's Saltelli extension of a scrambled Sobol' sequence
   (:func:`SALib.sample.sobol.sample`) in the unit hypercube, one dimension per uncertain
   scalar parameter (:func:`simulator.sampling.uncertain_names`), ``N (D + 2)`` points
   (``N (2D + 2)`` with second-order indices); points on the cube's faces are clipped
   strictly inside it (:func:`simulator.sampling.designs.open_unit`), as every design is;
2. each point through the inverse CDFs (:func:`simulator.sampling.values_from_uniforms`),
   the model inputs (:func:`simulator.engine.build_inputs`) and the model
   (:func:`simulator.model.evaluate_pair`), in chunks of :data:`CHUNK` points on worker
   threads, keeping only the chosen metrics, years and variant;
3. SALib's estimators (:func:`SALib.analyze.sobol.analyze`: Saltelli et al. 2010 for ``S1``,
   Jansen for ``ST``) on each output series, with bootstrap confidence intervals.

The inputs are drawn **independently**: the scenario's rank correlations are not imposed,
because the variance decomposition behind Sobol' indices (Hoeffding's, of a function of
independent inputs) has no unique meaning for dependent ones, and SALib's design and
estimators assume independence. :func:`sobol_indices` warns
(:class:`SobolCorrelationWarning`) naming the pairs it leaves out.

References
----------
.. [1] I. M. Sobol', "Global sensitivity indices for nonlinear mathematical models and their
   Monte Carlo estimates", Math. Comput. Simul. 55(1-3), 271-280, 2001.
.. [2] A. Saltelli, P. Annoni, I. Azzini, F. Campolongo, M. Ratto, S. Tarantola, "Variance
   based sensitivity analysis of model output. Design and estimator for the total
   sensitivity index", Comput. Phys. Commun. 181(2), 259-270, 2010.
.. [3] J. Herman, W. Usher, "SALib: An open-source Python library for Sensitivity Analysis",
   J. Open Source Softw. 2(9), 97, 2017.
.. [4] T. Ishigami, T. Homma, "An importance quantification technique in uncertainty
   analysis for computer models", Proc. ISUMA '90, 398-403, 1990.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

import numpy as np
import numpy.typing as npt

from simulator.errors import EXIT_OUTPUT_ERROR, EXIT_SCENARIO_ERROR, EXIT_USAGE, ScenarioError
from simulator.metrics import IMPACT_AS_DIFFERENCE
from simulator.sampling import as_seed, stable_hash, uncertain_names, values_from_uniforms
from simulator.sampling.designs import open_unit

if TYPE_CHECKING:
    from rich.console import Console

    from simulator.schema import Scenario

__all__ = [
    "CHUNK",
    "DEFAULT_BASE_SAMPLES",
    "DEFAULT_METRICS",
    "MIN_BASE_SAMPLES",
    "SOBOL_STREAM",
    "VARIANTS",
    "FunctionIndices",
    "SobolCorrelationWarning",
    "SobolResult",
    "Variant",
    "analyze_function",
    "cost",
    "design_size",
    "memory_needed",
    "next_power_of_2",
    "sobol_command",
    "sobol_indices",
]

FloatArray = npt.NDArray[np.float64]
Variant = Literal["with_shocks", "counterfactual", "impact"]
VARIANTS: tuple[str, ...] = ("with_shocks", "counterfactual", "impact")
"""What a metric's indices are of: its value with the shocks, without them (the
counterfactual on the same inputs), or the shock's impact (``with / without``; the paired
difference for :data:`simulator.metrics.IMPACT_AS_DIFFERENCE`)."""

CHUNK = 16_384
"""Design points evaluated together on one worker thread (bounds the scratch memory). [-]"""

DEFAULT_BASE_SAMPLES = 1024
"""Base samples ``N`` when none are asked for: ``N (D + 2)`` model evaluations. [-]"""

MIN_BASE_SAMPLES = 8
"""Fewest base samples accepted: below this the bootstrap has almost nothing to resample. [-]"""

NUM_RESAMPLES = 100
"""Bootstrap resamples behind each confidence interval (SALib's default). [-]"""

DEFAULT_METRICS: tuple[str, ...] = ("shipments_h100e", "hbm_gb", "accelerator_revenue", "power_w")
"""Metrics analysed by :func:`sobol_command` when none are named."""

SOBOL_STREAM = "sensitivity.sobol"
"""Stream name whose hash, with the root seed, seeds SALib's scrambling and bootstrap:
``SeedSequence(seed, spawn_key=(stable_hash(SOBOL_STREAM), k))``, ``k = 0`` for the design
and ``1`` for the bootstrap. Part of the reproducibility contract."""

CONSTANT_RTOL = 1e-9
"""An output whose range is at most this fraction of its largest magnitude is constant:
it has no variance to apportion (rounding noise is not variance). [-]"""

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(evaluations_done, evaluations_total)`` after each chunk."""


class SobolCorrelationWarning(UserWarning):
    """The scenario correlates inputs, and Sobol' indices are computed without them."""


# --------------------------------------------------------------------------- the design


def next_power_of_2(n: int) -> int:
    """The smallest power of 2 that is ``>= n`` (``n >= 1``)."""
    if n < 1:
        msg = f"n must be a positive integer; got {n}"
        raise ValueError(msg)
    return 1 << (int(n) - 1).bit_length()


def design_size(n_inputs: int, base_samples: int, second_order: bool = False) -> int:
    """Model evaluations of a Saltelli design: ``N (D + 2)``, or ``N (2D + 2)``.

    Parameters
    ----------
    n_inputs : int
        ``D``, the number of independent inputs. [-]
    base_samples : int
        ``N``, the base samples of the Sobol' sequence. [-]
    second_order : bool, optional
        Whether second-order indices are wanted (``D`` more evaluations per base sample).

    Returns
    -------
    int
        Number of model evaluations (rows of the design). [-]
    """
    return base_samples * ((2 if second_order else 1) * n_inputs + 2)


def memory_needed(
    n_inputs: int, base_samples: int, n_outputs: int, second_order: bool = False
) -> int:
    """Bytes an analysis holds at its peak, roughly.

    The design twice (SALib's and the clipped copy) and the chosen outputs of every
    evaluation, float64; the model's scratch per chunk is small beside them.

    Parameters
    ----------
    n_inputs : int
        ``D``. [-]
    base_samples : int
        ``N``. [-]
    n_outputs : int
        Metric-years analysed. [-]
    second_order : bool, optional
        Whether second-order indices are wanted.

    Returns
    -------
    int
        ``8 rows (2 D + K)``. [byte]
    """
    rows = design_size(n_inputs, base_samples, second_order)
    return 8 * rows * (2 * n_inputs + n_outputs)


def cost(scenario: Scenario, base_samples: int, second_order: bool = False) -> int:
    """Model evaluations a Sobol' analysis of ``scenario`` takes.

    Parameters
    ----------
    scenario : simulator.schema.Scenario
        The scenario; its uncertain scalar parameters are the inputs.
    base_samples : int
        ``N``, base samples (a power of 2 for :func:`sobol_indices`). [-]
    second_order : bool, optional
        Whether second-order indices are wanted.

    Returns
    -------
    int
        ``N (D + 2)``, or ``N (2D + 2)`` with second-order indices, where ``D`` is the number
        of uncertain parameters; each evaluation runs the model with and without the
        shocks. [-]
    """
    return design_size(len(uncertain_names(scenario)), base_samples, second_order)


def _seeds(seed: int) -> tuple[np.random.Generator, int]:
    """The design's generator and the bootstrap's integer seed, from the root seed."""
    key = stable_hash(SOBOL_STREAM)
    design = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(key, 0))))
    words = np.random.SeedSequence(seed, spawn_key=(key, 1)).generate_state(2, np.uint32)
    # SALib's analyze treats a seed of 0 as "no seed" (global state): never pass 0.
    boot = (int(words[0]) << 32 | int(words[1])) or 1
    return design, boot


def _problem(names: Sequence[str]) -> dict[str, Any]:
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


# --------------------------------------------------------------------------- the core


@dataclasses.dataclass(frozen=True)
class FunctionIndices:
    """Sobol' indices of every output of a function of independent uniforms.

    Attributes
    ----------
    names : tuple of str
        The ``D`` inputs, in the design's column order.
    S1, S1_conf, ST, ST_conf : numpy.ndarray, shape (K, D)
        First-order and total indices of each of the ``K`` outputs, and the half-widths of
        their bootstrap confidence intervals; ``nan`` for a skipped output. [-]
    S2, S2_conf : numpy.ndarray, shape (K, D, D), or None
        Second-order indices (upper triangle; ``nan`` elsewhere), when asked for. [-]
    skipped : tuple of str
        Per output, ``""`` when analysed, else why not (constant, not finite).
    base_samples, n_evaluations, seed : int
        ``N``, the design's rows ``N (D + 2)`` or ``N (2D + 2)``, and the root seed.
    confidence : float
        Level of the confidence intervals. [-]
    num_resamples : int
        Bootstrap resamples. [-]
    """

    names: tuple[str, ...]
    S1: FloatArray
    S1_conf: FloatArray
    ST: FloatArray
    ST_conf: FloatArray
    S2: FloatArray | None
    S2_conf: FloatArray | None
    skipped: tuple[str, ...]
    base_samples: int
    n_evaluations: int
    seed: int
    confidence: float
    num_resamples: int


def _why_skipped(y: FloatArray) -> str:
    finite = np.isfinite(y)
    if not finite.all():
        bad = int((~finite).sum())
        return (
            f"not finite in {bad:,} of {y.size:,} evaluations (an impact ratio x/0, or an "
            "overflow); no variance to apportion"
        )
    top = float(np.max(np.abs(y))) if y.size else 0.0
    if float(np.ptp(y)) <= CONSTANT_RTOL * top:
        return f"constant ({float(y[0]):.6g}) across the design: no variance to apportion"
    return ""


def analyze_function(
    function: Callable[[FloatArray], FloatArray],
    names: Sequence[str],
    *,
    base_samples: int = DEFAULT_BASE_SAMPLES,
    seed: int | None = None,
    second_order: bool = False,
    confidence: float = 0.95,
    num_resamples: int = NUM_RESAMPLES,
    workers: int | None = None,
    chunk: int = CHUNK,
    progress: ProgressCallback | None = None,
    analysis_progress: ProgressCallback | None = None,
) -> FunctionIndices:
    """Sobol' indices of a vectorized function of independent uniforms on ``(0, 1)``.

    The core of :func:`sobol_indices`, which passes the scenario model; a test passes a
    function with known indices (Ishigami, linear).

    Parameters
    ----------
    function : callable
        ``function(u)`` with ``u`` of shape ``(n, D)``, uniforms strictly inside ``(0, 1)``
        (column ``j`` is input ``names[j]``), returns an array of shape ``(n, K)``: ``K``
        outputs per point. It is called on chunks of points, from worker threads when
        ``workers > 1``, so it must not keep state between calls.
    names : sequence of str
        The ``D`` inputs, ``D >= 1``.
    base_samples : int, optional
        ``N``, a power of 2 (SALib's Sobol' sampler needs one), at least
        :data:`MIN_BASE_SAMPLES`. [-]
    seed : int, optional
        Root seed, ``>= 0``; ``None`` draws fresh entropy (recorded in the result).
    second_order : bool, optional
        Also estimate second-order indices (``N D`` more evaluations).
    confidence : float, optional
        Level of the bootstrap confidence intervals, in ``(0, 1)``. [-]
    num_resamples : int, optional
        Bootstrap resamples. [-]
    workers : int, optional
        Threads evaluating chunks (default :func:`simulator.engine.default_workers`); the
        result does not depend on it.
    chunk : int, optional
        Points per call of ``function``. [-]
    progress : callable, optional
        ``progress(done, total)`` in evaluations, after each chunk, on the calling thread.
    analysis_progress : callable, optional
        ``analysis_progress(done, total)`` in outputs, after each output is analysed.

    Returns
    -------
    FunctionIndices

    Raises
    ------
    ValueError
        If ``names`` is empty, ``base_samples`` is not a power of 2 or too small,
        ``confidence`` is not in ``(0, 1)``, or ``function`` returns the wrong shape.
    """
    from SALib.analyze import sobol as salib_analyze
    from SALib.sample import sobol as salib_sample

    from simulator.engine import default_workers

    names = tuple(names)
    if not names:
        msg = "names must hold at least one input; got none"
        raise ValueError(msg)
    if base_samples < MIN_BASE_SAMPLES or base_samples & (base_samples - 1):
        msg = (
            f"base_samples must be a power of 2 and at least {MIN_BASE_SAMPLES} (SALib's "
            f"Sobol' sampler); got {base_samples}"
        )
        raise ValueError(msg)
    if not 0.0 < confidence < 1.0:
        msg = f"confidence must be in (0, 1); got {confidence}"
        raise ValueError(msg)
    root = as_seed(seed)
    design_rng, boot_seed = _seeds(root)
    problem = _problem(names)
    points = open_unit(
        salib_sample.sample(problem, base_samples, calc_second_order=second_order, seed=design_rng)
    )
    total = points.shape[0]
    starts = list(range(0, total, chunk))

    def work(start: int) -> FloatArray:
        y = np.asarray(function(points[start : start + chunk]), dtype=np.float64)
        rows = min(chunk, total - start)
        if y.ndim != 2 or y.shape[0] != rows:
            msg = f"function must return an array of shape ({rows}, K); got {y.shape}"
            raise ValueError(msg)
        return y

    n_workers = default_workers() if workers is None else max(1, workers)
    parts: list[FloatArray] = []
    if n_workers == 1 or len(starts) == 1:
        for start in starts:
            parts.append(work(start))
            if progress is not None:
                progress(min(start + chunk, total), total)
    else:
        with ThreadPoolExecutor(max_workers=n_workers) as pool:
            for start, part in zip(starts, pool.map(work, starts), strict=True):
                parts.append(part)
                if progress is not None:
                    progress(min(start + chunk, total), total)
    outputs = np.concatenate(parts, axis=0)
    del parts
    k, d = outputs.shape[1], len(names)
    s1, s1c, st, stc = (np.full((k, d), np.nan) for _ in range(4))
    s2 = np.full((k, d, d), np.nan) if second_order else None
    s2c = np.full((k, d, d), np.nan) if second_order else None
    skipped: list[str] = []
    for j in range(k):
        y = np.ascontiguousarray(outputs[:, j])
        why = _why_skipped(y)
        skipped.append(why)
        if why:
            if analysis_progress is not None:
                analysis_progress(j + 1, k)
            continue
        with warnings.catch_warnings():
            # Constant outputs are skipped above; a bootstrap resample of a nearly constant
            # one may still look constant to SALib, which then warns and reports 0.
            warnings.simplefilter("ignore", UserWarning)
            res = salib_analyze.analyze(
                problem,
                y,
                calc_second_order=second_order,
                num_resamples=num_resamples,
                conf_level=confidence,
                seed=boot_seed,
            )
        s1[j], s1c[j] = res["S1"], res["S1_conf"]
        st[j], stc[j] = res["ST"], res["ST_conf"]
        if s2 is not None and s2c is not None:
            s2[j], s2c[j] = res["S2"], res["S2_conf"]
        if analysis_progress is not None:
            analysis_progress(j + 1, k)
    return FunctionIndices(
        names=names,
        S1=s1,
        S1_conf=s1c,
        ST=st,
        ST_conf=stc,
        S2=s2,
        S2_conf=s2c,
        skipped=tuple(skipped),
        base_samples=base_samples,
        n_evaluations=total,
        seed=root,
        confidence=confidence,
        num_resamples=num_resamples,
    )


# --------------------------------------------------------------------------- the scenario


@dataclasses.dataclass(frozen=True)
class SobolResult:
    """Sobol' indices of a scenario's metrics, per year, for one variant.

    Attributes
    ----------
    scenario_name : str
        The scenario's ``name``.
    inputs : tuple of str
        The uncertain parameters (dotted scenario paths), the ``D`` inputs.
    metrics : tuple of str
        The metrics analysed.
    years : tuple of int
        The years analysed.
    variant : str
        One of :data:`VARIANTS`.
    S1, S1_conf, ST, ST_conf : numpy.ndarray, shape (metrics, years, inputs)
        First-order and total indices and the half-widths of their confidence intervals
        (``index +- conf``); ``nan`` where the output was skipped. [-]
    S2, S2_conf : numpy.ndarray, shape (metrics, years, inputs, inputs), or None
        Second-order indices (upper triangle), when asked for. [-]
    skipped : dict of (str, int) to str
        The metric-years not analysed, and why (constant, or not finite).
    base_samples, n_evaluations, seed : int
        ``N``, the model evaluations, and the root seed (pass it back to repeat the run).
    confidence : float
        Level of the confidence intervals. [-]
    num_resamples : int
        Bootstrap resamples behind each interval. [-]
    ignored_correlations : tuple of (str, str, float)
        The scenario's rank correlations ``(a, b, rho)``, not imposed by this design.
    """

    scenario_name: str
    inputs: tuple[str, ...]
    metrics: tuple[str, ...]
    years: tuple[int, ...]
    variant: str
    S1: FloatArray
    S1_conf: FloatArray
    ST: FloatArray
    ST_conf: FloatArray
    S2: FloatArray | None
    S2_conf: FloatArray | None
    skipped: dict[tuple[str, int], str]
    base_samples: int
    n_evaluations: int
    seed: int
    confidence: float
    num_resamples: int
    ignored_correlations: tuple[tuple[str, str, float], ...]

    @property
    def second_order(self) -> bool:
        """Whether second-order indices were estimated."""
        return self.S2 is not None

    def ranked(self, metric: str, year: int) -> list[int]:
        """Input positions by decreasing ``ST`` for one metric and year (empty if skipped)."""
        i, t = self.metrics.index(metric), self.years.index(year)
        if (metric, year) in self.skipped:
            return []
        order = np.argsort(-self.ST[i, t], kind="stable")
        return [int(j) for j in order]

    def rows(self) -> list[dict[str, Any]]:
        """The tidy table: one row per metric, year and input, ranked by ``ST``.

        Columns ``metric, year, variant, input, S1, S1_conf, ST, ST_conf`` (indices [-],
        ``conf`` the half-width of the confidence interval); skipped metric-years have no rows.
        """
        out: list[dict[str, Any]] = []
        for i, metric in enumerate(self.metrics):
            for t, year in enumerate(self.years):
                for j in self.ranked(metric, year):
                    out.append(
                        {
                            "metric": metric,
                            "year": year,
                            "variant": self.variant,
                            "input": self.inputs[j],
                            "S1": float(self.S1[i, t, j]),
                            "S1_conf": float(self.S1_conf[i, t, j]),
                            "ST": float(self.ST[i, t, j]),
                            "ST_conf": float(self.ST_conf[i, t, j]),
                        }
                    )
        return out

    def second_order_rows(self) -> list[dict[str, Any]]:
        """Second-order indices, one row per metric, year and pair of inputs (``[]`` if none).

        Columns ``metric, year, variant, input, other, S2, S2_conf``.
        """
        if self.S2 is None or self.S2_conf is None:
            return []
        out: list[dict[str, Any]] = []
        d = len(self.inputs)
        for i, metric in enumerate(self.metrics):
            for t, year in enumerate(self.years):
                if (metric, year) in self.skipped:
                    continue
                for a in range(d):
                    for b in range(a + 1, d):
                        out.append(
                            {
                                "metric": metric,
                                "year": year,
                                "variant": self.variant,
                                "input": self.inputs[a],
                                "other": self.inputs[b],
                                "S2": float(self.S2[i, t, a, b]),
                                "S2_conf": float(self.S2_conf[i, t, a, b]),
                            }
                        )
        return out

    def to_pandas(self) -> Any:
        """The tidy table (:meth:`rows`) as a ``pandas.DataFrame``."""
        import importlib

        pd: Any = importlib.import_module("pandas")  # installed with SALib
        return pd.DataFrame(self.rows(), columns=list(_CSV_COLUMNS))

    def __repr__(self) -> str:
        return (
            f"SobolResult({self.scenario_name!r}, {len(self.inputs)} inputs, "
            f"metrics={list(self.metrics)}, years={list(self.years)}, "
            f"variant={self.variant!r}, base_samples={self.base_samples}, "
            f"n_evaluations={self.n_evaluations}, seed={self.seed})"
        )


_CSV_COLUMNS = ("metric", "year", "variant", "input", "S1", "S1_conf", "ST", "ST_conf")
_S2_COLUMNS = ("metric", "year", "variant", "input", "other", "S2", "S2_conf")


def _scenario_function(
    scenario: Scenario,
    names: Sequence[str],
    metrics: Sequence[str],
    columns: Sequence[int],
    variant: str,
) -> Callable[[FloatArray], FloatArray]:
    """The scenario model as a function of the uniforms of its uncertain parameters."""
    from simulator.engine import build_inputs
    from simulator.model import evaluate_pair
    from simulator.summary import impact

    cols = np.asarray(columns, dtype=np.intp)

    def function(u: FloatArray) -> FloatArray:
        n = u.shape[0]
        ut = np.ascontiguousarray(u.T)
        draws = values_from_uniforms(scenario, {name: ut[j] for j, name in enumerate(names)}, n)
        inputs = build_inputs(scenario, draws)
        with np.errstate(over="ignore", invalid="ignore"):
            with_shocks, counterfactual = evaluate_pair(inputs)
        out = np.empty((n, len(metrics) * cols.size), dtype=np.float64)
        for i, metric in enumerate(metrics):
            w = np.asarray(with_shocks[metric], dtype=np.float64)[:, cols]
            c = np.asarray(counterfactual[metric], dtype=np.float64)[:, cols]
            if variant == "with_shocks":
                value = w
            elif variant == "counterfactual":
                value = c
            elif metric in IMPACT_AS_DIFFERENCE:
                value = w - c
            else:
                value = impact(w, c)
            out[:, i * cols.size : (i + 1) * cols.size] = value
        return out

    return function


def correlation_note(pairs: Sequence[tuple[str, str, float]]) -> str:
    """What a Sobol' run leaves out of a scenario with rank correlations, in words."""
    listed = "".join(f"\n  {a} ~ {b} (rank correlation {rho:g})" for a, b, rho in pairs)
    n = len(pairs)
    return (
        "Sobol' indices assume independent inputs, so this design draws every input "
        "independently: the scenario's rank correlations are NOT imposed, and the indices "
        "describe the model under independent beliefs (see docs/sensitivity.md). "
        f"Left out ({n} pair{'s' if n != 1 else ''}):{listed}"
    )


def sobol_indices(
    scenario: Scenario,
    *,
    metrics: Sequence[str],
    years: Sequence[int],
    variant: str = "with_shocks",
    base_samples: int = DEFAULT_BASE_SAMPLES,
    seed: int | None = None,
    second_order: bool = False,
    confidence: float = 0.95,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    analysis_progress: ProgressCallback | None = None,
) -> SobolResult:
    """First-order and total Sobol' indices of a scenario's metrics, per year.

    Parameters
    ----------
    scenario : simulator.schema.Scenario
        The validated scenario; every uncertain scalar parameter is an input, drawn
        independently from its distribution (correlations are not imposed: a
        :class:`SobolCorrelationWarning` names them).
    metrics : sequence of str
        Metric names (:func:`simulator.model.metric_names` of the scenario's segments).
    years : sequence of int
        Years within ``scenario.years``. [year]
    variant : {"with_shocks", "counterfactual", "impact"}, optional
        The series analysed (:data:`VARIANTS`).
    base_samples : int, optional
        ``N``, a power of 2, at least :data:`MIN_BASE_SAMPLES`; the model is evaluated
        :func:`cost` times (``N (D + 2)``). [-]
    seed : int, optional
        Root seed; ``None`` draws fresh entropy, recorded in the result.
    second_order : bool, optional
        Also estimate second-order indices (``N (2D + 2)`` evaluations).
    confidence : float, optional
        Level of the bootstrap confidence intervals. [-]
    workers : int, optional
        Threads (default :func:`simulator.engine.default_workers`); results do not depend
        on it.
    progress : callable, optional
        ``progress(evaluations_done, evaluations_total)`` after each chunk.
    analysis_progress : callable, optional
        ``analysis_progress(done, total)`` after each metric-year is analysed (SALib's
        bootstrap takes about ``N D`` microseconds per metric-year).

    Returns
    -------
    SobolResult

    Raises
    ------
    ValueError
        If a metric, year or variant is unknown, the scenario has no uncertain parameter,
        or ``base_samples`` is not a power of 2 of at least :data:`MIN_BASE_SAMPLES`; the
        message lists the valid choices.

    Warns
    -----
    SobolCorrelationWarning
        When the scenario has rank correlations, which this design does not impose.

    Examples
    --------
    >>> res = sobol_indices(sc, metrics=["hbm_gb"], years=[2027], seed=1)  # doctest: +SKIP
    >>> res.rows()[0]["input"]  # doctest: +SKIP
    'demand.segments.reasoning.growth.anchors.2025'
    """
    names = uncertain_names(scenario)
    _check_choices(scenario, metrics, years, variant)
    if not names:
        msg = (
            f"scenario {scenario.name!r} has no uncertain parameters: every input is a "
            "fixed number, so there is no variance to apportion"
        )
        raise ValueError(msg)
    pairs = tuple(scenario.active_correlations())
    if pairs:
        warnings.warn(correlation_note(pairs), SobolCorrelationWarning, stacklevel=2)
    all_years = list(scenario.years.all)
    columns = [all_years.index(int(y)) for y in years]
    function = _scenario_function(scenario, names, metrics, columns, variant)
    core = analyze_function(
        function,
        names,
        base_samples=base_samples,
        seed=seed,
        second_order=second_order,
        confidence=confidence,
        workers=workers,
        progress=progress,
        analysis_progress=analysis_progress,
    )
    m, t, d = len(metrics), len(years), len(names)

    def cube(a: FloatArray | None) -> FloatArray | None:
        return None if a is None else a.reshape(m, t, *a.shape[1:])

    skipped = {
        (metric, int(year)): core.skipped[i * t + k]
        for i, metric in enumerate(metrics)
        for k, year in enumerate(years)
        if core.skipped[i * t + k]
    }
    return SobolResult(
        scenario_name=scenario.name,
        inputs=tuple(names),
        metrics=tuple(metrics),
        years=tuple(int(y) for y in years),
        variant=variant,
        S1=core.S1.reshape(m, t, d),
        S1_conf=core.S1_conf.reshape(m, t, d),
        ST=core.ST.reshape(m, t, d),
        ST_conf=core.ST_conf.reshape(m, t, d),
        S2=cube(core.S2),
        S2_conf=cube(core.S2_conf),
        skipped=skipped,
        base_samples=core.base_samples,
        n_evaluations=core.n_evaluations,
        seed=core.seed,
        confidence=core.confidence,
        num_resamples=core.num_resamples,
        ignored_correlations=pairs,
    )


def _check_choices(
    scenario: Scenario, metrics: Sequence[str], years: Sequence[int], variant: str
) -> None:
    """Raise ``ValueError`` naming the valid choices for an unknown metric, year or variant."""
    problem = _choice_problem(scenario, metrics, years, variant)
    if problem:
        raise ValueError(problem)


def _choice_problem(
    scenario: Scenario, metrics: Sequence[str], years: Sequence[int], variant: str
) -> str:
    from simulator.model import metric_names

    valid = metric_names([s.name for s in scenario.demand.segments])
    if not metrics:
        return f"no metric given; valid metrics: {', '.join(valid)}"
    unknown = [m for m in metrics if m not in valid]
    if unknown:
        return (
            f"unknown metric{'s' if len(unknown) != 1 else ''} {', '.join(map(repr, unknown))}; "
            f"valid metrics: {', '.join(valid)}"
        )
    if len(set(metrics)) != len(metrics):
        return f"a metric is named twice: {', '.join(metrics)}"
    span = scenario.years.all
    if not years:
        return f"no year given; valid years: {span[0]} to {span[-1]}"
    bad = [y for y in years if int(y) not in span]
    if bad:
        return (
            f"year{'s' if len(bad) != 1 else ''} {', '.join(map(str, bad))} not in the "
            f"scenario; valid years: {span[0]} to {span[-1]}"
        )
    if len(set(years)) != len(years):
        return f"a year is named twice: {', '.join(map(str, years))}"
    if variant not in VARIANTS:
        return f"unknown variant {variant!r}; valid variants: {', '.join(VARIANTS)}"
    return ""


# --------------------------------------------------------------------------- files


SOBOL_CSV = "sobol.csv"
SOBOL_S2_CSV = "sobol_second_order.csv"
SOBOL_JSON = "sobol.json"


def _csv_text(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            [repr(v) if isinstance(v, float) else v for v in (row[c] for c in columns)]
        )
    return buf.getvalue()


def _meta(result: SobolResult, scenario_file: Path) -> dict[str, Any]:
    from simulator.engine import package_versions

    return {
        "format": "jevons-sobol-1",
        "scenario": result.scenario_name,
        "scenario_file": str(scenario_file),
        "variant": result.variant,
        "metrics": list(result.metrics),
        "years": list(result.years),
        "inputs": list(result.inputs),
        "base_samples": result.base_samples,
        "n_evaluations": result.n_evaluations,
        "seed": result.seed,
        "confidence": result.confidence,
        "bootstrap_resamples": result.num_resamples,
        "second_order": result.second_order,
        "correlations_not_imposed": [list(p) for p in result.ignored_correlations],
        "skipped": [
            {"metric": m, "year": y, "reason": why} for (m, y), why in result.skipped.items()
        ],
        "versions": package_versions() | {"SALib": _salib_version()},
    }


def _salib_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("SALib")
    except PackageNotFoundError:  # pragma: no cover - SALib is a dependency
        return "unknown"


OUTPUT_NAMES = (SOBOL_CSV, SOBOL_S2_CSV, SOBOL_JSON)
"""Fixed names written by :func:`write_sobol_outputs` (plus the ``sobol_*.png`` charts)."""


def _ours(name: str) -> bool:
    return name in OUTPUT_NAMES or (name.startswith("sobol_") and name.endswith(".png"))


def write_sobol_outputs(
    result: SobolResult, out: Path, scenario_file: Path, *, years: Sequence[int] | None = None
) -> list[Path]:
    """Write the tidy CSV, a JSON of the run's settings and the charts into ``out``, atomically.

    ``years`` (default all) are those that get a bar chart each; the CSV and the over-time
    charts hold every year of ``result``.

    Every file is written into a staging folder next to ``out`` that then takes its place
    in one step (:func:`simulator.report._atomic.publish_folder`): ``out`` holds the previous
    analysis or this one, never a mix. Files of an existing ``out`` that this command does
    not write (a user's own) are kept; a previous analysis's ``sobol*`` files are replaced.

    Returns
    -------
    list of Path
        The files written, under ``out``.

    Raises
    ------
    OSError
        If anything cannot be written; ``out`` is then left as it was.
    """
    from simulator.report._atomic import atomic_write, publish_folder, staging_folder
    from simulator.report.sobol_charts import write_sobol_charts

    def text(path: Path, body: str) -> None:
        data = body.encode("utf-8")

        def write(fh: BinaryIO) -> None:
            fh.write(data)

        atomic_write(path, write)

    target = out.absolute()
    with staging_folder(target) as stage:
        names = [SOBOL_CSV]
        text(stage / SOBOL_CSV, _csv_text(result.rows(), _CSV_COLUMNS))
        if result.second_order:
            names.append(SOBOL_S2_CSV)
            text(stage / SOBOL_S2_CSV, _csv_text(result.second_order_rows(), _S2_COLUMNS))
        names.extend(p.name for p in write_sobol_charts(result, stage, years=years))
        names.append(SOBOL_JSON)
        text(stage / SOBOL_JSON, json.dumps(_meta(result, scenario_file), indent=2) + "\n")
        keep = [p.name for p in target.iterdir() if not _ours(p.name)] if target.is_dir() else []
        publish_folder(stage, target, keep)
    return [target / name for name in names]


# --------------------------------------------------------------------------- command


TOP_INPUTS = 10
"""Inputs shown per metric and year in the printed table. [-]"""


def _table(result: SobolResult, metric: str, year: int, top: int) -> Any:
    from rich import box
    from rich.table import Table

    i, t = result.metrics.index(metric), result.years.index(year)
    s1_sum = float(np.nansum(result.S1[i, t]))
    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
        collapse_padding=True,
        title=f"{metric} {year} ({result.variant}): top inputs by total index ST",
        caption=(
            f"ST, S1 ± half-width of the {result.confidence:.0%} bootstrap interval; "
            f"sum of S1 = {s1_sum:.2f} (1 - sum = share from interactions, ± noise)"
        ),
    )
    table.add_column("input", overflow="fold")
    table.add_column("ST", justify="right", no_wrap=True)
    table.add_column("S1", justify="right", no_wrap=True)
    order = result.ranked(metric, year)
    shown = [j for j in order if result.ST[i, t, j] != 0.0 or result.ST_conf[i, t, j] != 0.0]
    idle = len(order) - len(shown)
    if idle:
        table.caption = (
            f"{table.caption}; {idle} of {len(order)} inputs have no effect at all "
            "(ST = 0 in every evaluation)"
        )
    for j in shown[:top]:
        table.add_row(
            result.inputs[j],
            f"{result.ST[i, t, j]:.3f} ± {result.ST_conf[i, t, j]:.3f}",
            f"{result.S1[i, t, j]:.3f} ± {result.S1_conf[i, t, j]:.3f}",
        )
    return table


def _size(n_bytes: int) -> str:
    """Bytes in words: ``"40 MB"``, ``"1.2 GB"``."""
    if n_bytes >= 1e9:
        return f"{n_bytes / 1e9:.1f} GB"
    return f"{max(n_bytes / 1e6, 0.1):.3g} MB"


def sobol_command(
    scenario_path: Path,
    *,
    metrics: Sequence[str] | None,
    years: Sequence[int] | None,
    variant: str,
    base_samples: int,
    seed: int | None,
    out: Path | None,
    console: Console,
    err: Console | None = None,
    overrides: Sequence[str] = (),
    second_order: bool = False,
    confidence: float = 0.95,
    workers: int | None = None,
    top: int = TOP_INPUTS,
) -> int:
    """``jevons sensitivity FILE --method sobol``: load, check, run, print, write.

    Parameters
    ----------
    scenario_path : Path
        The scenario file.
    metrics : sequence of str, optional
        Metrics to analyse (default :data:`DEFAULT_METRICS`).
    years : sequence of int, optional
        Years to analyse (default every year of the scenario, with tables and bar charts for
        the headline years of :func:`simulator.report.tables.default_years`). [year]
    variant : str
        One of :data:`VARIANTS`.
    base_samples : int
        ``N``; rounded up to a power of 2 (said on ``err``). [-]
    seed : int, optional
        Root seed (default the scenario's ``sampling.seed``, else fresh entropy, printed).
    out : Path, optional
        Folder for ``sobol.csv``, ``sobol.json`` and the charts (``sobol_<metric>_<year>.png``,
        ``sobol_<metric>_over_time.png``); replaced atomically, a user's other files kept.
    console : rich.console.Console
        Where the ranked tables go (standard output).
    err : rich.console.Console, optional
        Where notes, the cost and errors go (default a console on standard error).
    overrides : sequence of str, optional
        ``--set`` overrides, as ``jevons run``.
    second_order : bool, optional
        Also estimate second-order indices (written to ``sobol_second_order.csv``).
    confidence : float, optional
        Level of the confidence intervals. [-]
    workers : int, optional
        Threads evaluating the model.
    top : int, optional
        Inputs per table.

    Returns
    -------
    int
        The exit code: 0 done; 1 a bad scenario, no uncertain parameter, or every chosen
        output constant; 2 a usage error: an unknown metric, year or variant, a bad
        ``base_samples`` or ``confidence``, or ``out`` inside another run's folder; 3
        results could not be written.
    """
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from simulator._memory import available_memory
    from simulator.batch import find_run_folder
    from simulator.io import load_scenario
    from simulator.report.tables import default_years

    err = Console(stderr=True) if err is None else err

    def fail(message: str, code: int = EXIT_SCENARIO_ERROR) -> int:
        err.print(message, markup=False, highlight=False)
        return code

    try:
        scenario = load_scenario(scenario_path, list(overrides))
    except ScenarioError as exc:
        n = len(exc.problems)
        return fail(f"{exc}\n{n} problem{'s' if n != 1 else ''} found.")
    metrics = list(metrics if metrics else DEFAULT_METRICS)
    shown_years = set(years if years else default_years(scenario.years.all))
    years = list(years if years else scenario.years.all)
    problem = _choice_problem(scenario, metrics, years, variant)
    if problem:
        return fail(f"{scenario_path}: {problem}", EXIT_USAGE)
    names = uncertain_names(scenario)
    if not names:
        return fail(
            f"{scenario_path}: no uncertain parameters: every input of {scenario.name!r} is a "
            "fixed number, so no input drives any spread; give some parameters a "
            "distribution first"
        )
    if base_samples < 1:
        return fail(f"--base-samples must be a positive integer; got {base_samples}", EXIT_USAGE)
    n_base = max(next_power_of_2(base_samples), MIN_BASE_SAMPLES)
    if n_base != base_samples:
        why = (
            "SALib's Sobol' sampler needs a power of 2"
            if base_samples >= MIN_BASE_SAMPLES
            else f"at least {MIN_BASE_SAMPLES}: fewer leave the bootstrap almost nothing to "
            "resample"
        )
        err.print(
            f"note: base samples {base_samples:,} rounded up to {n_base:,} ({why})",
            markup=False,
            highlight=False,
        )
    if not 0.0 < confidence < 1.0:
        return fail(f"--confidence must be in (0, 1); got {confidence}", EXIT_USAGE)
    if out is not None:
        holder = find_run_folder(out.absolute())
        if holder is not None:
            return fail(
                f"--out {out}: inside the result folder of another run ({holder} holds a "
                "manifest.json); choose a folder outside it",
                EXIT_USAGE,
            )
        if out.exists() and not out.is_dir():
            return fail(
                f"cannot write results to {out}: it exists and is not a directory",
                EXIT_OUTPUT_ERROR,
            )
    if seed is None:
        seed = scenario.sampling.seed
    if seed is None:
        seed = as_seed(None)
        err.print(f"seed: {seed} (pass --seed {seed} to repeat this run)", highlight=False)
    pairs = scenario.active_correlations()
    if pairs:
        err.print(f"warning: {correlation_note(pairs)}", markup=False, highlight=False)
    n_eval = cost(scenario, n_base, second_order)
    d = len(names)
    formula = f"(2 x {d} + 2)" if second_order else f"({d} + 2)"
    err.print(
        f"cost: {n_base:,} base samples x {formula} = {n_eval:,} model evaluations "
        f"({d} uncertain inputs; each evaluation runs the model with and without the shocks)",
        highlight=False,
    )
    n_outputs = len(metrics) * len(years)
    need = memory_needed(d, n_base, n_outputs, second_order)
    free = available_memory()
    if free is not None and need > free // 2:
        return fail(
            f"{scenario_path}: {n_base:,} base samples need about {_size(need)} "
            f"(the design and {n_outputs} metric-years of {n_eval:,} evaluations), more than "
            f"half of the {_size(free)} available; use fewer base samples, metrics or years"
        )
    started = time.perf_counter()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("sampling and evaluating", total=n_eval)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description="evaluating")

        def analysing(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description="analysing (bootstrap)")

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SobolCorrelationWarning)  # said above
            result = sobol_indices(
                scenario,
                metrics=metrics,
                years=years,
                variant=variant,
                base_samples=n_base,
                seed=seed,
                second_order=second_order,
                confidence=confidence,
                workers=workers,
                progress=progress,
                analysis_progress=analysing,
            )
    elapsed = time.perf_counter() - started
    for (metric, year), why in result.skipped.items():
        err.print(f"{metric} {year} ({variant}): {why}; skipped", markup=False, highlight=False)
    analysed = [
        (m, y) for m in result.metrics for y in result.years if (m, y) not in result.skipped
    ]
    if not analysed:
        return fail(
            f"{scenario_path}: every chosen metric and year is constant or not finite "
            f"({variant}): there is nothing to apportion; choose other metrics, years or "
            "--variant"
        )
    shown = [(m, y) for m, y in analysed if y in shown_years]
    for metric, year in shown:
        console.print(_table(result, metric, year, max(1, top)))
    if len(shown) < len(analysed):
        err.print(
            f"tables for {', '.join(map(str, sorted(shown_years)))}; every year is in the "
            "CSV and the over-time charts (name years to see their tables)",
            highlight=False,
        )
    err.print(
        f"{result.n_evaluations:,} evaluations (sobol, {result.base_samples:,} base samples, "
        f"seed {result.seed}) in {elapsed:.1f} s",
        highlight=False,
    )
    if out is not None:
        try:
            written = write_sobol_outputs(result, out, scenario_path, years=sorted(shown_years))
        except OSError as exc:
            return fail(f"cannot write results to {out}: {exc}", EXIT_OUTPUT_ERROR)
        err.print(f"wrote {len(written)} files to {out}", markup=False, highlight=False)
    return 0
