"""Paired comparison on common random numbers: exact identities, pairing and its gain."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulator.compare import PAIR_STATISTICS, Entry, compare, pair_statistics, pairing
from simulator.io import load_scenario

VALID = Path(__file__).parents[1] / "data" / "valid.yaml"
N = 600


def child(tmp_path: Path, name: str, body: str) -> Path:
    """A scenario that extends tests/data/valid.yaml and changes ``body``."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"name: {name}\nextends: {VALID}\n{body}", encoding="utf-8")
    return path


def entry(path: Path, overrides: tuple[str, ...] = ()) -> Entry:
    sc = load_scenario(path, overrides)
    return Entry(sc.name, sc)


def test_self_comparison_is_exactly_zero_on_every_sample() -> None:
    a = entry(VALID)
    cmp = compare([a, a], samples=N, rng=11)
    assert cmp.labels == ("valid", "valid#2")
    for m in cmp.metrics:
        diff = cmp.difference("valid", "valid#2", m)
        assert diff.shape == (N, len(cmp.years))
        assert np.all(diff == 0.0), m
        s = cmp.pair_stats("valid", "valid#2", m)
        assert np.all(s["p_greater"] == 0.0)
        assert np.all(s["p_equal"] == 1.0)
        assert np.all(s["se_mean_paired"] == 0.0)


def test_swapping_negates_differences_and_complements_p_greater(tmp_path: Path) -> None:
    b_path = child(tmp_path, "b", "chips:\n  pue: {kind: uniform, low: 1.1, high: 1.6}\n")
    a, b = entry(VALID), entry(b_path)
    ab = compare([a, b], samples=N, rng=5)
    ba = compare([b, a], samples=N, rng=5)
    for m in ab.metrics:
        np.testing.assert_array_equal(
            ab.difference("valid", "b", m), -ba.difference("b", "valid", m)
        )
        s_ab = ab.pair_stats("valid", "b", m)
        s_ba = ba.pair_stats("b", "valid", m)
        # P(B > A) = 1 - P(A > B) - P(A = B): counts over the same n samples.
        np.testing.assert_allclose(
            s_ba["p_greater"], 1.0 - s_ab["p_greater"] - s_ab["p_equal"], rtol=0, atol=1e-12
        )
        np.testing.assert_array_equal(s_ab["p_equal"], s_ba["p_equal"])
        np.testing.assert_array_equal(s_ab["se_mean_paired"], s_ba["se_mean_paired"])
    # power scales with PUE, which only b draws: a real difference, in both directions
    k = ab.years.index(2027)
    p = ab.pair_stats("valid", "b", "power_w")["p_greater"][k]
    assert 0.0 < p < 1.0


def test_pairing_gain_matches_the_closed_form_for_a_proportional_change(tmp_path: Path) -> None:
    # b's PUE is 1.5 where valid's is 1.3, a fixed number: power_b = r * power_a per sample
    # with r = 1.5 / 1.3 (power is facility power, IT power times PUE; MODEL.md §5). Then
    # (var A + var B) / var(A - B) = (1 + r**2) / (1 - r)**2 (hand calculation).
    b_path = child(tmp_path, "b", "chips:\n  pue: 1.5\n")
    cmp = compare([entry(VALID), entry(b_path)], samples=N, rng=3)
    r = 1.5 / 1.3
    eff = cmp.pair_stats("valid", "b", "power_w")["efficiency"]
    expected = (1 + r**2) / (1 - r) ** 2  # about 98.5
    np.testing.assert_allclose(eff[1:], expected, rtol=1e-6)


