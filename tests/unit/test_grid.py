"""Grid sweeps: parsing ``--grid`` options, expansion names and counts, located problems."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.grid import GridError, check_grid, expand_grid, parse_grid
from simulator.io import load_scenario

VALID = Path(__file__).parents[1] / "data" / "valid.yaml"


def test_parse_reads_values_as_yaml_text_with_their_columns() -> None:
    a = parse_grid("demand.segments.chat.elasticity=0.5,1.0, 1.5")
    assert a.key == "demand.segments.chat.elasticity"
    assert a.values == ("0.5", "1.0", "1.5")
    # "demand.segments.chat.elasticity=" is 32 characters: the first value is in column 33.
    assert a.columns == (33, 37, 42)
    assert a.override(2) == "demand.segments.chat.elasticity=1.5"


def test_parse_keeps_commas_inside_braces_and_quotes() -> None:
    a = parse_grid('fleet.median_life={kind: uniform, low: 4, high: 6}, "3 to 5", 5')
    assert a.values == ("{kind: uniform, low: 4, high: 6}", '"3 to 5"', "5")


@pytest.mark.parametrize(
    ("text", "column", "words"),
    [
        ("chips.pue", 1, "expected dotted.key=value"),
        ("=1,2", 1, "expected dotted.key=value"),
        ("chips.pue=", 11, "no values"),
        ("chips.pue=1.2,,1.4", 15, "comma-separated YAML list"),
        ("chips.pue=1.2,", 15, "empty value"),
        ("chips.pue=1.2,1.4,1.2", 19, "repeated"),
        ("chips..pue=1", 1, "dotted key"),
        ("chips.pue=[1, 2", 17, "comma-separated YAML list"),
    ],
)
def test_parse_errors_are_located_in_the_option(text: str, column: int, words: str) -> None:
    with pytest.raises(GridError) as info:
        parse_grid(text)
    msg = str(info.value)
    assert msg.startswith(f"--grid:1:{column}: --grid {text}: ")
    assert words in msg


def test_expansion_counts_and_names_last_axis_fastest() -> None:
    axes = [
        parse_grid("demand.segments.chat.elasticity=0.5,1.0,1.5"),
        parse_grid("chips.pue=1.2,1.4"),
    ]
    variants = expand_grid(axes)
    assert len(variants) == 3 * 2
    names = [v.label("base") for v in variants]
    assert names == [
        "base__elasticity=0.5__pue=1.2",
        "base__elasticity=0.5__pue=1.4",
        "base__elasticity=1.0__pue=1.2",
        "base__elasticity=1.0__pue=1.4",
        "base__elasticity=1.5__pue=1.2",
        "base__elasticity=1.5__pue=1.4",
    ]
    assert len(set(names)) == len(names)
    assert variants[3].overrides == ["demand.segments.chat.elasticity=1.0", "chips.pue=1.4"]
    assert variants[3].indices == (1, 1)


def test_expansion_without_axes_is_one_unnamed_variant() -> None:
    (only,) = expand_grid([])
    assert only.suffix == ""
    assert only.overrides == []
    assert only.label("bull") == "bull"


def test_names_use_the_shortest_tail_that_tells_keys_apart() -> None:
    axes = [
        parse_grid("demand.segments.chat.elasticity=1,2"),
        parse_grid("demand.segments.frontier.elasticity=1"),
        parse_grid("chips.asp.anchors.2030=20000"),
    ]
    v = expand_grid(axes)[0]
    assert v.suffix == "__chat.elasticity=1__frontier.elasticity=1__anchors.2030=20000"


def test_names_are_folder_safe() -> None:
    axes = [parse_grid('fleet.median_life="3 to 5",{kind: uniform, low: 4, high: 6}')]
    names = [v.label("s") for v in expand_grid(axes)]
    assert names == ["s__median_life=3_to_5", "s__median_life=kind_uniform_low_4_high_6"]
    assert all(set(n) <= set("abcdefghijklmnopqrstuvwxyz0123456789_=.-+") for n in names)


def test_values_that_differ_only_in_unsafe_characters_get_distinct_names() -> None:
    axes = [parse_grid("chips.pue='1.3',\"1.3\"")]
    names = [v.label("s") for v in expand_grid(axes)]
    assert len(set(names)) == 2


def test_a_key_swept_twice_is_an_error() -> None:
    with pytest.raises(GridError, match="already swept"):
        expand_grid([parse_grid("chips.pue=1.2"), parse_grid("chips.pue=1.4")])


def test_variants_load_with_their_settings() -> None:
    (v,) = expand_grid([parse_grid("chips.pue=1.45")])
    sc = load_scenario(VALID, v.overrides)
    assert sc.chips.pue.value == 1.45


def test_check_grid_locates_a_key_that_does_not_exist() -> None:
    axis = parse_grid("demand.segments.chat.elastcity=0.5,1")
    (problem,) = check_grid(VALID, [], [axis])
    assert problem.file == "--grid"
    assert problem.column == 32  # the value set under the misspelled key (as --set says)
    assert "unknown key" in problem.message
    assert "elasticity" in problem.message  # did you mean


def test_check_grid_locates_a_value_of_the_wrong_type() -> None:
    axis = parse_grid("chips.pue=1.3,abc")
    problems = check_grid(VALID, [], [axis])
    assert problems
    assert all(p.file == "--grid" for p in problems)
    assert problems[0].column == 15  # the "abc" in "chips.pue=1.3,abc"
    assert problems[0].key == "chips.pue"


def test_check_grid_locates_an_item_that_does_not_exist() -> None:
    axis = parse_grid("demand.segments.nope.share=0.5")
    (problem,) = check_grid(VALID, [], [axis])
    assert str(problem).startswith("--grid:1:17: --grid demand.segments.nope.share=0.5: ")
    assert "no item named 'nope'" in problem.message


def test_check_grid_passes_valid_values() -> None:
    assert check_grid(VALID, ["sampling.samples=100"], [parse_grid("chips.pue=1.2,1.4")]) == []
