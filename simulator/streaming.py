"""Summaries that stream: per-block, mergeable summaries of every metric and question.

A run too large to keep ``samples x years x metrics`` in memory is summarized block by block
(MODEL.md §7): each block of samples becomes a :class:`StreamingSummary` (moments, a
:class:`~simulator.sketch.LogHistogram` per series, exceedance counts for the questions), and
blocks are merged in block order. Merging is exact for counts and histograms, and uses the
numerically stable pairwise update of Chan, Golub and LeVeque [1]_ for means and sums of
squared deviations, so the merged summary depends only on the blocks, not on which worker or
machine computed them, nor when.

Quantiles from the histogram are within :data:`~simulator.sketch.RELATIVE_ERROR` (2**-9,
about 0.2%) of the exact sample quantiles. Runs whose samples fit the memory budget are
summarized exactly instead (:func:`simulator.summary.summarize` on the kept samples), so this
module is only used beyond it.

References
----------
.. [1] T. F. Chan, G. H. Golub and R. J. LeVeque, "Updating formulae and a pairwise algorithm
   for computing sample variances," in COMPSTAT 1982, Physica, pp. 30-41.
   doi:10.1007/978-3-642-51461-6_3
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

import numpy as np
from numpy.typing import NDArray

from simulator.metrics import IMPACT_AS_DIFFERENCE
from simulator.sketch import RELATIVE_ERROR, LogHistogram, SignedHistogram
from simulator.summary import (
    DEFAULT_PROBS,
    ComparisonOp,
    QuestionAnswer,
    SummaryTable,
    defined_rows,
    quantile_name,
    replicate_se,
)

__all__ = [
    "BlockMoments",
    "Moments",
    "QuestionSpec",
    "SeriesSummary",
    "StreamingSummary",
    "Workspace",
    "block_moments",
    "merge_moments",
    "with_moments",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

SE_RESOLUTION = 0.1
"""Largest relative error accepted on a sketched quantile standard error. [-]"""


@dataclass
class Moments:
    """Count, mean and sum of squared deviations per row, mergeable (Chan et al.).

    Attributes
    ----------
    n : int
        Values per row. [-]
    mean : ndarray of float64, shape (rows,)
        Mean of each row's finite values so far. [unit]
    m2 : ndarray of float64, shape (rows,)
        Sum of squared deviations from the mean. [unit**2]
    nonfinite : ndarray of int64, shape (rows,)
        Non-finite values seen per row (the moments are then undefined). [-]
    """

    n: int
    mean: FloatArray
    m2: FloatArray
    nonfinite: IntArray

    @classmethod
    def of(cls, x: FloatArray, scratch: FloatArray | None = None) -> Moments:
        """Moments of a block shaped ``(rows, n)`` (two passes: mean, then deviations)."""
        rows, n = x.shape
        with np.errstate(over="ignore", invalid="ignore"):
            mean = x.sum(axis=1) / n
            bad = ~np.isfinite(mean)
            nonfinite = np.zeros(rows, dtype=np.int64)
            if bad.any():
                for r in np.flatnonzero(bad):
                    nonfinite[r] = np.count_nonzero(~np.isfinite(x[r]))
                mean = np.where(bad, 0.0, mean)
            d = np.subtract(x, mean[:, np.newaxis], out=scratch)
            m2 = np.einsum("ij,ij->i", d, d)
        m2 = np.where(bad | ~np.isfinite(m2), 0.0, m2)
        return cls(n, mean, m2, nonfinite)

    def merge(self, other: Moments) -> Moments:
        """Moments of both sets of values (Chan et al.'s pairwise update)."""
        if self.n == 0:
            return other
        if other.n == 0:
            return self
        n = self.n + other.n
        delta = other.mean - self.mean
        mean = self.mean + delta * (other.n / n)
        m2 = self.m2 + other.m2 + delta * delta * (self.n * other.n / n)
        return Moments(n, mean, m2, self.nonfinite + other.nonfinite)


@dataclass
class SeriesSummary:
    """Moments and histogram of one metric of one variant, one row per year.

    ``replicate_sums`` (shape ``(R, rows)``) and ``replicate_counts`` (shape ``(R,)``) hold
    the sums and sample counts of each independent replicate of a ``sobol`` run (sample
    ``k`` in replicate ``k % R``), for the standard error of the mean; None otherwise.
    """

    moments: Moments
    histogram: LogHistogram | SignedHistogram
    replicate_sums: FloatArray | None = None
    replicate_counts: IntArray | None = None

    def merge(self, other: SeriesSummary) -> SeriesSummary:
        """Both blocks' summary."""
        a, b = self.histogram, other.histogram
        sums, counts = _merge_replicates(
            (self.replicate_sums, self.replicate_counts),
            (other.replicate_sums, other.replicate_counts),
        )
        moments = self.moments.merge(other.moments)
        if isinstance(a, SignedHistogram) or isinstance(b, SignedHistogram):
            a, b = _signed(a), _signed(b)
            return SeriesSummary(moments, a.merge(b), sums, counts)
        return SeriesSummary(moments, a.merge(b), sums, counts)

    def describe(self, probs: Sequence[float]) -> dict[str, FloatArray]:
        """The statistics of :func:`simulator.summary.describe`, from the merged summary.

        Quantiles are within :data:`~simulator.sketch.RELATIVE_ERROR` of the exact ones.
        The standard error of a quantile is the half-width of the order-statistic bracket
        ``p +- k delta`` divided by ``k``, with ``k = 1, 2, 4, ...`` the smallest power of two
        for which the histogram resolves the bracket to :data:`SE_RESOLUTION`
        (the same quantity as :func:`simulator.summary.describe` at ``k = 1``, for a
        density smooth over the bracket).
        """
        m = self.moments
        n = m.n
        p = np.asarray(probs, dtype=np.float64)
        finite = m.nonfinite == 0
        mean = np.where(finite, m.mean, np.nan)
        if n > 1:
            sd = np.where(finite, np.sqrt(np.maximum(m.m2, 0.0) / (n - 1)), np.nan)
            se_mean = sd / math.sqrt(n)
        else:
            sd = np.full_like(mean, np.nan)
            se_mean = sd.copy()
        central = self.histogram.quantiles(p)
        out: dict[str, FloatArray] = {"mean": mean, "sd": sd}
        names = [quantile_name(float(v)) for v in p]
        for i, name in enumerate(names):
            out[name] = central[i]
        replicated = self.replicate_sums is not None and self.replicate_counts is not None
        if self.replicate_sums is not None and self.replicate_counts is not None:
            held = self.replicate_counts > 0
            with np.errstate(over="ignore", invalid="ignore"):
                means = self.replicate_sums[held] / self.replicate_counts[held, np.newaxis]
            se_mean = np.where(finite, replicate_se(means), np.nan)
        out["se_mean"] = se_mean
        for i, name in enumerate(names):
            out[f"se_{name}"] = (
                np.full(central[i].shape, np.nan)  # no quantile errors under replicates
                if replicated
                else self._quantile_se(float(p[i]), central[i])
            )
        return out

    def _quantile_se(self, p: float, central: FloatArray) -> FloatArray:
        n = self.moments.n
        rows = central.shape[0]
        if n < 2:
            return np.full(rows, np.nan)
        delta = math.sqrt(p * (1.0 - p) / n)
        ks = [1.0]
        while ks[-1] * delta < 0.5 and ks[-1] < 2.0**30:
            ks.append(2.0 * ks[-1])
        k = np.asarray(ks)
        q = self.histogram.quantiles(
            np.concatenate([np.clip(p - k * delta, 0.0, 1.0), np.clip(p + k * delta, 0.0, 1.0)])
        )
        low, high = q[: k.size], q[k.size :]
        with np.errstate(invalid="ignore", over="ignore"):
            half = np.where(high == low, 0.0, 0.5 * (high - low)) / k[:, np.newaxis]
            scale = np.maximum(np.abs(low), np.abs(high))
            resolved = (high - low) >= 2.0 * RELATIVE_ERROR * scale / SE_RESOLUTION
        stop = resolved | np.isinf(high) | ((high == low) & (scale == 0))
        stop[-1] = True
        first = np.argmax(stop, axis=0)
        out: FloatArray = half[first, np.arange(rows)]
        return out


@dataclass(frozen=True)
class QuestionSpec:
    """What the engine needs of a question to count it block by block.

    Attributes
    ----------
    name, text : str
        The question's identifier and wording.
    variant, metric : str
        Which series is compared.
    column : int
        Year index (0 for the base year). [-]
    op : {"<", "<=", ">", ">="}
        The comparison.
    than : float or None
        A threshold, or None to compare with the same sample without the shocks.
    """

    name: str
    text: str
    variant: str
    metric: str
    column: int
    op: ComparisonOp
    than: float | None


_OPS = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}


