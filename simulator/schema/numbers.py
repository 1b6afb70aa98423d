"""Numbers in the scenario language: written as numbers, never as quoted text.

Every model of the schema is *strict*: a quoted ``"2024"`` or ``"0.5"`` is a string, and
a string is refused where a number is expected (so is ``true``), instead of being quietly
converted. A whole number may be written as a float with no fractional part (``1e5``
samples, ``2024.0``), since YAML 1.2 reads ``1e5`` as a float.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BeforeValidator

__all__ = ["WholeNumber", "whole_number"]


def whole_number(value: Any) -> Any:
    """Accept an integral float as the int it names; leave every other value to pydantic.

    Parameters
    ----------
    value : Any
        The value as read from YAML.

    Returns
    -------
    Any
        ``int(value)`` for a finite float with no fractional part, else ``value``
        unchanged (so a string, a boolean or ``2024.5`` is refused by the strict ``int``
        that follows, with the scenario language's own message).
    """
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


WholeNumber = Annotated[int, BeforeValidator(whole_number)]
"""An ``int`` field that also takes ``1e5`` or ``2024.0``, and never ``"2024"`` or ``true``."""
