"""A mergeable log-bucketed histogram of non-negative values, for quantiles of huge runs.

A :class:`LogHistogram` counts values per ``(row, bucket)``, where a row is one year of one
metric and a bucket is a range of doubles sharing their sign, exponent and the top
:data:`MANTISSA_BITS` bits of their mantissa. Bucket keys are the float64 bit pattern shifted
right (``x.view(int64) >> (52 - MANTISSA_BITS)``): monotone in ``x``, one integer shift per
value and no logarithm, the same idea as HdrHistogram's and DDSketch's "bit-based"
index mappings. Each bucket spans a relative width of at most ``2**-MANTISSA_BITS``, so its
midpoint is within :data:`RELATIVE_ERROR` (``2**-(MANTISSA_BITS + 1)``, about 0.2%) of any
value in it.

Counts are integers, so merging (adding counts) is exact, associative and commutative: a
histogram built from blocks in any order, by any number of workers or machines, is the same.

Why not a library: DDSketch (``ddsketch`` on PyPI) has the same error guarantee with a
logarithmic mapping, but adds values one at a time in Python (about a microsecond each, hours
for 1e7 samples x 750 series); t-digest's merges depend on insertion order (not
deterministic across block schedules) and its error is on ranks, not values. This module is
the vectorized core of DDSketch's idea with NumPy: a shift, two reductions and a
``bincount`` per block.

Zeros (and subnormals, below 2.3e-308) fall in bucket 0, reported as 0; ``+inf`` has a
bucket of its own, reported as ``+inf``. Negative values and NaN are refused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["MANTISSA_BITS", "RELATIVE_ERROR", "LogHistogram", "SignedHistogram"]

MANTISSA_BITS = 8
"""Mantissa bits kept in a bucket key: 256 buckets per power of two. [-]"""

RELATIVE_ERROR = 2.0 ** -(MANTISSA_BITS + 1)
"""Largest relative error of a quantile read from a :class:`LogHistogram`: 2**-9 ~ 0.195%. [-]"""

_SHIFT = 52 - MANTISSA_BITS
_INF_KEY = int(np.array(np.inf).view(np.int64)) >> _SHIFT
"""Bucket key of ``+inf`` (every finite double has a smaller key). [-]"""

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


def _key_to_lower(keys: IntArray) -> FloatArray:
    """Lower edge of each bucket (the smallest double with that key)."""
    return np.left_shift(keys.astype(np.int64), _SHIFT).view(np.float64)


def bucket_value(keys: IntArray) -> FloatArray:
    """The value reported for a bucket: its midpoint; 0 for bucket 0; ``+inf`` for inf's.

    Parameters
    ----------
    keys : ndarray of int64
        Bucket keys (``>= 0``). [-]

    Returns
    -------
    ndarray of float64
        Representative values, within :data:`RELATIVE_ERROR` of every value in the bucket.
    """
    k = np.asarray(keys, dtype=np.int64)
    finite = np.minimum(k, _INF_KEY - 1)
    lower = _key_to_lower(finite)
    upper = _key_to_lower(finite + 1)
    mid = lower + 0.5 * (upper - lower)
    out = np.where(k >= _INF_KEY, np.inf, mid)
    return np.where(k == 0, 0.0, out)


@dataclass
class LogHistogram:
    """Counts of values per row and log-spaced bucket; rows are e.g. the years of a metric.

    Attributes
    ----------
    n_rows : int
        Number of rows (series). [-]
    lo : ndarray of int64, shape (n_rows,)
        Key of each row's first stored bucket. [-]
    counts : ndarray of int64, shape (n_rows, width)
        ``counts[r, j]`` positive finite values of row ``r`` fell in bucket ``lo[r] + j``. [-]
    zeros, infs : ndarray of int64, shape (n_rows,)
        Values of each row in bucket 0 (zeros and subnormals) and equal to ``+inf``. [-]
    total : int
        Values added per row. [-]
    """

    n_rows: int
    lo: IntArray
    counts: IntArray
    zeros: IntArray
    infs: IntArray
    total: int = 0

    @classmethod
    def empty(cls, n_rows: int) -> LogHistogram:
        """A histogram with ``n_rows`` rows and nothing counted."""
        zero = np.zeros(n_rows, dtype=np.int64)
        return cls(n_rows, zero.copy(), np.zeros((n_rows, 0), np.int64), zero.copy(), zero)

    @classmethod
    def of(cls, x: FloatArray, /, scratch: IntArray | None = None) -> LogHistogram:
        """Histogram of a block of values, one row per series.

        Parameters
        ----------
        x : ndarray of float64, shape (n_rows, n)
            Non-negative values, ``+inf`` allowed; row-major (each series contiguous, the
            fast layout for reductions). [any unit]
        scratch : ndarray of int64, shape (n_rows, n), optional
            Reusable buffer (spares a fresh allocation per block).

        Returns
        -------
        LogHistogram

        Raises
        ------
        ValueError
            If ``x`` holds a negative value or NaN.
        """
        arr = np.ascontiguousarray(x, dtype=np.float64)
        if arr.ndim != 2:
            msg = f"x must be shaped (n_rows, n); got {arr.shape}"
            raise ValueError(msg)
        rows, n = arr.shape
        if n == 0:
            return cls.empty(rows)
        keys = scratch if scratch is not None and scratch.shape == arr.shape else None
        keys = np.right_shift(arr.view(np.int64), _SHIFT, out=keys)
        kmin = keys.min(axis=1)
        kmax = keys.max(axis=1)
        if (kmin < 0).any() or (kmax > _INF_KEY).any():
            bad = arr[(arr < 0) | np.isnan(arr)]
            if bad.size and not (bad == 0).all():  # -0.0 is zero
                msg = f"LogHistogram holds non-negative values only; got {bad[0]!r}"
                raise ValueError(msg)
            keys = np.right_shift((arr + 0.0).view(np.int64), _SHIFT, out=keys)  # -0.0 -> 0.0
            kmin = keys.min(axis=1)
            kmax = keys.max(axis=1)
        zeros = np.zeros(rows, dtype=np.int64)
        infs = np.zeros(rows, dtype=np.int64)
        special = (kmin == 0) | (kmax == _INF_KEY)
        dropped = None
        if special.any():
            # Window over the positive finite keys only; zeros and infs counted apart.
            dropped = _window_special(keys, kmin, kmax, zeros, infs, special)
        width = int((kmax - kmin).max()) + 1
        np.subtract(
            keys, (kmin - np.arange(rows, dtype=np.int64) * width)[:, np.newaxis], out=keys
        )
        if dropped is None:
            counts = np.bincount(keys.reshape(-1), minlength=rows * width).reshape(rows, width)
            if special.any():  # zeros and infs were clipped into the first and last buckets
                counts[:, 0] -= zeros
                counts[np.arange(rows), kmax - kmin] -= infs
        else:  # many zeros or infs: left out of the count
            span, mask = dropped
            keep = np.ones(keys.shape, dtype=np.bool_)
            np.logical_not(mask, out=keep[span])
            counts = np.bincount(keys[keep], minlength=rows * width).reshape(rows, width)
        return cls(rows, kmin.astype(np.int64), counts, zeros, infs, n)

    def merge(self, other: LogHistogram, /) -> LogHistogram:
        """The histogram of both sets of values (counts added; exact and order-free)."""
        if other.n_rows != self.n_rows:
            msg = f"cannot merge histograms of {self.n_rows} and {other.n_rows} rows"
            raise ValueError(msg)
        zeros, infs = self.zeros + other.zeros, self.infs + other.infs
        total = self.total + other.total
        if other.counts.shape[1] == 0:
            return LogHistogram(self.n_rows, self.lo, self.counts, zeros, infs, total)
        if self.counts.shape[1] == 0:
            return LogHistogram(
                self.n_rows, other.lo.copy(), other.counts.copy(), zeros, infs, total
            )
        lo = np.minimum(self.lo, other.lo)
        hi = np.maximum(self.lo + self.counts.shape[1], other.lo + other.counts.shape[1])
        width = int((hi - lo).max())
        if width == self.counts.shape[1] and (lo == self.lo).all():
            counts = self.counts
        else:
            counts = np.zeros((self.n_rows, width), dtype=np.int64)
            _add_into(counts, lo, self.lo, self.counts)
        _add_into(counts, lo, other.lo, other.counts)
        return LogHistogram(self.n_rows, lo, counts, zeros, infs, total)

    def order_statistics(self, ranks: IntArray) -> FloatArray:
        """Approximate order statistics per row.

        Parameters
        ----------
        ranks : ndarray of int64, shape (k,) or (k, n_rows)
            0-based ranks among each row's values (the same for every row, or per row). [-]

        Returns
        -------
        ndarray of float64, shape (k, n_rows)
            The value of rank ``r`` in each row, within :data:`RELATIVE_ERROR` of the exact
            order statistic (0 for zeros, ``+inf`` for infinities and ranks past the end).
        """
        r = np.asarray(ranks, dtype=np.int64)
        if r.ndim == 1:
            r = np.broadcast_to(r[:, np.newaxis], (r.shape[0], self.n_rows))
        cum = np.cumsum(self.counts, axis=1)
        keys = np.empty(r.shape, dtype=np.int64)
        finite = self.zeros.copy()
        for row in range(self.n_rows):
            j = np.searchsorted(cum[row], r[:, row] - self.zeros[row], side="right")
            keys[:, row] = self.lo[row] + j
            if cum.shape[1]:
                finite[row] += cum[row, -1]
        values = bucket_value(keys)
        values[r < self.zeros[np.newaxis, :]] = 0.0
        values[r >= finite[np.newaxis, :]] = np.inf
        return values

    def quantiles(self, probs: Sequence[float] | FloatArray) -> FloatArray:
        """Quantiles by numpy's ``linear`` method, from the approximate order statistics.

        Parameters
        ----------
        probs : sequence of float
            Probabilities in ``[0, 1]``. [-]

        Returns
        -------
        ndarray of float64, shape (len(probs), n_rows)
            Within :data:`RELATIVE_ERROR` of the exact sample quantiles (a convex
            combination of two order statistics, each within the bound); ``+inf`` where the
            exact quantile interpolates towards an infinite order statistic.
        """
        if self.total == 0:
            msg = "the histogram is empty"
            raise ValueError(msg)
        return _interpolated(self.order_statistics, self.total, probs)


def _interpolated(
    order_statistics: Callable[[IntArray], FloatArray], n: int, probs: Sequence[float] | FloatArray
) -> FloatArray:
    """Quantiles by numpy's ``linear`` method from (approximate) order statistics."""
    p = np.asarray(probs, dtype=np.float64)
    virtual = (n - 1) * p
    below = np.clip(np.floor(virtual), 0, n - 1).astype(np.int64)
    above = np.minimum(below + 1, n - 1)
    gamma = (virtual - below)[:, np.newaxis]
    stats = order_statistics(np.concatenate([below, above]))
    a, b = stats[: p.size], stats[p.size :]
    with np.errstate(invalid="ignore"):
        q = np.where(gamma > 0, a + gamma * (b - a), a)
    q = np.where(np.isposinf(b) & (gamma > 0), np.inf, np.where(np.isposinf(a), np.inf, q))
    return np.where(np.isneginf(a) & ((gamma < 1) | np.isneginf(b)), -np.inf, q)