@dataclass
class Workspace:
    """Per-worker scratch arrays reused across blocks (no fresh memory per block)."""

    floats: dict[tuple[int, int], list[FloatArray]] = field(default_factory=dict)
    ints: dict[tuple[int, int], IntArray] = field(default_factory=dict)

    def float_buffers(self, shape: tuple[int, int], count: int) -> list[FloatArray]:
        """``count`` float64 buffers of ``shape``, the same ones on every call."""
        bufs = self.floats.setdefault(shape, [])
        while len(bufs) < count:
            bufs.append(np.empty(shape))
        return bufs[:count]

    def int_buffer(self, shape: tuple[int, int]) -> IntArray:
        """An int64 buffer of ``shape``, the same one on every call."""
        if shape not in self.ints:
            self.ints[shape] = np.empty(shape, dtype=np.int64)
        return self.ints[shape]


@dataclass
class StreamingSummary:
    """Mergeable summary of every series of a run and counts for its questions.

    Attributes
    ----------
    n : int
        Samples summarized. [-]
    series : dict of (str, str) to SeriesSummary
        ``(variant, metric)`` to its per-year summary.
    hits : dict of str to int
        Question name to the number of samples for which its comparison holds. [-]
    """

    n: int
    series: dict[tuple[str, str], SeriesSummary]
    hits: dict[str, int]
    replicate_hits: dict[str, IntArray] | None = None
    """Question name to its hits per replicate, shape ``(R,)``, for a ``sobol`` run."""
    replicate_counts: IntArray | None = None
    """Samples per replicate, shape ``(R,)``, for a ``sobol`` run."""

    @classmethod
    def of_block(
        cls,
        with_shocks: Mapping[str, FloatArray],
        counterfactual: Mapping[str, FloatArray],
        questions: Sequence[QuestionSpec] = (),
        workspace: Workspace | None = None,
        *,
        replicates: int | None = None,
        first: int = 0,
    ) -> StreamingSummary:
        """Summarize one block of model output.

        Parameters
        ----------
        with_shocks, counterfactual : mapping of str to ndarray, shape (n, T + 1)
            Per-sample paths of every metric in both variants (the model's layout).
        questions : sequence of QuestionSpec, optional
            Questions whose exceedances to count.
        workspace : Workspace, optional
            Scratch arrays of the calling worker.
        replicates : int, optional
            The run's samples are ``R`` interleaved independent replicates (``sobol``):
            keep per-replicate sums and hits, so that standard errors of means and of the
            questions' probabilities come from them (:func:`simulator.summary.describe`).
        first : int, optional
            Index of the block's first sample in the run (its replicate is
            ``first % R``). [-]

        Returns
        -------
        StreamingSummary
        """
        ws = workspace if workspace is not None else Workspace()
        n, years = next(iter(with_shocks.values())).shape
        counts = None
        if replicates is not None:
            counts = np.asarray(
                [len(range((r - first) % replicates, n, replicates)) for r in range(replicates)],
                dtype=np.int64,
            )
        w_buf, c_buf, i_t, scratch = ws.float_buffers((years, n), 4)
        keys = ws.int_buffer((years, n))
        series: dict[tuple[str, str], SeriesSummary] = {}
        for metric, a in with_shocks.items():
            # one row per year: the model's year-major arrays are read in place, others copied
            w_t = _rows(a, w_buf)
            c_t = _rows(counterfactual[metric], c_buf)
            difference = metric in IMPACT_AS_DIFFERENCE
            if difference:  # a paired difference, any sign (simulator.metrics)
                np.subtract(w_t, c_t, out=i_t)
            else:
                _impact_into(w_t, c_t, i_t)
            for variant, x in (("with_shocks", w_t), ("counterfactual", c_t), ("impact", i_t)):
                hist: LogHistogram | SignedHistogram = (
                    SignedHistogram.of(x, keys, scratch)
                    if difference and variant == "impact"
                    else LogHistogram.of(x, keys)
                )
                sums = None
                if replicates is not None:
                    sums = np.stack(
                        [
                            x[:, (r - first) % replicates :: replicates].sum(axis=1)
                            for r in range(replicates)
                        ]
                    )
                series[variant, metric] = SeriesSummary(Moments.of(x, scratch), hist, sums, counts)
        hits: dict[str, int] = {}
        replicate_hits: dict[str, IntArray] | None = None if replicates is None else {}
        for q in questions:
            source = with_shocks if q.variant == "with_shocks" else counterfactual
            if q.variant == "impact":
                x = impact_column(
                    with_shocks[q.metric], counterfactual[q.metric], q.column, q.metric
                )
            else:
                x = source[q.metric][:, q.column]
            thr = counterfactual[q.metric][:, q.column] if q.than is None else q.than
            with np.errstate(invalid="ignore"):
                hit = _OPS[q.op](x, thr)
            hits[q.name] = int(np.count_nonzero(hit))
            if replicate_hits is not None and replicates is not None:
                replicate_hits[q.name] = np.asarray(
                    [
                        np.count_nonzero(hit[(r - first) % replicates :: replicates])
                        for r in range(replicates)
                    ],
                    dtype=np.int64,
                )
        return cls(n, series, hits, replicate_hits, counts)

    def update(
        self,
        with_shocks: Mapping[str, FloatArray],
        counterfactual: Mapping[str, FloatArray],
        questions: Sequence[QuestionSpec] = (),
        workspace: Workspace | None = None,
    ) -> StreamingSummary:
        """The summary with one more block (see :meth:`of_block`) merged in after it."""
        return self.merge(
            StreamingSummary.of_block(with_shocks, counterfactual, questions, workspace)
        )

    def merge(self, other: StreamingSummary) -> StreamingSummary:
        """Both runs' summary: ``self``'s samples, then ``other``'s."""
        if self.n == 0:
            return other
        if other.n == 0:
            return self
        if self.series.keys() != other.series.keys() or self.hits.keys() != other.hits.keys():
            msg = "cannot merge summaries of different metrics or questions"
            raise ValueError(msg)
        replicate_hits = None
        if self.replicate_hits is not None and other.replicate_hits is not None:
            replicate_hits = {
                k: h + other.replicate_hits[k] for k, h in self.replicate_hits.items()
            }
        counts = None
        if self.replicate_counts is not None and other.replicate_counts is not None:
            counts = self.replicate_counts + other.replicate_counts
        return StreamingSummary(
            self.n + other.n,
            {k: s.merge(other.series[k]) for k, s in self.series.items()},
            {k: h + other.hits[k] for k, h in self.hits.items()},
            replicate_hits,
            counts,
        )

    def table(
        self,
        years: Sequence[int],
        *,
        scenario: str,
        probs: Sequence[float] = DEFAULT_PROBS,
        progress: Callable[[int, int], None] | None = None,
    ) -> SummaryTable:
        """The tidy summary table, rows ordered as :func:`simulator.summary.summarize`.

        ``progress(done, total)`` is called after each series (variant and metric).
        """
        yrs = tuple(int(y) for y in years)
        cols: dict[str, list[object]] = {"variant": [], "metric": [], "year": [], "stat": []}
        chunks: list[FloatArray] = []
        done = 0
        for variant in ("with_shocks", "counterfactual", "impact"):
            for (v, metric), s in self.series.items():
                if v != variant:
                    continue
                stats = s.describe(probs)
                done += 1
                if progress is not None:
                    progress(done, len(self.series))
                for name, values in stats.items():
                    cols["variant"].extend([variant] * len(yrs))
                    cols["metric"].extend([metric] * len(yrs))
                    cols["year"].extend(yrs)
                    cols["stat"].extend([name] * len(yrs))
                    chunks.append(np.asarray(values, dtype=np.float64))
        values = np.concatenate(chunks) if chunks else np.empty(0)
        return defined_rows(
            scenario,
            [str(v) for v in cols["variant"]],
            [str(v) for v in cols["metric"]],
            [int(str(v)) for v in cols["year"]],
            [str(v) for v in cols["stat"]],
            values,
        )

    def answers(self, questions: Sequence[QuestionSpec]) -> list[QuestionAnswer]:
        """Probabilities and standard errors of the questions, from the counts.

        Binomial standard errors, or, for a ``sobol`` run's replicates, the standard error
        of the replicates' fractions (:func:`simulator.summary.replicate_se`).
        """
        out = []
        for q in questions:
            p = self.hits[q.name] / self.n
            se = math.sqrt(p * (1.0 - p) / self.n)
            if self.replicate_hits is not None and self.replicate_counts is not None:
                held = self.replicate_counts > 0
                fractions = self.replicate_hits[q.name][held] / self.replicate_counts[held]
                se = float(replicate_se(fractions))
            out.append(QuestionAnswer(name=q.name, text=q.text, probability=p, se=se))
        return out


