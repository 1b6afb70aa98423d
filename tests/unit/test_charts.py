"""Unit tests of simulator.report.charts and simulator.report.published.

The SimulationResult is built by hand (300 samples, a few metrics), so these tests need neither
the schema nor the engine. pytest turns every warning into an error (pyproject.toml), so each
chart drawn here is also a check that no raw matplotlib warning reaches the user.
"""

from __future__ import annotations

import dataclasses
import re
import struct
from pathlib import Path

import numpy as np
import pytest
from matplotlib.lines import Line2D
from numpy.typing import NDArray

from simulator.metrics import METRIC_UNITS
from simulator.report import charts
from simulator.report.published import PUBLISHED_POINTS, PublishedPoint, points_for
from simulator.result import SimulationResult
from simulator.summary import impact

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
YEARS = tuple(range(2024, 2033))
J_PER_TWH = 3.6e15


def _result(*, shocked: bool = True, zeros: bool = False) -> SimulationResult:
    rng = np.random.default_rng(2024)
    n, t = 300, len(YEARS)
    growth = np.cumprod(rng.lognormal(0.45, 0.1, size=(n, t)), axis=1).astype(np.float64)
    ships = 5e6 * growth
    with_shocks: dict[str, NDArray[np.float64]] = {
        "shipments_h100e": ships,
        "installed_h100e": 8.5e6 * growth,
        "hbm_revenue": ships * 3.6e3,
        "accelerator_revenue": ships * 2.8e4,
        "datacenter_capex": ships * 4.7e4,
        "energy_j": 80 * J_PER_TWH * growth,
        "inference_share": np.clip(0.2 + 0.02 * np.arange(t) + rng.normal(0, 0.03, (n, t)), 0, 1),
        "compute_training": 1e26 * growth,
        "compute_inference": 2e26 * growth**1.2,
        "idle_h100e": np.zeros((n, t)),
    }
    if zeros:  # a metric that is 0 on many samples: no log axis, no warning
        with_shocks["shipments_h100e"] = np.where(rng.random((n, t)) < 0.3, 0.0, ships)
    if shocked:
        factor = rng.uniform(0.6, 1.4, size=(n, t))
        factor[:, 0] = 1.0
        counterfactual = {k: v / factor for k, v in with_shocks.items()}
        for k, power in (("installed_h100e", 0.5), ("energy_j", 0.4)):  # slower stock metrics
            counterfactual[k] = with_shocks[k] / factor**power
        counterfactual["inference_share"] = with_shocks["inference_share"]
        counterfactual["idle_h100e"] = with_shocks["idle_h100e"]
    else:
        counterfactual = {k: v.copy() for k, v in with_shocks.items()}
    return SimulationResult(
        scenario_name="deepseek-shock",
        resolved={"name": "deepseek-shock"},
        years=YEARS,
        n_samples=n,
        seed=7,
        method="lhs",
        block_size=16_384,
        with_shocks=with_shocks,
        counterfactual=counterfactual,
        impact={k: impact(with_shocks[k], counterfactual[k]) for k in with_shocks},
        versions={"jevons": "9.9.9", "numpy": np.__version__},
    )


@pytest.fixture(scope="module")
def result() -> SimulationResult:
    return _result()


def _marker_lines(ax) -> list[Line2D]:
    """Published-point markers (not the caps of their range bars, drawn as ``_`` markers)."""
    return [line for line in ax.get_lines() if line.get_marker() in charts._MARKERS]


# ----------------------------------------------------------------------------- fan charts


def test_subtitle_names_the_run(result):
    assert charts.subtitle(result) == ("deepseek-shock: 300 samples (lhs), seed 7, jevons 9.9.9")


