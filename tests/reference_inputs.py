"""An independent reader of deterministic scenario files, for the reference test.

The scalar oracle (``tests/reference_model.py``) takes the model's internal inputs, so
on its own it cannot check how a scenario file becomes those inputs: defaults, path
forms, ``extends``. This module does that part again, from the user's documentation
alone (``docs/scenarios.md``; MODEL.md §6), with ``yaml.safe_load`` and plain Python,
written separately from ``simulator/sampling/`` and ``simulator/schema/``:

- ``extends`` is resolved by the merge rules of ``docs/scenarios.md`` §16;
- the documented defaults are applied: elasticity ``long = 1`` with ``short = long``
  and ``adjustment = 1``; ``pass_through = 1``; level-shock adoption ``ceiling = 1``,
  ``delay = 0``, ``width = 0.5``; ``fleet.shape = 3``; no supply cap;
  ``fleet.order_lead = 0`` and no ``fleet.power_cap`` (MODEL.md v2 §4);
- every path form is evaluated year by year (``docs/scenarios.md`` §13): a constant,
  ``anchors`` (``interpolate: log`` by default, or ``linear``; flat beyond the first
  and last anchor), ``{start, end}`` (the value in the first projection year and
  before it, ``end`` in ``end_year``, log-linear in between), ``{from, value, growth}``
  (``value * growth^(year - from)`` from ``from`` on, ``value`` before it).

Only **deterministic** scenarios are accepted: every scalar is a number or
``{kind: fixed, value: x}``; anything else raises :class:`NotDeterministic`, and a key
this reader does not know raises :class:`UnknownKey`, so a scenario can never be half
read. The result is a one-sample :class:`~simulator.model.inputs.ModelInputs`.

YAML note: ``yaml.safe_load`` reads YAML 1.1, where ``1e6`` (no dot, no exponent sign)
is a string; the scenario language reads YAML 1.2 numbers, so strings that parse as a
float are read as numbers here.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from simulator.model.inputs import (
    ChipInputs,
    FleetInputs,
    Kind,
    ModelInputs,
    SegmentInputs,
    ShockInputs,
    ShockType,
)
from tests.reference_model import with_fleet_v2

Float64Array = np.ndarray[tuple[int, ...], np.dtype[np.float64]]


class NotDeterministic(ValueError):
    """A scalar that is not a fixed number: this reader evaluates fixed scenarios only."""


class UnknownKey(ValueError):
    """A key this reader does not evaluate (so it would be silently ignored)."""


# ---------------------------------------------------------------------------------------
# extends (docs/scenarios.md §16)
# ---------------------------------------------------------------------------------------

NAMED_LISTS = {("demand", "segments"), ("shocks",), ("questions",)}
"""Lists merged by ``name``; every other list is replaced whole."""


def _is_path_position(where: tuple[str, ...]) -> bool:
    """Whether the value at ``where`` is a path parameter (§6-§8, §13)."""
    if len(where) == 2 and where[0] == "utilization":
        return True
    if len(where) == 2 and where[0] == "fleet" and where[1] in ("supply_cap", "power_cap"):
        return True
    if len(where) == 2 and where[0] == "chips":
        return True
    return len(where) == 4 and where[:2] == ("demand", "segments") and where[3] == "growth"


def path_form(value: Any) -> str:
    """The form of a path as written (§13): anchors, start-end, from-growth or constant."""
    if isinstance(value, Mapping):
        if "anchors" in value:
            return "anchors"
        if "start" in value or "end" in value:
            return "start-end"
        if "from" in value or "growth" in value:
            return "from-growth"
    return "constant"


def merge(parent: Any, child: Any, where: tuple[str, ...] = ()) -> Any:
    """The child merged into the parent by the rules of ``docs/scenarios.md`` §16."""
    if where in NAMED_LISTS and isinstance(parent, list) and isinstance(child, list):
        out = [copy.deepcopy(item) for item in parent]
        for item in child:
            names = [p.get("name") for p in out]
            name = item["name"]
            if item.get("remove") is True:
                out = [p for p in out if p.get("name") != name]
            elif name in names:
                j = names.index(name)
                # a named item merges key by key, whatever keys it has (a segment's
                # ``kind`` does not make it a distribution)
                merged = dict(out[j])
                for key, value in item.items():
                    sub = (*where, str(name), key)
                    merged[key] = merge(out[j][key], value, sub) if key in out[j] else value
                out[j] = merged
            else:
                out.append(copy.deepcopy(item))
        return out
    if not (isinstance(parent, Mapping) and isinstance(child, Mapping)):
        return copy.deepcopy(child)
    if "kind" in parent or "kind" in child:  # a distribution is replaced whole
        return copy.deepcopy(child)
    if _is_path_position(where) and path_form(parent) != path_form(child):
        return copy.deepcopy(child)
    out_map = dict(parent)
    for key, value in child.items():
        out_map[key] = merge(parent[key], value, (*where, str(key))) if key in parent else value
    return out_map


def load_resolved(path: str | Path) -> dict[str, Any]:
    """Read a scenario file with ``yaml.safe_load`` and resolve its ``extends`` chain."""
    path = Path(path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        msg = f"{path}: a scenario is a mapping"
        raise TypeError(msg)
    parent_name = data.pop("extends", None)
    if parent_name is None:
        return data
    parent = load_resolved(path.parent / str(parent_name))
    out: dict[str, Any] = merge(parent, data)
    return out


# ---------------------------------------------------------------------------------------
# Scalars and paths (MODEL.md §6; docs/scenarios.md §12-§13)
# ---------------------------------------------------------------------------------------


def number(value: Any, where: str) -> float:
    """A deterministic scalar: a number (or a YAML-1.2 numeric string) or ``fixed``."""
    if isinstance(value, Mapping):
        if value.get("kind") == "fixed" and set(value) == {"kind", "value"}:
            return number(value["value"], where)
        msg = f"{where}: not a fixed number: {value!r}"
        raise NotDeterministic(msg)
    if isinstance(value, bool):
        msg = f"{where}: a boolean is not a number"
        raise TypeError(msg)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            msg = f"{where}: not a fixed number: {value!r}"
            raise NotDeterministic(msg) from None
    msg = f"{where}: not a number: {value!r}"
    raise ValueError(msg)


def _check_keys(value: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(value) - allowed
    if unknown:
        msg = f"{where}: keys {sorted(unknown)} are not evaluated by the reference reader"
        raise UnknownKey(msg)


def path_values(
    value: Any, years: range, *, base_year: int, end_year: int, where: str
) -> list[float]:
    """The values of a path parameter in each of ``years`` (docs/scenarios.md §13)."""
    form = path_form(value)
    if form == "constant":
        c = number(value, where)
        return [c for _ in years]
    if form == "anchors":
        _check_keys(value, {"anchors", "interpolate"}, where)
        how = value.get("interpolate", "log")  # default: log
        if how not in ("log", "linear"):
            msg = f"{where}.interpolate: {how!r}"
            raise ValueError(msg)
        anchors = sorted(
            (int(year), number(v, f"{where}.anchors.{year}"))
            for year, v in value["anchors"].items()
        )
        return [_interpolate(anchors, y, how) for y in years]
    if form == "start-end":
        _check_keys(value, {"start", "end"}, where)
        start = number(value["start"], f"{where}.start")
        end = number(value["end"], f"{where}.end")
        first = base_year + 1  # the first projection year
        out = []
        for y in years:
            if y <= first:
                out.append(start)
            else:
                t = (y - first) / (end_year - first)
                out.append(math.exp((1.0 - t) * math.log(start) + t * math.log(end)))
        return out
    _check_keys(value, {"from", "value", "growth"}, where)
    start_year = int(value["from"])
    v0 = number(value["value"], f"{where}.value")
    g = number(value["growth"], f"{where}.growth")
    return [v0 * g ** (y - start_year) if y >= start_year else v0 for y in years]


def _interpolate(anchors: list[tuple[int, float]], year: int, how: str) -> float:
    """Anchors interpolated at ``year``; flat before the first and after the last."""
    if year <= anchors[0][0]:
        return anchors[0][1]
    if year >= anchors[-1][0]:
        return anchors[-1][1]
    for (y0, v0), (y1, v1) in itertools.pairwise(anchors):
        if y0 <= year <= y1:
            t = (year - y0) / (y1 - y0)
            if how == "linear":
                return (1.0 - t) * v0 + t * v1
            return math.exp((1.0 - t) * math.log(v0) + t * math.log(v1))
    msg = f"year {year} not bracketed by {anchors}"  # pragma: no cover - sorted anchors
    raise AssertionError(msg)


# ---------------------------------------------------------------------------------------
# Building the model's inputs, with the documented defaults
# ---------------------------------------------------------------------------------------

TOP_KEYS = {
    "name",
    "description",
    "years",
    "demand",
    "shocks",
    "utilization",
    "fleet",
    "chips",
    "sampling",
    "correlations",
    "questions",
}
"""Top-level keys; ``sampling``, ``correlations`` and ``questions`` do not change the
model's inputs of a deterministic scenario."""

