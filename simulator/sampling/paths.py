"""Path parameters evaluated per sample and year from their scalar draws (MODEL.md §6).

A path's scalars (anchors, ``start``/``end``, ``value``/``growth``) are drawn once per
sample like any scalar parameter, under dotted names below the path's own name (e.g.
``chips.asp.anchors.2030``); :func:`path_values` turns them into one value per sample per
year. Every form is vectorized over samples: the interpolation weights depend only on the
years, so each year is one fused array expression over the block.

Values at anchor years (and at ``start``/``end``, and in year ``from``) are the draws
themselves, bit for bit, not ``exp(log(x))``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from simulator.schema.paths import Anchors, FromGrowth, StartEnd

__all__ = ["path_values"]

FloatArray = npt.NDArray[np.float64]


def _draw(draws: Mapping[str, npt.ArrayLike], name: str) -> FloatArray:
    try:
        value = draws[name]
    except KeyError:
        msg = f"no draws for {name!r}: draw every scalar of Scenario.scalars() first"
        raise KeyError(msg) from None
    return np.asarray(value, dtype=np.float64).reshape(-1)


def _interpolate(
    values: Sequence[FloatArray], knots: FloatArray, years: FloatArray, *, log: bool
) -> FloatArray:
    """Piecewise-linear interpolation in ``x`` (or ``log x``) per sample, flat beyond the knots.

    Computed year by year into a year-major buffer: a year on a knot (or beyond the ends)
    is a copy of that knot's draws, and only the years strictly between two knots pay for
    the interpolation (and, in log space, one ``exp``); the ``log`` of a knot's draws is
    taken once, and only for knots that bound such a year. The numbers are those of the
    sample-major expression ``exp(l_lo + w (l_hi - l_lo))`` elementwise.

    Parameters
    ----------
    values : sequence of numpy.ndarray, K of shape (B,)
        Values at each knot, per sample; ``> 0`` when ``log``.
    knots : numpy.ndarray, shape (K,)
        Strictly increasing knot years.
    years : numpy.ndarray, shape (T,)
        Years to evaluate.
    log : bool
        Interpolate ``log(values)`` (geometric) instead of ``values`` (arithmetic).

    Returns
    -------
    numpy.ndarray, shape (T, B)
        One contiguous row per year.
    """
    n_knots = knots.shape[0]
    out = np.empty((years.shape[0], values[0].shape[0]))
    if n_knots == 1:
        out[...] = values[0]
        return out
    yc = np.clip(years, knots[0], knots[-1])
    lo = np.clip(np.searchsorted(knots, yc, side="right") - 1, 0, n_knots - 2)
    w = (yc - knots[lo]) / (knots[lo + 1] - knots[lo])
    logs: dict[int, FloatArray] = {}
    spans: dict[int, FloatArray] = {}

    def ends(i: int) -> tuple[FloatArray, FloatArray]:
        # left end and slope of interval i (log of the draws once per knot if ``log``)
        if i not in spans:
            for j in (i, i + 1):
                if j not in logs:
                    logs[j] = np.log(values[j]) if log else values[j]
            spans[i] = logs[i + 1] - logs[i]
        return logs[i], spans[i]

    for t in range(years.shape[0]):
        i, wt = int(lo[t]), float(w[t])
        row = out[t]
        if wt == 0.0:  # the knots themselves (and beyond the ends) are the draws, exactly
            row[...] = values[i]
        elif wt == 1.0:
            row[...] = values[i + 1]
        else:
            left, span = ends(i)
            np.multiply(span, wt, out=row)
            row += left
            if log:
                np.exp(row, out=row)
    return out


def path_values(
    spec: Any,
    draws: Mapping[str, npt.ArrayLike],
    where: str,
    years: Sequence[int],
    base_year: int,
    end_year: int,
) -> FloatArray:
    """Evaluate a path parameter for every sample and year.

    Parameters
    ----------
    spec : simulator.schema.paths.Path
        The path spec: a constant scalar (any distribution), ``Anchors``, ``StartEnd`` or
        ``FromGrowth``.
    draws : mapping of str to numpy.ndarray
        Scalar draws by dotted path, each of shape ``(B,)`` (e.g. from
        :func:`simulator.sampling.draw_block`); must hold the path's scalars.
    where : str
        The path's dotted name, e.g. ``"chips.asp"``; its scalars are
        ``f"{where}.anchors.{year}"``, ``f"{where}.start"``, ``f"{where}.end"``,
        ``f"{where}.value"``, ``f"{where}.growth"``, or ``where`` itself for a constant.
    years : sequence of int
        Calendar years to evaluate. [year]
    base_year, end_year : int
        The scenario's base year ``y0`` and last projection year. [year]

    Returns
    -------
    numpy.ndarray of float64, shape (B, len(years))
        The path per sample (rows) and year (columns), in the parameter's unit; a
        transposed view of a year-major buffer (each year's column is contiguous, which
        is how the model reads it).

    Notes
    -----
    - constant: the draw of ``where`` in every year.
    - ``anchors``: the anchor draws at their years, interpolated linearly in ``log x``
      (``interpolate: log``, the default; a geometric mean half-way) or in ``x``
      (``linear``), flat before the first and after the last anchor. One anchor is flat.
    - ``start``/``end``: ``exp(log s + (log e - log s) (y - y0 - 1) / (y_end - y0 - 1))``
      over the projection years; ``s`` up to ``y0 + 1``, ``e`` from ``y_end`` on (``s``
      throughout if there is one projection year).
    - ``from``/``value``/``growth``: ``value * growth ** (y - from)`` for ``y >= from``
      (computed as ``exp((y - from) log growth)``), ``value`` before ``from``.

    Raises
    ------
    KeyError
        If a scalar of the path is missing from ``draws``.
    ValueError
        If log interpolation meets a value ``<= 0``.
    """
    yrs = np.asarray(years, dtype=np.float64).reshape(-1)
    if isinstance(spec, Anchors):
        anchor_years = sorted(spec.anchors)
        knots = np.asarray(anchor_years, dtype=np.float64)
        values = [_draw(draws, f"{where}.anchors.{y}") for y in anchor_years]
        log = spec.interpolate == "log" and len(anchor_years) > 1
        if log and not all(bool(np.all(v > 0)) for v in values):
            msg = f"{where}: log interpolation between anchors needs values > 0"
            raise ValueError(msg)
        return _interpolate(values, knots, yrs, log=log).T
    if isinstance(spec, StartEnd):
        start, end = _draw(draws, f"{where}.start"), _draw(draws, f"{where}.end")
        first, last = base_year + 1, end_year
        if last <= first:
            return _constant(start, yrs.shape[0])
        if not (bool(np.all(start > 0)) and bool(np.all(end > 0))):
            msg = f"{where}: start and end are interpolated in log space and must be > 0"
            raise ValueError(msg)
        knots = np.asarray([first, last], dtype=np.float64)
        return _interpolate([start, end], knots, yrs, log=True).T
    if isinstance(spec, FromGrowth):
        value, growth = _draw(draws, f"{where}.value"), _draw(draws, f"{where}.growth")
        if not bool(np.all(growth > 0)):
            msg = f"{where}: growth must be > 0"
            raise ValueError(msg)
        steps = np.maximum(yrs - spec.from_, 0.0)
        out = np.empty((yrs.shape[0], value.shape[0]))
        log_growth: FloatArray | None = None
        # Growth beyond what a float holds gives inf here, silently: the engine stops such
        # a run with a message naming the parameter (no RuntimeWarning for the user).
        with np.errstate(over="ignore", invalid="ignore"):
            for t, step in enumerate(steps.tolist()):
                row = out[t]
                if step == 0.0:
                    row[...] = value
                    continue
                if log_growth is None:
                    log_growth = np.log(growth)
                np.multiply(log_growth, step, out=row)
                np.exp(row, out=row)
                row *= value
        return out.T
    return _constant(_draw(draws, where), yrs.shape[0])


def _constant(value: FloatArray, n_years: int) -> FloatArray:
    """``value`` in every year, shape ``(B, n_years)`` over a year-major buffer."""
    out = np.empty((n_years, value.shape[0]))
    out[...] = value
    return out.T
