"""Charts of comparisons and attributions (matplotlib, Agg canvas, never ``pyplot``).

- :func:`overlaid_fans`: each scenario's P5-P95 band and median of a metric, on one axes;
- :func:`difference_fan`: the fan (P5-P95, P25-P75, median) of the paired per-sample
  difference A - B, with the zero line;
- :func:`waterfall`: an attribution, from A's value through each parameter's contribution
  to B's value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from simulator.attribution import Attribution
from simulator.compare import Comparison
from simulator.metrics import IMPACT_AS_DIFFERENCE
from simulator.report._atomic import atomic_write
from simulator.report.units import display_unit
from simulator.summary import quantiles

__all__ = ["difference_fan", "overlaid_fans", "waterfall", "write_comparison_charts"]

_DPI = 120
"""Resolution of written charts. [dots/inch]"""
_PROBS = (0.05, 0.25, 0.5, 0.75, 0.95)


def _safe(name: str) -> str:
    """A file name with only letters, digits and ``._=+-`` (others become ``_``)."""
    return re.sub(r"[^A-Za-z0-9._=+-]", "_", name)


def _axes(figsize: tuple[float, float] = (8.0, 4.5)) -> tuple[Figure, Axes]:
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots()


def _save(fig: Figure, path: Path) -> None:
    def write(fh: BinaryIO) -> None:
        fig.savefig(fh, format="png", dpi=_DPI, metadata={"Software": None})

    try:
        atomic_write(path, write)
    finally:
        fig.clear()


def _scale(comparison: Comparison, metric: str) -> tuple[float, str]:
    """Display scale and unit label: ratios (impact, but for differences) are unscaled."""
    unit = display_unit(metric)
    if comparison.variant == "impact" and metric not in IMPACT_AS_DIFFERENCE:
        return 1.0, "with / without"
    return unit.scale, unit.label


def overlaid_fans(comparison: Comparison, metric: str, *, ax: Axes | None = None) -> Axes:
    """Each scenario's P5-P95 band and median of ``metric``, overlaid.

    Parameters
    ----------
    comparison : Comparison
        The comparison.
    metric : str
        A metric of the comparison (MODEL.md §9).
    ax : Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    Axes
    """
    unit = display_unit(metric)
    if ax is None:
        ax = _axes()[1]
    years = np.asarray(comparison.years)
    scale, label_unit = _scale(comparison, metric)
    for i, label in enumerate(comparison.labels):
        colour = f"C{i % 10}"
        q = quantiles(comparison.values[label][metric], _PROBS) * scale
        ax.fill_between(years, q[0], q[4], color=colour, alpha=0.15, linewidth=0)
        ax.plot(years, q[2], color=colour, linewidth=2, label=f"{label}: median (P5-P95 band)")
    ax.set_title(f"{unit.description or metric} ({comparison.variant})")
    ax.set_xlabel("Year")
    ax.set_ylabel(f"{unit.description or metric} [{label_unit}]")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))
    ax.grid(visible=True, alpha=0.3)
    ax.legend(fontsize="small", loc="upper left")
    return ax


def difference_fan(
    comparison: Comparison, a: str, b: str, metric: str, *, ax: Axes | None = None
) -> Axes:
    """The fan of the paired per-sample difference ``a - b`` of ``metric``.

    Parameters
    ----------
    comparison : Comparison
        The comparison.
    a, b : str
        Labels of the pair.
    metric : str
        A metric of the comparison.
    ax : Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    Axes
    """
    unit = display_unit(metric)
    if ax is None:
        ax = _axes()[1]
    years = np.asarray(comparison.years)
    scale, label_unit = _scale(comparison, metric)
    diff = comparison.difference(a, b, metric)
    finite = np.isfinite(diff).all(axis=1)  # a -inf difference of infinite ratios: left out
    if not finite.any():
        ax.set_title(f"{unit.description or metric}: {a} - {b} is not finite")
        return ax
    q = quantiles(diff[finite] if not finite.all() else diff, _PROBS) * scale
    ax.fill_between(years, q[0], q[4], color="tab:purple", alpha=0.15, linewidth=0, label="P5-P95")
    ax.fill_between(
        years, q[1], q[3], color="tab:purple", alpha=0.30, linewidth=0, label="P25-P75"
    )
    ax.plot(years, q[2], color="tab:purple", linewidth=2, label="median")
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_title(f"{unit.description or metric}: {a} - {b}, paired per sample")
    ax.set_xlabel("Year")
    ax.set_ylabel(f"difference [{label_unit}]")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(visible=True, alpha=0.3)
    ax.legend(fontsize="small", loc="upper left")
    return ax


def waterfall(attribution: Attribution, *, ax: Axes | None = None, top: int = 15) -> Axes:
    """Waterfall of an attribution: A's value, each contribution, B's value.

    Parameters
    ----------
    attribution : Attribution
        The attribution.
    ax : Axes, optional
        Where to draw; default a new figure.
    top : int, optional
        Parameters shown by name (largest absolute contributions); the rest are summed
        into one bar.

    Returns
    -------
    Axes
    """
    unit = display_unit(attribution.metric)
    s = unit.scale if attribution.variant != "impact" else 1.0
    label_unit = unit.label if attribution.variant != "impact" else "ratio"
    records = attribution.to_records()
    shown = records[:top]
    rest = sum(r["contribution"] for r in records[top:])
    names = [r["parameter"] for r in shown]
    steps = [r["contribution"] for r in shown]
    if len(records) > top:
        names.append(f"{len(records) - top} others")
        steps.append(rest)
    if ax is None:
        ax = _axes(figsize=(9.0, 0.45 * (len(names) + 2) + 1.5))[1]
    level = attribution.value_a
    y = 0
    ax.barh(y, level * s, color="tab:gray")
    labels = [f"{attribution.a} ({attribution.statistic})"]
    for name, step in zip(names, steps, strict=True):
        y += 1
        ax.barh(y, step * s, left=level * s, color="tab:green" if step >= 0 else "tab:red")
        level += step
        labels.append(name)
    y += 1
    ax.barh(y, attribution.value_b * s, color="tab:gray")
    labels.append(f"{attribution.b} ({attribution.statistic})")
    ax.set_yticks(range(len(labels)), labels, fontsize="small")
    ax.invert_yaxis()
    how = (
        "exact Shapley values"
        if attribution.method == "exact"
        else f"Shapley values sampled ({attribution.permutations} permutation pairs)"
    )
    ax.set_title(
        f"{unit.description or attribution.metric} {attribution.year}: "
        f"{attribution.a} -> {attribution.b}\n{how}",
        fontsize="medium",
    )
    ax.margins(x=0.05)
    ax.set_xlabel(f"{attribution.statistic} [{label_unit}]")
    ax.grid(visible=True, axis="x", alpha=0.3)
    return ax


def write_comparison_charts(
    comparison: Comparison, directory: Path, metrics: Sequence[str]
) -> list[Path]:
    """Write ``compare_<metric>.png`` and ``difference_<a>_vs_<b>_<metric>.png`` per metric.

    Returns
    -------
    list of Path
        The files written (each atomically).
    """
    written = []
    for metric in metrics:
        if metric not in comparison.metrics:
            continue
        fig, ax = _axes()
        overlaid_fans(comparison, metric, ax=ax)
        path = directory / f"compare_{metric}.png"
        _save(fig, path)
        written.append(path)
        for a, b in comparison.pairs:
            fig, ax = _axes()
            difference_fan(comparison, a, b, metric, ax=ax)
            path = directory / _safe(f"difference_{a}_vs_{b}_{metric}.png")
            _save(fig, path)
            written.append(path)
    return written


def write_waterfall(attribution: Attribution, path: Path) -> Path:
    """Write the waterfall chart of an attribution to ``path`` (atomically)."""
    fig, ax = _axes(figsize=(9.0, 0.45 * (min(len(attribution.players), 16) + 2) + 1.5))
    waterfall(attribution, ax=ax)
    _save(fig, path)
    return path
