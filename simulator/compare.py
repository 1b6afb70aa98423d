"""Paired comparison of scenarios on common random numbers (MODEL.md §6).

Every scenario is simulated with the same root seed, sample count, design and block size.
A parameter's uniforms depend only on ``(seed, parameter path, block)``
(:func:`simulator.sampling.streams.stream`), so sample ``i`` of scenario A and sample ``i``
of scenario B draw the same uniforms for every parameter they share: their difference is a
*paired* difference, and the noise of what the two scenarios agree on cancels out of it.

What that means for each kind of parameter (:func:`pairing`):

- shared, same distribution: the same value in both, sample by sample (it cancels);
- shared, different distributions: the same uniform, so the same quantile of each
  distribution (comonotone pairing, the strongest coupling two distributions can have);
- present in one scenario only: drawn from its own stream, independent of everything in
  the other scenario, so its whole variance stays in the difference (it is not paired with
  anything; there is nothing to pair it with);
- correlated (``correlations``) differently in the two: Iman-Conover reorders its values by
  those of its partners, so its draws differ even where its distribution does not;
- the ``sobol`` design numbers dimensions by the sorted parameter names: when the sets of
  uncertain parameters differ, every dimension may shift and pairing is lost (``random``
  and ``lhs`` keep it).

How much pairing gained is measured, not assumed: for each metric and year the standard
error of the mean difference on the paired samples, ``sd(A - B) / sqrt(n)``, against the one
independent runs of the same size would give, ``sqrt(var A + var B) / sqrt(n)``, computed
from the two marginal variances. Their squared ratio is the number of independent samples
each paired sample is worth.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.engine import simulate
from simulator.metrics import IMPACT_AS_DIFFERENCE, value_unit
from simulator.result import VARIANTS
from simulator.sampling.streams import as_seed
from simulator.schema import Scenario
from simulator.schema.distributions import Fixed
from simulator.summary import DEFAULT_PROBS, SummaryTable, describe, exceedance, impact

__all__ = [
    "PAIR_STATISTICS",
    "Comparison",
    "Entry",
    "Pairing",
    "compare",
    "pair_statistics",
    "pairing",
]

FloatArray = NDArray[np.float64]

PAIR_STATISTICS: tuple[str, ...] = (
    "p_greater",
    "se_p_greater",
    "p_equal",
    "se_p_equal",
    "se_mean_paired",
    "se_mean_independent",
    "efficiency",
)
"""Statistics of the ``paired`` rows of a comparison table, per metric and year.

