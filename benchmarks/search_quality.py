"""Issue 15's goal table: every sampler on every setup, from the comparisons' `comparison.json`.

Run the comparisons first (`bash benchmarks/search_quality.sh run`), then
`python benchmarks/search_quality.py results/search_quality/*/comparison.json
--out benchmarks/results/search_quality/README.md`.

Per setup and sampler: final hypervolume (mean ± sd over seeds), its gain over the uniform ladder
alone, best `Q` over mixed (non-uniform) allocations, and the uniform allocations of 3..8 bits its
front dominates in every seed. Then the three goals for AMED, per setup: gain beyond its seed
spread and hypervolume at least the best baseline's; best mixed `Q` at least every baseline's;
uniform 3..8 bits all dominated in every seed. The seeds each setup was reported on are listed;
a setup run on a seed below 100 (a tuning seed) is refused.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from amed_opt.study.files import write_or_print


REPORTING_SEEDS_FROM = 100
GOAL_BITS = (3, 4, 5, 6, 7, 8)


def _cell(spread: dict[str, float]) -> str:
    return f"{spread['mean']:.4f} ± {spread['std']:.4f}"


def _setup(data: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    """The setup's name, its table rows and its AMED goal line."""
    analysis = data["analysis"]
    plan = data["plan"]
    preset = plan["study"]["hardware"]["preset"]
    study = plan["study"]["name"].removesuffix(f"-{preset}")
    name = f"{study} / {preset}"
    samplers = {s["sampler"]: s for s in analysis["samplers"]}
    seeds = sorted({seed for s in analysis["samplers"] for seed in s["seeds"]})
    if any(seed < REPORTING_SEEDS_FROM for seed in seeds):
        raise SystemExit(f"{name}: seeds {seeds} include tuning seeds (< {REPORTING_SEEDS_FROM})")
    n_seeds = len(seeds)
    rows = []
    for sampler, summary in samplers.items():
        dominated = [
            bits
            for bits in GOAL_BITS
            if summary["uniform_dominated"].get(str(bits), 0) >= max(1, len(summary["seeds"]))
        ]
        rows.append(
            f"| {name} | {sampler} | {_cell(summary['hv'])} | {summary['hv_gain']['mean']:+.4f} "
            f"| {_cell(summary['best_mixed_q'])} | {','.join(map(str, dominated)) or '-'} |"
        )
    goals: list[str] = []
    amed = samplers.get("amed")
    if amed is not None:
        others = [s for k, s in samplers.items() if k != "amed"]
        best_hv = max(s["hv"]["mean"] for s in others)
        best_q = max(s["best_mixed_q"]["mean"] for s in others)
        gain, spread = amed["hv_gain"]["mean"], amed["hv"]["std"]
        dominated_all = all(
            amed["uniform_dominated"].get(str(bits), 0) >= n_seeds for bits in GOAL_BITS
        )
        goals.append(
            f"| {name} | {'yes' if gain > spread else 'no'} ({gain:+.4f} vs sd {spread:.4f}) "
            f"| {'yes' if amed['hv']['mean'] >= best_hv else 'no'} "
            f"({amed['hv']['mean']:.4f} vs {best_hv:.4f}) "
            f"| {'yes' if amed['best_mixed_q']['mean'] >= best_q else 'no'} "
            f"({amed['best_mixed_q']['mean']:.4f} vs {best_q:.4f}) "
            f"| {'yes' if dominated_all else 'no'} | {', '.join(map(str, seeds))} |"
        )
    return name, rows, goals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", type=Path, help="comparison.json files")
    parser.add_argument("--out", type=Path, help="Markdown file (default: stdout)")
    args = parser.parse_args(argv)
    table = [
        "| setup | sampler | hypervolume | gain over uniform | best mixed Q (λ=1) | "
        "uniform 3..8 dominated in every seed |",
        "|---|---|---|---|---|---|",
    ]
    goals = [
        "| setup | HV gain > seed sd | HV ≥ best baseline | best mixed Q ≥ every baseline | "
        "dominates uniform 3..8 in every seed | reporting seeds |",
        "|---|---|---|---|---|---|",
    ]
    commits = set()
    for path in args.reports:
        data = json.loads(path.read_text())
        commits.add(data["provenance"]["git_commit"])
        _, rows, goal = _setup(data)
        table += rows
        goals += goal
    text = "\n".join(
        [
            f"Commits of the runs: {', '.join(sorted(commits))}",
            "",
            *goals,
            "",
            *table,
            "",
        ]
    )
    write_or_print(text, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
