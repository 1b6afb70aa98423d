"""End-to-end tests of ``jevons sensitivity`` (CliRunner): outputs and every bad input."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from simulator.cli import app
from simulator.errors import EXIT_SCENARIO_ERROR, EXIT_USAGE

ROOT = Path(__file__).parents[2]
VALID = ROOT / "tests" / "data" / "valid.yaml"  # 5 uncertain parameters, 2024-2030
FIXED = ROOT / "tests" / "data" / "reference" / "defaults.yaml"  # no uncertain parameter
DEEPSEEK = ROOT / "scenarios" / "deepseek.yaml"
runner = CliRunner()


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


def invoke(*args: str) -> Run:
    r = runner.invoke(app, ["sensitivity", *args], env={"COLUMNS": "200"})  # no wrapped rows
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception
    return Run(r.exit_code, r.stdout, r.stderr)


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_deepseek_hbm_2027_prints_a_ranked_table_and_writes_tornado(tmp_path: Path) -> None:
    out = tmp_path / "sens"
    r = invoke(
        str(DEEPSEEK), "--metric", "hbm_gb", "--year", "2027", "-n", "400", "--out", str(out)
    )
    assert r.code == 0, r.err
    assert "HBM shipped 2027 (with_shocks): which inputs drive it" in r.out
    assert "Spearman [95%]" in r.out
    assert "SRRC" in r.out
    assert "41 more inputs per table in sensitivity.csv" in r.out  # 51 inputs, top 10
    names = sorted(p.name for p in out.iterdir())
    assert names == ["over_time_hbm_gb.png", "sensitivity.csv", "tornado_hbm_gb_2027.png"]
    assert (out / "tornado_hbm_gb_2027.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = _csv(out / "sensitivity.csv")
    # every projection year of the metric (for the over-time chart), 51 inputs each
    assert {int(r["year"]) for r in rows} == set(range(2025, 2036))
    assert len([r for r in rows if r["year"] == "2027"]) == 51
    assert "wrote 3 files to" in r.err


def test_defaults_are_hbm_and_shipments_in_the_first_three_projection_years(
    tmp_path: Path,
) -> None:
    out = tmp_path / "sens"
    r = invoke(str(VALID), "-n", "200", "--seed", "3", "--out", str(out))
    assert r.code == 0, r.err
    for year in (2025, 2026, 2027):
        assert f"HBM shipped {year}" in r.out
        assert f"Accelerator shipments {year}" in r.out
        assert (out / f"tornado_hbm_gb_{year}.png").is_file()
        assert (out / f"tornado_shipments_units_{year}.png").is_file()
    assert "HBM shipped 2028" not in r.out
    assert (out / "over_time_shipments_units.png").is_file()


def test_same_seed_same_numbers_and_a_rerun_replaces_only_its_files(tmp_path: Path) -> None:
    out = tmp_path / "sens"
    args = (str(VALID), "-m", "power_w", "-y", "2026", "-n", "300", "--seed", "5")
    assert invoke(*args, "--out", str(out)).code == 0
    first = (out / "sensitivity.csv").read_text(encoding="utf-8")
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "tornado_old_2020.png").write_bytes(b"old")
    assert invoke(*args, "--out", str(out)).code == 0
    assert (out / "sensitivity.csv").read_text(encoding="utf-8") == first
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert not (out / "tornado_old_2020.png").exists()


def test_from_samples_gives_the_numbers_of_a_direct_analysis(tmp_path: Path) -> None:
    # samples.npz as `jevons run --save-samples` streams it (simulate_summary), read back as
    # --from-samples reads it, against the in-memory simulation the command runs otherwise
    from simulator.cli_sensitivity import _read_samples, _with_paths
    from simulator.engine import simulate, simulate_summary
    from simulator.io import load_scenario
    from simulator.sensitivity import result_sensitivity

    sc = load_scenario(VALID)
    npz = tmp_path / "samples.npz"
    simulate_summary(sc, 300, rng=9, save_samples=npz)
    run, available = _read_samples(npz)
    assert "hbm_gb" in available["impact"]
    run = _with_paths(run, npz, "impact", ["hbm_gb"])
    direct = simulate(sc, 300, rng=9)
    kwargs = {"metrics": ["hbm_gb"], "years": [2026, 2027], "variant": "impact"}
    a = result_sensitivity(direct.inputs, {"impact": direct.impact}, direct.years, **kwargs)  # type: ignore[arg-type]
    b = result_sensitivity(run.inputs, run.variants, run.years, **kwargs)  # type: ignore[arg-type]
    assert len(a.rows) == len(b.rows) == 2 * 5
    for x, y in zip(a.rows, b.rows, strict=True):
        assert x == y


def test_method_sobol_runs_salib_on_its_own_design(tmp_path) -> None:
    out = tmp_path / "sobol"
    r = invoke(
        str(VALID), "--method", "sobol", "-n", "12", "-m", "hbm_gb", "-y", "2027",
        "--seed", "3", "--out", str(out),
    )  # fmt: skip
    assert r.code == 0, r.err
    assert "base samples 12 rounded up to 16" in r.err
    assert "model evaluations" in r.err  # the cost, printed before the run
    with (out / "sobol.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert {row["metric"] for row in rows} == {"hbm_gb"}
    assert {"S1", "ST", "S1_conf", "ST_conf"} <= set(rows[0])
    assert not (out / "sensitivity.csv").exists()  # the rank method's file is not written


def test_method_sobol_refuses_from_samples(tmp_path) -> None:
    npz = tmp_path / "samples.npz"
    npz.write_bytes(b"")
    r = invoke("--from-samples", str(npz), "--method", "sobol")
    assert r.code == 2
    assert "needs a scenario FILE" in r.err


@pytest.mark.parametrize("method", ["rank", "sobol"])
@pytest.mark.parametrize(
    ("option", "value"), [("-m", "hbm"), ("-y", "2031"), ("--variant", "both")]
)
def test_unknown_metric_year_or_variant_is_a_usage_error_for_both_methods(
    method: str, option: str, value: str, tmp_path: Path
) -> None:
    # exit 2 as in compare and batch: a script can tell a mistyped option from a bad scenario
    r = invoke(
        str(VALID), "--method", method, "-n", "200", option, value, "--out", str(tmp_path / "o")
    )
    assert r.code == EXIT_USAGE, r.err
    assert value in r.err
    assert "Traceback" not in r.err + r.out
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("-m", "hbm"),
            "--metric hbm: not a metric of this run; available: compute_training,",
        ),
        (("-y", "2031"), "--year 2031: not a year of this run; available: 2024-2030"),
    ],
)
def test_unknown_metric_or_year_is_named_with_the_valid_ones(
    args: tuple[str, ...], message: str, tmp_path: Path
) -> None:
    r = invoke(str(VALID), *args, "--out", str(tmp_path / "s"))
    assert r.code == EXIT_USAGE, r.err
    assert message in r.err
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("-n", "50"), "-n 50: too few samples for rank sensitivity; need at least 100"),
        (
            ("-m", "idle_h100e", "-y", "2024", "-n", "200"),
            "idle_h100e in 2024 (with_shocks) is the same in every sample",
        ),
    ],
)
def test_bad_input_gets_a_clear_message_and_exit_1(
    args: tuple[str, ...], message: str, tmp_path: Path
) -> None:
    r = invoke(str(VALID), *args, "--out", str(tmp_path / "s"))
    assert r.code == EXIT_SCENARIO_ERROR, r.err
    assert message in r.err
    assert "Traceback" not in r.err + r.out
    assert not (tmp_path / "s").exists()  # nothing written, no empty chart


def test_scenario_without_uncertain_parameters_is_refused(tmp_path: Path) -> None:
    r = invoke(str(FIXED), "--out", str(tmp_path / "s"))
    assert r.code == EXIT_SCENARIO_ERROR
    assert "has no uncertain parameters" in r.err
    assert not (tmp_path / "s").exists()


def test_invalid_scenario_is_located(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"name: bad\nextends: {VALID}\nfleet:\n  median_life: -3\n", "utf-8")
    r = invoke(str(bad))
    assert r.code == EXIT_SCENARIO_ERROR
    assert f"{bad}:4:" in r.err
    assert "fleet.median_life" in r.err


def test_too_many_samples_for_memory_says_use_fewer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import simulator._memory

    monkeypatch.setattr(simulator._memory, "available_memory", lambda: 10_000_000)
    r = invoke(str(VALID), "-n", "100000", "--out", str(tmp_path / "s"))
    assert r.code == EXIT_SCENARIO_ERROR
    assert "100,000 samples need about" in r.err
    assert "use fewer samples (-n)" in r.err


def test_file_and_from_samples_are_exclusive(tmp_path: Path) -> None:
    assert invoke().code == EXIT_USAGE
    npz = tmp_path / "samples.npz"
    np.savez(npz, years=np.arange(2024, 2027))
    r = invoke(str(VALID), "--from-samples", str(npz))
    assert r.code == EXIT_USAGE
    assert "not both" in r.err


def test_samples_file_without_input_draws_is_refused(tmp_path: Path) -> None:
    npz = tmp_path / "samples.npz"
    np.savez(
        npz,
        years=np.arange(2024, 2027),
        **{"with_shocks/hbm_gb": np.ones((200, 3))},  # type: ignore[arg-type]
    )
    r = invoke("--from-samples", str(npz))
    assert r.code == EXIT_SCENARIO_ERROR
    assert "holds no input draws" in r.err
    assert "--save-samples" in r.err
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    r = invoke("--from-samples", str(junk))
    assert r.code == EXIT_SCENARIO_ERROR
    assert "not a jevons samples file" in r.err


def test_samples_files_of_other_kinds_get_a_message_not_a_traceback(tmp_path: Path) -> None:
    # a .npy (np.load gives an array, not an archive), a Parquet file (np.load would offer
    # to unpickle it), and an npz whose paths do not match its input draws
    npy = tmp_path / "x.npy"
    np.save(npy, np.ones(5))
    r = invoke("--from-samples", str(npy))
    assert r.code == EXIT_SCENARIO_ERROR
    assert "not a jevons samples file" in r.err
    parquet = tmp_path / "samples.parquet"
    parquet.write_bytes(b"PAR1" + bytes(64) + b"PAR1")
    r = invoke("--from-samples", str(parquet))
    assert r.code == EXIT_SCENARIO_ERROR
    assert "a Parquet file (jevons run --parquet)" in r.err
    assert "pickle" not in r.err
    good = _samples_file(tmp_path)
    with np.load(good) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["with_shocks/hbm_gb"] = arrays["with_shocks/hbm_gb"][:10]
    bad = tmp_path / "short" / "samples.npz"
    bad.parent.mkdir()
    np.savez(bad, **arrays)
    r = invoke("--from-samples", str(bad), "-m", "hbm_gb", "-y", "2025")
    assert r.code == EXIT_SCENARIO_ERROR
    assert "expected (200,) like the inputs" in r.err


def test_bad_variant_is_a_usage_error() -> None:
    r = invoke(str(VALID), "--variant", "both")
    assert r.code == EXIT_USAGE
    assert "--variant must be one of with_shocks, counterfactual, impact" in r.err


def test_help_lists_the_options() -> None:
    r = runner.invoke(app, ["sensitivity", "--help"], env={"COLUMNS": "200"})
    assert r.exit_code == 0
    for option in ("--metric", "--year", "--variant", "--method", "--base-samples", "--top"):
        assert option in r.stdout


def _samples_file(folder: Path, n: int = 200) -> Path:
    rng = np.random.default_rng(0)
    x = rng.random(n)
    paths = np.column_stack([np.ones(n), 1 + x, 2 + x * x])
    npz = folder / "samples.npz"
    arrays = {
        "years": np.arange(2024, 2027),
        "inputs/demand.segments.chat.elasticity.long": x,
        "inputs/shocks.deepseek.magnitude": rng.random(n),
        "with_shocks/hbm_gb": 1e9 * paths,
    }
    np.savez(npz, **arrays)  # type: ignore[arg-type]
    return npz


def test_from_samples_names_the_run_from_its_manifest(tmp_path: Path) -> None:
    npz = _samples_file(tmp_path)
    manifest = '{"scenario": "demo", "seed": 9, "method": "lhs", "versions": {"jevons": "9.9"}}'
    (tmp_path / "manifest.json").write_text(manifest, encoding="utf-8")
    r = invoke(
        "--from-samples", str(npz), "-m", "hbm_gb", "-y", "2026", "--out", str(tmp_path / "s")
    )
    assert r.code == 0, r.err
    assert "sensitivities of demo: 200 samples (lhs), seed 9, jevons 9.9" in r.err


def test_from_samples_without_a_manifest_works_and_names_the_folder(tmp_path: Path) -> None:
    npz = _samples_file(tmp_path)
    out = tmp_path / "s"
    r = invoke("--from-samples", str(npz), "-m", "hbm_gb", "-y", "2026", "--out", str(out))
    assert r.code == 0, r.err
    assert "chat elasticity (long-run)" in r.out
    assert f"sensitivities of {tmp_path.name}: 200 samples" in r.err
    rows = _csv(out / "sensitivity.csv")
    assert rows[0]["input"] == "demand.segments.chat.elasticity.long"
    assert float(rows[0]["spearman"]) == pytest.approx(1.0)
    # the base year (constant by construction) is left out of the over-time table
    assert {r["year"] for r in rows} == {"2025", "2026"}


def test_from_samples_too_large_for_memory_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import simulator._memory

    npz = _samples_file(tmp_path)
    monkeypatch.setattr(simulator._memory, "available_memory", lambda: 1000)
    r = invoke("--from-samples", str(npz))
    assert r.code == EXIT_SCENARIO_ERROR
    assert "200 samples need about" in r.err
    assert "use fewer samples" in r.err


def test_from_samples_rejects_simulation_options(tmp_path: Path) -> None:
    npz = _samples_file(tmp_path)
    r = invoke("--from-samples", str(npz), "-n", "500")
    assert r.code == EXIT_USAGE
    assert "apply to a simulation" in r.err


def test_from_samples_without_the_variant_is_refused(tmp_path: Path) -> None:
    npz = _samples_file(tmp_path)
    r = invoke("--from-samples", str(npz), "--variant", "counterfactual")
    assert r.code == EXIT_SCENARIO_ERROR
    assert "holds no counterfactual paths; it has with_shocks" in r.err
