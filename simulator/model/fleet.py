"""Fleet: survival, required capacity and the vintage stock-flow model.

Pure array functions of MODEL.md §3-4. Shapes use ``n`` for samples, ``T + 1`` for
the years ``k = 0..T`` and ``V`` for the initial vintages (shipped in the years
``-V + 1 .. 0`` relative to the base year); time is the last axis.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from array_api_compat import array_namespace, device

from simulator._typing import Array
from simulator.constants import F_REF, SECONDS_PER_YEAR
from simulator.model._layout import (
    columns_to_array,
    concat_years,
    empty_years,
    is_numpy,
    scratch,
    years_buffer,
)

__all__ = [
    "FleetBasis",
    "FleetPaths",
    "PowerLimit",
    "fleet_basis",
    "flop_per_h100e",
    "initial_capacity",
    "planned_capacity",
    "required_capacity",
    "stock_flow",
    "survival_table",
    "weibull_survival",
]

LN2: float = math.log(2.0)
"""Natural logarithm of 2, for the median parametrization of the Weibull. [-]"""

_MAX_LOG_HAZARD: float = 700.0
"""Cap on ``kappa log(a / L)`` so ``exp`` never overflows (survival is 0 there anyway). [-]"""


class FleetPaths(NamedTuple):
    """Result of :func:`stock_flow`; each field but ``shipped`` has shape ``(n, T + 1)``.

    Attributes
    ----------
    surviving : array
        ``O(k)``, capacity surviving from earlier vintages (``K_0`` at ``k = 0``). [H100e]
    wanted : array
        ``D(k)``, new capacity wanted (``Q_0`` at ``k = 0``). [H100e]
    shipments : array
        ``Q_k``, capacity shipped (column 0: the base-year vintage). [H100e]
    installed : array
        ``I(k)``, installed fleet at the end of the year. [H100e]
    idle : array
        ``idle(k)``, installed capacity beyond requirement (0 at ``k = 0``). [H100e]
    unmet : array
        ``unmet(k)``, requirement the installed fleet cannot serve (0 at ``k = 0``). [H100e]
    shipped : array, shape (n, V - 1 + T + 1)
        ``Q_v`` for every year of shipment from the first initial vintage on: the
        initial vintages, then ``shipments`` from column ``V``. [H100e]
    """

    surviving: Array
    wanted: Array
    shipments: Array
    installed: Array
    idle: Array
    unmet: Array
    shipped: Array


def weibull_survival(age: Array, median_life: Array, shape: Array, /) -> Array:
    r"""Weibull survival of a vintage, parametrized by its median life.

    Parameters
    ----------
    age : array, shape (A,)
        Ages, ``>= 0``. [year]
    median_life : array, shape (n,)
        Median life ``L > 0``. [year]
    shape : array, shape (n,)
        Weibull shape ``kappa > 0``. [-]

    Returns
    -------
    array, shape (n, A)
        Surviving fraction ``S(a)``; exactly 1 at ``a = 0`` and 0.5 at ``a = L``. [-]

    Notes
    -----
    MODEL.md §4:

    .. math:: S(a) = \exp(-(a/\lambda)^\kappa), \qquad \lambda = L / (\ln 2)^{1/\kappa}

    evaluated as :math:`\exp(-\ln 2 \, (a/L)^\kappa)`, the same function, with
    ``(a/L)^kappa = exp(kappa log(a/L))`` for ``a > 0`` and 0 at ``a = 0``.
    """
    xp = array_namespace(age, median_life, shape)
    positive = age > 0
    safe_age = xp.where(positive, age, xp.ones_like(age))
    if is_numpy(xp):
        dtype = np.result_type(age, median_life, shape)
        survival = empty_years(median_life, age.shape[0], dtype)
        hazard = scratch("weibull_survival.hazard", median_life, age.shape[0], dtype)
        np.divide(safe_age[:, None], median_life, out=hazard)
        np.log(hazard, out=hazard)
        np.multiply(shape, hazard, out=hazard)
        np.minimum(hazard, _MAX_LOG_HAZARD, out=hazard)
        np.exp(hazard, out=hazard)
        hazard[~positive] = 0.0
        np.multiply(-LN2, hazard, out=survival)
        np.exp(survival, out=survival)
        return survival.T
    # computed age-major (one contiguous row per age) and returned as its (n, A) view
    log_ratio = xp.log(safe_age[:, None] / median_life[None, :])
    log_hazard = xp.clip(shape[None, :] * log_ratio, max=_MAX_LOG_HAZARD)
    scaled = xp.where(
        xp.broadcast_to(positive[:, None], log_hazard.shape),
        xp.exp(log_hazard),
        xp.zeros_like(log_hazard),
    )
    return xp.permute_dims(xp.exp(-LN2 * scaled), (1, 0))


def survival_table(median_life: Array, shape: Array, n_ages: int, /) -> Array:
    """Weibull survival at the whole-year ages ``0 .. n_ages - 1``.

    Parameters
    ----------
    median_life : array, shape (n,)
        Median life ``L > 0``. [year]
    shape : array, shape (n,)
        Weibull shape ``kappa > 0``. [-]
    n_ages : int
        Number of ages; ``V + T`` covers every vintage in every year. [-]

    Returns
    -------
    array, shape (n, n_ages)
        ``S(a)`` at ``a = 0, 1, ..., n_ages - 1``; column 0 is exactly 1. [-] Stored
        age-major (the transposed view of an ``(n_ages, n)`` array).

    Notes
    -----
    See :func:`weibull_survival` and MODEL.md §4.
    """
    xp = array_namespace(median_life, shape)
    age = xp.arange(n_ages, dtype=median_life.dtype, device=device(median_life))
    return weibull_survival(age, median_life, shape)


def _surviving_at(vintages: list[Array], survival: Array, year: int, first: int, /) -> Array:
    """``sum_v Q_v S(year - v)`` over ``vintages`` (years ``first, first + 1, ...``), in [H100e]."""
    xp = array_namespace(survival, *vintages)
    stacked = xp.stack(vintages, axis=-1)
    oldest = year - first
    ages = xp.flip(survival[:, oldest - stacked.shape[-1] + 1 : oldest + 1], axis=-1)
    return xp.sum(stacked * ages, axis=-1)


def initial_capacity(initial_vintages: Array, survival: Array, /) -> Array:
    r"""Base-year fleet from the initial vintages.

    Parameters
    ----------
    initial_vintages : array, shape (n, V)
        H100e shipped in the years ``-V + 1 .. 0`` (base year last). [H100e]
    survival : array, shape (n, A), ``A >= V``
        ``S(a)`` at whole-year ages ``a = 0 .. A - 1``. [-]

    Returns
    -------
    array, shape (n,)
        ``K_0``, installed fleet at the end of the base year. [H100e]

    Notes
    -----
    MODEL.md §4: :math:`K_0 = \sum_{v \le 0} Q_v S(-v)`.
    """
    xp = array_namespace(initial_vintages, survival)
    n_vintages = initial_vintages.shape[-1]
    columns = [initial_vintages[:, i] for i in range(n_vintages)]
    return xp.asarray(_surviving_at(columns, survival, 0, -n_vintages + 1))


def required_capacity(compute: Array, utilization: Array, /) -> Array:
    r"""Capacity required to perform a kind's compute at its utilization.

    Parameters
    ----------
    compute : array, shape (n, T + 1)
        Compute of one kind (sum over its segments). [FLOP]
    utilization : array, shape (n, T + 1)
        Fraction of dense BF16 peak achieved, in (0, 1]. [-]

    Returns
    -------
    array, shape (n, T + 1)
        Required capacity ``K_kind(k)``. [H100e]

    Notes
    -----
    MODEL.md §3: :math:`K_{kind}(k) = \sum_{s \in kind} C_s(k) / (u_{kind}(k) F_{ref} Y)`,
    with ``F_ref`` from sources.md §3.
    """
    xp = array_namespace(compute, utilization)
    return xp.asarray(compute / flop_per_h100e(utilization))


def flop_per_h100e(utilization: Array, /, *, scratch_key: str | None = None) -> Array:
    r"""Compute one H100e performs in a year at a utilization.

    Parameters
    ----------
    utilization : array, shape (n, T + 1)
        Fraction of dense BF16 peak achieved, in (0, 1]. [-]
    scratch_key : str, optional
        NumPy only: write the result into the thread's reusable buffer for this key
        instead of a fresh array; it is then valid until the next call with the same key
        in the same thread (for the model's private intermediates).

    Returns
    -------
    array, shape (n, T + 1)
        :math:`u(k) F_{ref} Y`, the divisor of :func:`required_capacity`. [FLOP/H100e]

    Notes
    -----
    MODEL.md §3, ``F_ref`` from sources.md §3 and ``Y`` the seconds of a Julian year.
    """
    xp = array_namespace(utilization)
    if is_numpy(xp) and scratch_key is not None:
        out = scratch(scratch_key, utilization, utilization.shape[-1], utilization.dtype)
        np.multiply(utilization.T, F_REF, out=out)
        np.multiply(out, SECONDS_PER_YEAR, out=out)
        return out.T
    return xp.asarray(utilization * F_REF * SECONDS_PER_YEAR)


class PowerLimit(NamedTuple):
    """A cap on the installed fleet's average power draw and what it takes (MODEL.md §4).

    Chip paths are per year of shipment, ``V - 1 + T + 1`` columns from the first
    initial vintage year (column ``V - 1`` is the base year); the cap and the yearly
    operating factors have ``T + 1`` columns.

    Attributes
    ----------
    cap : array, shape (n, T + 1)
        ``P_max(k)``, most average power the fleet may draw; column 0 is not used. [W]
    h100e_per_unit : array, shape (n, V - 1 + T + 1)
        ``p(v)``, H100e per accelerator shipped in year ``v``. [H100e/accelerator]
    system_power : array, shape (n, V - 1 + T + 1)
        ``w(v)``, system power per accelerator shipped in year ``v``. [W]
    load : array, shape (n, T + 1)
        ``load(k)``, average draw as a fraction of ``w``. [-]
    pue : array, shape (n, T + 1)
        ``PUE(k)``, power usage effectiveness. [-]
    """

    cap: Array
    h100e_per_unit: Array
    system_power: Array
    load: Array
    pue: Array


def planned_capacity(
    required: Array,
    trend: Array | None,
    order_lead: Array | None,
    /,
    *,
    scratch_key: str | None = None,
) -> Array:
    r"""Capacity planned for each year: partly ordered a year ahead on the trend.

    Parameters
    ----------
    required : array, shape (n, T + 1)
        Required capacity ``K(k)`` of this variant. [H100e]
    trend : array, shape (n, T + 1), or None
        The counterfactual's required capacity ``K^B(k)``; None for the counterfactual
        itself (whose forecast is right by construction). [H100e]
    order_lead : array, shape (n,), or None
        Share ``phi`` in [0, 1] of next year's capacity ordered a year ahead on the
        trend; None means 0. [-]
    scratch_key : str, optional
        NumPy only: write the result into the thread's reusable buffer for this key
        instead of a fresh array; it is then valid until the next call with the same key
        in the same thread (for the model's private intermediates).

    Returns
    -------
    array, shape (n, T + 1)
        Planned capacity :math:`\hat K(k)`; column 0 equals ``required``'s. [H100e]

    Notes
    -----
    MODEL.md §4 (version 2):

    .. math:: \hat K(k) = (1 - \varphi) K(k)
              + \varphi \, K(k-1) \, K^B(k) / K^B(k-1)

    with :math:`K^B(k)` in place of the forecast where :math:`K^B(k-1) = 0`. Without a
    trend (the counterfactual) or a lead it is :math:`K(k)` exactly. It is evaluated as
    :math:`K + \varphi (F - K)` with the forecast :math:`F = K^B(k) \, (K(k-1) / K^B(k-1))`,
    the same quantity, so that wherever the with-shock path equals the trend (before every
    onset, or for a shock that changes nothing) :math:`\hat K = K` exactly, not to rounding. The one-year lead
    reflects accelerator orders placed about a year before deployment (docs/sources.md
    §4.1, §4.2, §4.6: Nvidia's and Broadcom's order backlogs, CoWoS booked a year ahead).
    """
    if trend is None or order_lead is None:
        return required
    xp = array_namespace(required, trend, order_lead)
    if is_numpy(xp):
        return _planned_capacity_numpy(required, trend, order_lead, scratch_key)
    previous = trend[:, :-1]
    positive = previous > 0
    safe = xp.where(positive, previous, xp.ones_like(previous))
    # K^B(k) * (K(k-1) / K^B(k-1)): exactly K^B(k) wherever K(k-1) = K^B(k-1), so that
    # before a shock's onset (or for a shock that changes nothing) K-hat is K exactly.
    forecast = xp.where(positive, trend[:, 1:] * (required[:, :-1] / safe), trend[:, 1:])
    current = required[:, 1:]
    planned = current + order_lead[:, None] * (forecast - current)
    return concat_years([required[:, :1], planned])


class FleetBasis(NamedTuple):
    """What the stock-flow of every variant shares, per year ``k = 0..T`` (MODEL.md §4).

    Built by :func:`fleet_basis`; it depends on the initial vintages, the survival table
    and the power limit, not on the required capacity, so the with-shock variant and the
    counterfactual can share it.

    Attributes
    ----------
    surviving : array, shape (n, T + 1)
        ``sum_{v <= 0} Q_v S(k - v)``, the initial vintages' surviving capacity, summed
        from 0 in vintage order (column 0 is ``K_0``). [H100e]
    drawn : array, shape (n, T + 1), or None
        ``sum_{v <= 0} Q_v (w(v) / p(v)) S(k - v)``, the initial vintages' system power
        before load and PUE; None without a power limit. [W]
    operating : array, shape (n, T + 1), or None
        ``load(k) PUE(k)``; None without a power limit. [-]
    cost : array, shape (n, T + 1), or None
        ``(w(k) / p(k)) load(k) PUE(k)``, the facility power of one H100e shipped in year
        ``k``; None without a power limit. [W/H100e]
    """

    surviving: Array
    drawn: Array | None = None
    operating: Array | None = None
    cost: Array | None = None


def _initial_sums(columns: Array, by_age: Array, n_years: int, key: str | None = None, /) -> Array:
    """``sum_i columns[:, i] S(k + V - 1 - i)`` for ``k = 0..n_years - 1``, from 0, in order.

    ``columns`` is ``(n, V)`` (one column per initial vintage, oldest first) and
    ``by_age`` the ``(A, n)`` age-major survival table; the result is ``(n, n_years)``,
    stored year-major. Each year's sum starts at 0 and adds the vintages in order, as
    :func:`stock_flow` has always summed them.
    """
    xp = array_namespace(columns, by_age)
    n_vintages = columns.shape[-1]
    by_vintage = xp.permute_dims(columns, (1, 0))
    if is_numpy(xp):
        # year by year, each row summed in cache: 0 + q_0 S + q_1 S + ...
        total = years_buffer(columns, n_years, np.result_type(columns, by_age), key)
        rows = scratch("initial_sums.columns", columns, n_vintages)
        np.copyto(rows, by_vintage)
        term = scratch("initial_sums.term", columns, 1, total.dtype)[0]
        for k in range(n_years):
            row = total[k]
            for i in range(n_vintages):
                np.multiply(rows[i], by_age[k + n_vintages - 1 - i], out=term)
                if i == 0:
                    np.add(term, 0.0, out=row)
                else:
                    np.add(row, term, out=row)
        return total.T
    total = xp.zeros((n_years, columns.shape[0]), dtype=columns.dtype, device=device(columns))
    for i in range(n_vintages):
        oldest = n_vintages - 1 - i
        total = total + by_vintage[i, ...] * by_age[oldest : oldest + n_years, ...]
    return xp.permute_dims(total, (1, 0))


def _sub(key: str | None, name: str, /) -> str | None:
    """``key.name``, or None without a key."""
    return None if key is None else f"{key}.{name}"


def fleet_basis(
    initial_vintages: Array,
    survival: Array,
    n_years: int,
    /,
    *,
    power: PowerLimit | None = None,
    scratch_key: str | None = None,
) -> FleetBasis:
    """The initial vintages' part of :func:`stock_flow`, shared by every variant.

    Parameters
    ----------
    initial_vintages : array, shape (n, V)
        H100e shipped in the years ``-V + 1 .. 0`` (base year last). [H100e]
    survival : array, shape (n, A), ``A >= V + T``
        ``S(a)`` at whole-year ages ``a = 0 .. A - 1``. [-]
    n_years : int
        ``T + 1``, the years ``k = 0..T``. [-]
    power : PowerLimit, optional
        The power limit of :func:`stock_flow`, if any.
    scratch_key : str, optional
        NumPy only: write the basis into the thread's reusable buffers for this key
        instead of fresh arrays; it is then valid until the next call with the same key
        in the same thread (for a caller that drops it before, as the model does).

    Returns
    -------
    FleetBasis
        Each field shape ``(n, T + 1)``, stored year-major.

    Notes
    -----
    MODEL.md §4: the terms of ``O(k)`` and ``P_O(k)`` from the initial vintages, and the
    per-year operating factors of the power limit. None of it depends on the required
    capacity.
    """
    xp = array_namespace(initial_vintages, survival)
    by_age = xp.permute_dims(survival, (1, 0))
    numpy = is_numpy(xp)
    key = scratch_key if numpy else None
    surviving = _initial_sums(initial_vintages, by_age, n_years, _sub(key, "surviving"))
    if power is None:
        return FleetBasis(surviving)
    n_vintages = initial_vintages.shape[-1]
    if numpy:
        dtype = np.result_type(power.system_power, power.h100e_per_unit)
        n_columns = power.h100e_per_unit.shape[-1]
        per_unit = scratch("fleet_basis.per_unit", initial_vintages, n_columns, dtype)
        np.divide(power.system_power.T, power.h100e_per_unit.T, out=per_unit)
        dtype = np.result_type(initial_vintages, per_unit)
        watts = scratch("fleet_basis.watts", initial_vintages, n_vintages, dtype)
        np.multiply(initial_vintages.T, per_unit[:n_vintages], out=watts)
        drawn = _initial_sums(watts.T, by_age, n_years, _sub(key, "drawn"))
        dtype = np.result_type(power.load, power.pue)
        operating = years_buffer(power.load, n_years, dtype, _sub(key, "operating"))
        np.multiply(power.load.T, power.pue.T, out=operating)
        dtype = np.result_type(per_unit, operating)
        cost = years_buffer(power.load, n_years, dtype, _sub(key, "cost"))
        np.multiply(per_unit[n_vintages - 1 :], operating, out=cost)
        return FleetBasis(surviving, drawn, operating.T, cost.T)
    per_unit = power.system_power / power.h100e_per_unit
    drawn = _initial_sums(initial_vintages * per_unit[:, :n_vintages], by_age, n_years)
    operating = power.load * power.pue
    cost = per_unit[:, n_vintages - 1 :] * operating
    return FleetBasis(surviving, drawn, operating, cost)


def _planned_capacity_numpy(required: Any, trend: Any, order_lead: Any, key: str | None, /) -> Any:
    """:func:`planned_capacity`'s operations, in place, for NumPy arrays."""
    n_years = required.shape[-1]
    planned = years_buffer(required, n_years, np.result_type(required, trend, order_lead), key)
    planned[0] = required[:, 0]
    forecast = planned[1:]
    previous = trend.T[:-1]
    current = required.T[1:]
    blocked = scratch("planned_capacity.blocked", required, n_years - 1, np.bool_)
    safe = scratch("planned_capacity.safe", required, n_years - 1, trend.dtype)
    np.greater(previous, 0.0, out=blocked)
    np.logical_not(blocked, out=blocked)
    np.copyto(safe, previous)
    np.copyto(safe, 1.0, where=blocked)
    # K^B(k) (K(k-1) / K^B(k-1)) where K^B(k-1) > 0, else K^B(k); no ufunc ``where=``
    # (instrumented subclasses such as benchmarks/arithmetic_floor.py's do not pass it on)
    np.divide(required.T[:-1], safe, out=forecast)
    np.multiply(trend.T[1:], forecast, out=forecast)
    np.copyto(forecast, trend.T[1:], where=blocked)
    np.subtract(forecast, current, out=forecast)
    np.multiply(order_lead, forecast, out=forecast)
    np.add(current, forecast, out=forecast)
    return planned.T


def stock_flow(
    required: Array,
    initial_vintages: Array,
    survival: Array,
    supply_cap: Array | None,
    /,
    *,
    planned: Array | None = None,
    power: PowerLimit | None = None,
    basis: FleetBasis | None = None,
    scratch_key: str | None = None,
) -> FleetPaths:
    r"""Vintage stock-flow model of the installed fleet.

    Parameters
    ----------
    required : array, shape (n, T + 1)
        Required capacity ``K(k)``; column 0 is not used (the base year is
        observed). [H100e]
    initial_vintages : array, shape (n, V)
        H100e shipped in the years ``-V + 1 .. 0`` (base year last). [H100e]
    survival : array, shape (n, A), ``A >= V + T``
        ``S(a)`` at whole-year ages ``a = 0 .. A - 1`` (see :func:`survival_table`). [-]
    supply_cap : array, shape (n, T + 1), or None
        Most capacity shippable per year ``Q_max(k)``; None for no cap; column 0
        is not used. [H100e/year]
    planned : array, shape (n, T + 1), optional
        Planned capacity :math:`\hat K(k)` that orders are placed for (see
        :func:`planned_capacity`); default ``required`` (no order lead). [H100e]
    power : PowerLimit, optional
        A cap on the fleet's average power draw; default none.
    basis : FleetBasis, optional
        The initial vintages' part of the sums, from :func:`fleet_basis` with the same
        ``initial_vintages``, ``survival``, years and ``power``; computed here when not
        given. Pass it to share that work between variants (it does not depend on
        ``required``).
    scratch_key : str, optional
        NumPy only: write ``surviving`` and ``wanted`` into the thread's reusable
        buffers for this key instead of fresh arrays; they are then valid until the next
        call with the same key in the same thread (for a caller that does not use them,
        as the model's evaluation does not).

    Returns
    -------
    FleetPaths
        ``surviving``, ``wanted``, ``shipments``, ``installed``, ``idle``, ``unmet``,
        each shape (n, T + 1), and ``shipped`` (every vintage, initial ones
        included). [H100e]

    Notes
    -----
    MODEL.md §4 (version 2). The base year is observed: ``I(0) = K_0``, ``Q_0`` the
    base-year vintage, ``idle(0) = unmet(0) = 0``. Then for ``k = 1..T``, in order:

    .. math::

        O(k) &= \sum_{v < k} Q_v S(k - v) \\
        D(k) &= \max(\hat K(k) - O(k), 0) \\
        P_O(k) &= \sum_{v < k} \frac{Q_v}{p(v)} w(v) S(k - v) \, load(k) \, PUE(k) \\
        Q_{pow}(k) &= \max(P_{max}(k) - P_O(k), 0) \, p(k) / (w(k) \, load(k) \, PUE(k)) \\
        Q_k &= \min(D(k), Q_{max}(k), Q_{pow}(k)) \\
        I(k) &= O(k) + Q_k \\
        \mathrm{idle}(k) &= \max(Q_k - (K(k) - O(k)), 0) \\
        \mathrm{unmet}(k) &= \max((K(k) - O(k)) - Q_k, 0)

    ``Q_pow`` is unbounded without a power cap or where ``w(k) = 0``. ``idle`` and
    ``unmet`` are computed in this form so that they are exactly 0 where the fleet
    meets demand. Unmet demand is not carried explicitly: it was never installed, so
    next year's ``D`` (from next year's ``K``) asks for it again. The loop runs over
    years only and is vectorized over samples; each year's surviving capacity is one
    multiply-add per vintage, summed from 0 in the order of the vintages (the initial
    vintages' part comes from ``basis``; each year's shipment is then added to every
    later year at once). With NumPy arrays the years are written in place into
    year-major buffers; the operations, and so the values, are the same.
    """
    xp = array_namespace(required, initial_vintages, survival)
    n_years = required.shape[-1]
    if basis is None:
        basis = fleet_basis(initial_vintages, survival, n_years, power=power)
    target = required if planned is None else planned
    if is_numpy(xp):
        return _stock_flow_numpy(
            required, initial_vintages, survival, supply_cap, target, basis, power, scratch_key
        )
    n_vintages = initial_vintages.shape[-1]
    vintages = [initial_vintages[:, i] for i in range(n_vintages)]
    watts: list[Array] = []  # of the vintages shipped in years 1, 2, ...

    # One row per age: a view with contiguous rows of the age-major survival table (see
    # survival_table), so each multiply-add below reads memory in order.
    by_age = xp.permute_dims(survival, (1, 0))

    def surviving_sum(start: Array, columns: list[Array], k: int) -> Array:
        # ``start`` holds the initial vintages' part; ``columns[j]`` was shipped in year j + 1
        total = start
        for j, q in enumerate(columns):
            total = total + q * by_age[k - 1 - j, ...]
        return total

    base_fleet = basis.surviving[:, 0]
    zero = xp.zeros_like(base_fleet)
    surviving = [base_fleet]
    wanted = [vintages[-1]]
    shipments = [vintages[-1]]
    installed = [base_fleet]
    idle = [zero]
    unmet = [zero]
    for k in range(1, n_years):
        old = surviving_sum(basis.surviving[:, k], vintages[n_vintages:], k)
        want = xp.clip(target[:, k] - old, min=0.0)
        ship = want if supply_cap is None else xp.minimum(want, supply_cap[:, k])
        if power is not None:
            assert basis.drawn is not None
            assert basis.operating is not None
            assert basis.cost is not None
            column = k + n_vintages - 1
            drawn = surviving_sum(basis.drawn[:, k], watts, k) * basis.operating[:, k]
            cost = basis.cost[:, k]
            free = xp.clip(power.cap[:, k] - drawn, min=0.0)
            positive = cost > 0
            room = xp.where(
                positive,
                free / xp.where(positive, cost, xp.ones_like(cost)),
                xp.full_like(cost, math.inf),
            )
            ship = xp.minimum(ship, room)
            watts.append(ship / power.h100e_per_unit[:, column] * power.system_power[:, column])
        vintages.append(ship)
        gap = required[:, k] - old
        surviving.append(old)
        wanted.append(want)
        shipments.append(ship)
        installed.append(old + ship)
        idle.append(xp.clip(ship - gap, min=0.0))
        unmet.append(xp.clip(gap - ship, min=0.0))

    return FleetPaths(
        surviving=columns_to_array(surviving),
        wanted=columns_to_array(wanted),
        shipments=columns_to_array(shipments),
        installed=columns_to_array(installed),
        idle=columns_to_array(idle),
        unmet=columns_to_array(unmet),
        shipped=columns_to_array(vintages),
    )


def _stock_flow_numpy(
    required: Any,
    initial_vintages: Any,
    survival: Any,
    supply_cap: Any,
    target: Any,
    basis: FleetBasis,
    power: PowerLimit | None = None,
    key: str | None = None,
) -> FleetPaths:
    """:func:`stock_flow` on NumPy arrays, written in place into year-major buffers.

    The same operations in the same order as the generic loop, one year (one contiguous
    row per array, in cache) at a time; temporaries live in per-thread scratch rows.
    """
    n_years = required.shape[-1]
    n_vintages = initial_vintages.shape[-1]
    first = n_vintages - 1  # row of the base year in ``shipped``
    arrays = [required, initial_vintages, survival, target, basis.surviving]
    if supply_cap is not None:
        arrays.append(supply_cap)
    if power is not None:
        arrays += [power.cap, power.h100e_per_unit, power.system_power]
    dtype = np.result_type(*arrays)
    by_age = survival.T
    need = required.T
    aim = target.T
    start = basis.surviving.T

    shipped = empty_years(required, first + n_years, dtype)
    shipped[:n_vintages] = initial_vintages.T
    surviving = years_buffer(required, n_years, dtype, _sub(key, "surviving"))
    wanted = years_buffer(required, n_years, dtype, _sub(key, "wanted"))
    installed = empty_years(required, n_years, dtype)
    idle = empty_years(required, n_years, dtype)
    unmet = empty_years(required, n_years, dtype)
    surviving[0] = start[0]
    wanted[0] = shipped[first]
    installed[0] = start[0]
    idle[0] = 0.0
    unmet[0] = 0.0
    rows = scratch("stock_flow.rows", required, 6, dtype)
    term, gap, drawn, room, watt_row, safe = rows
    blocked = scratch("stock_flow.blocked", required, 1, np.bool_)[0]
    cap = None if supply_cap is None else supply_cap.T
    if power is not None:
        assert basis.drawn is not None
        assert basis.operating is not None
        assert basis.cost is not None
        drawn_start = basis.drawn.T
        operating = basis.operating.T
        cost = basis.cost.T
        power_cap = power.cap.T
        per_unit = power.h100e_per_unit.T
        system_power = power.system_power.T
        watts = scratch("stock_flow.watts", required, n_years, dtype)  # row k: shipped in k

    def add_shipped(out: Any, begin: Any, columns: Any, k: int) -> None:
        # out = begin + sum_{j=1}^{k-1} columns[j] S(k - j), in the order of j
        if k == 1:
            np.copyto(out, begin)
            return
        for j in range(1, k):
            np.multiply(columns[j], by_age[k - j], out=term)
            np.add(begin if j == 1 else out, term, out=out)

    for k in range(1, n_years):
        old = surviving[k]
        want = wanted[k]
        ship = shipped[first + k]
        add_shipped(old, start[k], shipped[first:], k)
        np.subtract(aim[k], old, out=want)
        np.maximum(want, 0.0, out=want)
        if cap is None:
            np.copyto(ship, want)
        else:
            np.minimum(want, cap[k], out=ship)
        if power is not None:
            column = first + k
            add_shipped(drawn, drawn_start[k], watts, k)
            np.multiply(drawn, operating[k], out=drawn)
            np.subtract(power_cap[k], drawn, out=room)
            np.maximum(room, 0.0, out=room)
            # room = free / cost where cost > 0, else inf (the divisor 1 where not)
            np.greater(cost[k], 0.0, out=blocked)
            np.logical_not(blocked, out=blocked)
            np.copyto(safe, cost[k])
            np.copyto(safe, 1.0, where=blocked)
            np.divide(room, safe, out=room)
            np.copyto(room, np.inf, where=blocked)
            np.minimum(ship, room, out=ship)
            np.divide(ship, per_unit[column], out=watt_row)
            np.multiply(watt_row, system_power[column], out=watts[k])
        np.subtract(need[k], old, out=gap)
        np.add(old, ship, out=installed[k])
        np.subtract(ship, gap, out=idle[k])
        np.maximum(idle[k], 0.0, out=idle[k])
        np.subtract(gap, ship, out=unmet[k])
        np.maximum(unmet[k], 0.0, out=unmet[k])

    return FleetPaths(
        surviving=surviving.T,
        wanted=wanted.T,
        shipments=shipped[first:].T,
        installed=installed.T,
        idle=idle.T,
        unmet=unmet.T,
        shipped=shipped.T,
    )
