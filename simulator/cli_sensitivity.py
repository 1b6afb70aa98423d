"""``jevons sensitivity``: which uncertain assumption drives a metric in a year.

Registered on :data:`simulator.cli.app` when :mod:`simulator.cli` is imported (it imports
this module at its end). The command only parses, runs the simulation (or reads a run's
``samples.npz``), calls :mod:`simulator.sensitivity` and prints; charts come from
:mod:`simulator.report.sensitivity_charts`.

Exit codes: 0 success; 1 an invalid scenario (located ``file:line:col: key: message``), too
few samples, a scenario with no uncertain parameter, a constant metric, a run too large for
memory, a samples file that cannot be read, or a ``--method sobol`` design too large for
memory; 2 a usage error (an unknown ``--metric``, ``--year`` or ``--variant``, neither or
both of FILE and ``--from-samples``, an ``--out`` inside another run's folder), as in
``compare``; 3 results could not be written.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from simulator.cli import (
    SeedOption,
    SetOption,
    _clean_errors,
    _fail,
    _inside_another_run,
    _LazyProgress,
    app,
)
from simulator.cli_workflows import _publish, _unwritable, _usage
from simulator.errors import EXIT_OUTPUT_ERROR, EXIT_SCENARIO_ERROR, ScenarioError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray
    from rich.table import Table

    from simulator.sensitivity import SensitivityTable

DEFAULT_METRICS: tuple[str, ...] = ("hbm_gb", "shipments_units")
"""Metrics analysed when no ``--metric`` is given."""

DEFAULT_YEARS = 3
"""Projection years analysed when no ``--year`` is given: the first three after the base."""

DEFAULT_SAMPLES = 20_000
"""Most samples a rank analysis draws when ``-n`` is not given (the scenario's own count,
if smaller): Spearman intervals are then about +-0.014 wide. [samples]"""

MIN_SAMPLES = 100
"""Fewest samples: ten per decile. Restates :data:`simulator.sensitivity.MIN_SAMPLES`, so
that the command line starts without importing numpy (a test checks the two agree)."""

CSV_NAME = "sensitivity.csv"
"""File name of the tidy table of every input, metric and year."""

_OUTPUTS = re.compile(r"sensitivity\.csv|tornado_.*\.png|over_time_.*\.png")
"""Names ``sensitivity --out`` writes: a rerun replaces them all, and keeps any other file."""


class SensitivityMethod(enum.StrEnum):
    """Sensitivity methods."""

    rank = "rank"
    sobol = "sobol"


@dataclass(frozen=True)
class _Run:
    """The per-sample data a sensitivity analysis needs, from a simulation or a file."""

    inputs: Mapping[str, NDArray[np.float64]]
    variants: Mapping[str, Mapping[str, NDArray[np.float64]]]
    years: tuple[int, ...]
    meta: dict[str, Any]


def _error(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code=EXIT_SCENARIO_ERROR)


@app.command(name="sensitivity")
@_clean_errors
def sensitivity_command(
    scenario: Annotated[
        Path | None,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            metavar="[FILE]",
            help="Scenario YAML file (or give --from-samples instead).",
            show_default=False,
        ),
    ] = None,
    metric: Annotated[
        list[str] | None,
        typer.Option(
            "--metric",
            "-m",
            help="Metric to analyse (repeatable; default hbm_gb and shipments_units).",
            show_default=False,
        ),
    ] = None,
    year: Annotated[
        list[int] | None,
        typer.Option(
            "--year",
            "-y",
            help="Year to analyse (repeatable; default the first three projection years).",
            show_default=False,
        ),
    ] = None,
    variant: Annotated[
        str,
        typer.Option(
            help="Which numbers: with_shocks, counterfactual or impact (with / without; for "
            "idle_h100e and unmet_h100e the paired difference)."
        ),
    ] = "with_shocks",
    method: Annotated[
        SensitivityMethod,
        typer.Option(
            case_sensitive=False,
            help="rank: Spearman, standardized rank regression and the change in the mean "
            "across deciles, from one Monte Carlo run; sobol: first-order and total Sobol' "
            "indices with bootstrap intervals (SALib), on their own design.",
        ),
    ] = SensitivityMethod.rank,
    samples: Annotated[
        int | None,
        typer.Option(
            "--samples",
            "-n",
            "--base-samples",
            min=1,
            max=10_000_000,
            help=f"Monte Carlo samples (rank; default the scenario's, at most "
            f"{DEFAULT_SAMPLES:,}; at least {MIN_SAMPLES}); for sobol the base samples N "
            "(default 1,024, rounded up to a power of 2; the model runs N x (inputs + 2) "
            "times).",
            show_default=False,
        ),
    ] = None,
    seed: SeedOption = None,
    overrides: SetOption = None,
    top: Annotated[
        int,
        typer.Option("--top", "-k", min=1, max=1000, help="Inputs shown per table and tornado."),
    ] = 10,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            file_okay=False,
            help="Write sensitivity.csv, tornado_<metric>_<year>.png and "
            "over_time_<metric>.png (sobol: sobol.csv, sobol.json and charts) here "
            "(default results/<scenario>-sensitivity).",
            show_default=False,
        ),
    ] = None,
    from_samples: Annotated[
        Path | None,
        typer.Option(
            "--from-samples",
            exists=True,
            dir_okay=False,
            readable=True,
            help="Analyse a run's samples.npz (jevons run --save-samples) instead of "
            "simulating FILE.",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=256, help="Threads for the simulation.")] = 1,
) -> None:
    """Rank which uncertain assumptions drive each metric in each year.

    For every uncertain input of the scenario: the Spearman rank correlation with the
    metric (with a 95% interval), the standardized rank regression coefficient (SRRC,
    each input's effect with the others held in the regression; R² says how much a
    linear-in-ranks view explains) and @RISK's swing: the lowest and highest mean of the
    metric over the input's ten equal-count bins (deciles). Prints a ranked table per
    metric and year and writes a tornado chart of each, a chart per metric of the top
    inputs' Spearman coefficients year by year, and sensitivity.csv with every input,
    metric and projection year. See docs/sensitivity.md.
    """
    if method is SensitivityMethod.sobol:
        raise typer.Exit(
            _sobol(
                scenario,
                metric,
                year,
                variant,
                samples,
                seed,
                overrides,
                top,
                out,
                from_samples,
                workers,
            )
        )
    from rich.console import Console
    from rich.markup import escape

    from simulator.result import VARIANTS
    from simulator.sensitivity import SensitivityError, result_sensitivity

    if variant not in VARIANTS:
        msg = f"--variant must be one of {', '.join(VARIANTS)}; got {variant!r}"
        raise _usage(msg)
    if (scenario is None) == (from_samples is None):
        msg = (
            "give a scenario FILE to simulate, or --from-samples samples.npz of an earlier "
            "run (not both)"
        )
        raise _usage(msg)
    err = Console(stderr=True)
    loaded: Any = None
    if scenario is not None:
        loaded = _load(scenario, overrides or ())
        target = out or Path("results") / f"{_file_name(loaded.name)}-sensitivity"
        years_all: tuple[int, ...] = tuple(loaded.years.all)
        metric_list = _metric_names(loaded)
    elif from_samples is not None:
        if samples is not None or seed is not None or overrides:
            msg = "-n, --seed and --set apply to a simulation, not to --from-samples"
            raise _usage(msg)
        data, available = _read_samples(from_samples)
        target = out or from_samples.parent.with_name(f"{from_samples.parent.name}-sensitivity")
        years_all = data.years
        if variant not in available:
            msg = (
                f"{from_samples}: holds no {variant} paths; it has "
                f"{', '.join(available) or 'none'}"
            )
            raise _error(msg)
        metric_list = available[variant]
    metrics = list(dict.fromkeys(metric or [m for m in DEFAULT_METRICS if m in metric_list]))
    unknown = [m for m in metrics if m not in metric_list]
    if unknown or not metrics:
        what = f"--metric {unknown[0]}: not a metric of this run" if unknown else "no metric"
        msg = f"{what}; available: {', '.join(metric_list)}"
        raise _usage(msg)
    projection = years_all[1:]
    years = list(dict.fromkeys(year or projection[:DEFAULT_YEARS]))
    bad = [y for y in years if y not in years_all]
    if bad:
        msg = (
            f"--year {bad[0]}: not a year of this run; available: "
            f"{years_all[0]}-{years_all[-1]} (projection from {years_all[1]})"
        )
        raise _usage(msg)
    inside = _inside_another_run(target, itself=True)
    if inside is not None:
        raise inside
    problem = _unwritable(target)
    if problem:
        typer.echo(f"cannot write results to {target}: {problem}", err=True)
        raise typer.Exit(code=EXIT_OUTPUT_ERROR)

    if scenario is not None:
        data = _simulate(scenario, loaded, samples, seed, workers, len(metric_list), err)
    elif from_samples is not None:
        data = _with_paths(data, from_samples, variant, metrics)

    over_years = [y for y in years_all if y in set(projection) | set(years)]
    try:
        table = result_sensitivity(
            data.inputs,
            data.variants,
            data.years,
            metrics=metrics,
            years=over_years,
            variant=variant,
            skip_constant=True,  # a base year fixed by calibration, in the over-time chart
            required_years=years,  # but a constant metric in a year asked for is an error
            meta=data.meta,
        )
    except SensitivityError as exc:
        msg = f"{data.meta.get('scenario', 'run')}: {exc}"
        raise _error(msg) from None

    console = Console()
    for m in metrics:
        for y in years:
            console.print(_ranked_table(table, m, y, top))
    shown = {(m, y) for m in metrics for y in years}
    for line in _notes(table, len(table.inputs), top, shown):
        console.print(escape(line), highlight=False)

    from simulator.report.sensitivity_charts import subtitle, write_sensitivity_charts

    err.print(escape(f"sensitivities of {subtitle(table)}"), highlight=False)

    def write(folder: Path) -> int:
        table.to_csv(folder / CSV_NAME)
        charts = write_sensitivity_charts(
            table,
            folder,
            tornadoes=[(m, y) for m in metrics for y in years],
            over_time_metrics=metrics,
            top=top,
        )
        return len(charts) + 1

    with err.status("writing the table and charts", spinner="dots"):
        n_files = _publish(target, write, _OUTPUTS)
    err.print(f"wrote {n_files} files to {target}")


def _file_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=+-]", "_", name)


def _load(path: Path, overrides: Sequence[str]) -> Any:
    from simulator.io import load_scenario

    try:
        return load_scenario(path, overrides)
    except ScenarioError as exc:
        raise _fail(exc) from None


def _metric_names(sc: Any) -> tuple[str, ...]:
    from simulator.model import metric_names

    return metric_names([s.name for s in sc.demand.segments])


ANALYSIS_ARRAYS = 8
"""Arrays of ``n x inputs`` float64 the analysis holds at once (draws, ranks, standardized
ranks, sort orders, an output sorted by each input and its two running sums)."""


def _analysis_bytes(n: int, k: int) -> float:
    """Bytes the rank analysis of ``n`` samples of ``k`` inputs needs [B]."""
    return float(ANALYSIS_ARRAYS * n * k * 8)


def _too_large(where: object, n: int, need: float, have: int) -> typer.Exit:
    msg = (
        f"{where}: {n:,} samples need about {need / 1e9:.1f} GB in memory, more than the "
        f"{have / 1e9:.1f} GB available; use fewer samples (-n): rank sensitivity "
        "converges fast (10,000 samples give Spearman coefficients within about +-0.02)"
    )
    return _error(msg)


def _simulate(
    path: Path,
    sc: Any,
    samples: int | None,
    seed: int | None,
    workers: int,
    n_metrics: int,
    err: Any,
) -> _Run:
    """Simulate in memory (after checking that it fits), keeping the input draws."""
    from simulator import _memory
    from simulator.engine import RESULT_BYTES_OVERHEAD, as_seed, simulate
    from simulator.errors import SimulationError
    from simulator.sampling import uncertain_names

    names = uncertain_names(sc)
    if not names:
        msg = (
            f"{path}: the scenario has no uncertain parameters (every value is fixed), so "
            "no assumption can drive its results; write some as distributions"
        )
        raise _error(msg)
    n = samples if samples is not None else min(sc.sampling.samples, DEFAULT_SAMPLES)
    if n < MIN_SAMPLES:
        msg = (
            f"-n {n}: too few samples for rank sensitivity; need at least {MIN_SAMPLES} "
            "(ten per decile of each input)"
        )
        raise _error(msg)
    n_years = len(sc.years.all)
    # the per-sample results of every metric (both variants and the impact), then the analysis
    need = RESULT_BYTES_OVERHEAD * n * n_metrics * 3 * n_years * 8 + _analysis_bytes(n, len(names))
    have = _memory.available_memory()
    if have is not None and need > have:
        raise _too_large(path, n, need, have)
    if seed is None and sc.sampling.seed is None:
        seed = as_seed(None)
        err.print(f"seed: {seed} (pass --seed {seed} to repeat this analysis)")
    try:
        with _LazyProgress(err) as bar:
            result = simulate(sc, n, rng=seed, workers=workers, progress=bar.update)
    except SimulationError as exc:
        msg = f"{path}: {exc}"
        raise _error(msg) from None
    return _Run(
        inputs=result.inputs,
        variants={v: result.variant(v) for v in ("with_shocks", "counterfactual", "impact")},
        years=tuple(result.years),
        meta={
            "scenario": result.scenario_name,
            "seed": result.seed,
            "method": result.method,
            "version": result.versions.get("jevons", ""),
        },
    )


def _read_samples(path: Path) -> tuple[_Run, dict[str, tuple[str, ...]]]:
    """The input draws of a ``samples.npz``, the metrics it holds by variant, and its meta.

    The per-sample paths are not read here (:func:`_with_paths` reads those analysed).
    """
    import zipfile

    import numpy as np

    from simulator import _memory
    from simulator.result import INPUTS_PREFIX

    available: dict[str, list[str]] = {}
    if not zipfile.is_zipfile(path):  # np.load would try a .npy, or offer to unpickle
        with path.open("rb") as fh:
            parquet = fh.read(4) == b"PAR1"
        hint = (
            "a Parquet file (jevons run --parquet): --from-samples reads samples.npz, so "
            "rerun `jevons run FILE --out DIR --save-samples` without --parquet, or read "
            "this file with pandas (docs/formats.md)"
            if parquet
            else "not a jevons samples file (the samples.npz of `jevons run --save-samples`)"
        )
        msg = f"{path}: {hint}"
        raise _error(msg)
    try:
        with np.load(path, allow_pickle=False) as npz:
            keys = list(npz.files)
            if "years" not in keys:
                msg = f"{path}: not a jevons samples file (it has no 'years' array)"
                raise _error(msg)
            years = tuple(int(y) for y in npz["years"])
            names = [k for k in keys if k.startswith(INPUTS_PREFIX)]
            n = _rows(npz, names[0]) if names else 0
            need = _analysis_bytes(n, len(names)) + 4 * n * len(years) * 8
            have = _memory.available_memory()
            if have is not None and need > have:
                raise _too_large(path, n, need, have)
            inputs = {
                k.removeprefix(INPUTS_PREFIX): np.asarray(npz[k], dtype=np.float64)
                for k in keys
                if k.startswith(INPUTS_PREFIX)
            }
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        msg = f"{path}: cannot read the samples file: {exc}"
        raise _error(msg) from None
    for k in keys:
        v, sep, m = k.partition("/")
        if sep and not k.startswith(INPUTS_PREFIX):
            available.setdefault(v, []).append(m)
    if not inputs:
        msg = (
            f"{path}: holds no input draws (inputs/<parameter path>): it was written before "
            "jevons kept them, or its scenario has no uncertain parameters; rerun "
            "`jevons run FILE --out DIR --save-samples`"
        )
        raise _error(msg)
    if len(years) < 2:
        msg = f"{path}: not a jevons samples file (fewer than two years)"
        raise _error(msg)
    meta: dict[str, Any] = {"scenario": path.parent.name}
    manifest = path.parent / "manifest.json"
    try:
        info = json.loads(manifest.read_text(encoding="utf-8"))
        sampling = info.get("sampling") or {}
        meta.update(
            scenario=info.get("scenario", meta["scenario"]),
            seed=info.get("seed", sampling.get("seed")),
            method=info.get("method") or sampling.get("method"),
            version=(info.get("versions") or {}).get("jevons", ""),
        )
    except (OSError, ValueError, AttributeError):
        pass  # the manifest only names the run in titles
    run = _Run(inputs=inputs, variants={}, years=years, meta=meta)
    return run, {v: tuple(ms) for v, ms in available.items()}


def _rows(npz: Any, key: str) -> int:
    """Rows of one array of an open ``.npz``, read from its header only (0 if unknown)."""
    import numpy as np

    with npz.zip.open(f"{key}.npy") as fh:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, _, _ = np.lib.format.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, _, _ = np.lib.format.read_array_header_2_0(fh)
        else:  # a newer format: no check before reading
            return 0
    return int(shape[0]) if shape else 0


def _with_paths(run: _Run, path: Path, variant: str, metrics: Sequence[str]) -> _Run:
    """``run`` with the per-sample paths of ``metrics`` in ``variant`` read from ``path``."""
    import zipfile

    import numpy as np

    try:
        with np.load(path) as npz:
            paths = {m: np.asarray(npz[f"{variant}/{m}"], dtype=np.float64) for m in metrics}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        msg = f"{path}: cannot read the samples file: {exc}"
        raise _error(msg) from None
    return dataclasses.replace(run, variants={variant: paths})


def _ranked_table(table: SensitivityTable, metric: str, year: int, top: int) -> Table:
    from rich.markup import escape
    from rich.table import Table

    from simulator.report.sensitivity_charts import _scale
    from simulator.report.units import display_unit
    from simulator.sensitivity import short_labels

    rows = table.select(metric, year)
    labels = short_labels(table.inputs)
    _, unit_label, fmt = _scale(metric, rows[0]["variant"])
    unit = display_unit(metric)
    pct = f"{100 * table.confidence:.0f}%"
    t = Table(
        title=(
            f"{unit.description or metric} {year} ({rows[0]['variant']}): which inputs drive "
            f"it; mean {fmt(rows[0]['output_mean'])} {unit_label}, rank regression "
            f"R² {rows[0]['r2_rank']:.2f}"
        ),
        title_justify="left",
    )
    t.add_column("#", justify="right")
    t.add_column("input", overflow="fold")
    t.add_column(f"Spearman [{pct}]", justify="right")
    t.add_column("SRRC", justify="right")
    t.add_column(f"mean: low -> high decile [{unit_label}]", justify="right")
    t.add_column("swing ± se", justify="right")
    for r in rows[:top]:
        t.add_row(
            str(r["rank"]),
            escape(labels[r["input"]]),
            f"{r['spearman']:+.2f} [{r['spearman_ci_low']:+.2f},{r['spearman_ci_high']:+.2f}]",
            f"{r['srrc']:+.2f}",
            f"{fmt(r['mean_bottom'])} -> {fmt(r['mean_top'])}",
            f"{fmt(r['swing'])} ±{fmt(r['swing_se'])}",
        )
    return t


def _notes(table: SensitivityTable, k: int, top: int, shown: set[tuple[str, int]]) -> list[str]:
    lines = []
    if k > top:
        lines.append(f"{k - top} more inputs per table in {CSV_NAME} (--top {k} shows all).")
    if table.skipped:
        lines.append(f"Constant in this run, left out: {', '.join(table.skipped)}.")
    weak = [
        (r["r2_rank"], r["metric"], r["year"])
        for r in table.rows
        if r["rank"] == 1 and r["r2_rank"] < 0.5 and (r["metric"], r["year"]) in shown
    ]
    if weak:
        r2, m, y = min(weak)
        lines.append(
            f"Rank regression R² {r2:.2f} for {m} in {y}: a linear view of the ranks explains "
            "little of it (interactions, or a threshold such as a cap), so read its swings "
            "and Spearman coefficients rather than its SRRC."
        )
    se = math.sqrt(1.06 / (table.n_samples - 3))
    lines.append(
        f"{table.n_samples:,} samples: Spearman = rank correlation (its {100 * table.confidence:.0f}% "
        f"interval about ±{1.96 * se:.3f} near 0); SRRC = its effect with all inputs in one rank "
        "regression; mean over deciles = the metric's mean in the input's lowest and highest "
        "tenth of samples; swing = highest minus lowest decile mean (@RISK's change in output "
        "mean), of which an input with no effect still shows about 3 se."
    )
    return lines


def _sobol(
    scenario: Path | None,
    metric: Sequence[str] | None,
    year: Sequence[int] | None,
    variant: str,
    samples: int | None,
    seed: int | None,
    overrides: Sequence[str] | None,
    top: int,
    out: Path | None,
    from_samples: Path | None,
    workers: int,
) -> int:
    """``--method sobol``: :func:`simulator.sobol.sobol_command` on SALib's own design."""
    from rich.console import Console

    from simulator.sobol import DEFAULT_BASE_SAMPLES, sobol_command

    if from_samples is not None or scenario is None:
        msg = (
            "--method sobol evaluates the model on SALib's own design, so it needs a scenario "
            "FILE, not --from-samples"
        )
        raise _usage(msg)
    loaded = _load(scenario, overrides or ())
    return sobol_command(
        scenario,
        metrics=list(metric) if metric else list(DEFAULT_METRICS),
        years=list(year) if year else None,
        variant=variant,
        base_samples=DEFAULT_BASE_SAMPLES if samples is None else samples,
        seed=seed,
        out=out or Path("results") / f"{_file_name(loaded.name)}-sensitivity",
        console=Console(),
        err=Console(stderr=True),
        overrides=list(overrides or ()),
        workers=workers,
        top=top,
    )
