"""The ``jevons`` command line: thin wrappers over the library.

Exit codes: 0 success; 1 an invalid scenario file or ``--set`` override, or a run that
cannot give meaningful numbers (not enough memory, overflow); 2 a command-line usage error
(Click's convention); 3 results could not be written.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, BinaryIO, ParamSpec, Self, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from simulator.engine import answer_questions, as_seed, simulate
from simulator.errors import (
    EXIT_OUTPUT_ERROR,
    EXIT_SCENARIO_ERROR,
    ScenarioError,
    SimulationError,
)
from simulator.io import dump_yaml, load_scenario, resolve_scenario, scenario_json_schema
from simulator.report._atomic import atomic_write
from simulator.report.tables import default_years, headline_table, questions_table
from simulator.report.writers import json_text, output_folder_problem, write_outputs
from simulator.summary import summarize

app = typer.Typer(
    name="jevons",
    no_args_is_help=True,
    add_completion=False,
    help=(
        "AI compute demand scenarios: what efficiency shocks (DeepSeek-style) and "
        "Jevons-style demand responses mean for accelerators, HBM, revenue and power.\n\n"
        "Write your beliefs as distributions in a YAML scenario, then `jevons run` it."
    ),
)


class Method(enum.StrEnum):
    """Sampling designs."""

    random = "random"
    lhs = "lhs"
    sobol = "sobol"


ScenarioFile = Annotated[
    Path,
    typer.Argument(
        exists=True, dir_okay=False, readable=True, help="Scenario YAML file.", show_default=False
    ),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Override a scenario value: dotted.key=value, value read as YAML "
        "(e.g. --set demand.segments.chat.elasticity='1 to 2'). Repeatable.",
        show_default=False,
    ),
]


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
    """Print a warning as a one-line note, without the source path and line of a library."""
    text = str(message)
    text = next((words for pattern, words in _WARNING_WORDS if pattern in text), text)
    typer.echo(f"note: {text}", err=True)


def _clean_errors(command: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``command`` with warnings as notes and a ``MemoryError`` as message and exit 1."""

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

    return wrapper


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
) -> None:
    """Check scenario files; print OK and a one-line summary for each valid one."""
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
    good = len(files) - bad
    typer.echo(f"{good} valid, {bad} invalid.", err=bad > 0)
    if bad:
        raise typer.Exit(code=EXIT_SCENARIO_ERROR)


@app.command()
@_clean_errors
def show(scenario: ScenarioFile, overrides: SetOption = None) -> None:
    """Print the fully resolved scenario (after extends and --set) as YAML."""
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
    seed: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Root seed (default: the scenario's sampling.seed, else fresh entropy).",
            show_default=False,
        ),
    ] = None,
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
            "--save-samples", help="Also write samples.npz into the --out folder (needs --out)."
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary and answers as JSON on stdout.")
    ] = False,
    workers: Annotated[
        int, typer.Option(min=1, max=256, help="Threads computing blocks of samples.")
    ] = 1,
) -> None:
    """Simulate SCENARIO with and without its shocks; print a table and the answers.

    The table shows P5 / P50 / P95 of the headline metrics for a few years with the
    shocks, without them (the counterfactual on the same samples) and the median
    impact (with / without). Answers are the scenario's `questions`.
    """
    if save_samples and out is None:
        msg = "it writes samples.npz into the --out folder; give --out DIR too"
        raise typer.BadParameter(msg, param_hint="'--save-samples'")
    try:
        resolved = resolve_scenario(scenario, overrides or ())
        sc = load_scenario(scenario, overrides or ())
    except ScenarioError as exc:
        raise _fail(exc) from None
    err = Console(stderr=True)
    if seed is None and sc.sampling.seed is None:
        seed = as_seed(None)
        err.print(f"seed: {seed} (pass --seed {seed} to repeat this run)")

    if out is not None:
        problem = _unwritable(out)
        if problem:  # say so before the work, not after it
            typer.echo(f"cannot write results to {out}: {problem}", err=True)
            raise typer.Exit(code=EXIT_OUTPUT_ERROR)

    started = time.perf_counter()
    try:
        with _LazyProgress(err) as bar:
            result = simulate(
                sc,
                samples,
                rng=seed,
                method=None if method is None else method.value,
                workers=workers,
                progress=bar.update,
                resolved=resolved.data,
            )
    except SimulationError as exc:
        typer.echo(f"{scenario}: {exc}", err=True)
        raise typer.Exit(code=EXIT_SCENARIO_ERROR) from None
    t_sim = time.perf_counter() - started
    t1 = time.perf_counter()
    summary = summarize(
        {v: result.variant(v) for v in ("with_shocks", "counterfactual", "impact")},
        result.years,
        scenario=sc.name,
    )
    answers = answer_questions(sc, result)
    t_sum = time.perf_counter() - t1

    if as_json:
        payload: dict[str, Any] = {
            "scenario": sc.name,
            "seed": result.seed,
            "samples": result.n_samples,
            "method": result.method,
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
            f"{t_sim:.1f} s; summaries {t_sum:.1f} s"
        )
    if out is not None:
        try:
            written = write_outputs(
                out,
                result,
                summary,
                answers=answers,
                manifest_extra={
                    "scenario_file": str(scenario),
                    "overrides": list(overrides or ()),
                    "summarize_s": t_sum,
                },
                save_samples=save_samples,
            )
        except OSError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(code=EXIT_OUTPUT_ERROR) from None
        err.print(f"wrote {len(written)} files to {out}")


def _write_bytes(fh: BinaryIO, data: bytes) -> None:
    fh.write(data)


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
    return output_folder_problem(directory)


class _LazyProgress:
    """A progress bar that appears only when a run takes more than a moment."""

    def __init__(self, console: Console, delay: float = 0.7) -> None:
        self.console = console
        self.delay = delay
        self.start = time.perf_counter()
        self.bar: Progress | None = None
        self.task: Any = None

    def __enter__(self) -> Self:
        return self

    def update(self, done: int, total: int) -> None:
        if self.bar is None:
            if time.perf_counter() - self.start < self.delay or done >= total:
                return
            self.bar = Progress(
                TextColumn("simulating"),
                BarColumn(),
                TextColumn("{task.completed:,}/{task.total:,}"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("simulate", total=total)
        self.bar.update(self.task, completed=done)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


# The workflow commands (compare, attribute, batch) register themselves on `app`.
from simulator import cli_workflows  # noqa: F401


def main() -> None:
    """Entry point of the ``jevons`` console script."""
    try:
        app()
    except MemoryError:  # any command: a message, not a traceback
        typer.echo(f"jevons: {OUT_OF_MEMORY}", err=True)
        sys.exit(EXIT_SCENARIO_ERROR)


if __name__ == "__main__":  # pragma: no cover
    main()
