"""Unit tests of simulator.report: tables and the atomic output writer (charts: test_charts).

The SimulationResult is built by hand (200 samples, a few metrics), so these tests need
neither the schema nor the engine.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from rich.console import Console
from rich.table import Table

from simulator.report import _atomic, tables, writers
from simulator.report.units import display_unit, format_number, format_ratio
from simulator.result import SimulationResult
from simulator.summary import QuestionAnswer, impact, summarize

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
YEARS = tuple(range(2024, 2033))


@pytest.fixture(scope="module")
def result() -> SimulationResult:
    rng = np.random.default_rng(2024)
    n, t = 200, len(YEARS)
    growth = np.cumprod(rng.lognormal(0.2, 0.1, size=(n, t)), axis=1).astype(np.float64)
    shipments = 4e6 * growth
    with_shocks: dict[str, NDArray[np.float64]] = {
        "shipments_units": shipments,
        "hbm_gb": shipments * 120.0,
        "compute_training": 1e26 * growth,
        "compute_inference": 2e26 * growth**1.2,
    }
    counterfactual = {k: v * rng.uniform(0.7, 1.1, size=(n, t)) for k, v in with_shocks.items()}
    counterfactual["shipments_units"][:, 0] = shipments[:, 0]
    return SimulationResult(
        scenario_name="deepseek-shock",
        resolved={"name": "deepseek-shock", "sampling": {"samples": n, "seed": 7}},
        years=YEARS,
        n_samples=n,
        seed=7,
        method="random",
        block_size=16_384,
        with_shocks=with_shocks,
        counterfactual=counterfactual,
        impact={k: impact(with_shocks[k], counterfactual[k]) for k in with_shocks},
        timings={"sample": 0.01, "model": 0.02},
        versions={"jevons": "0.1.0", "numpy": np.__version__},
        inputs={"shocks.deepseek.magnitude": rng.lognormal(2.5, 0.4, size=n)},
    )


@pytest.fixture(scope="module")
def summary(result):
    variants = {v: result.variant(v) for v in ("with_shocks", "counterfactual", "impact")}
    return summarize(variants, result.years, scenario=result.scenario_name)


@pytest.fixture
def answers():
    return [
        QuestionAnswer("hbm_down", "P(hbm_gb 2027 < counterfactual)", 0.4123, 0.0348),
        QuestionAnswer("big", "P(shipments_units 2030 > 2e7)", 0.05, 0.0154),
    ]


def _render(table) -> str:
    console = Console(record=True, width=160)
    console.print(table)
    return console.export_text()


# ----------------------------------------------------------------------------- units


def test_display_units_and_formatting():
    assert display_unit("hbm_gb").label == "EB"
    assert display_unit("power_w").scale == 1e-9
    assert display_unit("compute.agents").label == "1e27 FLOP"
    assert format_number(2.5e6, display_unit("shipments_units")) == "2.50"
    assert format_number(123.4e9, display_unit("accelerator_revenue")) == "123"
    assert format_number(1105.2e9, display_unit("accelerator_revenue")) == "1,105"
    assert format_number(5.82e28, display_unit("compute_total")) == "58.2"
    assert format_number(math.nan, display_unit("power_w")) == "n/a"
    assert format_ratio(math.inf) == "inf"
    assert format_ratio(1.2345) == "1.234x"
    assert format_ratio(1.0) == "1.000x"
    assert format_ratio(12.345) == "12.3x"


# ----------------------------------------------------------------------------- tables


def test_headline_table_renders_units_and_values(result, summary):
    text = _render(tables.headline_table(result, summary))
    assert "deepseek-shock" in text
    assert "Accelerator shipments [M units]" in text
    assert "HBM shipped [EB]" in text
    for year in (2024, 2025, 2026, 2027, 2030, 2032):
        assert str(year) in text
    assert "2028" not in text  # not a default headline year
    p50 = summary.value("with_shocks", "shipments_units", 2030, "p50")
    assert format_number(p50, display_unit("shipments_units")) in text
    # metrics absent from the result are skipped by default
    assert "GW" not in text


def test_headline_table_explicit_choices(result, summary):
    table = tables.headline_table(result, summary, metrics=["hbm_gb"], years=[2028])
    assert [t.row_count for t in table.renderables if isinstance(t, Table)] == [1]
    with pytest.raises(ValueError, match="not in the result"):
        tables.headline_table(result, summary, metrics=["power_w"])
    with pytest.raises(ValueError, match="not simulated"):
        tables.headline_table(result, summary, years=[2050])


def test_default_years():
    # the first three projection years (dip, glut, rebound), then +6 and the end year
    assert tables.default_years(YEARS) == (2024, 2025, 2026, 2027, 2030, 2032)
    assert tables.default_years((2024, 2025)) == (2024, 2025)
    assert tables.default_years(()) == ()


def test_questions_table(answers):
    text = _render(tables.questions_table(answers))
    assert "P(hbm_gb 2027 < counterfactual)" in text
    assert "41.2" in text
    assert "+/-3.48" in text
    assert "P [%]" in text
    assert "s.e. [pp]" in text


# ----------------------------------------------------------------------------- writers


def _assert_no_temporaries(folder: Path) -> None:
    leftovers = [p.name for p in folder.rglob(".*")]
    assert leftovers == [], leftovers


def test_write_outputs(result, summary, answers, tmp_path):
    out = tmp_path / "runs" / "first"
    paths = writers.write_outputs(
        out, result, summary, answers=answers, manifest_extra={"argv": ["run"]}, save_samples=True
    )
    names = [p.name for p in paths]
    assert names[:3] == ["summary.csv", "summary.json", "samples.npz"]
    assert names[-1] == "manifest.json"
    assert sorted(p.name for p in out.iterdir()) == sorted(names)
    _assert_no_temporaries(tmp_path)

    header = (out / "summary.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "scenario,variant,metric,year,statistic,value,unit"

    data = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert len(data["records"]) == len(summary)
    assert data["questions"][0]["name"] == "hbm_down"
    assert data["metadata"]["n_samples"] == 200

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 7
    assert manifest["method"] == "random"
    assert manifest["block_size"] == 16_384
    assert manifest["resolved"]["name"] == "deepseek-shock"
    assert manifest["versions"]["jevons"] == "0.1.0"
    assert manifest["argv"] == ["run"]
    for name in ("summary.csv", "samples.npz"):
        digest = hashlib.sha256((out / name).read_bytes()).hexdigest()
        assert manifest["files"][name]["sha256"] == digest

    with np.load(out / "samples.npz") as npz:
        keys = set(npz.files)
        np.testing.assert_array_equal(npz["with_shocks/hbm_gb"], result.with_shocks["hbm_gb"])
        np.testing.assert_array_equal(
            npz["inputs/shocks.deepseek.magnitude"], result.inputs["shocks.deepseek.magnitude"]
        )
    expected_keys = {
        f"{v}/{m}" for v in ("with_shocks", "counterfactual", "impact") for m in result.metrics
    }
    expected_inputs = {f"inputs/{name}" for name in result.inputs}
    assert "inputs/shocks.deepseek.magnitude" in expected_inputs
    assert keys == expected_keys | expected_inputs | {"years"}

    for path in paths:
        if path.suffix == ".png":
            content = path.read_bytes()
            assert content[:8] == PNG_MAGIC
            assert len(content) > 10_000


def test_write_outputs_json_is_strict(result, tmp_path):
    # an impact with inf and an undefined mean: strict JSON must still load everywhere
    inf_impact = dict(result.impact)
    inf_impact["hbm_gb"] = np.full((result.n_samples, len(result.years)), np.inf)
    variants = {"impact": inf_impact}
    summary = summarize(variants, result.years, scenario=result.scenario_name)
    writers.write_outputs(tmp_path / "out", result, summary)
    text = (tmp_path / "out" / "summary.json").read_text(encoding="utf-8")
    data = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict JSON: {c}"))
    records = [r for r in data["records"] if r["metric"] == "hbm_gb"]
    # every sample infinite: mean, sd and every quantile are undefined and have no record;
    # what is left (the quantiles' standard errors, 0: infinite with confidence) is finite
    assert {r["statistic"] for r in records} == {f"se_p{p}" for p in (5, 25, 50, 75, 95)}
    assert all(isinstance(r["value"], float) and np.isfinite(r["value"]) for r in records)


def test_write_outputs_into_existing_folder_keeps_other_files(result, summary, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "summary.csv").write_text("old", encoding="utf-8")
    writers.write_outputs(out, result, summary)
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert (out / "summary.csv").read_text(encoding="utf-8").startswith("scenario,")
    _assert_no_temporaries(tmp_path)


def test_failure_while_staging_leaves_nothing(result, summary, tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        msg = "disk on fire"
        raise RuntimeError(msg)

    monkeypatch.setattr(writers, "write_charts", boom)
    out = tmp_path / "out"
    with pytest.raises(OSError, match="could not write outputs") as info:
        writers.write_outputs(out, result, summary, save_samples=True)
    assert isinstance(info.value.__cause__, RuntimeError)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []

    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "summary.csv").write_text("old", encoding="utf-8")
    with pytest.raises(OSError, match="disk on fire"):
        writers.write_outputs(out, result, summary)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "summary.csv"]
    assert (out / "summary.csv").read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_failure_while_publishing_leaves_the_old_folder_whole(
    result, summary, tmp_path, monkeypatch
):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "summary.json").write_text("old", encoding="utf-8")

    def refused(a, b):
        msg = "read-only"
        raise PermissionError(msg)

    monkeypatch.setattr(_atomic, "exchange", refused)
    with pytest.raises(OSError, match="read-only"):
        writers.write_outputs(out, result, summary)
    # the swap failed: the folder is exactly the old one, and no staging folder is left
    assert (out / "summary.json").read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "summary.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_manifest_extra_cannot_override_core_keys(result, summary, tmp_path):
    with pytest.raises(ValueError, match="seed"):
        writers.write_outputs(tmp_path / "out", result, summary, manifest_extra={"seed": 1})
    assert list(tmp_path.iterdir()) == []


def test_target_that_is_a_file_is_an_oserror(result, summary, tmp_path):
    target = tmp_path / "file"
    target.write_text("x", encoding="utf-8")
    with pytest.raises(OSError, match="not a folder"):
        writers.write_outputs(target, result, summary)
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_rerun_into_a_folder_drops_outputs_the_new_manifest_does_not_list(
    result, summary, tmp_path
):
    out = tmp_path / "out"
    writers.write_outputs(out, result, summary, save_samples=True)
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    writers.write_outputs(out, result, summary, save_samples=False)
    # the old samples.npz belonged to the previous run (its manifest listed it): gone,
    # so the folder never mixes two runs' outputs; the user's file stays.
    assert not (out / "samples.npz").exists()
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["files"]) == {p.name for p in out.iterdir()} - {
        "manifest.json",
        "notes.txt",
    }