def test_pair_statistics_known_values() -> None:
    a = np.array([[1.0], [2.0], [3.0], [4.0]])
    b = np.array([[0.0], [2.0], [5.0], [1.0]])
    s = pair_statistics(a, b)
    assert list(s) == list(PAIR_STATISTICS)
    assert s["p_greater"][0] == 0.5  # samples 0 and 3
    assert s["p_equal"][0] == 0.25  # sample 1
    assert s["se_p_greater"][0] == pytest.approx(np.sqrt(0.25 / 4))
    # diff = [1, 0, -2, 3]: sample sd = sqrt(14 / 3 - ...) computed by numpy, ddof = 1
    assert s["se_mean_paired"][0] == pytest.approx(np.std([1, 0, -2, 3], ddof=1) / 2)
    var = np.var([1, 2, 3, 4], ddof=1) + np.var([0, 2, 5, 1], ddof=1)
    assert s["se_mean_independent"][0] == pytest.approx(np.sqrt(var) / 2)


def test_pairing_classifies_parameters(tmp_path: Path) -> None:
    b_path = child(
        tmp_path,
        "b",
        "fleet:\n  median_life: {kind: triangular, low: 3, mode: 5, high: 8}\n"
        "shocks:\n  - name: second\n    type: trend\n    onset: 2026\n"
        "    magnitude: {kind: uniform, low: 1.0, high: 1.2}\n    applies_to: [chat]\n",
    )
    a, b = load_scenario(VALID), load_scenario(b_path)
    p = pairing(a, b, "random")
    assert "fleet.median_life" in p.different
    assert "chips.load" in p.same
    assert p.only_b == ("shocks.second.magnitude",)
    assert p.only_a == ()
    assert not p.design_breaks_pairing
    assert pairing(a, b, "sobol").design_breaks_pairing
    text = " ".join(p.describe("valid", "b"))
    assert "only in b" in text
    assert "own streams" in text


def test_pairing_flags_correlations_that_differ(tmp_path: Path) -> None:
    b_path = child(tmp_path, "b", "correlations: []\n")
    p = pairing(load_scenario(VALID), load_scenario(b_path), "lhs")
    assert set(p.recoupled) == {"shocks.deepseek.magnitude", "fleet.median_life"}


def test_different_year_ranges_are_compared_on_common_years(tmp_path: Path) -> None:
    b_path = child(tmp_path, "b", "years: {end_year: 2028}\n")
    cmp = compare([entry(VALID), entry(b_path)], samples=N, rng=1)
    assert cmp.years == (2024, 2025, 2026, 2027, 2028)
    assert any("compared on the common years 2024-2028" in n for n in cmp.notes)
    # the base year pairs exactly (later years differ: `{start, end}` growth paths stretch
    # over the projection years, so the end year changes them)
    for m in cmp.metrics:
        assert np.all(cmp.difference("valid", "b", m)[:, 0] == 0.0), m


def test_scenarios_with_no_common_year_are_refused(tmp_path: Path) -> None:
    text = VALID.read_text(encoding="utf-8")
    for old, new in [
        ("name: valid", "name: late"),
        ("base_year: 2024", "base_year: 2031"),
        ("end_year: 2030", "end_year: 2033"),
        ("{2022: 1.0e6, 2023: 2.5e6, 2024: 4.0e6}", "{2029: 1.0e6, 2030: 2.5e6, 2031: 4.0e6}"),
        ("onset: 2025", "onset: 2032"),
        ("year: 2027", "year: 2032"),
        ("{2024: 2.5, 2030: 1.5}", "{2031: 2.5, 2033: 1.5}"),
    ]:
        assert old in text
        text = text.replace(old, new)
    late = tmp_path / "late.yaml"
    late.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="no year in common"):
        compare([entry(VALID), entry(late)], samples=N, rng=1)


def test_repeated_names_are_refused() -> None:
    a = entry(VALID)
    with pytest.raises(ValueError, match="named valid"):
        compare([a, a, a], samples=N, rng=1)


def test_one_scenario_is_refused() -> None:
    with pytest.raises(ValueError, match="at least two"):
        compare([entry(VALID)], samples=N, rng=1)


