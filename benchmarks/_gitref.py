"""Code of this repository as a git revision had it, importable beside the current code.

The stage benchmarks (``bench_model.py``, ``bench_sampling.py``, ``bench_summary.py``,
``bench_output.py``) time the old and the new code of one stage alternately in one
process, so that a shared machine's load falls on both alike; this module brings the old
code in under other names.
"""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
import types
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).parents[1]


def show(ref: str, path: str) -> str:
    """The text of ``path`` (relative to the repository) at git ``ref``."""
    return subprocess.run(
        ["git", "show", f"{ref}:{path}"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout


def module_from_source(name: str, source: str) -> types.ModuleType:
    """Import ``source`` as the module ``name`` (registered in ``sys.modules``)."""
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)  # noqa: S102 - git source
    return module


def package_at(
    ref: str, folder: str, modules: Sequence[str], name: str, where: Path
) -> types.ModuleType:
    """Import the package ``folder`` (``simulator/model``, say) at ``ref`` as ``name``.

    Its ``modules`` are written under ``where`` with the package's own dotted name
    replaced by ``name`` in their imports, and ``where`` is put first on ``sys.path``.
    """
    package = where / name
    package.mkdir()
    dotted = folder.replace("/", ".")
    for module in modules:
        text = show(ref, f"{folder}/{module}.py")
        (package / f"{module}.py").write_text(text.replace(dotted, name), encoding="utf-8")
    sys.path.insert(0, str(where))
    return importlib.import_module(name)
