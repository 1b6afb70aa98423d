"""The calibration table: each scenario's medians and 90% intervals next to the published figures.

:func:`calibration_rows` compares one run with every point of
:mod:`simulator.report.published` for the table's metrics and years; :func:`calibration_markdown`
renders the runs of several scenarios as the markdown section that ``docs/calibration_table.py``
writes into ``docs/calibration.md`` between :data:`START_MARKER` and :data:`END_MARKER`
(:func:`replace_between_markers`). The table is generated from a real run so that it cannot
drift from the outputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.report.published import PublishedPoint, points_for
from simulator.report.units import display_unit, format_number
from simulator.result import SimulationResult
from simulator.summary import impact, quantiles

__all__ = [
    "CALIBRATION_YEARS",
    "END_MARKER",
    "START_MARKER",
    "TABLE_METRICS",
    "CalibrationRow",
    "calibration_markdown",
    "calibration_rows",
    "has_shocks",
    "replace_between_markers",
]

START_MARKER = "<!-- calibration-table:start -->"
"""Line after which the generated table starts in ``docs/calibration.md``."""
END_MARKER = "<!-- calibration-table:end -->"
"""Line before which the generated table ends in ``docs/calibration.md``."""

CALIBRATION_YEARS: tuple[int, ...] = (2025, 2027, 2030)
"""Projection years of the per-scenario tables."""
BASE_YEAR_FACTS = 2024
"""The observed year whose facts get the cross-scenario "model vs fact" table."""

TABLE_METRICS: tuple[str, ...] = (
    "shipments_h100e",
    "hbm_revenue",
    "accelerator_revenue",
    "datacenter_capex",
    "energy_j",
    "installed_h100e",
)
"""Metrics of the per-scenario tables, in table order."""

_PROBS = (0.05, 0.5, 0.95)


@dataclass(frozen=True)
class CalibrationRow:
    """One metric and period of one run, with the published figure it is compared with.

    Attributes
    ----------
    metric : str
        Metric name (MODEL.md §9).
    period : str
        ``"2027"``, or ``"2025-2030"`` for a cumulative comparison.
    p5, p50, p95 : float
        The with-shock variant's quantiles over samples (for a period, of the per-sample
        sum over its years). [canonical unit]
    impact_p50 : float or None
        Median over samples of with / without (of the sums, for a period); None when the
        scenario has no shocks. [-]
    point : PublishedPoint or None
        The published figure; None when none exists for the metric and period.
    """

    metric: str
    period: str
    p5: float
    p50: float
    p95: float
    impact_p50: float | None
    point: PublishedPoint | None

    @property
    def gap(self) -> float | None:
        """Model median over the published value, less 1 [-]; None without a point."""
        if self.point is None:
            return None
        return self.p50 / self.point.value - 1.0


def has_shocks(result: SimulationResult) -> bool:
    """Whether the run's resolved scenario declares at least one shock."""
    shocks = result.resolved.get("shocks")
    return bool(shocks)


def _values(
    result: SimulationResult, variant: str, metric: str, first: int, last: int
) -> NDArray[np.float64]:
    """Per-sample value in ``first`` (= ``last``), or the per-sample sum over the years."""
    years = list(result.years)
    if first not in years or last not in years:
        msg = f"{metric} {first}-{last}: outside the run's years {years[0]}-{years[-1]}"
        raise ValueError(msg)
    lo, hi = years.index(first), years.index(last)
    data = np.asarray(result.variant(variant)[metric], dtype=np.float64)
    return np.asarray(data[:, lo : hi + 1].sum(axis=1), dtype=np.float64)


def _row(
    result: SimulationResult,
    metric: str,
    first: int,
    last: int,
    point: PublishedPoint | None,
    shocked: bool,
) -> CalibrationRow:
    values = _values(result, "with_shocks", metric, first, last)
    p5, p50, p95 = (float(v) for v in np.quantile(values, _PROBS))
    impact_p50: float | None = None
    if shocked:
        without = _values(result, "counterfactual", metric, first, last)
        impact_p50 = float(quantiles(impact(values, without), (0.5,))[0])
    period = str(last) if first == last else f"{first}-{last}"
    return CalibrationRow(metric, period, p5, p50, p95, impact_p50, point)


