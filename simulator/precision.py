"""The error float32 arithmetic costs a run's summaries, and the bounds it must stay within.

``simulate(..., dtype="float32")`` (``jevons run --dtype float32``) runs the model in
float32 and summarizes in float64 (:func:`simulator.engine.resolve_dtype`). This module
measures how far such a run's statistics are from the float64 run's on the same seed, by
kind of statistic (:func:`summary_errors`, :func:`answer_errors`; what
``benchmarks/float32_error.py`` reports for every shipped scenario), states the bounds
``docs/float32.md`` documents (:data:`FLOAT32_BOUNDS`), and refuses a float32 run whose
first block misses them (:func:`check_float32_block`, called by the engine before the run).

The error of a statistic is relative: ``|x32 - x64| / max(|x64|, SCALE_FLOOR * scale)``,
where ``scale`` is the largest finite ``|x64|`` of any statistic of the same variant and
metric (every year; :data:`SE_SCALE_FLOOR` for standard errors): the floor keeps a statistic that is 0 in float64 and a rounding
residue in float32 from reading as an infinite relative error. ``idle_h100e`` and
``unmet_h100e`` (:data:`FLEET_DIFFERENCES`) are differences of two nearly equal fleets
(required capacity and the fleet installed, ~1e9 H100e), which float32 knows only to about
its precision times the fleet: their error is measured against the installed fleet,
``|x32 - x64| / max(|x64|, fleet)`` with ``fleet`` the largest ``installed_h100e``
statistic of the run. Their own relative error, where they are small, can be percents.
An answer's error is the absolute difference of its probability.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from simulator.errors import SimulationError
from simulator.sketch import RELATIVE_ERROR
from simulator.summary import QuestionAnswer, SummaryTable

if TYPE_CHECKING:
    from simulator.schema import Scenario

__all__ = [
    "CHECK_SAMPLES",
    "FLEET_DIFFERENCES",
    "FLEET_METRIC",
    "FLOAT32_BOUNDS",
    "KINDS",
    "SCALE_FLOOR",
    "SE_SCALE_FLOOR",
    "STREAMED_BOUNDS",
    "Float32Error",
    "StatisticError",
    "answer_errors",
    "check_float32_block",
    "errors_in_standard_errors",
    "statistic_kind",
    "summary_errors",
]

SCALE_FLOOR = 1e-6
"""Smallest denominator of a relative error, as a fraction of its series' scale. [-]"""

SE_SCALE_FLOOR = 1e-5
""":data:`SCALE_FLOOR` for standard errors: a quantile's is estimated from the spacing of
order statistics, which float32 resolves only to a few of its roundings (``2**-24`` of the
series' scale), so an SE that is 0 in float64 (ties: an impact ratio exactly 1 around P25)
is a few times ``1e-7`` of the scale in float32. [-]"""

FLEET_DIFFERENCES: frozenset[str] = frozenset({"idle_h100e", "unmet_h100e"})
"""Metrics whose float32 error is measured against the installed fleet (see the notes)."""

FLEET_METRIC = "installed_h100e"
"""The metric whose largest statistic is the fleet scale of :data:`FLEET_DIFFERENCES`."""

KINDS: tuple[str, ...] = ("mean", "sd", "quantile", "se", "probability")
"""Kinds of statistic the bounds are stated for: ``quantile`` is every ``p<k>``, ``se``
every standard error (``se_mean``, ``se_p<k>``), ``probability`` a question's answer."""

FLOAT32_BOUNDS: Mapping[str, float] = {
    "mean": 1e-3,
    "sd": 1e-2,
    "quantile": 1e-4,
    "se": 1e-1,
    "probability": 1e-3,
}
"""Largest error of a float32 run's statistic that jevons accepts, by kind (relative,
see the module's notes; absolute for ``probability``) [-]. Each is a stated multiple of
the worst error ``benchmarks/float32_error.py`` measured on the shipped scenarios
(``docs/float32.md``); the first block of every float32 run is checked against them."""


