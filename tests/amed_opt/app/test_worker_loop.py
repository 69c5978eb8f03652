"""The worker loop's clean-up of trials it cannot finish: never a trial left RUNNING for good."""

from __future__ import annotations

import datetime
import time
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.trial import TrialState

from amed_opt.app.worker_loop import _fail_interrupted
from amed_opt.app.worker_loop import _fail_silent
from amed_opt.app.worker_loop import run_to_budget
from amed_opt.study.storage import open_storage
from amed_opt.study.storage_timings import StorageTimings


optuna.logging.set_verbosity(optuna.logging.WARNING)


def new_study(tmp_path: Path, sampler: optuna.samplers.BaseSampler | None = None) -> optuna.Study:
    storage = open_storage(f"sqlite:///{tmp_path / 'loop.db'}")
    return optuna.create_study(study_name="loop", storage=storage, sampler=sampler)


def states(study: optuna.Study) -> list[TrialState]:
    return [trial.state for trial in study.get_trials(deepcopy=False)]


def test_a_trial_without_heartbeat_is_failed_only_after_the_grace_period(tmp_path: Path) -> None:
    study = new_study(tmp_path)
    study.ask()  # created, never beat its heartbeat (its process "died" right there)
    timings = StorageTimings(heartbeat_interval_s=1, grace_period_s=2)
    _fail_silent(study, timings)
    assert states(study) == [TrialState.RUNNING]
    time.sleep(2.2)
    _fail_silent(study, timings)
    assert states(study) == [TrialState.FAIL]


def test_an_interrupt_fails_only_the_trials_created_since_the_call(tmp_path: Path) -> None:
    study = new_study(tmp_path)
    study.ask()
    time.sleep(0.01)
    since = datetime.datetime.now()
    study.ask()
    _fail_interrupted(study, None, since)
    assert states(study) == [TrialState.RUNNING, TrialState.FAIL]


def test_without_heartbeats_no_running_trial_is_taken_for_dead(tmp_path: Path) -> None:
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'plain.db'}")
    study = optuna.create_study(study_name="plain", storage=storage)
    since = datetime.datetime.now()
    study.ask()
    time.sleep(1.1)
    _fail_silent(study, StorageTimings(heartbeat_interval_s=0.5, grace_period_s=1))
    _fail_interrupted(study, None, since)
    assert states(study) == [TrialState.RUNNING]


class InterruptedSampler(optuna.samplers.RandomSampler):
    """Ctrl-C while the sampler works: after Optuna created the trial, before the objective."""

    def infer_relative_search_space(self, study: Any, trial: Any) -> dict[str, Any]:
        raise KeyboardInterrupt


def test_ctrl_c_inside_the_sampler_leaves_no_trial_running(tmp_path: Path) -> None:
    study = new_study(tmp_path, InterruptedSampler(seed=0))
    with pytest.raises(KeyboardInterrupt):
        run_to_budget(study, lambda trial: trial.suggest_float("x", 0, 1), 3)
    assert states(study) == [TrialState.FAIL]


class InterruptedAfterTrial(optuna.samplers.RandomSampler):
    """Ctrl-C while the sampler decides a finished trial (e.g. waiting on earlier chain steps):
    Optuna then hides the interrupt behind an `UnboundLocalError` of its own clean-up, which
    a worker took for a failure (and a trial interrupted in that clean-up stayed RUNNING)."""

    def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
        if trial.number == 1:
            raise KeyboardInterrupt


def test_ctrl_c_while_the_sampler_decides_a_trial_fails_it_and_stays_an_interrupt(
    tmp_path: Path,
) -> None:
    study = new_study(tmp_path, InterruptedAfterTrial(seed=0))
    with pytest.raises(KeyboardInterrupt):  # not Optuna's UnboundLocalError
        run_to_budget(study, lambda trial: trial.suggest_float("x", 0, 1), 3)
    # Optuna still stores the values of trial 1; its sampler never decided it (a resumed AMED
    # chain proposes that step again), and no trial is left RUNNING.
    assert states(study) == [TrialState.COMPLETE, TrialState.COMPLETE]


def test_ctrl_c_while_optuna_stores_a_trial_fails_it_instead_of_leaving_it_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    study = new_study(tmp_path)
    store = study._storage.set_trial_state_values
    interrupted: list[int] = []

    def set_state(trial_id: int, state: TrialState, values: Any = None) -> bool:
        number = study._storage.get_trial_number_from_id(trial_id)
        if state == TrialState.COMPLETE and number == 1 and not interrupted:
            interrupted.append(trial_id)
            raise KeyboardInterrupt
        return store(trial_id, state, values)

    monkeypatch.setattr(study._storage, "set_trial_state_values", set_state)
    with pytest.raises(KeyboardInterrupt):
        run_to_budget(study, lambda trial: trial.suggest_float("x", 0, 1), 3)
    assert states(study) == [TrialState.COMPLETE, TrialState.FAIL]


def test_ctrl_c_inside_the_objective_fails_that_trial(tmp_path: Path) -> None:
    study = new_study(tmp_path)

    def objective(trial: optuna.Trial) -> float:
        if trial.number == 1:
            raise KeyboardInterrupt
        return trial.suggest_float("x", 0, 1)

    with pytest.raises(KeyboardInterrupt):
        run_to_budget(study, objective, 3)
    assert states(study) == [TrialState.COMPLETE, TrialState.FAIL]


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
def test_the_budget_counts_finished_and_running_trials_in_the_database(tmp_path: Path) -> None:
    from amed_opt.app.worker_loop import _counts

    counted = []
    for study in (new_study(tmp_path), optuna.create_study()):  # SQL count, Optuna's cache
        complete, pruned, fail = TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL
        for state in (complete, complete, pruned, fail):
            trial = study.ask()
            study.tell(trial, 1.0 if state == TrialState.COMPLETE else None, state=state)
        study.ask()
        counted.append(_counts(study))
    assert counted == [(3, 1), (3, 1)]


def test_a_lock_that_kills_a_thread_is_one_warning_and_other_errors_reach_the_hook(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import threading

    def raising(message: str) -> None:
        def fail() -> None:
            raise RuntimeError(message)

        thread = threading.Thread(target=fail)  # as Optuna's heartbeat thread would die
        thread.start()
        thread.join()

    def objective(trial: optuna.Trial) -> float:
        raising("(sqlite3.OperationalError) database is locked")
        raising("something else")
        return 1.0

    reached: list[str] = []
    before = threading.excepthook
    threading.excepthook = lambda args: reached.append(str(args.exc_value))
    try:
        recorder = threading.excepthook
        with caplog.at_level("WARNING"):
            run_to_budget(optuna.create_study(), objective, 1)
        assert threading.excepthook is recorder  # restored
    finally:
        threading.excepthook = before
    assert "a heartbeat was not recorded" in caplog.text
    assert reached == ["something else"]  # the lock did not reach the traceback printer
