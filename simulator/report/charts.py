"""Charts of a run: fans of each headline metric with and without the shocks, and of the impact.

Figures are built with :class:`matplotlib.figure.Figure` on an Agg canvas, never through
``pyplot``: nothing is shown, no global figure registry holds them, and the caller's own
matplotlib backend is left alone.

What a strategist sees (:func:`write_charts`):

- ``impact.png``: for the headline metrics, the fan of the shock's impact (with / without, per
  sample): P5-P95 and P25-P75 bands, the median, and a line at 1 (no effect). Written only when
  the shocks change something.
- ``<metric>.png`` for each of :data:`CHART_METRICS`: the metric's fan with the shocks (filled
  bands) and without them (hatched bands, dashed median), on a log axis where the metric grows by
  orders of magnitude (so that the early years are not squashed), with the published reference
  points of :mod:`simulator.report.published` that fall on the metric as markers (filled: like
  for like; hollow: a different scope, see the caveat in ``docs/calibration.md``).
- ``compute_by_kind.png``: training and inference compute side by side.

Every chart carries a subtitle with the scenario, samples, sampling method, seed and package
version, and is written at :data:`DPI`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, cast

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter
from matplotlib.transforms import ScaledTranslation
from numpy.typing import NDArray

from simulator.report._atomic import atomic_write
from simulator.report._forked import default_workers, run_forked
from simulator.report.published import PublishedPoint, points_for
from simulator.report.units import display_unit
from simulator.result import RunSummary, SimulationResult
from simulator.summary import quantile_name, quantiles

__all__ = [
    "CHART_METRICS",
    "DPI",
    "IMPACT_METRICS",
    "fan_chart",
    "impact_chart",
    "subtitle",
    "write_charts",
]

CHART_METRICS: tuple[str, ...] = (
    "shipments_h100e",
    "installed_h100e",
    "hbm_revenue",
    "hbm_gb",
    "accelerator_revenue",
    "datacenter_capex",
    "power_w",
    "energy_j",
    "inference_share",
)
"""Metrics that get a fan chart of their own in :func:`write_charts`."""

IMPACT_METRICS: tuple[str, ...] = (
    "compute_total",
    "shipments_h100e",
    "installed_h100e",
    "hbm_revenue",
    "accelerator_revenue",
    "datacenter_capex",
    "energy_j",
)
"""Headline metrics whose impact (with / without) is drawn in ``impact.png``."""

DPI = 150
"""Resolution of written charts. [dots/inch]"""

_BAND_PROBS: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)
_WITH = ("with_shocks", "tab:blue", "with shocks")
_WITHOUT = ("counterfactual", "tab:orange", "without shocks")
_LOG_RANGE = 10.0
"""A metric whose P95 reaches more than this multiple of its first-year median is drawn on a
log axis (on a linear one its early years would be squashed). [-]"""
_IMPACT_CLIP = (1.0 / 64.0, 64.0)
"""Impact ratios are shown within this range (an impact of ``x/0 = inf`` sits at the top). [-]"""
_IMPACT_LOG_RANGE = 3.0
"""An impact fan spanning more than this ratio (P95 / P5) gets a log axis. [-]"""
_MARKERS = ("o", "s", "D", "^", "v", "P", "X", "<", ">", "*")
_MARKER_COLOUR = "0.15"
_MARKER_STEP = 0.15
"""Horizontal distance between published series that share a year. [year]"""


# ----------------------------------------------------------------------------- helpers


def _new_figure(
    nrows: int = 1, ncols: int = 1, figsize: tuple[float, float] = (8.0, 5.5)
) -> tuple[Figure, list[Axes]]:
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, [ax for row in axes for ax in row]


def subtitle(result: SimulationResult | RunSummary) -> str:
    """One line naming the run: scenario, samples, method, seed and package version.

    Parameters
    ----------
    result : SimulationResult
        The run.

    Returns
    -------
    text : str
        E.g. ``"deepseek: 20,000 samples (lhs), seed 20250127, jevons 0.1.0"``.
    """
    version = result.versions.get("jevons")
    tail = f", jevons {version}" if version else ""
    return (
        f"{result.scenario_name}: {result.n_samples:,} samples ({result.method}), "
        f"seed {result.seed}{tail}"
    )


def _plain_number(value: float, _pos: object = None) -> str:
    """Tick label without e-notation: ``0.5``, ``20``, ``1,000``."""
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:g}"


def _ratio_tick(value: float, _pos: object = None) -> str:
    """Tick label of an impact ratio: two significant digits (``0.19``, ``0.75``, ``1.5``)."""
    return f"{value:.2g}"


def _can_log(*bands: NDArray[np.float64]) -> bool:
    """Whether every value is positive and finite: drawable on a log axis without warnings."""
    values = np.concatenate([b.ravel() for b in bands])
    return bool(values.size) and bool(np.all(np.isfinite(values)) and np.all(values > 0))


def _use_log(low: NDArray[np.float64], high: NDArray[np.float64], threshold: float) -> bool:
    """Whether a band from ``low`` to ``high`` reads better on a log axis (and can be drawn).

    Log only when every value is positive and finite (no "cannot be log-scaled" warnings,
    nothing silently dropped) and the band spans more than ``threshold`` (top over bottom).
    """
    return _can_log(low, high) and bool(high.max() / low.min() > threshold)


def _set_log(ax: Axes) -> None:
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10.0, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(_plain_number))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _quantiles(
    result: SimulationResult | RunSummary, variant: str, metric: str
) -> NDArray[np.float64]:
    """P5, P25, P50, P75, P95 per year: from the samples, or from a run's summary table."""
    if isinstance(result, RunSummary):
        return _from_summary(result, variant, metric, [quantile_name(p) for p in _BAND_PROBS])
    return quantiles(np.asarray(result.variant(variant)[metric]), _BAND_PROBS)


