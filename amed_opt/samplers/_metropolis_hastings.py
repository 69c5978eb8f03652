"""`MetropolisHastingsSampler`: the AMED chain as an Optuna sampler.

One trial is one chain step. `sample_relative` picks a chain and reads its state from the storage
(`_chain_storage.py`); a chain without a head gets its start from the start policy
(`_start.py`), a chain with one proposes a neighbour of it (`_proposals.py`). The objective
evaluates the proposal; `after_trial` scores the trial and accepts or rejects the move with the
Metropolis–Hastings probability (`_acceptance.py`), and stores the decision and the new head. All
chain state lives in the storage, so a killed study resumes the same chains and worker processes
can share a study. Random draws are derived from `(seed, chain, step)`, not from a running
generator, so a resumed chain makes the same proposals it would have made without the
interruption.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

import numpy as np
from optuna.samplers import BaseSampler
from optuna.samplers import RandomSampler
from optuna.trial import TrialState

from amed_opt.samplers._acceptance import FAIL_REASON_ATTR
from amed_opt.samplers._acceptance import decide
from amed_opt.samplers._acceptance import is_stale
from amed_opt.samplers._chain_storage import CANDIDATE_KEY
from amed_opt.samplers._chain_storage import DECISION_KEY
from amed_opt.samplers._chain_storage import PROPOSAL_KEY
from amed_opt.samplers._chain_storage import ChainStorage
from amed_opt.samplers._chain_storage import StudyMemory
from amed_opt.samplers._front_weights import FrontScore
from amed_opt.samplers._records import ChainState
from amed_opt.samplers._records import DecisionRecord
from amed_opt.samplers._records import ProposalRecord
from amed_opt.samplers._score import ScoreFunction
from amed_opt.samplers._score import default_score
from amed_opt.samplers._settings import ChainSettings
from amed_opt.samplers._settings import ProposalSettings
from amed_opt.samplers._settings import check_seed
from amed_opt.samplers._space import OrderedSearchSpace
from amed_opt.samplers._start import BestOfCandidates
from amed_opt.samplers._start import CandidateTrial
from amed_opt.samplers._start import FixedStart
from amed_opt.samplers._start import RandomStart
from amed_opt.samplers._start import StartPolicy
from amed_opt.samplers._start import WaitForStart
from amed_opt.samplers._workers import Waiter
from amed_opt.samplers._workers import earlier_steps_alive
from amed_opt.samplers._workers import free_step
from amed_opt.samplers._workers import off_path_reason
from amed_opt.samplers._workers import on_path
from amed_opt.samplers._workers import release


if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution
    from optuna.study import Study
    from optuna.trial import FrozenTrial


__all__ = ["MetropolisHastingsSampler"]

_logger = logging.getLogger(__name__)

# Purposes of the per-step random streams (the last element of their spawn key).
_PROPOSE = 0
_ACCEPT = 1


class MetropolisHastingsSampler(BaseSampler):
    """Metropolis–Hastings chains over ordered discrete parameters (per-layer bit widths).

    Each trial is one step of one chain. The trial evaluates a proposal drawn from the chain's
    head (`ProposalSettings`: `n_flips` parameters, each moved one step along its list, with a
    rule at the ends of the list and an optional filter). After the trial, the proposal becomes
    the head with probability

        alpha = min(1, exp((Q(b') - Q(b)) / T) * q(b | b') / q(b' | b)),

    where `Q` is the chain's score of the trial values and `q` the proposal probability. With a
    constant temperature, each chain's stationary distribution is `pi(b) ∝ exp(Q(b) / T)` on the
    allocations the filter accepts. Failed and pruned trials, and trials whose evaluated params
    differ from the proposal (e.g. fixed by `enqueue_trial`), are rejected proposals. Trials this
    sampler did not propose (all params fixed) belong to no chain.

    **Several chains** (`ChainSettings`). Each new trial goes to the chain (of those the sampler
    advances) with no trial in flight and the fewest steps, so chains in one process take turns;
    for one chain per worker process, give every worker the same settings and its own
    `chain_ids=[i]`. A chain's state is written only by trials of that chain. Each chain is an
    exact MH chain as long as at most one of its trials runs at a time; if more trials run at
    once than there are chains, the extra trials also start from the head, and only the first
    one to finish counts as the step (the others are marked stale) — an approximation, since
    which one finishes first may depend on the proposal.

    **Start** (`RandomStart`, `FixedStart`, `BestOfCandidates`; see `_start.py`). A chain's
    first step evaluates its initial params, or adopts a finished trial as its start.

    **Resuming.** Heads, step counters and decisions are Optuna system attributes (see
    `_chain_storage.py`), read with O(1) storage calls per trial. A decision counts only once
    its trial is finished: if the process dies between `after_trial` and the end of the trial,
    the step is rolled back and proposed again. Random draws come from
    `numpy.random.SeedSequence(seed, spawn_key=(chain, step, draw, purpose))`, so with the same
    seed and history a resumed chain proposes the same params (the killed step included).

    Args:
        search_space: Parameter name to `IntDistribution`, or to `CategoricalDistribution` with
            numeric choices in strictly increasing or decreasing order (the bit-width lists).
            The order of the mapping is the order of the chain's coordinates.
        chains: The chains: their scores, temperatures, number and the ids this sampler
            advances. `None`: `ChainSettings()`, one chain at `T = 0.01` scoring the single
            objective.
        proposal: How a neighbour is proposed. `None`: `ProposalSettings()`, one parameter per
            move, the forced boundary, no filter.
        start: Where each chain starts. `None`: `RandomStart()`.
        record_user_attrs: Mirror each trial's chain id, step, parent trial number, score,
            acceptance probability and accepted flag into user attrs `mh_*` (for the dashboard).
        seed: Seed of all random draws. `None`: a fresh seed per instance.

    Raises:
        ValueError: If an argument is invalid; the message names it.
    """

    def __init__(
        self,
        *,
        search_space: Mapping[str, BaseDistribution],
        chains: ChainSettings | None = None,
        proposal: ProposalSettings | None = None,
        start: StartPolicy | None = None,
        record_user_attrs: bool = True,
        seed: int | None = None,
    ) -> None:
        self._space = OrderedSearchSpace(search_space)
        chains = ChainSettings() if chains is None else chains
        proposal = ProposalSettings() if proposal is None else proposal
        start = RandomStart() if start is None else start
        if not isinstance(chains, ChainSettings):
            raise ValueError(f"chains must be a ChainSettings, got {chains!r}")
        if not isinstance(proposal, ProposalSettings):
            raise ValueError(f"proposal must be a ProposalSettings, got {proposal!r}")
        if not isinstance(start, RandomStart | FixedStart | BestOfCandidates):
            raise ValueError(
                f"start must be a RandomStart, FixedStart or BestOfCandidates, got {start!r}"
            )
        if chains.front is not None and not isinstance(start, BestOfCandidates):
            raise ValueError("FrontWeights reads the weights off start=BestOfCandidates(...)")
        check_seed(seed)
        self._n_chains = chains.count
        self._scores = chains.scores
        self._front = chains.front
        self._temperatures = chains.temperatures
        self._chain_ids = chains.advanced
        self._kernel = proposal.kernel(self._space)
        self._starter = start.bind(self._space, self._kernel)
        self._record_user_attrs = bool(record_user_attrs)

        entropy = seed if seed is not None else np.random.SeedSequence().entropy
        assert isinstance(entropy, int | np.integer)
        self._entropy = int(entropy)
        self._random_sampler = RandomSampler(seed=seed)
        self._chains = ChainStorage(user_attrs=self._record_user_attrs)

    @property
    def n_chains(self) -> int:
        """Number of chains in the study."""
        return self._n_chains

    @property
    def chain_ids(self) -> tuple[int, ...]:
        """The chains this instance advances."""
        return self._chain_ids

    # -- pickling (the per-process memory is not state) ------------------------

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_chains"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._chains = ChainStorage(user_attrs=self._record_user_attrs)

    # -- BaseSampler --------------------------------------------------------------------------

    def reseed_rng(self) -> None:
        """Reseed the fallback sampler of parameters outside the search space.

        The chains' draws are keyed by (seed, chain, step), which already differ between chains
        and steps, so they are not reseeded.
        """
        self._random_sampler.reseed_rng()

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        """The fixed search space given to the constructor."""
        return dict(self._space.distributions)

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        """Propose the next step of a chain: its start or a neighbour of its head."""
        names = [name for name in self._space.names if name in search_space]
        if not names:
            return {}
        memory = self._chains.memory(study)
        params = self._known_params(trial, memory)
        if params is None:
            params = self._propose(study, trial, memory)
        return {name: params[name] for name in names}

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        """Parameters outside the chain's search space are drawn uniformly at random."""
        sampler = self._random_sampler
        return sampler.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        """Accept or reject the trial's proposal, in step order, and commit it by CAS.

        A trial whose earlier steps are still being evaluated by other workers waits for them
        (`_workers.py`). A FAIL trial without the user attr `fail_reason` (the objective did not
        report a failure of the evaluation: e.g. an interrupted run) is no decision: its claim is
        released and the same proposal is made again.
        """
        self._random_sampler.after_trial(study, trial, state, values)
        memory = self._chains.memory(study)
        record = memory.proposals.pop(trial._trial_id, None)
        memory.candidates.pop(trial._trial_id, None)
        if record is None:
            data = trial.system_attrs.get(PROPOSAL_KEY)
            if data is None or DECISION_KEY in trial.system_attrs:
                return  # Not a chain trial, or already decided.
            record = ProposalRecord.from_json(data)
        if record.chain >= self._n_chains:
            _logger.warning(
                "trial %d belongs to chain %d, but this sampler has %d chains; "
                "its proposal is left undecided",
                trial.number,
                record.chain,
                self._n_chains,
            )
            return
        if state == TrialState.FAIL and FAIL_REASON_ATTR not in trial.user_attrs:
            release(
                self._chains,
                study,
                trial,
                state,
                record,
                "stale: failed without fail_reason; proposed again",
            )
            return
        waiter = Waiter(study, trial._trial_id)
        while True:
            attrs = self._chains.read_study_attrs(study)
            view = self._chains.view(study, attrs, record.chain)
            chain_state = view.strict
            head = None if chain_state.head is None else chain_state.head.number
            if view.settling or (chain_state.step < record.step and head == record.parent):
                # Earlier steps of this head are in evaluation (or their decision's trial is
                # finishing): wait, unless one of them has no running trial any more.
                if view.settling or earlier_steps_alive(view, record):
                    if not waiter.expired:
                        waiter.tick()
                        continue
                release(
                    self._chains, study, trial, state, record, off_path_reason(record, chain_state)
                )
                return
            if is_stale(record, chain_state):
                reason = off_path_reason(record, chain_state)
                release(self._chains, study, trial, state, record, reason)
                return
            decision, new_state = self._decide(study, trial, state, values, record, chain_state)
            claims = tuple(c for c in view.claims if c[2] != trial.number)
            if not self._chains.commit_chain(
                study,
                record.chain,
                view,
                claims=claims,
                pending_trial=trial.number,
                pending_state=new_state,
            ):
                continue  # Another worker changed the chain's record: read it again.
            self._chains.write_decision(study, trial._trial_id, record, decision)
            if record.kind == "init" and decision.accepted and new_state.head is not None:
                self._starter.offer(self._chains, study, attrs, new_state.head)
            return

    # -- the chain ----------------------------------------------------------------------------

    def _score_function(self, study: Study, chain: int) -> ScoreFunction:
        if self._front is not None:
            return FrontScore(self._front, self._chains, study, chain)
        chain_score = self._scores[chain]
        if chain_score is None:
            return default_score(study.directions)
        return chain_score

    def _temperature(self, chain: int, step: int) -> float:
        temperature = float(self._temperatures[chain](step))
        if not (math.isfinite(temperature) and temperature > 0):
            raise ValueError(
                f"temperature of chain {chain} at step {step} must be a finite number > 0, "
                f"got {temperature!r}"
            )
        return temperature

    def _rng(self, chain: int, step: int, draw: int, purpose: int) -> np.random.Generator:
        sequence = np.random.SeedSequence(self._entropy, spawn_key=(chain, step, draw, purpose))
        return np.random.Generator(np.random.PCG64(sequence))

    @staticmethod
    def _known_params(trial: FrozenTrial, memory: StudyMemory) -> Mapping[str, Any] | None:
        """The params already proposed for `trial` (by this process or, per storage, another)."""
        record = memory.proposals.get(trial._trial_id)
        if record is not None:
            return record.params
        candidate = memory.candidates.get(trial._trial_id)
        if candidate is not None:
            return candidate
        if PROPOSAL_KEY in trial.system_attrs:
            return ProposalRecord.from_json(trial.system_attrs[PROPOSAL_KEY]).params
        data = trial.system_attrs.get(CANDIDATE_KEY)
        if data is not None and int(data["index"]) >= 0:
            return dict(data["params"])
        return None

    def _propose(self, study: Study, trial: FrozenTrial, memory: StudyMemory) -> Mapping[str, Any]:
        """Pick a chain, claim its next free step by CAS, and record the proposal.

        The chain is the one with the fewest running trials on its current head, then the
        fewest steps (so chains in one worker take turns, and N workers on N chains take one
        chain each). A chain without a head gets its start; a chain whose start is being
        evaluated is skipped, and when every chain is, the trial waits.
        """
        for chain in self._chain_ids:
            self._score_function(study, chain)  # A multi-objective study without a score fails.
        waiter = Waiter(study, trial._trial_id)
        while True:
            attrs = self._chains.read_study_attrs(study)
            views = self._chains.views(study, attrs, self._chain_ids)

            busy = {c: len(on_path(views[c])) for c in self._chain_ids}
            ready = [c for c in self._chain_ids if views[c].optimistic.head or not busy[c]]
            if not ready:
                waiter.tick()
                continue
            chain = min(ready, key=lambda c: (busy[c], views[c].optimistic.step, c))
            view = views[chain]
            state = view.optimistic
            adopted: ChainState | None = None
            if state.head is None:
                opening = self._starter.open(
                    self._chains,
                    study,
                    trial,
                    chain,
                    state,
                    attrs=attrs,
                    score_function=self._score_function(study, chain),
                )
                if isinstance(opening, CandidateTrial):
                    return opening.params
                if isinstance(opening, WaitForStart):
                    waiter.tick()
                    continue
                pending = (view.raw or {}).get("pending") or {}
                if opening is not None and opening.origin is not None:
                    if opening.origin.number == pending.get("trial"):
                        # The offered start is this chain's own latest decision, not settled
                        # in this read: read again rather than adopt it a second time.
                        waiter.tick()
                        continue
                    state = adopted = opening
            step = state.step if adopted is not None else free_step(view)
            rng = self._rng(chain, step, 0, _PROPOSE)
            if state.head is None:
                record = self._starter.initial_proposal(chain, step, 0, rng)
            else:
                record = self._step(chain, state, step, rng)
            claims = (*view.claims, (step, record.parent, trial.number, self._chains.worker))
            if self._chains.commit_chain(study, chain, view, claims=claims, committed=adopted):
                break
        self._chains.write_proposal(study, trial._trial_id, record)
        memory.proposals[trial._trial_id] = record
        return record.params

    def _step(
        self, chain: int, state: ChainState, step: int, rng: np.random.Generator
    ) -> ProposalRecord:
        """A neighbour of the chain's head, as the proposal for step `step` (>= `state.step`:
        later steps are pre-fetched along the rejection path)."""
        assert state.head is not None
        head = self._space.encode(state.head.params, argument="the chain head's params")
        proposal = self._kernel.at_step(step).draw(head, rng)
        return ProposalRecord(
            chain=chain,
            step=step,
            draw=0,
            kind="move",
            params=self._space.decode(proposal.state),
            parent=state.head.number,
            log_q_ratio=proposal.log_q_ratio,
        )

    def _decide(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
        record: ProposalRecord,
        chain_state: ChainState,
    ) -> tuple[DecisionRecord, ChainState]:
        score_function = self._score_function(study, record.chain)
        temperature = self._temperature(record.chain, record.step)

        def draw_uniform() -> float:
            return float(self._rng(record.chain, record.step, record.draw, _ACCEPT).random())

        return decide(
            record,
            chain_state,
            trial_number=trial.number,
            trial_params=trial.params,
            state=state,
            values=values,
            score_function=score_function,
            temperature=temperature,
            draw_uniform=draw_uniform,
        )
