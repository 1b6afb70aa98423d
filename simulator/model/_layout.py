"""Year-major storage for the model's ``(n, years)`` arrays (same values, faster reads).

Every model array is indexed ``(sample, year)``, as the docstrings say, but the ones built
here are stored year by year: each is the transposed view of a ``(years, n)`` array whose
rows are contiguous. Elementwise arithmetic on such arrays runs contiguously (NumPy
follows the operands' memory order), and the per-year columns the recursions read
(``a[:, k]``) and the per-year rows the streamed summaries read are contiguous too.
Only the layout changes: every element is computed by the same operations as before.
"""

from __future__ import annotations

from collections.abc import Sequence

from array_api_compat import array_namespace

from simulator._typing import Array

__all__ = ["columns_to_array", "concat_years"]


def columns_to_array(columns: Sequence[Array], /) -> Array:
    """Stack per-year columns, each shape ``(n,)``, into an ``(n, len(columns))`` array.

    Parameters
    ----------
    columns : sequence of array, each shape (n,)
        One array per year.

    Returns
    -------
    array, shape (n, len(columns))
        Column ``k`` equal to ``columns[k]``; stored year-major.
    """
    xp = array_namespace(*columns)
    return xp.permute_dims(xp.stack(list(columns), axis=0), (1, 0))


def concat_years(parts: Sequence[Array], /) -> Array:
    """Concatenate ``(n, Y_i)`` arrays along the years, stored year-major.

    Parameters
    ----------
    parts : sequence of array, each shape (n, Y_i)
        Arrays with the same samples.

    Returns
    -------
    array, shape (n, sum Y_i)
        The columns of ``parts`` in order, as ``concat(parts, axis=-1)``.
    """
    xp = array_namespace(*parts)
    rows = [xp.permute_dims(p, (1, 0)) for p in parts]
    return xp.permute_dims(xp.concat(rows, axis=0), (1, 0))
