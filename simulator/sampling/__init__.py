"""The sampling layer: from a scenario and a seed to per-sample parameter values.

The per-block pipeline (:func:`draw_block`), MODEL.md §6:

1. uniforms strictly inside ``(0, 1)`` for every uncertain scalar parameter, from the
   scenario's design (:func:`block_uniforms`: random, a Latin hypercube over the samples the
   block holds, or scrambled Sobol' replicates), each parameter on its own stream
   ``SeedSequence(seed, spawn_key=(stable_hash(path), block))`` (:func:`stream`);
2. the scenario's Spearman rank correlations imposed by Iman-Conover reordering
   (:func:`correlate`), which keeps every parameter's values (and so its strata);
3. inverse CDFs (:func:`ppf`); fixed parameters become constant arrays; a distribution
   with unbounded tails that reach beyond its parameter's domain (a lognormal magnitude
   that could fall below 1) is truncated to the domain (:func:`truncated_ppf`).

Path parameters are then evaluated per year from their scalar draws by :func:`path_values`.
Block ``b`` holds samples ``b * BLOCK_SIZE`` onward; the last block of a run holds what
remains (``size``). ``random`` and ``sobol`` draw a prefix of the full block, so their results
for ``n`` samples are a prefix of those for ``n + m``; ``lhs`` stratifies the last block over
its own size, so it is not prefix stable inside the last block (docs/sampling.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from simulator.sampling.designs import (
    SOBOL_REPLICATES,
    SobolSampleCountWarning,
    block_uniforms,
    correlate,
    rank_correlation,
    se_replicates,
    sobol_sample_count_problem,
)
from simulator.sampling.distributions import ppf, truncated_ppf
from simulator.sampling.paths import path_values
from simulator.sampling.streams import BLOCK_SIZE, SeedLike, as_seed, stable_hash, stream
from simulator.schema.distributions import Fixed

if TYPE_CHECKING:
    from simulator.schema.scenario import Scenario

__all__ = [
    "BLOCK_SIZE",
    "SOBOL_REPLICATES",
    "AchievedCorrelation",
    "SeedLike",
    "SobolSampleCountWarning",
    "achieved_rank_correlations",
    "as_seed",
    "block_uniforms",
    "correlate",
    "draw_block",
    "path_values",
    "ppf",
    "rank_correlation",
    "se_replicates",
    "sobol_sample_count_problem",
    "stable_hash",
    "stream",
    "uncertain_names",
    "values_from_uniforms",
]


def draw_block(
    scenario: Scenario,
    seed: int,
    block: int,
    *,
    block_size: int = BLOCK_SIZE,
    size: int | None = None,
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
        Block index, ``>= 0``: samples ``block * block_size .. block * block_size + size - 1``.
    block_size : int, optional
        Samples per full block; part of the reproducibility contract (default
        :data:`BLOCK_SIZE`).
    size : int, optional
        Samples the block holds, ``1 <= size <= block_size``: the last block of a run of
        ``n`` holds ``n - block * block_size``; default ``block_size``. A Latin hypercube is
        stratified over ``size`` and the correlations are imposed over ``size`` samples, so
        pass it rather than trimming a full block.

    Returns
    -------
    dict of str to numpy.ndarray
        Every dotted path of ``scenario.scalars()`` (path sub-scalars included) to an array
        of shape ``(size,)`` of float64 values in the parameter's unit, in the order
        ``scalars()`` yields them.

    Examples
    --------
    >>> draws = draw_block(scenario, seed=42, block=0)  # doctest: +SKIP
    >>> draws["fleet.median_life"].shape  # doctest: +SKIP
    (16384,)
    """
    n = block_size if size is None else size
    uniforms = _correlated_uniforms(
        scenario, uncertain_names(scenario), seed, block, block_size, n
    )
    return values_from_uniforms(scenario, uniforms, n)


def _correlated_uniforms(
    scenario: Scenario, names: list[str], seed: int, block: int, block_size: int, size: int
) -> dict[str, npt.NDArray[np.float64]]:
    """Steps 1 and 2 of :func:`draw_block` for some of the uncertain parameters."""
    method = scenario.sampling.method
    uniforms = block_uniforms(method, seed, names, block, block_size, size=size)
    pairs = scenario.active_correlations()
    if pairs:
        uniforms = correlate(uniforms, pairs, replicates=se_replicates(method) or 1)
    return uniforms


@dataclass(frozen=True)
class AchievedCorrelation:
    """A requested rank correlation and the one a run's samples have.

    Attributes
    ----------
    between : tuple of (str, str)
        The two parameters' dotted paths.
    target : float
        The requested Spearman rank correlation. [-]
    achieved : float
        The samples' Spearman rank correlation, the average over the run's blocks weighted
        by their sizes (each block is correlated on its own). [-]
    worst_block : float
        The achieved value farthest from the target among the blocks. [-]
    """

    between: tuple[str, str]
    target: float
    achieved: float
    worst_block: float

    def to_dict(self) -> dict[str, object]:
        """As plain data (for JSON)."""
        return {
            "between": list(self.between),
            "target": self.target,
            "achieved": self.achieved,
            "worst_block": self.worst_block,
        }


def achieved_rank_correlations(
    scenario: Scenario,
    seed: int,
    samples: int,
    *,
    block_size: int = BLOCK_SIZE,
    max_blocks: int | None = None,
) -> list[AchievedCorrelation]:
    """The rank correlations a run's samples achieve, next to the requested ones.

    Draws the run's uniforms of the correlated parameters block by block, exactly as
    :func:`draw_block` does (the inverse CDFs keep ranks, so the values' rank correlations
    are the uniforms'), and measures each block's Spearman matrix.

    Parameters
    ----------
    scenario : simulator.schema.Scenario
        The validated scenario (its design and ``active_correlations()``).
    seed : int
        Root seed of the run, ``>= 0``.
    samples : int
        Samples of the run, ``>= 1``.
    block_size : int, optional
        Samples per full block (default :data:`BLOCK_SIZE`).
    max_blocks : int, optional
        Measure only the first blocks (a bounded cost for huge runs); default all.

    Returns
    -------
    list of AchievedCorrelation
        One per active correlation, in the scenario's order; empty when there are none.
        Pairs with a discrete (``choice``) parameter measure its uniforms' ranks.
    """
    pairs = scenario.active_correlations()
    if not pairs:
        return []
    names = sorted({n for a, b, _ in pairs for n in (a, b)})
    index = {n: i for i, n in enumerate(names)}
    n_blocks = -(-samples // block_size)
    if max_blocks is not None:
        n_blocks = min(n_blocks, max_blocks)
    total = 0
    weighted = np.zeros((len(names), len(names)))
    worst = [float("nan")] * len(pairs)
    for b in range(n_blocks):
        size = min(block_size, samples - b * block_size)
        u = _correlated_uniforms(scenario, names, seed, b, block_size, size)
        m = rank_correlation(u, names)
        weighted += size * m
        total += size
        for k, (a, c, rho) in enumerate(pairs):
            got = float(m[index[a], index[c]])
            if not abs(worst[k] - rho) >= abs(got - rho):
                worst[k] = got
    achieved = weighted / total
    return [
        AchievedCorrelation((a, c), float(rho), float(achieved[index[a], index[c]]), worst[k])
        for k, (a, c, rho) in enumerate(pairs)
    ]


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
