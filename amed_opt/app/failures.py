"""Trial failures during a run: counted, logged as one line each, and stopping the run when too
many come in a row.

The objective fails a trial whose evaluation raised or gave a NaN metric (`TrialFailure`, with
the reason in the `fail_reason` user attribute); the run loop lets Optuna mark it FAIL and goes
on. `FailureGuard` is the loop's callback that stops the study after `limit` consecutive
failures, so a deterministic failure does not repeat forever; the run then ends with a
`RunFailure` (exit code 1) naming what failed.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import optuna
from optuna.trial import TrialState

from amed_opt.study.errors import RunFailure
from amed_opt.study.objective import FAIL_REASON_ATTR
from amed_opt.study.objective import TrialFailure


logger = logging.getLogger(__name__)

DEFAULT_MAX_CONSECUTIVE_FAILURES = 3
"""Failed trials in a row after which a run stops with exit code 1."""


class FailureGuard:
    """An Optuna callback counting consecutive trials that failed during evaluation.

    Args:
        limit: Consecutive failures that stop the study (>= 1).
    """

    def __init__(self, limit: int = DEFAULT_MAX_CONSECUTIVE_FAILURES) -> None:
        if limit < 1:
            raise ValueError(f"the failure limit must be >= 1, got {limit}")
        self.limit = limit
        self.consecutive = 0
        self.failed = 0
        self.last_reason = ""
        self.last_trial = -1

    @property
    def tripped(self) -> bool:
        """Whether `limit` trials failed in a row."""
        return self.consecutive >= self.limit

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        reason = trial.user_attrs.get(FAIL_REASON_ATTR)
        if trial.state == TrialState.FAIL and reason is not None:
            self.consecutive += 1
            self.failed += 1
            self.last_reason, self.last_trial = str(reason), trial.number
            logger.warning("trial %d failed: %s", trial.number, reason)
            if self.tripped:
                study.stop()
        elif trial.state == TrialState.COMPLETE:
            self.consecutive = 0

    def failure(self) -> RunFailure:
        """The error that ends a run stopped by this guard."""
        return RunFailure(
            f"{self.consecutive} trials failed in a row (last: trial {self.last_trial}: "
            f"{self.last_reason}); fix the cause and run the same command to resume"
        )


class _WithoutTrialFailures(logging.Filter):
    """Drops Optuna's own warnings (one with a traceback, then "failed with value None") for a
    trial failed by `TrialFailure`; `FailureGuard` logs it as one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], TrialFailure):
            return False
        return "failed with value None" not in record.getMessage()


@contextlib.contextmanager
def quiet_trial_failures() -> Iterator[None]:
    """While active, Optuna does not log tracebacks of trials failed by `TrialFailure`."""
    optimize_logger = logging.getLogger("optuna.study._optimize")
    quiet = _WithoutTrialFailures()
    optimize_logger.addFilter(quiet)
    try:
        yield
    finally:
        optimize_logger.removeFilter(quiet)
