"""Command line: `python -m amed_opt.run --study r18` (also installed as `amed-opt`).

Parses the run-time knobs, loads the study spec, hands both to `runner.run_study` and turns
errors into one line on stderr with exit code 2. Everything a study means lives in its TOML
file; the flags only override where it runs, how long, and with which sampler or hardware.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from amed_opt.cli import EXIT_INTERRUPTED
from amed_opt.cli import EXIT_USAGE
from amed_opt.cli import OneLineParser
from amed_opt.cli import one_line
from amed_opt.cli import positive_int
from amed_opt.spec import SamplerName
from amed_opt.spec import available_studies
from amed_opt.spec import load_spec
from amed_opt.spec import with_overrides


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
    parser.add_argument(
        "--storage", help="Optuna storage URL (default sqlite:///results/<study>.db)"
    )
    parser.add_argument("--seed", type=int, help="override the study's seed")
    parser.add_argument("--device", default="cpu", help="torch device: cpu (default) or cuda")
    parser.add_argument("--hardware", help="hardware preset name or preset TOML path")
    parser.add_argument("--data-root", help="dataset folder (overrides the study's data.root)")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(".cache/amed-opt"),
        help="decompressed data and trained baselines (default .cache/amed-opt)",
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=Path("results"),
        help="default database, Pareto CSV/JSON and artifacts (default results/)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.add_argument(
        "--traceback", action="store_true", help="show the full traceback on errors"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 success, 2 bad input, 130 interrupted)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    # Our progress bar and summary replace Optuna's per-trial log lines.
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # Heartbeats and metric names are "experimental" in Optuna 5; we rely on them knowingly.
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)

    from amed_opt.runner import RunOptions
    from amed_opt.runner import StorageError
    from amed_opt.runner import result_summary
    from amed_opt.runner import run_study

    try:
        spec = with_overrides(
            load_spec(args.study),
            sampler=args.sampler,
            n_trials=args.n_trials,
            storage=args.storage,
            seed=args.seed,
            hardware=args.hardware,
            data_root=args.data_root,
        )
        options = RunOptions(
            device=args.device,
            cache_dir=args.cache_dir,
            results_dir=args.results_dir,
            progress=not args.no_progress,
        )
        result = run_study(spec, options)
    except KeyboardInterrupt:
        print(f"{PROGRAM}: interrupted; run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ValueError, FileNotFoundError, StorageError) as error:
        if args.traceback:
            raise
        print(f"{PROGRAM}: error: {one_line(error)}", file=sys.stderr)
        return EXIT_USAGE
    print(result_summary(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