def calibration_rows(
    result: SimulationResult,
    *,
    metrics: Sequence[str] = TABLE_METRICS,
    years: Sequence[int] = CALIBRATION_YEARS,
    extra_published_years: bool = True,
) -> list[CalibrationRow]:
    """Rows of one run's table: each metric and year, one per published figure.

    Parameters
    ----------
    result : SimulationResult
        The run.
    metrics : sequence of str, optional
        Metrics, in table order; those not in the result are skipped.
    years : sequence of int, optional
        Years; those outside the run are skipped.
    extra_published_years : bool, optional
        Also add, per metric, every other year between the first and last of ``years`` that
        has a published figure (e.g. 2026 for the big-4's capex guidance).

    Returns
    -------
    rows : list of CalibrationRow
        Per metric: for each year, in calendar order, one row per published point of that metric and year (one
        row with ``point=None`` where there is none), then one row per cumulative published
        point whose years the run covers (e.g. McKinsey's 2025-2030 capex).
    """
    shocked = has_shocks(result)
    rows: list[CalibrationRow] = []
    for metric in metrics:
        if metric not in result.metrics:
            continue
        if extra_published_years and years:
            lo, hi = min(years), max(years)
            extra = {p.year for p in points_for(metric, cumulative=False) if lo <= p.year <= hi}
            metric_years = sorted(set(years) | extra)
        else:
            metric_years = list(years)
        for year in metric_years:
            if year not in result.years:
                continue
            points = points_for(metric, years=(year,), cumulative=False)
            for point in points or (None,):
                rows.append(_row(result, metric, year, year, point, shocked))
        for point in points_for(metric, cumulative=True):
            first = point.cumulative_from
            if first is None or first not in result.years or point.year not in result.years:
                continue
            rows.append(_row(result, metric, first, point.year, point, shocked))
    return rows


# ----------------------------------------------------------------------------- markdown


def _unit_label(metric: str) -> str:
    return display_unit(metric).label


def _number(value: float, metric: str) -> str:
    return format_number(value, display_unit(metric))


def _interval(row: CalibrationRow) -> str:
    return f"{_number(row.p50, row.metric)} ({_number(row.p5, row.metric)}-{_number(row.p95, row.metric)})"


def _gap(gap: float | None) -> str:
    if gap is None:
        return ""
    percent = round(gap * 100)
    return "0%" if percent == 0 else f"{percent:+d}%"


