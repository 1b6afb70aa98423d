"""Golden tests: every shipped scenario at a fixed seed and modest sample count.

The stored summaries (``tests/golden/<scenario>.json``) are the numbers a user got
from this version. A change to the model, the sampling or a scenario that moves them
must be deliberate: regenerate with ``python -m pytest tests/golden --regen-golden``
and explain the diff in the commit.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from simulator.engine import answer_questions, simulate
from simulator.io import load_scenario
from simulator.summary import summarize

ROOT = Path(__file__).parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
HERE = Path(__file__).parent
SAMPLES = 2_000
SEED = 20240601
METRICS = (
    "compute_total",
    "inference_share",
    "installed_h100e",
    "shipments_h100e",
    "shipments_units",
    "unmet_h100e",
    "hbm_gb",
    "accelerator_revenue",
    "hbm_revenue",
    "datacenter_capex",
    "power_w",
)
STATISTICS = ("mean", "p5", "p50", "p95")


def golden_summary(path: Path) -> dict[str, Any]:
    sc = load_scenario(path)
    result = simulate(sc, SAMPLES, rng=SEED)
    table = summarize(
        {v: result.variant(v) for v in ("with_shocks", "counterfactual")},
        result.years,
        scenario=sc.name,
    )
    out: dict[str, Any] = {"scenario": sc.name, "samples": SAMPLES, "seed": SEED, "values": {}}
    for variant in ("with_shocks", "counterfactual"):
        for metric in METRICS:
            for stat in STATISTICS:
                out["values"][f"{variant}/{metric}/{stat}"] = [
                    table.value(variant, metric, year, stat) for year in result.years
                ]
    out["answers"] = {a.name: a.probability for a in answer_questions(sc, result)}
    return out


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_shipped_scenario_matches_golden(path: Path, request: pytest.FixtureRequest) -> None:
    got = golden_summary(path)
    golden = HERE / f"{path.stem}.json"
    if request.config.getoption("--regen-golden") or not golden.exists():
        golden.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        if not request.config.getoption("--regen-golden"):
            pytest.fail(f"no golden file for {path.name}; wrote {golden.name}, review it")
        return
    want = json.loads(golden.read_text(encoding="utf-8"))
    assert got["answers"] == pytest.approx(want["answers"], rel=1e-9, abs=1e-12)
    assert set(got["values"]) == set(want["values"])
    for key, values in want["values"].items():
        for year_index, (g, w) in enumerate(zip(got["values"][key], values, strict=True)):
            assert math.isclose(g, w, rel_tol=1e-9, abs_tol=1e-12), (key, year_index, g, w)
