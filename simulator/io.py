"""Scenario files: YAML to :class:`~simulator.schema.Scenario`, with located errors.

Reading
-------
PyYAML only *composes* a node tree (``yaml.compose``, with libyaml's
``CSafeLoader`` when available); nothing is ever constructed by PyYAML. This
module builds plain Python values from the nodes itself, so:

- **Plain scalars follow the YAML 1.2 core schema**, not PyYAML's YAML 1.1:
  ``1.0e12``, ``1e15`` and ``.5`` are floats (PyYAML alone reads ``1.0e12`` as a
  string, because YAML 1.1 wants a sign in the exponent), ``0x1F`` and ``0o17``
  are ints, ``true``/``false`` (any case form of the spec) are booleans,
  ``~``/``null``/empty are null, and ``yes``/``no``/``on``/``off`` are plain
  strings. Quoted and block scalars are always strings.
- **Only the core tags** ``!!str !!int !!float !!bool !!null !!map !!seq`` are
  allowed; any other tag (``!!python/object/apply:os.system`` ...) is an error.
- Merge keys (``<<``) are an error: use ``extends``. Duplicate keys are an
  error at the second occurrence. Mapping keys are strings, except the integer
  years under ``anchors`` and ``initial_vintages``.
- Absurd input is refused with a clear message: files over 1 MiB, documents
  that expand (through aliases) to more than 100,000 values, and nesting deeper
  than 50 levels.

Composition
-----------
A top-level ``extends: parent.yaml`` (relative to the extending file) loads the
parent first and deep-merges the child into it: mappings merge key by key (the
child wins); the named lists ``demand.segments``, ``shocks`` and ``questions``
merge item by item on ``name`` (``{name: x, remove: true}`` deletes ``x``);
other lists are replaced whole. A distribution (a mapping with ``kind``, in the
parent or the child) is replaced whole, never merged; so is a path written in
another form than the parent's (``anchors``, ``start``/``end``,
``from``/``growth``), while two ``anchors`` paths merge year by year. ``--set dotted.key=value`` overrides apply afterwards; values are read
with the same YAML 1.2 rules, and list items are addressed by name or index.

Errors
------
Every problem found in one load is raised together as one
:class:`~simulator.errors.ScenarioError`, one line per problem, each
``file:line:col: dotted.key: message (got value)``. Positions follow every
value through ``extends`` (an error in a parent points into the parent) and
``--set`` (the file is shown as ``--set``, line 1, at the column of the value).
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import stat
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, Tag, ValidationError
from pydantic.fields import FieldInfo
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue
from pydantic_core import CoreSchema

from simulator.errors import CrossFieldError, Problem, ScenarioError
from simulator.schema.paths import PATH_TAGS, path_form
from simulator.schema.scenario import Scenario

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_VALUES",
    "Resolved",
    "dump_yaml",
    "load_scenario",
    "resolve_scenario",
    "scenario_json_schema",
    "write_json_schema",
]

MAX_FILE_BYTES = 1 << 20
"""Largest scenario file read. [byte]"""
MAX_VALUES = 100_000
"""Most values (keys, scalars, mappings, lists; aliases counted each time) in a file."""
MAX_DEPTH = 50
"""Deepest nesting of mappings and lists in a file."""

OVERRIDE_FILE = "--set"
"""File name shown for positions that come from a ``--set`` override."""

NAMED_LISTS: frozenset[tuple[str, ...]] = frozenset(
    {("demand", "segments"), ("shocks",), ("questions",)}
)
"""Lists whose items are merged by ``name`` under ``extends`` and addressed by name."""

_YEAR_KEYED = frozenset({"anchors", "initial_vintages"})
_TOP_EXTRA = ("extends",)

_CORE = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_CORE + t for t in ("str", "int", "float", "bool", "null"))
_MAP, _SEQ = _CORE + "map", _CORE + "seq"
_PLAIN = "?plain"  # what our resolver gives plain scalars; resolved here by YAML 1.2 rules

_NULL_RE = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL_RE = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT_RE = re.compile(r"^[-+]?[0-9]+$")
_OCT_RE = re.compile(r"^0o[0-7]+$")
_HEX_RE = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT_RE = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF_RE = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_NAN_RE = re.compile(r"^\.(?:nan|NaN|NAN)$")

Pos = tuple[str, int, int]
"""A position: file, line and column (both 1-based)."""


def _loader_class(base: type[Any]) -> type[Any]:
    """A PyYAML loader on ``base`` that composes only; plain scalars get tag ``?plain``."""

    def resolve(self: Any, kind: Any, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            return _PLAIN
        return str(base.resolve(self, kind, value, implicit))

    return type("_Loader", (base,), {"resolve": resolve})


_Loader = _loader_class(getattr(yaml, "CSafeLoader", yaml.SafeLoader))
"""libyaml's composer when PyYAML was built with it (its marks are as exact), else PyYAML's."""


class _Dumper(yaml.SafeDumper):
    """Quotes exactly the strings that YAML 1.2 would read as something else."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            resolved = _resolve_plain(value)
            return {
                type(None): _NULL,
                bool: _BOOL,
                int: _INT,
                float: _FLOAT,
            }.get(type(resolved), _STR)
        return str(super().resolve(kind, value, implicit))  # type: ignore[no-untyped-call]


# --- located values ------------------------------------------------------------------------


@dataclass(eq=False)
class _Val:
    """A value with where it was written (its own start and, in a mapping, its key's)."""

    value: Any  # dict[str | int, _Val] | list[_Val] | str | int | float | bool | None
    pos: Pos
    key_pos: Pos | None = None

    @property
    def where(self) -> Pos:
        return self.key_pos or self.pos


