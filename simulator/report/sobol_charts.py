"""Charts of Sobol' indices: which inputs drive a metric's spread, and how that changes by year.

Built like :mod:`simulator.report.charts` (Agg canvas, no ``pyplot``, written atomically at
:data:`simulator.report.charts.DPI`):

- ``sobol_<metric>_<year>.png`` (:func:`indices_chart`): the top inputs by total index
  ``ST``, each with its first-order index ``S1`` and total index as horizontal bars and the
  bootstrap confidence interval as an error bar;
- ``sobol_<metric>_over_time.png`` (:func:`over_time_chart`): for the inputs that matter most
  in any year, ``ST`` by year with its confidence band, because which assumption drives a
  metric changes between the early and the late years.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from simulator.report.charts import _new_figure, _save

if TYPE_CHECKING:
    from simulator.sobol import SobolResult

__all__ = ["TOP_BARS", "TOP_LINES", "indices_chart", "over_time_chart", "write_sobol_charts"]

TOP_BARS = 12
"""Inputs shown in :func:`indices_chart`. [-]"""
TOP_LINES = 6
"""Inputs shown in :func:`over_time_chart`. [-]"""

_S1 = ("tab:blue", "S1 (first order: alone)")
_ST = ("tab:orange", "ST (total: alone and with others)")


def _subtitle(result: SobolResult) -> str:
    return (
        f"{result.scenario_name}: {result.variant}, {result.base_samples:,} base samples "
        f"({result.n_evaluations:,} evaluations), seed {result.seed}; "
        f"intervals: {result.confidence:.0%} bootstrap"
    )


def indices_chart(result: SobolResult, metric: str, year: int, *, top: int = TOP_BARS) -> Figure:
    """Bar chart of ``S1`` and ``ST`` with confidence intervals for the top inputs.

    Parameters
    ----------
    result : SobolResult
        The analysis.
    metric : str
        A metric of ``result``.
    year : int
        A year of ``result``, not skipped. [year]
    top : int, optional
        Inputs shown, by decreasing ``ST``.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If that metric and year were skipped (constant or not finite output).
    """
    order = result.ranked(metric, year)[:top]
    if not order:
        msg = f"{metric} {year} was not analysed: {result.skipped.get((metric, year), '')}"
        raise ValueError(msg)
    i, t = result.metrics.index(metric), result.years.index(year)
    fig, (ax,) = _new_figure(figsize=(9.0, 1.2 + 0.42 * len(order)))
    pos = np.arange(len(order))[::-1].astype(np.float64)  # the largest at the top
    height = 0.38
    for offset, (colour, label), value, conf in (
        (height / 2, _S1, result.S1, result.S1_conf),
        (-height / 2, _ST, result.ST, result.ST_conf),
    ):
        v = value[i, t, order]
        c = conf[i, t, order]
        ax.barh(pos + offset, v, height=height, color=colour, label=label)
        ax.errorbar(v, pos + offset, xerr=c, fmt="none", ecolor="0.2", elinewidth=1, capsize=2)
    ax.set_yticks(pos, [result.inputs[j] for j in order], fontsize=8)
    ax.axvline(0.0, color="0.3", linewidth=0.8)
    ax.set_xlabel("share of the output's variance [-]")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.suptitle(
        f"Sobol' indices of {metric} in {year}: top {len(order)} inputs by ST\n"
        f"{_subtitle(result)}",
        fontsize=10,
    )
    return fig


def _top_over_years(result: SobolResult, i: int, top: int) -> list[int]:
    """Inputs with the largest ``ST`` in any analysed year, largest first."""
    st = result.ST[i]
    with np.errstate(invalid="ignore"):
        peak = np.where(np.isnan(st), -np.inf, st).max(axis=0)
    order = np.argsort(-peak, kind="stable")
    return [int(j) for j in order[:top] if np.isfinite(peak[j])]


def over_time_chart(result: SobolResult, metric: str, *, top: int = TOP_LINES) -> Figure | None:
    """Total index ``ST`` by year of the inputs that matter most for one metric.

    Parameters
    ----------
    result : SobolResult
        The analysis, over several years.
    metric : str
        A metric of ``result``.
    top : int, optional
        Inputs shown: those with the largest ``ST`` in any year.

    Returns
    -------
    matplotlib.figure.Figure or None
        ``None`` when fewer than two years of that metric were analysed.
    """
    i = result.metrics.index(metric)
    kept = [t for t, y in enumerate(result.years) if (metric, y) not in result.skipped]
    if len(kept) < 2:
        return None
    years = np.asarray([result.years[t] for t in kept], dtype=np.float64)
    fig, (ax,) = _new_figure(figsize=(9.0, 5.5))
    for j in _top_over_years(result, i, top):
        st = result.ST[i, kept, j]
        conf = result.ST_conf[i, kept, j]
        (line,) = ax.plot(years, st, marker="o", markersize=3, label=result.inputs[j])
        ax.fill_between(years, st - conf, st + conf, color=line.get_color(), alpha=0.15)
    ax.set_xlabel("year")
    ax.set_ylabel("total index ST [-]")
    ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=7)
    fig.suptitle(
        f"Which inputs drive {metric}, by year (ST, band = {result.confidence:.0%} interval)\n"
        f"{_subtitle(result)}",
        fontsize=10,
    )
    return fig


def write_sobol_charts(
    result: SobolResult, directory: str | Path, /, *, years: Sequence[int] | None = None
) -> list[Path]:
    """Write every chart of an analysis as PNG files.

    Parameters
    ----------
    result : SobolResult
        The analysis.
    directory : str or Path
        Folder to write into; created if missing.
    years : sequence of int, optional
        Years that get a bar chart (default every year of ``result``). [year]

    Returns
    -------
    list of Path
        ``sobol_<metric>_<year>.png`` for each analysed metric and chosen year, then
        ``sobol_<metric>_over_time.png`` for each metric analysed in two years or more.
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    chosen = set(result.years if years is None else years)
    for metric in result.metrics:
        for year in result.years:
            if year not in chosen or (metric, year) in result.skipped:
                continue
            path = folder / f"sobol_{metric}_{year}.png"
            _save(indices_chart(result, metric, year), path)
            written.append(path)
    for metric in result.metrics:
        fig = over_time_chart(result, metric)
        if fig is not None:
            path = folder / f"sobol_{metric}_over_time.png"
            _save(fig, path)
            written.append(path)
    return written
