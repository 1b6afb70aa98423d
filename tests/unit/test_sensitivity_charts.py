"""Tornado and sensitivity-over-time charts (simulator.report.sensitivity_charts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.colors import to_rgba

from simulator.report.sensitivity_charts import (
    over_time,
    tornado,
    tornado_name,
    write_sensitivity_charts,
)
from simulator.sensitivity import SensitivityTable, rank_sensitivity


@pytest.fixture(scope="module")
def table() -> SensitivityTable:
    # hbm_gb (canonical GB) rises with "up", falls with "down", ignores "noise";
    # the weight of "up" grows over the years while "down"'s stays
    rng = np.random.default_rng(0)
    n = 2000
    up, down, noise = rng.random(n), rng.random(n), rng.random(n)
    outputs = {
        ("hbm_gb", year, "with_shocks"): 1e9 * (10 + k * up - 2 * down)
        for k, year in enumerate((2025, 2026, 2027), start=1)
    }
    inputs = {"chips.up": up, "fleet.down": down, "shocks.x.noise": noise}
    return rank_sensitivity(inputs, outputs, meta={"scenario": "demo", "seed": 1})


def test_tornado_orders_by_swing_and_colours_each_end_by_the_input_end(table):
    ax = tornado(table, "hbm_gb", 2027, top=2)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0].startswith("chips up")  # swing 3 x 0.9 EB, on top
    assert labels[1].startswith("fleet down")  # swing 2 x 0.9 EB
    assert len(labels) == 2  # top=2: the input with no effect is left out
    bars: list[Any] = list(ax.patches)
    blue, orange = to_rgba("tab:blue"), to_rgba("tab:orange")
    # "up" rises: its left part (low deciles) blue, right part orange; "down" the reverse
    assert bars[0].get_facecolor() == blue
    assert bars[1].get_facecolor() == orange
    assert bars[2].get_facecolor() == orange
    assert bars[3].get_facecolor() == blue
    # bars span the lowest and highest decile means, in EB (1e9 GB), around the mean
    row = table.select("hbm_gb", 2027)[0]
    assert bars[0].get_x() == pytest.approx(row["swing_low"] * 1e-9)
    assert bars[1].get_x() + bars[1].get_width() == pytest.approx(row["swing_high"] * 1e-9)
    assert "EB" in ax.get_xlabel()
    assert "demo: 2,000 samples, seed 1" in ax.get_title()


def test_over_time_draws_each_top_input_over_the_years(table):
    ax = over_time(table, "hbm_gb", top=2)
    lines = ax.get_lines()
    named = {str(ln.get_label()): ln for ln in lines if not str(ln.get_label()).startswith("_")}
    assert set(named) == {"chips up", "fleet down"}
    years = np.asarray(named["chips up"].get_xdata()).tolist()
    assert years == [2025, 2026, 2027]
    rho_up = np.asarray(named["chips up"].get_ydata()).tolist()
    assert rho_up[0] < rho_up[-1]  # "up" matters more as its weight grows
    assert (np.asarray(named["fleet down"].get_ydata()) < 0).all()


def test_missing_output_raises_instead_of_an_empty_chart(table):
    with pytest.raises(ValueError, match="no sensitivities of power_w in 2027"):
        tornado(table, "power_w", 2027)
    with pytest.raises(ValueError, match="no sensitivities of power_w"):
        over_time(table, "power_w")


def test_write_sensitivity_charts_writes_png_files(table, tmp_path: Path):
    paths = write_sensitivity_charts(
        table, tmp_path, tornadoes=[("hbm_gb", 2026)], over_time_metrics=["hbm_gb"]
    )
    assert [p.name for p in paths] == [tornado_name("hbm_gb", 2026), "over_time_hbm_gb.png"]
    for p in paths:
        assert p.read_bytes()[:4] == b"\x89PNG"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)
