"""Mutation check: do the property tests catch deliberate bugs in the model?

For each mutation below (a bug put into one line of ``simulator/`` on purpose), this
script copies ``simulator/``, ``tests/``, ``scenarios/`` and ``pyproject.toml`` into a
temporary directory, applies the text substitution there (failing loudly if the old
text is no longer in the file, so the list stays true to the code), and runs the tests
meant to catch it with ``python -m pytest -q -x -p no:cacheprovider`` in that copy, with
``PYTHONPATH`` pointing at it (checked first: the copy's ``simulator`` must be the one
imported, not the editable install). A mutation is *caught* when pytest fails. The
tests run under the ``ci`` profile's examples with hypothesis's shrinking turned off
(a ``mutation`` profile registered by a small plugin written into the copy only), so a
caught mutation fails in seconds.

Usage::

    python tests/property/mutate.py                 # every mutation, stop at first failure
    python tests/property/mutate.py --only NAME     # one mutation (repeatable)
    python tests/property/mutate.py --all           # run every listed test (no -x) and
                                                    # print the table of MUTATIONS.md
    python tests/property/mutate.py --list          # names, files and invariants

Exits non-zero if any mutation is missed, or if the tests fail without a mutation.
The results are recorded in ``tests/property/MUTATIONS.md``; rerun after changing the
model and update that table.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COPY = ("simulator", "tests", "scenarios", "pyproject.toml")

INV = "tests/property/test_invariants.py"
ORACLE = "tests/property/test_oracle.py"
SAMPLING = "tests/property/test_sampling_props.py"


@dataclass(frozen=True)
class Mutation:
    """One deliberate bug: replace ``old`` by ``new`` in ``file``."""

    name: str
    file: str
    old: str
    new: str
    invariant: str
    tests: tuple[str, ...]


def _inv(*names: str) -> tuple[str, ...]:
    return tuple(f"{INV}::{n}" for n in names)


ORACLE_TESTS = (
    f"{ORACLE}::test_model_agrees_with_oracle",
    f"{ORACLE}::test_model_agrees_with_oracle_capped",
)

MUTATIONS: tuple[Mutation, ...] = (
    Mutation(
        "jevons-exponent-sign-flipped",
        "simulator/model/demand.py",
        "exponent = (pi * elasticity_long[:, None] - 1.0) * log_gain + pi * (",
        "exponent = (1.0 - pi * elasticity_long[:, None]) * log_gain + pi * (",
        "4, 8",
        _inv(
            "test_inv4_sign_of_the_response",
            "test_inv3_shocks_act_from_their_onset_year",
            "test_inv8_scenarios_agree_with_scalar_oracle",
        )
        + ORACLE_TESTS,
    ),
    Mutation(
        "pass-through-dropped",
        "simulator/model/demand.py",
        "pi = pass_through[:, None]",
        "pi = xp.ones_like(pass_through)[:, None]",
        "4, 8",
        _inv(
            "test_inv4_neutral_response_leaves_compute_unchanged",
            "test_inv3_shocks_act_from_their_onset_year",
            "test_inv8_scenarios_agree_with_scalar_oracle",
        )
        + ORACLE_TESTS,
    ),
    Mutation(
        "arithmetic-adoption-mix",
        "simulator/model/demand.py",
        "return one / (one - adoption * saving)",
        "return one - adoption + adoption * magnitude[:, None]",
        "3, 8",
        _inv(
            "test_inv3_null_shock_changes_nothing",
            "test_inv3_shocks_act_from_their_onset_year",
            "test_inv8_scenarios_agree_with_scalar_oracle",
        )
        + ORACLE_TESTS,
    ),
    Mutation(
        "survival-always-one",
        "simulator/model/fleet.py",
        "return xp.exp(-LN2 * scaled)",
        "return xp.ones_like(scaled)",
        "2, 8",
        _inv("test_inv8_scenarios_agree_with_scalar_oracle") + ORACLE_TESTS,
    ),
    Mutation(
        "initial-vintages-dropped-from-O",
        "simulator/model/fleet.py",
        "old = surviving_sum(vintages, k)",
        "old = surviving_sum([v * 0.0 if j < n_vintages else v "
        "for j, v in enumerate(vintages)], k)",
        "2, 8",
        _inv("test_inv8_scenarios_agree_with_scalar_oracle") + ORACLE_TESTS,
    ),
    Mutation(
        "no-floor-in-D",
        "simulator/model/fleet.py",
        "want = xp.clip(target[:, k] - old, min=0.0)",
        "want = target[:, k] - old",
        "1, 2, 8",
        _inv(
            "test_inv1_outputs_finite_and_nonnegative",
            "test_inv1_model_outputs_finite_and_nonnegative",
            "test_inv2_conservation",
            "test_inv2_model_conservation",
        )
        + ORACLE_TESTS,
    ),
    Mutation(
        "absolute-floor-in-D",
        "simulator/model/fleet.py",
        "want = xp.clip(target[:, k] - old, min=0.0)",
        "want = xp.clip(target[:, k] - old, min=1.0)",
        "5",
        _inv(
            "test_inv5_homogeneity_exact_for_powers_of_two", "test_inv5_homogeneity_on_scenarios"
        ),
    ),
    Mutation(
        "supply-cap-ignored",
        "simulator/model/fleet.py",
        "ship = want if supply_cap is None else xp.minimum(want, supply_cap[:, k])",
        "ship = want",
        "2, 8",
        _inv("test_inv2_conservation", "test_inv2_model_conservation") + ORACLE_TESTS,
    ),
    Mutation(
        "longer-life-retires-sooner",
        "simulator/model/fleet.py",
        "log_ratio = xp.log(safe_age[None, :] / median_life[:, None])",
        "log_ratio = xp.log(safe_age[None, :] * median_life[:, None])",
        "6, 8",
        _inv(
            "test_inv6_longer_life_never_raises_cumulative_shipments_when_k0_is_fixed",
            "test_inv6_stock_flow_longer_life_never_raises_cumulative_shipments",
        )
        + ORACLE_TESTS,
    ),
    Mutation(
        "power-of-year-not-vintage",
        "simulator/model/market.py",
        "_in_service(units * system_power, survival, n_years) * load * pue",
        "_in_service(units, survival, n_years) * system_power[:, -n_years:] * load * pue",
        "8",
        _inv("test_inv8_scenarios_agree_with_scalar_oracle") + ORACLE_TESTS,
    ),
    Mutation(
        "units-Q-times-p",
        "simulator/model/market.py",
        "return xp.asarray(shipments / h100e_per_unit)",
        "return xp.asarray(shipments * h100e_per_unit)",
        "7, 8",
        _inv("test_inv7_units_and_hbm_exact") + ORACLE_TESTS,
    ),
    Mutation(
        "onset-one-year-early-in-engine",
        "simulator/engine.py",
        "onset=m.onset - base,",
        "onset=m.onset - base - 1,",
        "3",
        _inv("test_inv3_shocks_act_from_their_onset_year"),
    ),
    Mutation(
        "onset-one-year-late-in-engine",
        "simulator/engine.py",
        "onset=m.onset - base,",
        "onset=m.onset - base + 1,",
        "3",
        _inv("test_inv3_shocks_act_from_their_onset_year"),
    ),
    Mutation(
        "trend-starts-a-year-early",
        "simulator/model/demand.py",
        "elapsed = xp.clip(tau, min=0.0)",
        "elapsed = xp.clip(tau + 1.0, min=0.0)",
        "3, 8",
        _inv(
            "test_inv3_shocks_act_from_their_onset_year",
            "test_inv8_scenarios_agree_with_scalar_oracle",
        )
        + ORACLE_TESTS,
    ),
    Mutation(
        "elasticity-always-long-run",
        "simulator/model/demand.py",
        "elasticity_short - elasticity_long\n    )[:, None] * weighted",
        "elasticity_short - elasticity_long\n    )[:, None] * 0.0 * weighted",
        "4, 8",
        _inv(
            "test_inv3_shocks_act_from_their_onset_year",
            "test_inv8_scenarios_agree_with_scalar_oracle",
        )
        + ORACLE_TESTS,
    ),
    Mutation(
        "shock-hits-every-segment",
        "simulator/engine.py",
        "if s.name in m.applies_to or s.kind in m.applies_to",
        "if s.name in m.applies_to or s.kind in m.applies_to or True",
        "3",
        _inv(
            "test_inv3_segment_outside_every_shock_is_unchanged",
            "test_inv3_shock_moves_only_the_segments_in_its_list",
        ),
    ),
    Mutation(
        "kinds-do-not-sum-to-total",
        "simulator/model/__init__.py",
        'total=kinds["training"] + kinds["inference"],',
        'total=kinds["training"] + kinds["training"],',
        "2",
        _inv("test_inv2_conservation", "test_inv2_model_conservation"),
    ),
    Mutation(
        "inference-share-over-training",
        "simulator/model/__init__.py",
        '"inference_share": _share(need.kinds["inference"], need.total),',
        '"inference_share": _share(need.kinds["inference"], need.kinds["training"]),',
        "1, 8",
        _inv(
            "test_inv1_outputs_finite_and_nonnegative",
            "test_inv1_model_outputs_finite_and_nonnegative",
        )
        + ORACLE_TESTS,
    ),
    Mutation(
        "idle-is-version-1-surplus",
        "simulator/model/fleet.py",
        "idle.append(xp.clip(ship - gap, min=0.0))",
        "idle.append(xp.clip(-gap, min=0.0))",
        "2, 8",
        _inv("test_inv2_conservation", "test_inv2_model_conservation") + ORACLE_TESTS,
    ),
    Mutation(
        "power-cap-ignored",
        "simulator/model/fleet.py",
        "ship = xp.minimum(ship, room)",
        "ship = ship",
        "2, 8",
        _inv("test_inv2_conservation", "test_inv2_model_conservation") + ORACLE_TESTS,
    ),
    Mutation(
        "power-room-not-homogeneous",
        "simulator/model/fleet.py",
        "free / xp.where(positive, cost, xp.ones_like(cost)),",
        "free / xp.where(positive, cost, xp.ones_like(cost)) + 1.0,",
        "5, 8",
        _inv("test_inv5_homogeneity_exact_for_powers_of_two", "test_inv5_homogeneity_on_scenarios")
        + ORACLE_TESTS,
    ),
    Mutation(
        "O-counts-retired-not-surviving",
        "simulator/model/fleet.py",
        "total = total + q * by_age[k + n_vintages - 1 - i, ...]",
        "total = total + q * (1.0 - by_age[k + n_vintages - 1 - i, ...])",
        "6, 8",
        _inv(
            "test_inv6_longer_life_never_raises_cumulative_shipments_when_k0_is_fixed",
            "test_inv6_stock_flow_longer_life_never_raises_cumulative_shipments",
        )
        + ORACLE_TESTS,
    ),
    Mutation(
        "order-lead-weights-swapped",
        "simulator/model/fleet.py",
        "planned = current + order_lead[:, None] * (forecast - current)",
        "planned = forecast + order_lead[:, None] * (current - forecast)",
        "10, 8",
        _inv(
            "test_inv10_counterfactual_does_not_depend_on_order_lead",
            "test_inv10_a_shock_that_cuts_demand_leaves_orders_on_the_trend_idle",
        )
        + ORACLE_TESTS,
    ),
    Mutation(
        "order-lead-forecast-only-to-rounding",
        "simulator/model/fleet.py",
        "planned = current + order_lead[:, None] * (forecast - current)",
        "planned = (1.0 - order_lead[:, None]) * current + order_lead[:, None] * forecast",
        "3, 10",
        _inv("test_inv3_with_an_order_lead_nothing_moves_before_the_first_onset"),
    ),
    Mutation(
        "counterfactual-follows-its-own-lead",
        "simulator/model/__init__.py",
        "counterfactual = _supply(inputs, shared, base, None)",
        "counterfactual = _supply(inputs, shared, base, base.capacity * 1.01)",
        "10, 8",
        _inv("test_inv10_counterfactual_does_not_depend_on_order_lead") + ORACLE_TESTS,
    ),
    Mutation(
        "increments-age-a-year-early",
        "simulator/model/demand.py",
        "columns.append(decay * columns[-1] + (log_gain[:, k] - log_gain[:, k - 1]))",
        "columns.append(decay * (columns[-1] + (log_gain[:, k] - log_gain[:, k - 1])))",
        "11, 8",
        _inv(
            "test_inv11_per_increment_clock_never_above_one_clock_form",
            "test_inv11_a_step_meets_the_one_clock_form",
        )
        + ORACLE_TESTS,
    ),
    Mutation(
        "default-adoption-width-changed",
        "simulator/schema/scenario.py",
        'default=Fixed(value=0.5), description="Logistic width',
        'default=Fixed(value=0.3), description="Logistic width',
        "8 (inputs from YAML)",
        (
            "tests/unit/test_reference_yaml.py::test_yaml_scenario_matches_reference",
            "tests/property/test_reference_inputs.py::test_random_fixed_scenarios_match_reference",
        ),
    ),
    Mutation(
        "one-stream-for-all-parameters",
        "simulator/sampling/streams.py",
        'return int.from_bytes(digest[:8], "little")',
        "return 0",
        "9",
        _inv(
            "test_inv9_blocks_and_parameters_have_their_own_streams",
            "test_inv9_rank_correlations_match_requested",
        ),
    ),
    Mutation(
        "seed-ignores-block",
        "simulator/sampling/streams.py",
        "spawn_key=(stable_hash(path), int(block))",
        "spawn_key=(stable_hash(path),)",
        "9",
        _inv("test_inv9_blocks_and_parameters_have_their_own_streams"),
    ),
    Mutation(
        "seed-depends-on-sample-count",
        "simulator/engine.py",
        "seed = as_seed(scenario.sampling.seed if rng is None else rng)\n    n_blocks",
        "seed = as_seed(scenario.sampling.seed if rng is None else rng) + n\n    n_blocks",
        "9",
        _inv("test_inv9_determinism_prefix_and_worker_independence"),
    ),
    Mutation(
        "block-index-from-position",
        "simulator/engine.py",
        "draws = draw_block(scenario, seed, todo[i], block_size=block_size)",
        "draws = draw_block(scenario, seed, i, block_size=block_size)",
        "9",
        _inv("test_inv9_determinism_prefix_and_worker_independence"),
    ),
    Mutation(
        "streams-depend-on-other-parameters",
        "simulator/sampling/__init__.py",
        "uniforms = block_uniforms(scenario.sampling.method, seed, uncertain, block, block_size)",
        "uniforms = block_uniforms(scenario.sampling.method, seed + len(uncertain), uncertain, "
        "block, block_size)",
        "9",
        _inv("test_inv9_common_random_numbers"),
    ),
    Mutation(
        "lhs-not-stratified",
        "simulator/sampling/designs.py",
        "strata = g.permutation(block_size)",
        "strata = g.integers(0, block_size, size=block_size)",
        "9",
        (
            *_inv("test_inv9_sampled_distributions_match_scipy"),
            f"{SAMPLING}::test_lhs_exactly_one_point_per_stratum",
        ),
    ),
    Mutation(
        "copula-ignored",
        "simulator/sampling/designs.py",
        "    if not correlations:\n        return out",
        "    if True:\n        return out",
        "9",
        _inv("test_inv9_rank_correlations_match_requested"),
    ),
    Mutation(
        "summary-sd-ddof-0",
        "simulator/summary.py",
        "np.std(arr, axis=0, ddof=1)",
        "np.std(arr, axis=0, ddof=0)",
        "summaries (§7)",
        _inv("test_summary_statistics_agree_with_numpy"),
    ),
    Mutation(
        "exceedance-wrong-op",
        "simulator/summary.py",
        '">": operator.gt,',
        '">": operator.ge,',
        "summaries (§7)",
        _inv("test_exceedance_in_unit_interval_and_complements_sum_to_one"),
    ),
    Mutation(
        "impact-zero-over-zero-is-nan",
        "simulator/summary.py",
        "np.where(top == 0.0, 1.0, np.copysign(np.inf, top))",
        "np.where(top == 0.0, np.nan, np.copysign(np.inf, top))",
        "1, summaries (§7)",
        _inv("test_impact_ratio_is_never_nan", "test_inv1_outputs_finite_and_nonnegative"),
    ),
)


def copy_tree(dest: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", ".hypothesis", "*.pyc")
    for name in COPY:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=ignore)
        else:
            shutil.copy2(src, dest / name)
    (dest / f"{PLUGIN}.py").write_text(PLUGIN_SOURCE, encoding="utf-8")


def apply(mutation: Mutation, dest: Path) -> None:
    path = dest / mutation.file
    text = path.read_text(encoding="utf-8")
    count = text.count(mutation.old)
    if count != 1:
        msg = (
            f"mutation {mutation.name}: expected the old text exactly once in {mutation.file}, "
            f"found it {count} times; update MUTATIONS in {Path(__file__).name}:\n"
            f"{mutation.old}"
        )
        raise SystemExit(msg)
    path.write_text(text.replace(mutation.old, mutation.new), encoding="utf-8")


PLUGIN = "_mutation_profile"
PLUGIN_SOURCE = """\
# Written by tests/property/mutate.py into its temporary copy only: the active profile
# (``ci`` by default) without shrinking, so that a caught mutation fails fast.
from hypothesis import Phase, settings


