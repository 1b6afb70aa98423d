"""Year-major storage for the model's ``(n, years)`` arrays (same values, faster reads).

Every model array is indexed ``(sample, year)``, as the docstrings say, but the ones built
here are stored year by year: each is the transposed view of a ``(years, n)`` array whose
rows are contiguous. Elementwise arithmetic on such arrays runs contiguously (NumPy
follows the operands' memory order), and the per-year columns the recursions read
(``a[:, k]``) and the per-year rows the streamed summaries read are contiguous too.
Only the layout changes: every element is computed by the same operations as before.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
from array_api_compat import array_namespace, is_numpy_namespace

from simulator._typing import Array

__all__ = [
    "FAST_PATHS",
    "columns_to_array",
    "concat_years",
    "empty_years",
    "is_numpy",
    "scratch",
    "years_buffer",
]

FAST_PATHS: bool = True
"""Whether NumPy arrays take the in-place fast paths (tests set it to False to compare)."""


def is_numpy(xp: Any, /) -> bool:
    """Whether ``xp`` is NumPy's namespace, so that the in-place fast paths apply.

    The model's functions compute with the array API; where their arrays are NumPy's they
    take a fast path that writes into preallocated year-major buffers (``out=``, in-place
    operators) instead of creating a temporary per operation. Both paths do the same
    floating-point operations in the same order, so their results are bit-identical
    (tests/unit/test_model_fast_path.py and tests/unit/test_portability.py compare them).
    """
    return FAST_PATHS and bool(is_numpy_namespace(xp))


def empty_years(like: np.ndarray[Any, Any], n_rows: int, dtype: Any = None, /) -> Any:
    """An uninitialized year-major NumPy buffer of ``n_rows`` rows of ``like``'s samples.

    Parameters
    ----------
    like : numpy.ndarray, shape (n, ...) or (n,)
        Gives the number of samples ``n`` (first axis), the dtype (unless ``dtype``) and
        the array subclass (``empty_like`` keeps it, so that instrumented arrays such as
        benchmarks/arithmetic_floor.py's stay instrumented).
    n_rows : int
        Number of rows (years, vintages or ages). [-]
    dtype : numpy dtype, optional
        The buffer's dtype; default ``like``'s.

    Returns
    -------
    numpy.ndarray, shape (n_rows, n)
        Row ``k`` is year ``k`` for all samples, contiguous; its transpose is the
        ``(n, n_rows)`` view the model returns.
    """
    return np.empty_like(like, dtype=dtype, order="C", shape=(n_rows, like.shape[0]))


_POOL = threading.local()


def scratch(key: str, like: np.ndarray[Any, Any], n_rows: int, dtype: Any = None, /) -> Any:
    """A reused per-thread year-major NumPy buffer for a temporary, contents undefined.

    Fresh memory is costly here: the first touch of each new page faults, and a block's
    temporaries would otherwise take new pages every block. The fast paths keep their
    temporaries in buffers that live with the thread (about 40 MB per thread at 16,384
    samples) and are reused by every call. A buffer is either a temporary of the
    function that asks for it or, through a ``scratch_key`` argument, an intermediate
    private to one evaluation of the model (never one of its results); each call site
    has its own ``key``.

    Parameters
    ----------
    key : str
        The call site's name; two temporaries alive at once need two keys.
    like : numpy.ndarray, shape (n, ...) or (n,)
        Gives the number of samples ``n``, the dtype (unless ``dtype``) and the array
        subclass (as :func:`empty_years`).
    n_rows : int
        Number of rows. [-]
    dtype : numpy dtype, optional
        The buffer's dtype; default ``like``'s.

    Returns
    -------
    numpy.ndarray, shape (n_rows, like.shape[0])
        A C-contiguous view of the thread's buffer for ``key``, grown when too small.
    """
    dtype = np.dtype(like.dtype if dtype is None else dtype)
    pool: dict[tuple[str, type, np.dtype[Any]], Any] = _POOL.__dict__.setdefault("pool", {})
    size = n_rows * like.shape[0]
    slot = (key, type(like), dtype)
    buffer = pool.get(slot)
    if buffer is None or buffer.size < size:
        buffer = np.empty_like(like, dtype=dtype, shape=(size,))
        pool[slot] = buffer
    return buffer[:size].reshape(n_rows, like.shape[0])


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


def years_buffer(
    like: np.ndarray[Any, Any], n_rows: int, dtype: Any, key: str | None = None, /
) -> Any:
    """A year-major NumPy buffer for a result: fresh, or the thread's scratch for ``key``.

    Parameters
    ----------
    like, n_rows, dtype
        As :func:`empty_years`.
    key : str, optional
        None: a fresh buffer (:func:`empty_years`). Otherwise the thread's reusable
        buffer for ``key`` (:func:`scratch`), for a caller that is done with the result
        before it asks for the same key again (the model's private intermediates).

    Returns
    -------
    numpy.ndarray, shape (n_rows, like.shape[0])
        Uninitialized.
    """
    if key is None:
        return empty_years(like, n_rows, dtype)
    return scratch(key, like, n_rows, dtype)
