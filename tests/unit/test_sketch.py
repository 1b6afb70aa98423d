"""The histogram's handling of zeros and infinities, against the plain per-row definition.

The reference below is the first release's row-by-row loop (git history of
``simulator/sketch.py``): the vectorized windowing and the leaving-out of many zeros must give
the same histogram, field by field and shape for shape.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulator.sketch import _INF_KEY, _SHIFT, LogHistogram, SignedHistogram

BIG = np.iinfo(np.int64).max


def _reference(x: np.ndarray) -> LogHistogram:
    """LogHistogram.of as first released: each special row windowed in a Python loop."""
    rows, n = x.shape
    keys = np.right_shift((x + 0.0).view(np.int64), _SHIFT)
    kmin, kmax = keys.min(axis=1), keys.max(axis=1)
    zeros = np.zeros(rows, dtype=np.int64)
    infs = np.zeros(rows, dtype=np.int64)
    special = (kmin == 0) | (kmax == _INF_KEY)
    for r in np.flatnonzero(special):
        row = keys[r]
        zeros[r] = np.count_nonzero(row == 0)
        infs[r] = np.count_nonzero(row == _INF_KEY)
        kmin[r] = np.where(row == 0, BIG, row).min()
        kmax[r] = np.where(row == _INF_KEY, -1, row).max()
        if kmin[r] > kmax[r]:
            kmin[r] = kmax[r] = 1
        np.clip(row, kmin[r], kmax[r], out=row)
    width = int((kmax - kmin).max()) + 1
    keys -= (kmin - np.arange(rows) * width)[:, np.newaxis]
    counts = np.bincount(keys.reshape(-1), minlength=rows * width).reshape(rows, width)
    counts[:, 0] -= zeros
    counts[np.arange(rows), kmax - kmin] -= infs
    return LogHistogram(rows, kmin, counts, zeros, infs, n)


def _assert_same(a: LogHistogram, b: LogHistogram) -> None:
    assert a.total == b.total
    assert a.counts.shape == b.counts.shape
    for field in ("lo", "counts", "zeros", "infs"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)


def test_known_row_with_zeros_and_an_inf():
    # key(1.0) = 0x3FF0000000000000 >> 44 = 0x3FF00, key(2.0) = 0x40000: 256 buckets apart.
    x = np.array([[0.0, 0.0, 1.0, 2.0, np.inf]])
    h = LogHistogram.of(x)
    assert (int(h.lo[0]), h.counts.shape) == (0x3FF00, (1, 257))
    assert (int(h.zeros[0]), int(h.infs[0])) == (2, 1)
    assert (int(h.counts[0, 0]), int(h.counts[0, 256]), int(h.counts.sum())) == (1, 1, 2)


@pytest.mark.parametrize("zero_share", [0.0, 1 / 16, 0.5, 0.95, 1.0])
@pytest.mark.parametrize("inf_share", [0.0, 1 / 16, 0.5])
def test_special_rows_match_the_row_by_row_definition(zero_share, inf_share):
    # Few zeros (1/16 < 1/8) are clipped into the window, many are left out of the count:
    # both must give the first release's histogram.
    rng = np.random.default_rng(int(1000 * zero_share + 10 * inf_share))
    x = rng.lognormal(0.0, 3.0, (7, 256))
    for r in (1, 2, 4, 5):  # special rows 1-5, with an ordinary row (3) in between
        u = rng.random(256)
        x[r, u < zero_share] = 0.0
        x[r, (u >= zero_share) & (u < zero_share + inf_share)] = np.inf
    x[5, :] = 0.0 if inf_share == 0 else np.inf
    _assert_same(LogHistogram.of(x.copy()), _reference(x))


def test_random_mixtures_match_the_row_by_row_definition():
    rng = np.random.default_rng(7)
    for _ in range(300):
        rows, n = int(rng.integers(1, 6)), int(rng.integers(1, 40))
        x = rng.lognormal(0.0, 4.0, (rows, n))
        x[rng.random(x.shape) < rng.random()] = 0.0
        x[rng.random(x.shape) < 0.3 * rng.random()] = np.inf
        x[rng.random(x.shape) < 0.1] = -0.0
        _assert_same(LogHistogram.of(x.copy(), np.empty(x.shape, np.int64)), _reference(x))


def test_signed_histogram_in_a_reused_buffer_is_the_same():
    rng = np.random.default_rng(3)
    x = rng.normal(0.0, 1.0, (4, 500))
    x[rng.random(x.shape) < 0.3] = 0.0
    x[0, :3] = (-np.inf, np.inf, -0.0)
    h = SignedHistogram.of(x, np.empty(x.shape, np.int64), np.empty(x.shape))
    negative = x < 0
    pos = _reference(np.where(negative, 0.0, x))
    pos.zeros -= np.count_nonzero(negative, axis=1)
    neg = _reference(np.where(negative, -x, 0.0))
    neg.zeros -= np.count_nonzero(~negative, axis=1)
    _assert_same(h.pos, pos)
    _assert_same(h.neg, neg)
    assert int(h.neg.infs[0]) == 1
    assert int(h.pos.infs[0]) == 1


def test_nan_is_still_refused():
    with pytest.raises(ValueError, match="non-negative values only"):
        SignedHistogram.of(np.array([[1.0, np.nan, -2.0]]), floats=np.empty((1, 3)))
