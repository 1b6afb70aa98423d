"""No NaN, ever, in an output (issue 7 item 4; MODEL.md §7).

Every shipped scenario is run through the CLI with ``--out``; every value that
``summary.csv`` and ``summary.json`` hold must be a finite number. An undefined statistic
is a documented, typed absence: it has no row (``summarize``), never a NaN or an
infinity. The impact of ``idle_h100e`` and ``unmet_h100e`` is the paired difference.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from simulator.cli import app
from simulator.metrics import IMPACT_AS_DIFFERENCE
from simulator.summary import summarize

SCENARIOS = sorted((Path(__file__).parents[2] / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_summary_value_of_every_shipped_scenario_is_finite(
    path: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", str(path), "-n", "3000", "--out", str(out)])
    assert result.exit_code == 0, result.output
    with (out / "summary.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows
    values = [float(r["value"]) for r in rows]
    assert all(math.isfinite(v) for v in values), "summary.csv holds a non-finite value"
    data = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert len(data["records"]) == len(rows)
    for record in data["records"]:
        assert isinstance(record["value"], float | int), record
        assert math.isfinite(record["value"]), record
    for q in data["questions"]:
        assert math.isfinite(q["probability"]), q
        assert math.isfinite(q["se"]), q
    # the impact of idle and unmet capacity is reported, as a difference
    impact_metrics = {r["metric"] for r in rows if r["variant"] == "impact"}
    assert impact_metrics >= IMPACT_AS_DIFFERENCE


def test_undefined_statistics_have_no_row() -> None:
    # Impact ratios of 4 samples, one of them x/0 = +inf in year 0: mean, sd and se_mean
    # of year 0 are undefined (MODEL.md §7), and so are the quantiles that reach the
    # infinite sample (p95: virtual index 0.95 * 3 = 2.85 interpolates towards it);
    # year 1 is finite and complete. One sample: every standard error is undefined.
    ratio = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [np.inf, 4.0]])
    table = summarize({"impact": {"hbm_gb": ratio}}, (2025, 2026), scenario="s")
    assert np.all(np.isfinite(table.values))
    year0 = {s for s, y in zip(table.statistics, table.years, strict=True) if y == 2025}
    year1 = {s for s, y in zip(table.statistics, table.years, strict=True) if y == 2026}
    assert {"mean", "sd", "se_mean", "p95"}.isdisjoint(year0)
    assert {"p5", "p25", "p50"} <= year0
    assert {"mean", "sd", "se_mean", "p95"} <= year1
    assert table.value("impact", "hbm_gb", 2025, "p50") == 2.5
    one = summarize({"with_shocks": {"hbm_gb": np.array([[5.0]])}}, (2025,), scenario="s")
    assert not any(s.startswith("se_") or s == "sd" for s in one.statistics)
    assert one.value("with_shocks", "hbm_gb", 2025, "mean") == 5.0
