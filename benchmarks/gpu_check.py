"""CuPy against NumPy on ``scenarios/deepseek.yaml``: agreement, then speed. On demand only.

Run by ``benchmarks/gpu_check.sh`` on a machine with an NVIDIA GPU (it prepares the Python
environment and runs the ``gpu`` tests first); by hand::

    python benchmarks/gpu_check.py                       # CuPy vs NumPy, 1e6 / 1e7 / 1e8
    python benchmarks/gpu_check.py --dry-run             # no GPU: array_api_strict, tiny sizes

1. **Agreement** (host sampling, the only mode there is; see docs/backends.md). The same
   seed and samples on both backends: every per-sample value of every metric and variant
   of :func:`simulator.simulate`, and every cell of the summary table and every answer of
   :func:`simulator.engine.simulate_summary`. Printed: how many values are bit-identical,
   the largest absolute and relative difference, and where. The model's inputs are
   identical by construction (drawn on the host, copied); the outputs may differ in the
   last bits where CUDA's ``exp``/``log``/``pow`` or its reduction order differ from
   NumPy's.
2. **Speed**: :func:`simulator.engine.simulate_summary` (what ``jevons run`` does, without
   writing charts) at each size on NumPy and on CuPy, the same worker threads, after a
   warm-up run on CuPy that compiles its kernels (reported apart). A size is skipped, with
   the reason, when the time left in ``--budget`` would not hold it (its time estimated
   from the size before it, scaled by the sample count).

Prints markdown tables to stdout (and to ``--report FILE``). Exit status: 0 when the check
ran and every value agreed within its tolerance (``--rtol`` for paths and exact summaries;
see :func:`agreement`); 1 when a difference exceeded it; 2 when the
backend under test cannot run here (the reason is printed).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the working tree's jevons, installed or not

from simulator import engine
from simulator.backends import cupy_status
from simulator.io import load_scenario
from simulator.result import VARIANTS
from simulator.sketch import RELATIVE_ERROR

SCENARIO = ROOT / "scenarios" / "deepseek.yaml"
SEED = 20260101
REL_FLOOR = 1e-12
"""Relative differences are taken against at least this share of a series' largest value."""
RESERVE_S = 5.0
"""Seconds of the budget kept back for printing and exiting. [s]"""


@dataclass
class Diff:
    """How two arrays of the same shape differ.

    The relative difference of a value is ``|got - want| / max(|want|, floor)``, where
    ``floor`` is :data:`REL_FLOOR` times the largest ``|want|`` of its series (one metric,
    or one variant and metric of the summary table): a value that is exactly 0 on NumPy
    and 1e-20 on the GPU, in a series of values near 1e6, is not an infinite difference.
    A value finite on one backend only (or an infinity of the other sign) counts as inf.
    """

    values: int
    identical: int
    max_rel: float
    where: str
    abs_there: float
    max_abs: float

    @classmethod
    def of(
        cls,
        got: np.ndarray[Any, Any],
        want: np.ndarray[Any, Any],
        label: Any,
        series: np.ndarray[Any, Any] | None = None,
    ) -> Diff:
        """Compare ``got`` (backend under test) with ``want`` (NumPy).

        ``label(i)`` names flat index ``i``; ``series`` (same shape, integers) says which
        values share a scale (default: all of them).
        """
        got, want = np.ravel(got).astype(np.float64), np.ravel(want).astype(np.float64)
        series = np.zeros(got.size, np.int64) if series is None else np.ravel(series)
        same = (got == want) | (np.isnan(got) & np.isnan(want))
        both = np.isfinite(got) & np.isfinite(want)
        with np.errstate(invalid="ignore", over="ignore"):  # inf - inf, masked out below
            gap = np.where(same, 0.0, np.where(both, np.abs(got - want), np.inf))
        magnitude = np.where(np.isfinite(want), np.abs(want), 0.0)
        floor = np.zeros(got.size)
        for s in np.unique(series):
            at = series == s
            floor[at] = REL_FLOOR * magnitude[at].max()
        scale = np.maximum(magnitude, floor)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(gap == 0, 0.0, gap / scale)
        rel = np.where(np.isnan(rel), np.inf, rel)
        if not rel.size:
            return cls(0, 0, 0.0, "", 0.0, 0.0)
        i = int(np.argmax(rel))
        return cls(
            values=int(got.size),
            identical=int(same.sum()),
            max_rel=float(rel[i]),
            where=label(i) if rel[i] > 0 else "",
            abs_there=float(gap[i]),
            max_abs=float(gap.max()),
        )

    def row(self, name: str, ok: bool, tolerance: str) -> str:
        share = self.identical / self.values if self.values else 1.0
        there = f"{self.abs_there:.3g}" if self.where else ""
        return (
            f"| {name} | {self.values:,} | {self.identical:,} ({100 * share:.2f}%) | "
            f"{self.max_rel:.3g} | {self.where} | {there} | {'yes' if ok else 'NO'} "
            f"({tolerance}) |"
        )


