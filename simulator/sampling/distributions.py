"""Inverse cumulative distribution functions of the scalar-parameter kinds (MODEL.md §6).

Every distribution is sampled by inverse CDF from uniforms strictly inside ``(0, 1)``, so
any sampling design (random, Latin hypercube, Sobol') and Iman-Conover reordering apply to
every kind. :func:`ppf` dispatches on the spec class (:mod:`simulator.schema.distributions`); one
small function per kind. Adding a kind means one schema class and one function here.

All functions are vectorized over ``u`` and return float64 arrays of ``u``'s shape, in the
unit of the parameter. Each is a non-decreasing function of ``u``, which is what makes rank
correlations survive the transform.

References
----------
.. [1] P. Virtanen et al., "SciPy 1.0: fundamental algorithms for scientific computing in
   Python", Nature Methods 17, 261-272, 2020 (``scipy.special.ndtri``, ``betaincinv``,
   ``scipy.stats.truncnorm``).
.. [2] D. G. Malcolm, J. H. Roseboom, C. E. Clark, W. Fazar, "Application of a technique
   for research and development program evaluation", Operations Research 7(5), 1959 (PERT).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from scipy import special, stats

from simulator.schema.distributions import (
    Beta,
    Choice,
    Fixed,
    LogNormal,
    LogUniform,
    Normal,
    Pert,
    Triangular,
    TruncNormal,
    Uniform,
)

__all__ = ["beta_quantile", "ppf"]

FloatArray = npt.NDArray[np.float64]


@functools.singledispatch
def ppf(dist: Any, u: npt.ArrayLike) -> FloatArray:
    """Quantile function (inverse CDF) of a scalar-parameter distribution.

    Parameters
    ----------
    dist : simulator.schema.distributions.Distribution
        The distribution spec (``Fixed``, ``Uniform``, ``LogUniform``, ``Normal``,
        ``TruncNormal``, ``LogNormal``, ``Triangular``, ``Pert``, ``Beta`` or ``Choice``).
    u : array_like of float
        Probabilities strictly inside ``(0, 1)``. [-]

    Returns
    -------
    numpy.ndarray of float64
        Quantiles, same shape as ``u``, in the unit of the parameter.

    Raises
    ------
    TypeError
        If ``dist`` is not a known distribution spec.

    Examples
    --------
    >>> from simulator.schema.distributions import Uniform
    >>> ppf(Uniform(kind="uniform", low=2.0, high=4.0), [0.25, 0.5]).tolist()
    [2.5, 3.0]
    """
    msg = f"no inverse CDF for {type(dist).__name__!r}; expected a distribution spec"
    raise TypeError(msg)


def _u(u: npt.ArrayLike) -> FloatArray:
    return np.asarray(u, dtype=np.float64)


def _within(x: FloatArray, low: float, high: float) -> FloatArray:
    """Clip into the support ``[low, high]`` against rounding at the ends (in place)."""
    out: FloatArray = np.clip(x, low, high, out=x)
    return out


def _rescale(x: FloatArray, low: float, high: float) -> FloatArray:
    """``low + (high - low) x`` clipped into ``[low, high]``, in place in ``x``."""
    x *= high - low
    x += low
    return _within(x, low, high)


@ppf.register(Fixed)
def _fixed(dist: Fixed, u: npt.ArrayLike) -> FloatArray:
    """Every quantile is ``value``."""
    return np.full(np.shape(u), dist.value, dtype=np.float64)


@ppf.register(Uniform)
def _uniform(dist: Uniform, u: npt.ArrayLike) -> FloatArray:
    """``low + (high - low) u``."""
    return _within(dist.low + (dist.high - dist.low) * _u(u), dist.low, dist.high)


@ppf.register(LogUniform)
def _loguniform(dist: LogUniform, u: npt.ArrayLike) -> FloatArray:
    """``exp(log low + (log high - log low) u)``: uniform in log space."""
    lo, hi = np.log(dist.low), np.log(dist.high)
    return _within(np.exp(lo + (hi - lo) * _u(u)), dist.low, dist.high)


@ppf.register(Normal)
def _normal(dist: Normal, u: npt.ArrayLike) -> FloatArray:
    """``mean + sd * ndtri(u)``."""
    z: FloatArray = special.ndtri(_u(u))
    return dist.mean + dist.sd * z


@ppf.register(TruncNormal)
def _truncnormal(dist: TruncNormal, u: npt.ArrayLike) -> FloatArray:
    """Truncated normal by ``scipy.stats.truncnorm.ppf`` on standardized bounds.

    SciPy's implementation works in log space in the tails, so bounds far from the mean
    (up to the 30 sd the schema allows) keep full precision. The result is clipped into
    ``[low, high]`` against rounding at the bounds.
    """
    a = (dist.low - dist.mean) / dist.sd
    b = (dist.high - dist.mean) / dist.sd
    z = np.asarray(stats.truncnorm.ppf(_u(u), a, b), dtype=np.float64)
    out: FloatArray = np.clip(dist.mean + dist.sd * z, dist.low, dist.high)
    return out


@ppf.register(LogNormal)
def _lognormal(dist: LogNormal, u: npt.ArrayLike) -> FloatArray:
    """``exp(mu + s * ndtri(u))`` with ``mu``, ``s`` the mean and sd of ``log X``."""
    out: FloatArray = np.asarray(special.ndtri(_u(u)), dtype=np.float64)
    # in place: the same three operations as exp(mu + s z), without two temporaries
    out *= dist.s
    out += dist.mu
    return np.exp(out, out=out)


def _lognormal_in_place(dist: LogNormal, u: FloatArray) -> FloatArray:
    """:func:`_lognormal` of a float64 array ``u`` of this module's own, written over it."""
    out: FloatArray = special.ndtri(u, out=u)
    # in place: the same three operations as exp(mu + s z), without two temporaries
    out *= dist.s
    out += dist.mu
    return np.exp(out, out=out)


