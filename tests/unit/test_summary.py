"""Unit tests of simulator.summary: impact, describe, quantiles, exceedance, summarize.

Reference values are numpy's own functions on the same samples (mean, std with ddof=1,
np.quantile with the default linear method), closed forms, or hand computations noted inline.
"""

from __future__ import annotations

import io
import math
import warnings

import numpy as np
import pytest

from simulator.summary import (
    COLUMNS,
    DEFAULT_PROBS,
    ComparisonOp,
    QuestionAnswer,
    SummaryTable,
    describe,
    exceedance,
    impact,
    quantile_name,
    quantiles,
    summarize,
)

STATS = ("mean", "sd", "p5", "p25", "p50", "p75", "p95")
SE_STATS = ("se_mean", "se_p5", "se_p25", "se_p50", "se_p75", "se_p95")


@pytest.fixture
def samples():
    rng = np.random.default_rng(12345)
    return rng.lognormal(mean=1.0, sigma=0.7, size=(2_000, 6))


# ----------------------------------------------------------------------------- impact


def test_impact_rules():
    with_shocks = np.array([0.0, 3.0, 2.0, 0.0, 5.0])
    without = np.array([0.0, 0.0, 4.0, 7.0, 2.5])
    got = impact(with_shocks, without)
    np.testing.assert_array_equal(got, [1.0, np.inf, 0.5, 0.0, 2.0])
    assert not np.isnan(got).any()


def test_impact_raises_no_warnings_and_handles_overflow():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = impact(np.array([[1e300, 0.0], [1.0, 0.0]]), np.array([[1e-300, 0.0], [0.0, 1.0]]))
    np.testing.assert_array_equal(got, [[np.inf, 1.0], [np.inf, 0.0]])


def test_impact_broadcasts_and_returns_float64():
    got = impact(np.ones((3, 2), dtype=np.float32), np.array([1.0, 2.0]))
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, np.tile([1.0, 0.5], (3, 1)))


# ----------------------------------------------------------------------------- describe


def test_describe_matches_numpy(samples):
    got = describe(samples)
    assert tuple(got) == STATS[:2] + STATS[2:] + SE_STATS
    np.testing.assert_array_equal(got["mean"], np.mean(samples, axis=0))
    np.testing.assert_array_equal(got["sd"], np.std(samples, axis=0, ddof=1))
    expected_q = np.quantile(samples, DEFAULT_PROBS, axis=0)
    for i, name in enumerate(("p5", "p25", "p50", "p75", "p95")):
        np.testing.assert_array_equal(got[name], expected_q[i])
    np.testing.assert_allclose(
        got["se_mean"], np.std(samples, axis=0, ddof=1) / math.sqrt(len(samples)), rtol=1e-15
    )
    for value in got.values():
        assert value.shape == (samples.shape[1],)


def test_describe_quantile_se_is_the_order_statistic_half_width(samples):
    n = len(samples)
    got = describe(samples, probs=(0.3,))
    delta = math.sqrt(0.3 * 0.7 / n)
    lo, hi = np.quantile(samples, [0.3 - delta, 0.3 + delta], axis=0)
    np.testing.assert_allclose(got["se_p30"], 0.5 * (hi - lo), rtol=1e-12)


def test_quantile_se_of_the_median_of_a_normal_sample():
    # Asymptotically se(median) = sqrt(p(1-p)/n) / f(0) = 0.5 sqrt(2 pi) / sqrt(n)
    # = 1.2533 / sqrt(n) for a standard normal. One estimate has ~6% noise (about sqrt(n)
    # order statistics between the brackets), so average 8 independent samples.
    n = 100_000
    expected = math.sqrt(math.pi / 2.0) / math.sqrt(n)
    estimates = [
        describe(np.random.default_rng(seed).standard_normal((n, 1)))["se_p50"][0]
        for seed in range(8)
    ]
    assert abs(np.mean(estimates) / expected - 1.0) < 0.10


def test_describe_one_dimensional_input():
    x = np.arange(10.0)
    got = describe(x)
    assert got["p50"].shape == ()
    assert float(got["p50"]) == 4.5