STREAMED_BOUNDS: Mapping[str, float] = {
    **FLOAT32_BOUNDS,
    "quantile": FLOAT32_BOUNDS["quantile"] + RELATIVE_ERROR,
}
"""The bounds for a streamed run (quantiles from the histogram of :mod:`simulator.sketch`):
a quantile against float64's *exact* one adds the histogram's own
:data:`~simulator.sketch.RELATIVE_ERROR`; a quantile's standard error, read from the
histogram's buckets, moves by up to this much when a value crosses a bucket edge [-]."""


CHECK_SAMPLES = 1024
"""Samples the engine computes both ways before a float32 run (:func:`check_float32_block`):
enough for every statistic of the table, few enough to cost about 0.1 s. [-]"""


class Float32Error(SimulationError):
    """A float32 run refused: a statistic would miss float64's by more than its bound."""


@dataclass(frozen=True)
class StatisticError:
    """The worst error of one kind of statistic, and where it was.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    error : float
        Largest error (relative; absolute for ``probability``). [-]
    where : str
        The row it was found in (``variant metric year statistic``, or the question).
    float64, float32 : float
        The two values there.
    """

    kind: str
    error: float
    where: str
    float64: float
    float32: float


def statistic_kind(statistic: str) -> str:
    """The kind of a summary statistic: ``mean``, ``sd``, ``quantile`` or ``se``."""
    if statistic in ("mean", "sd"):
        return statistic
    if statistic.startswith("se_"):
        return "se"
    return "quantile"


def _relative(x64: float, x32: float, floor: float) -> float:
    """``|x32 - x64| / max(|x64|, floor)``; 0 for equal values (NaN too), inf for one inf."""
    if x64 == x32 or (math.isnan(x64) and math.isnan(x32)):
        return 0.0
    if not (math.isfinite(x64) and math.isfinite(x32)):
        return math.inf
    denominator = max(abs(x64), floor)
    return abs(x32 - x64) / denominator if denominator > 0 else math.inf


def _keys(table: SummaryTable) -> list[tuple[str, str, int, str]]:
    """The rows of a table: (variant, metric, year, statistic)."""
    return list(zip(table.variants, table.metrics, table.years, table.statistics, strict=True))


def summary_errors(reference: SummaryTable, other: SummaryTable) -> dict[str, StatisticError]:
    """The worst error of ``other`` against ``reference``, by kind of statistic.

    Parameters
    ----------
    reference : SummaryTable
        The float64 run's table.
    other : SummaryTable
        The float32 run's table, the same rows (same scenario, samples, seed, probs).

    Returns
    -------
    dict of str to StatisticError
        Keyed by kind (``mean``, ``sd``, ``quantile``, ``se``), those present.

    Raises
    ------
    ValueError
        If the tables do not have the same rows.
    """
    keys = _keys(reference)
    if keys != _keys(other):
        msg = "the two summary tables must have the same rows, in the same order"
        raise ValueError(msg)
    x64: NDArray[np.float64] = np.asarray(reference.values, dtype=np.float64)
    x32: NDArray[np.float64] = np.asarray(other.values, dtype=np.float64)
    scale: dict[tuple[str, str], float] = {}
    fleet = 0.0
    for (variant, metric, _, statistic), v in zip(keys, x64, strict=True):
        if math.isfinite(v):
            key = (variant, metric)
            scale[key] = max(scale.get(key, 0.0), abs(float(v)))
            if metric == FLEET_METRIC and variant != "impact" and not statistic.startswith("se"):
                fleet = max(fleet, abs(float(v)))
    worst: dict[str, StatisticError] = {}
    for (variant, metric, year, statistic), a, b in zip(keys, x64, x32, strict=True):
        kind = statistic_kind(statistic)
        if metric in FLEET_DIFFERENCES and fleet > 0:
            floor = fleet
        else:
            share = SE_SCALE_FLOOR if kind == "se" else SCALE_FLOOR
            floor = share * scale.get((variant, metric), 0.0)
        err = _relative(float(a), float(b), floor)
        if kind not in worst or err > worst[kind].error:
            where = f"{variant} {metric} {year} {statistic}"
            worst[kind] = StatisticError(kind, err, where, float(a), float(b))
    return worst


