"""End-to-end tests of the ``jevons`` command line with typer's CliRunner."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from simulator import cli
from simulator.cli import app
from simulator.errors import EXIT_SCENARIO_ERROR
from simulator.io import load_scenario

ROOT = Path(__file__).parents[2]
SCENARIOS = ROOT / "scenarios"
DEEPSEEK = str(SCENARIOS / "deepseek.yaml")
runner = CliRunner()


def invoke(*args: str) -> CliResult:
    result = runner.invoke(app, list(args))
    return CliResult(result.exit_code, result.stdout, result.stderr, result.exception)


class CliResult:
    def __init__(self, code: int, out: str, err: str, exc: BaseException | None) -> None:
        self.code, self.out, self.err, self.exc = code, out, err, exc


# --- validate ------------------------------------------------------------------------------


def test_validate_shipped_scenarios_prints_ok_and_summary() -> None:
    files = sorted(str(p) for p in SCENARIOS.glob("*.yaml"))
    r = invoke("validate", *files)
    assert r.code == 0, r.err
    assert r.out.count("OK ") == len(files)
    assert "deepseek.yaml: deepseek, years 2024-2035, 4 segments, 1 shock," in r.out
    assert f"{len(files)} valid, 0 invalid." in r.out


def test_validate_reports_location_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    text = (SCENARIOS / "base.yaml").read_text(encoding="utf-8")
    bad.write_text(text.replace("median_life:", "median_lfe:"), encoding="utf-8")
    r = invoke("validate", str(bad))
    assert r.code == EXIT_SCENARIO_ERROR
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "median_life:" in t)
    assert f"{bad}:{line}:3: fleet.median_lfe:" in r.err
    assert "did you mean 'median_life'" in r.err
    assert "Traceback" not in r.err + r.out
    assert "0 valid, 1 invalid." in r.err


def test_validate_missing_file_is_usage_error() -> None:
    r = invoke("validate", "no-such-file.yaml")
    assert r.code == 2


# --- show ----------------------------------------------------------------------------------


def test_show_prints_resolved_scenario_that_reloads(tmp_path: Path) -> None:
    r = invoke("show", DEEPSEEK)
    assert r.code == 0, r.err
    data = yaml.safe_load(r.out)
    assert "extends" not in data
    names = [s["name"] for s in data["demand"]["segments"]]
    assert names == ["pretraining", "post_training", "chat", "reasoning"]
    copy = tmp_path / "resolved.yaml"
    copy.write_text(r.out, encoding="utf-8")
    assert load_scenario(copy) == load_scenario(DEEPSEEK)


def test_show_applies_set_overrides() -> None:
    r = invoke(
        "show",
        DEEPSEEK,
        "--set",
        "demand.segments.chat.elasticity=1 to 2",
        "--set",
        "sampling.samples=5000",
    )
    assert r.code == 0, r.err
    data = yaml.safe_load(r.out)
    chat = next(s for s in data["demand"]["segments"] if s["name"] == "chat")
    assert chat["elasticity"] == "1 to 2"
    assert data["sampling"]["samples"] == 5000


def test_show_bad_set_is_reported() -> None:
    r = invoke("show", DEEPSEEK, "--set", "demand.segments.nope.share=0.5")
    assert r.code == EXIT_SCENARIO_ERROR
    assert "--set demand.segments.nope.share=0.5" in r.err
    r = invoke("show", DEEPSEEK, "--set", "sampling.samples=-3")
    assert r.code == EXIT_SCENARIO_ERROR
    assert "sampling.samples" in r.err


# --- schema --------------------------------------------------------------------------------


def test_schema_is_json_schema_and_validates_shipped_scenarios(tmp_path: Path) -> None:
    r = invoke("schema")
    assert r.code == 0
    schema = json.loads(r.out)
    jsonschema.Draft7Validator.check_schema(schema)
    out = tmp_path / "s.json"
    assert invoke("schema", "-o", str(out)).code == 0
    assert json.loads(out.read_text(encoding="utf-8")) == schema


@pytest.mark.skipif(
    os.environ.get("JEVONS_LOWEST_VERSIONS") == "1",
    reason="the committed schema is written by the newest pydantic; older ones write the "
    "same rules in other words (int bounds as floats, `enum` beside `const`)",
)
def test_committed_schema_copy_is_current() -> None:
    committed = json.loads((ROOT / "docs" / "scenario.schema.json").read_text(encoding="utf-8"))
    assert committed == json.loads(invoke("schema").out), (
        "docs/scenario.schema.json is stale: run `jevons schema -o docs/scenario.schema.json`"
    )


# --- run -----------------------------------------------------------------------------------


def test_run_prints_table_and_answers() -> None:
    r = invoke("run", DEEPSEEK, "-n", "300", "--seed", "7")
    assert r.code == 0, r.err
    assert "P(HBM demand in 2027 is lower than without the shock)" in r.out
    assert "2027" in r.out
    assert "2030" in r.out
    assert "300 samples" in r.err


def test_run_is_reproducible_with_seed() -> None:
    a = invoke("run", DEEPSEEK, "-n", "200", "--seed", "3", "--json")
    b = invoke("run", DEEPSEEK, "-n", "200", "--seed", "3", "--json")
    assert a.code == b.code == 0
    assert a.out == b.out


def test_run_without_seed_prints_the_seed_it_used(tmp_path: Path) -> None:
    sc = tmp_path / "noseed.yaml"
    sc.write_text(
        f"extends: {SCENARIOS / 'base.yaml'}\nname: noseed\nsampling: {{seed: null}}\n",
        encoding="utf-8",
    )
    r = invoke("run", str(sc), "-n", "50", "--json")
    assert r.code == 0, r.err
    seed = json.loads(r.out)["seed"]
    assert f"seed: {seed}" in r.err
    again = invoke("run", str(sc), "-n", "50", "--json", "--seed", str(seed))
    assert json.loads(again.out)["summary"] == json.loads(r.out)["summary"]


def test_run_json_has_summary_and_answers() -> None:
    r = invoke("run", DEEPSEEK, "-n", "200", "--seed", "1", "--json", "--method", "sobol")
    assert r.code == 0, r.err
    payload = json.loads(r.out)
    assert payload["method"] == "sobol"
    assert payload["samples"] == 200
    names = {a["name"] for a in payload["answers"]}
    assert "hbm_2027_below_counterfactual" in names
    for a in payload["answers"]:
        assert 0.0 <= a["probability"] <= 1.0
    rows = payload["summary"]
    assert {"scenario", "variant", "metric", "year", "statistic", "value", "unit"} <= set(rows[0])
    assert {r["variant"] for r in rows} == {"with_shocks", "counterfactual", "impact"}


def test_run_out_writes_all_files(tmp_path: Path) -> None:
    out = tmp_path / "results"
    r = invoke("run", DEEPSEEK, "-n", "300", "--seed", "2", "--out", str(out), "--save-samples")
    assert r.code == 0, r.err
    names = {p.name for p in out.iterdir()}
    assert {"summary.csv", "summary.json", "manifest.json", "samples.npz"} <= names
    pngs = {n for n in names if n.endswith(".png")}
    assert {
        "impact.png",
        "fleet_balance.png",
        "shipments_h100e.png",
        "installed_h100e.png",
        "hbm_revenue.png",
        "accelerator_revenue.png",
        "datacenter_capex.png",
        "power_w.png",
        "energy_j.png",
        "inference_share.png",
        "compute_by_kind.png",
    } <= pngs
    header = (out / "summary.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "scenario,variant,metric,year,statistic,value,unit"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 2
    assert manifest["n_samples"] == 300
    assert set(manifest["files"]) >= {"summary.csv", "samples.npz"}
    assert manifest["scenario_file"] == DEEPSEEK
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".jevons-")]


def test_run_bad_scenario_exits_1_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nyears: {base_year: 2024, end_year: 2020}\n", encoding="utf-8")
    r = invoke("run", str(bad))
    assert r.code == EXIT_SCENARIO_ERROR
    assert f"{bad}:" in r.err
    assert "Traceback" not in r.err


@pytest.mark.parametrize("args", [["-n", "0"], ["--method", "grid"], ["--seed", "-1"]])
def test_run_usage_errors_exit_2(args: list[str]) -> None:
    assert invoke("run", DEEPSEEK, *args).code == 2


def test_help_is_readable() -> None:
    r = invoke("--help")
    assert r.code == 0
    for cmd in ("run", "validate", "show", "schema"):
        assert cmd in r.out
    r = invoke("run", "--help")
    assert "--save-samples" in r.out
    assert "--set" in r.out


def test_run_json_is_strict_json() -> None:
    r = invoke("run", DEEPSEEK, "-n", "100", "--seed", "1", "--json")
    assert r.code == 0, r.err

    def refuse(token: str) -> None:
        raise ValueError(token)

    payload = json.loads(r.out, parse_constant=refuse)  # no NaN / Infinity tokens
    assert payload["samples"] == 100


def test_run_out_that_is_a_file_fails_before_simulating(tmp_path: Path) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("user data", encoding="utf-8")
    r = invoke("run", DEEPSEEK, "-n", "50", "--out", str(blocker / "sub"))
    assert r.code == 3
    assert "is not a directory" in r.err
    assert "samples (" not in r.err  # refused before the run
    assert blocker.read_text(encoding="utf-8") == "user data"


def test_run_overflow_is_a_clear_error(tmp_path: Path) -> None:
    extreme = tmp_path / "extreme.yaml"
    extreme.write_text(
        f"extends: {SCENARIOS / 'deepseek.yaml'}\nname: extreme\n"
        "shocks:\n  - name: deepseek\n    type: trend\n    magnitude: 9000\n    adoption: null\n"
        "demand:\n  segments:\n    - name: chat\n      elasticity: 10\n",
        encoding="utf-8",
    )
    r = invoke("run", str(extreme), "-n", "20")
    assert r.code == EXIT_SCENARIO_ERROR
    assert "the model overflowed" in r.err
    assert "Traceback" not in r.err


def test_set_can_fix_a_correlated_parameter() -> None:
    # deepseek.yaml correlates the magnitude with an elasticity; fixing the magnitude to
    # explore a what-if leaves that correlation nothing to act on: it is ignored.
    r = invoke("run", DEEPSEEK, "-n", "50", "--set", "shocks.deepseek.magnitude=3", "--json")
    assert r.code == 0, r.err


def test_schema_file_is_world_readable(tmp_path: Path) -> None:
    out = tmp_path / "schema.json"
    assert invoke("schema", "-o", str(out)).code == 0
    assert out.stat().st_mode & 0o044 == 0o044


# --- issue 11: nothing silent ----------------------------------------------------------------


def test_save_samples_without_out_is_a_usage_error() -> None:
    r = invoke("run", DEEPSEEK, "-n", "20", "--save-samples")
    assert r.code == 2
    assert "--save-samples" in r.err
    assert "--out" in r.err
    assert "samples (" not in r.err  # refused before the run


def test_nan_threshold_is_refused_not_answered() -> None:
    r = invoke("run", DEEPSEEK, "-n", "20", "--set", "questions.supply_binds_2026.than=.nan")
    assert r.code == EXIT_SCENARIO_ERROR
    assert "questions.supply_binds_2026.than: must be a finite number" in r.err
    assert "P(" not in r.out


def test_negative_set_index_is_refused() -> None:
    r = invoke("show", DEEPSEEK, "--set", "correlations.-1.rho=0.1")
    assert r.code == EXIT_SCENARIO_ERROR
    assert "negative indices are not supported (got -1)" in r.err


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ("chips.pue=1e300", "chips.pue is 1e+300 in that sample"),
        ("chips.system_watts=1e305", "chips.system_watts is 1e+305 in that sample"),
        ("chips.asp={from: 2024, value: 3.0e4, growth: 1e300}", "chips.asp is inf"),
    ],
)
def test_overflow_names_the_parameter(override: str, named: str) -> None:
    r = invoke("run", DEEPSEEK, "-n", "20", "--seed", "1", "--set", override)
    assert r.code == EXIT_SCENARIO_ERROR
    assert "the model overflowed" in r.err
    assert named in r.err
    assert "growth, shock magnitude or elasticity" not in r.err  # not the old blanket blame
    assert "Warning" not in r.err  # no numpy RuntimeWarning with a source path


def test_trend_shock_overflow_names_the_shock(tmp_path: Path) -> None:
    extreme = tmp_path / "extreme.yaml"
    extreme.write_text(
        f"extends: {SCENARIOS / 'deepseek.yaml'}\nname: extreme\n"
        "shocks:\n  - name: deepseek\n    type: trend\n    magnitude: 9000\n    adoption: null\n"
        "demand:\n  segments:\n    - name: chat\n      elasticity: 10\n",
        encoding="utf-8",
    )
    r = invoke("run", str(extreme), "-n", "20")
    assert r.code == EXIT_SCENARIO_ERROR
    # 9000 a year from 2025 to 2035 (11 years) at elasticity 10: log10(9000) * 11 * 10 = 435
    assert "shocks.deepseek.magnitude is 9e+03 a year, with an elasticity up to 10" in r.err
    assert "a factor of about 1e435" in r.err


@pytest.mark.filterwarnings("error")
def test_no_raw_warning_reaches_the_terminal(tmp_path: Path) -> None:
    # No training segment has any share: training compute is 0 throughout, and the log-scale
    # compute chart has nothing to draw (matplotlib would warn "cannot be log-scaled"; the
    # charts now avoid it at the source, and any library warning would become a note).
    r = invoke(
        "run",
        DEEPSEEK,
        "-n",
        "20",
        "--seed",
        "1",
        "--set",
        "demand.segments.pretraining.share=0",
        "--set",
        "demand.segments.post_training.share=0",
        "--set",
        "demand.segments.chat.share=0.9",
        "--out",
        str(tmp_path / "out"),
    )
    assert r.code == 0, r.err
    assert "Warning" not in r.err
    assert ".py:" not in r.err  # no source path of a library


def test_library_warnings_become_notes(capsys: pytest.CaptureFixture[str]) -> None:
    @cli._clean_errors
    def noisy() -> int:
        warnings.warn(
            "Data has no positive values, and therefore cannot be log-scaled.",
            UserWarning,
            stacklevel=1,
        )
        return 0

    assert noisy() == 0
    err = capsys.readouterr().err
    assert "note: a chart on a log scale has no positive values to draw" in err
    assert "UserWarning" not in err
    assert ".py:" not in err


def test_library_deprecations_are_not_printed(capsys: pytest.CaptureFixture[str]) -> None:
    # pyparsing 3.3's deprecation warnings are also UserWarnings, so the "default" filter
    # for UserWarning let them through: under the lowest supported matplotlib every batch
    # worker printed "note: 'parseString' deprecated - use 'parse_string'" (seen in CI).
    class LibraryDeprecation(UserWarning, DeprecationWarning):
        pass

    @cli._clean_errors
    def noisy() -> int:
        warnings.warn(
            "'parseString' deprecated - use 'parse_string'", LibraryDeprecation, stacklevel=1
        )
        warnings.warn(
            "Data has no positive values, and therefore cannot be log-scaled.", stacklevel=1
        )
        return 0

    assert noisy() == 0
    err = capsys.readouterr().err
    assert "deprecated" not in err
    assert "note: a chart on a log scale" in err  # other warnings still are


def test_out_folder_with_subfolders_is_refused_before_the_run(tmp_path: Path) -> None:
    # --out . in a project, say: the folder is replaced whole, so it must hold only files
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "README").write_text("mine", encoding="utf-8")
    r = invoke("run", DEEPSEEK, "-n", "20", "--out", str(project))
    assert r.code == 3
    assert "holds folders or special files (src)" in r.err
    assert "samples (" not in r.err  # refused before the run
    assert sorted(p.name for p in project.iterdir()) == ["README", "src"]
    assert [p.name for p in tmp_path.iterdir()] == ["project"]
