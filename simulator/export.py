"""Results where analysts work: pandas, xarray and Parquet (the optional extra ``jevons[io]``).

Nothing here is imported by the model, the engine's arithmetic or the CLI's start-up: pandas,
xarray and pyarrow are imported inside the functions that need them, and a missing one is a
:class:`~simulator.errors.MissingExtraError` that names the extra to install.

Two layouts, the same everywhere:

- **Summary** (``summary.csv``, ``summary.parquet``, :meth:`SummaryTable.to_pandas
  <simulator.summary.SummaryTable.to_pandas>`): tidy, one row per scenario, variant, metric,
  year and statistic, columns ``scenario, variant, metric, year, statistic, value, unit``.
- **Samples** (``samples.parquet``, :meth:`SimulationResult.to_pandas
  <simulator.result.SimulationResult.to_pandas>`): one row per sample and year, sample-major
  (sample 0's years first), columns ``sample`` (int64, 0-based), ``year`` (int32), one float64
  column per variant and metric named ``"<variant>/<metric>"`` (``with_shocks/hbm_gb``,
  ``counterfactual/hbm_gb``, ``impact/hbm_gb``, ...), then one float64 column per uncertain
  input named ``"inputs/<parameter path>"``, its draw repeated on each of the sample's years.
  These are the keys of ``samples.npz``; selecting ``year == 2027`` gives one row per sample
  with every input next to every output, which is what a regression or a sensitivity
  analysis wants. Each column's unit is in its Parquet field metadata (``unit``), and the
  file's metadata (key ``jevons``) holds the years, sample count, metrics and inputs.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from simulator.errors import MissingExtraError
from simulator.metrics import IMPACT_AS_DIFFERENCE, value_unit
from simulator.result import INPUTS_PREFIX, VARIANTS
from simulator.summary import COLUMNS, SummaryTable, impact

if TYPE_CHECKING:
    from simulator.result import RunSummary, SimulationResult

__all__ = [
    "SAMPLES_FORMAT",
    "ParquetSamplesWriter",
    "require",
    "result_dataset",
    "result_frame",
    "run_summary_dataset",
    "summary_frame",
    "write_samples_parquet",
    "write_summary_parquet",
]

SAMPLES_FORMAT = "jevons-samples/1"
"""The ``format`` in a ``samples.parquet`` file's ``jevons`` metadata."""
_METADATA_KEY = b"jevons"
_GROUP_BYTES = 64 << 20
"""About how many bytes of column data one Parquet row group (one write) holds. [B]"""
_CATEGORICAL = ("scenario", "variant", "metric", "statistic", "unit")


def require(feature: str, *modules: str) -> tuple[ModuleType, ...]:
    """Import optional modules, or say which extra installs them.

    Parameters
    ----------
    feature : str
        What needs them, for the message (``"SimulationResult.to_xarray()"``).
    *modules : str
        Module names, e.g. ``"pandas"``, ``"pyarrow.parquet"``.

    Returns
    -------
    tuple of module
        The modules, in the order given.

    Raises
    ------
    MissingExtraError
        If one cannot be imported; the message says ``pip install "jevons[io]"``.
    """
    out = []
    for name in modules:
        try:
            out.append(import_module(name))
        except ImportError:
            raise MissingExtraError(feature, name.split(".")[0]) from None
    return tuple(out)


# --------------------------------------------------------------------------- summaries


def summary_frame(table: SummaryTable) -> Any:
    """A :class:`~simulator.summary.SummaryTable` as a tidy pandas DataFrame.

    See :meth:`simulator.summary.SummaryTable.to_pandas`.
    """
    (pd,) = require("SummaryTable.to_pandas()", "pandas")
    columns = table.columns
    data: dict[str, Any] = {}
    for name in COLUMNS:
        col = columns[name]
        if name in _CATEGORICAL:
            data[name] = pd.Categorical(col, categories=list(dict.fromkeys(col)))
        elif name == "year":
            data[name] = np.asarray(col, dtype=np.int64)
        else:
            data[name] = np.array(col, dtype=np.float64)
    return pd.DataFrame(data)