def test_fan_chart_draws_both_variants(result):
    ax = charts.fan_chart(result, "hbm_revenue", published=False)
    assert ax.get_title(loc="left") == "HBM revenue"
    assert ax.get_title(loc="right") == charts.subtitle(result)
    # $14B..$1,000B+: far more than 10x the first year's median, so a log axis.
    assert ax.get_yscale() == "log"
    assert ax.get_ylabel() == "HBM revenue [$B, log scale]"
    styles = [line.get_linestyle() for line in ax.get_lines()]
    # with-shock median; counterfactual P5 and P95 outlines; counterfactual median
    assert styles == ["-", ":", ":", "--"]
    assert len(ax.collections) == 4  # two bands per variant
    median = np.asarray(ax.get_lines()[0].get_ydata(), dtype=np.float64)
    expected = np.quantile(result.with_shocks["hbm_revenue"], 0.5, axis=0) * 1e-9
    np.testing.assert_allclose(median, expected)
    cf_p95 = np.asarray(ax.get_lines()[2].get_ydata(), dtype=np.float64)
    np.testing.assert_allclose(
        cf_p95, np.quantile(result.counterfactual["hbm_revenue"], 0.95, axis=0) * 1e-9
    )
    # The counterfactual's bands are hatched (readable where they overlap the filled ones).
    assert [bool(c.get_hatch()) for c in ax.collections] == [False, False, True, True]


def test_fan_chart_single_fan_without_shock():
    ax = charts.fan_chart(_result(shocked=False), "hbm_revenue", published=False)
    assert [line.get_linestyle() for line in ax.get_lines()] == ["-"]
    assert len(ax.collections) == 2
    labels = ax.get_figure().legends[0].get_texts()  # type: ignore[union-attr]
    assert [t.get_text() for t in labels] == ["projection: P5-P95, P25-P75, median"]


def test_fan_chart_linear_for_a_share_and_bounded_to_100(result):
    ax = charts.fan_chart(result, "inference_share")
    assert ax.get_yscale() == "linear"
    assert ax.get_ylim() == (0.0, 100.0)


def test_fan_chart_never_logs_zeros_and_refuses_a_forced_log():
    zeros = _result(zeros=True)
    ax = charts.fan_chart(zeros, "shipments_h100e")
    assert ax.get_yscale() == "linear"
    with pytest.raises(ValueError, match="cannot use a log axis"):
        charts.fan_chart(zeros, "shipments_h100e", log=True)
    assert charts.fan_chart(zeros, "installed_h100e", log=False).get_yscale() == "linear"


def test_fan_chart_argument_checks(result):
    with pytest.raises(ValueError, match="together"):
        charts.fan_chart(result, "hbm_revenue", scale=1.0)
    with pytest.raises(ValueError, match="not in the result"):
        charts.fan_chart(result, "power_w")


def test_fan_chart_marks_published_points_within_the_years(result):
    ax = charts.fan_chart(result, "shipments_h100e")
    markers = _marker_lines(ax)
    expected = [p for p in points_for("shipments_h100e", cumulative=False) if p.year <= 2032]
    # sources.md §7.1: AI 2027's 5M (2024), 11M, 25M, 60M (2027); Epoch's ~100M by 2030.
    assert len(markers) == len(expected) == 5
    ys = sorted(float(np.asarray(m.get_ydata())[0]) for m in markers)
    assert ys == pytest.approx([5.0, 11.0, 25.0, 60.0, 100.0])  # M H100e
    by_y = {float(np.asarray(m.get_ydata())[0]): m for m in markers}
    assert by_y[60.0].get_markerfacecolor() != "white"  # like for like: filled
    assert by_y[100.0].get_markerfacecolor() == "white"  # Epoch's capacity: hollow
    legend = ax.get_figure().legends[0]  # type: ignore[union-attr]
    texts = [t.get_text() for t in legend.get_texts()]
    assert "AI 2027 forecast (sources.md §7.1)" in texts
    assert "hollow markers" in legend.get_title().get_text()


def test_fan_chart_skips_points_outside_the_years_and_cumulative_ones(result):
    # energy_j: IEA 2035 cases are outside 2024-2032; no cumulative points on a chart.
    ax = charts.fan_chart(result, "energy_j")
    ys = sorted(round(float(np.asarray(m.get_ydata())[0])) for m in _marker_lines(ax))
    assert ys == [93, 415, 432, 670, 945, 1260]  # TWh, sources.md §5.1, §5.2
    ax = charts.fan_chart(result, "datacenter_capex")
    values = {round(float(np.asarray(m.get_ydata())[0])) for m in _marker_lines(ax)}
    assert 5200 not in values  # McKinsey's cumulative $5.2T is a table row, not a marker