def pytest_configure(config):  # after tests/conftest.py has loaded its profile
    settings.register_profile(
        "mutation",
        parent=settings.default,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        database=None,
    )
    settings.load_profile("mutation")
"""


def environment(dest: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(dest)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def check_isolation(dest: Path) -> None:
    """The copy's ``simulator`` and ``tests`` must be the ones imported."""
    code = "import simulator, tests.strategies; print(simulator.__file__); print(tests.__file__)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=dest,
        env=environment(dest),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for f in out:
        if not Path(f).resolve().is_relative_to(dest.resolve()):
            msg = f"isolation failed: imported {f}, not from the copy in {dest}"
            raise SystemExit(msg)


def run_pytest(dest: Path, tests: tuple[str, ...], *, stop: bool) -> tuple[int, list[str], str]:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", PLUGIN, *tests]
    if stop:
        cmd.insert(4, "-x")
    proc = subprocess.run(
        cmd,
        cwd=dest,
        env=environment(dest),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", proc.stdout, flags=re.MULTILINE)
    return proc.returncode, failed, proc.stdout


def short(test: str) -> str:
    return test.split("::", 1)[-1].split(" ", maxsplit=1)[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", default=[], help="run this mutation only")
    parser.add_argument("--all", action="store_true", help="run every listed test (no -x)")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unmutated run")
    args = parser.parse_args(argv)

    chosen = [m for m in MUTATIONS if not args.only or m.name in args.only]
    unknown = set(args.only) - {m.name for m in MUTATIONS}
    if unknown:
        print(f"unknown mutation(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    if args.list:
        for m in chosen:
            print(f"{m.name:38} {m.file:32} invariant {m.invariant}")
        return 0

    results: list[tuple[Mutation, bool, list[str], float]] = []
    with tempfile.TemporaryDirectory(prefix="jevons-mutants-") as tmp:
        if not args.no_baseline:
            base = Path(tmp) / "baseline"
            copy_tree(base)
            check_isolation(base)
            every = tuple(dict.fromkeys(t for m in chosen for t in m.tests))
            rc, failed, out = run_pytest(base, every, stop=False)
            if rc != 0:
                print(out[-4000:], file=sys.stderr)
                print("baseline FAILED: the tests fail without any mutation", file=sys.stderr)
                return 1
            print(f"baseline: {len(every)} tests pass without mutations")
        for m in chosen:
            dest = Path(tmp) / m.name
            copy_tree(dest)
            apply(m, dest)
            check_isolation(dest)
            t0 = time.perf_counter()
            rc, failed, out = run_pytest(dest, m.tests, stop=not args.all)
            seconds = time.perf_counter() - t0
            caught = rc != 0
            if caught and not failed:
                failed = [f"(pytest exited with code {rc})"]
            results.append((m, caught, failed, seconds))
            verdict = "caught" if caught else "MISSED"
            names = ", ".join(short(f) for f in failed)
            print(f"{verdict:7} {m.name:38} [{seconds:5.1f} s] {names}", flush=True)
            shutil.rmtree(dest, ignore_errors=True)

    if args.all:
        print("\n| mutation | file | invariant | caught by | result |")
        print("|---|---|---|---|---|")
        for m, caught, failed, _ in results:
            names = "<br>".join(f"`{short(f)}`" for f in failed) or "-"
            result = "caught" if caught else "**missed**"
            print(f"| `{m.name}` | `{m.file}` | {m.invariant} | {names} | {result} |")
    missed = [m.name for m, caught, _, _ in results if not caught]
    print(f"\n{len(results) - len(missed)}/{len(results)} mutations caught")
    if missed:
        print("missed: " + ", ".join(missed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
