"""Sampling designs (random, Latin hypercube, scrambled Sobol') and the Gaussian copula.

A design turns ``(seed, parameter names, block)`` into one block of uniforms per parameter,
strictly inside ``(0, 1)``; :func:`correlate` then imposes the scenario's Spearman rank
correlations; inverse CDFs (:mod:`simulator.sampling.distributions`) finally map uniforms to
values. Everything is a pure function of its arguments, so any worker can build any block.

Common random numbers (two scenarios that share a parameter draw the same uniforms for it)
hold for ``random`` and ``lhs``: each parameter's uniforms come from its own stream
(:func:`simulator.sampling.streams.stream`). They do **not** hold for ``sobol``, whose
dimensions follow the sorted parameter names: adding or removing a parameter shifts the
dimensions of the others. Correlated parameters are coupled through the copula, so their
uniforms depend on their partners in every design.

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
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import special
from scipy.stats import qmc

from simulator.sampling.streams import stable_hash, stream

__all__ = ["Method", "block_uniforms", "correlate", "open_unit", "uniforms_from"]

FloatArray = npt.NDArray[np.float64]
Method = Literal["random", "lhs", "sobol"]

SOBOL_STREAM = "sampling.sobol"
"""Stream name whose hash seeds the Sobol' scrambling: ``SeedSequence(seed, spawn_key=
(stable_hash(SOBOL_STREAM),))``. Part of the reproducibility contract."""

_BITS = 52
_SCALE = 2.0**-_BITS
_LOW = 2.0**-53
_HIGH = float(np.nextafter(1.0, 0.0))


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
    k = g.integers(0, 2**_BITS, size=size, dtype=np.int64)
    out = (k + 0.5) * _SCALE
    return out.astype(np.float64, copy=False)


def _random(seed: int, name: str, block: int, block_size: int) -> FloatArray:
    return uniforms_from(stream(seed, name, block), block_size)


def _lhs(seed: int, name: str, block: int, block_size: int) -> FloatArray:
    """Latin hypercube within the block: ``(permutation(B) + u) / B`` (McKay et al. 1979).

    From the parameter's own stream, in this order: the permutation, then the jitter.
    """
    g = stream(seed, name, block)
    strata = g.permutation(block_size)
    jitter = uniforms_from(g, block_size)
    points: FloatArray = (strata + jitter) / block_size
    return open_unit(points)


_PER_NAME: dict[str, Callable[[int, str, int, int], FloatArray]] = {
    "random": _random,
    "lhs": _lhs,
}


class _SobolCache(threading.local):
    """Per-thread scrambled Sobol' engines, so consecutive blocks need no fast-forward."""

    def __init__(self) -> None:
        self.engines: dict[tuple[int, tuple[str, ...]], qmc.Sobol] = {}


_SOBOL = _SobolCache()
_SOBOL_MAX_ENGINES = 4


def _sobol_engine(seed: int, names: tuple[str, ...]) -> qmc.Sobol:
    key = (seed, names)
    engine = _SOBOL.engines.get(key)
    if engine is None:
        seq = np.random.SeedSequence(seed, spawn_key=(stable_hash(SOBOL_STREAM),))
        engine = qmc.Sobol(
            len(names), scramble=True, rng=np.random.Generator(np.random.PCG64(seq))
        )
        if len(_SOBOL.engines) >= _SOBOL_MAX_ENGINES:
            _SOBOL.engines.pop(next(iter(_SOBOL.engines)))
        _SOBOL.engines[key] = engine
    return engine


def _sobol(seed: int, names: Sequence[str], block: int, block_size: int) -> dict[str, FloatArray]:
    """Points ``block * B .. (block + 1) * B - 1`` of one scrambled Sobol' sequence.

    Dimensions are the sorted parameter names. Scipy's points are multiples of ``2**-30``
    (``bits=30``) in ``[0, 1)``; adding half a cell, ``2**-31``, centres them in their cells,
    strictly inside ``(0, 1)`` without disturbing the net's balance.
    """
    if block_size & (block_size - 1) or block_size < 1:
        msg = (
            "the sobol design needs a block size that is a power of 2, so that every block is "
            f"a balanced (t, m, s)-net (got {block_size})"
        )
        raise ValueError(msg)
    dims = tuple(sorted(names))
    if not dims:
        return {}
    engine = _sobol_engine(seed, dims)
    start = block * block_size
    if engine.num_generated > start:
        engine.reset()
    if engine.num_generated < start:
        engine.fast_forward(start - engine.num_generated)
    points = np.asarray(engine.random(block_size), dtype=np.float64) + 2.0**-31
    return {name: np.ascontiguousarray(points[:, j]) for j, name in enumerate(dims)}


