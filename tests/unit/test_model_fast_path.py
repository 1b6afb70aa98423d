"""The model's NumPy fast paths against its generic array-API code (issue 8).

With NumPy arrays the model writes into preallocated year-major buffers (``out=``,
in-place operators, per-thread scratch rows; simulator/model/_layout.py). The generic
array-API code is the reference: ``_layout.FAST_PATHS = False`` makes NumPy arrays take it,
so both paths run here on the same inputs and must agree bit for bit (the same operations
in the same order), on every shipped scenario and on the reference scenarios (trend
shocks, no caps, power cap with order lead), on edge values (zero costs, an empty fleet,
NaN) and in float32, where the model must keep its inputs' dtype.
tests/unit/test_portability.py runs the generic code under array_api_strict.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from simulator.engine import build_inputs
from simulator.io import load_scenario
from simulator.model import _layout, evaluate, evaluate_pair
from simulator.model._layout import scratch
from simulator.model.inputs import ModelInputs
from simulator.sampling import draw_block

ROOT = Path(__file__).parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml")) + sorted(
    (ROOT / "tests" / "data" / "reference").glob("*.yaml")
)
N = 300


def _inputs(path: Path, seed: int = 5, block: int = 0) -> ModelInputs:
    sc = load_scenario(path)
    return build_inputs(sc, draw_block(sc, seed, block, block_size=N))


def _map_arrays(tree: Any, f: Callable[[np.ndarray[Any, Any]], Any]) -> Any:
    """``tree`` (ModelInputs and its parts) with ``f`` applied to every array."""
    if isinstance(tree, np.ndarray):
        return f(tree)
    if dataclasses.is_dataclass(tree) and not isinstance(tree, type):
        changes = {
            field.name: _map_arrays(getattr(tree, field.name), f)
            for field in dataclasses.fields(tree)
        }
        return dataclasses.replace(tree, **changes)
    if isinstance(tree, tuple) and tree and dataclasses.is_dataclass(tree[0]):
        return tuple(_map_arrays(item, f) for item in tree)
    return tree


def _year_major(a: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """The same values stored year by year, as the engine's inputs are."""
    return np.ascontiguousarray(a.T).T if a.ndim == 2 else a


def _both(
    run: Callable[[ModelInputs], Any], inputs: ModelInputs, monkeypatch: pytest.MonkeyPatch
) -> tuple[Any, Any]:
    """``run(inputs)`` on the fast path and on the generic path."""
    with np.errstate(all="ignore"):
        fast = run(inputs)
        with monkeypatch.context() as m:
            m.setattr(_layout, "FAST_PATHS", False)
            generic = run(inputs)
    return fast, generic