def test_describe_single_sample_has_undefined_spread():
    got = describe(np.array([[3.0, 4.0]]))
    np.testing.assert_array_equal(got["mean"], [3.0, 4.0])
    np.testing.assert_array_equal(got["p5"], [3.0, 4.0])
    for name in ("sd", *SE_STATS):
        assert np.isnan(got[name]).all(), name


def test_describe_with_infinite_samples_follows_model_section_7():
    # column 0 finite; column 1 has 2 of 5 samples infinite: sorted [1, 2, 3, inf, inf]
    x = np.array([[1.0, 1.0], [2.0, np.inf], [3.0, 2.0], [4.0, np.inf], [5.0, 3.0]])
    got = describe(x)
    assert got["mean"][0] == 3.0
    assert np.isnan(got["mean"][1])
    assert np.isnan(got["sd"][1])
    assert np.isnan(got["se_mean"][1])
    # linear method: p50 -> index 2 (= 3.0); p75 -> index 3 (inf); p25 -> index 1 (2.0)
    assert got["p50"][1] == 3.0
    assert got["p25"][1] == 2.0
    assert got["p75"][1] == np.inf
    assert got["p95"][1] == np.inf
    for name in ("p5", "p25", "p50", "p75", "p95"):
        assert not np.isnan(got[name]).any()
        assert not np.isnan(got[f"se_{name}"]).any()


def test_describe_rejects_nan_and_bad_probs():
    with pytest.raises(ValueError, match="NaN"):
        describe(np.array([[1.0], [np.nan]]))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        describe(np.ones((3, 2)), probs=(0.5, 1.5))
    with pytest.raises(ValueError, match="at least one sample"):
        describe(np.ones((0, 2)))


def test_quantile_name():
    assert [quantile_name(p) for p in DEFAULT_PROBS] == ["p5", "p25", "p50", "p75", "p95"]
    assert quantile_name(0.025) == "p2.5"
    assert quantile_name(0.999) == "p99.9"


# ----------------------------------------------------------------------------- quantiles


def _reference_quantile(column: list[float], p: float) -> float:
    """Hyndman-Fan type 7 on the sorted column, in plain Python, +inf handled by hand."""
    s = sorted(column)
    n = len(s)
    v = n * p + (1.0 + p * (1.0 - 1.0 - 1.0)) - 1.0
    if v >= n - 1:
        return s[-1]
    lo = math.floor(v)
    g = v - lo
    a, b = s[lo], s[lo + 1]
    if math.isinf(a) or g == 0.0:
        return a
    if math.isinf(b):
        return math.inf
    return float(np.quantile(np.array([a, b]), g))


def test_quantiles_with_infinities_match_a_plain_reference():
    rng = np.random.default_rng(7)
    for _ in range(200):
        n = int(rng.integers(1, 25))
        x = rng.random((n, 3))
        x[rng.random((n, 3)) < rng.random()] = np.inf
        probs = np.concatenate([rng.random(4), [0.0, 0.5, 1.0]])
        got = quantiles(x, probs)
        for j in range(3):
            for i, p in enumerate(probs):
                expected = _reference_quantile(list(x[:, j]), p)
                assert got[i, j] == pytest.approx(expected, rel=1e-12), (n, p, j)


def test_quantiles_equal_numpy_for_finite_data(samples):
    probs = (0.0, 0.01, 0.5, 0.99, 1.0)
    np.testing.assert_array_equal(quantiles(samples, probs), np.quantile(samples, probs, axis=0))


# ----------------------------------------------------------------------------- exceedance


def test_exceedance_values_and_standard_error():
    x = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [4.0, 40.0]])
    p, se = exceedance(x, ">", 2.0)
    np.testing.assert_array_equal(p, [0.5, 1.0])
    np.testing.assert_allclose(se, [math.sqrt(0.25 / 4), 0.0])
    p, _ = exceedance(x, ">=", 2.0)
    np.testing.assert_array_equal(p, [0.75, 1.0])
    p, _ = exceedance(x, "<", np.array([3.0, 25.0]))  # per-year threshold
    np.testing.assert_array_equal(p, [0.5, 0.5])