CHIP_KEYS = {
    # scenario key -> ChipInputs field (docs/scenarios.md §8; MODEL.md §5)
    "h100e_per_accelerator": "h100e_per_unit",
    "hbm_gb_per_accelerator": "hbm_per_unit",
    "asp": "price",
    "system_watts": "system_power",
    "hbm_price": "hbm_price",
    "accelerator_capex_share": "capex_share",
    "pue": "pue",
    "load": "load",
}

DOMAINS: dict[str, Callable[[float], bool]] = {
    # the documented domains (docs/scenarios.md §4-§8): a file that leaves them is a
    # mistake in the test data (the engine of version 1 clips; later versions refuse)
    "growth": lambda x: 0.0 < x <= 100.0,
    "utilization": lambda x: 0.0 < x <= 1.0,
    "supply_cap": lambda x: x >= 0.0,
    "power_cap": lambda x: x >= 0.0,
    "h100e_per_accelerator": lambda x: x > 0.0,
    "hbm_gb_per_accelerator": lambda x: x >= 0.0,
    "asp": lambda x: x >= 0.0,
    "system_watts": lambda x: x >= 0.0,
    "hbm_price": lambda x: x >= 0.0,
    "accelerator_capex_share": lambda x: 0.0 < x <= 1.0,
    "pue": lambda x: x >= 1.0,
    "load": lambda x: 0.0 < x <= 1.0,
}


