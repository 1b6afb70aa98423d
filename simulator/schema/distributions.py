"""Scalar parameters: a number, a ``"LOW to HIGH"`` 90% interval, or a distribution.

Every distribution kind of MODEL.md §6, tagged by ``kind``. Models here hold no
numerics beyond checking their own parameters and reporting their support; the
sampling layer (:mod:`simulator.sampling`) turns them into draws by inverse CDF.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    PositiveFloat,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

Z95: float = 1.6448536269514722
"""Standard normal 95th percentile, used to turn a 90% interval into sigma. [-]"""


TINY: float = math.nextafter(0.0, 1.0)
"""Smallest positive float: the lower end of an open ``(0, ...)`` support."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    def support(self) -> tuple[float, float]:
        """Smallest and largest value a draw can take (may be infinite)."""
        raise NotImplementedError

    def central90(self) -> tuple[float, float]:
        """The 5th and 95th percentiles, or the support for bounded kinds."""
        return self.support()

    @property
    def truncatable(self) -> bool:
        """Whether draws may be truncated to a parameter's domain (unbounded tails)."""
        return False

    def label(self) -> str:
        """Short human-readable form, e.g. ``lognormal(median=3, sigma=0.6)``."""
        fields = ", ".join(
            f"{k}={_fmt(v)}" for k, v in self.model_dump(exclude={"kind"}).items() if v is not None
        )
        return f"{getattr(self, 'kind', '?')}({fields})"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return str(v)


Finite = Annotated[float, Field(allow_inf_nan=False)]


class Fixed(_Spec):
    """A known value: every sample gets ``value``."""

    kind: Literal["fixed"] = "fixed"
    value: Finite = Field(description="The value, in the unit of the parameter.")

    def support(self) -> tuple[float, float]:  # noqa: D102
        return (self.value, self.value)


class Uniform(_Spec):
    """Uniform on ``[low, high]``."""

    kind: Literal["uniform"]
    low: Finite = Field(description="Lower bound, in the unit of the parameter.")
    high: Finite = Field(description="Upper bound, in the unit of the parameter.")

    @model_validator(mode="after")
    def _check(self) -> Uniform:
        if not self.low < self.high:
            msg = f"low must be < high (got low={self.low:g}, high={self.high:g})"
            raise ValueError(msg)
        return self

    def support(self) -> tuple[float, float]:  # noqa: D102
        return (self.low, self.high)


class LogUniform(_Spec):
    """Log-uniform on ``[low, high]``, ``0 < low < high``."""

    kind: Literal["loguniform"]
    low: PositiveFloat = Field(description="Lower bound (> 0), in the unit of the parameter.")
    high: PositiveFloat = Field(description="Upper bound, in the unit of the parameter.")

    @model_validator(mode="after")
    def _check(self) -> LogUniform:
        if not self.low < self.high:
            msg = f"low must be < high (got low={self.low:g}, high={self.high:g})"
            raise ValueError(msg)
        if math.isinf(self.high):
            msg = "high must be finite"
            raise ValueError(msg)
        return self

    def support(self) -> tuple[float, float]:  # noqa: D102
        return (self.low, self.high)


class Normal(_Spec):
    """Normal with mean ``mean`` and standard deviation ``sd``."""

    kind: Literal["normal"]
    mean: Finite = Field(description="Mean, in the unit of the parameter.")
    sd: Annotated[PositiveFloat, Field(allow_inf_nan=False)] = Field(
        description="Standard deviation (> 0), in the unit of the parameter."
    )

    def support(self) -> tuple[float, float]:  # noqa: D102
        return (-math.inf, math.inf)

    def central90(self) -> tuple[float, float]:  # noqa: D102
        return (self.mean - Z95 * self.sd, self.mean + Z95 * self.sd)

    @property
    def truncatable(self) -> bool:  # noqa: D102
        return True