def test_exceedance_against_a_per_sample_counterfactual():
    with_shocks = np.array([[1.0, 5.0], [2.0, 1.0], [3.0, 1.0]])
    without = np.array([[2.0, 4.0], [2.0, 2.0], [1.0, 2.0]])
    p, se = exceedance(with_shocks, "<", without)
    np.testing.assert_array_equal(p, [1 / 3, 2 / 3])
    np.testing.assert_allclose(se, np.sqrt(p * (1 - p) / 3))


def test_complementary_exceedances_sum_to_one_exactly():
    rng = np.random.default_rng(3)
    for n in (1, 3, 7, 10, 999, 12_345):
        x = rng.integers(0, 5, size=(n, 4)).astype(float)  # ties at the threshold
        pairs: tuple[tuple[ComparisonOp, ComparisonOp], ...] = (("<", ">="), ("<=", ">"))
        for op, complement in pairs:
            a, _ = exceedance(x, op, 2.0)
            b, _ = exceedance(x, complement, 2.0)
            assert np.all(a + b == 1.0), (n, op)


def test_exceedance_rejects_bad_op_and_shape():
    x = np.ones((4, 3))
    with pytest.raises(ValueError, match="op must be one of"):
        exceedance(x, "==", 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="broadcast"):
        exceedance(x, "<", np.ones(4))


# ----------------------------------------------------------------------------- summarize


@pytest.fixture
def table(samples):
    with_shocks = {"hbm_gb": samples, "power_w": samples * 2.0}
    counterfactual = {"hbm_gb": samples * 1.5, "power_w": samples}
    variants = {
        "with_shocks": with_shocks,
        "counterfactual": counterfactual,
        "impact": {k: impact(with_shocks[k], counterfactual[k]) for k in with_shocks},
    }
    return summarize(variants, range(2025, 2031), scenario="base")


def test_summarize_is_tidy(table, samples):
    assert len(table) == 3 * 2 * 13 * 6
    assert set(table.scenarios) == {"base"}
    assert set(table.statistics) == set(STATS + SE_STATS)
    expected = float(np.quantile(samples[:, 2], 0.95))
    assert table.value("with_shocks", "hbm_gb", 2027, "p95") == expected
    assert table.value("impact", "power_w", 2030, "p50") == pytest.approx(2.0)
    assert table.value("impact", "hbm_gb", 2025, "mean") == pytest.approx(1 / 1.5)
    with pytest.raises(KeyError, match="no summary row"):
        table.value("with_shocks", "hbm_gb", 2040, "p50")


def test_summary_table_exports(table):
    records = table.to_records()
    assert len(records) == len(table)
    assert tuple(records[0]) == COLUMNS
    first = next(iter(table.rows()))
    assert tuple(records[0].values()) == first
    buf = io.StringIO()
    table.to_csv(buf)
    lines = buf.getvalue().splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert len(lines) == len(table) + 1
    scenario, variant, metric, year, statistic, value, unit = lines[1].split(",")
    assert (scenario, variant, metric, int(year), statistic) == first[:5]
    assert float(value) == first[5]  # repr round-trips
    # the first row is with_shocks hbm_gb (the fixture's first metric), in GB (MODEL.md §9)
    assert unit == first[6] == "GB"


def test_summary_table_to_csv_path(table, tmp_path):
    path = tmp_path / "s.csv"
    table.to_csv(path)
    assert path.read_text(encoding="utf-8") == table.to_csv_string()


def test_summary_table_concat_and_validation(table):
    both = SummaryTable.concat([table, table])
    assert len(both) == 2 * len(table)
    with pytest.raises(ValueError, match="same length"):
        SummaryTable(("a",), ("b",), ("c",), (2025,), ("mean",), np.array([1.0, 2.0]))


def test_summarize_names_the_bad_array():
    with pytest.raises(ValueError, match="with_shocks/hbm_gb"):
        summarize({"with_shocks": {"hbm_gb": np.ones((5, 3))}}, [2025, 2026], scenario="x")


def test_question_answer_to_dict():
    answer = QuestionAnswer("q1", "P(hbm_gb 2027 < counterfactual)", 0.25, 0.01)
    assert answer.to_dict() == {
        "name": "q1",
        "text": "P(hbm_gb 2027 < counterfactual)",
        "probability": 0.25,
        "se": 0.01,
    }
