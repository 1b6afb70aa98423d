"""``jevons run --parquet``: summary.parquet and samples.parquet, and the missing extra."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from simulator.cli import app
from simulator.engine import simulate
from simulator.errors import EXIT_MISSING_EXTRA, EXIT_USAGE
from simulator.io import load_scenario

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

ROOT = Path(__file__).parents[2]
DEEPSEEK = str(ROOT / "scenarios" / "deepseek.yaml")
runner = CliRunner()


def test_run_parquet_writes_summary_and_samples_as_parquet(tmp_path: Path) -> None:
    out = tmp_path / "r"
    args = ["run", DEEPSEEK, "-n", "120", "--seed", "5", "--out", str(out)]
    r = runner.invoke(app, [*args, "--save-samples", "--parquet"])
    assert r.exit_code == 0, r.stderr
    names = {p.name for p in out.iterdir()}
    assert {"summary.csv", "summary.json", "summary.parquet", "samples.parquet"} <= names
    assert "samples.npz" not in names
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {"summary.parquet", "samples.parquet"} <= set(manifest["files"])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]

    # summary.parquet holds what summary.csv holds, row for row
    frame = pd.read_parquet(out / "summary.parquet")
    with (out / "summary.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(frame) == len(rows)
    assert list(frame["unit"].astype(str)) == [row["unit"] for row in rows]
    np.testing.assert_array_equal(frame["value"].to_numpy(), [float(x["value"]) for x in rows])

    # samples.parquet: the run's arrays, the same as the library's for the same seed
    sc = load_scenario(DEEPSEEK)
    result = simulate(sc, 120, rng=5)
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "samples.parquet"), result.to_pandas(), check_exact=True
    )

    # a rerun without --parquet replaces the folder: no Parquet file is left over
    r = runner.invoke(app, [*args, "--save-samples"])
    assert r.exit_code == 0, r.stderr
    names = {p.name for p in out.iterdir()}
    assert "samples.npz" in names
    assert not {"summary.parquet", "samples.parquet"} & names


def test_run_parquet_without_pyarrow_exits_4_before_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    out = tmp_path / "r"
    r = runner.invoke(app, ["run", DEEPSEEK, "-n", "50", "--out", str(out), "--parquet"])
    assert r.exit_code == EXIT_MISSING_EXTRA == 4
    assert 'pip install "jevons[io]"' in r.stderr
    assert "--parquet needs pyarrow" in r.stderr
    assert "Traceback" not in r.stderr
    assert r.exception is None or isinstance(r.exception, SystemExit)
    assert list(tmp_path.iterdir()) == []


def test_run_parquet_needs_out() -> None:
    r = runner.invoke(app, ["run", DEEPSEEK, "-n", "50", "--parquet"])
    assert r.exit_code == EXIT_USAGE
    assert "--out" in r.stderr