def test_lower_bounds_get_an_arrow(result):
    # AMD's "more than $500B" AI accelerator TAM by 2028 (sources.md §4.7) is a lower bound.
    ax = charts.fan_chart(result, "accelerator_revenue")
    arrows = [t for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
    assert len(arrows) == sum(p.at_least for p in points_for("accelerator_revenue"))
    assert len(arrows) == 1
    assert ax.get_ylim()[1] > 500 * 1.3  # the arrow stays inside the axes
    legend = ax.get_figure().legends[0]  # type: ignore[union-attr]
    assert "arrow: a lower bound" in legend.get_title().get_text()


def test_markers_sharing_a_year_sit_side_by_side(result):
    ax = charts.fan_chart(result, "energy_j")
    xs_2030 = sorted(
        float(np.asarray(m.get_xdata())[0])
        for m in _marker_lines(ax)
        if abs(float(np.asarray(m.get_xdata())[0]) - 2030) < 0.5
    )
    assert len(xs_2030) == 4  # IEA Base, Lift-Off, Headwinds, Gartner
    assert len(set(xs_2030)) == 4
    assert np.mean(xs_2030) == pytest.approx(2030.0)


# ----------------------------------------------------------------------------- impact chart


def test_impact_chart_groups_identical_impacts_and_draws_the_line_at_one(result):
    fig = charts.impact_chart(result)
    assert fig is not None
    axes = [ax for ax in fig.axes if ax.get_visible()]
    titles = [ax.get_title() for ax in axes]
    # Shipments, HBM revenue, accelerator revenue and capex are proportional per sample
    # here (as in the model when the chip mix does not depend on the shock): one panel.
    assert titles[0] == ("Shipments (H100e), HBM revenue, Accelerator revenue, Data-centre capex")
    assert len(axes) == 3  # + installed fleet, fleet energy (compute_total is absent)
    ax = axes[0]
    median = np.asarray(ax.get_lines()[0].get_ydata(), dtype=np.float64)
    np.testing.assert_allclose(median, np.quantile(result.impact["shipments_h100e"], 0.5, axis=0))
    one = ax.get_lines()[1]
    assert np.asarray(one.get_ydata(), dtype=np.float64).tolist() == [1.0, 1.0]
    assert charts.subtitle(result) in fig.get_suptitle()


def test_impact_chart_none_without_effect():
    assert charts.impact_chart(_result(shocked=False)) is None
    assert charts.impact_chart(_result(), metrics=("power_w",)) is None


def test_impact_chart_clips_infinite_ratios():
    base = _result()
    ratio = np.asarray(base.impact["energy_j"]).copy()
    ratio[:200, -1] = np.inf  # x/0 = inf on most samples in the last year (MODEL.md §7)
    res = SimulationResult(
        **{**base.__dict__, "impact": {**base.impact, "energy_j": ratio}},
    )
    fig = charts.impact_chart(res, metrics=("energy_j",))
    assert fig is not None
    median = np.asarray(fig.axes[0].get_lines()[0].get_ydata(), dtype=np.float64)
    assert median[-1] == 64.0
    assert np.all(np.isfinite(median))


# ----------------------------------------------------------------------------- files


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_write_charts(result, tmp_path):
    paths = charts.write_charts(result, tmp_path / "charts")
    names = [p.name for p in paths]
    assert names == [
        "impact.png",
        "shipments_h100e.png",
        "installed_h100e.png",
        "hbm_revenue.png",
        "accelerator_revenue.png",
        "datacenter_capex.png",
        "energy_j.png",
        "inference_share.png",
        "compute_by_kind.png",
    ]
    # 150 dpi: an 8 x 5.5 inch chart is 1200 x 825 pixels.
    assert charts.DPI == 150
    assert _png_size(tmp_path / "charts" / "hbm_revenue.png") == (1200, 825)
    for path in paths:
        assert _png_size(path)[0] > 0
    assert not list((tmp_path / "charts").glob(".*"))


def test_write_charts_without_shock_has_no_impact_chart(tmp_path):
    paths = charts.write_charts(_result(shocked=False), tmp_path, metrics=("hbm_revenue",))
    assert [p.name for p in paths] == ["hbm_revenue.png", "compute_by_kind.png"]


def test_write_charts_with_zeros_warns_nothing(tmp_path):
    # filterwarnings = error: a "cannot be log-scaled" or divide warning would fail here.
    paths = charts.write_charts(_result(zeros=True), tmp_path, metrics=("shipments_h100e",))
    assert [p.name for p in paths] == ["impact.png", "shipments_h100e.png", "compute_by_kind.png"]


# ----------------------------------------------------------------------------- published


def test_published_points_are_well_formed():
    assert len(PUBLISHED_POINTS) > 20
    for p in PUBLISHED_POINTS:
        assert p.metric in METRIC_UNITS
        assert re.fullmatch(r"sources\.md §\d+(\.\d+)?(, §\d+(\.\d+)?)*", p.source), p.source
        assert p.kind in ("fact", "forecast")
        assert p.like_for_like or p.caveat
        if p.kind == "fact":
            assert p.year == 2024, p
    # No two points of a metric and year share a label (they would merge in a legend).
    keys = [(p.metric, p.period, p.label) for p in PUBLISHED_POINTS]
    assert len(keys) == len(set(keys))


def test_published_values_in_canonical_units():
    # sources.md §5.1: IEA base case 945 TWh in 2030, all data centres -> J, not like for like.
    (iea,) = [p for p in points_for("energy_j", years=(2030,)) if p.label.startswith("IEA Base")]
    assert iea.value == 945 * J_PER_TWH
    assert not iea.like_for_like
    assert "all data centres" in iea.caveat
    # sources.md §4.7: McKinsey's 156 GW is capacity, ours is average draw.
    (mck,) = points_for("power_w", years=(2030,))
    assert mck.value == 156e9
    assert "capacity" in mck.caveat
    assert "average draw" in mck.caveat
    # sources.md §4.7: McKinsey's $5.2T is cumulative 2025-2030, range $3.7-7.9T.
    (capex,) = [p for p in points_for("datacenter_capex", cumulative=True) if p.like_for_like]
    assert (capex.cumulative_from, capex.year, capex.value) == (2025, 2030, 5.2e12)
    assert (capex.low, capex.high) == (3.7e12, 7.9e12)
    assert capex.period == "2025-2030"
    # sources.md §4.5: big-4 2026 guidance $630-725B.
    (big4,) = [p for p in points_for("datacenter_capex", years=(2026,)) if "Big-4" in p.label]
    assert (big4.low, big4.high) == (630e9, 725e9)


def test_points_for_filters():
    every = points_for("shipments_h100e")
    assert [p.year for p in every] == [2024, 2025, 2026, 2027, 2030]
    assert [p.year for p in points_for("shipments_h100e", years=(2025, 2027))] == [2025, 2027]
    assert points_for("datacenter_capex", cumulative=True)
    assert all(p.cumulative for p in points_for("datacenter_capex", cumulative=True))
    assert points_for("compute.chat") == ()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"metric": "gpus"}, "unknown metric 'gpus'"),
        ({"value": 0.0}, "value must be > 0"),
        ({"low": 2.0}, "low must be in"),
        ({"high": 0.5}, "high must be >= value"),
        ({"cumulative_from": 2031}, "cumulative_from after year"),
        ({"like_for_like": False}, "needs a caveat"),
        ({"at_least": True, "high": 2.0}, "has no high"),
    ],
)
def test_published_point_checks(kwargs, message):
    args = {
        "metric": "hbm_revenue",
        "year": 2030,
        "value": 1.0,
        "label": "x",
        "source": "sources.md §4",
        "kind": "forecast",
    }
    with pytest.raises(ValueError, match=message):
        PublishedPoint(**(args | kwargs))


