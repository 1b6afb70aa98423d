"""End-to-end tests of ``jevons compare``, ``attribute`` and ``batch`` (CliRunner, subprocess)."""

from __future__ import annotations

import csv
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulator.cli import app
from simulator.errors import EXIT_OUTPUT_ERROR, EXIT_SCENARIO_ERROR, EXIT_USAGE

ROOT = Path(__file__).parents[2]
VALID = ROOT / "tests" / "data" / "valid.yaml"
runner = CliRunner()


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


def invoke(*args: str) -> Run:
    r = runner.invoke(app, list(args))
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception
    return Run(r.exit_code, r.stdout, r.stderr)


def scenario(folder: Path, name: str, extra: str = "") -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(f"name: {name}\nextends: {VALID}\n{extra}", encoding="utf-8")
    return path


# --- compare -------------------------------------------------------------------------------


def test_compare_prints_pairs_pairing_and_gain(tmp_path: Path) -> None:
    b = scenario(tmp_path, "b", "chips:\n  pue: 1.5\n")
    r = invoke("compare", str(VALID), str(b), "-n", "500", "-m", "power_w", "-y", "2027")
    assert r.code == 0, r.err
    assert "valid vs b (A vs B), paired per sample" in r.out
    assert "P(A > B) ± se" in r.out
    assert "common random numbers" in r.out
    assert "Pairing gain (valid vs b)" in r.out
    assert "SE gain" in r.out


def test_compare_self_is_zero_and_swap_complements(tmp_path: Path) -> None:
    r = invoke("compare", str(VALID), str(VALID), "-n", "400", "--json")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    diff = [
        x
        for x in data["records"]
        if x["variant"] == "difference" and x["statistic"] in ("p5", "p95")
    ]
    assert diff
    assert all(x["value"] == 0.0 for x in diff)
    b = scenario(tmp_path, "b", "chips:\n  load: {kind: uniform, low: 0.5, high: 0.9}\n")

    def p_greater(*files: str) -> dict[tuple[str, int], tuple[float, float]]:
        got = json.loads(invoke("compare", *files, "-n", "400", "--json").out)["records"]
        out: dict[tuple[str, int], list[float]] = {}
        for x in got:
            if x["variant"] == "paired" and x["statistic"] in ("p_greater", "p_equal"):
                out.setdefault((x["metric"], x["year"]), [0.0, 0.0])[
                    x["statistic"] == "p_equal"
                ] = x["value"]
        return {k: (v[0], v[1]) for k, v in out.items()}

    ab = p_greater(str(VALID), str(b))
    ba = p_greater(str(b), str(VALID))
    assert ab.keys() == ba.keys()
    for k, (gt, eq) in ab.items():
        assert ba[k][0] == pytest.approx(1.0 - gt - eq, abs=1e-12), k
    assert 0.0 < ab[("power_w", 2027)][0] < 1.0


def test_compare_writes_tidy_files_and_charts(tmp_path: Path) -> None:
    b = scenario(tmp_path, "b", "chips:\n  pue: 1.5\n")
    out = tmp_path / "cmp"
    r = invoke("compare", str(VALID), str(b), "-n", "300", "-m", "hbm_gb", "--out", str(out))
    assert r.code == 0, r.err
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "compare.csv",
        "compare.json",
        "compare_hbm_gb.png",
        "difference_valid_vs_b_hbm_gb.png",
    ]
    with (out / "compare.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["scenario", "variant", "metric", "year", "statistic", "value", "unit"]
    # MODEL.md §9: hbm_gb is in GB, and so is the difference of two scenarios; a ratio is 1
    units = {
        r["variant"]: r["unit"]
        for r in rows
        if r["metric"] == "hbm_gb" and r["statistic"] == "p50"
    }
    assert units == {"with_shocks": "GB", "difference": "GB", "ratio": "1"}
    assert {r["scenario"] for r in rows} == {"valid", "b", "valid vs b"}
    meta = json.loads((out / "compare.json").read_text(encoding="utf-8"))
    assert meta["pairs"][0]["pairing"]["only_a"] == []
    assert meta["n_samples"] == 300


def test_compare_with_a_grid(tmp_path: Path) -> None:
    r = invoke("compare", str(VALID), "--grid", "chips.pue=1.2,1.4", "-n", "300", "-m", "power_w")
    assert r.code == 0, r.err
    assert "valid__pue=1.2 vs valid__pue=1.4" in r.out


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["--grid", "chips.pue"], EXIT_USAGE, "--grid:1:1: --grid chips.pue: expected"),
        (["--grid", "chips.pue=1.2,1.2"], EXIT_USAGE, "repeated"),
        (
            ["--grid", "chips.nope=1,2"],
            EXIT_SCENARIO_ERROR,
            "--grid:1:12: chips.nope: unknown key",
        ),
        (["--grid", "chips.pue=1.2,abc"], EXIT_SCENARIO_ERROR, "--grid:1:15: chips.pue:"),
        (["-m", "hbm"], EXIT_USAGE, "--metric hbm: not a metric"),
        (["-y", "2040"], EXIT_USAGE, "--year 2040: not a year"),
        (["--variant", "both"], EXIT_USAGE, "--variant must be one of"),
        (["--set", "chips.pue=-1"], EXIT_SCENARIO_ERROR, "--set:1:11: chips.pue: must be >= 1"),
    ],
)
def test_compare_bad_input(args: list[str], code: int, words: str) -> None:
    r = invoke("compare", str(VALID), str(VALID), "-n", "200", *args)
    assert r.code == code, (r.out, r.err)
    assert words in r.err
    assert "Traceback" not in r.err