class _Failed(Exception):
    """Internal: problems that stop the load (raised as one ScenarioError at the end)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(len(problems))


class _Abort(Exception):
    """Internal: stop building the current document."""


def _problem(pos: Pos, key: str, message: str) -> Problem:
    return Problem(pos[0], pos[1], pos[2], key, message)


@dataclass(frozen=True)
class Resolved:
    """A scenario after ``extends`` and overrides, before schema validation.

    Attributes
    ----------
    data : dict
        The merged scenario as plain Python values (``extends`` removed).
    files : tuple of str
        The files read, the named file first, then its parent, grandparent...
    positions : dict
        Dotted key (list items by ``name`` where they have one, else by index;
        ``""`` for the whole document) to ``(file, line, column)``, 1-based. A
        key in a mapping points at the key, a list item at the item.
    """

    data: dict[str, Any]
    files: tuple[str, ...]
    positions: dict[str, Pos] = field(repr=False)


# --- YAML 1.2 scalars ----------------------------------------------------------------------


def _resolve_plain(text: str) -> Any:
    """A plain scalar's value under the YAML 1.2 core schema."""
    if _NULL_RE.match(text):
        return None
    if _BOOL_RE.match(text):
        return text.lower() == "true"
    if _INT_RE.match(text):
        return int(text)  # may raise ValueError (too many digits)
    if _OCT_RE.match(text):
        return int(text, 0)
    if _HEX_RE.match(text):
        return int(text, 0)
    if _FLOAT_RE.match(text):
        return float(text)
    if _INF_RE.match(text):
        return -math.inf if text.startswith("-") else math.inf
    if _NAN_RE.match(text):
        return math.nan
    return text


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(_CORE) if tag.startswith(_CORE) else tag


def _kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _fmt_value(value: Any) -> str:
    """A scalar as it would be written in YAML, shortened."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "...'"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# --- composing and building ----------------------------------------------------------------


def _mark_pos(file: str, mark: Any, col_offset: int) -> Pos:
    if mark is None:
        return (file, 1, 1 + col_offset)
    line, col = int(mark.line), int(mark.column)
    if file == OVERRIDE_FILE and line > 0:  # past the end of a one-line override
        return (file, 1, 1)
    return (file, line + 1, col + 1 + (col_offset if line == 0 else 0))


def _compose(text: str, file: str, col_offset: int = 0) -> yaml.Node | None:
    """Compose one YAML document, refusing deep nesting before PyYAML recurses into it."""
    try:
        depth = 0
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    pos = _mark_pos(file, event.start_mark, col_offset)
                    msg = f"nested more than {MAX_DEPTH} levels deep"
                    raise _Failed([_problem(pos, "", msg)])
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                depth -= 1
        node: yaml.Node | None = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = _mark_pos(file, mark, col_offset)
        msg = str(exc.problem or exc.context or "invalid YAML")
        if exc.context and exc.context_mark is not None and exc.problem:
            cpos = _mark_pos(file, exc.context_mark, col_offset)
            msg += f" ({exc.context} at line {cpos[1]}, column {cpos[2]})"
        if mark is not None and _char_at(text, mark) == "\t":
            msg += "; tabs are not allowed in indentation, use spaces"
        raise _Failed([_problem(pos, "", msg)]) from None
    except yaml.YAMLError as exc:  # ReaderError: a character YAML does not allow
        index = getattr(exc, "position", 0) or 0
        line = text.count("\n", 0, index)
        col = index - (text.rfind("\n", 0, index) + 1)
        pos = (file, line + 1, col + 1 + (col_offset if line == 0 else 0))
        reason = getattr(exc, "reason", None) or "invalid YAML"
        raise _Failed([_problem(pos, "", f"{reason}")]) from None
    except RecursionError:
        raise _Failed([_problem((file, 1, 1), "", "nested too deeply")]) from None
    return node


def _char_at(text: str, mark: Any) -> str:
    lines = text.split("\n")
    line, col = int(mark.line), int(mark.column)
    if 0 <= line < len(lines) and 0 <= col < len(lines[line]):
        return lines[line][col]
    return ""


class _Builder:
    """Plain located values from a composed node tree (never constructs objects)."""

    def __init__(self, file: str, col_offset: int = 0) -> None:
        self.file = file
        self.col_offset = col_offset
        self.count = 0
        self.problems: list[Problem] = []

    def pos(self, node: yaml.Node) -> Pos:
        return _mark_pos(self.file, node.start_mark, self.col_offset)

    def build(self, node: yaml.Node, parent_key: Any = None) -> _Val | None:
        try:
            return self._node(node, 1, (), parent_key)
        except _Abort:
            return None

    def _tick(self, node: yaml.Node) -> None:
        self.count += 1
        if self.count > MAX_VALUES:
            msg = (
                f"the document expands to more than {MAX_VALUES:,} values "
                "(aliases repeated many times?)"
            )
            self.problems.append(_problem(self.pos(node), "", msg))
            raise _Abort

    def _node(
        self, node: yaml.Node, depth: int, path: tuple[str, ...], parent_key: Any
    ) -> _Val | None:
        self._tick(node)
        key = ".".join(path)
        if isinstance(node, yaml.ScalarNode):
            try:
                return _Val(self._scalar(node), self.pos(node))
            except ValueError as exc:
                self.problems.append(_problem(self.pos(node), key, str(exc)))
                return None
        if depth > MAX_DEPTH:
            msg = f"nested more than {MAX_DEPTH} levels deep (through aliases)"
            self.problems.append(_problem(self.pos(node), key, msg))
            raise _Abort
        if node.tag not in (_MAP, _SEQ):
            msg = (
                f"tag {_short_tag(node.tag)!r} is not allowed; scenario files hold plain "
                "data only (strings, numbers, booleans, null, mappings and lists)"
            )
            self.problems.append(_problem(self.pos(node), key, msg))
            return None
        if isinstance(node, yaml.SequenceNode):
            items: list[_Val] = []
            for i, item in enumerate(node.value):
                built = self._node(item, depth + 1, (*path, _node_label(item, i)), None)
                if built is not None:
                    items.append(built)
            return _Val(items, self.pos(node))
        if isinstance(node, yaml.MappingNode):
            return _Val(self._mapping(node, depth, path, parent_key), self.pos(node))
        return None  # pragma: no cover - PyYAML has no other node kinds

    def _mapping(
        self, node: yaml.MappingNode, depth: int, path: tuple[str, ...], parent_key: Any
    ) -> dict[str | int, _Val]:
        out: dict[str | int, _Val] = {}
        first_line: dict[str | int, int] = {}
        where = ".".join(path)
        for key_node, value_node in node.value:
            self._tick(key_node)
            kpos = self.pos(key_node)
            if (
                isinstance(key_node, yaml.ScalarNode)
                and key_node.tag == _PLAIN
                and key_node.value == "<<"
            ):
                msg = "merge keys (<<) are not supported; use extends to share settings"
                self.problems.append(_problem(kpos, _join(where, "<<"), msg))
                continue
            key = self._key(key_node, kpos, where, parent_key)
            if key is None:
                continue
            child = ".".join((*path, str(key)))
            if key in out:
                msg = f"duplicate key {key!r} (first at line {first_line[key]})"
                self.problems.append(_problem(kpos, child, msg))
                continue
            built = self._node(value_node, depth + 1, (*path, str(key)), key)
            if built is None:
                continue
            built.key_pos = kpos
            out[key] = built
            first_line[key] = kpos[1]
        return out

    def _key(self, node: yaml.Node, pos: Pos, where: str, parent_key: Any) -> str | int | None:
        if not isinstance(node, yaml.ScalarNode):
            kind = "a mapping" if isinstance(node, yaml.MappingNode) else "a list"
            self.problems.append(_problem(pos, where, f"a key must be a string, not {kind}"))
            return None
        try:
            key = self._scalar(node)
        except ValueError as exc:
            self.problems.append(_problem(pos, where, str(exc)))
            return None
        if isinstance(key, str):
            return key
        if isinstance(key, int) and not isinstance(key, bool) and parent_key in _YEAR_KEYED:
            return key
        msg = (
            f"keys must be strings; only the years under anchors and initial_vintages "
            f"may be numbers (got {_kind_of(key)} key {_fmt_value(key)})"
        )
        self.problems.append(_problem(pos, _join(where, str(node.value)), msg))
        return None

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        tag, text = node.tag, str(node.value)
        if tag == _STR:
            return text
        if tag == _PLAIN:
            try:
                return _resolve_plain(text)
            except ValueError:
                msg = f"integer has too many digits (got {len(text)} characters)"
                raise ValueError(msg) from None
        if tag in (_INT, _FLOAT, _BOOL, _NULL):
            try:
                value = _resolve_plain(text)
            except ValueError:
                value = text
            ok = {
                _INT: isinstance(value, int) and not isinstance(value, bool),
                _FLOAT: isinstance(value, int | float) and not isinstance(value, bool),
                _BOOL: isinstance(value, bool),
                _NULL: value is None,
            }[tag]
            if not ok:
                msg = f"{text!r} is not a valid {_short_tag(tag)}"
                raise ValueError(msg)
            return float(value) if tag == _FLOAT else value
        msg = (
            f"tag {_short_tag(tag)!r} is not allowed; scenario files hold plain data only "
            "(strings, numbers, booleans, null, mappings and lists)"
        )
        raise ValueError(msg)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _node_label(node: yaml.Node, index: int) -> str:
    """A list item's name in dotted keys: its ``name`` if it has a plain one, else its index."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if (
                isinstance(key_node, yaml.ScalarNode)
                and key_node.value == "name"
                and isinstance(value_node, yaml.ScalarNode)
                and value_node.tag in (_PLAIN, _STR)
                and _usable_name(value_node.value)
            ):
                return str(value_node.value)
    return str(index)


