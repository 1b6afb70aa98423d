"""The strategists' workflow commands of ``jevons``: ``compare``, ``attribute`` and ``batch``.

They are registered on :data:`simulator.cli.app` when :mod:`simulator.cli` is imported (it
imports this module at its end). Like the rest of the command line, they only parse, call
the library (:mod:`simulator.compare`, :mod:`simulator.attribution`, :mod:`simulator.grid`,
:mod:`simulator.batch`) and print.

Exit codes: 0 success; 1 an invalid scenario, override or grid value (located
``file:line:col: key: message``), a run that cannot give meaningful numbers, or (batch) any
scenario that failed; 2 a usage error (a bad ``--grid`` form, a glob that matches nothing,
an ``--out`` inside a run folder, an unknown metric or year); 3 results could not be
written; 130 interrupted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from simulator.cli import (
    BackendChoice,
    BackendOption,
    DtypeChoice,
    DtypeOption,
    ExecutorOption,
    Method,
    SchedulerOption,
    SetOption,
    _backend,
    _clean_errors,
    _executor_choice,
    _fail,
    _inside_another_run,
    _LazyProgress,
    _open_executor,
    _write_bytes,
    app,
)
from simulator.errors import (
    EXIT_OUTPUT_ERROR,
    EXIT_SCENARIO_ERROR,
    EXIT_USAGE,
    ScenarioError,
    SimulationError,
)
from simulator.metrics import IMPACT_AS_DIFFERENCE

if TYPE_CHECKING:
    import numpy as np

    from simulator.attribution import Attribution
    from simulator.batch import (
        Outcome,
    )
    from simulator.compare import Comparison, Entry
    from simulator.grid import GridAxis

EXACT_MAX_DEFAULT = 10
"""Default of ``attribute --exact-max``: ``simulator.attribution.EXACT_MAX``, restated here so
that the command line starts without importing numpy (a test checks the two agree)."""

EXIT_INTERRUPTED = 130
"""Exit code after Ctrl-C (128 + SIGINT)."""

GridOption = Annotated[
    list[str] | None,
    typer.Option(
        "--grid",
        help="Sweep a scenario value: dotted.key=v1,v2,... (values read as YAML). Several "
        "--grid options give their Cartesian product; each variant is named by its settings, "
        "e.g. bull__elasticity=0.5.",
        show_default=False,
    ),
]
SamplesOption = Annotated[
    int | None,
    typer.Option(
        "--samples",
        "-n",
        min=1,
        max=10_000_000,
        help="Monte Carlo samples per scenario (default: the first scenario's).",
        show_default=False,
    ),
]
SeedOption = Annotated[
    int | None,
    typer.Option(
        min=0,
        help="Root seed, common to all (default: the first scenario's sampling.seed).",
        show_default=False,
    ),
]
MethodOption = Annotated[
    Method | None,
    typer.Option(case_sensitive=False, help="Sampling design.", show_default=False),
]
VariantOption = Annotated[
    str,
    typer.Option(
        help="Which numbers to compare: with_shocks, counterfactual or impact (with / without; "
        "for idle_h100e and unmet_h100e the paired difference with - without).",
    ),
]


def _usage(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code=EXIT_USAGE)


def _grid(options: Sequence[str] | None) -> list[GridAxis]:
    from simulator.grid import GridError, expand_grid, parse_grid

    try:
        axes = [parse_grid(t) for t in options or ()]
        expand_grid(axes)  # repeated keys, too many variants
    except GridError as exc:
        raise _usage(str(exc)) from None
    return axes


def _variant(value: str) -> str:
    from simulator.result import VARIANTS

    if value not in VARIANTS:
        msg = f"--variant must be one of {', '.join(VARIANTS)}; got {value!r}"
        raise _usage(msg)
    return value


def _entries(
    files: Sequence[Path], overrides: Sequence[str], axes: Sequence[GridAxis]
) -> list[Entry]:
    from simulator.compare import Entry
    from simulator.grid import check_grid, expand_grid
    from simulator.io import load_scenario, resolve_scenario

    entries = []
    variants = expand_grid(axes)
    for path in files:
        if axes:
            problems = check_grid(path, overrides, axes)
            if problems:
                raise _fail(ScenarioError(problems))
        for v in variants:
            ovr = [*overrides, *v.overrides]
            try:
                resolved = resolve_scenario(path, ovr)
                sc = load_scenario(path, ovr)
            except ScenarioError as exc:
                raise _fail(exc) from None
            entries.append(Entry(sc.name + v.suffix, sc, resolved.data))
    return entries


def _unwritable(directory: Path) -> str:
    """Why files could not be written into ``directory`` ("" if they can, as far as we know).

    Unlike a run's folder (replaced as a whole by ``write_outputs``), the folders of these
    commands receive files one by one (compare, attribute) or hold one run folder per
    scenario (batch), so an existing folder with sub-folders is fine.
    """
    if directory.exists():
        if not directory.is_dir():
            return "it exists and is not a directory"
        target = directory
    else:
        target = directory.parent
        while not target.exists() and target != target.parent:
            target = target.parent
        if not target.is_dir():
            return f"{target} is not a directory"
    if not os.access(target, os.W_OK | os.X_OK):
        return f"{target} is not writable"
    return ""


_COMPARE_OUTPUTS = re.compile(r"compare\.(csv|json)|(compare|difference)_.*\.png")
"""Names ``compare --out`` writes: a rerun replaces them all, and keeps any other file."""

_ATTRIBUTION_OUTPUTS = re.compile(r"attribution\.(csv|json)|waterfall\.png")
"""Names ``attribute --out`` writes."""


def _publish(out: Path, write: Callable[[Path], int], ours: re.Pattern[str]) -> int:
    """Write a command's files into a staging folder, then make it ``out`` in one step.

    As ``run --out`` (issue 11): a kill at any moment leaves ``out`` as the previous
    complete result or the new one; the previous result's files (those matching ``ours``)
    are not mixed with the new ones, and any other file in ``out`` is kept. Staging folders
    of dead runs next to ``out`` are removed first. Returns what ``write`` returns.
    """
    from simulator.report._atomic import publish_folder, staging_folder

    target = out.absolute()
    try:
        with staging_folder(target) as stage:
            n_files = write(stage)
            keep = (
                [p.name for p in target.iterdir() if not ours.fullmatch(p.name)]
                if target.is_dir()
                else []
            )
            publish_folder(stage, target, keep)
    except OSError as exc:
        typer.echo(f"cannot write results to {out}: {exc}", err=True)
        raise typer.Exit(code=EXIT_OUTPUT_ERROR) from None
    return n_files


def _write_text(path: Path, text: str) -> None:
    from simulator.report._atomic import atomic_write

    atomic_write(path, lambda fh: _write_bytes(fh, text.encode("utf-8")))


# --- compare ---------------------------------------------------------------------------------


@app.command(name="compare")
@_clean_errors
def compare_command(
    scenarios: Annotated[
        list[Path],
        typer.Argument(
            exists=True, dir_okay=False, readable=True, help="Scenario files: A, B, ..."
        ),
    ],
    samples: SamplesOption = None,
    seed: SeedOption = None,
    method: MethodOption = None,
    overrides: SetOption = None,
    grid: GridOption = None,
    variant: VariantOption = "with_shocks",
    metric: Annotated[
        list[str] | None,
        typer.Option(
            "--metric",
            "-m",
            help="Metric to show (repeatable; default headline).",
            show_default=False,
        ),
    ] = None,
    year: Annotated[
        list[int] | None,
        typer.Option("--year", "-y", help="Year to show (repeatable).", show_default=False),
    ] = None,
    all_pairs: Annotated[
        bool, typer.Option("--all-pairs", help="Compare every pair, not only each with A.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            file_okay=False,
            help="Write compare.csv, compare.json and charts here.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON.")] = False,
    workers: Annotated[int, typer.Option(min=1, max=256, help="Threads per simulation.")] = 1,
    backend: BackendOption = BackendChoice.numpy,
) -> None:
    """Compare scenarios on common random numbers: quantiles, paired differences, P(A > B).

    Every scenario is run with the same seed and samples, so each parameter the
    scenarios share draws the same random numbers in all of them, and the differences
    are paired sample by sample (MODEL.md §6). Shows, per metric and year, each scenario's
    median and 90% interval, the paired difference A - B and ratio A / B, P(A > B) with
    its standard error, and how much pairing reduced the standard error of the
    difference against independent runs. Defaults (samples, seed, design) come from the
    first scenario.
    """
    from simulator.compare import compare
    from simulator.report.compare_charts import write_comparison_charts
    from simulator.report.tables import HEADLINE_METRICS, default_years
    from simulator.report.writers import json_text

    variant = _variant(variant)
    axes = _grid(grid)
    entries = _entries(scenarios, overrides or (), axes)
    if len(entries) < 2:
        msg = "compare needs two or more scenarios (or a --grid with two or more values)"
        raise _usage(msg)
    if out is not None:
        inside = _inside_another_run(out, itself=True)
        if inside is not None:
            raise inside
        problem = _unwritable(out)
        if problem:
            typer.echo(f"cannot write results to {out}: {problem}", err=True)
            raise typer.Exit(code=EXIT_OUTPUT_ERROR)
    chosen = _backend(backend)
    err = Console(stderr=True)
    if seed is None and entries[0].scenario.sampling.seed is None:
        from simulator.sampling.streams import as_seed

        seed = as_seed(None)
        err.print(f"seed: {seed} (pass --seed {seed} to repeat this comparison)")
    try:
        with _LazyProgress(err) as bar:
            cmp = compare(
                entries,
                samples=samples,
                rng=seed,
                method=None if method is None else method.value,
                variant=variant,
                all_pairs=all_pairs,
                workers=workers,
                progress=bar.update,
                backend=chosen.name,
            )
    except SimulationError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=EXIT_SCENARIO_ERROR) from None
    except ValueError as exc:
        raise _usage(str(exc)) from None
    metrics = list(metric or [m for m in HEADLINE_METRICS if m in cmp.metrics])
    unknown = [m for m in metrics if m not in cmp.metrics]
    if unknown:
        msg = (
            f"--metric {unknown[0]}: not a metric of every scenario; "
            f"available: {', '.join(cmp.metrics)}"
        )
        raise _usage(msg)
    years = list(year or default_years(cmp.years))
    bad = [y for y in years if y not in cmp.years]
    if bad:
        msg = f"--year {bad[0]}: not a year of every scenario ({cmp.years[0]}-{cmp.years[-1]})"
        raise _usage(msg)
    table = cmp.table() if as_json or out is not None else None
    if table is not None and as_json:
        typer.echo(json_text(_compare_payload(cmp, table.to_records()), indent=None))
    else:
        console = Console()
        for m in metrics:
            for t in _compare_tables(cmp, m, years):
                console.print(t)
        for line in _compare_notes(cmp, metrics, years):
            console.print(escape(line), highlight=False)
    if out is not None and table is not None:
        shown = [m for m in metrics if m in cmp.metrics]

        def write_compare(folder: Path) -> int:
            _write_text(folder / "compare.csv", table.to_csv_string())
            _write_text(
                folder / "compare.json",
                json_text(_compare_payload(cmp, table.to_records())) + "\n",
            )
            return len(write_comparison_charts(cmp, folder, shown)) + 2

        n_files = _publish(out, write_compare, _COMPARE_OUTPUTS)
        err.print(f"wrote {n_files} files to {out}")


def _compare_payload(cmp: Comparison, records: list[dict[str, Any]]) -> dict[str, Any]:
    from simulator.engine import package_versions

    return {
        "format": "jevons-compare/1",
        "scenarios": list(cmp.labels),
        "pairs": [
            {
                "a": a,
                "b": b,
                "pairing": dataclasses.asdict(cmp.pairings[(a, b)]),
                "explanation": cmp.pairings[(a, b)].describe(a, b),
            }
            for a, b in cmp.pairs
        ],
        "variant": cmp.variant,
        "years": list(cmp.years),
        "n_samples": cmp.n_samples,
        "seed": cmp.seed,
        "method": cmp.method,
        "versions": package_versions(),
        "notes": list(cmp.notes),
        "columns": ["scenario", "variant", "metric", "year", "statistic", "value"],
        "records": records,
    }


def _interval(x: np.ndarray[Any, Any], k: int, fmt: Any) -> str:
    from simulator.summary import quantiles

    try:
        q = quantiles(x[:, k], (0.05, 0.5, 0.95))
    except ValueError:  # -inf: a difference of infinite ratios
        return "n/a"
    return f"{fmt(q[1])} [{fmt(q[0])}, {fmt(q[2])}]"


def _compare_tables(cmp: Comparison, metric: str, years: Sequence[int]) -> list[Table]:
    """One table of the scenarios' quantiles, then one per pair (A - B, A / B, P(A > B))."""
    from simulator.report.units import display_unit, format_number, format_ratio

    unit = display_unit(metric)
    # impact rows are ratios with / without, except IMPACT_AS_DIFFERENCE (in the unit)
    is_ratio = cmp.variant == "impact" and metric not in IMPACT_AS_DIFFERENCE

    def num(v: float) -> str:
        return format_ratio(v) if is_ratio else format_number(float(v), unit)

    def dnum(v: float) -> str:  # a difference of two ratios is a plain number
        return f"{v:+.3g}" if is_ratio else format_number(float(v), unit)

    what = f"{unit.description or metric} [{'with / without' if is_ratio else unit.label}]"
    t = Table(title=f"{what}, {cmp.variant}: median [P5, P95]", title_justify="left")
    t.add_column("year", justify="right")
    for label in cmp.labels:
        t.add_column(escape(label), justify="right")
    for y in years:
        k = cmp.years.index(y)
        t.add_row(str(y), *(_interval(cmp.values[lab][metric], k, num) for lab in cmp.labels))
    tables = [t]
    for a, b in cmp.pairs:
        s = cmp.pair_stats(a, b, metric)
        p = Table(
            title=escape(f"{a} vs {b} (A vs B), paired per sample: {what}"),
            title_justify="left",
        )
        for col in ("year", "A - B: median [P5, P95]", "A / B median", "P(A > B) ± se", "SE gain"):
            p.add_column(col, justify="right")
        for y in years:
            k = cmp.years.index(y)
            p.add_row(
                str(y),
                _interval(cmp.difference(a, b, metric), k, dnum),
                _median_ratio(cmp.ratio(a, b, metric)[:, k]) if cmp.has_ratio(metric) else "-",
                f"{s['p_greater'][k]:.3f} ± {s['se_p_greater'][k]:.3f}",
                _gain(float(s["efficiency"][k])),
            )
        tables.append(p)
    return tables