def test_compare_needs_two(tmp_path: Path) -> None:
    r = invoke("compare", str(VALID))
    assert r.code == EXIT_USAGE
    assert "two or more" in r.err


def test_compare_duplicate_names(tmp_path: Path) -> None:
    twin = tmp_path / "twin.yaml"
    twin.write_text(f"name: valid\nextends: {VALID}\n", encoding="utf-8")
    r = invoke("compare", str(VALID), str(twin), str(VALID), "-n", "200")
    assert r.code == EXIT_USAGE
    assert "named valid" in r.err


# --- attribute -----------------------------------------------------------------------------


def test_attribute_table_files_and_sum(tmp_path: Path) -> None:
    b = scenario(
        tmp_path,
        "b",
        "chips:\n  pue: 1.5\n  hbm_gb_per_accelerator: 200\n"
        "demand:\n  segments:\n    - name: chat\n      elasticity: {short: 0.5, long: 1.6}\n",
    )
    out = tmp_path / "att"
    r = invoke(
        "attribute", str(VALID), str(b), "--metric", "hbm_gb", "--year", "2027",
        "-n", "300", "--out", str(out),
    )  # fmt: skip
    assert r.code == 0, r.err
    assert "exact Shapley values over 4 differing parameters" in r.out
    assert "total (the gap)" in r.out
    assert sorted(p.name for p in out.iterdir()) == [
        "attribution.csv",
        "attribution.json",
        "waterfall.png",
    ]
    data = json.loads((out / "attribution.json").read_text(encoding="utf-8"))
    total = sum(c["contribution"] for c in data["contributions"])
    assert total == pytest.approx(data["gap"], rel=1e-9)
    assert data["method"] == "exact"


def test_attribute_sampled_says_so(tmp_path: Path) -> None:
    b = scenario(tmp_path, "b", "chips:\n  pue: 1.5\n  hbm_gb_per_accelerator: 200\n")
    r = invoke(
        "attribute", str(VALID), str(b), "-m", "hbm_gb", "-y", "2027", "-n", "200",
        "--exact-max", "1", "--permutations", "2", "--json",
    )  # fmt: skip
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert data["method"] == "sampled"
    assert data["permutations"] == 2
    assert all(c["se"] is not None for c in data["contributions"])


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["-m", "hbm", "-y", "2027"], EXIT_USAGE, "not in every scenario"),
        (["-m", "hbm_gb", "-y", "2040"], EXIT_USAGE, "not 2040"),
        (["-m", "hbm_gb", "-y", "2027", "--statistic", "median"], EXIT_USAGE, "statistic"),
        (["-m", "hbm_gb", "-y", "2027", "--group", "fleet"], EXIT_USAGE, "--group fleet"),
    ],
)
def test_attribute_bad_input(tmp_path: Path, args: list[str], code: int, words: str) -> None:
    b = scenario(tmp_path, "b", "chips:\n  pue: 1.5\n")
    r = invoke("attribute", str(VALID), str(b), "-n", "200", *args)
    assert r.code == code, (r.out, r.err)
    assert words in r.err


# --- batch ---------------------------------------------------------------------------------


def test_batch_runs_resumes_and_reports_failures_at_the_end(tmp_path: Path) -> None:
    a = scenario(tmp_path, "a")
    scenario(tmp_path, "b_bad", "chips:\n  pue: -1\n")
    scenario(tmp_path, "c", "chips:\n  pue: 1.5\n")
    out = tmp_path / "runs"
    r = invoke("batch", str(tmp_path / "*.yaml"), "--out", str(out), "-n", "200", "-j", "2")
    assert r.code == EXIT_SCENARIO_ERROR
    assert "3 scenarios: 2 run, 0 up to date, 1 failed" in r.err
    # the failure comes last, located, after the other scenarios finished
    tail = r.err[r.err.index("FAILED b_bad (") :]
    assert "b_bad.yaml:4:3: chips.pue: must be >= 1" in tail
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "a",
        "c",
        "index.csv",
        "index_summary.csv",
    ]
    assert "Headline metrics in 2027" in r.out
    again = invoke("batch", str(a), str(tmp_path / "c.yaml"), "--out", str(out), "-n", "200")
    assert again.code == 0, again.err
    assert "2 scenarios: 0 run, 2 up to date, 0 failed" in again.err


