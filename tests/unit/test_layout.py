"""Year-major storage of the model's arrays (simulator/model/_layout.py, issue 8).

The layout is a speed property (contiguous per-year columns for the recursions, per-year
rows read in place by the streamed summaries); these tests check that it changes no value
and that it holds, so that a change that silently loses it is seen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from simulator.engine import _question_specs, build_inputs
from simulator.io import load_scenario
from simulator.model import evaluate_pair
from simulator.model._layout import columns_to_array, concat_years
from simulator.sampling import draw_block
from simulator.sampling.paths import path_values
from simulator.schema.paths import Anchors
from simulator.streaming import StreamingSummary, Workspace

ROOT = Path(__file__).parents[2]


def test_columns_to_array_and_concat_years_keep_every_value(xp: Any) -> None:
    # known values: columns [1, 2], [3, 4], [5, 6] are the array [[1, 3, 5], [2, 4, 6]]
    cols = [xp.asarray([1.0, 2.0]), xp.asarray([3.0, 4.0]), xp.asarray([5.0, 6.0])]
    a = columns_to_array(cols)
    assert a.shape == (2, 3)
    assert np.asarray(a).tolist() == [[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]
    b = concat_years([a[:, :1], a[:, 1:]])
    assert np.asarray(b).tolist() == [[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]


def test_columns_to_array_is_year_major_in_numpy() -> None:
    a = columns_to_array([np.arange(4.0), np.arange(4.0) + 10])
    assert a.T.flags.c_contiguous


def test_anchor_path_is_year_major_and_exact_at_the_anchors() -> None:
    # anchors 1 (2020) and 4 (2022), log interpolation: 2 at 2021 (geometric mean),
    # flat before and after; the anchor years are the draws bit for bit.
    spec = Anchors.model_validate({"anchors": {2020: 1.0, 2022: 4.0}})
    draws = {"p.anchors.2020": np.array([1.0, 3.0]), "p.anchors.2022": np.array([4.0, 3.0])}
    out = path_values(spec, draws, "p", [2019, 2020, 2021, 2022, 2023], 2019, 2023)
    assert out.shape == (2, 5)
    assert out.T.flags.c_contiguous
    np.testing.assert_allclose(out[0], [1.0, 1.0, 2.0, 4.0, 4.0], rtol=1e-15)
    # anchor years and the flat ends are the draws exactly; 2021 is exp(log 3) to rounding
    assert out[:, [0, 1, 3, 4]].tolist() == [[1.0, 1.0, 4.0, 4.0], [3.0, 3.0, 3.0, 3.0]]
    np.testing.assert_allclose(out[1, 2], 3.0, rtol=1e-15)


def _block() -> tuple[Any, dict[str, Any], dict[str, Any]]:
    sc = load_scenario(ROOT / "scenarios" / "deepseek.yaml")
    inputs = build_inputs(sc, {k: v[:512] for k, v in draw_block(sc, 3, 0).items()})
    with np.errstate(over="ignore", invalid="ignore"):
        w, c = evaluate_pair(inputs)
    return sc, w, c


def test_every_model_output_is_year_major() -> None:
    _, w, c = _block()
    for name, a in (*w.items(), *c.items()):
        assert a.T.flags.c_contiguous, name


def test_streamed_summary_is_the_same_for_either_layout() -> None:
    sc, w, c = _block()
    questions = _question_specs(sc)
    year_major = StreamingSummary.of_block(w, c, questions, Workspace())
    sample_major = StreamingSummary.of_block(
        {k: np.ascontiguousarray(v) for k, v in w.items()},
        {k: np.ascontiguousarray(v) for k, v in c.items()},
        questions,
        Workspace(),
    )
    assert year_major.hits == sample_major.hits
    assert year_major.series.keys() == sample_major.series.keys()
    for key, s in year_major.series.items():
        t = sample_major.series[key]
        assert np.array_equal(s.moments.mean, t.moments.mean, equal_nan=True), key
        assert np.array_equal(s.moments.m2, t.moments.m2, equal_nan=True), key
        np.testing.assert_array_equal(
            s.histogram.quantiles([0.05, 0.5, 0.95]), t.histogram.quantiles([0.05, 0.5, 0.95])
        )
