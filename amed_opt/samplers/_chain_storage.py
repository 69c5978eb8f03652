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
* study system attr `mh:chain:<id>` — the chain's record, `{"version": v, "committed": S,
  "pending": P, "claims": [[step, parent, trial, worker], ...]}`, only ever replaced by
  compare-and-set (`_cas.py`), so two workers never overwrite each other. `P` is the state
  after the chain's latest decision and the trial number that made it; `S` is the state before
  it. A claim says that a running trial evaluates the proposal for `step` from the head
  `parent` (a trial number, `None` for the initial params); a claim whose trial has finished is
  dead and dropped at the next write. Whether a RUNNING trial's worker is alive is known only
  from heartbeats: on a storage without them, only this process's own claims count (a killed
  run's RUNNING trials would otherwise block its chain forever), so several processes need
  heartbeats. The latest decision counts only once its trial is finished in the state the
  decision was made for (`after_trial` runs *before* Optuna writes the trial's state, so a
  process killed between the two leaves a decision whose trial never finishes). Readers check
  that with one trial lookup, cached once the trial is finished; a decision this process made
  itself is trusted without a lookup. A decision that does not count is rolled back: the chain
  continues from `S`, and the same step is proposed again (with the same random draws).
* study system attr `mh:init` — a finished trial of the initial params, which other chains may
  adopt as their start.
* trial system attr `mh:candidate` — the index of the start candidate the trial evaluates (a
  trial of no chain; chains adopt the best-scoring finished candidate as their start).
* trial user attrs `mh_chain`, `mh_step`, `mh_parent`, `mh_score`,
  `mh_acceptance_probability`, `mh_accepted`, written only after the trial's decision was
  committed by compare-and-set (a stable interface); a trial that is no chain step gets
  `mh_stale` or `mh_speculative` (the reason) instead.
"""

from __future__ import annotations

import math
import os
import uuid
import weakref
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any

from optuna.trial import TrialState

from amed_opt.samplers._batched import trial_states
from amed_opt.samplers._batched import write_trial_attrs
from amed_opt.samplers._cas import compare_and_set
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
    "ChainView",
    "Claim",
    "StudyMemory",
]

PROPOSAL_KEY = "mh:proposal"
DECISION_KEY = "mh:decision"
CHAIN_KEY_PREFIX = "mh:chain:"
INIT_KEY = "mh:init"
CANDIDATE_KEY = "mh:candidate"
USER_ATTR_PREFIX = "mh_"

Claim = tuple[int, int | None, int, str]
"""A chain step in evaluation: (step, parent trial number or `None`, trial number, worker)."""


@dataclass(frozen=True, slots=True)
class ChainView:
    """A chain's record as read, resolved.

    Attributes:
        raw: The stored record (`None` if absent): the value a compare-and-set must find.
        strict: The chain's state: the latest decision counts only once its trial finished.
        optimistic: The state once the latest decision's trial (still running) finishes;
            proposals start from it, decisions never do.
        settling: The latest decision's trial is still running (`strict` lags behind).
        claims: The live claims (their trials are running).
    """

    raw: Mapping[str, Any] | None
    strict: ChainState
    optimistic: ChainState
    settling: bool
    claims: tuple[Claim, ...]

    @property
    def version(self) -> int:
        return 0 if self.raw is None else int(self.raw.get("version", 0))


@dataclass
class StudyMemory:
    """What one process knows about one study beyond the storage (a speed-up and in-flight
    bookkeeping; never the source of truth).

    Attributes:
        decided: Trial numbers whose decision this process wrote.
        ended: Trial numbers known to be finished (a finished trial never runs again).
        finished: Trial number to "its decision counts", for finished trials (immutable).
        complete: Trial number to "it is COMPLETE", for finished trials.
        proposals: Trial id to the proposal made for it, until its decision.
        candidates: Trial id to the start candidate's params it evaluates.
        weights: The chains' latency weights read off the start candidates (`FrontWeights`).
    """

    decided: set[int] = field(default_factory=set)
    ended: set[int] = field(default_factory=set)
    finished: dict[int, bool] = field(default_factory=dict)
    complete: dict[int, bool] = field(default_factory=dict)
    proposals: dict[int, ProposalRecord] = field(default_factory=dict)
    candidates: dict[int, dict[str, Any]] = field(default_factory=dict)
    weights: tuple[float, ...] | None = None


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
        self.worker = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        """This process's name in the claims it makes."""
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

    def decision_counts(
        self, study: Study, number: int, states: Mapping[int, TrialState] | None = None
    ) -> bool:
        """Whether the decision recorded on trial `number` is final.

        It is when this process made it, or when the trial is finished in the state that the
        decision was made for. `states`: trial states read earlier in one query (`views`); a
        trial they show unfinished is taken as unfinished.
        """
        memory = self.memory(study)
        if number in memory.decided:
            return True
        known = memory.finished.get(number)
        if known is not None:
            return known
        if states and number in states and not states[number].is_finished():
            return False
        trial = self._trial_by_number(study, number)
        if trial is None:
            return False
        if not trial.state.is_finished():
            return False
        memory.ended.add(number)
        decision = trial.system_attrs.get(DECISION_KEY)
        counts = (
            decision is not None
            and not decision.get("stale", False)
            and decision.get("state") == trial.state.name
        )
        memory.finished[number] = counts
        return counts

    def running(
        self, study: Study, number: int, states: Mapping[int, TrialState] | None = None
    ) -> bool:
        """Whether trial `number` is RUNNING (one lookup, or `states` read earlier in one query;
        finished trials are remembered)."""
        memory = self.memory(study)
        if number in memory.ended:
            return False
        state = (states or {}).get(number)
        if state is None:
            trial = self._trial_by_number(study, number)
            if trial is None:
                return True  # Not readable now: assume it runs rather than drop its claim.
            state = trial.state
        if state.is_finished():
            memory.ended.add(number)
            return False
        return state == TrialState.RUNNING

    def views(
        self, study: Study, attrs: Mapping[str, Any], chains: Sequence[int]
    ) -> dict[int, ChainView]:
        """`view` of each of `chains`, with the states of the trials their records name read
        in one query (RDB storages) instead of one trial read each: a proposal checks every
        chain, so with one chain per worker the reads would grow with the workers. States read
        a moment before the records are resolved are as good as reads one by one: a trial that
        finishes in between reads as running, which only delays its chain (as a trial
        finishing just after its own read would)."""
        memory = self.memory(study)
        named: set[int] = set()
        for chain in chains:
            data = attrs.get(f"{CHAIN_KEY_PREFIX}{chain}") or {}
            pending = data.get("pending")
            named.update(int(claim[2]) for claim in data.get("claims", ()))
            if pending is not None:
                named.add(int(pending["trial"]))
        states = trial_states(study._storage, study._study_id, named - memory.ended)
        return {chain: self.view(study, attrs, chain, states) for chain in chains}

    def view(
        self,
        study: Study,
        attrs: Mapping[str, Any],
        chain: int,
        states: Mapping[int, TrialState] | None = None,
    ) -> ChainView:
        """`chain`'s record resolved: its state, and its live claims.

        Args:
            study: The study.
            attrs: The study system attrs, from `read_study_attrs`.
            chain: Chain id.
            states: Trial states read in one query before (`views`); other trials are read.
        """
        data = attrs.get(f"{CHAIN_KEY_PREFIX}{chain}")
        if data is None:
            return ChainView(None, ChainState(), ChainState(), False, ())
        # Whether another worker's RUNNING trial may be alive: known only with heartbeats.
        trusted = getattr(study._storage, "get_heartbeat_interval", lambda: None)() is not None
        committed = ChainState.from_json(data["committed"])
        strict = optimistic = committed
        settling = False
        pending = data.get("pending")
        if pending is not None:
            number = int(pending["trial"])
            after = ChainState.from_json(pending["state"])
            if self.decision_counts(study, number, states):
                strict = optimistic = after
            elif trusted and self.running(study, number, states):
                optimistic, settling = after, True
            elif self.decision_counts(study, number):
                # The trial finished between the two lookups: without this second look the
                # chain would read as before the decision, and its step would be taken twice.
                strict = optimistic = after
        claims = tuple(
            (int(step), None if parent is None else int(parent), int(number), str(worker))
            for step, parent, number, worker in data.get("claims", ())
            if (trusted or worker == self.worker) and self.running(study, int(number), states)
        )
        return ChainView(data, strict, optimistic, settling, claims)

    def chain_state(self, study: Study, attrs: Mapping[str, Any], chain: int) -> ChainState:
        """The current state of `chain`, with its latest decision checked."""
        return self.view(study, attrs, chain).strict

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
        """Record the proposal on the (running) trial (its claim is already committed)."""
        study._storage.set_trial_system_attr(trial_id, PROPOSAL_KEY, record.to_json())

    def write_decision(
        self, study: Study, trial_id: int, proposal: ProposalRecord, record: DecisionRecord
    ) -> None:
        """Record the decision on the (still running) trial, after it was committed.

        A chain step gets the user attrs `mh_chain`, `mh_step`, `mh_parent`, `mh_score`,
        `mh_acceptance_probability` and `mh_accepted`; a trial that is no step (`record.stale`)
        gets `mh_speculative` (its proposal left the chain's path) or `mh_stale` (anything
        else), holding the reason.
        """
        system = {DECISION_KEY: record.to_json()}
        user: dict[str, object] = {}
        if self._user_attrs and record.stale:
            kind = "speculative" if record.reason.startswith("speculative") else "stale"
            user[f"{USER_ATTR_PREFIX}{kind}"] = record.reason
        elif self._user_attrs:
            user = {
                f"{USER_ATTR_PREFIX}chain": proposal.chain,
                f"{USER_ATTR_PREFIX}step": proposal.step,
                f"{USER_ATTR_PREFIX}parent": proposal.parent,
                f"{USER_ATTR_PREFIX}score": record.score,
                f"{USER_ATTR_PREFIX}acceptance_probability": record.acceptance_probability,
                f"{USER_ATTR_PREFIX}accepted": record.accepted,
            }
        # One transaction: seven single writes were a third of a trial's storage time.
        write_trial_attrs(study._storage, trial_id, user=user, system=system)

    def commit_chain(
        self,
        study: Study,
        chain: int,
        view: ChainView,
        *,
        claims: tuple[Claim, ...],
        committed: ChainState | None = None,
        pending_trial: int | None = None,
        pending_state: ChainState | None = None,
    ) -> bool:
        """Replace `chain`'s record read as `view` by compare-and-set.

        Args:
            study: The study.
            chain: Chain id.
            view: The record as read; the write fails if it changed since.
            claims: The claims to store.
            committed: A new committed state (with no pending decision), e.g. an adopted
                start; `None` keeps the record's committed state and pending decision.
            pending_trial: Trial number of a new decision; then `pending_state` is the state
                after it, and the committed state becomes `view.strict`.
            pending_state: See `pending_trial`.

        Returns:
            Whether the record was written; `False`: another worker changed it first.
        """
        raw = view.raw or {}
        data: dict[str, Any] = {
            "version": view.version + 1,
            "committed": raw.get("committed", ChainState().to_json()),
            "pending": raw.get("pending"),
            "claims": [list(claim) for claim in claims],
        }
        if committed is not None:
            data["committed"], data["pending"] = committed.to_json(), None
        if pending_trial is not None:
            assert pending_state is not None
            data["committed"] = view.strict.to_json()
            data["pending"] = {"trial": pending_trial, "state": pending_state.to_json()}
        written = compare_and_set(
            study._storage, study._study_id, f"{CHAIN_KEY_PREFIX}{chain}", view.raw, data
        )
        if written and pending_trial is not None:
            self.memory(study).decided.add(pending_trial)
        return written

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
