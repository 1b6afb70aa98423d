"""Small helpers for tests that run on any array backend (numpy, array_api_strict)."""

from __future__ import annotations

from types import ModuleType
from typing import Any


def row(x: Any, i: int = 0) -> list[float]:
    """Row ``i`` of a 2-D array as Python floats (works for any backend)."""
    return [float(x[i, k]) for k in range(x.shape[1])]


def arr(xp: ModuleType, values: Any) -> Any:
    """``values`` as a float64 array of namespace ``xp``."""
    return xp.asarray(values, dtype=xp.float64)
