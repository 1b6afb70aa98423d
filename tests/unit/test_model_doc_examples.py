"""The worked examples of ``docs/model.md``, computed by the model's own functions.

Every figure the page states for these examples comes from here, so that the page cannot
drift from the code. The expected values are worked by hand from MODEL.md version 2 (the
closed forms are in each test) and rounded as the page rounds them.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from simulator.model import demand, fleet

PAGE = Path(__file__).resolve().parents[2] / "docs" / "model.md"

# docs/model.md §3.4: a trend shock r = 2 from onset k_m = 1, eps_short 0.3, eps_long 1.5,
# a = 1, pi = 1; C/B by year k = 0..4 in version 2 (per-increment clock) and version 1.
CLOCK_V2 = (1.0, 1.0, 0.616, 0.641, 0.810)
CLOCK_V1 = (1.0, 1.0, 1.041, 1.597, 2.498)


def _clock() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n_years = 5
    baseline = np.ones((1, n_years))
    x = demand.trend_efficiency(np.array([2.0]), 1, n_years)
    short, long, a, pi = np.array([0.3]), np.array([1.5]), np.array([1.0]), np.array([1.0])
    v2 = demand.physical_compute(
        baseline, demand.log_efficiency_gain([x], baseline), short, long, a, pi
    )
    eps = demand.elasticity(short, long, a, 1, n_years)
    v1 = x ** (pi[:, None] * eps - 1.0)
    return x, v2, v1


def test_elasticity_clock_example() -> None:
    x, v2, v1 = _clock()
    np.testing.assert_allclose(x[0], [1.0, 1.0, 2.0, 4.0, 8.0], rtol=1e-14)
    np.testing.assert_allclose(v2[0], CLOCK_V2, atol=5e-4)
    np.testing.assert_allclose(v1[0], CLOCK_V1, atol=5e-4)
    # closed forms: k = 2: 2^(0.3 - 1); k = 3: 2^(eps(1) + eps(0) - 2), eps(1) = 1.5 - 1.2/e
    eps1 = 1.5 - 1.2 * math.exp(-1.0)
    assert v2[0, 2] == pytest.approx(2.0 ** (0.3 - 1.0), rel=1e-14)
    assert v2[0, 3] == pytest.approx(2.0 ** (eps1 + 0.3 - 2.0), rel=1e-14)
    assert v1[0, 2] == pytest.approx(2.0 ** (eps1 - 1.0), rel=1e-14)
    assert round(eps1, 3) == 1.059


# docs/model.md §5: one initial vintage of 100 H100e that never retires, K^B = 100, 200,
# 400, K = 100, 100, 200. Per phi: K-hat(1), Q_1, idle(1), K-hat(2), Q_2, idle(2).
LEAD = {
    0.0: (100.0, 0.0, 0.0, 200.0, 100.0, 0.0),
    0.5: (150.0, 50.0, 50.0, 200.0, 50.0, 0.0),
    1.0: (200.0, 100.0, 100.0, 200.0, 0.0, 0.0),
}


@pytest.mark.parametrize("phi", sorted(LEAD))
def test_order_lead_example(phi: float) -> None:
    required = np.array([[100.0, 100.0, 200.0]])
    trend = np.array([[100.0, 200.0, 400.0]])
    survival = fleet.survival_table(np.array([1e9]), np.array([3.0]), 4)  # S = 1 to 1e-26
    planned = fleet.planned_capacity(required, trend, np.array([phi]))
    paths = fleet.stock_flow(required, np.array([[100.0]]), survival, None, planned=planned)
    got = (
        planned[0, 1],
        paths.shipments[0, 1],
        paths.idle[0, 1],
        planned[0, 2],
        paths.shipments[0, 2],
        paths.idle[0, 2],
    )
    np.testing.assert_allclose(got, LEAD[phi], rtol=1e-12, atol=1e-9)
    np.testing.assert_array_equal(paths.unmet, np.zeros((1, 3)))


def test_power_cap_example() -> None:
    """100 surviving H100e at 1 kW each (load * PUE = 1) draw 100 kW; a 150 kW cap in year 1
    lets 50 of the 100 wanted ship (unmet 50); a loose cap in year 2 ships 250."""
    trend = np.array([[100.0, 200.0, 400.0]])
    survival = fleet.survival_table(np.array([1e9]), np.array([3.0]), 4)
    limit = fleet.PowerLimit(
        cap=np.array([[0.0, 150e3, 1e12]]),
        h100e_per_unit=np.ones((1, 3)),
        system_power=np.full((1, 3), 1000.0),
        load=np.ones((1, 3)),
        pue=np.ones((1, 3)),
    )
    paths = fleet.stock_flow(trend, np.array([[100.0]]), survival, None, power=limit)
    np.testing.assert_allclose(paths.shipments[0], [100.0, 50.0, 250.0], rtol=1e-12)
    np.testing.assert_allclose(paths.unmet[0], [0.0, 50.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(paths.installed[0], [100.0, 150.0, 400.0], rtol=1e-12)


def test_page_states_these_figures() -> None:
    """The page's tables hold the figures checked above (so a change to either is seen)."""
    text = PAGE.read_text(encoding="utf-8")
    for k, (two, one) in enumerate(zip(CLOCK_V2, CLOCK_V1, strict=True)):
        if k >= 3:
            assert f"| {k} | {2 ** (k - 1)} | {two:.3f} | {one:.3f} |" in text
    minus = "\N{MINUS SIGN}"  # the page writes formulas with the typographic minus
    row2 = (
        f"| 2 | 2 | 0.616 (`2^(0.3 {minus} 1)`) | 1.041 (`2^(ε(1) {minus} 1)`, `ε(1) = 1.059`) |"
    )
    assert row2 in text
    for phi, row in LEAD.items():
        cells = " | ".join(f"{v:g}" for v in row)
        assert f"| {phi:g} | {cells} |" in text
    assert "ships 50 of the 100 wanted" in text
    assert "ships 250" in text