def errors_in_standard_errors(
    reference: SummaryTable, other: SummaryTable
) -> dict[str, StatisticError]:
    """The worst difference of a mean or quantile, in units of its Monte Carlo standard error.

    ``|x32 - x64| / se64``, with ``se64`` the reference's ``se_mean`` or ``se_p<k>`` of the
    same row (rows without one, or whose standard error is 0 while the values differ, are
    skipped): how the float32 error compares with the uncertainty the table reports anyway.

    Parameters
    ----------
    reference, other : SummaryTable
        As for :func:`summary_errors`.

    Returns
    -------
    dict of str to StatisticError
        Keyed ``mean`` and ``quantile``, those present. [standard errors]
    """
    index = {key: i for i, key in enumerate(_keys(reference))}
    other_index = {key: i for i, key in enumerate(_keys(other))}
    worst: dict[str, StatisticError] = {}
    for (variant, metric, year, statistic), i in index.items():
        kind = statistic_kind(statistic)
        j = other_index.get((variant, metric, year, statistic))
        k = index.get((variant, metric, year, f"se_{statistic}"))
        if kind not in ("mean", "quantile") or j is None or k is None:
            continue
        a, b = float(reference.values[i]), float(other.values[j])
        se = float(reference.values[k])
        if a == b or not (math.isfinite(a) and math.isfinite(b) and se > 0):
            continue
        err = abs(b - a) / se
        if kind not in worst or err > worst[kind].error:
            where = f"{variant} {metric} {year} {statistic}"
            worst[kind] = StatisticError(kind, err, where, a, b)
    return worst


def answer_errors(
    reference: Sequence[QuestionAnswer], other: Sequence[QuestionAnswer]
) -> StatisticError | None:
    """The largest absolute difference of a question's probability (None: no questions)."""
    worst: StatisticError | None = None
    for a, b in zip(reference, other, strict=True):
        err = abs(a.probability - b.probability)
        if worst is None or err > worst.error:
            worst = StatisticError("probability", err, a.name, a.probability, b.probability)
    return worst


def check_float32_block(
    reference: tuple[Mapping[str, NDArray[np.float64]], Mapping[str, NDArray[np.float64]]],
    other: tuple[Mapping[str, NDArray[np.float64]], Mapping[str, NDArray[np.float64]]],
    scenario: Scenario,
    block: int,
) -> None:
    """Refuse float32 for a scenario whose block of samples shows it is not accurate enough.

    Parameters
    ----------
    reference, other : tuple of (with_shocks, counterfactual) mappings
        One block's outputs from the float64 and the float32 model, as float64 arrays of
        shape ``(n, T + 1)``.
    scenario : Scenario
        The scenario run (its years and questions).
    block : int
        The block's number, for the message.

    Raises
    ------
    Float32Error
        If any statistic of the block (every variant, metric, year and statistic of the
        summary table, and every question's probability) misses float64's by more than
        :data:`FLOAT32_BOUNDS`.
    """
    from simulator.engine import _answers_exact, _LazyImpact, _question_specs
    from simulator.summary import summarize

    years = scenario.years.all
    questions = _question_specs(scenario)
    tables, answers = [], []
    for w, c in (reference, other):
        variants = {"with_shocks": w, "counterfactual": c, "impact": _LazyImpact(w, c)}
        tables.append(summarize(variants, years, scenario=scenario.name))
        n = len(next(iter(w.values()), ()))
        answers.append(_answers_exact(questions, w, c, n))
    found = list(summary_errors(tables[0], tables[1]).values())
    worst_answer = answer_errors(answers[0], answers[1])
    if worst_answer is not None:
        found.append(worst_answer)
    for e in found:
        bound = FLOAT32_BOUNDS[e.kind]
        if not e.error <= bound:
            msg = (
                f"float32 is not accurate enough for this scenario: on a check sample of "
                f"{n:,} paths (drawn as block {block} of the run), {e.where} is "
                f"{e.float32:.7g} in float32 and "
                f"{e.float64:.7g} in "
                f"float64, an error of {e.error:.3g} where docs/float32.md promises at most "
                f"{bound:.3g} for a {e.kind}; run it in float64 (the default)"
            )
            raise Float32Error(msg)
