"""Conventions shared by the command lines (`run`, `compare`, `finetune`).

Bad input is one line on stderr, `PROG: error: ...`, and exit code `EXIT_USAGE`; an interrupted
run says how to resume and exits with `EXIT_INTERRUPTED`.
"""

from __future__ import annotations

import argparse
from typing import NoReturn


EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class OneLineParser(argparse.ArgumentParser):
    """An `ArgumentParser` whose usage errors are one line (no usage dump) and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


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
