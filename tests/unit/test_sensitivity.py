"""Rank sensitivity (simulator.sensitivity) on functions with known answers.

Reference values:
- Linear model of independent standard normals, y = sum b_i x_i: (x_i, y) is bivariate
  normal with Pearson correlation rho_i = b_i / ||b||, whose Spearman correlation is
  (6 / pi) arcsin(rho_i / 2) exactly (K. Pearson 1907; Kruskal 1958, JASA 53:814). With
  independent inputs the standardized multiple regression coefficient of each input equals
  its simple correlation, so SRRC_i tends to the same value.
- The mean of a standard normal in its top decile is phi(z_0.9) / 0.1 = 1.7550 (the
  truncated-normal mean), so the swing of x_i in that model is 2 * 1.7550 * b_i.
- Uniforms on (0, 1): the bottom and top deciles have means 0.05 and 0.95, so with
  independent inputs the swing of x_i in y = sum b_i x_i is exactly 0.9 b_i.
- A monotone transform of y leaves every rank, so every Spearman coefficient and SRRC,
  unchanged; y = x^5 has Spearman correlation 1 with x.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

from simulator.engine import simulate
from simulator.io import load_scenario
from simulator.sensitivity import (
    COLUMNS,
    MIN_SAMPLES,
    SensitivityError,
    rank_sensitivity,
    result_sensitivity,
    short_label,
    short_labels,
)

B = np.array([1.0, 2.0, 3.0, 0.0])
TOP_DECILE_MEAN = stats.norm.pdf(stats.norm.ppf(0.9)) / 0.1  # 1.75498...


def _normal_linear(n: int, seed: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    x = np.random.default_rng(seed).standard_normal((n, len(B)))
    return {f"x{i}": x[:, i] for i in range(len(B))}, x @ B


def _by_input(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(r["input"]): r for r in rows}


def test_linear_normal_model_matches_analytic_spearman_srrc_and_swing():
    inputs, y = _normal_linear(20_000, seed=1)
    table = rank_sensitivity(inputs, {("y", 2027, "with_shocks"): y})
    got = _by_input(table.rows)
    rho = B / np.linalg.norm(B)
    spearman = 6.0 / math.pi * np.arcsin(rho / 2.0)
    for i in range(len(B)):
        r = got[f"x{i}"]
        se = float(r["spearman_se"])
        assert abs(float(r["spearman"]) - spearman[i]) < 4 * se
        assert float(r["spearman_ci_low"]) < spearman[i] < float(r["spearman_ci_high"])
        assert float(r["srrc"]) == pytest.approx(spearman[i], abs=0.01)
        swing = 2 * TOP_DECILE_MEAN * B[i]
        swing_se = float(r["swing_se"])
        if B[i] > 0:
            assert abs(float(r["swing"]) - swing) < 4 * swing_se
    # ranked by |Spearman|; the input with no effect is last, its coefficient within error
    assert [r["input"] for r in table.rows] == ["x2", "x1", "x0", "x3"]
    assert [r["rank"] for r in table.rows] == [1, 2, 3, 4]
    assert abs(float(got["x3"]["spearman"])) < 4 * float(got["x3"]["spearman_se"])
    # R² of the rank regression: sum of squared Spearman coefficients (independent inputs)
    assert table.rows[0]["r2_rank"] == pytest.approx(float(np.sum(spearman**2)), abs=0.01)


def test_linear_uniform_model_swing_is_0_9_b_and_srrc_near_standardized_b():
    rng = np.random.default_rng(2)
    n = 20_000
    b = np.array([1.0, -1.5, 2.0, 0.5, 1.0])
    u = rng.random((n, len(b)))
    table = rank_sensitivity({f"u{i}": u[:, i] for i in range(len(b))}, {("y", 1, "v"): u @ b})
    got = _by_input(table.rows)
    standardized = b / np.linalg.norm(b)  # b_i sd(u_i) / sd(y), equal input variances
    srrc = np.array([float(got[f"u{i}"]["srrc"]) for i in range(len(b))])
    # SRRC regresses the ranks of y, a smooth but not linear transform of y, so it equals
    # the standardized b only approximately: within 0.014 over seeds 0-2 (measured), 0.025
    # allowed; and the signs exactly
    np.testing.assert_allclose(srrc, standardized, atol=0.025)
    np.testing.assert_array_equal(np.sign(srrc), np.sign(standardized))
    for i in range(len(b)):
        r = got[f"u{i}"]
        assert abs(float(r["swing"]) - 0.9 * abs(b[i])) < 4 * float(r["swing_se"])
        # the decile means themselves: E[y] +- b_i (0.45) at the input's two ends
        lo_end = float(r["mean_bottom"]) - float(r["output_mean"])
        hi_end = float(r["mean_top"]) - float(r["output_mean"])
        assert np.sign(hi_end) == np.sign(b[i]) == -np.sign(lo_end)


def test_monotone_transform_leaves_rank_measures_unchanged():
    inputs, y = _normal_linear(5_000, seed=3)
    linear = rank_sensitivity(inputs, {("y", 0, "v"): y})
    curved = rank_sensitivity(inputs, {("y", 0, "v"): np.exp(0.7 * y)})
    for a, b in zip(linear.rows, curved.rows, strict=True):
        assert a["input"] == b["input"]
        assert a["spearman"] == pytest.approx(b["spearman"], abs=1e-12)
        assert a["srrc"] == pytest.approx(b["srrc"], abs=1e-12)
    x = np.random.default_rng(4).random(500)
    other = np.random.default_rng(5).random(500)
    single = rank_sensitivity({"x": x, "other": other}, {("y", 0, "v"): x**5})
    assert single.rows[0]["input"] == "x"
    assert single.rows[0]["spearman"] == pytest.approx(1.0, abs=1e-12)
    assert single.rows[0]["srrc"] == pytest.approx(1.0, abs=1e-9)


def test_spearman_agrees_with_scipy_including_ties():
    rng = np.random.default_rng(6)
    n = 400
    coin = rng.integers(0, 2, n).astype(float)  # two values: heavy ties
    steps = np.round(rng.random(n) * 5)  # six values
    smooth = rng.random(n)
    y = np.minimum(coin + steps + smooth, 5.0)  # capped output: ties at 5
    table = rank_sensitivity({"coin": coin, "steps": steps, "smooth": smooth}, {("y", 0, "v"): y})
    for name, x in (("coin", coin), ("steps", steps), ("smooth", smooth)):
        want = stats.spearmanr(x, y).statistic
        assert _by_input(table.rows)[name]["spearman"] == pytest.approx(want, abs=1e-12)


def test_spearman_interval_covers_the_truth_about_95_percent_of_the_time():
    # 300 replicates of n = 300: the Fieller-Hartley-Pearson interval should cover the
    # analytic value (bivariate normal, rho 0.6) in 95% of them; binomial sd is 1.3%.
    truth = 6.0 / math.pi * math.asin(0.3)
    covered = 0
    for seed in range(300):
        rng = np.random.default_rng(seed)
        x = rng.standard_normal(300)
        y = 0.6 * x + 0.8 * rng.standard_normal(300)
        r = rank_sensitivity({"x": x, "z": rng.random(300)}, {("y", 0, "v"): y}).rows[0]
        covered += r["spearman_ci_low"] <= truth <= r["spearman_ci_high"]
    assert 0.91 <= covered / 300 <= 0.99


def test_swing_follows_atrisk_bins_min_and_max_of_decile_means():
    # a U-shaped response: the lowest mean is in a middle bin, so the swing runs from the
    # middle to the ends, as @RISK draws it (lowest to highest of the ten bin means)
    x = np.linspace(0.0, 1.0, 1000)
    other = np.random.default_rng(7).random(1000)
    y = (x - 0.5) ** 2
    r = _by_input(rank_sensitivity({"x": x, "o": other}, {("y", 0, "v"): y}).rows)["x"]
    means = [y[k * 100 : (k + 1) * 100].mean() for k in range(10)]
    assert r["swing_low"] == pytest.approx(min(means), rel=1e-12)
    assert r["swing_high"] == pytest.approx(max(means), rel=1e-12)
    assert r["mean_bottom"] == pytest.approx(means[0], rel=1e-12)
    assert r["mean_top"] == pytest.approx(means[-1], rel=1e-12)
    assert abs(r["spearman"]) < 0.1  # not monotone: the correlation misses it


def test_constant_inputs_are_skipped_and_every_number_is_finite():
    inputs, y = _normal_linear(500, seed=8)
    inputs["fixed"] = np.full(500, 3.0)
    table = rank_sensitivity(inputs, {("y", 0, "v"): y})
    assert table.skipped == ("fixed",)
    assert "fixed" not in {r["input"] for r in table.rows}
    for r in table.rows:
        assert set(r) == set(COLUMNS)
        for c in COLUMNS:
            if isinstance(r[c], float):
                assert math.isfinite(r[c]), c


def test_constant_output_names_metric_year_and_variant():
    inputs, _ = _normal_linear(500, seed=9)
    with pytest.raises(SensitivityError, match=r"idle_h100e in 2024 \(with_shocks\) is the same"):
        rank_sensitivity(inputs, {("idle_h100e", 2024, "with_shocks"): np.zeros(500)})


@pytest.mark.parametrize(
    ("inputs", "y", "message"),
    [
        ({"x": np.arange(99.0)}, np.arange(99.0), "99 samples are too few"),
        ({"x": np.ones(200)}, np.arange(200.0), "no uncertain input varies"),
        ({}, np.arange(200.0), "no uncertain inputs"),
        ({"x": np.arange(200.0)}, np.r_[np.inf, np.arange(199.0)], "not finite"),
        ({"x": np.r_[np.nan, np.arange(199.0)]}, np.arange(200.0), "not finite"),
    ],
)
def test_bad_data_gets_a_clear_error(inputs, y, message):
    with pytest.raises(SensitivityError, match=message):
        rank_sensitivity(inputs, {("m", 0, "v"): y})


def test_more_inputs_than_samples_is_refused():
    rng = np.random.default_rng(10)
    inputs = {f"x{i}": rng.random(100) for i in range(99)}
    with pytest.raises(SensitivityError, match="too few for a rank regression on 99 inputs"):
        rank_sensitivity(inputs, {("m", 0, "v"): rng.random(100)})


def test_result_sensitivity_rejects_unknown_metric_and_year_listing_valid_ones():
    inputs, y = _normal_linear(200, seed=11)
    paths = {"with_shocks": {"hbm_gb": np.column_stack([y, 2 * y])}}
    with pytest.raises(SensitivityError, match="'power' is not in the run; available: hbm_gb"):
        result_sensitivity(inputs, paths, (2024, 2025), metrics=["power"], years=[2025])
    with pytest.raises(
        SensitivityError, match="year 2031 is not in the run; available: 2024-2025"
    ):
        result_sensitivity(inputs, paths, (2024, 2025), metrics=["hbm_gb"], years=[2031])


def test_csv_is_tidy_complete_and_written_atomically(tmp_path):
    inputs, y = _normal_linear(300, seed=12)
    table = rank_sensitivity(inputs, {("hbm_gb", 2027, "impact"): y})
    path = table.to_csv(tmp_path / "sensitivity.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert len(lines) == 1 + len(B)
    assert lines[1].startswith("hbm_gb,2027,impact,x2,1,")
    assert [p.name for p in tmp_path.iterdir()] == ["sensitivity.csv"]  # no temporary left


def test_short_labels_are_readable_and_unique():
    assert short_label("demand.segments.chat.elasticity.long") == "chat elasticity (long-run)"
    assert short_label("shocks.deepseek.magnitude") == "deepseek shock magnitude"
    assert short_label("fleet.supply_cap.anchors.2027") == "fleet supply cap 2027"
    assert short_label("chips.hbm_price.value") == "chips HBM price"
    assert short_label("demand.segments.chat.growth.anchors.2025") == "chat growth 2025"
    # two paths that would read the same keep their full paths
    clash = short_labels(["fleet.order_lead", "fleet.order.lead"])
    assert clash == {
        "fleet.order_lead": "fleet.order_lead",
        "fleet.order.lead": "fleet.order.lead",
    }


def test_min_samples_restated_by_the_command_line_agrees():
    from simulator.cli_sensitivity import MIN_SAMPLES as CLI_MIN

    assert CLI_MIN == MIN_SAMPLES


@pytest.fixture(scope="module")
def deepseek_run():
    return simulate(load_scenario("scenarios/deepseek.yaml"), 3000, rng=20250127)


def test_deepseek_shock_magnitude_drives_the_impact_but_not_the_counterfactual(deepseek_run):
    # The shock's size is the first driver of the HBM impact (with / without) in 2026, the
    # year its efficiency gain has landed and the long-run rebound has not (measured
    # Spearman about -0.46 at 4,000 samples); without the shock (the counterfactual) it
    # does nothing, so its coefficients there are zero within their Monte Carlo error.
    r = deepseek_run
    name = "shocks.deepseek.magnitude"

    def row(variant: str) -> dict[str, Any]:
        t = result_sensitivity(
            r.inputs,
            {variant: r.variant(variant)},
            r.years,
            metrics=["hbm_gb"],
            years=[2026],
            variant=variant,
        )
        return _by_input(t.rows)[name]

    impact, without = row("impact"), row("counterfactual")
    assert impact["rank"] == 1
    assert float(impact["spearman"]) < -0.3
    assert float(impact["swing"]) > 10 * float(impact["swing_se"])
    se = float(without["spearman_se"])
    assert abs(float(without["spearman"])) < 3 * se
    assert abs(float(without["srrc"])) < 3 * se
    # the draws the analysis saw are the ones the model used: every uncertain parameter
    assert set(r.inputs) >= {name, "demand.segments.chat.elasticity.long"}


def test_over_time_skips_constant_and_infinite_years_but_not_required_ones():
    inputs, y = _normal_linear(300, seed=13)
    paths = np.column_stack([np.ones(300), y, np.r_[np.inf, y[1:]]])
    variants = {"impact": {"hbm_gb": paths}}
    years = (2024, 2025, 2026)
    table = result_sensitivity(
        inputs,
        variants,
        years,
        metrics=["hbm_gb"],
        years=years,
        variant="impact",
        skip_constant=True,
        required_years=[2025],
    )
    assert {r["year"] for r in table.rows} == {2025}
    with pytest.raises(SensitivityError, match=r"hbm_gb in 2024 \(impact\) is the same"):
        result_sensitivity(
            inputs,
            variants,
            years,
            metrics=["hbm_gb"],
            years=years,
            variant="impact",
            skip_constant=True,
            required_years=[2024],
        )
