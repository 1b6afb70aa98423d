"""Regenerate the calibration table in docs/calibration.md from a real run of every scenario.

Usage (from the repository root)::

    python docs/calibration_table.py                 # 20,000 samples, writes the doc
    python docs/calibration_table.py --samples 2000 --stdout    # print only
    python docs/calibration_table.py --check         # exit 1 if the doc is out of date

Every ``scenarios/*.yaml`` is run through the public API (``load_scenario``, ``simulate``) with
the scenario's own seed and sampling method and the stated sample count; the table (built by
:func:`simulator.report.calibration.calibration_markdown`) replaces what lies between
``<!-- calibration-table:start -->`` and ``<!-- calibration-table:end -->`` in the document,
atomically (temporary file, then rename). Text outside the markers is never touched.

Exit codes: 0 done (or up to date with --check), 1 a scenario or the document could not be read
or the markers are missing (message on stderr), 1 with --check when the table is out of date.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import BinaryIO

import numpy as np

from simulator import ScenarioError, SimulationError, load_scenario, simulate
from simulator.report._atomic import atomic_write
from simulator.report.calibration import calibration_markdown, replace_between_markers
from simulator.result import SimulationResult

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SAMPLES = 20_000
"""Samples per scenario. [-]"""


def run_scenarios(paths: Sequence[Path], samples: int) -> list[SimulationResult]:
    """Run each scenario with its own seed and method (``sampling.seed``, ``sampling.method``).

    Parameters
    ----------
    paths : sequence of Path
        Scenario files, in table order.
    samples : int
        Samples per scenario.

    Returns
    -------
    runs : list of SimulationResult
        One per scenario.

    Raises
    ------
    ValueError
        If a scenario has no ``sampling.seed`` (the table must be reproducible).
    """
    runs = []
    for path in paths:
        scenario = load_scenario(path)
        if scenario.sampling.seed is None:
            msg = f"{path}: sampling.seed is not set; the table needs a reproducible run"
            raise ValueError(msg)
        runs.append(simulate(scenario, samples, rng=scenario.sampling.seed))
    return runs


def build_section(paths: Sequence[Path], samples: int) -> str:
    """The generated markdown section (without markers) for these scenarios."""
    runs = run_scenarios(paths, samples)
    versions = {"jevons": version("jevons"), "numpy": np.__version__}
    command = "python docs/calibration_table.py"
    if samples != DEFAULT_SAMPLES:
        command += f" --samples {samples}"
    return calibration_markdown(runs, command=command, versions=versions)


def _write_text(fh: BinaryIO, text: str) -> None:
    fh.write(text.encode("utf-8"))


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--samples", type=int, default=DEFAULT_SAMPLES, help="samples per scenario (20,000)"
    )
    parser.add_argument(
        "--scenarios",
        type=Path,
        default=ROOT / "scenarios",
        help="folder of scenario files (*.yaml), run in file-name order",
    )
    parser.add_argument(
        "--doc", type=Path, default=ROOT / "docs" / "calibration.md", help="document to update"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--stdout", action="store_true", help="print the table, write nothing")
    mode.add_argument("--check", action="store_true", help="exit 1 if the document differs")
    args = parser.parse_args(argv)
    if args.samples < 1:
        parser.error("--samples must be at least 1")
    paths = sorted(args.scenarios.glob("*.yaml"))
    if not paths:
        sys.stderr.write(f"error: no *.yaml in {args.scenarios}" + "\n")
        return 1
    try:
        section = build_section(paths, args.samples)
        if args.stdout:
            sys.stdout.write(section)
            return 0
        document = args.doc.read_text(encoding="utf-8")
        updated = replace_between_markers(document, section)
    except (ScenarioError, SimulationError, ValueError, OSError) as exc:
        sys.stderr.write(f"error: {exc}" + "\n")
        return 1
    if args.check:
        if updated != document:
            sys.stderr.write(f"{args.doc}: the calibration table is out of date" + "\n")
            return 1
        return 0
    if updated != document:
        try:
            atomic_write(args.doc, lambda fh: _write_text(fh, updated))
        except OSError as exc:
            sys.stderr.write(f"error: could not write {args.doc}: {exc}" + "\n")
            return 1
    sys.stdout.write(
        f"{args.doc}: calibration table for {len(paths)} scenarios, {args.samples:,} samples\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
