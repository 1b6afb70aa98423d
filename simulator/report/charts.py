"""Fan charts of per-sample paths, with and without the shocks (matplotlib, Agg backend).

Figures are built with :class:`matplotlib.figure.Figure` on an Agg canvas, never through
``pyplot``: nothing is shown, no global figure registry holds them, and the caller's own
matplotlib backend is left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from simulator.report._atomic import atomic_write
from simulator.report.units import display_unit
from simulator.result import RunSummary, SimulationResult
from simulator.summary import quantile_name, quantiles

__all__ = ["CHART_METRICS", "fan_chart", "write_charts"]

CHART_METRICS: tuple[str, ...] = ("shipments_units", "hbm_gb", "accelerator_revenue", "power_w")
"""Metrics that get a fan chart of their own in :func:`write_charts`."""

_BAND_PROBS: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)
_STYLES: tuple[tuple[str, str, str, str], ...] = (
    # variant, colour, median line style, legend name
    ("with_shocks", "tab:blue", "-", "with shocks"),
    ("counterfactual", "tab:orange", "--", "without shocks"),
)
_DPI = 120
"""Resolution of written charts. [dots/inch]"""


def _new_figure(
    ncols: int = 1, figsize: tuple[float, float] = (8.0, 4.5)
) -> tuple[Figure, list[Axes]]:
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, ncols, squeeze=False)
    return fig, list(axes[0])


def _bands(result: SimulationResult | RunSummary, variant: str, metric: str) -> np.ndarray:
    """P5, P25, P50, P75, P95 per year: from the samples, or from a run's summary table."""
    if isinstance(result, RunSummary):
        return np.array(
            [
                [result.summary.value(variant, metric, y, quantile_name(p)) for y in result.years]
                for p in _BAND_PROBS
            ]
        )
    return quantiles(np.asarray(result.variant(variant)[metric]), _BAND_PROBS)


def fan_chart(
    result: SimulationResult | RunSummary,
    metric: str,
    *,
    ax: Axes | None = None,
    unit_label: str | None = None,
    scale: float | None = None,
) -> Axes:
    """Plot a metric's P5-P95 and P25-P75 bands and median, with and without the shocks.

    Parameters
    ----------
    result : SimulationResult or RunSummary
        The run: its samples, or its summary's quantiles (a streamed run).
    metric : str
        Metric name (MODEL.md §9).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; default a new figure on an Agg canvas.
    unit_label : str, optional
        Unit shown on the y axis, e.g. ``"GW"``. Default from
        :func:`simulator.report.units.display_unit`; give it together with ``scale``.
    scale : float, optional
        Multiplier from the canonical unit to ``unit_label``. [display unit / canonical]

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes drawn on. The counterfactual (without shocks) is drawn in a second colour
        with a dashed median.

    Raises
    ------
    ValueError
        If the metric is not in the result, or only one of ``unit_label`` and ``scale`` is
        given.
    """
    if metric not in result.metrics:
        msg = f"metric {metric!r} not in the result; available: {', '.join(result.metrics)}"
        raise ValueError(msg)
    if (unit_label is None) != (scale is None):
        msg = "give unit_label and scale together (or neither, for the default unit)"
        raise ValueError(msg)
    unit = display_unit(metric)
    label = unit.label if unit_label is None else unit_label
    factor = unit.scale if scale is None else scale
    if ax is None:
        ax = _new_figure()[1][0]
    years = np.asarray(result.years)
    for variant, colour, style, name in _STYLES:
        q = _bands(result, variant, metric) * factor
        ax.fill_between(
            years, q[0], q[4], color=colour, alpha=0.15, linewidth=0, label=f"{name}: P5-P95"
        )
        ax.fill_between(
            years, q[1], q[3], color=colour, alpha=0.30, linewidth=0, label=f"{name}: P25-P75"
        )
        ax.plot(years, q[2], color=colour, linestyle=style, linewidth=2, label=f"{name}: median")
    ax.set_title(f"{result.scenario_name}: {unit.description or metric}")
    ax.set_xlabel("Year")
    ax.set_ylabel(f"{unit.description or metric} [{label}]")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if ax.get_yscale() == "linear":
        ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))
    ax.grid(visible=True, alpha=0.3)
    ax.legend(fontsize="small", loc="upper left")
    return ax


def _compute_by_kind(result: SimulationResult | RunSummary) -> Figure:
    fig, axes = _new_figure(ncols=2, figsize=(12.0, 4.5))
    for ax, metric in zip(axes, ("compute_training", "compute_inference"), strict=True):
        fan_chart(result, metric, ax=ax)
        ax.set_yscale("log")  # compute grows geometrically: equal ratios, equal steps
        ax.autoscale(axis="y")
    fig.suptitle(f"{result.scenario_name}: compute by kind [FLOP per year, log scale]")
    return fig


def _save(fig: Figure, path: Path) -> None:
    def write(fh: BinaryIO) -> None:
        fig.savefig(fh, format="png", dpi=_DPI, metadata={"Software": None})

    try:
        atomic_write(path, write)
    finally:
        fig.clear()


def write_charts(
    result: SimulationResult | RunSummary,
    directory: str | Path,
    /,
    *,
    metrics: Sequence[str] = CHART_METRICS,
) -> list[Path]:
    """Write PNG fan charts of a run.

    Parameters
    ----------
    result : SimulationResult
        The run.
    directory : str or Path
        Folder to write into; created if missing.
    metrics : sequence of str, optional
        Metrics with a chart of their own, ``<metric>.png``; those not in the result are
        skipped.

    Returns
    -------
    paths : list of Path
        Files written: one per metric, then ``compute_by_kind.png`` (training and inference
        compute side by side) when the result has both.

    Notes
    -----
    Each file is written atomically (temporary name, then rename); figures are released
    after saving.
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for metric in metrics:
        if metric not in result.metrics:
            continue
        ax = fan_chart(result, metric)
        fig: Any = ax.get_figure()
        path = folder / f"{metric}.png"
        _save(fig, path)
        written.append(path)
    if {"compute_training", "compute_inference"} <= set(result.metrics):
        path = folder / "compute_by_kind.png"
        _save(_compute_by_kind(result), path)
        written.append(path)
    return written
