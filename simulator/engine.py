"""Orchestration: scenario -> blocks of samples -> model -> collected paths.

The engine is the only module that knows both the schema and the model (the role
of pvlib's ``ModelChain``). Work is split into fixed-size **blocks** of samples:
block ``b`` draws its parameters from its own random streams (MODEL.md §6), so a
block is an independent unit of work that any worker, thread or machine can
compute in any order, and the result never depends on how blocks are scheduled.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import shutil
import tempfile
import threading
import time
import warnings
import zipfile
from collections import deque
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from simulator._fork import ForkedMap, WorkerLostError
from simulator._memory import available_memory
from simulator._typing import Array
from simulator.backends import namespace_for, to_host
from simulator.errors import SimulationError
from simulator.metrics import IMPACT_AS_DIFFERENCE
from simulator.model import evaluate_pair, metric_names
from simulator.model.inputs import (
    ChipInputs,
    FleetInputs,
    ModelInputs,
    SegmentInputs,
    ShockInputs,
)
from simulator.result import INPUTS_PREFIX, RunSummary, SimulationResult
from simulator.sampling import (
    BLOCK_SIZE,
    SobolSampleCountWarning,
    as_seed,
    draw_block,
    path_values,
    se_replicates,
    sobol_sample_count_problem,
    uncertain_names,
)
from simulator.schema import Scenario
from simulator.schema.scenario import Adoption
from simulator.sketch import RELATIVE_ERROR
from simulator.streaming import (
    BlockMoments,
    QuestionSpec,
    StreamingSummary,
    Workspace,
    block_moments,
    merge_moments,
    with_moments,
)
from simulator.summary import (
    DEFAULT_PROBS,
    QuestionAnswer,
    SummaryTable,
    exceedance,
    impact,
    summarize,
)

if TYPE_CHECKING:
    from simulator.executors import DaskExecutor

_DEFAULT_ADOPTION = Adoption()
"""Adoption of a level shock that gives none (ceiling 1, delay 0, width 0.5 years)."""

Method = Literal["random", "lhs", "sobol"]
ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(samples_done, samples_total)`` after each block."""

DTYPES: tuple[str, ...] = ("float64", "float32")
"""Floating-point types the model may compute in (see :func:`resolve_dtype`)."""


def resolve_dtype(dtype: Any) -> str:
    """The name of the model's floating-point type: ``"float64"`` or ``"float32"``.

    Parameters
    ----------
    dtype : str, numpy dtype, numpy scalar type or None
        ``"float64"`` (or None, the default) or ``"float32"``, in any form
        :class:`numpy.dtype` accepts.

    Returns
    -------
    str
        ``"float64"`` or ``"float32"``.

    Raises
    ------
    ValueError
        If ``dtype`` is another type.

    Notes
    -----
    Only the model's arithmetic uses float32: draws are made and inverse CDFs evaluated
    in float64, then rounded to float32 for the model; each block's outputs are
    converted back to float64 before they are checked, kept, saved or summarized, so
    moments, histograms and exceedance counts accumulate in float64. The error this
    costs the summaries is measured by ``benchmarks/float32_error.py`` and stated in
    ``docs/float32.md``.
    """
    if dtype is None:
        return "float64"
    try:
        name = str(np.dtype(dtype).name)
    except TypeError:
        name = ""
    if name not in DTYPES:
        msg = f"dtype must be 'float64' or 'float32'; got {dtype!r}"
        raise ValueError(msg)
    return name