def write_summary_parquet(path: str | os.PathLike[str], table: SummaryTable) -> None:
    """Write a summary table as Parquet: :meth:`SummaryTable.to_pandas`'s frame, as it is.

    ``pandas.read_parquet`` gives back the same frame (categoricals included); duckdb,
    polars and Arrow read its columns as strings (dictionary-encoded), int64 and float64.
    Written to ``path`` directly: callers stage it (:func:`simulator.report.writers.
    write_outputs` writes into a staging folder).

    Raises
    ------
    MissingExtraError
        If pandas or pyarrow is not installed.
    """
    pa, pq = require("summary.parquet", "pyarrow", "pyarrow.parquet")
    frame = summary_frame(table)
    arrow = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(arrow, os.fspath(path), compression="zstd")


def run_summary_dataset(run: RunSummary) -> Any:
    """A run's summary as an ``xarray.Dataset``: one variable per metric.

    See :meth:`simulator.result.RunSummary.to_xarray`.
    """
    (xr,) = require("RunSummary.to_xarray()", "xarray")
    table = run.summary
    years = list(run.years)
    statistics = list(dict.fromkeys(table.statistics))
    y_at = {y: i for i, y in enumerate(years)}
    v_at = {v: i for i, v in enumerate(VARIANTS)}
    s_at = {s: i for i, s in enumerate(statistics)}
    cubes = {m: np.full((len(VARIANTS), len(years), len(statistics)), np.nan) for m in run.metrics}
    for _, variant, metric, year, stat, value, _ in table.rows():
        if metric in cubes and variant in v_at and year in y_at:
            cubes[metric][v_at[variant], y_at[year], s_at[stat]] = value
    data_vars = {
        m: (("variant", "year", "statistic"), cube, _metric_attrs(m)) for m, cube in cubes.items()
    }
    attrs = _run_attrs(run)
    attrs.update(exact=int(run.exact), quantile_rel_error=float(run.quantile_rel_error))
    coords = {"variant": list(VARIANTS), "year": np.asarray(years, dtype=np.int64)}
    coords["statistic"] = statistics
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


# --------------------------------------------------------------------------- samples


def _metric_attrs(metric: str) -> dict[str, str]:
    from simulator.report.units import display_unit

    return {
        "long_name": display_unit(metric).description,
        "units": value_unit("with_shocks", metric),
        "impact_units": value_unit("impact", metric),
        "impact": (
            "with_shocks - counterfactual, per sample"
            if metric in IMPACT_AS_DIFFERENCE
            else "with_shocks / counterfactual, per sample (0/0 = 1)"
        ),
    }


def _seed_attr(seed: int) -> int | str:
    """A seed as an attribute netCDF can store: int64 if it fits, else its decimal digits."""
    return seed if -(2**63) <= seed < 2**63 else str(seed)


def _run_attrs(result: SimulationResult | RunSummary) -> dict[str, Any]:
    from simulator.report.writers import json_text

    return {
        "scenario": result.scenario_name,
        "n_samples": int(result.n_samples),
        "seed": _seed_attr(int(result.seed)),
        "method": result.method,
        "block_size": int(result.block_size),
        "dtype": result.dtype,
        "versions": json_text(dict(result.versions), indent=None),
        "resolved": json_text(dict(result.resolved), indent=None),
        "source": "jevons",
    }


def result_dataset(result: SimulationResult) -> Any:
    """A :class:`~simulator.result.SimulationResult` as an ``xarray.Dataset``.

    See :meth:`simulator.result.SimulationResult.to_xarray`.
    """
    (xr,) = require("SimulationResult.to_xarray()", "xarray")
    clash = sorted(set(result.inputs) & set(result.metrics))
    if clash:  # pragma: no cover - parameter paths start with a scenario section
        msg = f"input names clash with metric names: {', '.join(clash)}"
        raise ValueError(msg)
    data_vars: dict[str, Any] = {}
    for m in result.metrics:
        cube = np.stack([result.variant(v)[m] for v in VARIANTS], axis=-1)
        data_vars[m] = (("sample", "year", "variant"), cube, _metric_attrs(m))
    for name, draws in result.inputs.items():
        data_vars[name] = (
            ("sample",),
            np.asarray(draws, dtype=np.float64),
            {"long_name": f"draw of {name}", "role": "input"},
        )
    coords = {
        "sample": np.arange(result.n_samples, dtype=np.int64),
        "year": np.asarray(result.years, dtype=np.int64),
        "variant": list(VARIANTS),
    }
    return xr.Dataset(data_vars, coords=coords, attrs=_run_attrs(result))


def _columns(metrics: Sequence[str], inputs: Sequence[str]) -> list[str]:
    return [
        "sample",
        "year",
        *(f"{v}/{m}" for v in VARIANTS for m in metrics),
        *(f"{INPUTS_PREFIX}{name}" for name in inputs),
    ]