def test_batch_grid_names_and_counts(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    r = invoke(
        "batch", str(VALID), "--out", str(out), "-n", "100", "-j", "2",
        "--grid", "chips.pue=1.2,1.4", "--grid", "utilization.training=0.3,0.5",
    )  # fmt: skip
    assert r.code == 0, r.err
    folders = sorted(p.name for p in out.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert folders == [
        f"valid__pue={p}__training={t}" for p in ("1.2", "1.4") for t in ("0.3", "0.5")
    ]
    manifest = json.loads((out / "valid__pue=1.4__training=0.5" / "manifest.json").read_text())
    assert manifest["grid"] == {"chips.pue": "1.4", "utilization.training": "0.5"}
    assert manifest["resolved"]["chips"]["pue"] == 1.4


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["nowhere/*.yaml"], EXIT_USAGE, "nowhere/*.yaml: no file matches this pattern"),
        ([str(VALID), "--grid", "chips.pue="], EXIT_USAGE, "--grid:1:11:"),
    ],
)
def test_batch_bad_input(tmp_path: Path, args: list[str], code: int, words: str) -> None:
    r = invoke("batch", *args, "--out", str(tmp_path / "runs"))
    assert r.code == code, (r.out, r.err)
    assert words in r.err
    assert not (tmp_path / "runs").exists()


