"""Sampling designs (random, Latin hypercube, scrambled Sobol') and Iman-Conover correlation.

A design turns ``(seed, parameter names, block, size)`` into one block of uniforms per
parameter, strictly inside ``(0, 1)``; :func:`correlate` then imposes the scenario's Spearman
rank correlations by Iman-Conover reordering; inverse CDFs
(:mod:`simulator.sampling.distributions`) finally map uniforms to values. Everything is a
pure function of its arguments, so any worker can build any block.

What each design promises, each measured by a test (``tests/unit/test_designs.py``):

- ``random``: independent uniforms; block ``b`` of ``n`` samples is a prefix of block ``b``
  of ``n + m`` (prefix stable).
- ``lhs``: every block is a Latin hypercube over the samples it actually holds: a block of
  ``s`` samples (the last block of a run is trimmed to what remains) has exactly one point
  in each of the ``s`` equal strata of every parameter, correlated or not (Iman-Conover
  only reorders values). ``-n 1000`` is one 1000-point Latin hypercube. A run of several
  blocks is the union of independent Latin hypercubes, one per block: with ``m`` full blocks
  of ``B``, each of the ``B`` strata of width ``1/B`` holds exactly ``m`` points, but the
  union is not itself a Latin hypercube of ``m B`` points (a sliced design, Qian 2012, would
  be; it is not built). Since the last block is stratified over its own size, ``n`` samples
  are **not** a prefix of ``n + m`` when both end inside the same block.
- ``sobol``: :data:`SOBOL_REPLICATES` independently scrambled Sobol' sequences (randomized
  quasi-Monte Carlo); sample ``k`` of a run is point ``k // R`` of replicate ``k % R``, so a
  run of ``n`` samples holds the first ``n / R`` points of each replicate, whatever the block
  size, and is prefix stable. The replicate means are independent and unbiased, so the
  standard error of a mean is their standard deviation over ``sqrt(R)`` [6]_. Each
  replicate is a balanced net, and the error falls faster than Monte Carlo's, only when
  ``n / R`` is a power of 2 (``n`` a power of 2 and at least ``R``):
  :func:`sobol_sample_count_problem` says when it is not.

Common random numbers (two scenarios that share a parameter draw the same uniforms for it)
hold for ``random`` and ``lhs``: each parameter's uniforms come from its own stream
(:func:`simulator.sampling.streams.stream`) and depend only on the seed, its name, the block
and the block's size. They do **not** hold for ``sobol``, whose dimensions follow the sorted
parameter names: adding or removing a parameter shifts the dimensions of the others.
Correlated parameters are reordered by Iman-Conover, so the order of their values depends on
their partners in every design (their values do not).

References
----------
.. [1] M. D. McKay, R. J. Beckman, W. J. Conover, "A comparison of three methods for
   selecting values of input variables in the analysis of output from a computer code",
   Technometrics 21(2), 239-245, 1979 (Latin hypercube sampling).
.. [2] I. M. Sobol', "On the distribution of points in a cube and the approximate evaluation
   of integrals", USSR Comput. Math. Math. Phys. 7(4), 86-112, 1967.
.. [3] A. B. Owen, "Scrambling Sobol' and Niederreiter-Xing points", J. Complexity 14(4),
   466-489, 1998; ``scipy.stats.qmc.Sobol`` (LMS + digital shift scrambling).
.. [4] W. H. Kruskal, "Ordinal measures of association", JASA 53(284), 814-861, 1958
   (Spearman's rho of a bivariate normal: ``rho_s = (6/pi) arcsin(r/2)``).
.. [5] R. L. Iman, W. J. Conover, "A distribution-free approach to inducing rank correlation
   among input variables", Commun. Stat. Simul. Comput. 11(3), 311-334, 1982.
   doi:10.1080/03610918208812265
.. [6] P. L'Ecuyer, C. Lemieux, "Recent advances in randomized quasi-Monte Carlo methods", in
   *Modeling Uncertainty*, Kluwer, 2002, pp. 419-474 (independent replicates of a randomized
   QMC rule and their variance estimate). doi:10.1007/0-306-48102-2_20
.. [7] P. Z. G. Qian, "Sliced Latin hypercube designs", JASA 107(497), 393-399, 2012.
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import special
from scipy.stats import qmc, rankdata

from simulator.sampling.streams import stable_hash, stream

__all__ = [
    "SOBOL_REPLICATES",
    "Method",
    "SobolSampleCountWarning",
    "block_uniforms",
    "correlate",
    "open_unit",
    "rank_correlation",
    "se_replicates",
    "sobol_sample_count_problem",
    "uniforms_from",
]

FloatArray = npt.NDArray[np.float64]
Method = Literal["random", "lhs", "sobol"]

SOBOL_STREAM = "sampling.sobol"
"""Stream name whose hash seeds the Sobol' scrambling: replicate ``r`` is scrambled from
``SeedSequence(seed, spawn_key=(stable_hash(SOBOL_STREAM), r))``. Part of the
reproducibility contract."""

SOBOL_REPLICATES: int = 8
"""Independently scrambled Sobol' sequences a ``sobol`` run is split into. [-]

