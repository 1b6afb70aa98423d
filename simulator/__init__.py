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

Runs too large to keep every sample use :func:`simulate_summary`, which summarizes block by
block in bounded memory and returns the table and the answers (what ``jevons run`` does)::

    run = simulate_summary(scenario, 10_000_000, rng=42)
    run.summary.value("impact", "hbm_gb", 2027, "p50")
    run.answers
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    __version__: str
    from simulator.engine import answer_questions, simulate, simulate_summary
    from simulator.errors import ScenarioError, SimulationError
    from simulator.io import load_scenario, resolve_scenario
    from simulator.result import RunSummary, SimulationResult
    from simulator.schema import Scenario
    from simulator.summary import SummaryTable, summarize

_LAZY: dict[str, str] = {
    "Scenario": "simulator.schema",
    "ScenarioError": "simulator.errors",
    "SimulationError": "simulator.errors",
    "SimulationResult": "simulator.result",
    "RunSummary": "simulator.result",
    "SummaryTable": "simulator.summary",
    "answer_questions": "simulator.engine",
    "load_scenario": "simulator.io",
    "resolve_scenario": "simulator.io",
    "simulate": "simulator.engine",
    "simulate_summary": "simulator.engine",
    "summarize": "simulator.summary",
}
"""Public names and their modules, imported on first use (so the CLI starts at once)."""


def __getattr__(name: str) -> Any:
    """Import a public name's module on first access (PEP 562)."""
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("jevons")
        except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
            found = "0+unknown"
        globals()[name] = found
        return found
    try:
        module = _LAZY[name]
    except KeyError:
        msg = f"module 'simulator' has no attribute {name!r}"
        raise AttributeError(msg) from None
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "RunSummary",
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
    "simulate_summary",
    "summarize",
]