class TruncNormal(_Spec):
    """Normal(``mean``, ``sd``) truncated to ``[low, high]``."""

    kind: Literal["truncnormal"]
    mean: Finite = Field(description="Mean of the untruncated normal, in the parameter's unit.")
    sd: Annotated[PositiveFloat, Field(allow_inf_nan=False)] = Field(
        description="Standard deviation of the untruncated normal (> 0)."
    )
    low: float = Field(default=-math.inf, description="Lower truncation bound.")
    high: float = Field(default=math.inf, description="Upper truncation bound.")

    @model_validator(mode="after")
    def _check(self) -> TruncNormal:
        if not self.low < self.high:
            msg = f"low must be < high (got low={self.low:g}, high={self.high:g})"
            raise ValueError(msg)
        # Reject bounds so far in a tail that inverse-CDF sampling loses all precision.
        za, zb = (self.low - self.mean) / self.sd, (self.high - self.mean) / self.sd
        if za > 30 or zb < -30:
            msg = (
                f"the interval [{self.low:g}, {self.high:g}] lies more than 30 sd from the "
                f"mean {self.mean:g}; the truncated distribution is numerically degenerate"
            )
            raise ValueError(msg)
        return self

    def support(self) -> tuple[float, float]:  # noqa: D102
        return (self.low, self.high)

    def central90(self) -> tuple[float, float]:  # noqa: D102
        lo = max(self.low, self.mean - Z95 * self.sd)
        hi = min(self.high, self.mean + Z95 * self.sd)
        return (min(lo, hi), max(lo, hi))

    @property
    def truncatable(self) -> bool:  # noqa: D102
        return math.isinf(self.low) or math.isinf(self.high)


class LogNormal(_Spec):
    """Log-normal by ``median`` and ``sigma`` (of log X), or by a 90% interval ``p5``/``p95``."""

    kind: Literal["lognormal"]
    median: PositiveFloat | None = Field(default=None, description="Median (> 0).")
    sigma: PositiveFloat | None = Field(default=None, description="Sigma of log(X) (> 0). [-]")
    p5: PositiveFloat | None = Field(default=None, description="5th percentile (> 0).")
    p95: PositiveFloat | None = Field(default=None, description="95th percentile (> p5).")

    @model_validator(mode="after")
    def _check(self) -> LogNormal:
        by_median = self.median is not None or self.sigma is not None
        by_interval = self.p5 is not None or self.p95 is not None
        if by_median and by_interval:
            msg = "provide either median and sigma, or p5 and p95, not both"
            raise ValueError(msg)
        if by_interval:
            if self.p5 is None or self.p95 is None:
                msg = "provide both p5 and p95"
                raise ValueError(msg)
            if not self.p5 < self.p95:
                msg = f"p5 must be < p95 (got p5={self.p5:g}, p95={self.p95:g})"
                raise ValueError(msg)
        elif self.median is None or self.sigma is None:
            msg = "provide median and sigma, or p5 and p95"
            raise ValueError(msg)
        for name in ("median", "p5", "p95"):
            v = getattr(self, name)
            if v is not None and math.isinf(v):
                msg = f"{name} must be finite"
                raise ValueError(msg)
        return self

    @property
    def mu(self) -> float:
        """Mean of log(X). [-]."""
        if self.median is not None:
            return math.log(self.median)
        return 0.5 * (math.log(_given(self.p5)) + math.log(_given(self.p95)))

    @property
    def s(self) -> float:
        """Standard deviation of log(X). [-]."""
        if self.sigma is not None:
            return self.sigma
        return (math.log(_given(self.p95)) - math.log(_given(self.p5))) / (2 * Z95)

    def support(self) -> tuple[float, float]:  # noqa: D102
        return (TINY, math.inf)

    def central90(self) -> tuple[float, float]:  # noqa: D102
        return (_exp(self.mu - Z95 * self.s), _exp(self.mu + Z95 * self.s))

    @property
    def truncatable(self) -> bool:  # noqa: D102
        return True


