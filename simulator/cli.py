"""The ``jevons`` command line: thin wrappers over the library.

Exit codes: 0 success; 1 an invalid scenario file or ``--set`` override, or a run that
cannot give meaningful numbers (not enough memory, overflow); 2 a command-line usage error
(Click's convention; also ``--backend cupy`` where CuPy cannot run); 3 results could not be
written; 4 an option needs an optional extra that is not installed (``--parquet``:
``pip install "jevons[io]"``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import functools
import json
import os
import shutil
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO, ParamSpec, Self, TypeVar

import typer

from simulator.errors import (
    EXIT_MISSING_EXTRA,
    EXIT_OUTPUT_ERROR,
    EXIT_SCENARIO_ERROR,
    EXIT_USAGE,
    MissingExtraError,
    ScenarioError,
    SimulationError,
)

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

# The library (numpy, scipy, pydantic, matplotlib, rich) is imported inside the commands
# that need it, so that `jevons --help` and `jevons validate` start at once.

app = typer.Typer(
    name="jevons",
    no_args_is_help=True,
    help=(
        "AI compute demand scenarios: what efficiency shocks (DeepSeek-style) and "
        "Jevons-style demand responses mean for accelerators, HBM, revenue and power.\n\n"
        "Write your beliefs as distributions in a YAML scenario, then `jevons run` it."
    ),
)


def _print_version(value: bool) -> None:
    if value:
        from simulator import __version__

        typer.echo(f"jevons {__version__}")
        raise typer.Exit


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Options of every command (the help text is the app's)."""
    from simulator._malloc import keep_freed_memory

    keep_freed_memory()  # blocks reuse freed memory instead of faulting in fresh pages


class Method(enum.StrEnum):
    """Sampling designs."""

    random = "random"
    lhs = "lhs"
    sobol = "sobol"


class BackendChoice(enum.StrEnum):
    """Array libraries the model can run on (see simulator.backends)."""

    numpy = "numpy"
    cupy = "cupy"
    auto = "auto"


BackendOption = Annotated[
    BackendChoice,
    typer.Option(
        "--backend",
        case_sensitive=False,
        help="Array library the model runs on: numpy (CPU), cupy (an NVIDIA GPU; needs "
        'pip install "jevons\\[gpu]"), or auto (cupy when a CUDA device is usable, else numpy '
        "with a note). Draws are made on the CPU either way, so the model's inputs are "
        "identical; GPU results agree with numpy's to float64 rounding.",
    ),
]


class DtypeChoice(enum.StrEnum):
    """Floating-point types the model can compute in (see simulator.engine.resolve_dtype)."""

    float64 = "float64"
    float32 = "float32"


DtypeOption = Annotated[
    DtypeChoice,
    typer.Option(
        "--dtype",
        case_sensitive=False,
        help="Floating-point type of the model's arithmetic. float64 (the default) is the "
        "reference. float32 runs the model stage about 1.7x faster (draws and summaries stay "
        "float64: a whole run takes about 6% less CPU, and no less memory); its worst "
        "relative error measured on the shipped scenarios is 8e-5 on a mean, 1.1e-3 on an "
        "sd, 2.6e-6 on a quantile and 7e-6 (absolute) on a question's probability (idle and "
        "unmet H100e: relative to the installed fleet): docs/float32.md. A check sample of 1,024 "
        "paths is computed both ways and a scenario whose statistics there miss the "
        "bounds stated there is refused (exit 1).",
    ),
]


ScenarioFile = Annotated[
    Path,
    typer.Argument(
        exists=True, dir_okay=False, readable=True, help="Scenario YAML file.", show_default=False
    ),
]
SeedOption = Annotated[
    int | None,
    typer.Option(
        min=0,
        help="Root seed (default: the scenario's sampling.seed, else fresh entropy).",
        show_default=False,
    ),
]
"""``--seed`` of the commands that simulate one scenario (run, sensitivity)."""

SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Override a scenario value: dotted.key=value, value read as YAML "
        "(e.g. --set demand.segments.chat.elasticity='1 to 2'). Repeatable.",
        show_default=False,
    ),
]


class Executor(enum.StrEnum):
    """Where blocks of samples are computed."""

    local = "local"
    dask = "dask"


