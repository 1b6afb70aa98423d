"""Batch planning, resumption by content hash, and the index (library level)."""

from __future__ import annotations

import contextlib
import csv
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.batch import (
    INDEX_NAME,
    INDEX_SUMMARY_NAME,
    BatchError,
    ctrl_c_latch,
    expand_files,
    find_run_folder,
    is_up_to_date,
    plan_batch,
    run_batch,
    write_index,
)
from simulator.grid import parse_grid
from simulator.report.tables import HEADLINE_METRICS

DATA = Path(__file__).parents[1] / "data"
VALID = DATA / "valid.yaml"


def scenario(folder: Path, name: str, extra: str = "") -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(f"name: {name}\nextends: {VALID}\n{extra}", encoding="utf-8")
    return path


def test_expand_files_globs_folders_and_duplicates(tmp_path: Path) -> None:
    a = scenario(tmp_path, "a")
    b = scenario(tmp_path, "b")
    assert expand_files([str(tmp_path / "*.yaml")]) == [a, b]
    assert expand_files([str(tmp_path)]) == [a, b]
    assert expand_files([str(b), str(tmp_path / "*.yaml")]) == [b, a]


@pytest.mark.parametrize(
    ("pattern", "words"),
    [("nowhere/*.yaml", "no file matches"), ("nowhere.yaml", "no such file")],
)
def test_expand_files_refuses_patterns_that_match_nothing(pattern: str, words: str) -> None:
    with pytest.raises(BatchError, match=words):
        expand_files([pattern])


def test_expand_files_refuses_an_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(BatchError, match=r"no \*\.yaml file"):
        expand_files([str(tmp_path)])


