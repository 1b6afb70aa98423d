r"""Attribution of the gap between two scenarios to the parameters in which they differ.

The gap is ``v(B) - v(A)``, where ``v`` is a chosen statistic (default the median) of a
chosen metric in a chosen year. The *players* are the differences between the two resolved
scenarios (:func:`differences`): one per parameter that differs (a distribution, a path, a
fixed number, a shock or segment present in one scenario only). For a set ``S`` of players,
``v(S)`` is the statistic of the *hybrid* scenario that takes the players in ``S`` from B
and everything else from A, simulated on the same seed (common random numbers, so the
hybrids differ by their parameters, not by their noise). The Shapley value of player ``i``,

.. math:: \phi_i = \sum_{S \subseteq N \setminus \{i\}}
          \frac{|S|!\,(k - |S| - 1)!}{k!} \left[v(S \cup \{i\}) - v(S)\right],

is its average marginal contribution over all orders of changing A into B, one parameter at
a time; interactions are shared equally between the players that make them. The values add
up to the gap exactly (efficiency): ``sum(phi) = v(N) - v(∅)`` [1]_.

With up to ``exact_max`` players (default 10: 1,024 hybrids) every subset is simulated and
the values are exact for the simulated samples. With more, orders are sampled: ``M`` random
permutations and their reverses (antithetic pairs), each of which telescopes to the gap, so
the estimate still adds up to the gap exactly, with a standard error per player [2]_.

Some parameters can only change together (segment shares must sum to 1): every
``demand.segments.*.share`` difference and every segment present in one scenario only are
grouped into one player, and ``groups`` merges any others by key prefix.

References
----------
.. [1] L. S. Shapley, "A value for n-person games", in *Contributions to the Theory of
   Games II*, Annals of Mathematics Studies 28, pp. 307-317, Princeton, 1953.
.. [2] J. Castro, D. Gómez, J. Tejada, "Polynomial calculation of the Shapley value based on
   sampling", Computers & Operations Research 36(5), 1726-1730, 2009.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import ValidationError

from simulator.engine import simulate
from simulator.result import VARIANTS
from simulator.sampling.streams import as_seed, stable_hash
from simulator.schema import Scenario
from simulator.summary import describe, quantile_name

__all__ = [
    "EXACT_MAX",
    "Attribution",
    "AttributionError",
    "Difference",
    "Player",
    "attribute",
    "differences",
    "hybrid",
    "players",
    "shapley",
]

EXACT_MAX = 10
"""Most players for which every subset is simulated (2**10 = 1,024 hybrids)."""

IGNORED_KEYS: tuple[str, ...] = ("name", "description", "questions", "sampling")
"""Top-level keys that do not change a run's numbers (sampling settings are common)."""

_PATH_ENDS = frozenset({"start", "end"})
_SHARES = "demand.segments (shares and segments)"


class AttributionError(ValueError):
    """An attribution that cannot be computed (no common year, an invalid hybrid, ...)."""


class _Missing:
    """Marks a key or list item absent from one scenario."""

    def __repr__(self) -> str:
        return "(absent)"


MISSING: Any = _Missing()
"""The value of a difference on the side where the key does not exist."""

Step = str | int | tuple[str, str]
"""One step of a path into resolved data: a mapping key, or ``("name", item name)``."""


@dataclass(frozen=True)
class Difference:
    """One place where two resolved scenarios differ.

    Attributes
    ----------
    path : tuple
        Steps from the root: mapping keys, and ``("name", n)`` for the list item named ``n``.
    a, b : Any
        The value in each scenario (:data:`MISSING` where absent).
    """

    path: tuple[Step, ...]
    a: Any
    b: Any

    @property
    def key(self) -> str:
        """Dotted key, list items by name: ``demand.segments.chat.elasticity.long``."""
        return ".".join(s[1] if isinstance(s, tuple) else str(s) for s in self.path)


@dataclass(frozen=True)
class Player:
    """A player of the attribution game: one difference, or several that move together."""

    name: str
    differences: tuple[Difference, ...]


def _leaf(value: Any) -> bool:
    if not isinstance(value, dict):
        return True
    distribution = "kind" in value and "name" not in value  # segments have a kind too
    return distribution or "anchors" in value or "from" in value or value.keys() >= _PATH_ENDS


