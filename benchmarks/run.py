"""Benchmark harness: jevons against the release before it and against the machine's floor.

Run on demand, never in the test suite::

    python benchmarks/run.py            # 1e4, 1e5, 1e6 (3 runs each) and 1e7 (1 run)
    python benchmarks/run.py --quick    # 1e4, 1e5, 1e6, one run each
    python benchmarks/run.py --baseline-ref 4e03a13 --sizes 100000 --repeats 5

For the shipped ``scenarios/deepseek.yaml`` at each size it measures, each in a fresh
process (``benchmarks/_measure.py``), side by side in one run:

- **new**: this tree, the code path of ``jevons run -n N --out DIR`` (simulate, summarize,
  answer the questions, write summary, charts and manifest);
- **old**: the same through the release ``--baseline-ref`` (default ``4e03a13``, the release
  before the performance work), checked out into a temporary ``git worktree`` and put first
  on ``PYTHONPATH``, on that release's own copy of the scenario (its schema predates keys
  such as ``fleet.order_lead``); a size whose per-sample results would not fit in the memory available is
  reported as "cannot run (memory)" instead of run;
- **floor**: drawing the same number of uniforms and one multiply-add pass over every output
  array the model writes, with the same threads.

Reported: wall time of the process (median), work time (without interpreter start and
imports), samples per second of work, peak resident memory of the process, its threads and
the worker processes it forks (the larger of the child's ``ru_maxrss`` from ``os.wait4`` and
the peak of its process tree's summed resident memory, sampled every 100 ms), the split of
the work into sampling, model, summaries and output writing (summed over worker threads or
processes), and the ratios old/new and new/floor from the same run; the op-count floor of
``benchmarks/arithmetic_floor.py`` (the time the counted arithmetic of sampling, model and
summaries needs with ideal NumPy) and jevons' time as a multiple of it. Also the start-up
time of ``jevons --help`` and ``validate``.
The machines are shared and noisy: compare the ratios of one run, not figures across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MEASURE = ROOT / "benchmarks" / "_measure.py"
DEFAULT_REF = "4e03a13"
OLD_BYTES_PER_VALUE = 1.5 * 3 * 8
"""The old release keeps 3 variants of float64 per sample, metric and year, x1.5. [byte]"""


PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def tree_rss(pid: int) -> int:
    """Resident bytes of process ``pid`` and all its descendants, summed (Linux ``/proc``).

    Pages shared between them (a forked worker's copy-on-write inheritance) count once per
    process: an upper bound of the memory they hold together.
    """
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # gone meanwhile
            ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, ()))
        try:
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * PAGE_BYTES
        except (OSError, ValueError):
            continue
    return total


def _sample_peak(pid: int, stop: threading.Event, peak: list[int]) -> None:
    while not stop.wait(0.1):
        peak[0] = max(peak[0], tree_rss(pid))


def run_child(cmd: list[str], env: dict[str, str]) -> tuple[dict[str, Any], float, float]:
    """Run a measurement; return its JSON, wall seconds and peak memory [MB] of its tree."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as errfile:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=errfile)
        assert proc.stdout is not None
        stop, peak = threading.Event(), [0]
        sampler = threading.Thread(target=_sample_peak, args=(proc.pid, stop, peak))
        sampler.start()
        try:
            with proc.stdout:
                out = proc.stdout.read()
        finally:
            stop.set()
            sampler.join()
        # wait4, not wait(): it gives this child's own peak RSS (ru_maxrss)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        errfile.seek(0)
        err = errfile.read()
    if proc.returncode != 0:
        msg = f"{' '.join(cmd)} failed ({proc.returncode}):\n{err.decode()[-3000:]}"
        raise RuntimeError(msg)
    rss_mb = max(usage.ru_maxrss / 1024, peak[0] / 2**20)
    return json.loads(out.decode().strip().splitlines()[-1]), wall, rss_mb


def available_bytes() -> int:
    with open("/proc/meminfo", encoding="ascii") as fh:  # noqa: PTH123
        for line in fh:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


def env_for(tree: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree)
    return env


def measure(
    label: str, mode: str, tree: Path, scenario: str, n: int, workers: int, repeats: int
) -> dict[str, Any]:
    rows = []
    for r in range(repeats):
        cmd = [sys.executable, str(MEASURE), mode, scenario, str(n), str(workers), str(1 + r)]
        data, wall, rss = run_child(cmd, env_for(tree))
        if mode == "jevons" and Path(data["tree"]).resolve() != tree.resolve():
            msg = f"{label}: measured {data['tree']}, not {tree} (PYTHONPATH not honoured)"
            raise RuntimeError(msg)
        rows.append({**data, "wall_s": wall, "rss_mb": rss})
    out: dict[str, Any] = {"label": label, "n": n, "runs": len(rows)}
    for key in ("wall_s", "work_s", "sampling_s", "model_s", "summarize_s", "output_s"):
        out[key] = statistics.median(row[key] for row in rows)
    out["rss_mb"] = max(row["rss_mb"] for row in rows)
    out["exact"] = rows[0].get("exact")
    return out


def startup(tree: Path, args: list[str], repeats: int = 5) -> float:
    """Median seconds of ``jevons ARGS`` (the CLI of ``tree``) in a fresh process."""
    cmd = [sys.executable, "-c", "from simulator.cli import main; main()", *args]
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        # cwd=tree: `python -c` puts the working directory first on sys.path
        subprocess.run(cmd, env=env_for(tree), cwd=tree, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def scenario_in(tree: Path, scenario: str) -> str:
    """The same scenario file as the old release ships it (its schema may not read ours).

    A shipped scenario (under this tree) is read from the old tree's copy; its keys are
    those that release knew (e.g. no ``fleet.order_lead`` before MODEL.md v2). Any other
    file is given as it is.
    """
    path = Path(scenario).resolve()
    try:
        rel = path.relative_to(ROOT)
    except ValueError:
        return scenario
    old = tree / rel
    return str(old) if old.exists() else scenario


def op_floor(
    scenario: str, results: list[dict[str, Any]], sizes: list[int], workers: int, tmp: Path
) -> None:
    """Print the op-count floor (``arithmetic_floor.py``) and jevons' time as a multiple of it."""
    out = tmp / "op_floor.json"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "arithmetic_floor.py")]
    subprocess.run(
        [*cmd, "--scenario", scenario, "--json", str(out)],
        check=True,
        capture_output=True,
        env=env_for(ROOT),
    )
    fl = json.loads(out.read_text(encoding="utf-8"))
    stages = fl["per_sample_s"]
    per_sample = fl["total_per_sample_s"]
    print(
        "op-count floor (benchmarks/arithmetic_floor.py, one thread, ideal NumPy): "
        f"{per_sample * 1e6:.2f} us/sample = "
        + " + ".join(f"{k} {v * 1e6:.2f}" for k, v in stages.items())
    )
    issue = fl["issue_floor_per_sample_s"]
    print(
        f"the issue's floor at the same per-element costs: {issue * 1e6:.2f} us/sample; "
        f"the op-count floor is {per_sample / issue:.1f}x it, the normal quantiles (ndtri) "
        f"alone {fl['ndtri_per_sample_s'] / issue:.1f}x it"
    )
    measured = fl["measured_cpu_per_sample_s"]
    print(
        "jevons' thread CPU time per sample (bench_block.py, same process as the count), "
        "as a multiple of the op-count floor: "
        + ", ".join(f"{k} {measured[k] / v:.1f}x" for k, v in stages.items())
        + f"; total {sum(measured.values()) / per_sample:.1f}x"
    )
    print()
    print(
        "| samples | op floor s (1 thread) | new thread s / op floor | "
        "new work / (op floor / workers) | issue floor / op floor (work) |"
    )
    print("|---|---|---|---|---|")
    for n in sizes:
        by = {m["label"]: m for m in results if m["n"] == n}
        new, floor = by["new"], by["floor"]
        ideal = per_sample * n
        threads = new["sampling_s"] + new["model_s"] + new["summarize_s"]
        print(
            f"| {n:.0e} | {ideal:.2f} | {threads / ideal:.1f}x | "
            f"{new['work_s'] / (ideal / workers):.1f}x | "
            f"{floor['work_s'] / (ideal / workers):.2f} |"
        )