def block_uniforms(
    method: Method, seed: int, names: Sequence[str], block: int, block_size: int
) -> dict[str, FloatArray]:
    """One block of uniforms strictly inside ``(0, 1)`` for each named parameter.

    Parameters
    ----------
    method : {"random", "lhs", "sobol"}
        ``random``: each parameter's own stream ``stream(seed, name, block)``.
        ``lhs``: a Latin hypercube within the block (exactly one point in each of the
        ``block_size`` strata per parameter), each parameter from its own stream.
        ``sobol``: one scrambled Sobol' sequence (seeded from
        ``SeedSequence(seed, spawn_key=(stable_hash("sampling.sobol"),))``) over the sorted
        names as dimensions; block ``b`` holds its points ``b * B .. (b + 1) * B - 1``.
    seed : int
        Root seed, ``>= 0``.
    names : sequence of str
        Dotted parameter paths (the uncertain scalar parameters).
    block : int
        Block index, ``>= 0``.
    block_size : int
        Samples per block; a power of 2 for ``sobol``.

    Returns
    -------
    dict of str to numpy.ndarray
        Each name to an array of shape ``(block_size,)`` of uniforms. [-]

    Raises
    ------
    ValueError
        For an unknown method, a repeated name, or (``sobol``) a block size that is not a
        power of 2.

    Notes
    -----
    Common random numbers across scenarios hold for ``random`` and ``lhs`` (a parameter's
    uniforms depend only on ``(seed, name, block)``), not for ``sobol`` (its dimensions
    follow the sorted parameter names).
    """
    if len(set(names)) != len(names):
        msg = f"parameter names must be unique (got {list(names)})"
        raise ValueError(msg)
    if block_size < 1:
        msg = f"block_size must be >= 1 (got {block_size})"
        raise ValueError(msg)
    if method == "sobol":
        return _sobol(seed, names, block, block_size)
    per_name = _PER_NAME.get(method)
    if per_name is None:
        msg = f"unknown sampling method {method!r}; one of random, lhs, sobol"
        raise ValueError(msg)
    return {name: per_name(seed, name, block, block_size) for name in names}


def correlate(
    uniforms: Mapping[str, FloatArray], correlations: Sequence[tuple[str, str, float]]
) -> dict[str, FloatArray]:
    """Impose Spearman rank correlations on uniforms through a Gaussian copula.

    Each requested Spearman ``rho`` becomes the Pearson correlation ``r = 2 sin(pi rho / 6)``
    of the copula's normals (the inverse of Kruskal 1958's ``rho = (6/pi) arcsin(r/2)``), so
    the achieved rank correlation of independent input uniforms is ``rho`` in expectation.
    With ``L`` the Cholesky factor of the matrix over the involved names (sorted):
    ``z = ndtri(u)``, ``z' = z L^T``, ``u' = ndtr(z')``, clipped into ``(0, 1)``.

    Parameters
    ----------
    uniforms : mapping of str to numpy.ndarray
        Independent uniforms per parameter, each of shape ``(B,)``. [-]
    correlations : sequence of (str, str, float)
        ``(name_a, name_b, rho)`` with ``rho`` a Spearman rank correlation in ``[-1, 1]``.

    Returns
    -------
    dict of str to numpy.ndarray
        A new mapping: the involved names correlated, the others passed through unchanged.

    Raises
    ------
    ValueError
        If a name is not among ``uniforms``, a pair is repeated or names one parameter
        twice, or the matrix is not positive definite.
    """
    out = dict(uniforms)
    if not correlations:
        return out
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
    try:
        chol = np.linalg.cholesky(r)
    except np.linalg.LinAlgError as err:
        msg = (
            "the rank correlations are not jointly possible (the copula's correlation matrix "
            "is not positive definite); weaken some of them"
        )
        raise ValueError(msg) from err
    z = special.ndtri(np.stack([np.asarray(uniforms[n], dtype=np.float64) for n in names], axis=1))
    zc = z @ chol.T
    u = open_unit(special.ndtr(zc))
    for j, n in enumerate(names):
        out[n] = np.ascontiguousarray(u[:, j])
    return out