# ----------------------------------------------------------------------------- fleet balance


def test_fleet_balance_chart_shows_gluts_and_shortages(tmp_path):
    # A glut in year 1 with the shock only, a shortage in year 2 in both variants.
    base = _result()
    n, t = base.n_samples, len(base.years)
    idle = np.zeros((n, t))
    idle[:, 1] = np.linspace(1e6, 3e6, n)  # 1-3M H100e idle in the shock year
    unmet = np.zeros((n, t))
    unmet[:, 2] = 2e6
    with_shocks = {**base.with_shocks, "idle_h100e": idle, "unmet_h100e": unmet}
    without = {**base.counterfactual, "idle_h100e": np.zeros((n, t)), "unmet_h100e": unmet}
    result = dataclasses.replace(base, with_shocks=with_shocks, counterfactual=without)
    fig = charts.fleet_balance_chart(result)
    assert fig is not None
    idle_ax, unmet_ax = fig.axes[:2]
    # the with-shock median line of the idle panel is 2M H100e in year 1 (linspace median)
    median = next(line for line in idle_ax.get_lines() if line.get_linestyle() == "-")
    assert np.asarray(median.get_ydata())[1] == pytest.approx(2.0)
    assert "Idle" in idle_ax.get_title()
    assert "Unmet" in unmet_ax.get_title()
    paths = charts.write_charts(result, tmp_path, metrics=())
    assert [p.name for p in paths] == ["impact.png", "fleet_balance.png", "compute_by_kind.png"]