@ppf.register(Triangular)
def _triangular(dist: Triangular, u: npt.ArrayLike) -> FloatArray:
    """Closed form, with ``c = (mode - low) / (high - low)`` the CDF at the mode.

    ``low + sqrt(u (high - low)(mode - low))`` for ``u < c``, else
    ``high - sqrt((1 - u)(high - low)(high - mode))``.
    """
    uu = _u(u)
    lo, mode, hi = dist.low, dist.mode, dist.high
    width = hi - lo
    c = (mode - lo) / width
    below = lo + np.sqrt(uu * width * (mode - lo))
    above = hi - np.sqrt((1.0 - uu) * width * (hi - mode))
    return _within(np.where(uu < c, below, above), lo, hi)


@ppf.register(Pert)
def _pert(dist: Pert, u: npt.ArrayLike) -> FloatArray:
    """Beta(``alpha``, ``beta``) quantile (:func:`beta_quantile`) rescaled to ``[low, high]``."""
    x = beta_quantile(dist.alpha, dist.beta, _u(u))
    return _rescale(x, dist.low, dist.high)


@ppf.register(Beta)
def _beta(dist: Beta, u: npt.ArrayLike) -> FloatArray:
    """Beta(``alpha``, ``beta``) quantile (:func:`beta_quantile`) rescaled to ``[low, high]``."""
    x = beta_quantile(dist.alpha, dist.beta, _u(u))
    return _rescale(x, dist.low, dist.high)


_T = TypeVar("_T")
_TABLES_KEPT = 128
"""Beta quantile tables kept per kind (the oldest is dropped beyond). [-]"""


def _built_once(build: Callable[[float, float], _T]) -> Callable[[float, float], _T]:
    """Cache a table of shapes ``(a, b)``, built once even when threads ask for it at once.

    ``functools.lru_cache`` lets two threads that miss the same key both build it: the
    engine's workers start together, so every table (about 10 ms of ``betaincinv`` each)
    would be built once per worker. Here the second waits for the first's table.
    """
    cache: dict[tuple[float, float], _T] = {}
    building: dict[tuple[float, float], threading.Lock] = {}
    guard = threading.Lock()

    @functools.wraps(build)
    def cached(a: float, b: float) -> _T:
        key = (a, b)
        found = cache.get(key)
        if found is not None:
            return found
        with guard:
            lock = building.setdefault(key, threading.Lock())
        with lock:
            found = cache.get(key)
            if found is not None:
                return found
            value = build(a, b)
            with guard:
                if len(cache) >= _TABLES_KEPT:
                    cache.pop(next(iter(cache)))
                cache[key] = value
                building.pop(key, None)
        return value

    return cached


