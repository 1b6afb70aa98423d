"""Print the figures docs/sampling.md quotes: what each sampling design achieves, measured.

Usage (from the repository root; about a minute on one core)::

    python docs/sampling_figures.py

Every figure is a deterministic function of the seeds below, so a rerun prints the same
numbers. Sections:

1. Latin hypercube strata occupancy (share of the ``s`` strata of width ``1/s`` that hold
   exactly one point of a parameter), for the design as it now is (each block stratified
   over its own size, correlations by Iman-Conover) and, for comparison, as it was before
   (blocks of 16,384 stratified then trimmed; correlations by a Gaussian copula, rebuilt
   here in a few lines).
2. Achieved Spearman rank correlations against the requested ones, over 20 seeds.
3. Root-mean-square error of the mean of ``f(u) = prod_j exp(u_j)`` on ``[0, 1]^4``
   (integral ``(e - 1)^4``) at ``n = 2^8 .. 2^14`` over 40 seeds, and its log-log slope.
4. Coverage of the sobol design's replicate standard errors (200 seeds, ``n = 1024``).
5. The standard error of a mean that ``jevons run`` reports for deepseek under sobol, next
   to the iid formula.
6. How much rank correlation independent parameters show under sobol, by the number of
   replicates (why the design uses 8).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
from scipy import special
from scipy.stats import qmc

from simulator import load_scenario, simulate
from simulator.sampling import (
    SOBOL_REPLICATES,
    block_uniforms,
    correlate,
    rank_correlation,
)
from simulator.summary import describe

ROOT = Path(__file__).resolve().parent.parent
LINES: list[str] = []


def emit(text: str) -> None:
    """Add ``text`` (which may end in a newline) to the report."""
    LINES.append(text)


NAMES = ["a", "b", "c", "d"]
PAIRS = [("a", "b", 0.7), ("a", "c", -0.4), ("b", "c", -0.2), ("c", "d", 0.5)]


def occupancy(u: np.ndarray) -> float:
    """Share, in [0, 1], of the ``len(u)`` equal strata holding exactly one point."""
    s = u.shape[0]
    counts = np.bincount(np.minimum(np.floor(u * s).astype(np.int64), s - 1), minlength=s)
    return float(np.mean(counts == 1))


def gaussian_copula(u: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The correlation step before Iman-Conover: normals, Cholesky factor, back to uniforms."""
    r = np.eye(len(NAMES))
    for a, b, rho in PAIRS:
        i, j = NAMES.index(a), NAMES.index(b)
        r[i, j] = r[j, i] = 2.0 * np.sin(np.pi * rho / 6.0)
    z = special.ndtri(np.stack([u[n] for n in NAMES], axis=1)) @ np.linalg.cholesky(r).T
    return {n: special.ndtr(z[:, j]) for j, n in enumerate(NAMES)}


def strata() -> None:
    """Section 1: strata occupancy now and before."""
    emit("## 1. Latin hypercube strata occupancy (mean over parameters b, c, d; seeds 0-9)\n")
    emit("(a, first in sorted order, keeps its order under both methods.)\n")
    emit(
        "| samples | now (per-size LHS, Iman-Conover) | before (16,384-block LHS, copula, trimmed) |"
    )
    emit("|---|---|---|")
    for n in (1000, 16_384):
        now, before = [], []
        for seed in range(10):
            moved = NAMES[1:]
            c = correlate(block_uniforms("lhs", seed, NAMES, 0, 16_384, size=n), PAIRS)
            now += [occupancy(c[k]) for k in moved]
            g = gaussian_copula(block_uniforms("lhs", seed, NAMES, 0, 16_384))
            before += [occupancy(g[k][:n]) for k in moved]
        emit(f"| {n:,} | {np.mean(now):.1%} | {np.mean(before):.1%} |")
    emit("")


def correlations() -> None:
    """Section 2: achieved against requested rank correlations."""
    emit("## 2. Achieved rank correlations (20 seeds; error = achieved - requested)\n")
    emit("| design | samples | mean error per pair (a~b, a~c, b~c, c~d) | largest |error| |")
    emit("|---|---|---|---|")
    for method in ("lhs", "random", "sobol"):
        for n in (1024, 16_384):
            errs = []
            for seed in range(20):
                u = block_uniforms(method, seed, NAMES, 0, 16_384, size=n)  # type: ignore[arg-type]
                reps = SOBOL_REPLICATES if method == "sobol" else 1
                m = rank_correlation(correlate(u, PAIRS, replicates=reps), NAMES)
                errs.append([m[NAMES.index(a), NAMES.index(b)] - rho for a, b, rho in PAIRS])
            e = np.asarray(errs)
            means = ", ".join(f"{v:+.4f}" for v in e.mean(axis=0))
            emit(f"| {method} | {n:,} | {means} | {np.abs(e).max():.4f} |")
    biased = 6.0 / math.pi * math.asin(0.7 / 2.0) - 0.7
    emit(
        f"\nWith the Spearman targets used as the scores' Pearson correlations (no Kruskal "
        f"conversion), rho = 0.7 would come out biased by {biased:+.4f}.\n"
    )


