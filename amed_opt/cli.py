"""Conventions shared by the command lines (`run`, `compare`, `finetune`); part of that layer.

Bad input is one line on stderr, `PROG: error: ...`, and exit code `EXIT_USAGE`; an interrupted
run says how to resume and exits with `EXIT_INTERRUPTED`. `--traceback` shows the whole error.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from pathlib import Path
from typing import NoReturn


EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class OneLineParser(argparse.ArgumentParser):
    """An `ArgumentParser` whose usage errors are one line (no usage dump) and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


DEFAULT_CACHE_DIR = Path(".cache/amed-opt")


def add_machine_arguments(parser: argparse.ArgumentParser, *, progress: bool = True) -> None:
    """The flags every command line shares: `--device`, `--cache-dir`, `--no-progress` (when
    the command shows progress bars) and `--traceback`."""
    parser.add_argument("--device", default="cpu", help="torch device: cpu (default) or cuda")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=DEFAULT_CACHE_DIR,
        help=f"decompressed data and trained baselines (default {DEFAULT_CACHE_DIR})",
    )
    if progress:
        parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.add_argument(
        "--traceback", action="store_true", help="show the full traceback on errors"
    )


def objective_list(text: str) -> tuple[str, ...]:
    """argparse type: comma-separated objective names (`accuracy,latency_ms,energy_uj`)."""
    names = tuple(name.strip() for name in text.split(","))
    if not all(names):
        raise argparse.ArgumentTypeError(f"must be comma-separated names, got {text!r}")
    return names


def add_objectives_argument(parser: argparse.ArgumentParser) -> None:
    """`--objectives`: the study's objectives (checked against `search.objectives`' rules)."""
    parser.add_argument(
        "--objectives",
        type=objective_list,
        help="the study's objectives: accuracy,latency_ms (default) or "
        "accuracy,latency_ms,energy_uj (energy per inference, minimized)",
    )


def positive_int(text: str) -> int:
    """argparse type: an integer > 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def one_line(error: BaseException) -> str:
    """The error's message on one line (its type name when the message is empty)."""
    return " ".join(str(error).split()) or type(error).__name__


def configure_logging() -> None:
    """Log lines as plain messages; Optuna's per-trial lines and experimental warnings off.

    Our progress bars and summaries replace Optuna's per-trial log lines; heartbeats and metric
    names are "experimental" in Optuna 5, and we rely on them knowingly.
    """
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def report_error(program: str, error: BaseException) -> int:
    """Print `error` as one line on stderr; returns `EXIT_USAGE`."""
    print(f"{program}: error: {one_line(error)}", file=sys.stderr)
    return EXIT_USAGE


def report_interrupted(program: str) -> int:
    """Say how to resume on stderr; returns `EXIT_INTERRUPTED`."""
    print(f"{program}: interrupted; run the same command again to resume", file=sys.stderr)
    return EXIT_INTERRUPTED
