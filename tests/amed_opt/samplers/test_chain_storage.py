"""Chain state in the storage: what each write leaves in Optuna's attrs, and what reads return."""

from __future__ import annotations

import optuna
import pytest
from optuna.trial import TrialState

from amed_opt.samplers._candidates import candidate_trials
from amed_opt.samplers._chain_storage import ChainStorage
from amed_opt.samplers._records import ChainState
from amed_opt.samplers._records import DecisionRecord
from amed_opt.samplers._records import Head
from amed_opt.samplers._records import ProposalRecord


optuna.logging.set_verbosity(optuna.logging.WARNING)

PROPOSAL = ProposalRecord(
    chain=1, step=2, draw=0, kind="move", params={"a": 4}, parent=0, log_q_ratio=0.0
)
DECISION = DecisionRecord(
    state="COMPLETE",
    accepted=True,
    stale=False,
    acceptance_probability=0.5,
    score=-1.0,
    head_score=-2.0,
    temperature=0.01,
    reason="",
    previous=None,
)
HEAD = Head(number=0, params={"a": 8}, values=(0.9, 10.0), score=-2.0)


def study_with_trials(states: list[TrialState]) -> optuna.Study:
    study = optuna.create_study()
    for _ in states:
        study.ask()
    for number, state in enumerate(states):
        finish(study, number, state)
    return study


def finish(study: optuna.Study, number: int, state: TrialState) -> None:
    if state != TrialState.RUNNING:
        values = [1.0] if state == TrialState.COMPLETE else None
        study._storage.set_trial_state_values(study.trials[number]._trial_id, state, values)


def system_attrs(study: optuna.Study) -> dict[str, object]:
    return study._storage.get_study_system_attrs(study._study_id)


def write_chain(
    chains: ChainStorage,
    study: optuna.Study,
    committed: ChainState,
    *,
    pending_trial: int,
    pending_state: ChainState,
) -> None:
    """Store `committed`, then a decision of `pending_trial` on top of it (two CAS writes)."""
    view = chains.view(study, system_attrs(study), 0)
    assert chains.commit_chain(study, 0, view, claims=(), committed=committed)
    view = chains.view(study, system_attrs(study), 0)
    assert chains.commit_chain(
        study, 0, view, claims=(), pending_trial=pending_trial, pending_state=pending_state
    )


@pytest.mark.parametrize("user_attrs", [True, False])
def test_proposal_and_decision_land_on_the_trial(user_attrs: bool) -> None:
    study = study_with_trials([TrialState.RUNNING])
    trial_id = study.trials[0]._trial_id
    chains = ChainStorage(user_attrs=user_attrs)
    chains.write_proposal(study, trial_id, PROPOSAL)
    chains.write_decision(study, trial_id, PROPOSAL, DECISION)
    trial = study.trials[0]
    assert trial.system_attrs["mh:proposal"] == PROPOSAL.to_json()
    assert trial.system_attrs["mh:decision"] == DECISION.to_json()
    # The decision was committed: the trial is a chain step.
    mirror = {"mh_chain": 1, "mh_step": 2, "mh_parent": 0, "mh_score": -1.0}
    mirror |= {"mh_acceptance_probability": 0.5, "mh_accepted": True}
    assert trial.user_attrs == (mirror if user_attrs else {})


def test_an_unknown_chain_reads_as_a_fresh_state() -> None:
    study = study_with_trials([])
    chains = ChainStorage()
    assert chains.chain_state(study, chains.read_study_attrs(study), 3) == ChainState()


def test_a_pending_decision_counts_once_its_trial_finished_in_the_decided_state() -> None:
    study = study_with_trials([TrialState.COMPLETE, TrialState.RUNNING])
    committed = ChainState(step=1, head=HEAD, last_trial=0)
    pending = ChainState(step=2, head=HEAD, last_trial=1)
    writer = ChainStorage()
    write_chain(writer, study, committed, pending_trial=1, pending_state=pending)
    assert system_attrs(study)["mh:chain:0"] == {
        "version": 2,
        "committed": committed.to_json(),
        "pending": {"trial": 1, "state": pending.to_json()},
        "claims": [],
    }
    # The writer trusts its own decision; another process waits for the trial to finish.
    assert writer.chain_state(study, system_attrs(study), 0) == pending
    reader = ChainStorage()
    assert reader.chain_state(study, system_attrs(study), 0) == committed
    trial_id = study.trials[1]._trial_id
    study._storage.set_trial_system_attr(trial_id, "mh:decision", DECISION.to_json())
    finish(study, 1, TrialState.COMPLETE)
    assert reader.chain_state(study, system_attrs(study), 0) == pending
    assert reader.decision_counts(study, 1)


