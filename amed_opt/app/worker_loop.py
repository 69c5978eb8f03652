"""One worker's optimisation loop: trials until the *study's* budget is met.

Any number of processes may run this loop on one study. The budget is the study's: a worker
starts a trial only while `finished + running < n_trials` (finished: COMPLETE or PRUNED), read
from the storage just before the trial starts, so the study ends with `n_trials` finished
trials, plus at most `workers - 1` when several workers pass that check at the same instant.
A worker whose check fails waits: a running trial may still fail (a killed worker's trial is
failed by the heartbeat check, which this loop also runs), and then a worker takes its place.
When the budget is met, a worker still waits for the study's RUNNING trials to end (finish or
be failed as stale), so that no trial is left RUNNING by the last worker to stop.

Two storage failures are handled here rather than crashing the worker: a trial that another
worker failed while this one was stopped (its heartbeat lapsed; the late result is dropped with
a warning), and a storage locked by another process past the busy timeout (retried
`LOCK_RETRIES` times, then one clear error).
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import time
import warnings
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

import optuna
from optuna.trial import TrialState

from amed_opt.samplers import ParamChecks
from amed_opt.samplers import count_trials
from amed_opt.samplers import prefill_params
from amed_opt.samplers._workers import fail_silent_trials
from amed_opt.samplers._workers import heartbeatless_trials
from amed_opt.study.storage import DEFAULT_TIMINGS
from amed_opt.study.storage import StorageError
from amed_opt.study.storage import StorageTimings


__all__ = ["LOCK_RETRIES", "WAIT_S", "run_to_budget"]

logger = logging.getLogger(__name__)

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
LOCK_RETRIES = 3
"""Times a worker retries after the storage stayed locked past its busy timeout."""
WAIT_S = 0.5
"""Seconds between two looks at the study while the budget is taken by running trials."""


def _counts(study: optuna.Study) -> tuple[int, int]:
    """The study's finished and running trials: one count query where the storage is an RDB
    one (`count_trials`), else through Optuna's cache."""
    by_state = count_trials(study._storage, study._study_id)
    if by_state is not None:
        finished = sum(by_state.get(state, 0) for state in FINISHED)
        return finished, by_state.get(TrialState.RUNNING, 0)
    trials = study.get_trials(deepcopy=False, states=(*FINISHED, TrialState.RUNNING))
    finished = sum(trial.state in FINISHED for trial in trials)
    return finished, len(trials) - finished


def _fail_stale(study: optuna.Study, timings: StorageTimings) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    _fail_silent(study, timings)


def _fail_silent(study: optuna.Study, timings: StorageTimings) -> None:
    """Fail RUNNING trials that never recorded a heartbeat, past the grace period
    (`fail_silent_trials`)."""
    fail_silent_trials(study, timings.grace_period_s)


def _fail_interrupted(study: optuna.Study, trial_id: int | None, since: datetime.datetime) -> None:
    """On Ctrl-C, fail this worker's trial: the one its objective runs, or one it was creating
    (Optuna creates the trial and then asks the sampler outside the block that fails interrupted
    trials, so an interrupt there would leave it RUNNING until a later run's stale check)."""
    with contextlib.suppress(Exception):
        ids = [] if trial_id is None else [trial_id]
        if trial_id is None or study._storage.get_trial(trial_id).state != TrialState.RUNNING:
            ids = heartbeatless_trials(study, started_after=since)
        for each in ids:
            with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):
                study._storage.set_trial_state_values(each, TrialState.FAIL)


def _chain(error: BaseException | None) -> list[BaseException]:
    """`error` and the errors it was raised from or while handling (at most 20)."""
    found: list[BaseException] = []
    while error is not None and len(found) < 20:
        found.append(error)
        error = error.__cause__ or error.__context__
    return found


def _in_chain(error: BaseException, kind: type[BaseException]) -> bool:
    return any(isinstance(each, kind) for each in _chain(error))


def _is_lock(error: BaseException | None) -> bool:
    """Whether a lock timeout is anywhere in the chain of `error` (Optuna wraps it, and then
    fails its own `Should not reach` assertion while handling it)."""
    return any(
        "database is locked" in str(each) or "database table is locked" in str(each)
        for each in _chain(error)
    )


class _Tracker:
    """The trial this worker is running (to recognise one that another worker failed); writes
    the sampler's parameters of each trial in one transaction before the objective asks for
    them (`prefill_params`)."""

    def __init__(self, objective: Callable[[optuna.Trial], Any]) -> None:
        self.objective = objective
        self.trial: int | None = None
        self._checks = ParamChecks()

    def __call__(self, trial: optuna.Trial) -> Any:
        self.trial = trial._trial_id
        prefill_params(trial, self._checks)
        return self.objective(trial)