def test_batch_refuses_an_out_inside_a_run_folder(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert invoke("run", str(VALID), "-n", "100", "--out", str(run)).code == 0
    r = invoke("batch", str(VALID), "--out", str(run / "more"), "-n", "100")
    assert r.code == EXIT_USAGE
    assert "inside the result folder of another run" in r.err
    assert not (run / "more").exists()


def test_batch_refuses_an_unwritable_out(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    r = invoke("batch", str(VALID), "--out", str(blocker / "runs"), "-n", "100")
    assert r.code == EXIT_OUTPUT_ERROR


def test_batch_same_names_fail_located_and_the_rest_runs(tmp_path: Path) -> None:
    scenario(tmp_path, "a")
    twin = tmp_path / "twin.yaml"
    twin.write_text(f"name: a\nextends: {VALID}\n", encoding="utf-8")
    scenario(tmp_path, "c")
    r = invoke("batch", str(tmp_path / "*.yaml"), "--out", str(tmp_path / "runs"), "-n", "100")
    assert r.code == EXIT_SCENARIO_ERROR
    assert f"{twin}:1:1: name: 'a' is also the name of the scenario at" in r.err
    assert "1 run, 0 up to date, 2 failed" in r.err
    assert (tmp_path / "runs" / "c" / "manifest.json").exists()
    assert not (tmp_path / "runs" / "a").exists()


# --- kill -9 ---------------------------------------------------------------------------------


def _batch_cmd(files: list[Path], out: Path, jobs: int = 1) -> list[str]:
    return [sys.executable, "-m", "simulator", "batch", *map(str, files), "--out", str(out),
            "-n", "1500", "-j", str(jobs)]  # fmt: skip


def _finished(out: Path, names: list[str]) -> dict[str, tuple[int, int]]:
    got = {}
    for n in names:
        m = out / n / "manifest.json"
        if m.exists():
            st = m.stat()
            got[n] = (st.st_ino, st.st_mtime_ns)
    return got


def test_batch_killed_then_rerun_does_each_scenario_once_with_identical_results(
    tmp_path: Path,
) -> None:
    names = ["k1", "k2", "k3"]
    files = [
        scenario(tmp_path, n, f"chips:\n  pue: {1.2 + 0.1 * i}\n") for i, n in enumerate(names)
    ]
    out = tmp_path / "runs"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        _batch_cmd(files, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    deadline = time.monotonic() + 120
    while not _finished(out, names) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    before = _finished(out, names)
    assert before, "the batch finished nothing within two minutes"
    assert len(before) < len(names), "the batch finished before it could be killed"

    rerun = subprocess.run(
        _batch_cmd(files, out), capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert rerun.returncode == 0, rerun.stderr
    after = _finished(out, names)
    assert set(after) == set(names)
    for n, stamp in before.items():  # finished before the kill: kept, not redone
        assert after[n] == stamp, n
        assert f"skipped  {n} (up to date)" in rerun.stderr
    for n in set(names) - set(before):  # the rest: done by the rerun, once
        assert rerun.stderr.count(f"done     {n} ") == 1, n
    assert not [p for p in out.iterdir() if p.name.startswith(".jevons-") and p.is_dir()]

    clean = tmp_path / "clean"  # uninterrupted, and in parallel: the same numbers
    done = subprocess.run(
        _batch_cmd(files, clean, jobs=3),
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for n in names:
        for f in ("summary.csv", "summary.json"):
            assert (out / n / f).read_bytes() == (clean / n / f).read_bytes(), (n, f)
        m1 = json.loads((out / n / "manifest.json").read_text())
        m2 = json.loads((clean / n / "manifest.json").read_text())
        assert m1["inputs_sha256"] == m2["inputs_sha256"]
        assert m1["files"] == m2["files"]


def test_batch_interrupted_by_ctrl_c_exits_130_and_rerun_finishes(tmp_path: Path) -> None:
    # Ctrl-C as soon as the first scenario is done: five more keep the batch busy long
    # enough for the signal to land mid-batch even on a loaded machine (with three, the
    # other two sometimes finished before it arrived).
    names = [f"i{k}" for k in range(1, 7)]
    files = [scenario(tmp_path, n) for n in names]
    out = tmp_path / "runs"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        _batch_cmd(files, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True
    )
    deadline = time.monotonic() + 120
    while not _finished(out, names) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)  # what Ctrl-C sends to the batch
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted: finished scenarios are kept" in err
    with (out / "index.csv").open(encoding="utf-8") as fh:
        statuses = {r["scenario"]: r["status"] for r in csv.DictReader(fh)}
    assert set(statuses) == set(names)
    assert "done" in statuses.values()
    assert not [p for p in out.iterdir() if p.name.startswith(".jevons-") and p.is_dir()]
    rerun = subprocess.run(
        _batch_cmd(files, out), capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert rerun.returncode == 0, rerun.stderr
    assert set(_finished(out, names)) == set(names)


def test_compare_impact_variant_with_difference_metrics(tmp_path: Path) -> None:
    # impact rows are ratios, except idle and unmet capacity (paired differences in H100e;
    # simulator.metrics.IMPACT_AS_DIFFERENCE): both kinds compare, print and chart.
    b = scenario(tmp_path, "b", "chips:\n  pue: 1.5\n")
    out = tmp_path / "imp"
    r = invoke(
        "compare", str(VALID), str(b), "-n", "300", "--variant", "impact",
        "-m", "unmet_h100e", "-m", "power_w", "-y", "2027", "--out", str(out),
    )  # fmt: skip
    assert r.code == 0, r.err
    assert "[with / without]" in r.out
    assert "[M H100e]" in r.out
    assert (out / "difference_valid_vs_b_unmet_h100e.png").exists()
    with (out / "compare.csv").open(encoding="utf-8") as fh:
        values = [float(row["value"]) for row in csv.DictReader(fh)]
    assert all(math.isfinite(v) for v in values)


def test_no_out_inside_another_run_folder_for_run_and_compare(tmp_path: Path) -> None:
    # A run folder is replaced whole by its next run: results written inside it would be
    # lost (and a folder with sub-folders cannot be replaced), so every command refuses it.
    run_folder = tmp_path / "valid"
    first = invoke("run", str(VALID), "-n", "200", "--out", str(run_folder))
    assert first.code == 0, first.err
    inner = invoke("run", str(VALID), "-n", "200", "--out", str(run_folder / "inner"))
    assert inner.code == EXIT_USAGE
    assert "inside the result folder of another run" in inner.err
    cmp = invoke("compare", str(VALID), str(VALID), "-n", "200", "--out", str(run_folder / "c"))
    assert cmp.code == EXIT_USAGE
    assert "inside the result folder of another run" in cmp.err
    # the run folder itself can be replaced by a new run, and still holds no sub-folder
    again = invoke("run", str(VALID), "-n", "200", "--out", str(run_folder))
    assert again.code == 0, again.err
    assert not [p for p in run_folder.iterdir() if p.is_dir()]


def test_compare_out_is_replaced_whole_and_keeps_the_user_s_files(tmp_path: Path) -> None:
    b = scenario(tmp_path, "b", "chips:\n  pue: 1.5\n")
    out = tmp_path / "cmp"
    first = invoke("compare", str(VALID), str(b), "-n", "300", "-m", "power_w", "--out", str(out))
    assert first.code == 0, first.err
    assert (out / "compare_power_w.png").exists()
    (out / "my-notes.txt").write_text("mine", encoding="utf-8")
    second = invoke("compare", str(VALID), str(b), "-n", "300", "-m", "hbm_gb", "--out", str(out))
    assert second.code == 0, second.err
    names = {p.name for p in out.iterdir()}
    assert "compare_hbm_gb.png" in names
    assert not any("power_w" in n for n in names), names  # nothing of the first run is left
    assert (out / "my-notes.txt").read_text(encoding="utf-8") == "mine"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".jevons-")]
