"""Fuzzing the scenario loader: whatever it is fed, it fails only with located problems.

Invariant: ``load_scenario`` either returns a Scenario or raises ScenarioError, and
every line of that error starts with ``file:line:col:``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.errors import ScenarioError
from simulator.io import load_scenario, resolve_scenario

VALID = Path(__file__).resolve().parent.parent / "data" / "valid.yaml"
LOCATED = re.compile(r"^.+:\d+:\d+: ")
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _check(path: Path, overrides: tuple[str, ...] = ()) -> None:
    """Load; the only exception allowed is a ScenarioError with located lines."""
    try:
        load_scenario(path, overrides)
    except ScenarioError as err:
        lines = str(err).splitlines()
        assert lines, "a ScenarioError without problems"
        for line in lines:
            assert LOCATED.match(line), line


def _write(workdir: Path, content: str | bytes) -> Path:
    path = workdir / "fuzz.yaml"
    if isinstance(content, str):
        content = content.encode("utf-8", "surrogatepass")
    path.write_bytes(content)
    return path


# --- arbitrary YAML documents -------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["1e15", "1 to 2", "yes", "~", "0x1F", "fixed", "2024", "<<"])
)
keys = (
    st.text(max_size=12)
    | st.integers(1990, 2100)
    | st.sampled_from(
        ["name", "years", "demand", "segments", "kind", "anchors", "extends", "chips"]
    )
)
documents = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=5),
    max_leaves=25,
)


@FUZZ
@given(doc=documents)
def test_arbitrary_yaml_documents(workdir: Path, doc: Any) -> None:
    _check(_write(workdir, yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)))


@FUZZ
@given(text=st.text(max_size=200))
def test_random_text(workdir: Path, text: str) -> None:
    _check(_write(workdir, text))


@FUZZ
@given(
    text=st.lists(
        st.sampled_from(
            [
                "a:",
                " ",
                "\n",
                "\t",
                "- ",
                "[",
                "]",
                "{",
                "}",
                ",",
                "&x ",
                "*x",
                "!!str ",
                "!tag ",
                "'",
                '"',
                "#",
                "---\n",
                "? ",
                "1e3",
                "<<: ",
                "|\n",
                "extends: valid.yaml",
            ]
        ),
        max_size=40,
    ).map("".join)
)
def test_yaml_like_text(workdir: Path, text: str) -> None:
    _check(_write(workdir, text))


@FUZZ
@given(data=st.binary(max_size=200))
def test_random_bytes(workdir: Path, data: bytes) -> None:
    _check(_write(workdir, data))


# --- mutated copies of the valid scenario -------------------------------------------------

BASE = resolve_scenario(VALID).data


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key path inside ``node`` (mapping keys and list indices)."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield (*prefix, k)
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield (*prefix, i)
            yield from _paths(v, (*prefix, i))


ALL_PATHS = list(_paths(BASE))
other_values: st.SearchStrategy[Any] = (
    st.none()
    | st.booleans()
    | st.integers(-5, 5000)
    | st.floats(-10, 10)
    | st.text(max_size=8)
    | st.just([])
    | st.just({})
    | st.just({"kind": "normal", "mean": 1.0, "sd": -1.0})
    | st.just("2 to 1")
)


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    """valid.yaml with one to three mutations."""
    data: dict[str, Any] = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(ALL_PATHS))
        parent: Any = data
        try:
            for seg in path[:-1]:
                parent = parent[seg]
            last = path[-1]
            old = parent[last]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed it
        op = draw(st.sampled_from(["delete", "retype", "insert", "swap"]))
        if op == "delete":
            del parent[last]
        elif op == "retype":
            parent[last] = draw(other_values)
        elif op == "insert" and isinstance(old, dict):
            old[draw(st.text(min_size=1, max_size=10))] = draw(other_values)
        elif op == "swap" and isinstance(old, int | float) and not isinstance(old, bool):
            parent[last] = draw(st.sampled_from([str(old), f"{old} to {old}", "many"]))
        else:
            parent[last] = draw(other_values)
    return data


@FUZZ
@given(data=mutated())
def test_mutated_valid_scenario(workdir: Path, data: dict[str, Any]) -> None:
    _check(_write(workdir, yaml.safe_dump(data, allow_unicode=True, sort_keys=False)))


@FUZZ
@given(
    overrides=st.lists(
        st.tuples(
            st.sampled_from([p for p in ALL_PATHS if all(isinstance(s, str) for s in p)]).map(
                ".".join
            )
            | st.text(max_size=15),
            st.text(max_size=15) | st.sampled_from(["1e15", "[1, 2", "{kind: x}", "1 to 2"]),
        ).map(lambda kv: f"{kv[0]}={kv[1]}")
        | st.text(max_size=20),
        max_size=3,
    )
)
def test_random_overrides(overrides: list[str]) -> None:
    _check(VALID, tuple(overrides))
