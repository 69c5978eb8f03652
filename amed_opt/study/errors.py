"""The one error class that means "the work failed", as opposed to "the input is wrong".

Bad input found before any work starts is a `ValueError` (`SpecError`), `FileNotFoundError`,
`KeyError` or `StorageError`, and the command lines exit with 2. A failure during the work (too
many evaluator failures in a row, a diverging baseline, the storage or the disk failing mid-run)
is a `RunFailure`, and they exit with 1; `amed_opt.cli.exit_code` holds the mapping.
"""

from __future__ import annotations


__all__ = ["RunFailure"]


class RunFailure(RuntimeError):
    """The work started and failed; the message says what failed and how to go on (usually:
    fix the cause and run the same command again, which resumes)."""