_LOGU_MIN = -40.0
"""Smallest ``log u`` the beta quantile table covers; below it, exact inversion. [-]"""
_LOGU_MAX = float(np.log(0.5))
_KNOTS = 1024
_STEP_TOL = 1e-6
"""Largest Newton step in ``log x`` accepted from the table guess; larger ones are redone
with ``scipy.special.betaincinv``. [-]"""


_MIRROR_MIN = 1e-3
"""Below this, an upper-half quantile ``1 - y`` has lost over 3 digits and is redone. [-]"""


@_built_once
def _beta_table(a: float, b: float) -> tuple[FloatArray, FloatArray, float]:
    """Knots of ``log x`` against ``log u`` for the lower half of Beta(a, b), with slopes."""
    logu = np.linspace(_LOGU_MIN, _LOGU_MAX, _KNOTS)
    x = np.asarray(special.betaincinv(a, b, np.exp(logu)), dtype=np.float64)
    # knots where x underflows give non-finite guesses, which _beta_lower redoes exactly
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        t = np.log(x)
        # d log x / d log u = u / (pdf(x) x); at a knot I(x) = u exactly
        slope = np.exp(logu - _beta_logpdf(a, b, t, x) - t)
    return t, slope, float(logu[1] - logu[0])


def _beta_logpdf(a: float, b: float, t: FloatArray, x: FloatArray) -> FloatArray:
    out: FloatArray = (a - 1.0) * t + (b - 1.0) * np.log1p(-x) - special.betaln(a, b)
    return out


_QUINTIC_KNOTS = 2048
_QUINTIC_TOL = 1e-13
"""Largest error in ``log x`` (so relative error in ``x``) of a quintic-table interval,
checked against ``betaincinv`` at three points inside each interval when the table is built;
values in intervals that miss it take the Newton path. [-]"""


_KNOT_LOGU = np.linspace(_LOGU_MIN, _LOGU_MAX, _QUINTIC_KNOTS)
_KNOT_LOGU.flags.writeable = False
_QUINTIC_H = float(_KNOT_LOGU[1] - _KNOT_LOGU[0])


@_built_once
def _beta_quintic_table(a: float, b: float) -> tuple[FloatArray, npt.NDArray[np.bool_], float]:
    """Quintic Hermite table of ``log x`` against ``log u`` (lower half of Beta(a, b)).

    Built from the values ``t`` and exact first and second derivatives ``d t / d log u``
    at the knots; returns each interval's polynomial in power form (shape ``(6, K - 1)``,
    constant term first, in the fraction ``s`` of the interval), whether the interval meets
    :data:`_QUINTIC_TOL`, and the knot spacing. Every interval's entries are
    :func:`_quintic_intervals`'s (which :class:`_PairTable` fills on demand).
    """
    coef, ok = _quintic_intervals(a, b, 0, _QUINTIC_KNOTS - 1)
    return coef, ok, _QUINTIC_H


