"""Write a run's outputs to a folder, atomically: tidy CSV, JSON, manifest, charts, samples.

Layout of the output folder (flat):

- ``summary.csv``: the tidy table of MODEL.md §9, canonical units, with a ``unit`` column;
- ``summary.json``: the same records, the answers to the scenario's questions and metadata;
- ``summary.parquet`` (optional, ``parquet=True``): the same table as Parquet;
- ``samples.npz`` (optional): every per-sample array, keyed ``"<variant>/<metric>"``
  (shape ``(n, T + 1)``), the draws of the uncertain inputs, keyed ``"inputs/<parameter
  path>"`` (shape ``(n,)``), and ``"years"``; or, with ``parquet=True``,
  ``samples.parquet``: the same values, one row per sample and year
  (:mod:`simulator.export`);
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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from simulator.metrics import IMPACT_AS_DIFFERENCE
from simulator.report._atomic import kill_point, publish_folder, staging_folder
from simulator.report.charts import write_charts
from simulator.result import INPUTS_PREFIX, VARIANTS, RunSummary, SimulationResult
from simulator.summary import COLUMNS, QuestionAnswer, SummaryTable

__all__ = [
    "MANIFEST_KEYS",
    "MANIFEST_NAME",
    "SAMPLES_NAME",
    "SAMPLES_PARQUET_NAME",
    "SUMMARY_CSV_NAME",
    "SUMMARY_JSON_NAME",
    "SUMMARY_PARQUET_NAME",
    "inputs_sha256",
    "json_text",
    "output_folder_problem",
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
SUMMARY_PARQUET_NAME = "summary.parquet"
"""File name of the tidy summary table as Parquet (``parquet=True``)."""
SAMPLES_PARQUET_NAME = "samples.parquet"
"""File name of the per-sample arrays as Parquet (``parquet=True``)."""

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
        "dtype",
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


def inputs_sha256(result: SimulationResult | RunSummary) -> str:
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
    if result.dtype != "float64":  # float64 runs keep the hashes they always had
        key["dtype"] = result.dtype
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


_encode_string = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) uses
_RECORDS_SLOT = '\n  "records": []'


def _scalar_json(value: object) -> str | None:
    """``value`` as :func:`json_text` writes it, for plain scalars; None for anything else."""
    if isinstance(value, str) and type(value) is str:
        return str(_encode_string(value))
    if isinstance(value, float) and type(value) is float:
        if math.isnan(value):
            return "null"
        if math.isinf(value):
            return '"inf"' if value > 0 else '"-inf"'
        return float.__repr__(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and type(value) is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    return None


def _column_json(column: Sequence[object]) -> list[str] | None:
    """Each value of a column as :func:`json_text` writes it (each distinct label once)."""
    seen: dict[object, str] = {}
    out = []
    for value in column:
        # Labels are encoded once each; floats every time (-0.0 == 0.0 as a key).
        cached = type(value) is str
        text = seen.get(value) if cached else None
        if text is None:
            text = _scalar_json(value)
            if text is None:
                return None
            if cached:
                seen[value] = text
        out.append(text)
    return out


def _records_json(summary: SummaryTable) -> str | None:
    """The ``"records"`` list of ``summary.json`` as ``json_text`` indents it, fast.

    ``json.dumps`` with ``indent`` runs its pure-Python encoder, about 10 us per record;
    this encodes each column once (each distinct label once, each value by ``repr``) and
    fills one template per record: the same text. None if a value is not a plain scalar
    (then the caller encodes the records with :func:`json_text`).
    """
    columns = [
        _column_json(col.tolist() if isinstance(col, np.ndarray) else list(col))
        for col in summary.columns.values()
    ]
    encoded = [c for c in columns if c is not None]
    if len(encoded) != len(COLUMNS):
        return None
    fields = ",\n".join(f"      {_encode_string(c).replace('%', '%%')}: %s" for c in COLUMNS)
    template = "    {\n" + fields + "\n    }"
    return ",\n".join(template % row for row in zip(*encoded, strict=True))


def _write_summary_json(
    path: Path,
    result: SimulationResult | RunSummary,
    summary: SummaryTable,
    answers: Sequence[QuestionAnswer],
) -> None:
    records = _records_json(summary) if len(summary) else None
    data = {
        "format": "jevons-summary/1",
        "columns": list(COLUMNS),
        "records": [] if records is not None else summary.to_records(),
        "questions": [a.to_dict() for a in answers],
        "metadata": {
            "scenario": result.scenario_name,
            "years": list(result.years),
            "n_samples": result.n_samples,
            "seed": result.seed,
            "method": result.method,
            "block_size": result.block_size,
            "dtype": result.dtype,
            "versions": dict(result.versions),
            "units": (
                "canonical (MODEL.md §9), each record's in its unit field (1: "
                "dimensionless); impact rows are ratios with / without, except "
                f"for {', '.join(sorted(IMPACT_AS_DIFFERENCE))}: the paired difference "
                "with - without, in H100e"
            ),
            "nonfinite": _NONFINITE_NOTE,
        },
    }
    text = json_text(data)
    if records is not None:  # the records written fast, in the place json_text leaves them
        head, slot, tail = text.partition(_RECORDS_SLOT)
        if slot:
            text = head + '\n  "records": [\n' + records + "\n  ]" + tail
        else:  # pragma: no cover - json_text always writes the empty list there
            text = json_text({**data, "records": summary.to_records()})
    path.write_text(text + "\n", encoding="utf-8")


def _samples_name(result: SimulationResult | RunSummary, parquet: bool) -> str:
    if isinstance(result, RunSummary) and result.samples_file is not None:
        streamed = Path(result.samples_file).suffix.lower() == ".parquet"
        return SAMPLES_PARQUET_NAME if streamed else SAMPLES_NAME
    return SAMPLES_PARQUET_NAME if parquet else SAMPLES_NAME


def _write_samples(path: Path, result: SimulationResult | RunSummary) -> None:
    if isinstance(result, RunSummary):  # streamed to disk during the run: move it in
        if result.samples_file is None:
            msg = "save_samples needs a run made with save_samples (simulate_summary)"
            raise ValueError(msg)
        shutil.move(result.samples_file, path)
        return
    if path.suffix == ".parquet":
        from simulator.export import write_samples_parquet

        write_samples_parquet(path, result)
        return
    arrays: dict[str, Any] = {"years": np.asarray(result.years, dtype=np.int64)}
    for variant in VARIANTS:
        for metric, values in result.variant(variant).items():
            arrays[f"{variant}/{metric}"] = np.asarray(values)
    for name, values in result.inputs.items():
        arrays[f"{INPUTS_PREFIX}{name}"] = np.asarray(values)
    with path.open("wb") as fh:
        np.savez(fh, **arrays)


def _write_manifest(
    path: Path,
    result: SimulationResult | RunSummary,
    files: Sequence[Path],
    extra: Mapping[str, Any],
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
        "dtype": result.dtype,
        "versions": dict(result.versions),
        "inputs_sha256": inputs_sha256(result),
        "timings": dict(result.timings),
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "files": {f.name: {"sha256": _sha256(f), "bytes": f.stat().st_size} for f in files},
    }
    data.update(extra)
    _dump_json(data, path)


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
    result: SimulationResult | RunSummary,
    summary: SummaryTable,
    *,
    answers: Sequence[QuestionAnswer] = (),
    manifest_extra: Mapping[str, Any] | None = None,
    save_samples: bool = False,
    parquet: bool = False,
    chart_workers: int | None = None,
) -> list[Path]:
    """Write a run's summary, charts, manifest and optionally its samples to a folder.

    Parameters
    ----------
    directory : str or path-like
        Output folder. Created (with missing parents) if it does not exist.
    result : SimulationResult or RunSummary
        The run; a :class:`RunSummary` made with ``save_samples`` has its samples file
        moved into the folder.
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
    parquet : bool, optional
        Also write ``summary.parquet``, and write the samples as ``samples.parquet``
        instead of ``samples.npz`` (for a streamed :class:`RunSummary`, the format is the
        one its samples file was streamed in). Needs the extra ``jevons[io]``.
    chart_workers : int, optional
        Processes that draw the charts, this one included (the run's ``--workers``);
        default: the cores available (:func:`simulator.report._forked.default_workers`).

    Returns
    -------
    paths : list of Path
        Files written, in the output folder: ``summary.csv``, ``summary.json``,
        ``summary.parquet`` (if ``parquet``), ``samples.npz`` or ``samples.parquet`` (if
        asked), the charts, ``manifest.json``.

    Raises
    ------
    ValueError
        If ``manifest_extra`` reuses a manifest key (checked before anything is written).
    simulator.errors.MissingExtraError
        If ``parquet`` and pandas or pyarrow is not installed (checked before anything is
        written).
    OSError
        If anything fails while writing, with a message naming the folder; the original
        exception is chained. Temporary files are removed first.
    MemoryError
        Passed on as it is (after the same clean-up), so the caller can say so.

    Notes
    -----
    Atomicity: the folder always holds one complete run, the previous one or this one,
    even if the process is killed at any moment. Every file is first written into a
    private staging folder next to the target (``.jevons-<owner>-<random>``, on the same
    filesystem) and flushed to disk; the manifest goes last. Then the staging folder takes
    the target's place in one step (:func:`simulator.report._atomic.publish_folder`: a
    rename if the target is new, an atomic swap of the two folders if it exists) and the
    previous folder is deleted. A user's own files in an existing folder (anything the
    previous run's manifest does not list) are carried into the new folder (hard links); a
    folder that holds sub-folders is refused (:func:`output_folder_problem`);
    outputs the previous manifest lists and this run does not produce (an old
    ``samples.npz`` when ``save_samples`` is false, say) are not. Staging folders left by
    killed runs in the same parent are removed first, but never one whose owning process
    is alive. On failure the staging folder is deleted and the target is untouched.
    """
    extra = dict(manifest_extra or {})
    clash = sorted(MANIFEST_KEYS & extra.keys())
    if clash:
        msg = f"manifest_extra must not reuse manifest keys; got {', '.join(clash)}"
        raise ValueError(msg)
    if parquet:
        from simulator.export import require

        require("parquet output", "pandas", "pyarrow", "pyarrow.parquet")
    target = Path(directory).absolute()
    if target.is_symlink():  # replace the folder the link points to, keep the link
        target = Path(os.path.realpath(target))
    try:
        if target.exists() and not target.is_dir():
            msg = f"{target} exists and is not a folder"
            raise NotADirectoryError(msg)
        problem = output_folder_problem(target)
        if problem:
            msg = f"cannot replace {target}: {problem}"
            raise IsADirectoryError(msg)
        with staging_folder(target) as stage:
            names = _write_and_publish(
                result,
                summary,
                answers,
                stage,
                target,
                save_samples,
                extra,
                parquet,
                chart_workers,
            )
    except BaseException as exc:
        if isinstance(exc, Exception) and not isinstance(exc, MemoryError):
            msg = f"could not write outputs to {target}: {exc}"
            raise OSError(msg) from exc
        raise
    return [target / name for name in names]


def _write_and_publish(
    result: SimulationResult | RunSummary,
    summary: SummaryTable,
    answers: Sequence[QuestionAnswer],
    stage: Path,
    target: Path,
    save_samples: bool,
    extra: dict[str, Any],
    parquet: bool = False,
    chart_workers: int | None = None,
) -> list[str]:
    """Write a run's files into ``stage``, then publish it as ``target``; the file names."""
    streamed = save_samples and isinstance(result, RunSummary)
    samples_name = _samples_name(result, parquet)
    if streamed:  # already on disk next to the target: moved in before anything else
        _write_samples(stage / samples_name, result)
    kill_point(1)

    files: list[Path] = []

    def tables() -> None:  # written while other processes draw the charts
        _write_summary_csv(stage / SUMMARY_CSV_NAME, summary)
        files.append(stage / SUMMARY_CSV_NAME)
        kill_point(2)
        _write_summary_json(stage / SUMMARY_JSON_NAME, result, summary, answers)
        files.append(stage / SUMMARY_JSON_NAME)
        if parquet:
            from simulator.export import write_summary_parquet

            write_summary_parquet(stage / SUMMARY_PARQUET_NAME, summary)
            files.append(stage / SUMMARY_PARQUET_NAME)
        if save_samples:
            if not streamed:
                _write_samples(stage / samples_name, result)
            files.append(stage / samples_name)

    files.extend(write_charts(result, stage, workers=chart_workers, alongside=tables))
    _write_manifest(stage / MANIFEST_NAME, result, files, extra)
    files.append(stage / MANIFEST_NAME)
    kill_point(3)

    names = [f.name for f in files]
    publish_folder(stage, target, keep=_own_files(target, names))
    return names