``p_greater``: fraction of samples with A > B [-]; ``p_equal``: with A == B [-] (so
``P(B > A) = 1 - p_greater - p_equal``); ``se_*``: their binomial standard errors [-];
``se_mean_paired``: ``sd(A - B) / sqrt(n)`` [metric unit]; ``se_mean_independent``:
``sqrt(var A + var B) / sqrt(n)``, what independent runs would give [metric unit];
``efficiency``: ``(se_mean_independent / se_mean_paired) ** 2``, independent samples each
paired sample is worth [-] (``inf`` when the difference has no variance: no row in tables).
"""


@dataclass(frozen=True)
class Entry:
    """One scenario to compare.

    Attributes
    ----------
    label : str
        Its name in tables and files (the scenario's ``name``, or a grid variant's name).
    scenario : Scenario
        The validated scenario.
    resolved : mapping, optional
        Its resolved data, recorded in the result.
    """

    label: str
    scenario: Scenario
    resolved: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Pairing:
    """How the random draws of two scenarios pair up (see the module notes).

    Attributes
    ----------
    same : tuple of str
        Uncertain parameters with the same distribution in both: equal draws.
    different : tuple of str
        Parameters in both, uncertain in at least one, with different distributions:
        paired by quantile.
    only_a, only_b : tuple of str
        Uncertain parameters of one scenario only: independent of the other scenario.
    recoupled : tuple of str
        Parameters whose correlations differ between the two: Iman-Conover reorders
        their draws.
    design_breaks_pairing : bool
        True for the ``sobol`` design when the sets of uncertain parameters differ.
    """

    same: tuple[str, ...]
    different: tuple[str, ...]
    only_a: tuple[str, ...]
    only_b: tuple[str, ...]
    recoupled: tuple[str, ...]
    design_breaks_pairing: bool

    def describe(self, a: str, b: str) -> list[str]:
        """Sentences for a reader: what is paired and what is not."""
        n_shared = len(self.same) + len(self.different)
        lines = [
            (
                f"{a} vs {b}: {n_shared} parameters in both are drawn from the same streams "
                f"(common random numbers): {len(self.same)} with the same distribution (equal "
                f"draws), {len(self.different)} with different distributions (paired by "
                "quantile)."
            )
        ]
        for who, names in ((a, self.only_a), (b, self.only_b)):
            if names:
                shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
                lines.append(
                    f"{len(names)} uncertain parameter{'s' if len(names) != 1 else ''} only in "
                    f"{who} ({shown}): drawn from {'their' if len(names) != 1 else 'its'} own "
                    "streams, independent of the other scenario, so their variance is not "
                    "paired away and stays in the difference."
                )
        if self.recoupled:
            shown = ", ".join(self.recoupled[:4]) + (", ..." if len(self.recoupled) > 4 else "")
            lines.append(
                f"{len(self.recoupled)} parameters are correlated differently in the two "
                f"scenarios ({shown}): Iman-Conover reorders their draws, which weakens "
                "pairing."
            )
        if self.design_breaks_pairing:
            lines.append(
                "The sobol design numbers its dimensions by the sorted parameter names, and the "
                "two scenarios have different uncertain parameters: their draws are not "
                "paired (use --method lhs or random for paired comparisons)."
            )
        return lines


def pairing(a: Scenario, b: Scenario, method: str) -> Pairing:
    """Classify the parameters of two scenarios by how their draws pair up.

    Parameters
    ----------
    a, b : Scenario
        The two scenarios.
    method : str
        The sampling design both are run with.

    Returns
    -------
    Pairing
    """
    da, db = dict(a.scalars()), dict(b.scalars())
    ua = {k for k, d in da.items() if not isinstance(d, Fixed)}
    ub = {k for k, d in db.items() if not isinstance(d, Fixed)}
    same = sorted(k for k in ua & ub if da[k] == db[k])
    different = sorted(k for k in (ua | ub) & da.keys() & db.keys() if da[k] != db[k])
    only_a = sorted(ua - db.keys())
    only_b = sorted(ub - da.keys())

    def partners(sc: Scenario) -> dict[str, set[tuple[str, float]]]:
        out: dict[str, set[tuple[str, float]]] = {}
        for x, y, rho in sc.active_correlations():
            out.setdefault(x, set()).add((y, rho))
            out.setdefault(y, set()).add((x, rho))
        return out

    pa, pb = partners(a), partners(b)
    recoupled = sorted(k for k in (pa.keys() | pb.keys()) if pa.get(k) != pb.get(k))
    return Pairing(
        same=tuple(same),
        different=tuple(different),
        only_a=tuple(only_a),
        only_b=tuple(only_b),
        recoupled=tuple(recoupled),
        design_breaks_pairing=method == "sobol" and ua != ub,
    )


def pair_statistics(a: FloatArray, b: FloatArray) -> dict[str, FloatArray]:
    """Paired statistics of two per-sample arrays (same samples, same years).

    Parameters
    ----------
    a, b : ndarray, shape (n, T)
        A metric in scenarios A and B on common random numbers. [metric unit]

    Returns
    -------
    dict of str to ndarray, shape (T,)
        The :data:`PAIR_STATISTICS`, in that order.
    """
    n = a.shape[0]
    p_gt, se_gt = exceedance(a, ">", b)
    p_ge, _ = exceedance(a, ">=", b)
    p_eq = np.asarray(p_ge - p_gt, dtype=np.float64)
    se_eq = np.sqrt(p_eq * (1.0 - p_eq) / n)
    if n > 1:
        with np.errstate(over="ignore", invalid="ignore"):
            se_paired = np.std(a - b, axis=0, ddof=1) / math.sqrt(n)
            se_ind = np.sqrt(np.var(a, axis=0, ddof=1) + np.var(b, axis=0, ddof=1))
            se_ind = se_ind / math.sqrt(n)
    else:
        se_paired = np.full(a.shape[1:], np.nan)
        se_ind = np.full(a.shape[1:], np.nan)
    eff = np.full(a.shape[1:], np.nan)
    ok = np.isfinite(se_paired) & np.isfinite(se_ind)
    pos = ok & (se_paired > 0)
    eff[pos] = (se_ind[pos] / se_paired[pos]) ** 2
    zero = ok & (se_paired == 0)
    eff[zero] = np.where(se_ind[zero] > 0, np.inf, 1.0)
    return {
        "p_greater": np.asarray(p_gt, dtype=np.float64),
        "se_p_greater": np.asarray(se_gt, dtype=np.float64),
        "p_equal": p_eq,
        "se_p_equal": se_eq,
        "se_mean_paired": np.asarray(se_paired, dtype=np.float64),
        "se_mean_independent": np.asarray(se_ind, dtype=np.float64),
        "efficiency": eff,
    }


def _describe(x: FloatArray, probs: Sequence[float]) -> dict[str, FloatArray]:
    """:func:`describe`, with NaN statistics for the years where it is undefined (``-inf``)."""
    try:
        return describe(x, probs=probs)
    except ValueError:
        names = list(describe(np.zeros((2, 1)), probs=probs))
        out = {k: np.full(x.shape[1:], np.nan) for k in names}
        for j in range(x.shape[1]):
            try:
                col = describe(x[:, j], probs=probs)
            except ValueError:
                continue
            for k in names:
                out[k][j] = col[k]
        return out


def _rows(
    label: str,
    variant: str,
    stats: Mapping[str, Mapping[str, FloatArray]],
    years: Sequence[int],
    compared: str = "with_shocks",
) -> SummaryTable:
    """A tidy table from ``metric -> statistic -> per-year array``.

    ``compared`` is the variant the scenarios are compared in: the difference of two
    ``impact`` ratios, and its standard errors, are dimensionless (unit ``"1"``).
    """
    scen: list[str] = []
    var: list[str] = []
    met: list[str] = []
    yrs: list[int] = []
    sta: list[str] = []
    vals: list[FloatArray] = []
    for metric, by_stat in stats.items():
        for name, arr in by_stat.items():
            k = len(years)
            scen += [label] * k
            var += [variant] * k
            met += [metric] * k
            yrs += list(years)
            sta += [name] * k
            vals.append(np.asarray(arr, dtype=np.float64).reshape(k))
    values = np.concatenate(vals) if vals else np.empty(0)
    # As in summarize: a statistic that is not a finite number is undefined and has no row
    # (a -inf difference's moments, an infinite ratio quantile, the efficiency of a pair
    # whose difference is zero on every sample).
    keep = np.flatnonzero(np.isfinite(values)).tolist()
    units = {
        (m, st): _unit(variant, m, st, compared) for m, by_stat in stats.items() for st in by_stat
    }
    return SummaryTable(
        scenarios=tuple(scen[i] for i in keep),
        variants=tuple(var[i] for i in keep),
        metrics=tuple(met[i] for i in keep),
        years=tuple(yrs[i] for i in keep),
        statistics=tuple(sta[i] for i in keep),
        values=values[keep],
        units=tuple(units[met[i], sta[i]] for i in keep),
    )


def _unit(variant: str, metric: str, statistic: str, compared: str) -> str:
    """The unit of a comparison row (``""`` for a metric the model does not know)."""
    try:
        if compared == "impact" and metric not in IMPACT_AS_DIFFERENCE:
            return value_unit("impact", metric)
        return value_unit(variant, metric, statistic)
    except KeyError:
        return ""


@dataclass(frozen=True)
class Comparison:
    """Scenarios simulated on common random numbers, restricted to their common years.

    Attributes
    ----------
    labels : tuple of str
        Scenario labels, in the order given.
    years : tuple of int
        Calendar years every scenario covers.
    metrics : tuple of str
        Metrics every scenario has (``compute.<segment>`` only for shared segments).
    variant : str
        Which variant is compared: ``with_shocks``, ``counterfactual`` or ``impact``.
    n_samples, seed : int
        Samples per scenario and the common root seed.
    method : str
        The common sampling design.
    values : dict
        ``label -> metric -> ndarray (n, len(years))``. [metric unit]
    pairs : tuple of (str, str)
        The pairs compared, ``(a, b)`` meaning A - B and A / B.
    pairings : dict
        ``(a, b) -> Pairing``.
    notes : tuple of str
        What a reader must know (years dropped, seeds that differed, ...).
    """

    labels: tuple[str, ...]
    years: tuple[int, ...]
    metrics: tuple[str, ...]
    variant: str
    n_samples: int
    seed: int
    method: str
    values: Mapping[str, Mapping[str, FloatArray]]
    pairs: tuple[tuple[str, str], ...]
    pairings: Mapping[tuple[str, str], Pairing]
    notes: tuple[str, ...] = field(default=())

    def difference(self, a: str, b: str, metric: str) -> FloatArray:
        """Per-sample difference A - B [metric unit], shape ``(n, len(years))``.

        Equal values give exactly 0, infinite ones included (``impact`` ratios can be
        ``inf``); ``inf - x`` is ``inf`` and ``x - inf`` is ``-inf``.
        """
        x, y = self.values[a][metric], self.values[b][metric]
        with np.errstate(invalid="ignore"):
            out: FloatArray = np.where(x == y, 0.0, x - y)
        return out

    def has_ratio(self, metric: str) -> bool:
        """Whether A / B means something for ``metric`` in this comparison's variant.

        Not for the signed paired differences that are the ``impact`` of ``idle_h100e``
        and ``unmet_h100e`` (MODEL.md §7, version 2).
        """
        return not (self.variant == "impact" and metric in IMPACT_AS_DIFFERENCE)

    def ratio(self, a: str, b: str, metric: str) -> FloatArray:
        """Per-sample ratio A / B [-] (``0/0 = 1``, ``x/0 = inf``), shape ``(n, len(years))``."""
        return impact(self.values[a][metric], self.values[b][metric])

    def pair_stats(self, a: str, b: str, metric: str) -> dict[str, FloatArray]:
        """:func:`pair_statistics` of one metric for the pair ``(a, b)``."""
        return pair_statistics(self.values[a][metric], self.values[b][metric])

    def table(
        self, metrics: Sequence[str] | None = None, *, probs: Sequence[float] = DEFAULT_PROBS
    ) -> SummaryTable:
        """The comparison as a tidy table (MODEL.md §9 columns), every common year.

        Every value is a finite number: a statistic that is undefined or infinite has no
        row (as in :func:`simulator.summary.summarize`).

        Rows, in order: each scenario's statistics (variant = the compared variant, as
        :func:`simulator.summary.describe` gives them); then for each pair, with
        ``scenario = "A vs B"``, the statistics of the per-sample ``difference`` (A - B,
        metric unit) and ``ratio`` (A / B), and the ``paired`` statistics
        (:data:`PAIR_STATISTICS`).

        Parameters
        ----------
        metrics : sequence of str, optional
            Metrics to include; default all common metrics.
        probs : sequence of float, optional
            Quantile probabilities. [-]

        Returns
        -------
        SummaryTable
        """
        chosen = list(self.metrics if metrics is None else metrics)
        parts = []
        for label in self.labels:
            stats = {m: describe(self.values[label][m], probs=probs) for m in chosen}
            parts.append(_rows(label, self.variant, stats, self.years))
        for a, b in self.pairs:
            pair = f"{a} vs {b}"
            diff = {m: _describe(self.difference(a, b, m), probs) for m in chosen}
            ratio = {m: _describe(self.ratio(a, b, m), probs) for m in chosen if self.has_ratio(m)}
            paired = {m: self.pair_stats(a, b, m) for m in chosen}
            parts.append(_rows(pair, "difference", diff, self.years, self.variant))
            parts.append(_rows(pair, "ratio", ratio, self.years, self.variant))
            parts.append(_rows(pair, "paired", paired, self.years, self.variant))
        return SummaryTable.concat(parts)


def compare(
    entries: Sequence[Entry],
    *,
    samples: int | None = None,
    rng: int | None = None,
    method: str | None = None,
    variant: str = "with_shocks",
    all_pairs: bool = False,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
    backend: str | None = None,
) -> Comparison:
    """Simulate scenarios on common random numbers and pair their samples.

    Parameters
    ----------
    entries : sequence of Entry
        Two or more scenarios with distinct labels; the first is the reference.
    samples : int, optional
        Samples per scenario; default the first scenario's ``sampling.samples``.
    rng : int, optional
        Common root seed; default the first scenario's ``sampling.seed``, else fresh entropy.
    method : str, optional
        Common sampling design; default the first scenario's ``sampling.method``.
    variant : str, optional
        Variant compared: ``with_shocks`` (default), ``counterfactual`` or ``impact``.
    all_pairs : bool, optional
        Compare every pair (A - B for A before B); default each later scenario against
        the first (first - other).
    workers : int, optional
        Threads per simulation (see :func:`simulator.engine.simulate`).
    progress : callable, optional
        ``progress(done, total)`` in scenarios, after each simulation.
    backend : {"numpy", "cupy", "auto"}, optional
        Array library the model runs on (see :func:`simulator.engine.simulate`).

    Returns
    -------
    Comparison

    Raises
    ------
    ValueError
        Fewer than two entries, repeated labels, an unknown variant, or scenarios with no
        year in common.
    SimulationError
        From :func:`simulator.engine.simulate`.
    """
    if len(entries) < 2:
        msg = "compare needs at least two scenarios"
        raise ValueError(msg)
    labels = [e.label for e in entries]
    if len(labels) == 2 and labels[0] == labels[1]:  # a self-comparison: tell the two apart
        labels = [labels[0], f"{labels[0]}#2"]
    dupes = sorted({x for x in labels if labels.count(x) > 1})
    if dupes:
        msg = f"two scenarios are named {', '.join(dupes)}; give them different `name`s"
        raise ValueError(msg)
    if variant not in VARIANTS:
        msg = f"variant must be one of {', '.join(VARIANTS)}; got {variant!r}"
        raise ValueError(msg)
    first = entries[0].scenario
    n = first.sampling.samples if samples is None else int(samples)
    design = method or first.sampling.method
    notes: list[str] = []
    if rng is None:
        seeds = {e.scenario.sampling.seed for e in entries}
        seed = as_seed(first.sampling.seed)
        if len(seeds) > 1:
            notes.append(
                f"the scenarios set different seeds; all are run with seed {seed} so that "
                "their samples pair up"
            )
    else:
        seed = as_seed(rng)
    ranges = [set(e.scenario.years.all) for e in entries]
    common = sorted(set.intersection(*ranges))
    if not common:
        spans = ", ".join(
            f"{lab} {e.scenario.years.base_year}-{e.scenario.years.end_year}"
            for lab, e in zip(labels, entries, strict=True)
        )
        msg = f"the scenarios have no year in common ({spans})"
        raise ValueError(msg)
    for lab, e, r in zip(labels, entries, ranges, strict=True):
        if r != set(common):
            y = e.scenario.years
            notes.append(
                f"{lab} covers {y.base_year}-{y.end_year}; compared on the common years "
                f"{common[0]}-{common[-1]} only"
            )
    values: dict[str, dict[str, FloatArray]] = {}
    metric_sets: list[tuple[str, ...]] = []
    for i, (lab, e) in enumerate(zip(labels, entries, strict=True)):
        result = simulate(
            e.scenario,
            n,
            rng=seed,
            method=design,  # type: ignore[arg-type]
            workers=workers,
            resolved=e.resolved,
            backend=backend,
        )
        cols = [result.years.index(y) for y in common]
        data = result.variant(variant)
        values[lab] = {m: np.ascontiguousarray(data[m][:, cols]) for m in result.metrics}
        metric_sets.append(result.metrics)
        if progress is not None:
            progress(i + 1, len(entries))
    shared = set.intersection(*(set(m) for m in metric_sets))
    metrics = tuple(m for m in metric_sets[0] if m in shared)
    dropped = sorted(set().union(*metric_sets) - shared)
    if dropped:
        notes.append(
            f"metrics not in every scenario are left out: {', '.join(dropped)} (segments "
            "present in only some scenarios)"
        )
    if all_pairs:
        pairs = tuple(
            (labels[i], labels[j]) for i in range(len(labels)) for j in range(i + 1, len(labels))
        )
    else:
        pairs = tuple((labels[0], other) for other in labels[1:])
    by_label = dict(zip(labels, entries, strict=True))
    pairings = {
        (a, b): pairing(by_label[a].scenario, by_label[b].scenario, design) for a, b in pairs
    }
    return Comparison(
        labels=tuple(labels),
        years=tuple(common),
        metrics=metrics,
        variant=variant,
        n_samples=n,
        seed=seed,
        method=design,
        values={lab: {m: values[lab][m] for m in metrics} for lab in labels},
        pairs=pairs,
        pairings=pairings,
        notes=tuple(notes),
    )
