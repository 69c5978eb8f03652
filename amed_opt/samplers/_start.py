"""Where each chain starts: the sampler's start-up policy.

A chain without a head must first get one; only then can it take Metropolis–Hastings steps.
Three policies, each a frozen value validated when it is built:

* `RandomStart()` — each chain evaluates a uniform random draw that the proposal filter accepts.
* `FixedStart(params)` — every chain starts at `params` (the AMED studies: uniform 8 bits, or the
  highest uniform bitwidth under the size limit; METHOD.md §5). The first chain evaluates them;
  a chain that starts after that trial has COMPLETED adopts it as its own start (scored with its
  own score) instead of evaluating the same params again. The trial is offered to later chains
  through the study system attr `mh:init`.
* `BestOfCandidates(candidates, derive=None)` — each candidate is evaluated once, in order, as a
  trial of no chain (trial system attr `mh:candidate`); then, with `derive`, the candidates it
  derives from the results of the first ones, the same way; then every chain adopts the finished
  candidate that its own score ranks highest. A candidate whose trial fails is evaluated once
  more; if none completes, the chain evaluates the first candidate itself.

Any start leaves a chain's stationary distribution unchanged; a good one saves the walk there.
An adopted start is one chain step (kind `adopted` in `chain_history`). The sampler binds a
policy to its search space and proposal kernel (`bind`), which checks the params against both
and returns the `ChainStarter` that does the work.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any

from optuna.trial import TrialState

from amed_opt.samplers._candidates import DeriveCandidates
from amed_opt.samplers._candidates import DerivedCandidates
from amed_opt.samplers._candidates import candidate_claims
from amed_opt.samplers._candidates import candidate_trials
from amed_opt.samplers._candidates import claim_candidate
from amed_opt.samplers._candidates import params_key
from amed_opt.samplers._records import ChainState
from amed_opt.samplers._records import Head
from amed_opt.samplers._records import ProposalRecord


if TYPE_CHECKING:
    import numpy as np
    from optuna.study import Study
    from optuna.trial import FrozenTrial

    from amed_opt.samplers._chain_storage import ChainStorage
    from amed_opt.samplers._proposals import ProposalKernel
    from amed_opt.samplers._score import ScoreFunction
    from amed_opt.samplers._space import OrderedSearchSpace


__all__ = [
    "BestOfCandidates",
    "CandidateTrial",
    "ChainStarter",
    "FixedStart",
    "RandomStart",
    "StartPolicy",
    "WaitForStart",
]

State = tuple[int, ...]


@dataclass(frozen=True, slots=True)
class RandomStart:
    """Each chain starts from a uniform random draw that the proposal filter accepts."""

    def bind(self, space: OrderedSearchSpace, kernel: ProposalKernel) -> ChainStarter:
        """The starter of this policy on `space`."""
        return _RandomStarter(space, kernel)


@dataclass(frozen=True, slots=True)
class FixedStart:
    """Every chain starts at `params`; later chains adopt a COMPLETE trial of them.

    Args:
        params: A value for every parameter of the search space, accepted by the proposal
            filter (e.g. uniform 8 bits).

    Raises:
        ValueError: If `params` is not a mapping; at `bind`, if it is outside the search space
            or rejected by the filter.
    """

    params: Mapping[str, Any]

    def __post_init__(self) -> None:
        if not isinstance(self.params, Mapping):
            raise ValueError(f"FixedStart.params must be a mapping, got {self.params!r}")
        object.__setattr__(self, "params", dict(self.params))

    def bind(self, space: OrderedSearchSpace, kernel: ProposalKernel) -> ChainStarter:
        """The starter of this policy on `space`."""
        state = space.encode(self.params, argument="FixedStart.params")
        if not kernel.is_allowed(state):
            raise ValueError("FixedStart.params must be accepted by proposal_filter")
        return _FixedStarter(space, state)


@dataclass(frozen=True, slots=True)
class BestOfCandidates:
    """Evaluate each candidate once, in order; every chain starts from its best-scoring one.

    Args:
        candidates: Distinct params (a value for every parameter of the search space, accepted
            by the proposal filter), e.g. the uniform allocations from 8 down to 2 bits. Their
            trials count in the study's budget.
        derive: Optional `finished -> params`: called once every candidate has been evaluated
            (or has failed twice), with the `(params, values)` of those that completed, in
            candidate order; the params it returns are evaluated next, in order, as more
            candidates (those outside the search space raise; those the filter rejects or equal
            to an earlier candidate are left out). It must be deterministic in its argument:
            every worker calls it and must get the same list. The chains start only after
            these too are evaluated.

    Raises:
        ValueError: If `candidates` is empty or holds a non-mapping, or `derive` is not
            callable; at `bind`, if a candidate is outside the search space or rejected by the
            filter, or two are equal.
    """

    candidates: Sequence[Mapping[str, Any]]
    derive: DeriveCandidates | None = None

    def __post_init__(self) -> None:
        candidates = self.candidates
        if not isinstance(candidates, Sequence) or isinstance(candidates, str) or not candidates:
            raise ValueError(
                "BestOfCandidates.candidates must be a non-empty sequence of params, "
                f"got {candidates!r}"
            )
        for index, params in enumerate(candidates):
            if not isinstance(params, Mapping):
                raise ValueError(
                    f"BestOfCandidates.candidates[{index}] must be a mapping, got {params!r}"
                )
        object.__setattr__(self, "candidates", tuple(dict(params) for params in candidates))
        if self.derive is not None and not callable(self.derive):
            raise ValueError(f"BestOfCandidates.derive must be callable, got {self.derive!r}")

    def bind(self, space: OrderedSearchSpace, kernel: ProposalKernel) -> ChainStarter:
        """The starter of this policy on `space`."""
        states = []
        for index, params in enumerate(self.candidates):
            argument = f"BestOfCandidates.candidates[{index}]"
            state = space.encode(params, argument=argument)
            if not kernel.is_allowed(state):
                raise ValueError(f"{argument} must be accepted by proposal_filter")
            states.append(state)
        if len(set(states)) != len(states):
            raise ValueError("BestOfCandidates.candidates must be distinct")
        return _CandidateStarter(
            space, DerivedCandidates(space, tuple(states), kernel, self.derive)
        )


StartPolicy = RandomStart | FixedStart | BestOfCandidates
"""Where each chain starts."""


@dataclass(frozen=True, slots=True)
class CandidateTrial:
    """The trial evaluates a start candidate: params of no chain step."""

    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class WaitForStart:
    """The chain's start is being evaluated by running trials (start candidates): wait."""