def _from_summary(
    result: RunSummary, variant: str, metric: str, statistics: Sequence[str]
) -> NDArray[np.float64]:
    """Statistics by year from a run's summary table, NaN where one has no row.

    A statistic that is undefined has no row (the mean of an impact ratio with an ``x/0``
    sample, say: :func:`simulator.summary.defined_rows`); it becomes a gap in the chart.
    """
    table = result.summary

    def value(year: int, statistic: str) -> float:
        try:
            return table.value(variant, metric, year, statistic)
        except KeyError:
            return math.nan

    return np.array([[value(y, s) for y in result.years] for s in statistics])


def _fingerprint(
    result: SimulationResult | RunSummary, variant: str, metric: str
) -> NDArray[np.float64]:
    """What two series are compared by: the samples, or a streamed run's statistics."""
    if isinstance(result, RunSummary):
        names = ["mean", "sd", *(quantile_name(p) for p in _BAND_PROBS)]
        return _from_summary(result, variant, metric, names)
    return np.asarray(result.variant(variant)[metric])


def _all_one(result: SimulationResult | RunSummary, metric: str) -> bool:
    """Whether every sample's impact on ``metric`` is exactly 1 (the shocks change nothing)."""
    if isinstance(result, RunSummary):
        moments = _from_summary(result, "impact", metric, ["mean", "sd"])
        return bool(np.all(moments[0] == 1.0) and np.all(moments[1] == 0.0))
    return bool(np.all(np.asarray(result.impact[metric]) == 1.0))


def _draw_fan(
    ax: Axes,
    years: NDArray[np.int64],
    q: NDArray[np.float64],
    colour: str,
    name: str,
    *,
    hatched: bool,
) -> None:
    """Bands P5-P95 and P25-P75 and the median of one variant.

    The with-shock fan is filled; the counterfactual's (``hatched``) is hatched with outlined
    edges, so that both stay readable where they overlap.
    """
    if hatched:
        ax.fill_between(
            years,
            q[0],
            q[4],
            facecolor="none",
            edgecolor=colour,
            hatch="...",
            linewidth=0.0,
            alpha=0.55,
            label=f"{name}: P5-P95",
        )
        ax.fill_between(
            years,
            q[1],
            q[3],
            facecolor="none",
            edgecolor=colour,
            hatch="////",
            linewidth=0.0,
            alpha=0.8,
            label=f"{name}: P25-P75",
        )
        for k in (0, 4):
            ax.plot(years, q[k], color=colour, linestyle=":", linewidth=0.9)
        ax.plot(years, q[2], color=colour, linestyle="--", linewidth=2.0, label=f"{name}: median")
    else:
        ax.fill_between(
            years, q[0], q[4], color=colour, alpha=0.15, linewidth=0, label=f"{name}: P5-P95"
        )
        ax.fill_between(
            years, q[1], q[3], color=colour, alpha=0.32, linewidth=0, label=f"{name}: P25-P75"
        )
        ax.plot(years, q[2], color=colour, linestyle="-", linewidth=2.2, label=f"{name}: median")