ExecutorOption = Annotated[
    Executor | None,
    typer.Option(
        "--executor",
        case_sensitive=False,
        help="Where blocks of samples are computed: local (--workers processes or threads "
        "on this machine) or "
        "dask (tasks on a Dask cluster, extra jevons[dask]; see docs/scale-out.md). "
        "Results do not depend on it. Default: local, or dask with --scheduler.",
        show_default=False,
    ),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler address (tcp://host:8786) for --executor dask; default "
        "$JEVONS_SCHEDULER, else a local Dask cluster is started for the run.",
        show_default=False,
    ),
]


def _executor_choice(executor: Executor | None, scheduler: str | None) -> str:
    """``"local"`` or ``"dask"``: --scheduler implies dask; a usage error with local."""
    if executor is None:
        return "dask" if scheduler else "local"
    if executor is Executor.local and scheduler:
        msg = "--scheduler is the address of a Dask scheduler; it needs --executor dask"
        raise typer.BadParameter(msg, param_hint="'--scheduler'")
    return executor.value


def _open_executor(scheduler: str | None, n_workers: int | None, err: Console) -> Any:
    """A :class:`~simulator.executors.DaskExecutor`, saying where it runs; exit 2 if none."""
    from simulator.executors import ExecutorUnavailableError, scheduler_address

    if scheduler_address(scheduler) is None:
        err.print("no --scheduler or $JEVONS_SCHEDULER: starting a local Dask cluster")
    try:
        from simulator.executors import DaskExecutor

        ex = DaskExecutor(scheduler, n_workers=n_workers)
    except ExecutorUnavailableError as exc:
        typer.echo(f"jevons: {exc}", err=True)
        raise typer.Exit(code=EXIT_USAGE) from None
    err.print(f"executor: {ex.description}")
    if not ex.client.nthreads():
        err.print("note: the scheduler has no workers yet; the run waits until some connect")
    if ex.slow_workers:
        from simulator.executors import MALLOC_NOTE

        err.print(f"note: {ex.slow_workers} worker(s): {MALLOC_NOTE}")
    return ex


_P = ParamSpec("_P")
_R = TypeVar("_R")

OUT_OF_MEMORY = (
    "out of memory: the run needs more memory than this process may use (free memory, "
    "ulimit -v or the container's limit); use fewer samples (-n), or raise the limit"
)
"""What a command prints, after its subject, when an allocation fails (exit code 1)."""


def _out_of_memory(subject: str) -> typer.Exit:
    typer.echo(f"{subject}: {OUT_OF_MEMORY}", err=True)
    return typer.Exit(code=EXIT_SCENARIO_ERROR)


_WARNING_WORDS: tuple[tuple[str, str], ...] = (
    (
        "cannot be log-scaled",
        (
            "a chart on a log scale has no positive values to draw (a metric that is zero "
            "throughout, such as a kind of compute no segment has); that panel is left empty"
        ),
    ),
)
"""Library warnings a user may meet, and what they mean in the user's terms."""


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """Print a warning as a one-line note, without the source path and line of a library.

    Deprecations are for developers, not users: a library's deprecation warning that is
    also a ``UserWarning`` (pyparsing's, raised by older matplotlib) is not printed.
    """
    if issubclass(category, DeprecationWarning | PendingDeprecationWarning):
        return
    text = str(message)
    text = next((words for pattern, words in _WARNING_WORDS if pattern in text), text)
    typer.echo(f"note: {text}", err=True)


