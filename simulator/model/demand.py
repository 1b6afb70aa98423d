"""Demand: compute per segment, baseline growth, efficiency shocks and the Jevons response.

Pure array functions of MODEL.md §2. Shapes use ``n`` for samples and ``T + 1`` for
the years ``k = 0..T`` (``k = 0`` the base year); time is the last axis.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from array_api_compat import array_namespace, device

from simulator._typing import Array
from simulator.constants import F_REF, SECONDS_PER_YEAR
from simulator.model._layout import (
    columns_to_array,
    empty_years,
    is_numpy,
    scratch,
    years_buffer,
)

__all__ = [
    "base_compute",
    "baseline_compute",
    "elasticity",
    "level_adoption",
    "level_efficiency",
    "log_efficiency_gain",
    "physical_compute",
    "trend_efficiency",
]


def _years_since_onset(like: Array, onset: int, n_years: int, /) -> Array:
    """Years since onset ``k - k_m`` for ``k = 0..n_years - 1``, shape ``(n_years,)``, in [year]."""
    xp = array_namespace(like)
    k = xp.arange(n_years, dtype=like.dtype, device=device(like))
    return k - float(onset)


def base_compute(share: float, initial_capacity: Array, utilization: Array, /) -> Array:
    r"""Base-year compute of one segment, tied to the base-year fleet.

    Parameters
    ----------
    share : float
        The segment's share of base-year capacity. [-]
    initial_capacity : array, shape (n,)
        Base-year installed fleet ``K_0``. [H100e]
    utilization : array, shape (n,)
        Base-year utilization ``u_kind(0)`` of the segment's kind. [-]

    Returns
    -------
    array, shape (n,)
        Compute performed in the base year ``C_s(0)``. [FLOP]

    Notes
    -----
    MODEL.md §2:

    .. math:: C_s(0) = \mathrm{share}_s \, K_0 \, u_{kind}(0) \, F_{ref} \, Y

    with ``F_ref`` the dense BF16 peak of one H100 SXM (sources.md §3) and ``Y`` the
    seconds of a Julian year (MODEL.md §1).
    """
    xp = array_namespace(initial_capacity, utilization)
    share_array = xp.asarray(share, dtype=initial_capacity.dtype, device=device(initial_capacity))
    return share_array * initial_capacity * utilization * F_REF * SECONDS_PER_YEAR


def baseline_compute(base: Array, growth: Array, /) -> Array:
    r"""Baseline compute path: the base year compounded by yearly growth multipliers.

    Parameters
    ----------
    base : array, shape (n,)
        Base-year compute ``C_s(0)``. [FLOP]
    growth : array, shape (n, T + 1)
        Growth multiplier ``g_s(k) > 0``; column 0 is ignored. [1/year]

    Returns
    -------
    array, shape (n, T + 1)
        Baseline compute ``B_s(k)``, column 0 equal to ``base``. [FLOP]

    Notes
    -----
    MODEL.md §2:

    .. math:: B_s(k) = C_s(0) \prod_{j=1}^{k} g_s(j)

    The product is taken left to right, one year at a time.
    """
    if is_numpy(array_namespace(base, growth)):
        out = empty_years(base, growth.shape[-1], np.result_type(base, growth))
        out[0] = base
        by_year = growth.T
        for k in range(1, growth.shape[-1]):
            np.multiply(out[k - 1], by_year[k], out=out[k])
        return out.T
    columns = [base]
    for k in range(1, growth.shape[-1]):
        columns.append(columns[-1] * growth[:, k])
    return columns_to_array(columns)


def level_adoption(
    ceiling: Array,
    delay: Array,
    width: Array,
    onset: int,
    n_years: int,
    /,
    *,
    scratch_key: str | None = None,
) -> Array:
    r"""Logistic adoption of a level efficiency shock.

    Parameters
    ----------
    ceiling : array, shape (n,)
        Adoption ceiling ``c_m`` in [0, 1]. [-]
    delay : array, shape (n,)
        Midpoint delay ``d_m`` after onset. [year]
    width : array, shape (n,)
        Logistic width ``w_m > 0``. [year]
    onset : int
        Onset index ``k_m`` (years after the base year). [year]
    n_years : int
        Number of years ``T + 1`` in the output. [-]
    scratch_key : str, optional
        NumPy only: write the result into the thread's reusable buffer for this key
        instead of a fresh array; it is then valid until the next call with the same key
        in the same thread (for the model's private intermediates).

    Returns
    -------
    array, shape (n, n_years)
        Share of work done with the new technique, ``f_m(k)`` in [0, c_m]. [-]

    Notes
    -----
    MODEL.md §2:

    .. math:: f_m(k) = \frac{c_m}{1 + \exp(-(k - k_m - d_m) / w_m)} \quad (k \ge k_m),
              \qquad f_m(k) = 0 \quad (k < k_m)

    The logistic is evaluated as ``e / (1 + e)`` with ``e = exp(-|z|)`` on the negative
    side, so that it never overflows.
    """
    xp = array_namespace(ceiling, delay, width)
    tau = _years_since_onset(ceiling, onset, n_years)
    if is_numpy(xp):
        return _level_adoption_numpy(ceiling, delay, width, tau, scratch_key)
    # computed year-major (one contiguous row per year), returned as its (n, T + 1) view
    z = (tau[:, None] - delay[None, :]) / width[None, :]
    e = xp.exp(-xp.abs(z))
    logistic = xp.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    started = xp.broadcast_to(tau[:, None] >= 0, logistic.shape)
    adoption = xp.where(started, ceiling[None, :] * logistic, xp.zeros_like(logistic))
    return xp.permute_dims(adoption, (1, 0))


def _level_adoption_numpy(
    ceiling: Array, delay: Array, width: Array, tau: Array, key: str | None, /
) -> Array:
    """:func:`level_adoption`'s operations, in place, for NumPy arrays."""
    n_years = tau.shape[0]
    dtype = np.result_type(ceiling, delay, width, tau)
    adoption = years_buffer(ceiling, n_years, dtype, key)
    z = scratch("level_adoption.z", ceiling, n_years, dtype)
    e = scratch("level_adoption.e", ceiling, n_years, dtype)
    below = scratch("level_adoption.below", ceiling, n_years, np.bool_)
    np.subtract(tau[:, None], delay, out=z)
    np.divide(z, width, out=z)
    np.abs(z, out=e)
    np.negative(e, out=e)
    np.exp(e, out=e)
    np.greater_equal(z, 0.0, out=below)
    np.logical_not(below, out=below)
    one_plus = z  # z is no longer needed
    np.add(1.0, e, out=one_plus)
    # logistic: 1 / (1 + e) where z >= 0, else e / (1 + e)
    np.divide(1.0, one_plus, out=adoption)
    np.divide(e, one_plus, out=e)
    np.copyto(adoption, e, where=below)
    np.multiply(ceiling, adoption, out=adoption)
    adoption[tau < 0] = 0.0
    return adoption.T


def level_efficiency(
    adoption: Array, magnitude: Array, /, *, scratch_key: str | None = None
) -> Array:
    r"""Industry efficiency multiplier of a partly adopted level shock (harmonic mix).

    Parameters
    ----------
    adoption : array, shape (n, T + 1)
        Adoption share ``f_m(k)`` in [0, 1]. [-]
    magnitude : array, shape (n,)
        Efficiency gain at full adoption ``M_m >= 1``. [-]
    scratch_key : str, optional
        NumPy only: write the result into the thread's reusable buffer for this key
        instead of a fresh array; it is then valid until the next call with the same key
        in the same thread (for the model's private intermediates).

    Returns
    -------
    array, shape (n, T + 1)
        Efficiency multiplier ``X_m(k)`` in [1, M_m]: useful work per FLOP relative to
        the baseline. [-]

    Notes
    -----
    MODEL.md §2. A work-weighted mix of adopters and non-adopters needs
    ``(1 - f) + f / M`` of the FLOP, so

    .. math:: X_m(k) = \frac{1}{1 - f_m(k) (1 - 1/M_m)}

    Written this way ``M = 1`` or ``f = 0`` gives exactly 1. Half the work at 10x
    efficiency saves 45% of FLOP (``X = 1/0.55``), not 82%.
    """
    xp = array_namespace(adoption, magnitude)
    if is_numpy(xp):
        saving = 1.0 - 1.0 / magnitude
        dtype = np.result_type(adoption, saving)
        out = years_buffer(adoption, adoption.shape[-1], dtype, scratch_key)
        np.multiply(adoption.T, saving, out=out)
        np.subtract(1.0, out, out=out)
        np.divide(1.0, out, out=out)
        return out.T
    saving = 1.0 - 1.0 / magnitude[:, None]
    one = xp.ones_like(adoption)
    return one / (one - adoption * saving)


def trend_efficiency(magnitude: Array, onset: int, n_years: int, /) -> Array:
    r"""Efficiency multiplier of a trend shock: an extra factor per year from onset.

    Parameters
    ----------
    magnitude : array, shape (n,)
        Extra efficiency factor per year ``r_m >= 1``. [1/year]
    onset : int
        Onset index ``k_m`` (years after the base year). [year]
    n_years : int
        Number of years ``T + 1`` in the output. [-]

    Returns
    -------
    array, shape (n, n_years)
        Efficiency multiplier ``X_m(k)``; 1 up to and including onset. [-]

    Notes
    -----
    MODEL.md §2: :math:`X_m(k) = r_m^{k - k_m}` for ``k >= k_m``, else 1; computed as
    ``exp(max(k - k_m, 0) log r_m)``.
    """
    xp = array_namespace(magnitude)
    tau = _years_since_onset(magnitude, onset, n_years)
    elapsed = xp.clip(tau, min=0.0)
    return xp.permute_dims(xp.exp(elapsed[:, None] * xp.log(magnitude)[None, :]), (1, 0))


def elasticity(
    elasticity_short: Array, elasticity_long: Array, adjustment: Array, onset: int, n_years: int, /
) -> Array:
    r"""Price elasticity of demand for useful work, by year, after a shock's onset.

    Parameters
    ----------
    elasticity_short : array, shape (n,)
        Elasticity right after onset, ``>= 0``. [-]
    elasticity_long : array, shape (n,)
        Long-run elasticity, ``>= 0``. [-]
    adjustment : array, shape (n,)
        Time constant ``a_s > 0`` of the adjustment. [year]
    onset : int
        Onset index ``k_m`` of the shock. [year]
    n_years : int
        Number of years ``T + 1`` in the output. [-]

    Returns
    -------
    array, shape (n, n_years)
        Elasticity ``eps_s(k - k_m)``; years before onset get the short-run value
        (they never matter, since ``X_m = 1`` there). [-]

    Notes
    -----
    MODEL.md §2, with ``tau = max(k - k_m, 0)``:

    .. math:: \varepsilon_s(\tau) = \varepsilon_{long}
              + (\varepsilon_{short} - \varepsilon_{long}) e^{-\tau / a_s}
    """
    xp = array_namespace(elasticity_short, elasticity_long, adjustment)
    tau = xp.clip(_years_since_onset(elasticity_short, onset, n_years), min=0.0)
    decay = xp.exp(-tau[None, :] / adjustment[:, None])
    return elasticity_long[:, None] + (elasticity_short - elasticity_long)[:, None] * decay


def log_efficiency_gain(
    efficiencies: Sequence[Array], like: Array, /, *, scratch_key: str | None = None
) -> Array:
    r"""A segment's log efficiency gain: the sum of its shocks' log multipliers.

    Parameters
    ----------
    efficiencies : sequence of array, each shape (n, T + 1)
        Efficiency multipliers ``X_m(k)`` of the shocks that apply to the segment. [-]
    like : array, shape (n, T + 1)
        An array of the output's shape, dtype and device (zeros when no shock applies).
    scratch_key : str, optional
        NumPy only: write the result into the thread's reusable buffer for this key
        instead of a fresh array; it is then valid until the next call with the same key
        in the same thread (for the model's private intermediates).

    Returns
    -------
    array, shape (n, T + 1)
        :math:`\ell_s(k) = \sum_{m \ni s} \ln X_m(k)`; 0 in the base year and before
        every onset. [-]

    Notes
    -----
    MODEL.md §2 (version 2).
    """
    xp = array_namespace(like, *efficiencies)
    if is_numpy(xp) and efficiencies:
        # 0 + ln X_1 + ln X_2 + ...: the first sum into a new array, the rest in place
        dtype = np.result_type(like, *efficiencies)
        total = years_buffer(like, like.shape[-1], dtype, scratch_key)
        np.log(efficiencies[0].T, out=total)
        np.add(total, np.zeros((), dtype=like.dtype), out=total)
        term = scratch("log_efficiency_gain.term", like, like.shape[-1], dtype)
        for efficiency in efficiencies[1:]:
            np.log(efficiency.T, out=term)
            total += term
        return total.T
    total = xp.zeros_like(like)
    for efficiency in efficiencies:
        total = total + xp.log(efficiency)
    return total


def physical_compute(
    baseline: Array,
    log_gain: Array | None,
    elasticity_short: Array,
    elasticity_long: Array,
    adjustment: Array,
    pass_through: Array,
    /,
) -> Array:
    r"""Physical compute of a segment after efficiency shocks and the Jevons response.

    Parameters
    ----------
    baseline : array, shape (n, T + 1)
        Baseline compute ``B_s(k)``. [FLOP]
    log_gain : array, shape (n, T + 1), or None
        The segment's log efficiency gain :math:`\ell_s(k)` (see
        :func:`log_efficiency_gain`), 0 in the base year; None when no shock applies. [-]
    elasticity_short, elasticity_long : array, shape (n,)
        Price elasticity of useful work right after a fall in its price and in the
        long run, ``>= 0``. [-]
    adjustment : array, shape (n,)
        Time constant ``a_s > 0`` of the move from the short- to the long-run
        elasticity. [year]
    pass_through : array, shape (n,)
        Share ``pi_s`` of the efficiency gain passed to price, in [0, 1]. [-]

    Returns
    -------
    array, shape (n, T + 1)
        Physical compute ``C_s(k)``; exactly ``baseline`` when no shock applies or the
        gain is 0. [FLOP]

    Notes
    -----
    MODEL.md §2, version 2: each year's increment of efficiency
    :math:`\Delta\ell_s(j) = \ell_s(j) - \ell_s(j-1)` meets the elasticity of its own age,
    :math:`\varepsilon_s(\tau) = \varepsilon_{long} + (\varepsilon_{short} -
    \varepsilon_{long}) e^{-\tau / a_s}`, so

    .. math:: \ln C_s(k) = \ln B_s(k) - \ell_s(k)
              + \pi_s \sum_{j=1}^{k} \Delta\ell_s(j) \, \varepsilon_s(k - j).

    The sum splits into :math:`\varepsilon_{long} \ell_s(k)` and
    :math:`(\varepsilon_{short} - \varepsilon_{long}) S(k)` with the exponentially weighted
    sum :math:`S(k) = \sum_{j \le k} \Delta\ell_s(j) e^{-(k-j)/a_s}`, computed by the
    one-pole recursion :math:`S(k) = e^{-1/a_s} S(k-1) + \Delta\ell_s(k)`, one pass over
    the years. ``pi eps = 1`` is neutral, ``< 1`` cuts compute, ``> 1`` raises it (the
    Jevons paradox). Constant-elasticity demand ``Q ~ P^-eps``: sources.md §6 (elasticity
    evidence); the harmonic efficiency mix: :func:`level_efficiency`.
    """
    if log_gain is None:
        return baseline
    xp = array_namespace(baseline, log_gain, elasticity_short, elasticity_long, adjustment)
    if is_numpy(xp):
        return _physical_compute_numpy(
            baseline, log_gain, elasticity_short, elasticity_long, adjustment, pass_through
        )
    decay = xp.exp(-1.0 / adjustment)
    columns = [xp.zeros_like(log_gain[:, 0])]
    for k in range(1, log_gain.shape[-1]):
        columns.append(decay * columns[-1] + (log_gain[:, k] - log_gain[:, k - 1]))
    weighted = columns_to_array(columns)
    pi = pass_through[:, None]
    exponent = (pi * elasticity_long[:, None] - 1.0) * log_gain + pi * (
        elasticity_short - elasticity_long
    )[:, None] * weighted
    return baseline * xp.exp(exponent)


def _physical_compute_numpy(
    baseline: Array,
    log_gain: Array,
    elasticity_short: Array,
    elasticity_long: Array,
    adjustment: Array,
    pass_through: Array,
    /,
) -> Array:
    """:func:`physical_compute`'s operations, in place, for NumPy arrays."""
    n_years = log_gain.shape[-1]
    gain = log_gain.T
    decay = np.exp(-1.0 / adjustment)
    dtype = np.result_type(baseline, log_gain, decay, pass_through, elasticity_long)
    weighted = scratch("physical_compute.weighted", baseline, n_years, dtype)
    step = scratch("physical_compute.step", baseline, 1, dtype)[0]
    weighted[0] = 0.0
    for k in range(1, n_years):
        np.subtract(gain[k], gain[k - 1], out=step)
        np.multiply(decay, weighted[k - 1], out=weighted[k])
        np.add(weighted[k], step, out=weighted[k])
    # (pi eps_long - 1) ell + (pi (eps_short - eps_long)) S, then B exp(.)
    out = np.multiply(pass_through * elasticity_long - 1.0, gain, dtype=dtype)
    np.multiply(pass_through * (elasticity_short - elasticity_long), weighted, out=weighted)
    np.add(out, weighted, out=out)
    np.exp(out, out=out)
    np.multiply(baseline.T, out, out=out)
    return out.T