def simulate(
    scenario: Scenario,
    samples: int | None = None,
    *,
    rng: int | np.random.SeedSequence | np.random.Generator | None = None,
    method: Method | None = None,
    block_size: int = BLOCK_SIZE,
    workers: int = 1,
    blocks: Sequence[int] | None = None,
    xp: Any = None,
    progress: ProgressCallback | None = None,
    resolved: Mapping[str, Any] | None = None,
    backend: str | None = None,
    dtype: Any = "float64",
) -> SimulationResult:
    """Run the Monte Carlo simulation of a scenario, with and without its shocks.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario (see :func:`simulator.io.load_scenario`).
    samples : int, optional
        Number of samples; default ``scenario.sampling.samples``.
    rng : int, SeedSequence, Generator or None, optional
        Root seed (SPEC 7). Default: ``scenario.sampling.seed``, or fresh entropy
        when that is absent too. The seed used is recorded in the result.
    method : {"random", "lhs", "sobol"}, optional
        Sampling design; default ``scenario.sampling.method``.
    block_size : int, optional
        Samples per random-stream block. Part of the reproducibility contract:
        the same seed and block size give the same numbers whatever ``workers``.
    workers : int, optional
        Threads computing blocks concurrently (numpy releases the GIL).
    blocks : sequence of int, optional
        Compute only these blocks (for distributed runs); the result then holds
        their samples, in the order given. Default: every block.
    xp : array namespace, optional
        Array namespace for the model (e.g. ``array_api_strict``); exclusive with
        ``backend``. Sampling stays on the host in NumPy and results come back as NumPy
        arrays.
    progress : callable, optional
        ``progress(done, total)`` in samples, called after each block.
    resolved : mapping, optional
        The resolved scenario data to record in the result (for manifests).
    backend : {"numpy", "cupy", "auto"}, optional
        Array library the model runs on (see :mod:`simulator.backends`): NumPy (the
        default), CuPy on the current CUDA device, or CuPy when one is usable and NumPy
        otherwise. Draws are made on the host either way, so the model's inputs are
        identical; GPU arithmetic agrees with NumPy's to float64 rounding.
    dtype : {"float64", "float32"}, optional
        Floating-point type of the model's arithmetic (:func:`resolve_dtype`). float64,
        the default, is the reference; float32 rounds the draws to float32 for the model
        and converts its outputs back to float64 block by block, so the result's arrays
        are float64 either way. Its error on the summaries is stated in
        ``docs/float32.md``; before the run, a check sample of 1,024 paths is computed both ways and
        a float32 run whose statistics there miss float64's by more than the stated
        bounds is refused (:class:`simulator.precision.Float32Error`).

    Returns
    -------
    SimulationResult
        Per-sample paths of every metric (MODEL.md §9), shape ``(n, T + 1)``.

    Raises
    ------
    SimulationError
        If the results would not fit in the memory available, or the model's
        arithmetic overflows (a scenario too extreme for floating point).
    ValueError
        If an argument is out of range.
    BackendUnavailableError
        If ``backend="cupy"`` and CuPy or a CUDA device is not usable.
    """
    t0 = time.perf_counter()
    dtype = resolve_dtype(dtype)
    xp, backend_name = namespace_for(backend, xp)
    plan = _plan(scenario, samples, rng, method, block_size, workers, blocks, dtype)
    scenario, seed, todo, sizes, offsets = (
        plan.scenario,
        plan.seed,
        plan.todo,
        plan.sizes,
        plan.offsets,
    )
    total, names = plan.total, plan.names
    years = scenario.years.all
    _check_memory(total, len(names), len(years))
    out: dict[str, dict[str, NDArray[np.float64]]] = {
        v: {m: np.empty((total, len(years))) for m in names}
        for v in ("with_shocks", "counterfactual", "impact")
    }
    drawn = {name: np.empty(total) for name in uncertain_names(scenario)}
    done = 0
    if dtype != "float64":
        _check_float32(plan, xp)

    def run_block(i: int) -> int:
        rows = slice(int(offsets[i]), int(offsets[i + 1]))
        draws = draw_block(scenario, seed, todo[i], block_size=block_size, size=sizes[i])
        for name, values in drawn.items():
            values[rows] = draws[name]
        inputs = build_inputs(scenario, draws, xp=xp, dtype=_model_dtype(dtype))
        # Overflow is reported by _check_finite below, with where it happened.
        with np.errstate(over="ignore", invalid="ignore"):
            with_shocks, without = evaluate_pair(inputs)
        for m in names:
            a, b = _to_numpy(with_shocks[m]), _to_numpy(without[m])
            _check_finite(m, a, "with the shocks", years, int(offsets[i]), inputs, dtype)
            _check_finite(m, b, "without the shocks", years, int(offsets[i]), inputs, dtype)
            out["with_shocks"][m][rows] = a
            out["counterfactual"][m][rows] = b
            out["impact"][m][rows] = _impact_of(m, a, b)
        return sizes[i]

    if workers == 1 or len(todo) == 1:
        for i in range(len(todo)):
            done += run_block(i)
            if progress is not None:
                progress(done, total)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for size in pool.map(run_block, range(len(todo))):
                done += size
                if progress is not None:
                    progress(done, total)

    return SimulationResult(
        scenario_name=scenario.name,
        resolved=dict(resolved) if resolved is not None else scenario.model_dump(mode="json"),
        years=years,
        n_samples=total,
        seed=seed,
        method=scenario.sampling.method,
        block_size=block_size,
        with_shocks=out["with_shocks"],
        counterfactual=out["counterfactual"],
        impact=out["impact"],
        timings={"simulate_s": time.perf_counter() - t0},
        versions=package_versions(backend_name),
        inputs=drawn,
        backend=backend_name,
        dtype=dtype,
    )


def build_inputs(
    scenario: Scenario,
    draws: Mapping[str, NDArray[np.float64]],
    *,
    xp: Any = None,
    dtype: np.dtype[Any] | type[np.floating[Any]] | None = None,
) -> ModelInputs:
    """Turn one block of parameter draws into model inputs.

    Parameters
    ----------
    scenario : Scenario
        The scenario the draws come from.
    draws : mapping of str to ndarray, shape (n,)
        Every scalar parameter's values by dotted path (see ``Scenario.scalars``).
    xp : array namespace, optional
        Backend to move the arrays to; default NumPy.
    dtype : numpy dtype, optional
        Floating-point type of the model's inputs (the model computes in its inputs'
        type); default: as drawn (float64). Arrays are rounded to it after every draw
        and path is computed in float64.

    Returns
    -------
    ModelInputs
    """
    base, end = scenario.years.base_year, scenario.years.end_year
    years = scenario.years.all
    vintage_years = sorted(scenario.fleet.initial_vintages)
    chip_years = tuple(range(vintage_years[0], end + 1))

    def put(a: NDArray[np.float64]) -> Array:
        if dtype is not None and a.dtype != dtype:
            a = a.astype(dtype)
        return a if xp is None else xp.asarray(a)

    def path(where: str, spec: Any, on: Sequence[int] = years) -> Array:
        # Paths never leave their domain: the schema refuses a {from, value, growth}
        # path that can (Scenario._path_domain_problems), so nothing is clipped here.
        return put(path_values(spec, draws, where, on, base, end))

    segments = []
    for s in scenario.demand.segments:
        stem = f"demand.segments.{s.name}"
        e = s.elasticity
        long_key = f"{stem}.elasticity.long" if e.long is not None else f"{stem}.elasticity.short"
        short_key = (
            f"{stem}.elasticity.short" if e.short is not None else f"{stem}.elasticity.long"
        )
        segments.append(
            SegmentInputs(
                name=s.name,
                kind=s.kind,
                share=s.share,
                growth=path(f"{stem}.growth", s.growth),
                elasticity_short=put(draws[short_key]),
                elasticity_long=put(draws[long_key]),
                adjustment=put(draws[f"{stem}.elasticity.adjustment"]),
                pass_through=put(draws[f"{stem}.pass_through"]),
            )
        )

    n = len(draws["fleet.median_life"])
    shocks = []
    for m in scenario.shocks:
        targets = tuple(
            i
            for i, s in enumerate(scenario.demand.segments)
            if s.name in m.applies_to or s.kind in m.applies_to
        )
        adoption: dict[str, Array] = {}
        for key in ("ceiling", "delay", "width"):
            if m.adoption is not None:
                adoption[key] = put(draws[f"shocks.{m.name}.adoption.{key}"])
            else:  # trend shocks ignore adoption; level shocks use the schema's defaults
                adoption[key] = put(np.full(n, getattr(_DEFAULT_ADOPTION, key).value))
        shocks.append(
            ShockInputs(
                name=m.name,
                type=m.type,
                onset=m.onset - base,
                segments=targets,
                magnitude=put(draws[f"shocks.{m.name}.magnitude"]),
                **adoption,
            )
        )

    fleet = FleetInputs(
        initial_vintages=put(
            np.stack([draws[f"fleet.initial_vintages.{y}"] for y in vintage_years], axis=-1)
        ),
        median_life=put(draws["fleet.median_life"]),
        shape=put(draws["fleet.shape"]),
        supply_cap=(
            None
            if scenario.fleet.supply_cap is None
            else path("fleet.supply_cap", scenario.fleet.supply_cap)
        ),
        order_lead=put(draws["fleet.order_lead"]),
        power_cap=(
            None
            if scenario.fleet.power_cap is None
            else path("fleet.power_cap", scenario.fleet.power_cap)
        ),
    )
    c = scenario.chips
    chips = ChipInputs(
        h100e_per_unit=path("chips.h100e_per_accelerator", c.h100e_per_accelerator, chip_years),
        hbm_per_unit=path("chips.hbm_gb_per_accelerator", c.hbm_gb_per_accelerator, chip_years),
        price=path("chips.asp", c.asp, chip_years),
        system_power=path("chips.system_watts", c.system_watts, chip_years),
        hbm_price=path("chips.hbm_price", c.hbm_price, chip_years),
        capex_share=path("chips.accelerator_capex_share", c.accelerator_capex_share, chip_years),
        pue=path("chips.pue", c.pue, chip_years),
        load=path("chips.load", c.load, chip_years),
    )
    return ModelInputs(
        years=years,
        segments=tuple(segments),
        shocks=tuple(shocks),
        utilization_training=path("utilization.training", scenario.utilization.training),
        utilization_inference=path("utilization.inference", scenario.utilization.inference),
        fleet=fleet,
        chips=chips,
    )


