"""Typing helpers shared by every layer.

Array-API arrays have no settled static type yet, so ``Array`` is ``Any`` and each
docstring carries the shape and the unit instead.
"""

from __future__ import annotations

from typing import Any, TypeAlias

Array: TypeAlias = Any
"""An array of any array-API namespace (numpy, cupy, array_api_strict)."""