class Lines(list[str]):
    """Report lines, printed as they are added (a run cut short still shows its rows)."""

    def add(self, *texts: str) -> None:
        for text in texts:
            print(text, flush=True)
            self.append(text)


def other_backend(name: str) -> dict[str, Any]:
    """Engine keywords for the backend under test."""
    if name == "strict":
        import array_api_strict

        return {"xp": array_api_strict}
    return {"backend": "cupy"}


def agreement(
    sc: Any, n: int, other: dict[str, Any], workers: int, rtol: float
) -> tuple[list[str], bool]:
    """Markdown lines comparing the backend under test with NumPy; and whether all agreed.

    Tolerances: per-sample paths and the exact summary table ``rtol`` (float64 rounding);
    the streamed table ``2 * RELATIVE_ERROR + rtol`` (a sample within rounding of a
    histogram bucket's edge may fall in the next bucket on the other backend, and each
    streamed quantile is within RELATIVE_ERROR of exact); answers ``2 / n`` absolute (a
    sample within rounding of a question's threshold may fall on its other side).
    """
    lines = Lines()
    lines.add(
        f"## Agreement: deepseek.yaml, {n:,} samples, seed {SEED}, host sampling",
        "",
        "| compared | values | bit-identical | max rel diff | where | abs diff there | "
        "within tolerance |",
        "|---|---|---|---|---|---|---|",
    )
    agreed = True

    def report(d: Diff, name: str, ok: bool, tolerance: str) -> None:
        nonlocal agreed
        agreed &= ok
        lines.add(d.row(name, ok, tolerance))

    want = engine.simulate(sc, n, rng=SEED, workers=workers)
    got = engine.simulate(sc, n, rng=SEED, workers=workers, **other)
    metrics, years = want.metrics, want.years
    for variant in VARIANTS:
        a = np.stack([got.variant(variant)[m] for m in metrics])
        b = np.stack([want.variant(variant)[m] for m in metrics])

        def label(i: int) -> str:
            k, rest = divmod(i, n * len(years))
            row, col = divmod(rest, len(years))
            return f"{metrics[k]}, sample {row}, {years[col]}"

        series = np.broadcast_to(np.arange(len(metrics))[:, None, None], b.shape)
        d = Diff.of(a, b, label, series)
        report(d, f"paths: {variant} ({len(metrics)} metrics)", d.max_rel <= rtol, f"{rtol:g}")
    del got, want
    for exact in (True, False):
        kw: dict[str, Any] = {
            "rng": SEED,
            "workers": workers,
            "exact_budget": None if exact else 0,
        }
        want_s = engine.simulate_summary(sc, n, **kw)
        got_s = engine.simulate_summary(sc, n, **kw, **other)
        t = want_s.summary
        if got_s.summary.metrics != t.metrics or got_s.summary.statistics != t.statistics:
            msg = "the summary tables have different rows"
            raise AssertionError(msg)

        def cell(i: int, t: Any = t) -> str:
            return f"{t.variants[i]}/{t.metrics[i]} {t.years[i]} {t.statistics[i]}"

        keys = list(zip(t.variants, t.metrics, strict=True))
        ids = {k: i for i, k in enumerate(dict.fromkeys(keys))}
        d = Diff.of(got_s.summary.values, t.values, cell, np.array([ids[k] for k in keys]))
        kind = "exact" if exact else "streamed"
        tol = rtol if exact else 2 * RELATIVE_ERROR + rtol
        report(d, f"summary table ({kind} quantiles)", d.max_rel <= tol, f"{tol:.3g}")
        p_got = np.array([a.probability for a in got_s.answers])
        p_want = np.array([a.probability for a in want_s.answers])
        names = [a.name for a in want_s.answers]
        d = Diff.of(p_got, p_want, lambda i, names=names: names[i])
        report(d, f"answers ({kind})", d.max_abs <= 2 / n, f"abs {2 / n:.2g}")
    lines.add(
        "",
        (
            "Relative difference: |backend - numpy| / max(|numpy|, 1e-12 x the largest |numpy| "
            "of the same metric); a value non-finite on one backend only counts as inf; *abs "
            "diff there* is in the unit of the value named. Device-side sampling is not built "
            "(docs/backends.md), so there is no statistical comparison to make."
        ),
        "",
    )
    return lines, agreed


