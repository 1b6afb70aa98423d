"""Shared test configuration: hypothesis profiles, array backends, markers.

Hypothesis profiles (choose with ``HYPOTHESIS_PROFILE``):

- ``ci`` (default): derandomized and small, so the whole suite runs in a few
  minutes on 2 cores and every run tests the same examples;
- ``dev``: random examples, a few more of them, for local exploration;
- ``nightly``: many examples (opt-in, e.g. ``HYPOTHESIS_PROFILE=nightly pytest``).

The ``xp`` fixture runs backend-agnostic model tests on every backend named in
``ARRAY_BACKEND`` (default ``numpy,strict``; add ``cupy`` on a machine with a GPU).

Tests marked ``gpu`` (the ``cupy`` case of ``xp`` among them) need CuPy and a usable CUDA
device; where there is none they are skipped, and the skip says why (CuPy not installed,
no device, ...). ``pytest -m gpu`` runs them alone; ``benchmarks/gpu_check.sh`` does so
on a machine with a GPU.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=25,
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "nightly",
    max_examples=2_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

BACKENDS = {"numpy": "numpy", "strict": "array_api_strict", "cupy": "array_api_compat.cupy"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--regen-golden",
        action="store_true",
        default=False,
        help="Rewrite the golden files of the shipped scenarios (tests/golden/*.json).",
    )


def _cupy_skip_reason() -> str | None:
    """Why CuPy cannot run here (None when it can)."""
    from simulator.backends import cupy_status

    status = cupy_status()
    return None if status.usable else f"needs CuPy and a CUDA device: {status.detail}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the tests marked ``gpu``, saying why, where CuPy or a CUDA device is missing."""
    gpu_items = [item for item in items if item.get_closest_marker("gpu") is not None]
    if not gpu_items:
        return
    reason = _cupy_skip_reason()
    if reason is None:
        return
    for item in gpu_items:
        item.add_marker(pytest.mark.skip(reason=reason))


def _backend_params() -> list[Any]:
    names = os.environ.get("ARRAY_BACKEND", "numpy,strict").split(",")
    return [
        pytest.param(name, marks=pytest.mark.gpu, id=name) if name == "cupy" else name
        for name in names
    ]


@pytest.fixture(params=_backend_params(), scope="session")
def xp(request: pytest.FixtureRequest) -> Any:
    """Array namespace under test (numpy and array_api_strict by default)."""
    return pytest.importorskip(BACKENDS[request.param])
