"""`chain_history` rebuilds a chain's steps from the storage."""

from __future__ import annotations

import optuna
import pytest
from optuna.distributions import IntDistribution
from optuna.storages import InMemoryStorage
from optuna.trial import TrialState

from amed_opt.samplers import BestOfCandidates
from amed_opt.samplers import ChainSettings
from amed_opt.samplers import FixedStart
from amed_opt.samplers import MetropolisHastingsSampler
from amed_opt.samplers import chain_history


optuna.logging.set_verbosity(optuna.logging.WARNING)

SPACE = {f"x{i}": IntDistribution(0, 6) for i in range(3)}


def objective(trial: optuna.Trial) -> float:
    values = [trial.suggest_int(name, 0, 6) for name in SPACE]
    if trial.number == 3:
        trial.set_user_attr("fail_reason", "evaluation crashed")  # as the objective reports it
        raise RuntimeError("evaluation crashed")
    return -sum((v - 4) ** 2 for v in values)


def run(n_trials: int, *, start: object = None, n_chains: int = 1) -> optuna.Study:
    sampler = MetropolisHastingsSampler(
        search_space=SPACE,
        chains=ChainSettings(temperature=0.5, n_chains=n_chains),
        start=start or FixedStart(dict.fromkeys(SPACE, 0)),  # type: ignore[arg-type]
        seed=1,
    )
    study = optuna.create_study(direction="maximize", sampler=sampler, storage=InMemoryStorage())
    study.optimize(objective, n_trials=n_trials, catch=(RuntimeError,))
    return study


def test_steps_follow_the_trials_and_the_head_follows_the_decisions() -> None:
    study = run(12)
    history = chain_history(study)
    assert [step.step for step in history] == list(range(12))
    assert [step.trial_number for step in history] == list(range(12))
    assert [step.kind for step in history] == ["init"] + ["move"] * 11
    head = None
    for step in history:
        trial = study.trials[step.trial_number]
        assert step.state == trial.state.name
        assert step.proposal == trial.params
        assert step.temperature == 0.5
        if step.accepted:
            head = step.trial_number
            assert step.score == trial.value and step.params == trial.params
        assert step.head_trial_number == head
    failed = history[3]
    assert failed.state == "FAIL" and not failed.accepted and failed.acceptance_probability == 0.0
    assert failed.params == history[2].params


def test_an_adopted_start_is_a_step_of_its_own() -> None:
    study = run(6, start=BestOfCandidates([dict.fromkeys(SPACE, v) for v in (0, 4)]))
    history = chain_history(study)
    adopted = history[0]
    assert adopted.kind == "adopted" and adopted.trial_number == 1 and adopted.accepted
    assert adopted.params == dict.fromkeys(SPACE, 4) and adopted.score == 0.0
    assert adopted.temperature is None and adopted.head_trial_number == 1
    assert [step.trial_number for step in history[1:]] == [2, 3, 4, 5]


def test_steps_of_other_chains_and_undecided_trials_are_left_out() -> None:
    study = run(7, n_chains=2)
    first, second = chain_history(study, 0), chain_history(study, 1)
    assert [s.trial_number for s in first] == [0, 2, 3, 5]
    assert second[0].kind == "adopted" and [s.trial_number for s in second[1:]] == [1, 4, 6]
    # A decision stored on a trial that never finished is not a step.
    trial = study.ask()
    objective(trial)
    frozen = study._storage.get_trial(trial._trial_id)
    study.sampler.after_trial(study, frozen, TrialState.COMPLETE, [0.0])
    fresh = optuna.load_study(study_name=study.study_name, storage=study._storage)
    assert chain_history(fresh, 1) == second


def test_unused_and_invalid_chain_ids() -> None:
    study = run(2)
    assert chain_history(study, 5) == []
    for bad in (-1, True, 1.0):
        with pytest.raises(ValueError, match="chain_id"):
            chain_history(study, bad)  # type: ignore[arg-type]


def test_a_chain_pointing_at_a_trial_without_a_proposal_is_inconsistent() -> None:
    study = run(3)
    key = "mh:chain:0"
    stored = study._storage.get_study_system_attrs(study._study_id)[key]
    stored["committed"]["last_trial"] = 99
    stored["pending"] = None
    study._storage.set_study_system_attr(study._study_id, key, stored)
    with pytest.raises(RuntimeError, match="refers to trial 99"):
        chain_history(study)