def _named(items: Any) -> bool:
    return isinstance(items, list) and all(isinstance(x, dict) and "name" in x for x in items)


def differences(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[Difference]:
    """Every parameter-level difference between two resolved scenarios.

    Parameters
    ----------
    a, b : mapping
        Resolved scenario data (:attr:`simulator.io.Resolved.data`).

    Returns
    -------
    list of Difference
        In A's key order, then B's new keys. A distribution, a path (``anchors``, ``start``/
        ``end``, ``from``/``value``/``growth``) or a list without names is one difference;
        mappings and lists of named items (segments, shocks) are compared inside, an item
        present in one scenario only being one difference. :data:`IGNORED_KEYS` are skipped.
    """
    out: list[Difference] = []

    def walk(x: Any, y: Any, path: tuple[Step, ...]) -> None:
        if isinstance(x, dict) and isinstance(y, dict) and not (_leaf(x) or _leaf(y)):
            for k in [*x, *(k for k in y if k not in x)]:
                if not path and k in IGNORED_KEYS:
                    continue
                walk(x.get(k, MISSING), y.get(k, MISSING), (*path, k))
        elif _named(x) and _named(y):
            xs = {i["name"]: i for i in x}
            ys = {i["name"]: i for i in y}
            for n in [*xs, *(n for n in ys if n not in xs)]:
                walk(xs.get(n, MISSING), ys.get(n, MISSING), (*path, ("name", str(n))))
        elif x != y or (type(x) is not type(y) and not _same_number(x, y)):
            out.append(Difference(path, x, y))

    walk(dict(a), dict(b), ())
    return out


def _same_number(x: Any, y: Any) -> bool:
    numbers = (int, float)
    return (
        isinstance(x, numbers)
        and isinstance(y, numbers)
        and not isinstance(x, bool)
        and not isinstance(y, bool)
        and x == y
    )


def players(diffs: Sequence[Difference], groups: Sequence[str] = ()) -> list[Player]:
    """Group differences into players.

    Parameters
    ----------
    diffs : sequence of Difference
        From :func:`differences`.
    groups : sequence of str
        Dotted key prefixes: the differences under each become one player named by it.

    Returns
    -------
    list of Player
        Segment shares and whole segments present in one scenario only form one player
        (they must change together for the shares to sum to 1), when there are two or
        more of them; the rest are one player each, unless a prefix in ``groups`` covers
        them.
    """
    bucket: dict[str, list[Difference]] = {}
    order: list[str] = []

    def add(name: str, d: Difference) -> None:
        if name not in bucket:
            bucket[name] = []
            order.append(name)
        bucket[name].append(d)

    def shares(d: Difference) -> bool:
        p = d.path
        in_segments = len(p) >= 3 and p[0] == "demand" and p[1] == "segments"
        return in_segments and (len(p) == 3 or (len(p) == 4 and p[3] == "share"))

    n_shares = sum(shares(d) for d in diffs)
    for d in diffs:
        key = d.key
        group = next((g for g in groups if key == g or key.startswith(g + ".")), None)
        if group is not None:
            add(group, d)
        elif n_shares > 1 and shares(d):
            add(_SHARES, d)
        else:
            add(key, d)
    return [Player(name, tuple(bucket[name])) for name in order]


def _apply(data: Any, d: Difference) -> None:
    """Set the value of ``d`` in ``data`` to its B side (in place)."""
    parent = data
    for step in d.path[:-1]:
        if isinstance(step, tuple):
            parent = next(i for i in parent if i.get("name") == step[1])
        else:
            parent = parent[step]
    last = d.path[-1]
    if isinstance(last, tuple):
        index = next((j for j, i in enumerate(parent) if i.get("name") == last[1]), None)
        if d.b is MISSING:
            if index is not None:
                del parent[index]
        elif index is None:
            parent.append(copy.deepcopy(d.b))
        else:
            parent[index] = copy.deepcopy(d.b)
    elif d.b is MISSING:
        parent.pop(last, None)
    else:
        parent[last] = copy.deepcopy(d.b)


def hybrid(a: Mapping[str, Any], chosen: Sequence[Player]) -> dict[str, Any]:
    """A's resolved data with the chosen players' values taken from B."""
    data = copy.deepcopy(dict(a))
    for p in chosen:
        for d in p.differences:
            _apply(data, d)
    return data


def shapley(
    value: Callable[[frozenset[int]], float],
    k: int,
    *,
    exact_max: int = EXACT_MAX,
    permutations: int = 100,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray[Any, np.dtype[np.float64]], np.ndarray[Any, np.dtype[np.float64]] | None]:
    """Shapley values of a cooperative game, exact or by sampled permutations.

    Parameters
    ----------
    value : callable
        ``value(S)`` for a frozenset ``S`` of player indices ``0..k-1``; called once per
        distinct subset (the caller may cache).
    k : int
        Number of players, ``>= 0``.
    exact_max : int, optional
        Compute exactly (every subset) when ``k <= exact_max``.
    permutations : int, optional
        Antithetic permutation pairs to sample otherwise, ``>= 1``.
    rng : numpy.random.Generator, optional
        Source of the permutations (default seeded with 0).

    Returns
    -------
    phi : ndarray, shape (k,)
        Shapley values; ``phi.sum() == value(all) - value(empty)`` up to rounding.
    se : ndarray, shape (k,), or None
        Standard errors of the sampled values (between antithetic pairs); None when exact.
    """
    if k == 0:
        return np.zeros(0), None
    everyone = frozenset(range(k))
    if k <= exact_max:
        phi = np.zeros(k)
        fact = [math.factorial(j) for j in range(k + 1)]
        for mask in range(1 << k):
            s = frozenset(i for i in range(k) if mask >> i & 1)
            if len(s) == k:
                continue
            w = fact[len(s)] * fact[k - len(s) - 1] / fact[k]
            base = value(s)
            for i in everyone - s:
                phi[i] += w * (value(s | {i}) - base)
        return phi, None
    if permutations < 1:
        msg = f"permutations must be >= 1; got {permutations}"
        raise ValueError(msg)
    g = rng if rng is not None else np.random.Generator(np.random.PCG64(0))
    draws = np.zeros((permutations, k))
    for m in range(permutations):
        order = [int(i) for i in g.permutation(k)]
        for perm in (order, order[::-1]):
            chosen: frozenset[int] = frozenset()
            before = value(chosen)
            for i in perm:
                chosen = chosen | {i}
                after = value(chosen)
                draws[m, i] += 0.5 * (after - before)
                before = after
    phi = draws.mean(axis=0)
    se = draws.std(axis=0, ddof=1) / math.sqrt(permutations) if permutations > 1 else None
    if se is None:
        se = np.full(k, np.nan)
    return phi, se


@dataclass(frozen=True)
class Attribution:
    """The gap between two scenarios split into the contributions of their differences.

    Attributes
    ----------
    a, b : str
        Scenario labels; the gap is ``B - A``.
    metric, variant, statistic : str
        What is attributed, e.g. ``hbm_gb``, ``with_shocks``, ``p50``.
    year : int
        Calendar year.
    value_a, value_b : float
        The statistic in A and in B. [metric unit]
    se_a, se_b : float
        Their Monte Carlo standard errors. [metric unit]
    players : tuple of Player
        The differences, grouped.
    contributions : tuple of float
        Shapley value of each player; they sum to ``value_b - value_a``. [metric unit]
    se : tuple of float, or None
        Standard errors of sampled contributions; None when exact.
    method : str
        ``"exact"`` or ``"sampled"``.
    evaluations : int
        Hybrid scenarios simulated.
    permutations : int
        Antithetic permutation pairs (sampled only; 0 when exact).
    n_samples, seed : int
        Samples per hybrid and the common seed.
    design : str
        Sampling design.
    notes : tuple of str
        What a reader must know about the pairing of the hybrids.
    """

    a: str
    b: str
    metric: str
    variant: str
    statistic: str
    year: int
    value_a: float
    value_b: float
    se_a: float
    se_b: float
    players: tuple[Player, ...]
    contributions: tuple[float, ...]
    se: tuple[float, ...] | None
    method: str
    evaluations: int
    permutations: int
    n_samples: int
    seed: int
    design: str
    notes: tuple[str, ...] = ()

    @property
    def gap(self) -> float:
        """The gap ``value_b - value_a`` [metric unit]."""
        return self.value_b - self.value_a

    def to_records(self) -> list[dict[str, Any]]:
        """One record per player, largest absolute contribution first."""
        gap = self.gap
        rows = []
        for i, p in enumerate(self.players):
            c = self.contributions[i]
            rows.append(
                {
                    "parameter": p.name,
                    "in_a": _show(p, "a"),
                    "in_b": _show(p, "b"),
                    "contribution": c,
                    "se": None if self.se is None else self.se[i],
                    "share_of_gap": c / gap if gap != 0 else math.nan,
                }
            )
        return sorted(rows, key=lambda r: -abs(r["contribution"]))


def _show(p: Player, side: str) -> str:
    if len(p.differences) != 1:
        return f"{len(p.differences)} differences"
    v = getattr(p.differences[0], side)
    return repr(v) if v is MISSING else _compact(v)


def _compact(v: Any) -> str:
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_compact(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_compact(x) for x in v) + "]"
    return str(v)


def _statistic(values: np.ndarray[Any, np.dtype[np.float64]], statistic: str) -> float:
    if statistic == "mean":
        return float(np.mean(values))
    return float(np.quantile(values, float(statistic[1:]) / 100.0))


def parse_statistic(text: str) -> str:
    """Check a statistic name: ``mean`` or ``p<percent>`` (``p50``, ``p5``, ``p97.5``).

    Raises
    ------
    ValueError
        For anything else.
    """
    if text == "mean":
        return text
    if text.startswith("p"):
        try:
            q = float(text[1:])
        except ValueError:
            q = math.nan
        if 0.0 <= q <= 100.0:
            return quantile_name(q / 100.0)
    msg = f"statistic must be 'mean' or a percentile such as p50 or p95; got {text!r}"
    raise ValueError(msg)


def attribute(
    a: Mapping[str, Any],
    b: Mapping[str, Any],
    *,
    metric: str,
    year: int,
    statistic: str = "p50",
    variant: str = "with_shocks",
    labels: tuple[str, str] = ("A", "B"),
    samples: int | None = None,
    rng: int | None = None,
    method: str | None = None,
    groups: Sequence[str] = (),
    exact_max: int = EXACT_MAX,
    permutations: int = 100,
    progress: Callable[[int, int], None] | None = None,
    backend: str | None = None,
) -> Attribution:
    """Split the gap ``v(B) - v(A)`` into Shapley contributions of the differing parameters.

    Parameters
    ----------
    a, b : mapping
        Resolved data of the two scenarios (:func:`simulator.io.resolve_scenario`).
    metric : str
        Metric name (MODEL.md §9), present in both.
    year : int
        Calendar year, covered by both.
    statistic : str, optional
        ``p50`` (default), any ``p<percent>``, or ``mean``.
    variant : str, optional
        ``with_shocks`` (default), ``counterfactual`` or ``impact``.
    labels : (str, str), optional
        Names of A and B for the result.
    samples, rng, method : optional
        Samples per hybrid, seed and design; default A's ``sampling`` settings.
    groups : sequence of str, optional
        Key prefixes whose differences move together as one player.
    exact_max : int, optional
        Exact Shapley values up to this many players; sampled beyond.
    permutations : int, optional
        Antithetic permutation pairs when sampled.
    progress : callable, optional
        ``progress(done, total)`` in hybrids simulated (``total`` an upper bound when
        sampled).
    backend : {"numpy", "cupy", "auto"}, optional
        Array library the model runs on (see :func:`simulator.engine.simulate`).

    Returns
    -------
    Attribution

    Raises
    ------
    ScenarioError, AttributionError
        If a scenario is invalid, the year or metric is not in both, or a hybrid of the
        two is not a valid scenario (the message names the players to group).
    SimulationError
        From the engine.
    """
    if variant not in VARIANTS:
        msg = f"variant must be one of {', '.join(VARIANTS)}; got {variant!r}"
        raise AttributionError(msg)
    statistic = parse_statistic(statistic)
    sc_a = _validate(a, labels[0])
    sc_b = _validate(b, labels[1])
    for lab, sc in zip(labels, (sc_a, sc_b), strict=True):
        if year not in sc.years.all:
            msg = f"{lab} covers {sc.years.base_year}-{sc.years.end_year}, not {year}"
            raise AttributionError(msg)
    group = players(differences(a, b), groups)
    unknown = [g for g in groups if g not in {p.name for p in group}]
    if unknown:
        msg = f"--group {unknown[0]}: no difference between the scenarios lies under this key"
        raise AttributionError(msg)
    k = len(group)
    n = sc_a.sampling.samples if samples is None else int(samples)
    design = method or sc_a.sampling.method
    seed = as_seed(sc_a.sampling.seed if rng is None else rng)
    cache: dict[frozenset[int], float] = {}
    ses: dict[frozenset[int], float] = {}
    total = 2**k if k <= exact_max else min(2**k, 2 * permutations * (k - 1) + 2)

    def value(s: frozenset[int]) -> float:
        if s in cache:
            return cache[s]
        chosen = [group[i] for i in sorted(s)]
        if len(s) == k:
            sc = sc_b
        elif not s:
            sc = sc_a
        else:
            sc = _validate(hybrid(a, chosen), None, chosen)
        result = simulate(
            sc,
            n,
            rng=seed,
            method=design,  # type: ignore[arg-type]
            backend=backend,
        )
        if metric not in result.metrics:
            msg = (
                f"metric {metric!r} is not in every scenario"
                + (f" (not in the hybrid with {_names(chosen)} from B)" if 0 < len(s) < k else "")
                + f"; available: {', '.join(result.metrics)}"
            )
            raise AttributionError(msg)
        column = result.variant(variant)[metric][:, result.years.index(year)]
        cache[s] = _statistic(column, statistic)
        if len(s) in (0, k):
            stats = describe(column, probs=(0.5,) if statistic == "mean" else (_prob(statistic),))
            ses[s] = float(stats[f"se_{statistic}"])
        if progress is not None:
            progress(len(cache), total)
        return cache[s]

    g = np.random.Generator(
        np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(stable_hash("attribution"),)))
    )
    value(frozenset())
    value(frozenset(range(k)))
    phi, se = shapley(value, k, exact_max=exact_max, permutations=permutations, rng=g)
    full = frozenset(range(k))
    notes = []
    if design == "sobol" and set(sc_a.uncertain()) != set(sc_b.uncertain()):
        notes.append(
            "The sobol design numbers its dimensions by the sorted parameter names, and the "
            "scenarios have different uncertain parameters: hybrids do not share their draws, "
            "so contributions carry Monte Carlo noise (use --method lhs or random)."
        )
    return Attribution(
        a=labels[0],
        b=labels[1],
        metric=metric,
        variant=variant,
        statistic=statistic,
        year=year,
        value_a=cache[frozenset()],
        value_b=cache[full],
        se_a=ses[frozenset()],
        se_b=ses[full],
        players=tuple(group),
        contributions=tuple(float(x) for x in phi),
        se=None if se is None else tuple(float(x) for x in se),
        method="exact" if k <= exact_max else "sampled",
        evaluations=len(cache),
        permutations=0 if k <= exact_max else permutations,
        n_samples=n,
        seed=seed,
        design=design,
        notes=tuple(notes),
    )


def _prob(statistic: str) -> float:
    return float(statistic[1:]) / 100.0


def _names(chosen: Sequence[Player]) -> str:
    return ", ".join(p.name for p in chosen)


def _validate(
    data: Mapping[str, Any], label: str | None, chosen: Sequence[Player] = ()
) -> Scenario:
    try:
        return Scenario.model_validate(dict(data))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first.get("loc", ()))
        reason = f"{where}: {first.get('msg', '')}" if where else str(first.get("msg", ""))
        if label is not None:
            msg = f"{label} is not a valid scenario ({reason})"
        else:
            msg = (
                f"the hybrid that takes {_names(chosen)} from B and the rest from A is not a "
                f"valid scenario ({reason}); make the differences that must change together "
                "one player with --group KEY_PREFIX"
            )
        raise AttributionError(msg) from None
