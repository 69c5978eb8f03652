"""A greedy bit-lowering baseline, in the manner of AIMET's automatic mixed precision.

`GreedySampler` walks down from a uniform start: each *round* it evaluates every searched
parameter lowered by one step from the current allocation, then moves to the candidate that
loses the least accuracy per latency saved, and repeats until the study's budget ends.

It keeps no state of its own. Every call re-derives the walk from the study's finished trials
(the start, then each round's candidates and its choice), so a killed study resumes exactly where
it stopped and any process may continue it. Ties are broken by a generator keyed by
`(seed, round)` rather than one that advances with every trial, for the same reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

import numpy as np
from optuna.samplers import BaseSampler
from optuna.samplers import RandomSampler
from optuna.trial import TrialState

from amed_opt.samplers._score import ScoreFunction
from amed_opt.samplers._space import OrderedSearchSpace


if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution
    from optuna.study import Study
    from optuna.trial import FrozenTrial

__all__ = ["GREEDY_KEY", "GreedySampler"]

GREEDY_KEY = "greedy:proposal"
"""Trial system attribute: `{"params", "round", "kind"}` of the greedy proposal (kind `start`,
`step` or `fallback`), so that other processes see what a running trial evaluates."""

State = tuple[int, ...]
"""An allocation as a tuple of value positions, each counted from the parameter's lowest value."""


