"""`MetropolisHastingsSampler`: the AMED chain as an Optuna sampler.

One trial is one chain step. `sample_relative` picks a chain, reads its head from the storage and
proposes a neighbour of it (`_proposals.py`); the objective evaluates the proposal; `after_trial`
scores the trial and accepts or rejects the move with the Metropolis–Hastings probability
(`_acceptance.py`), and stores the decision and the new head (`_chain_state.py`). All chain state
lives in the storage, so a killed study resumes the same chains and worker processes can share a
study. Random draws are derived from `(seed, chain, step)`, not from a running generator, so a
resumed chain makes the same proposals it would have made without the interruption.
"""

from __future__ import annotations

import logging
import math
import threading
import warnings
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

import numpy as np
from optuna.samplers import BaseSampler
from optuna.samplers import RandomSampler
from optuna.trial import TrialState

from amed_opt.samplers._acceptance import acceptance_probability
from amed_opt.samplers._chain_state import CANDIDATE_KEY
from amed_opt.samplers._chain_state import DECISION_KEY
from amed_opt.samplers._chain_state import PROPOSAL_KEY
from amed_opt.samplers._chain_state import ChainState
from amed_opt.samplers._chain_state import ChainStorage
from amed_opt.samplers._chain_state import DecisionRecord
from amed_opt.samplers._chain_state import Head
from amed_opt.samplers._chain_state import ProposalRecord
from amed_opt.samplers._chain_state import StudyMemory
from amed_opt.samplers._proposals import Boundary
from amed_opt.samplers._proposals import NeighbourProposal
from amed_opt.samplers._score import ScoreFunction
from amed_opt.samplers._score import default_score
from amed_opt.samplers._space import OrderedSearchSpace
from amed_opt.samplers._temperature import ConstantTemperature
from amed_opt.samplers._temperature import TemperatureSchedule


if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution
    from optuna.study import Study
    from optuna.trial import FrozenTrial


__all__ = ["MetropolisHastingsSampler"]

_logger = logging.getLogger(__name__)

# Purposes of the per-step random streams (the last element of their spawn key).
_PROPOSE = 0
_ACCEPT = 1

_MISSING = object()

TemperatureLike = float | TemperatureSchedule


def _as_schedule(value: Any, where: str) -> TemperatureSchedule:
    if isinstance(value, bool):
        raise ValueError(f"{where} must be a number > 0 or a schedule, got {value!r}")
    if isinstance(value, int | float):
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{where} must be a finite number > 0, got {value!r}")
        return ConstantTemperature(float(value))
    if callable(value):
        return value
    raise ValueError(f"{where} must be a number > 0 or a schedule, got {value!r}")


