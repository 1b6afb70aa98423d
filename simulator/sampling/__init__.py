"""The sampling layer: from a scenario and a seed to per-sample parameter values.

The per-block pipeline (:func:`draw_block`), MODEL.md §6:

1. uniforms strictly inside ``(0, 1)`` for every uncertain scalar parameter, from the
   scenario's design (:func:`block_uniforms`: random, Latin hypercube or scrambled Sobol'),
   each parameter on its own stream ``SeedSequence(seed, spawn_key=(stable_hash(path),
   block))`` (:func:`stream`);
2. the scenario's Spearman rank correlations imposed by a Gaussian copula
   (:func:`correlate`);
3. inverse CDFs (:func:`ppf`); fixed parameters become constant arrays; a distribution
   with unbounded tails that reach beyond its parameter's domain (a lognormal magnitude
   that could fall below 1) is truncated to the domain (:func:`truncated_ppf`).

Path parameters are then evaluated per year from their scalar draws by :func:`path_values`.
Blocks are always drawn whole (``BLOCK_SIZE`` samples) and trimmed by the caller, so results
for ``n`` samples are a prefix of those for ``n + m``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from simulator.sampling.designs import block_uniforms, correlate
from simulator.sampling.distributions import ppf, truncated_ppf
from simulator.sampling.paths import path_values
from simulator.sampling.streams import BLOCK_SIZE, SeedLike, as_seed, stable_hash, stream
from simulator.schema.distributions import Fixed

if TYPE_CHECKING:
    from simulator.schema.scenario import Scenario

__all__ = [
    "BLOCK_SIZE",
    "SeedLike",
    "as_seed",
    "block_uniforms",
    "correlate",
    "draw_block",
    "path_values",
    "ppf",
    "stable_hash",
    "stream",
    "uncertain_names",
    "values_from_uniforms",
]


def draw_block(
    scenario: Scenario, seed: int, block: int, *, block_size: int = BLOCK_SIZE
) -> dict[str, npt.NDArray[np.float64]]:
    """Draw one block of samples of every scalar parameter of a scenario.

    Parameters
    ----------
    scenario : simulator.schema.Scenario
        The validated scenario; its ``sampling.method`` chooses the design and its
        ``correlations`` are imposed.
    seed : int
        Root seed, ``>= 0`` (normalize a public ``rng`` with :func:`as_seed` first).
    block : int
        Block index, ``>= 0``: samples ``block * block_size .. (block + 1) * block_size - 1``.
    block_size : int, optional
        Samples per block; part of the reproducibility contract (default
        :data:`BLOCK_SIZE`). A power of 2 for the ``sobol`` design.

    Returns
    -------
    dict of str to numpy.ndarray
        Every dotted path of ``scenario.scalars()`` (path sub-scalars included) to an array
        of shape ``(block_size,)`` of float64 values in the parameter's unit, in the order
        ``scalars()`` yields them.

    Examples
    --------
    >>> draws = draw_block(scenario, seed=42, block=0)  # doctest: +SKIP
    >>> draws["fleet.median_life"].shape  # doctest: +SKIP
    (16384,)
    """
    uncertain = uncertain_names(scenario)
    uniforms = block_uniforms(scenario.sampling.method, seed, uncertain, block, block_size)
    pairs = scenario.active_correlations()
    if pairs:
        uniforms = correlate(uniforms, pairs)
    return values_from_uniforms(scenario, uniforms, block_size)


def uncertain_names(scenario: Scenario) -> list[str]:
    """Dotted paths of the scenario's uncertain scalar parameters, in ``scalars()`` order.

    These are the parameters that get uniforms (every scalar whose distribution is not
    ``fixed``, path sub-scalars included); the others are constants.
    """
    return [name for name, dist in scenario.scalars() if not isinstance(dist, Fixed)]


def values_from_uniforms(
    scenario: Scenario, uniforms: Mapping[str, npt.ArrayLike], size: int
) -> dict[str, npt.NDArray[np.float64]]:
    """Every scalar parameter's values from given uniforms of its uncertain ones.

    Step 3 of :func:`draw_block` on its own, for designs made elsewhere (a sensitivity
    design, a test): inverse CDFs of the uncertain parameters, constant arrays for the
    fixed ones, and the domain truncation of MODEL.md §6.

    Parameters
    ----------
    scenario : simulator.schema.Scenario
        The validated scenario.
    uniforms : mapping of str to array_like
        Every name of :func:`uncertain_names` to values strictly inside ``(0, 1)``, each of
        shape ``(size,)``. [-]
    size : int
        Number of samples.

    Returns
    -------
    dict of str to numpy.ndarray
        As :func:`draw_block`: every dotted path of ``scenario.scalars()`` to an array of
        shape ``(size,)`` in the parameter's unit, in ``scalars()`` order.

    Raises
    ------
    KeyError
        If an uncertain parameter has no uniforms.
    """
    domains = {name: domain for name, _, domain in scenario.parameters()}
    out: dict[str, npt.NDArray[np.float64]] = {}
    for name, dist in scenario.scalars():
        if isinstance(dist, Fixed):
            out[name] = np.full(size, dist.value, dtype=np.float64)
        elif dist.truncatable and not domains[name].contains(*dist.support()):
            # Unbounded tails beyond the parameter's domain: truncate (MODEL.md §6, docs).
            dom = domains[name]
            out[name] = truncated_ppf(dist, uniforms[name], dom.low, dom.high)
        else:
            out[name] = ppf(dist, uniforms[name])
    return out