def _quintic_intervals(
    a: float, b: float, lo: int, hi: int
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Power-form coefficients and accuracy flags of intervals ``lo .. hi - 1`` of the table.

    Every entry is a function of its interval alone (elementwise operations on the knots
    ``lo .. hi`` and on the interval's three check points), so a part of the table is the
    same part of the whole table, bit for bit.
    """
    logu = _KNOT_LOGU[lo : hi + 1]
    h = _QUINTIC_H
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        x = np.asarray(special.betaincinv(a, b, np.exp(logu)), dtype=np.float64)
        t = np.log(x)
        # t' = u / (x pdf(x)); t'' = t' (1 - t' (x d log pdf / dx + 1))
        d1 = np.exp(logu - _beta_logpdf(a, b, t, x) - t)
        d2 = d1 * (1.0 - d1 * (a - (b - 1.0) * x / (1.0 - x)))
        checks = np.array([0.25, 0.5, 0.75])
        at = logu[:-1, np.newaxis] + h * checks[np.newaxis, :]
        exact = np.log(np.asarray(special.betaincinv(a, b, np.exp(at)), dtype=np.float64))
        index = np.broadcast_to(np.arange(hi - lo)[:, np.newaxis], at.shape)
        frac = np.broadcast_to(checks[np.newaxis, :], at.shape)
        guess = _quintic(t, d1, d2, h, index, frac)
        error = np.abs(guess - exact)
    ok = np.all(error <= _QUINTIC_TOL, axis=1) & np.isfinite(t[:-1]) & np.isfinite(t[1:])
    ok &= np.isfinite(d1[:-1]) & np.isfinite(d1[1:]) & np.isfinite(d2[:-1]) & np.isfinite(d2[1:])
    # Power-basis coefficients per interval, for Horner's rule (the same polynomial).
    p0, p1, m0, m1 = t[:-1], t[1:], h * d1[:-1], h * d1[1:]
    c0, c1 = h * h * d2[:-1], h * h * d2[1:]
    with np.errstate(invalid="ignore", over="ignore"):
        coef = np.stack(
            [
                p0,
                m0,
                0.5 * c0,
                -10.0 * p0 - 6.0 * m0 - 1.5 * c0 + 0.5 * c1 - 4.0 * m1 + 10.0 * p1,
                15.0 * p0 + 8.0 * m0 + 1.5 * c0 - c1 + 7.0 * m1 - 15.0 * p1,
                -6.0 * p0 - 3.0 * m0 - 0.5 * c0 + 0.5 * c1 - 3.0 * m1 + 6.0 * p1,
            ]
        )
    coef[:, ~ok] = 0.0
    return coef, ok


def _quintic(
    t: FloatArray, d1: FloatArray, d2: FloatArray, h: float, i: npt.NDArray[Any], s: FloatArray
) -> FloatArray:
    """Quintic Hermite interpolation on interval ``i`` at fraction ``s`` in ``[0, 1]``."""
    s2 = s * s
    s3 = s2 * s
    s4 = s3 * s
    s5 = s4 * s
    h2 = h * h
    out: FloatArray = (
        (1.0 - 10.0 * s3 + 15.0 * s4 - 6.0 * s5) * t[i]
        + (s - 6.0 * s3 + 8.0 * s4 - 3.0 * s5) * (h * d1[i])
        + (0.5 * (s2 - 3.0 * s3 + 3.0 * s4 - s5)) * (h2 * d2[i])
        + (0.5 * s3 - s4 + 0.5 * s5) * (h2 * d2[i + 1])
        + (-4.0 * s3 + 7.0 * s4 - 3.0 * s5) * (h * d1[i + 1])
        + (10.0 * s3 - 15.0 * s4 + 6.0 * s5) * t[i + 1]
    )
    return out


def _beta_lower(a: float, b: float, u: FloatArray) -> FloatArray:
    """Quantile of Beta(a, b) for ``u <= 0.5``: quintic table where it is verified accurate.

    Values in intervals of the table that missed :data:`_QUINTIC_TOL` when it was built (or
    below ``e**-40``), and every value of a shape below 1 (a density singular at 0 or 1,
    never a PERT's), take :func:`_beta_lower_newton`.
    """
    if a < 1.0 or b < 1.0:  # a singular density: its tail is too sharp for the table
        return _beta_lower_newton(a, b, u)
    logu = np.log(u)
    coef, ok, h = _beta_quintic_table(a, b)
    pos = (np.clip(logu, _LOGU_MIN, _LOGU_MAX) - _LOGU_MIN) / h
    i = np.minimum(pos.astype(np.intp), _QUINTIC_KNOTS - 2)
    s = pos - i
    out: FloatArray = np.take(coef[5], i)
    for k in (4, 3, 2, 1, 0):  # Horner
        out *= s
        out += np.take(coef[k], i)
    with np.errstate(over="ignore", under="ignore"):
        np.exp(out, out=out)
    redo = ~ok[i] | (logu < _LOGU_MIN)
    if redo.any():
        out[redo] = _beta_lower_newton(a, b, u[redo])
    return out


def _beta_lower_newton(a: float, b: float, u: FloatArray) -> FloatArray:
    """Quantile of Beta(a, b) for ``u <= 0.5``: table guess, then one Newton step in logs."""
    logu = np.log(u)
    t_knots, slope, h = _beta_table(a, b)
    pos = (np.clip(logu, _LOGU_MIN, _LOGU_MAX) - _LOGU_MIN) / h
    i = np.minimum(pos.astype(np.intp), _KNOTS - 2)
    s = pos - i
    s2, s3 = s * s, s * s * s
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        # cubic Hermite interpolation of log x in log u
        t = (
            (2 * s3 - 3 * s2 + 1) * t_knots[i]
            + (s3 - 2 * s2 + s) * h * slope[i]
            + (-2 * s3 + 3 * s2) * t_knots[i + 1]
            + (s3 - s2) * h * slope[i + 1]
        )
        # one Newton step on f(t) = log I(e^t) - log u, with f'(t) = pdf(x) x / I(x)
        x = np.exp(t)
        cdf = np.asarray(special.betainc(a, b, x), dtype=np.float64)
        logcdf = np.log(cdf)
        step = (logcdf - logu) * np.exp(logcdf - _beta_logpdf(a, b, t, x) - t)
        out: FloatArray = np.exp(t - step)
    redo = ~(np.abs(step) <= _STEP_TOL) | (logu < _LOGU_MIN) | ~np.isfinite(out)
    if redo.any():
        out[redo] = special.betaincinv(a, b, u[redo])
    return out


def beta_quantile(a: float, b: float, u: npt.ArrayLike) -> FloatArray:
    """Quantile function of Beta(``a``, ``b``) on ``[0, 1]``, vectorized and fast.

    Equal to ``scipy.special.betaincinv(a, b, u)`` to about 1e-13 relative, at a
    fiftieth of its cost for the PERT shapes of the shipped scenarios: the lower half
    (``u <= 0.5``) is read from a cached quintic Hermite table of ``log x`` against
    ``log u`` (2048 knots, exact first and second derivatives), whose every interval was
    checked against ``betaincinv`` at three inner points to 1e-13 in ``log x`` when built
    (each table is built from the top down to the lowest ``log u`` asked for so far, and
    the upper half reads Beta(b, a)'s table in the same pass).
    Values in intervals that missed that check start from a cached cubic Hermite table of
    ``log x`` against ``log u`` (1024 knots on ``log u`` in ``[-40, log 0.5]``, exact slopes
    ``u / (x pdf(x))``) and takes one Newton step on ``log I_x(a, b) = log u`` with
    ``scipy.special.betainc``; the upper half uses the mirror ``Q_{a,b}(u) =
    1 - Q_{b,a}(1 - u)``, where ``1 - u`` is exact (unless the result is below 1e-3, where ``1 - y`` would lose
    digits). Any value whose Newton step exceeds
    1e-6 in ``log x`` (or is not finite), or with ``u < e**-40``, is computed by ``betaincinv`` instead.

    Parameters
    ----------
    a, b : float
        Shape parameters (> 0). [-]
    u : array_like of float
        Probabilities strictly inside ``(0, 1)``. [-]

    Returns
    -------
    numpy.ndarray of float64
        Quantiles in ``[0, 1]``, same shape as ``u``.
    """
    uu = _u(u)
    flat = uu.reshape(-1)
    if a >= 1.0 and b >= 1.0:
        return _beta_both_halves(a, b, flat).reshape(uu.shape)
    out = np.empty_like(flat)
    lower = flat <= 0.5
    out[lower] = _beta_lower(a, b, flat[lower])
    upper = ~lower
    x = 1.0 - _beta_lower(b, a, 1.0 - flat[upper])
    # 1 - y loses relative precision when x is small (a skewed shape, a << 1): redo those
    small = x < _MIRROR_MIN
    if small.any():
        x[small] = special.betaincinv(a, b, flat[upper][small])
    out[upper] = x
    return out.reshape(uu.shape)


_FILL_STEP = 256
"""Intervals a :class:`_PairTable` fills at least at a time, below what it holds. [-]"""


class _PairTable:
    """The quintic tables of Beta(a, b) and Beta(b, a) side by side, filled on demand.

    Interval ``i`` of the lower half of Beta(a, b) is column ``i``, interval ``i`` of
    Beta(b, a) (the upper half of Beta(a, b), by the mirror) column ``K - 1 + i``. Each
    table costs about 8,000 ``betaincinv`` calls in full (most of a small run's sampling
    time), but a block of ``s`` samples reaches down only to ``log u`` of about
    ``-log(2 s)``: the intervals from the lowest one asked for (:meth:`fill`) to the top
    are computed, by :func:`_quintic_intervals`, so every filled entry is the full table's.
    """

    def __init__(self, a: float, b: float) -> None:
        self.shapes = ((a, b), (b, a))
        n = _QUINTIC_KNOTS - 1
        self.coef = np.zeros((6, 2 * n))
        self.ok = np.zeros(2 * n, dtype=np.bool_)
        self.lowest = n  # intervals lowest .. n - 1 of each half are filled
        self.all_ok = True  # every filled interval met the tolerance
        self._lock = threading.Lock()

    def fill(self, lowest: int) -> None:
        """Fill intervals ``lowest ..`` of both halves (``lowest`` clipped to ``>= 0``)."""
        if lowest >= self.lowest:
            return
        with self._lock:
            top = self.lowest
            if lowest >= top:
                return
            lo = max(0, min(lowest, top - _FILL_STEP))
            n = _QUINTIC_KNOTS - 1
            for half, (p, q) in enumerate(self.shapes):
                coef, ok = _quintic_intervals(p, q, lo, top)
                self.coef[:, half * n + lo : half * n + top] = coef
                self.ok[half * n + lo : half * n + top] = ok
                self.all_ok = self.all_ok and bool(ok.all())
            self.lowest = lo  # last: a reader that sees it finds the entries written


@_built_once
def _beta_pair_table(a: float, b: float) -> _PairTable:
    """The cached :class:`_PairTable` of shapes ``(a, b)``."""
    return _PairTable(a, b)


def _beta_both_halves(a: float, b: float, u: FloatArray) -> FloatArray:
    """:func:`beta_quantile` of a 1-d ``u`` for shapes ``a, b >= 1``, both halves at once.

    Elementwise the very operations of the two calls of :func:`_beta_lower` (on ``u`` in
    the lower half, on ``1 - u`` in the upper half with the shapes swapped) and of the
    mirror, on the whole array: the upper half's table is read from the same lookup, so
    no value is gathered into a half and scattered back. The values are bit for bit those
    of the two-call form.
    """
    upper = ~(u <= 0.5)  # as the two-call form splits (a NaN goes to the upper half)
    # u in the lower half, 1 - u in the upper: min(u, 1 - u) is exactly that (and NaN
    # for a NaN); masked ufuncs (where=) are several times slower than two passes
    v = np.subtract(1.0, u)
    np.minimum(v, u, out=v)
    logu = np.log(v)
    table = _beta_pair_table(a, b)
    half = _QUINTIC_KNOTS - 1
    pos = np.clip(logu, _LOGU_MIN, _LOGU_MAX)
    pos -= _LOGU_MIN
    pos /= _QUINTIC_H
    i = pos.astype(np.intp)
    np.minimum(i, _QUINTIC_KNOTS - 2, out=i)
    s = np.subtract(pos, i, out=pos)
    if i.size:
        table.fill(int(i.min()))  # the intervals this call reads, in both halves
    coef, ok, all_ok = table.coef, table.ok, table.all_ok
    flip = upper.astype(np.intp)
    flip *= half
    i += flip  # the upper half reads Beta(b, a)'s intervals
    out: FloatArray = np.take(coef[5], i)
    term = np.empty_like(out)
    for k in (4, 3, 2, 1, 0):  # Horner
        out *= s
        out += np.take(coef[k], i, out=term)
    with np.errstate(over="ignore", under="ignore"):
        np.exp(out, out=out)
    redo = logu < _LOGU_MIN
    if not all_ok:
        redo |= ~np.take(ok, i)
    if redo.any():
        low_redo = redo & ~upper
        if low_redo.any():
            out[low_redo] = _beta_lower_newton(a, b, v[low_redo])
        high_redo = redo & upper
        if high_redo.any():
            out[high_redo] = _beta_lower_newton(b, a, v[high_redo])
    # the mirror 1 - y in the upper half, y in the lower: (y * -1) + 1 and (y * 1) + -0.0
    # are those values exactly (IEEE a - b is a + -b; y + -0.0 is y, signed zeros too)
    ones = upper.astype(np.float64)  # 1 in the upper half, 0 in the lower
    out *= np.subtract(1.0, ones + ones, out=term)  # times -1 or 1
    out += np.copysign(ones, np.subtract(ones, 0.5, out=term), out=ones)  # 1 or -0.0
    # 1 - y loses relative precision when x is small (a skewed shape): redo those
    small = out < _MIRROR_MIN
    small &= upper
    if small.any():
        out[small] = special.betaincinv(a, b, u[small])
    return out


@ppf.register(Choice)
def _choice(dist: Choice, u: npt.ArrayLike) -> FloatArray:
    """The smallest value whose cumulative weight reaches ``u``.

    Values are sorted ascending first (stably, weights alongside), so the quantile function
    is non-decreasing in ``u`` and rank correlations imposed on the uniforms carry over to
    the values; this is the discrete quantile ``min{x : F(x) >= u}`` that ``scipy.stats.rv_discrete``
    uses. Values with zero weight are never drawn.
    """
    values = np.asarray(dist.values, dtype=np.float64)
    weights = (
        np.ones_like(values)
        if dist.weights is None
        else np.asarray(dist.weights, dtype=np.float64)
    )
    order = np.argsort(values, kind="stable")
    values, weights = values[order], weights[order]
    cdf = np.cumsum(weights) / weights.sum()
    last = int(np.flatnonzero(weights > 0)[-1])
    cdf[last:] = 1.0  # rounding must not let u fall beyond the last drawable value
    idx = np.searchsorted(cdf, _u(u), side="left")
    out: FloatArray = values[np.minimum(idx, last)]
    return out


def cdf(dist: Normal | LogNormal | TruncNormal, x: float) -> float:
    """Cumulative distribution function at one point, for the kinds with unbounded tails.

    Used to truncate such a distribution to its parameter's domain (see
    :func:`truncated_ppf`).

    Parameters
    ----------
    dist : Normal, LogNormal or TruncNormal
        The distribution spec.
    x : float
        Point, in the unit of the parameter (may be infinite).

    Returns
    -------
    float
        ``P(X <= x)``. [-]
    """
    if isinstance(dist, Normal):
        return float(special.ndtr((x - dist.mean) / dist.sd))
    if isinstance(dist, LogNormal):
        return 0.0 if x <= 0 else float(special.ndtr((np.log(x) - dist.mu) / dist.s))
    a, b = (dist.low - dist.mean) / dist.sd, (dist.high - dist.mean) / dist.sd
    return float(stats.truncnorm.cdf((x - dist.mean) / dist.sd, a, b))


def truncated_ppf(dist: Any, u: npt.ArrayLike, low: float, high: float) -> FloatArray:
    """Inverse CDF of ``dist`` conditioned on ``[low, high]``.

    The uniforms are mapped onto ``[F(low), F(high)]`` before the inverse CDF, so each
    draw keeps its rank (designs and correlations still apply) and lands inside the domain.

    Parameters
    ----------
    dist : Normal, LogNormal or TruncNormal
        The distribution spec; its central 90% lies in ``[low, high]`` (the schema
        checks this), so the mapped interval is never empty.
    u : array_like of float
        Probabilities strictly inside ``(0, 1)``. [-]
    low, high : float
        Domain of the parameter, in its unit.

    Returns
    -------
    ndarray of float64
        Draws in ``[low, high]``, in the unit of the parameter.
    """
    f_lo, f_hi = _cdf_bounds(dist, low, high)
    uu = np.asarray(u, dtype=np.float64)
    if uu.ndim == 0:  # a scalar: the plain expressions (numpy scalars, not 0-d arrays)
        q0 = np.clip(f_lo + uu * (f_hi - f_lo), _TINY, _BELOW_ONE)
        return np.clip(ppf(dist, q0), low, high)
    # f_lo + u (f_hi - f_lo), clipped into (0, 1), in one buffer
    q = np.multiply(uu, f_hi - f_lo, out=np.empty(uu.shape))
    q += f_lo
    np.clip(q, _TINY, _BELOW_ONE, out=q)
    x = _lognormal_in_place(dist, q) if isinstance(dist, LogNormal) else ppf(dist, q)
    out: FloatArray = np.clip(x, low, high, out=x)
    return out


_TINY = float(np.nextafter(0.0, 1.0))
_BELOW_ONE = float(np.nextafter(1.0, 0.0))


def _cdf_bounds(dist: Any, low: float, high: float) -> tuple[float, float]:
    """``(cdf(dist, low), cdf(dist, high))``, cached for hashable (frozen) specs."""
    try:
        return _cached_cdf_bounds(dist, low, high)
    except TypeError:  # an unhashable spec
        return cdf(dist, low), cdf(dist, high)


@functools.lru_cache(maxsize=256)
def _cached_cdf_bounds(dist: Any, low: float, high: float) -> tuple[float, float]:
    return cdf(dist, low), cdf(dist, high)