def _exp(x: float) -> float:
    """``exp`` that saturates at ``inf`` instead of raising OverflowError."""
    return math.inf if x > 709.0 else math.exp(x)


def _given(value: float | None) -> float:
    if value is None:  # excluded by the model validators
        msg = "lognormal needs median and sigma, or p5 and p95"
        raise ValueError(msg)
    return value


class Triangular(_Spec):
    """Triangular on ``[low, high]`` with mode ``mode``."""

    kind: Literal["triangular"]
    low: Finite = Field(description="Lower bound.")
    mode: Finite = Field(description="Most likely value, low <= mode <= high.")
    high: Finite = Field(description="Upper bound.")

    @model_validator(mode="after")
    def _check(self) -> Triangular:
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            msg = (
                "need low <= mode <= high and low < high "
                f"(got low={self.low:g}, mode={self.mode:g}, high={self.high:g})"
            )
            raise ValueError(msg)
        return self

    def support(self) -> tuple[float, float]:  # noqa: D102
        return (self.low, self.high)


class Pert(_Spec):
    """PERT (scaled beta) on ``[low, high]`` with mode ``mode`` and weight ``lamb`` (4)."""

    kind: Literal["pert"]
    low: Finite = Field(description="Lower bound.")
    mode: Finite = Field(description="Most likely value, low <= mode <= high.")
    high: Finite = Field(description="Upper bound.")
    lamb: Annotated[PositiveFloat, Field(allow_inf_nan=False)] = Field(
        default=4.0, description="Weight of the mode (4 is the classic PERT). [-]"
    )

    @model_validator(mode="after")
    def _check(self) -> Pert:
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            msg = (
                "need low <= mode <= high and low < high "
                f"(got low={self.low:g}, mode={self.mode:g}, high={self.high:g})"
            )
            raise ValueError(msg)
        return self

    @property
    def alpha(self) -> float:
        """First beta shape parameter. [-]."""
        return 1 + self.lamb * (self.mode - self.low) / (self.high - self.low)

    @property
    def beta(self) -> float:
        """Second beta shape parameter. [-]."""
        return 1 + self.lamb * (self.high - self.mode) / (self.high - self.low)

    def support(self) -> tuple[float, float]:  # noqa: D102
        return (self.low, self.high)


class Beta(_Spec):
    """Beta(``alpha``, ``beta``) rescaled to ``[low, high]`` (default ``[0, 1]``)."""

    kind: Literal["beta"]
    alpha: Annotated[PositiveFloat, Field(allow_inf_nan=False)] = Field(
        description="First shape parameter (> 0). [-]"
    )
    beta: Annotated[PositiveFloat, Field(allow_inf_nan=False)] = Field(
        description="Second shape parameter (> 0). [-]"
    )
    low: Finite = Field(default=0.0, description="Lower bound.")
    high: Finite = Field(default=1.0, description="Upper bound.")

    @model_validator(mode="after")
    def _check(self) -> Beta:
        if not self.low < self.high:
            msg = f"low must be < high (got low={self.low:g}, high={self.high:g})"
            raise ValueError(msg)
        return self

    def support(self) -> tuple[float, float]:  # noqa: D102
        return (self.low, self.high)


class Choice(_Spec):
    """One of ``values``, with probabilities proportional to ``weights`` (default equal)."""

    kind: Literal["choice"]
    values: list[Finite] = Field(min_length=1, description="The possible values.")
    weights: list[Annotated[float, Field(ge=0, allow_inf_nan=False)]] | None = Field(
        default=None, description="Relative weights (>= 0), one per value. [-]"
    )

    @model_validator(mode="after")
    def _check(self) -> Choice:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                msg = (
                    f"weights must have one entry per value "
                    f"(got {len(self.weights)} weights for {len(self.values)} values)"
                )
                raise ValueError(msg)
            if not sum(self.weights) > 0:
                msg = "weights must not all be zero"
                raise ValueError(msg)
        return self

    def support(self) -> tuple[float, float]:  # noqa: D102
        return (min(self.values), max(self.values))


