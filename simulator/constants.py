"""Physical constants and unit definitions of the model (MODEL.md §1)."""

from __future__ import annotations

F_REF: float = 989e12
"""Dense BF16 peak of one NVIDIA H100 SXM, the capacity unit H100e. [FLOP/s]

Source: NVIDIA H100 datasheet (docs/sources.md §3, 989 dense BF16 TFLOP/s).
"""

SECONDS_PER_YEAR: float = 31_557_600.0
"""Seconds in a Julian year, ``Y`` of MODEL.md §1. [s]"""

GB: float = 1e9
"""Bytes in one GB (decimal). [B]"""
