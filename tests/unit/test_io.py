"""Tests of simulator.io: YAML reading, extends, overrides and located errors.

Every broken fixture in tests/data starts from tests/data/valid.yaml with one change
(its first line says which); the table below gives the exact location each problem
is reported at and a fragment of the message.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

import simulator.io
from simulator.errors import ScenarioError
from simulator.io import (
    MAX_FILE_BYTES,
    Resolved,
    dump_yaml,
    load_scenario,
    resolve_scenario,
    scenario_json_schema,
    write_json_schema,
)
from simulator.schema import Anchors, Fixed, Scenario, StartEnd
from simulator.schema.distributions import LogNormal, Normal

DATA = Path(__file__).resolve().parent.parent / "data"
VALID = DATA / "valid.yaml"
SET = "--set"


def _errors(path: Path | str, overrides: tuple[str, ...] = ()) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides)
    return info.value


# (fixture, overrides, file the problem is in ("" = the fixture), line, column,
#  dotted key, message fragment)
# fmt: off
CASES: list[tuple[str, tuple[str, ...], str, int, int, str, str]] = [
    # wrong types
    ("wrong_type_base_year.yaml", (), "", 5, 3, "years.base_year",
     "must be a whole number, got a string ('twenty')"),
    ("wrong_type_share.yaml", (), "", 11, 7, "demand.segments.chat.share",
     "must be a number, got a string ('lots')"),
    ("yes_is_a_string.yaml", (), "", 47, 3, "sampling.seed",
     "must be a whole number, got a string ('yes')"),
    # unknown and misspelled keys
    ("unknown_key.yaml", (), "", 48, 3, "sampling.colour", "unknown key"),
    ("misspelled_top_key.yaml", (), "", 45, 1, "sampeling",
     "unknown key; did you mean 'sampling'?"),
    ("misspelled_elasticity.yaml", (), "", 13, 7, "demand.segments.chat.elastcity",
     "unknown key; did you mean 'elasticity'?"),
    ("misspelled_dist_param.yaml", (), "", 27, 45, "shocks.deepseek.magnitude.sigmaa",
     "unknown key; did you mean 'sigma'?"),
    ("missing_required.yaml", (), "", 33, 1, "fleet.median_life", "required key is missing"),
    ("unknown_kind.yaml", (), "", 44, 3, "chips.load",
     "unknown kind 'unifrom'; one of fixed, uniform,"),
    # distribution parameters
    ("negative_sigma.yaml", (), "", 27, 45, "shocks.deepseek.magnitude.sigma",
     "must be > 0 (got -0.5)"),
    ("uniform_low_above_high.yaml", (), "", 44, 3, "chips.load",
     "low must be < high (got low=0.8, high=0.6)"),
    ("lognormal_p5_above_p95.yaml", (), "", 27, 5, "shocks.deepseek.magnitude",
     "p5 must be < p95 (got p5=5, p95=2)"),
    ("beta_shape_zero.yaml", (), "", 32, 27, "utilization.inference.alpha",
     "must be > 0 (got 0)"),
    ("beta_outside_bounds.yaml", (), "", 32, 3, "utilization.inference",
     "must be in (0, 1], but beta(alpha=2, beta=6, low=0.05, high=1.4) can take values in"),
    ("normal_on_nonnegative.yaml", (), "", 40, 3, "chips.system_watts", "must be >= 0"),
    ("interval_reversed.yaml", (), "", 22, 7, "demand.segments.frontier.elasticity",
     "LOW must be < HIGH (got '1.5 to 0.5')"),
    ("path_start_negative.yaml", (), "", 12, 16, "demand.segments.chat.growth.start",
     "must be in (0, 100] (got -2)"),
    ("samples_1e15.yaml", (), "", 46, 3, "sampling.samples",
     "samples must be at most 10,000,000 (got 1e+15)"),
    # cross-field checks
    ("shares_not_one.yaml", (), "", 8, 3, "demand.segments",
     "shares must sum to 1 (got 0.7 + 0.4 = 1.1)"),
    ("shock_unknown_segment.yaml", (), "", 28, 5, "shocks.deepseek.applies_to",
     "'chta' is neither a segment (chat, frontier)"),
    ("shock_onset_outside.yaml", (), "", 26, 5, "shocks.deepseek.onset",
     "must be a projection year 2025..2030 (got 2040)"),
    ("correlation_on_path.yaml", (), "", 49, 5, "correlations.0.between",
     "chips.asp is a path parameter"),
    ("correlation_unknown.yaml", (), "", 49, 5, "correlations.0.between",
     "no scalar parameter 'fleet.median_lfe'; did you mean 'fleet.median_life'?"),
    # extends
    ("extends_cycle_a.yaml", (), "extends_cycle_b.yaml", 2, 1, "extends", "extends cycle: "),
    ("extends_self.yaml", (), "", 3, 1, "extends", "extends cycle: "),
    ("extends_missing.yaml", (), "", 3, 1, "extends",
     "parent scenario 'no_such_parent.yaml' does not exist"),
    ("child_of_bad_parent.yaml", (), "bad_parent.yaml", 43, 3, "chips.pue",
     "must be >= 1 (got 0.9)"),
    # YAML
    ("syntax_unclosed_list.yaml", (), "", 29, 13, "", "expected ',' or ']'"),
    ("syntax_bad_indent.yaml", (), "", 6, 12, "", "mapping values are not allowed"),
    ("tabs.yaml", (), "", 6, 1, "", "tabs are not allowed in indentation"),
    ("empty.yaml", (), "", 1, 1, "", "file is empty"),
    ("two_documents.yaml", (), "", 51, 1, "", "expected a single document"),
    ("top_level_list.yaml", (), "", 2, 1, "", "the top level must be a mapping"),
    ("duplicate_key.yaml", (), "", 48, 3, "sampling.seed",
     "duplicate key 'seed' (first at line 47)"),
    ("merge_key.yaml", (), "", 48, 3, "sampling.<<", "merge keys (<<) are not supported"),
    ("number_key.yaml", (), "", 48, 3, "sampling.2024", "keys must be strings"),
    ("python_tag.yaml", (), "", 3, 14, "description",
     "tag '!!python/object/apply:os.system' is not allowed"),
    ("alias_bomb.yaml", (), "", 2, 36, "", "expands to more than 100,000 values"),
    ("deep_nesting.yaml", (), "", 3, 57, "", "nested more than 50 levels deep"),
    # overrides: the override itself is bad (key "--set <override>") ...
    ("valid.yaml", ("sampling.samples",), SET, 1, 1, "--set sampling.samples",
     "expected dotted.key=value"),
    ("valid.yaml", ("=5",), SET, 1, 1, "--set =5", "expected dotted.key=value"),
    ("valid.yaml", ("a..b=1",), SET, 1, 3, "--set a..b=1", "expected dotted.key=value"),
    ("valid.yaml", ("demand.segments.nope.share=0.5",), SET, 1, 17,
     "--set demand.segments.nope.share=0.5",
     "demand.segments has no item named 'nope' (have: chat, frontier)"),
    ("valid.yaml", ("name.x=1",), SET, 1, 6, "--set name.x=1", "cannot set 'x' inside name"),
    ("valid.yaml", ("sampling.seed=!!python/name:os.system",), SET, 1, 15,
     "--set sampling.seed=!!python/name:os.system", "is not allowed"),
    # ... or its value is invalid (the dotted key, at the value's column)
    ("valid.yaml", ("demand.segments.chat.elasticity=1 to 0.5",), SET, 1, 33,
     "demand.segments.chat.elasticity", "LOW must be < HIGH (got '1 to 0.5')"),
    ("valid.yaml", ("sampling.samples=0",), SET, 1, 18, "sampling.samples",
     "must be >= 1 (got 0)"),
    # accepted by the first release, with a silently wrong answer (issue 11)
    ("question_than_nan.yaml", (), "", 56, 5, "questions.hbm_down.than",
     "must be a finite number or 'counterfactual' (got nan)"),
    ("question_than_inf.yaml", (), "", 56, 5, "questions.hbm_down.than",
     "must be a finite number or 'counterfactual' (got -inf)"),
    ("valid.yaml", ("questions.hbm_down.than=.inf",), SET, 1, 25, "questions.hbm_down.than",
     "must be a finite number or 'counterfactual' (got inf)"),
    ("question_than_quoted.yaml", (), "", 56, 5, "questions.hbm_down.than",
     "must be a number or 'counterfactual', got a string ('1.0e12'); write numbers without"),
    ("year_quoted.yaml", (), "", 5, 3, "years.base_year",
     "must be a whole number, got a string ('2024'); write numbers without quotes"),
    ("year_fractional.yaml", (), "", 26, 5, "shocks.deepseek.onset",
     "must be a whole number, got a number (2025.5)"),
    ("seed_boolean.yaml", (), "", 47, 3, "sampling.seed",
     "must be a whole number, got a boolean (true)"),
    ("valid.yaml", ("correlations.-1.rho=0.5",), SET, 1, 14, "--set correlations.-1.rho=0.5",
     "list items are counted from 0 (the first) to 0 (the last) in correlations; negative"),
    # messages in the scenario language, not pydantic's (issue 11)
    ("elasticity_list.yaml", (), "", 15, 9, "demand.segments.chat.elasticity.long",
     "must be a number, a distribution or a 90% interval 'LOW to HIGH', got a list"),
    ("valid.yaml", ("fleet=[1, 2]",), SET, 1, 7, "fleet",
     "must be a mapping of keys to values, got a list"),
    ("valid.yaml", ("demand.segments.frontier.growth.anchors={}",), SET, 1, 41,
     "demand.segments.frontier.growth.anchors", "must have at least 1 entry (got 0)"),
    ("valid.yaml", ("sampling.method=halton",), SET, 1, 17, "sampling.method",
     "must be one of 'random', 'lhs' or 'sobol', got a string ('halton')"),
    ("correlations_impossible.yaml", (), "", 48, 1, "correlations",
     ("the rank correlations shocks.deepseek.magnitude ~ fleet.median_life = 0.3 "
     "(correlations.0); fleet.median_life ~ demand.segments.frontier.elasticity.long = 0.9 "
     "(correlations.1); shocks.deepseek.magnitude ~ demand.segments.frontier.elasticity.long "
     "= -0.9 (correlations.2) are not jointly possible")),
    # the extends chain is named, also when the parent is not YAML at all
    ("child_of_not_yaml.yaml", (), "not_yaml.csv", 1, 1, "",
     "the top level must be a mapping of keys to values (got a string)"),
    ("grandchild_of_bad_parent.yaml", (), "bad_parent.yaml", 43, 3, "chips.pue",
     "must be >= 1 (got 0.9)"),
]
# fmt: on


@pytest.mark.parametrize(
    ("fixture", "overrides", "file", "line", "column", "key", "fragment"),
    CASES,
    ids=[f"{c[0]}{'[' + c[1][0] + ']' if c[1] else ''}" for c in CASES],
)
def test_broken_fixture_is_reported_at_its_key(
    fixture: str,
    overrides: tuple[str, ...],
    file: str,
    line: int,
    column: int,
    key: str,
    fragment: str,
) -> None:
    err = _errors(DATA / fixture, overrides)
    assert len(err.problems) == 1, str(err)
    problem = err.problems[0]
    expected_file = SET if file == SET else str(DATA / (file or fixture))
    assert (problem.file, problem.line, problem.column, problem.key) == (
        expected_file,
        line,
        column,
        key,
    ), str(err)
    assert fragment in problem.message, str(err)
    # a problem in a parent names the chain of files that leads to it
    where = f"{expected_file}:{line}:{column}: "
    if file in ("", SET):
        assert str(err).startswith(where)
    else:
        assert str(err).startswith(f"{DATA / fixture} extends ")
        assert f" extends {expected_file}: {where}" in str(err)


@pytest.mark.parametrize("case", CASES[:40:3], ids=lambda c: c[0])
def test_pure_python_pyyaml_gives_the_same_positions(
    monkeypatch: pytest.MonkeyPatch, case: tuple[str, tuple[str, ...], str, int, int, str, str]
) -> None:
    """Without libyaml, PyYAML's own parser must report the same places."""
    monkeypatch.setattr(simulator.io, "_Loader", simulator.io._loader_class(yaml.SafeLoader))
    fixture, overrides, _, line, column, key, _ = case
    p = _errors(DATA / fixture, overrides).problems[0]
    assert (p.line, p.column, p.key) == (line, column, key)