def _is_sequence(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


class MetropolisHastingsSampler(BaseSampler):
    """Metropolis–Hastings chains over ordered discrete parameters (per-layer bit widths).

    Each trial is one step of one chain. The trial evaluates a proposal drawn from the chain's
    head: `n_flips` distinct parameters, each moved one step up or down its list; at an end of
    the list the only legal step is taken (`boundary="forced"`, METHOD.md §5) or the parameter
    steps inward or stays with probability 1/2 each (`boundary="lazy"`). After the trial, the
    proposal becomes the head with probability

        alpha = min(1, exp((Q(b') - Q(b)) / T) * q(b | b') / q(b' | b)),

    where `Q` is the chain's score of the trial values and `q` the proposal probability (not
    symmetric at the ends of a list for "forced", renormalised when a draw is redrawn because
    `proposal_filter` rejects it or, for "lazy", because it changes nothing). With a constant
    temperature, each chain's stationary distribution is `pi(b) ∝ exp(Q(b) / T)` on the
    allocations the filter accepts. Failed and pruned trials, and
    trials whose evaluated params differ from the proposal (e.g. fixed by `enqueue_trial`), are
    rejected proposals. Trials this sampler did not propose (all params fixed) belong to no chain.

    **Several chains.** A study may hold `n_chains` chains, numbered from 0; chain `c` uses
    `score[c]` and `temperature[c]` when those are sequences (for example one `QualityScore` per
    latency weight). One sampler advances the chains in `chain_ids` (default: all): each new
    trial goes to the chain with no trial in flight and the fewest steps, so chains in one
    process take turns. For one chain per worker process, give every worker the same `score` and
    `temperature` lists and its own `chain_ids=[i]`. A chain's state is written only by trials of
    that chain, so chains never disturb each other. Each chain is an exact MH chain as long as at
    most one of its trials runs at a time; if more trials run at once than there are chains (e.g.
    `n_jobs` larger than the number of chains), the extra trials also start from the head, and
    only the first one to finish counts as the step (the others are marked stale) — an
    approximation, since which one finishes first may depend on the proposal.

    **Shared start.** With `initial_params` and `share_initial_trial`, a chain that starts after
    another chain's initial trial has COMPLETED adopts that trial as its own start (scored with
    its own score) instead of evaluating the same params again. The adoption counts as that
    chain's step; the trial's user attrs keep naming the chain that ran it.

    **Best start.** With `start_candidates` (e.g. the uniform allocations from 8 down to 2 bits),
    the first trials evaluate each candidate once, in order, as trials of no chain; then every
    chain starts from the finished candidate its own score ranks highest (an adopted start), so a
    chain of large latency weight starts low and one of small weight starts high. Any start
    leaves the chain's stationary distribution unchanged; a good one saves the walk there.

    **Resuming.** Heads, step counters and decisions are Optuna system attributes (see
    `_chain_state.py`), read with O(1) storage calls per trial. A decision counts only once its
    trial is finished: if the process dies between `after_trial` and the end of the trial, the
    step is rolled back and proposed again. Random draws come from
    `numpy.random.SeedSequence(seed, spawn_key=(chain, step, draw, purpose))`, so with the same
    seed and history a resumed chain proposes the same params (the killed step included).

    Args:
        search_space: Parameter name to `IntDistribution`, or to `CategoricalDistribution` with
            numeric choices in strictly increasing or decreasing order (the bit-width lists).
            The order of the mapping is the order of the chain's coordinates.
        temperature: `T > 0` in units of the score, a schedule (`ConstantTemperature`,
            `GeometricAnnealing`, or any callable `step -> T`), or a sequence of those, one per
            chain. A schedule is called with the chain step (0 for the initial evaluation).
        n_flips: Number of parameters chosen per proposal. With `boundary="forced"` and an
            even `n_flips` every move keeps the parity of the summed list indices, so the chain
            reaches only half of the space (a warning is issued).
        boundary: What a chosen parameter at an end of its list does: `"forced"` takes the only
            legal step (the paper's proposal; leaving an end costs a Hastings factor 1/2 per
            parameter), `"lazy"` steps inward or stays, 1/2 each (a symmetric proposal that
            leaves the all-8-bit corner as easily as any state; see `_proposals.py`).
        score: Maps a finished trial's values to the quality `Q` to maximise, or a sequence of
            such callables, one per chain. `None`: the objective value of a single-objective
            study (negated when minimised); a multi-objective study needs a score.
        proposal_filter: Predicate on params (name to value). A proposal it rejects is never
            evaluated: the proposal is redrawn, and the Hastings factor accounts for it exactly.
            It must be deterministic; it is memoised.
        initial_params: Params of every chain's first trial (e.g. uniform 8 bits). `None` (and
            no `start_candidates`): each chain starts from a uniform random draw the filter
            accepts.
        start_candidates: Params evaluated once each, in order, before any chain moves; each
            chain then starts from the one with the highest score (its own). Not together with
            `initial_params`. A candidate whose trial fails is evaluated again once; if none
            completes, the chains start from an evaluation of the first.
        n_chains: Number of chains. `None`: the length of `score` or `temperature` when one is
            a sequence, else 1.
        chain_ids: The chains this instance advances. `None`: all.
        share_initial_trial: Let chains adopt a COMPLETE trial of `initial_params` as their start.
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
        temperature: TemperatureLike | Sequence[TemperatureLike] = 0.01,
        n_flips: int = 1,
        boundary: Boundary | str = Boundary.FORCED,
        score: ScoreFunction | Sequence[ScoreFunction] | None = None,
        proposal_filter: Callable[[dict[str, Any]], bool] | None = None,
        initial_params: Mapping[str, Any] | None = None,
        start_candidates: Sequence[Mapping[str, Any]] | None = None,
        n_chains: int | None = None,
        chain_ids: Sequence[int] | None = None,
        share_initial_trial: bool = True,
        record_user_attrs: bool = True,
        seed: int | None = None,
    ) -> None:
        self._space = OrderedSearchSpace(search_space)

        if isinstance(n_flips, bool) or not isinstance(n_flips, int) or n_flips < 1:
            raise ValueError(f"n_flips must be an int >= 1, got {n_flips!r}")
        if n_flips > len(self._space.movable):
            raise ValueError(
                f"n_flips ({n_flips}) must not exceed the number of parameters with more than "
                f"one value ({len(self._space.movable)})"
            )
        try:
            self._boundary = Boundary(boundary)
        except ValueError:
            choices = ", ".join(repr(b.value) for b in Boundary)
            raise ValueError(f"boundary must be one of {choices}, got {boundary!r}") from None
        if n_flips % 2 == 0 and self._boundary is Boundary.FORCED:
            warnings.warn(
                f"n_flips={n_flips} is even: every move keeps the parity of the summed list "
                "indices, so each chain only reaches half of the search space",
                UserWarning,
                stacklevel=2,
            )
        self._n_flips = n_flips

        self._n_chains = self._resolve_n_chains(n_chains, score, temperature)
        scores: list[ScoreFunction | None]
        if _is_sequence(score):
            scores = list(score)  # type: ignore[arg-type]
        else:
            scores = [score] * self._n_chains  # type: ignore[list-item]
        for chain, chain_score in enumerate(scores):
            if chain_score is not None and not callable(chain_score):
                raise ValueError(f"score[{chain}] must be callable, got {chain_score!r}")
        self._scores = scores
        if _is_sequence(temperature):
            self._temperatures = [
                _as_schedule(value, f"temperature[{chain}]")
                for chain, value in enumerate(temperature)  # type: ignore[arg-type]
            ]
        else:
            self._temperatures = [_as_schedule(temperature, "temperature")] * self._n_chains

        if chain_ids is None:
            self._chain_ids: tuple[int, ...] = tuple(range(self._n_chains))
        else:
            ids = tuple(chain_ids)
            if (
                not ids
                or len(set(ids)) != len(ids)
                or any(isinstance(c, bool) or not isinstance(c, int) for c in ids)
                or any(not 0 <= c < self._n_chains for c in ids)
            ):
                raise ValueError(
                    f"chain_ids must be distinct ints in [0, {self._n_chains}), got {chain_ids!r}"
                )
            self._chain_ids = ids

        if proposal_filter is not None and not callable(proposal_filter):
            raise ValueError(f"proposal_filter must be callable, got {proposal_filter!r}")
        self._kernel = NeighbourProposal(
            self._space,
            n_flips=n_flips,
            boundary=self._boundary,
            proposal_filter=proposal_filter,
        )

        self._initial_state: tuple[int, ...] | None = None
        if initial_params is not None:
            self._initial_state = self._space.encode(initial_params, argument="initial_params")
            if not self._kernel.is_allowed(self._initial_state):
                raise ValueError("initial_params must be accepted by proposal_filter")
        self._candidates = self._check_candidates(start_candidates, initial_params)
        self._share_initial_trial = bool(share_initial_trial)
        self._record_user_attrs = bool(record_user_attrs)

        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)):
            raise ValueError(f"seed must be an int or None, got {seed!r}")
        if seed is not None and seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        entropy = seed if seed is not None else np.random.SeedSequence().entropy
        assert isinstance(entropy, int | np.integer)
        self._entropy = int(entropy)
        self._random_sampler = RandomSampler(seed=seed)
        self._chains = ChainStorage()
        self._lock = threading.Lock()
        self._warned_speculative = False

    def _check_candidates(
        self, candidates: Sequence[Mapping[str, Any]] | None, initial_params: Any
    ) -> tuple[dict[str, Any], ...]:
        if candidates is None:
            return ()
        if initial_params is not None:
            raise ValueError("pass either initial_params or start_candidates, not both")
        if not _is_sequence(candidates) or not candidates:
            raise ValueError(
                f"start_candidates must be a non-empty sequence of params, got {candidates!r}"
            )
        states = []
        for index, params in enumerate(candidates):
            if not isinstance(params, Mapping):
                raise ValueError(f"start_candidates[{index}] must be a mapping, got {params!r}")
            state = self._space.encode(params, argument=f"start_candidates[{index}]")
            if not self._kernel.is_allowed(state):
                raise ValueError(f"start_candidates[{index}] must be accepted by proposal_filter")
            states.append(state)
        if len(set(states)) != len(states):
            raise ValueError("start_candidates must be distinct")
        return tuple(self._space.decode(state) for state in states)

    @staticmethod
    def _resolve_n_chains(n_chains: int | None, score: Any, temperature: Any) -> int:
        lengths = {
            name: len(value)
            for name, value in (("score", score), ("temperature", temperature))
            if _is_sequence(value)
        }
        if n_chains is not None:
            if isinstance(n_chains, bool) or not isinstance(n_chains, int) or n_chains < 1:
                raise ValueError(f"n_chains must be an int >= 1, got {n_chains!r}")
            lengths["n_chains"] = n_chains
        if len(set(lengths.values())) > 1:
            raise ValueError(
                "score, temperature and n_chains disagree on the number of chains: "
                + ", ".join(f"{name} gives {length}" for name, length in lengths.items())
            )
        resolved = next(iter(lengths.values()), 1)
        if resolved < 1:
            raise ValueError("score and temperature sequences must not be empty")
        return resolved

    # -- public properties ------------------------------------------------------------------

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
        self._chains = ChainStorage()

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
        """Propose the next step of a chain: its initial params or a neighbour of its head."""
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
            self._chains.write_decision(
                study, trial._trial_id, decision, user_attrs=self._record_user_attrs
            )
            if new_state is None:
                return
            self._chains.write_chain(
                study,
                record.chain,
                chain_state,
                pending_trial=trial.number,
                pending_state=new_state,
            )
            if (
                record.kind == "init"
                and decision.accepted
                and self._share_initial_trial
                and self._initial_state is not None
                and new_state.head is not None
                and self._chains.initial_trial(study, attrs, new_state.head.params) is None
            ):
                self._chains.write_initial_trial(study, new_state.head)

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

    def _adopt_initial_trial(
        self, study: Study, attrs: Mapping[str, Any], chain: int, state: ChainState
    ) -> ChainState:
        """Start `chain` from a COMPLETE trial of the initial params, if there is one."""
        if not self._share_initial_trial or self._initial_state is None:
            return state
        initial = self._chains.initial_trial(study, attrs, self._space.decode(self._initial_state))
        if initial is None:
            return state
        score = float(self._score_function(study, chain)(initial.values))
        if not math.isfinite(score):
            return state
        head = Head(
            number=initial.number, params=initial.params, values=initial.values, score=score
        )
        return self._adopt(study, chain, state, head)

    def _adopt(self, study: Study, chain: int, state: ChainState, head: Head) -> ChainState:
        """Make the finished trial `head` the start of `chain` (one step, an adopted origin)."""
        adopted = ChainState(
            step=state.step + 1,
            head=head,
            last_trial=state.last_trial,
            origin=head,
            origin_step=state.step,
        )
        self._chains.write_chain(study, chain, adopted)
        return adopted

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

    def _start_from_candidates(
        self, study: Study, trial: FrozenTrial, chain: int, state: ChainState, memory: StudyMemory
    ) -> dict[str, Any] | ChainState | None:
        """A candidate to evaluate now, or the chain adopting the best finished one.

        `None` when no candidate completed: the chain then evaluates the first one itself.
        """
        found = self._chains.candidate_trials(study)
        for index, params in enumerate(self._candidates):
            trials = found.get(index, [])
            failed = sum(1 for t in trials if t.state == TrialState.FAIL)
            if failed < 2 and all(t.state == TrialState.FAIL for t in trials):
                self._chains.write_candidate(
                    study, trial._trial_id, index, params, user_attrs=self._record_user_attrs
                )
                memory.candidates[trial._trial_id] = params
                return params
        score_function = self._score_function(study, chain)
        best: tuple[float, int] | None = None
        best_trial: FrozenTrial | None = None
        for trials in found.values():
            for candidate in trials:
                if candidate.state != TrialState.COMPLETE or candidate.values is None:
                    continue
                score = float(score_function(candidate.values))
                # Highest score first; the earliest trial among equal scores.
                if math.isfinite(score) and (best is None or (score, -candidate.number) > best):
                    best, best_trial = (score, -candidate.number), candidate
        if best is None or best_trial is None:
            return None
        head = Head(
            number=best_trial.number,
            params={name: best_trial.params[name] for name in self._space.names},
            values=tuple(float(v) for v in best_trial.values),
            score=best[0],
        )
        return self._adopt(study, chain, state, head)

    def _propose(self, study: Study, trial: FrozenTrial, memory: StudyMemory) -> Mapping[str, Any]:
        for chain in self._chain_ids:
            self._score_function(study, chain)  # A multi-objective study without a score fails.
        attrs = self._chains.read_study_attrs(study)
        states = {c: self._chains.chain_state(study, attrs, c) for c in self._chain_ids}
        busy = {c: self._in_flight_at(memory, c, states[c].step) for c in self._chain_ids}
        chain = min(self._chain_ids, key=lambda c: (busy[c], states[c].step, c))
        state = states[chain]
        initial_state = self._initial_state
        if state.head is None:
            state = self._adopt_initial_trial(study, attrs, chain, state)
        if state.head is None and self._candidates:
            start = self._start_from_candidates(study, trial, chain, state, memory)
            if isinstance(start, ChainState):
                state = start
            elif start is not None:
                return start
            else:
                initial_state = self._space.encode(self._candidates[0])
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
            target = initial_state
            if target is None:
                target = self._kernel.random_state(rng)
            record = ProposalRecord(
                chain=chain,
                step=state.step,
                draw=draw,
                kind="init",
                params=self._space.decode(target),
                parent=None,
                log_q_ratio=0.0,
            )
        else:
            head = self._space.encode(state.head.params, argument="the chain head's params")
            proposal = self._kernel.draw(head, rng)
            record = ProposalRecord(
                chain=chain,
                step=state.step,
                draw=draw,
                kind="move",
                params=self._space.decode(proposal.state),
                parent=state.head.number,
                log_q_ratio=proposal.log_q_ratio,
            )
        self._chains.write_proposal(
            study, trial._trial_id, record, user_attrs=self._record_user_attrs
        )
        memory.proposals[trial._trial_id] = record
        memory.in_flight[trial._trial_id] = (chain, record.step)
        return record.params

    def _decide(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
        record: ProposalRecord,
        chain_state: ChainState,
    ) -> tuple[DecisionRecord, ChainState | None]:
        head = chain_state.head
        if chain_state.step != record.step or (head.number if head else None) != record.parent:
            stale = DecisionRecord(
                state=state.name,
                accepted=False,
                stale=True,
                acceptance_probability=None,
                score=None,
                head_score=None,
                temperature=None,
                reason=(
                    f"stale: chain {record.chain} was at step {chain_state.step} when the trial "
                    f"for step {record.step} finished"
                ),
                previous=None,
            )
            return stale, None

        score_function = self._score_function(study, record.chain)
        temperature = self._temperature(record.chain, record.step)
        head_score = None if head is None else float(score_function(head.values))
        score: float | None = None
        alpha = 0.0
        accepted = False
        reason = ""
        if state != TrialState.COMPLETE or values is None:
            reason = f"trial {state.name.lower()}"
        elif any(
            trial.params.get(name, _MISSING) != value for name, value in record.params.items()
        ):
            reason = "the trial's params differ from the proposal"
        else:
            score = float(score_function(values))
            if not math.isfinite(score):
                reason = "score is not finite"
            elif record.kind == "init" or head_score is None or not math.isfinite(head_score):
                alpha = 1.0
                accepted = True
            else:
                alpha = acceptance_probability(
                    score, head_score, temperature=temperature, log_q_ratio=record.log_q_ratio
                )
                uniform = self._rng(record.chain, record.step, record.draw, _ACCEPT).random()
                accepted = bool(uniform < alpha)

        decision = DecisionRecord(
            state=state.name,
            accepted=accepted,
            stale=False,
            acceptance_probability=alpha,
            score=score,
            head_score=head_score,
            temperature=temperature,
            reason=reason,
            previous=chain_state.last_trial,
        )
        new_head = head
        if accepted:
            assert values is not None and score is not None
            new_head = Head(
                number=trial.number,
                params=dict(record.params),
                values=tuple(float(v) for v in values),
                score=score,
            )
        new_state = ChainState(
            step=record.step + 1,
            head=new_head,
            last_trial=trial.number,
            origin=chain_state.origin,
            origin_step=chain_state.origin_step,
        )
        return decision, new_state
