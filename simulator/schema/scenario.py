"""The scenario language: what a scenario file may say (MODEL.md §2-§7).

Pydantic v2 models, frozen, unknown keys rejected, units in every field's
description (they reach the JSON Schema and editors). Cross-field checks live in
model validators. Nothing here computes; the engine turns a :class:`Scenario` into
model inputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from simulator.errors import CrossFieldError
from simulator.metrics import METRIC_UNITS, SEGMENT_METRIC_PREFIX
from simulator.schema.distributions import TINY, Distribution, Fixed, Scalar
from simulator.schema.numbers import WholeNumber, whole_number
from simulator.schema.paths import Anchors, FromGrowth, Path, StartEnd

MAX_SAMPLES = 10_000_000
"""Most samples one run may ask for (about 7 GB of memory per million samples)."""

MAX_HORIZON = 100
"""Most projection years a scenario may span. [year]"""

Name = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_-]*$", max_length=64),
    Field(description="Identifier: a letter, then letters, digits, '_' or '-'."),
]


# --- domains ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Domain:
    """The values a parameter may take: an interval with open or closed ends.

    Draws of a distribution with unbounded tails (normal, lognormal) are truncated
    to the domain of their parameter: sampled by inverse CDF on the part of the
    uniform interval that maps inside it.
    """

    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False

    def describe(self) -> str:
        """Say the domain in words, e.g. ``> 0`` or ``in [0, 1]``."""
        if math.isinf(self.high):
            if math.isinf(self.low):
                return "finite"
            return f"{'>' if self.low_open else '>='} {self.low:g}"
        if math.isinf(self.low):
            return f"{'<' if self.high_open else '<='} {self.high:g}"
        lb = "(" if self.low_open else "["
        rb = ")" if self.high_open else "]"
        return f"in {lb}{self.low:g}, {self.high:g}{rb}"

    def contains(self, lo: float, hi: float) -> bool:
        """Whether the interval ``[lo, hi]`` lies inside the domain."""
        ok_lo = lo > self.low if self.low_open else lo >= self.low
        ok_hi = hi < self.high if self.high_open else hi <= self.high
        return ok_lo and ok_hi

    def closure(self) -> Domain:
        """The domain with its ends closed."""
        return Domain(self.low, self.high)

    def positive(self) -> Domain:
        """The domain intersected with ``(0, inf)`` (for log interpolation)."""
        if self.low > 0:
            return self
        return Domain(0.0, self.high, True, self.high_open)


ANY = Domain()
NONNEGATIVE = Domain(0.0)
POSITIVE = Domain(0.0, low_open=True)
MAGNITUDE = Domain(1.0, 1e4)
"""Efficiency gain of a shock: ``>= 1``; at most 10,000x (DeepSeek's headline is ~18x)."""
ELASTICITY = Domain(0.0, 10.0)
"""Price elasticity: ``>= 0``; at most 10 (the evidence of docs/sources.md §6 spans 0.5-1.8)."""
GROWTH = Domain(0.0, 100.0, low_open=True)
"""Baseline growth multiplier per year: ``> 0``; at most 100x a year."""
UNIT = Domain(0.0, 1.0)
UNIT_POSITIVE = Domain(0.0, 1.0, low_open=True)


def _check_scalar(dist: Distribution, domain: Domain, where: str = "") -> None:
    """Check that a scalar parameter's values can lie in its domain.

    Bounded distributions must lie inside the domain. Distributions with unbounded
    tails (normal, lognormal, half-open truncnormal) need only their central 90%
    inside it: their draws are truncated to the domain (see :class:`Domain`).
    """
    lo, hi = dist.support()
    if domain.contains(lo, hi):
        return
    prefix = f"{where}: " if where else ""
    if isinstance(dist, Fixed):
        msg = f"{prefix}must be {domain.describe()} (got {dist.value:g})"
        raise ValueError(msg)  # noqa: TRY004 - pydantic reports ValueError
    p5, p95 = dist.central90()
    if dist.truncatable and domain.closure().contains(p5, p95):
        return
    if dist.truncatable:
        msg = (
            f"{prefix}must be {domain.describe()}, but the 90% interval of {dist.label()} is "
            f"[{p5:.4g}, {p95:.4g}]; move it inside (draws beyond the domain are truncated, "
            "but only the tails may be)"
        )
    else:
        msg = (
            f"{prefix}must be {domain.describe()}, but {dist.label()} can take values in "
            f"{_interval(lo, hi)}; choose bounds inside the domain"
        )
    raise ValueError(msg)


def _interval(lo: float, hi: float) -> str:
    left = "(0" if lo == TINY else ("(-inf" if math.isinf(lo) else f"[{lo:g}")
    right = "inf)" if math.isinf(hi) else f"{hi:g}]"
    return f"{left}, {right}"


def _scalar_in(domain: Domain) -> Callable[[Distribution], Distribution]:
    def check(dist: Distribution) -> Distribution:
        _check_scalar(dist, domain)
        return dist

    return check


def _path_in(domain: Domain) -> Callable[[Any], Any]:
    def check(path: Any) -> Any:
        for where, dist, dom in _path_scalars(path, domain):
            _check_scalar(dist, dom, where)
        return path

    return check


def _path_scalars(path: Any, domain: Domain) -> Iterator[tuple[str, Distribution, Domain]]:
    """The scalars inside a path, each with its sub-key and the domain it must lie in."""
    if isinstance(path, Anchors):
        dom = domain.positive() if path.interpolate == "log" and len(path.anchors) > 1 else domain
        for year, dist in path.anchors.items():
            yield f"anchors.{year}", dist, dom
    elif isinstance(path, StartEnd):
        yield "start", path.start, domain.positive()
        yield "end", path.end, domain.positive()
    elif isinstance(path, FromGrowth):
        yield "value", path.value, domain
        yield "growth", path.growth, POSITIVE
    else:
        yield "", path, domain


def scalar_in(domain: Domain) -> Any:
    """Annotated scalar-parameter type restricted to ``domain``."""
    return Annotated[Scalar, AfterValidator(_scalar_in(domain))]


def path_in(domain: Domain) -> Any:
    """Annotated path-parameter type restricted to ``domain``."""
    return Annotated[Path, AfterValidator(_path_in(domain))]


PATH_DOMAINS: dict[str, Domain] = {
    "growth": GROWTH,
    "training": UNIT_POSITIVE,
    "inference": UNIT_POSITIVE,
    "supply_cap": NONNEGATIVE,
    "power_cap": POSITIVE,
    "h100e_per_accelerator": POSITIVE,
    "hbm_gb_per_accelerator": NONNEGATIVE,
    "asp": NONNEGATIVE,
    "system_watts": NONNEGATIVE,
    "hbm_price": NONNEGATIVE,
    "accelerator_capex_share": UNIT_POSITIVE,
    "pue": Domain(1.0),
    "load": UNIT_POSITIVE,
}
"""Domain of each path parameter, by field name (the schema's annotations agree)."""


def _path_field(where: str) -> str:
    return where.rsplit(".", 1)[-1]


# --- the model --------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Years(_Model):
    """The base year (observed) and the last projection year."""

    base_year: WholeNumber = Field(ge=1990, le=2200, description="Observed base year y0. [year]")
    end_year: WholeNumber = Field(ge=1990, le=2300, description="Last projection year. [year]")

    @model_validator(mode="after")
    def _check(self) -> Years:
        if not self.end_year > self.base_year:
            msg = (
                f"end_year must be after base_year "
                f"(got base_year={self.base_year}, end_year={self.end_year})"
            )
            raise ValueError(msg)
        if self.end_year - self.base_year > MAX_HORIZON:
            msg = f"at most {MAX_HORIZON} projection years (got {self.end_year - self.base_year})"
            raise ValueError(msg)
        return self

    @property
    def all(self) -> tuple[int, ...]:
        """Calendar years base_year..end_year."""
        return tuple(range(self.base_year, self.end_year + 1))


def _bare_elasticity(schema: dict[str, Any]) -> None:
    """Let the JSON Schema of an elasticity accept a bare scalar, as ``Elasticity._bare`` does.

    The bare form is the schema of the ``long`` field, less its ``null``.
    """
    whole = dict(schema)
    bare = [s for s in schema["properties"]["long"]["anyOf"] if s != {"type": "null"}]
    schema.clear()
    schema["anyOf"] = [*bare, whole]


class Elasticity(_Model):
    """Price elasticity of demand for useful work, ``Q ~ P^-e`` (MODEL.md §2).

    A bare scalar means ``short = long``.
    """

    model_config = ConfigDict(json_schema_extra=_bare_elasticity)

    short: scalar_in(ELASTICITY) | None = Field(  # type: ignore[valid-type]
        default=None, description="Elasticity right after a shock (>= 0); default: long. [-]"
    )
    long: scalar_in(ELASTICITY) | None = Field(  # type: ignore[valid-type]
        default=None, description="Long-run elasticity (>= 0); default: short. [-]"
    )
    adjustment: scalar_in(POSITIVE) = Field(  # type: ignore[valid-type]
        default=Fixed(value=1.0),
        description="Time constant of the move from short to long elasticity (> 0). [year]",
    )

    @model_validator(mode="before")
    @classmethod
    def _bare(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "kind" in data:
            return {"long": data}
        return data

    @model_validator(mode="after")
    def _check(self) -> Elasticity:
        if self.short is None and self.long is None:
            msg = "give short, long or both"
            raise ValueError(msg)
        return self


class Segment(_Model):
    """A demand segment: one workload whose compute grows and responds to price."""

    name: Name
    kind: Literal["training", "inference"] = Field(
        description="training or inference: which utilization and capacity pool it uses."
    )
    share: float = Field(
        ge=0, le=1, description="Share of base-year capacity, a fixed number; shares sum to 1. [-]"
    )
    growth: path_in(PATH_DOMAINS["growth"]) = Field(  # type: ignore[valid-type]
        description="Baseline growth multiplier of compute per year g(k) > 0, trend "
        "efficiency and its demand response included. [1/year]"
    )
    elasticity: Elasticity = Field(
        default=Elasticity(long=Fixed(value=1.0)),
        description="Price elasticity of demand for useful work; 1 is neutral. [-]",
    )
    pass_through: scalar_in(UNIT) = Field(  # type: ignore[valid-type]
        default=Fixed(value=1.0),
        description="Share of an efficiency gain passed through to price, in [0, 1]. [-]",
    )


class Demand(_Model):
    """Demand segments; their shares of base-year capacity sum to 1."""

    segments: list[Segment] = Field(min_length=1, description="Demand segments.")

    @field_validator("segments")
    @classmethod
    def _check(cls, segments: list[Segment]) -> list[Segment]:
        names = [s.name for s in segments]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            msg = f"segment names must be unique (repeated: {', '.join(dupes)})"
            raise ValueError(msg)
        if any(n in ("training", "inference") for n in names):
            msg = "a segment may not be named 'training' or 'inference' (those name kinds)"
            raise ValueError(msg)
        total = math.fsum(s.share for s in segments)
        if abs(total - 1.0) > 1e-6:
            parts = " + ".join(f"{s.share:g}" for s in segments)
            msg = f"segment shares must sum to 1 (got {parts} = {total:.6g})"
            raise ValueError(msg)
        return segments


class Adoption(_Model):
    """Logistic adoption of a level shock: ``c / (1 + exp(-(k - onset - delay) / width))``."""

    ceiling: scalar_in(UNIT) = Field(  # type: ignore[valid-type]
        default=Fixed(value=1.0),
        description="Share of work that eventually adopts, in [0, 1]. [-]",
    )
    delay: scalar_in(ANY) = Field(  # type: ignore[valid-type]
        default=Fixed(value=0.0), description="Years from onset to half of the ceiling. [year]"
    )
    width: scalar_in(POSITIVE) = Field(  # type: ignore[valid-type]
        default=Fixed(value=0.5), description="Logistic width (> 0); smaller is faster. [year]"
    )


class Shock(_Model):
    """An efficiency shock: a level shift (DeepSeek-style) or an extra trend."""

    name: Name
    type: Literal["level", "trend"] = Field(
        description="level: one-off gain M with logistic adoption; trend: extra factor per year."
    )
    onset: WholeNumber = Field(
        description="Calendar year the shock starts (a projection year). [year]"
    )
    magnitude: scalar_in(MAGNITUDE) = Field(  # type: ignore[valid-type]
        description="level: useful work per FLOP at full adoption, M >= 1; "
        "trend: extra efficiency factor per year, r >= 1. [-] or [1/year]"
    )
    applies_to: list[str] = Field(
        min_length=1,
        description="Segment names, or the kinds 'training' / 'inference', that the shock hits.",
    )
    adoption: Adoption | None = Field(
        default=None,
        description="Adoption curve (level shocks only; default: ceiling 1, "
        "delay 0, width 0.5 years).",
    )

    @model_validator(mode="after")
    def _check(self) -> Shock:
        if self.type == "trend" and self.adoption is not None:
            msg = "adoption applies to level shocks only; remove it or use type: level"
            raise ValueError(msg)
        return self


class Utilization(_Model):
    """Fraction of dense BF16 peak achieved, averaged over the year, idle time included."""

    training: path_in(PATH_DOMAINS["training"]) = Field(  # type: ignore[valid-type]
        description="Training fleet utilization, in (0, 1]. [-]"
    )
    inference: path_in(PATH_DOMAINS["inference"]) = Field(  # type: ignore[valid-type]
        description="Inference fleet utilization, in (0, 1]. [-]"
    )


class Fleet(_Model):
    """Initial vintages, retirement, order lead and optional supply and power caps (MODEL.md §4)."""

    initial_vintages: dict[int, scalar_in(NONNEGATIVE)] = Field(  # type: ignore[valid-type]
        min_length=1,
        description="H100e shipped in each year up to and including the base year; "
        "consecutive years. [H100e]",
    )
    median_life: scalar_in(POSITIVE) = Field(  # type: ignore[valid-type]
        description="Median service life of a vintage (Weibull). [year]"
    )
    shape: scalar_in(POSITIVE) = Field(  # type: ignore[valid-type]
        default=Fixed(value=3.0), description="Weibull shape of retirement (> 0). [-]"
    )
    supply_cap: path_in(PATH_DOMAINS["supply_cap"]) | None = Field(  # type: ignore[valid-type]
        default=None,
        description="Most H100e that can be shipped per year; none if absent. [H100e/year]",
    )
    order_lead: scalar_in(UNIT) = Field(  # type: ignore[valid-type]
        default=Fixed(value=0.0),
        description="Share of next year's capacity ordered a year ahead on the trend (the "
        "counterfactual's growth), in [0, 1]; 0 orders exactly for demand (MODEL.md §4). [-]",
    )
    power_cap: path_in(PATH_DOMAINS["power_cap"]) | None = Field(  # type: ignore[valid-type]
        default=None,
        description="Most average power the installed AI fleet may draw, facility overhead "
        "(PUE) included, from the first projection year; none if absent. [W]",
    )

    @field_validator("initial_vintages")
    @classmethod
    def _check(cls, vintages: dict[int, Distribution]) -> dict[int, Distribution]:
        years = sorted(vintages)
        if years != list(range(years[0], years[-1] + 1)):
            msg = f"initial_vintages must be consecutive years (got {', '.join(map(str, years))})"
            raise ValueError(msg)
        if not any(d.support()[0] > 0 for d in vintages.values()):
            msg = "at least one initial vintage must be positive, so the base-year fleet is > 0"
            raise ValueError(msg)
        return vintages


class Chips(_Model):
    """Chip economics per year of shipment (MODEL.md §5); cover the initial vintages too."""

    h100e_per_accelerator: path_in(PATH_DOMAINS["h100e_per_accelerator"]) = Field(  # type: ignore[valid-type]
        description="H100e per physical accelerator shipped, mix-weighted. [H100e/accelerator]"
    )
    hbm_gb_per_accelerator: path_in(PATH_DOMAINS["hbm_gb_per_accelerator"]) = Field(  # type: ignore[valid-type]
        description="HBM per accelerator shipped, mix-weighted. [GB/accelerator]"
    )
    asp: path_in(PATH_DOMAINS["asp"]) = Field(  # type: ignore[valid-type]
        description="Average selling price per accelerator, nominal. [USD/accelerator]"
    )
    system_watts: path_in(PATH_DOMAINS["system_watts"]) = Field(  # type: ignore[valid-type]
        description="System power per accelerator, incl. server and network share. [W]"
    )
    hbm_price: path_in(PATH_DOMAINS["hbm_price"]) = Field(  # type: ignore[valid-type]
        description="Blended HBM price. [USD/GB]"
    )
    accelerator_capex_share: path_in(PATH_DOMAINS["accelerator_capex_share"]) = Field(  # type: ignore[valid-type]
        description="Accelerators' share of data-centre capex, in (0, 1]. [-]"
    )
    pue: path_in(PATH_DOMAINS["pue"]) = Field(  # type: ignore[valid-type]
        description="Power usage effectiveness of the fleet (>= 1). [-]"
    )
    load: path_in(PATH_DOMAINS["load"]) = Field(  # type: ignore[valid-type]
        description="Average power draw as a fraction of system power, in (0, 1]. [-]"
    )


class Sampling(_Model):
    """How samples are drawn."""

    method: Literal["random", "lhs", "sobol"] = Field(
        default="random",
        description="random (plain Monte Carlo), lhs (a Latin hypercube over the samples of "
        "each block) or sobol (8 independently scrambled Sobol' sequences; use a power of 2 "
        "samples).",
    )
    samples: WholeNumber = Field(
        default=10_000, ge=1, le=MAX_SAMPLES, description="Number of samples (paths)."
    )
    seed: Annotated[int, Field(ge=0), BeforeValidator(whole_number)] | None = Field(
        default=None, description="Root seed; omit for fresh entropy (printed by `run`)."
    )

    @field_validator("samples", mode="before")
    @classmethod
    def _integral(cls, value: Any) -> Any:
        if isinstance(value, float) and value.is_integer() and value > MAX_SAMPLES:
            msg = f"samples must be at most {MAX_SAMPLES:,} (got {value:g})"
            raise ValueError(msg)
        return value


class Correlation(_Model):
    """A Spearman rank correlation between two scalar parameters (Iman-Conover reordering)."""

    between: list[str] = Field(
        min_length=2,
        max_length=2,
        description="Two dotted parameter paths, e.g. shocks.deepseek.magnitude.",
    )
    rho: float = Field(gt=-1, lt=1, description="Spearman rank correlation in (-1, 1). [-]")

    @model_validator(mode="after")
    def _check(self) -> Correlation:
        if self.between[0] == self.between[1]:
            msg = f"a parameter cannot be correlated with itself (got {self.between[0]})"
            raise ValueError(msg)
        return self


class Question(_Model):
    """An exceedance probability to report, e.g. P(hbm_gb in 2027 < counterfactual)."""

    name: Name
    text: str | None = Field(default=None, description="The question in words, for reports.")
    metric: str = Field(description="Metric name (MODEL.md §9), e.g. hbm_gb or compute.chat.")
    year: WholeNumber = Field(description="Calendar year. [year]")
    variant: Literal["with_shocks", "counterfactual", "impact"] = Field(
        default="with_shocks", description="Which variant's value to test."
    )
    op: Literal["<", "<=", ">", ">="] = Field(description="Comparison.")
    than: float | Literal["counterfactual"] = Field(
        description="A threshold in the metric's canonical unit, or 'counterfactual' to "
        "compare with the same sample's value without the shocks."
    )

    @field_validator("than")
    @classmethod
    def _finite(cls, than: float | str) -> float | str:
        if isinstance(than, float) and not math.isfinite(than):
            msg = f"must be a finite number or 'counterfactual' (got {than})"
            raise ValueError(msg)
        return than

    @model_validator(mode="after")
    def _check(self) -> Question:
        if self.than == "counterfactual" and self.variant != "with_shocks":
            msg = "than: counterfactual needs variant: with_shocks"
            raise ValueError(msg)
        return self

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, metric: str) -> str:
        if metric not in METRIC_UNITS and not metric.startswith(SEGMENT_METRIC_PREFIX):
            msg = (
                f"unknown metric {metric!r}; one of {', '.join(METRIC_UNITS)} or "
                "compute.<segment>" + _did_you_mean(metric, METRIC_UNITS)
            )
            raise ValueError(msg)
        return metric

    def describe(self) -> str:
        """The question in words."""
        if self.text:
            return self.text
        than = "without the shocks" if self.than == "counterfactual" else f"{self.than:g}"
        return f"P({self.metric} {self.year} [{self.variant}] {self.op} {than})"


class Scenario(_Model):
    """A complete scenario: beliefs about demand, shocks, fleet and chips."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        json_schema_extra={"$id": "https://jevons.dev/schema/scenario.schema.json"},
    )

    name: Name
    description: str = Field(default="", description="What the scenario says, in words.")
    years: Years
    demand: Demand
    shocks: list[Shock] = Field(default_factory=list, description="Efficiency shocks.")
    utilization: Utilization
    fleet: Fleet
    chips: Chips
    sampling: Sampling = Field(default_factory=Sampling)
    correlations: list[Correlation] = Field(default_factory=list)
    questions: list[Question] = Field(default_factory=list)

    @field_validator("shocks", "questions")
    @classmethod
    def _unique_names(cls, items: list[Any]) -> list[Any]:
        names = [i.name for i in items]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            msg = f"names must be unique (repeated: {', '.join(dupes)})"
            raise ValueError(msg)
        return items

    @model_validator(mode="after")
    def _cross_checks(self) -> Scenario:
        problems = list(self._problems())
        if problems:
            raise CrossFieldError(problems)
        return self

    def _problems(self) -> Iterator[tuple[str, str]]:
        base, end = self.years.base_year, self.years.end_year
        segments = {s.name for s in self.demand.segments}
        for shock in self.shocks:
            if not base < shock.onset <= end:
                yield (
                    f"shocks.{shock.name}.onset",
                    f"must be a projection year {base + 1}..{end} (got {shock.onset})",
                )
            for target in shock.applies_to:
                if target not in segments and target not in ("training", "inference"):
                    yield (
                        f"shocks.{shock.name}.applies_to",
                        f"{target!r} is neither a segment ({', '.join(sorted(segments))}) nor "
                        "a kind (training, inference)"
                        + _did_you_mean(target, [*segments, "training", "inference"]),
                    )
        vintage_years = sorted(self.fleet.initial_vintages)
        if vintage_years[-1] != base:
            yield (
                "fleet.initial_vintages",
                f"must end at the base year {base} (last given: {vintage_years[-1]})",
            )
        first = vintage_years[0]
        for name in Chips.model_fields:
            path = getattr(self.chips, name)
            if isinstance(path, Anchors) and len(path.anchors) > 1 and min(path.anchors) > first:
                yield (
                    f"chips.{name}.anchors",
                    (
                        f"anchors start in {min(path.anchors)}, but chip paths must cover the "
                        f"initial vintages from {first}: add an anchor at or before {first}"
                    ),
                )
        for where, path in self.paths():
            start = first if where.startswith("chips.") else base
            if isinstance(path, Anchors):
                lo, hi = min(path.anchors), max(path.anchors)
                if hi < start or lo > end:
                    yield (
                        f"{where}.anchors",
                        f"anchors {lo}..{hi} lie outside the years {start}..{end} it is used for",
                    )
            if isinstance(path, FromGrowth):
                yield from _growth_path_problems(
                    where, path, PATH_DOMAINS[_path_field(where)], range(start, end + 1)
                )
        yield from self._power_cap_problems()
        for q in self.questions:
            if not base <= q.year <= end:
                yield f"questions.{q.name}.year", f"must be in {base}..{end} (got {q.year})"
            if q.metric.startswith(SEGMENT_METRIC_PREFIX):
                seg = q.metric.removeprefix(SEGMENT_METRIC_PREFIX)
                if seg not in segments:
                    yield (
                        f"questions.{q.name}.metric",
                        f"no segment {seg!r}" + _did_you_mean(seg, segments),
                    )
        scalars = dict(self.scalars())
        path_names = {p for p, _ in self.paths()}
        for i, c in enumerate(self.correlations):
            key = f"correlations.{i}.between"
            for target in c.between:
                if target in path_names:
                    yield (
                        key,
                        (
                            f"{target} is a path parameter; correlations apply to scalar "
                            "parameters, such as one anchor of a path written with `anchors:` "
                            f"(e.g. {target}.anchors.{base})"
                        ),
                    )
                elif self.canonical(target) not in scalars:
                    yield key, f"no scalar parameter {target!r}" + _did_you_mean(target, scalars)
        yield from self._correlation_matrix_problems(scalars)

    def _power_cap_problems(self) -> Iterator[tuple[str, str]]:
        """A power cap must be given from the first projection year: it is not extrapolated back."""
        cap = self.fleet.power_cap
        first = self.years.base_year + 1
        if isinstance(cap, Anchors) and min(cap.anchors) > first:
            yield (
                "fleet.power_cap.anchors",
                (
                    f"anchors start in {min(cap.anchors)}, but a power cap must be given from "
                    f"the first projection year {first}: add an anchor at or before {first} (a "
                    "cap is not extrapolated backwards)"
                ),
            )
        elif isinstance(cap, FromGrowth) and cap.from_ > first:
            yield (
                "fleet.power_cap.from",
                (
                    f"starts in {cap.from_}, but a power cap must be given from the first "
                    f"projection year {first}: start it at or before {first}"
                ),
            )

    def _correlation_matrix_problems(
        self, scalars: dict[str, Distribution]
    ) -> Iterator[tuple[str, str]]:
        """Check that the requested rank correlations form a valid correlation matrix."""
        import numpy as np

        if any(self.canonical(a) not in scalars for c in self.correlations for a in c.between):
            return
        pairs = self.correlation_pairs()
        if not pairs:
            return
        names = sorted({x for _, a, b, _ in pairs for x in (a, b)})
        index = {n: i for i, n in enumerate(names)}
        r = np.eye(len(names))
        seen: dict[tuple[int, int], int] = {}
        for k, a, b, rho in pairs:
            i, j = sorted((index[a], index[b]))
            if (i, j) in seen:
                yield (
                    f"correlations.{k}.between",
                    f"{a} and {b} are already correlated by correlations.{seen[(i, j)]}",
                )
                return
            seen[(i, j)] = k
            # Spearman rho to the Pearson r of the normal scores Iman-Conover reorders by
            # (Kruskal 1958; simulator.sampling.correlate).
            r[i, j] = r[j, i] = 2.0 * np.sin(np.pi * rho / 6.0)
        smallest = float(np.linalg.eigvalsh(r).min())
        if smallest <= _PD_TOLERANCE:
            group = _impossible_group(r)
            members = {names[i] for i in group}
            culprits = [
                f"{a} ~ {b} = {rho:g} (correlations.{k})"
                for k, a, b, rho in pairs
                if a in members and b in members
            ]
            yield (
                "correlations",
                (
                    f"the rank correlations {'; '.join(culprits)} are not jointly possible "
                    "(their correlation matrix is not positive definite; smallest "
                    f"eigenvalue {smallest:.3g}); weaken one of them"
                ),
            )

    # --- parameter enumeration (used by sampling and the engine) ---------------------------

    def paths(self) -> Iterator[tuple[str, Any]]:
        """Every path parameter as ``(dotted path, Path)``."""
        for s in self.demand.segments:
            yield f"demand.segments.{s.name}.growth", s.growth
        yield "utilization.training", self.utilization.training
        yield "utilization.inference", self.utilization.inference
        if self.fleet.supply_cap is not None:
            yield "fleet.supply_cap", self.fleet.supply_cap
        if self.fleet.power_cap is not None:
            yield "fleet.power_cap", self.fleet.power_cap
        for name in Chips.model_fields:
            yield f"chips.{name}", getattr(self.chips, name)

    def scalars(self) -> Iterator[tuple[str, Distribution]]:
        """Every scalar parameter (path sub-values included) as ``(dotted path, dist)``.

        The dotted path names the parameter's random stream: it is stable across
        scenarios, so scenarios that share a parameter draw the same uniforms for it.
        """
        for where, dist, _ in self.parameters():
            yield where, dist

    def parameters(self) -> Iterator[tuple[str, Distribution, Domain]]:
        """Every scalar parameter as ``(dotted path, distribution, domain)``."""
        for s in self.demand.segments:
            stem = f"demand.segments.{s.name}"
            e = s.elasticity
            if e.short is not None:
                yield f"{stem}.elasticity.short", e.short, ELASTICITY
            if e.long is not None:
                yield f"{stem}.elasticity.long", e.long, ELASTICITY
            yield f"{stem}.elasticity.adjustment", e.adjustment, POSITIVE
            yield f"{stem}.pass_through", s.pass_through, UNIT
        for m in self.shocks:
            yield f"shocks.{m.name}.magnitude", m.magnitude, MAGNITUDE
            if m.adoption is not None:
                yield f"shocks.{m.name}.adoption.ceiling", m.adoption.ceiling, UNIT
                yield f"shocks.{m.name}.adoption.delay", m.adoption.delay, ANY
                yield f"shocks.{m.name}.adoption.width", m.adoption.width, POSITIVE
        for year, dist in self.fleet.initial_vintages.items():
            yield f"fleet.initial_vintages.{year}", dist, NONNEGATIVE
        yield "fleet.median_life", self.fleet.median_life, POSITIVE
        yield "fleet.shape", self.fleet.shape, POSITIVE
        yield "fleet.order_lead", self.fleet.order_lead, UNIT
        for where, path in self.paths():
            for sub, dist, dom in _path_scalars(path, PATH_DOMAINS[_path_field(where)]):
                yield (f"{where}.{sub}" if sub else where), dist, dom

    def canonical(self, name: str) -> str:
        """The parameter a dotted name refers to.

        An elasticity written as one value (``elasticity: "1 to 2"``) is a single
        parameter for short and long: ``….elasticity.short`` then names the same
        parameter as ``….elasticity.long`` (and vice versa), so correlations written for
        a parent's ``{short, long}`` still apply after a child or ``--set`` gives one value.
        """
        stem, _, last = name.rpartition(".elasticity.")
        if not stem or last not in ("short", "long"):
            return name
        segment = next(
            (s for s in self.demand.segments if f"demand.segments.{s.name}" == stem), None
        )
        if segment is None or getattr(segment.elasticity, last) is not None:
            return name
        other = "long" if last == "short" else "short"
        return f"{stem}.elasticity.{other}"

    def correlation_pairs(self) -> list[tuple[int, str, str, float]]:
        """The correlations that act: ``(index in correlations, a, b, rho)``.

        Names are canonical (:meth:`canonical`). A correlation that names a fixed
        number (after an override such as ``--set shocks.deepseek.magnitude=3``) has
        nothing to act on and is left out, as is one whose two names became the same
        parameter, or that repeats a pair only because its names were made canonical.
        """
        fixed = {p for p, d in self.scalars() if isinstance(d, Fixed)}
        out: list[tuple[int, str, str, float]] = []
        seen: set[frozenset[str]] = set()
        for k, c in enumerate(self.correlations):
            a, b = (self.canonical(x) for x in c.between)
            pair = frozenset((a, b))
            aliased = [a, b] != list(c.between)
            if a == b or a in fixed or b in fixed or (aliased and pair in seen):
                continue
            seen.add(pair)
            out.append((k, a, b, c.rho))
        return out

    def active_correlations(self) -> list[tuple[str, str, float]]:
        """The correlations the sampler imposes, as ``(a, b, Spearman rho)``."""
        return [(a, b, rho) for _, a, b, rho in self.correlation_pairs()]

    def uncertain(self) -> list[str]:
        """Dotted paths of the parameters that are not fixed numbers."""
        return [p for p, d in self.scalars() if not isinstance(d, Fixed)]


def _effective(dist: Distribution, domain: Domain) -> tuple[float, float]:
    """The values a scalar's draws can take: its support, truncated to its domain."""
    lo, hi = dist.support()
    return max(lo, domain.low), min(hi, domain.high)


def _power(base: float, exponent: float) -> float:
    try:
        return float(base**exponent)
    except OverflowError:
        return math.inf


def _growth_path_problems(
    where: str, path: FromGrowth, domain: Domain, years: range
) -> Iterator[tuple[str, str]]:
    """A ``{from, value, growth}`` path that can leave its parameter's domain.

    ``value * growth ** (year - from)`` is monotone in both value and growth, so its
    extremes over every sample are those of the extreme draws. The first year in which
    a draw can leave the domain is reported with the value reached there; nothing is
    clipped at run time.
    """
    v_lo, v_hi = _effective(path.value, domain)
    g_lo, g_hi = _effective(path.growth, POSITIVE)
    for year in years:
        t = year - path.from_
        if t <= 0:
            continue
        top = v_hi * _power(g_hi, t)
        bottom = v_lo * _power(g_lo, t)
        over = top >= domain.high if domain.high_open else top > domain.high
        under = domain.low > 0 and (
            bottom <= domain.low if domain.low_open else bottom < domain.low
        )
        if over or under:
            reached, v, g = (top, v_hi, g_hi) if over else (bottom, v_lo, g_lo)
            if g == 0.0 or math.isinf(g):
                # A growth with an unbounded tail (normal, lognormal): its draws are not
                # truncated to the path's domain, so some can leave it from the first year.
                side = "upper" if over else "lower"
                yield (
                    f"{where}.growth",
                    (
                        f"the path can leave its domain ({domain.describe()}) in {year}: "
                        f"growth {path.growth.label()} has no {side} bound, so value {v:.4g} "
                        f"grown from {path.from_} can reach {reached:.4g}; give the growth a "
                        "bounded distribution (uniform, pert, triangular, truncnormal with "
                        "finite bounds), or write the path with anchors"
                    ),
                )
                return
            yield (
                f"{where}.growth",
                (
                    f"the path leaves its domain ({domain.describe()}) in {year}: value "
                    f"{v:.4g} grown by {g:.4g} a year from {path.from_} reaches "
                    f"{reached:.4g}; bound the growth (or the value), or write the path with "
                    "anchors"
                ),
            )
            return


_PD_TOLERANCE = 1e-10
"""Smallest eigenvalue a rank-correlation target matrix must exceed to be usable. [-]"""


def _impossible_group(r: Any, max_size: int = 6) -> tuple[int, ...]:
    """The smallest set of variables whose correlations alone are not jointly possible.

    Parameters
    ----------
    r : ndarray, shape (k, k)
        A correlation matrix that is not positive definite.
    max_size : int, optional
        Largest group searched for; beyond it (or if none is found) every variable.

    Returns
    -------
    tuple of int
        Indices of the variables: a principal submatrix that is not positive definite,
        as small as possible (two variables are always possible, so at least three).
    """
    import itertools

    import numpy as np

    k = len(r)
    for size in range(3, min(k, max_size) + 1):
        for group in itertools.combinations(range(k), size):
            sub = r[np.ix_(group, group)]
            if float(np.linalg.eigvalsh(sub).min()) <= _PD_TOLERANCE:
                return group
    return tuple(range(k))


def _did_you_mean(word: str, choices: Any) -> str:
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""