def _median_ratio(x: np.ndarray[Any, Any]) -> str:
    from simulator.report.units import format_ratio
    from simulator.summary import quantiles

    try:
        return format_ratio(float(quantiles(x, (0.5,))[0]))
    except ValueError:  # -inf: a negative value over zero (an impact given as a difference)
        return "n/a"


def _gain(efficiency: float) -> str:
    if math.isnan(efficiency):
        return "n/a"
    if math.isinf(efficiency):
        return "exact"
    return f"{math.sqrt(efficiency):.1f}x"


def _compare_notes(cmp: Comparison, metrics: Sequence[str], years: Sequence[int]) -> list[str]:
    import numpy as np

    from simulator.report.units import display_unit, format_number

    lines = [
        (
            f"{cmp.n_samples:,} samples per scenario, seed {cmp.seed}, {cmp.method} design, "
            "common random numbers; differences and P(A > B) are per sample (paired)."
        )
    ]
    for a, b in cmp.pairs:
        lines += cmp.pairings[(a, b)].describe(a, b)
        gains = []
        for m in metrics:
            eff = cmp.pair_stats(a, b, m)["efficiency"]
            gains += [float(eff[cmp.years.index(y)]) for y in years]
        finite = [g for g in gains if math.isfinite(g) and g > 0]
        if finite:
            med = float(np.median(finite))
            m0, y0 = metrics[0], years[-1]
            s0 = cmp.pair_stats(a, b, m0)
            k0 = cmp.years.index(y0)
            u0 = display_unit(m0)
            example = (
                f"{m0} {y0}: {format_number(float(s0['se_mean_paired'][k0]), u0)} paired "
                f"vs {format_number(float(s0['se_mean_independent'][k0]), u0)} independent "
                f"[{u0.label}]"
            )
            lines.append(
                f"Pairing gain ({a} vs {b}): common random numbers divide the standard error "
                f"of the mean difference by {math.sqrt(med):.2f} against independent runs of "
                f"the same size (median over the metrics and years shown; range "
                f"{math.sqrt(min(finite)):.2f} to {math.sqrt(max(finite)):.2f}; e.g. "
                f"{example}): each paired sample is worth {med:.1f} independent ones"
                + (
                    " (below 1: the paired samples move in opposite directions, so here "
                    "pairing costs precision)"
                    if med < 1
                    else ""
                )
                + ". SE gain = sqrt(var A + var B) / sd(A - B)."
            )
        elif gains and all(g == math.inf for g in gains):
            lines.append(f"{a} and {b} give identical samples: the difference is exactly zero.")
    lines += list(cmp.notes)
    lines.append(
        "P(A > B) ± its binomial standard error; P(B > A) = 1 - P(A > B) - P(A = B) "
        "(ties, e.g. years before a shock, are in compare.csv as p_equal)."
    )
    return lines