@contextlib.contextmanager
def _lock_errors_as_warnings() -> Any:
    """While the loop runs, a storage lock that kills one of Optuna's heartbeat threads is one
    warning line, not a thread traceback: the main loop meets the same lock on its next write
    and retries it (or stops with one clear line); a missed heartbeat at worst lets another
    worker fail the trial as stale, which the loop already handles."""
    import threading

    previous = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        if _is_lock(args.exc_value):
            logger.warning("storage locked by another process; a heartbeat was not recorded")
            return
        previous(args)

    threading.excepthook = hook
    try:
        yield
    finally:
        threading.excepthook = previous


def run_to_budget(
    study: optuna.Study,
    objective: Callable[[optuna.Trial], Any],
    budget: int,
    *,
    on_trial_end: Callable[[optuna.Study, optuna.trial.FrozenTrial], None] | None = None,
    callbacks: Sequence[Callable[[optuna.Study, optuna.trial.FrozenTrial], None]] = (),
    catch: tuple[type[Exception], ...] = (),
    should_stop: Callable[[], bool] | None = None,
    timings: StorageTimings = DEFAULT_TIMINGS,
) -> int:
    """Run trials of `study` until it holds `budget` finished trials; returns trials run here.

    Args:
        study: The study.
        objective: The objective.
        budget: The study's budget of finished trials.
        on_trial_end: Called after each of this worker's trials.
        callbacks: More Optuna callbacks (e.g. `FailureGuard`).
        catch: Exceptions that fail the trial and let the loop go on (e.g. `TrialFailure`).
        should_stop: Checked before each trial; True ends this worker's loop early.
        timings: The storage's heartbeat interval and grace period (how long to wait for a
            stale trial to be failed).

    Raises:
        StorageError: If the storage stayed locked by another process through every retry.
        Exception: What the objective raised (failed trials are not retried here).
    """
    tracker = _Tracker(objective)
    every_callback = [*([] if on_trial_end is None else [on_trial_end]), *callbacks]
    ran = 0
    lock_failures = 0
    with _lock_errors_as_warnings():
        while True:
            if should_stop is not None and should_stop():
                return ran
            try:
                finished, running = _counts(study)
                if finished >= budget:
                    if running and _wait_for_running(study, timings):
                        continue
                    return ran
                if finished + running >= budget:
                    _fail_stale(study, timings)
                    time.sleep(WAIT_S)
                    continue
                tracker.trial = None
                since = datetime.datetime.now()
                try:
                    study.optimize(
                        tracker,
                        n_trials=1,
                        callbacks=every_callback,
                        catch=catch,
                        gc_after_trial=False,
                    )
                except KeyboardInterrupt:
                    _fail_interrupted(study, tracker.trial, since)
                    raise
                except Exception as error:
                    if not _in_chain(error, KeyboardInterrupt):
                        raise
                    # Ctrl-C during `tell` (the sampler deciding the trial): Optuna's clean-up
                    # then fails on its own unset state and raises that instead, leaving the
                    # trial RUNNING.
                    _fail_interrupted(study, tracker.trial, since)
                    raise KeyboardInterrupt from None
                ran += 1
                lock_failures = 0
            except Exception as error:
                if _is_lock(error):
                    lock_failures += 1
                    if lock_failures > LOCK_RETRIES:
                        raise StorageError(
                            "the storage stayed locked by another process through "
                            f"{LOCK_RETRIES} retries of its busy timeout; stop the other process "
                            "(e.g. a database browser) and run the same command again"
                        ) from None
                    logger.warning(
                        "storage locked by another process; retrying (%d)", lock_failures
                    )
                    time.sleep(WAIT_S)
                    continue
                if not _failed_by_another_worker(study, tracker.trial, timings):
                    raise
                ran += 1


def _failed_by_another_worker(
    study: optuna.Study, trial_id: int | None, timings: StorageTimings
) -> bool:
    """Whether this worker's trial was failed elsewhere (its heartbeat lapsed): warn."""
    if trial_id is None:
        return False
    trial = study._storage.get_trial(trial_id)
    if trial.state != TrialState.FAIL or "fail_reason" in trial.user_attrs:
        return False
    logger.warning(
        "trial %d was failed by another worker while this one did not beat its heartbeat "
        "(stopped for more than %d s?); its late result is dropped",
        trial.number,
        timings.grace_period_s,
    )
    return True


def _wait_for_running(study: optuna.Study, timings: StorageTimings) -> bool:
    """Wait (up to a grace period) for the study's RUNNING trials to end; True if one did."""
    deadline = time.monotonic() + timings.grace_period_s + 2 * timings.heartbeat_interval_s
    _, before = _counts(study)
    while time.monotonic() < deadline:
        _fail_stale(study, timings)
        _, running = _counts(study)
        if running < before or not running:
            return True
        time.sleep(WAIT_S)
    return False