Part of the reproducibility contract. Eight replicates give the standard error of a mean
7 degrees of freedom (its own relative error is about ``1 / sqrt(2 * 7)``, 27%), at the
cost of each replicate holding ``n / 8`` points: for an integrand whose QMC error falls as
``n**-a``, the pooled error of 8 replicates is about ``8**(a - 1/2)`` times that of one
``n``-point sequence (no cost at the Monte Carlo rate ``a = 1/2``). Sixteen would make the
standard errors steadier but the replicates smaller, and small nets in many dimensions
have poor two-dimensional projections: at 512 samples in 18 dimensions the worst pair of
independent parameters had a rank-correlation spread of 0.22 with 16 replicates, 0.11 with
8, against 0.044 for Monte Carlo (docs/sampling.md)."""

_BITS = 52
_SCALE = 2.0**-_BITS
_LOW = 2.0**-53
_HIGH = float(np.nextafter(1.0, 0.0))


class SobolSampleCountWarning(UserWarning):
    """A ``sobol`` run whose sample count does not make every replicate a balanced net.

    Raised (as a warning) by the engine when ``n`` is not a power of 2 of at least
    :data:`SOBOL_REPLICATES`; the run is still valid randomized QMC (unbiased, with
    replicate standard errors) but its error shrinks more slowly.
    """


def open_unit(x: npt.ArrayLike) -> FloatArray:
    """Clip values into ``[2**-53, 1 - 2**-53]``, strictly inside ``(0, 1)``.

    Parameters
    ----------
    x : array_like of float
        Values in ``[0, 1]``. [-]

    Returns
    -------
    numpy.ndarray of float64
        ``x`` clipped to the range every design draws from (:func:`uniforms_from`), so
        every inverse CDF is finite; a standard normal lies outside the clipped range
        (``|z| > 8.2``) with probability about 2e-16.
    """
    out: FloatArray = np.clip(np.asarray(x, dtype=np.float64), _LOW, _HIGH)
    return out


def uniforms_from(g: np.random.Generator, size: int) -> FloatArray:
    """``size`` uniforms strictly inside ``(0, 1)`` from a generator.

    Each is ``(k + 0.5) / 2**52`` with ``k`` uniform on ``0 .. 2**52 - 1``: the midpoints of
    ``2**52`` equal cells, all exactly representable, never 0 or 1. (With ``2**53`` cells the
    top midpoints round to 1.0.)

    Parameters
    ----------
    g : numpy.random.Generator
        The stream to draw from.
    size : int
        Number of uniforms.

    Returns
    -------
    numpy.ndarray of float64
        Shape ``(size,)``, values in ``[2**-53, 1 - 2**-53]``. [-]
    """
    out: FloatArray = np.empty(size)
    return _uniforms_into(g, out)


def _uniforms_into(g: np.random.Generator, out: FloatArray) -> FloatArray:
    """:func:`uniforms_from` written into ``out`` (a contiguous float64 array), in place."""
    k = g.integers(0, 2**_BITS, size=out.shape[0], dtype=np.int64)
    out[...] = k  # exact: k < 2**52 (a plain cast is faster than add's casting loop)
    out += 0.5
    out *= _SCALE
    return out


def _random(seed: int, name: str, block: int, size: int) -> FloatArray:
    """The first ``size`` uniforms of the parameter's stream for the block (prefix stable)."""
    return uniforms_from(stream(seed, name, block), size)


