"""``summary.json``'s records, written row by row, are the text of the generic JSON encoder.

The reference is :func:`simulator.report.writers.json_text` (``json.dumps`` with
``indent=2``) of the whole document, records included: the file must be that text, byte for
byte, whatever the labels and values (quotes, backslashes, ``%``, non-ASCII, infinities,
NaN, -0.0, subnormals, large integers).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from simulator.report import writers
from simulator.summary import QuestionAnswer, SummaryTable


def _run(name: str) -> Any:
    return SimpleNamespace(
        scenario_name=name,
        years=(2024, 2025),
        n_samples=10,
        seed=3,
        method="lhs",
        block_size=16_384,
        dtype="float64",
        versions={"jevons": "9.9.9"},
    )


def _reference(path: Path, run: Any, table: SummaryTable, answers: Any) -> str:
    """What the first release wrote: json_text of the document with its records."""
    real = writers._records_json
    try:
        writers._records_json = _generic  # type: ignore[assignment]
        writers._write_summary_json(path, run, table, answers)
    finally:
        writers._records_json = real
    return path.read_text(encoding="utf-8")


def _generic(_table: SummaryTable) -> None:
    """No fast records: the generic encoder writes everything."""


def _table(scenario: str, values: list[float], labels: list[str]) -> SummaryTable:
    n = len(values)
    return SummaryTable(
        scenarios=(scenario,) * n,
        variants=tuple(labels[i % len(labels)] for i in range(n)),
        metrics=("hbm_gb",) * n,
        years=tuple(2024 + i % 2 for i in range(n)),
        statistics=("p50",) * n,
        values=np.asarray(values, dtype=np.float64),
        units=tuple(("GB", "1", '%d \\ "x"')[i % 3] for i in range(n)),
    )


VALUES = [1.0, -0.0, 0.0, 5e-324, 1e300, -2.5, math.inf, -math.inf, math.nan, 0.1, 12345678.9]


@pytest.mark.parametrize(
    "scenario", ["deepseek", 'quote " and \\ backslash', "zürich % 100%", "tab\there\nline"]
)
def test_records_are_the_generic_encoders_text(tmp_path, scenario):
    table = _table(scenario, VALUES, ["with_shocks", "impact", "ünïcode"])
    answers = [QuestionAnswer("q", "P(x < 1)", 0.25, 0.01)]
    run = _run(scenario)
    expected = _reference(tmp_path / "reference.json", run, table, answers)
    writers._write_summary_json(tmp_path / "fast.json", run, table, answers)
    assert (tmp_path / "fast.json").read_text(encoding="utf-8") == expected
    records = json.loads(expected)["records"]
    assert [r["value"] for r in records][6:9] == ["inf", "-inf", None]
    assert records[1]["value"] == 0.0
    assert math.copysign(1.0, records[1]["value"]) == -1.0


def test_an_empty_table_writes_an_empty_list(tmp_path):
    table = _table("empty", [], ["with_shocks"])
    run = _run("empty")
    expected = _reference(tmp_path / "reference.json", run, table, [])
    writers._write_summary_json(tmp_path / "fast.json", run, table, [])
    assert (tmp_path / "fast.json").read_text(encoding="utf-8") == expected
    assert json.loads(expected)["records"] == []


def test_a_value_that_is_not_a_plain_scalar_takes_the_generic_path():
    assert writers._column_json([1, np.int64(2)]) is None
    assert writers._column_json(["a", "a", 1.5, True, None]) == [
        '"a"',
        '"a"',
        "1.5",
        "true",
        "null",
    ]
