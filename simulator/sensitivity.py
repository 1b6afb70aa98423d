"""Which assumption drives a result: rank-based sensitivity of outputs to uncertain inputs.

From the per-sample draws of every uncertain input and the per-sample outputs of the same
run (:attr:`simulator.result.SimulationResult.inputs`, or ``samples.npz``), for each chosen
metric, year and variant this computes, for every input:

- the **Spearman rank correlation** of the input and the output, with its Monte Carlo
  standard error and confidence interval (Fisher z with the Fieller-Hartley-Pearson
  variance ``1.06 / (n - 3)``, [1]_);
- the **standardized rank regression coefficient** (SRRC): the coefficient of the input
  when the ranks of the output are regressed on the ranks of *all* inputs at once, each
  standardized, with the regression's ``R²`` (how much of the output's rank variance a
  linear-in-ranks view explains) [2]_. No standard error is given for it: the textbook
  least-squares one (even White's robust one) is 1.4-1.8x too small on ranks, which are
  not independent observations; with weakly correlated inputs its error is close to the
  Spearman coefficient's, and larger with strongly correlated ones;
- @RISK's **change in output mean** (the swing) [3]_: the samples are sorted by the input
  (ties kept in sample order) and cut into ``bins`` (10) bins of equal count; the output's
  mean is taken in each bin; the swing runs from the lowest of these bin means
  (``swing_low``) to the highest (``swing_high``), and ``swing = swing_high - swing_low``,
  with the standard error of the difference of those two bin means.

Everything here is pure numpy/scipy on host arrays; the command line
(:mod:`simulator.cli_sensitivity`) and the charts
(:mod:`simulator.report.sensitivity_charts`) sit on top.

References
----------
.. [1] E. C. Fieller, H. O. Hartley and E. S. Pearson, "Tests for rank correlation
   coefficients. I", Biometrika 44(3/4), 470-481, 1957. doi:10.1093/biomet/44.3-4.470
.. [2] A. Saltelli, M. Ratto, T. Andres et al., *Global Sensitivity Analysis. The Primer*,
   Wiley, 2008, §1.2. doi:10.1002/9780470725184
.. [3] Palisade, "Change in Output Statistic Analysis", @RISK 8.6 help;
   "Interpreting Change in Output Statistic in Tornado Graphs", Palisade knowledge base
   7.10 (kb.palisade.com, page 248).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import NDArray
from scipy import stats

__all__ = [
    "BINS",
    "COLUMNS",
    "CONFIDENCE",
    "MIN_SAMPLES",
    "SensitivityError",
    "SensitivityTable",
    "rank_sensitivity",
    "result_sensitivity",
    "short_label",
    "short_labels",
]

BINS = 10
"""Equal-count bins of an input for the swing (@RISK's default: deciles)."""

MIN_SAMPLES = 100
"""Fewest samples the analysis accepts: ten per decile bin, so that each bin's mean and
standard deviation mean something. [samples]"""

CONFIDENCE = 0.95
"""Level of the Spearman confidence intervals. [-]"""

FIELLER_VARIANCE = 1.06
"""Variance factor of Fisher's z of a Spearman coefficient: ``var(z) = 1.06 / (n - 3)``
(Fieller, Hartley and Pearson 1957), against ``1 / (n - 3)`` for Pearson's r. [-]"""

COLUMNS: tuple[str, ...] = (
    "metric",
    "year",
    "variant",
    "input",
    "rank",
    "spearman",
    "spearman_se",
    "spearman_ci_low",
    "spearman_ci_high",
    "srrc",
    "r2_rank",
    "swing_low",
    "swing_high",
    "swing",
    "swing_se",
    "mean_bottom",
    "mean_top",
    "output_mean",
    "n",
)
"""Columns of :meth:`SensitivityTable.to_csv`, in order."""


class SensitivityError(ValueError):
    """A sensitivity analysis that cannot give meaningful numbers.

    The message names what is wrong (a constant output by metric, year and variant; too
    few samples; no uncertain input) and what to do.
    """


@dataclass(frozen=True)
class SensitivityTable:
    """Rank sensitivities of outputs to inputs: one row per output and input.

    Attributes
    ----------
    rows : list of dict
        One record per (metric, year, variant, input), keys :data:`COLUMNS`; within each
        output, rows are in ``rank`` order (1 = largest ``|spearman|``). Every number is
        finite.
    inputs : tuple of str
        The inputs analysed (non-constant), in the order given.
    skipped : tuple of str
        Inputs left out because they are constant in this run (no variation to rank).
    n_samples : int
        Number of samples. [samples]
    bins : int
        Equal-count bins of each input for the swing.
    confidence : float
        Level of the Spearman intervals. [-]
    meta : dict
        Description of the run (scenario, seed, method, ...), for titles and files.
    """

    rows: list[dict[str, Any]]
    inputs: tuple[str, ...]
    skipped: tuple[str, ...]
    n_samples: int
    bins: int = BINS
    confidence: float = CONFIDENCE
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def outputs(self) -> list[tuple[str, int, str]]:
        """The (metric, year, variant) analysed, in the order computed."""
        seen: dict[tuple[str, int, str], None] = {}
        for r in self.rows:
            seen.setdefault((r["metric"], r["year"], r["variant"]), None)
        return list(seen)

    def select(self, metric: str, year: int, variant: str | None = None) -> list[dict[str, Any]]:
        """Rows of one output, in rank order.

        Parameters
        ----------
        metric : str
            Metric name.
        year : int
            Calendar year.
        variant : str, optional
            Variant; default: any (the table usually holds one).

        Returns
        -------
        list of dict
            The rows, best first; empty if the output was not analysed.
        """
        return [
            r
            for r in self.rows
            if r["metric"] == metric
            and r["year"] == year
            and (variant is None or r["variant"] == variant)
        ]

    def to_csv_string(self) -> str:
        """The table as CSV text: a header of :data:`COLUMNS`, numbers as ``repr`` floats."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(COLUMNS)
        for r in self.rows:
            w.writerow([repr(r[c]) if isinstance(r[c], float) else r[c] for c in COLUMNS])
        return buf.getvalue()

    def to_csv(self, path: str | Path) -> Path:
        """Write the table as CSV, atomically (temporary file, then rename).

        Parameters
        ----------
        path : str or Path
            Destination file; its folder must exist.

        Returns
        -------
        Path
            ``path``.
        """
        from simulator.report._atomic import atomic_write

        target = Path(path)
        data = self.to_csv_string().encode("utf-8")

        def write(fh: BinaryIO) -> None:
            fh.write(data)

        atomic_write(target, write)
        return target


# ----------------------------------------------------------------------------- core


def _ranks(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Average ranks (ties share the mean of their ranks) along axis 0, from 1."""
    out: NDArray[np.float64] = stats.rankdata(x, method="average", axis=0).astype(np.float64)
    return out


def _standardize(r: NDArray[np.float64]) -> NDArray[np.float64]:
    """Centre each column and scale it to unit population standard deviation."""
    c = r - r.mean(axis=0)
    sd = np.sqrt((c * c).mean(axis=0))
    out: NDArray[np.float64] = c / sd
    return out


def _spearman_interval(
    rho: NDArray[np.float64], n: int, confidence: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Standard error and confidence interval of Spearman coefficients (Fisher z).

    ``z = atanh(rho)`` is close to normal with variance ``1.06 / (n - 3)``
    (:data:`FIELLER_VARIANCE`); the interval is ``tanh(z -/+ q se_z)`` and the standard
    error on the rho scale is the delta method's ``(1 - rho²) se_z``.
    """
    se_z = math.sqrt(FIELLER_VARIANCE / (n - 3))
    q = float(stats.norm.ppf(0.5 + confidence / 2.0))
    clipped = np.clip(rho, -1.0 + 1e-15, 1.0 - 1e-15)  # atanh(+-1) is infinite
    z = np.arctanh(clipped)
    lo = np.tanh(z - q * se_z)
    hi = np.tanh(z + q * se_z)
    se = (1.0 - rho * rho) * se_z
    return se, lo, hi


def _rank_regression(
    xs: NDArray[np.float64], ys: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """SRRC of every input for every output column, and the regressions' R².

    ``xs`` (n, k) and ``ys`` (n, m) are standardized ranks (mean 0, sd 1). The least-squares
    coefficients of ``ys`` on ``xs`` (no intercept needed: all columns are centred) are the
    standardized rank regression coefficients. Inputs whose ranks are collinear (rank-
    deficient design) share their effect as the minimum-norm solution does.
    """
    n = xs.shape[0]
    solution = np.linalg.lstsq(xs, ys, rcond=None)
    coef: NDArray[np.float64] = np.asarray(solution[0], dtype=np.float64)  # (k, m)
    resid = ys - xs @ coef
    r2: NDArray[np.float64] = np.clip(1.0 - (resid * resid).sum(axis=0) / n, 0.0, 1.0)
    return coef, r2  # ys has sum of squares n, so 1 - SS_res / n is R²


def _swing(
    orders: NDArray[np.intp], edges: NDArray[np.intp], y: NDArray[np.float64]
) -> dict[str, NDArray[np.float64]]:
    """@RISK's change in output mean of ``y`` across equal-count bins of every input.

    ``orders`` (k, n): each input's stable sort order; ``edges`` (bins + 1,): bin
    boundaries in sorted position. Returns, per input, the lowest and highest bin mean,
    the standard error of their difference, and the means of the first and last bin.
    """
    ys = y[orders]  # (k, n): the output in each input's order
    zero = np.zeros((ys.shape[0], 1))
    c1 = np.concatenate([zero, np.cumsum(ys, axis=1)], axis=1)
    centred = ys - y.mean()
    c2 = np.concatenate([zero, np.cumsum(centred * centred, axis=1)], axis=1)
    counts = np.diff(edges).astype(np.float64)  # (bins,)
    sums = c1[:, edges[1:]] - c1[:, edges[:-1]]
    means = sums / counts  # (k, bins)
    # within-bin variance from sums of squares about the overall mean (stable enough:
    # the bins' means are within the output's range)
    sq = c2[:, edges[1:]] - c2[:, edges[:-1]]
    dev = means - y.mean()
    var = np.clip((sq - counts * dev * dev) / np.maximum(counts - 1.0, 1.0), 0.0, None)
    sem2 = var / counts
    lo_bin = np.argmin(means, axis=1)
    hi_bin = np.argmax(means, axis=1)
    rows = np.arange(means.shape[0])
    low = means[rows, lo_bin]
    high = means[rows, hi_bin]
    se = np.sqrt(sem2[rows, lo_bin] + sem2[rows, hi_bin])
    return {
        "swing_low": low,
        "swing_high": high,
        "swing_se": se,
        "mean_bottom": means[:, 0],
        "mean_top": means[:, -1],
    }


def rank_sensitivity(
    inputs: Mapping[str, NDArray[np.float64]],
    outputs: Mapping[tuple[str, int, str], NDArray[np.float64]],
    *,
    bins: int = BINS,
    confidence: float = CONFIDENCE,
    meta: Mapping[str, Any] | None = None,
) -> SensitivityTable:
    """Spearman coefficients, SRRC and swings of every input, for each output.

    Parameters
    ----------
    inputs : mapping of str to ndarray, shape (n,)
        Each uncertain input's per-sample draws, by name (a dotted scenario path). Constant
        inputs are skipped (listed in ``skipped``).
    outputs : mapping of (metric, year, variant) to ndarray, shape (n,)
        Each output's per-sample values, row ``i`` from the same sample as row ``i`` of
        every input.
    bins : int, optional
        Equal-count bins of each input for the swing (10: deciles, as @RISK).
    confidence : float, optional
        Level of the Spearman intervals, in (0, 1). [-]
    meta : mapping, optional
        Description of the run, kept in the table.

    Returns
    -------
    SensitivityTable
        One row per output and input, ranked by ``|spearman|`` within each output.

    Raises
    ------
    SensitivityError
        If there are fewer than ``max(MIN_SAMPLES, 10 bins)`` samples or not more samples
        than inputs + 2; if no input varies; if an input or output is not finite; if an
        output is constant (named by metric, year and variant).

    Notes
    -----
    Ranks are average ranks, so ties (a discrete or truncated input, a capped output) are
    handled as Spearman's coefficient defines them; for the swing, ties keep their sample
    order, as @RISK sorts. The Monte Carlo errors assume independent samples; for Latin
    hypercube and Sobol designs they are conservative for smooth, near-additive outputs.
    The swing of an input with no effect is not zero: the range of ``bins`` noisy means is
    about 3 of their standard errors (3.08 for 10 normal means), so read a swing against
    ``swing_se``.
    """
    if not 0.0 < confidence < 1.0:
        msg = f"confidence must be in (0, 1); got {confidence!r}"
        raise ValueError(msg)
    if bins < 2:
        msg = f"bins must be at least 2; got {bins!r}"
        raise ValueError(msg)
    names = list(inputs)
    if not names:
        msg = "no uncertain inputs: every parameter is fixed, so nothing can drive the outputs"
        raise SensitivityError(msg)
    if not outputs:
        msg = "no outputs to analyse"
        raise ValueError(msg)
    n = len(np.asarray(inputs[names[0]]))
    need = max(MIN_SAMPLES, 10 * bins)
    if n < need:
        msg = (
            f"{n} samples are too few for rank sensitivity: need at least {need} "
            f"({bins} equal-count bins of at least 10 samples each)"
        )
        raise SensitivityError(msg)
    columns = []
    kept: list[str] = []
    skipped: list[str] = []
    for name in names:
        x = np.asarray(inputs[name], dtype=np.float64)
        if x.shape != (n,):
            msg = f"input {name}: shape {x.shape}, expected ({n},) like the first input"
            raise ValueError(msg)
        if not np.isfinite(x).all():
            msg = f"input {name}: has values that are not finite numbers"
            raise SensitivityError(msg)
        if np.ptp(x) == 0.0:
            skipped.append(name)
            continue
        kept.append(name)
        columns.append(x)
    if not kept:
        msg = (
            "no uncertain input varies in this run (every input is constant), so nothing "
            "can drive the outputs"
        )
        raise SensitivityError(msg)
    k = len(kept)
    if n <= k + 2:
        msg = (
            f"{n} samples are too few for a rank regression on {k} inputs: need more than {k + 2}"
        )
        raise SensitivityError(msg)
    x_mat = np.column_stack(columns)  # (n, k)
    x_std = _standardize(_ranks(x_mat))
    orders = np.argsort(x_mat, axis=0, kind="stable").T  # (k, n)
    edges = np.round(np.linspace(0, n, bins + 1)).astype(np.intp)

    keys = list(outputs)
    y_cols = []
    for key in keys:
        y = np.asarray(outputs[key], dtype=np.float64)
        metric, year, variant = key
        where = f"{metric} in {year} ({variant})"
        if y.shape != (n,):
            msg = f"output {where}: shape {y.shape}, expected ({n},) like the inputs"
            raise SensitivityError(msg)
        if not np.isfinite(y).all():
            msg = (
                f"{where} has values that are not finite numbers (an impact ratio x/0, say); "
                "rank sensitivity needs finite outputs: choose another variant or year"
            )
            raise SensitivityError(msg)
        if np.ptp(y) == 0.0:
            msg = (
                f"{where} is the same in every sample ({y[0]:.6g}): no input changes it, so "
                "it has no sensitivity to rank; choose another metric, year or variant"
            )
            raise SensitivityError(msg)
        y_cols.append(y)
    y_mat = np.column_stack(y_cols)  # (n, m)
    y_std = _standardize(_ranks(y_mat))
    rho = np.clip(x_std.T @ y_std / n, -1.0, 1.0)  # (k, m): Pearson of ranks = Spearman
    srrc, r2 = _rank_regression(x_std, y_std)
    se, lo, hi = _spearman_interval(rho, n, confidence)

    rows: list[dict[str, Any]] = []
    for j, key in enumerate(keys):
        metric, year, variant = key
        y = y_mat[:, j]
        sw = _swing(orders, edges, y)
        order = np.argsort(-np.abs(rho[:, j]), kind="stable")
        mean = float(y.mean())
        for rank, i in enumerate(order, start=1):
            rows.append(
                {
                    "metric": metric,
                    "year": int(year),
                    "variant": variant,
                    "input": kept[i],
                    "rank": rank,
                    "spearman": float(rho[i, j]),
                    "spearman_se": float(se[i, j]),
                    "spearman_ci_low": float(lo[i, j]),
                    "spearman_ci_high": float(hi[i, j]),
                    "srrc": float(srrc[i, j]),
                    "r2_rank": float(r2[j]),
                    "swing_low": float(sw["swing_low"][i]),
                    "swing_high": float(sw["swing_high"][i]),
                    "swing": float(sw["swing_high"][i] - sw["swing_low"][i]),
                    "swing_se": float(sw["swing_se"][i]),
                    "mean_bottom": float(sw["mean_bottom"][i]),
                    "mean_top": float(sw["mean_top"][i]),
                    "output_mean": mean,
                    "n": n,
                }
            )
    return SensitivityTable(
        rows=rows,
        inputs=tuple(kept),
        skipped=tuple(skipped),
        n_samples=n,
        bins=bins,
        confidence=confidence,
        meta=dict(meta or {}),
    )


def _column(values: NDArray[np.float64], years: Sequence[int], year: int) -> NDArray[np.float64]:
    out: NDArray[np.float64] = values[:, list(years).index(year)]
    return out


def result_sensitivity(
    inputs: Mapping[str, NDArray[np.float64]],
    variants: Mapping[str, Mapping[str, NDArray[np.float64]]],
    all_years: Sequence[int],
    *,
    metrics: Sequence[str],
    years: Sequence[int],
    variant: str = "with_shocks",
    skip_constant: bool = False,
    required_years: Sequence[int] = (),
    bins: int = BINS,
    confidence: float = CONFIDENCE,
    meta: Mapping[str, Any] | None = None,
) -> SensitivityTable:
    """Rank sensitivities of a run's metrics in chosen years to its uncertain inputs.

    Parameters
    ----------
    inputs : mapping of str to ndarray, shape (n,)
        The run's input draws (:attr:`simulator.result.SimulationResult.inputs`).
    variants : mapping of str to mapping of str to ndarray, shape (n, T + 1)
        Variant name to metric name to per-sample paths (a :class:`SimulationResult`'s
        ``with_shocks``, ``counterfactual``, ``impact``; or those of ``samples.npz``).
    all_years : sequence of int
        Calendar years of the paths' columns.
    metrics : sequence of str
        Metrics to analyse.
    years : sequence of int
        Years to analyse.
    variant : str, optional
        ``with_shocks`` (default), ``counterfactual`` or ``impact``.
    skip_constant : bool, optional
        Leave out outputs that are constant, or not finite, instead of raising (for
        sensitivity over time, where a base year fixed by calibration is constant by design).
    required_years : sequence of int, optional
        Years not skipped even with ``skip_constant``: a constant output there raises.
    bins, confidence, meta
        As :func:`rank_sensitivity`.

    Returns
    -------
    SensitivityTable

    Raises
    ------
    SensitivityError
        As :func:`rank_sensitivity`; also for a metric, year or variant the run does not
        have (the message lists those it has).
    """
    if variant not in variants:
        msg = f"variant {variant!r} is not in the run; available: {', '.join(variants)}"
        raise SensitivityError(msg)
    paths = variants[variant]
    unknown = [m for m in metrics if m not in paths]
    if unknown:
        msg = f"metric {unknown[0]!r} is not in the run; available: {', '.join(paths)}"
        raise SensitivityError(msg)
    bad = [y for y in years if y not in all_years]
    if bad:
        msg = (
            f"year {bad[0]} is not in the run; available: {all_years[0]}-{all_years[-1]}"
            if all_years
            else f"year {bad[0]} is not in the run"
        )
        raise SensitivityError(msg)
    outputs: dict[tuple[str, int, str], NDArray[np.float64]] = {}
    for m in metrics:
        for y in years:
            col = _column(np.asarray(paths[m]), all_years, y)
            optional = skip_constant and y not in required_years
            if optional and (not np.isfinite(col).all() or np.ptp(col) == 0.0):
                continue
            outputs[(m, int(y), variant)] = col
    if not outputs:
        msg = (
            f"{', '.join(metrics)} ({variant}) is the same in every sample in every year "
            "asked: no input changes it, so it has no sensitivity to rank"
        )
        raise SensitivityError(msg)
    return rank_sensitivity(inputs, outputs, bins=bins, confidence=confidence, meta=meta)


# ----------------------------------------------------------------------------- labels

_SEGMENT_PREFIX = "demand.segments."
_RUN_WORDS = {"short": "short-run", "long": "long-run"}
_WORDS = {"hbm": "HBM", "h100e": "H100e", "asp": "ASP", "gb": "GB"}


def short_label(path: str) -> str:
    """A readable label of an input's dotted scenario path, for tables and charts.

    Parameters
    ----------
    path : str
        Dotted scenario path, e.g. ``demand.segments.chat.elasticity.long``.

    Returns
    -------
    str
        E.g. ``"chat elasticity (long-run)"``, ``"deepseek shock magnitude"``,
        ``"fleet supply cap 2027"``, ``"chips HBM price"``.

    Notes
    -----
    The demand-segment prefix is dropped, a shock's path reads ``<name> shock ...``,
    path anchors read as their year, and short/long elasticities as short-/long-run.
    Labels of different paths can coincide only in contrived scenarios;
    :func:`short_labels` falls back to the full path then.
    """
    parts = path.split(".")
    if path.startswith(_SEGMENT_PREFIX):
        parts = parts[2:]
    elif parts[0] == "shocks" and len(parts) >= 3:
        parts = [parts[1], "shock", *parts[2:]]
    if len(parts) >= 2 and parts[-2] == "anchors":
        parts = [*parts[:-2], parts[-1]]
    if len(parts) >= 2 and parts[-1] == "value":
        parts = parts[:-1]
    tail = ""
    if len(parts) >= 2 and parts[-2] == "elasticity" and parts[-1] in _RUN_WORDS:
        tail = f" ({_RUN_WORDS[parts[-1]]})"
        parts = parts[:-1]
    words = " ".join(p.replace("_", " ") for p in parts).split()
    return " ".join(_WORDS.get(w, w) for w in words) + tail


def short_labels(paths: Sequence[str]) -> dict[str, str]:
    """:func:`short_label` of each path; the full path where two labels would coincide."""
    labels = {p: short_label(p) for p in paths}
    counts: dict[str, int] = {}
    for label in labels.values():
        counts[label] = counts.get(label, 0) + 1
    return {p: (label if counts[label] == 1 else p) for p, label in labels.items()}
