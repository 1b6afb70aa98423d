"""Hypothesis strategies shared by the property tests.

Each section below is headed; add new strategies in their own section.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from simulator.model.inputs import (
    ChipInputs,
    FleetInputs,
    Kind,
    ModelInputs,
    SegmentInputs,
    ShockInputs,
    ShockType,
)

# =====================================================================================
# Model inputs: random valid ModelInputs, built directly as float64 arrays
# (skipping the YAML and sampling layers). Used by the oracle test (MODEL.md §8.8).
# =====================================================================================

Float64Array = np.ndarray[tuple[int, ...], np.dtype[np.float64]]


def _floats(
    lo: float, hi: float, *, exclude_min: bool = False, exclude_max: bool = False
) -> st.SearchStrategy[float]:
    return st.floats(
        lo,
        hi,
        exclude_min=exclude_min,
        exclude_max=exclude_max,
        allow_nan=False,
        allow_infinity=False,
    )


def _sometimes(value: float, other: st.SearchStrategy[float]) -> st.SearchStrategy[float]:
    """``value`` about one time in four (an extreme), else a draw from ``other``."""
    return st.integers(0, 3).flatmap(lambda j: st.just(value) if j == 0 else other)


def _array(
    draw: st.DrawFn,
    shape: tuple[int, ...],
    elements: st.SearchStrategy[float],
) -> Float64Array:
    """A float64 array; hypothesis fills most of a large array with one value."""
    arr: Float64Array = draw(hnp.arrays(np.float64, shape, elements=elements))
    return arr


def _path(
    draw: st.DrawFn, n: int, cols: int, lo: float, hi: float, *, exclude_min: bool = False
) -> Float64Array:
    """A path parameter: a geometric path per sample, or arbitrary values per cell.

    Values stay inside ``[lo, hi]`` (``(lo, hi]`` with ``exclude_min``).
    """
    if draw(st.booleans()):
        return _array(draw, (n, cols), _floats(lo, hi, exclude_min=exclude_min))
    # geometric: start * rate^t, clipped into the range (a smooth, realistic path)
    start = _array(draw, (n, 1), _floats(lo, hi, exclude_min=exclude_min))
    rate = _array(draw, (n, 1), _floats(0.8, 1.25))
    t = np.arange(cols, dtype=np.float64)[None, :]
    out: Float64Array = start * rate**t
    out = np.clip(out, lo, hi)
    if exclude_min:
        out = np.where(out <= lo, start, out)
    return out


@st.composite
def model_inputs(
    draw: st.DrawFn,
    *,
    n: int | None = None,
    min_years: int = 1,
    max_years: int = 12,
    min_segments: int = 1,
    max_segments: int = 5,
    max_shocks: int = 3,
    min_vintages: int = 1,
    max_vintages: int = 6,
    supply_cap: bool | None = None,
    order_lead: bool | None = None,
    power_cap: bool | None = None,
) -> ModelInputs:
    """Random valid :class:`ModelInputs` for ``n`` samples (drawn 1-4 when None).

    Covers: ``T`` projection years in ``min_years..max_years``; 1-5 segments of either
    kind (shares sum to 1, sometimes a zero share); 0-3 shocks of type ``level`` or
    ``trend``, onset in ``1..T``, each on a non-empty subset of segments; extreme but
    valid values (elasticity 0, magnitude 1, ceiling 0 or 1, pass-through 0 or 1,
    median life 1 year, ``T = 1``); a supply cap absent or present (``supply_cap``
    None draws either; present caps are scaled to the base fleet, often binding, and
    can be 0); an order lead ``phi`` absent or present (0, 1 or between; ``order_lead``
    None draws either); a power cap absent or present (``power_cap`` None draws either;
    present caps are scaled to the base-year fleet's power draw, often binding, and can
    be 0); ``V`` initial vintages with a positive sum; positive chip paths with
    ``capex_share`` and ``load`` in (0.01, 1], ``pue >= 1``; utilization in (0.01, 1].
    Magnitudes are realistic (vintages 1e5-1e7 H100e, growth 0.5-5 per year) so every
    output is finite.
    """
    if n is None:
        n = draw(st.integers(1, 4), label="n")
    T = draw(st.integers(min_years, max_years), label="T")
    V = draw(st.integers(min_vintages, max_vintages), label="V")
    base_year = draw(st.integers(2000, 2040), label="base_year")
    years = tuple(range(base_year, base_year + T + 1))

    # ---- segments (MODEL.md §2) --------------------------------------------------------
    n_seg = draw(st.integers(min_segments, max_segments), label="n_segments")
    kinds: list[Kind] = [draw(st.sampled_from(["training", "inference"])) for _ in range(n_seg)]
    weights = [draw(_sometimes(0.0, _floats(0.01, 1.0))) for _ in range(n_seg)]
    if sum(weights) == 0.0:
        weights[draw(st.integers(0, n_seg - 1))] = 1.0
    total = math.fsum(weights)
    shares = [w / total for w in weights]
    segments = []
    for s in range(n_seg):
        e_short = _array(draw, (n,), _sometimes(0.0, _floats(0.0, 3.0)))
        e_long = (
            e_short.copy()
            if draw(st.booleans())
            else _array(draw, (n,), _sometimes(0.0, _floats(0.0, 3.0)))
        )
        segments.append(
            SegmentInputs(
                name=f"seg{s}_{kinds[s]}",
                kind=kinds[s],
                share=shares[s],
                # column 0 is ignored by the model: fill it with an arbitrary value
                growth=_path(draw, n, T + 1, 0.5, 5.0),
                elasticity_short=e_short,
                elasticity_long=e_long,
                adjustment=_array(draw, (n,), _floats(0.1, 5.0)),
                pass_through=_array(draw, (n,), _floats(0.0, 1.0)),
            )
        )

    # ---- shocks (MODEL.md §2) ----------------------------------------------------------
    n_shocks = draw(st.integers(0, max_shocks), label="n_shocks")
    shocks = []
    for m in range(n_shocks):
        shock_type: ShockType = draw(st.sampled_from(["level", "trend"]))
        onset = draw(st.integers(1, T))
        applies = draw(
            st.lists(st.integers(0, n_seg - 1), min_size=1, max_size=n_seg, unique=True)
        )
        if shock_type == "level":
            magnitude = _array(draw, (n,), _sometimes(1.0, _floats(1.0, 100.0)))
            ceiling = _array(draw, (n,), _floats(0.0, 1.0))
        else:
            magnitude = _array(draw, (n,), _sometimes(1.0, _floats(1.0, 2.0)))
            ceiling = np.ones(n, dtype=np.float64)
        shocks.append(
            ShockInputs(
                name=f"shock{m}",
                type=shock_type,
                onset=onset,
                segments=tuple(sorted(applies)),
                magnitude=magnitude,
                ceiling=ceiling,
                delay=_array(draw, (n,), _floats(-2.0, 6.0)),
                width=_array(draw, (n,), _floats(0.1, 5.0)),
            )
        )

    # ---- utilization (MODEL.md §3) -----------------------------------------------------
    utilization_training = _path(draw, n, T + 1, 0.01, 1.0, exclude_min=True)
    utilization_inference = _path(draw, n, T + 1, 0.01, 1.0, exclude_min=True)

    # ---- fleet (MODEL.md §4) -----------------------------------------------------------
    vintages = _array(draw, (n, V), _sometimes(0.0, _floats(1e5, 1e7)))
    for i in range(n):
        if vintages[i].sum() <= 0.0:
            vintages[i, -1] = draw(_floats(1e5, 1e7))
    median_life = _array(draw, (n,), _floats(1.0, 15.0))
    shape = _array(draw, (n,), _floats(0.5, 5.0))
    has_cap = draw(st.booleans()) if supply_cap is None else supply_cap
    cap: Float64Array | None = None
    if has_cap:
        # scale the cap to the base-year fleet so that it is sometimes binding
        lam = median_life / np.log(2.0) ** (1.0 / shape)
        ages = np.arange(V - 1, -1, -1, dtype=np.float64)[None, :]
        k0 = (vintages * np.exp(-((ages / lam[:, None]) ** shape[:, None]))).sum(axis=1)
        factor = _array(draw, (n, T + 1), _sometimes(0.0, _floats(0.0, 30.0)))
        cap = factor * k0[:, None]

    # ---- chips (MODEL.md §5): V - 1 + T + 1 columns from the first vintage year ---------
    cols = V + T
    chips = ChipInputs(
        h100e_per_unit=_path(draw, n, cols, 0.3, 5.0),
        hbm_per_unit=_path(draw, n, cols, 10.0, 400.0),
        price=_path(draw, n, cols, 5e3, 8e4),
        system_power=_path(draw, n, cols, 300.0, 3000.0),
        hbm_price=_path(draw, n, cols, 3.0, 40.0),
        capex_share=_path(draw, n, cols, 0.01, 1.0, exclude_min=True),
        pue=_path(draw, n, cols, 1.0, 2.0),
        load=_path(draw, n, cols, 0.01, 1.0, exclude_min=True),
    )

    # ---- order lead and power cap (MODEL.md §4, version 2) -----------------------------
    has_lead = draw(st.booleans()) if order_lead is None else order_lead
    lead: Float64Array | None = None
    if has_lead:
        lead = _array(draw, (n,), st.one_of(st.just(0.0), st.just(1.0), _floats(0.0, 1.0)))
    has_power_cap = draw(st.booleans()) if power_cap is None else power_cap
    power: Float64Array | None = None
    if has_power_cap:
        # scale the cap to the base-year fleet's draw, so that it binds in some years
        lam = median_life / np.log(2.0) ** (1.0 / shape)
        ages = np.arange(V - 1, -1, -1, dtype=np.float64)[None, :]
        alive = np.exp(-((ages / lam[:, None]) ** shape[:, None]))
        watts = vintages / chips.h100e_per_unit[:, :V] * chips.system_power[:, :V]
        p0 = (watts * alive).sum(axis=1) * chips.load[:, V - 1] * chips.pue[:, V - 1]
        factor = _array(draw, (n, T + 1), _sometimes(0.0, _floats(0.0, 30.0)))
        power = factor * p0[:, None]

    return ModelInputs(
        years=years,
        segments=tuple(segments),
        shocks=tuple(shocks),
        utilization_training=utilization_training,
        utilization_inference=utilization_inference,
        fleet=FleetInputs(
            initial_vintages=vintages,
            median_life=median_life,
            shape=shape,
            supply_cap=cap,
            order_lead=lead,
            power_cap=power,
        ),
        chips=chips,
    )


# =====================================================================================
# Scenarios: random valid scenario dicts (what a YAML file holds, short forms included)
# and validated Scenario objects, in the style of xarray.testing.strategies: small
# composable builders (a distribution inside a domain, a path, a segment, a shock,
# a fleet, chips, correlations) and one top-level builder, ``scenario_dicts``, whose
# keyword arguments narrow the shapes it draws. Used by tests/property/test_invariants.py
# (MODEL.md §8). Values stay realistic (vintages 1e4-1e7 H100e, growth 0.5-4 per year,
# 1-12 projection years) so that every output is finite.
# =====================================================================================

from collections.abc import Sequence
from typing import Any

from simulator.schema import Scenario
from simulator.schema.distributions import DISTRIBUTION_KINDS
from simulator.schema.scenario import (
    ANY,
    PATH_DOMAINS,
    POSITIVE,
    Domain,
)


def _schema_domains() -> dict[str, Domain]:
    """The domain the schema gives each scalar parameter, read from ``Scenario.parameters``
    of a small probe scenario (so the strategies follow the schema if a domain changes)."""
    probe = Scenario.model_validate(
        {
            "name": "probe",
            "years": {"base_year": 2024, "end_year": 2025},
            "demand": {
                "segments": [
                    {
                        "name": "a",
                        "kind": "training",
                        "share": 1.0,
                        "growth": 2.0,
                        "elasticity": {"short": 1.0, "long": 1.0},
                    }
                ]
            },
            "shocks": [
                {
                    "name": "m",
                    "type": "level",
                    "onset": 2025,
                    "magnitude": 2.0,
                    "applies_to": ["a"],
                    "adoption": {"ceiling": 1.0, "delay": 0.0, "width": 1.0},
                }
            ],
            "utilization": {"training": 0.5, "inference": 0.5},
            "fleet": {"initial_vintages": {2024: 1e6}, "median_life": 5.0},
            "chips": {
                "h100e_per_accelerator": 1.0,
                "hbm_gb_per_accelerator": 80.0,
                "asp": 2e4,
                "system_watts": 1e3,
                "hbm_price": 10.0,
                "accelerator_capex_share": 0.6,
                "pue": 1.2,
                "load": 0.7,
            },
        }
    )
    out: dict[str, Domain] = {}
    for where, _, domain in probe.parameters():
        parts = where.split(".")
        if parts[0] == "fleet":
            out[parts[1]] = domain
        elif "elasticity" in parts:
            out["elasticity" if parts[-1] in ("short", "long") else parts[-1]] = domain
        elif parts[0] in ("demand", "shocks"):
            out[parts[-1]] = domain
    return out


SCHEMA_DOMAINS: dict[str, Domain] = {**_schema_domains(), **PATH_DOMAINS}
"""Domain of every scalar parameter kind (``elasticity``, ``magnitude``, ``ceiling`` ...)
and of every path (``growth``, ``asp`` ...), as the schema says."""

SCALAR_FORMS: tuple[str, ...] = ("number", "interval", *DISTRIBUTION_KINDS)
"""Every way to write a scalar parameter: a plain number, ``"LOW to HIGH"``, or a kind."""

PATH_FORMS: tuple[str, ...] = ("constant", "anchors", "start-end", "from-growth")
"""Every way to write a path parameter (MODEL.md §6)."""

SEGMENT_NAMES: tuple[str, ...] = (
    "pretraining",
    "post_training",
    "chat",
    "reasoning",
    "agents",
    "other-training",
    "S7",
    "x",
)
"""Valid segment names (never ``training`` or ``inference``)."""

RANGES: dict[str, tuple[float, float]] = {
    "elasticity": (0.0, 2.5),
    "adjustment": (0.2, 5.0),
    "pass_through": (0.0, 1.0),
    "magnitude.level": (1.0, 20.0),
    "magnitude.trend": (1.0, 1.5),
    "ceiling": (0.0, 1.0),
    "delay": (-2.0, 5.0),
    "width": (0.1, 3.0),
    "initial_vintages": (1e4, 1e7),
    "median_life": (1.0, 12.0),
    "shape": (0.8, 5.0),
    "growth": (0.5, 4.0),
    "training": (0.05, 1.0),
    "inference": (0.05, 1.0),
    "supply_cap": (1e5, 5e7),
    "order_lead": (0.0, 1.0),
    "power_cap": (1e8, 1e11),
    "h100e_per_accelerator": (0.3, 5.0),
    "hbm_gb_per_accelerator": (10.0, 400.0),
    "asp": (5e3, 8e4),
    "system_watts": (300.0, 3000.0),
    "hbm_price": (3.0, 40.0),
    "accelerator_capex_share": (0.3, 1.0),
    "pue": (1.0, 2.0),
    "load": (0.3, 1.0),
}
"""Realistic range of each parameter, in its unit; draws stay (mostly) inside it."""


def _default_range(domain: Domain) -> tuple[float, float]:
    """A moderate range inside a domain, e.g. ``[0, 10]`` for ``>= 0``, ``[1, 11]`` for ``>= 1``."""
    if math.isfinite(domain.low):
        lo = domain.low + (0.1 if domain.low_open else 0.0)
    else:
        lo = min(-10.0, domain.high - 20.0)
    hi = min(domain.high, lo + 10.0) if math.isfinite(domain.high) else lo + 10.0
    if domain.high_open and hi >= domain.high:
        hi = domain.high - 0.01 * (domain.high - lo)
    return lo, hi


_fractions = st.floats(0.0, 1.0, allow_nan=False, allow_infinity=False)


def _at(lo: float, hi: float, t: float) -> float:
    """The point a fraction ``t`` of the way from ``lo`` to ``hi`` (geometric on wide ranges)."""
    x = lo * (hi / lo) ** t if lo > 0 and hi / lo > 20 else lo + t * (hi - lo)
    return float(min(max(x, lo), hi))


def _range_for(domain: Domain, low: float | None, high: float | None) -> tuple[float, float]:
    lo, hi = _default_range(domain)
    lo = lo if low is None else low
    hi = hi if high is None else high
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        msg = f"need a finite range low < high inside {domain.describe()} (got {lo}, {hi})"
        raise ValueError(msg)
    if domain.low_open and lo <= domain.low:
        msg = f"the range must exclude the open end of {domain.describe()} (got low={lo})"
        raise ValueError(msg)
    return lo, hi


@st.composite
def distributions(
    draw: st.DrawFn,
    domain: Domain = ANY,
    *,
    low: float | None = None,
    high: float | None = None,
    forms: Sequence[str] = SCALAR_FORMS,
    extremes: Sequence[float] = (),
) -> Any:
    """A scalar parameter as written in YAML, valid in ``domain``.

    Every form of MODEL.md §6: a plain number, the ``"LOW to HIGH"`` shorthand, and each
    distribution ``kind`` (fixed, uniform, loguniform, normal, truncnormal with two or one
    finite bounds, lognormal by median/sigma or by p5/p95, triangular, pert, beta,
    choice with or without weights). Bounded kinds lie inside ``[low, high]`` (default: a
    moderate range inside the domain); kinds with unbounded tails have their central 90%
    there (their tails are truncated to the domain by the sampler). Kinds that need
    positive values (loguniform, lognormal, a positive interval) are drawn on the
    positive part of the range. With ``extremes``, about one draw in five is one of those
    values exactly, as a number or ``fixed`` (e.g. an elasticity of 0, a magnitude of 1).
    """
    lo, hi = _range_for(domain, low, high)
    if extremes and draw(st.integers(0, 4)) == 0:
        value = draw(st.sampled_from(list(extremes)))
        return draw(st.sampled_from([value, {"kind": "fixed", "value": value}]))
    plo = lo if lo > 0 else min(hi * 0.01, 1.0) if hi > 0 else math.nan
    allowed = [f for f in forms if not (math.isnan(plo) and f in ("loguniform", "lognormal"))]
    form = draw(st.sampled_from(allowed))

    def interval(a: float, b: float, gap: float = 0.02) -> tuple[float, float]:
        t1 = draw(st.floats(0.0, 1.0 - gap))
        t2 = draw(st.floats(t1 + gap, 1.0))
        return _at(a, b, t1), _at(a, b, t2)

    def inner(a: float, b: float) -> tuple[float, float]:
        # strictly inside [a, b]: a 90% interval recomputed in floating point may move by
        # an ulp, and must not leave a closed domain end such as 0 or 1
        x, y = interval(_at(a, b, 0.01), _at(a, b, 0.99))
        return x, y

    if form == "number":
        return _at(lo, hi, draw(_fractions))
    if form == "fixed":
        return {"kind": "fixed", "value": _at(lo, hi, draw(_fractions))}
    if form == "interval":
        if lo > 0 or (domain.low < 0 and math.isinf(domain.low)):
            a, b = inner(plo if lo > 0 else lo, hi)
        else:
            a, b = inner(plo, hi)
        return f"{a!r} to {b!r}"
    if form == "uniform":
        a, b = interval(lo, hi)
        return {"kind": "uniform", "low": a, "high": b}
    if form == "loguniform":
        a, b = interval(plo, hi)
        return {"kind": "loguniform", "low": a, "high": b}
    if form == "normal":
        a, b = interval(lo, hi)
        return {"kind": "normal", "mean": 0.5 * (a + b), "sd": (b - a) / (2 * 1.7)}
    if form == "truncnormal":
        a, b = interval(lo, hi)
        mean = _at(a, 0.5 * (a + b), draw(_fractions))
        if draw(st.booleans()):
            sd = (b - a) * draw(st.floats(0.1, 2.0))
            return {"kind": "truncnormal", "mean": mean, "sd": sd, "low": a, "high": b}
        # one finite bound: the central 90% must stay below ``hi`` (the tail is truncated)
        sd = max((hi - mean) / 1.7 * draw(st.floats(0.1, 1.0)), 1e-9 * max(abs(hi), 1.0))
        return {"kind": "truncnormal", "mean": mean, "sd": sd, "low": a}
    if form == "lognormal":
        a, b = inner(plo, hi)
        if draw(st.booleans()):
            return {"kind": "lognormal", "p5": a, "p95": b}
        return {
            "kind": "lognormal",
            "median": math.sqrt(a * b),
            "sigma": math.log(b / a) / (2 * 1.7),
        }
    if form in ("triangular", "pert"):
        a, b = interval(lo, hi)
        mode = a + draw(_fractions) * (b - a)
        mode = min(max(mode, a), b)
        out: dict[str, Any] = {"kind": form, "low": a, "mode": mode, "high": b}
        if form == "pert" and draw(st.booleans()):
            out["lamb"] = draw(st.floats(1.0, 8.0))
        return out
    if form == "beta":
        a, b = interval(lo, hi)
        out = {
            "kind": "beta",
            "alpha": draw(st.floats(0.5, 5.0)),
            "beta": draw(st.floats(0.5, 5.0)),
        }
        if (a, b) != (0.0, 1.0) or draw(st.booleans()):
            out.update(low=a, high=b)
        return out
    # choice
    values = draw(st.lists(_fractions.map(lambda t: _at(lo, hi, t)), min_size=1, max_size=4))
    out = {"kind": "choice", "values": values}
    if draw(st.booleans()):
        weights = draw(st.lists(st.floats(0.0, 5.0), min_size=len(values), max_size=len(values)))
        if sum(weights) <= 0:
            weights[0] = 1.0
        out["weights"] = weights
    return out


def scalar_params(name: str, **kwargs: Any) -> st.SearchStrategy[Any]:
    """``distributions`` in the schema's domain and the realistic range (``RANGES``) of a
    named parameter, e.g. ``scalar_params("magnitude.level", extremes=(1.0,))``."""
    lo, hi = RANGES[name]
    return distributions(SCHEMA_DOMAINS[name.split(".", maxsplit=1)[0]], low=lo, high=hi, **kwargs)


@st.composite
def paths(
    draw: st.DrawFn,
    name: str,
    *,
    first_year: int,
    base_year: int,
    end_year: int,
    forms: Sequence[str] = PATH_FORMS,
    extremes: Sequence[float] = (),
) -> Any:
    """A path parameter as written in YAML (MODEL.md §6), valid for the field ``name``.

    ``name`` is a key of ``PATH_DOMAINS`` (``growth``, ``training``, ``asp`` ...): it
    gives the domain and the realistic range. Forms: a constant scalar (any distribution),
    ``anchors`` (1-4 anchor years, each a scalar, ``interpolate`` log, linear or left
    to its default), ``{start, end}`` and ``{from, value, growth}``. Anchors lie in the
    years the path is used for: ``first_year`` (the first initial vintage) on for chip
    paths, which with more than one anchor always start at or before it, else
    ``base_year`` on. ``extremes`` apply to constant paths only.
    """
    chip = name not in ("growth", "training", "inference", "supply_cap", "power_cap")
    start = first_year if chip else base_year
    # a power cap is given from the first projection year on (never extrapolated back)
    latest_start = base_year + 1 if name == "power_cap" else end_year
    form = draw(st.sampled_from(list(forms)))
    if form == "constant":
        return draw(scalar_params(name, extremes=extremes))
    if form == "anchors":
        years = draw(st.lists(st.integers(start, end_year), min_size=1, max_size=4, unique=True))
        if chip and len(years) > 1 and min(years) > first_year:
            years[0] = draw(st.integers(first_year - 3, first_year))
            years = sorted(set(years))
        if min(years) > latest_start:
            years = sorted({*years, draw(st.integers(start, latest_start))})
        interpolate = draw(st.sampled_from([None, "log", "linear"]))
        out: dict[str, Any] = {"anchors": {y: draw(scalar_params(name)) for y in sorted(years)}}
        if interpolate is not None:
            out["interpolate"] = interpolate
        return out
    if form == "start-end":
        return {
            "start": draw(scalar_params(name)),
            "end": draw(scalar_params(name)),
        }
    # A {from, value, growth} path may not leave its domain (the schema refuses it):
    # fields bounded above (utilization, load, capex share, baseline growth) only shrink,
    # PUE (>= 1) only grows, each with a bounded growth; the rest grow or shrink freely.
    domain = PATH_DOMAINS[name]
    growth: Any
    if math.isfinite(domain.high):
        growth = draw(
            st.one_of(_floats(0.9, 1.0), st.just({"kind": "uniform", "low": 0.9, "high": 1.0}))
        )
    elif domain.low >= 1.0:
        growth = draw(
            st.one_of(_floats(1.0, 1.1), st.just({"kind": "uniform", "low": 1.0, "high": 1.1}))
        )
    else:
        growth = draw(distributions(POSITIVE, low=0.9, high=1.1))
    return {
        "from": draw(st.integers(start - 2, latest_start)),
        "value": draw(scalar_params(name)),
        "growth": growth,
    }


@st.composite
def elasticities(draw: st.DrawFn) -> Any:
    """An elasticity: a bare scalar (short = long), or ``short``/``long``/``adjustment``."""
    e = scalar_params("elasticity", extremes=(0.0, 1.0))
    form = draw(st.sampled_from(["bare", "short", "long", "both"]))
    if form == "bare":
        return draw(e)
    out: dict[str, Any] = {}
    if form in ("short", "both"):
        out["short"] = draw(e)
    if form in ("long", "both"):
        out["long"] = draw(e)
    if draw(st.booleans()):
        out["adjustment"] = draw(scalar_params("adjustment"))
    return out


@st.composite
def segments(
    draw: st.DrawFn, *, base_year: int, end_year: int, min_size: int = 1, max_size: int = 4
) -> list[dict[str, Any]]:
    """Demand segments of either kind, unique names, shares summing to 1 (some may be 0)."""
    names = draw(
        st.lists(st.sampled_from(SEGMENT_NAMES), min_size=min_size, max_size=max_size, unique=True)
    )
    weights = [draw(st.sampled_from([0.0, 1.0]) | st.floats(0.01, 1.0)) for _ in names]
    if sum(weights) == 0.0:
        weights[-1] = 1.0
    total = math.fsum(weights)
    out = []
    for name, w in zip(names, weights, strict=True):
        seg: dict[str, Any] = {
            "name": name,
            "kind": draw(st.sampled_from(["training", "inference"])),
            "share": w / total,
            "growth": draw(
                paths("growth", first_year=base_year, base_year=base_year, end_year=end_year)
            ),
        }
        if draw(st.booleans()):
            seg["elasticity"] = draw(elasticities())
        if draw(st.booleans()):
            seg["pass_through"] = draw(scalar_params("pass_through", extremes=(0.0, 1.0)))
        out.append(seg)
    return out


@st.composite
def shocks(
    draw: st.DrawFn,
    *,
    segment_names: Sequence[str],
    base_year: int,
    end_year: int,
    max_size: int = 3,
) -> list[dict[str, Any]]:
    """Level and trend shocks, any onset in the projection years, on segments or kinds.

    Level shocks have no ``adoption`` or any subset of its keys; magnitude 1 and
    ceiling 0 (a shock that changes nothing) are among the extremes drawn.
    """
    n = draw(st.integers(0, max_size))
    targets = [*segment_names, "training", "inference"]
    out = []
    for m in range(n):
        kind = draw(st.sampled_from(["level", "trend"]))
        shock: dict[str, Any] = {
            "name": f"shock{m}",
            "type": kind,
            "onset": draw(st.integers(base_year + 1, end_year)),
            "magnitude": draw(scalar_params(f"magnitude.{kind}", extremes=(1.0,))),
            "applies_to": draw(st.lists(st.sampled_from(targets), min_size=1, unique=True)),
        }
        if kind == "level" and draw(st.booleans()):
            keys = draw(st.sets(st.sampled_from(["ceiling", "delay", "width"])))
            adoption: dict[str, Any] = {}
            if "ceiling" in keys:
                adoption["ceiling"] = draw(scalar_params("ceiling", extremes=(0.0, 1.0)))
            if "delay" in keys:
                adoption["delay"] = draw(scalar_params("delay", extremes=(0.0,)))
            if "width" in keys:
                adoption["width"] = draw(scalar_params("width"))
            shock["adoption"] = adoption
        out.append(shock)
    return out


@st.composite
def fleets(
    draw: st.DrawFn,
    *,
    base_year: int,
    end_year: int,
    min_vintages: int = 1,
    max_vintages: int = 5,
    supply_cap: bool | None = None,
    order_lead: bool | None = None,
    power_cap: bool | None = None,
) -> dict[str, Any]:
    """Initial vintages (consecutive years ending at the base year; the base-year one
    positive, others sometimes 0), median life (1 year among the extremes), Weibull shape
    (sometimes left to its default), a supply cap, an order lead (0 and 1 among the
    extremes) and a power cap, each present or absent (None draws either)."""
    n = draw(st.integers(min_vintages, max_vintages))
    years = list(range(base_year - n + 1, base_year + 1))
    vintages: dict[int, Any] = {}
    for y in years:
        if y == base_year:  # positive, so the base-year fleet is > 0
            forms = [f for f in SCALAR_FORMS if f != "normal"]
            vintages[y] = draw(scalar_params("initial_vintages", forms=forms))
        else:
            vintages[y] = draw(scalar_params("initial_vintages", extremes=(0.0,)))
    out: dict[str, Any] = {
        "initial_vintages": vintages,
        "median_life": draw(scalar_params("median_life", extremes=(1.0,))),
    }
    if draw(st.booleans()):
        out["shape"] = draw(scalar_params("shape"))
    has_cap = draw(st.booleans()) if supply_cap is None else supply_cap
    if has_cap:
        out["supply_cap"] = draw(
            paths(
                "supply_cap",
                first_year=years[0],
                base_year=base_year,
                end_year=end_year,
                extremes=(0.0,),
            )
        )
    if draw(st.booleans()) if order_lead is None else order_lead:
        out["order_lead"] = draw(scalar_params("order_lead", extremes=(0.0, 1.0)))
    if draw(st.booleans()) if power_cap is None else power_cap:
        out["power_cap"] = draw(
            paths("power_cap", first_year=years[0], base_year=base_year, end_year=end_year)
        )
    return out


@st.composite
def chips(draw: st.DrawFn, *, first_year: int, base_year: int, end_year: int) -> dict[str, Any]:
    """Every chip path (MODEL.md §5), any form, covering the initial vintages' years."""
    extremes: dict[str, tuple[float, ...]] = {
        "pue": (1.0,),
        "load": (1.0,),
        "accelerator_capex_share": (1.0,),
    }
    return {
        name: draw(
            paths(
                name,
                first_year=first_year,
                base_year=base_year,
                end_year=end_year,
                extremes=extremes.get(name, ()),
            )
        )
        for name in (
            "h100e_per_accelerator",
            "hbm_gb_per_accelerator",
            "asp",
            "system_watts",
            "hbm_price",
            "accelerator_capex_share",
            "pue",
            "load",
        )
    }


