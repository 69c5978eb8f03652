"""What each AMED setting does: a sweep of `[sampler]` settings against the baselines.

Run: `python benchmarks/amed_settings.py --study tests/data/synthetic_study.toml --n-trials 150
--seeds 3 [--variant NAME=key:value;key:value ...] [--out benchmarks/results/FILE.md]`

Every variant is the study with its `[sampler]` section replaced (the keys of `SamplerSpec`:
`latency_weights` as comma-separated numbers, `n_flips`, `boundary` (forced or lazy), `start`
(highest-uniform, best-uniform or best-bridged), `layer_choice` (uniform or cost), `chain_weights`
(fixed or uniform-front), `transfer_share`, `small_move_share`, `temperature`, `min_temperature`,
`annealing`, `accuracy_threshold`, `penalty_slope`), run as an AMED-only comparison
(`amed_opt.compare`) with the same budget and seeds; the baselines (TPE, NSGA-II, random, greedy)
run once. The table gives, per variant, the final hypervolume and best `Q` (mean ± sd over seeds),
the uniform allocations it dominates in every seed, its acceptance rates and how low in latency its
chain heads got. Without `--variant`, the built-in grid below runs; it changes one thing at a time
from the paper's sampler (one chain, `lambda = 1`, one layer per proposal, `T = 0.01`).

Use a study with the SYNTHETIC accuracy model for the full grid (seconds per variant); a
measured study costs the evaluator's time per new allocation.

The sweep tunes, so it runs on tuning seeds only: `--first-seed` (default: the study's seed)
and the seeds after it must stay below `amed_opt.compare._seeds.REPORTING_SEEDS_FROM` (100); it
refuses reporting seeds with exit code 2, so that a shipped setting is never chosen on the seeds
its results are reported on. `--warm-start` is the comparison's (default `ladder`: every variant
and baseline starts from the uniform ladder, so a variant's `start` is overridden to
`best-uniform` unless it is `best-bridged`, which starts from the ladder too; use `none` to
sweep `start`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import optuna

from amed_opt.app import RunOptions
from amed_opt.compare import analyse_comparison
from amed_opt.compare import json_ready
from amed_opt.compare import plan_comparison
from amed_opt.compare import run_comparison
from amed_opt.compare._analysis import Analysis
from amed_opt.compare._analysis import Spread
from amed_opt.compare._seeds import check_tuning_seeds
from amed_opt.study.provenance import git_commit
from amed_opt.study.spec import ChainStart
from amed_opt.study.spec import ChainWeights
from amed_opt.study.spec import LayerChoice
from amed_opt.study.spec import ProposalBoundary
from amed_opt.study.spec import SamplerName
from amed_opt.study.spec import SamplerSpec
from amed_opt.study.spec import SmallMoveOrder
from amed_opt.study.spec import SpecError
from amed_opt.study.storage import open_storage


GRID: dict[str, dict[str, Any]] = {
    "paper": {"latency_weights": (1.0,), "n_flips": 1},
    "k3": {"latency_weights": (1.0,), "n_flips": 3},
    "k5": {"latency_weights": (1.0,), "n_flips": 5},
    "k9": {"latency_weights": (1.0,), "n_flips": 9},
    "chains4": {"latency_weights": (0.25, 0.5, 1.0, 2.0), "n_flips": 1},
    "chains4-k5": {"latency_weights": (0.25, 0.5, 1.0, 2.0), "n_flips": 5},
    "chains3-k5": {"latency_weights": (0.5, 1.0, 2.0), "n_flips": 5},
    "chains3-k5-anneal": {
        "latency_weights": (0.5, 1.0, 2.0),
        "n_flips": 5,
        "temperature": 0.05,
        "annealing": 0.95,
        "min_temperature": 0.002,
    },
    "chains3-k5-T0.002": {"latency_weights": (0.5, 1.0, 2.0), "n_flips": 5, "temperature": 0.002},
}
"""Built-in variants: one change at a time from the paper's single chain."""


def parse_variant(text: str) -> tuple[str, dict[str, Any]]:
    """`"name=n_flips:5;latency_weights:0.5,2"` → `("name", {...})`."""
    name, _, body = text.partition("=")
    if not name or not body:
        raise argparse.ArgumentTypeError(f"variant must be NAME=key:value;..., got {text!r}")
    fields = {f.name: f for f in dataclasses.fields(SamplerSpec)}
    settings: dict[str, Any] = {}
    for item in body.split(";"):
        key, _, value = item.partition(":")
        if key not in fields or key == "name":
            raise argparse.ArgumentTypeError(f"unknown sampler setting {key!r} in {text!r}")
        if key == "latency_weights":
            settings[key] = tuple(float(v) for v in value.split(","))
        elif key == "n_flips":
            settings[key] = int(value)
        elif key == "boundary":
            settings[key] = ProposalBoundary(value)
        elif key == "start":
            settings[key] = ChainStart(value)
        elif key == "layer_choice":
            settings[key] = LayerChoice(value)
        elif key == "chain_weights":
            settings[key] = ChainWeights(value)
        elif key == "small_move_order":
            settings[key] = SmallMoveOrder(value)
        else:
            settings[key] = float(value)
    return name, settings


