"""The shipped scenarios: valid, schema-conformant, calibrated, and telling their story.

Calibration targets are the 2024 facts of docs/calibration.md (sources.md §4, §5, §7).
"""

from __future__ import annotations

from pathlib import Path

import jsonschema
import numpy as np
import pytest

from simulator.engine import answer_questions, simulate
from simulator.io import load_scenario, read_yaml, resolve_scenario, scenario_json_schema
from simulator.result import SimulationResult

ROOT = Path(__file__).parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
N = 4_000


@pytest.fixture(scope="module")
def runs() -> dict[str, SimulationResult]:
    return {p.stem: simulate(load_scenario(p), N, rng=1) for p in SCENARIOS}


def at(r: SimulationResult, variant: str, metric: str, year: int) -> np.ndarray:
    return r.variant(variant)[metric][:, r.years.index(year)]


def test_all_five_scenarios_are_shipped() -> None:
    assert {p.stem for p in SCENARIOS} == {
        "base",
        "deepseek",
        "deepseek-face-value",
        "bull",
        "bear",
    }


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario_validates_against_json_schema(path: Path) -> None:
    validator = jsonschema.Draft7Validator(scenario_json_schema())
    validator.validate(resolve_scenario(path).data)  # the resolved scenario
    raw = read_yaml(path)
    if "extends" not in raw:  # a child may leave required keys of merged items to its parent
        validator.validate(raw)
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=../docs/scenario.schema.json"


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario_has_questions_and_sources(path: Path) -> None:
    sc = load_scenario(path)
    assert sc.questions
    assert "FACTS" in path.read_text(encoding="utf-8")


def test_deepseek_asks_whether_hbm_2027_falls(runs: dict[str, SimulationResult]) -> None:
    sc = load_scenario(ROOT / "scenarios" / "deepseek.yaml")
    q = next(q for q in sc.questions if q.name == "hbm_2027_below_counterfactual")
    assert (q.metric, q.year, q.op, q.than) == ("hbm_gb", 2027, "<", "counterfactual")
    answers = {a.name: a.probability for a in answer_questions(sc, runs["deepseek"])}
    assert 0.0 < answers["hbm_2027_below_counterfactual"] < 1.0


def test_base_2024_matches_facts(runs: dict[str, SimulationResult]) -> None:
    r = runs["base"]

    def median(metric: str) -> float:
        return float(np.median(at(r, "with_shocks", metric, 2024)))

    # AI 2027 Compute Forecast: 8.5M H100e cumulative, 5M produced in 2024.
    assert median("installed_h100e") == pytest.approx(8.5e6, rel=0.10)
    assert median("shipments_h100e") == pytest.approx(5.0e6, rel=0.10)
    # Accelerator revenue ~$128-141B (Nvidia DC $115.2B + AMD + Broadcom + TPU).
    assert 115e9 < median("accelerator_revenue") < 155e9
    # HBM revenue $16-18.2B (Micron TAM, TrendForce); we are low by up to ~20%.
    assert 13e9 < median("hbm_revenue") < 19e9
    # AI 2027: 9 GW of AI data-centre power in 2024.
    assert median("power_w") == pytest.approx(9e9, rel=0.20)


def test_supply_is_tight_through_2026_not_everywhere(runs: dict[str, SimulationResult]) -> None:
    # docs/calibration.md: supply (CoWoS, HBM) binds on some paths in 2025-2026 (FACTS §4.4,
    # §4.6), hardly in 2027-2028; by 2030 the power cap binds on the fast-growing tail only.
    r = runs["base"]
    binds = {y: float(np.mean(at(r, "with_shocks", "unmet_h100e", y) > 0)) for y in r.years}
    assert binds[2024] == 0.0  # observed
    for year in (2025, 2026):
        assert 0.1 < binds[year] < 0.6, (year, binds[year])
    for year in (2027, 2028):
        assert binds[year] < 0.1, (year, binds[year])
    assert 0.02 < binds[2030] < 0.35, binds[2030]


def test_shock_stories(runs: dict[str, SimulationResult]) -> None:
    def impact(name: str, metric: str, year: int) -> float:
        return float(np.median(at(runs[name], "impact", metric, year)))

    # DeepSeek: a short-run dip (elasticity ~0.7 within the year), Jevons later (~1.2).
    assert impact("deepseek", "compute_total", 2025) < 1.0
    assert impact("deepseek", "compute_total", 2030) > 1.0
    # Face value: the shock is so large that the first year's cut is much deeper.
    assert impact("deepseek-face-value", "compute_total", 2025) < impact(
        "deepseek", "compute_total", 2025
    )
    # Bull: demand ends above the no-shock path; bear: below it.
    assert impact("bull", "hbm_gb", 2030) > 1.1
    assert impact("bear", "hbm_gb", 2030) < 0.9
    # Without the shock, bull and bear differ only by their named assumptions.
    bull_cf = np.median(at(runs["bull"], "counterfactual", "accelerator_revenue", 2030))
    bear_cf = np.median(at(runs["bear"], "counterfactual", "accelerator_revenue", 2030))
    assert bull_cf > bear_cf