INTERVAL_PATTERN: str = (
    r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s+to\s+"
    r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$"
)
"""The short form ``"LOW to HIGH"`` (groups: LOW, HIGH), for the validator and the JSON Schema.

Written in the common subset of Python's and ECMA-262's regular expressions, so that the
JSON Schema's ``pattern`` (which editors evaluate) accepts exactly what the validator does.
"""

_INTERVAL = re.compile(INTERVAL_PATTERN)


def parse_interval(text: str) -> dict[str, Any]:
    """Turn ``"LOW to HIGH"`` (a 90% interval) into a distribution mapping.

    Lognormal with ``p5=LOW, p95=HIGH`` when both ends are positive, else normal with
    ``mean`` the midpoint and ``sd = (HIGH - LOW) / (2 * 1.645)`` (MODEL.md §6).

    Raises
    ------
    ValueError
        If the text is not of that form, or LOW >= HIGH.
    """
    m = _INTERVAL.match(text)
    if m is None:
        msg = (
            "expected a number, a distribution with a `kind`, or a 90% interval "
            f"written 'LOW to HIGH' (got {text!r})"
        )
        raise ValueError(msg)
    low, high = float(m.group(1)), float(m.group(2))
    if not low < high:
        msg = f"in 'LOW to HIGH', LOW must be < HIGH (got {text!r})"
        raise ValueError(msg)
    if low > 0:
        return {"kind": "lognormal", "p5": low, "p95": high}
    return {"kind": "normal", "mean": 0.5 * (low + high), "sd": (high - low) / (2 * Z95)}


def _coerce_scalar(value: Any) -> Any:
    """Accept the short forms of a scalar parameter: a number or ``"LOW to HIGH"``."""
    if isinstance(value, bool):
        msg = f"expected a number or a distribution, not a boolean (got {value})"
        raise ValueError(msg)  # noqa: TRY004 - pydantic reports ValueError, not TypeError
    if isinstance(value, int | float):
        return {"kind": "fixed", "value": value}
    if isinstance(value, str):
        return parse_interval(value)
    if isinstance(value, list):
        msg = "must be a number, a distribution or a 90% interval 'LOW to HIGH', got a list"
        raise ValueError(msg)  # noqa: TRY004 - pydantic reports ValueError, not TypeError
    if isinstance(value, dict) and "kind" not in value:
        msg = (
            "a distribution needs a `kind` (one of fixed, uniform, loguniform, normal, "
            "truncnormal, lognormal, triangular, pert, beta, choice)"
        )
        raise ValueError(msg)
    return value


Distribution = Annotated[
    Fixed
    | Uniform
    | LogUniform
    | Normal
    | TruncNormal
    | LogNormal
    | Triangular
    | Pert
    | Beta
    | Choice,
    Field(discriminator="kind"),
]
"""A distribution, tagged by ``kind``."""


class _ShortForms:
    """JSON Schema of a scalar parameter: its short forms, then the distributions.

    The short forms are what :func:`_coerce_scalar` turns into distributions before
    validation, so pydantic's generated schema (of the distributions) does not know them.
    """

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "anyOf": [
                {"type": "number", "description": "A known value (a fixed distribution)."},
                {
                    "type": "string",
                    "pattern": INTERVAL_PATTERN,
                    "description": "A 90% interval written 'LOW to HIGH'.",
                },
                handler(core_schema),
            ]
        }


Scalar = Annotated[Distribution, BeforeValidator(_coerce_scalar), _ShortForms]
"""A scalar parameter: a number, ``"LOW to HIGH"``, or a distribution mapping."""

DISTRIBUTION_KINDS: tuple[str, ...] = (
    "fixed",
    "uniform",
    "loguniform",
    "normal",
    "truncnormal",
    "lognormal",
    "triangular",
    "pert",
    "beta",
    "choice",
)
"""Every ``kind`` a scalar parameter may have."""
