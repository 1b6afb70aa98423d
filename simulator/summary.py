"""Summaries of per-sample paths: impact ratios, moments, quantiles, their errors, exceedance.

This is step (4) of the pipeline (MODEL.md §7): it turns per-sample arrays shaped
``(n_samples, n_years + 1)`` into small per-year arrays and a tidy table with the columns
``scenario, variant, metric, year, statistic, value, unit`` (MODEL.md §9). It imports nothing
from ``simulator`` but typing helpers and the metric names and units
(:mod:`simulator.metrics`), and nothing from pydantic, YAML or matplotlib (pandas only inside
:meth:`SummaryTable.to_pandas`).

Every function here is silent under ``warnings.simplefilter("error")``: divisions by zero,
infinite quantiles and undefined moments are handled explicitly instead of through numpy's
floating-point warnings.
"""

from __future__ import annotations

import csv
import io
import math
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any, Literal, TextIO, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from simulator._typing import Array
from simulator.metrics import value_unit

__all__ = [
    "COLUMNS",
    "DEFAULT_PROBS",
    "ComparisonOp",
    "QuestionAnswer",
    "SummaryTable",
    "defined_rows",
    "describe",
    "exceedance",
    "impact",
    "quantile_name",
    "quantiles",
    "replicate_se",
    "summarize",
]

FloatArray: TypeAlias = NDArray[np.float64]

DEFAULT_PROBS: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)
"""Probabilities of the reported quantiles (MODEL.md §7). [-]"""

COLUMNS: tuple[str, ...] = (
    "scenario",
    "variant",
    "metric",
    "year",
    "statistic",
    "value",
    "unit",
)
"""Columns of the tidy summary table, in order (MODEL.md §9, and the unit of ``value``).

``unit`` was added after the first release, as the last column, so that a reader by
position of the first six still works; readers of ``summary.csv`` should go by name."""

ComparisonOp: TypeAlias = Literal["<", "<=", ">", ">="]
"""Comparison operators accepted by :func:`exceedance`."""

_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


# --------------------------------------------------------------------------- impact


def impact(with_shocks: ArrayLike, without: ArrayLike, /) -> FloatArray:
    """Per-sample ratio of a metric with the shocks to the same metric without them.

    Parameters
    ----------
    with_shocks : array_like
        Metric with the shocks, any shape; finite and non-negative. [metric unit]
    without : array_like
        The same metric on the same samples without the shocks (the counterfactual),
        broadcastable with ``with_shocks``; finite and non-negative. [metric unit]

    Returns
    -------
    ratio : ndarray of float64
        ``with_shocks / without``, broadcast shape of the inputs. [-]

    Notes
    -----
    The ratio is defined everywhere for non-negative inputs (MODEL.md §7):
    ``0 / 0 = 1`` (nothing changed), ``x / 0 = +inf`` for ``x > 0`` (something from nothing),
    and a quotient that overflows float64 is ``+inf``, its limit. For finite non-negative
    inputs the result is never NaN, and no floating-point warning is raised.
    """
    num = np.asarray(with_shocks, dtype=np.float64)
    den = np.asarray(without, dtype=np.float64)
    num, den = np.broadcast_arrays(num, den)
    out = np.empty(num.shape, dtype=np.float64)
    zero = den == 0.0
    with np.errstate(divide="ignore", over="ignore", invalid="ignore", under="ignore"):
        np.divide(num, den, out=out, where=~zero)
    if zero.any():
        top = num[zero]
        out[zero] = np.where(top == 0.0, 1.0, np.copysign(np.inf, top))
    return out


# --------------------------------------------------------------------------- quantiles


def quantile_name(p: float, /) -> str:
    """Name of the statistic for the quantile of probability ``p``.

    Parameters
    ----------
    p : float
        Probability in ``[0, 1]``. [-]

    Returns
    -------
    name : str
        ``"p"`` followed by the percentage, shortest form: ``0.05 -> "p5"``,
        ``0.5 -> "p50"``, ``0.025 -> "p2.5"``.
    """
    return f"p{round(100.0 * p, 10):g}"


def _as_samples(x: ArrayLike, name: str = "x") -> FloatArray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim not in (1, 2):
        msg = f"{name} must be shaped (n_samples,) or (n_samples, n_years + 1); got {arr.shape}"
        raise ValueError(msg)
    if arr.shape[0] == 0:
        msg = f"{name} must hold at least one sample; got shape {arr.shape}"
        raise ValueError(msg)
    return arr