def _cell(spread: Spread) -> str:
    return "n/a" if not math.isfinite(spread.mean) else f"{spread.mean:.4f} ± {spread.std:.4f}"


def _row(name: str, settings: dict[str, Any] | None, analysis: Analysis, sampler: str) -> dict:
    summary = analysis.sampler(sampler)
    assert summary is not None
    studies = [s for s in analysis.studies if s.sampler == sampler]
    rates = [c.acceptance_rate for s in studies for c in s.chains if c.moves]
    heads = [row[3] for s in studies for c in s.chains for row in c.trace]
    n_seeds = len(summary.seeds)
    always = [b for b, n in sorted(summary.uniform_dominated.items()) if n == n_seeds and n]
    return {
        "variant": name,
        "settings": json_ready(settings or {}),
        "hypervolume": dataclasses.asdict(summary.hv),
        "best_q": dataclasses.asdict(summary.best_q),
        "uniform_dominated_every_seed": always,
        "acceptance": [min(rates), max(rates)] if rates else None,
        "lowest_head_latency": min(heads) if heads else None,
        "front_lowest_latency": min(
            (p.latency for s in studies for p in s.front), default=math.nan
        ),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", required=True)
    parser.add_argument("--n-trials", type=int, default=150)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--hardware")
    parser.add_argument("--first-seed", type=int, help="first tuning seed (default: the study's)")
    parser.add_argument("--warm-start", choices=["ladder", "none"], default="ladder")
    parser.add_argument("--variant", type=parse_variant, action="append", default=[])
    parser.add_argument("--storage", help="default: a temporary SQLite file")
    parser.add_argument("--cache-dir", type=Path, default=Path(".cache/amed-opt"))
    parser.add_argument("--out", type=Path, help="Markdown table (and .json beside it)")
    args = parser.parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    variants = dict(args.variant) if args.variant else GRID
    options = RunOptions(cache_dir=args.cache_dir, progress=False)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        storage = args.storage or f"sqlite:///{Path(scratch) / 'sweep.db'}"
        common = {
            "n_trials": args.n_trials,
            "seeds": args.seeds,
            "hardware": args.hardware,
            "storage": storage,
            "out": Path(scratch) / "out",
            "first_seed": args.first_seed,
            "warm_start": args.warm_start,
        }
        baselines = plan_comparison(
            args.study,
            samplers=(SamplerName.TPE, SamplerName.NSGA2, SamplerName.RANDOM, SamplerName.GREEDY),
            **common,
        )
        try:
            check_tuning_seeds(baselines.seeds)
        except SpecError as error:
            print(f"amed_settings.py: {error}", file=sys.stderr)
            return 2
        run_comparison(baselines, options)
        base = analyse_comparison(baselines, open_storage(storage))
        rows = [_row(s.sampler, None, base, s.sampler) for s in base.samplers]
        for name, settings in variants.items():
            plan = plan_comparison(args.study, samplers=(SamplerName.AMED,), **common)
            label = f"{plan.label}-{name}"
            spec = dataclasses.replace(
                plan.spec,
                name=label,
                sampler=dataclasses.replace(plan.spec.sampler, **settings),
            )
            plan = dataclasses.replace(plan, label=label, spec=spec)
            run_comparison(plan, options)
            analysis = analyse_comparison(plan, open_storage(storage))
            rows.append(_row(name, settings, analysis, "amed"))
            print(json.dumps(rows[-1]))
    elapsed = time.perf_counter() - started
    header = (
        f"`{args.study}`{' on ' + args.hardware if args.hardware else ''}, {args.n_trials} "
        f"trials, tuning seeds {', '.join(map(str, baselines.seeds))}, warm start "
        f"{args.warm_start}, commit `{git_commit()}`, {elapsed:.0f} s"
    )
    lines = [
        header,
        "",
        "| sampler / variant | settings | hypervolume | best Q (λ=1) | uniform dominated "
        "(every seed) | acceptance | lowest head latency | lowest front latency |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        settings = "; ".join(f"{k}={v}" for k, v in row["settings"].items()) or "pinned"
        acceptance = (
            f"{row['acceptance'][0]:.2f}–{row['acceptance'][1]:.2f}" if row["acceptance"] else ""
        )
        head = row["lowest_head_latency"]
        lines.append(
            f"| {row['variant']} | {settings} | {_cell(Spread(**row['hypervolume']))} | "
            f"{_cell(Spread(**row['best_q']))} | "
            f"{', '.join(map(str, row['uniform_dominated_every_seed'])) or '-'} | {acceptance} | "
            f"{'' if head is None else f'{head:.3f}'} | {row['front_lowest_latency']:.3f} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        document = {"header": header, "rows": rows}
        args.out.with_suffix(".json").write_text(json.dumps(json_ready(document), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
