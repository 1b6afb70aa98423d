"""Bad and good input for the fields of MODEL.md version 2 (issue 7).

``fleet.order_lead`` (a scalar in [0, 1], default 0), ``fleet.power_cap`` (a path in W,
> 0, given from the first projection year) and the domain check of ``{from, value,
growth}`` paths, which replaced the first release's silent clip. Every fixture in
``tests/data/v2/`` starts from ``tests/data/valid.yaml`` with one change (its first line
says which); the table gives the exact location each problem is reported at and the
fragments its message must hold. The years and values in the growth-path messages are
worked by hand from the fixture (e.g. ``0.5 * 1.2 ** 4 = 1.0368`` in 2028, the first
year above 1).

Each bad fixture must give one located ``file:line:col: key: message`` through
:func:`simulator.io.load_scenario`, and ``jevons validate`` / ``jevons run`` must exit
with :data:`simulator.errors.EXIT_SCENARIO_ERROR` without a traceback.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from simulator import simulate
from simulator.cli import app
from simulator.errors import EXIT_SCENARIO_ERROR, ScenarioError
from simulator.io import load_scenario
from simulator.sampling import draw_block, path_values
from simulator.schema import Anchors, Fixed, FromGrowth

DATA = Path(__file__).resolve().parent.parent / "data"
V2 = DATA / "v2"
runner = CliRunner()

# (fixture, line, column, dotted key, fragments the message must hold)
# fmt: off
BAD: list[tuple[str, int, int, str, tuple[str, ...]]] = [
    # fleet.order_lead: a scalar in [0, 1]
    ("order_lead_above_one.yaml", 36, 3, "fleet.order_lead",
     ("must be in [0, 1] (got 1.5)",)),
    ("order_lead_negative.yaml", 36, 3, "fleet.order_lead",
     ("must be in [0, 1] (got -0.1)",)),
    ("order_lead_distribution_outside.yaml", 36, 3, "fleet.order_lead",
     ("must be in [0, 1], but uniform(low=0.5, high=1.2) can take values in [0.5, 1.2]",)),
    # fleet.power_cap: a path in W, > 0, from the first projection year (2025)
    ("power_cap_negative.yaml", 36, 3, "fleet.power_cap", ("must be > 0 (got -1)",)),
    ("power_cap_zero.yaml", 36, 3, "fleet.power_cap", ("must be > 0 (got 0)",)),
    ("power_cap_anchors_late.yaml", 37, 5, "fleet.power_cap.anchors",
     ("anchors start in 2027", "from the first projection year 2025",
      "add an anchor at or before 2025")),
    ("power_cap_from_late.yaml", 36, 15, "fleet.power_cap.from",
     ("starts in 2026", "from the first projection year 2025", "start it at or before 2025")),
    # {from, value, growth} paths that leave their domain: the first year and the value
    # 0.5 * 1.2**3 = 0.864 (2027), 0.5 * 1.2**4 = 1.0368 (2028)
    ("utilization_growth_passes_one.yaml", 32, 39, "utilization.inference.growth",
     ("leaves its domain (in (0, 1]) in 2028", "value 0.5 grown by 1.2 a year from 2024",
      "reaches 1.037")),
    # 1.3 * 0.95**5 = 1.0059 (2029), 1.3 * 0.95**6 = 0.95560 (2030)
    ("pue_growth_below_one.yaml", 43, 33, "chips.pue.growth",
     ("leaves its domain (>= 1) in 2030", "value 1.3 grown by 0.95 a year from 2024",
      "reaches 0.9556")),
    # 5 * 3**2 = 45 (2026), 5 * 3**3 = 135 (2027), above growth's bound 100
    ("growth_path_above_bound.yaml", 12, 38, "demand.segments.chat.growth.growth",
     ("leaves its domain (in (0, 100]) in 2027", "value 5 grown by 3 a year from 2024",
      "reaches 135")),
    # a lognormal growth is unbounded above: some draw passes 1 in the first year
    ("utilization_lognormal_growth.yaml", 32, 39, "utilization.inference.growth",
     ("can leave its domain (in (0, 1]) in 2025", "lognormal(p5=1, p95=1.1) has no upper bound",
      "value 0.3 grown from 2024", "bounded distribution")),
]
# fmt: on

GOOD = ("power_cap_valid.yaml", "growth_path_inside.yaml")


def _problem(path: Path) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value


@pytest.mark.parametrize(
    ("fixture", "line", "column", "key", "fragments"), BAD, ids=[c[0] for c in BAD]
)
def test_bad_v2_input_is_a_located_error(
    fixture: str, line: int, column: int, key: str, fragments: tuple[str, ...]
) -> None:
    path = V2 / fixture
    err = _problem(path)
    assert len(err.problems) == 1, str(err)
    p = err.problems[0]
    assert (p.file, p.line, p.column, p.key) == (str(path), line, column, key), str(err)
    for fragment in fragments:
        assert fragment in p.message, str(err)
    assert str(err).startswith(f"{path}:{line}:{column}: {key}: ")


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize(
    ("fixture", "line", "column", "key", "fragments"), BAD, ids=[c[0] for c in BAD]
)
def test_cli_exits_1_with_the_location_and_no_traceback(
    command: str, fixture: str, line: int, column: int, key: str, fragments: tuple[str, ...]
) -> None:
    path = V2 / fixture
    args = [command, str(path)] + (["-n", "10"] if command == "run" else [])
    r = runner.invoke(app, args)
    assert r.exit_code == EXIT_SCENARIO_ERROR, r.stdout + r.stderr
    assert f"{path}:{line}:{column}: {key}: " in r.stderr
    assert fragments[0] in r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    assert r.exception is None or isinstance(r.exception, SystemExit)


@pytest.mark.parametrize(
    ("override", "column", "fragment"),
    [
        ("fleet.order_lead=1.5", 18, "must be in [0, 1] (got 1.5)"),
        ("fleet.power_cap=-1", 17, "must be > 0 (got -1)"),
    ],
)
def test_bad_v2_override_is_located_on_the_command_line(
    override: str, column: int, fragment: str
) -> None:
    r = runner.invoke(app, ["run", str(DATA / "valid.yaml"), "-n", "10", "--set", override])
    assert r.exit_code == EXIT_SCENARIO_ERROR, r.stdout + r.stderr
    key = override.split("=", maxsplit=1)[0]
    assert f"--set:1:{column}: {key}: {fragment}" in r.stderr
    assert "Traceback" not in r.stdout + r.stderr


# --- good input ------------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", GOOD)
def test_good_v2_input_validates_and_runs(fixture: str, tmp_path: Path) -> None:
    path = str(V2 / fixture)
    r = runner.invoke(app, ["validate", path])
    assert r.exit_code == 0, r.stderr
    r = runner.invoke(app, ["run", path, "-n", "200", "--seed", "3", "--out", str(tmp_path / "o")])
    assert r.exit_code == 0, r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    assert (tmp_path / "o" / "summary.csv").is_file()


def test_version_1_scenario_defaults_order_lead_to_0_and_no_power_cap() -> None:
    s = load_scenario(DATA / "valid.yaml")
    assert s.fleet.power_cap is None
    draws = draw_block(s, seed=1, block=0, block_size=8)
    assert np.all(draws["fleet.order_lead"] == 0.0)


def test_order_lead_draws_stay_in_the_distribution_given() -> None:
    s = load_scenario(V2 / "power_cap_valid.yaml")
    draws = draw_block(s, seed=5, block=0, block_size=512)["fleet.order_lead"]
    # uniform(0.3, 0.7) in the fixture
    assert draws.min() >= 0.3
    assert draws.max() <= 0.7
    assert draws.max() - draws.min() > 0.3


def test_power_cap_binds_and_power_stays_under_it() -> None:
    """The valid fixture's cap is 20 GW in 2025 and 60 GW in 2030, log-interpolated.

    MODEL.md v2 invariant 2: ``power(k) <= max(P_max(k), P_O(k))`` for ``k >= 1``; the
    surviving fleet's draw ``P_O`` is not an output, but where it exceeds the cap nothing
    ships, so ``power <= cap`` wherever something shipped. The same samples without the
    cap ship more in some path (the cap binds), never less.
    """
    s = load_scenario(V2 / "power_cap_valid.yaml")
    years = np.arange(2024, 2031)
    cap = 20e9 * 3.0 ** ((years - 2025) / 5)  # anchors 2025: 20e9, 2030: 60e9 (log)
    capped = simulate(s, samples=400, rng=11)
    free = simulate(
        s.model_copy(update={"fleet": s.fleet.model_copy(update={"power_cap": None})}),
        samples=400,
        rng=11,
    )
    for variant in ("with_shocks", "counterfactual"):
        power = capped.variant(variant)["power_w"][:, 1:]
        shipped = capped.variant(variant)["shipments_h100e"][:, 1:]
        ok = (power <= cap[1:] * (1 + 1e-9)) | (shipped == 0.0)
        assert ok.all(), variant
        q_cap = capped.variant(variant)["shipments_h100e"]
        q_free = free.variant(variant)["shipments_h100e"]
        # the cap limits the first year that hits it; later years may catch up
        first = q_cap[:, 1] <= q_free[:, 1] * (1 + 1e-12)
        assert first.all(), variant
        assert (q_cap[:, 1:] < q_free[:, 1:] * (1 - 1e-6)).any(), variant


def test_order_lead_changes_the_shock_path_but_not_the_counterfactual() -> None:
    """MODEL.md v2 invariant 10: the counterfactual does not depend on ``phi``."""
    s = load_scenario(V2 / "power_cap_valid.yaml")
    no_cap = s.fleet.model_copy(update={"power_cap": None})
    lead = simulate(s.model_copy(update={"fleet": no_cap}), samples=300, rng=2)
    zero = simulate(
        s.model_copy(update={"fleet": no_cap.model_copy(update={"order_lead": Fixed(value=0.0)})}),
        samples=300,
        rng=2,
    )
    for m in ("shipments_h100e", "installed_h100e", "idle_h100e"):
        np.testing.assert_allclose(
            lead.counterfactual[m], zero.counterfactual[m], rtol=1e-12, atol=1e-6
        )
    assert not np.allclose(
        lead.with_shocks["shipments_h100e"], zero.with_shocks["shipments_h100e"]
    )


def test_growth_path_inside_its_domain_is_accepted_and_evaluated_unclipped() -> None:
    """0.45 grown by up to 1.1 a year from 2024 reaches at most 0.45 * 1.1**6 = 0.7972 in 2030."""
    s = load_scenario(V2 / "growth_path_inside.yaml")
    spec = s.utilization.inference
    assert isinstance(spec, FromGrowth)
    draws = draw_block(s, seed=4, block=0, block_size=256)
    years = list(range(2024, 2031))
    values = path_values(spec, draws, "utilization.inference", years, 2024, 2030)
    growth = draws["utilization.inference.growth"][:, None]
    expected = 0.45 * growth ** (np.array(years) - 2024)
    np.testing.assert_allclose(values, expected, rtol=1e-15)
    assert values.max() <= 0.45 * 1.1**6 * (1 + 1e-12)
    assert values.max() > 0.45 * 1.09**6  # the draws reach near the top: not a flat path


@pytest.mark.parametrize(
    ("inference", "accepted"),
    [
        # exactly at the closed bound 1 in 2030: 1.0 * 1.0**6 = 1
        ("{from: 2024, value: 1.0, growth: 1.0}", True),
        # 0.5 * 2**1 = 1 in 2025, 2 in 2026
        ("{from: 2024, value: 0.5, growth: 2.0}", False),
        # flat before 'from': 2030 is the path's start, so it never grows
        ("{from: 2030, value: 0.9, growth: 1.5}", True),
        # a truncnormal growth with a finite top is bounded: 0.5 * 1.1**6 = 0.886
        (
            (
                "{from: 2024, value: 0.5, growth: {kind: truncnormal, mean: 1.05, sd: 0.05, "
                "low: 0.9, high: 1.1}}"
            ),
            True,
        ),
    ],
)
def test_growth_path_domain_edges(inference: str, accepted: bool, tmp_path: Path) -> None:
    text = (DATA / "valid.yaml").read_text(encoding="utf-8")
    old = "  inference: {kind: beta, alpha: 4, beta: 6, low: 0.1, high: 0.9}\n"
    assert old in text
    path = tmp_path / "s.yaml"
    path.write_text(text.replace(old, f"  inference: {inference}\n"), encoding="utf-8")
    if accepted:
        load_scenario(path)
    else:
        err = _problem(path)
        assert [p.key for p in err.problems] == ["utilization.inference.growth"]
        assert "in 2026" in err.problems[0].message
        assert "reaches 2" in err.problems[0].message


def test_power_cap_path_forms_from_the_first_projection_year_are_accepted(
    tmp_path: Path,
) -> None:
    text = (DATA / "valid.yaml").read_text(encoding="utf-8")
    anchor = "  median_life: {kind: triangular, low: 4, mode: 5, high: 7}\n"
    for cap, kind in [
        ("{anchors: {2024: 10.0e9, 2030: 60.0e9}}", Anchors),  # before the first year
        ("{from: 2025, value: 20.0e9, growth: 1.2}", FromGrowth),  # at the first year
        ("{start: 20.0e9, end: 60.0e9}", None),
        ('"15e9 to 25e9"', None),
    ]:
        path = tmp_path / "s.yaml"
        path.write_text(text.replace(anchor, f"{anchor}  power_cap: {cap}\n"), encoding="utf-8")
        s = load_scenario(path)
        assert s.fleet.power_cap is not None
        if kind is not None:
            assert isinstance(s.fleet.power_cap, kind)


def test_dataclass_inputs_carry_the_new_fields() -> None:
    """The engine's inputs hold the order lead per sample and the cap per year [W]."""
    from simulator.engine import build_inputs

    s = load_scenario(V2 / "power_cap_valid.yaml")
    draws = draw_block(s, seed=9, block=0, block_size=16)
    inputs = build_inputs(s, draws)
    assert inputs.fleet.order_lead is not None
    assert inputs.fleet.power_cap is not None
    assert inputs.fleet.power_cap.shape == (16, 7)
    np.testing.assert_allclose(inputs.fleet.power_cap[0, 1], 20e9, rtol=1e-15)
    np.testing.assert_allclose(inputs.fleet.power_cap[0, 6], 60e9, rtol=1e-15)
    assert dataclasses.is_dataclass(inputs.fleet)
