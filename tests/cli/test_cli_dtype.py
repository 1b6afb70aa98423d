"""`jevons run --dtype`: the option, what the outputs record, and a refused float32 run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulator import precision
from simulator.cli import app

DEEPSEEK = str(Path(__file__).parents[2] / "scenarios" / "deepseek.yaml")
runner = CliRunner()


def _manifest(folder: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return data


def test_float32_run_records_its_dtype_and_gets_its_own_content_hash(tmp_path: Path) -> None:
    args = ["run", DEEPSEEK, "-n", "400", "--seed", "2", "--workers", "1"]
    r64 = runner.invoke(app, [*args, "--out", str(tmp_path / "f64")])
    r32 = runner.invoke(app, [*args, "--dtype", "float32", "--out", str(tmp_path / "f32")])
    assert r64.exit_code == 0, r64.stderr
    assert r32.exit_code == 0, r32.stderr
    assert "model in float32" in r32.stderr
    assert "model in" not in r64.stderr
    m64, m32 = _manifest(tmp_path / "f64"), _manifest(tmp_path / "f32")
    assert (m64["dtype"], m32["dtype"]) == ("float64", "float32")
    assert m64["inputs_sha256"] != m32["inputs_sha256"]
    summary = json.loads((tmp_path / "f32" / "summary.json").read_text(encoding="utf-8"))
    assert summary["metadata"]["dtype"] == "float32"
    # Same rows, nearly the same numbers: float32 moved some of them, within the bounds.
    csv64 = (tmp_path / "f64" / "summary.csv").read_text(encoding="utf-8")
    csv32 = (tmp_path / "f32" / "summary.csv").read_text(encoding="utf-8")
    assert csv64 != csv32
    assert [line.split(",")[:5] for line in csv64.splitlines()] == [
        line.split(",")[:5] for line in csv32.splitlines()
    ]


def test_dtype_is_in_the_json_output_and_is_case_insensitive() -> None:
    args = ["run", DEEPSEEK, "-n", "300", "--seed", "1", "--json", "--dtype", "FLOAT32"]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["dtype"] == "float32"


def test_an_unknown_dtype_is_a_usage_error() -> None:
    r = runner.invoke(app, ["run", DEEPSEEK, "-n", "10", "--dtype", "float16"])
    assert r.exit_code == 2
    assert "float16" in r.stderr


def test_a_refused_float32_run_exits_1_with_the_reason_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(precision, "FLOAT32_BOUNDS", dict.fromkeys(precision.FLOAT32_BOUNDS, 0.0))
    out = tmp_path / "r"
    r = runner.invoke(app, ["run", DEEPSEEK, "-n", "300", "--dtype", "float32", "--out", str(out)])
    assert r.exit_code == 1
    assert "float32 is not accurate enough for this scenario" in r.stderr
    assert "run it in float64" in r.stderr
    assert "Traceback" not in r.stderr
    assert not out.exists()


def test_help_says_where_the_error_is_stated() -> None:
    r = runner.invoke(app, ["run", "--help"], terminal_width=200)
    assert r.exit_code == 0
    assert "--dtype" in r.stdout
    assert "docs/float32.md" in r.stdout


def test_batch_dtype_is_recorded_and_part_of_what_makes_a_folder_up_to_date(
    tmp_path: Path,
) -> None:
    out = tmp_path / "runs"
    args = ["batch", DEEPSEEK, "--out", str(out), "-n", "200", "--seed", "3"]
    first = runner.invoke(app, [*args, "--dtype", "float32"])
    assert first.exit_code == 0, first.stderr
    assert _manifest(out / "deepseek")["dtype"] == "float32"
    same = runner.invoke(app, [*args, "--dtype", "float32"])
    assert "0 run, 1 up to date" in same.stderr
    # float64 results are other numbers: the folder is not up to date for them.
    other = runner.invoke(app, args)
    assert other.exit_code == 0, other.stderr
    assert "1 run, 0 up to date" in other.stderr
    assert _manifest(out / "deepseek")["dtype"] == "float64"