def _draw_published(
    ax: Axes, points: Sequence[PublishedPoint], years: Sequence[int], factor: float
) -> tuple[list[Line2D], tuple[float, float]]:
    """Markers (with range bars) for the published points that fall within ``years``.

    Returns one legend handle per series (points sharing a label; filled markers are like
    for like, hollow ones a different scope; a lower bound gets an arrow pointing up) and the horizontal extent of the markers drawn
    (``years`` first and last when none is).
    """
    shown = [p for p in points if not p.cumulative and years[0] <= p.year <= years[-1]]
    labels = list(dict.fromkeys(p.label for p in shown))
    handles: list[Line2D] = []
    extent = (float(years[0]), float(years[-1]))
    # Series at the same year sit side by side, not on top of each other.
    per_year: dict[int, list[str]] = {}
    for p in shown:
        per_year.setdefault(p.year, [])
        if p.label not in per_year[p.year]:
            per_year[p.year].append(p.label)
    for i, label in enumerate(labels):
        marker = _MARKERS[i % len(_MARKERS)]
        series = [p for p in shown if p.label == label]
        hollow = not series[0].like_for_like
        for p in series:
            crowd = per_year[p.year]
            x = p.year + _MARKER_STEP * (crowd.index(label) - (len(crowd) - 1) / 2)
            y = p.value * factor
            extent = (min(extent[0], x), max(extent[1], x))
            if p.low is not None or p.high is not None:
                lo = (p.low if p.low is not None else p.value) * factor
                hi = (p.high if p.high is not None else p.value) * factor
                ax.errorbar(
                    [x],
                    [y],
                    yerr=[[y - lo], [hi - y]],
                    fmt="none",
                    ecolor=_MARKER_COLOUR,
                    elinewidth=1.0,
                    capsize=3,
                    zorder=5,
                )
            if p.at_least:  # a lower bound: an arrow pointing up from the marker
                above = ax.transData + ScaledTranslation(0.0, 22 / 72, ax.figure.dpi_scale_trans)
                ax.annotate(
                    "",
                    xy=(x, y),
                    xycoords=above,
                    xytext=(0, -22),
                    textcoords="offset points",
                    arrowprops={"arrowstyle": "-|>", "color": _MARKER_COLOUR, "linewidth": 1.2},
                    zorder=5,
                )
                # An invisible point above it, so that autoscaling keeps the arrow inside.
                ax.plot([x], [y * 1.4], linestyle="none", marker="none", alpha=0.0)
            ax.plot(
                [x],
                [y],
                linestyle="none",
                marker=marker,
                markersize=7,
                markeredgecolor=_MARKER_COLOUR,
                markerfacecolor="white" if hollow else _MARKER_COLOUR,
                markeredgewidth=1.3,
                zorder=6,
            )
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker=marker,
                markersize=7,
                markeredgecolor=_MARKER_COLOUR,
                markerfacecolor="white" if hollow else _MARKER_COLOUR,
                markeredgewidth=1.3,
                label=f"{label} ({series[0].source})"
                + (" *" if hollow else "")
                + (", lower bound" if all(p.at_least for p in series) else ""),
            )
        )
    return handles, extent


def _legend_handles(ax: Axes) -> tuple[list[Any], list[str]]:
    handles, labels = ax.get_legend_handles_labels()
    return list(handles), list(labels)


def _fan_legend_handles(ax: Axes) -> tuple[list[Any], list[str]]:
    """One legend entry per fan: its bands and median side by side, ``"name: P5-P95, ..."``.

    Entries labelled ``"<name>: <part>"`` are grouped by name, in drawing order; the
    handles become tuples, drawn by :class:`~matplotlib.legend_handler.HandlerTuple`.
    """
    groups: dict[str, tuple[list[Any], list[str]]] = {}
    for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
        name, _, part = str(label).partition(": ")
        entry = groups.setdefault(name, ([], []))
        entry[0].append(handle)
        entry[1].append(part)
    handles = [tuple(h) for h, _ in groups.values()]
    labels = [f"{name}: {', '.join(parts)}" for name, (_, parts) in groups.items()]
    return handles, labels


