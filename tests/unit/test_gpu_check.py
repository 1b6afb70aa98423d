"""The comparison arithmetic of benchmarks/gpu_check.py (the GPU check's verdicts rest on it)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_check.py"


@pytest.fixture(scope="module")
def gpu_check() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check"] = module  # dataclasses resolve annotations through it
    spec.loader.exec_module(module)
    return module


def test_identical_values_nan_and_inf_count_as_identical(gpu_check: ModuleType) -> None:
    want = np.array([1.0, -0.5, np.nan, np.inf])
    d = gpu_check.Diff.of(want.copy(), want, str)
    assert (d.values, d.identical, d.max_rel, d.max_abs, d.where) == (4, 4, 0.0, 0.0, "")


def test_the_largest_relative_difference_is_found_and_named(gpu_check: ModuleType) -> None:
    # |4.000004 - 4| / 4 = 1e-6 beats |100.00001 - 100| / 100 = 1e-7
    want = np.array([1.0, 100.0, 4.0])
    got = np.array([1.0, 100.00001, 4.000004])
    d = gpu_check.Diff.of(got, want, lambda i: f"value {i}")
    assert d.identical == 1
    assert d.max_rel == pytest.approx(1e-6, rel=1e-6)
    assert d.where == "value 2"
    assert d.abs_there == pytest.approx(4e-6, rel=1e-6)
    assert d.max_abs == pytest.approx(1e-5, rel=1e-6)


def test_a_zero_is_compared_on_the_scale_of_its_series(gpu_check: ModuleType) -> None:
    # Exactly 0 on numpy, 1e-9 on the GPU, in a series whose largest value is 1e6: relative
    # to 1e-12 * 1e6 = 1e-6, the difference is 1e-3, not infinite. In a series of its own
    # (largest value 0) it has no scale at all: infinite.
    want = np.array([0.0, 1e6])
    got = np.array([1e-9, 1e6])
    d = gpu_check.Diff.of(got, want, str)
    assert d.max_rel == pytest.approx(1e-3)
    d = gpu_check.Diff.of(got, want, str, np.array([0, 1]))
    assert d.max_rel == np.inf


def test_finite_on_one_backend_only_is_an_infinite_difference(gpu_check: ModuleType) -> None:
    d = gpu_check.Diff.of(np.array([1.0, np.inf]), np.array([1.0, 2.0]), str)
    assert (d.identical, d.max_rel, d.max_abs, d.where) == (1, np.inf, np.inf, "1")
    d = gpu_check.Diff.of(np.array([np.nan]), np.array([2.0]), str)
    assert d.max_rel == np.inf