def _lhs(seed: int, name: str, block: int, size: int) -> FloatArray:
    """Latin hypercube over the block's ``size`` samples: ``(permutation(size) + u) / size``.

    McKay et al. 1979. From the parameter's own stream, in this order: the permutation,
    then the jitter; so the points depend on ``(seed, name, block, size)`` only.
    """
    g = stream(seed, name, block)
    strata = g.permutation(size)
    # (strata + jitter) / size, clipped, in one buffer: the same operations elementwise
    points = _uniforms_into(g, np.empty(size))
    points += strata
    points /= size
    out: FloatArray = np.clip(points, _LOW, _HIGH, out=points)
    return out


_PER_NAME: dict[str, Callable[[int, str, int, int], FloatArray]] = {
    "random": _random,
    "lhs": _lhs,
}


class _SobolCache(threading.local):
    """Per-thread scrambled Sobol' engines, so consecutive blocks need no fast-forward."""

    def __init__(self) -> None:
        self.engines: dict[tuple[int, tuple[str, ...], int], qmc.Sobol] = {}


_SOBOL = _SobolCache()
_SOBOL_MAX_ENGINES = 4 * SOBOL_REPLICATES


def _sobol_engine(seed: int, names: tuple[str, ...], replicate: int) -> qmc.Sobol:
    key = (seed, names, replicate)
    engine = _SOBOL.engines.get(key)
    if engine is None:
        seq = np.random.SeedSequence(seed, spawn_key=(stable_hash(SOBOL_STREAM), replicate))
        engine = qmc.Sobol(
            len(names), scramble=True, rng=np.random.Generator(np.random.PCG64(seq))
        )
        if len(_SOBOL.engines) >= _SOBOL_MAX_ENGINES:
            _SOBOL.engines.pop(next(iter(_SOBOL.engines)))
        _SOBOL.engines[key] = engine
    return engine


def _sobol_points(engine: qmc.Sobol, start: int, count: int) -> FloatArray:
    """Points ``start .. start + count - 1`` of a scrambled Sobol' engine's sequence."""
    if engine.num_generated > start:
        engine.reset()
    if engine.num_generated < start:
        engine.fast_forward(start - engine.num_generated)
    if engine.num_generated == 0 and count & (count - 1):
        # scipy warns about balance when a draw from the start is not a power of 2; the
        # balance of a run is checked once, by sobol_sample_count_problem, not per block
        first = engine.random(1)
        return np.concatenate([first, engine.random(count - 1)]).astype(np.float64)
    return np.asarray(engine.random(count), dtype=np.float64)