def answer_questions(scenario: Scenario, result: SimulationResult) -> list[QuestionAnswer]:
    """Exceedance probabilities of the scenario's ``questions``, with standard errors.

    Parameters
    ----------
    scenario : Scenario
        The scenario whose ``questions`` to answer.
    result : SimulationResult
        A simulation of that scenario.

    Returns
    -------
    list of QuestionAnswer
        One per question, in scenario order: probability and its binomial
        standard error ``sqrt(p (1 - p) / n)`` (MODEL.md §7), or, for a ``sobol`` run, the
        standard error over its independent replicates.
    """
    answers = []
    k_of = {y: k for k, y in enumerate(result.years)}
    for q in scenario.questions:
        k = k_of[q.year]
        x = result.variant(q.variant)[q.metric][:, k]
        threshold: Any = (
            result.counterfactual[q.metric][:, k] if q.than == "counterfactual" else q.than
        )
        p, se = exceedance(x, q.op, threshold, replicates=se_replicates(result.method))
        answers.append(
            QuestionAnswer(name=q.name, text=q.describe(), probability=float(p), se=float(se))
        )
    return answers


def package_versions(backend: str = "numpy") -> dict[str, str]:
    """Versions of the packages that determine a run's numbers (CuPy's too if it ran)."""
    out = {}
    packages = ["jevons", "numpy", "scipy", "pydantic", "PyYAML", "array-api-compat", "matplotlib"]
    if backend == "cupy":
        packages += [_cupy_distribution()]
    for pkg in packages:
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            out[pkg] = "unknown"
    return out


def _cupy_distribution() -> str:
    """The installed CuPy distribution's name (``cupy-cuda12x``, ``cupy-cuda13x``, ...)."""
    from importlib.metadata import packages_distributions

    names = packages_distributions().get("cupy", ["cupy"])
    return min(names)


RESULT_BYTES_OVERHEAD = 1.5
"""Peak memory of a run relative to its result arrays (scratch of blocks in flight). [-]"""


def _check_memory(n: int, n_metrics: int, n_years: int) -> None:
    """Refuse a run whose results would not fit in the memory available now."""
    need = RESULT_BYTES_OVERHEAD * n * n_metrics * 3 * n_years * 8
    have = _available_memory()
    if have is not None and need > have:
        msg = (
            f"{n:,} samples need about {need / 1e9:.1f} GB for their per-sample results, "
            f"more than the {have / 1e9:.1f} GB available; use simulate_summary() (or "
            "`jevons run`), which summarizes block by block in bounded memory, or fewer "
            "samples (standard errors shrink as 1/sqrt(n))"
        )
        raise SimulationError(msg)


def _available_memory() -> int | None:
    """Bytes this process may still allocate: free memory, ``ulimit -v``, cgroup limits."""
    return available_memory()


def _check_finite(
    metric: str,
    values: NDArray[np.float64],
    variant: str,
    years: Sequence[int],
    first: int,
    inputs: ModelInputs | None = None,
    dtype: str = "float64",
) -> None:
    """Stop a run whose arithmetic overflowed, naming where and, if it can, which parameter."""
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.add.reduce(values, axis=None)):  # one fast pass: all finite
            return
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad)[0])
        where = (
            f"the model overflowed: {metric} {variant} is not finite in {years[col]} "
            f"(sample {first + row}, {int(bad.sum())} values in this block)"
        )
        suspects = [] if inputs is None else _overflow_suspects(inputs, row)
        if suspects:
            msg = f"{where}: {'; '.join(suspects)}; more than a float can hold"
        else:
            msg = (
                f"{where}; the scenario's growth, shock magnitude or elasticity compound to "
                "more than a float can hold"
            )
        if dtype == "float32":
            msg += (
                f" (the model ran in float32, whose largest value is "
                f"{float(np.finfo(np.float32).max):.3g}: run it in float64, the default)"
            )
        raise SimulationError(msg)


OVERFLOW_SUSPECT_VALUE = 1e15
"""An input larger than this (in its canonical unit) is named when the model overflows."""
OVERFLOW_SUSPECT_DECADES = 100.0
"""A compounded factor of more than 10**this many decades is named when the model overflows."""

_INPUT_KEYS: tuple[tuple[str, str, str], ...] = (
    ("chips", "h100e_per_unit", "chips.h100e_per_accelerator"),
    ("chips", "hbm_per_unit", "chips.hbm_gb_per_accelerator"),
    ("chips", "price", "chips.asp"),
    ("chips", "system_power", "chips.system_watts"),
    ("chips", "hbm_price", "chips.hbm_price"),
    ("chips", "capex_share", "chips.accelerator_capex_share"),
    ("chips", "pue", "chips.pue"),
    ("chips", "load", "chips.load"),
    ("fleet", "initial_vintages", "fleet.initial_vintages"),
    ("fleet", "median_life", "fleet.median_life"),
    ("fleet", "shape", "fleet.shape"),
    ("fleet", "supply_cap", "fleet.supply_cap"),
    ("", "utilization_training", "utilization.training"),
    ("", "utilization_inference", "utilization.inference"),
)
"""Model input (group, field) and the scenario key it comes from."""


