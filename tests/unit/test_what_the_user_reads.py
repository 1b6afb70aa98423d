"""What a strategist reads: display units and answers, each against a value worked by hand.

A wrong conversion factor (TWh, GW, EB, $B, M units) or a question answered on the wrong
variant (with the shocks, the counterfactual, the impact ratio) must fail here.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from rich.console import Console

from simulator.engine import answer_questions
from simulator.io import load_scenario
from simulator.report.tables import headline_table, questions_table
from simulator.report.units import display_unit, format_number
from simulator.result import SimulationResult
from simulator.summary import summarize

VALID = Path(__file__).resolve().parent.parent / "data" / "valid.yaml"


# --- units -----------------------------------------------------------------------------------

# (metric, value in the canonical unit, label, shown) with the arithmetic behind each:
UNIT_CASES = [
    # IEA 2030 base case, 945 TWh: 945 * 3.6e15 J/TWh = 3.402e18 J (1 TWh = 1e12 W * 3600 s)
    ("energy_j", 3.402e18, "TWh", "945"),
    # 108 GW = 1.08e11 W
    ("power_w", 1.08e11, "GW", "108"),
    # 2.5 EB of HBM = 2.5e18 B = 2.5e9 GB (1 GB = 1e9 B, 1 EB = 1e18 B)
    ("hbm_gb", 2.5e9, "EB", "2.50"),
    # $115.2B (Nvidia data-centre revenue CY2024, docs/sources.md §8) = 1.152e11 USD
    ("accelerator_revenue", 1.152e11, "$B", "115"),
    ("hbm_revenue", 1.8e10, "$B", "18.0"),  # $18B = 1.8e10 USD
    ("datacenter_capex", 1.0e12, "$B", "1,000"),  # $1T = 1e12 USD = 1,000 $B
    ("shipments_units", 7.2e6, "M units", "7.20"),  # 7.2 million accelerators
    ("installed_units", 1.25e7, "M units", "12.5"),
    ("installed_h100e", 4.0e6, "M H100e", "4.00"),
    ("compute_total", 5.82e28, "1e27 FLOP", "58.2"),  # 5.82e28 / 1e27
    ("inference_share", 0.45, "%", "45.0"),  # a fraction shown in percent
]


@pytest.mark.parametrize(("metric", "value", "label", "shown"), UNIT_CASES)
def test_display_unit_against_hand_computed_value(
    metric: str, value: float, label: str, shown: str
) -> None:
    unit = display_unit(metric)
    assert unit.label == label
    assert format_number(value, unit) == shown


def test_energy_and_power_agree() -> None:
    # A constant 1 GW for a (Julian) year is 8.766 TWh: the two factors are consistent.
    seconds = 365.25 * 24 * 3600
    joules = 1e9 * seconds
    assert math.isclose(joules * display_unit("energy_j").scale, 8.766, rel_tol=1e-12)
    assert math.isclose(1e9 * display_unit("power_w").scale, 1.0, rel_tol=1e-12)


def _result(years: tuple[int, ...], n: int, values: dict[str, float]) -> SimulationResult:
    """Every sample and year of each metric at one value, the counterfactual at half of it."""
    ws = {m: np.full((n, len(years)), v) for m, v in values.items()}
    cf = {m: a / 2.0 for m, a in ws.items()}
    return SimulationResult(
        scenario_name="units",
        resolved={},
        years=years,
        n_samples=n,
        seed=0,
        method="random",
        block_size=16_384,
        with_shocks=ws,
        counterfactual=cf,
        impact={m: ws[m] / cf[m] for m in ws},
    )


def test_headline_table_shows_hand_computed_values() -> None:
    years = (2024, 2025)
    values = {
        "power_w": 1.08e11,  # 108 GW with the shocks, 54.0 without
        "energy_j": 3.24e18,  # 3.24e18 J / 3.6e15 J/TWh = 900 TWh, 450 without
        "hbm_gb": 2.5e9,  # 2.50 EB, 1.25 without
        "accelerator_revenue": 1.152e11,  # 115 $B, 57.6 without
        "shipments_units": 7.2e6,  # 7.20 M units, 3.60 without
    }
    result = _result(years, 8, values)
    summary = summarize(
        {v: result.variant(v) for v in ("with_shocks", "counterfactual", "impact")},
        years,
        scenario="units",
    )
    console = Console(record=True, width=200)
    console.print(headline_table(result, summary, metrics=list(values), years=[2025]))
    text = console.export_text()
    for label in ("[GW]", "[TWh]", "[EB]", "[$B]", "[M units]"):
        assert label in text
    rows = [line for line in text.splitlines() if "2025" in line]
    cells = [line.replace("│", " ").split() for line in rows]
    # year, P5, P50, P95 with, P5, P50, P95 without, impact (with / without = 2)
    assert ["2025", "108", "108", "108", "54.0", "54.0", "54.0", "2.000x"] in cells
    assert ["2025", "900", "900", "900", "450", "450", "450", "2.000x"] in cells
    assert ["2025", "2.50", "2.50", "2.50", "1.25", "1.25", "1.25", "2.000x"] in cells
    assert ["2025", "115", "115", "115", "57.6", "57.6", "57.6", "2.000x"] in cells
    assert ["2025", "7.20", "7.20", "7.20", "3.60", "3.60", "3.60", "2.000x"] in cells


# --- answers on the right variant ------------------------------------------------------------

QUESTIONS = (
    "questions=["
    "{name: below_cf, metric: hbm_gb, year: 2027, op: '<', than: counterfactual},"
    "{name: cf_high, metric: hbm_gb, year: 2027, variant: counterfactual, op: '>', than: 4.5},"
    "{name: impact_low, metric: hbm_gb, year: 2027, variant: impact, op: '<=', than: 0.6},"
    "{name: ws_high, metric: hbm_gb, year: 2027, op: '>=', than: 3}"
    "]"
)


def test_questions_are_answered_on_their_variant() -> None:
    sc = load_scenario(VALID, [QUESTIONS])
    years = sc.years.all
    k = years.index(2027)
    n = 4
    ws: NDArray[np.float64] = np.ones((n, len(years)))
    cf: NDArray[np.float64] = np.ones((n, len(years)))
    ws[:, k] = [1.0, 2.0, 3.0, 4.0]
    cf[:, k] = [2.0, 2.0, 5.0, 5.0]
    result = SimulationResult(
        scenario_name="answers",
        resolved={},
        years=years,
        n_samples=n,
        seed=0,
        method="random",
        block_size=16_384,
        with_shocks={"hbm_gb": ws},
        counterfactual={"hbm_gb": cf},
        impact={"hbm_gb": ws / cf},  # 2027: 0.5, 1.0, 0.6, 0.8
    )
    got = {a.name: (a.probability, a.se) for a in answer_questions(sc, result)}

    def se(p: float) -> float:
        return math.sqrt(p * (1 - p) / n)

    # with < counterfactual: 1<2 yes, 2<2 no, 3<5 yes, 4<5 yes -> 3/4
    assert got["below_cf"] == pytest.approx((0.75, se(0.75)))
    # counterfactual > 4.5: 5 and 5 -> 2/4 (with the shocks it would be 0/4)
    assert got["cf_high"] == pytest.approx((0.5, se(0.5)))
    # impact <= 0.6: 0.5 and 0.6 -> 2/4 (with or without the shocks: 0/4)
    assert got["impact_low"] == pytest.approx((0.5, se(0.5)))
    # with the shocks >= 3: 3 and 4 -> 2/4 (the counterfactual would give 2/4 too, the
    # impact 0/4)
    assert got["ws_high"] == pytest.approx((0.5, se(0.5)))

    console = Console(record=True, width=200)
    console.print(questions_table(answer_questions(sc, result)))
    text = console.export_text()
    assert "75.0" in text  # percent
    assert "+/-21.65" in text  # sqrt(0.75 * 0.25 / 4) = 0.2165
