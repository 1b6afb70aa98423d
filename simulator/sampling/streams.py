"""Random streams: one per parameter and per fixed-size block of samples (MODEL.md §6).

Every random number the simulator uses comes from a generator built by :func:`stream`::

    Generator(PCG64(SeedSequence(seed, spawn_key=(stable_hash(path), block))))

so block ``b`` of parameter ``path`` can be drawn by any worker, in any order, with no
coordination (numpy's "tree-hashed" spawning). Consequences, each a test:

- the same seed gives identical draws whatever the number of workers, chunks or backend;
- the draws for ``n`` samples and for ``n + m`` agree in every block that is full in both
  (the last, partial block of a run is drawn for its own size: a Latin hypercube over it,
  correlations over it; docs/sampling.md);
- two scenarios that share a parameter path draw the same uniforms for it (common random
  numbers, ``random`` and ``lhs`` designs), because a parameter's stream depends only on
  ``(seed, path, block)``.

References
----------
.. [1] NumPy, "Parallel random number generation" and ``numpy.random.SeedSequence``,
   https://numpy.org/doc/stable/reference/random/parallel.html
.. [2] M. E. O'Neill, "PCG: A family of simple fast space-efficient statistically good
   algorithms for random number generation", HMC-CS-2014-0905, 2014.
"""

from __future__ import annotations

import hashlib
from typing import TypeAlias

import numpy as np

__all__ = ["BLOCK_SIZE", "SeedLike", "as_seed", "stable_hash", "stream"]

BLOCK_SIZE: int = 16_384
"""Samples per RNG block. [samples]

Part of the reproducibility contract: sample ``k`` lies in block ``k // BLOCK_SIZE``, and
changing this number changes every result for a given seed. It is a power of two (as the
scrambled Sobol' design needs for balanced blocks) and keeps a block's float64 scratch
arrays (128 KiB each) in L2 cache (PERF-NOTES.md). It is not the scheduling chunk size,
which may change freely without changing results.
"""

_DEFAULT_POOL_SIZE = np.random.SeedSequence(0).pool_size

SeedLike: TypeAlias = int | np.integer | np.random.SeedSequence | np.random.Generator | None
"""What the public ``rng`` argument accepts (SPEC 7)."""


def stable_hash(path: str) -> int:
    """A 64-bit hash of a parameter path, the same in every process and Python version.

    Python's built-in :func:`hash` of a string is salted per process, so it cannot name a
    random stream. This takes the first 8 bytes of the SHA-256 digest of the UTF-8 path, read
    as a little-endian unsigned integer.

    Parameters
    ----------
    path : str
        Dotted parameter path, e.g. ``"chips.asp.anchors.2030"``.

    Returns
    -------
    int
        An integer in ``[0, 2**64)``, usable as a ``SeedSequence`` ``spawn_key`` entry.

    Examples
    --------
    >>> stable_hash("fleet.median_life") == stable_hash("fleet.median_life")
    True
    """
    digest = hashlib.sha256(path.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little")


def as_seed(rng: SeedLike) -> int:
    """Normalize the public ``rng`` argument to the root seed recorded in results.

    Parameters
    ----------
    rng : None, int, numpy.random.SeedSequence or numpy.random.Generator
        ``None`` draws fresh OS entropy (``SeedSequence().entropy``, a 128-bit integer);
        a non-negative ``int`` is used as is; a ``SeedSequence`` gives its ``entropy`` when
        that is an integer and it has no ``spawn_key`` (a root sequence), otherwise a 128-bit
        integer generated from its state (also for a non-default ``pool_size``); a ``Generator`` is *spawned from*, never drawn
        from (its caller keeps the same stream of numbers), and the child's state gives a
        128-bit integer.

    Returns
    -------
    int
        Non-negative root seed; passing it back as ``rng`` reproduces the run.

    Raises
    ------
    TypeError
        If ``rng`` is of any other type, or a Generator not backed by a SeedSequence.
    ValueError
        If ``rng`` is a negative integer.

    Notes
    -----
    Spawning from a Generator follows ``scipy.stats.qmc`` and SALib's ``handle_seed``:
    ``Generator.spawn`` advances the parent's ``SeedSequence`` child counter only, so two
    calls with the same Generator give different (independent) seeds.
    """
    value: object = rng  # checked at run time: callers are not always type-checked
    if value is None:
        return _int_entropy(np.random.SeedSequence().entropy)
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        if value < 0:
            msg = f"rng must be a non-negative integer seed; got {value}"
            raise ValueError(msg)
        return int(value)
    if isinstance(value, np.random.SeedSequence):
        return _from_seed_sequence(value)
    if isinstance(value, np.random.Generator):
        if not isinstance(value.bit_generator.seed_seq, np.random.SeedSequence):
            msg = (
                "rng is a Generator that is not backed by a numpy SeedSequence (it was "
                "built from a raw state); pass an int seed or a SeedSequence instead"
            )
            raise TypeError(msg)
        child = value.spawn(1)[0].bit_generator.seed_seq
        if isinstance(child, np.random.SeedSequence):
            return _from_seed_sequence(child)
    msg = (
        "rng must be None, a non-negative int, a numpy SeedSequence or a numpy Generator; "
        f"got {type(value).__name__} {value!r}"
    )
    raise TypeError(msg)


def _int_entropy(entropy: object) -> int:
    if isinstance(entropy, int | np.integer):
        return int(entropy)
    msg = f"expected integer entropy, got {entropy!r}"  # pragma: no cover - numpy invariant
    raise TypeError(msg)  # pragma: no cover


def _from_seed_sequence(seq: np.random.SeedSequence) -> int:
    """Root entropy of a root SeedSequence, else a 128-bit integer from its state."""
    root = not seq.spawn_key and seq.pool_size == _DEFAULT_POOL_SIZE
    if root and isinstance(seq.entropy, int | np.integer):
        return int(seq.entropy)
    words = seq.generate_state(2, np.uint64)
    return int(words[0]) | (int(words[1]) << 64)


def stream(seed: int, path: str, block: int) -> np.random.Generator:
    """The random generator of one parameter for one block of samples.

    ``Generator(PCG64(SeedSequence(seed, spawn_key=(stable_hash(path), block))))``, spelled
    out rather than ``default_rng``, whose BitGenerator numpy may change (MODEL.md §6).

    Parameters
    ----------
    seed : int
        Root seed of the run (see :func:`as_seed`), ``>= 0``.
    path : str
        Dotted parameter path naming the stream, e.g. ``"fleet.median_life"``.
    block : int
        Block index, ``>= 0``: samples ``block * BLOCK_SIZE`` onward.

    Returns
    -------
    numpy.random.Generator
        A fresh generator; the same arguments always give the same numbers.

    Raises
    ------
    ValueError
        If ``seed`` or ``block`` is negative.
    """
    if seed < 0 or block < 0:
        msg = f"seed and block must be >= 0 (got seed={seed}, block={block})"
        raise ValueError(msg)
    seq = np.random.SeedSequence(int(seed), spawn_key=(stable_hash(path), int(block)))
    return np.random.Generator(np.random.PCG64(seq))
