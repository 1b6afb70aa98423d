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
) -> ModelInputs:
    """Random valid :class:`ModelInputs` for ``n`` samples (drawn 1-4 when None).

    Covers: ``T`` projection years in ``min_years..max_years``; 1-5 segments of either
    kind (shares sum to 1, sometimes a zero share); 0-3 shocks of type ``level`` or
    ``trend``, onset in ``1..T``, each on a non-empty subset of segments; extreme but
    valid values (elasticity 0, magnitude 1, ceiling 0 or 1, pass-through 0 or 1,
    median life 1 year, ``T = 1``); a supply cap absent or present (``supply_cap``
    None draws either; present caps are scaled to the base fleet, often binding, and
    can be 0); ``V`` initial vintages with a positive sum; positive chip paths with
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
        ),
        chips=chips,
    )
