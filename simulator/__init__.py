"""jevons: an AI compute demand scenario simulator.

The Python API follows the data's way through the program::

    from simulator import load_scenario, simulate, summarize, answer_questions

    scenario = load_scenario("scenarios/deepseek.yaml", ["sampling.samples=5000"])
    result = simulate(scenario, rng=42)              # per-sample paths, both variants
    table = summarize(
        {v: result.variant(v) for v in ("with_shocks", "counterfactual", "impact")},
        result.years,
        scenario=scenario.name,
    )
    table.value("impact", "hbm_gb", 2027, "p50")     # median impact on HBM in 2027
    answer_questions(scenario, result)               # the scenario's questions
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from simulator.engine import answer_questions, simulate
from simulator.errors import ScenarioError, SimulationError
from simulator.io import load_scenario, resolve_scenario
from simulator.result import SimulationResult
from simulator.schema import Scenario
from simulator.summary import SummaryTable, summarize

try:
    __version__ = version("jevons")
except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
    __version__ = "0+unknown"

__all__ = [
    "Scenario",
    "ScenarioError",
    "SimulationError",
    "SimulationResult",
    "SummaryTable",
    "__version__",
    "answer_questions",
    "load_scenario",
    "resolve_scenario",
    "simulate",
    "summarize",
]
