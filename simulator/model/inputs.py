"""The model's inputs: one array per parameter, already sampled and interpolated.

This module is the contract between the engine (which samples a scenario) and the
pure array functions of :mod:`simulator.model`. Nothing here knows about YAML,
pydantic or random numbers. Shapes use ``n`` for samples and ``T + 1`` for the
years ``base_year .. end_year`` (index ``k = 0..T``, ``k = 0`` the base year).

Path parameters of the chip economics (:class:`ChipInputs`) also cover the years
of the initial vintages: their time axis has ``V - 1 + T + 1`` columns, starting
at the first vintage year ``base_year - V + 1``, so column ``V - 1`` is the base
year. See MODEL.md §5.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from simulator._typing import Array

Kind = Literal["training", "inference"]
ShockType = Literal["level", "trend"]


@dataclass(frozen=True)
class SegmentInputs:
    """One demand segment (MODEL.md §2).

    Attributes
    ----------
    name : str
        Segment name.
    kind : {"training", "inference"}
        Which utilization and capacity pool the segment uses.
    share : float
        Share of base-year capacity, a fixed number; shares sum to 1. [-]
    growth : array, shape (n, T + 1)
        Baseline growth multiplier ``g_s(k)``; column 0 is ignored. [1/year]
    elasticity_short, elasticity_long : array, shape (n,)
        Price elasticity right after a shock and in the long run, ``>= 0``. [-]
    adjustment : array, shape (n,)
        Time constant ``a_s`` of the move from short to long elasticity, ``> 0``. [year]
    pass_through : array, shape (n,)
        Share ``pi_s`` of an efficiency gain passed to price, in [0, 1]. [-]
    """

    name: str
    kind: Kind
    share: float
    growth: Array
    elasticity_short: Array
    elasticity_long: Array
    adjustment: Array
    pass_through: Array


@dataclass(frozen=True)
class ShockInputs:
    """One efficiency shock (MODEL.md §2).

    Attributes
    ----------
    name : str
        Shock name.
    type : {"level", "trend"}
        ``level``: a DeepSeek-style one-off gain with logistic adoption;
        ``trend``: an extra yearly efficiency factor from onset.
    onset : int
        Onset index ``k_m`` in ``1..T`` (years after the base year). [year]
    segments : tuple of int
        Indices into :attr:`ModelInputs.segments` of the segments it applies to.
    magnitude : array, shape (n,)
        ``level``: efficiency gain at full adoption ``M_m >= 1``;
        ``trend``: extra factor per year ``r_m >= 1``. [-] or [1/year]
    ceiling : array, shape (n,)
        Adoption ceiling ``c_m`` in [0, 1] (``level`` only; ones for ``trend``). [-]
    delay : array, shape (n,)
        Adoption midpoint delay ``d_m`` after onset (``level`` only). [year]
    width : array, shape (n,)
        Logistic width ``w_m > 0`` (``level`` only). [year]
    """

    name: str
    type: ShockType
    onset: int
    segments: tuple[int, ...]
    magnitude: Array
    ceiling: Array
    delay: Array
    width: Array


@dataclass(frozen=True)
class FleetInputs:
    """Initial fleet, retirement, order lead and caps (MODEL.md §4).

    Attributes
    ----------
    initial_vintages : array, shape (n, V)
        H100e shipped in each year ``base_year - V + 1 .. base_year``. [H100e]
    median_life : array, shape (n,)
        Median life ``L`` of a vintage, ``> 0``. [year]
    shape : array, shape (n,)
        Weibull shape ``kappa > 0``. [-]
    supply_cap : array, shape (n, T + 1), or None
        Most H100e that can be shipped per year, ``Q_max(k)``; None for no cap.
        Column 0 is ignored (the base year is observed). [H100e/year]
    order_lead : array, shape (n,), or None
        Share ``phi`` in [0, 1] of next year's capacity ordered a year ahead on the
        counterfactual's trend (MODEL.md §4, version 2); None means 0. [-]
    power_cap : array, shape (n, T + 1), or None
        Most average power the installed fleet may draw, ``P_max(k)``; None for no
        cap. Column 0 is ignored. [W]
    """

    initial_vintages: Array
    median_life: Array
    shape: Array
    supply_cap: Array | None = None
    order_lead: Array | None = None
    power_cap: Array | None = None


@dataclass(frozen=True)
class ChipInputs:
    """Chip economics per year of shipment (MODEL.md §5).

    Every array has shape ``(n, V - 1 + T + 1)``: the years from the first initial
    vintage to ``end_year``.

    Attributes
    ----------
    h100e_per_unit : array
        ``p(k)``, H100e per physical accelerator shipped. [H100e/accelerator]
    hbm_per_unit : array
        ``h(k)``, HBM per accelerator. [GB/accelerator]
    price : array
        ``price(k)``, average selling price per accelerator. [USD/accelerator]
    system_power : array
        ``w(k)``, system power per accelerator incl. server and network share. [W]
    hbm_price : array
        ``q(k)``, HBM price. [USD/GB]
    capex_share : array
        ``sigma(k)``, accelerators' share of data-centre capex, in (0, 1]. [-]
    pue : array
        ``PUE(k)``, power usage effectiveness, ``>= 1``. [-]
    load : array
        ``load(k)``, average draw as a fraction of ``w``, in (0, 1]. [-]
    """

    h100e_per_unit: Array
    hbm_per_unit: Array
    price: Array
    system_power: Array
    hbm_price: Array
    capex_share: Array
    pue: Array
    load: Array


@dataclass(frozen=True)
class ModelInputs:
    """Everything the model needs for ``n`` samples.

    Attributes
    ----------
    years : tuple of int
        Calendar years ``base_year .. end_year``, ``T + 1`` of them.
    segments : tuple of SegmentInputs
        Demand segments, in scenario order.
    shocks : tuple of ShockInputs
        Efficiency shocks; empty for the counterfactual.
    utilization_training, utilization_inference : array, shape (n, T + 1)
        Fraction of dense BF16 peak achieved, in (0, 1]. [-]
    fleet : FleetInputs
    chips : ChipInputs
    """

    years: tuple[int, ...]
    segments: tuple[SegmentInputs, ...]
    shocks: tuple[ShockInputs, ...]
    utilization_training: Array
    utilization_inference: Array
    fleet: FleetInputs
    chips: ChipInputs

    @property
    def n_vintages(self) -> int:
        """Number of initial vintage years ``V``."""
        return int(self.fleet.initial_vintages.shape[-1])
