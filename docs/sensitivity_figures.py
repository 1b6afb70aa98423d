"""Regenerate the sensitivity figures of README.md and docs/sensitivity.md, and their numbers.

Usage (from the repository root)::

    python docs/sensitivity_figures.py            # 20,000 samples, writes docs/images/
    python docs/sensitivity_figures.py -n 5000    # quicker, for a look (do not commit)

Runs ``jevons sensitivity scenarios/deepseek.yaml --metric hbm_gb --year 2026 --year 2027``
(the command line itself, so the figures come from the code path users run), with the
scenario's own seed and sampling design, once with the shock (``with_shocks``) and once on
the shock's impact (``impact``, with / without); copies its tornado and over-time charts
into ``docs/images/``, atomically; and prints the top inputs of each table: the numbers the
README's prose about the figure cites. Rerun it after any change to the model, the
scenarios or the sampling design, and check the prose against what it prints.

Exit codes: 0 done; 1 the command failed (its message is printed).
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import BinaryIO

from simulator.report._atomic import atomic_write
from simulator.report.units import display_unit
from simulator.sensitivity import short_label

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
SCENARIO = ROOT / "scenarios" / "deepseek.yaml"
DEFAULT_SAMPLES = 20_000
"""Samples (the scenario's own count). [-]"""

FIGURES: dict[tuple[str, str], str] = {
    ("with_shocks", "tornado_hbm_gb_2027.png"): "sensitivity_tornado_deepseek_hbm_2027.png",
    ("with_shocks", "over_time_hbm_gb.png"): "sensitivity_over_time_deepseek_hbm.png",
    ("impact", "tornado_hbm_gb_2026.png"): "sensitivity_tornado_deepseek_hbm_impact_2026.png",
    ("impact", "over_time_hbm_gb.png"): "sensitivity_over_time_deepseek_hbm_impact.png",
}
"""(variant, file the command writes) -> name under docs/images/."""


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")


def _copy(src: Path, dst: Path) -> None:
    data = src.read_bytes()

    def write(fh: BinaryIO) -> None:
        fh.write(data)

    atomic_write(dst, write)


def _print_top(csv_path: Path, variant: str, years: tuple[int, ...], k: int = 6) -> None:
    with csv_path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for year in years:
        mine = [r for r in rows if int(r["year"]) == year]
        mine.sort(key=lambda r: int(r["rank"]))
        _say(f"\nhbm_gb {year} ({variant}): rank regression R2 {float(mine[0]['r2_rank']):.2f}")
        by_swing = sorted(mine, key=lambda r: -float(r["swing"]))
        unit = display_unit("hbm_gb")
        scale, label = (1.0, "x") if variant == "impact" else (unit.scale, f" {unit.label}")
        _say(f"  mean {float(mine[0]['output_mean']) * scale:.3g}{label}")
        for r in mine[:k]:
            _say(
                f"  {r['rank']:>2} {short_label(r['input']):<38} spearman "
                f"{float(r['spearman']):+.2f} [{float(r['spearman_ci_low']):+.2f}, "
                f"{float(r['spearman_ci_high']):+.2f}]  srrc {float(r['srrc']):+.2f}  "
                f"deciles {float(r['mean_bottom']) * scale:.3g} -> "
                f"{float(r['mean_top']) * scale:.3g}{label}  swing "
                f"{float(r['swing']) * scale:.3g} +- {float(r['swing_se']) * scale:.2g}{label}"
            )
        _say("  largest swings: " + ", ".join(short_label(r["input"]) for r in by_swing[:k]))
        magnitude = next(r for r in mine if r["input"] == "shocks.deepseek.magnitude")
        _say(
            f"  shock magnitude: rank {magnitude['rank']}, spearman "
            f"{float(magnitude['spearman']):+.2f} +- {float(magnitude['spearman_se']):.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    """Run the command for each variant, copy its charts, print the cited numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--samples", type=int, default=DEFAULT_SAMPLES)
    args = parser.parse_args(argv)
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for variant in ("with_shocks", "impact"):
            out = Path(tmp) / variant
            command = [
                sys.executable,
                "-m",
                "simulator",
                "sensitivity",
                str(SCENARIO),
                "--metric",
                "hbm_gb",
                "--year",
                "2026",
                "--year",
                "2027",
                "--variant",
                variant,
                "-n",
                str(args.samples),
                "--out",
                str(out),
            ]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                sys.stderr.write(done.stderr)
                return 1
            for (v, name), target in FIGURES.items():
                if v == variant:
                    _copy(out / name, IMAGES / target)
            _print_top(out / "sensitivity.csv", variant, (2026, 2027))
    _say(f"\nwrote {len(FIGURES)} figures to {IMAGES.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