def test_a_decision_whose_trial_ended_in_another_state_is_rolled_back() -> None:
    study = study_with_trials([TrialState.RUNNING])
    study._storage.set_trial_system_attr(
        study.trials[0]._trial_id, "mh:decision", DECISION.to_json()
    )
    finish(study, 0, TrialState.FAIL)
    committed = ChainState()
    write_chain(
        ChainStorage(),
        study,
        committed,
        pending_trial=0,
        pending_state=ChainState(step=1, head=HEAD),
    )
    reader = ChainStorage()
    assert not reader.decision_counts(study, 0)
    assert reader.chain_state(study, system_attrs(study), 0) == committed
    assert not reader.decision_counts(study, 42)  # No such trial.


def test_the_initial_trial_is_offered_only_while_complete_and_for_the_same_params() -> None:
    study = study_with_trials([TrialState.RUNNING])
    chains = ChainStorage()
    chains.write_initial_trial(study, HEAD)
    assert system_attrs(study)["mh:init"] == {
        "number": 0,
        "params": {"a": 8},
        "values": [0.9, 10.0],
    }
    assert chains.initial_trial(study, system_attrs(study), {"a": 8}) is None  # Still running.
    finish(study, 0, TrialState.COMPLETE)
    offered = chains.initial_trial(study, system_attrs(study), {"a": 8})
    assert offered is not None
    assert (offered.number, offered.params, offered.values) == (0, {"a": 8}, (0.9, 10.0))
    assert chains.initial_trial(study, system_attrs(study), {"a": 4}) is None

    failed = study_with_trials([TrialState.FAIL])
    chains.write_initial_trial(failed, HEAD)
    assert chains.initial_trial(failed, system_attrs(failed), {"a": 8}) is None


@pytest.mark.parametrize("user_attrs", [True, False])
def test_candidate_trials_are_found_by_params_in_trial_order(user_attrs: bool) -> None:
    study = study_with_trials([TrialState.RUNNING] * 3)
    chains = ChainStorage(user_attrs=user_attrs)
    for trial, index in zip(study.trials, (1, 1, 0), strict=True):
        chains.write_candidate(study, trial._trial_id, index, {"a": 8 >> index})
    finish(study, 0, TrialState.FAIL)
    finish(study, 1, TrialState.COMPLETE)
    found = candidate_trials(study.trials)
    assert {key: [t.number for t in trials] for key, trials in found.items()} == {
        (("a", 4),): [0, 1],
        (("a", 8),): [2],
    }
    assert study.trials[0].system_attrs["mh:candidate"] == {"index": 1, "params": {"a": 4}}
    assert ("mh_candidate" in study.trials[0].user_attrs) is user_attrs


def test_memory_is_per_storage_and_study() -> None:
    chains = ChainStorage()
    first, second = study_with_trials([]), study_with_trials([])
    assert chains.memory(first) is chains.memory(first)
    assert chains.memory(first) is not chains.memory(second)


def test_a_decision_whose_trial_finishes_while_the_chain_is_read_counts() -> None:
    """The trial ends between the lookups of one read: the chain must not read as before it."""
    study = study_with_trials([TrialState.COMPLETE, TrialState.RUNNING])
    committed = ChainState(step=1, head=HEAD, last_trial=0)
    pending = ChainState(step=2, head=HEAD, last_trial=1)
    write_chain(ChainStorage(), study, committed, pending_trial=1, pending_state=pending)
    reader = ChainStorage()
    lookup = reader._trial_by_number
    finished: list[int] = []

    def lookup_then_finish(study_: optuna.Study, number: int) -> optuna.trial.FrozenTrial | None:
        trial = lookup(study_, number)  # Read while RUNNING ...
        if not finished:  # ... and the worker ends it right after.
            finished.append(number)
            trial_id = study.trials[1]._trial_id
            study._storage.set_trial_system_attr(trial_id, "mh:decision", DECISION.to_json())
            finish(study, 1, TrialState.COMPLETE)
        return trial

    reader._trial_by_number = lookup_then_finish  # type: ignore[method-assign]
    assert reader.view(study, system_attrs(study), 0).strict == pending
