"""Path parameters: one value per sample per year (MODEL.md §6).

A path is written as

- a scalar parameter (constant over time),
- ``anchors: {year: scalar, ...}`` interpolated between anchor years
  (``interpolate: log``, the default, or ``linear``; flat beyond the ends),
- ``{start: scalar, end: scalar}``: log-interpolated across the projection years,
  so a growth rate's log falls linearly from ``start`` (first projection year) to
  ``end`` (last projection year), or
- ``{from: year, value: scalar, growth: scalar}``: ``value * growth ** (year - from)``
  from ``from`` on, flat before it.

Each scalar inside a path (an anchor, ``start``, ``value`` ...) is drawn once per sample.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from simulator.schema.distributions import Scalar
from simulator.schema.numbers import WholeNumber


class _PathModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, strict=True)


class Anchors(_PathModel):
    """Values at anchor years, interpolated in between and flat beyond the ends."""

    anchors: dict[int, Scalar] = Field(
        min_length=1, description="Calendar year to value, in the unit of the parameter."
    )
    interpolate: Literal["log", "linear"] = Field(
        default="log",
        description="Interpolation between anchors: in log space (default) or linear.",
    )


class StartEnd(_PathModel):
    """Log-interpolated from ``start`` (first projection year) to ``end`` (last)."""

    start: Scalar = Field(description="Value in the first projection year (> 0).")
    end: Scalar = Field(description="Value in the last projection year (> 0).")


class FromGrowth(_PathModel):
    """Geometric growth from a year: ``value * growth ** (year - from)``, flat before it."""

    from_: WholeNumber = Field(alias="from", description="Calendar year of ``value``. [year]")
    value: Scalar = Field(description="Value in year ``from``, in the unit of the parameter.")
    growth: Scalar = Field(description="Multiplier per year (> 0). [1/year]")

    @model_validator(mode="before")
    @classmethod
    def _no_from_underscore(cls, data: Any) -> Any:
        if isinstance(data, dict) and "from_" in data:
            msg = "write the year key as `from`, not `from_`"
            raise ValueError(msg)
        return data


def path_form(value: Any) -> str:
    """Which form of path a raw value is written in (a pydantic discriminator)."""
    if isinstance(value, dict):
        if "anchors" in value:
            return "<anchors>"
        if "start" in value or "end" in value:
            return "<start-end>"
        if "from" in value or "growth" in value:
            return "<from-growth>"
    if isinstance(value, Anchors):
        return "<anchors>"
    if isinstance(value, StartEnd):
        return "<start-end>"
    if isinstance(value, FromGrowth):
        return "<from-growth>"
    return "<constant>"


PATH_TAGS: frozenset[str] = frozenset({"<anchors>", "<start-end>", "<from-growth>", "<constant>"})
"""Union tags pydantic puts in error locations; they are not YAML keys."""

Path = Annotated[
    Annotated[Scalar, Tag("<constant>")]
    | Annotated[Anchors, Tag("<anchors>")]
    | Annotated[StartEnd, Tag("<start-end>")]
    | Annotated[FromGrowth, Tag("<from-growth>")],
    Discriminator(path_form),
]
"""A path parameter: constant, anchors, start/end or from/value/growth."""