def _row_max(a: Any, row: int) -> float:
    """Largest magnitude of one sample's values of an input (``nan`` if any is ``nan``)."""
    x = np.abs(_to_numpy(a)[row])
    return float(np.max(x)) if x.size else 0.0


def _overflow_suspects(inputs: ModelInputs, row: int) -> list[str]:
    """The parameters that make sample ``row`` overflow, in words (empty if none stands out).

    An input is named when its value in that sample exceeds
    :data:`OVERFLOW_SUSPECT_VALUE`; a growth path when its product over the years, and a
    shock when its gain raised to the elasticity of the segments it applies to (compounded
    over the years for a trend shock), exceed ``10**``:data:`OVERFLOW_SUSPECT_DECADES`.
    """
    out: list[str] = []
    for group, field, key in _INPUT_KEYS:
        holder = getattr(inputs, group) if group else inputs
        value = getattr(holder, field)
        if value is None:
            continue
        size = _row_max(value, row)
        if not size <= OVERFLOW_SUSPECT_VALUE:
            out.append(f"{key} is {size:.3g} in that sample")
    elasticity: list[float] = []
    for s in inputs.segments:
        e = max(_row_max(s.elasticity_short, row), _row_max(s.elasticity_long, row))
        elasticity.append(e)
        g = np.abs(_to_numpy(s.growth)[row])
        with np.errstate(divide="ignore", invalid="ignore"):
            decades = float(np.nansum(np.log10(g))) if g.size else 0.0
        if not decades <= OVERFLOW_SUSPECT_DECADES:
            out.append(f"demand.segments.{s.name}.growth compounds to 1e{decades:.0f}")
    horizon = len(inputs.years) - 1
    for m in inputs.shocks:
        gain = _row_max(m.magnitude, row)
        e = max((elasticity[i] for i in m.segments), default=0.0)
        periods = max(horizon - m.onset + 1, 1) if m.type == "trend" else 1
        with np.errstate(divide="ignore", invalid="ignore"):
            decades = float(np.log10(gain)) * periods * max(e, 1.0) if gain > 0 else 0.0
        if not decades <= OVERFLOW_SUSPECT_DECADES:
            what = "a year" if m.type == "trend" else "at onset"
            out.append(
                f"shocks.{m.name}.magnitude is {gain:.3g} {what}, with an elasticity up to "
                f"{e:.3g} in the segments it applies to: a factor of about 1e{decades:.0f}"
            )
    return out