@dataclass
class SignedHistogram:
    """A :class:`LogHistogram` of values of any sign: one for ``x >= 0``, one for ``-x``.

    For series such as paired differences (``with - without``). Order statistics are within
    :data:`RELATIVE_ERROR` of exact on either side of zero; a quantile interpolated between
    two order statistics of opposite signs is within ``RELATIVE_ERROR * max(|a|, |b|)`` of
    exact (an absolute bound: the quantile itself may be near 0).

    Attributes
    ----------
    pos : LogHistogram
        Values ``>= 0`` (zeros and ``+inf`` included), per row.
    neg : LogHistogram
        ``-x`` for the values ``x < 0`` (``-inf`` as ``+inf``), per row.
    total : int
        Values per row. [-]
    """

    pos: LogHistogram
    neg: LogHistogram
    total: int = 0

    @classmethod
    def empty(cls, n_rows: int) -> SignedHistogram:
        """Nothing counted."""
        return cls(LogHistogram.empty(n_rows), LogHistogram.empty(n_rows), 0)

    @classmethod
    def of(
        cls,
        x: FloatArray,
        /,
        scratch: IntArray | None = None,
        floats: FloatArray | None = None,
    ) -> SignedHistogram:
        """Histogram of a block shaped ``(n_rows, n)`` of values of any sign but NaN.

        ``scratch`` (int64) and ``floats`` (float64), shaped like ``x``, are reusable
        buffers that spare fresh allocations per block.
        """
        rows, n = x.shape
        negative = x < 0
        if not negative.any():
            return cls(LogHistogram.of(x, scratch), LogHistogram.empty(rows), n)
        n_neg = np.count_nonzero(negative, axis=1).astype(np.int64)
        part = floats if floats is not None and floats.shape == x.shape else None
        # x where x >= 0, else 0 (NaN stays NaN and is refused)
        pos = LogHistogram.of(np.maximum(x, 0.0, out=part), scratch)
        pos.zeros -= n_neg
        # -x where x < 0, else +0.0 (0 - min(x, 0): never -0.0)
        part = np.minimum(x, 0.0, out=part)
        neg = LogHistogram.of(np.subtract(0.0, part, out=part), scratch)
        neg.zeros -= n - n_neg
        return cls(pos, neg, n)

    def merge(self, other: SignedHistogram, /) -> SignedHistogram:
        """Both sets of values (exact and order-free)."""
        return SignedHistogram(
            self.pos.merge(other.pos), self.neg.merge(other.neg), self.total + other.total
        )

    def order_statistics(self, ranks: IntArray) -> FloatArray:
        """Approximate order statistics per row (see :meth:`LogHistogram.order_statistics`)."""
        r = np.asarray(ranks, dtype=np.int64)
        rows = self.pos.n_rows
        if r.ndim == 1:
            r = np.broadcast_to(r[:, np.newaxis], (r.shape[0], rows))
        n_neg = self.neg.zeros + self.neg.infs + self.neg.counts.sum(axis=1)
        on_neg = r < n_neg[np.newaxis, :]
        neg_rank = np.clip(n_neg[np.newaxis, :] - 1 - r, 0, None)
        pos_rank = np.clip(r - n_neg[np.newaxis, :], 0, None)
        out = self.pos.order_statistics(pos_rank)
        if on_neg.any():
            out = np.where(on_neg, -self.neg.order_statistics(neg_rank), out)
        return out

    def quantiles(self, probs: Sequence[float] | FloatArray) -> FloatArray:
        """Quantiles by numpy's ``linear`` method, within :data:`RELATIVE_ERROR` of exact."""
        if self.total == 0:
            msg = "the histogram is empty"
            raise ValueError(msg)
        return _interpolated(self.order_statistics, self.total, probs)