def _rows(a: FloatArray, buffer: FloatArray) -> FloatArray:
    """``a.T`` (shape ``(years, n)``) with contiguous rows: a view if it has them, else copied."""
    t = a.T
    if t.flags.c_contiguous and t.dtype == np.float64:
        return t
    np.copyto(buffer, t)
    return buffer


def _impact_into(w: FloatArray, c: FloatArray, out: FloatArray) -> None:
    """``w / c`` with ``0/0 = 1`` and ``x/0 = inf`` (as :func:`simulator.summary.impact`)."""
    with np.errstate(divide="ignore", over="ignore", invalid="ignore", under="ignore"):
        np.divide(w, c, out=out)
    zero = c == 0.0
    if zero.any():
        out[zero] = np.where(w[zero] == 0.0, 1.0, np.copysign(np.inf, w[zero]))


def impact_column(w: FloatArray, c: FloatArray, column: int, metric: str) -> FloatArray:
    """One year's per-sample impact: ratio, or difference for IMPACT_AS_DIFFERENCE metrics."""
    if metric in IMPACT_AS_DIFFERENCE:
        out: FloatArray = w[:, column] - c[:, column]
        return out
    out = np.empty(w.shape[0])
    _impact_into(w[:, column], c[:, column], out)
    return out


BlockMoments: TypeAlias = (
    "dict[tuple[str, str], tuple[Moments, FloatArray | None, IntArray | None]]"
)
"""Each series' moments and per-replicate sums and counts, keyed ``(variant, metric)``."""


