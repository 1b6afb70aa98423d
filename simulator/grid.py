"""Parameter sweeps: ``--grid key=v1,v2,...`` options expanded into named scenario variants.

Each ``--grid`` option is an *axis*: a dotted key of the scenario (as ``--set`` takes it) and
a list of values, each read as YAML (``0.5``, ``"1 to 2"``, ``{kind: uniform, low: 1, high:
2}``). Several axes give their Cartesian product, in the order the options were given, the
last axis varying fastest. Every variant is a list of ``--set`` overrides applied after the
user's own, and is named by its settings::

    bull__elasticity=0.5__pue=1.2

The key part of a name is the shortest tail of the dotted key that tells the axes apart
(``elasticity``, or ``chat.elasticity`` when two axes end in ``elasticity``; a year-keyed
anchor keeps its parent: ``anchors.2030``). Names use only letters, digits and ``._+-=``,
so they are safe as folder names on every common filesystem.

Problems with the option's form are :class:`GridError` (a usage error, exit code 2); a key
that does not exist or a value of the wrong type is found by the scenario loader and
reported, located in the ``--grid`` option, by :func:`check_grid`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from simulator.errors import Problem, ScenarioError
from simulator.io import load_scenario

__all__ = [
    "GRID_FILE",
    "GridAxis",
    "GridError",
    "Variant",
    "check_grid",
    "expand_grid",
    "parse_grid",
    "variant_label",
]

GRID_FILE = "--grid"
"""The "file" that located problems of a ``--grid`` option name."""

_OVERRIDE_FILE = "--set"
_MAX_VARIANTS = 10_000
"""Largest Cartesian product accepted (a guard against a typo such as a pasted column)."""
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")


class GridError(ValueError):
    """A ``--grid`` option that is not of the form ``dotted.key=value,value,...``.

    The message is one ``--grid:1:col: option: message`` line.
    """


@dataclass(frozen=True)
class GridAxis:
    """One ``--grid`` option.

    Attributes
    ----------
    text : str
        The option as given, e.g. ``"demand.segments.chat.elasticity=0.5,1.0"``.
    key : str
        The dotted key, e.g. ``"demand.segments.chat.elasticity"``.
    values : tuple of str
        Each value's YAML text, as written (``"0.5"``, ``"1 to 2"``).
    columns : tuple of int
        1-based column of each value in ``text``.
    """

    text: str
    key: str
    values: tuple[str, ...]
    columns: tuple[int, ...]

    def override(self, index: int) -> str:
        """The ``--set`` override of value ``index``: ``key=value``."""
        return f"{self.key}={self.values[index]}"


@dataclass(frozen=True)
class Variant:
    """One point of a grid.

    Attributes
    ----------
    suffix : str
        The settings as a name suffix, e.g. ``"__elasticity=0.5__pue=1.2"`` (``""`` without a
        grid).
    settings : tuple of (str, str)
        ``(dotted key, value text)`` per axis.
    indices : tuple of int
        Index of each setting's value on its axis.
    """

    suffix: str
    settings: tuple[tuple[str, str], ...]
    indices: tuple[int, ...]

    @property
    def overrides(self) -> list[str]:
        """The settings as ``--set`` overrides, ``key=value``."""
        return [f"{k}={v}" for k, v in self.settings]

    def label(self, name: str) -> str:
        """The variant's name: the scenario's ``name`` followed by the settings."""
        return variant_label(name, self)


def _problem(text: str, column: int, message: str) -> GridError:
    return GridError(str(Problem(GRID_FILE, 1, column, f"{GRID_FILE} {text}", message)))


def parse_grid(text: str) -> GridAxis:
    """Parse one ``--grid`` option.

    Parameters
    ----------
    text : str
        ``dotted.key=value,value,...``; the values are a YAML flow sequence without its
        brackets, so a value may itself hold commas inside quotes, ``{...}`` or ``[...]``.

    Returns
    -------
    GridAxis

    Raises
    ------
    GridError
        If there is no ``=``, the key is empty, the values are not a YAML flow sequence,
        one is empty, or a value is repeated.
    """
    key, eq, rhs = text.partition("=")
    if not eq or not key.strip():
        msg = "expected dotted.key=value,value,..., e.g. demand.segments.chat.elasticity=0.5,1"
        raise _problem(text, 1, msg)
    if key != key.strip() or any(not part for part in key.split(".")):
        raise _problem(text, 1, f"the key {key!r} is not a dotted key without spaces")
    start = len(key) + 1  # 0-based offset of rhs in text
    if not rhs.strip():
        raise _problem(text, start + 1, "no values after '='")
    if rhs.rstrip().endswith(","):
        raise _problem(text, start + len(rhs.rstrip()) + 1, "empty value after the last comma")
    try:
        node = yaml.compose(f"[{rhs}]", Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        column = start + max(1, (mark.column if mark is not None else 1))
        reason = getattr(exc, "problem", None) or str(exc)
        raise _problem(
            text, column, f"values must be a comma-separated YAML list: {reason}"
        ) from None
    if not isinstance(node, yaml.SequenceNode):  # pragma: no cover - "[...]" is a sequence
        raise _problem(text, start + 1, "values must be a comma-separated YAML list")
    values: list[str] = []
    columns: list[int] = []
    for item in node.value:
        a, b = item.start_mark.index - 1, item.end_mark.index - 1
        raw = rhs[a:b].strip()
        if not raw:
            raise _problem(text, start + a + 1, "empty value")
        if raw in values:
            raise _problem(text, start + a + 1, f"value {raw!r} is repeated")
        values.append(raw)
        columns.append(start + a + 1)
    if not values:
        raise _problem(text, start + 1, "no values after '='")
    return GridAxis(text=text, key=key, values=tuple(values), columns=tuple(columns))


def _short_keys(keys: Sequence[str]) -> list[str]:
    """The shortest dotted tail of each key that tells the keys apart."""
    parts = [k.split(".") for k in keys]

    def tail(p: list[str], n: int) -> str:
        n = min(n, len(p))
        if n < len(p) and p[-n].isdigit():  # a year: keep the parent (anchors.2030)
            n += 1
        return ".".join(p[-n:])

    n = 1
    while True:
        tails = [tail(p, n) for p in parts]
        if len(set(tails)) == len(tails) or all(n >= len(p) for p in parts):
            return tails
        n += 1


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text).strip("_") or "_"


def expand_grid(axes: Sequence[GridAxis]) -> list[Variant]:
    """The Cartesian product of grid axes, each point named by its settings.

    Parameters
    ----------
    axes : sequence of GridAxis
        The ``--grid`` options, in order; the last varies fastest.

    Returns
    -------
    list of Variant
        ``prod(len(a.values))`` variants; one variant with no settings when ``axes`` is
        empty.

    Raises
    ------
    GridError
        If two axes have the same key, or the product exceeds 10,000 variants.
    """
    seen: dict[str, str] = {}
    for a in axes:
        if a.key in seen:
            raise _problem(a.text, 1, f"key {a.key!r} is already swept by --grid {seen[a.key]}")
        seen[a.key] = a.text
    total = 1
    for a in axes:
        total *= len(a.values)
    if total > _MAX_VARIANTS:
        msg = f"the grid has {total:,} variants, more than {_MAX_VARIANTS:,}"
        raise _problem(axes[-1].text, 1, msg)
    shorts = _short_keys([a.key for a in axes])
    labels = []
    for a in axes:
        safe = [_safe(v) for v in a.values]
        if len(set(safe)) != len(safe):  # values that differ only in unsafe characters
            safe = [f"{s}~{i}" for i, s in enumerate(safe)]
        labels.append(safe)
    out = []
    for idx in itertools.product(*(range(len(a.values)) for a in axes)):
        settings = tuple((a.key, a.values[i]) for a, i in zip(axes, idx, strict=True))
        suffix = "".join(
            f"__{s}={labels[j][i]}" for j, (s, i) in enumerate(zip(shorts, idx, strict=True))
        )
        out.append(Variant(suffix=suffix, settings=settings, indices=tuple(idx)))
    return out


def variant_label(name: str, variant: Variant) -> str:
    """A variant's name: ``name`` followed by its settings (``bull__elasticity=0.5``)."""
    return f"{name}{variant.suffix}"