def test_at_least_thirty_broken_fixtures() -> None:
    broken = {c[0] for c in CASES} - {"valid.yaml"}
    assert len(broken) >= 30
    on_disk = {p.name for p in DATA.glob("*.yaml")}
    helpers = {"valid.yaml", "bad_parent.yaml", "extends_cycle_b.yaml", "many_problems.yaml"}
    helpers |= {"child_of_bad_parent.yaml"}  # also a parent, of grandchild_of_bad_parent.yaml
    assert on_disk - helpers <= broken  # every fixture has a row


def test_problem_in_a_parent_names_the_whole_chain() -> None:
    err = _errors(DATA / "grandchild_of_bad_parent.yaml")
    files = [DATA / n for n in ("grandchild_of_bad_parent", "child_of_bad_parent", "bad_parent")]
    a, b, c = (f"{f}.yaml" for f in files)
    assert str(err) == f"{a} extends {b} extends {c}: {c}:43:3: chips.pue: must be >= 1 (got 0.9)"
    assert err.problems[0].chain == (a, b, c)
    # a problem in the file named has no chain
    assert _errors(DATA / "year_quoted.yaml").problems[0].chain == ()


def test_whole_numbers_may_be_written_as_floats() -> None:
    sc = load_scenario(VALID, ["sampling.samples=1e3", "years.base_year=2024.0"])
    assert sc.sampling.samples == 1000
    assert isinstance(sc.sampling.samples, int)
    assert sc.years.base_year == 2024