def _row(values: list[float], domain: str, where: str) -> Float64Array:
    bad = [v for v in values if not DOMAINS[domain](v)]
    if bad:
        msg = f"{where}: values {bad} outside the documented domain (fix the test data)"
        raise ValueError(msg)
    return np.array([values], dtype=np.float64)


def _one(value: float) -> Float64Array:
    return np.array([value], dtype=np.float64)


def build_inputs(data: Mapping[str, Any]) -> ModelInputs:
    """One-sample model inputs from a resolved deterministic scenario (plain data)."""
    _check_keys(data, TOP_KEYS, "scenario")
    years_d = data["years"]
    _check_keys(years_d, {"base_year", "end_year"}, "years")
    base, end = int(years_d["base_year"]), int(years_d["end_year"])
    years = range(base, end + 1)

    def path(value: Any, domain: str, where: str, over: range = years) -> Float64Array:
        return _row(
            path_values(value, over, base_year=base, end_year=end, where=where), domain, where
        )

    # ---- demand segments (§4), defaults: elasticity long = 1, short = long, a = 1, pi = 1
    segments: list[SegmentInputs] = []
    _check_keys(data["demand"], {"segments"}, "demand")
    for seg in data["demand"]["segments"]:
        name = str(seg["name"])
        where = f"demand.segments.{name}"
        _check_keys(seg, {"name", "kind", "share", "growth", "elasticity", "pass_through"}, where)
        kind: Kind = "training" if seg["kind"] == "training" else "inference"
        if seg["kind"] not in ("training", "inference"):
            msg = f"{where}.kind: {seg['kind']!r}"
            raise ValueError(msg)
        e = seg.get("elasticity")
        if e is None:
            short = long = 1.0
            adjustment = 1.0
        elif isinstance(e, Mapping) and "kind" not in e:
            _check_keys(e, {"short", "long", "adjustment"}, f"{where}.elasticity")
            if "short" not in e and "long" not in e:
                msg = f"{where}.elasticity: give short, long or both"
                raise ValueError(msg)
            long = number(e["long"] if "long" in e else e["short"], f"{where}.elasticity.long")
            short = number(e["short"] if "short" in e else e["long"], f"{where}.elasticity.short")
            adjustment = number(e.get("adjustment", 1.0), f"{where}.elasticity.adjustment")
        else:  # a bare scalar: short = long
            short = long = number(e, f"{where}.elasticity")
            adjustment = 1.0
        segments.append(
            SegmentInputs(
                name=name,
                kind=kind,
                share=float(seg["share"]),
                growth=path(seg["growth"], "growth", f"{where}.growth"),
                elasticity_short=_one(short),
                elasticity_long=_one(long),
                adjustment=_one(adjustment),
                pass_through=_one(number(seg.get("pass_through", 1.0), f"{where}.pass_through")),
            )
        )
    names = [s.name for s in segments]

    # ---- shocks (§5), level adoption defaults: ceiling 1, delay 0, width 0.5 -----------
    shocks: list[ShockInputs] = []
    for shock in data.get("shocks", []):
        where = f"shocks.{shock['name']}"
        _check_keys(shock, {"name", "type", "onset", "magnitude", "applies_to", "adoption"}, where)
        type_: ShockType = "level" if shock["type"] == "level" else "trend"
        adoption = shock.get("adoption", {})
        _check_keys(adoption, {"ceiling", "delay", "width"}, f"{where}.adoption")
        targets = set(shock["applies_to"])
        applies = tuple(
            s for s, seg in enumerate(segments) if seg.name in targets or seg.kind in targets
        )
        unknown = targets - set(names) - {"training", "inference"}
        if unknown:
            msg = f"{where}.applies_to: unknown {sorted(unknown)}"
            raise ValueError(msg)
        shocks.append(
            ShockInputs(
                name=str(shock["name"]),
                type=type_,
                onset=int(shock["onset"]) - base,
                segments=applies,
                magnitude=_one(number(shock["magnitude"], f"{where}.magnitude")),
                ceiling=_one(number(adoption.get("ceiling", 1.0), f"{where}.adoption.ceiling")),
                delay=_one(number(adoption.get("delay", 0.0), f"{where}.adoption.delay")),
                width=_one(number(adoption.get("width", 0.5), f"{where}.adoption.width")),
            )
        )

    # ---- utilization (§6) --------------------------------------------------------------
    util = data["utilization"]
    _check_keys(util, {"training", "inference"}, "utilization")

    # ---- fleet (§7), defaults: shape 3, no supply cap, order_lead 0, no power cap ------
    fleet_d = data["fleet"]
    _check_keys(
        fleet_d,
        {"initial_vintages", "median_life", "shape", "supply_cap", "order_lead", "power_cap"},
        "fleet",
    )
    vintage_years = sorted(int(y) for y in fleet_d["initial_vintages"])
    if vintage_years != list(range(vintage_years[0], base + 1)):
        msg = f"fleet.initial_vintages: years {vintage_years} are not consecutive up to {base}"
        raise ValueError(msg)
    vintages = [
        number(fleet_d["initial_vintages"][y], f"fleet.initial_vintages.{y}")
        for y in vintage_years
    ]
    supply_cap = None
    if "supply_cap" in fleet_d:
        supply_cap = path(fleet_d["supply_cap"], "supply_cap", "fleet.supply_cap")
    power_cap = None
    if "power_cap" in fleet_d:
        power_cap = path(fleet_d["power_cap"], "power_cap", "fleet.power_cap")
    order_lead = number(fleet_d.get("order_lead", 0.0), "fleet.order_lead")
    fleet = with_fleet_v2(
        FleetInputs(
            initial_vintages=np.array([vintages], dtype=np.float64),
            median_life=_one(number(fleet_d["median_life"], "fleet.median_life")),
            shape=_one(number(fleet_d.get("shape", 3.0), "fleet.shape")),
            supply_cap=supply_cap,
        ),
        order_lead=_one(order_lead),
        power_cap=power_cap,
    )

    # ---- chips (§8): per year of shipment, from the first initial vintage year ---------
    chips_d = data["chips"]
    _check_keys(chips_d, set(CHIP_KEYS), "chips")
    chip_years = range(vintage_years[0], end + 1)
    chips = ChipInputs(
        **{
            field: path(chips_d[key], key, f"chips.{key}", chip_years)
            for key, field in CHIP_KEYS.items()
        }
    )

    return ModelInputs(
        years=tuple(years),
        segments=tuple(segments),
        shocks=tuple(shocks),
        utilization_training=path(util["training"], "utilization", "utilization.training"),
        utilization_inference=path(util["inference"], "utilization", "utilization.inference"),
        fleet=fleet,
        chips=chips,
    )


def reference_inputs(path: str | Path) -> ModelInputs:
    """One-sample model inputs of a deterministic scenario file, read independently."""
    return build_inputs(load_resolved(path))
