"""The files ``jevons init`` copies into a new project: example scenarios and the schema.

The example scenarios live once, in the repository's top-level ``scenarios/`` folder, and
the JSON Schema in ``docs/scenario.schema.json``; the wheel carries copies of both under
``simulator/data/`` (``force-include`` in ``pyproject.toml``). Run from a source tree
(a clone, an editable install, the test suite), the files are read from where they live.

A new project gets the repository's layout, ``scenarios/*.yaml`` and
``docs/scenario.schema.json``, so that each scenario's first line,
``# yaml-language-server: $schema=../docs/scenario.schema.json``, finds the schema, and
``extends: base.yaml`` finds its parent next to it.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import BinaryIO

SCENARIO_FOLDER = "scenarios"
"""Where a project's scenarios go, relative to the project folder."""

SCHEMA_FILE = "docs/scenario.schema.json"
"""Where a project's copy of the JSON Schema goes, relative to the project folder."""

_SOURCE_TREE = Path(__file__).resolve().parent.parent
"""The repository root, when the package runs from a source tree."""


class StarterFilesMissingError(FileNotFoundError):
    """Neither the installed package nor a source tree holds the starter files."""


class ExistingFilesError(FileExistsError):
    """Files ``init`` would write exist already (and overwriting was not asked for)."""

    def __init__(self, existing: list[Path]) -> None:
        self.existing = existing
        names = ", ".join(str(p) for p in existing)
        super().__init__(f"{len(existing)} file{'s' if len(existing) != 1 else ''} exist: {names}")


@dataclass(frozen=True)
class StarterFile:
    """One file of a new project: where it comes from and where it goes.

    Attributes
    ----------
    source : Traversable
        The packaged (or source-tree) file.
    target : Path
        Its path relative to the project folder, e.g. ``scenarios/deepseek.yaml``.
    """

    source: Traversable
    target: Path


def _packaged() -> tuple[Traversable, Traversable] | None:
    data = resources.files("simulator") / "data"
    scenarios, schema = data / "scenarios", data / "scenario.schema.json"
    return (scenarios, schema) if scenarios.is_dir() and schema.is_file() else None


def _source_tree() -> tuple[Traversable, Traversable] | None:
    scenarios = _SOURCE_TREE / SCENARIO_FOLDER
    schema = _SOURCE_TREE / SCHEMA_FILE
    return (scenarios, schema) if scenarios.is_dir() and schema.is_file() else None


def starter_files() -> list[StarterFile]:
    """The example scenarios (sorted by name), then the JSON Schema.

    Returns
    -------
    list of StarterFile
        Sources from the installed package's ``simulator/data``, or from the source tree
        when the package runs from one.

    Raises
    ------
    StarterFilesMissingError
        If neither holds them (a broken installation).
    """
    found = _packaged() or _source_tree()
    if found is None:
        msg = (
            "the example scenarios are not in this installation of jevons "
            "(simulator/data/scenarios is missing); reinstall it with pip"
        )
        raise StarterFilesMissingError(msg)
    scenarios, schema = found
    files = [
        StarterFile(item, Path(SCENARIO_FOLDER) / item.name)
        for item in sorted(scenarios.iterdir(), key=lambda t: t.name)
        if item.is_file() and item.name.endswith(".yaml")
    ]
    return [*files, StarterFile(schema, Path(SCHEMA_FILE))]


def init_project(directory: Path, *, force: bool = False) -> list[Path]:
    """Copy the example scenarios and the JSON Schema into ``directory``.

    Parameters
    ----------
    directory : Path
        The project folder; created if missing. The scenarios go to
        ``directory/scenarios/``, the schema to ``directory/docs/scenario.schema.json``.
    force : bool
        Overwrite files that exist already. Without it, nothing is written if any of the
        files exists.

    Returns
    -------
    list of Path
        The files written, in the order of :func:`starter_files`.

    Raises
    ------
    ExistingFilesError
        If some of the files exist and ``force`` is false; nothing was written.
    OSError
        If a file cannot be written. Each file is written to a temporary file and renamed
        into place, so none is ever half-written, and the files this call created before
        the failure are removed again (files it overwrote keep their new content).
    """
    from simulator.report._atomic import atomic_write

    files = starter_files()
    targets = [directory / f.target for f in files]
    existing = [t for t in targets if t.exists() or t.is_symlink()]
    if existing and not force:
        raise ExistingFilesError(existing)
    created: list[Path] = []
    try:
        for file, target in zip(files, targets, strict=True):
            target.parent.mkdir(parents=True, exist_ok=True)
            is_new = not target.exists()
            atomic_write(target, functools.partial(_write, data=file.source.read_bytes()))
            if is_new:
                created.append(target)
    except BaseException:
        for path in created:
            with contextlib.suppress(OSError):
                path.unlink()
        raise
    return targets


def _write(fh: BinaryIO, data: bytes) -> None:
    fh.write(data)
