"""Market: accelerators, HBM, money and power from the fleet's shipments.

Pure array functions of MODEL.md §5. Shapes use ``n`` for samples; paths per year of
shipment cover the initial vintages too, ``V - 1 + T + 1`` columns starting at the
first vintage year, so column ``V - 1`` is the base year. Time is the last axis.
"""

from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace, device

from simulator._typing import Array
from simulator.constants import SECONDS_PER_YEAR
from simulator.model._layout import empty_years, is_numpy, scratch

__all__ = [
    "accelerator_revenue",
    "accelerator_units",
    "datacenter_capex",
    "energy",
    "fleet_power",
    "hbm_revenue",
    "hbm_shipped",
    "installed_units",
]


def accelerator_units(shipments: Array, h100e_per_unit: Array, /) -> Array:
    r"""Physical accelerators shipped.

    Parameters
    ----------
    shipments : array, shape (n, Y)
        Capacity shipped ``Q_k`` per year. [H100e]
    h100e_per_unit : array, shape (n, Y)
        ``p(k)``, H100e per accelerator shipped that year. [H100e/accelerator]

    Returns
    -------
    array, shape (n, Y)
        ``units(k) = Q_k / p(k)``. [accelerator]

    Notes
    -----
    MODEL.md §5.
    """
    xp = array_namespace(shipments, h100e_per_unit)
    return xp.asarray(shipments / h100e_per_unit)


def hbm_shipped(units: Array, hbm_per_unit: Array, /) -> Array:
    r"""HBM shipped on new accelerators.

    Parameters
    ----------
    units : array, shape (n, Y)
        Accelerators shipped. [accelerator]
    hbm_per_unit : array, shape (n, Y)
        ``h(k)``, HBM per accelerator. [GB/accelerator]

    Returns
    -------
    array, shape (n, Y)
        ``hbm(k) = units(k) h(k)``. [GB]

    Notes
    -----
    MODEL.md §5.
    """
    xp = array_namespace(units, hbm_per_unit)
    return xp.asarray(units * hbm_per_unit)


def accelerator_revenue(units: Array, price: Array, /) -> Array:
    r"""Accelerator revenue (spend on accelerators).

    Parameters
    ----------
    units : array, shape (n, Y)
        Accelerators shipped. [accelerator]
    price : array, shape (n, Y)
        Average selling price. [USD/accelerator]

    Returns
    -------
    array, shape (n, Y)
        ``units(k) price(k)``. [USD]

    Notes
    -----
    MODEL.md §5.
    """
    xp = array_namespace(units, price)
    return xp.asarray(units * price)


def hbm_revenue(hbm: Array, hbm_price: Array, /) -> Array:
    r"""HBM revenue.

    Parameters
    ----------
    hbm : array, shape (n, Y)
        HBM shipped. [GB]
    hbm_price : array, shape (n, Y)
        ``q(k)``, HBM price. [USD/GB]

    Returns
    -------
    array, shape (n, Y)
        ``hbm(k) q(k)``. [USD]

    Notes
    -----
    MODEL.md §5.
    """
    xp = array_namespace(hbm, hbm_price)
    return xp.asarray(hbm * hbm_price)


def datacenter_capex(accel_revenue: Array, capex_share: Array, /) -> Array:
    r"""Data-centre capex implied by accelerator spend.

    Parameters
    ----------
    accel_revenue : array, shape (n, Y)
        Accelerator revenue. [USD]
    capex_share : array, shape (n, Y)
        ``sigma(k)``, accelerators' share of data-centre capex, in (0, 1]. [-]

    Returns
    -------
    array, shape (n, Y)
        ``accel_revenue(k) / sigma(k)``. [USD]

    Notes
    -----
    MODEL.md §5.
    """
    xp = array_namespace(accel_revenue, capex_share)
    return xp.asarray(accel_revenue / capex_share)


