"""jevons: an AI compute demand scenario simulator."""

from __future__ import annotations

__version__ = "0.1.0"