def test_find_run_folder(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    assert find_run_folder(run / "sub") is None
    (run / "manifest.json").write_text('{"format": "jevons-manifest/1"}', encoding="utf-8")
    assert find_run_folder(run / "sub" / "deeper") == run.absolute()
    assert find_run_folder(run) == run.absolute()
    (run / "manifest.json").write_text('{"format": "something else"}', encoding="utf-8")
    assert find_run_folder(run / "sub") is None


def test_plan_names_variants_and_reports_problems(tmp_path: Path) -> None:
    a = scenario(tmp_path, "a")
    bad = scenario(tmp_path, "bad", "chips:\n  pue: -1\n")
    twin = scenario(tmp_path, "twin", "")
    twin.write_text(f"name: a\nextends: {VALID}\n", encoding="utf-8")
    jobs = plan_batch(
        [a, bad, twin], tmp_path / "out", grid=[parse_grid("chips.asp=20000,30000")], samples=50
    )
    assert [j.label for j in jobs] == [
        "a__asp=20000",
        "a__asp=30000",
        "bad",  # invalid before any grid value: one failure for the file
        "a__asp=20000",
        "a__asp=30000",
    ]
    assert "bad.yaml:4:3: chips.pue: must be >= 1" in jobs[2].error
    # the two files named `a` collide: both are refused, each pointing at the other
    assert f"{twin}:1:1: name: 'a__asp=20000' is also the name of the scenario at {a}:1:1" in (
        jobs[3].error
    )
    assert f"{a}:1:1: name:" in jobs[0].error
    assert all(j.error for j in jobs)


def test_plan_reports_a_grid_key_that_does_not_exist(tmp_path: Path) -> None:
    a = scenario(tmp_path, "a")
    (job,) = plan_batch([a], tmp_path / "out", grid=[parse_grid("chips.nope=1,2")])
    assert job.error.startswith("--grid:1:12: chips.nope: unknown key")


def test_batch_seed_is_drawn_once_and_kept(tmp_path: Path) -> None:
    a = scenario(tmp_path, "a", "sampling: {seed: null}\n")
    out = tmp_path / "out"
    (j1,) = plan_batch([a], out, samples=10)
    (j2,) = plan_batch([a], out, samples=10)
    assert j1.seed == j2.seed == json.loads((out / "batch.json").read_text())["seed"]
    (j3,) = plan_batch([a], out, samples=10, seed=4)
    assert j3.seed == 4


def test_run_resume_and_index(tmp_path: Path) -> None:
    a = scenario(tmp_path, "a")
    b = scenario(tmp_path, "b", "chips:\n  pue: 1.5\n")
    bad = scenario(tmp_path, "bad", "chips:\n  pue: -1\n")
    out = tmp_path / "out"
    jobs = plan_batch([a, bad, b], out, samples=300, seed=1)
    events: list[tuple[str, str]] = []
    outcomes = run_batch(
        jobs, out, workers=2, on_event=lambda o: events.append((o.job.label, o.status))
    )
    assert [o.status for o in outcomes] == ["done", "failed", "done"]
    assert sorted(events) == [("a", "done"), ("b", "done"), ("bad", "failed")]
    # the hash computed before the run is the one its manifest records
    for o in (outcomes[0], outcomes[2]):
        manifest = json.loads((out / o.job.label / "manifest.json").read_text())
        assert manifest["inputs_sha256"] == o.job.inputs_sha256
        assert manifest["label"] == o.job.label
        assert o.message == ""
        assert is_up_to_date(out / o.job.label, o.job.inputs_sha256)
    again = run_batch(jobs, out, workers=2)
    assert [o.status for o in again] == ["skipped", "failed", "skipped"]
    # a damaged result is run again
    (out / "b" / "summary.csv").write_text("damaged", encoding="utf-8")
    assert not is_up_to_date(out / "b", jobs[2].inputs_sha256)
    assert [o.status for o in run_batch(jobs, out)] == ["skipped", "failed", "done"]
    # a different sample count is a different hash
    (j,) = plan_batch([a], out, samples=301, seed=1)
    assert j.inputs_sha256 != jobs[0].inputs_sha256
    assert not is_up_to_date(out / "a", j.inputs_sha256)

    rows = write_index(out, outcomes, HEADLINE_METRICS)
    assert set(rows) == {"a", "b"}
    with (out / INDEX_NAME).open(encoding="utf-8") as fh:
        index = list(csv.DictReader(fh))
    assert [(r["scenario"], r["status"]) for r in index] == [
        ("a", "done"),
        ("bad", "failed"),
        ("b", "done"),
    ]
    assert "chips.pue" in index[1]["message"]
    with (out / INDEX_SUMMARY_NAME).open(encoding="utf-8") as fh:
        summary = list(csv.DictReader(fh))
    assert {r["scenario"] for r in summary} == {"a", "b"}
    assert {r["metric"] for r in summary} == set(HEADLINE_METRICS)
    assert not list(out.glob(".jevons-*/"))  # no staging folder left behind
    # units from summary.csv (MODEL.md §9: HBM in GB, its impact a ratio)
    units = {(r["variant"], r["metric"]) for r in summary if r["unit"] == "GB"}
    assert ("with_shocks", "hbm_gb") in units
    assert {
        r["unit"] for r in summary if r["variant"] == "impact" and r["metric"] == "hbm_gb"
    } == {"1"}
    # a folder written before summary.csv had a unit column still reads, units filled in
    old = out / "a" / "summary.csv"
    with old.open(encoding="utf-8", newline="") as fh:
        kept = [{k: v for k, v in r.items() if k != "unit"} for r in csv.DictReader(fh)]
    with old.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(kept[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(kept)
    write_index(out, outcomes, HEADLINE_METRICS)
    with (out / INDEX_SUMMARY_NAME).open(encoding="utf-8") as fh:
        reread = list(csv.DictReader(fh))
    assert [r["unit"] for r in reread] == [r["unit"] for r in summary]


def test_stale_staging_folders_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    # a staging folder whose owner (a process that has exited) is gone, as a killed worker
    # leaves it; write_outputs names its stages after their owner (make_stage)
    code = "import sys; from pathlib import Path; from simulator.report._atomic import make_stage"
    code += "; print(make_stage(Path(sys.argv[1])))"
    made = subprocess.run(
        [sys.executable, "-c", code, str(out)], capture_output=True, text=True, check=True
    )
    stale = Path(made.stdout.strip())
    assert stale.is_dir()
    run_batch([], out)
    assert not stale.exists()
    assert (out / ".jevons-batch.lock").is_file()  # the lock is a file, never removed


def _swallowed_ctrl_c() -> None:
    """Ctrl-C landing where Python prints "Exception ignored" and drops it (a fork hook)."""
    with contextlib.suppress(KeyboardInterrupt):
        signal.raise_signal(signal.SIGINT)


def test_ctrl_c_latch_keeps_a_swallowed_interrupt() -> None:
    with ctrl_c_latch() as hit:
        assert not hit.is_set()
        _swallowed_ctrl_c()
        assert hit.is_set()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back


def test_a_swallowed_ctrl_c_still_stops_the_batch(tmp_path: Path) -> None:
    # CI once saw a batch's KeyboardInterrupt raised inside logging's after-fork hook,
    # printed as "Exception ignored" and lost: the batch ran to the end and exited 0.
    files = [scenario(tmp_path, f"s{k}") for k in range(4)]
    out = tmp_path / "out"
    jobs = plan_batch(files, out, samples=200, seed=1)

    def on_event(o: object) -> None:
        _swallowed_ctrl_c()

    with pytest.raises(KeyboardInterrupt) as info:
        run_batch(jobs, out, workers=1, on_event=on_event)
    statuses = [o.status for o in info.value.outcomes]  # type: ignore[attr-defined]
    assert statuses[0] == "done"
    assert "pending" in statuses  # it stopped: the last ones never ran
    assert not [p for p in out.iterdir() if p.name.startswith(".jevons-") and p.is_dir()]
