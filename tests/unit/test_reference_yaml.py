"""A reference test that starts from YAML (issue 7, item 3).

The scalar oracle alone reads the model's internal inputs, so input building (defaults,
path forms, ``extends``) was never checked against anything independent. Here each
deterministic scenario under ``tests/data/reference/`` is read twice:

- by ``tests/reference_inputs.py`` (``yaml.safe_load`` and plain Python, written from
  ``docs/scenarios.md`` alone, apart from ``simulator/sampling/`` and
  ``simulator/schema/``), then evaluated by the scalar oracle ``tests/reference_model.py``;
- by the program: ``simulator.load_scenario`` and ``simulator.simulate``;

and the two must agree on every metric, year and sample, with and without the shocks,
to 1e-9 relative to each metric's scale (MODEL.md §8.8; ``idle`` and ``unmet`` relative
to ``capacity_required``). Every value in these files is fixed, so every sample is the
same and the sampling design does not matter.

Two files need MODEL.md version 2 in the program and have their own test functions:
``v2_clock.yaml`` (short- and long-run elasticities met by gradual gains: version 1's
clock gives other numbers) and ``v2_order_lead_power_cap.yaml`` (the keys
``fleet.order_lead`` and ``fleet.power_cap``, which a version-1 schema rejects).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from simulator import SimulationResult, load_scenario, simulate
from simulator.model.inputs import ModelInputs
from tests.property.test_oracle import RTOL, SCALE_FROM, shipment_scales
from tests.reference_inputs import (
    NotDeterministic,
    UnknownKey,
    build_inputs,
    load_resolved,
    merge,
    number,
    path_values,
    reference_inputs,
)
from tests.reference_model import reference_evaluate

DATA = Path(__file__).parents[1] / "data" / "reference"

AGREE_IN_V1_AND_V2 = (
    "defaults.yaml",
    "paths.yaml",
    "supply_cap.yaml",
    "extends_parent.yaml",
    "extends_child.yaml",
)
"""Files on which MODEL.md versions 1 and 2 agree: every gradual gain meets one
elasticity (short = long), short != long only with a step adoption, no v2 keys."""

V2_CLOCK = "v2_clock.yaml"
V2_KEYS = "v2_order_lead_power_cap.yaml"


def assert_result_matches(inputs: ModelInputs, result: SimulationResult, label: str) -> None:
    """Every sample of ``result`` equals the oracle on the reader's one-sample ``inputs``.

    Tolerance 1e-9 of each metric's scale (MODEL.md §8.8), with the oracle test's
    scales: ``capacity_required`` for idle and unmet, and for the metrics built from
    shipments a floor of what they would be if every year shipped that capacity.
    """
    expected = {
        "with_shocks": reference_evaluate(inputs, 0),
        "counterfactual": reference_evaluate(dataclasses.replace(inputs, shocks=()), 0),
    }
    assert result.years == inputs.years
    for variant, want_all in expected.items():
        got_all = result.variant(variant)
        missing = sorted(set(want_all) - set(got_all))
        assert not missing, f"{label}: simulate() lacks metrics {missing}"
        capacity_scale = max(abs(x) for x in want_all["capacity_required"])
        floors = shipment_scales(inputs, 0, capacity_scale)
        for metric, want in want_all.items():
            own = max(abs(x) for x in want_all[SCALE_FROM.get(metric, metric)])
            got = np.asarray(got_all[metric], dtype=np.float64)
            n = result.n_samples
            assert got.shape == (n, len(want)), f"{label}: {variant} {metric} {got.shape}"
            for k, w in enumerate(want):
                scale = max(own, floors[metric][k]) if metric in floors else own
                tol = RTOL * scale
                for i in range(n):
                    g = float(got[i, k])
                    assert abs(g - w) <= tol, (
                        f"{label}: {variant} {metric} {inputs.years[k]} sample {i}: "
                        f"simulate {g!r} vs reference {w!r}, |diff| {abs(g - w):.3e} > "
                        f"tol {tol:.3e}"
                    )


def assert_matches_reference(name: str) -> None:
    """``simulate`` on ``DATA/name`` agrees with the independent reader and the oracle."""
    path = DATA / name
    result = simulate(load_scenario(path), 3, rng=20261201)
    assert_result_matches(reference_inputs(path), result, name)


@pytest.mark.parametrize("name", AGREE_IN_V1_AND_V2)
def test_yaml_scenario_matches_reference(name: str) -> None:
    assert_matches_reference(name)


def test_yaml_scenario_matches_reference_v2_clock() -> None:
    """MODEL.md v2 §2: each increment of efficiency starts at the short-run elasticity."""
    assert_matches_reference(V2_CLOCK)


def test_yaml_scenario_matches_reference_v2_keys() -> None:
    """MODEL.md v2 §4: ``fleet.order_lead: 0.5`` and a ``fleet.power_cap`` anchors path."""
    assert_matches_reference(V2_KEYS)


def test_every_reference_file_is_tested() -> None:
    files = {p.name for p in DATA.glob("*.yaml")}
    assert files == {*AGREE_IN_V1_AND_V2, V2_CLOCK, V2_KEYS}


def test_reference_files_exercise_what_they_claim() -> None:
    # The oracle's own view of the files: caps that bind in some years only, idle
    # capacity from the order lead, shocks that change compute.
    def run(name: str, *, shocks: bool = True) -> dict[str, list[float]]:
        inputs = reference_inputs(DATA / name)
        return reference_evaluate(inputs if shocks else dataclasses.replace(inputs, shocks=()), 0)

    capped = run("supply_cap.yaml")
    assert 0 < sum(u > 0 for u in capped["unmet_h100e"][1:]) < len(capped["unmet_h100e"]) - 1
    v2 = run(V2_KEYS)
    v2_cf = run(V2_KEYS, shocks=False)
    assert any(x > 0 for x in v2["idle_h100e"])  # the glut after the shock
    assert v2_cf["unmet_h100e"][1:4] == [0.0, 0.0, 0.0]  # the power cap binds from 2028
    assert all(x > 0 for x in v2_cf["unmet_h100e"][4:])
    for name in (*AGREE_IN_V1_AND_V2, V2_CLOCK):
        with_, without = run(name), run(name, shocks=False)
        assert with_["compute_total"][-1] != pytest.approx(without["compute_total"][-1])


# ---------------------------------------------------------------------------------------
# The independent reader itself, against values worked out from docs/scenarios.md
# ---------------------------------------------------------------------------------------


def _values(path: object, years: range, *, base: int = 2024, end: int = 2030) -> list[float]:
    return path_values(path, years, base_year=base, end_year=end, where="p")


def test_reader_anchors_log_linear_and_flat_ends() -> None:
    # log (default): geometric between anchors: 2026 is sqrt(1 * 4) = 2; flat outside.
    log = _values({"anchors": {2025: 1.0, 2027: 4.0}}, range(2023, 2030))
    assert log == pytest.approx([1.0, 1.0, 1.0, 2.0, 4.0, 4.0, 4.0], rel=1e-15)
    linear = _values(
        {"anchors": {2025: 1.0, 2027: 4.0}, "interpolate": "linear"}, range(2025, 2028)
    )
    assert linear == pytest.approx([1.0, 2.5, 4.0], rel=1e-15)
    assert _values({"anchors": {2026: 7.0}}, range(2020, 2031)) == [7.0] * 11


def test_reader_start_end_and_from_growth() -> None:
    # start/end: `start` in the first projection year (2025) and before it, `end` in
    # end_year (2030), log-linear in between: 4 * (1/4)^((y - 2025) / 5); 2026: 4 * 4^-0.2.
    se = _values({"start": 4.0, "end": 1.0}, range(2023, 2031))
    assert se[:3] == [4.0, 4.0, 4.0]
    assert se[3] == pytest.approx(4.0 * 4.0**-0.2, rel=1e-15)
    assert se[-1] == pytest.approx(1.0, rel=1e-15)
    # from/growth: value before `from`, value * growth^(y - from) from it on.
    fg = _values({"from": 2026, "value": 10.0, "growth": 1.5}, range(2024, 2029))
    assert fg == pytest.approx([10.0, 10.0, 10.0, 15.0, 22.5], rel=1e-15)
    assert _values({"kind": "fixed", "value": 3.0}, range(2024, 2026)) == [3.0, 3.0]


def test_reader_numbers_are_yaml_1_2() -> None:
    # yaml.safe_load (YAML 1.1) leaves 1.0e6 a string; the scenario language reads it as
    # a number, and so does the reader. Distributions are refused, not guessed.
    assert number("1.0e6", "x") == 1.0e6
    assert number({"kind": "fixed", "value": "2e3"}, "x") == 2000.0
    with pytest.raises(NotDeterministic):
        number("1 to 2", "x")
    with pytest.raises(NotDeterministic):
        number({"kind": "uniform", "low": 1, "high": 2}, "x")
    with pytest.raises(TypeError):
        number(True, "x")


def test_reader_merge_rules() -> None:
    parent = {
        "demand": {"segments": [{"name": "a", "kind": "training", "x": 1}, {"name": "b"}]},
        "chips": {
            "asp": {"anchors": {2024: 1.0, 2030: 2.0}},
            "pue": {"kind": "fixed", "value": 1.2},
        },
        "fleet": {"supply_cap": {"from": 2025, "value": 1.0, "growth": 2.0}, "shape": 2.0},
    }
    child = {
        "demand": {
            "segments": [{"name": "b", "remove": True}, {"name": "a", "x": 2}, {"name": "c"}]
        },
        "chips": {"asp": {"anchors": {2027: 5.0}}, "pue": {"kind": "fixed", "value": 1.3}},
        "fleet": {"supply_cap": {"start": 1.0, "end": 2.0}},
    }
    out = merge(parent, child)
    assert out["demand"]["segments"] == [{"name": "a", "kind": "training", "x": 2}, {"name": "c"}]
    assert out["chips"]["asp"] == {"anchors": {2024: 1.0, 2027: 5.0, 2030: 2.0}}
    assert out["chips"]["pue"] == {"kind": "fixed", "value": 1.3}
    assert out["fleet"] == {"supply_cap": {"start": 1.0, "end": 2.0}, "shape": 2.0}


def test_reader_defaults_and_extends() -> None:
    inputs = reference_inputs(DATA / "defaults.yaml")
    labs, serving = inputs.segments
    assert (float(labs.elasticity_short[0]), float(labs.elasticity_long[0])) == (1.0, 1.0)
    assert float(labs.adjustment[0]) == 1.0
    assert float(serving.elasticity_short[0]) == float(serving.elasticity_long[0]) == 0.5
    assert float(serving.pass_through[0]) == 1.0
    (shock,) = inputs.shocks
    assert (float(shock.ceiling[0]), float(shock.delay[0]), float(shock.width[0])) == (
        1.0,
        0.0,
        0.5,
    )
    assert shock.segments == (0, 1)
    assert float(inputs.fleet.shape[0]) == 3.0
    assert inputs.fleet.supply_cap is None
    assert inputs.fleet.power_cap is None
    assert inputs.fleet.order_lead is not None
    assert float(inputs.fleet.order_lead[0]) == 0.0
    # extends: the child's labs keeps long 0.5 from the parent, takes short 0.3
    child = reference_inputs(DATA / "extends_child.yaml")
    assert [s.name for s in child.segments] == ["labs", "chat", "agents"]
    assert float(child.segments[0].elasticity_short[0]) == 0.3
    assert float(child.segments[0].elasticity_long[0]) == 0.5
    assert float(child.shocks[0].width[0]) == 0.3
    assert float(child.shocks[0].delay[0]) == -20.0


def test_reader_refuses_what_it_does_not_evaluate() -> None:
    data = load_resolved(DATA / "defaults.yaml")
    data["fleet"]["retire_early"] = True
    with pytest.raises(UnknownKey, match="retire_early"):
        build_inputs(data)
    data = load_resolved(DATA / "defaults.yaml")
    data["chips"]["pue"] = 0.9  # below the documented domain
    with pytest.raises(ValueError, match=r"chips\.pue"):
        build_inputs(data)
