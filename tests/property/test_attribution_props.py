"""Attribution adds up: Shapley contributions sum to the gap, for random pairs of scenarios.

Each example builds two scenarios from ``tests/data/valid.yaml``, each with a random subset of
a menu of changes (fixed numbers and distributions, in demand, shocks, fleet and chips), and
attributes the gap in a random statistic of a random metric and year. Efficiency of the
Shapley value (Shapley 1953) says the contributions add up to ``v(B) - v(A)``; it must hold
exactly (to rounding) both when every subset is simulated and when orders are sampled.
"""

from __future__ import annotations

import math
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.attribution import attribute
from simulator.io import resolve_scenario

VALID = Path(__file__).parents[1] / "data" / "valid.yaml"


def _num(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False).map(lambda x: round(x, 3))


MENU: dict[str, st.SearchStrategy[str]] = {
    "chips.pue": _num(1.05, 1.8).map(str),
    "chips.load": _num(0.3, 0.7).map(lambda lo: f"{{kind: uniform, low: {lo}, high: {lo + 0.2}}}"),
    "fleet.median_life": _num(3.5, 7.5).map(
        lambda m: f"{{kind: triangular, low: 3, mode: {m}, high: 8}}"
    ),
    "demand.segments.chat.elasticity.long": _num(0.3, 2.0).map(str),
    # P5 = median * exp(-1.645 * 0.3) >= 1.8: inside the magnitude's domain [1, 1e4]
    "shocks.deepseek.magnitude": _num(3.0, 6.0).map(
        lambda m: f"{{kind: lognormal, median: {m}, sigma: 0.3}}"
    ),
    "utilization.training": _num(0.2, 0.8).map(str),
    "chips.hbm_gb_per_accelerator": _num(60.0, 300.0).map(str),
}


@st.composite
def scenario_overrides(draw: st.DrawFn) -> tuple[str, ...]:
    keys = draw(st.lists(st.sampled_from(sorted(MENU)), max_size=3, unique=True))
    return tuple(f"{k}={draw(MENU[k])}" for k in keys)


@settings(max_examples=8, deadline=None)
@given(
    a=scenario_overrides(),
    b=scenario_overrides(),
    metric=st.sampled_from(["hbm_gb", "power_w", "shipments_units", "accelerator_revenue"]),
    year=st.integers(2025, 2030),
    statistic=st.sampled_from(["p50", "mean", "p90"]),
    seed=st.integers(0, 2**32 - 1),
    sampled=st.booleans(),
)
def test_contributions_add_up_to_the_gap(
    a: tuple[str, ...],
    b: tuple[str, ...],
    metric: str,
    year: int,
    statistic: str,
    seed: int,
    sampled: bool,
) -> None:
    ra, rb = resolve_scenario(VALID, a).data, resolve_scenario(VALID, b).data
    r = attribute(
        ra,
        rb,
        metric=metric,
        year=year,
        statistic=statistic,
        samples=300,
        rng=seed,
        exact_max=1 if sampled else 10,
        permutations=3,
    )
    total = math.fsum(r.contributions)
    scale = max(abs(r.value_a), abs(r.value_b), 1e-300)
    assert abs(total - r.gap) <= 1e-9 * scale, (total, r.gap)
    assert r.method == ("sampled" if sampled and len(r.players) > 1 else "exact")
    assert len(r.players) <= len(set(a) | set(b))