@st.composite
def correlations(
    draw: st.DrawFn, uncertain: Sequence[str], *, max_pairs: int = 3, min_abs_rho: float = 0.0
) -> list[dict[str, Any]]:
    """Up to ``max_pairs`` Spearman correlations between distinct uncertain scalars.

    Always jointly valid: disjoint pairs get ``|rho| <= 0.7``; pairs that share a
    parameter get ``|rho| <= 0.3``, so the correlation target matrix is diagonally dominant.
    """
    if len(uncertain) < 2:
        return []
    n = draw(st.integers(1, max_pairs))
    pairs: list[tuple[str, str]] = []
    for _ in range(n):
        a, b = draw(
            st.lists(st.sampled_from(list(uncertain)), min_size=2, max_size=2, unique=True)
        )
        if {a, b} not in [set(p) for p in pairs]:
            pairs.append((a, b))
    disjoint = len({x for p in pairs for x in p}) == 2 * len(pairs)
    top = 0.7 if disjoint else 0.3
    lo = min(min_abs_rho, top)
    out = []
    for a, b in pairs:
        rho = draw(st.floats(lo, top)) * draw(st.sampled_from([-1.0, 1.0]))
        out.append({"between": [a, b], "rho": rho})
    return out


@st.composite
def scenario_dicts(
    draw: st.DrawFn,
    *,
    min_years: int = 1,
    max_years: int = 12,
    min_segments: int = 1,
    max_segments: int = 4,
    max_shocks: int = 3,
    min_vintages: int = 1,
    max_vintages: int = 5,
    supply_cap: bool | None = None,
    order_lead: bool | None = None,
    power_cap: bool | None = None,
    correlated: bool | None = None,
    min_abs_rho: float = 0.0,
    methods: Sequence[str] = ("random", "lhs", "sobol"),
    samples: int = 64,
) -> dict[str, Any]:
    """A valid scenario as plain data (what a YAML file holds, short forms included).

    Covers every shape of the language: ``min_years..max_years`` projection years (one
    year included), 1-4 segments of either kind, 0-3 level/trend shocks on segment
    names or kinds, every scalar form and path form, a supply cap, an order lead and a
    power cap each present or absent (``supply_cap``, ``order_lead``, ``power_cap``:
    None draws either), correlations present or absent (``correlated``
    None draws either), and ``sampling`` with one of ``methods``, ``samples`` and a seed.
    """
    horizon = draw(st.integers(min_years, max_years))
    base = draw(st.integers(2000, 2040))
    end = base + horizon
    segs = draw(
        segments(base_year=base, end_year=end, min_size=min_segments, max_size=max_segments)
    )
    fleet = draw(
        fleets(
            base_year=base,
            end_year=end,
            min_vintages=min_vintages,
            max_vintages=max_vintages,
            supply_cap=supply_cap,
            order_lead=order_lead,
            power_cap=power_cap,
        )
    )
    first = min(fleet["initial_vintages"])
    d: dict[str, Any] = {
        "name": draw(st.sampled_from(["t", "scenario", "Deep-seek_2"])),
        "years": {"base_year": base, "end_year": end},
        "demand": {"segments": segs},
        "shocks": draw(
            shocks(
                segment_names=[s["name"] for s in segs],
                base_year=base,
                end_year=end,
                max_size=max_shocks,
            )
        ),
        "utilization": {
            kind: draw(
                paths(kind, first_year=first, base_year=base, end_year=end, extremes=(1.0,))
            )
            for kind in ("training", "inference")
        },
        "fleet": fleet,
        "chips": draw(chips(first_year=first, base_year=base, end_year=end)),
        "sampling": {
            "method": draw(st.sampled_from(list(methods))),
            "samples": samples,
            "seed": draw(st.integers(0, 2**32 - 1)),
        },
    }
    if correlated is None:
        correlated = draw(st.booleans())
    if correlated:
        scenario = Scenario.model_validate(d)
        whole_paths = {where for where, _ in scenario.paths()}  # constant paths: not scalars
        uncertain = [p for p in scenario.uncertain() if p not in whole_paths]
        d["correlations"] = draw(correlations(uncertain, min_abs_rho=min_abs_rho))
    return d


def scenarios(**kwargs: Any) -> st.SearchStrategy[Scenario]:
    """Validated :class:`Scenario` objects; keyword arguments as :func:`scenario_dicts`."""
    return scenario_dicts(**kwargs).map(Scenario.model_validate)
