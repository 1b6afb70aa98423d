"""Hostile edits of the shipped scenarios: refused cleanly, or run to finite numbers.

Each example copies ``scenarios/`` to a scratch folder, makes one hostile edit to one file
(a deletion, a type swap, NaN or an infinity, a huge number, a value wrapped in a list or a
mapping, a mapping replaced by one of its values) and runs ``jevons run`` on that file or on
a shipped scenario that extends it. Invariants:

- the exit code is 0 (still a valid scenario) or 1 (refused, or a run that cannot give
  meaningful numbers), never anything else and never a traceback;
- when refused, every line of the message is located: ``file:line:col: key: message``
  (after the chain of files for a problem in a parent), or names the scenario file for a
  run that overflowed or ran out of memory;
- when it runs, nothing in the validated scenario is NaN, and no answer and no statistic of
  either variant is NaN.

Examples: the hypothesis profile's count (``ci``: 25, ``nightly``: 2,000).
"""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from simulator.cli import app
from simulator.errors import EXIT_SCENARIO_ERROR
from simulator.io import load_scenario, read_yaml

ROOT = Path(__file__).parents[2]
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))
LOCATED = re.compile(r"^(?:.+ extends .+: )?.+:\d+:\d+: ")
SUMMARY_LINE = re.compile(r"^\d+ problems? found\.$")

_DATA: dict[str, dict[str, Any]] = {p.name: read_yaml(p) for p in SHIPPED}
_PARENTS: dict[str, str] = {
    name: str(data["extends"]) for name, data in _DATA.items() if "extends" in data
}


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every position in a plain-data tree (mapping keys, list indices), depth first."""
    out: list[tuple[Any, ...]] = []
    items: list[tuple[Any, Any]] = []
    if isinstance(node, dict):
        items = list(node.items())
    elif isinstance(node, list):
        items = list(enumerate(node))
    for key, value in items:
        here = (*prefix, key)
        out.append(here)
        out.extend(_paths(value, here))
    return out


_HOSTILE_VALUES: list[Any] = [
    math.nan,
    math.inf,
    -math.inf,
    1e308,
    -1e308,
    10**400,
    -(10**30),
    0,
    -1,
    0.5,
    "2024",
    "not a number",
    "1 to 0",
    True,
    None,
    [],
    {},
]


@st.composite
def hostile_edits(draw: st.DrawFn) -> tuple[str, tuple[Any, ...], str, Any]:
    """(file, path in it, kind of edit, new value)."""
    name = draw(st.sampled_from(sorted(_DATA)))
    path = draw(st.sampled_from(_paths(_DATA[name])))
    kind = draw(st.sampled_from(["delete", "replace", "wrap_list", "wrap_map", "unwrap"]))
    value = draw(st.sampled_from(_HOSTILE_VALUES)) if kind == "replace" else None
    return name, path, kind, value


def _edit(data: Any, path: tuple[Any, ...], kind: str, value: Any) -> Any:
    data = json.loads(json.dumps(data))  # a deep copy (keys become strings; fixed below)
    data = _restore_int_keys(data)
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    old = parent[last]
    if kind == "delete":
        del parent[last]
    elif kind == "replace":
        parent[last] = value
    elif kind == "wrap_list":
        parent[last] = [old]
    elif kind == "wrap_map":
        parent[last] = {"value": old}
    elif isinstance(old, dict) and old:  # unwrap: a mapping becomes one of its values
        parent[last] = next(iter(old.values()))
    elif isinstance(old, list) and old:
        parent[last] = old[0]
    else:
        parent[last] = {"kind": old}
    return data


def _restore_int_keys(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            (int(k) if isinstance(k, str) and k.isdigit() else k): _restore_int_keys(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_restore_int_keys(v) for v in node]
    return node


def _has_nan(node: Any) -> bool:
    if isinstance(node, float):
        return math.isnan(node)
    if isinstance(node, dict):
        return any(_has_nan(v) for v in node.values())
    if isinstance(node, list | tuple):
        return any(_has_nan(v) for v in node)
    return False


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(edit=hostile_edits(), run_child=st.booleans())
# the cases of issue 11, always tried: a NaN threshold in a parent (once answered "P = 0"),
# a quoted year, an infinite growth of a chip path (once a raw numpy warning)
@example(edit=("base.yaml", ("questions", 0, "than"), "replace", math.nan), run_child=True)
@example(edit=("base.yaml", ("years", "base_year"), "replace", "2024"), run_child=False)
@example(edit=("deepseek.yaml", ("shocks", 0, "magnitude"), "replace", math.inf), run_child=False)
def test_hostile_edit_is_refused_cleanly_or_runs_to_finite_numbers(
    scratch: Path, edit: tuple[str, tuple[Any, ...], str, Any], run_child: bool
) -> None:
    name, path, kind, value = edit
    folder = scratch / "scenarios"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(ROOT / "scenarios", folder)
    mutant = _edit(_DATA[name], path, kind, value)
    text = yaml.safe_dump(mutant, sort_keys=False, allow_unicode=True)
    (folder / name).write_text(text, encoding="utf-8")
    children = sorted(c for c, p in _PARENTS.items() if p == name)
    target = folder / (children[0] if run_child and children else name)

    r = CliRunner().invoke(app, ["run", str(target), "-n", "16", "--seed", "3", "--json"])
    described = f"{name}: {kind} {'.'.join(map(str, path))} -> {value!r}\n{r.stderr}"
    assert r.exit_code in (0, EXIT_SCENARIO_ERROR), described
    assert r.exception is None or isinstance(r.exception, SystemExit), described
    assert "Traceback" not in r.stderr + r.stdout, described
    if r.exit_code == EXIT_SCENARIO_ERROR:
        lines = [line for line in r.stderr.splitlines() if line.strip()]
        assert lines, described
        for line in lines:
            ok = LOCATED.match(line) or SUMMARY_LINE.match(line) or line.startswith(f"{target}: ")
            assert ok, f"unlocated line {line!r}\n{described}"
        return
    # Nothing accepted is NaN (a NaN threshold was once answered "P = 0").
    accepted = load_scenario(target).model_dump(mode="python")
    assert not _has_nan(accepted), described
    payload = json.loads(r.stdout)
    for answer in payload["answers"]:
        assert math.isfinite(answer["probability"]), described
        assert math.isfinite(answer["se"]), described
    for record in payload["summary"]:
        if record["variant"] != "impact":  # a ratio of 0 to 0 is undefined, reported as such
            assert record["value"] is not None, f"NaN in {record}\n{described}"