def _block_columns(
    offset: int,
    years: NDArray[np.int32],
    variants: Sequence[Mapping[str, NDArray[np.float64]]],
    metrics: Sequence[str],
    drawn: Mapping[str, NDArray[np.float64]],
    inputs: Sequence[str],
) -> list[NDArray[Any]]:
    """The samples layout's columns for rows ``offset ..`` of one block (flat arrays)."""
    n_years = years.shape[0]
    n = int(np.asarray(variants[0][metrics[0]]).shape[0]) if metrics else 0
    if not metrics and inputs:
        n = int(np.asarray(drawn[inputs[0]]).shape[0])
    cols: list[NDArray[Any]] = [
        np.repeat(np.arange(offset, offset + n, dtype=np.int64), n_years),
        np.tile(years, n),
    ]
    for by_metric in variants:
        for m in metrics:
            cols.append(np.ascontiguousarray(by_metric[m], dtype=np.float64).reshape(-1))
    for name in inputs:
        try:
            values = drawn[name]
        except KeyError:
            msg = f"the block has no draws of input {name!r}"
            raise ValueError(msg) from None
        cols.append(np.repeat(np.asarray(values, dtype=np.float64), n_years))
    return cols


def _impact_of(metric: str, w: NDArray[np.float64], c: NDArray[np.float64]) -> NDArray[np.float64]:
    """A metric's impact as :func:`simulator.engine.simulate` stores it."""
    if metric in IMPACT_AS_DIFFERENCE:
        out: NDArray[np.float64] = np.asarray(w - c)
        return out
    return impact(w, c)


def result_frame(result: SimulationResult) -> Any:
    """A result's per-sample arrays as one wide pandas DataFrame (the samples layout).

    See :meth:`simulator.result.SimulationResult.to_pandas`.
    """
    (pd,) = require("SimulationResult.to_pandas()", "pandas")
    years = np.asarray(result.years, dtype=np.int32)
    metrics = list(result.metrics)
    inputs = list(result.inputs)
    variants = [result.variant(v) for v in VARIANTS]
    cols = _block_columns(0, years, variants, metrics, result.inputs, inputs)
    return pd.DataFrame(dict(zip(_columns(metrics, inputs), cols, strict=True)), copy=False)


