"""AMED settings over many tuning seeds: the real sampler in memory, on a synthetic study.

Run: `python benchmarks/amed_seeds.py --study benchmarks/studies/r18-synthetic.toml --hardware
eyeriss --seeds 24 [--variant NAME=key:value;... ...] [--out FILE.md]`

`amed_settings.py` runs every variant as a full comparison in an SQLite storage, minutes per
variant for two seeds, and two seeds spread about as much as most differences between settings.
This script runs the studies of the same comparison plan (`plan_comparison`: the warm start, the
accuracy landscape of the first seed, `ComparisonPlan.study_spec` per seed), with the sampler of
`build_sampler` and the comparisons' objective, in Optuna's in-memory storage: a fraction of a
second per 100-trial study on a synthetic study, so a setting can be judged on 24 seeds or more.
The figures are those of the comparison on the same seeds (tested). The greedy baseline runs
the same way, from the uniform ladder enqueued first. Variants use the syntax of
`amed_settings.py` (`--variant bridged=n_flips:5;...`); the study's own `[sampler]` is the row
`study`.

Per variant, each study judged by the comparisons' own summary (`study_summary`, the uniform
allocations being the study's own trials): the final hypervolume and the best `Q` at
`--latency-weight` (default 1, the comparisons') over the non-uniform allocations, both mean ±
sample sd over the seeds, and the uniform allocations of 3..8 bits that some non-uniform trial
dominates in every seed. A SYNTHETIC study without a size limit only (a measured one would cost
the evaluator's time per trial), and tuning seeds only (below 100), like `amed_settings.py`.

`--reporting` runs on reporting seeds instead (`--first-seed` 100 or more, every seed a
reporting seed): to report a setting already chosen, against the one before it or a baseline,
on more than the two seeds of a comparison. The table then says so in its first line; no
setting may be chosen from it.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from typing import NamedTuple

import optuna


sys.path.insert(0, str(Path(__file__).resolve().parent))

from amed_settings import parse_variant  # noqa: E402

from amed_opt.app import RunOptions  # noqa: E402
from amed_opt.app import build_components  # noqa: E402
from amed_opt.app.sampler_factory import build_sampler  # noqa: E402
from amed_opt.app.study_run import enqueue_warm_start  # noqa: E402
from amed_opt.compare import plan_comparison  # noqa: E402
from amed_opt.compare._seeds import REPORTING_SEEDS_FROM  # noqa: E402
from amed_opt.compare._seeds import check_tuning_seeds  # noqa: E402
from amed_opt.compare._studies import study_summary  # noqa: E402
from amed_opt.compare._types import Point  # noqa: E402
from amed_opt.compare._types import Spread  # noqa: E402
from amed_opt.study.files import write_or_print  # noqa: E402
from amed_opt.study.naming import directions  # noqa: E402
from amed_opt.study.objective import Objective  # noqa: E402
from amed_opt.study.provenance import git_commit  # noqa: E402
from amed_opt.study.spec import AccuracyModel  # noqa: E402
from amed_opt.study.spec import SamplerName  # noqa: E402
from amed_opt.study.spec import SpecError  # noqa: E402


GOAL_BITS = (3, 4, 5, 6, 7, 8)


class SeedResult(NamedTuple):
    """One study's figures: hypervolume, best non-uniform Q, uniform bits it dominates."""

    hypervolume: float
    best_mixed_q: float
    dominated: frozenset[int]


def run_seed(spec: Any, components: Any, n_trials: int, latency_weight: float) -> SeedResult:
    """One in-memory study of `spec` (its sampler and seed), `n_trials` trials, judged as a
    comparison judges it (`study_summary`), the uniform allocations being its own trials."""
    reference = components.reference_latency_ms
    sampler = build_sampler(
        spec,
        components.space,
        reference_latency_ms=reference,
        max_size_bytes=None,
        hardware=components.hardware,
    )
    study = optuna.create_study(directions=directions(spec.objectives), sampler=sampler)
    enqueue_warm_start(study, spec, components)
    objective = Objective(
        components.evaluator, components.space, max_size_bytes=None, objectives=spec.objectives
    )
    study.optimize(objective, n_trials=n_trials, gc_after_trial=False)
    uniform = {
        next(iter(t.params.values())): Point.of_trial(t, reference)
        for t in study.trials
        if t.values is not None and len(set(t.params.values())) == 1
    }
    summary = study_summary(
        study, spec, n_trials, latency_weight, reference, (latency_weight,), uniform
    )
    dominated = frozenset(b for b, yes in summary.uniform_dominated.items() if yes)
    return SeedResult(
        summary.hv_history[-1], summary.best_mixed_q, dominated & frozenset(GOAL_BITS)
    )