def _assert_identical(fast: dict[str, Any], generic: dict[str, Any], dtype: Any) -> None:
    assert list(fast) == list(generic)
    for name, a in fast.items():
        b = generic[name]
        assert isinstance(a, np.ndarray), name
        assert a.shape == b.shape, name
        assert a.dtype == b.dtype == dtype, name
        assert a.tobytes() == b.tobytes(), f"{name}: the fast path changed values"


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_fast_path_is_bit_identical_on_every_scenario(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = _inputs(path)
    (fast_w, fast_c), (gen_w, gen_c) = _both(evaluate_pair, inputs, monkeypatch)
    _assert_identical(fast_w, gen_w, np.float64)
    _assert_identical(fast_c, gen_c, np.float64)
    # and evaluate() of one variant, which computes the trend itself
    fast, generic = _both(evaluate, inputs, monkeypatch)
    _assert_identical(fast, generic, np.float64)
    _assert_identical(fast, fast_w, np.float64)


def test_fast_path_outputs_are_year_major() -> None:
    w, c = evaluate_pair(_inputs(ROOT / "scenarios" / "deepseek.yaml"))
    for name, a in (*w.items(), *c.items()):
        assert a.T.flags.c_contiguous, name


def test_fast_path_on_sample_major_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    # the fast path reads any layout: (n, years) C-ordered inputs give the same values
    inputs = _inputs(ROOT / "scenarios" / "deepseek.yaml")
    sample_major = _map_arrays(inputs, np.ascontiguousarray)
    (fast_w, fast_c), (gen_w, gen_c) = _both(evaluate_pair, sample_major, monkeypatch)
    _assert_identical(fast_w, gen_w, np.float64)
    _assert_identical(fast_c, gen_c, np.float64)
    year_major, _ = evaluate_pair(inputs)
    _assert_identical(fast_w, year_major, np.float64)


def test_fast_path_on_edge_values(monkeypatch: pytest.MonkeyPatch) -> None:
    # sample 0: no initial fleet (compute 0, inference share 0 by definition);
    # sample 1: chips that draw no power (the power limit never binds: room is inf);
    # sample 2: a NaN vintage (NaN must travel the same way through both paths);
    # sample 3: a supply cap of 0 (nothing ships; unmet demand).
    inputs = _inputs(ROOT / "tests" / "data" / "reference" / "v2_order_lead_power_cap.yaml")
    fleet, chips = inputs.fleet, inputs.chips
    vintages = fleet.initial_vintages.copy()
    vintages[0] = 0.0
    vintages[2, -1] = np.nan
    power = chips.system_power.copy()
    power[1] = 0.0
    supply_cap = np.full_like(inputs.utilization_training, 1e9)
    supply_cap[3] = 0.0
    edited = dataclasses.replace(
        inputs,
        fleet=dataclasses.replace(fleet, initial_vintages=vintages, supply_cap=supply_cap),
        chips=dataclasses.replace(chips, system_power=power),
    )
    edited = _map_arrays(edited, _year_major)
    (fast_w, fast_c), (gen_w, gen_c) = _both(evaluate_pair, edited, monkeypatch)
    _assert_identical(fast_w, gen_w, np.float64)
    _assert_identical(fast_c, gen_c, np.float64)
    assert np.all(fast_w["inference_share"][0] == 0.0)
    assert np.all(fast_w["shipments_h100e"][3, 1:] == 0.0)
    assert np.isnan(fast_w["installed_h100e"][2, 0])


@pytest.mark.parametrize(
    "path",
    [ROOT / "scenarios" / "deepseek.yaml", ROOT / "tests" / "data" / "reference" / "paths.yaml"],
    ids=lambda p: p.name,
)
def test_fast_path_keeps_float32(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # float32 inputs give float32 outputs on both paths (no buffer is hard-coded float64)
    inputs = _map_arrays(_inputs(path), lambda a: _year_major(a.astype(np.float32)))
    (fast_w, fast_c), (gen_w, gen_c) = _both(evaluate_pair, inputs, monkeypatch)
    _assert_identical(fast_w, gen_w, np.float32)
    _assert_identical(fast_c, gen_c, np.float32)


def test_a_later_call_leaves_earlier_results_alone() -> None:
    # scratch buffers are reused by every call: none of them may be part of a result
    path = ROOT / "scenarios" / "deepseek.yaml"
    first_w, first_c = evaluate_pair(_inputs(path, block=0))
    kept = {
        f"{v}.{k}": a.copy() for v, d in (("w", first_w), ("c", first_c)) for k, a in d.items()
    }
    evaluate_pair(_inputs(path, block=1))
    for v, d in (("w", first_w), ("c", first_c)):
        for k, a in d.items():
            assert a.tobytes() == kept[f"{v}.{k}"].tobytes(), f"{v}.{k} was overwritten"


def test_scratch_is_reused_per_key_dtype_and_grows() -> None:
    like = np.zeros(8)
    a = scratch("test.a", like, 3)
    assert a.shape == (3, 8)
    assert a.dtype == np.float64
    assert a.flags.c_contiguous
    assert np.shares_memory(scratch("test.a", like, 2), a)  # smaller: the same memory
    assert not np.shares_memory(scratch("test.b", like, 3), a)  # another key
    assert scratch("test.a", like, 3, np.float32).dtype == np.float32  # another dtype
    bigger = scratch("test.a", like, 5)
    assert bigger.shape == (5, 8)
    assert np.shares_memory(scratch("test.a", like, 5), bigger)