class GreedySampler(BaseSampler):
    """Greedy descent over ordered parameters, from the best start candidate.

    Args:
        search_space: Parameter name to `IntDistribution` or `CategoricalDistribution` of ordered
            numbers (as for `MetropolisHastingsSampler`); the order of the mapping is the order in
            which each round evaluates its candidates.
        score: `values -> float`, higher is better; picks the start among `candidates`.
        candidates: Start allocations (e.g. the uniform ladder, highest bits first). The walk
            starts at the COMPLETE one of highest `score` among those it can lower a parameter
            of (all of them if none can be lowered); with none finished, at the allocation with
            every parameter at its highest value (evaluated first if needed). The sampler
            never proposes the candidates itself: enqueue them (they count in the budget).
        accuracy_index: Position of the accuracy (maximized) in a trial's values.
        latency_index: Position of the latency (minimized) in a trial's values.
        proposal_filter: `params -> bool`; a lowered allocation it rejects is not a candidate.
        seed: Seed of the tie-breaks and of the fallback draws.

    Raises:
        ValueError: On a bad search space, equal indices, or a candidate outside the space.
    """

    def __init__(
        self,
        *,
        search_space: Mapping[str, BaseDistribution],
        score: ScoreFunction,
        candidates: Sequence[Mapping[str, Any]] = (),
        accuracy_index: int = 0,
        latency_index: int = 1,
        proposal_filter: Callable[[dict[str, Any]], bool] | None = None,
        seed: int | None = None,
    ) -> None:
        self._space = OrderedSearchSpace(search_space)
        if accuracy_index == latency_index or min(accuracy_index, latency_index) < 0:
            raise ValueError(
                "accuracy_index and latency_index must be distinct indices >= 0, got "
                f"{accuracy_index} and {latency_index}"
            )
        self._score = score
        self._accuracy = accuracy_index
        self._latency = latency_index
        self._filter = proposal_filter
        # Positions count from each axis's lowest value, so "lower" is always "minus one",
        # whether a list is given in increasing or decreasing order.
        self._ascending = tuple(
            sorted(range(axis.size), key=lambda i, a=axis: float(a.value(i)))  # type: ignore[misc]
            for axis in self._space.axes
        )
        self._candidates = tuple(
            self._state_of(self._space.encode(c, argument="candidates")) for c in candidates
        )
        self._top: State = tuple(size - 1 for size in self._space.sizes)
        self._entropy = np.random.SeedSequence(seed).entropy
        self._random = RandomSampler(seed=seed)

    # -- Optuna's sampler interface -----------------------------------------------------------

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        """The fixed search space given to the constructor."""
        return dict(self._space.distributions)

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        """The next allocation of the walk (nothing for an enqueued trial: its params are set)."""
        if "fixed_params" in trial.system_attrs or not search_space:
            return {}
        if GREEDY_KEY in trial.system_attrs:
            return dict(trial.system_attrs[GREEDY_KEY]["params"])
        state, round_, kind = self.next_state(study.get_trials(deepcopy=False), trial.number)
        params = self._params(state)
        study._storage.set_trial_system_attr(
            trial._trial_id, GREEDY_KEY, {"params": params, "round": round_, "kind": kind}
        )
        return {name: value for name, value in params.items() if name in search_space}

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        """Parameters outside the search space are drawn uniformly at random."""
        return self._random.sample_independent(study, trial, param_name, param_distribution)

    def reseed_rng(self) -> None:
        """Reseed the fallback draws of other parameters (the walk is keyed by the seed)."""
        self._random.reseed_rng()

    # -- the walk -----------------------------------------------------------------------------

    def next_state(self, trials: Sequence[FrozenTrial], number: int) -> tuple[State, int, str]:
        """What trial `number` should evaluate, given the study's `trials`.

        Returns:
            `(state, round, kind)`: the allocation as value positions, the round of the walk
            and `start`, `step` or `fallback` (the walk is over, or waits on running trials).
        """
        done: dict[State, Sequence[float]] = {}
        tried: set[State] = set()  # evaluated or in flight, in any state
        for trial in trials:
            if trial.number == number:
                continue
            state = self._trial_state(trial)
            if state is None:
                continue
            tried.add(state)
            if trial.state == TrialState.COMPLETE and trial.values is not None:
                done.setdefault(state, trial.values)
        current = self._start(done)
        if current not in tried:
            return current, 0, "start"
        round_ = 0
        while current in done:
            lowered = self._lowered(current)
            untried = [state for state in lowered if state not in tried]
            if untried:
                return untried[0], round_, "step"
            measured = [state for state in lowered if state in done]
            if not measured:
                break  # Nothing lower, or only failed or running candidates.
            current = self._choose(current, measured, done, round_)
            round_ += 1
        return self._fallback(tried, number), round_, "fallback"

    def _start(self, done: Mapping[State, Sequence[float]]) -> State:
        finished = [c for c in self._candidates if c in done]
        if not finished:
            return self._top
        # A walk from the bottom (every parameter at its lowest value) could lower nothing and
        # would only fall back to random draws: start from the best candidate it can descend from.
        descending = [c for c in finished if self._lowered(c)] or finished
        return max(descending, key=lambda c: self._score(done[c]))  # first among equal scores

    def _lowered(self, state: State) -> list[State]:
        """Every allocation one parameter lower than `state` that the filter accepts."""
        out = []
        for position in self._space.movable:
            if state[position] == 0:
                continue
            lowered = state[:position] + (state[position] - 1,) + state[position + 1 :]
            if self._filter is None or self._filter(self._params(lowered)):
                out.append(lowered)
        return out

    def _choose(
        self,
        current: State,
        measured: Sequence[State],
        done: Mapping[State, Sequence[float]],
        round_: int,
    ) -> State:
        """The candidate losing the least accuracy per latency saved (ties: seeded draw)."""
        accuracy, latency = done[current][self._accuracy], done[current][self._latency]

        def cost(state: State) -> float:
            saved = latency - done[state][self._latency]
            lost = accuracy - done[state][self._accuracy]
            # Saving no latency is never worth a step while another candidate saves some.
            return lost / saved if saved > 0 else math.inf

        costs = [cost(state) for state in measured]
        least = min(costs)
        best = [s for s, c in zip(measured, costs, strict=True) if c == least]
        if len(best) == 1:
            return best[0]
        return best[int(self._rng(round_, 0).integers(len(best)))]

    def _fallback(self, tried: set[State], number: int) -> State:
        """A random allocation not tried yet (or any, when every one was)."""
        rng = self._rng(number, 1)
        for _ in range(100):
            state = tuple(int(rng.integers(size)) for size in self._space.sizes)
            if state not in tried and (self._filter is None or self._filter(self._params(state))):
                return state
        return state

    # -- helpers ------------------------------------------------------------------------------

    def _rng(self, key: int, purpose: int) -> np.random.Generator:
        sequence = np.random.SeedSequence(self._entropy, spawn_key=(key, purpose))
        return np.random.Generator(np.random.PCG64(sequence))

    def _state_of(self, indices: Sequence[int]) -> State:
        """List indices (as `OrderedSearchSpace.encode` gives) → positions from the lowest."""
        return tuple(order.index(i) for order, i in zip(self._ascending, indices, strict=True))

    def _params(self, state: State) -> dict[str, Any]:
        indices = [order[p] for order, p in zip(self._ascending, state, strict=True)]
        return self._space.decode(indices)

    def _trial_state(self, trial: FrozenTrial) -> State | None:
        """The allocation a trial evaluates (or is proposed to), if it is one of the space."""
        params: Mapping[str, Any] | None = trial.params
        if trial.state == TrialState.RUNNING:
            proposal = trial.system_attrs.get(GREEDY_KEY)
            params = proposal["params"] if proposal else trial.system_attrs.get("fixed_params")
        if not params or any(name not in params for name in self._space.names):
            return None
        try:
            subset = {name: params[name] for name in self._space.names}
            return self._state_of(self._space.encode(subset))
        except ValueError:
            return None
