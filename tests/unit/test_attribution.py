"""Attribution by Shapley values: the game solver, the differences, the hybrids."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from simulator.attribution import (
    MISSING,
    AttributionError,
    attribute,
    differences,
    hybrid,
    parse_statistic,
    players,
    shapley,
)
from simulator.io import resolve_scenario
from simulator.schema import Scenario

VALID = Path(__file__).parents[1] / "data" / "valid.yaml"


def data(overrides: tuple[str, ...] = ()) -> dict[str, Any]:
    return resolve_scenario(VALID, overrides).data


# --- the game solver ---------------------------------------------------------------------


def additive_with_interaction(s: frozenset[int]) -> float:
    """v(S) = sum of w_i over S, plus c when players 0 and 1 are both in S."""
    w = [3.0, -1.0, 0.5, 2.0, 0.0]
    return sum(w[i] for i in s) + (4.0 if {0, 1} <= s else 0.0)


def test_exact_shapley_known_values() -> None:
    # Shapley (1953): an additive game gives each player its own weight; a pure pairwise
    # interaction c is split equally between the two players that make it (c / 2 each).
    phi, se = shapley(additive_with_interaction, 5)
    assert se is None
    np.testing.assert_allclose(phi, [3.0 + 2.0, -1.0 + 2.0, 0.5, 2.0, 0.0], rtol=0, atol=1e-12)


def test_exact_shapley_matches_the_permutation_definition() -> None:
    # phi_i = average over all k! orders of i's marginal contribution (definition).
    def v(s: frozenset[int]) -> float:
        return float(len(s) ** 2 + (7 if 2 in s and 3 not in s else 0))

    k = 4
    want = np.zeros(k)
    orders = list(itertools.permutations(range(k)))
    for order in orders:
        s: frozenset[int] = frozenset()
        for i in order:
            want[i] += v(s | {i}) - v(s)
            s = s | {i}
    want /= len(orders)
    phi, _ = shapley(v, k)
    np.testing.assert_allclose(phi, want, rtol=0, atol=1e-12)


def test_sampled_shapley_adds_up_and_is_exact_for_an_additive_game() -> None:
    def additive(s: frozenset[int]) -> float:
        return float(sum(2**i for i in s))

    phi, se = shapley(additive, 12, exact_max=10, permutations=5)
    assert se is not None
    np.testing.assert_allclose(phi, [2.0**i for i in range(12)], rtol=1e-12)
    np.testing.assert_allclose(se, 0.0, atol=1e-9)


def test_sampled_shapley_adds_up_to_the_gap_with_interactions() -> None:
    phi, se = shapley(additive_with_interaction, 5, exact_max=0, permutations=7)
    assert se is not None
    assert se.shape == (5,)
    gap = additive_with_interaction(frozenset(range(5))) - additive_with_interaction(frozenset())
    assert math.fsum(phi) == pytest.approx(gap, rel=1e-12)


def test_no_players() -> None:
    phi, se = shapley(lambda s: 1.0, 0)
    assert phi.shape == (0,)
    assert se is None


# --- differences and hybrids -------------------------------------------------------------


def test_differences_by_parameter_with_named_items() -> None:
    a = data()
    b = data(
        (
            "demand.segments.chat.elasticity.long=1.5",
            "chips.pue=1.4",
            "name=other",
            "description=x",
            "sampling.samples=10",
        )
    )
    keys = [d.key for d in differences(a, b)]
    assert keys == ["demand.segments.chat.elasticity.long", "chips.pue"]


def test_differences_treat_equal_numbers_as_equal() -> None:
    a = data(("chips.pue=1",))
    b = data(("chips.pue=1.0",))
    assert differences(a, b) == []


def test_an_item_in_one_scenario_only_is_one_difference() -> None:
    a = data()
    b = data()
    b["shocks"] = [
        *b["shocks"],
        {"name": "x", "type": "trend", "onset": 2026, "magnitude": 1.1, "applies_to": ["chat"]},
    ]
    (d,) = differences(a, b)
    assert d.key == "shocks.x"
    assert d.a is MISSING
    back = hybrid(a, players([d]))
    assert back == b
    (d2,) = differences(b, a)
    assert hybrid(b, players([d2])) == a


def test_hybrids_take_chosen_players_from_b() -> None:
    a = data()
    b = data(("demand.segments.chat.elasticity.long=1.5", "chips.pue=1.4"))
    ps = players(differences(a, b))
    h = hybrid(a, ps[1:])
    sc = Scenario.model_validate(h)
    assert sc.chips.pue.value == 1.4
    assert differences(hybrid(a, ps), b) == []
    assert a == data()  # not modified


def test_segment_shares_change_together() -> None:
    a = data()
    b = data(("demand.segments.chat.share=0.5", "demand.segments.frontier.share=0.5"))
    ps = players(differences(a, b))
    assert [p.name for p in ps] == ["demand.segments (shares and segments)"]
    assert len(ps[0].differences) == 2


def test_groups_merge_differences_under_a_prefix() -> None:
    a = data()
    b = data(("chips.pue=1.4", "chips.asp=30000", "fleet.median_life=6"))
    names = [p.name for p in players(differences(a, b), ["chips"])]
    assert names == ["fleet.median_life", "chips"]


def test_statistic_names() -> None:
    assert parse_statistic("p50") == "p50"
    assert parse_statistic("p97.5") == "p97.5"
    assert parse_statistic("mean") == "mean"
    for bad in ("median", "p101", "px", "q50"):
        with pytest.raises(ValueError, match="statistic"):
            parse_statistic(bad)


# --- attribute ------------------------------------------------------------------------------


def test_one_difference_takes_the_whole_gap() -> None:
    a = data()
    b = data(("chips.pue=1.5",))
    r = attribute(a, b, metric="power_w", year=2027, samples=400, rng=1)
    assert r.method == "exact"
    assert r.contributions == (r.gap,)
    assert r.evaluations == 2
    # power is proportional to PUE (MODEL.md §5) and the samples are paired, so the median
    # scales exactly: 1.5 / 1.3.
    assert r.value_b / r.value_a == pytest.approx(1.5 / 1.3, rel=1e-9)


def test_parameters_that_do_not_move_the_metric_get_nothing() -> None:
    # HBM shipped does not depend on accelerator prices or PUE in version 1 or 2 of the
    # model (MODEL.md §5: hbm = units * h); the dummy axiom gives them zero.
    a = data()
    b = data(("chips.pue=1.5", "chips.hbm_gb_per_accelerator=200"))
    r = attribute(a, b, metric="hbm_gb", year=2027, samples=400, rng=1)
    by_name = dict(zip((p.name for p in r.players), r.contributions, strict=True))
    assert by_name["chips.pue"] == 0.0
    assert by_name["chips.hbm_gb_per_accelerator"] == pytest.approx(r.gap, rel=1e-12)


def test_no_difference_no_gap() -> None:
    r = attribute(data(), data(), metric="hbm_gb", year=2027, samples=200, rng=1)
    assert r.players == ()
    assert r.gap == 0.0


def test_an_invalid_hybrid_names_the_players_to_group() -> None:
    a = data()
    b = data()
    b["shocks"] = [
        *b["shocks"],
        {
            "name": "x",
            "type": "trend",
            "onset": 2026,
            "magnitude": {"kind": "uniform", "low": 1.0, "high": 1.3},
            "applies_to": ["chat"],
        },
    ]
    b["correlations"] = [{"between": ["shocks.x.magnitude", "fleet.median_life"], "rho": 0.2}]
    with pytest.raises(AttributionError, match="--group"):
        attribute(a, b, metric="hbm_gb", year=2027, samples=200, rng=1)


def test_a_year_outside_a_scenario_is_refused() -> None:
    with pytest.raises(AttributionError, match="not 2031"):
        attribute(data(), data(), metric="hbm_gb", year=2031, samples=200, rng=1)


def test_an_unknown_metric_is_refused() -> None:
    with pytest.raises(AttributionError, match="not in every scenario"):
        attribute(data(), data(("chips.pue=1.4",)), metric="hbm", year=2027, samples=200, rng=1)


def test_an_unknown_group_is_refused() -> None:
    with pytest.raises(AttributionError, match="--group fleet"):
        attribute(data(), data(("chips.pue=1.4",)), metric="hbm_gb", year=2027, groups=["fleet"])


def test_command_line_default_of_exact_max_is_the_library_s() -> None:
    from simulator import attribution, cli_workflows

    assert cli_workflows.EXACT_MAX_DEFAULT == attribution.EXACT_MAX
