"""Charts of a sensitivity analysis (matplotlib, Agg canvas, never ``pyplot``).

- :func:`tornado`: @RISK's "change in output mean" tornado of one metric in one year: per
  input, a bar from the lowest to the highest mean of the output over the input's ten
  equal-count bins (deciles), drawn around the overall mean, largest swing on top;
- :func:`over_time`: the Spearman coefficient of the top inputs of one metric, year by
  year, with its confidence band, because which assumption matters changes over time.

:func:`write_sensitivity_charts` writes ``tornado_<metric>_<year>.png`` and
``over_time_<metric>.png``, each atomically.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from simulator.metrics import IMPACT_AS_DIFFERENCE
from simulator.report._atomic import atomic_write
from simulator.report.units import display_unit, format_number
from simulator.sensitivity import SensitivityTable, short_labels

__all__ = [
    "DPI",
    "OVER_TIME_TOP",
    "TORNADO_TOP",
    "over_time",
    "over_time_name",
    "tornado",
    "tornado_name",
    "write_sensitivity_charts",
]

DPI = 150
"""Resolution of written charts. [dots/inch]"""
TORNADO_TOP = 10
"""Inputs a tornado shows by default (largest swings)."""
OVER_TIME_TOP = 6
"""Inputs a sensitivity-over-time chart shows by default (largest |Spearman| in any year)."""

_LOW = "tab:blue"
_HIGH = "tab:orange"
_LINE_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")
_STYLES = ("-", "--", "-.", ":")


def _safe(name: str) -> str:
    """A file name with only letters, digits and ``._=+-`` (others become ``_``)."""
    return re.sub(r"[^A-Za-z0-9._=+-]", "_", name)


def tornado_name(metric: str, year: int) -> str:
    """File name of the tornado of ``metric`` in ``year``."""
    return _safe(f"tornado_{metric}_{year}.png")


def over_time_name(metric: str) -> str:
    """File name of the sensitivity-over-time chart of ``metric``."""
    return _safe(f"over_time_{metric}.png")


def _axes(figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots()


def _save(fig: Figure, path: Path) -> None:
    def write(fh: BinaryIO) -> None:
        fig.savefig(fh, format="png", dpi=DPI, metadata={"Software": None})

    try:
        atomic_write(path, write)
    finally:
        fig.clear()


def _scale(metric: str, variant: str) -> tuple[float, str, Any]:
    """Display scale, unit label and number formatter (an impact ratio stays unscaled)."""
    unit = display_unit(metric)
    if variant == "impact" and metric not in IMPACT_AS_DIFFERENCE:
        return 1.0, "with / without", lambda v: f"{v:.3g}x"
    return unit.scale, unit.label, lambda v: format_number(v, unit)


def subtitle(table: SensitivityTable) -> str:
    """One line naming the run the sensitivities come from (scenario, samples, design)."""
    meta = table.meta
    parts = [str(meta.get("scenario", "run")), f"{table.n_samples:,} samples"]
    if meta.get("method"):
        parts[-1] += f" ({meta['method']})"
    if meta.get("seed") is not None:
        parts.append(f"seed {meta['seed']}")
    if meta.get("version"):
        parts.append(f"jevons {meta['version']}")
    return ", ".join(parts[:1]) + ": " + ", ".join(parts[1:])


def tornado(
    table: SensitivityTable,
    metric: str,
    year: int,
    variant: str | None = None,
    *,
    top: int = TORNADO_TOP,
    ax: Axes | None = None,
) -> Axes:
    """Tornado of the change in ``metric``'s mean across each input's deciles, in ``year``.

    Parameters
    ----------
    table : SensitivityTable
        The analysis (:func:`simulator.sensitivity.rank_sensitivity`).
    metric : str
        Metric name.
    year : int
        Calendar year.
    variant : str, optional
        Variant; default: the one in the table.
    top : int, optional
        Inputs shown: those with the largest swings.
    ax : Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    Axes

    Raises
    ------
    ValueError
        If the table has no rows for this metric and year.

    Notes
    -----
    Each bar runs from the lowest to the highest of the output's ten bin means (@RISK's
    "change in output mean"); the part left of the overall mean is coloured by the end of
    the input's range that gives it (blue: the input's low values; orange: its high
    values), and so is the part right of it. The numbers at the ends are those bin means.
    """
    rows = table.select(metric, year, variant)
    if not rows:
        msg = f"no sensitivities of {metric} in {year} in this table"
        raise ValueError(msg)
    shown = sorted(rows, key=lambda r: -r["swing"])[:top]
    labels = short_labels(table.inputs)
    scale, unit_label, fmt = _scale(metric, rows[0]["variant"])
    base = rows[0]["output_mean"]
    if ax is None:
        ax = _axes((9.0, 0.42 * len(shown) + 2.2))[1]
    for i, r in enumerate(shown):
        rising = r["mean_top"] >= r["mean_bottom"]  # high input values raise the mean
        low, high = r["swing_low"], r["swing_high"]
        ax.barh(i, (base - low) * scale, left=low * scale, color=_HIGH if not rising else _LOW)
        ax.barh(i, (high - base) * scale, left=base * scale, color=_LOW if not rising else _HIGH)
        ax.annotate(
            fmt(low),
            (low * scale, i),
            xytext=(-3, 0),
            textcoords="offset points",
            ha="right",
            va="center",
            fontsize="x-small",
        )
        ax.annotate(
            fmt(high),
            (high * scale, i),
            xytext=(3, 0),
            textcoords="offset points",
            ha="left",
            va="center",
            fontsize="x-small",
        )
    ax.set_yticks(
        range(len(shown)),
        [f"{labels[r['input']]}  (rho {r['spearman']:+.2f})" for r in shown],
        fontsize="small",
    )
    ax.set_ylim(len(shown) - 0.5, -0.5)  # largest swing on top
    ax.axvline(base * scale, color="0.2", linewidth=1.0)
    # bars stick to their ends, so margins would not make room for the numbers: set it
    lo = min(r["swing_low"] for r in shown) * scale
    hi = max(r["swing_high"] for r in shown) * scale
    pad = 0.16 * (hi - lo) if hi > lo else 1.0
    ax.set_xlim(lo - pad, hi + pad)
    unit = display_unit(metric)
    what = unit.description or metric
    ax.set_xlabel(f"mean of {what} {year}, {rows[0]['variant']} [{unit_label}]")
    ax.grid(visible=True, axis="x", alpha=0.3)
    ax.legend(
        handles=[
            Patch(color=_LOW, label="input in its low deciles"),
            Patch(color=_HIGH, label="input in its high deciles"),
        ],
        fontsize="small",
        loc="lower right",
    )
    r2 = rows[0]["r2_rank"]
    ax.set_title(
        f"{what} {year}: change in mean across each input's deciles\n"
        f"line: overall mean {fmt(base)}; rho: Spearman; rank regression R² {r2:.2f}\n"
        f"{subtitle(table)}",
        fontsize="medium",
    )
    return ax


def over_time(
    table: SensitivityTable,
    metric: str,
    variant: str | None = None,
    *,
    top: int = OVER_TIME_TOP,
    ax: Axes | None = None,
) -> Axes:
    """The Spearman coefficient of ``metric``'s top inputs, year by year.

    Parameters
    ----------
    table : SensitivityTable
        The analysis, with several years of ``metric``.
    metric : str
        Metric name.
    variant : str, optional
        Variant; default: any in the table.
    top : int, optional
        Inputs shown: those with the largest ``|spearman|`` in any year.
    ax : Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    Axes

    Raises
    ------
    ValueError
        If the table has no rows for ``metric``.
    """
    rows = [
        r
        for r in table.rows
        if r["metric"] == metric and (variant is None or r["variant"] == variant)
    ]
    if not rows:
        msg = f"no sensitivities of {metric} in this table"
        raise ValueError(msg)
    best: dict[str, float] = {}
    for r in rows:
        best[r["input"]] = max(best.get(r["input"], 0.0), abs(r["spearman"]))
    chosen = sorted(best, key=lambda name: -best[name])[:top]
    labels = short_labels(table.inputs)
    if ax is None:
        ax = _axes((9.0, 5.0))[1]
    for i, name in enumerate(chosen):
        mine = sorted((r for r in rows if r["input"] == name), key=lambda r: r["year"])
        years = [r["year"] for r in mine]
        colour = _LINE_COLOURS[i % len(_LINE_COLOURS)]
        ax.fill_between(
            years,
            [r["spearman_ci_low"] for r in mine],
            [r["spearman_ci_high"] for r in mine],
            color=colour,
            alpha=0.15,
            linewidth=0,
        )
        ax.plot(
            years,
            [r["spearman"] for r in mine],
            color=colour,
            linestyle=_STYLES[(i // len(_LINE_COLOURS)) % len(_STYLES)],
            marker="o",
            markersize=3,
            label=labels[name],
        )
    ax.axhline(0.0, color="0.3", linewidth=0.8)
    ax.set_ylim(-1.0, 1.0)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("Year")
    ax.set_ylabel("Spearman rank correlation [-]")
    ax.grid(visible=True, alpha=0.3)
    ax.legend(fontsize="small", loc="best")
    unit = display_unit(metric)
    ax.set_title(
        f"Which assumption matters when: {unit.description or metric} ({rows[0]['variant']})\n"
        f"bands: {100 * table.confidence:.0f}% intervals; {subtitle(table)}",
        fontsize="medium",
    )
    return ax


def write_sensitivity_charts(
    table: SensitivityTable,
    directory: Path,
    *,
    tornadoes: Sequence[tuple[str, int]],
    over_time_metrics: Sequence[str] = (),
    over_time_table: SensitivityTable | None = None,
    top: int = TORNADO_TOP,
) -> list[Path]:
    """Write a tornado per (metric, year) and a sensitivity-over-time chart per metric.

    Parameters
    ----------
    table : SensitivityTable
        The analysis holding the tornadoes' metrics and years.
    directory : Path
        Existing folder to write into.
    tornadoes : sequence of (str, int)
        ``(metric, year)`` of each tornado, ``tornado_<metric>_<year>.png``.
    over_time_metrics : sequence of str, optional
        Metrics with an ``over_time_<metric>.png``.
    over_time_table : SensitivityTable, optional
        The analysis over every year (default ``table``).
    top : int, optional
        Inputs per tornado.

    Returns
    -------
    list of Path
        The files written (each atomically).
    """
    written = []
    for metric, year in tornadoes:
        n_rows = min(len(table.select(metric, year)), top)
        fig, ax = _axes((9.0, 0.42 * n_rows + 2.2))
        tornado(table, metric, year, top=top, ax=ax)
        path = directory / tornado_name(metric, year)
        _save(fig, path)
        written.append(path)
    source = over_time_table if over_time_table is not None else table
    for metric in over_time_metrics:
        fig, ax = _axes((9.0, 5.0))
        over_time(source, metric, ax=ax)
        path = directory / over_time_name(metric)
        _save(fig, path)
        written.append(path)
    return written
