"""Fleet: survival, required capacity and the vintage stock-flow model.

Pure array functions of MODEL.md §3-4. Shapes use ``n`` for samples, ``T + 1`` for
the years ``k = 0..T`` and ``V`` for the initial vintages (shipped in the years
``-V + 1 .. 0`` relative to the base year); time is the last axis.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from array_api_compat import array_namespace, device

from simulator._typing import Array
from simulator.constants import F_REF, SECONDS_PER_YEAR
from simulator.model._layout import columns_to_array, concat_years

__all__ = [
    "FleetPaths",
    "PowerLimit",
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
    """Result of :func:`stock_flow`; each field has shape ``(n, T + 1)`` [H100e].

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
    """

    surviving: Array
    wanted: Array
    shipments: Array
    installed: Array
    idle: Array
    unmet: Array


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
    return xp.asarray(compute / (utilization * F_REF * SECONDS_PER_YEAR))


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


def planned_capacity(required: Array, trend: Array | None, order_lead: Array | None, /) -> Array:
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
    previous = trend[:, :-1]
    positive = previous > 0
    safe = xp.where(positive, previous, xp.ones_like(previous))
    # K^B(k) * (K(k-1) / K^B(k-1)): exactly K^B(k) wherever K(k-1) = K^B(k-1), so that
    # before a shock's onset (or for a shock that changes nothing) K-hat is K exactly.
    forecast = xp.where(positive, trend[:, 1:] * (required[:, :-1] / safe), trend[:, 1:])
    current = required[:, 1:]
    planned = current + order_lead[:, None] * (forecast - current)
    return concat_years([required[:, :1], planned])


def stock_flow(
    required: Array,
    initial_vintages: Array,
    survival: Array,
    supply_cap: Array | None,
    /,
    *,
    planned: Array | None = None,
    power: PowerLimit | None = None,
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

    Returns
    -------
    FleetPaths
        ``surviving``, ``wanted``, ``shipments``, ``installed``, ``idle``, ``unmet``,
        each shape (n, T + 1). [H100e]

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
    multiply-add per vintage.
    """
    xp = array_namespace(required, initial_vintages, survival)
    n_vintages = initial_vintages.shape[-1]
    target = required if planned is None else planned
    vintages = [initial_vintages[:, i] for i in range(n_vintages)]
    watts: list[Array] = []
    if power is not None:
        per_unit = power.system_power / power.h100e_per_unit
        watts = [vintages[i] * per_unit[:, i] for i in range(n_vintages)]

    # One row per age: a view with contiguous rows of the age-major survival table (see
    # survival_table), so each multiply-add below reads memory in order.
    by_age = xp.permute_dims(survival, (1, 0))

    def surviving_sum(columns: list[Array], k: int) -> Array:
        # Vintage i (0-based from the first initial vintage) is shipped in year i - V + 1.
        total = xp.zeros_like(columns[0])
        for i, q in enumerate(columns):
            total = total + q * by_age[k + n_vintages - 1 - i, ...]
        return total

    base_fleet = surviving_sum(vintages, 0)
    zero = xp.zeros_like(base_fleet)
    surviving = [base_fleet]
    wanted = [vintages[-1]]
    shipments = [vintages[-1]]
    installed = [base_fleet]
    idle = [zero]
    unmet = [zero]
    for k in range(1, required.shape[-1]):
        old = surviving_sum(vintages, k)
        want = xp.clip(target[:, k] - old, min=0.0)
        ship = want if supply_cap is None else xp.minimum(want, supply_cap[:, k])
        if power is not None:
            column = k + n_vintages - 1
            operating = power.load[:, k] * power.pue[:, k]
            drawn = surviving_sum(watts, k) * operating
            per_h100e = power.system_power[:, column] / power.h100e_per_unit[:, column]
            cost = per_h100e * operating
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
    )