def _usable_name(name: Any) -> bool:
    return isinstance(name, str) and bool(name) and "." not in name and not name.isdigit()


# --- files and extends ---------------------------------------------------------------------


def _read_text(path: Path, label: str) -> str:
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # /dev/zero, a FIFO: unbounded or blocking
            msg = "not a regular file; a scenario is a YAML file"
            raise _Failed([_problem((label, 1, 1), "", msg)])
        if info.st_size > MAX_FILE_BYTES:
            msg = (
                f"file is larger than 1 MiB (got {info.st_size:,} bytes); "
                "a scenario file is a few kilobytes"
            )
            raise _Failed([_problem((label, 1, 1), "", msg)])
        with path.open("rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the name
        msg = f"cannot read the file: {getattr(exc, 'strerror', None) or exc}"
        raise _Failed([_problem((label, 1, 1), "", msg)]) from None
    if len(data) > MAX_FILE_BYTES:  # grew between stat and read
        msg = f"file is larger than 1 MiB (got {len(data):,} bytes)"
        raise _Failed([_problem((label, 1, 1), "", msg)])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        msg = f"the file is not valid UTF-8 (byte 0x{data[exc.start]:02x}); save it as UTF-8"
        raise _Failed([_problem((label, line, col), "", msg)]) from None


def _load_file(path: Path, label: str) -> tuple[_Val | None, list[Problem]]:
    """One file's root mapping (``None`` if unusable) and the problems found in it."""
    text = _read_text(path, label)
    node = _compose(text, label)
    if node is None or (
        isinstance(node, yaml.ScalarNode) and node.tag == _PLAIN and _NULL_RE.match(node.value)
    ):
        raise _Failed([_problem((label, 1, 1), "", "file is empty")])
    builder = _Builder(label)
    if not isinstance(node, yaml.MappingNode) or node.tag != _MAP:
        root = builder.build(node)
        if builder.problems:
            raise _Failed(builder.problems)
        got = _kind_of(root.value if root is not None else None)
        msg = f"the top level must be a mapping of keys to values (got {got})"
        raise _Failed([_problem(builder.pos(node), "", msg)])
    root = builder.build(node)
    if root is not None:
        root.pos = (label, 1, 1)
    return root, builder.problems


def read_yaml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """One scenario file as plain data, read by jevons' YAML rules, without ``extends``.

    Parameters
    ----------
    path : str or PathLike
        A YAML file.

    Returns
    -------
    dict
        The file's top-level mapping, as written (``extends`` not followed).

    Raises
    ------
    ScenarioError
        If the file cannot be read or is not valid YAML by these rules.
    """
    label = str(path)
    try:
        root, problems = _load_file(Path(path), label)
    except _Failed as exc:
        raise ScenarioError(exc.problems) from None
    if problems or root is None:
        raise ScenarioError(problems or [_problem((label, 1, 1), "", "file is empty")])
    data: dict[str, Any] = _plain(root)
    return data


def _resolve_file(path: Path, label: str, chain: list[tuple[str, str]], files: list[str]) -> _Val:
    files.append(label)
    root, problems = _load_file(path, label)
    if root is None:
        raise _Failed(problems)
    ext = root.value.pop("extends", None)
    if ext is None:
        if problems:
            raise _Failed(problems)
        return root
    parent_name = ext.value
    if not isinstance(parent_name, str) or not parent_name.strip():
        got = (
            f" (got {_fmt_value(parent_name)})" if not isinstance(parent_name, dict | list) else ""
        )
        msg = f"extends must name a scenario file, relative to this one{got}"
        raise _Failed([*problems, _problem(ext.where, "extends", msg)])
    parent_path = path.parent / parent_name
    parent_label = os.path.normpath(Path(label).parent / parent_name)
    try:
        real = os.path.realpath(parent_path)
        is_file, exists = parent_path.is_file(), parent_path.exists()
    except (OSError, ValueError) as exc:  # e.g. a NUL byte in the name
        msg = f"cannot use {parent_name!r} as a parent scenario: {exc}"
        raise _Failed([*problems, _problem(ext.where, "extends", msg)]) from None
    names = [lab for _, lab in chain]
    if real in (r for r, _ in chain):
        start = next(i for i, (r, _) in enumerate(chain) if r == real)
        cycle = " -> ".join([*names[start:], parent_label])
        raise _Failed([*problems, _problem(ext.where, "extends", f"extends cycle: {cycle}")])
    if not is_file:
        what = "is not a file" if exists else "does not exist"
        msg = f"parent scenario {parent_name!r} {what} (looked for {parent_label})"
        raise _Failed([*problems, _problem(ext.where, "extends", msg)])
    try:
        parent = _resolve_file(parent_path, parent_label, [*chain, (real, parent_label)], files)
    except _Failed as exc:
        raise _Failed([*problems, *exc.problems]) from None
    if problems:
        raise _Failed(problems)
    merge_problems: list[Problem] = []
    merged = _merge_entries(parent, root, (), merge_problems)
    if merge_problems:
        raise _Failed(merge_problems)
    merged.pos = root.pos
    return merged


# --- merging -------------------------------------------------------------------------------


def _form(mapping: dict[Any, _Val]) -> Any:
    """How a mapping is written: a distribution kind or a path form (``None``: neither)."""
    if "kind" in mapping:
        return ("kind", _hashable(mapping["kind"].value))
    form = path_form(mapping)  # the schema's own rule, so merging and validation agree
    return None if form == "<constant>" else form


def _hashable(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | None) else repr(value)


def _merge(parent: _Val, child: _Val, path: tuple[Any, ...], problems: list[Problem]) -> _Val:
    p, c = parent.value, child.value
    if isinstance(p, dict) and isinstance(c, dict):
        if "kind" in c or "kind" in p:
            return child  # a distribution is replaced whole, never merged key by key
        if _form(c) != _form(p):
            return child  # another path form (anchors, start/end, from/growth): replace
        return _merge_entries(parent, child, path, problems)
    if isinstance(p, list) and isinstance(c, list) and path in NAMED_LISTS:
        return _Val(_merge_named(p, c, path, problems), child.pos, child.key_pos)
    return child


def _merge_entries(
    parent: _Val, child: _Val, path: tuple[Any, ...], problems: list[Problem]
) -> _Val:
    merged: dict[Any, _Val] = dict(parent.value)
    for key, value in child.value.items():
        sub = (*path, key)
        if key in merged:
            merged[key] = _merge(merged[key], value, sub, problems)
        elif sub in NAMED_LISTS and isinstance(value.value, list):
            merged[key] = _Val(
                _merge_named([], value.value, sub, problems), value.pos, value.key_pos
            )
        else:
            merged[key] = value
    return _Val(merged, child.pos, child.key_pos or parent.key_pos)


def _item_name(item: _Val) -> str | None:
    if isinstance(item.value, dict):
        name = item.value.get("name")
        if name is not None and isinstance(name.value, str):
            return name.value
    return None


def _merge_named(
    parent: list[_Val], child: list[_Val], path: tuple[Any, ...], problems: list[Problem]
) -> list[_Val]:
    out = list(parent)
    where = ".".join(map(str, path))
    for item in child:
        name = _item_name(item)
        if name is None:
            out.append(item)
            continue
        index = next((i for i, old in enumerate(out) if _item_name(old) == name), None)
        remove = item.value.get("remove")
        if remove is not None and remove.value is True:
            if index is None:
                msg = f"cannot remove {name!r}: the parent scenario has no item of that name"
                problems.append(_problem(remove.where, f"{where}.{name}.remove", msg))
            else:
                del out[index]
            continue
        if remove is not None and remove.value is False:
            kept = {k: v for k, v in item.value.items() if k != "remove"}
            item = _Val(kept, item.pos)  # noqa: PLW2901 - the same item, without `remove`
        if index is None:
            out.append(item)
        else:
            out[index] = _merge_entries(out[index], item, (*path, name), problems)
    return out


# --- overrides -----------------------------------------------------------------------------


def _apply_override(root: _Val, text: str) -> list[Problem]:
    """Apply one ``dotted.key=value`` override in place; return its problems.

    Problems with the override itself (its form, or a key that leads nowhere) are
    reported with the key ``--set <the override>`` at the column of the offending part.
    """
    label = f"{OVERRIDE_FILE} {text}"
    key_text, eq, value_text = text.partition("=")
    segments = key_text.split(".")
    starts = [0]
    for seg in segments[:-1]:
        starts.append(starts[-1] + len(seg) + 1)
    if not eq or not key_text.strip() or any(not s.strip() for s in segments):
        bad = next((i for i, s in enumerate(segments) if not s.strip()), None)
        column = 1 if not eq or bad is None else starts[bad] + 1
        msg = "expected dotted.key=value, e.g. sampling.samples=5000"
        return [Problem(OVERRIDE_FILE, 1, column, label, msg)]
    value_pos: Pos = (OVERRIDE_FILE, 1, len(key_text) + 2)
    try:
        node = _compose(value_text, OVERRIDE_FILE, col_offset=len(key_text) + 1)
    except _Failed as exc:
        return [Problem(p.file, p.line, p.column, label, p.message) for p in exc.problems]
    new = _Val(None, value_pos)
    if node is not None:
        builder = _Builder(OVERRIDE_FILE, col_offset=len(key_text) + 1)
        built = builder.build(node, segments[-1].strip())
        if builder.problems or built is None:
            return [Problem(p.file, p.line, p.column, label, p.message) for p in builder.problems]
        new = built
    new.key_pos = new.pos = value_pos

    current = root
    for i, raw_seg in enumerate(segments):
        seg = raw_seg.strip()
        here = (OVERRIDE_FILE, 1, starts[i] + 1 + len(raw_seg) - len(raw_seg.lstrip()))
        last = i == len(segments) - 1
        done = ".".join(s.strip() for s in segments[:i]) or "the scenario"
        if current.value is None:  # an empty value (`adoption:`) becomes a mapping
            current.value = {}
        container = current.value
        if isinstance(container, dict):
            key: str | int = seg
            if i and segments[i - 1].strip() in _YEAR_KEYED and _INT_RE.match(seg):
                key = int(seg)
            if last:
                container[key] = new
            elif key not in container:
                container[key] = _Val({}, value_pos, value_pos)
            current = container[key]
        elif isinstance(container, list):
            index = next((j for j, it in enumerate(container) if _item_name(it) == seg), None)
            if index is None and re.fullmatch(r"-[0-9]+", seg):
                msg = (
                    f"list items are counted from 0 (the first) to {len(container) - 1} "
                    f"(the last) in {done}; negative indices are not supported (got {seg})"
                )
                return [_problem(here, label, msg)]
            if index is None and re.fullmatch(r"[0-9]+", seg):
                j = int(seg)
                if j < len(container):
                    index = j
            if index is None:
                names = [n for n in map(_item_name, container) if n is not None]
                have = f" (have: {', '.join(names)})" if names else ""
                msg = f"{done} has no item named {seg!r}{have}"
                if re.fullmatch(r"[0-9]+", seg):
                    msg = f"{done} has no item {seg} (it has {len(container)})"
                return [_problem(here, label, msg)]
            if last:
                container[index] = new
            current = container[index]
        else:
            msg = (
                f"cannot set {seg!r} inside {done}: it is {_kind_of(container)} "
                f"({_fmt_value(container)}), not a mapping or list"
            )
            return [_problem(here, label, msg)]
    return []


# --- plain data and positions --------------------------------------------------------------


def _plain(val: _Val) -> Any:
    v = val.value
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


def _positions(val: _Val, prefix: str, out: dict[str, Pos]) -> None:
    v = val.value
    if isinstance(v, dict):
        for k, x in v.items():
            key = f"{prefix}.{k}" if prefix else str(k)
            out.setdefault(key, x.where)
            _positions(x, key, out)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            name = _item_name(x)
            label = name if name is not None and _usable_name(name) else str(i)
            key = f"{prefix}.{label}" if prefix else label
            out.setdefault(key, x.pos)
            _positions(x, key, out)


def _label(item: Any, index: int) -> str:
    if isinstance(item, dict) and _usable_name(item.get("name")):
        return str(item["name"])
    return str(index)


def resolve_scenario(path: str | os.PathLike[str], overrides: Sequence[str] = ()) -> Resolved:
    """Read a scenario file, follow ``extends`` and apply overrides; do not validate.

    Parameters
    ----------
    path : str or os.PathLike
        The scenario file.
    overrides : sequence of str
        ``dotted.key=value`` overrides (``--set``), applied in order after ``extends``.

    Returns
    -------
    Resolved
        The merged plain data, the files read and every key's position.

    Raises
    ------
    ScenarioError
        If a file cannot be read, is not valid YAML, uses a forbidden construct, or
        an ``extends`` or override cannot be applied; every problem found is listed.
    """
    label = os.fspath(path)
    files: list[str] = []
    try:
        try:
            try:
                real = os.path.realpath(label)
            except (OSError, ValueError):
                real = label
            root = _resolve_file(Path(label), label, [(real, label)], files)
        except RecursionError:  # a very long extends chain
            raise _Failed(
                [_problem((label, 1, 1), "extends", "extends chain is too long")]
            ) from None
        problems: list[Problem] = []
        for text in overrides:
            problems += _apply_override(root, text)
        if problems:
            raise _Failed(problems)
    except _Failed as exc:
        raise ScenarioError(_sorted(exc.problems, files)) from None
    positions: dict[str, Pos] = {"": root.pos}
    _positions(root, "", positions)
    data = _plain(root)
    return Resolved(data=data, files=tuple(files), positions=positions)


def load_scenario(path: str | os.PathLike[str], overrides: Sequence[str] = ()) -> Scenario:
    """Load and validate a scenario file.

    Parameters
    ----------
    path : str or os.PathLike
        The scenario file (YAML, read with YAML 1.2 scalars; see the module notes).
    overrides : sequence of str
        ``dotted.key=value`` overrides (``--set``), applied after ``extends``; list
        items are addressed by ``name`` or index, e.g.
        ``demand.segments.chat.elasticity="1 to 2"``.

    Returns
    -------
    Scenario
        The validated scenario.

    Raises
    ------
    ScenarioError
        With one ``file:line:col: dotted.key: message`` line per problem found.
    """
    resolved = resolve_scenario(path, overrides)
    try:
        return Scenario.model_validate(resolved.data)
    except ValidationError as exc:
        problems = _validation_problems(exc, resolved)
    except RecursionError:
        problems = [_problem((resolved.files[0], 1, 1), "", "scenario is nested too deeply")]
    except Exception as exc:  # noqa: BLE001 - a validator bug must still not leak a traceback
        msg = (
            f"the scenario could not be validated ({type(exc).__name__}: {exc}); "
            "this is a bug in jevons, please report it with this file"
        )
        problems = [_problem((resolved.files[0], 1, 1), "", msg)]
    raise ScenarioError(_sorted(problems, list(resolved.files))) from None


# --- pydantic errors onto YAML keys --------------------------------------------------------


_LINE_BREAKS = re.compile("[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def _one_line(text: str) -> str:
    """Escape line breaks, so each problem stays on one line of the error message."""
    return _LINE_BREAKS.sub(lambda m: repr(m.group())[1:-1], text)


def _sorted(problems: list[Problem], files: list[str]) -> list[Problem]:
    """Problems in file order, each on one line, those in a parent naming the extends chain."""
    rank = {f: i for i, f in enumerate(files)}
    clean = [
        Problem(
            p.file,
            p.line,
            p.column,
            _one_line(p.key),
            _one_line(p.message),
            tuple(files[: rank[p.file] + 1]) if rank.get(p.file, 0) > 0 else (),
        )
        for p in problems
    ]
    unique = list(dict.fromkeys(clean))
    return sorted(unique, key=lambda p: (rank.get(p.file, len(rank)), p.line, p.column))


def _internal(seg: Any) -> bool:
    """A pydantic loc segment that is not a YAML key (validator wrappers, dict keys)."""
    return isinstance(seg, str) and (
        seg in PATH_TAGS
        or seg == "[key]"
        or seg.startswith(("function-", "literal[", "lax-", "json-or-python"))
        or seg in ("float", "int", "str", "bool", "nullable", "union")
    )


def _yaml_path(raw: Any, loc: tuple[Any, ...]) -> tuple[list[Any], bool]:
    """The YAML keys a pydantic loc names, and whether the last one is missing."""
    path: list[Any] = []
    node = raw
    tagged: Any = None  # the mapping whose `kind` tag the loc already passed
    for i, seg in enumerate(loc):
        if isinstance(node, dict):
            if node.get("kind") == seg and isinstance(seg, str) and node is not tagged:
                tagged = node
                continue  # a distribution's union tag (before keys: Beta has a key `beta`)
            key = seg
            if key not in node and isinstance(seg, str) and _INT_RE.match(seg):
                key = int(seg)
            if key in node:
                node = node[key]
                path.append(key)
                continue
            if _internal(seg):
                continue  # a union tag or validator wrapper, not a YAML key
            rest = loc[i + 1 :]
            if rest and (rest[0] in node or rest[0] == node.get("kind") or _internal(rest[0])):
                continue  # a wrapper the schema added (a bare distribution as `long`)
            path.append(seg)
            return path, True
        if isinstance(node, list):
            if isinstance(seg, int) and 0 <= seg < len(node):
                node = node[seg]
                path.append(seg)
                continue
            if _internal(seg):
                continue
            path.append(seg)
            return path, True
        break  # a scalar: the rest of the loc is the schema's own rewriting of it
    return path, False


def _display(raw: Any, path: Sequence[Any]) -> str:
    """Dotted key with list items named by ``name`` where they have one."""
    parts: list[str] = []
    node = raw
    for seg in path:
        if isinstance(node, list) and isinstance(seg, int) and 0 <= seg < len(node):
            parts.append(_label(node[seg], seg))
            node = node[seg]
        else:
            parts.append(str(seg))
            node = node.get(seg) if isinstance(node, dict) else None
    return ".".join(parts)


def _lookup(positions: Mapping[str, Pos], key: str) -> Pos:
    parts = key.split(".") if key else []
    while parts:
        found = positions.get(".".join(parts))
        if found is not None:
            return found
        parts.pop()
    return positions[""]


def _sub_key(raw: Any, path: list[Any], message: str) -> tuple[list[Any], str]:
    """Move ``"start: must be > 0"`` on a path down to its ``start`` key, if it exists."""
    m = re.match(r"^([A-Za-z_][\w]*(?:\.\w+)*): (.+)$", message, re.DOTALL)
    if m is None:
        return path, message
    node = raw
    for seg in path:
        node = node[seg] if isinstance(node, dict | list) else None
    sub: list[Any] = []
    for part in m.group(1).split("."):
        if not isinstance(node, dict):
            return path, message
        key: Any = int(part) if part.isdigit() and int(part) in node else part
        if key not in node:
            return path, message
        node = node[key]
        sub.append(key)
    return [*path, *sub], m.group(2)


_EXPECTED: dict[str, str] = {
    "dict_type": "a mapping of keys to values",
    "model_type": "a mapping of keys to values",
    "model_attributes_type": "a mapping of keys to values",
    "dataclass_type": "a mapping of keys to values",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "text (a string)",
    "finite_number": "a finite number",
}
"""What a value must be, by pydantic error type, in the scenario language's words."""

_BOUNDS = {
    "greater_than": ("gt", ">"),
    "greater_than_equal": ("ge", ">="),
    "less_than": ("lt", "<"),
    "less_than_equal": ("le", "<="),
}
_NUMBERISH = re.compile(r"^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$")


def _got(value: Any) -> str:
    """``", got a string ('2024')"``: what was written instead."""
    kind = _kind_of(value)
    if value is None or isinstance(value, dict | list):
        return f"got {kind}"
    return f"got {kind} ({_fmt_value(value)})"


def _expected(err: Any) -> str | None:
    """What the value must be (``"a whole number"``), if the error is about its type."""
    kind = str(err["type"])
    if kind in _EXPECTED:
        return _EXPECTED[kind]
    if kind == "literal_error":
        expected = str((err.get("ctx") or {}).get("expected", ""))
        return expected if " or " not in expected else f"one of {expected}"
    return None


def _reworded(err: Any) -> str | None:
    """Pydantic's message about a value's type or bounds, in the scenario language's words."""
    kind, ctx, value = str(err["type"]), err.get("ctx") or {}, err.get("input")
    if kind in _BOUNDS and _BOUNDS[kind][0] in ctx:
        bound, op = _BOUNDS[kind]
        limit = ctx[bound]
        if isinstance(limit, float) and limit.is_integer():
            limit = int(limit)
        return f"must be {op} {limit} (got {_fmt_value(value)})"
    if kind in ("too_short", "too_long") and isinstance(value, list | dict):
        least = "at least" if kind == "too_short" else "at most"
        n = ctx.get("min_length" if kind == "too_short" else "max_length")
        what = (
            ("item" if isinstance(value, list) else "entry")
            if n == 1
            else ("items" if isinstance(value, list) else "entries")
        )
        return f"must have {least} {n} {what} (got {len(value)})"
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == r"^[A-Za-z][A-Za-z0-9_-]*$":
        return f"must be a name: a letter, then letters, digits, '_' or '-' (got {value!r})"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters (got {len(str(value))})"
    if kind == "union_tag_invalid":
        tags = [t.strip(" '") for t in str(ctx.get("expected_tags", "")).split(",")]
        return f"unknown kind {ctx.get('tag')!r}; one of {', '.join(tags)}" + _did_you_mean(
            str(ctx.get("tag")), tags
        )
    expected = _expected(err)
    if expected is None:
        return None
    message = f"must be {expected}, {_got(value)}"
    if isinstance(value, str) and _NUMBERISH.match(value) and "number" in expected:
        message += "; write numbers without quotes"
    return message


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _merge_alternatives(problems: list[Problem], alternatives: set[int]) -> list[Problem]:
    """One problem per key for a value that fits none of a union's types."""
    out: list[Problem] = []
    for i, p in enumerate(problems):
        prev = out[-1] if out else None
        if (
            i in alternatives
            and prev is not None
            and (i - 1) in alternatives
            and prev.key == p.key
            and (prev.file, prev.line, prev.column) == (p.file, p.line, p.column)
        ):
            head, _, got = prev.message.partition(", got ")
            this = p.message.partition(", got ")[0].removeprefix("must be ")
            out[-1] = Problem(p.file, p.line, p.column, p.key, f"{head} or {this}, got {got}")
            continue
        out.append(p)
    return out


def _validation_problems(exc: ValidationError, resolved: Resolved) -> list[Problem]:
    data = resolved.data
    out: list[Problem] = []
    alternatives: set[int] = set()
    for err in exc.errors(include_url=False):
        ctx = err.get("ctx") or {}
        cause = ctx.get("error")
        if isinstance(cause, CrossFieldError):
            for key, message in cause.problems:
                out.append(_problem(_lookup(resolved.positions, key), key, message))
            continue
        loc = tuple(err["loc"])
        path, missing = _yaml_path(data, loc)
        message = str(err["msg"]).removeprefix("Value error, ")
        if not missing:
            path, message = _sub_key(data, path, message)
        key = _display(data, path)
        value = err.get("input")
        reworded = _reworded(err)
        if err["type"] == "extra_forbidden":
            message = "unknown key" + _suggest(loc)
        elif err["type"] == "missing":
            message = "required key is missing"
        elif reworded is not None:
            message = reworded
            if _expected(err) is not None:
                alternatives.add(len(out))
        elif isinstance(value, str | int | float | bool | None) and "(got " not in message:
            message += f" (got {_fmt_value(value)})"
        out.append(_problem(_lookup(resolved.positions, key), key, message))
    return _merge_alternatives(out, alternatives)


def _suggest(loc: tuple[Any, ...]) -> str:
    """``"; did you mean 'X'?"`` for an unknown key, from the model at its location."""
    word = loc[-1]
    if not isinstance(word, str):
        return ""
    model = _model_at(Scenario, loc[:-1])
    if model is None:
        return ""
    names = [info.alias or name for name, info in model.model_fields.items()]
    if model is Scenario:
        names += list(_TOP_EXTRA)
    close = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _unwrap(tp: Any) -> tuple[Any, list[Any]]:
    metadata: list[Any] = []
    while get_origin(tp) is Annotated:
        args = get_args(tp)
        tp, metadata = args[0], [*metadata, *args[1:]]
    return tp, metadata


def _tags(member: Any) -> set[str]:
    tp, metadata = _unwrap(member)
    tags = {str(m.tag) for m in metadata if isinstance(m, Tag)}
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        kind = tp.model_fields.get("kind")
        if kind is not None and get_origin(kind.annotation) is Literal:
            tags |= {str(a) for a in get_args(kind.annotation)}
    return tags


def _model_at(tp: Any, loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model that the (pydantic) location ``loc`` names inside ``tp``."""
    tp, _ = _unwrap(tp)
    if loc and _internal(loc[0]) and loc[0] not in PATH_TAGS:
        return _model_at(tp, loc[1:])
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        if not loc:
            return tp
        info = _field(tp, loc[0])
        return None if info is None else _model_at(info.annotation, loc[1:])
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        members = [m for m in get_args(tp) if m is not type(None)]
        if loc:
            for m in members:
                if loc[0] in _tags(m):
                    return _model_at(m, loc[1:])
        for m in members:
            found = _model_at(m, loc)
            if found is not None:
                return found
        return None
    if origin is list and loc and isinstance(loc[0], int):
        return _model_at(get_args(tp)[0], loc[1:])
    if origin is dict and loc:
        return _model_at(get_args(tp)[1], loc[1:])
    return None


def _field(model: type[BaseModel], name: Any) -> FieldInfo | None:
    for field_name, info in model.model_fields.items():
        if name in (field_name, info.alias):
            return info
    return None


# --- writing -------------------------------------------------------------------------------


def dump_yaml(data: Mapping[str, Any]) -> str:
    """Write resolved scenario data as YAML that loads back to the same values.

    Keys keep their order (the files' order, parents first, then what children and
    overrides added), so the output is deterministic. Floats are written with
    ``repr`` (shortest round-trip form, e.g. ``1.0e+15``), and strings that YAML 1.2
    would read as numbers, booleans or null are quoted.

    Parameters
    ----------
    data : mapping
        Plain data, e.g. :attr:`Resolved.data`.

    Returns
    -------
    str
        The YAML text.
    """
    return yaml.dump(
        _plain_copy(data),
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=100,
    )


def _plain_copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain_copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_copy(v) for v in value]
    return value


JSON_SCHEMA_DIALECT = "http://json-schema.org/draft-07/schema#"
"""The draft the scenario schema is written in: the newest that yaml-language-server (the
YAML support of VS Code and other editors) implements in full."""


class _Draft7(GenerateJsonSchema):
    """pydantic's JSON Schema generator, writing definitions where draft-07 keeps them.

    pydantic writes draft 2020-12. Of what it generates for the scenario models, two things
    differ in draft-07: definitions live under ``definitions``, not ``$defs`` (``$ref`` and
    the discriminator's mapping point there through ``ref_template``); and a ``$ref``
    ignores its siblings, so those that newer pydantic versions write next to a ``$ref``
    (a field's description and default) go beside an ``allOf`` holding it, as older
    versions wrote them.
    """

    schema_dialect = JSON_SCHEMA_DIALECT

    def generate(self, schema: CoreSchema, mode: JsonSchemaMode = "validation") -> JsonSchemaValue:
        """Generate the schema; move ``$defs`` to ``definitions``; wrap ``$ref`` with siblings."""
        generated = super().generate(schema, mode=mode)
        if "$defs" in generated:
            generated["definitions"] = generated.pop("$defs")
        return _lone_refs(generated)  # type: ignore[no-any-return]


def _lone_refs(node: Any) -> Any:
    """``{"$ref": r, **more}`` as ``{"allOf": [{"$ref": r}], **more}`` (draft-07 semantics)."""
    if isinstance(node, list):
        return [_lone_refs(x) for x in node]
    if not isinstance(node, dict):
        return node
    node = {k: _lone_refs(v) for k, v in node.items()}
    if "$ref" in node and len(node) > 1:
        ref = node.pop("$ref")
        return {"allOf": [{"$ref": ref}], **node}
    return node


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema (draft-07) of a scenario file, for editors and validators.

    Returns
    -------
    dict
        ``Scenario.model_json_schema()`` in draft-07, with ``$schema``, a title and the
        top-level ``extends`` key of a scenario file added; the top-level required keys
        are required only of a file without ``extends``. The short forms of a scalar
        parameter (a number, ``"LOW to HIGH"``) come from the schema's own annotations.
    """
    schema = Scenario.model_json_schema(
        ref_template="#/definitions/{model}", schema_generator=_Draft7
    )
    props = dict(schema.get("properties", {}))
    props["extends"] = {
        "type": "string",
        "title": "Extends",
        "description": "Parent scenario file, relative to this one; this file is "
        "deep-merged into it (segments, shocks and questions by name).",
    }
    schema["properties"] = props
    required = schema.pop("required", [])
    if required:  # a file that extends another may leave required keys to its parent
        schema["if"] = {"required": ["extends"]}
        schema["else"] = {"required": required}
    return {"$schema": JSON_SCHEMA_DIALECT, **schema, "title": "jevons scenario"}


def write_json_schema(path: str | os.PathLike[str]) -> None:
    """Write :func:`scenario_json_schema` to ``path`` as indented JSON.

    Parameters
    ----------
    path : str or os.PathLike
        Where to write, e.g. ``schema/scenario.schema.json``.
    """
    text = json.dumps(scenario_json_schema(), indent=2, ensure_ascii=False) + "\n"
    Path(path).write_text(text, encoding="utf-8")