def block_moments(part: StreamingSummary) -> BlockMoments:
    """The floating-point part of a summary: what must be merged block after block.

    Histograms, question hits and counts are integers: their merge is exact in any order,
    so they may be merged anywhere (in the worker threads, on a cluster). Moments and
    replicate sums are floats: merged in block order (:func:`merge_moments`), the run's
    numbers do not depend on its schedule.
    """
    return {k: (s.moments, s.replicate_sums, s.replicate_counts) for k, s in part.series.items()}


def merge_moments(running: BlockMoments | None, block: BlockMoments) -> BlockMoments:
    """``running`` (the blocks so far, None for none) followed by ``block``."""
    if running is None:
        return dict(block)
    merged: BlockMoments = {}
    for k, (m, sums, counts) in running.items():
        bm, bsums, bcounts = block[k]
        merged[k] = (m.merge(bm), *_merge_replicates((sums, counts), (bsums, bcounts)))
    return merged


def with_moments(histograms: StreamingSummary, moments: BlockMoments) -> StreamingSummary:
    """``histograms``' integer parts with ``moments`` merged in block order (same run)."""
    series = {
        key: SeriesSummary(moments[key][0], s.histogram, moments[key][1], moments[key][2])
        for key, s in histograms.series.items()
    }
    return StreamingSummary(
        histograms.n,
        series,
        histograms.hits,
        histograms.replicate_hits,
        histograms.replicate_counts,
    )


def _merge_replicates(
    a: tuple[FloatArray | None, IntArray | None], b: tuple[FloatArray | None, IntArray | None]
) -> tuple[FloatArray | None, IntArray | None]:
    """Per-replicate sums and counts of both blocks (None unless both have them)."""
    if a[0] is None or a[1] is None or b[0] is None or b[1] is None:
        return None, None
    with np.errstate(over="ignore", invalid="ignore"):
        return a[0] + b[0], a[1] + b[1]


def _signed(h: LogHistogram | SignedHistogram) -> SignedHistogram:
    if isinstance(h, SignedHistogram):
        return h
    return SignedHistogram(h, LogHistogram.empty(h.n_rows), h.total)
