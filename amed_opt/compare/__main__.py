"""Command line: `python -m amed_opt.compare --study r18 --samplers amed,tpe,nsga2,random`.

Follows `amed_opt.run`'s conventions: bad input is one line on stderr and exit code 2, an
interrupted run says how to resume and exits with 130, `--traceback` shows the full error.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

from amed_opt.cli import EXIT_INTERRUPTED
from amed_opt.cli import EXIT_USAGE
from amed_opt.cli import OneLineParser
from amed_opt.cli import one_line
from amed_opt.cli import positive_int
from amed_opt.spec import EvaluatorMode
from amed_opt.spec import SamplerName
from amed_opt.spec import SpecError
from amed_opt.spec import available_studies


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
        description="Compare the AMED sampler with Optuna's TPE, NSGA-II and random search.",
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
        "--evaluator",
        choices=[member.value for member in EvaluatorMode],
        help="override the study's evaluator mode",
    )
    parser.add_argument("--hardware", help="hardware preset name or preset TOML path")
    parser.add_argument(
        "--storage", help="Optuna storage URL (default sqlite:///results/compare/<study>.db)"
    )
    parser.add_argument(
        "--out", type=Path, help="report folder (default results/compare/<label>/)"
    )
    parser.add_argument("--device", default="cpu", help="torch device: cpu (default) or cuda")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(".cache/amed-opt"),
        help="decompressed data and trained baselines (default .cache/amed-opt)",
    )
    parser.add_argument(
        "--latency-weight",
        type=_weight,
        default=1.0,
        help="lambda of the quality score Q the report ranks by (default 1)",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="rebuild the report from the storage without running trials",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.add_argument(
        "--traceback", action="store_true", help="show the full traceback on errors"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 success, 2 bad input, 130 interrupted)."""
    args = build_parser().parse_args(argv)
    command = "python -m amed_opt.compare " + shlex.join(
        list(argv) if argv is not None else sys.argv[1:]
    )
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)

    from amed_opt.compare import analyse_comparison
    from amed_opt.compare import parse_samplers
    from amed_opt.compare import plan_comparison
    from amed_opt.compare import run_comparison
    from amed_opt.compare import write_outputs
    from amed_opt.compare._report import Provenance
    from amed_opt.compare._report import machine_description
    from amed_opt.compare._report import now_utc
    from amed_opt.runner import RunOptions
    from amed_opt.runner import StorageError
    from amed_opt.runner import check_storage_url
    from amed_opt.runner import git_commit
    from amed_opt.runner import open_storage

    started = time.perf_counter()
    try:
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
        )
        trials_run = hits = misses = 0
        if args.report_only:
            check_storage_url(plan.storage_url)
            if _missing_sqlite_file(plan.storage_url):
                raise StorageError(
                    f"storage {plan.storage_url!r} does not exist; run the comparison first "
                    "(without --report-only)"
                )
            storage = open_storage(plan.storage_url)
        else:
            options = RunOptions(
                device=args.device, cache_dir=args.cache_dir, progress=not args.no_progress
            )
            run = run_comparison(plan, options)
            trials_run = sum(s.trials_run for s in run.studies) + run.uniform_trials_run
            hits, misses = run.memo_hits, run.memo_misses
            storage = open_storage(plan.storage_url)
        analysis = analyse_comparison(plan, storage)
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
    except KeyboardInterrupt:
        print(f"{PROGRAM}: interrupted; run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ValueError, FileNotFoundError, StorageError, SpecError) as error:
        if args.traceback:
            raise
        print(f"{PROGRAM}: error: {one_line(error)}", file=sys.stderr)
        return EXIT_USAGE
    print(f"Report: {paths['report']}")
    for line in _verdict_lines(paths["json"]):
        print(f"  {line}")
    return 0


def _missing_sqlite_file(url: str) -> bool:
    import sqlalchemy

    parsed = sqlalchemy.engine.make_url(url)
    return parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file()


def _verdict_lines(json_path: Path) -> list[str]:
    import json

    return list(json.loads(json_path.read_text()).get("verdict", []))


if __name__ == "__main__":
    sys.exit(main())