def _to_numpy(a: Array, into: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
    """A model output on the host (:func:`simulator.backends.to_host`), as float64.

    A float32 output is converted (summaries accumulate in float64), into the start of
    ``into`` when given (a flat float64 array at least as large), in the same memory
    layout: the model's ``(n, T + 1)`` outputs are transposed views of ``(T + 1, n)``
    rows, which the summaries read without copying.
    """
    out = to_host(a)
    if out.dtype != np.float64:
        if into is None:
            return out.astype(np.float64)  # order "K": the same layout
        n, years = out.shape
        flat = into[: n * years]
        view = flat.reshape(years, n).T if out.T.flags.c_contiguous else flat.reshape(n, years)
        np.copyto(view, out)
        return view
    return out


def _model_dtype(dtype: str) -> type[np.float32] | None:
    """What :func:`build_inputs` rounds the draws to: None keeps float64 untouched."""
    return None if dtype == "float64" else np.float32


def _check_float32(plan: _Plan, xp: Any) -> None:
    """Refuse a float32 run whose check sample's statistics miss float64's by too much.

    :data:`~simulator.precision.CHECK_SAMPLES` paths, drawn as the run's first block would
    be at that size (the same seed and design: for ``lhs`` and ``sobol`` a design of that
    size, not the first paths of the run's block), go through the model in float64 and in
    float32 and are summarized both ways. A float64 overflow there is reported as the run
    itself would report it (located), not blamed on float32.
    """
    from simulator.precision import CHECK_SAMPLES, check_float32_block

    scenario = plan.scenario
    size = min(plan.sizes[0], CHECK_SAMPLES)
    draws = draw_block(scenario, plan.seed, plan.todo[0], block_size=plan.block_size, size=size)
    outputs = []
    for dtype in ("float64", "float32"):
        inputs = build_inputs(scenario, draws, xp=xp, dtype=_model_dtype(dtype))
        with np.errstate(over="ignore", invalid="ignore"):
            w, c = evaluate_pair(inputs)
        a = {m: _to_numpy(w[m]) for m in plan.names}
        b = {m: _to_numpy(c[m]) for m in plan.names}
        if dtype == "float64":  # an overflow of the reference is the run's, not float32's
            for m in plan.names:
                _check_finite(m, a[m], "with the shocks", scenario.years.all, 0, inputs)
                _check_finite(m, b[m], "without the shocks", scenario.years.all, 0, inputs)
        outputs.append((a, b))
    check_float32_block(outputs[0], outputs[1], scenario, plan.todo[0])


# --------------------------------------------------------------------------- streaming runs

EXACT_BUDGET_BYTES = 1 << 30
"""Default memory for keeping samples so that quantiles are exact (1 GiB). [byte]"""

SAMPLES_IN_FLIGHT_PER_WORKER = 2
"""Blocks submitted ahead per worker: bounds the memory of blocks waiting to be merged. [-]"""


def default_workers() -> int:
    """Threads used when none are asked for: the CPUs this process may run on (at most 8)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 8))


def simulate_summary(
    scenario: Scenario,
    samples: int | None = None,
    *,
    rng: int | np.random.SeedSequence | np.random.Generator | None = None,
    method: Method | None = None,
    block_size: int = BLOCK_SIZE,
    workers: int | None = None,
    xp: Any = None,
    progress: ProgressCallback | None = None,
    summary_progress: ProgressCallback | None = None,
    resolved: Mapping[str, Any] | None = None,
    probs: Sequence[float] = DEFAULT_PROBS,
    exact_budget: int | None = None,
    save_samples: str | os.PathLike[str] | None = None,
    backend: str | None = None,
    executor: Literal["local", "dask"] | DaskExecutor | None = None,
    scheduler: str | None = None,
    dtype: Any = "float64",
) -> RunSummary:
    """Run the simulation and summarize it block by block, in bounded memory.

    What ``jevons run`` uses. Runs whose per-sample paths fit ``exact_budget`` keep them
    and are summarized exactly (the same table, bit for bit, as :func:`simulate` followed by
    :func:`~simulator.summary.summarize`); larger runs summarize each block as it is
    computed into a mergeable :class:`~simulator.streaming.StreamingSummary` (moments merged
    by Chan et al., exceedance counts, a log-bucketed histogram whose quantiles are within
    :data:`~simulator.sketch.RELATIVE_ERROR` of exact) and never hold more than a few
    blocks. Either way the numbers depend only on the seed, samples, method and block size,
    not on ``workers`` or the order blocks finish in.

    Parameters
    ----------
    scenario, samples, rng, method, block_size, xp, progress, resolved, backend, dtype
        As for :func:`simulate`. Whatever the backend, each block's outputs are copied to
        the host (:func:`simulator.backends.to_host`) before they are checked, kept or
        summarized: the summaries are computed by NumPy from host arrays.
    workers : int, optional
        Workers computing blocks; default :func:`default_workers`. A streamed run (not
        exact, no ``save_samples``) on the NumPy backend computes its blocks in this many
        forked child processes on Linux (:class:`simulator._fork.ForkedMap`; threads of one
        interpreter wait for each other between NumPy calls), unless ``$JEVONS_FORK`` is
        ``0``, inside a :mod:`multiprocessing` worker, beside a Dask client or with more
        blocks than a pipe holds; otherwise, on threads of this process. The numbers are
        the same, bit for bit.
    summary_progress : callable, optional
        ``summary_progress(done, total)`` in series (variant and metric), called as the
        final summary table is built.
    probs : sequence of float, optional
        Quantile probabilities. [-]
    exact_budget : int, optional
        Bytes the kept samples may use for exact quantiles; default the smaller of
        :data:`EXACT_BUDGET_BYTES` and a quarter of the memory available. 0 always streams.
    save_samples : path, optional
        Also write every per-sample path to this ``.npz`` file (keys
        ``"<variant>/<metric>"``, ``"inputs/<parameter path>"`` and ``"years"``, as
        ``samples.npz``), streamed block by block through temporary ``.npy`` files next
        to it, then renamed into place. A path ending in ``.parquet`` is written as
        Parquet instead (:class:`simulator.export.ParquetSamplesWriter`, the layout of
        ``samples.parquet``; needs the extra ``jevons[io]``).
    executor : {"local", "dask"} or DaskExecutor, optional
        Where blocks are computed: ``"local"`` (default), this machine (see
        ``workers``);
        ``"dask"``, tasks on a ``dask.distributed`` cluster (extra ``jevons[dask]``) at
        ``scheduler``, or ``$JEVONS_SCHEDULER``, or else a ``LocalCluster`` of ``workers``
        processes started for the run and closed after it; or a
        :class:`~simulator.executors.DaskExecutor` to reuse. The numbers are the same, bit
        for bit, whichever computes them (:mod:`simulator.executors`).
    scheduler : str, optional
        Address of the Dask scheduler (``tcp://host:8786``), for ``executor="dask"``.

    Returns
    -------
    RunSummary
        The summary table, the answers to the scenario's questions, whether quantiles are
        exact, and timings.

    Raises
    ------
    SimulationError
        If the model's arithmetic overflows, or a worker process died (killed, say, by
        the out-of-memory killer).
    ValueError
        If an argument is out of range.
    OSError
        If the samples file cannot be written.
    BackendUnavailableError
        If ``backend="cupy"`` and CuPy or a CUDA device is not usable.
    simulator.errors.MissingExtraError
        If ``save_samples`` is a ``.parquet`` path and pyarrow is not installed.
    ExecutorUnavailableError
        If ``executor="dask"`` and Dask is not installed or the scheduler does not answer.
    ExecutorError
        If the Dask cluster could not finish the run.
    """
    t0 = time.perf_counter()
    xp, backend_name = namespace_for(backend, xp)
    remote = _remote_executor(executor, scheduler)
    cluster_workers = workers
    workers = default_workers() if workers is None else workers
    plan = _plan(scenario, samples, rng, method, block_size, workers, None, resolve_dtype(dtype))
    if plan.dtype != "float64":
        _check_float32(plan, xp)
    scenario, seed, total, names = plan.scenario, plan.seed, plan.total, plan.names
    years = scenario.years.all
    per_sample = 3 * len(names) * len(years) * 8
    if exact_budget is None:
        have = _available_memory()
        exact_budget = EXACT_BUDGET_BYTES if have is None else min(EXACT_BUDGET_BYTES, have // 4)
    exact = total * per_sample <= exact_budget
    questions = _question_specs(scenario)
    replicates = se_replicates(scenario.sampling.method)
    clock = _Clock()
    local = threading.local()

    kept: dict[str, dict[str, NDArray[np.float64]]] = {}
    if exact:
        kept = {v: {m: np.empty((total, len(years))) for m in names} for v in ("w", "c")}
    shares: dict[int, StreamingSummary] = {}  # each worker thread's histograms, by thread

    def work(i: int) -> tuple[int, Any]:
        buffers = None
        if save_samples is None:  # the block is summarized or kept before work returns
            buffers = getattr(local, "buffers", None)
            if buffers is None:
                buffers = local.buffers = {}
        a, b, drawn = _compute_block(plan, i, xp, clock, buffers)
        rows = slice(int(plan.offsets[i]), int(plan.offsets[i + 1]))
        if exact:
            for m in names:
                kept["w"][m][rows] = a[m]
                kept["c"][m][rows] = b[m]
            return plan.sizes[i], (a, b, drawn) if save_samples is not None else None
        ws = getattr(local, "workspace", None)
        if ws is None:
            ws = local.workspace = Workspace()
        started = time.perf_counter()
        part = StreamingSummary.of_block(
            a, b, questions, ws, replicates=replicates, first=int(plan.offsets[i])
        )
        # Histograms, hits and counts (integers: exact in any order) are merged here, into
        # this thread's share; only the floats go back to be merged in block order.
        moments = block_moments(part)
        share = shares.get(threading.get_ident())
        shares[threading.get_ident()] = part if share is None else share.merge(part)
        clock.add("summarize_s", time.perf_counter() - started)
        return plan.sizes[i], (moments, (a, b, drawn) if save_samples is not None else None)

    writer = (
        _samples_writer(save_samples)(save_samples, names, years, total, uncertain_names(scenario))
        if save_samples
        else None
    )
    # Streamed local runs of several workers compute their blocks in forked children (no
    # shared interpreter: faster than threads; simulator._fork), each merging its own
    # histograms as a thread does; the same numbers, bit for bit.
    fork = (
        not remote
        and not exact
        and save_samples is None
        and workers > 1
        and len(plan.todo) > 1
        and backend_name == "numpy"
        and ForkedMap.possible(len(plan.todo))
    )
    forked: ForkedMap[Any, Any] | None = None
    blocks: Iterator[tuple[int, Any]] = iter(())
    merged = StreamingSummary(0, {}, {})
    moments: BlockMoments | None = None
    done = 0
    samples_file: Path | None = None
    try:
        if remote:  # on a Dask cluster (simulator.executors); the same numbers
            merged, samples_file = _simulate_remote(
                executor, scheduler, cluster_workers, plan, xp, exact, kept, writer,
                questions, progress, clock,
            )  # fmt: skip
        if fork:
            with contextlib.suppress(OSError):  # the indices do not fit a pipe: threads
                forked = ForkedMap(
                    work,
                    len(plan.todo),
                    workers,
                    final=lambda: (list(shares.values()), clock.totals),
                )
        if forked is not None:  # forked children: their histograms come back at the end
            blocks = iter(forked)
        elif not remote:
            blocks = _ordered(work, len(plan.todo), workers)
        try:
            for size, payload in blocks:
                if exact:
                    if writer is not None:
                        writer.add(*payload)
                else:
                    part_moments, block = payload
                    started = time.perf_counter()
                    moments = merge_moments(moments, part_moments)
                    clock.add("summarize_s", time.perf_counter() - started)
                    if writer is not None:
                        writer.add(*block)
                done += size
                if progress is not None:
                    progress(done, total)
        except WorkerLostError as exc:  # killed, say, by the out-of-memory killer
            raise SimulationError(str(exc)) from None
        if writer is not None and not remote:
            samples_file = writer.finish()
    finally:
        if isinstance(blocks, Generator):  # stop the workers now, not when collected
            blocks.close()
        if forked is not None:
            forked.close()
        if writer is not None:
            writer.cleanup()
    if forked is not None:
        for child_shares, totals in forked.finals:
            for share in child_shares:
                shares[-1 - len(shares)] = share
            for stage, seconds in totals.items():
                clock.add(stage, seconds)
    if shares and moments is not None:  # the workers' histograms, in any order: integers
        started = time.perf_counter()
        histograms = StreamingSummary(0, {}, {})
        for share in shares.values():
            histograms = histograms.merge(share)
        merged = with_moments(histograms, moments)
        clock.add("summarize_s", time.perf_counter() - started)
    t_sim = time.perf_counter() - t0

    started = time.perf_counter()
    if exact:
        variants = {
            "with_shocks": kept["w"],
            "counterfactual": kept["c"],
            "impact": _LazyImpact(kept["w"], kept["c"]),
        }
        table = _summarize_each(
            variants, years, scenario.name, probs, summary_progress, replicates
        )
        answers = _answers_exact(questions, kept["w"], kept["c"], total, replicates)
        rel_error = 0.0
    else:
        table = merged.table(years, scenario=scenario.name, probs=probs, progress=summary_progress)
        answers = merged.answers(questions)
        rel_error = RELATIVE_ERROR
    clock.add("summarize_s", time.perf_counter() - started)
    timings = {"simulate_s": t_sim, **clock.totals, "total_s": time.perf_counter() - t0}
    return RunSummary(
        scenario_name=scenario.name,
        resolved=dict(resolved) if resolved is not None else scenario.model_dump(mode="json"),
        years=years,
        n_samples=total,
        seed=seed,
        method=scenario.sampling.method,
        block_size=plan.block_size,
        metrics=names,
        summary=table,
        answers=answers,
        exact=exact,
        quantile_rel_error=rel_error,
        timings=timings,
        versions=package_versions(backend_name),
        samples_file=samples_file,
        backend=backend_name,
        dtype=plan.dtype,
    )


def _remote_executor(executor: Any, scheduler: str | None) -> bool:
    """Whether ``executor`` sends blocks to a Dask cluster (checking the arguments)."""
    if executor is None or executor == "local":
        if scheduler is not None:
            msg = "scheduler is the address of a Dask scheduler; give executor='dask' too"
            raise ValueError(msg)
        return False
    if executor == "dask" or hasattr(executor, "ordered_map"):
        return True
    msg = f"executor must be 'local', 'dask' or a DaskExecutor; got {executor!r}"
    raise ValueError(msg)


def _simulate_remote(
    executor: Any,
    scheduler: str | None,
    n_workers: int | None,
    plan: _Plan,
    xp: Any,
    exact: bool,
    kept: dict[str, dict[str, NDArray[np.float64]]],
    writer: _SamplesWriter | None,
    questions: Sequence[QuestionSpec],
    progress: ProgressCallback | None,
    clock: _Clock,
) -> tuple[StreamingSummary, Path | None]:
    """The blocks of :func:`simulate_summary` computed on a Dask cluster, merged in order."""
    from simulator.executors import DaskExecutor, run_blocks

    done = 0

    def on_block(i: int, arrays: Any) -> None:
        nonlocal done
        if exact:
            rows = slice(int(plan.offsets[i]), int(plan.offsets[i + 1]))
            for m in plan.names:
                kept["w"][m][rows] = arrays[0][m]
                kept["c"][m][rows] = arrays[1][m]
        if writer is not None:
            writer.add(*arrays)
        done += plan.sizes[i]
        if progress is not None:
            progress(done, plan.total)

    ex = DaskExecutor(scheduler, n_workers=n_workers) if executor == "dask" else executor
    try:
        merged = run_blocks(
            ex,
            plan,
            xp=xp,
            exact=exact,
            save=writer is not None,
            questions=questions,
            on_block=on_block,
            add_time=clock.add,
        )
        samples_file = writer.finish() if writer is not None else None
    finally:
        if executor == "dask":
            ex.close()
    return (StreamingSummary(0, {}, {}) if merged is None else merged), samples_file


@dataclasses.dataclass(frozen=True)
class _Plan:
    scenario: Scenario
    seed: int
    block_size: int
    todo: list[int]
    sizes: list[int]
    offsets: NDArray[np.int64]
    total: int
    names: tuple[str, ...]
    uncertain: tuple[str, ...]
    """Dotted paths of the uncertain scalar parameters (:func:`uncertain_names`)."""
    dtype: str = "float64"
    """Floating-point type of the model's arithmetic (:func:`resolve_dtype`)."""


def _plan(
    scenario: Scenario,
    samples: int | None,
    rng: Any,
    method: Method | None,
    block_size: int,
    workers: int,
    blocks: Sequence[int] | None,
    dtype: str = "float64",
) -> _Plan:
    """Check the arguments of a run and split it into blocks."""
    n = scenario.sampling.samples if samples is None else int(samples)
    if n < 1:
        msg = f"samples must be an int >= 1; got {samples!r}"
        raise ValueError(msg)
    if block_size < 1:
        msg = f"block_size must be an int >= 1; got {block_size!r}"
        raise ValueError(msg)
    if workers < 1:
        msg = f"workers must be an int >= 1; got {workers!r}"
        raise ValueError(msg)
    if method is not None and method != scenario.sampling.method:
        sampling = scenario.sampling.model_copy(update={"method": method})
        scenario = scenario.model_copy(update={"sampling": sampling})
    seed = as_seed(scenario.sampling.seed if rng is None else rng)
    if scenario.sampling.method == "sobol":
        problem = sobol_sample_count_problem(n)
        if problem is not None:
            warnings.warn(problem, SobolSampleCountWarning, stacklevel=3)
    n_blocks = math.ceil(n / block_size)
    todo = list(range(n_blocks)) if blocks is None else list(blocks)
    if any(not 0 <= b < n_blocks for b in todo):
        msg = f"blocks must lie in 0..{n_blocks - 1} for {n} samples; got {list(blocks or [])}"
        raise ValueError(msg)
    sizes = [min(block_size, n - b * block_size) for b in todo]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    names = metric_names([s.name for s in scenario.demand.segments])
    return _Plan(
        scenario,
        seed,
        block_size,
        todo,
        sizes,
        offsets,
        int(offsets[-1]),
        names,
        tuple(uncertain_names(scenario)),
        dtype,
    )


class _Clock:
    """Seconds per stage, summed over threads."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {"sampling_s": 0.0, "model_s": 0.0, "summarize_s": 0.0}
        self._lock = threading.Lock()

    def add(self, key: str, seconds: float) -> None:
        with self._lock:
            self.totals[key] = self.totals.get(key, 0.0) + seconds


def _compute_block(
    plan: _Plan,
    i: int,
    xp: Any,
    clock: _Clock,
    buffers: dict[tuple[str, str], NDArray[np.float64]] | None = None,
) -> tuple[
    dict[str, NDArray[np.float64]], dict[str, NDArray[np.float64]], dict[str, NDArray[np.float64]]
]:
    """Both variants of block ``plan.todo[i]``, checked finite, as NumPy arrays.

    The third item holds the block's draws of the uncertain parameters
    (:attr:`_Plan.uncertain`), as the model used them. ``buffers`` (a float32 run only;
    ignored in float64): the calling thread's float64 arrays to convert the model's outputs
    into, reused block after block (fresh memory is slow to touch on virtual machines), so
    the caller must be done with the arrays returned before its next call.
    """
    scenario, years = plan.scenario, plan.scenario.years.all
    t0 = time.perf_counter()
    draws = draw_block(
        scenario, plan.seed, plan.todo[i], block_size=plan.block_size, size=plan.sizes[i]
    )
    drawn = {name: draws[name] for name in plan.uncertain}
    inputs = build_inputs(scenario, draws, xp=xp, dtype=_model_dtype(plan.dtype))
    t1 = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore"):
        with_shocks, without = evaluate_pair(inputs)
    first = int(plan.offsets[i])
    a: dict[str, NDArray[np.float64]] = {}
    b: dict[str, NDArray[np.float64]] = {}
    if plan.dtype == "float64":
        buffers = None
    for m in plan.names:
        a[m] = _to_numpy(with_shocks[m], _buffer(buffers, "w", m, plan))
        b[m] = _to_numpy(without[m], _buffer(buffers, "c", m, plan))
        _check_finite(m, a[m], "with the shocks", years, first, inputs, plan.dtype)
        _check_finite(m, b[m], "without the shocks", years, first, inputs, plan.dtype)
    clock.add("sampling_s", t1 - t0)
    clock.add("model_s", time.perf_counter() - t1)
    return a, b, drawn


def _buffer(
    buffers: dict[tuple[str, str], NDArray[np.float64]] | None, variant: str, m: str, plan: _Plan
) -> NDArray[np.float64] | None:
    """A flat float64 array of ``buffers`` for one block's output (None: no buffers)."""
    if buffers is None:
        return None
    out = buffers.get((variant, m))
    if out is None:
        out = buffers[variant, m] = np.empty(plan.block_size * len(plan.scenario.years.all))
    return out


def _ordered(work: Callable[[int], Any], count: int, workers: int) -> Iterator[Any]:
    """``work(0), work(1), ...`` in order, computed by ``workers`` threads a few ahead."""
    if workers == 1 or count == 1:
        for i in range(count):
            yield work(i)
        return
    ahead = workers * SAMPLES_IN_FLIGHT_PER_WORKER
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future[Any]] = deque()
        try:
            for i in range(count):
                pending.append(pool.submit(work, i))
                if len(pending) >= ahead:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for f in pending:
                f.cancel()


