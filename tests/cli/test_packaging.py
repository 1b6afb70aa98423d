"""What users of a packaged CLI expect: --version, completion, `jevons init`, the schema.

The slow test at the end builds the wheel, installs it into a new virtual environment and
runs `jevons init` and `jevons run` from an empty folder, as a user who installed from the
package index would.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from simulator import starter
from simulator.cli import app
from simulator.errors import EXIT_OUTPUT_ERROR, EXIT_USAGE
from simulator.io import load_scenario, resolve_scenario, scenario_json_schema
from simulator.schema.distributions import INTERVAL_PATTERN, parse_interval

ROOT = Path(__file__).parents[2]
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))
runner = CliRunner()


# --- --version and completion ----------------------------------------------------------------


def test_version_prints_the_package_metadata_version() -> None:
    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0
    assert r.stdout == f"jevons {importlib.metadata.version('jevons')}\n"
    assert re.fullmatch(r"jevons \d+\.\d+\.\d+\S*\n", r.stdout)


def test_version_wins_over_a_command() -> None:
    r = runner.invoke(app, ["--version", "validate", "no-such-file.yaml"])
    assert r.exit_code == 0
    assert r.stdout.startswith("jevons ")


def test_help_offers_version_and_completion() -> None:
    r = runner.invoke(app, ["--help"])
    assert r.exit_code == 0
    for option in ("--version", "--install-completion", "--show-completion"):
        assert option in r.stdout


def test_show_completion_prints_a_script_for_the_shell() -> None:
    # the script (for the shell typer detects) hands the words typed so far to `jevons`
    # through _JEVONS_COMPLETE
    r = runner.invoke(app, ["--show-completion"])
    assert r.exit_code == 0, r.output
    assert "_JEVONS_COMPLETE" in r.stdout
    assert "jevons" in r.stdout.replace("_JEVONS_COMPLETE", "")


def test_completion_completes_commands_and_options() -> None:
    # what the bash script runs at each <TAB>; typer answers one candidate a line
    base = {k: v for k, v in os.environ.items() if not k.startswith("_JEVONS")}
    for words, cword, expected in (
        ("jevons va", "1", "validate"),
        ("jevons run --me", "2", "--method"),
    ):
        env = {**base, "_JEVONS_COMPLETE": "complete_bash", "COMP_WORDS": words,
               "COMP_CWORD": cword}  # fmt: skip
        r = runner.invoke(app, [], env=env, prog_name="jevons")
        assert expected in r.stdout.split(), (words, r.output)


# --- jevons init -----------------------------------------------------------------------------


def test_starter_files_are_the_shipped_scenarios_then_the_schema() -> None:
    files = starter.starter_files()
    assert [f.target for f in files] == [
        *(Path("scenarios") / p.name for p in SHIPPED),
        Path("docs/scenario.schema.json"),
    ]
    for f in files:
        assert f.source.read_bytes() == (ROOT / f.target).read_bytes()


def test_init_copies_scenarios_and_schema_that_work_where_they_land(tmp_path: Path) -> None:
    project = tmp_path / "new" / "project"  # created, parents too
    r = runner.invoke(app, ["init", str(project)])
    assert r.exit_code == 0, r.output
    written = sorted(p.relative_to(project) for p in project.rglob("*") if p.is_file())
    expected = [Path("docs/scenario.schema.json"), *(Path("scenarios") / p.name for p in SHIPPED)]
    assert written == sorted(expected)
    for rel in expected:
        assert (project / rel).read_bytes() == (ROOT / rel).read_bytes()
    assert "jevons run" in r.stdout
    assert "yaml-language-server" in r.stdout
    # each copy loads where it landed: `extends: base.yaml` finds its copied parent, and the
    # editor line points at the copied schema, which accepts the scenario
    validator = jsonschema.Draft7Validator(
        json.loads((project / "docs/scenario.schema.json").read_text(encoding="utf-8"))
    )
    for path in sorted((project / "scenarios").glob("*.yaml")):
        load_scenario(path)
        validator.validate(resolve_scenario(path).data)
        first = path.read_text(encoding="utf-8").splitlines()[0]
        schema_ref = first.removeprefix("# yaml-language-server: $schema=")
        assert (path.parent / schema_ref).resolve() == project / "docs/scenario.schema.json"
    deepseek = resolve_scenario(project / "scenarios/deepseek.yaml")
    files = [Path(f) for f in deepseek.files]
    assert sorted(f.name for f in files) == ["base.yaml", "deepseek.yaml"]
    assert all(f.resolve().parent == project / "scenarios" for f in files)


def test_init_defaults_to_the_current_folder(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, ["init"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "scenarios/deepseek.yaml").is_file()
    assert (tmp_path / "docs/scenario.schema.json").is_file()


def test_init_refuses_to_overwrite_and_writes_nothing(tmp_path: Path) -> None:
    mine = tmp_path / "scenarios" / "base.yaml"
    mine.parent.mkdir()
    mine.write_text("my own base\n", encoding="utf-8")
    r = runner.invoke(app, ["init", str(tmp_path)])
    assert r.exit_code == EXIT_USAGE
    assert f"{mine}" in r.stderr
    assert "--force" in r.stderr
    assert "nothing was written" in r.stderr
    assert "Traceback" not in r.output
    assert mine.read_text(encoding="utf-8") == "my own base\n"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["base.yaml", "scenarios"]


def test_init_force_overwrites_and_keeps_other_files(tmp_path: Path) -> None:
    mine = tmp_path / "scenarios" / "base.yaml"
    other = tmp_path / "scenarios" / "my-own.yaml"
    mine.parent.mkdir()
    mine.write_text("my own base\n", encoding="utf-8")
    other.write_text("mine\n", encoding="utf-8")
    r = runner.invoke(app, ["init", str(tmp_path), "--force"])
    assert r.exit_code == 0, r.output
    assert mine.read_bytes() == (ROOT / "scenarios/base.yaml").read_bytes()
    assert other.read_text(encoding="utf-8") == "mine\n"


def test_init_into_a_file_is_a_usage_error(tmp_path: Path) -> None:
    a_file = tmp_path / "f"
    a_file.write_text("", encoding="utf-8")
    r = runner.invoke(app, ["init", str(a_file)])
    assert r.exit_code == EXIT_USAGE
    assert "Traceback" not in r.output


def test_init_that_fails_midway_removes_what_it_created(tmp_path: Path, monkeypatch: Any) -> None:
    from simulator.report import _atomic

    real = _atomic.atomic_write
    calls: list[Path] = []

    def third_fails(path: Path, write: Any, /) -> None:
        calls.append(path)
        if len(calls) == 3:
            msg = "No space left on device"
            raise OSError(28, msg)
        real(path, write)

    monkeypatch.setattr(_atomic, "atomic_write", third_fails)
    r = runner.invoke(app, ["init", str(tmp_path)])
    assert r.exit_code == EXIT_OUTPUT_ERROR
    assert "No space left on device" in r.stderr
    assert "Traceback" not in r.output
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


# --- the JSON Schema -----------------------------------------------------------------------


def test_schema_is_valid_draft_07_with_definitions() -> None:
    schema = scenario_json_schema()
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(schema)
    text = json.dumps(schema)
    assert "$defs" not in text
    assert "prefixItems" not in text  # 2020-12 only

    def lone_refs(node: Any) -> bool:  # in draft-07 a $ref's siblings are ignored
        if isinstance(node, dict):
            if "$ref" in node and len(node) > 1:
                return False
            return all(lone_refs(v) for v in node.values())
        return all(lone_refs(v) for v in node) if isinstance(node, list) else True

    assert lone_refs(schema)


def test_schema_interval_pattern_is_the_validators() -> None:
    schema = scenario_json_schema()
    found = re.findall(r'"pattern": ("(?:[^"\\]|\\.)*")', json.dumps(schema))
    patterns = {json.loads(p) for p in found}
    assert INTERVAL_PATTERN in patterns
    assert [p for p in patterns if "to" in p] == [INTERVAL_PATTERN]  # written once
    validator = jsonschema.Draft7Validator({"type": "string", "pattern": INTERVAL_PATTERN})
    # accepted by both, or refused by both (parse_interval also needs LOW < HIGH)
    for text in ("1.5 to 10", " -2 to 3 ", "1e3 to 2.5E4", ".5 to 1.", "+1 to +2"):
        assert validator.is_valid(text)
        parse_interval(text)
    for text in ("1 - 2", "1to2", "a to b", "1 to", "to 2", "1 to 2 to 3", "1,5 to 2"):
        assert not validator.is_valid(text)
        with pytest.raises(ValueError, match="LOW to HIGH"):
            parse_interval(text)


def test_schema_accepts_each_short_form_where_the_model_does() -> None:
    validator = jsonschema.Draft7Validator(scenario_json_schema())
    segments = resolve_scenario(ROOT / "scenarios/base.yaml").data["demand"]["segments"]
    for elasticity in (1.2, "0.5 to 1.5", {"kind": "uniform", "low": 0.5, "high": 1.5},
                       {"short": 0.3, "long": "1 to 2"}):  # fmt: skip
        data = resolve_scenario(ROOT / "scenarios/base.yaml").data
        data["demand"]["segments"] = [{**segments[0], "elasticity": elasticity}, *segments[1:]]
        validator.validate(json.loads(json.dumps(data)))
    for bad in ("1 - 2", [1, 2], True, {"kind": "nope"}):
        data = resolve_scenario(ROOT / "scenarios/base.yaml").data
        data["demand"]["segments"] = [{**segments[0], "elasticity": bad}, *segments[1:]]
        assert not validator.is_valid(json.loads(json.dumps(data))), bad


@pytest.mark.skipif(
    os.environ.get("JEVONS_LOWEST_VERSIONS") == "1",
    reason="the committed schema is written by the newest pydantic; older ones write the "
    "same rules in other words",
)
def test_schema_command_writes_the_committed_schema(tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    r = runner.invoke(app, ["schema", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert out.read_bytes() == (ROOT / "docs/scenario.schema.json").read_bytes(), (
        "docs/scenario.schema.json is stale: run `jevons schema -o docs/scenario.schema.json`"
    )


# --- the wheel, installed as a user would ----------------------------------------------------


@pytest.mark.slow
def test_wheel_installs_and_starts_a_project_from_an_empty_folder(tmp_path: Path) -> None:
    """Build the wheel, install it alone in a new venv, then `jevons init` and `jevons run`.

    The new venv sees this environment's packages (numpy, scipy, ...) through a ``.pth``
    file, so nothing is downloaded but the build backend; jevons itself comes from the
    wheel, which the test checks.
    """
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    dist = tmp_path / "dist"
    subprocess.run(
        [py, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)], check=True
    )
    (wheel,) = dist.glob("jevons-*.whl")
    site = subprocess.run(
        [py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    deps = [p for p in sys.path if p.endswith("site-packages")]
    Path(site, "_jevons_test_deps.pth").write_text("\n".join(deps) + "\n", encoding="utf-8")
    # --ignore-installed: a jevons seen through the .pth (a non-editable install of this
    # environment) is neither taken for the wheel nor uninstalled
    subprocess.run(
        [py, "-m", "pip", "install", "--no-deps", "--ignore-installed", "-q", str(wheel)],
        check=True,
    )

    work = tmp_path / "empty"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    jevons = str(env_dir / "bin" / "jevons")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, cwd=work, env=env, capture_output=True, text=True, check=False)

    where = run(str(py), "-c", "import simulator; print(simulator.__file__)")
    assert where.stdout.startswith(site), where  # the wheel's copy, not the source tree
    version = run(jevons, "--version")
    assert version.stdout == f"jevons {importlib.metadata.version('jevons')}\n", version
    init = run(jevons, "init")
    assert init.returncode == 0, init.stderr
    assert (work / "scenarios/deepseek.yaml").read_bytes() == (
        ROOT / "scenarios/deepseek.yaml"
    ).read_bytes()
    assert (work / "docs/scenario.schema.json").read_bytes() == (
        ROOT / "docs/scenario.schema.json"
    ).read_bytes()
    result = run(jevons, "run", "scenarios/deepseek.yaml", "-n", "2000", "--out", "r")
    assert result.returncode == 0, result.stderr
    assert (work / "r" / "summary.csv").is_file()
    assert (work / "r" / "manifest.json").is_file()
