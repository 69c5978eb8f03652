"""Where the chains live: Optuna system attributes, read and written cheaply.

This is the only module of the sampler that touches `study._storage`; the records it stores are
in `_records.py`. Every read or write here
costs O(1) storage calls, whatever the number of trials in the study.

Keys (all values are JSON):

* trial system attr `mh:proposal` — written when the trial's parameters are proposed: chain id,
  chain step, draw index, kind (`init` or `move`), proposed params, parent (head trial number) and
  the log Hastings factor.
* trial system attr `mh:decision` — written in `after_trial`: the state it was told, accepted or
  not, acceptance probability, scores, temperature, the reason of a rejection, and the trial
  number of the chain's previous decision (so the chain can be walked backwards).
* study system attr `mh:chain:<id>` — the chain's state, as `{"committed": S, "pending": P}`.
  `P` is the state after the chain's latest decision and the trial number that made it; `S` is
  the state before it. The latest decision counts only once its trial is finished in the state
  the decision was made for (`after_trial` runs *before* Optuna writes the trial's state, so a
  process killed between the two leaves a decision whose trial never finishes). Readers check that
  with one trial lookup, cached once the trial is finished; a decision this process made itself is
  trusted without a lookup. A decision that does not count is rolled back: the chain continues
  from `S`, and the same step is proposed again (with the same random draws).
* study system attr `mh:init` — a finished trial of the initial params, which other chains may
  adopt as their start.
* trial system attr `mh:candidate` — the index of the start candidate the trial evaluates (a
  trial of no chain; chains adopt the best-scoring finished candidate as their start).
* trial user attrs `mh_chain`, `mh_step`, `mh_parent` (at proposal) and `mh_score`,
  `mh_acceptance_probability`, `mh_accepted` (at decision), for the dashboard.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any

from optuna.trial import TrialState

from amed_opt.samplers._records import ChainState
from amed_opt.samplers._records import DecisionRecord
from amed_opt.samplers._records import Head
from amed_opt.samplers._records import ProposalRecord


if TYPE_CHECKING:
    from optuna.storages import BaseStorage
    from optuna.study import Study
    from optuna.trial import FrozenTrial


__all__ = [
    "CANDIDATE_KEY",
    "CHAIN_KEY_PREFIX",
    "DECISION_KEY",
    "INIT_KEY",
    "PROPOSAL_KEY",
    "USER_ATTR_PREFIX",
    "ChainStorage",
    "StudyMemory",
]

PROPOSAL_KEY = "mh:proposal"
DECISION_KEY = "mh:decision"
CHAIN_KEY_PREFIX = "mh:chain:"
INIT_KEY = "mh:init"
CANDIDATE_KEY = "mh:candidate"
USER_ATTR_PREFIX = "mh_"


@dataclass
class StudyMemory:
    """What one process knows about one study beyond the storage (a speed-up and in-flight
    bookkeeping; never the source of truth).

    Attributes:
        decided: Trial numbers whose decision this process wrote.
        finished: Trial number to "its decision counts", for finished trials (immutable).
        complete: Trial number to "it is COMPLETE", for finished trials.
        proposals: Trial id to the proposal made for it, until its decision.
        in_flight: Trial id to (chain, step) of proposals not yet decided.
        candidates: Trial id to the start candidate's params it evaluates.
    """

    decided: set[int] = field(default_factory=set)
    finished: dict[int, bool] = field(default_factory=dict)
    complete: dict[int, bool] = field(default_factory=dict)
    proposals: dict[int, ProposalRecord] = field(default_factory=dict)
    in_flight: dict[int, tuple[int, int]] = field(default_factory=dict)
    candidates: dict[int, dict[str, Any]] = field(default_factory=dict)


class ChainStorage:
    """Reads and writes chain state in a study's storage.

    Per storage object and study, it keeps a `StudyMemory`; it holds no state of its own that
    the storage does not also have.

    Args:
        user_attrs: Mirror the chain id, step, parent, score, acceptance probability, accepted
            flag and start candidate index into the trial user attrs `mh_*` (for the dashboard).
    """

    def __init__(self, *, user_attrs: bool = True) -> None:
        self._user_attrs = user_attrs
        self._memory: weakref.WeakKeyDictionary[BaseStorage, dict[int, StudyMemory]] = (
            weakref.WeakKeyDictionary()
        )

    def memory(self, study: Study) -> StudyMemory:
        """This process's memory of `study`."""
        per_storage = self._memory.setdefault(study._storage, {})
        return per_storage.setdefault(study._study_id, StudyMemory())

    # -- reads ------------------------------------------------------------------------------

    @staticmethod
    def read_study_attrs(study: Study) -> dict[str, Any]:
        """All study system attrs (one storage call). Treat the result as read-only."""
        return study._storage.get_study_system_attrs(study._study_id)

    def _trial_by_number(self, study: Study, number: int) -> FrozenTrial | None:
        storage = study._storage
        try:
            trial_id = storage.get_trial_id_from_study_id_trial_number(study._study_id, number)
            return storage.get_trial(trial_id)
        except KeyError:
            return None

    def decision_counts(self, study: Study, number: int) -> bool:
        """Whether the decision recorded on trial `number` is final.

        It is when this process made it, or when the trial is finished in the state that the
        decision was made for.
        """
        memory = self.memory(study)
        if number in memory.decided:
            return True
        known = memory.finished.get(number)
        if known is not None:
            return known
        trial = self._trial_by_number(study, number)
        if trial is None:
            return False
        if not trial.state.is_finished():
            return False
        decision = trial.system_attrs.get(DECISION_KEY)
        counts = (
            decision is not None
            and not decision.get("stale", False)
            and decision.get("state") == trial.state.name
        )
        memory.finished[number] = counts
        return counts

    def chain_state(self, study: Study, attrs: Mapping[str, Any], chain: int) -> ChainState:
        """The current state of `chain`, with its latest decision checked.

        Args:
            study: The study.
            attrs: The study system attrs, from `read_study_attrs`.
            chain: Chain id.
        """
        data = attrs.get(f"{CHAIN_KEY_PREFIX}{chain}")
        if data is None:
            return ChainState()
        pending = data.get("pending")
        if pending is not None and self.decision_counts(study, int(pending["trial"])):
            return ChainState.from_json(pending["state"])
        return ChainState.from_json(data["committed"])

    def initial_trial(
        self, study: Study, attrs: Mapping[str, Any], params: Mapping[str, Any]
    ) -> Head | None:
        """A COMPLETE trial of the initial `params` that a starting chain may adopt.

        Only a trial whose storage state is COMPLETE qualifies, so an adopted start can never be
        rolled back. Its `score` field is meaningless (each chain scores `values` itself).
        """
        data = attrs.get(INIT_KEY)
        if data is None or dict(data["params"]) != dict(params):
            return None
        number = int(data["number"])
        memory = self.memory(study)
        complete = memory.complete.get(number)
        if complete is None:
            trial = self._trial_by_number(study, number)
            if trial is None or not trial.state.is_finished():
                return None
            complete = trial.state == TrialState.COMPLETE
            memory.complete[number] = complete
        if not complete:
            return None
        return Head.from_json({**data, "score": math.nan})

    # -- writes -----------------------------------------------------------------------------

    def write_proposal(self, study: Study, trial_id: int, record: ProposalRecord) -> None:
        """Record the proposal on the (running) trial."""
        storage = study._storage
        storage.set_trial_system_attr(trial_id, PROPOSAL_KEY, record.to_json())
        if self._user_attrs:
            storage.set_trial_user_attr(trial_id, f"{USER_ATTR_PREFIX}chain", record.chain)
            storage.set_trial_user_attr(trial_id, f"{USER_ATTR_PREFIX}step", record.step)
            storage.set_trial_user_attr(trial_id, f"{USER_ATTR_PREFIX}parent", record.parent)

    def write_decision(self, study: Study, trial_id: int, record: DecisionRecord) -> None:
        """Record the decision on the (still running) trial."""
        storage = study._storage
        storage.set_trial_system_attr(trial_id, DECISION_KEY, record.to_json())
        if self._user_attrs:
            storage.set_trial_user_attr(trial_id, f"{USER_ATTR_PREFIX}score", record.score)
            storage.set_trial_user_attr(
                trial_id,
                f"{USER_ATTR_PREFIX}acceptance_probability",
                record.acceptance_probability,
            )
            storage.set_trial_user_attr(trial_id, f"{USER_ATTR_PREFIX}accepted", record.accepted)

    def write_chain(
        self,
        study: Study,
        chain: int,
        committed: ChainState,
        *,
        pending_trial: int | None = None,
        pending_state: ChainState | None = None,
    ) -> None:
        """Store `chain`'s state: `committed`, plus a decision awaiting its trial's end."""
        pending: dict[str, Any] | None = None
        if pending_trial is not None:
            assert pending_state is not None
            pending = {"trial": pending_trial, "state": pending_state.to_json()}
            self.memory(study).decided.add(pending_trial)
        study._storage.set_study_system_attr(
            study._study_id,
            f"{CHAIN_KEY_PREFIX}{chain}",
            {"committed": committed.to_json(), "pending": pending},
        )

    @staticmethod
    def write_initial_trial(study: Study, head: Head) -> None:
        """Offer `head`, an evaluation of the initial params, to chains that start later."""
        data = head.to_json()
        del data["score"]
        study._storage.set_study_system_attr(study._study_id, INIT_KEY, data)

    def write_candidate(
        self, study: Study, trial_id: int, index: int, params: Mapping[str, Any]
    ) -> None:
        """Mark the (running) trial as the evaluation of start candidate `index`."""
        study._storage.set_trial_system_attr(
            trial_id, CANDIDATE_KEY, {"index": index, "params": dict(params)}
        )
        if self._user_attrs:
            study._storage.set_trial_user_attr(trial_id, f"{USER_ATTR_PREFIX}candidate", index)

    @staticmethod
    def candidate_trials(study: Study) -> dict[int, list[FrozenTrial]]:
        """Start candidate index to the trials that evaluated it, in trial order.

        Reads every trial (O(n) storage work); called only while a chain has no head yet.
        """
        found: dict[int, list[FrozenTrial]] = {}
        for trial in study.get_trials(deepcopy=False):
            data = trial.system_attrs.get(CANDIDATE_KEY)
            if data is not None:
                found.setdefault(int(data["index"]), []).append(trial)
        return found
