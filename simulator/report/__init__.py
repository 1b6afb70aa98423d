"""Reporting: rich tables, matplotlib fan charts and atomic file outputs.

This package is the only one that imports matplotlib (always on an Agg canvas, never
``pyplot``), and the only place where metrics leave their canonical units
(:mod:`simulator.report.units`). Submodules load on first use, so that importing
:mod:`simulator.report.tables` does not import matplotlib.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulator.report.charts import fan_chart, impact_chart, write_charts
    from simulator.report.tables import headline_table, questions_table
    from simulator.report.writers import write_outputs

__all__ = [
    "fan_chart",
    "headline_table",
    "impact_chart",
    "questions_table",
    "write_charts",
    "write_outputs",
]

_HOMES = {
    "fan_chart": "simulator.report.charts",
    "impact_chart": "simulator.report.charts",
    "write_charts": "simulator.report.charts",
    "headline_table": "simulator.report.tables",
    "questions_table": "simulator.report.tables",
    "write_outputs": "simulator.report.writers",
}


def __getattr__(name: str) -> Any:
    """Import the public functions lazily (PEP 562)."""
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