def _clean_errors(command: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``command`` with warnings as notes and a ``MemoryError`` as message and exit 1.

    A missing optional extra (:class:`MissingExtraError`) is a message and exit code 4.
    """

    @functools.wraps(command)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with warnings.catch_warnings():
            # what a library may tell the user (not deprecations): once each, never an error
            warnings.filterwarnings("default", category=UserWarning)
            warnings.filterwarnings("default", category=RuntimeWarning)
            warnings.showwarning = _show_warning
            try:
                return command(*args, **kwargs)
            except MemoryError:
                subject = kwargs.get("scenario", "jevons")
                raise _out_of_memory(str(subject)) from None
            except MissingExtraError as exc:
                typer.echo(f"jevons: {exc}", err=True)
                raise typer.Exit(code=EXIT_MISSING_EXTRA) from None

    return wrapper


def _backend(choice: BackendChoice) -> Any:
    """The backend a ``--backend`` asks for (a ``Backend``); exit 2 if it cannot run here.

    Under ``auto`` the reason for falling back to numpy is printed as a note.
    """
    from simulator.backends import BackendUnavailableError, resolve_backend

    try:
        chosen = resolve_backend(choice.value)
    except BackendUnavailableError as exc:
        typer.echo(f"--backend {choice.value}: {exc}; or use --backend numpy", err=True)
        raise typer.Exit(code=EXIT_USAGE) from None
    if chosen.note:
        typer.echo(f"note: --backend auto: running on numpy; {chosen.note}", err=True)
    return chosen


def _fail(exc: ScenarioError) -> typer.Exit:
    typer.echo(str(exc), err=True)
    n = len(exc.problems)
    typer.echo(f"{n} problem{'s' if n != 1 else ''} found.", err=True)
    return typer.Exit(code=EXIT_SCENARIO_ERROR)


@app.command()
@_clean_errors
def validate(
    files: Annotated[
        list[Path],
        typer.Argument(exists=True, dir_okay=False, readable=True, help="Scenario files."),
    ],
    correlations: Annotated[
        bool,
        typer.Option(
            "--correlations",
            help="Also draw each valid scenario's own samples (its sampling.samples, method "
            "and seed) and print the rank correlations requested and achieved (about a "
            "second per 20,000 samples).",
        ),
    ] = False,
) -> None:
    """Check scenario files; print OK and a summary for each valid one.

    With --correlations, each valid scenario's rank correlations as requested and as its own
    samples achieve them.
    """
    from simulator.io import load_scenario

    bad = 0
    for path in files:
        try:
            sc = load_scenario(path)
        except ScenarioError as exc:
            bad += 1
            typer.echo(str(exc), err=True)
            continue
        n_shocks = len(sc.shocks)
        typer.echo(
            f"OK {path}: {sc.name}, years {sc.years.base_year}-{sc.years.end_year}, "
            f"{len(sc.demand.segments)} segments, {n_shocks} shock{'s' if n_shocks != 1 else ''}, "
            f"{len(sc.uncertain())} uncertain parameters"
        )
        for line in _design_lines(sc, correlations=correlations):
            typer.echo(line)
    good = len(files) - bad
    typer.echo(f"{good} valid, {bad} invalid.", err=bad > 0)
    if bad:
        raise typer.Exit(code=EXIT_SCENARIO_ERROR)


def _design_lines(sc: Any, *, correlations: bool) -> list[str]:
    """What a valid scenario's sampling design achieves: its rank correlations, measured.

    The sample-count note of a ``sobol`` design always; the correlations (which draw the
    scenario's samples) only when asked for, so that a plain ``validate`` stays instant.
    """
    lines: list[str] = []
    sampling = sc.sampling
    if sampling.method != "sobol" and not correlations:
        return lines  # nothing to say without the sampling layer (scipy.stats: ~0.6 s)
    from simulator.sampling import achieved_rank_correlations, sobol_sample_count_problem

    seed = 0 if sampling.seed is None else sampling.seed
    # a run of a seedless scenario draws a fresh seed; this check has to pick one
    seed_words = f"seed {seed}" if sampling.seed is not None else "seed 0: the scenario sets none"
    if sampling.method == "sobol":
        problem = sobol_sample_count_problem(sampling.samples)
        if problem is not None:
            lines.append(f"  note: {problem}")
    got = achieved_rank_correlations(sc, seed, sampling.samples) if correlations else []
    if got:
        lines.append(
            f"  rank correlations, requested -> achieved by its {sampling.samples:,} "
            f"{sampling.method} samples ({seed_words}; Iman-Conover):"
        )
        lines += [
            f"    {c.between[0]} ~ {c.between[1]}: {c.target:+.2f} -> {c.achieved:+.3f}"
            for c in got
        ]
    return lines


@app.command()
@_clean_errors
def show(scenario: ScenarioFile, overrides: SetOption = None) -> None:
    """Print the fully resolved scenario (after extends and --set) as YAML."""
    from simulator.io import dump_yaml, load_scenario, resolve_scenario

    try:
        resolved = resolve_scenario(scenario, overrides or ())
        load_scenario(scenario, overrides or ())
    except ScenarioError as exc:
        raise _fail(exc) from None
    typer.echo(dump_yaml(resolved.data), nl=False)


@app.command()
def schema(
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write to this file instead of standard output."),
    ] = None,
) -> None:
    """Print the JSON Schema of the scenario language (for editors and CI checks)."""
    from simulator.io import scenario_json_schema
    from simulator.report._atomic import atomic_write

    text = json.dumps(scenario_json_schema(), indent=2) + "\n"
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(out, lambda fh: _write_bytes(fh, text.encode("utf-8")))
    except OSError as exc:
        typer.echo(f"cannot write {out}: {exc}", err=True)
        raise typer.Exit(code=EXIT_OUTPUT_ERROR) from None


@app.command()
def init(
    directory: Annotated[
        Path,
        typer.Argument(
            metavar="DIR",
            file_okay=False,
            help="Project folder (created if missing).",
            show_default=True,
        ),
    ] = Path(),
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite files that exist already.")
    ] = False,
) -> None:
    """Start a project: copy the example scenarios and the JSON Schema into DIR.

    The scenarios go to DIR/scenarios/, the schema to DIR/docs/scenario.schema.json (where
    the scenarios' first line points editors). If any of these files exists, nothing is
    written, unless --force: then they are overwritten (other files are kept).
    """
    from simulator.starter import ExistingFilesError, StarterFilesMissingError, init_project

    try:
        written = init_project(directory, force=force)
    except ExistingFilesError as exc:
        names = "\n".join(f"  {p}" for p in exc.existing)
        typer.echo(
            f"jevons init: {directory}: these files exist already, nothing was written:\n"
            f"{names}\nuse --force to overwrite them, or choose another folder",
            err=True,
        )
        raise typer.Exit(code=EXIT_USAGE) from None
    except StarterFilesMissingError as exc:
        typer.echo(f"jevons init: {exc}", err=True)
        raise typer.Exit(code=EXIT_OUTPUT_ERROR) from None
    except OSError as exc:
        typer.echo(f"jevons init: cannot write to {directory}: {exc}", err=True)
        raise typer.Exit(code=EXIT_OUTPUT_ERROR) from None
    scenarios = [p for p in written if p.suffix == ".yaml"]
    schema_file = next(p for p in written if p.suffix == ".json")
    typer.echo(f"wrote {len(scenarios)} example scenarios to {scenarios[0].parent}:")
    for path in scenarios:
        typer.echo(f"  {path.name}")
    typer.echo(f"and the JSON Schema to {schema_file}")
    typer.echo(
        "Editors with yaml-language-server (VS Code's YAML extension, for one) check and\n"
        "complete a scenario whose first line is\n"
        f"  # yaml-language-server: $schema=../{schema_file.relative_to(directory)}\n"
        "as the examples' is. Next:\n"
        f"  jevons run {scenarios[0].parent / 'deepseek.yaml'} --out results/deepseek"
    )


@app.command()
@_clean_errors
def run(
    scenario: ScenarioFile,
    samples: Annotated[
        int | None,
        typer.Option(
            "--samples",
            "-n",
            min=1,
            max=10_000_000,
            help="Monte Carlo samples (default: the scenario's sampling.samples).",
            show_default=False,
        ),
    ] = None,
    seed: SeedOption = None,
    method: Annotated[
        Method | None,
        typer.Option(
            case_sensitive=False,
            help="Sampling design (default: the scenario's sampling.method).",
            show_default=False,
        ),
    ] = None,
    overrides: SetOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            file_okay=False,
            help="Write summary.csv, summary.json, manifest.json and fan charts (PNG) here; "
            "the folder is replaced as a whole, so it always holds one complete run.",
            show_default=False,
        ),
    ] = None,
    save_samples: Annotated[
        bool,
        typer.Option(
            "--save-samples",
            help="Also write samples.npz (samples.parquet with --parquet) into the --out "
            "folder (needs --out): every per-sample path and every uncertain input's draw "
            "(inputs/<parameter path>), streamed to disk block by block (8 bytes x samples "
            "x years per array).",
        ),
    ] = False,
    parquet: Annotated[
        bool,
        typer.Option(
            "--parquet",
            help="Also write summary.parquet into the --out folder (needs --out), and save "
            "samples as samples.parquet (one row per sample and year) instead of "
            'samples.npz. Needs the optional extra: pip install "jevons[io]".',
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary and answers as JSON on stdout.")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=256,
            help="Workers computing blocks of samples (forked processes on Linux for "
            "streamed runs, else threads), and at most as many processes drawing the "
            "charts (default: the CPUs available, at most 8). Results do not depend on it.",
            show_default=False,
        ),
    ] = None,
    exact_memory: Annotated[
        float | None,
        typer.Option(
            "--exact-memory",
            min=0.0,
            help="GB the run may keep samples in for exact quantiles (default: 1 GB or a "
            "quarter of the memory available, whichever is less); beyond it quantiles come "
            "from a streaming histogram within 0.2% of exact. 0 always streams.",
            show_default=False,
        ),
    ] = None,
    backend: BackendOption = BackendChoice.numpy,
    executor: ExecutorOption = None,
    scheduler: SchedulerOption = None,
    dtype: DtypeOption = DtypeChoice.float64,
) -> None:
    """Simulate SCENARIO with and without its shocks; print a table and the answers.

    The table shows P5 / P50 / P95 of the headline metrics for a few years with the
    shocks, without them (the counterfactual on the same samples) and the median
    impact (with / without). Answers are the scenario's `questions`.

    Memory stays bounded at any sample count: blocks of samples are summarized as they
    are computed, and quantiles are exact while the samples fit --exact-memory.
    """
    if save_samples and out is None:
        msg = (
            f"it writes {'samples.parquet' if parquet else 'samples.npz'} into the --out "
            "folder; give --out DIR too"
        )
        raise typer.BadParameter(msg, param_hint="'--save-samples'")
    if parquet and out is None:
        msg = "it writes summary.parquet into the --out folder; give --out DIR too"
        raise typer.BadParameter(msg, param_hint="'--parquet'")
    if parquet:  # say so before the work, not after it
        from simulator.export import require

        require("--parquet", "pandas", "pyarrow", "pyarrow.parquet")
    where = _executor_choice(executor, scheduler)
    if (
        where == "dask"
        and workers is not None
        and (scheduler or os.environ.get("JEVONS_SCHEDULER"))
    ):
        msg = "the Dask cluster's workers compute the blocks; --workers is for the local executor"
        raise typer.BadParameter(msg, param_hint="'--workers'")
    from rich.console import Console

    from simulator.engine import as_seed
    from simulator.io import load_scenario, resolve_scenario

    try:
        resolved = resolve_scenario(scenario, overrides or ())
        sc = load_scenario(scenario, overrides or ())
    except ScenarioError as exc:
        raise _fail(exc) from None
    err = Console(stderr=True)
    chosen = _backend(backend)
    if seed is None and sc.sampling.seed is None:
        seed = as_seed(None)
        err.print(f"seed: {seed} (pass --seed {seed} to repeat this run)")

    scratch: Path | None = None
    if out is not None:
        inside = _inside_another_run(out, itself=False)
        if inside is not None:
            raise inside
        problem = _unwritable(out)
        if problem:  # say so before the work, not after it
            typer.echo(f"cannot write results to {out}: {problem}", err=True)
            raise typer.Exit(code=EXIT_OUTPUT_ERROR)
        if save_samples:  # samples stream into a staging folder of this run, next to DIR
            from simulator.report._atomic import make_stage

            try:
                parent = out.absolute().parent
                parent.mkdir(parents=True, exist_ok=True)
                scratch = make_stage(parent)  # a dead run's is removed by the next run
            except OSError as exc:
                typer.echo(f"cannot write results to {out}: {exc}", err=True)
                raise typer.Exit(code=EXIT_OUTPUT_ERROR) from None
    try:
        _run_and_report(
            scenario,
            sc,
            resolved.data,
            samples=samples,
            seed=seed,
            method=method,
            workers=workers,
            exact_memory=exact_memory,
            executor=_open_executor(scheduler, workers, err) if where == "dask" else None,
            out=out,
            scratch=scratch,
            parquet=parquet,
            overrides=list(overrides or ()),
            as_json=as_json,
            err=err,
            backend=chosen,
            dtype=dtype.value,
        )
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
            _parked(scratch, parquet).unlink(missing_ok=True)


def _samples_file(parquet: bool) -> str:
    return "samples.parquet" if parquet else "samples.npz"


def _parked(scratch: Path, parquet: bool = False) -> Path:
    """Where the streamed samples wait, as a file, for the output folder's staging."""
    return scratch.with_name(scratch.name + Path(_samples_file(parquet)).suffix)


def _run_and_report(
    scenario_file: Path,
    sc: Any,
    resolved: Any,
    *,
    samples: int | None,
    seed: int | None,
    method: Method | None,
    workers: int | None,
    exact_memory: float | None,
    executor: Any,
    out: Path | None,
    scratch: Path | None,
    overrides: list[str],
    as_json: bool,
    err: Console,
    backend: Any = None,
    parquet: bool = False,
    dtype: str = "float64",
) -> None:
    """The body of `jevons run` after the scenario is loaded: simulate, print, write."""
    from rich.console import Console

    from simulator.engine import simulate_summary
    from simulator.executors import ExecutorError
    from simulator.report.tables import default_years, headline_table, questions_table
    from simulator.report.writers import json_text, write_outputs

    started = time.perf_counter()
    try:
        with _LazyProgress(err) as bar, executor or contextlib.nullcontext():
            result = simulate_summary(
                sc,
                samples,
                rng=seed,
                method=None if method is None else method.value,
                workers=workers,
                progress=bar.update,
                summary_progress=bar.summarizing,
                resolved=resolved,
                exact_budget=None if exact_memory is None else int(exact_memory * 1e9),
                save_samples=None if scratch is None else scratch / _samples_file(parquet),
                backend=None if backend is None else backend.name,
                executor=executor,
                dtype=dtype,
            )
    except SimulationError as exc:
        typer.echo(f"{scenario_file}: {exc}", err=True)
        raise typer.Exit(code=EXIT_SCENARIO_ERROR) from None
    except MemoryError as exc:
        if not type(exc).__module__.startswith("cupy"):
            raise  # the host's memory: _clean_errors says so
        typer.echo(
            f"{scenario_file}: out of GPU memory on {backend.device if backend else 'the GPU'}"
            f" ({exc}); use fewer --workers (each computes one block on the GPU at a time) "
            "or --backend numpy",
            err=True,
        )
        raise typer.Exit(code=EXIT_SCENARIO_ERROR) from None
    except ExecutorError as exc:
        typer.echo(f"{scenario_file}: {exc}", err=True)
        raise typer.Exit(code=EXIT_SCENARIO_ERROR) from None
    except OSError as exc:
        typer.echo(f"cannot write samples: {exc}", err=True)
        raise typer.Exit(code=EXIT_OUTPUT_ERROR) from None
    if scratch is not None and result.samples_file is not None:
        # Park the samples as a file and drop the folder: while the outputs are published,
        # the only staging folder next to DIR is the output's own (crash-safety contract).
        parked = _parked(scratch, parquet)
        result.samples_file.replace(parked)
        shutil.rmtree(scratch, ignore_errors=True)
        result = dataclasses.replace(result, samples_file=parked)
    t_total = time.perf_counter() - started
    t_sum = result.timings.get("summarize_s", 0.0)
    summary, answers = result.summary, result.answers

    if as_json:
        payload: dict[str, Any] = {
            "scenario": sc.name,
            "seed": result.seed,
            "samples": result.n_samples,
            "method": result.method,
            "dtype": result.dtype,
            "quantiles": _quantile_note(result),
            "answers": [dataclasses.asdict(a) for a in answers],
            "summary": summary.to_records(),
        }
        typer.echo(json_text(payload, indent=None))
    else:
        console = Console()
        asked = {q.year for q in sc.questions}
        years = sorted(set(default_years(result.years)) | asked)
        console.print(headline_table(result, summary, years=years))
        if answers:
            console.print(questions_table(answers))
        plural = "s" if result.n_samples != 1 else ""
        err.print(
            f"{result.n_samples:,} sample{plural} ({result.method}, seed {result.seed}) in "
            f"{t_total:.1f} s ({_workers_note(workers, executor)}{_backend_note(backend)}"
            f"{'' if result.dtype == 'float64' else ', model in ' + result.dtype}; "
            f"summaries {t_sum:.1f} s)"
        )
        err.print(f"quantiles: {_quantile_note(result)}")
    if out is not None:
        try:
            with err.status("writing outputs and charts", spinner="dots"):
                written = write_outputs(
                    out,
                    result,
                    summary,
                    answers=answers,
                    manifest_extra={
                        "scenario_file": str(scenario_file),
                        "overrides": overrides,
                        "summarize_s": t_sum,
                        "quantiles": _quantile_note(result),
                        "backend": _backend_record(backend),
                    },
                    save_samples=scratch is not None,
                    parquet=parquet,
                    chart_workers=workers,
                )
        except OSError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(code=EXIT_OUTPUT_ERROR) from None
        err.print(f"wrote {len(written)} files to {out}")


def _quantile_note(result: Any) -> str:
    if result.exact:
        return "exact"
    return f"streamed, within {100 * result.quantile_rel_error:.2g}% of exact"


def _backend_note(backend: Any) -> str:
    """The backend for the run's closing line; nothing for numpy (the default)."""
    if backend is None or backend.name == "numpy":
        return ""
    return f", on {backend.describe()}"


def _backend_record(backend: Any) -> dict[str, str]:
    """The backend as the manifest records it."""
    if backend is None:
        return {"name": "numpy", "device": "cpu"}
    record = {"name": backend.name, "device": backend.device}
    if backend.note:
        record["note"] = backend.note
    return record


def _workers_note(workers: int | None, executor: Any = None) -> str:
    if executor is not None:
        return str(executor.description)
    from simulator.engine import default_workers

    n = default_workers() if workers is None else workers
    return f"{n} worker{'s' if n != 1 else ''}"


def _write_bytes(fh: BinaryIO, data: bytes) -> None:
    fh.write(data)


def _inside_another_run(out: Path, *, itself: bool) -> typer.Exit | None:
    """A usage error if ``out`` lies inside another run's result folder (or is one).

    A run folder (one with a jevons ``manifest.json``) is replaced whole by its next run,
    so results written inside it would be lost, and a folder with sub-folders cannot be
    replaced. ``itself``: whether ``out`` being a run folder counts too (``run --out``
    replaces its own previous run, so for it only the folders above count).
    """
    from simulator.batch import find_run_folder

    start = out.absolute() if itself else out.absolute().parent
    holder = find_run_folder(start)
    if holder is None:
        return None
    typer.echo(
        f"--out {out}: inside the result folder of another run ({holder} holds a "
        "manifest.json); choose a folder outside it",
        err=True,
    )
    return typer.Exit(code=EXIT_USAGE)


def _unwritable(directory: Path) -> str:
    """Why results could not be written to ``directory`` ("" if they can, as far as we know)."""
    directory = Path(os.path.realpath(directory))  # a link to a folder: the folder replaced
    if directory.exists() and not directory.is_dir():
        return "it exists and is not a directory"
    # The new folder is prepared next to the old one, then swapped in: its parent must be
    # writable (the first one that exists, if the folder is new).
    target = directory.parent
    while not target.exists() and target != target.parent:
        target = target.parent
    if not target.is_dir():
        return f"{target} is not a directory"
    if not os.access(target, os.W_OK | os.X_OK):
        why = "the new results are prepared next to the folder, then swapped in"
        return (
            f"{target} is not writable ({why})"
            if directory.exists()
            else f"{target} is not writable"
        )
    from simulator.report.writers import output_folder_problem

    return output_folder_problem(directory)


class _LazyProgress:
    """A progress bar that appears only when a run takes more than a moment.

    It follows the simulation (samples done) and then the summaries (series done).
    """

    def __init__(self, console: Console, delay: float = 0.7) -> None:
        self.console = console
        self.delay = delay
        self.start = time.perf_counter()
        self.bar: Progress | None = None
        self.task: Any = None
        self.stage = "simulating"

    def __enter__(self) -> Self:
        return self

    def update(self, done: int, total: int) -> None:
        """Report ``done`` of ``total`` units of the current stage."""
        if self.bar is None:
            if time.perf_counter() - self.start < self.delay or done >= total:
                return
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.completed:,}/{task.total:,}"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task(self.stage, total=total)
        self.bar.update(self.task, completed=done, total=total, description=self.stage)

    def summarizing(self, done: int, total: int) -> None:
        """Report ``done`` of ``total`` series summarized."""
        self.stage = "summarizing"
        self.update(done, total)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


# The workflow commands (compare, attribute, batch) and sensitivity register themselves on
# `app`.
from simulator import (
    cli_sensitivity,  # noqa: F401
    cli_workflows,  # noqa: F401
)


def main() -> None:
    """Entry point of the ``jevons`` console script."""
    try:
        app()
    except MemoryError:  # any command: a message, not a traceback
        typer.echo(f"jevons: {OUT_OF_MEMORY}", err=True)
        sys.exit(EXIT_SCENARIO_ERROR)


if __name__ == "__main__":  # pragma: no cover
    main()