def _adopt(state: ChainState, head: Head) -> ChainState:
    """`state` with the finished trial `head` as its start (one step, an adopted origin).

    The sampler commits it with the trial's claim, by compare-and-set.
    """
    return ChainState(
        step=state.step + 1,
        head=head,
        last_trial=state.last_trial,
        origin=head,
        origin_step=state.step,
    )


def _free(numbers: Sequence[int], states: Mapping[int, TrialState], me: int) -> bool:
    """Whether the trials `numbers` that hold a candidate leave it to trial `me`: every other
    one failed, and fewer than two did. A trial not in `states` was created after they were
    read: it is running."""
    held = [states.get(n, TrialState.RUNNING) for n in set(numbers) - {me}]
    return all(state == TrialState.FAIL for state in held) and len(held) < 2


def _free_with(
    claims: Sequence[int], *, marked: Sequence[int], states: Mapping[int, TrialState], me: int
) -> bool:
    """`_free` of the stored claimants and the trials marked with the candidate."""
    return _free([*claims, *marked], states, me)


class ChainStarter:
    """A start policy bound to a search space: gives a chain without a head its start.

    The base class evaluates the initial params (`initial_state`, which subclasses define) and
    shares nothing.
    """

    def __init__(self, space: OrderedSearchSpace) -> None:
        self._space = space

    def open(
        self,
        chains: ChainStorage,
        study: Study,
        trial: FrozenTrial,
        chain: int,
        state: ChainState,
        *,
        attrs: Mapping[str, Any],
        score_function: ScoreFunction,
    ) -> ChainState | CandidateTrial | WaitForStart | None:
        """What `trial` does for `chain`, whose state `state` has no head yet.

        Args:
            chains: The storage access (adoptions and candidates are written through it).
            study: The study.
            trial: The trial being sampled.
            chain: The chain id.
            state: The chain's current state (`state.head is None`).
            attrs: The study system attrs, as read for this proposal.
            score_function: The chain's score.

        Returns:
            The chain's state after adopting a finished trial as its start (the trial then
            makes the chain's next step; the sampler commits it); a `CandidateTrial` when the
            trial evaluates a start candidate instead; `WaitForStart` when the start
            candidates are all taken by running trials; `None` when the trial evaluates the
            chain's initial params (`initial_proposal`).
        """
        return None

    def initial_state(self, rng: np.random.Generator) -> State:
        """The list indices a chain evaluates as its initial params."""
        raise NotImplementedError

    def initial_proposal(
        self, chain: int, step: int, draw: int, rng: np.random.Generator
    ) -> ProposalRecord:
        """The record of a trial that evaluates `chain`'s initial params at `step`."""
        return ProposalRecord(
            chain=chain,
            step=step,
            draw=draw,
            kind="init",
            params=self._space.decode(self.initial_state(rng)),
            parent=None,
            log_q_ratio=0.0,
        )

    def offer(
        self, chains: ChainStorage, study: Study, attrs: Mapping[str, Any], head: Head
    ) -> None:
        """Called when a chain's initial evaluation `head` was accepted: share it if useful."""