D = 4
EXACT = (math.e - 1.0) ** D
X = [f"x{j}" for j in range(D)]


def mean_of_f(method: str, seed: int, n: int) -> tuple[float, np.ndarray]:
    """The mean of ``f`` over one design's ``n`` points, and the values of ``f``."""
    u = block_uniforms(method, seed, X, 0, 1 << 14, size=n)  # type: ignore[arg-type]
    f = np.exp(np.sum([u[k] for k in X], axis=0))
    return float(f.mean()), f


def slopes() -> None:
    """Section 3: RMSE and its slope per design."""
    emit("## 3. RMSE of the mean of prod exp(u_j), d = 4 (40 seeds)\n")
    ns = [2**k for k in range(8, 15)]
    emit("| design | " + " | ".join(f"n={n:,}" for n in ns) + " | slope |")
    emit("|---|" + "---|" * (len(ns) + 1))
    for method in ("random", "lhs", "sobol"):
        rmse = []
        for n in ns:
            errs = [mean_of_f(method, s, n)[0] - EXACT for s in range(40)]
            rmse.append(math.sqrt(float(np.mean(np.square(errs)))))
        slope = float(np.polyfit(np.log(ns), np.log(rmse), 1)[0])
        emit(f"| {method} | " + " | ".join(f"{r:.2e}" for r in rmse) + f" | {slope:+.2f} |")
    emit("")


def coverage() -> None:
    """Section 4: coverage of the sobol replicate standard errors."""
    emit("## 4. Sobol replicate standard errors (200 seeds, n = 1024)\n")
    n, hits1, hits2, ratios = 1024, 0, 0, []
    for seed in range(200):
        mean, f = mean_of_f("sobol", seed, n)
        se = float(describe(f, replicates=SOBOL_REPLICATES)["se_mean"])
        hits1 += abs(mean - EXACT) <= se
        hits2 += abs(mean - EXACT) <= 2.0 * se
        ratios.append(float(np.std(f, ddof=1)) / math.sqrt(n) / se)
    emit(f"- |error| <= 1 se: {hits1 / 200:.1%} (t with 7 df: 65.0%)")
    emit(f"- |error| <= 2 se: {hits2 / 200:.1%} (t with 7 df: 91.4%)")
    emit(f"- iid formula s / sqrt(n) over the replicate se, median: {np.median(ratios):.1f}x\n")


def deepseek() -> None:
    """Section 5: replicate and iid standard errors of a deepseek mean."""
    emit("## 5. deepseek under sobol, 16,384 samples, seed 1: se of the mean HBM [GB]\n")
    sc = load_scenario(ROOT / "scenarios" / "deepseek.yaml")
    result = simulate(sc, 16_384, rng=1, method="sobol")
    emit("| year | mean | se (8 replicates) | se (iid formula) |")
    emit("|---|---|---|---|")
    for year in (2026, 2027, 2030):
        x = result.with_shocks["hbm_gb"][:, result.years.index(year)]
        rep = float(describe(x, replicates=SOBOL_REPLICATES)["se_mean"])
        iid = float(np.std(x, ddof=1)) / math.sqrt(x.shape[0])
        emit(f"| {year} | {x.mean():.4g} | {rep:.3g} | {iid:.3g} |")
    emit("")


def projections() -> None:
    """Section 6: spurious rank correlations of independent sobol parameters, by replicates."""
    emit("## 6. Sobol: rank correlation of independent parameters, 18 dimensions, 30 seeds\n")
    emit("Standard deviation over seeds of each pair's rank correlation: the worst pair of the")
    emit("153, and the mean over pairs; R independently scrambled sequences of n / R points")
    emit("each (scipy.stats.qmc.Sobol, as the design builds them; R = 8 is the design).\n")
    emit(
        "| samples | Monte Carlo | R = 1 worst / mean | R = 8 worst / mean | R = 16 worst / mean |"
    )
    emit("|---|---|---|---|---|")
    d = 18
    pairs = np.triu_indices(d, 1)
    for n in (512, 4096):
        cells = []
        for r_count in (1, 8, 16):
            values = []
            for seed in range(30):
                pts = np.empty((n, d))
                for r in range(r_count):
                    rng = np.random.Generator(np.random.PCG64([seed, r]))
                    pts[r::r_count] = qmc.Sobol(d, scramble=True, rng=rng).random(n // r_count)
                m = rank_correlation({str(i): pts[:, i] for i in range(d)})
                values.append(m[pairs])
            sd = np.asarray(values).std(axis=0)
            cells.append(f"{sd.max():.3f} / {sd.mean():.3f}")
        emit(f"| {n:,} | {1 / math.sqrt(n):.3f} | " + " | ".join(cells) + " |")
    emit("")


def main() -> None:
    """Print every section."""
    strata()
    correlations()
    slopes()
    coverage()
    deepseek()
    projections()
    sys.stdout.write("\n".join(LINES) + "\n")


if __name__ == "__main__":
    main()