_DROP_SHARE = 0.125
"""Share of zeros and infs in the special rows above which they are left out of the
``bincount`` (one compress pass) instead of clipped into the window's end buckets and
subtracted again: counting costs about 1 ns a value, so a series that is mostly 0 (idle or
unmet capacity) is counted much faster without its zeros. [-]"""


def _window_special(
    keys: IntArray,
    kmin: IntArray,
    kmax: IntArray,
    zeros: IntArray,
    infs: IntArray,
    special: NDArray[np.bool_],
) -> tuple[slice, NDArray[np.bool_]] | None:
    """Count zeros and infs of the ``special`` rows and window them to their finite keys.

    In place, for the rows from the first to the last special one at once (the others in
    between are left as they are): ``zeros`` and ``infs`` get each row's keys equal to 0
    and to :data:`_INF_KEY`; ``kmin`` and ``kmax`` become the smallest and largest of its
    other keys (both 1 when it has none).

    Returns
    -------
    (slice, ndarray of bool) or None
        Where zeros and infs are more than :data:`_DROP_SHARE` of those rows: the rows and
        the mask of their zeros and infs, to be left out of the count (their keys are left
        as they are). Otherwise None, and the keys are clipped to the window, so that zeros
        and infs land in its first and last bucket (to be subtracted after counting).
    """
    marked = np.flatnonzero(special)
    span = slice(int(marked[0]), int(marked[-1]) + 1)
    block = keys[span]
    mask = block == 0
    zeros[span] = np.count_nonzero(mask, axis=1)
    # Smallest key above 0: keys - 1 as unsigned puts the zeros last (2**64 - 1).
    shifted = np.subtract(block, 1)
    low = shifted.view(np.uint64).min(axis=1).view(np.int64) + 1  # 0: zeros only
    has_inf = bool((kmax[span] == _INF_KEY).any())
    if has_inf:
        at_inf = block == _INF_KEY
        infs[span] = np.count_nonzero(at_inf, axis=1)
        mask |= at_inf
        # Largest key below inf: INF_KEY - 1 - keys as unsigned puts the infs last.
        np.subtract(_INF_KEY - 1, block, out=shifted)
        high = _INF_KEY - 1 - shifted.view(np.uint64).min(axis=1).view(np.int64)  # INF: none
        high = np.where(high == _INF_KEY, -1, high)
    else:
        high = kmax[span].copy()
    low = np.where(low == 0, np.iinfo(np.int64).max, low)
    empty = low > high  # zeros and infs only
    low[empty] = 1
    high[empty] = 1
    kmin[span] = low
    kmax[span] = high
    if int(zeros[span].sum() + infs[span].sum()) > _DROP_SHARE * block.size:
        return span, mask
    if has_inf:
        np.clip(block, low[:, np.newaxis], high[:, np.newaxis], out=block)
    else:
        np.maximum(block, low[:, np.newaxis], out=block)
        if empty.any():  # rows of zeros only: every key (0) is now 1, the window's top
            np.minimum(block, high[:, np.newaxis], out=block)
    return None


def _add_into(dest: IntArray, dest_lo: IntArray, src_lo: IntArray, src: IntArray) -> None:
    width = src.shape[1]
    for row in range(dest.shape[0]):
        start = int(src_lo[row] - dest_lo[row])
        dest[row, start : start + width] += src[row]