class _RandomStarter(ChainStarter):
    def __init__(self, space: OrderedSearchSpace, kernel: ProposalKernel) -> None:
        super().__init__(space)
        self._kernel = kernel

    def initial_state(self, rng: np.random.Generator) -> State:
        return self._kernel.random_state(rng)


class _FixedStarter(ChainStarter):
    def __init__(self, space: OrderedSearchSpace, state: State) -> None:
        super().__init__(space)
        self._state = state
        self._params = space.decode(state)

    def open(
        self,
        chains: ChainStorage,
        study: Study,
        trial: FrozenTrial,
        chain: int,
        state: ChainState,
        *,
        attrs: Mapping[str, Any],
        score_function: ScoreFunction,
    ) -> ChainState | CandidateTrial | WaitForStart | None:
        """Adopt a COMPLETE trial of the fixed params, if another chain has evaluated them."""
        initial = chains.initial_trial(study, attrs, self._params)
        if initial is None:
            return None
        score = float(score_function(initial.values))
        if not math.isfinite(score):
            return None
        head = Head(
            number=initial.number, params=initial.params, values=initial.values, score=score
        )
        return _adopt(state, head)

    def initial_state(self, rng: np.random.Generator) -> State:
        return self._state

    def offer(
        self, chains: ChainStorage, study: Study, attrs: Mapping[str, Any], head: Head
    ) -> None:
        """Offer `head` to chains that start later, unless a COMPLETE trial is offered already."""
        if chains.initial_trial(study, attrs, head.params) is None:
            chains.write_initial_trial(study, head)


class _CandidateStarter(ChainStarter):
    def __init__(self, space: OrderedSearchSpace, candidates: DerivedCandidates) -> None:
        super().__init__(space)
        self._candidates = candidates

    def open(
        self,
        chains: ChainStorage,
        study: Study,
        trial: FrozenTrial,
        chain: int,
        state: ChainState,
        *,
        attrs: Mapping[str, Any],
        score_function: ScoreFunction,
    ) -> ChainState | CandidateTrial | WaitForStart | None:
        """A candidate to evaluate now, or the chain adopting the best finished one.

        A trial takes the first candidate that no other trial holds (a candidate is held by
        the trials that claimed or evaluated it, unless they failed; one that failed twice is
        left), by compare-and-set on the study's claims, so no candidate is evaluated twice at
        once, and marks itself with it. `WaitForStart` while candidates are still held by
        running trials (the derived candidates, if any, are known only when the first ones
        have finished); `None` when no candidate completed: the chain then evaluates the first
        one itself.
        """
        taken: set[int] = set()
        while True:
            # Candidates are matched by their params, not their index: a list that changed
            # between runs (e.g. a new budget changed the number of probes) still sees what
            # was evaluated.
            # One read of the trials (O(n) storage work, only while a chain has no head), then
            # the claims: a claimant missing from the read came later and counts as running.
            every = study.get_trials(deepcopy=False)
            found = candidate_trials(every)
            others = {
                key: [t for t in trials if t.number != trial.number]
                for key, trials in found.items()
            }
            states = {t.number: t.state for t in every}
            holders = candidate_claims(study)
            for key, trials in found.items():
                # Marked trials hold their candidate too (studies begun before the claims).
                holders.setdefault(key, []).extend(t.number for t in trials)
            listed = self._candidates.listed(others)
            choice = next(
                (
                    index
                    for index, params in enumerate(listed)
                    if index not in taken
                    and _free(holders.get(params_key(params), []), states, trial.number)
                ),
                None,
            )
            if choice is None:
                break
            marked = [t.number for t in found.get(params_key(listed[choice]), [])]
            if claim_candidate(
                study,
                trial.number,
                listed[choice],
                functools.partial(_free_with, marked=marked, states=states, me=trial.number),
            ):
                chains.write_candidate(study, trial._trial_id, choice, listed[choice])
                chains.memory(study).candidates[trial._trial_id] = listed[choice]
                return CandidateTrial(listed[choice])
            taken.add(choice)
        if any(
            states.get(n, TrialState.RUNNING) == TrialState.RUNNING
            for numbers in holders.values()
            for n in set(numbers) - {trial.number}
        ):
            return WaitForStart()
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
        return _adopt(state, head)

    def initial_state(self, rng: np.random.Generator) -> State:
        return self._candidates.first_state