_TUPLE_HANDLER = {tuple: HandlerTuple(ndivide=None, pad=0.4)}


# ----------------------------------------------------------------------------- fan of levels


def fan_chart(
    result: SimulationResult | RunSummary,
    metric: str,
    *,
    ax: Axes | None = None,
    unit_label: str | None = None,
    scale: float | None = None,
    log: bool | None = None,
    published: bool = True,
) -> Axes:
    """Plot a metric's P5-P95 and P25-P75 bands and median, with and without the shocks.

    Parameters
    ----------
    result : SimulationResult
        The run.
    metric : str
        Metric name (MODEL.md §9).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; default a new figure on an Agg canvas, with the legend below the plot
        and the run's :func:`subtitle`.
    unit_label : str, optional
        Unit shown on the y axis, e.g. ``"GW"``. Default from
        :func:`simulator.report.units.display_unit`; give it together with ``scale``.
    scale : float, optional
        Multiplier from the canonical unit to ``unit_label``. [display unit / canonical]
    log : bool, optional
        Log y axis. Default: log when every band value is positive and the highest P95 is
        more than 10 times the first year's median (the early years would be squashed on a
        linear axis); a log axis is never chosen when some value is 0 (it could not be
        drawn without dropping it).
    published : bool, optional
        Draw the published reference points of the metric
        (:func:`simulator.report.published.points_for`) that fall within the run's years.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes drawn on. Lines, in order: the with-shock median (solid), the
        counterfactual's P5 and P95 (dotted) and median (dashed), then one per published
        point. The with-shock bands are filled, the counterfactual's hatched. Where the
        shocks leave the metric unchanged on every sample, only one fan is drawn, labelled
        "projection".

    Raises
    ------
    ValueError
        If the metric is not in the result, or only one of ``unit_label`` and ``scale`` is
        given, or ``log=True`` for a metric with values that are not positive.
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
    own_figure = ax is None
    if ax is None:
        _fig, axes = _new_figure()
        ax = axes[0]
    years = np.asarray(result.years, dtype=np.int64)
    q_with = _quantiles(result, _WITH[0], metric) * factor
    q_without = _quantiles(result, _WITHOUT[0], metric) * factor
    points = points_for(metric) if published else ()
    if log is None:
        # Early years are squashed on a linear axis when the top of the chart is many times
        # the first year's level.
        top = max(float(q_with[4].max()), float(q_without[4].max()))
        first = min(float(q_with[2][0]), float(q_without[2][0]))
        log = _can_log(q_with, q_without) and top > _LOG_RANGE * first
    elif log and not _can_log(q_with, q_without):
        msg = f"{metric}: cannot use a log axis, some values are 0 or not finite"
        raise ValueError(msg)
    same = np.array_equal(
        _fingerprint(result, "with_shocks", metric),
        _fingerprint(result, "counterfactual", metric),
        equal_nan=True,
    )
    if same:  # no shock, or none that touches this metric: one fan, no empty comparison
        _draw_fan(ax, years, q_with, _WITH[1], "projection", hatched=False)
    else:
        _draw_fan(ax, years, q_with, _WITH[1], _WITH[2], hatched=False)
        _draw_fan(ax, years, q_without, _WITHOUT[1], _WITHOUT[2], hatched=True)
    marker_handles, (x_first, x_last) = _draw_published(ax, points, result.years, factor)
    description = unit.description or metric
    if own_figure:
        ax.set_title(description, loc="left", fontsize=13, fontweight="bold")
        ax.set_title(subtitle(result), loc="right", fontsize=8, color="0.35")
    else:
        ax.set_title(description)
    ax.set_xlabel("Year")
    ax.set_ylabel(f"{description} [{label}" + (", log scale]" if log else "]"))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(x_first - 0.4, x_last + 0.4)
    if log:
        _set_log(ax)
    else:
        ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))
        ax.yaxis.set_major_formatter(FuncFormatter(_plain_number))
        if metric == "inference_share":
            ax.set_ylim(0.0, 100.0)
    ax.grid(visible=True, which="major", alpha=0.3)
    handles, labels = _fan_legend_handles(ax)
    handles += marker_handles
    labels += [str(h.get_label()) for h in marker_handles]
    if own_figure:
        figure: Any = ax.get_figure()
        legend = figure.legend(
            handles,
            labels,
            loc="outside lower center",
            ncols=2,
            fontsize="small",
            frameon=False,
            handler_map=_TUPLE_HANDLER,
            handlelength=4.0,
        )
        shown = [p for p in points if not p.cumulative and p.year in result.years]
        notes = []
        if any(not p.like_for_like for p in shown):
            notes.append("* hollow markers: a different scope or definition")
        if any(p.at_least for p in shown):
            notes.append("arrow: a lower bound")
        if notes:
            legend.set_title(
                "; ".join(notes) + "; caveats in docs/calibration.md", prop={"size": "small"}
            )
    else:
        ax.legend(
            handles,
            labels,
            fontsize="small",
            loc="upper left",
            handler_map=_TUPLE_HANDLER,
            handlelength=4.0,
        )
    return ax


# ----------------------------------------------------------------------------- impact


def _impact_groups(result: SimulationResult | RunSummary, names: Sequence[str]) -> list[list[str]]:
    """Metrics grouped by identical impact arrays (e.g. shipments, HBM and revenue move as one)."""
    groups: list[list[str]] = []
    for metric in names:
        values = _fingerprint(result, "impact", metric)
        for group in groups:
            first = _fingerprint(result, "impact", group[0])
            if first.shape == values.shape and np.allclose(
                first, values, rtol=1e-9, atol=0.0, equal_nan=True
            ):
                group.append(metric)
                break
        else:
            groups.append([metric])
    return groups


def _label_extremes(ax: Axes, years: NDArray[np.int64], median: NDArray[np.float64]) -> None:
    """Label the median impact at its lowest point below 1, its highest above 1 and the end.

    An extreme within two years of the end is not labelled: the end's label stands for it.
    """
    picks: dict[int, bool] = {}  # index -> label below the line
    low, high = int(np.argmin(median)), int(np.argmax(median))
    last = len(median) - 1
    # An extreme within two years of the end is left to the end's label (no overlap).
    if median[low] < 1.0 and low < last - 2:
        picks[low] = True
    if median[high] > 1.0 and high < last - 2:
        picks[high] = False
    picks[last] = bool(median[last] < 1.0)
    for k, below in picks.items():
        ax.annotate(
            f"{median[k]:.2f}x",
            (float(years[k]), float(median[k])),
            textcoords="offset points",
            xytext=(0, -13 if below else 7),
            ha="center",
            fontsize=8,
            fontweight="bold",
        )


def impact_chart(
    result: SimulationResult | RunSummary, metrics: Sequence[str] = IMPACT_METRICS
) -> Figure | None:
    """Small multiples of the shock's impact (with / without) on the headline metrics.

    Parameters
    ----------
    result : SimulationResult
        The run.
    metrics : sequence of str, optional
        Metrics to draw; those not in the result are skipped. Metrics whose impact is the
        same on every sample, to rounding (shipments, HBM and revenue when the chip mix does not depend
        on the shock) share one panel, titled with all their names.

    Returns
    -------
    fig : Figure or None
        One panel per group: P5-P95 and P25-P75 bands of the per-sample impact, its median
        (labelled at its extremes and in the last year) and a line at 1 (no
        effect); None when no metric is drawn or the shocks change none of them (every impact
        exactly 1).

    Notes
    -----
    An impact of ``x/0 = inf`` (MODEL.md §7) is shown at the top of the range
    ``[1/64, 64]``; a panel whose fan spans more than a factor 3 gets a log axis.
    """
    names = [m for m in metrics if m in result.metrics]
    if not names or all(_all_one(result, m) for m in names):
        return None
    groups = _impact_groups(result, names)
    ncols = 3 if len(groups) > 4 else min(len(groups), 2)
    nrows = -(-len(groups) // ncols)
    fig, axes = _new_figure(nrows, ncols, figsize=(5.0 * ncols, 3.4 * nrows + 1.3))
    years = np.asarray(result.years, dtype=np.int64)
    colour = "tab:purple"
    for ax, group in zip(axes, groups, strict=False):
        q = np.clip(_quantiles(result, "impact", group[0]), *_IMPACT_CLIP)
        ax.fill_between(years, q[0], q[4], color=colour, alpha=0.18, linewidth=0, label="P5-P95")
        ax.fill_between(years, q[1], q[3], color=colour, alpha=0.38, linewidth=0, label="P25-P75")
        ax.plot(years, q[2], color=colour, linewidth=2.2, label="median")
        ax.axhline(1.0, color="black", linewidth=1.0, label="no effect (1)")
        if _use_log(q[0], q[4], _IMPACT_LOG_RANGE):
            ax.set_yscale("log", base=2)
            ax.yaxis.set_major_locator(LogLocator(base=2.0, subs=(1.0, 1.5)))
            ax.yaxis.set_major_formatter(FuncFormatter(_ratio_tick))
            ax.yaxis.set_minor_formatter(NullFormatter())
        lo, hi = ax.get_ylim()
        ax.set_ylim(min(lo, 0.95), max(hi, 1.05))  # keep the line at 1 clear of the frame
        _label_extremes(ax, years, q[2])
        title = ", ".join(display_unit(m).description or m for m in group)
        ax.set_title(title, fontsize=10, wrap=True)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
        ax.set_xlim(years[0] - 0.3, years[-1] + 0.6)
        ax.grid(visible=True, which="major", alpha=0.3)
    for ax in axes[len(groups) :]:
        ax.set_visible(False)
    for ax in axes[::ncols]:
        if ax.get_visible():
            ax.set_ylabel("with / without [x]")
    fig.suptitle(
        f"Impact of the shocks (with / without, per sample)\n{subtitle(result)}", fontsize=11
    )
    handles, labels = _legend_handles(axes[0])
    fig.legend(
        handles, labels, loc="outside lower center", ncols=4, fontsize="small", frameon=False
    )
    return fig


# ----------------------------------------------------------------------------- compute


_BALANCE = (
    ("idle_h100e", "Idle: installed capacity beyond what demand needs"),
    ("unmet_h100e", "Unmet: required capacity beyond what is installed"),
)


def fleet_balance_chart(result: SimulationResult | RunSummary) -> Figure | None:
    """Gluts and shortages: fans of idle capacity and unmet demand, with and without shocks.

    Parameters
    ----------
    result : SimulationResult
        The run.

    Returns
    -------
    figure : Figure or None
        Two panels, ``idle_h100e`` and ``unmet_h100e`` [M H100e] by year (MODEL.md §4,
        version 2: orders placed a year ahead on the trend stand idle after a cut in
        demand; caps, or orders that fall short of a rebound, leave demand unmet); the
        with-shock fan filled, the counterfactual's hatched, one fan where they coincide.
        None when both are 0 on every sample and year.
    """
    if not {name for name, _ in _BALANCE} <= set(result.metrics):
        return None
    years = np.asarray(result.years, dtype=np.int64)
    bands = {
        (variant, metric): _quantiles(result, variant, metric) * 1e-6
        for metric, _ in _BALANCE
        for variant in ("with_shocks", "counterfactual")
    }
    if not any(np.any(q > 0) for q in bands.values()):
        return None
    fig, axes = _new_figure(ncols=2, figsize=(12.0, 5.5))
    for ax, (metric, title) in zip(axes, _BALANCE, strict=True):
        with_q, without_q = bands["with_shocks", metric], bands["counterfactual", metric]
        if np.array_equal(with_q, without_q):
            _draw_fan(ax, years, with_q, _WITH[1], "projection", hatched=False)
        else:
            _draw_fan(ax, years, with_q, _WITH[1], _WITH[2], hatched=False)
            _draw_fan(ax, years, without_q, _WITHOUT[1], _WITHOUT[2], hatched=True)
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("M H100e")
        ax.set_xlabel("Year")
        ax.grid(alpha=0.3)
        ax.yaxis.set_major_formatter(FuncFormatter(_plain_number))
    handles, labels = _fan_legend_handles(axes[0])
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncols=2,
        fontsize="small",
        frameon=False,
        handler_map=_TUPLE_HANDLER,
        handlelength=4.0,
    )
    fig.suptitle(
        f"Fleet balance: gluts and shortages [M H100e per year]\n{subtitle(result)}",
        fontsize=11,
    )
    return fig


def _compute_by_kind(result: SimulationResult | RunSummary) -> Figure:
    fig, axes = _new_figure(ncols=2, figsize=(12.0, 5.5))
    for ax, metric in zip(axes, ("compute_training", "compute_inference"), strict=True):
        fan_chart(result, metric, ax=ax, published=False)
        legend = ax.get_legend()
        if legend is not None:
            legend.remove()
    handles, labels = _fan_legend_handles(axes[0])
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncols=2,
        fontsize="small",
        frameon=False,
        handler_map=_TUPLE_HANDLER,
        handlelength=4.0,
    )
    fig.suptitle(f"Compute by kind [1e27 FLOP per year]\n{subtitle(result)}", fontsize=11)
    return fig


# ----------------------------------------------------------------------------- files


def _save(fig: Figure, path: Path) -> None:
    """Write ``fig`` as a PNG at :data:`DPI`, atomically, and release it.

    The constrained layout is computed once here, at the resolution written, and then
    switched off: ``savefig`` would otherwise draw the whole figure once without rendering
    just to lay it out, then again to render it. The file is byte for byte the same.
    """
    engine = fig.get_layout_engine()
    if engine is not None:
        fig.dpi = DPI
        engine.execute(fig)
        fig.set_layout_engine(None)

    def write(fh: BinaryIO) -> None:
        fig.savefig(fh, format="png", dpi=DPI, metadata={"Software": None})

    try:
        atomic_write(path, write)
    finally:
        fig.clear()


def _fan_figure(result: SimulationResult | RunSummary, metric: str) -> Figure:
    figure: Any = fan_chart(result, metric).get_figure()
    return cast("Figure", figure)


def _chart_jobs(
    result: SimulationResult | RunSummary, metrics: Sequence[str]
) -> list[tuple[str, Callable[[], Figure | None]]]:
    """File names and figure builders of the charts of a run, in the order written."""
    jobs: list[tuple[str, Callable[[], Figure | None]]] = [
        ("impact.png", partial(impact_chart, result)),
        ("fleet_balance.png", partial(fleet_balance_chart, result)),
    ]
    jobs += [(f"{m}.png", partial(_fan_figure, result, m)) for m in metrics if m in result.metrics]
    if {"compute_training", "compute_inference"} <= set(result.metrics):
        jobs.append(("compute_by_kind.png", partial(_compute_by_kind, result)))
    return jobs


def _write_chart(build: Callable[[], Figure | None], path: Path) -> bool:
    """Build one chart and write it; False when there is nothing to draw."""
    fig = build()
    if fig is None:
        return False
    _save(fig, path)
    return True


def write_charts(
    result: SimulationResult | RunSummary,
    directory: str | Path,
    /,
    *,
    metrics: Sequence[str] = CHART_METRICS,
    workers: int | None = None,
    alongside: Callable[[], None] | None = None,
) -> list[Path]:
    """Write PNG charts of a run.

    Parameters
    ----------
    result : SimulationResult
        The run.
    directory : str or Path
        Folder to write into; created if missing.
    metrics : sequence of str, optional
        Metrics with a fan chart of their own, ``<metric>.png``; those not in the result are
        skipped.
    workers : int, optional
        Processes drawing charts, this one included (forked children: the charts are
        independent and drawing one is CPU-bound): at most this many, and at most
        ``min(cores, charts)``; one inside a :mod:`multiprocessing` worker (``jevons
        batch``), beside a Dask client, or without ``os.fork``.
    alongside : callable, optional
        Other work for this process to do while the children draw (the summary files),
        before it draws charts of its own; with one worker, done first.

    Returns
    -------
    paths : list of Path
        Files written: ``impact.png`` (when the shocks change a headline metric),
        ``fleet_balance.png`` (when any capacity stands idle or demand goes unmet), one per
        metric, then ``compute_by_kind.png`` (training and inference compute side by side)
        when the result has both.

    Raises
    ------
    BaseException
        Whatever drawing or writing a chart raised (the first in the order above, with a
        child's traceback as a note), or :class:`ChildProcessError` if a drawing process
        died; every process has stopped by then and no chart is half-written.

    Notes
    -----
    Each file is written atomically (temporary name, then rename) at :data:`DPI`; figures
    are released after saving. The files are the same, byte for byte, whatever the number
    of workers (:mod:`simulator.report._forked`).
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    jobs = _chart_jobs(result, metrics)
    tasks = [partial(_write_chart, build, folder / name) for name, build in jobs]
    n = default_workers(len(tasks))  # 1 where forking is unsafe or useless
    if workers is not None:  # at most the run's --workers
        n = min(n, max(1, workers))
    done = run_forked(tasks, n, first=alongside)
    return [folder / name for (name, _), ok in zip(jobs, done, strict=True) if ok]