def _own_files(target: Path, names: Sequence[str]) -> list[str]:
    """Entries of an existing output folder that are not outputs of a run (the user's)."""
    if not target.is_dir():
        return []
    runs = _previous_outputs(target) | set(names) | {MANIFEST_NAME}
    return sorted(entry.name for entry in os.scandir(target) if entry.name not in runs)


def output_folder_problem(directory: str | os.PathLike[str]) -> str:
    """Why ``directory`` cannot take a run's outputs ("" if it can).

    Parameters
    ----------
    directory : str or path-like
        An output folder, existing or not.

    Returns
    -------
    str
        A reason, or ``""``. An existing folder is replaced as a whole by the new run, with
        the user's own files carried over; so it must not hold folders (or devices, sockets
        ...), which a run never writes: ``--out .`` in a project, say.
    """
    target = Path(os.path.realpath(directory))
    if not target.exists():
        return ""
    if not target.is_dir():
        return "it exists and is not a folder"
    try:
        entries = list(os.scandir(target))
    except OSError as exc:
        return f"it cannot be read ({exc.strerror or exc})"
    odd = sorted(
        e.name for e in entries if not (e.is_symlink() or e.is_file(follow_symlinks=False))
    )
    if odd:
        shown = ", ".join(odd[:3]) + (", ..." if len(odd) > 3 else "")
        return (
            f"it holds folders or special files ({shown}) that are not outputs of a run; "
            "the folder is replaced as a whole, so give a new or empty folder for the results"
        )
    return ""
