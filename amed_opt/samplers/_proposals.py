"""Neighbour proposals on index tuples, and their probabilities.

The proposal of `METHOD.md` §5: pick `n_flips` distinct movable parameters uniformly, and move
each one step up or down its list with probability 1/2; at an end of a list, the only legal step
is taken with probability 1. So

    q(b' | b) = 1 / C(n, k) * prod_{i changed} p_i(b),   p_i(b) = 1 if b_i is at an end else 1/2,

and the Hastings factor q(b | b') / q(b' | b) only depends on which changed coordinates sit at an
end of their list before and after the move.

A `proposal_filter` (the model-size limit) turns the proposal into "redraw until the filter
passes", that is `q_F(b' | b) = q(b' | b) 1[F(b')] / Z(b)` with `Z(b) = sum_{c in F} q(c | b)`.
Its Hastings factor gains `Z(b) / Z(b')`, which this module computes exactly by enumerating both
neighbourhoods (`C(n, k) 2^k` filter calls at most, memoised per state); dropping it would bias
the chain towards states with few feasible neighbours.

Everything here is a pure function of its arguments and of the `numpy.random.Generator` passed in.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import OrderedDict
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from amed_opt.samplers._space import OrderedSearchSpace


__all__ = [
    "NeighbourProposal",
    "Proposal",
    "draw_neighbour",
    "hastings_log_ratio",
    "iter_neighbours",
    "log_proposal_probability",
]

_LOG_HALF = -math.log(2.0)

State = tuple[int, ...]


def _log_step_probability(index: int, size: int) -> float:
    """Log probability of the direction of a move from `index` in a list of `size` values."""
    return 0.0 if index == 0 or index == size - 1 else _LOG_HALF


def draw_neighbour(
    state: State,
    *,
    sizes: Sequence[int],
    movable: Sequence[int],
    n_flips: int,
    rng: np.random.Generator,
) -> State:
    """Draw `b' ~ q(. | state)` without any filter.

    Args:
        state: Current list indices, one per parameter.
        sizes: List length of each parameter.
        movable: Positions of the parameters with at least two values.
        n_flips: Number of distinct parameters moved.
        rng: Source of randomness.

    Returns:
        The proposed index tuple.
    """
    if n_flips == 1:
        chosen = [int(rng.integers(len(movable)))]
    else:
        chosen = sorted(int(i) for i in rng.choice(len(movable), size=n_flips, replace=False))
    target = list(state)
    for choice in chosen:
        position = movable[choice]
        index, size = state[position], sizes[position]
        if index == 0:
            target[position] = 1
        elif index == size - 1:
            target[position] = index - 1
        else:
            target[position] = index + 1 if rng.random() < 0.5 else index - 1
    return tuple(target)


def log_proposal_probability(
    source: State, target: State, *, sizes: Sequence[int], movable: Sequence[int], n_flips: int
) -> float:
    """`log q(target | source)` without any filter; `-inf` if `target` is not a neighbour."""
    changed = [p for p, (a, b) in enumerate(zip(source, target, strict=True)) if a != b]
    if len(changed) != n_flips or any(abs(source[p] - target[p]) != 1 for p in changed):
        return -math.inf
    movable_set = set(movable)
    if any(p not in movable_set for p in changed):
        return -math.inf
    log_choose = -math.log(math.comb(len(movable), n_flips))
    return log_choose + sum(_log_step_probability(source[p], sizes[p]) for p in changed)


def hastings_log_ratio(source: State, target: State, *, sizes: Sequence[int]) -> float:
    """`log q(source | target) - log q(target | source)` for a neighbour `target` of `source`."""
    return sum(
        _log_step_probability(target[p], sizes[p]) - _log_step_probability(source[p], sizes[p])
        for p, (a, b) in enumerate(zip(source, target, strict=True))
        if a != b
    )


def iter_neighbours(
    state: State, *, sizes: Sequence[int], movable: Sequence[int], n_flips: int
) -> Iterator[tuple[State, float]]:
    """Every `b'` with `q(b' | state) > 0`, with `log q(b' | state)`, in a fixed order."""
    log_choose = -math.log(math.comb(len(movable), n_flips))
    for positions in itertools.combinations(movable, n_flips):
        options = []
        for position in positions:
            index, size = state[position], sizes[position]
            steps = [index + 1] if index == 0 else [index - 1] if index == size - 1 else []
            options.append(steps or [index - 1, index + 1])
        log_q = log_choose + sum(_log_step_probability(state[p], sizes[p]) for p in positions)
        for moved in itertools.product(*options):
            target = list(state)
            for position, index in zip(positions, moved, strict=True):
                target[position] = index
            yield tuple(target), log_q


@dataclass(frozen=True, slots=True)
class Proposal:
    """A proposed state and its Hastings factor.

    Attributes:
        state: The proposed list indices.
        log_q_ratio: `log q_F(head | state) - log q_F(state | head)`, filter normalisers included.
    """

    state: State
    log_q_ratio: float


class NeighbourProposal:
    """The chain's proposal kernel, optionally restricted by a filter.

    Args:
        space: The validated search space.
        n_flips: Number of parameters moved per proposal.
        proposal_filter: Predicate on parameter values; proposals it rejects are redrawn. It
            must be deterministic: its results are memoised.
        cache_size: Number of states whose filter result and feasible neighbourhood are
            memoised.
    """

    def __init__(
        self,
        space: OrderedSearchSpace,
        *,
        n_flips: int,
        proposal_filter: Callable[[dict[str, Any]], bool] | None = None,
        cache_size: int = 1 << 16,
    ) -> None:
        self._space = space
        self._n_flips = n_flips
        self._filter = proposal_filter
        self._cache_size = cache_size
        self._allowed: OrderedDict[State, bool] = OrderedDict()
        self._neighbourhood: OrderedDict[State, tuple[list[State], list[float]]] = OrderedDict()

    def _remember(self, cache: OrderedDict[State, Any], key: State, value: Any) -> None:
        cache[key] = value
        if len(cache) > self._cache_size:
            cache.popitem(last=False)

    def is_allowed(self, state: State) -> bool:
        """Whether the filter accepts `state` (always true without a filter)."""
        if self._filter is None:
            return True
        cached = self._allowed.get(state)
        if cached is None:
            cached = bool(self._filter(self._space.decode(state)))
            self._remember(self._allowed, state, cached)
        return cached

    def _feasible_neighbours(self, state: State) -> tuple[list[State], list[float]]:
        targets, log_qs = [], []
        for target, log_q in iter_neighbours(
            state, sizes=self._space.sizes, movable=self._space.movable, n_flips=self._n_flips
        ):
            if self.is_allowed(target):
                targets.append(target)
                log_qs.append(log_q)
        return targets, log_qs

    def _feasible_cumulative(self, state: State) -> tuple[list[State], list[float]]:
        """Feasible neighbours of `state` and the running sums of their `q(. | state)`."""
        cached = self._neighbourhood.get(state)
        if cached is None:
            targets, log_qs = self._feasible_neighbours(state)
            cached = (targets, list(itertools.accumulate(math.exp(v) for v in log_qs)))
            self._remember(self._neighbourhood, state, cached)
        return cached

    def log_normaliser(self, state: State) -> float:
        """`log Z(state)`, the log proposal mass the filter lets through (0 without a filter)."""
        if self._filter is None:
            return 0.0
        _, cumulative = self._feasible_cumulative(state)
        return math.log(cumulative[-1]) if cumulative else -math.inf

    def log_probability(self, source: State, target: State) -> float:
        """`log q_F(target | source)`: the probability that `draw(source)` returns `target`."""
        if not self.is_allowed(target):
            return -math.inf
        log_q = log_proposal_probability(
            source,
            target,
            sizes=self._space.sizes,
            movable=self._space.movable,
            n_flips=self._n_flips,
        )
        return log_q - self.log_normaliser(source)

    def draw(self, head: State, rng: np.random.Generator) -> Proposal:
        """Draw a proposal from `head`.

        Raises:
            RuntimeError: If the filter rejects every neighbour of `head`.
        """
        sizes = self._space.sizes
        if self._filter is None:
            target = draw_neighbour(
                head, sizes=sizes, movable=self._space.movable, n_flips=self._n_flips, rng=rng
            )
            return Proposal(target, hastings_log_ratio(head, target, sizes=sizes))
        targets, cumulative = self._feasible_cumulative(head)
        if not targets:
            raise RuntimeError(
                "proposal_filter rejects every neighbour of the chain head "
                f"{self._space.decode(head)}; the chain cannot move"
            )
        position = bisect.bisect_right(cumulative, rng.random() * cumulative[-1])
        target = targets[min(position, len(targets) - 1)]
        log_ratio = (
            hastings_log_ratio(head, target, sizes=sizes)
            + self.log_normaliser(head)
            - self.log_normaliser(target)
        )
        return Proposal(target, log_ratio)

    def random_state(self, rng: np.random.Generator, *, max_attempts: int = 10_000) -> State:
        """A state drawn uniformly from the space, redrawn until the filter accepts it.

        Raises:
            RuntimeError: If no accepted state is found in `max_attempts` draws.
        """
        for _ in range(max_attempts):
            state = tuple(int(rng.integers(size)) for size in self._space.sizes)
            if self.is_allowed(state):
                return state
        raise RuntimeError(
            f"proposal_filter rejected {max_attempts} uniformly drawn states; "
            "pass initial_params that it accepts"
        )
