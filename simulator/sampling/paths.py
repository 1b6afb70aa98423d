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
    values: FloatArray, knots: FloatArray, years: FloatArray, *, log: bool
) -> FloatArray:
    """Piecewise-linear interpolation in ``x`` (or ``log x``) per row, flat beyond the knots.

    Parameters
    ----------
    values : numpy.ndarray, shape (B, K)
        Values at the knots, per sample; ``> 0`` when ``log``.
    knots : numpy.ndarray, shape (K,)
        Strictly increasing knot years.
    years : numpy.ndarray, shape (T,)
        Years to evaluate.
    log : bool
        Interpolate ``log(values)`` (geometric) instead of ``values`` (arithmetic).

    Returns
    -------
    numpy.ndarray, shape (B, T)
    """
    n_knots = knots.shape[0]
    if n_knots == 1:
        return np.repeat(values[:, :1], years.shape[0], axis=1)
    yc = np.clip(years, knots[0], knots[-1])
    lo = np.clip(np.searchsorted(knots, yc, side="right") - 1, 0, n_knots - 2)
    w = (yc - knots[lo]) / (knots[lo + 1] - knots[lo])
    left, right = values[:, lo], values[:, lo + 1]
    if log:
        llo, lhi = np.log(left), np.log(right)
        out: FloatArray = np.exp(llo + w * (lhi - llo))
    else:
        out = left + w * (right - left)
    # the knots themselves (and everything beyond the ends) are the draws, exactly
    at_left, at_right = w == 0.0, w == 1.0
    out[:, at_left] = left[:, at_left]
    out[:, at_right] = right[:, at_right]
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
        The path per sample (rows) and year (columns), in the parameter's unit.

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
        values = np.stack([_draw(draws, f"{where}.anchors.{y}") for y in anchor_years], axis=1)
        log = spec.interpolate == "log" and len(anchor_years) > 1
        if log and not bool(np.all(values > 0)):
            msg = f"{where}: log interpolation between anchors needs values > 0"
            raise ValueError(msg)
        return _interpolate(values, knots, yrs, log=log)
    if isinstance(spec, StartEnd):
        start, end = _draw(draws, f"{where}.start"), _draw(draws, f"{where}.end")
        first, last = base_year + 1, end_year
        if last <= first:
            return np.repeat(start[:, None], yrs.shape[0], axis=1)
        if not (bool(np.all(start > 0)) and bool(np.all(end > 0))):
            msg = f"{where}: start and end are interpolated in log space and must be > 0"
            raise ValueError(msg)
        knots = np.asarray([first, last], dtype=np.float64)
        return _interpolate(np.stack([start, end], axis=1), knots, yrs, log=True)
    if isinstance(spec, FromGrowth):
        value, growth = _draw(draws, f"{where}.value"), _draw(draws, f"{where}.growth")
        if not bool(np.all(growth > 0)):
            msg = f"{where}: growth must be > 0"
            raise ValueError(msg)
        steps = np.maximum(yrs - spec.from_, 0.0)
        # Growth beyond what a float holds gives inf here, silently: the engine stops such
        # a run with a message naming the parameter (no RuntimeWarning for the user).
        with np.errstate(over="ignore", invalid="ignore"):
            out: FloatArray = value[:, None] * np.exp(steps[None, :] * np.log(growth)[:, None])
        flat = steps == 0.0
        out[:, flat] = value[:, None]
        return out
    constant = _draw(draws, where)
    return np.repeat(constant[:, None], yrs.shape[0], axis=1)