def _sobol(
    seed: int, names: Sequence[str], block: int, block_size: int, size: int
) -> dict[str, FloatArray]:
    """Samples ``block * block_size .. + size - 1`` of a run's ``R`` interleaved replicates.

    Sample ``k`` is point ``k // R`` of replicate ``k % R``, one scrambled Sobol' sequence
    per replicate with the sorted parameter names as dimensions. Scipy's points are
    multiples of ``2**-30`` (``bits=30``) in ``[0, 1)``; adding half a cell, ``2**-31``,
    centres them in their cells, strictly inside ``(0, 1)`` without disturbing the nets.
    """
    dims = tuple(sorted(names))
    if not dims or size == 0:
        return {name: np.empty(0) for name in dims} if size == 0 else {}
    r_count = SOBOL_REPLICATES
    first = block * block_size
    points = np.empty((size, len(dims)), dtype=np.float64)
    for r in range(r_count):
        k0 = first + (r - first) % r_count  # first sample of replicate r in this block
        if k0 >= first + size:
            continue
        count = (first + size - 1 - k0) // r_count + 1
        engine = _sobol_engine(seed, dims, r)
        points[k0 - first :: r_count] = _sobol_points(engine, k0 // r_count, count)
    points += 2.0**-31
    return {name: np.ascontiguousarray(points[:, j]) for j, name in enumerate(dims)}


def block_uniforms(
    method: Method,
    seed: int,
    names: Sequence[str],
    block: int,
    block_size: int,
    *,
    size: int | None = None,
) -> dict[str, FloatArray]:
    """One block of uniforms strictly inside ``(0, 1)`` for each named parameter.

    Parameters
    ----------
    method : {"random", "lhs", "sobol"}
        ``random``: each parameter's own stream ``stream(seed, name, block)``, its first
        ``size`` uniforms.
        ``lhs``: a Latin hypercube over the block's ``size`` samples (exactly one point in
        each of the ``size`` strata per parameter), each parameter from its own stream.
        ``sobol``: :data:`SOBOL_REPLICATES` scrambled Sobol' sequences over the sorted names
        as dimensions, interleaved (sample ``k = block * block_size + j`` is point
        ``k // R`` of replicate ``k % R``; replicate ``r`` scrambled from
        ``SeedSequence(seed, spawn_key=(stable_hash("sampling.sobol"), r))``).
    seed : int
        Root seed, ``>= 0``.
    names : sequence of str
        Dotted parameter paths (the uncertain scalar parameters).
    block : int
        Block index, ``>= 0``.
    block_size : int
        Samples per full block: block ``b`` starts at sample ``b * block_size``.
    size : int, optional
        Samples this block actually holds, ``1 <= size <= block_size`` (the last block of a
        run holds what remains); default ``block_size``. ``random`` and ``sobol`` give the
        first ``size`` of the full block's uniforms; ``lhs`` stratifies over ``size``.

    Returns
    -------
    dict of str to numpy.ndarray
        Each name to an array of shape ``(size,)`` of uniforms. [-]

    Raises
    ------
    ValueError
        For an unknown method, a repeated name, or a size out of range.

    Notes
    -----
    Common random numbers across scenarios hold for ``random`` and ``lhs`` (a parameter's
    uniforms depend only on ``(seed, name, block, size)``), not for ``sobol`` (its
    dimensions follow the sorted parameter names).
    """
    if len(set(names)) != len(names):
        msg = f"parameter names must be unique (got {list(names)})"
        raise ValueError(msg)
    if block_size < 1:
        msg = f"block_size must be >= 1 (got {block_size})"
        raise ValueError(msg)
    n = block_size if size is None else size
    if not 1 <= n <= block_size:
        msg = f"size must be in 1..block_size={block_size} (got {size})"
        raise ValueError(msg)
    if method == "sobol":
        return _sobol(seed, names, block, block_size, n)
    per_name = _PER_NAME.get(method)
    if per_name is None:
        msg = f"unknown sampling method {method!r}; one of random, lhs, sobol"
        raise ValueError(msg)
    return {name: per_name(seed, name, block, n) for name in names}


def se_replicates(method: str) -> int | None:
    """Independent replicates that standard errors of means come from, for a design.

    Parameters
    ----------
    method : {"random", "lhs", "sobol"}
        Sampling design.

    Returns
    -------
    int or None
        :data:`SOBOL_REPLICATES` for ``sobol`` (sample ``k`` belongs to replicate
        ``k % R``), None for the designs whose samples are treated as independent.
    """
    return SOBOL_REPLICATES if method == "sobol" else None


def sobol_sample_count_problem(samples: int) -> str | None:
    """Why ``samples`` points do not make every ``sobol`` replicate a balanced net, if so.

    Parameters
    ----------
    samples : int
        Samples of the run. [-]

    Returns
    -------
    str or None
        None when ``samples`` is a power of 2 and at least :data:`SOBOL_REPLICATES`;
        otherwise a sentence saying what it costs and which counts would do.
    """
    r = SOBOL_REPLICATES
    if samples >= r and samples & (samples - 1) == 0:
        return None
    low = max(r, 1 << (max(samples, 1).bit_length() - 1))
    high = max(r, 1 << max(samples - 1, 1).bit_length())
    options = f"{low:,}" if low == high else f"{low:,} or {high:,}"
    return (
        f"the sobol design splits a run into {r} independently scrambled replicates, each a "
        f"balanced Sobol' net only when the sample count is a power of 2 of at least {r}; "
        f"{samples:,} is not, so the error shrinks more slowly than it could (the "
        f"standard errors still hold); use {options} samples"
    )


def correlate(
    uniforms: Mapping[str, FloatArray],
    correlations: Sequence[tuple[str, str, float]],
    *,
    replicates: int = 1,
) -> dict[str, FloatArray]:
    """Impose Spearman rank correlations by Iman-Conover reordering (Iman and Conover 1982).

    Every parameter keeps exactly its own values (so a Latin hypercube keeps its strata);
    only their order changes, so that their ranks follow those of a score matrix with the
    wanted correlation:

    1. van der Waerden scores ``a_i = ndtri(i / (s + 1))``, ``i = 1..s``, arranged in each
       column in the order of that column's uniforms (a random permutation, from the
       uniforms themselves, so the result is a function of the block's uniforms only);
    2. the scores' own sample correlation ``E = Q Q^T`` is corrected away and the target
       ``C = P P^T`` put in: ``T = S Q^{-T} P^T``, whose sample Pearson correlation is
       exactly ``C``;
    3. each column of uniforms is reordered to the ranks of its column of ``T``.

    ``C`` holds the Pearson correlations ``r = 2 sin(pi rho / 6)`` of the requested Spearman
    ``rho`` (the inverse of Kruskal 1958's ``rho = (6/pi) arcsin(r/2)`` for normals; the
    scores are close to normal), the matrix the scenario loader checks. The achieved rank
    correlations are then those of ``T``, within sampling noise of ``O(1/sqrt(s))`` of the
    requested ones (measured in ``tests/unit/test_designs.py`` and ``docs/sampling.md``;
    :func:`rank_correlation` reports them). Pairs not requested within a group are
    targeted at 0. Each group of parameters linked by correlations is reordered on its own,
    so correlations among other parameters never change a group's draws.

    Parameters
    ----------
    uniforms : mapping of str to numpy.ndarray
        Independent uniforms per parameter, each of shape ``(s,)``. [-]
    correlations : sequence of (str, str, float)
        ``(name_a, name_b, rho)`` with ``rho`` a Spearman rank correlation in ``[-1, 1]``.
    replicates : int, optional
        Reorder each class of samples ``r, r + R, r + 2R, ...`` (``r < R``) on its own: under
        the ``sobol`` design each class is one replicate's, so the independent replicates
        stay independent. Default 1.

    Returns
    -------
    dict of str to numpy.ndarray
        A new mapping: the involved names reordered, the others passed through unchanged.

    Raises
    ------
    ValueError
        If a name is not among ``uniforms``, a pair is repeated or names one parameter
        twice, a ``rho`` is outside ``[-1, 1]``, or the correlations are not jointly
        possible (their matrix is not positive definite).
    """
    out = dict(uniforms)
    if not correlations:
        return out
    names, target = _target(uniforms, correlations)
    try:
        np.linalg.cholesky(target)
    except np.linalg.LinAlgError as err:
        msg = (
            "the rank correlations are not jointly possible (their correlation matrix is "
            "not positive definite); weaken some of them"
        )
        raise ValueError(msg) from err
    step = max(1, replicates)
    for group in _components(names, correlations):
        # (k, s): one contiguous row per parameter of the group
        cols = np.stack([np.asarray(uniforms[names[i]], dtype=np.float64) for i in group])
        p: FloatArray = np.linalg.cholesky(target[np.ix_(group, group)]).astype(np.float64)
        if step == 1:
            cols = _iman_conover_rows(cols, p)
        else:
            for r in range(step):
                cols[:, r::step] = _iman_conover_rows(np.ascontiguousarray(cols[:, r::step]), p)
        for j, i in enumerate(group):
            out[names[i]] = cols[j]
    return out


def _components(
    names: Sequence[str], correlations: Sequence[tuple[str, str, float]]
) -> list[list[int]]:
    """Indices into ``names`` of each connected group of correlated parameters.

    Each group is reordered on its own, so a correlation between other parameters never
    changes a group's draws (common random numbers between scenarios that differ in them).
    """
    parent = list(range(len(names)))
    index = {n: i for i, n in enumerate(names)}

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for a, b, _ in correlations:
        ra, rb = root(index[a]), root(index[b])
        parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for i in range(len(names)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def _target(
    uniforms: Mapping[str, FloatArray], correlations: Sequence[tuple[str, str, float]]
) -> tuple[list[str], FloatArray]:
    """The involved names (sorted) and the scores' target correlation matrix."""
    names = sorted({n for a, b, _ in correlations for n in (a, b)})
    missing = [n for n in names if n not in uniforms]
    if missing:
        msg = (
            f"cannot correlate {', '.join(missing)}: not an uncertain scalar parameter of "
            "this draw"
        )
        raise ValueError(msg)
    index = {n: i for i, n in enumerate(names)}
    r = np.eye(len(names))
    seen: set[tuple[int, int]] = set()
    for a, b, rho in correlations:
        i, j = sorted((index[a], index[b]))
        if i == j:
            msg = f"a parameter cannot be correlated with itself (got {a})"
            raise ValueError(msg)
        if (i, j) in seen:
            msg = f"{a} and {b} are correlated more than once"
            raise ValueError(msg)
        seen.add((i, j))
        if not -1.0 <= rho <= 1.0:
            msg = f"rank correlation between {a} and {b} must be in [-1, 1] (got {rho})"
            raise ValueError(msg)
        r[i, j] = r[j, i] = 2.0 * np.sin(np.pi * rho / 6.0)
    return names, r


def _iman_conover(u: FloatArray, chol_target: FloatArray) -> FloatArray:
    """Reorder each column of ``u`` (shape ``(s, k)``) by Iman-Conover; values are kept."""
    return _iman_conover_rows(np.ascontiguousarray(u.T), chol_target).T


def _iman_conover_rows(cols: FloatArray, chol_target: FloatArray) -> FloatArray:
    """Reorder each row of ``cols`` (shape ``(k, s)``, C-contiguous) by Iman-Conover.

    Returns a new ``(k, s)`` array (``cols`` itself when ``s < 2``); values are kept.
    """
    k, s = cols.shape
    if s < 2:
        return cols
    ranks = np.empty((k, s), dtype=np.intp)
    ascending = np.empty((k, s))
    for j in range(k):
        ranks[j] = _ranks(cols[j])
        ascending[j, ranks[j]] = cols[j]
    z = np.take(_scores(s), ranks)  # (k, s): each row a permutation of the scores
    try:
        q = np.linalg.cholesky(np.corrcoef(z))
        mix = chol_target @ np.linalg.inv(q)  # T^T = P Q^-1 S^T: correlation exactly P P^T
    except np.linalg.LinAlgError:  # too few samples for the scores' correlation (s <= k)
        mix = chol_target
    t = mix @ z
    out = np.empty((k, s))
    # mix is lower triangular with a positive corner, so t[0] is a positive multiple of
    # z[0] and sorts as ranks[0] does: a guess that _argsort checks before it trusts it
    guess = np.empty(s, dtype=np.intp)
    guess[ranks[0]] = np.arange(s)
    for j in range(k):
        # the value of rank i goes where t[j] has rank i
        out[j, _argsort(t[j], guess if j == 0 else None)] = ascending[j]
    return out


@functools.lru_cache(maxsize=8)
def _scores(s: int) -> FloatArray:
    """Van der Waerden scores ``ndtri(i / (s + 1))``, ``i = 1..s`` (cached, read-only)."""
    scores: FloatArray = special.ndtri(np.arange(1, s + 1) / (s + 1.0))
    scores.flags.writeable = False
    return scores


_RADIX_MAX_RUNS = 64
"""Runs of equal 32-bit keys :func:`_argsort` mends one by one before it sorts afresh. [-]"""


def _argsort(x: FloatArray, guess: npt.NDArray[np.intp] | None = None) -> npt.NDArray[np.intp]:
    """``numpy.argsort(x)`` of a 1-d float64 array, by a radix sort where that is exact.

    A ``guess`` (a permutation of the indices) is returned as it is when ``x[guess]`` is
    strictly increasing: then it is the only order that sorts ``x``.

    numpy's comparison sorts of float64 are slow on some x86 processors (PERF-NOTES.md);
    its stable sort of 16-bit integers is a radix sort. The values are mapped by a
    non-decreasing affine map onto 32-bit keys, sorted by two stable 16-bit passes (low
    half, then high half), and the few runs of equal keys are put in order by their
    values. For distinct values the order is unique, so it is the one ``numpy.argsort``
    gives; where values tie (or are not finite), whose order depends on the sort
    algorithm, ``numpy.argsort(x)`` itself is returned.
    """
    if guess is not None:
        guessed = x[guess]
        if np.all(guessed[1:] > guessed[:-1]):
            return guess
    lo, hi = float(np.min(x)), float(np.max(x))
    span = hi - lo  # a Python float: inf, not a warning, where it overflows
    if not (math.isfinite(span) and span > 0.0):  # NaN, infinities, one value
        return np.argsort(x)
    scale = 4294967295.0 / span
    if not math.isfinite(scale):  # a subnormal span
        return np.argsort(x)
    f = np.subtract(x, lo)
    f *= scale  # in [0, 2**32 - 1] (rounding cannot reach 2**32), non-decreasing in x
    key = f.astype(np.uint32)
    first = np.argsort(key.astype(np.uint16), kind="stable")  # low 16 bits (modular cast)
    high = np.right_shift(key, 16).astype(np.uint16)
    order: npt.NDArray[np.intp] = np.take(first, np.argsort(high[first], kind="stable"))
    sorted_keys = key[order]
    same = np.flatnonzero(sorted_keys[1:] == sorted_keys[:-1])
    if same.size == 0:
        return order
    starts = same[np.r_[True, same[1:] != same[:-1] + 1]]
    ends = same[np.r_[same[1:] != same[:-1] + 1, True]] + 2
    if starts.size > _RADIX_MAX_RUNS:
        return np.argsort(x)
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        run = order[a:b]
        values = x[run]
        within = np.argsort(values)
        ordered = values[within]
        if np.any(ordered[1:] == ordered[:-1]):  # a tie: numpy's own order, whatever it is
            return np.argsort(x)
        order[a:b] = run[within]
    return order


def _ranks(x: FloatArray) -> npt.NDArray[np.intp]:
    """0-based ranks of distinct values (ties, which the designs never draw, by position).

    A column with one value in each of its ``s`` strata of width ``1/s`` (a Latin
    hypercube, a one-dimensional net) has its stratum indices as ranks, with no sort.
    """
    s = x.shape[0]
    cells: npt.NDArray[np.intp] = np.minimum((x * s).astype(np.intp), s - 1)
    if np.bincount(cells, minlength=s).max() == 1:
        return cells
    ranks = np.empty(s, dtype=np.intp)
    ranks[_argsort(x)] = np.arange(s)
    return ranks


def rank_correlation(
    values: Mapping[str, npt.ArrayLike], names: Sequence[str] | None = None
) -> FloatArray:
    """Spearman rank correlation matrix of some columns of samples.

    Parameters
    ----------
    values : mapping of str to array_like
        Per-sample values (or uniforms) by name, each of shape ``(n,)``. [any unit]
    names : sequence of str, optional
        Which columns, in this order; default every one of ``values``.

    Returns
    -------
    numpy.ndarray of float64, shape (k, k)
        Pearson correlations of the columns' ranks (ties get their average rank); NaN
        where a column is constant. [-]
    """
    cols = list(values) if names is None else list(names)
    if not cols:
        return np.empty((0, 0))
    x = np.stack([np.asarray(values[c], dtype=np.float64) for c in cols], axis=1)
    ranks = rankdata(x, axis=0)
    centred = ranks - ranks.mean(axis=0)
    scale = np.sqrt(np.einsum("ij,ij->j", centred, centred))
    with np.errstate(invalid="ignore", divide="ignore"):
        out: FloatArray = (centred.T @ centred) / np.outer(scale, scale)
    return out