def timings(
    sc: Any,
    sizes: list[int],
    other: dict[str, Any],
    name: str,
    *,
    workers: int,
    warmup: int,
    deadline: float,
) -> list[str]:
    """Markdown lines timing simulate_summary on NumPy and the backend under test."""
    lines = Lines()
    lines.add(f"## Speed: simulate_summary on deepseek.yaml, {workers} worker threads", "")
    t0 = time.perf_counter()
    engine.simulate_summary(sc, warmup, rng=SEED, workers=workers, **other)
    lines.add(
        f"Warm-up on {name} (kernel compilation), {warmup:,} samples: "
        f"{time.perf_counter() - t0:.1f} s, not counted below.",
        "",
        (
            "| samples | backend | seconds | samples/s | sampling s | model s | summaries s | "
            "quantiles | device pool MB |"
        ),
        "|---|---|---|---|---|---|---|---|---|",
    )
    rate: dict[str, float] = {}
    for n in sizes:
        for label, kw in (("numpy", {}), (name, other)):
            left = deadline - time.perf_counter()
            guess = n / rate[label] if label in rate else 0.0
            if guess > left:
                lines.add(
                    f"| {n:.0e} | {label} | skipped: would take about {guess:.0f} s, "
                    f"{max(left, 0):.0f} s left | | | | | | |"
                )
                continue
            pool = _reset_pool(label)
            started = time.perf_counter()
            run = engine.simulate_summary(sc, n, rng=SEED, workers=workers, **kw)
            took = time.perf_counter() - started
            rate[label] = n / took
            t = run.timings
            lines.add(
                f"| {n:.0e} | {label} | {took:.1f} | {n / took:,.0f} | "
                f"{t['sampling_s']:.1f} | {t['model_s']:.1f} | {t['summarize_s']:.1f} | "
                f"{'exact' if run.exact else 'streamed'} | {_pool_mb(pool)} |"
            )
    lines.add(
        "",
        (
            "*seconds*: wall time of the call; *sampling*, *model* and *summaries* are summed "
            "over the worker threads (sampling includes the copy of the inputs to the device, "
            "model the copy of the outputs back to the host)."
        ),
        "",
    )
    return lines


def _reset_pool(label: str) -> Any:
    """CuPy's default memory pool, emptied (None when the run is not on CuPy)."""
    if label != "cupy":
        return None
    import cupy

    pool = cupy.get_default_memory_pool()
    pool.free_all_blocks()
    return pool


def _pool_mb(pool: Any) -> str:
    return "" if pool is None else f"{pool.total_bytes() / 1e6:,.0f}"


def main(argv: list[str] | None = None) -> int:
    """Run the check; see the module's docstring."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--backend",
        choices=["cupy", "strict"],
        default="cupy",
        help="backend compared with numpy (strict: array_api_strict, no GPU)",
    )
    p.add_argument("--sizes", default="1e6,1e7,1e8", help="sample counts to time")
    p.add_argument(
        "--agree-samples", type=float, default=131_072, help="samples of the agreement check"
    )
    p.add_argument(
        "--warmup",
        type=float,
        default=131_072,
        help="samples of the untimed warm-up run on the backend under test",
    )
    p.add_argument(
        "--budget",
        type=float,
        default=240.0,
        help="seconds this script may take; sizes that would not fit are skipped",
    )
    p.add_argument("--workers", type=int, default=None, help="threads (default: jevons')")
    p.add_argument(
        "--rtol",
        type=float,
        default=None,
        help="largest relative difference of paths and exact summaries accepted (exit 1 "
        "beyond); default 1e-9 for cupy, 0 (bit for bit) for strict",
    )
    p.add_argument("--report", type=Path, default=None, help="also write the tables here")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="no GPU needed: --backend strict --sizes 1e4 --agree-samples 2000",
    )
    args = p.parse_args(argv)
    deadline = time.perf_counter() + args.budget - RESERVE_S
    if args.dry_run:
        args.backend, args.sizes, args.agree_samples, args.warmup = "strict", "1e4", 2000, 2000
    if args.rtol is None:
        args.rtol = 1e-9 if args.backend == "cupy" else 0.0
    workers = args.workers or engine.default_workers()
    sizes = [int(float(s)) for s in args.sizes.split(",") if s]

    head = [
        "# jevons GPU check",
        "",
        (
            f"- python {platform.python_version()}, numpy {np.__version__}, "
            f"{platform.machine()}, {_cpus()} CPUs, {workers} worker threads"
        ),
    ]
    if args.backend == "cupy":
        status = cupy_status()
        if not status.usable:
            print("\n".join(head))
            print(f"- cupy: cannot run here: {status.detail}")
            return 2
        import cupy

        head.append(
            f"- cupy {cupy.__version__}, CUDA runtime "
            f"{cupy.cuda.runtime.runtimeGetVersion()}, device {status.detail}"
        )
    else:
        head.append("- backend under test: array_api_strict (dry run: no GPU used)")
    head.append("")
    print("\n".join(head), flush=True)

    sc = load_scenario(SCENARIO)
    other = other_backend(args.backend)
    name = "cupy" if args.backend == "cupy" else "array_api_strict"
    agree, agreed = agreement(sc, int(args.agree_samples), other, workers, args.rtol)
    speed = timings(
        sc, sizes, other, name, workers=workers, warmup=int(args.warmup), deadline=deadline
    )
    verdict = f"{name} against numpy: " + (
        "agreed within tolerance." if agreed else "DIFFERENT beyond tolerance (see above)."
    )
    print(verdict)
    if args.report is not None:
        args.report.write_text("\n".join([*head, *agree, *speed, verdict, ""]), encoding="utf-8")
    return 0 if agreed else 1


def _cpus() -> int:
    import os

    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
