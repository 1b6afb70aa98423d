"""The scenario schema: domains, truncation rule, parameter names, correlations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from simulator.io import load_scenario
from simulator.schema import Scenario
from simulator.schema.distributions import Fixed, LogNormal, Scalar
from simulator.schema.scenario import ELASTICITY, MAGNITUDE, UNIT, scalar_in

DEEPSEEK = Path(__file__).parents[2] / "scenarios" / "deepseek.yaml"


def test_interval_shorthand() -> None:
    ta: TypeAdapter[Any] = TypeAdapter(Scalar)
    assert ta.validate_python(3) == Fixed(value=3.0)
    assert ta.validate_python("2 to 4.5") == LogNormal(kind="lognormal", p5=2.0, p95=4.5)
    normal = ta.validate_python("-1 to 2")
    assert normal.kind == "normal"
    # 90% interval: mean the midpoint, sd = (high - low) / (2 * 1.6449)
    assert normal.mean == pytest.approx(0.5)
    assert normal.sd == pytest.approx(3 / (2 * 1.6448536269514722))


def test_unbounded_tails_need_only_their_central_90_percent_in_the_domain() -> None:
    magnitude: TypeAdapter[object] = TypeAdapter(scalar_in(MAGNITUDE))
    magnitude.validate_python("1.5 to 10")  # P(M < 1) ~ 1%: accepted, truncated when drawn
    with pytest.raises(ValidationError, match=r"90% interval .* is \[0.5, 3\]"):
        magnitude.validate_python("0.5 to 3")
    unit: TypeAdapter[object] = TypeAdapter(scalar_in(UNIT))
    with pytest.raises(ValidationError, match="choose bounds inside the domain"):
        unit.validate_python({"kind": "uniform", "low": 0.5, "high": 1.2})
    with pytest.raises(ValidationError, match=r"must be in \[0, 10\] \(got 12\)"):
        TypeAdapter(scalar_in(ELASTICITY)).validate_python(12)


def test_parameter_domains_match_the_field_annotations() -> None:
    # Scenario.parameters() repeats each field's domain for the sampler's truncation;
    # a value just outside that domain must be rejected by the field itself.
    sc = load_scenario(DEEPSEEK)
    data: Any = sc.model_dump(mode="json", by_alias=True)
    checked = 0
    for path, _, domain in sc.parameters():
        if not path.startswith(("shocks.deepseek.magnitude", "demand.segments.chat.pass")):
            continue
        parts = path.split(".")
        node: Any = data
        for p in parts[:-1]:
            node = next(x for x in node if x["name"] == p) if isinstance(node, list) else node[p]
        node[parts[-1]] = domain.high + 1 if domain.high < float("inf") else domain.low - 1
        with pytest.raises(ValidationError):
            Scenario.model_validate(data)
        checked += 1
        data = sc.model_dump(mode="json", by_alias=True)
    assert checked == 2


def test_bare_elasticity_keeps_correlations_written_for_short_and_long() -> None:
    sc = load_scenario(DEEPSEEK, ["demand.segments.chat.elasticity=1 to 2"])
    assert sc.canonical("demand.segments.chat.elasticity.short") == (
        "demand.segments.chat.elasticity.long"
    )
    assert sc.canonical("demand.segments.reasoning.elasticity.short") == (
        "demand.segments.reasoning.elasticity.short"
    )
    names = {x for a, b, _ in sc.active_correlations() for x in (a, b)}
    assert "demand.segments.chat.elasticity.long" in names


def test_correlation_with_a_fixed_parameter_is_ignored() -> None:
    sc = load_scenario(DEEPSEEK, ["shocks.deepseek.magnitude=3"])
    assert all("shocks.deepseek.magnitude" not in (a, b) for a, b, _ in sc.active_correlations())
    full = load_scenario(DEEPSEEK)
    assert len(full.active_correlations()) == len(sc.active_correlations()) + 1