def _cell(values: Sequence[float]) -> str:
    return Spread.of(values).text()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", required=True)
    parser.add_argument("--hardware")
    parser.add_argument("--n-trials", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=24)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--latency-weight", type=float, default=1.0, help="lambda of best Q")
    parser.add_argument("--variant", type=parse_variant, action="append", default=[])
    parser.add_argument("--no-greedy", action="store_true", help="leave the greedy row out")
    parser.add_argument(
        "--reporting",
        action="store_true",
        help="run on reporting seeds (>= 100) to report a chosen setting; never to choose one",
    )
    parser.add_argument("--cache-dir", type=Path, default=Path(".cache/amed-opt"))
    parser.add_argument("--out", type=Path, help="Markdown table (default: printed)")
    args = parser.parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    try:
        if args.n_trials < 1 or args.seeds < 1:
            raise SpecError("--n-trials and --seeds must be positive integers")
        if not args.reporting:
            check_tuning_seeds(seeds)
        elif seeds[0] < REPORTING_SEEDS_FROM:
            raise SpecError(
                f"--reporting needs reporting seeds: --first-seed {REPORTING_SEEDS_FROM} or more, "
                f"got {seeds[0]}"
            )
        # The comparison's own plan: its warm start and the landscape of its first seed.
        plan = plan_comparison(
            args.study,
            samplers=(SamplerName.AMED, SamplerName.GREEDY),
            n_trials=args.n_trials,
            seeds=args.seeds,
            hardware=args.hardware,
            first_seed=args.first_seed,
        )
        spec = plan.spec
        if spec.evaluator.accuracy_model is not AccuracyModel.SYNTHETIC:
            raise SpecError(f"{args.study}: a SYNTHETIC study is needed (accuracy_model)")
        if spec.search.max_size_kib > 0:
            raise SpecError(f"{args.study}: a study without search.max_size_kib is needed")
    except SpecError as error:
        print(f"amed_seeds.py: {error}", file=sys.stderr)
        return 2
    components = build_components(spec, RunOptions(cache_dir=args.cache_dir, progress=False))
    rows: list[tuple[str, dict[str, Any] | None]] = [("study", None), *args.variant]
    if not args.no_greedy:
        rows.append(("greedy", None))
    started = time.perf_counter()
    lines = [
        f"`python benchmarks/amed_seeds.py --study {args.study}"
        + (f" --hardware {args.hardware}" if args.hardware else "")
        + f" --n-trials {args.n_trials} --seeds {args.seeds} --first-seed {args.first_seed}"
        + "".join(f" --variant {name}=..." for name, _ in args.variant)
        + (" --reporting" if args.reporting else "")
        + f"` at {git_commit()}; "
        + (
            f"REPORTING seeds {seeds[0]}-{seeds[-1]}: a chosen setting reported, none chosen here"
            if args.reporting
            else f"tuning seeds {seeds[0]}-{seeds[-1]}"
        )
        + "; variants:",
        "",
        *(f"- `{name}`: {settings}" for name, settings in args.variant),
        "",
        f"| variant | hypervolume | best mixed Q (λ={args.latency_weight:g}) | "
        "uniform dominated every seed |",
        "|---|---|---|---|",
    ]
    for name, settings in rows:
        variant = plan
        if settings is not None:
            sampler = dataclasses.replace(spec.sampler, **settings)
            variant = dataclasses.replace(plan, spec=dataclasses.replace(spec, sampler=sampler))
        kind = SamplerName.GREEDY if name == "greedy" else SamplerName.AMED
        results = [
            run_seed(
                variant.study_spec(kind, seed), components, args.n_trials, args.latency_weight
            )
            for seed in seeds
        ]
        always = sorted(frozenset.intersection(*(r.dominated for r in results)))
        lines.append(
            f"| {name} | {_cell([r.hypervolume for r in results])} | "
            f"{_cell([r.best_mixed_q for r in results])} | "
            f"{', '.join(map(str, always)) or '-'} |"
        )
    lines.append("")
    lines.append(f"({time.perf_counter() - started:.0f} s)")
    write_or_print("\n".join(lines) + "\n", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
