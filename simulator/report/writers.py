"""Write a run's outputs to a folder, atomically: tidy CSV, JSON, manifest, charts, samples.

Layout of the output folder (flat):

- ``summary.csv``: the tidy table of MODEL.md §9, canonical units;
- ``summary.json``: the same records, the answers to the scenario's questions and metadata;
- ``samples.npz`` (optional): every per-sample array, keyed ``"<variant>/<metric>"``, plus
  ``"years"``;
- ``impact.png`` (when the shocks change something), ``<metric>.png`` and
  ``compute_by_kind.png``: charts (:mod:`simulator.report.charts`);
- ``manifest.json``: the resolved scenario, seed, sampling, versions, timings and the sha256
  of every other file written, written last.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from simulator.metrics import IMPACT_AS_DIFFERENCE
from simulator.report._atomic import current_umask
from simulator.report.charts import write_charts
from simulator.result import VARIANTS, SimulationResult
from simulator.summary import COLUMNS, QuestionAnswer, SummaryTable

__all__ = [
    "MANIFEST_KEYS",
    "MANIFEST_NAME",
    "SAMPLES_NAME",
    "SUMMARY_CSV_NAME",
    "SUMMARY_JSON_NAME",
    "inputs_sha256",
    "json_text",
    "write_outputs",
]

SUMMARY_CSV_NAME = "summary.csv"
"""File name of the tidy summary table."""
SUMMARY_JSON_NAME = "summary.json"
"""File name of the JSON summary."""
MANIFEST_NAME = "manifest.json"
"""File name of the run manifest."""
SAMPLES_NAME = "samples.npz"
"""File name of the per-sample arrays."""

MANIFEST_KEYS: frozenset[str] = frozenset(
    {
        "format",
        "scenario",
        "resolved",
        "years",
        "seed",
        "n_samples",
        "method",
        "block_size",
        "versions",
        "inputs_sha256",
        "timings",
        "created_utc",
        "files",
    }
)
"""Keys the manifest always holds; ``manifest_extra`` may not reuse them."""

_NONFINITE_NOTE = (
    "every record's value is a finite number: a statistic that is undefined (the mean or "
    "sd of an impact ratio with an infinite sample, an infinite quantile of one, a "
    "standard error of one sample) has no record; elsewhere NaN is written as null, "
    '+/-infinity as the strings "inf" and "-inf"'
)
_HASH_CHUNK = 1 << 20


def _json_value(obj: Any) -> Any:
    """Plain, strict-JSON data: non-finite floats as ``None``/``"inf"``, numpy as Python."""
    if isinstance(obj, bool | None | str | int) and not isinstance(obj, np.generic):
        return obj
    if isinstance(obj, float | np.floating):
        x = float(obj)
        if math.isnan(x):
            return None
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return x
    if isinstance(obj, np.integer | np.bool_):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return _json_value(obj.tolist())
    if isinstance(obj, Mapping):
        return {str(k): _json_value(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        items = sorted(obj, key=str) if isinstance(obj, set | frozenset) else obj
        return [_json_value(v) for v in items]
    if isinstance(obj, dt.date | dt.datetime):
        return obj.isoformat()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return str(obj)


def json_text(data: Mapping[str, Any], /, *, indent: int | None = 2) -> str:
    """Strict JSON text of plain data (NaN as null, infinities as ``"inf"``/``"-inf"``).

    Parameters
    ----------
    data : mapping
        Plain data; numpy scalars and arrays are converted.
    indent : int or None, optional
        Indentation; None for one line.

    Returns
    -------
    str
        JSON that any strict parser accepts.
    """
    return json.dumps(_json_value(data), indent=indent, allow_nan=False, ensure_ascii=False)


def _dump_json(data: Mapping[str, Any], path: Path) -> None:
    path.write_text(json_text(data) + "\n", encoding="utf-8")


def inputs_sha256(result: SimulationResult) -> str:
    """Content hash of everything that determines a run's numbers.

    The resolved scenario, seed, samples, method, block size and the versions of the
    numerical packages: two runs with the same hash give the same numbers.
    """
    key = {
        "resolved": result.resolved,
        "seed": result.seed,
        "n_samples": result.n_samples,
        "method": result.method,
        "block_size": result.block_size,
        "versions": {k: v for k, v in result.versions.items() if k != "matplotlib"},
    }
    text = json.dumps(_json_value(key), sort_keys=True, allow_nan=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_HASH_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_summary_csv(path: Path, summary: SummaryTable) -> None:
    summary.to_csv(path)


def _write_summary_json(
    path: Path,
    result: SimulationResult,
    summary: SummaryTable,
    answers: Sequence[QuestionAnswer],
) -> None:
    data = {
        "format": "jevons-summary/1",
        "columns": list(COLUMNS),
        "records": summary.to_records(),
        "questions": [a.to_dict() for a in answers],
        "metadata": {
            "scenario": result.scenario_name,
            "years": list(result.years),
            "n_samples": result.n_samples,
            "seed": result.seed,
            "method": result.method,
            "block_size": result.block_size,
            "versions": dict(result.versions),
            "units": (
                "canonical (MODEL.md §9); impact rows are ratios with / without, except "
                f"for {', '.join(sorted(IMPACT_AS_DIFFERENCE))}: the paired difference "
                "with - without, in H100e"
            ),
            "nonfinite": _NONFINITE_NOTE,
        },
    }
    _dump_json(data, path)


def _write_samples(path: Path, result: SimulationResult) -> None:
    arrays: dict[str, Any] = {"years": np.asarray(result.years, dtype=np.int64)}
    for variant in VARIANTS:
        for metric, values in result.variant(variant).items():
            arrays[f"{variant}/{metric}"] = np.asarray(values)
    with path.open("wb") as fh:
        np.savez(fh, **arrays)


def _write_manifest(
    path: Path, result: SimulationResult, files: Sequence[Path], extra: Mapping[str, Any]
) -> None:
    data: dict[str, Any] = {
        "format": "jevons-manifest/1",
        "scenario": result.scenario_name,
        "resolved": result.resolved,
        "years": list(result.years),
        "seed": result.seed,
        "n_samples": result.n_samples,
        "method": result.method,
        "block_size": result.block_size,
        "versions": dict(result.versions),
        "inputs_sha256": inputs_sha256(result),
        "timings": dict(result.timings),
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "files": {f.name: {"sha256": _sha256(f), "bytes": f.stat().st_size} for f in files},
    }
    data.update(extra)
    _dump_json(data, path)


def _publish(stage: Path, target: Path, names: Sequence[str]) -> None:
    """Move staged files into ``target``: the whole folder at once if it is new."""
    if not target.exists():
        try:
            stage.rename(target)
        except OSError:
            if not target.is_dir():  # not a race with another writer creating the folder
                raise
        else:
            return
    stale = _previous_outputs(target) - set(names)
    for name in names:
        if name == MANIFEST_NAME:  # the new manifest goes last: drop what it no longer lists
            for old in sorted(stale):
                (target / old).unlink(missing_ok=True)
        (stage / name).replace(target / name)
    stage.rmdir()


def _previous_outputs(target: Path) -> set[str]:
    """Files a previous run wrote into ``target``, as its manifest lists them."""
    try:
        listed = json.loads((target / MANIFEST_NAME).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return set()
    if not isinstance(listed, dict):
        return set()
    # Only plain names: never follow a manifest out of the folder.
    return {n for n in listed if isinstance(n, str) and n == Path(n).name and n != MANIFEST_NAME}


def write_outputs(
    directory: str | os.PathLike[str],
    result: SimulationResult,
    summary: SummaryTable,
    *,
    answers: Sequence[QuestionAnswer] = (),
    manifest_extra: Mapping[str, Any] | None = None,
    save_samples: bool = False,
) -> list[Path]:
    """Write a run's summary, charts, manifest and optionally its samples to a folder.

    Parameters
    ----------
    directory : str or path-like
        Output folder. Created (with missing parents) if it does not exist.
    result : SimulationResult
        The run.
    summary : SummaryTable
        Its tidy summary (canonical units).
    answers : sequence of QuestionAnswer, optional
        Answers to the scenario's questions, stored in ``summary.json``.
    manifest_extra : mapping, optional
        More top-level manifest entries (e.g. the command line, the scenario file's path);
        must not reuse a key of :data:`MANIFEST_KEYS`.
    save_samples : bool, optional
        Also write ``samples.npz`` with every per-sample array (large: ``8 n (T + 1)`` bytes
        per metric and variant).

    Returns
    -------
    paths : list of Path
        Files written, in the output folder: ``summary.csv``, ``summary.json``,
        ``samples.npz`` (if asked), the charts, ``manifest.json``.

    Raises
    ------
    ValueError
        If ``manifest_extra`` reuses a manifest key (checked before anything is written).
    OSError
        If anything fails while writing, with a message naming the folder; the original
        exception is chained. Temporary files are removed first.

    Notes
    -----
    Atomicity: every file is first written into a private staging folder created next to
    the target (``tempfile.mkdtemp(dir=parent, prefix=".jevons-")``), so on the same
    filesystem. If the target does not exist, the staging folder is renamed to it, and the
    outputs appear all at once. If it exists, each staged file replaces its namesake with
    :func:`os.replace`, ``manifest.json`` last: an interrupted run can leave a mix of old and
    new files (the manifest's hashes tell which), but never a half-written file. Files the
    previous run's manifest listed and this run does not produce (an old ``samples.npz``
    when ``save_samples`` is false, say) are removed just before the new manifest is put in
    place, so the folder never holds outputs of two runs under one manifest; any other file
    is never touched. On failure the staging folder is deleted.
    """
    extra = dict(manifest_extra or {})
    clash = sorted(MANIFEST_KEYS & extra.keys())
    if clash:
        msg = f"manifest_extra must not reuse manifest keys; got {', '.join(clash)}"
        raise ValueError(msg)
    target = Path(directory).absolute()
    stage: Path | None = None
    try:
        if target.exists() and not target.is_dir():
            msg = f"{target} exists and is not a folder"
            raise NotADirectoryError(msg)
        target.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(dir=target.parent, prefix=".jevons-"))
        stage.chmod(0o777 & ~current_umask())

        files: list[Path] = []
        _write_summary_csv(stage / SUMMARY_CSV_NAME, summary)
        files.append(stage / SUMMARY_CSV_NAME)
        _write_summary_json(stage / SUMMARY_JSON_NAME, result, summary, answers)
        files.append(stage / SUMMARY_JSON_NAME)
        if save_samples:
            _write_samples(stage / SAMPLES_NAME, result)
            files.append(stage / SAMPLES_NAME)
        files.extend(write_charts(result, stage))
        _write_manifest(stage / MANIFEST_NAME, result, files, extra)
        files.append(stage / MANIFEST_NAME)

        names = [f.name for f in files]
        _publish(stage, target, names)
    except BaseException as exc:
        if stage is not None:
            shutil.rmtree(stage, ignore_errors=True)
        if isinstance(exc, Exception):
            msg = f"could not write outputs to {target}: {exc}"
            raise OSError(msg) from exc
        raise
    return [target / name for name in names]
