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
import threading
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

import numpy as np
from optuna.samplers import BaseSampler
from optuna.samplers import RandomSampler

from amed_opt.samplers._acceptance import decide
from amed_opt.samplers._acceptance import is_stale
from amed_opt.samplers._acceptance import stale_decision
from amed_opt.samplers._chain_storage import CANDIDATE_KEY
from amed_opt.samplers._chain_storage import DECISION_KEY
from amed_opt.samplers._chain_storage import PROPOSAL_KEY
from amed_opt.samplers._chain_storage import ChainStorage
from amed_opt.samplers._chain_storage import StudyMemory
from amed_opt.samplers._records import ChainState
from amed_opt.samplers._records import DecisionRecord
from amed_opt.samplers._records import ProposalRecord
from amed_opt.samplers._score import ScoreFunction
from amed_opt.samplers._score import default_score
from amed_opt.samplers._settings import ChainSettings
from amed_opt.samplers._settings import ProposalSettings
from amed_opt.samplers._space import OrderedSearchSpace
from amed_opt.samplers._start import BestOfCandidates
from amed_opt.samplers._start import CandidateTrial
from amed_opt.samplers._start import FixedStart
from amed_opt.samplers._start import RandomStart
from amed_opt.samplers._start import StartPolicy


if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution
    from optuna.study import Study
    from optuna.trial import FrozenTrial
    from optuna.trial import TrialState


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
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)):
            raise ValueError(f"seed must be an int or None, got {seed!r}")
        if seed is not None and seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")

        self._n_chains = chains.count
        self._scores = chains.scores
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
        self._lock = threading.Lock()
        self._warned_speculative = False

    @property
    def n_chains(self) -> int:
        """Number of chains in the study."""
        return self._n_chains

    @property
    def chain_ids(self) -> tuple[int, ...]:
        """The chains this instance advances."""
        return self._chain_ids

    # -- pickling (the lock and the per-process memory are not state) ------------------------

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]
        del state["_chains"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
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
        with self._lock:
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
        return self._random_sampler.sample_independent(
            study, trial, param_name, param_distribution
        )

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        """Accept or reject the trial's proposal and store the decision and the new head."""
        self._random_sampler.after_trial(study, trial, state, values)
        with self._lock:
            memory = self._chains.memory(study)
            record = memory.proposals.pop(trial._trial_id, None)
            memory.in_flight.pop(trial._trial_id, None)
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
            attrs = self._chains.read_study_attrs(study)
            chain_state = self._chains.chain_state(study, attrs, record.chain)
            decision, new_state = self._decide(study, trial, state, values, record, chain_state)
            self._chains.write_decision(study, trial._trial_id, decision)
            if new_state is None:
                return
            self._chains.write_chain(
                study,
                record.chain,
                chain_state,
                pending_trial=trial.number,
                pending_state=new_state,
            )
            if record.kind == "init" and decision.accepted and new_state.head is not None:
                self._starter.offer(self._chains, study, attrs, new_state.head)

    # -- the chain ----------------------------------------------------------------------------

    def _score_function(self, study: Study, chain: int) -> ScoreFunction:
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
    def _in_flight_at(memory: StudyMemory, chain: int, step: int) -> int:
        return sum(1 for entry in memory.in_flight.values() if entry == (chain, step))

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
        if CANDIDATE_KEY in trial.system_attrs:
            return dict(trial.system_attrs[CANDIDATE_KEY]["params"])
        return None

    def _propose(self, study: Study, trial: FrozenTrial, memory: StudyMemory) -> Mapping[str, Any]:
        """Pick a chain; start it if it has no head, else step it; record the proposal."""
        for chain in self._chain_ids:
            self._score_function(study, chain)  # A multi-objective study without a score fails.
        attrs = self._chains.read_study_attrs(study)
        states = {c: self._chains.chain_state(study, attrs, c) for c in self._chain_ids}
        busy = {c: self._in_flight_at(memory, c, states[c].step) for c in self._chain_ids}
        chain = min(self._chain_ids, key=lambda c: (busy[c], states[c].step, c))
        state = states[chain]
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
            if opening is not None:
                state = opening

        draw = self._in_flight_at(memory, chain, state.step)
        if draw and not self._warned_speculative:
            self._warned_speculative = True
            _logger.warning(
                "more trials are running than there are chains: trial %d also starts from the "
                "head of chain %d; only the first of them to finish counts as the step",
                trial.number,
                chain,
            )
        rng = self._rng(chain, state.step, draw, _PROPOSE)
        if state.head is None:
            record = self._starter.initial_proposal(chain, state.step, draw, rng)
        else:
            record = self._step(chain, state, draw, rng)
        self._chains.write_proposal(study, trial._trial_id, record)
        memory.proposals[trial._trial_id] = record
        memory.in_flight[trial._trial_id] = (chain, record.step)
        return record.params

    def _step(
        self, chain: int, state: ChainState, draw: int, rng: np.random.Generator
    ) -> ProposalRecord:
        """A neighbour of the chain's head, as the proposal for step `state.step`."""
        assert state.head is not None
        head = self._space.encode(state.head.params, argument="the chain head's params")
        proposal = self._kernel.draw(head, rng)
        return ProposalRecord(
            chain=chain,
            step=state.step,
            draw=draw,
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
    ) -> tuple[DecisionRecord, ChainState | None]:
        if is_stale(record, chain_state):
            return stale_decision(record, chain_state, state), None
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
