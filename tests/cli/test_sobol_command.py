"""The body of ``jevons sensitivity --method sobol`` (simulator.sobol.sobol_command).

The command is wired into the CLI elsewhere; here it is called as the CLI will call it, with
rich consoles writing into strings, and each exit code and message is checked. Small designs
(8 to 64 base samples) on tests/data/valid.yaml (5 uncertain inputs) keep it fast.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from simulator.report import sobol_charts
from simulator.sobol import SobolCorrelationWarning, sobol_command, sobol_indices

VALID = Path("tests/data/valid.yaml")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FIXED = [
    "demand.segments.frontier.elasticity=1",
    "shocks.deepseek.magnitude=3",
    "utilization.inference=0.5",
    "fleet.median_life=5",
    "chips.load=0.7",
    "correlations=[]",
]


def _run(path: Path = VALID, **kwargs: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    args: dict[str, object] = {
        "metrics": ["hbm_gb"],
        "years": [2027],
        "variant": "with_shocks",
        "base_samples": 16,
        "seed": 3,
        "out": None,
    } | kwargs
    code = sobol_command(
        path,
        console=Console(file=out, width=200),
        err=Console(file=err, width=200),
        **args,  # type: ignore[arg-type]
    )
    return code, out.getvalue(), err.getvalue()


def test_prints_cost_ranked_table_and_writes_csv_json_and_charts(tmp_path):
    out = tmp_path / "sens"
    code, stdout, stderr = _run(
        base_samples=48, years=[2026, 2027], metrics=["hbm_gb", "shipments_h100e"], out=out
    )
    assert code == 0, stderr
    assert "base samples 48 rounded up to 64 (SALib's Sobol' sampler needs a power of 2)" in stderr
    # valid.yaml has 5 uncertain parameters: 64 x (5 + 2)
    assert "cost: 64 base samples x (5 + 2) = 448 model evaluations (5 uncertain inputs" in stderr
    assert "shocks.deepseek.magnitude ~ fleet.median_life (rank correlation 0.3)" in stderr
    assert "NOT imposed" in stderr
    assert "hbm_gb 2027 (with_shocks): top inputs by total index ST" in stdout
    assert "shipments_h100e 2026 (with_shocks)" in stdout
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "sobol.csv",
        "sobol.json",
        "sobol_hbm_gb_2026.png",
        "sobol_hbm_gb_2027.png",
        "sobol_hbm_gb_over_time.png",
        "sobol_shipments_h100e_2026.png",
        "sobol_shipments_h100e_2027.png",
        "sobol_shipments_h100e_over_time.png",
    ]
    for png in out.glob("*.png"):
        assert png.read_bytes()[:8] == PNG_MAGIC
    with (out / "sobol.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 * 2 * 5
    assert list(rows[0]) == [
        "metric",
        "year",
        "variant",
        "input",
        "S1",
        "S1_conf",
        "ST",
        "ST_conf",
    ]
    meta = json.loads((out / "sobol.json").read_text())
    assert meta["base_samples"] == 64
    assert meta["n_evaluations"] == 448
    assert meta["seed"] == 3
    assert meta["correlations_not_imposed"] == [
        ["shocks.deepseek.magnitude", "fleet.median_life", 0.3]
    ]
    assert "SALib" in meta["versions"]


def test_csv_holds_the_same_numbers_as_the_api(tmp_path):
    code, _, _ = _run(out=tmp_path / "s", base_samples=32)
    assert code == 0
    from simulator.io import load_scenario

    with pytest.warns(SobolCorrelationWarning):
        res = sobol_indices(
            load_scenario(VALID), metrics=["hbm_gb"], years=[2027], base_samples=32, seed=3
        )
    with (tmp_path / "s" / "sobol.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["input"] for r in rows] == [r["input"] for r in res.rows()]
    np.testing.assert_array_equal([float(r["ST"]) for r in rows], [r["ST"] for r in res.rows()])


def test_rerun_replaces_its_own_files_and_keeps_the_users(tmp_path):
    out = tmp_path / "s"
    assert _run(out=out, years=[2026, 2027])[0] == 0
    (out / "notes.txt").write_text("mine")
    assert _run(out=out, years=[2028])[0] == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["notes.txt", "sobol.csv", "sobol.json", "sobol_hbm_gb_2028.png"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".jevons")]


def test_same_seed_same_table():
    assert _run()[1] == _run()[1]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"metrics": ["hbm"]}, "tests/data/valid.yaml: unknown metric 'hbm'; valid metrics: "),
        ({"years": [2023]}, "year 2023 not in the scenario; valid years: 2024 to 2030"),
        ({"variant": "impacts"}, "unknown variant 'impacts'; valid variants: with_shocks, "),
        ({"base_samples": 0}, "--base-samples must be a positive integer; got 0"),
    ],
)
def test_bad_choices_exit_2_with_the_valid_ones(kwargs, message):
    code, stdout, stderr = _run(**kwargs)
    assert code == 2  # usage errors, as in compare
    assert message in stderr
    assert stdout == ""


def test_few_base_samples_are_rounded_up_to_the_minimum():
    code, _, stderr = _run(base_samples=3)
    assert code == 0
    assert "base samples 3 rounded up to 8 (at least 8: fewer leave the bootstrap" in stderr


def test_bad_scenario_exits_1_with_located_problem():
    code, _, stderr = _run(Path("tests/data/negative_sigma.yaml"))
    assert code == 1
    assert "tests/data/negative_sigma.yaml:" in stderr
    assert "problem" in stderr
    assert "Traceback" not in stderr


def test_no_uncertain_parameter_exits_1():
    code, _, stderr = _run(overrides=FIXED)
    assert code == 1
    assert "no uncertain parameters" in stderr


def test_every_output_constant_exits_1_and_writes_nothing(tmp_path):
    # base.yaml has no shock: its impact is 1 in every evaluation
    code, stdout, stderr = _run(
        Path("scenarios/base.yaml"), variant="impact", base_samples=8, out=tmp_path / "s"
    )
    assert code == 1
    assert "hbm_gb 2027 (impact): constant (1) across the design: no variance" in stderr
    assert "every chosen metric and year is constant or not finite" in stderr
    assert stdout == ""
    assert not (tmp_path / "s").exists()


def test_a_constant_year_is_skipped_the_others_reported():
    # valid.yaml's initial vintages and HBM per accelerator are numbers, so the base year's
    # HBM (installed units x GB per unit) is the same in every evaluation
    code, stdout, stderr = _run(metrics=["hbm_gb"], years=[2024, 2027])
    assert code == 0
    assert "hbm_gb 2024 (with_shocks): constant (4.40784e+08) across the design" in stderr
    assert "hbm_gb 2027 (with_shocks): top inputs" in stdout
    assert "hbm_gb 2024 (with_shocks): top" not in stdout


def test_out_that_is_a_file_exits_3(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    code, _, stderr = _run(out=target)
    assert code == 3
    assert "it exists and is not a directory" in stderr


def test_out_inside_a_run_folder_exits_2(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "manifest.json").write_text(json.dumps({"format": "jevons-manifest-1"}))
    code, _, stderr = _run(out=run / "sens")
    assert code == 2
    assert "inside the result folder of another run" in stderr


# --------------------------------------------------------------------------- charts


@pytest.fixture(scope="module")
def result():
    from simulator.io import load_scenario

    with pytest.warns(SobolCorrelationWarning):
        return sobol_indices(
            load_scenario(VALID),
            metrics=["hbm_gb", "installed_h100e"],
            years=[2024, 2026, 2027],
            base_samples=32,
            seed=1,
        )


def test_indices_chart_draws_s1_and_st_with_error_bars_for_the_top_inputs(result):
    fig = sobol_charts.indices_chart(result, "hbm_gb", 2027, top=3)
    (ax,) = fig.axes
    assert len(ax.patches) == 2 * 3  # an S1 and an ST bar per input
    labels = [t.get_text() for t in ax.get_yticklabels()]
    top3 = [result.inputs[j] for j in result.ranked("hbm_gb", 2027)[:3]]
    assert labels == top3  # ticks from the top down: the largest ST at the top
    assert len(ax.containers) == 4  # two bar containers, two error-bar containers


def test_indices_chart_of_a_skipped_year_is_refused(result):
    assert list(result.skipped) == [("hbm_gb", 2024)]  # base-year HBM is fixed in valid.yaml
    with pytest.raises(ValueError, match="was not analysed: constant"):
        sobol_charts.indices_chart(result, "hbm_gb", 2024)


def test_over_time_chart_draws_the_top_inputs_by_year(result):
    fig = sobol_charts.over_time_chart(result, "installed_h100e", top=2)
    assert fig is not None
    (ax,) = fig.axes
    assert len(ax.lines) == 2
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [2024, 2026, 2027])
    i = result.metrics.index("installed_h100e")
    top = int(np.argmax(result.ST[i].max(axis=0)))
    assert ax.get_legend_handles_labels()[1][0] == result.inputs[top]
    # hbm_gb: 2024 skipped, two years left
    fig2 = sobol_charts.over_time_chart(result, "hbm_gb")
    assert fig2 is not None
    np.testing.assert_array_equal(fig2.axes[0].lines[0].get_xdata(), [2026, 2027])


def test_over_time_chart_needs_two_years(result):
    from dataclasses import replace

    single = replace(
        result,
        years=(2027,),
        S1=result.S1[:, 2:],
        S1_conf=result.S1_conf[:, 2:],
        ST=result.ST[:, 2:],
        ST_conf=result.ST_conf[:, 2:],
        skipped={},
    )
    assert sobol_charts.over_time_chart(single, "hbm_gb") is None


def test_without_years_every_year_is_analysed_and_the_headline_years_shown(tmp_path):
    out = tmp_path / "s"
    code, stdout, stderr = _run(years=None, out=out)
    assert code == 0, stderr
    # valid.yaml runs 2024-2030; headline years: base, +1, +2, +3, +6 (and the end year)
    shown = [y for y in range(2024, 2031) if f"hbm_gb {y} (with_shocks): top" in stdout]
    assert shown == [2025, 2026, 2027, 2030]  # 2024 is constant (skipped)
    assert "tables for 2024, 2025, 2026, 2027, 2030; every year is in the CSV" in stderr
    with (out / "sobol.csv").open(encoding="utf-8") as fh:
        years = sorted({int(r["year"]) for r in csv.DictReader(fh)})
    assert years == list(range(2025, 2031))
    bars = sorted(p.name for p in out.glob("sobol_hbm_gb_20*.png"))
    assert bars == [f"sobol_hbm_gb_{y}.png" for y in (2025, 2026, 2027, 2030)]
    assert (out / "sobol_hbm_gb_over_time.png").exists()


def test_a_design_too_big_for_memory_is_refused(monkeypatch):
    import simulator._memory

    monkeypatch.setattr(simulator._memory, "available_memory", lambda: 10_000_000)
    code, _, stderr = _run(base_samples=1 << 16)
    assert code == 1
    # 65,536 x (5 + 2) rows x (2 x 5 + 1) columns x 8 bytes = 40.4 MB > half of 10 MB
    assert "65,536 base samples need about 40.4 MB" in stderr
    assert "more than half of the 10 MB available" in stderr
    assert "use fewer base samples" in stderr


def test_second_order_costs_2d_plus_2_and_writes_its_csv(tmp_path):
    out = tmp_path / "s"
    code, _, stderr = _run(out=out, second_order=True)
    assert code == 0, stderr
    assert "cost: 16 base samples x (2 x 5 + 2) = 192 model evaluations" in stderr
    with (out / "sobol_second_order.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["metric", "year", "variant", "input", "other", "S2", "S2_conf"]
    assert len(rows) == 5 * 4 // 2  # one per pair of the 5 inputs
    assert json.loads((out / "sobol.json").read_text())["second_order"] is True