def _relocate(problem: Problem, axis: GridAxis, index: int) -> Problem:
    """Move a problem found in the override ``key=value`` onto the ``--grid`` option."""
    if problem.file != _OVERRIDE_FILE:
        return problem
    override = axis.override(index)
    column = problem.column
    if column > len(axis.key) + 1:  # inside the value
        column = axis.columns[index] + (column - len(axis.key) - 2)
    key = problem.key
    if key == f"{_OVERRIDE_FILE} {override}":
        key = f"{GRID_FILE} {axis.text}"
    return Problem(GRID_FILE, 1, column, key, problem.message)


def check_grid(
    path: str | Path, overrides: Sequence[str], axes: Sequence[GridAxis]
) -> list[Problem]:
    """Check each grid value on a scenario file on its own; locate problems in ``--grid``.

    Parameters
    ----------
    path : str or Path
        The scenario file.
    overrides : sequence of str
        The user's ``--set`` overrides, applied first.
    axes : sequence of GridAxis
        The grid.

    Returns
    -------
    list of Problem
        Empty if every value of every axis gives a valid scenario. Otherwise the problems
        of the first bad value of each axis, located at ``--grid:1:col`` in the option (a key
        that does not exist, a value of the wrong type), or the file's own problems if the
        scenario is invalid without the grid.
    """
    try:
        load_scenario(path, overrides)
    except ScenarioError as exc:
        return exc.problems
    problems: list[Problem] = []
    for axis in axes:
        for i in range(len(axis.values)):
            try:
                load_scenario(path, [*overrides, axis.override(i)])
            except ScenarioError as exc:
                problems.extend(_relocate(p, axis, i) for p in exc.problems)
                break
    return problems