def fmt_row(m: dict[str, Any]) -> str:
    if "skipped" in m:
        return f"| {m['n']:.0e} | {m['label']} | {m['skipped']} | | | | | | | |"
    work = m["work_s"]
    parts = " | ".join(f"{m[k]:.2f}" for k in ("sampling_s", "model_s", "summarize_s", "output_s"))
    return (
        f"| {m['n']:.0e} | {m['label']} | {m['wall_s']:.2f} | {work:.2f} | "
        f"{m['n'] / work:,.0f} | {m['rss_mb']:,.0f} | {parts} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1e4-1e6, one run each")
    parser.add_argument("--baseline-ref", default=DEFAULT_REF, help="git ref of the old release")
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "deepseek.yaml"))
    parser.add_argument("--sizes", type=int, nargs="+", help="sample counts")
    parser.add_argument("--repeats", type=int, help="runs per measurement (median)")
    parser.add_argument("--workers", type=int, default=2, help="threads, for all three")
    parser.add_argument("--no-old", action="store_true", help="skip the old release")
    parser.add_argument("--json", type=Path, help="also write the measurements here")
    args = parser.parse_args()
    sizes = args.sizes or (
        [10_000, 100_000, 1_000_000] if args.quick else [10_000, 100_000, 1_000_000, 10_000_000]
    )
    repeats = args.repeats or (1 if args.quick else 3)

    old_tree: Path | None = None
    tmp = Path(tempfile.mkdtemp(prefix="jevons-baseline-"))
    try:
        if not args.no_old:
            old_tree = tmp / "tree"
            subprocess.run(
                [
                    "git",
                    "-C",
                    str(ROOT),
                    "worktree",
                    "add",
                    "--detach",
                    "-q",
                    str(old_tree),
                    args.baseline_ref,
                ],
                check=True,
            )
        from simulator.io import load_scenario
        from simulator.model import metric_names  # this tree

        sc = load_scenario(args.scenario)
        old_scenario = args.scenario
        if old_tree is not None:
            old_scenario = scenario_in(old_tree, args.scenario)
            print(f"# old release reads {old_scenario}", file=sys.stderr)
        n_values = len(metric_names([s.name for s in sc.demand.segments])) * len(sc.years.all)
        print(
            f"# jevons benchmark: {Path(args.scenario).name}, {args.workers} workers, "
            f"median of {repeats} run(s) (1 at 1e7); baseline {args.baseline_ref}"
        )
        print(
            f"# {os.cpu_count()} CPUs, {available_bytes() / 1e9:.1f} GB available; "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
        )
        results: list[dict[str, Any]] = []
        for n in sizes:
            reps = 1 if n >= 10_000_000 else repeats
            new = measure("new", "jevons", ROOT, args.scenario, n, args.workers, reps)
            results.append(new)
            if old_tree is not None:
                need = n * n_values * OLD_BYTES_PER_VALUE
                if need > 0.7 * available_bytes():
                    results.append(
                        {
                            "label": "old",
                            "n": n,
                            "skipped": f"cannot run (memory: needs ~{need / 1e9:.0f} GB)",
                        }
                    )
                else:
                    results.append(
                        measure("old", "jevons", old_tree, old_scenario, n, args.workers, reps)
                    )
            results.append(measure("floor", "floor", ROOT, args.scenario, n, args.workers, reps))
            print(f"# done {n:,}", file=sys.stderr, flush=True)

        print()
        print(
            "| samples | code | wall s | work s | samples/s | peak MB | sampling s | "
            "model s | summaries s | output s |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
        for m in results:
            print(fmt_row(m))
        print()
        print(
            "| samples | old / new (work) | new / floor (work) | summaries / all stages | "
            "quantiles |"
        )
        print("|---|---|---|---|---|")
        for n in sizes:
            by = {m["label"]: m for m in results if m["n"] == n}
            new, old, floor = by["new"], by.get("old"), by["floor"]
            speedup = (
                f"{old['work_s'] / new['work_s']:.1f}x" if old and "skipped" not in old else "-"
            )
            share = new["summarize_s"] / max(
                new["sampling_s"] + new["model_s"] + new["summarize_s"] + new["output_s"], 1e-12
            )
            print(
                f"| {n:.0e} | {speedup} | {new['work_s'] / floor['work_s']:.1f}x | "
                f"{share:.0%} | {'exact' if new['exact'] else 'streamed'} |"
            )
        print()
        op_floor(args.scenario, results, sizes, args.workers, tmp)
        print()
        help_new = startup(ROOT, ["--help"])
        validate_new = startup(ROOT, ["validate", args.scenario])
        line = f"startup: `jevons --help` {help_new:.2f} s, `jevons validate` {validate_new:.2f} s"
        if old_tree is not None:
            line += (
                f" (old: {startup(old_tree, ['--help']):.2f} s, "
                f"{startup(old_tree, ['validate', old_scenario]):.2f} s)"
            )
        print(line)
        if args.json:
            args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    finally:
        if old_tree is not None:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old_tree)],
                check=False,
            )
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