# --- attribute -------------------------------------------------------------------------------


@app.command(name="attribute")
@_clean_errors
def attribute_command(
    a: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="Scenario A.")
    ],
    b: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="Scenario B.")
    ],
    metric: Annotated[str, typer.Option("--metric", "-m", help="Metric (MODEL.md §9).")],
    year: Annotated[int, typer.Option("--year", "-y", help="Calendar year.")],
    statistic: Annotated[
        str, typer.Option(help="Statistic: p50 (median), any pNN, or mean.")
    ] = "p50",
    variant: VariantOption = "with_shocks",
    samples: Annotated[
        int | None,
        typer.Option(
            "--samples",
            "-n",
            min=1,
            max=10_000_000,
            help="Samples per hybrid scenario (default: A's sampling.samples, at most 5,000).",
            show_default=False,
        ),
    ] = None,
    seed: SeedOption = None,
    method: MethodOption = None,
    overrides: SetOption = None,
    group: Annotated[
        list[str] | None,
        typer.Option(
            "--group",
            help="Treat every difference under this dotted key as one parameter (repeatable).",
            show_default=False,
        ),
    ] = None,
    exact_max: Annotated[
        int,
        typer.Option(min=0, max=16, help="Exact Shapley values up to this many parameters."),
    ] = EXACT_MAX_DEFAULT,
    permutations: Annotated[
        int,
        typer.Option(
            min=2, max=100_000, help="Permutation pairs when sampled (beyond --exact-max)."
        ),
    ] = 32,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            file_okay=False,
            help="Write attribution.csv, attribution.json and waterfall.png here.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    backend: BackendOption = BackendChoice.numpy,
) -> None:
    """Split the gap B - A in a statistic of a metric into the contributions of each parameter.

    The parameters in which B differs from A (after extends and --set) are changed from
    A's value to B's in every order; each one's contribution is its Shapley value, its
    average effect over all those orders, so interactions are shared fairly and the
    contributions add up to the gap exactly. Every hybrid scenario runs on the same seed
    (common random numbers). Exact for up to --exact-max parameters (2^k hybrids),
    sampled by permutations beyond (each with a standard error).
    """
    from simulator.attribution import AttributionError, attribute
    from simulator.io import load_scenario, resolve_scenario
    from simulator.report.compare_charts import write_waterfall
    from simulator.report.writers import json_text

    variant = _variant(variant)
    ovr = list(overrides or ())
    try:
        ra, rb = resolve_scenario(a, ovr), resolve_scenario(b, ovr)
        sa, sb = load_scenario(a, ovr), load_scenario(b, ovr)
    except ScenarioError as exc:
        raise _fail(exc) from None
    labels = (sa.name, sb.name) if sa.name != sb.name else (f"{sa.name}(A)", f"{sb.name}(B)")
    n = samples if samples is not None else min(sa.sampling.samples, 5_000)
    chosen = _backend(backend)
    err = Console(stderr=True)
    if seed is None and sa.sampling.seed is None:
        from simulator.sampling.streams import as_seed

        seed = as_seed(None)
        err.print(f"seed: {seed} (pass --seed {seed} to repeat this attribution)")
    try:
        with _LazyProgress(err) as bar:
            result = attribute(
                ra.data,
                rb.data,
                metric=metric,
                year=year,
                statistic=statistic,
                variant=variant,
                labels=labels,
                samples=n,
                rng=seed,
                method=None if method is None else method.value,
                groups=group or (),
                exact_max=exact_max,
                permutations=permutations,
                progress=bar.update,
                backend=chosen.name,
            )
    except SimulationError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=EXIT_SCENARIO_ERROR) from None
    except (AttributionError, ValueError) as exc:
        raise _usage(str(exc)) from None
    payload = _attribution_payload(result)
    if as_json:
        typer.echo(json_text(payload, indent=None))
    else:
        console = Console()
        console.print(_attribution_table(result))
        for line in [*_attribution_notes(result), *result.notes]:
            console.print(escape(line), highlight=False)
    if out is not None:
        inside = _inside_another_run(out, itself=True)
        if inside is not None:
            raise inside
        problem = _unwritable(out)
        if problem:
            typer.echo(f"cannot write results to {out}: {problem}", err=True)
            raise typer.Exit(code=EXIT_OUTPUT_ERROR)

        def write_attribution(folder: Path) -> int:
            _write_text(folder / "attribution.csv", _attribution_csv(result))
            _write_text(folder / "attribution.json", json_text(payload) + "\n")
            write_waterfall(result, folder / "waterfall.png")
            return 3

        n_files = _publish(out, write_attribution, _ATTRIBUTION_OUTPUTS)
        err.print(f"wrote {n_files} files to {out}")