class ParquetSamplesWriter:
    """Stream per-sample paths into ``samples.parquet``, block by block, in bounded memory.

    The sibling of the engine's ``.npz`` writer, with the same interface (``add`` each block
    in sample order, then ``finish``; ``cleanup`` in any case). Rows go to a temporary file
    next to ``path`` through pyarrow's ``ParquetWriter``, at most about 64 MB of column data
    per write (one row group), and the file is renamed into place by :meth:`finish`.

    Parameters
    ----------
    path : path-like
        The ``.parquet`` file to write.
    names : sequence of str
        Metric names, in model order.
    years : sequence of int
        Calendar years of the columns of each metric's array.
    total : int
        Samples the run will add; :meth:`finish` checks that they all came.
    inputs : sequence of str, optional
        Uncertain input paths (:func:`simulator.sampling.uncertain_names`).

    Raises
    ------
    MissingExtraError
        If pyarrow is not installed.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        names: Sequence[str],
        years: Sequence[int],
        total: int,
        inputs: Sequence[str] = (),
    ) -> None:
        self._pa, pq = require("samples.parquet", "pyarrow", "pyarrow.parquet")
        pa = self._pa
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.metrics = list(names)
        self.inputs = list(inputs)
        self.years = np.asarray(tuple(years), dtype=np.int32)
        self.total = int(total)
        self.done = 0
        fields = [
            pa.field("sample", pa.int64(), nullable=False),
            pa.field("year", pa.int32(), nullable=False),
        ]
        for v in VARIANTS:
            fields += [
                pa.field(
                    f"{v}/{m}",
                    pa.float64(),
                    nullable=False,
                    metadata={"unit": value_unit(v, m)},
                )
                for m in self.metrics
            ]
        fields += [
            pa.field(f"{INPUTS_PREFIX}{name}", pa.float64(), nullable=False)
            for name in self.inputs
        ]
        about = {
            "format": SAMPLES_FORMAT,
            "layout": "one row per sample and year, sample-major",
            "n_samples": self.total,
            "years": [int(y) for y in self.years],
            "variants": list(VARIANTS),
            "metrics": self.metrics,
            "inputs": self.inputs,
        }
        self.schema = pa.schema(fields, metadata={_METADATA_KEY: json.dumps(about).encode()})
        width = 8 * len(fields)
        self.group_samples = max(1, _GROUP_BYTES // (width * max(1, len(self.years))))
        fd, tmp = tempfile.mkstemp(
            dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".part"
        )
        os.close(fd)
        self.tmp = Path(tmp)
        self._writer: Any = None
        try:
            self._writer = pq.ParquetWriter(
                tmp,
                self.schema,
                compression="zstd",
                # the inputs repeat on each year of a sample, and years repeat: dictionary
                # encoding stores them as runs; the outputs are all distinct, stored plain.
                use_dictionary=["year", *(f"{INPUTS_PREFIX}{n}" for n in self.inputs)],
            )
        except BaseException:
            self.tmp.unlink(missing_ok=True)
            raise

    def add(
        self,
        w: Mapping[str, NDArray[np.float64]],
        c: Mapping[str, NDArray[np.float64]],
        drawn: Mapping[str, NDArray[np.float64]] | None = None,
    ) -> None:
        """Append one block of samples (the next rows, in sample order).

        Parameters
        ----------
        w, c : mapping of str to ndarray, shape (m, T + 1)
            Every metric with the shocks and without them. [metric unit]
        drawn : mapping of str to ndarray, shape (m,), optional
            Every uncertain input's draws for these samples. [parameter unit]

        Raises
        ------
        ValueError
            If an input's draws are missing or the block would exceed ``total`` samples.
        """
        i = {m: _impact_of(m, w[m], c[m]) for m in self.metrics}
        self._write((w, c, i), drawn or {})

    def add_variants(
        self,
        variants: Sequence[Mapping[str, NDArray[np.float64]]],
        drawn: Mapping[str, NDArray[np.float64]],
    ) -> None:
        """Append rows whose impact is already computed (``variants`` in :data:`VARIANTS`)."""
        self._write(variants, drawn)

    def _write(
        self,
        variants: Sequence[Mapping[str, NDArray[np.float64]]],
        drawn: Mapping[str, NDArray[np.float64]],
    ) -> None:
        pa = self._pa
        if self.metrics:
            n = int(np.asarray(variants[0][self.metrics[0]]).shape[0])
        elif self.inputs:
            n = int(np.asarray(drawn[self.inputs[0]]).shape[0])
        else:
            n = 0
        if self.done + n > self.total:
            msg = f"more samples than announced: {self.done + n} > {self.total}"
            raise ValueError(msg)
        step = self.group_samples
        for start in range(0, n, step):
            rows = slice(start, min(n, start + step))
            part = [{m: np.asarray(v[m])[rows] for m in self.metrics} for v in variants]
            draws = {k: np.asarray(drawn[k])[rows] for k in self.inputs if k in drawn}
            cols = _block_columns(
                self.done + start, self.years, part, self.metrics, draws, self.inputs
            )
            table = pa.Table.from_arrays([pa.array(col) for col in cols], schema=self.schema)
            self._writer.write_table(table, row_group_size=table.num_rows)
        self.done += n

    def finish(self) -> Path:
        """Close the file and rename it into place; the path written.

        Raises
        ------
        ValueError
            If fewer samples than ``total`` were added (nothing is renamed).
        """
        self._writer.close()
        if self.done != self.total:
            msg = f"samples.parquet: {self.done} samples written, {self.total} announced"
            raise ValueError(msg)
        self.tmp.replace(self.path)
        return self.path

    def cleanup(self) -> None:
        """Close the file if open and remove the temporary file (after :meth:`finish` too)."""
        if self._writer is not None and self._writer.is_open:
            self._writer.close()
        self.tmp.unlink(missing_ok=True)


def write_samples_parquet(path: str | os.PathLike[str], result: SimulationResult) -> Path:
    """Write an in-memory result's per-sample arrays and input draws as ``samples.parquet``.

    The same file, bit for bit in its values, as ``simulate_summary(..., save_samples=
    "samples.parquet")`` streams for the same run; written in row groups of about 64 MB
    to a temporary file, then renamed.

    Raises
    ------
    MissingExtraError
        If pyarrow is not installed.
    """
    writer = ParquetSamplesWriter(
        path, result.metrics, result.years, result.n_samples, tuple(result.inputs)
    )
    try:
        writer.add_variants([result.variant(v) for v in VARIANTS], result.inputs)
        return writer.finish()
    finally:
        writer.cleanup()
