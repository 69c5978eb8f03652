"""Conventions shared by the command lines (`run`, `compare`, `finetune`); part of that layer.

Exit codes (docs/errors.md): `EXIT_USAGE` (2) when something the user passed or pointed to is
wrong, found before the work starts (arguments, study and preset files, datasets, a storage that
is unreachable or unusable); `EXIT_FAILURE` (1) when the work fails (`RunFailure`, the disk or the
database server failing mid-run); `EXIT_INTERRUPTED` (130) on Ctrl-C, with how to resume. Either
error is one line on stderr, `PROG: error: ...`, naming the problem and the fix, and never a
password; `--traceback` shows the whole error. `run_guarded` applies all of this.

`--storage` defaults to the environment variable `AMED_OPT_STORAGE`, so a URL with a password
need not appear in argv or the shell history (`add_storage_argument`).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from collections.abc import Callable
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from typing import NoReturn

from amed_opt.study.errors import RunFailure
from amed_opt.study.urls import STORAGE_ENV
from amed_opt.study.urls import error_reason


if TYPE_CHECKING:
    from amed_opt.study.storage import StorageTimings


EXIT_FAILURE = 1
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


TIMING_ENV = {
    "heartbeat_interval_s": "AMED_OPT_HEARTBEAT_INTERVAL_S",
    "grace_period_s": "AMED_OPT_GRACE_PERIOD_S",
    "sqlite_timeout_s": "AMED_OPT_SQLITE_TIMEOUT_S",
}
"""Environment variables that shorten the storage's waits (the multi-worker fault tests kill
workers and cannot wait the default 20 s grace); unset, the defaults hold."""


def storage_timings_from(environ: Mapping[str, str]) -> StorageTimings:
    """The storage timings, with those set in `environ` (`TIMING_ENV`) replaced.

    Raises:
        ValueError: If a set value is not a positive number (the message names the variable).
    """
    from amed_opt.study.storage import StorageTimings

    chosen: dict[str, float] = {}
    for field, variable in TIMING_ENV.items():
        text = environ.get(variable)
        if not text:
            continue
        try:
            chosen[field] = float(text) if field == "sqlite_timeout_s" else int(text)
        except ValueError:
            raise ValueError(f"{variable} must be a number, got {text!r}") from None
    return StorageTimings(**chosen)  # type: ignore[arg-type]


def add_trial_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments that name one finished trial of a stored study (finetune, export):
    `--study`, `--trial`, `--sampler`, `--seed`, `--storage` and `--results-dir`."""
    parser.add_argument("--study", required=True, help="study name or .toml path")
    parser.add_argument(
        "--trial", required=True, type=non_negative_int, help="trial number in the study"
    )
    parser.add_argument("--sampler", help="the sampler the study was run with (default: spec)")
    parser.add_argument("--seed", type=seed_int, help="the seed the study was run with")
    add_storage_argument(parser, "the study's")
    parser.add_argument(
        "--results-dir", type=Path, default=Path("results"), help="where the default study is"
    )


def add_storage_argument(parser: argparse.ArgumentParser, default_help: str) -> None:
    """`--storage URL`, defaulting to `$AMED_OPT_STORAGE` when that is set and not empty.

    Args:
        parser: The command's parser.
        default_help: What the storage is when neither is given (e.g. "sqlite:///results/<study>.db").
    """
    parser.add_argument(
        "--storage",
        default=os.environ.get(STORAGE_ENV) or None,
        help=f"Optuna storage URL (default ${STORAGE_ENV}, else {default_help}); put a URL "
        f"with a password in ${STORAGE_ENV}",
    )


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {value}")
    return value


MAX_SEED = 2**32 - 1
"""The largest seed (numpy's and torch's generators take 32-bit seeds)."""


def seed_int(text: str) -> int:
    """argparse type: a seed, an integer in [0, 2**32 - 1]."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer seed, got {text!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be in [0, {MAX_SEED}], got {value}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer > 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def worker_device(device: str, index: int, gpu_count: int) -> str:
    """The torch device of local worker `index` when several share one machine.

    `cuda` spreads the workers over the `gpu_count` visible GPUs: worker `i` gets
    `cuda:(i mod gpu_count)`. Anything else is kept as given: `cpu`, an explicit `cuda:K` (every
    worker on that GPU), and `cuda` when no GPU is visible (the worker then fails with the usual
    line).
    """
    if device == "cuda" and gpu_count > 0:
        return f"cuda:{index % gpu_count}"
    return device


def visible_gpu_count(device: str) -> int:
    """How many GPUs `worker_device` spreads `device`'s workers over (0 unless it is `cuda`)."""
    if device != "cuda":
        return 0
    import torch

    return int(torch.cuda.device_count())


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


def exit_code(error: BaseException) -> int | None:
    """The exit code of an error reaching a command line, or None for a bug (shown in full).

    `RunFailure`, and an `OSError` or database error other than a missing file (disk full, a
    folder turned read-only, the server lost mid-run), failed the work: `EXIT_FAILURE`. Bad
    input (`ValueError`, `KeyError`, a missing file, `StorageError`, all raised by the checks
    that run before the work starts) is `EXIT_USAGE`.
    """
    from amed_opt.study.storage import StorageError

    if isinstance(error, RunFailure):
        return EXIT_FAILURE
    usage = (ValueError, KeyError, FileNotFoundError, NotADirectoryError, IsADirectoryError)
    if isinstance(error, (*usage, StorageError)):
        return EXIT_USAGE
    if isinstance(error, OSError):
        return EXIT_FAILURE
    import optuna
    import sqlalchemy

    if isinstance(error, sqlalchemy.exc.SQLAlchemyError | optuna.exceptions.StorageInternalError):
        return EXIT_FAILURE
    return None


def run_guarded(
    program: str, work: Callable[[], int], *, traceback: bool, storage: str | None = None
) -> int:
    """Run `work()` and turn what it raises into one line on stderr and an exit code.

    Args:
        program: The command's name, starting the line.
        work: The command's body; returns its exit code.
        traceback: Re-raise instead (`--traceback`).
        storage: The storage URL in use: its password is removed from the line if it appears.

    Returns:
        `work()`'s code, or `exit_code(error)`, or `EXIT_INTERRUPTED` after Ctrl-C.
    """
    try:
        return work()
    except KeyboardInterrupt:
        return report_interrupted(program)
    except Exception as error:
        code = exit_code(error)
        if code is None or traceback:
            raise
        return report_error(program, error, code=code, storage=storage)


def report_error(
    program: str, error: BaseException, *, code: int = EXIT_USAGE, storage: str | None = None
) -> int:
    """Print `error` as one line on stderr (never `storage`'s password); returns `code`."""
    # KeyError quotes its message; the line should not.
    if isinstance(error, KeyError) and error.args:
        error = ValueError(str(error.args[0]))
    line = one_line(error)
    if storage:
        line = error_reason(ValueError(line), storage)
    print(f"{program}: error: {line}", file=sys.stderr)
    return code


def report_interrupted(program: str) -> int:
    """Say how to resume on stderr; returns `EXIT_INTERRUPTED`."""
    print(f"{program}: interrupted; run the same command again to resume", file=sys.stderr)
    return EXIT_INTERRUPTED