def _attribution_payload(r: Attribution) -> dict[str, Any]:
    from simulator.engine import package_versions

    return {
        "format": "jevons-attribution/1",
        "a": r.a,
        "b": r.b,
        "metric": r.metric,
        "variant": r.variant,
        "year": r.year,
        "statistic": r.statistic,
        "value_a": r.value_a,
        "value_b": r.value_b,
        "se_a": r.se_a,
        "se_b": r.se_b,
        "gap": r.gap,
        "method": r.method,
        "evaluations": r.evaluations,
        "permutations": r.permutations,
        "n_samples": r.n_samples,
        "seed": r.seed,
        "design": r.design,
        "versions": package_versions(),
        "notes": list(r.notes),
        "contributions": r.to_records(),
    }


def _attribution_csv(r: Attribution) -> str:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["parameter", "in_a", "in_b", "contribution", "se", "share_of_gap"])
    for rec in r.to_records():
        w.writerow(
            [
                rec["parameter"],
                rec["in_a"],
                rec["in_b"],
                repr(rec["contribution"]),
                "" if rec["se"] is None else repr(rec["se"]),
                repr(rec["share_of_gap"]),
            ]
        )
    return buf.getvalue()


def _short(text: str, width: int = 36) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _attribution_table(r: Attribution) -> Table:
    from simulator.report.units import display_unit, format_number

    unit = display_unit(r.metric)
    ratio = r.variant == "impact"

    def num(v: float) -> str:
        return f"{v:+.3g}" if ratio else ("+" if v >= 0 else "") + format_number(v, unit)

    what = "ratio" if ratio else unit.label
    t = Table(
        title=(
            f"{unit.description or r.metric} {r.year}, {r.statistic} of {r.variant} [{what}]: "
            f"{r.a} -> {r.b}"
        ),
        title_justify="left",
    )
    for col in ("parameter", "contribution", "± se", "share"):
        t.add_column(col, justify="left" if col == "parameter" else "right")
    for rec in r.to_records():
        se = "exact" if rec["se"] is None else num(rec["se"]).lstrip("+")
        share = rec["share_of_gap"]
        t.add_row(
            escape(rec["parameter"]),
            num(rec["contribution"]),
            se,
            "n/a" if math.isnan(share) else f"{100 * share:.0f}%",
        )
    t.add_row("total (the gap)", num(r.gap), "", "100%" if r.gap != 0 else "n/a")
    return t