def test_no_fleet_balance_chart_when_nothing_idles_or_goes_unmet(tmp_path):
    base = _result()
    zero = np.zeros((base.n_samples, len(base.years)))
    both = {"idle_h100e": zero, "unmet_h100e": zero}
    result = dataclasses.replace(
        base,
        with_shocks={**base.with_shocks, **both},
        counterfactual={**base.counterfactual, **both},
    )
    assert charts.fleet_balance_chart(result) is None
    assert charts.fleet_balance_chart(_result()) is None  # no unmet_h100e in the result


def test_streamed_run_with_an_undefined_impact_mean_still_draws(tmp_path: Path) -> None:
    # A 1e7-sample deepseek run had a counterfactual with zero shipments in one sample and
    # year: that impact is x/0, its mean undefined and without a row in the summary. Charts
    # of a streamed run read the table, and must draw a gap there, not fail the run.
    from simulator.engine import simulate_summary
    from simulator.io import load_scenario

    scenario = load_scenario(Path(__file__).parents[2] / "scenarios" / "deepseek.yaml")
    run = simulate_summary(scenario, 600, rng=1, exact_budget=0)
    table = run.summary
    year = run.years[5]
    keep = [
        i
        for i, (v, m, y, s) in enumerate(
            zip(table.variants, table.metrics, table.years, table.statistics, strict=True)
        )
        if not (v == "impact" and m == "shipments_h100e" and y == year and s in {"mean", "sd"})
    ]
    assert len(keep) == len(table.values) - 2
    pick = np.asarray(keep)
    gapped = dataclasses.replace(
        table,
        scenarios=tuple(np.asarray(table.scenarios, dtype=object)[pick]),
        variants=tuple(np.asarray(table.variants, dtype=object)[pick]),
        metrics=tuple(np.asarray(table.metrics, dtype=object)[pick]),
        years=tuple(int(y) for y in np.asarray(table.years)[pick]),
        statistics=tuple(np.asarray(table.statistics, dtype=object)[pick]),
        values=table.values[pick],
        units=tuple(np.asarray(table.units, dtype=object)[pick]) if table.units else (),
    )
    with pytest.raises(KeyError):
        gapped.value("impact", "shipments_h100e", year, "mean")
    written = charts.write_charts(dataclasses.replace(run, summary=gapped), tmp_path)
    assert "impact.png" in {p.name for p in written}