class _Notes:
    """Numbered caveats, shared across the generated section."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def ref(self, point: PublishedPoint) -> str:
        if not point.caveat:
            return ""
        if point.caveat not in self.texts:
            self.texts.append(point.caveat)
        return f" [{self.texts.index(point.caveat) + 1}]"


def _published(point: PublishedPoint | None, notes: _Notes) -> str:
    if point is None:
        return "-"
    value = _number(point.value, point.metric)
    if point.low is not None or point.high is not None:
        lo = _number(point.low if point.low is not None else point.value, point.metric)
        hi = _number(point.high if point.high is not None else point.value, point.metric)
        value += f" ({lo}-{hi})"
    star = "" if point.like_for_like else " *"
    bound = ">= " if point.at_least else ""
    return f"{point.label}: {bound}{value}{star}{notes.ref(point)}"


def _metric_cell(metric: str) -> str:
    unit = display_unit(metric)
    return f"{unit.description or metric} [{_unit_label(metric)}]"


def _fact_table(
    runs: Sequence[SimulationResult], notes: _Notes, metrics: Sequence[str]
) -> list[str]:
    names = [r.scenario_name for r in runs]
    lines = [
        f"### {BASE_YEAR_FACTS}: model vs facts",
        "",
        (
            "Median (P5-P95) of each scenario in the observed base year, and its gap to the"
            " fact (model median / fact - 1)."
        ),
        "",
        "| metric | fact | source | " + " | ".join(f"`{n}`" for n in names) + " |",
        "|---|---|---|" + "---|" * len(names),
    ]
    for metric in metrics:
        for point in points_for(metric, years=(BASE_YEAR_FACTS,), cumulative=False):
            if point.kind != "fact":
                continue
            cells = []
            for run in runs:
                if metric not in run.metrics or BASE_YEAR_FACTS not in run.years:
                    cells.append("-")
                    continue
                row = _row(run, metric, BASE_YEAR_FACTS, BASE_YEAR_FACTS, point, False)
                cells.append(f"{_interval(row)}, {_gap(row.gap)}")
            lines.append(
                f"| {_metric_cell(metric)} | {_published(point, notes)} | {point.source} | "
                + " | ".join(cells)
                + " |"
            )
    return lines


def _scenario_table(result: SimulationResult, notes: _Notes, metrics: Sequence[str]) -> list[str]:
    shocked = has_shocks(result)
    rows = calibration_rows(result, metrics=metrics)
    lines = [
        f"### `{result.scenario_name}`",
        "",
        f"{result.n_samples:,} samples ({result.method}), seed {result.seed}."
        + (" Impact: median over samples of with / without the shocks." if shocked else ""),
        "",
    ]
    head = "| metric | year | model median (P5-P95) |"
    rule = "|---|---|---|"
    if shocked:
        head += " shock impact (median) |"
        rule += "---|"
    lines += [head + " published | source | gap |", rule + "---|---|---|"]
    previous: tuple[str, str] | None = None
    for row in rows:
        key = (row.metric, row.period)
        first = key != previous  # model cells once per metric and period
        previous = key
        cells = [
            _metric_cell(row.metric) if first else "",
            row.period if first else "",
            _interval(row) if first else "",
        ]
        if shocked:
            cells.append(f"{row.impact_p50:.3f}x" if first and row.impact_p50 is not None else "")
        cells += [
            _published(row.point, notes),
            row.point.source if row.point is not None else "",
            _gap(row.gap),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


CONSTRAINT_YEARS: tuple[int, ...] = (2025, 2026, 2027, 2028, 2029, 2030)
"""Years of the table of where the fleet's constraints bind."""

UNMET_SHARE = 0.05
"""Unmet demand counted as binding above this share of required capacity. [-]"""

IDLE_SHARE = 0.05
"""Idle capacity counted as a glut above this share of the installed fleet. [-]"""


def _share_above(part: Any, whole: Any, threshold: float) -> float:
    """Share of samples in which ``part > threshold * whole``, in [0, 1]."""
    return float(np.mean(part > threshold * whole))


def _constraints_table(runs: Sequence[SimulationResult]) -> list[str]:
    """Per scenario and year: how often demand goes unmet, and how often capacity idles."""
    years = [y for y in CONSTRAINT_YEARS if all(y in r.years for r in runs)]
    lines = [
        "### Where the constraints bind",
        "",
        (
            f"Share of samples (with the shocks) in which demand goes unmet by more than "
            f"{UNMET_SHARE:.0%} of the required capacity (a supply or power cap binds, or "
            "orders placed a year ahead on the trend fall short of a rebound), and in which "
            f"more than {IDLE_SHARE:.0%} of the installed fleet stands idle (orders placed on "
            "the trend meet a cut in demand: a glut)."
        ),
        "",
        "| scenario | quantity | " + " | ".join(str(y) for y in years) + " |",
        "|---|---|" + "---|" * len(years),
    ]
    for run in runs:
        w = run.with_shocks
        k = {y: i for i, y in enumerate(run.years)}
        unmet = [
            _share_above(w["unmet_h100e"][:, k[y]], w["capacity_required"][:, k[y]], UNMET_SHARE)
            for y in years
        ]
        idle = [
            _share_above(w["idle_h100e"][:, k[y]], w["installed_h100e"][:, k[y]], IDLE_SHARE)
            for y in years
        ]
        name = f"`{run.scenario_name}`"
        lines.append(
            f"| {name} | unmet > {UNMET_SHARE:.0%} | "
            + " | ".join(f"{p:.0%}" for p in unmet)
            + " |"
        )
        lines.append(
            f"| {name} | idle > {IDLE_SHARE:.0%} | " + " | ".join(f"{p:.0%}" for p in idle) + " |"
        )
    return lines


