"""`jevons run` through the streaming summaries: bounded memory, samples streamed to disk."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from simulator.cli import app
from simulator.engine import simulate
from simulator.io import load_scenario

DEEPSEEK = str(Path(__file__).parents[2] / "scenarios" / "deepseek.yaml")
runner = CliRunner()


def test_streamed_run_reports_its_quantile_bound_and_matches_across_workers() -> None:
    args = ["run", DEEPSEEK, "-n", "700", "--seed", "3", "--json", "--exact-memory", "0"]
    one = runner.invoke(app, [*args, "--workers", "1"])
    two = runner.invoke(app, [*args, "--workers", "2"])
    assert one.exit_code == two.exit_code == 0, one.stderr
    a, b = json.loads(one.stdout), json.loads(two.stdout)
    assert a == b
    assert a["quantiles"] == "streamed, within 0.2% of exact"


def test_exact_run_says_so_in_text_and_manifest(tmp_path: Path) -> None:
    out = tmp_path / "r"
    r = runner.invoke(app, ["run", DEEPSEEK, "-n", "300", "--seed", "1", "--out", str(out)])
    assert r.exit_code == 0, r.stderr
    assert "quantiles: exact" in r.stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["quantiles"] == "exact"
    assert manifest["timings"]["sampling_s"] >= 0.0


def test_save_samples_of_a_streamed_run_equals_simulate(tmp_path: Path) -> None:
    out = tmp_path / "deep" / "r"
    r = runner.invoke(
        app,
        [
            "run",
            DEEPSEEK,
            "-n",
            "600",
            "--seed",
            "4",
            "--out",
            str(out),
            "--save-samples",
            "--exact-memory",
            "0",
            "--workers",
            "2",
        ],
    )
    assert r.exit_code == 0, r.stderr
    result = simulate(load_scenario(DEEPSEEK), 600, rng=4)
    with np.load(out / "samples.npz") as npz:
        for variant in ("with_shocks", "counterfactual", "impact"):
            for m in result.metrics:
                np.testing.assert_array_equal(npz[f"{variant}/{m}"], result.variant(variant)[m])
        for name, values in result.inputs.items():
            np.testing.assert_array_equal(npz[f"inputs/{name}"], values)
    leftovers = [p.name for p in out.parent.iterdir() if p.name.startswith(".jevons")]
    assert leftovers == []