def test_table_has_scenario_and_pair_rows(tmp_path: Path) -> None:
    b_path = child(tmp_path, "b", "chips:\n  pue: 1.5\n")
    cmp = compare([entry(VALID), entry(b_path)], samples=N, rng=2)
    t = cmp.table(["power_w"])
    assert set(t.scenarios) == {"valid", "b", "valid vs b"}
    assert set(t.variants) == {"with_shocks", "difference", "ratio", "paired"}
    k = cmp.years.index(2027)
    assert t.value("ratio", "power_w", 2027, "p50") == pytest.approx(1.3 / 1.5, rel=1e-12)
    diff = cmp.difference("valid", "b", "power_w")[:, k]
    assert t.value("difference", "power_w", 2027, "p50") == pytest.approx(np.median(diff))
    assert t.value("paired", "power_w", 2027, "p_greater") == 0.0


def test_all_pairs_and_default_pairs(tmp_path: Path) -> None:
    b = entry(child(tmp_path, "b", "chips:\n  pue: 1.5\n"))
    c = entry(child(tmp_path, "c", "chips:\n  pue: 1.4\n"))
    a = entry(VALID)
    assert compare([a, b, c], samples=N, rng=2).pairs == (("valid", "b"), ("valid", "c"))
    assert compare([a, b, c], samples=N, rng=2, all_pairs=True).pairs == (
        ("valid", "b"),
        ("valid", "c"),
        ("b", "c"),
    )


def test_a_segment_in_one_scenario_only_is_explained(tmp_path: Path) -> None:
    b_path = child(
        tmp_path,
        "b",
        "demand:\n  segments:\n"
        "    - name: chat\n      share: 0.5\n"
        "    - name: agents\n      kind: inference\n      share: 0.1\n      growth: 1.8\n"
        "      elasticity: {kind: uniform, low: 0.5, high: 1.5}\n",
    )
    cmp = compare([entry(VALID), entry(b_path)], samples=N, rng=4)
    assert "compute.agents" not in cmp.metrics
    assert "compute.chat" in cmp.metrics
    assert any("compute.agents" in n for n in cmp.notes)
    p = cmp.pairings[("valid", "b")]
    # one elasticity value is one parameter (short aliases long; Scenario.canonical)
    assert p.only_b == ("demand.segments.agents.elasticity.long",)
    assert p.only_a == ()


def test_infinite_values_difference_and_table() -> None:
    # impact ratios can be +inf (x / 0): equal infinities differ by exactly 0, and a -inf
    # difference leaves its statistics undefined (no row) instead of failing the table.
    from simulator.compare import Comparison

    a = np.array([[np.inf, 1.0], [np.inf, 2.0], [1.0, 3.0]])
    b = np.array([[np.inf, 1.0], [2.0, 1.0], [np.inf, 1.0]])
    cmp = Comparison(
        labels=("a", "b"),
        years=(2024, 2025),
        metrics=("m",),
        variant="impact",
        n_samples=3,
        seed=0,
        method="random",
        values={"a": {"m": a}, "b": {"m": b}},
        pairs=(("a", "b"),),
        pairings={},
    )
    d = cmp.difference("a", "b", "m")
    assert d[0, 0] == 0.0
    assert d[1, 0] == np.inf
    assert d[2, 0] == -np.inf
    t = cmp.table()
    assert np.isfinite(t.values).all()
    with pytest.raises(KeyError):  # undefined: no row
        t.value("difference", "m", 2024, "p50")
    assert t.value("difference", "m", 2025, "p50") == 1.0


def test_no_ratio_of_the_signed_impacts_of_idle_and_unmet() -> None:
    # v2: the impact of idle_h100e and unmet_h100e is a paired difference (either sign);
    # a ratio of two such differences means nothing, so compare reports none.
    sc = load_scenario(Path(__file__).parents[2] / "scenarios" / "deepseek.yaml")
    cmp = compare([Entry("a", sc), Entry("b", sc)], samples=300, rng=1, variant="impact")
    assert not cmp.has_ratio("idle_h100e")
    assert cmp.has_ratio("hbm_gb")
    table = cmp.table(["idle_h100e", "hbm_gb"])
    ratio_metrics = {m for v, m in zip(table.variants, table.metrics, strict=True) if v == "ratio"}
    assert ratio_metrics == {"hbm_gb"}
