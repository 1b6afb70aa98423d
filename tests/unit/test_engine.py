"""The engine: determinism, prefix stability, block/worker independence, CRN.

MODEL.md §6 and §8 item 9. These use the shipped scenarios at small sample counts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulator.engine import answer_questions, simulate
from simulator.errors import SimulationError
from simulator.io import load_scenario
from simulator.result import SimulationResult
from simulator.schema import Scenario

SCENARIOS = Path(__file__).parents[2] / "scenarios"


@pytest.fixture(scope="module")
def deepseek() -> Scenario:
    return load_scenario(SCENARIOS / "deepseek.yaml")


@pytest.fixture(scope="module")
def base() -> Scenario:
    return load_scenario(SCENARIOS / "base.yaml")


def assert_same(a: SimulationResult, b: SimulationResult, rows: slice = slice(None)) -> None:
    assert a.metrics == b.metrics
    for variant in ("with_shocks", "counterfactual", "impact"):
        for m in a.metrics:
            np.testing.assert_array_equal(
                a.variant(variant)[m][rows], b.variant(variant)[m], err_msg=f"{variant}/{m}"
            )


def test_same_seed_same_numbers(deepseek) -> None:
    assert_same(simulate(deepseek, 700, rng=11), simulate(deepseek, 700, rng=11))


def test_different_seed_different_numbers(deepseek) -> None:
    a = simulate(deepseek, 300, rng=1).with_shocks["hbm_gb"]
    b = simulate(deepseek, 300, rng=2).with_shocks["hbm_gb"]
    assert not np.array_equal(a, b)


@pytest.mark.filterwarnings("ignore::simulator.sampling.SobolSampleCountWarning")
@pytest.mark.parametrize("method", ["random", "lhs", "sobol"])
def test_full_blocks_are_shared_and_the_last_block_is_its_own(deepseek, method: str) -> None:
    # n = 1000 and n = 300 in blocks of 256 share block 0, full in both. Block 1 holds 44
    # samples of the 300-sample run: its Latin hypercube is stratified over 44 points and
    # its correlations imposed over 44 (deepseek correlates some parameters), so it is not
    # the first 44 samples of the 1000-sample run's block 1 (docs/sampling.md).
    full = simulate(deepseek, 1000, rng=3, method=method, block_size=256)  # type: ignore[arg-type]
    part = simulate(deepseek, 300, rng=3, method=method, block_size=256)  # type: ignore[arg-type]
    first = simulate(deepseek, 256, rng=3, method=method, block_size=256)  # type: ignore[arg-type]
    assert_same(full, first, slice(0, 256))
    assert_same(part, first, slice(0, 256))
    tail = slice(256, 300)
    assert not np.array_equal(full.with_shocks["hbm_gb"][tail], part.with_shocks["hbm_gb"][tail])


@pytest.mark.filterwarnings("ignore::simulator.sampling.SobolSampleCountWarning")
@pytest.mark.parametrize("method", ["random", "sobol"])
def test_random_and_sobol_are_prefix_stable_without_correlations(base, method: str) -> None:
    # With no correlations to impose over the block, random and sobol draw a prefix of the
    # full block, so 300 samples are the first 300 of 1000 (base has no correlations here).
    plain = base.model_copy(update={"correlations": []})
    assert not plain.active_correlations()
    full = simulate(plain, 1000, rng=3, method=method, block_size=256)  # type: ignore[arg-type]
    part = simulate(plain, 300, rng=3, method=method, block_size=256)  # type: ignore[arg-type]
    assert_same(full, part, slice(0, 300))


def test_workers_and_block_subsets_do_not_change_results(deepseek) -> None:
    one = simulate(deepseek, 1100, rng=4, block_size=256)
    two = simulate(deepseek, 1100, rng=4, block_size=256, workers=2)
    assert_same(one, two)
    # A distributed run computes blocks anywhere, in any order; block 4 holds rows 1024..1099.
    pieces = simulate(deepseek, 1100, rng=4, block_size=256, blocks=[4, 1])
    np.testing.assert_array_equal(
        pieces.with_shocks["shipments_units"][:76], one.with_shocks["shipments_units"][1024:]
    )
    np.testing.assert_array_equal(
        pieces.with_shocks["shipments_units"][76:], one.with_shocks["shipments_units"][256:512]
    )


def test_common_random_numbers_between_scenarios(base, deepseek) -> None:
    # deepseek extends base with a shock, other elasticities and one more correlation on
    # other parameters: its counterfactual draws the same uniforms for every shared
    # parameter, so it equals base exactly, sample by sample (paired comparisons).
    b = simulate(base, 600, rng=9)
    d = simulate(deepseek, 600, rng=9)
    for m in b.metrics:
        np.testing.assert_array_equal(d.counterfactual[m], b.with_shocks[m], err_msg=m)


def test_seed_defaults_to_scenario_and_is_recorded(deepseek) -> None:
    r = simulate(deepseek, 10)
    assert r.seed == deepseek.sampling.seed
    fresh = simulate(
        deepseek.model_copy(
            update={"sampling": deepseek.sampling.model_copy(update={"seed": None})}
        ),
        10,
    )
    again = simulate(deepseek, 10, rng=fresh.seed)
    assert fresh.seed != deepseek.sampling.seed
    np.testing.assert_array_equal(fresh.with_shocks["hbm_gb"], again.with_shocks["hbm_gb"])


def test_result_shapes_and_metadata(deepseek) -> None:
    r = simulate(deepseek, 50, rng=0)
    assert r.years == tuple(range(2024, 2036))
    assert r.n_samples == 50
    assert r.method == deepseek.sampling.method
    assert "compute.chat" in r.metrics
    for v in ("with_shocks", "counterfactual", "impact"):
        for m in r.metrics:
            assert r.variant(v)[m].shape == (50, 12)
    assert set(r.versions) >= {"jevons", "numpy", "scipy"}


def test_base_year_is_observed(deepseek) -> None:
    # The shock starts in 2025: the base year is identical with and without it.
    r = simulate(deepseek, 200, rng=0)
    for m in r.metrics:
        np.testing.assert_array_equal(r.with_shocks[m][:, 0], r.counterfactual[m][:, 0])


def test_answers_match_direct_computation(deepseek) -> None:
    r = simulate(deepseek, 400, rng=2)
    answers = {a.name: a for a in answer_questions(deepseek, r)}
    k = r.years.index(2027)
    direct = np.mean(r.with_shocks["hbm_gb"][:, k] < r.counterfactual["hbm_gb"][:, k])
    a = answers["hbm_2027_below_counterfactual"]
    assert a.probability == pytest.approx(direct)
    assert a.se == pytest.approx(np.sqrt(direct * (1 - direct) / 400))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"samples": 0}, "samples must be"),
        ({"block_size": 0}, "block_size must be"),
        ({"workers": 0}, "workers must be"),
        ({"samples": 10, "blocks": [5]}, "blocks must lie"),
    ],
)
def test_bad_arguments_are_value_errors(deepseek, kwargs, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        simulate(deepseek, **kwargs)


def test_too_many_samples_for_memory_is_refused(deepseek, monkeypatch) -> None:
    from simulator import engine

    monkeypatch.setattr(engine, "_available_memory", lambda: 10_000_000)  # 10 MB
    with pytest.raises(SimulationError, match=r"samples need about .* GB"):
        simulate(deepseek, 100_000, rng=1)


def test_input_draws_are_kept_row_for_row_and_reproduce_the_outputs(deepseek) -> None:
    from simulator.engine import build_inputs
    from simulator.model import evaluate_pair
    from simulator.sampling import uncertain_names
    from simulator.schema.distributions import Fixed

    result = simulate(deepseek, 700, rng=11, block_size=256, workers=2)
    assert list(result.inputs) == uncertain_names(deepseek)
    assert "demand.segments.chat.elasticity.long" in result.inputs
    assert "fleet.supply_cap.anchors.2027" in result.inputs
    for values in result.inputs.values():
        assert values.shape == (700,)
        assert np.unique(values).size > 600  # drawn per sample, not a constant
    # The kept draws plus the fixed parameters are everything the model needs: evaluating
    # rows 300..399 from them alone gives those rows of the run, bit for bit.
    rows = slice(300, 400)
    draws = {k: v[rows] for k, v in result.inputs.items()}
    for name, dist in deepseek.scalars():
        if isinstance(dist, Fixed):
            draws[name] = np.full(100, dist.value)
    with np.errstate(over="ignore", invalid="ignore"):
        with_shocks, without = evaluate_pair(build_inputs(deepseek, draws))
    for m in result.metrics:
        np.testing.assert_array_equal(np.asarray(with_shocks[m]), result.with_shocks[m][rows])
        np.testing.assert_array_equal(np.asarray(without[m]), result.counterfactual[m][rows])


def test_input_draws_do_not_depend_on_workers_or_blocks(deepseek) -> None:
    one = simulate(deepseek, 600, rng=3, block_size=256)
    pieces = simulate(deepseek, 600, rng=3, block_size=256, blocks=[2, 0], workers=2)
    for name, values in one.inputs.items():
        np.testing.assert_array_equal(pieces.inputs[name][:88], values[512:], err_msg=name)
        np.testing.assert_array_equal(pieces.inputs[name][88:], values[:256], err_msg=name)