def test_cycle_lists_the_chain() -> None:
    err = _errors(DATA / "extends_cycle_a.yaml")
    a, b = str(DATA / "extends_cycle_a.yaml"), str(DATA / "extends_cycle_b.yaml")
    assert err.problems[0].message == f"extends cycle: {a} -> {b} -> {a}"


def test_every_problem_is_reported_at_once() -> None:
    err = _errors(DATA / "many_problems.yaml")
    got = [(p.line, p.column, p.key) for p in err.problems]
    assert got == [
        (5, 3, "years.base_year"),
        (27, 45, "shocks.deepseek.magnitude.sigma"),
        (48, 3, "sampling.colour"),
    ]
    assert len(str(err).splitlines()) == 3


def test_yaml_problems_are_collected_together(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: a\nname: b\nx: !!binary aGk=\ntrue: 1\n")
    err = _errors(path)
    assert [(p.line, p.key) for p in err.problems] == [(2, "name"), (3, "x"), (4, "true")]


def test_too_large_file(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("# padding\n" * (MAX_FILE_BYTES // 10 + 1))
    err = _errors(path)
    p = err.problems[0]
    assert (p.file, p.line, p.column) == (str(path), 1, 1)
    assert "larger than 1 MiB" in p.message


def test_document_of_only_null_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "dashes.yaml"
    path.write_text("---\n# nothing\n")
    assert str(_errors(path)) == f"{path}:1:1: file is empty"


def test_missing_file_and_directory(tmp_path: Path) -> None:
    err = _errors(tmp_path / "nope.yaml")
    assert err.problems[0].message.startswith("cannot read the file")
    err = _errors(tmp_path)
    assert str(err).startswith(f"{tmp_path}:1:1: ")


def test_not_utf8_is_located(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: ok\ndescription: caf\xe9\n")
    p = _errors(path).problems[0]
    assert (p.line, p.column) == (2, 17)
    assert "not valid UTF-8" in p.message


def test_control_character_is_located(tmp_path: Path) -> None:
    path = tmp_path / "ctrl.yaml"
    path.write_text("name: ok\ndescription: a\x07b\n")
    p = _errors(path).problems[0]
    assert (p.line, p.column) == (2, 15)


def test_recursive_alias_is_stopped(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text("name: &a [*a]\n")
    p = _errors(path).problems[0]
    assert "nested more than 50 levels deep" in p.message


# --- YAML 1.2 scalars --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.0e12", 1.0e12),
        ("1e15", 1e15),
        (".5", 0.5),
        ("-2.5E-3", -2.5e-3),
        ("12", 12),
        ("0x1F", 31),
        ("0o17", 15),
        ("+7", 7),
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("off", "off"),
        ("~", None),
        ("null", None),
        ("", None),
        ("true", True),
        ("False", False),
        ("'1e3'", "1e3"),
        ('"true"', "true"),
        ("1_000", "1_000"),
        ("2024-01-01", "2024-01-01"),
        ("!!float 3", 3.0),
        ("!!str 3", "3"),
        ("!!int 0x10", 16),
    ],
)
def test_plain_scalars_follow_yaml_1_2(tmp_path: Path, text: str, expected: Any) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(f"value: {text}\n")
    got = resolve_scenario(path).data["value"]
    assert got == expected
    assert type(got) is type(expected)


def test_special_floats(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("a: .inf\nb: -.Inf\nc: .nan\n")
    data = resolve_scenario(path).data
    assert data["a"] == math.inf
    assert data["b"] == -math.inf
    assert math.isnan(data["c"])


def test_wrong_explicit_core_tag(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("a: !!int 1.5\n")
    p = _errors(path).problems[0]
    assert (p.line, p.column, p.key) == (1, 4, "a")
    assert p.message == "'1.5' is not a valid !!int"


def test_year_keys_are_ints(tmp_path: Path) -> None:
    data = resolve_scenario(VALID).data
    assert list(data["fleet"]["initial_vintages"]) == [2022, 2023, 2024]
    assert list(data["chips"]["hbm_gb_per_accelerator"]["anchors"]) == [2022, 2030]


# --- loading and positions ---------------------------------------------------------------


def test_valid_scenario_loads() -> None:
    sc = load_scenario(VALID)
    assert isinstance(sc, Scenario)
    assert sc.name == "valid"
    assert sc.fleet.initial_vintages[2022] == Fixed(value=1.0e6)
    assert isinstance(sc.demand.segments[0].growth, StartEnd)


def test_resolved_files_and_positions() -> None:
    r = resolve_scenario(DATA / "child_of_bad_parent.yaml")
    assert isinstance(r, Resolved)
    child, parent = str(DATA / "child_of_bad_parent.yaml"), str(DATA / "bad_parent.yaml")
    assert r.files == (child, parent)
    assert "extends" not in r.data
    assert r.positions["name"] == (child, 3, 1)
    assert r.positions["sampling.samples"] == (child, 5, 3)
    assert r.positions["sampling.seed"] == (parent, 47, 3)
    assert r.positions["demand.segments.chat.share"] == (parent, 11, 7)
    assert r.positions[""] == (child, 1, 1)


def test_relative_path_labels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DATA.parent)
    err = _errors(str(Path("data") / "child_of_bad_parent.yaml"))
    child, parent = Path("data") / "child_of_bad_parent.yaml", Path("data") / "bad_parent.yaml"
    assert str(err).startswith(f"{child} extends {parent}: {parent}:43:3: chips.pue: ")


# --- extends merge rules -----------------------------------------------------------------


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture
def parent(tmp_path: Path) -> Path:
    return _write(tmp_path, "parent.yaml", VALID.read_text())


def test_extends_merges_segments_by_name(tmp_path: Path, parent: Path) -> None:
    child = _write(
        tmp_path,
        "child.yaml",
        """extends: parent.yaml
name: child
demand:
  segments:
    - name: frontier
      share: 0.3
    - name: agents
      kind: inference
      share: 0.1
      growth: 1.5
""",
    )
    sc = load_scenario(child)
    assert [s.name for s in sc.demand.segments] == ["chat", "frontier", "agents"]
    frontier = sc.demand.segments[1]
    assert frontier.share == 0.3
    assert frontier.kind == "training"  # kept from the parent
    assert isinstance(frontier.growth, Anchors)
    r = resolve_scenario(child)
    assert r.positions["demand.segments.frontier.share"] == (str(child), 6, 7)
    assert r.positions["demand.segments.frontier.kind"] == (str(parent), 18, 7)


def test_extends_remove_and_lists_replaced(tmp_path: Path, parent: Path) -> None:
    child = _write(
        tmp_path,
        "child.yaml",
        """extends: parent.yaml
shocks:
  - name: deepseek
    remove: true
correlations: []
questions:
  - name: hbm_down
    year: 2028
""",
    )
    sc = load_scenario(child)
    assert sc.shocks == []
    assert sc.correlations == []
    assert sc.questions[0].year == 2028
    assert sc.questions[0].metric == "hbm_gb"


def test_extends_other_lists_replaced_whole(tmp_path: Path, parent: Path) -> None:
    child = _write(
        tmp_path,
        "child.yaml",
        """extends: parent.yaml
shocks:
  - name: deepseek
    applies_to: [training]
""",
    )
    sc = load_scenario(child)
    assert sc.shocks[0].applies_to == ["training"]  # not [inference, training]


def test_extends_removing_unknown_item_is_an_error(tmp_path: Path, parent: Path) -> None:
    child = _write(
        tmp_path, "child.yaml", "extends: parent.yaml\nshocks:\n  - {name: x, remove: true}\n"
    )
    p = _errors(child).problems[0]
    assert (p.file, p.line, p.key) == (str(child), 3, "shocks.x.remove")
    assert "cannot remove 'x'" in p.message


def test_extends_replaces_on_kind_change(tmp_path: Path, parent: Path) -> None:
    child = _write(
        tmp_path,
        "child.yaml",
        """extends: parent.yaml
shocks:
  - name: deepseek
    magnitude: {kind: normal, mean: 4, sd: 0.5}
fleet:
  median_life: {kind: triangular, low: 4, mode: 5, high: 9}
demand:
  segments:
    - name: chat
      growth: {anchors: {2024: 2.0, 2030: 1.2}}
    - name: frontier
      elasticity: {short: 0.2, long: 1.0}
""",
    )
    sc = load_scenario(child)
    mag = sc.shocks[0].magnitude
    assert isinstance(mag, Normal)
    assert (mag.mean, mag.sd) == (4, 0.5)
    life = sc.fleet.median_life
    assert (life.low, life.mode, life.high) == (4, 5, 9)
    assert isinstance(sc.demand.segments[0].growth, Anchors)  # start/end replaced
    el = sc.demand.segments[1].elasticity
    assert el.short == Fixed(value=0.2)
    assert el.long == Fixed(value=1.0)  # the interval string was replaced whole


def test_extends_replaces_distributions_whole(tmp_path: Path, parent: Path) -> None:
    # A distribution is never merged key by key, even of the same kind: merging
    # {p5, p95} into {median, sigma} would make a lognormal with both.
    child = _write(
        tmp_path,
        "child.yaml",
        "extends: parent.yaml\nshocks:\n  - name: deepseek\n"
        "    magnitude: {kind: lognormal, p5: 2, p95: 6}\n",
    )
    mag = load_scenario(child).shocks[0].magnitude
    assert isinstance(mag, LogNormal)
    assert (mag.median, mag.sigma, mag.p5, mag.p95) == (None, None, 2, 6)
    partial = _write(
        tmp_path,
        "partial.yaml",
        "extends: parent.yaml\nshocks:\n  - name: deepseek\n    magnitude: {sigma: 0.2}\n",
    )
    with pytest.raises(ScenarioError, match=r"shocks\.deepseek\.magnitude: a distribution needs"):
        load_scenario(partial)


def test_extends_chain_of_three(tmp_path: Path, parent: Path) -> None:
    _write(tmp_path, "middle.yaml", "extends: parent.yaml\nsampling: {samples: 300}\n")
    sub = tmp_path / "sub"
    sub.mkdir()
    leaf = _write(sub, "leaf.yaml", "extends: ../middle.yaml\nsampling: {seed: 1}\n")
    r = resolve_scenario(leaf)
    assert r.data["sampling"] == {"samples": 300, "seed": 1}
    assert len(r.files) == 3
    sc = load_scenario(leaf)
    assert (sc.sampling.samples, sc.sampling.seed) == (300, 1)


def test_extends_unusable_name_is_located(tmp_path: Path) -> None:
    child = _write(tmp_path, "child.yaml", 'name: c\nextends: "a\\0b.yaml"\n')
    p = _errors(child).problems[0]
    assert (p.line, p.column, p.key) == (2, 1, "extends")
    assert "cannot use" in p.message


def test_extends_must_be_a_string(tmp_path: Path) -> None:
    child = _write(tmp_path, "child.yaml", "name: c\nextends: [a.yaml]\n")
    p = _errors(child).problems[0]
    assert (p.line, p.column, p.key) == (2, 1, "extends")


# --- overrides ---------------------------------------------------------------------------


def test_overrides_apply_after_extends(tmp_path: Path, parent: Path) -> None:
    child = _write(tmp_path, "child.yaml", "extends: parent.yaml\nsampling: {samples: 300}\n")
    overrides = (
        "sampling.samples=5000",
        'demand.segments.chat.elasticity="1 to 2"',
        "shocks.0.onset=2026",
        "fleet.initial_vintages.2024=5e6",
        "chips.hbm_price={kind: uniform, low: 10, high: 20}",
    )
    sc = load_scenario(child, overrides)
    assert sc.sampling.samples == 5000
    long = sc.demand.segments[0].elasticity.long
    assert isinstance(long, LogNormal)
    assert (long.p5, long.p95) == (1, 2)
    assert sc.demand.segments[0].elasticity.short is None  # replaced, not merged
    assert sc.shocks[0].onset == 2026
    assert sc.fleet.initial_vintages[2024] == Fixed(value=5e6)
    r = resolve_scenario(child, overrides)
    assert r.positions["sampling.samples"] == (SET, 1, 18)
    assert r.positions["chips.hbm_price.high"] == (SET, 1, 42)


def test_override_creates_missing_keys() -> None:
    sc = load_scenario(VALID, ("fleet.supply_cap.anchors.2025=1e7",))
    cap = sc.fleet.supply_cap
    assert isinstance(cap, Anchors)
    assert cap.anchors == {2025: Fixed(value=1e7)}


def test_override_invalid_value_among_others() -> None:
    err = _errors(VALID, ("sampling.samples=5000", "sampling.method=halton"))
    p = err.problems[0]
    assert (p.file, p.line, p.column, p.key) == (SET, 1, 17, "sampling.method")
    assert "must be one of 'random', 'lhs' or 'sobol', got a string ('halton')" in p.message


def test_several_bad_overrides_are_all_reported() -> None:
    err = _errors(VALID, ("nokey", "shocks.nope.onset=1"))
    assert [p.key for p in err.problems] == ["--set nokey", "--set shocks.nope.onset=1"]


# --- dump_yaml and JSON Schema -----------------------------------------------------------


@pytest.mark.parametrize("name", ["valid.yaml", "child_of_bad_parent.yaml"])
def test_dump_yaml_round_trips(tmp_path: Path, name: str) -> None:
    overrides = ("chips.pue=1.2",) if name != "valid.yaml" else ()
    r = resolve_scenario(DATA / name, overrides)
    text = dump_yaml(r.data)
    out = _write(tmp_path, "dumped.yaml", text)
    assert resolve_scenario(out).data == r.data
    assert load_scenario(out) == load_scenario(DATA / name, overrides)
    assert dump_yaml(r.data) == text  # deterministic


def test_dump_yaml_quotes_strings_that_look_like_other_types(tmp_path: Path) -> None:
    data = {
        "a": "1e15",
        "b": "true",
        "c": "null",
        "d": "yes",
        "e": 1e15,
        "f": 0.1,
        "g": 12,
        "h": "0x10",
        "i": math.inf,
        "j": None,
        "k": {"anchors": {2024: 1.5}},
        "l": "",
        "m": "1 to 2",
    }
    text = dump_yaml(data)
    path = _write(tmp_path, "d.yaml", text)
    back = resolve_scenario(path).data
    assert back == data
    assert [type(v) for v in back.values()] == [type(v) for v in data.values()]


def test_json_schema(tmp_path: Path) -> None:
    schema = scenario_json_schema()
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["title"] == "jevons scenario"
    assert "extends" in schema["properties"]
    # required of a file without `extends` only
    assert schema["if"] == {"required": ["extends"]}
    assert set(schema["else"]["required"]) >= {"name", "years", "demand", "chips"}
    out = tmp_path / "scenario.schema.json"
    write_json_schema(out)
    assert json.loads(out.read_text()) == schema


def test_json_schema_accepts_the_valid_scenario() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    data = resolve_scenario(VALID).data
    as_json = json.loads(json.dumps(data))  # year keys become strings, as in JSON
    jsonschema.Draft7Validator(scenario_json_schema()).validate(as_json)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_non_regular_file_is_refused_without_reading_it() -> None:
    with pytest.raises(ScenarioError, match=r"/dev/zero:1:1: not a regular file"):
        load_scenario("/dev/zero")
