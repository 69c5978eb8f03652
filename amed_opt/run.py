"""Command line: `python -m amed_opt.run --study r18` (also installed as `amed-opt`).

Parses the run-time knobs, loads the study spec, hands both to `amed_opt.app.run_study` (the
composition root) and turns errors into one line on stderr with the exit codes of `amed_opt.cli`
(2 bad input, 1 the run failed, 130 interrupted). Everything a study
means lives in its TOML file; the flags only override where it runs, how long, and with which
sampler or hardware.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from amed_opt.cli import OneLineParser
from amed_opt.cli import add_machine_arguments
from amed_opt.cli import add_objectives_argument
from amed_opt.cli import add_storage_argument
from amed_opt.cli import configure_logging
from amed_opt.cli import positive_int
from amed_opt.cli import run_guarded
from amed_opt.cli import seed_int
from amed_opt.study.spec import SamplerName
from amed_opt.study.spec import available_studies
from amed_opt.study.spec import load_spec
from amed_opt.study.spec import with_overrides


PROGRAM = "amed-opt"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for the docs and tests)."""
    studies = ", ".join(available_studies())
    parser = OneLineParser(
        prog=PROGRAM,
        description="Search per-layer bitwidths of a CNN for an accelerator (AMED on Optuna).",
    )
    parser.add_argument(
        "--study", required=True, help=f"study name from studies/ ({studies}) or a .toml path"
    )
    parser.add_argument(
        "--sampler",
        choices=[member.value for member in SamplerName],
        help="override the study's sampler (amed is the Metropolis-Hastings chain)",
    )
    parser.add_argument(
        "--n-trials", type=positive_int, help="trial budget (total, a resumed run tops up)"
    )
    add_storage_argument(parser, "sqlite:///results/<study>.db")
    parser.add_argument("--seed", type=seed_int, help="override the study's seed")
    parser.add_argument("--hardware", help="hardware preset name or preset TOML path")
    parser.add_argument("--data-root", help="dataset folder (overrides the study's data.root)")
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=Path("results"),
        help="default database, Pareto CSV/JSON and artifacts (default results/)",
    )
    add_objectives_argument(parser)
    add_machine_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 success, 2 bad input, 1 failed, 130 interrupted)."""
    args = build_parser().parse_args(argv)
    configure_logging()
    return run_guarded(PROGRAM, lambda: _run(args), traceback=args.traceback, storage=args.storage)


def _run(args: argparse.Namespace) -> int:
    from amed_opt.app import RunOptions
    from amed_opt.app import result_summary
    from amed_opt.app import run_study

    spec = with_overrides(
        load_spec(args.study),
        sampler=args.sampler,
        n_trials=args.n_trials,
        storage=args.storage,
        seed=args.seed,
        hardware=args.hardware,
        data_root=args.data_root,
        objectives=args.objectives,
    )
    options = RunOptions(
        device=args.device,
        cache_dir=args.cache_dir,
        results_dir=args.results_dir,
        progress=not args.no_progress,
    )
    result = run_study(spec, options)
    print(result_summary(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
