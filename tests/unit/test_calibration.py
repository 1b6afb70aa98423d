"""The generated calibration table: simulator.report.calibration and docs/calibration_table.py.

Runs shipped scenarios through the public API on a few hundred samples (the document itself is
generated with 20,000), and checks the table's structure and values against the run's own
arrays, and that every published figure it prints is one of simulator/report/published.py.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from simulator import SimulationResult, load_scenario, simulate
from simulator.metrics import METRIC_UNITS
from simulator.report import calibration
from simulator.report.calibration import (
    CALIBRATION_YEARS,
    END_MARKER,
    START_MARKER,
    TABLE_METRICS,
    calibration_markdown,
    calibration_rows,
    replace_between_markers,
)
from simulator.report.published import PUBLISHED_POINTS
from simulator.report.units import display_unit, format_number

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = 400


def _run(name: str) -> SimulationResult:
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    return simulate(scenario, SAMPLES, rng=scenario.sampling.seed)


@pytest.fixture(scope="module")
def deepseek() -> SimulationResult:
    return _run("deepseek")


@pytest.fixture(scope="module")
def base() -> SimulationResult:
    return _run("base")


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "calibration_table", ROOT / "docs" / "calibration_table.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _table_rows(text: str, heading: str) -> list[list[str]]:
    """Body rows (cells) of the first markdown table after ``heading``."""
    after = text.split(heading, 1)[1].splitlines()
    start = next(i for i, line in enumerate(after) if line.startswith("|"))
    block: list[str] = []
    for line in after[start:]:
        if not line.startswith("|"):
            break
        block.append(line)
    return [[c.strip() for c in line.strip("|").split("|")] for line in block[2:]]


def test_rows_cover_every_metric_and_year(deepseek):
    rows = calibration_rows(deepseek)
    periods = {(r.metric, r.period) for r in rows}
    for metric in TABLE_METRICS:
        for year in CALIBRATION_YEARS:
            assert (metric, str(year)) in periods
    # 2026 (big-4 guidance, sources.md §4.5) and 2025-2030 (McKinsey, sources.md §4.7) come
    # with their published figures.
    assert ("datacenter_capex", "2026") in periods
    assert ("datacenter_capex", "2025-2030") in periods
    for row in rows:
        assert row.p5 <= row.p50 <= row.p95
        assert row.impact_p50 is not None
        assert row.point is None or row.point in PUBLISHED_POINTS


def test_row_values_are_the_runs_quantiles(deepseek):
    rows = calibration_rows(deepseek, metrics=("datacenter_capex",))
    k = deepseek.years.index(2027)
    (row,) = [r for r in rows if r.period == "2027"]
    column = deepseek.with_shocks["datacenter_capex"][:, k]
    assert row.p50 == pytest.approx(float(np.quantile(column, 0.5)), rel=1e-12)
    assert row.p5 == pytest.approx(float(np.quantile(column, 0.05)), rel=1e-12)
    ratio = column / deepseek.counterfactual["datacenter_capex"][:, k]
    assert row.impact_p50 == pytest.approx(float(np.median(ratio)), rel=1e-12)
    # AI 2027's $1T of 2027 spending (sources.md §7.1).
    assert row.point is not None
    assert row.point.value == 1e12
    assert row.gap == pytest.approx(row.p50 / 1e12 - 1.0)
    # Cumulative 2025-2030: quantiles of the per-sample sum over the six years.
    cumulative = [r for r in rows if r.period == "2025-2030"]
    assert cumulative
    lo, hi = deepseek.years.index(2025), deepseek.years.index(2030)
    total = deepseek.with_shocks["datacenter_capex"][:, lo : hi + 1].sum(axis=1)
    assert cumulative[0].p50 == pytest.approx(float(np.quantile(total, 0.5)), rel=1e-12)


def test_markdown_structure_and_published_figures(deepseek):
    text = calibration_markdown([deepseek], versions={"jevons": "9.9.9", "numpy": "2.0"})
    assert text.startswith("## Calibration table (generated)\n")
    assert f"{SAMPLES:,} samples each" in text
    assert "jevons 9.9.9, numpy 2.0" in text
    assert f"{SAMPLES:,} samples (lhs), seed 20250127." in text
    header = "| metric | year | model median (P5-P95) | shock impact (median) |"
    assert header in text
    rows = _table_rows(text, "### `deepseek`")
    assert len(rows) == len(calibration_rows(deepseek))
    # Every published cell is a point of published.py for the row's metric and period,
    # printed as "label: value" in the metric's display unit.
    by_cell = {f"{display_unit(m).description} [{display_unit(m).label}]": m for m in METRIC_UNITS}
    metric, period = "", ""
    printed = []
    for cells in rows:
        metric = by_cell[cells[0]] if cells[0] else metric
        period = cells[1] or period
        if cells[4] == "-":
            continue
        printed.append(cells[4])
        assert any(
            p.metric == metric
            and p.period == period
            and cells[4].startswith(
                f"{p.label}: {'>= ' if p.at_least else ''}"
                f"{format_number(p.value, display_unit(metric))}"
            )
            for p in PUBLISHED_POINTS
        ), cells
    assert len(printed) >= 10
    assert "AMD: AI accelerator TAM: >= 500" in text  # a lower bound (sources.md §4.7)
    # Each [n] refers to a note; each not-like-for-like figure is starred.
    notes = re.findall(r"^(\d+)\. ", text, flags=re.MULTILINE)
    refs = {int(n) for n in re.findall(r"\[(\d+)\]", text)}
    assert refs == {int(n) for n in notes}
    assert any(" * " in cell for cell in printed)
    # The 2024 table compares with the facts only.
    facts = _table_rows(text, "### 2024: model vs facts")
    fact_cells = {
        f"{p.label}: {format_number(p.value, display_unit(p.metric))}"
        for p in PUBLISHED_POINTS
        if p.kind == "fact"
    }
    assert facts
    assert all(any(r[1].startswith(c) for c in fact_cells) for r in facts)


def test_no_impact_column_without_shocks(base):
    text = calibration_markdown([base])
    assert "shock impact" not in text
    assert all(r.impact_p50 is None for r in calibration_rows(base))


def test_markdown_needs_a_run():
    with pytest.raises(ValueError, match="at least one run"):
        calibration_markdown([])


def test_replace_between_markers():
    doc = f"# Title\n\nProse.\n\n{START_MARKER}\nold\n{END_MARKER}\n\nMore prose.\n"
    out = replace_between_markers(doc, "new table")
    assert out == f"# Title\n\nProse.\n\n{START_MARKER}\nnew table\n{END_MARKER}\n\nMore prose.\n"
    assert replace_between_markers(out, "new table") == out  # idempotent
    with pytest.raises(ValueError, match="found 0 and 1"):
        replace_between_markers(f"{END_MARKER}\n", "x")
    with pytest.raises(ValueError, match="found 2 and 1"):
        replace_between_markers(f"{START_MARKER}\n{START_MARKER}\n{END_MARKER}\n", "x")
    with pytest.raises(ValueError, match="comes before"):
        replace_between_markers(f"{END_MARKER}\n{START_MARKER}\n", "x")


def test_document_has_the_markers_once():
    text = (ROOT / "docs" / "calibration.md").read_text(encoding="utf-8")
    assert text.count(START_MARKER) == 1
    assert text.count(END_MARKER) == 1
    assert text.index(START_MARKER) < text.index(END_MARKER)
    assert calibration.START_MARKER in text


def test_script_writes_checks_and_refuses(tmp_path, capsys):
    script = _script()
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    shutil.copy(ROOT / "scenarios" / "base.yaml", scenarios / "base.yaml")
    doc = tmp_path / "calibration.md"
    doc.write_text(f"Prose.\n\n{START_MARKER}\n{END_MARKER}\nEnd.\n", encoding="utf-8")
    args = ["--samples", "200", "--scenarios", str(scenarios), "--doc", str(doc)]
    assert script.main(args) == 0
    text = doc.read_text(encoding="utf-8")
    assert text.startswith(f"Prose.\n\n{START_MARKER}\n## Calibration table (generated)")
    assert text.endswith(f"{END_MARKER}\nEnd.\n")
    assert "`python docs/calibration_table.py --samples 200`" in text
    assert "### `base`" in text
    assert script.main([*args, "--check"]) == 0
    doc.write_text(text.replace("| 2027 |", "| 2028 |", 1), encoding="utf-8")
    assert script.main([*args, "--check"]) == 1
    assert "out of date" in capsys.readouterr().err
    doc.write_text("no markers\n", encoding="utf-8")
    assert script.main(args) == 1
    assert "expected one" in capsys.readouterr().err
    assert doc.read_text(encoding="utf-8") == "no markers\n"
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind
    assert script.main(["--scenarios", str(tmp_path / "none")]) == 1
    assert "no *.yaml" in capsys.readouterr().err
