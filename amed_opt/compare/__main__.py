"""Command line: `python -m amed_opt.compare --study r18 --samplers amed,tpe,nsga2,random`.

Follows the conventions of `amed_opt.cli`: bad input is one line on stderr and exit code 2, a
failed run exit code 1, an interrupted one says how to resume and exits with 130, `--traceback`
shows the full error. `--report-only` only reads the storage.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from amed_opt.cli import OneLineParser
from amed_opt.cli import add_machine_arguments
from amed_opt.cli import add_objectives_argument
from amed_opt.cli import add_storage_argument
from amed_opt.cli import configure_logging
from amed_opt.cli import non_negative_int
from amed_opt.cli import positive_int
from amed_opt.cli import run_guarded
from amed_opt.study.spec import EvaluatorMode
from amed_opt.study.spec import SamplerName
from amed_opt.study.spec import available_studies
from amed_opt.study.urls import redact_url


PROGRAM = "amed-opt compare"


def _weight(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for the docs and tests)."""
    samplers = ",".join(member.value for member in SamplerName)
    parser = OneLineParser(
        prog=PROGRAM,
        description="Compare the AMED sampler with Optuna's TPE, NSGA-II, random search and a "
        "greedy baseline.",
    )
    parser.add_argument(
        "--study",
        required=True,
        help=f"study name from studies/ ({', '.join(available_studies())}) or a .toml path",
    )
    parser.add_argument(
        "--samplers", default=samplers, help=f"comma-separated samplers (default {samplers})"
    )
    parser.add_argument(
        "--n-trials", type=positive_int, help="finished trials per study (default: the study's)"
    )
    parser.add_argument(
        "--seeds", type=positive_int, default=3, help="seeds per sampler (default 3)"
    )
    parser.add_argument(
        "--first-seed",
        type=non_negative_int,
        help="first sampler seed (default: the study's); seeds >= 100 are reporting seeds, "
        "on which no setting was tuned",
    )
    parser.add_argument(
        "--warm-start",
        choices=["ladder", "none"],
        default="ladder",
        help="ladder (default): every sampler starts with the uniform allocations 8..2 bits, "
        "counted in its budget; none: only uniform 8 bits, AMED as its study says",
    )
    parser.add_argument(
        "--evaluator",
        choices=[member.value for member in EvaluatorMode],
        help="override the study's evaluator mode",
    )
    parser.add_argument("--hardware", help="hardware preset name or preset TOML path")
    add_storage_argument(parser, "sqlite:///results/compare/<study>.db")
    parser.add_argument(
        "--out", type=Path, help="report folder (default results/compare/<label>/)"
    )
    parser.add_argument(
        "--latency-weight",
        type=_weight,
        default=1.0,
        help="lambda of the quality score Q the report ranks by (default 1)",
    )
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        help="studies run at once, each by one worker process (default 1); with --device cuda "
        "worker i runs on GPU i mod the visible GPUs",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="rebuild the report from the storage without running trials",
    )
    add_objectives_argument(parser)
    add_machine_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 success, 2 bad input, 1 failed, 130 interrupted)."""
    args = build_parser().parse_args(argv)
    words = list(argv) if argv is not None else sys.argv[1:]
    # The command is recorded in the report: never with a password.
    command = "python -m amed_opt.compare " + shlex.join(redact_url(word) for word in words)
    configure_logging()
    return run_guarded(
        PROGRAM, lambda: _compare(args, command), traceback=args.traceback, storage=args.storage
    )


def _compare(args: argparse.Namespace, command: str) -> int:
    from amed_opt.app import RunOptions
    from amed_opt.compare import Provenance
    from amed_opt.compare import analyse_comparison
    from amed_opt.compare import parse_samplers
    from amed_opt.compare import plan_comparison
    from amed_opt.compare import run_comparison
    from amed_opt.compare import write_outputs
    from amed_opt.compare._provenance import machine_description
    from amed_opt.study.provenance import git_commit
    from amed_opt.study.provenance import now_utc
    from amed_opt.study.storage import close_storage
    from amed_opt.study.storage import open_existing_storage
    from amed_opt.study.storage import open_storage

    started = time.perf_counter()
    plan = plan_comparison(
        args.study,
        samplers=parse_samplers(args.samplers),
        n_trials=args.n_trials,
        seeds=args.seeds,
        evaluator=args.evaluator,
        hardware=args.hardware,
        storage=args.storage,
        out=args.out,
        latency_weight=args.latency_weight,
        objectives=args.objectives,
        warm_start=args.warm_start,
        first_seed=args.first_seed,
    )
    trials_run = hits = misses = 0
    if args.report_only:
        storage = open_existing_storage(
            plan.storage_url, hint="run the comparison first (without --report-only)"
        )
    else:
        options = RunOptions(
            device=args.device, cache_dir=args.cache_dir, progress=not args.no_progress
        )
        run = run_comparison(plan, options, workers=args.workers)
        trials_run = sum(s.trials_run for s in run.studies) + run.uniform_trials_run
        hits, misses = run.memo_hits, run.memo_misses
        storage = open_storage(plan.storage_url)
    try:
        analysis = analyse_comparison(plan, storage)
    finally:
        close_storage(storage)
    provenance = Provenance(
        command=command,
        git_commit=git_commit(),
        machine=machine_description(args.device),
        wall_seconds=time.perf_counter() - started,
        trials_run=trials_run,
        memo_hits=hits,
        memo_misses=misses,
        generated=now_utc(),
    )
    paths = write_outputs(analysis, plan, provenance, plan.out_dir)
    print(f"Report: {paths['report']}")
    for line in _verdict_lines(paths["json"]):
        print(f"  {line}")
    return 0


def _verdict_lines(json_path: Path) -> list[str]:
    import json

    return list(json.loads(json_path.read_text()).get("verdict", []))


if __name__ == "__main__":
    sys.exit(main())