def calibration_markdown(
    runs: Sequence[SimulationResult],
    *,
    command: str = "python docs/calibration_table.py",
    versions: Mapping[str, str] | None = None,
    metrics: Sequence[str] = TABLE_METRICS,
) -> str:
    """The generated markdown section: a base-year table and one table per scenario.

    Parameters
    ----------
    runs : sequence of SimulationResult
        One run per scenario, in table order.
    command : str, optional
        The command that regenerates the section, quoted in its header.
    versions : mapping of str to str, optional
        Package versions to state (e.g. ``{"jevons": "0.1.0", "numpy": "2.4.6"}``); default
        the first run's.
    metrics : sequence of str, optional
        Metrics of the tables, in order.

    Returns
    -------
    text : str
        Markdown, without the markers, ending with a newline. Values are in the display units
        of :mod:`simulator.report.units` (stated in each metric's cell); gaps are model median
        / published value - 1; ``*`` marks a published figure that is not like for like, and
        ``[n]`` its caveat in the notes below the tables.
    """
    if not runs:
        msg = "calibration_markdown needs at least one run"
        raise ValueError(msg)
    notes = _Notes()
    shown = versions if versions is not None else runs[0].versions
    version_text = ", ".join(f"{k} {v}" for k, v in shown.items())
    samples = sorted({r.n_samples for r in runs})
    sample_text = " / ".join(f"{n:,}" for n in samples)
    lines = [
        "## Calibration table (generated)",
        "",
        f"Generated by `{command}` from a real run of every shipped scenario "
        f"({sample_text} samples each, the scenario's own seed and sampling method; "
        f"{version_text}). Do not edit by hand: rerun the command. Model values are the "
        "with-shock variant's median and 90% interval (P5-P95); published figures are from "
        "`simulator/report/published.py`, cited by section of docs/sources.md; gap = model median "
        "/ published figure - 1; `>=` marks a lower bound. `*`: the figure measures something else than the metric "
        "(scope or definition, see its note), so its gap is indicative only. Cumulative rows "
        "(e.g. 2025-2030) compare the per-sample sum over those years. Years: "
        + ", ".join(str(y) for y in CALIBRATION_YEARS)
        + " for every metric, and any year between with a published figure.",
        "",
    ]
    lines += _fact_table(runs, notes, metrics)
    lines += ["", *_constraints_table(runs)]
    for run in runs:
        lines += ["", *_scenario_table(run, notes, metrics)]
    if notes.texts:
        lines += ["", "Notes:", ""]
        lines += [f"{i}. {text}" for i, text in enumerate(notes.texts, start=1)]
    return "\n".join(lines) + "\n"


def replace_between_markers(document: str, section: str) -> str:
    """Put ``section`` between the calibration-table markers of ``document``.

    Parameters
    ----------
    document : str
        The whole document; must hold :data:`START_MARKER` and, after it,
        :data:`END_MARKER`, once each, each on a line of its own.
    section : str
        The new content; everything between the markers is replaced.

    Returns
    -------
    text : str
        The document with the new section; text outside the markers is unchanged.

    Raises
    ------
    ValueError
        If a marker is missing, repeated or out of order.
    """
    starts, ends = document.count(START_MARKER), document.count(END_MARKER)
    if starts != 1 or ends != 1:
        msg = f"expected one {START_MARKER} and one {END_MARKER} line; found {starts} and {ends}"
        raise ValueError(msg)
    head, rest = document.split(START_MARKER)
    if END_MARKER not in rest:
        msg = f"{END_MARKER} comes before {START_MARKER}"
        raise ValueError(msg)
    _, tail = rest.split(END_MARKER)
    body = section if section.endswith("\n") else section + "\n"
    return f"{head}{START_MARKER}\n{body}{END_MARKER}{tail}"