def _as_probs(probs: ArrayLike) -> FloatArray:
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 1 or p.size == 0:
        msg = f"probs must be a non-empty sequence of probabilities; got {probs!r}"
        raise ValueError(msg)
    if not np.all((p >= 0.0) & (p <= 1.0)):
        msg = f"probs must lie in [0, 1]; got {probs!r}"
        raise ValueError(msg)
    return p


_SELECT_MIN = 16_384
"""Below this many samples, :func:`_quantile_linear` is ``np.quantile`` itself. [-]"""
_SELECT_SUBSAMPLE = 8_192
"""Size of the subsample whose order statistics bracket each wanted rank. [-]"""


def _order_statistics(column: FloatArray, ranks: NDArray[np.intp]) -> FloatArray:
    """Exact order statistics of ``column`` (1-D, no NaN) at sorted 0-based ``ranks``.

    "Sample select": a strided subsample's order statistics bracket each group of nearby
    ranks with a wide margin; one pass counts the values below the bracket and compresses
    those inside it, and only those are partitioned. A bracket that misses (the check is
    exact: the count below must not exceed the rank, the count inside must reach it)
    falls back to partitioning the whole column, so the result is always exact; the cost
    is a few passes over the column instead of a partition of it (numpy's partition is
    slow on AVX-512 machines, PERF-NOTES).
    """
    n = column.shape[0]
    stride = max(1, n // _SELECT_SUBSAMPLE)
    sub = column[::stride].copy()
    m = sub.shape[0]
    out = np.empty(ranks.shape[0])
    # Bracket each rank at +-3.5 binomial standard deviations of its subsample rank and
    # merge overlapping brackets into groups.
    position = ranks * (m / n)
    frac = np.clip(ranks / n, 1.0 / n, 1.0 - 1.0 / n)
    margin = 3.5 * np.sqrt(m * frac * (1.0 - frac)) + 3.0
    lo_k = np.floor(position - margin).astype(np.intp)
    hi_k = np.ceil(position + margin).astype(np.intp)
    groups: list[list[int]] = []
    for i in range(ranks.shape[0]):
        if groups and lo_k[i] <= hi_k[groups[-1][-1]]:
            groups[-1].append(i)
        else:
            groups.append([i])
    edges = np.unique(np.clip(np.concatenate([lo_k, hi_k]), 0, m - 1))
    # partition with two or more kth (numpy's fast path; a single kth or a sort is slow here)
    sub.partition(np.concatenate([edges, [0, m - 1]]) if edges.size < 2 else edges)
    for group in groups:
        first, last = int(lo_k[group[0]]), int(hi_k[group[-1]])
        low = sub[first] if first >= 0 else -np.inf
        high = sub[last] if last < m else np.inf
        below = int(np.count_nonzero(column < low))
        inside = column[(column >= low) & (column <= high)]
        wanted = ranks[group] - below
        if below <= ranks[group[0]] and wanted[-1] < inside.shape[0]:
            inside.partition(np.concatenate([wanted, [0]]) if wanted.size < 2 else wanted)
            out[group] = inside[wanted]
        else:  # the subsample misled us: exact, the slow way
            part = np.partition(column, np.concatenate([ranks[group], [0, n - 1]]))
            out[group] = part[ranks[group]]
    return out


def _quantile_linear(arr: FloatArray, p: FloatArray) -> FloatArray:
    """``np.quantile(arr, p, axis=0)`` (method ``linear``), bit for bit, for NaN-free ``arr``.

    The order statistics come from :func:`_order_statistics`; the virtual index, weights
    and interpolation repeat numpy's own floating-point operations (numpy 2.x
    ``_get_indexes``, ``_get_gamma`` and ``_lerp``), so the result is identical.
    """
    n = arr.shape[0]
    if n < _SELECT_MIN:
        return np.asarray(np.quantile(arr, p, axis=0), dtype=np.float64)
    virtual = (n - 1) * p
    prev = np.floor(virtual)
    gamma = virtual - prev
    prev_i = prev.astype(np.intp)
    next_i = prev_i + 1
    top = virtual >= n - 1
    prev_i[top] = n - 1
    next_i[top] = n - 1
    bottom = virtual < 0
    prev_i[bottom] = 0
    next_i[bottom] = 0
    ranks = np.unique(np.concatenate([prev_i, next_i]))
    where = {int(r): i for i, r in enumerate(ranks)}
    cols = arr.reshape(n, -1)
    a = np.empty((p.size, cols.shape[1]))
    b = np.empty_like(a)
    column = np.empty(n)
    for j in range(cols.shape[1]):
        np.copyto(column, cols[:, j])
        stats = _order_statistics(column, ranks)
        a[:, j] = stats[[where[int(r)] for r in prev_i]]
        b[:, j] = stats[[where[int(r)] for r in next_i]]
    t = gamma[:, np.newaxis]
    diff = b - a
    with np.errstate(invalid="ignore", over="ignore"):
        out = np.add(a, diff * t)
        np.subtract(b, diff * (1 - t), out=out, where=t >= 0.5)
    shaped: FloatArray = out.reshape((p.size, *arr.shape[1:]))
    return shaped


def quantiles(x: ArrayLike, probs: ArrayLike, /) -> FloatArray:
    """Sample quantiles over samples (axis 0), numpy's ``linear`` method, ``+inf`` allowed.

    Parameters
    ----------
    x : array_like, shape (n,) or (n, T + 1)
        Per-sample values; may hold ``+inf`` (impact ratios) but not NaN or ``-inf``.
        [any unit]
    probs : sequence of float
        Probabilities in ``[0, 1]``. [-]

    Returns
    -------
    q : ndarray of float64, shape (len(probs),) + x.shape[1:]
        Quantiles, in the unit of ``x``. Identical to ``np.quantile(x, probs, axis=0)`` when
        ``x`` is finite.

    Raises
    ------
    ValueError
        If ``x`` is empty or holds NaN or ``-inf``, or a probability is outside ``[0, 1]``.

    Notes
    -----
    ``np.quantile`` interpolates ``inf - inf`` into NaN (with a warning) next to infinite
    order statistics. Here each ``+inf`` is replaced by the column's largest finite value,
    which leaves every finite order statistic in place, and the quantiles that interpolate
    towards an infinite order statistic with a positive weight (or sit on one) are set to
    ``+inf``, using the same virtual index as numpy's ``linear`` method (Hyndman and Fan's
    definition 7 [1]_). Finite quantiles are therefore exactly numpy's.

    References
    ----------
    .. [1] R. J. Hyndman and Y. Fan, "Sample quantiles in statistical packages," The American
       Statistician, vol. 50, no. 4, pp. 361-365, 1996. doi:10.1080/00031305.1996.10473566
    """
    arr = _as_samples(x)
    p = _as_probs(probs)
    finite = np.isfinite(arr)
    if finite.all():
        return _quantile_linear(arr, p)
    if np.isnan(arr).any() or np.isneginf(arr).any():
        msg = "x must not hold NaN or -inf; only +inf is allowed (impact ratios)"
        raise ValueError(msg)
    n = arr.shape[0]
    pos = ~finite
    n_inf = np.count_nonzero(pos, axis=0)
    largest = np.max(np.where(pos, -np.inf, arr), axis=0)
    largest = np.where(np.isfinite(largest), largest, 0.0)
    q = _quantile_linear(np.where(pos, largest, arr), p)
    # numpy's virtual index for the linear method (alpha = beta = 1), same float operations.
    virtual = n * p + (1.0 + p * (1.0 - 1.0 - 1.0)) - 1.0
    floor = np.floor(virtual)
    gamma = virtual - floor
    prev = np.clip(floor, 0, n - 1)
    nxt = np.clip(floor + 1.0, 0, n - 1)
    top = virtual >= n - 1
    prev = np.where(top, n - 1, prev)
    nxt = np.where(top, n - 1, nxt)
    extra = (1,) * (arr.ndim - 1)
    first_inf = np.asarray(n - n_inf)[np.newaxis, ...]  # rank of the lowest +inf order statistic
    on_inf = prev.reshape(-1, *extra) >= first_inf
    towards_inf = (gamma.reshape(-1, *extra) > 0.0) & (nxt.reshape(-1, *extra) >= first_inf)
    q[on_inf | towards_inf] = np.inf
    return q


# --------------------------------------------------------------------------- describe


def describe(
    x: ArrayLike,
    /,
    *,
    probs: Sequence[float] = DEFAULT_PROBS,
    replicates: int | None = None,
) -> dict[str, FloatArray]:
    r"""Mean, standard deviation, quantiles and their Monte Carlo standard errors per year.

    Parameters
    ----------
    x : array_like, shape (n, T + 1) or (n,)
        Per-sample paths of one metric (samples first, years last). May hold ``+inf``
        (impact ratios), not NaN or ``-inf``. [metric unit]
    probs : sequence of float, optional
        Probabilities of the reported quantiles, in ``[0, 1]``. [-]
    replicates : int, optional
        The samples are ``R`` interleaved independent replicates of a randomized
        quasi-Monte Carlo design (sample ``k`` in replicate ``k % R``; the ``sobol``
        design, :func:`simulator.sampling.se_replicates`): ``se_mean`` is then
        :func:`replicate_se` of the replicate means, and the quantiles' standard errors are
        NaN (undefined: the order-statistic formula assumes independent samples). Default
        None: independent samples.

    Returns
    -------
    stats : dict of str to ndarray of float64, each shaped x.shape[1:]
        ``mean``, ``sd`` (``ddof = 1``), one ``p<percent>`` per probability (e.g. ``p5``,
        ``p50``), ``se_mean`` and one ``se_p<percent>`` per probability, in this order, in the
        unit of ``x``.

    Raises
    ------
    ValueError
        If ``x`` is empty, has more than two dimensions, or holds NaN or ``-inf``; or if a
        probability is outside ``[0, 1]`` or two probabilities share a name.

    Notes
    -----
    Quantiles use numpy's default ``linear`` definition, with ``+inf`` handled exactly
    (:func:`quantiles`). The standard error of the mean is :math:`s / \sqrt{n}`.

    The standard error of the quantile :math:`\hat Q(p)` is distribution-free, from order
    statistics [1]_ [2]_: the number of samples below the true :math:`Q(p)` is binomial
    :math:`(n, p)`, so the order statistics at ranks :math:`n (p \pm \delta)` with
    :math:`\delta = \sqrt{p (1 - p) / n}` bracket :math:`Q(p)` with about 68% confidence, and

    .. math:: \mathrm{se}(\hat Q(p)) \approx \tfrac12
              \left[\hat Q(p + \delta) - \hat Q(p - \delta)\right],

    with :math:`p \pm \delta` clipped to ``[0, 1]``. For a smooth density :math:`f` this is the
    asymptotic :math:`\sqrt{p (1 - p) / n} / f(Q(p))` [2]_ without estimating :math:`f`. All
    quantiles, bracketing ones included, come from one partial sort.

    Under ``replicates``, ``se_mean`` is the standard deviation of the ``R`` replicate means
    over :math:`\sqrt R` (L'Ecuyer and Lemieux 2002), and every ``se_p*`` is NaN.

    Undefined or non-finite cases, chosen so that nothing is NaN without a reason:

    - one sample (``n = 1``): ``sd``, ``se_mean`` and every ``se_p*`` are NaN (undefined);
    - a year with any ``+inf`` sample: ``mean``, ``sd`` and ``se_mean`` are NaN for that year
      (MODEL.md §7: moments are reported only when every sample is finite); its quantiles may
      be ``+inf``; ``se_p*`` is ``+inf`` when only the upper bracket is infinite and ``0``
      when both brackets are (the quantile is infinite with confidence).

    References
    ----------
    .. [1] G. J. Hahn and W. Q. Meeker, *Statistical Intervals: A Guide for Practitioners*,
       Wiley, 1991, ch. 5 (distribution-free intervals for quantiles).
       doi:10.1002/9780470316771
    .. [2] H. A. David and H. N. Nagaraja, *Order Statistics*, 3rd ed., Wiley, 2003, §7.1
       (distribution-free confidence intervals for quantiles) and §10.2 (asymptotic
       distribution of central order statistics). doi:10.1002/0471722162
    """
    arr = _as_samples(x)
    p = _as_probs(probs)
    names = [quantile_name(float(v)) for v in p]
    if len(set(names)) != len(names):
        msg = f"probs must be distinct at 1e-10 precision; got {tuple(probs)!r}"
        raise ValueError(msg)
    n = arr.shape[0]
    k = p.size
    delta = np.sqrt(p * (1.0 - p) / n)
    extended = np.concatenate([p, np.clip(p - delta, 0.0, 1.0), np.clip(p + delta, 0.0, 1.0)])
    q = quantiles(arr, extended)
    central, low, high = q[:k], q[k : 2 * k], q[2 * k :]

    finite = np.isfinite(arr).all(axis=0)
    nan = np.full(arr.shape[1:], np.nan)
    with np.errstate(over="ignore", invalid="ignore"):
        mean = np.where(finite, np.mean(arr, axis=0), np.nan)
        if n > 1:
            sd = np.where(finite, np.std(arr, axis=0, ddof=1), np.nan)
            se_mean = sd / math.sqrt(n)
            diff = np.where(high == low, 0.0, 0.5 * (high - low))
        else:
            sd, se_mean = nan, nan.copy()
            diff = np.full(central.shape, np.nan)

    if replicates is not None:
        se_mean = np.where(finite, replicate_se(_replicate_means(arr, replicates)), np.nan)
        diff = np.full(central.shape, np.nan)
    out: dict[str, FloatArray] = {"mean": np.asarray(mean), "sd": np.asarray(sd)}
    for i, name in enumerate(names):
        out[name] = central[i]
    out["se_mean"] = np.asarray(se_mean)
    for i, name in enumerate(names):
        out[f"se_{name}"] = diff[i]
    return out


# --------------------------------------------------------------------------- replicates


def _replicate_means(arr: FloatArray, replicates: int) -> FloatArray:
    """Means of the interleaved replicates ``arr[r::R]`` that hold samples, stacked."""
    if replicates < 1:
        msg = f"replicates must be an int >= 1; got {replicates!r}"
        raise ValueError(msg)
    r = min(replicates, arr.shape[0])
    with np.errstate(over="ignore", invalid="ignore"):
        return np.stack([np.mean(arr[k::replicates], axis=0) for k in range(r)])


def replicate_se(estimates: ArrayLike, /) -> FloatArray:
    r"""Standard error of the average of independent replicate estimates.

    Parameters
    ----------
    estimates : array_like, shape (R, ...)
        One estimate (a mean, a probability) per independent replicate, e.g. per
        independently scrambled Sobol' sequence. [unit of the estimate]

    Returns
    -------
    ndarray of float64, shape estimates.shape[1:]
        :math:`s_R / \sqrt R`, with :math:`s_R` the standard deviation (``ddof = 1``) of
        the estimates; NaN when ``R < 2`` or an estimate is not finite. [unit]

    Notes
    -----
    For randomized quasi-Monte Carlo with ``R`` independent randomizations the replicate
    estimates are independent and unbiased, so this is an unbiased variance estimate of
    their average with ``R - 1`` degrees of freedom (L'Ecuyer and Lemieux 2002); the iid
    formula :math:`s / \sqrt n` over all points would ignore the points' dependence.
    """
    est = np.asarray(estimates, dtype=np.float64)
    r = est.shape[0]
    if r < 2:
        return np.full(est.shape[1:], np.nan)
    with np.errstate(over="ignore", invalid="ignore"):
        sd = np.std(est, axis=0, ddof=1)
        ok = np.isfinite(est).all(axis=0)
        out: FloatArray = np.where(ok, sd / math.sqrt(r), np.nan)
    return out


# --------------------------------------------------------------------------- exceedance


def exceedance(
    x: ArrayLike,
    op: ComparisonOp,
    threshold: ArrayLike,
    /,
    *,
    replicates: int | None = None,
) -> tuple[FloatArray, FloatArray]:
    r"""Probability that a metric compares to a threshold, per year, and its standard error.

    Parameters
    ----------
    x : array_like, shape (n, T + 1) or (n,)
        Per-sample values of one metric. [metric unit]
    op : {"<", "<=", ">", ">="}
        The comparison ``x op threshold``.
    threshold : float or array_like
        A scalar, a per-year array shaped ``(T + 1,)``, or a per-sample array shaped like
        ``x`` (e.g. the counterfactual of the same samples); broadcast against ``x``.
        [metric unit]
    replicates : int, optional
        The samples are ``R`` interleaved independent replicates (as for :func:`describe`):
        the standard error is then :func:`replicate_se` of the replicates' fractions.

    Returns
    -------
    probability : ndarray of float64, shape x.shape[1:]
        Fraction of samples for which the comparison holds. [-]
    se : ndarray of float64, shape x.shape[1:]
        Its binomial Monte Carlo standard error :math:`\sqrt{p (1 - p) / n}`, or the
        replicates' standard error. [-]

    Raises
    ------
    ValueError
        If ``op`` is not one of the four comparisons, or ``threshold`` does not broadcast to
        the shape of ``x``.

    Notes
    -----
    Probabilities are counts divided by ``n``, so complementary comparisons (``<`` and
    ``>=``, ``<=`` and ``>``) sum to one. A NaN on either side compares false.
    """
    arr = _as_samples(x)
    try:
        compare = _OPS[op]
    except KeyError:
        msg = f"op must be one of {', '.join(_OPS)}; got {op!r}"
        raise ValueError(msg) from None
    thr = np.asarray(threshold, dtype=np.float64)
    try:
        shape = np.broadcast_shapes(arr.shape, thr.shape)
    except ValueError:
        shape = None
    if shape != arr.shape:
        msg = (
            f"threshold must be a scalar or broadcast to the shape of x {arr.shape}; "
            f"got shape {thr.shape}"
        )
        raise ValueError(msg)
    with np.errstate(invalid="ignore"):
        hits = np.asarray(compare(arr, thr), dtype=bool)
    n = arr.shape[0]
    prob = np.count_nonzero(hits, axis=0) / n
    prob = np.asarray(prob, dtype=np.float64)
    se = np.sqrt(prob * (1.0 - prob) / n)
    if replicates is not None:
        se = replicate_se(_replicate_means(hits.astype(np.float64), replicates))
    return prob, se


@dataclass(frozen=True)
class QuestionAnswer:
    """The answer to one of a scenario's ``questions`` (MODEL.md §7).

    Attributes
    ----------
    name : str
        The question's identifier in the scenario.
    text : str
        The question as a strategist reads it, e.g. ``"P(hbm_gb 2027 < counterfactual)"``.
    probability : float
        Estimated probability. [-]
    se : float
        Its binomial Monte Carlo standard error. [-]
    """

    name: str
    text: str
    probability: float
    se: float

    def to_dict(self) -> dict[str, str | float]:
        """The answer as plain data (for JSON)."""
        return {
            "name": self.name,
            "text": self.text,
            "probability": self.probability,
            "se": self.se,
        }


# --------------------------------------------------------------------------- tidy table


@dataclass(frozen=True, eq=False)
class SummaryTable:
    """A tidy summary: one row per scenario, variant, metric, year and statistic.

    The columns are those of MODEL.md §9 and the unit of the value (:data:`COLUMNS`); each
    attribute holds one column, in row order, named in the plural.

    Attributes
    ----------
    scenarios, variants, metrics, statistics : tuple of str
        Columns ``scenario``, ``variant``, ``metric`` and ``statistic``.
    years : tuple of int
        Column ``year`` (calendar years).
    values : ndarray of float64
        Column ``value``, in the metric's canonical unit (MODEL.md §9); ``impact`` rows are
        ratios [-]. May hold ``inf`` (impact quantiles) and NaN (undefined moments).
    units : tuple of str, optional
        Column ``unit``: the unit of each value, ``"1"`` when dimensionless. Default (empty):
        from the variant, metric and statistic by :func:`simulator.metrics.value_unit` (``""``
        for a metric the model does not know).
    """

    scenarios: tuple[str, ...]
    variants: tuple[str, ...]
    metrics: tuple[str, ...]
    years: tuple[int, ...]
    statistics: tuple[str, ...]
    values: FloatArray
    units: tuple[str, ...] = ()
    _index: dict[tuple[str, str, int, str], int] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        n = len(self.values)
        lengths = {len(self.scenarios), len(self.variants), len(self.metrics), len(self.years)}
        if lengths | {len(self.statistics)} != {n}:
            msg = "every column of a SummaryTable must have the same length"
            raise ValueError(msg)
        values = np.asarray(self.values, dtype=np.float64)
        values.setflags(write=False)
        object.__setattr__(self, "values", values)
        if not self.units and n:
            known: dict[tuple[str, str, str], str] = {}
            units = []
            for key in zip(self.variants, self.metrics, self.statistics, strict=True):
                unit = known.get(key)
                if unit is None:
                    unit = known[key] = _unit_or_blank(*key)
                units.append(unit)
            object.__setattr__(self, "units", tuple(units))
        elif len(self.units) != n:
            msg = "every column of a SummaryTable must have the same length"
            raise ValueError(msg)

    def __len__(self) -> int:
        return len(self.values)

    def __repr__(self) -> str:
        def few(col: Sequence[str]) -> str:
            seen = list(dict.fromkeys(col))
            shown = ", ".join(seen[:3]) + (f", ... ({len(seen)})" if len(seen) > 3 else "")
            return f"[{shown}]"

        years = f"{min(self.years)}..{max(self.years)}" if self.years else "none"
        return (
            f"SummaryTable(rows={len(self):,}, scenarios={few(self.scenarios)}, "
            f"variants={few(self.variants)}, metrics={len(set(self.metrics))}, "
            f"years={years}, statistics={len(set(self.statistics))})"
        )

    @property
    def columns(self) -> dict[str, tuple[str, ...] | tuple[int, ...] | FloatArray]:
        """Columns by name, in :data:`COLUMNS` order."""
        return {
            "scenario": self.scenarios,
            "variant": self.variants,
            "metric": self.metrics,
            "year": self.years,
            "statistic": self.statistics,
            "value": self.values,
            "unit": self.units,
        }

    def rows(self) -> Iterator[tuple[str, str, str, int, str, float, str]]:
        """Iterate over rows as ``(scenario, variant, metric, year, statistic, value, unit)``."""
        return zip(
            self.scenarios,
            self.variants,
            self.metrics,
            self.years,
            self.statistics,
            self.values.tolist(),
            self.units,
            strict=True,
        )

    def value(self, variant: str, metric: str, year: int, statistic: str) -> float:
        """Look up one value.

        Parameters
        ----------
        variant, metric : str
            Variant (``with_shocks``, ``counterfactual``, ``impact``) and metric name.
        year : int
            Calendar year.
        statistic : str
            ``mean``, ``sd``, ``p50``, ``se_p50``, ...

        Returns
        -------
        value : float
            The value, in the metric's canonical unit. [metric unit]

        Raises
        ------
        KeyError
            If no row matches (or, for a table holding several scenarios, if it is ambiguous,
            in which case the first scenario's row is returned).
        """
        if not self._index:
            index = self._index
            for i, key in enumerate(
                zip(self.variants, self.metrics, self.years, self.statistics, strict=True)
            ):
                index.setdefault(key, i)
        key = (variant, metric, int(year), statistic)
        try:
            row = self._index[key]
        except KeyError:
            msg = f"no summary row for variant={variant!r}, metric={metric!r}, "
            msg += f"year={year!r}, statistic={statistic!r}"
            raise KeyError(msg) from None
        return float(self.values[row])

    def to_records(self) -> list[dict[str, str | int | float]]:
        """Rows as dictionaries keyed by :data:`COLUMNS` (values as Python floats)."""
        return [dict(zip(COLUMNS, row, strict=True)) for row in self.rows()]

    def to_csv(self, path_or_buffer: str | PathLike[str] | TextIO, /) -> None:
        """Write the table as CSV with a header row.

        Parameters
        ----------
        path_or_buffer : str, path-like or text file
            Destination. A path is opened, written and closed (not atomically; see
            :func:`simulator.report.writers.write_outputs` for atomic output).

        Notes
        -----
        Values are written in Python's shortest round-trip form (``repr``), so reading them
        back gives the same float64; non-finite values are ``inf`` and ``nan``.
        """
        if isinstance(path_or_buffer, str | PathLike):
            with Path(path_or_buffer).open("w", encoding="utf-8", newline="") as fh:
                self._write_csv(fh)
        else:
            self._write_csv(path_or_buffer)

    def to_csv_string(self) -> str:
        """The CSV text that :meth:`to_csv` writes."""
        buf = io.StringIO()
        self._write_csv(buf)
        return buf.getvalue()

    def _write_csv(self, fh: TextIO) -> None:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows((s, v, m, y, st, repr(x), u) for s, v, m, y, st, x, u in self.rows())

    def to_pandas(self) -> Any:
        """The table as a tidy pandas DataFrame, one row per row, columns :data:`COLUMNS`.

        Returns
        -------
        pandas.DataFrame
            ``scenario``, ``variant``, ``metric``, ``statistic`` and ``unit`` are
            categorical (categories in order of first appearance), ``year`` is int64 and
            ``value`` float64 [the row's ``unit``]; a default ``RangeIndex``. Reading
            ``summary.csv`` back with ``pandas.read_csv`` gives the same values.

        Raises
        ------
        simulator.errors.MissingExtraError
            If pandas is not installed (``pip install "jevons[io]"``).

        Examples
        --------
        >>> df = table.to_pandas()  # doctest: +SKIP
        >>> df.query("variant == 'impact' and statistic == 'p50' and year == 2027")  # doctest: +SKIP
        """
        from simulator.export import summary_frame

        return summary_frame(self)

    @classmethod
    def concat(cls, tables: Sequence[SummaryTable], /) -> SummaryTable:
        """Stack tables (e.g. of several scenarios) into one, in the order given."""
        if not tables:
            msg = "concat needs at least one table"
            raise ValueError(msg)
        return cls(
            scenarios=tuple(s for t in tables for s in t.scenarios),
            variants=tuple(s for t in tables for s in t.variants),
            metrics=tuple(s for t in tables for s in t.metrics),
            years=tuple(y for t in tables for y in t.years),
            statistics=tuple(s for t in tables for s in t.statistics),
            values=np.concatenate([t.values for t in tables]),
            units=tuple(u for t in tables for u in t.units),
        )


def _unit_or_blank(variant: str, metric: str, statistic: str) -> str:
    try:
        return value_unit(variant, metric, statistic)
    except KeyError:
        return ""


def summarize(
    variants: Mapping[str, Mapping[str, Array]],
    years: Sequence[int],
    *,
    scenario: str,
    probs: Sequence[float] = DEFAULT_PROBS,
    replicates: int | None = None,
) -> SummaryTable:
    """Summarize every metric of every variant into a tidy table (MODEL.md §7, §9).

    Parameters
    ----------
    variants : mapping of str to mapping of str to ndarray, each shaped (n, T + 1)
        Variant name (``with_shocks``, ``counterfactual``, ``impact``) to metric name to
        per-sample paths, e.g. ``{"with_shocks": result.with_shocks, ...}`` for a
        :class:`~simulator.result.SimulationResult`. [metric unit]
    years : sequence of int
        Calendar years of the ``T + 1`` columns.
    scenario : str
        Scenario name, repeated in the ``scenario`` column.
    probs : sequence of float, optional
        Quantile probabilities. [-]
    replicates : int, optional
        Independent interleaved replicates of a ``sobol`` run (:func:`describe`): standard
        errors of means from them, none for quantiles.

    Returns
    -------
    table : SummaryTable
        Rows ordered by variant, metric, statistic (as :func:`describe` orders them), year.
        Every value is a finite number: a statistic that is undefined has no row (the
        mean and sd of an impact ratio with an infinite sample, its ``+inf`` quantiles,
        and the standard errors of a one-sample run; MODEL.md §7).

    Raises
    ------
    ValueError
        If an array is not shaped ``(n, len(years))`` or holds NaN or ``-inf``; the message
        names the variant and metric.

    Notes
    -----
    Cost is one partial sort per metric and variant (``np.quantile`` on all probabilities
    and their standard-error brackets at once) plus one pass for the moments: about
    3-5 s for 1e5 samples, 25 metrics, 12 years and 3 variants on one core (2-core dev VM).
    """
    yrs = tuple(int(y) for y in years)
    n_years = len(yrs)
    col_variant: list[str] = []
    col_metric: list[str] = []
    col_year: list[int] = []
    col_stat: list[str] = []
    chunks: list[FloatArray] = []
    for variant, metrics in variants.items():
        for metric, x in metrics.items():
            arr = np.asarray(x, dtype=np.float64)
            if arr.ndim != 2 or arr.shape[1] != n_years:
                msg = (
                    f"{variant}/{metric}: expected shape (n_samples, {n_years}) for years "
                    f"{yrs[0] if yrs else '?'}..{yrs[-1] if yrs else '?'}; got {arr.shape}"
                )
                raise ValueError(msg)
            try:
                stats = describe(arr, probs=probs, replicates=replicates)
            except ValueError as exc:
                msg = f"{variant}/{metric}: {exc}"
                raise ValueError(msg) from exc
            names = list(stats)
            col_variant.extend([variant] * (len(names) * n_years))
            col_metric.extend([metric] * (len(names) * n_years))
            col_year.extend(yrs * len(names))
            for name in names:
                col_stat.extend([name] * n_years)
            chunks.append(np.stack([stats[name] for name in names]).ravel())
    values = np.concatenate(chunks) if chunks else np.empty(0, dtype=np.float64)
    return defined_rows(scenario, col_variant, col_metric, col_year, col_stat, values)


def defined_rows(
    scenario: str,
    variants: Sequence[str],
    metrics: Sequence[str],
    years: Sequence[int],
    statistics: Sequence[str],
    values: FloatArray,
) -> SummaryTable:
    """A tidy table of the rows whose value is a finite number.

    A statistic that is not a finite number is undefined (MODEL.md §7: the mean and sd of
    an impact ratio with an infinite sample, an infinite quantile, the standard error of
    one sample): it has no row. Used by :func:`summarize` and by streamed summaries, so
    that both give the same rows.
    """
    keep = np.flatnonzero(np.isfinite(values)).tolist()
    return SummaryTable(
        scenarios=(scenario,) * len(keep),
        variants=tuple(variants[i] for i in keep),
        metrics=tuple(metrics[i] for i in keep),
        years=tuple(int(years[i]) for i in keep),
        statistics=tuple(statistics[i] for i in keep),
        values=np.asarray(values, dtype=np.float64)[keep],
    )