def _attribution_notes(r: Attribution) -> list[str]:
    from simulator.report.units import display_unit, format_number

    unit = display_unit(r.metric)

    def num(v: float) -> str:
        return f"{v:.4g}" if r.variant == "impact" else f"{format_number(v, unit)} {unit.label}"

    k = len(r.players)
    total = math.fsum(r.contributions)
    how = (
        f"exact Shapley values over {k} differing parameters ({r.evaluations} hybrid "
        "scenarios simulated)"
        if r.method == "exact"
        else f"Shapley values sampled: {k} differing parameters are more than the exact limit, "
        f"so {r.permutations} random orders and their reverses were walked ({r.evaluations} "
        "hybrid scenarios simulated); ± se is each value's sampling error"
    )
    return [
        (
            f"{r.a}: {num(r.value_a)} (MC se {num(r.se_a)}); {r.b}: {num(r.value_b)} "
            f"(MC se {num(r.se_b)}); gap {num(r.gap)}; contributions sum to {num(total)}."
        ),
        (
            f"Method: {how}; {r.n_samples:,} samples each, seed {r.seed}, {r.design} design, "
            "common random numbers."
        ),
        (
            "A parameter's contribution is its average effect on the statistic when it is "
            "changed from A's value to B's, over every order of changing the parameters; "
            "interactions are shared equally among the parameters that make them. Each "
            "parameter's value in A and in B: attribution.csv (--out)."
        ),
    ]


