"""Rich tables for the terminal: headline quantiles and the scenario's questions.

Values come from a :class:`~simulator.summary.SummaryTable` in canonical units and are converted
here, once, to the display units of :mod:`simulator.report.units`, which the labels state.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich import box
from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from simulator.metrics import IMPACT_AS_DIFFERENCE
from simulator.report.units import display_unit, format_number, format_ratio
from simulator.result import RunSummary, SimulationResult
from simulator.summary import QuestionAnswer, SummaryTable

__all__ = ["HEADLINE_METRICS", "default_years", "headline_table", "questions_table"]

HEADLINE_METRICS: tuple[str, ...] = (
    "shipments_units",
    "hbm_gb",
    "accelerator_revenue",
    "power_w",
    "installed_h100e",
    "compute_total",
)
"""Metrics shown by default in :func:`headline_table`, those present in the result."""

_HEADLINE_OFFSETS: tuple[int, ...] = (0, 1, 2, 3, 6)
"""Years after the base year shown by default, besides the end year: the first three
projection years, where a shock's dip, a glut of orders placed on the trend and the
rebound show (MODEL.md §2, §4), then +6. [year]"""


def default_years(years: Sequence[int]) -> tuple[int, ...]:
    """Years a headline table shows: base year, +1, +2, +3, +6 and the end year, when present.

    Parameters
    ----------
    years : sequence of int
        Calendar years of the run, base year first.

    Returns
    -------
    shown : tuple of int
        Distinct years, in calendar order.
    """
    if not years:
        return ()
    base, end = years[0], years[-1]
    wanted = {base + k for k in _HEADLINE_OFFSETS if base + k <= end} | {end}
    return tuple(y for y in years if y in wanted)


def _lookup(summary: SummaryTable, variant: str, metric: str, year: int, stat: str) -> float:
    try:
        return summary.value(variant, metric, year, stat)
    except KeyError:
        return math.nan


def headline_table(
    result: SimulationResult | RunSummary,
    summary: SummaryTable,
    *,
    metrics: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
) -> Group:
    """Tables of headline metrics for a strategist: P5/P50/P95 with and without the shocks.

    Parameters
    ----------
    result : SimulationResult
        The run (scenario name, years, number of samples).
    summary : SummaryTable
        Its summary, with variants ``with_shocks``, ``counterfactual`` and ``impact`` in
        canonical units.
    metrics : sequence of str, optional
        Metrics to show, in order. Default: those of :data:`HEADLINE_METRICS` that the result
        holds.
    years : sequence of int, optional
        Calendar years to show. Default: :func:`default_years` of the run.

    Returns
    -------
    tables : rich.console.Group
        A heading, one table per metric (titled with its unit) and a caption. Each
        table has one row per year; columns P5, P50, P95 with the shocks,
        P5, P50, P95 without them, and the median of the per-sample impact ratio (for
        ``idle_h100e`` and ``unmet_h100e``, of the paired difference, signed). Values
        are in the unit named in the metric's label (e.g. ``[M units]``, ``[$B]``, ``[GW]``).
        Missing values print as ``n/a``.

    Raises
    ------
    ValueError
        If a requested metric is not in the result, or a requested year is not simulated.
    """
    if metrics is None:
        shown_metrics = [m for m in HEADLINE_METRICS if m in result.metrics]
    else:
        unknown = [m for m in metrics if m not in result.metrics]
        if unknown:
            msg = f"metrics not in the result: {', '.join(unknown)}; "
            msg += f"available: {', '.join(result.metrics)}"
            raise ValueError(msg)
        shown_metrics = list(metrics)
    if years is None:
        shown_years = default_years(result.years)
    else:
        missing = [y for y in years if y not in result.years]
        if missing:
            msg = f"years not simulated: {missing}; the run covers "
            msg += f"{result.years[0]}..{result.years[-1]}"
            raise ValueError(msg)
        shown_years = tuple(years)

    tables: list[Table] = []
    for metric in shown_metrics:
        unit = display_unit(metric)
        table = Table(
            title=escape(f"{unit.description or metric} [{unit.label}]"),
            title_style="bold",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
        )
        table.add_column("Year", justify="right")
        for variant in ("With shock", "Without"):
            for stat in ("P5", "P50", "P95"):
                table.add_column(f"{variant}\n{stat}", justify="right")
        table.add_column("Impact\nP50", justify="right")
        for year in shown_years:
            cells = [str(year)]
            for variant in ("with_shocks", "counterfactual"):
                for stat in ("p5", "p50", "p95"):
                    cells.append(
                        escape(format_number(_lookup(summary, variant, metric, year, stat), unit))
                    )
            effect = _lookup(summary, "impact", metric, year, "p50")
            if metric in IMPACT_AS_DIFFERENCE:  # a paired difference, in the metric's unit
                text = format_number(effect, unit)
                cells.append(escape(f"+{text}" if effect > 0 else text))
            else:
                cells.append(escape(format_ratio(effect)))
            table.add_row(*cells)
        tables.append(table)
    header = Text(
        f"{result.scenario_name}: headline metrics ({result.n_samples:,} samples)", style="bold"
    )
    caption = Text(
        "P5/P50/P95: percentiles across samples, in the unit in brackets. Impact: median of "
        "the per-sample ratio with shocks / without, on the same samples (1 = unchanged).",
        style="dim",
    )
    return Group(header, *tables, caption)


def questions_table(answers: Sequence[QuestionAnswer]) -> Table:
    """A table of the scenario's questions and their estimated probabilities.

    Parameters
    ----------
    answers : sequence of QuestionAnswer
        Answered questions, in scenario order.

    Returns
    -------
    table : rich.table.Table
        Columns: question, probability [%] and its Monte Carlo standard error [percentage
        points].
    """
    table = Table(
        title="Questions",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        caption=escape("Probability across samples; +/- one Monte Carlo standard error."),
    )
    table.add_column("Question")
    table.add_column(escape("P [%]"), justify="right")
    table.add_column(escape("s.e. [pp]"), justify="right")
    for answer in answers:
        table.add_row(
            escape(answer.text or answer.name),
            _percent(answer.probability),
            _percent(answer.se, plus_minus=True),
        )
    return table


def _percent(value: float, *, plus_minus: bool = False) -> str:
    if math.isnan(value):
        return "n/a"
    if plus_minus:
        return f"+/-{100.0 * value:.2f}"
    # never round a probability that is not 0 or 1 to "0.0" or "100.0"
    if 0.0 < value < 0.0005:
        return "<0.1"
    if 0.9995 <= value < 1.0:
        return ">99.9"
    return f"{100.0 * value:.1f}"