def _summarize_each(
    variants: Mapping[str, Mapping[str, NDArray[np.float64]]],
    years: Sequence[int],
    scenario: str,
    probs: Sequence[float],
    progress: ProgressCallback | None,
    replicates: int | None = None,
) -> SummaryTable:
    """:func:`summarize`, one series at a time (same rows, same order), with progress."""
    tables = []
    total = sum(len(metrics) for metrics in variants.values())
    for variant, metrics in variants.items():
        for metric in metrics:
            one = {variant: {metric: metrics[metric]}}
            tables.append(
                summarize(one, years, scenario=scenario, probs=probs, replicates=replicates)
            )
            if progress is not None:
                progress(len(tables), total)
    return SummaryTable.concat(tables)


def _impact_of(metric: str, w: NDArray[np.float64], c: NDArray[np.float64]) -> NDArray[np.float64]:
    """A metric's impact as :func:`simulate` stores it: ratio, or paired difference."""
    if metric in IMPACT_AS_DIFFERENCE:
        out: NDArray[np.float64] = np.asarray(w - c)
        return out
    return impact(w, c)


class _LazyImpact(Mapping[str, NDArray[np.float64]]):
    """Impact ratios computed one metric at a time (never all held at once)."""

    def __init__(
        self, w: Mapping[str, NDArray[np.float64]], c: Mapping[str, NDArray[np.float64]]
    ) -> None:
        self._w, self._c = w, c

    def __getitem__(self, key: str) -> NDArray[np.float64]:
        return _impact_of(key, self._w[key], self._c[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._w)

    def __len__(self) -> int:
        return len(self._w)


def _question_specs(scenario: Scenario) -> list[QuestionSpec]:
    k_of = {y: k for k, y in enumerate(scenario.years.all)}
    return [
        QuestionSpec(
            name=q.name,
            text=q.describe(),
            variant=q.variant,
            metric=q.metric,
            column=k_of[q.year],
            op=q.op,
            than=None if q.than == "counterfactual" else float(q.than),
        )
        for q in scenario.questions
    ]


def _answers_exact(
    questions: Sequence[QuestionSpec],
    w: Mapping[str, NDArray[np.float64]],
    c: Mapping[str, NDArray[np.float64]],
    n: int,
    replicates: int | None = None,
) -> list[QuestionAnswer]:
    """The answers :func:`answer_questions` gives, from the kept samples."""
    out = []
    for q in questions:
        k = q.column
        if q.variant == "impact":
            x = _impact_of(q.metric, w[q.metric][:, k], c[q.metric][:, k])
        else:
            x = (w if q.variant == "with_shocks" else c)[q.metric][:, k]
        threshold: Any = c[q.metric][:, k] if q.than is None else q.than
        p, se = exceedance(x, q.op, threshold, replicates=replicates)
        out.append(QuestionAnswer(name=q.name, text=q.text, probability=float(p), se=float(se)))
    return out


def _samples_writer(path: str | os.PathLike[str]) -> Any:
    """The writer class for a samples file: Parquet for ``.parquet``, else ``.npz``."""
    if Path(path).suffix.lower() == ".parquet":
        from simulator.export import ParquetSamplesWriter

        return ParquetSamplesWriter
    return _SamplesWriter


class _SamplesWriter:
    """Stream per-sample paths into an ``.npz`` through one temporary ``.npy`` per array.

    Keys ``"<variant>/<metric>"`` (shape ``(n, T + 1)``), ``"inputs/<parameter path>"``
    (shape ``(n,)``) and ``"years"``.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        names: Sequence[str],
        years: Sequence[int],
        total: int,
        inputs: Sequence[str] = (),
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(dir=self.path.parent, prefix=".jevons-samples-"))
        self.years = tuple(years)
        self.keys = [
            f"{v}/{m}" for v in ("with_shocks", "counterfactual", "impact") for m in names
        ]
        self.files = {}
        header = {"descr": "<f8", "fortran_order": False, "shape": (total, len(years))}
        for i, key in enumerate(self.keys):
            fh = (self.tmp / f"{i}.npy").open("wb")
            np.lib.format.write_array_header_2_0(fh, header)
            self.files[key] = fh
        column = {"descr": "<f8", "fortran_order": False, "shape": (total,)}
        for name in inputs:
            key = f"{INPUTS_PREFIX}{name}"
            fh = (self.tmp / f"{len(self.keys)}.npy").open("wb")
            np.lib.format.write_array_header_2_0(fh, column)
            self.keys.append(key)
            self.files[key] = fh

    def add(
        self,
        w: Mapping[str, NDArray[np.float64]],
        c: Mapping[str, NDArray[np.float64]],
        drawn: Mapping[str, NDArray[np.float64]] | None = None,
    ) -> None:
        for name, values in (drawn or {}).items():
            key = f"{INPUTS_PREFIX}{name}"
            if key in self.files:
                self.files[key].write(np.ascontiguousarray(values, dtype=np.float64).tobytes())
        for m, a in w.items():
            self.files[f"with_shocks/{m}"].write(np.ascontiguousarray(a).tobytes())
            self.files[f"counterfactual/{m}"].write(np.ascontiguousarray(c[m]).tobytes())
            self.files[f"impact/{m}"].write(_impact_of(m, a, c[m]).tobytes())

    def finish(self) -> Path:
        for fh in self.files.values():
            fh.close()
        part = self.tmp / "samples.npz"
        with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            with zf.open("years.npy", "w") as out:
                np.lib.format.write_array(out, np.asarray(self.years, dtype=np.int64))
            for i, key in enumerate(self.keys):
                with (
                    (self.tmp / f"{i}.npy").open("rb") as src,
                    zf.open(f"{key}.npy", "w", force_zip64=True) as out,
                ):
                    shutil.copyfileobj(src, out, 1 << 20)
                (self.tmp / f"{i}.npy").unlink()
        part.replace(self.path)
        return self.path

    def cleanup(self) -> None:
        for fh in self.files.values():
            fh.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


__all__ = [
    "DTYPES",
    "answer_questions",
    "as_seed",
    "build_inputs",
    "package_versions",
    "resolve_dtype",
    "simulate",
    "simulate_summary",
]
