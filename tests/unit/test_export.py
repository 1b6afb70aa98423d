"""Results where analysts work: units, pandas, xarray and Parquet (issue 10, item 4).

Known values: the units are those of MODEL.md §9 (``-`` written ``1``); every other expected
value is the result's own array, so the checks are exact equalities (bit for bit) of the
same numbers reached through two paths.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from simulator.engine import simulate, simulate_summary
from simulator.errors import MissingExtraError
from simulator.io import load_scenario
from simulator.metrics import IMPACT_AS_DIFFERENCE, METRIC_UNITS, value_unit
from simulator.result import VARIANTS, SimulationResult
from simulator.summary import COLUMNS, SummaryTable, summarize

pd = pytest.importorskip("pandas")
xr = pytest.importorskip("xarray")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

ROOT = Path(__file__).parents[2]
DEEPSEEK = ROOT / "scenarios" / "deepseek.yaml"
N = 150
SEED = 7

# MODEL.md §9, the unit column of the output table ("-" is written "1").
MODEL_UNITS = {
    "compute_training": "FLOP",
    "compute_inference": "FLOP",
    "compute_total": "FLOP",
    "inference_share": "1",
    "capacity_required": "H100e",
    "installed_h100e": "H100e",
    "idle_h100e": "H100e",
    "unmet_h100e": "H100e",
    "shipments_h100e": "H100e",
    "shipments_units": "accelerators",
    "installed_units": "accelerators",
    "hbm_gb": "GB",
    "accelerator_revenue": "USD",
    "hbm_revenue": "USD",
    "datacenter_capex": "USD",
    "power_w": "W",
    "energy_j": "J",
}


@pytest.fixture(scope="module")
def scenario() -> Any:
    return load_scenario(DEEPSEEK)


@pytest.fixture(scope="module")
def result(scenario: Any) -> SimulationResult:
    return simulate(scenario, N, rng=SEED)


@pytest.fixture(scope="module")
def table(result: SimulationResult) -> SummaryTable:
    return summarize({v: result.variant(v) for v in VARIANTS}, result.years, scenario="deepseek")


# ------------------------------------------------------------------------------------ units


def test_every_metric_has_its_model_unit_in_every_variant():
    assert set(MODEL_UNITS) == set(METRIC_UNITS)
    for metric, unit in MODEL_UNITS.items():
        assert value_unit("with_shocks", metric) == unit
        assert value_unit("counterfactual", metric) == unit
        expected_impact = unit if metric in IMPACT_AS_DIFFERENCE else "1"
        assert value_unit("impact", metric) == expected_impact
    assert value_unit("impact", "idle_h100e") == "H100e"  # a paired difference, not a ratio
    assert value_unit("with_shocks", "compute.chat") == "FLOP"
    assert value_unit("ratio", "hbm_gb") == "1"
    assert value_unit("paired", "hbm_gb", "p_greater") == "1"
    assert value_unit("paired", "hbm_gb", "se_mean_paired") == "GB"
    assert value_unit("difference", "hbm_gb", "p50") == "GB"


def test_summary_rows_carry_units(table: SummaryTable, result: SimulationResult):
    assert COLUMNS[-1] == "unit"
    assert len(table.units) == len(table)
    assert "" not in table.units
    by_key = {
        (v, m): u for v, m, u in zip(table.variants, table.metrics, table.units, strict=True)
    }
    for metric in result.metrics:
        base = MODEL_UNITS.get(metric, "FLOP")  # compute.<segment> is in FLOP
        assert by_key["with_shocks", metric] == base
        assert by_key["counterfactual", metric] == base
        assert by_key["impact", metric] == (base if metric in IMPACT_AS_DIFFERENCE else "1")
    records = table.to_records()
    assert records[0]["unit"] == table.units[0]


def test_units_survive_concat_and_unknown_metrics_are_blank(table: SummaryTable):
    both = SummaryTable.concat([table, table])
    assert both.units == table.units + table.units
    odd = SummaryTable(("a",), ("with_shocks",), ("not_a_metric",), (2025,), ("mean",), np.ones(1))
    assert odd.units == ("",)
    with pytest.raises(ValueError, match="same length"):
        SummaryTable(("a",), ("b",), ("c",), (2025,), ("mean",), np.ones(1), units=("x", "y"))


def test_a_comparison_of_impacts_is_dimensionless(scenario: Any):
    from simulator.compare import Entry, compare

    entries = [Entry("a", scenario), Entry("b", scenario)]
    table = compare(entries, samples=40, rng=1, variant="impact").table(["hbm_gb", "idle_h100e"])
    units = {
        (v, m, s): u
        for v, m, s, u in zip(
            table.variants, table.metrics, table.statistics, table.units, strict=True
        )
    }
    assert units["impact", "hbm_gb", "p50"] == "1"
    assert units["difference", "hbm_gb", "p50"] == "1"  # a difference of two ratios
    assert units["paired", "hbm_gb", "se_mean_paired"] == "1"
    assert units["difference", "idle_h100e", "p50"] == "H100e"  # of two differences
    assert units["paired", "idle_h100e", "p_greater"] == "1"


# ----------------------------------------------------------------------------------- pandas


def test_to_pandas_equals_the_csv_read_back(table: SummaryTable):
    df = table.to_pandas()
    assert list(df.columns) == list(COLUMNS)
    for name in ("scenario", "variant", "metric", "statistic", "unit"):
        assert isinstance(df[name].dtype, pd.CategoricalDtype), name
    assert df["year"].dtype == np.int64
    assert df["value"].dtype == np.float64
    # values parsed by Python's float (exact round trip); pandas < 3's C parser is not
    back = pd.read_csv(io.StringIO(table.to_csv_string()), keep_default_na=False, dtype=str)
    back["value"] = back["value"].map(float)
    plain = df.astype(dict.fromkeys(("scenario", "variant", "metric", "statistic", "unit"), str))
    pd.testing.assert_frame_equal(plain, back.astype(plain.dtypes.to_dict()), check_exact=True)
    np.testing.assert_array_equal(df["value"].to_numpy(), table.values)


def test_result_to_pandas_is_the_samples_layout(result: SimulationResult):
    df = result.to_pandas()
    n, t = result.n_samples, len(result.years)
    assert len(df) == n * t
    assert list(df.columns[:2]) == ["sample", "year"]
    assert df.columns[2] == f"with_shocks/{result.metrics[0]}"
    row = df.iloc[5 * t + 3]  # sample 5, the fourth year
    assert row["sample"] == 5
    assert row["year"] == result.years[3]
    assert row["impact/hbm_gb"] == result.impact["hbm_gb"][5, 3]
    assert row["counterfactual/power_w"] == result.counterfactual["power_w"][5, 3]
    name = next(iter(result.inputs))
    assert row[f"inputs/{name}"] == result.inputs[name][5]
    # the whole column, sample-major
    np.testing.assert_array_equal(
        df["with_shocks/shipments_units"].to_numpy().reshape(n, t),
        result.with_shocks["shipments_units"],
    )


# ----------------------------------------------------------------------------------- xarray


def test_to_xarray_selections_equal_the_result_arrays(result: SimulationResult):
    ds = result.to_xarray()
    assert dict(ds.sizes) == {"sample": N, "year": len(result.years), "variant": 3}
    assert list(ds["variant"].values) == list(VARIANTS)
    k = result.years.index(2027)
    for variant in VARIANTS:
        got = ds["hbm_gb"].sel(variant=variant, year=2027).values
        np.testing.assert_array_equal(got, result.variant(variant)["hbm_gb"][:, k])
    assert ds["hbm_gb"].attrs["units"] == "GB"
    assert ds["hbm_gb"].attrs["impact_units"] == "1"
    assert ds["unmet_h100e"].attrs["impact_units"] == "H100e"
    for name, draws in result.inputs.items():
        assert ds[name].dims == ("sample",)
        np.testing.assert_array_equal(ds[name].values, draws)
    assert ds.attrs["scenario"] == "deepseek"
    assert ds.attrs["seed"] == SEED
    assert ds.attrs["method"] == result.method
    assert ds.attrs["block_size"] == result.block_size
    assert json.loads(ds.attrs["versions"]) == dict(result.versions)
    stacked = ds[list(result.metrics)].to_dataarray("metric")
    assert stacked.dims == ("metric", "sample", "year", "variant")


def test_run_summary_to_xarray_has_a_statistic_dimension(scenario: Any):
    run = simulate_summary(scenario, N, rng=SEED, workers=1)
    ds = run.to_xarray()
    assert set(ds.sizes) == {"variant", "year", "statistic"}
    for stat in ("mean", "p5", "p50", "p95", "se_p50"):
        got = float(ds["hbm_gb"].sel(variant="with_shocks", year=2027, statistic=stat))
        assert got == run.summary.value("with_shocks", "hbm_gb", 2027, stat)
    assert ds.attrs["exact"] == 1
    pd.testing.assert_frame_equal(run.to_pandas(), run.summary.to_pandas())


# ------------------------------------------------------------------------------------- repr


def test_reprs_are_short_and_say_what_the_object_is(
    result: SimulationResult, table: SummaryTable, scenario: Any
):
    text = repr(result)
    assert text == (
        f"SimulationResult('deepseek', n={N}, years=2024..2035, metrics={len(result.metrics)}, "
        f"inputs={len(result.inputs)}, method='{result.method}', seed={SEED})"
    )
    assert "array" not in text
    assert len(repr(table)) < 200
    assert repr(table).startswith(f"SummaryTable(rows={len(table):,}, scenarios=[deepseek]")
    run = simulate_summary(scenario, 20, rng=SEED, workers=1)
    assert len(repr(run)) < 250
    assert "quantiles=exact" in repr(run)
    assert "array" not in repr(run)


# ---------------------------------------------------------------------------------- Parquet


def _npz_arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


@pytest.mark.parametrize("exact_budget", [None, 0], ids=["exact", "streamed"])
def test_parquet_samples_equal_the_npz_bit_for_bit(
    scenario: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exact_budget: int | None
):
    from simulator import export

    # several blocks (block_size 64) and several row groups per block (about 40 samples)
    monkeypatch.setattr(export, "_GROUP_BYTES", 40 * 12 * 8 * 200)
    kwargs: dict[str, Any] = {
        "rng": SEED,
        "block_size": 64,
        "workers": 2,
        "exact_budget": exact_budget,
    }
    a = simulate_summary(scenario, 200, save_samples=tmp_path / "s.npz", **kwargs)
    b = simulate_summary(scenario, 200, save_samples=tmp_path / "s.parquet", **kwargs)
    assert b.samples_file == tmp_path / "s.parquet"
    arrays = _npz_arrays(tmp_path / "s.npz")
    pf = pq.ParquetFile(tmp_path / "s.parquet")
    assert pf.metadata.num_row_groups > 200 // 64
    got = pf.read().to_pandas()
    n, t = 200, len(a.years)
    assert list(got["sample"][:t]) == [0] * t
    np.testing.assert_array_equal(got["sample"].to_numpy().reshape(n, t)[:, 0], np.arange(n))
    np.testing.assert_array_equal(got["year"].to_numpy().reshape(n, t)[0], arrays["years"])
    keys = [k for k in arrays if k != "years"]
    assert set(keys) == set(got.columns) - {"sample", "year"}
    for key in keys:
        values = got[key].to_numpy()
        if key.startswith("inputs/"):
            np.testing.assert_array_equal(values.reshape(n, t)[:, 0], arrays[key])
            np.testing.assert_array_equal(values.reshape(n, t)[:, -1], arrays[key])
        else:
            want = arrays[key]
            assert values.tobytes() == np.ascontiguousarray(want).tobytes(), key
    assert not list(tmp_path.glob(".*"))  # no temporary file left


def test_parquet_metadata_and_the_in_memory_writer(
    result: SimulationResult, tmp_path: Path, scenario: Any
):
    from simulator.export import write_samples_parquet

    path = write_samples_parquet(tmp_path / "m.parquet", result)
    schema = pq.read_schema(path)
    assert schema.field("with_shocks/hbm_gb").metadata[b"unit"] == b"GB"
    assert schema.field("impact/hbm_gb").metadata[b"unit"] == b"1"
    about = json.loads(schema.metadata[b"jevons"])
    assert about["format"] == "jevons-samples/1"
    assert about["years"] == list(result.years)
    assert about["n_samples"] == N
    assert about["inputs"] == list(result.inputs)
    # the in-memory file equals the frame of the result, and the streamed file of the run
    pd.testing.assert_frame_equal(pd.read_parquet(path), result.to_pandas(), check_exact=True)
    streamed = simulate_summary(
        scenario, N, rng=SEED, workers=1, save_samples=tmp_path / "s.parquet"
    )
    assert streamed.samples_file is not None
    pd.testing.assert_frame_equal(
        pd.read_parquet(streamed.samples_file), result.to_pandas(), check_exact=True
    )


def test_the_parquet_writer_never_leaves_a_partial_file(result: SimulationResult, tmp_path: Path):
    from simulator.export import ParquetSamplesWriter

    path = tmp_path / "x.parquet"
    writer = ParquetSamplesWriter(path, result.metrics, result.years, N + 1, tuple(result.inputs))
    try:
        writer.add(result.with_shocks, result.counterfactual, result.inputs)
        with pytest.raises(ValueError, match=f"{N} samples written, {N + 1} announced"):
            writer.finish()
    finally:
        writer.cleanup()
    assert list(tmp_path.iterdir()) == []
    writer = ParquetSamplesWriter(path, result.metrics, result.years, N, tuple(result.inputs))
    try:
        with pytest.raises(ValueError, match="no draws of input"):
            writer.add(result.with_shocks, result.counterfactual, {})
    finally:
        writer.cleanup()
    assert list(tmp_path.iterdir()) == []


def test_summary_parquet_reads_back_as_the_frame(table: SummaryTable, tmp_path: Path):
    from simulator.export import write_summary_parquet

    write_summary_parquet(tmp_path / "s.parquet", table)
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "s.parquet"), table.to_pandas(), check_exact=True
    )


# --------------------------------------------------------------------- missing optional extra


@pytest.mark.parametrize(
    ("module", "call"),
    [
        ("pandas", lambda r, t, p: t.to_pandas()),
        ("pandas", lambda r, t, p: r.to_pandas()),
        ("xarray", lambda r, t, p: r.to_xarray()),
        (
            "pyarrow",
            lambda r, t, p: __import__("simulator.export").export.write_samples_parquet(p, r),
        ),
    ],
    ids=["table.to_pandas", "result.to_pandas", "result.to_xarray", "samples.parquet"],
)
def test_a_missing_module_names_the_extra(
    module: str,
    call: Any,
    result: SimulationResult,
    table: SummaryTable,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setitem(sys.modules, module, None)
    monkeypatch.setitem(sys.modules, f"{module}.parquet", None)
    with pytest.raises(MissingExtraError, match=r"needs \w+, which is not installed") as info:
        call(result, table, tmp_path / "x.parquet")
    assert 'pip install "jevons[io]"' in str(info.value)
    assert info.value.module == module
    assert isinstance(info.value, ImportError)
    assert list(tmp_path.iterdir()) == []


def test_write_outputs_refuses_parquet_without_pyarrow_before_writing(
    result: SimulationResult, table: SummaryTable, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from simulator.report.writers import write_outputs

    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(MissingExtraError, match="jevons\\[io\\]"):
        write_outputs(tmp_path / "out", result, table, parquet=True)
    assert list(tmp_path.iterdir()) == []


def test_to_xarray_can_be_stored_as_netcdf(result: SimulationResult, tmp_path: Path):
    # the attributes are plain strings and numbers (versions and resolved as JSON text), so
    # netCDF stores them; scipy's netCDF3 writer is a dependency already
    ds = result.to_xarray()
    ds.to_netcdf(tmp_path / "r.nc")
    with xr.open_dataset(tmp_path / "r.nc") as back:
        np.testing.assert_array_equal(back["hbm_gb"].values, ds["hbm_gb"].values)
        assert back.attrs["scenario"] == "deepseek"
        assert json.loads(back.attrs["resolved"])["name"] == "deepseek"
