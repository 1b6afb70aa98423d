"""An overflowing run names the parameter that did it (engine._overflow_suspects)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from simulator import engine
from simulator.errors import SimulationError
from simulator.io import load_scenario
from simulator.model.inputs import ModelInputs
from simulator.sampling import draw_block

VALID = Path(__file__).resolve().parent.parent / "data" / "valid.yaml"


@pytest.fixture(scope="module")
def inputs() -> ModelInputs:
    sc = load_scenario(VALID)
    draws = {k: v[:4] for k, v in draw_block(sc, 7, 0).items()}
    return engine.build_inputs(sc, draws)


def test_ordinary_inputs_have_no_suspect(inputs: ModelInputs) -> None:
    assert engine._overflow_suspects(inputs, 0) == []


def test_a_huge_input_is_named(inputs: ModelInputs) -> None:
    pue = np.array(inputs.chips.pue, copy=True)
    pue[2] = 1e300
    bad = dataclasses.replace(inputs, chips=dataclasses.replace(inputs.chips, pue=pue))
    assert engine._overflow_suspects(bad, 2) == ["chips.pue is 1e+300 in that sample"]
    assert engine._overflow_suspects(bad, 0) == []  # only the sample that overflowed


def test_compounding_growth_is_named(inputs: ModelInputs) -> None:
    chat = inputs.segments[0]
    growth = np.full_like(np.asarray(chat.growth), 100.0)  # 100x a year, 7 years: 1e14
    segment = dataclasses.replace(chat, growth=growth)
    assert engine._overflow_suspects(dataclasses.replace(inputs, segments=(segment,)), 0) == []
    growth = np.full((4, 60), 100.0)  # 60 years of 100x a year: 1e120
    segment = dataclasses.replace(chat, growth=growth)
    found = engine._overflow_suspects(dataclasses.replace(inputs, segments=(segment,)), 1)
    assert found == ["demand.segments.chat.growth compounds to 1e120"]


def test_check_finite_message_names_the_suspect(inputs: ModelInputs) -> None:
    pue = np.array(inputs.chips.pue, copy=True)
    pue[1] = np.inf
    bad = dataclasses.replace(inputs, chips=dataclasses.replace(inputs.chips, pue=pue))
    values = np.ones((4, 7))
    values[1, 3] = np.inf
    years = tuple(range(2024, 2031))
    with pytest.raises(SimulationError) as info:
        engine._check_finite("power_w", values, "with the shocks", years, 4096, bad)
    assert str(info.value) == (
        "the model overflowed: power_w with the shocks is not finite in 2027 (sample 4097, "
        "1 values in this block): chips.pue is inf in that sample; more than a float can hold"
    )