def _in_service(units: Array, survival: Array, n_years: int, /) -> Array:
    """``sum_{v <= k} units(v) S(k - v)`` for the last ``n_years`` columns of ``units``."""
    xp = array_namespace(units, survival)
    n_columns = units.shape[-1]
    first = n_columns - n_years
    if is_numpy(xp):
        return _in_service_numpy(units, survival, n_years)
    # Year-major views (one row per year of shipment and per age; contiguous rows, without
    # a copy, for the model's year-major arrays), then one multiply-add per age over all
    # the output years it reaches: a running sum of ``n_columns`` row operations instead
    # of a strided reduction per output year.
    by_year = xp.permute_dims(units, (1, 0))
    by_age = xp.permute_dims(survival, (1, 0))
    total = xp.zeros((n_years, units.shape[0]), dtype=units.dtype, device=device(units))
    for age in range(n_columns):
        k0 = max(0, age - first)  # first output year a vintage of this age exists in
        if k0 >= n_years:
            break
        shipped = by_year[first + k0 - age : first + n_years - age, ...]
        total[k0:, ...] = total[k0:, ...] + shipped * by_age[age, ...]
    return xp.permute_dims(total, (1, 0))


def _in_service_numpy(units: Array, survival: Array, n_years: int, /) -> Array:
    """:func:`_in_service` for NumPy arrays: one output year (a row in cache) at a time.

    Each year's sum starts at 0 and adds the ages in order, as the generic loop does.
    """
    first = units.shape[-1] - n_years
    by_year = units.T
    by_age = survival.T
    total = empty_years(units, n_years, np.result_type(units, survival))
    term = scratch("in_service.term", units, 1, total.dtype)[0]
    for k in range(n_years):
        row = total[k]
        for age in range(first + k + 1):
            np.multiply(by_year[first + k - age], by_age[age], out=term)
            if age == 0:
                np.add(term, 0.0, out=row)
            else:
                np.add(row, term, out=row)
    return total.T


def installed_units(units: Array, survival: Array, n_years: int, /) -> Array:
    r"""Accelerators in service at the end of each projection year.

    Parameters
    ----------
    units : array, shape (n, V - 1 + T + 1)
        Accelerators shipped per year, from the first initial vintage on. [accelerator]
    survival : array, shape (n, A), ``A >= V + T``
        ``S(a)`` at whole-year ages ``a = 0 .. A - 1``. [-]
    n_years : int
        ``T + 1``: output years are the last ``n_years`` columns of ``units``. [-]

    Returns
    -------
    array, shape (n, n_years)
        ``installed_units(k) = sum_{v <= k} units(v) S(k - v)``. [accelerator]

    Notes
    -----
    MODEL.md §5; the sum includes the initial vintages.
    """
    xp = array_namespace(units, survival)
    return xp.asarray(_in_service(units, survival, n_years))


def fleet_power(
    units: Array, survival: Array, system_power: Array, load: Array, pue: Array, /
) -> Array:
    r"""Average facility power drawn by the installed fleet.

    Parameters
    ----------
    units : array, shape (n, V - 1 + T + 1)
        Accelerators shipped per year, from the first initial vintage on. [accelerator]
    survival : array, shape (n, A), ``A >= V + T``
        ``S(a)`` at whole-year ages ``a = 0 .. A - 1``. [-]
    system_power : array, shape (n, V - 1 + T + 1)
        ``w(v)``, system power per accelerator of the vintage shipped in year ``v``. [W]
    load : array, shape (n, T + 1)
        ``load(k)``, average draw as a fraction of ``w``. [-]
    pue : array, shape (n, T + 1)
        ``PUE(k)``, power usage effectiveness. [-]

    Returns
    -------
    array, shape (n, T + 1)
        ``power(k) = sum_{v <= k} units(v) S(k - v) w(v) load(k) PUE(k)``. [W]

    Notes
    -----
    MODEL.md §5: each vintage draws its own ``w(v)``; load and PUE are of the
    year of operation.
    """
    xp = array_namespace(units, survival, system_power, load, pue)
    n_years = load.shape[-1]
    if is_numpy(xp):
        drawn = scratch(
            "fleet_power.drawn", units, units.shape[-1], np.result_type(units, system_power)
        )
        np.multiply(units.T, system_power.T, out=drawn)
        power = _in_service_numpy(drawn.T, survival, n_years)
        power *= load
        power *= pue
        return power
    return xp.asarray(_in_service(units * system_power, survival, n_years) * load * pue)


def energy(power: Array, /) -> Array:
    r"""Energy drawn over a year at an average power.

    Parameters
    ----------
    power : array, shape (n, T + 1)
        Average power. [W]

    Returns
    -------
    array, shape (n, T + 1)
        ``energy(k) = power(k) Y``. [J]

    Notes
    -----
    MODEL.md §5, with ``Y`` the seconds of a Julian year (MODEL.md §1).
    """
    xp = array_namespace(power)
    return xp.asarray(power * SECONDS_PER_YEAR)