# --- batch -----------------------------------------------------------------------------------


@app.command(name="batch")
@_clean_errors
def batch_command(
    files: Annotated[
        list[str],
        typer.Argument(
            metavar="FILES_OR_GLOBS",
            help='Scenario files, folders or quoted glob patterns ("scenarios/*.yaml").',
            show_default=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", file_okay=False, help="Batch folder: one result folder per scenario."
        ),
    ],
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=1, max=256, help="Scenarios run at a time.")
    ] = 1,
    grid: GridOption = None,
    samples: Annotated[
        int | None,
        typer.Option(
            "--samples",
            "-n",
            min=1,
            max=10_000_000,
            help="Monte Carlo samples (default: each scenario's sampling.samples).",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Root seed (default: each scenario's sampling.seed, else the batch's own, "
            "kept in OUT/batch.json).",
            show_default=False,
        ),
    ] = None,
    method: MethodOption = None,
    overrides: SetOption = None,
    save_samples: Annotated[
        bool, typer.Option("--save-samples", help="Also write samples.npz for each scenario.")
    ] = False,
    year: Annotated[
        int | None,
        typer.Option("--year", "-y", help="Year of the index table shown.", show_default=False),
    ] = None,
    executor: ExecutorOption = None,
    scheduler: SchedulerOption = None,
    dtype: DtypeOption = DtypeChoice.float64,
) -> None:
    """Run many scenarios in parallel processes, one result folder each, and index them.

    Each scenario (and each --grid variant) gets OUT/<name>/ in the layout of
    `jevons run --out`. Resumable: a scenario whose folder holds a complete run with the
    same content hash (scenario, seed, samples, design, versions, dtype) is skipped, so
    rerunning an interrupted batch (Ctrl-C, kill -9) finishes the rest. A failing scenario
    is reported at the end and does not stop the others; the exit code is 1 if any failed.
    OUT/index.csv lists every scenario's status; OUT/index_summary.csv holds their
    headline statistics. With --executor dask each scenario is a task on the Dask
    cluster (--jobs is then the cluster's business) and the folders are written here.
    """
    from simulator.batch import (
        INDEX_NAME,
        BatchError,
        Outcome,
        expand_files,
        find_run_folder,
        plan_batch,
        run_batch,
        write_index,
    )
    from simulator.report.tables import HEADLINE_METRICS

    where = _executor_choice(executor, scheduler)
    axes = _grid(grid)
    try:
        paths = expand_files(files)
    except BatchError as exc:
        raise _usage(str(exc)) from None
    run_folder = find_run_folder(out)
    if run_folder is not None:
        msg = (
            f"--out {out}: inside the result folder of another run ({run_folder} holds a "
            "manifest.json); choose a folder outside it"
        )
        raise _usage(msg)
    problem = _unwritable(out)
    if problem:
        typer.echo(f"cannot write results to {out}: {problem}", err=True)
        raise typer.Exit(code=EXIT_OUTPUT_ERROR)
    err = Console(stderr=True)
    try:
        plan = plan_batch(
            paths,
            out,
            overrides=overrides or (),
            grid=axes,
            samples=samples,
            seed=seed,
            method=None if method is None else method.value,
            dtype=dtype.value,
        )
    except OSError as exc:
        typer.echo(f"cannot write results to {out}: {exc}", err=True)
        raise typer.Exit(code=EXIT_OUTPUT_ERROR) from None
    bar = Progress(
        TextColumn("batch"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=err,
        transient=True,
        auto_refresh=False,  # refreshed by the scheduler's loop: no thread before fork
    )
    task = bar.add_task("", total=len(plan))
    t0 = time.perf_counter()

    def event(o: Outcome) -> None:
        bar.advance(task)
        if o.status == "done":
            bar.console.print(
                f"done     {escape(o.job.label)} ({o.seconds:.1f} s)", soft_wrap=True
            )
        elif o.status == "skipped":
            bar.console.print(f"skipped  {escape(o.job.label)} (up to date)", soft_wrap=True)
        else:
            bar.console.print(f"FAILED   {escape(o.job.label)}", soft_wrap=True)
        bar.refresh()

    def tick(running: list[str]) -> None:
        bar.update(task, description=escape(", ".join(running[:3])))
        bar.refresh()

    def wait() -> None:
        err.print(f"another batch is writing to {out}; waiting for it to finish")

    from simulator.executors import ExecutorError

    cluster = _open_executor(scheduler, None, err) if where == "dask" else None
    interrupted = False
    try:
        with bar, cluster or contextlib.nullcontext():
            outcomes = run_batch(
                plan,
                out,
                workers=jobs,
                save_samples=save_samples,
                on_event=event,
                on_tick=tick,
                on_wait=wait,
                executor=cluster,
            )
    except ExecutorError as exc:  # the cluster was lost: what was written is kept
        typer.echo(f"jevons batch: {exc}", err=True)
        raise typer.Exit(code=EXIT_SCENARIO_ERROR) from None
    except KeyboardInterrupt as exc:
        outcomes = getattr(exc, "outcomes", [Outcome(j) for j in plan])
        interrupted = True
    except OSError as exc:
        typer.echo(f"cannot write results to {out}: {exc}", err=True)
        raise typer.Exit(code=EXIT_OUTPUT_ERROR) from None
    try:
        rows = write_index(out, outcomes, HEADLINE_METRICS)
    except OSError as exc:
        typer.echo(f"cannot write {out / INDEX_NAME}: {exc}", err=True)
        raise typer.Exit(code=EXIT_OUTPUT_ERROR) from None
    if rows:
        # eight columns need about 100 characters: never crop numbers to fit a narrow console
        wide = Console()
        wide.width = max(wide.width, 104)
        wide.print(_index_table(outcomes, rows, year))
    counts = {
        s: sum(o.status == s for o in outcomes) for s in ("done", "skipped", "failed", "pending")
    }
    failed = [o for o in outcomes if o.status == "failed"]
    for o in failed:  # plain lines, never wrapped: file:line:col messages stay greppable
        typer.echo(f"FAILED {o.job.label} ({o.job.file}):", err=True)
        typer.echo(o.message, err=True)
    typer.echo(
        f"{len(outcomes)} scenarios: {counts['done']} run, {counts['skipped']} up to date, "
        f"{counts['failed']} failed"
        + (f", {counts['pending']} not run" if counts["pending"] else "")
        + f" ({time.perf_counter() - t0:.1f} s); index in {out / INDEX_NAME}",
        err=True,
    )
    if interrupted:
        typer.echo(
            "interrupted: finished scenarios are kept; rerun the same command to finish",
            err=True,
        )
        raise typer.Exit(code=EXIT_INTERRUPTED)
    if failed:
        raise typer.Exit(code=EXIT_SCENARIO_ERROR)


def _index_table(
    outcomes: Sequence[Outcome], rows: dict[str, list[dict[str, str]]], year: int | None
) -> Table:
    from simulator.batch import INDEX_SUMMARY_NAME
    from simulator.report.tables import HEADLINE_METRICS, default_years
    from simulator.report.units import display_unit, format_number

    years = sorted({int(r["year"]) for rs in rows.values() for r in rs})
    if year is None:
        shown = default_years(years)
        year = shown[-2] if len(shown) > 1 else years[-1]
    t = Table(
        title=f"Headline metrics in {year}: median with the shocks (all: {INDEX_SUMMARY_NAME})",
        title_justify="left",
    )
    t.add_column("scenario", overflow="fold", min_width=12)
    t.add_column("status")
    for m in HEADLINE_METRICS:  # metric name over its unit
        t.add_column(escape(f"{m}\n[{display_unit(m).label}]"), justify="right")
    for o in outcomes:
        got = {
            r["metric"]: float(r["value"])
            for r in rows.get(o.job.label, [])
            if int(r["year"]) == year and r["statistic"] == "p50" and r["variant"] == "with_shocks"
        }
        cells = [
            format_number(got[m], display_unit(m)) if m in got else "" for m in HEADLINE_METRICS
        ]
        t.add_row(escape(o.job.label), o.status, *cells)
    return t
