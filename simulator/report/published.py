"""Published reference points: the figures the calibration table and the charts hold the model to.

Each point is one published number (a 2024 fact or a forecast) mapped onto one of the model's
metrics (MODEL.md §9), in that metric's canonical unit (H100e, USD, W, J, GB, share). Sources are
cited by section of the project's fact sheet (``sources.md §N``, ``docs/sources.md``),
which names the primary source and its confidence tag.

Most published figures do not measure exactly what the model measures: the IEA counts *all* data
centres where the model counts the AI fleet; McKinsey's gigawatts are *capacity* where the model
reports *average draw*; AI 2027's cumulative H100e ignore retirements. Every such point carries a
``caveat`` that the table prints, and ``like_for_like=False``, so that charts draw it as a hollow
marker and nobody reads a gap to it as a model error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from simulator.metrics import METRIC_UNITS

__all__ = ["PUBLISHED_POINTS", "PublishedPoint", "points_for"]

_J_PER_TWH = 3.6e15
"""Joules in one terawatt-hour. [J/TWh]"""


@dataclass(frozen=True)
class PublishedPoint:
    """One published figure, mapped onto a model metric.

    Attributes
    ----------
    metric : str
        Model metric (MODEL.md §9) the figure is compared with.
    year : int
        Calendar year the figure is for; for a cumulative figure, the last year summed.
    value : float
        Central figure, in the metric's canonical unit (H100e, USD, W, J, GB; shares as a
        fraction). [canonical unit]
    label : str
        Short name of the series the point belongs to, e.g. ``"AI 2027 forecast"``; points
        with the same label are one series in a chart legend.
    source : str
        Where the figure is documented, ``"sources.md §N"`` (the fact sheet names the primary
        source and its confidence tag).
    kind : {"fact", "forecast"}
        An observed figure (back-test) or a forecast (anchor).
    low, high : float, optional
        Published range, same unit as ``value``; either may be absent (``None``) for a
        one-sided figure such as "more than". [canonical unit]
    caveat : str
        What differs between the figure and the model's metric (scope, definition), or ``""``.
    like_for_like : bool
        True when the figure measures what the metric measures (same scope and definition);
        False when it is only an indicative bound (printed with its caveat, drawn hollow).
    cumulative_from : int, optional
        For a figure summed over years: the first year of the sum (``year`` is the last).
        The model's value is then the per-sample sum over ``cumulative_from..year``.
    at_least : bool
        The figure is a lower bound ("more than $500B"): printed ``>= value``, drawn with an
        upward arrow.
    """

    metric: str
    year: int
    value: float
    label: str
    source: str
    kind: Literal["fact", "forecast"]
    low: float | None = None
    high: float | None = None
    caveat: str = ""
    like_for_like: bool = True
    cumulative_from: int | None = None
    at_least: bool = False

    def __post_init__(self) -> None:
        if self.metric not in METRIC_UNITS:
            msg = f"published point {self.label!r}: unknown metric {self.metric!r}"
            raise ValueError(msg)
        if not self.value > 0:
            msg = f"published point {self.label!r}: value must be > 0; got {self.value}"
            raise ValueError(msg)
        if self.low is not None and not 0 < self.low <= self.value:
            msg = f"published point {self.label!r}: low must be in (0, value]; got {self.low}"
            raise ValueError(msg)
        if self.high is not None and self.high < self.value:
            msg = f"published point {self.label!r}: high must be >= value; got {self.high}"
            raise ValueError(msg)
        if self.cumulative_from is not None and self.cumulative_from > self.year:
            msg = f"published point {self.label!r}: cumulative_from after year"
            raise ValueError(msg)
        if self.at_least and self.high is not None:
            msg = f"published point {self.label!r}: a lower bound (at_least) has no high"
            raise ValueError(msg)
        if not self.like_for_like and not self.caveat:
            msg = f"published point {self.label!r}: a point not like-for-like needs a caveat"
            raise ValueError(msg)

    @property
    def cumulative(self) -> bool:
        """Whether the figure is a sum over ``cumulative_from..year``."""
        return self.cumulative_from is not None

    @property
    def period(self) -> str:
        """The year, or ``"2025-2030"`` for a cumulative figure."""
        if self.cumulative_from is None:
            return str(self.year)
        return f"{self.cumulative_from}-{self.year}"


_AI2027 = "AI 2027 forecast"
_AI2027_CUM = "AI 2027: cumulative H100e produced, no retirements"
_AI2027_SPEND = "AI 2027: total AI data-centre spending, not capex alone"
_AI2027_POWER = "AI 2027: peak (provisioned) power of AI data centres; ours is average draw"
_IEA_ALL = "IEA: all data centres (AI a minority in 2024); ours is the AI accelerator fleet"
_BIG4 = (
    "Big-4 (Alphabet, Amazon, Meta, Microsoft) total capex: non-AI and buildings included, "
    "other buyers excluded"
)

PUBLISHED_POINTS: tuple[PublishedPoint, ...] = (
    # ------------------------------------------------------------------ shipments (H100e)
    PublishedPoint(
        "shipments_h100e", 2024, 5e6, "AI 2027 production", "sources.md §4.3, §7.1", "fact"
    ),
    PublishedPoint("shipments_h100e", 2025, 11e6, _AI2027, "sources.md §7.1", "forecast"),
    PublishedPoint("shipments_h100e", 2026, 25e6, _AI2027, "sources.md §7.1", "forecast"),
    PublishedPoint("shipments_h100e", 2027, 60e6, _AI2027, "sources.md §7.1", "forecast"),
    PublishedPoint(
        "shipments_h100e",
        2030,
        100e6,
        "Epoch: producible for AI",
        "sources.md §7.2, §4.7",
        "forecast",
        low=20e6,
        high=400e6,
        caveat="Epoch: H100e producible for AI by 2030 (a supply capacity, not shipments)",
        like_for_like=False,
    ),
    # ------------------------------------------------------------------ installed base (H100e)
    PublishedPoint(
        "installed_h100e",
        2024,
        8.5e6,
        "AI 2027 cumulative",
        "sources.md §7.1",
        "fact",
        caveat=_AI2027_CUM,
        like_for_like=False,
    ),
    PublishedPoint(
        "installed_h100e",
        2025,
        18e6,
        "AI 2027 cumulative",
        "sources.md §7.1",
        "forecast",
        caveat=_AI2027_CUM,
        like_for_like=False,
    ),
    PublishedPoint(
        "installed_h100e",
        2026,
        40e6,
        "AI 2027 cumulative",
        "sources.md §7.1",
        "forecast",
        caveat=_AI2027_CUM,
        like_for_like=False,
    ),
    PublishedPoint(
        "installed_h100e",
        2027,
        100e6,
        "AI 2027 cumulative",
        "sources.md §7.1",
        "forecast",
        caveat=_AI2027_CUM,
        like_for_like=False,
    ),
    # ------------------------------------------------------------------ accelerator revenue
    PublishedPoint(
        "accelerator_revenue",
        2024,
        141e9,
        "Vendor revenue, 2024",
        "sources.md §4.1, §4.2",
        "fact",
        caveat=(
            "sum of Nvidia data-centre ($115.2B, which includes networking; docs/sources.md gives "
            "no split), AMD Instinct (>$5B), Broadcom AI ($12.2B) and Google TPU (~$8.9B, a "
            "Morgan Stanley estimate)"
        ),
    ),
    PublishedPoint(
        "accelerator_revenue",
        2028,
        500e9,
        "AMD: AI accelerator TAM",
        "sources.md §4.2, §4.7",
        "forecast",
        caveat="AMD: AI accelerator TAM 'more than $500B' by 2028 (a lower bound, vendor view)",
        at_least=True,
    ),
    PublishedPoint(
        "accelerator_revenue",
        2030,
        1e12,
        "AMD: data-centre TAM",
        "sources.md §4.2, §4.7",
        "forecast",
        caveat="AMD: all data-centre silicon (CPUs, networking too), a vendor's TAM",
        like_for_like=False,
    ),
    PublishedPoint(
        "accelerator_revenue",
        2030,
        3.1e12,
        "McKinsey: chips and servers, cumulative",
        "sources.md §4.7",
        "forecast",
        caveat="McKinsey: ~60% of AI data-centre capex to chips/servers (whole servers, not "
        "accelerators alone); cumulative to 2030, taken as 2025-2030",
        like_for_like=False,
        cumulative_from=2025,
    ),
    # ------------------------------------------------------------------ HBM
    PublishedPoint(
        "hbm_revenue",
        2024,
        18.2e9,
        "TrendForce HBM revenue",
        "sources.md §4.4",
        "fact",
        low=16e9,
        caveat="low end: Micron's ~$16B 2024 HBM TAM",
    ),
    PublishedPoint(
        "hbm_revenue",
        2028,
        100e9,
        "Micron: HBM TAM",
        "sources.md §4.4, §4.7",
        "forecast",
        caveat="Micron: HBM TAM ~$100B by 2028 (a supplier's TAM)",
    ),
    PublishedPoint(
        "hbm_revenue",
        2033,
        130e9,
        "Bloomberg Intelligence: HBM",
        "sources.md §4.4",
        "forecast",
    ),
    PublishedPoint(
        "hbm_gb",
        2024,
        0.9e9,
        "HBM bit demand (derived)",
        "sources.md §8",
        "fact",
        caveat="derived: TrendForce bit demand, includes inventory and next-year builds; "
        "ours is HBM on accelerators shipped in the year",
        like_for_like=False,
    ),
    PublishedPoint(
        "hbm_gb",
        2026,
        3.75e9,
        "TrendForce HBM demand",
        "sources.md §4.4",
        "forecast",
        caveat="TrendForce: '>30 billion Gb' (a lower bound); bit demand, not HBM on "
        "accelerators shipped",
        at_least=True,
        like_for_like=False,
    ),
    # ------------------------------------------------------------------ data-centre capex
    PublishedPoint(
        "datacenter_capex",
        2024,
        270e9,
        _AI2027,
        "sources.md §7.1",
        "fact",
        caveat=_AI2027_SPEND,
    ),
    PublishedPoint(
        "datacenter_capex",
        2024,
        246e9,
        "Big-4 capex",
        "sources.md §4.5",
        "fact",
        caveat=_BIG4,
        like_for_like=False,
    ),
    PublishedPoint(
        "datacenter_capex",
        2025,
        400e9,
        _AI2027,
        "sources.md §7.1",
        "forecast",
        caveat=_AI2027_SPEND,
    ),
    PublishedPoint(
        "datacenter_capex",
        2025,
        500e9,
        "Nvidia (Huang): industry DC capex",
        "sources.md §4.1",
        "forecast",
        caveat="Huang: all data-centre capex ~$500B in 2025, not only AI",
        like_for_like=False,
    ),
    PublishedPoint(
        "datacenter_capex",
        2026,
        600e9,
        _AI2027,
        "sources.md §7.1",
        "forecast",
        caveat=_AI2027_SPEND,
    ),
    PublishedPoint(
        "datacenter_capex",
        2026,
        677.5e9,
        "Big-4 capex guidance",
        "sources.md §4.5",
        "forecast",
        low=630e9,
        high=725e9,
        caveat=_BIG4 + "; companies' own guidance",
        like_for_like=False,
    ),
    PublishedPoint(
        "datacenter_capex",
        2026,
        685e9,
        "Morgan Stanley: cloud capex",
        "sources.md §4.7, §7.4",
        "forecast",
        caveat="Morgan Stanley: hyperscaler capex, non-AI included",
        like_for_like=False,
    ),
    PublishedPoint(
        "datacenter_capex",
        2027,
        1e12,
        _AI2027,
        "sources.md §7.1",
        "forecast",
        caveat=_AI2027_SPEND,
    ),
    PublishedPoint(
        "datacenter_capex",
        2028,
        1e12,
        "Nvidia (Huang): industry DC capex",
        "sources.md §4.1",
        "forecast",
        caveat="Huang: all data-centre capex '>$1T by 2028', not only AI (a lower bound)",
        at_least=True,
        like_for_like=False,
    ),
    PublishedPoint(
        "datacenter_capex",
        2030,
        5.2e12,
        "McKinsey: AI DC capex, cumulative",
        "sources.md §4.7",
        "forecast",
        low=3.7e12,
        high=7.9e12,
        caveat="McKinsey: cumulative AI data-centre capex to 2030, taken as 2025-2030 "
        "(scenarios $3.7-7.9T), buildings and power included",
        cumulative_from=2025,
    ),
    PublishedPoint(
        "datacenter_capex",
        2030,
        6.7e12,
        "McKinsey: all DC capex, cumulative",
        "sources.md §4.7",
        "forecast",
        caveat="McKinsey: all data centres, AI and non-AI, cumulative to 2030 (taken as "
        "2025-2030)",
        like_for_like=False,
        cumulative_from=2025,
    ),
    # ------------------------------------------------------------------ power (average W)
    PublishedPoint(
        "power_w",
        2024,
        9e9,
        _AI2027,
        "sources.md §5.3, §7.1",
        "fact",
        caveat=_AI2027_POWER,
        like_for_like=False,
    ),
    PublishedPoint(
        "power_w",
        2025,
        15e9,
        _AI2027,
        "sources.md §5.3, §7.1",
        "forecast",
        caveat=_AI2027_POWER,
        like_for_like=False,
    ),
    PublishedPoint(
        "power_w",
        2026,
        29e9,
        _AI2027,
        "sources.md §5.3, §7.1",
        "forecast",
        caveat=_AI2027_POWER,
        like_for_like=False,
    ),
    PublishedPoint(
        "power_w",
        2027,
        62e9,
        _AI2027,
        "sources.md §5.3, §7.1",
        "forecast",
        caveat=_AI2027_POWER,
        like_for_like=False,
    ),
    PublishedPoint(
        "power_w",
        2030,
        156e9,
        "McKinsey: AI DC capacity",
        "sources.md §4.7",
        "forecast",
        caveat="McKinsey: AI data-centre capacity (GW installed), not average draw",
        like_for_like=False,
    ),
    # ------------------------------------------------------------------ energy (J)
    PublishedPoint(
        "energy_j",
        2024,
        415 * _J_PER_TWH,
        "IEA: all data centres",
        "sources.md §5.1",
        "fact",
        caveat=_IEA_ALL,
        like_for_like=False,
    ),
    PublishedPoint(
        "energy_j",
        2030,
        945 * _J_PER_TWH,
        "IEA Base (all DCs)",
        "sources.md §5.1",
        "forecast",
        caveat=_IEA_ALL,
        like_for_like=False,
    ),
    PublishedPoint(
        "energy_j",
        2030,
        1260 * _J_PER_TWH,
        "IEA Lift-Off (all DCs)",
        "sources.md §5.1",
        "forecast",
        caveat=_IEA_ALL + "; 2030 scenario figure from a third-party transcription [S]",
        like_for_like=False,
    ),
    PublishedPoint(
        "energy_j",
        2030,
        670 * _J_PER_TWH,
        "IEA Headwinds (all DCs)",
        "sources.md §5.1",
        "forecast",
        caveat=_IEA_ALL + "; 2030 scenario figure from a third-party transcription [S]",
        like_for_like=False,
    ),
    PublishedPoint(
        "energy_j",
        2035,
        1200 * _J_PER_TWH,
        "IEA Base (all DCs)",
        "sources.md §5.1",
        "forecast",
        caveat=_IEA_ALL,
        like_for_like=False,
    ),
    PublishedPoint(
        "energy_j",
        2035,
        1700 * _J_PER_TWH,
        "IEA Lift-Off (all DCs)",
        "sources.md §5.1",
        "forecast",
        caveat=_IEA_ALL,
        like_for_like=False,
    ),
    PublishedPoint(
        "energy_j",
        2035,
        970 * _J_PER_TWH,
        "IEA High Efficiency (all DCs)",
        "sources.md §5.1",
        "forecast",
        caveat=_IEA_ALL + "; the IEA's High Efficiency case is given for 2035 only",
        like_for_like=False,
    ),
    PublishedPoint(
        "energy_j",
        2035,
        700 * _J_PER_TWH,
        "IEA Headwinds (all DCs)",
        "sources.md §5.1",
        "forecast",
        caveat=_IEA_ALL,
        like_for_like=False,
    ),
    PublishedPoint(
        "energy_j",
        2025,
        93 * _J_PER_TWH,
        "Gartner: AI servers",
        "sources.md §5.2",
        "forecast",
        caveat="Gartner: AI servers only; whether cooling overhead (PUE) is included is not "
        "stated",
        like_for_like=False,
    ),
    PublishedPoint(
        "energy_j",
        2030,
        432 * _J_PER_TWH,
        "Gartner: AI servers",
        "sources.md §5.2",
        "forecast",
        caveat="Gartner: AI servers only; whether cooling overhead (PUE) is included is not "
        "stated",
        like_for_like=False,
    ),
    # ------------------------------------------------------------------ inference share
    PublishedPoint(
        "inference_share",
        2024,
        0.45,
        "Suggested default: inference share of capacity",
        "sources.md §8",
        "fact",
        caveat="share of installed *capacity* serving inference (a suggested default, not a "
        "measurement); ours is the share of FLOP performed, lower because inference runs at "
        "lower utilization",
        like_for_like=False,
    ),
    PublishedPoint(
        "inference_share",
        2030,
        0.70,
        "Suggested default: inference share of capacity",
        "sources.md §8",
        "forecast",
        low=0.50,
        high=0.85,
        caveat="share of installed *capacity* serving inference (a suggested default, not a "
        "measurement); ours is the share of FLOP performed",
        like_for_like=False,
    ),
)
"""Every published point, grouped by metric; see :class:`PublishedPoint`."""


def points_for(
    metric: str, *, years: tuple[int, ...] | None = None, cumulative: bool | None = None
) -> tuple[PublishedPoint, ...]:
    """Published points of one metric.

    Parameters
    ----------
    metric : str
        Metric name (MODEL.md §9).
    years : tuple of int, optional
        Keep only points whose ``year`` is one of these.
    cumulative : bool, optional
        Keep only cumulative (True) or only single-year (False) points; default both.

    Returns
    -------
    points : tuple of PublishedPoint
        In the order of :data:`PUBLISHED_POINTS`.
    """
    return tuple(
        p
        for p in PUBLISHED_POINTS
        if p.metric == metric
        and (years is None or p.year in years)
        and (cumulative is None or p.cumulative == cumulative)
    )
