"""Neighbour proposals on index tuples, and their probabilities.

The proposal of `METHOD.md` §5 picks `n_flips` distinct movable parameters uniformly and moves
each one step up or down its list with probability 1/2. Two rules for a parameter at an end of
its list (`Boundary`):

- `FORCED` (METHOD.md §5): the only legal step is taken with probability 1. So

      q(b' | b) = 1 / C(n, k) * prod_{i changed} p_i(b),   p_i(b) = 1 if b_i is at an end else 1/2,

  and the Hastings factor `q(b | b') / q(b' | b)` halves for every changed parameter that leaves
  an end. A chain that starts at the all-8-bit corner pays `2^-k` for every `k`-layer move out
  of it, so it needs `Q(b') - Q(b) > k T ln 2` to leave; on a network of many small layers, whose
  moves each change `Q` by little, it barely leaves (benchmarks/results/README.md).
- `LAZY`: a chosen parameter at an end steps inward or stays, with probability 1/2 each (an
  outward step is replaced by staying). Every direction then has probability 1/2, so

      q(b' | b) = C(e, k - d) / C(n, k) * 2^-k,

  with `d` the number of changed parameters (`1 <= d <= k`) and `e` the number of unchanged
  movable parameters at an end of their list in `b` (the ones that could have been chosen and
  stayed). `e` is the same in `b'`, so this `q` is symmetric. A draw that changes nothing is
  redrawn; that divides `q(. | b)` by `Z(b) = 1 - q(b | b)`, `q(b | b) = C(e_b, k) / C(n, k) 2^-k`,
  and leaves the Hastings factor `Z(b) / Z(b')`, close to 1. Leaving the corner costs nothing
  beyond the score difference.

A `proposal_filter` (the model-size limit) turns the proposal into "redraw until the filter
passes", that is `q_F(b' | b) = q(b' | b) 1[F(b')] / Z(b)` with `Z(b) = sum_{c in F, c != b}
q(c | b)`. Its Hastings factor gains `Z(b) / Z(b')`, which this module computes exactly by
enumerating both neighbourhoods (`C(n, k) 2^k` filter calls at most, memoised per state);
dropping it would bias the chain towards states with few feasible neighbours.

Everything here is a pure function of its arguments and of the `numpy.random.Generator` passed in.
"""

from __future__ import annotations

import bisect
import enum
import itertools
import math
from collections import OrderedDict
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from typing import Protocol

import numpy as np

from amed_opt.samplers._space import OrderedSearchSpace


__all__ = [
    "Boundary",
    "NeighbourProposal",
    "Proposal",
    "ProposalKernel",
    "draw_neighbour",
    "ends_log_ratio",
    "hastings_log_ratio",
    "iter_neighbours",
    "log_proposal_probability",
    "log_stay_probability",
]

_LOG_HALF = -math.log(2.0)

State = tuple[int, ...]


class Boundary(enum.Enum):
    """What a chosen parameter at an end of its list does."""

    FORCED = "forced"
    """Takes the only legal step (METHOD.md §5); asymmetric, corrected by the Hastings factor."""
    LAZY = "lazy"
    """Steps inward or stays, 1/2 each; the proposal is symmetric."""


def _at_end(index: int, size: int) -> bool:
    return index == 0 or index == size - 1


def _log_step_probability(index: int, size: int) -> float:
    """Log probability of a FORCED move's direction from `index` in a list of `size` values."""
    return 0.0 if _at_end(index, size) else _LOG_HALF


def _n_at_end(state: State, sizes: Sequence[int], positions: Sequence[int]) -> int:
    return sum(1 for p in positions if _at_end(state[p], sizes[p]))


def log_stay_probability(
    state: State, *, sizes: Sequence[int], movable: Sequence[int], n_flips: int
) -> float:
    """`log q(state | state)` of the LAZY proposal before null draws are redrawn.

    A draw changes nothing when every chosen parameter sits at an end and stays.
    """
    at_end = _n_at_end(state, sizes, movable)
    if at_end < n_flips:
        return -math.inf
    return (
        math.log(math.comb(at_end, n_flips))
        - math.log(math.comb(len(movable), n_flips))
        + n_flips * _LOG_HALF
    )


def _log_lazy_normaliser(
    state: State, *, sizes: Sequence[int], movable: Sequence[int], n_flips: int
) -> float:
    """`log (1 - q(state | state))`: the LAZY proposal mass that moves."""
    return math.log1p(
        -math.exp(log_stay_probability(state, sizes=sizes, movable=movable, n_flips=n_flips))
    )


def draw_neighbour(
    state: State,
    *,
    sizes: Sequence[int],
    movable: Sequence[int],
    n_flips: int,
    rng: np.random.Generator,
    boundary: Boundary = Boundary.FORCED,
) -> State:
    """Draw `b' ~ q(. | state)` without any filter (a LAZY draw never returns `state`).

    Args:
        state: Current list indices, one per parameter.
        sizes: List length of each parameter.
        movable: Positions of the parameters with at least two values.
        n_flips: Number of distinct parameters chosen.
        rng: Source of randomness.
        boundary: The rule at the ends of a list.

    Returns:
        The proposed index tuple.
    """
    while True:
        if n_flips == 1:
            chosen = [int(rng.integers(len(movable)))]
        else:
            chosen = sorted(int(i) for i in rng.choice(len(movable), size=n_flips, replace=False))
        target = list(state)
        for choice in chosen:
            position = movable[choice]
            index, size = state[position], sizes[position]
            if boundary is Boundary.LAZY:
                step = index + 1 if rng.random() < 0.5 else index - 1
                target[position] = step if 0 <= step < size else index
            elif index == 0:
                target[position] = 1
            elif index == size - 1:
                target[position] = index - 1
            else:
                target[position] = index + 1 if rng.random() < 0.5 else index - 1
        proposal = tuple(target)
        if proposal != state:
            return proposal


def log_proposal_probability(
    source: State,
    target: State,
    *,
    sizes: Sequence[int],
    movable: Sequence[int],
    n_flips: int,
    boundary: Boundary = Boundary.FORCED,
) -> float:
    """`log q(target | source)` without any filter; `-inf` if `target` is not a neighbour.

    For LAZY this is the probability of one draw, before a draw that changes nothing is redrawn
    (`NeighbourProposal.log_probability` includes the redraw).
    """
    changed = [p for p, (a, b) in enumerate(zip(source, target, strict=True)) if a != b]
    if boundary is Boundary.FORCED and len(changed) != n_flips:
        return -math.inf
    if not 1 <= len(changed) <= n_flips or any(abs(source[p] - target[p]) != 1 for p in changed):
        return -math.inf
    movable_set = set(movable)
    if any(p not in movable_set for p in changed):
        return -math.inf
    log_choose = -math.log(math.comb(len(movable), n_flips))
    if boundary is Boundary.FORCED:
        return log_choose + sum(_log_step_probability(source[p], sizes[p]) for p in changed)
    changed_set = set(changed)
    stayers = _n_at_end(source, sizes, [p for p in movable if p not in changed_set])
    ways = math.comb(stayers, n_flips - len(changed))
    if ways == 0:
        return -math.inf
    return log_choose + math.log(ways) + n_flips * _LOG_HALF


def hastings_log_ratio(source: State, target: State, *, sizes: Sequence[int]) -> float:
    """FORCED: `log q(source | target) - log q(target | source)` for a neighbour `target`.

    Without a filter. (The LAZY proposal is symmetric; its only factor is the redraw
    normaliser, `NeighbourProposal.log_normaliser`.)
    """
    return sum(
        _log_step_probability(target[p], sizes[p]) - _log_step_probability(source[p], sizes[p])
        for p, (a, b) in enumerate(zip(source, target, strict=True))
        if a != b
    )


def ends_log_ratio(
    boundary: Boundary, source: State, target: State, *, sizes: Sequence[int]
) -> float:
    """The Hastings factor of the end rule alone: 0 for LAZY (symmetric), `hastings_log_ratio`
    for FORCED. A kernel adds its redraw normalisers `log Z(source) - log Z(target)`."""
    if boundary is Boundary.LAZY:
        return 0.0
    return hastings_log_ratio(source, target, sizes=sizes)


def iter_neighbours(
    state: State,
    *,
    sizes: Sequence[int],
    movable: Sequence[int],
    n_flips: int,
    boundary: Boundary = Boundary.FORCED,
) -> Iterator[tuple[State, float]]:
    """Every way one draw can leave `state`, as `(b', log probability of that way)`.

    In a fixed order. FORCED yields each neighbour once, with `log q(b' | state)`. LAZY yields a
    neighbour once per set of chosen parameters that produces it (summing to `q(b' | state)`),
    and never `state` itself.
    """
    log_choose = -math.log(math.comb(len(movable), n_flips))
    for positions in itertools.combinations(movable, n_flips):
        options = []
        for position in positions:
            index, size = state[position], sizes[position]
            if boundary is Boundary.LAZY and _at_end(index, size):
                options.append([index, 1 if index == 0 else index - 1])
            elif index == 0:
                options.append([1])
            elif index == size - 1:
                options.append([index - 1])
            else:
                options.append([index - 1, index + 1])
        if boundary is Boundary.LAZY:
            log_q = log_choose + n_flips * _LOG_HALF
        else:
            log_q = log_choose + sum(_log_step_probability(state[p], sizes[p]) for p in positions)
        for moved in itertools.product(*options):
            target = list(state)
            for position, index in zip(positions, moved, strict=True):
                target[position] = index
            proposal = tuple(target)
            if proposal != state:
                yield proposal, log_q


@dataclass(frozen=True, slots=True)
class Proposal:
    """A proposed state and its Hastings factor.

    Attributes:
        state: The proposed list indices.
        log_q_ratio: `log q_F(head | state) - log q_F(state | head)`, filter normalisers included.
    """

    state: State
    log_q_ratio: float


class ProposalKernel(Protocol):
    """What the chain needs of a proposal kernel (`NeighbourProposal`, `WeightedProposal`)."""

    def is_allowed(self, state: State) -> bool: ...
    def log_normaliser(self, state: State) -> float: ...
    def log_probability(self, source: State, target: State) -> float: ...
    def draw(self, head: State, rng: np.random.Generator) -> Proposal: ...
    def random_state(self, rng: np.random.Generator, *, max_attempts: int = ...) -> State: ...
    def at_step(self, step: int) -> ProposalKernel:
        """The kernel of chain step `step`: itself unless it depends on the step
        (`_mixture.ScanMoves`)."""
        ...


class NeighbourProposal:
    """The chain's proposal kernel, optionally restricted by a filter.

    Args:
        space: The validated search space.
        n_flips: Number of parameters chosen per proposal.
        boundary: The rule at the ends of a list.
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
        boundary: Boundary = Boundary.FORCED,
        proposal_filter: Callable[[dict[str, Any]], bool] | None = None,
        cache_size: int = 1 << 16,
    ) -> None:
        self._space = space
        self._n_flips = n_flips
        self._boundary = boundary
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
        for target, log_q in iter_neighbours(state, boundary=self._boundary, **self._shape):
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

    @property
    def _shape(self) -> dict[str, Any]:
        return {
            "sizes": self._space.sizes,
            "movable": self._space.movable,
            "n_flips": self._n_flips,
        }

    def log_normaliser(self, state: State) -> float:
        """`log Z(state)`: the log mass of one draw that the filter lets through and that moves.

        0 for FORCED without a filter (every draw moves and passes).
        """
        if self._filter is None:
            if self._boundary is Boundary.FORCED:
                return 0.0
            return _log_lazy_normaliser(state, **self._shape)
        _, cumulative = self._feasible_cumulative(state)
        return math.log(cumulative[-1]) if cumulative else -math.inf

    def log_probability(self, source: State, target: State) -> float:
        """`log q_F(target | source)`: the probability that `draw(source)` returns `target`."""
        if target == source or not self.is_allowed(target):
            return -math.inf
        log_q = log_proposal_probability(source, target, boundary=self._boundary, **self._shape)
        return log_q - self.log_normaliser(source)

    def _log_q_ratio(self, head: State, target: State) -> float:
        """`log q_F(head | target) - log q_F(target | head)` for a proposal `target`."""
        ends = ends_log_ratio(self._boundary, head, target, sizes=self._space.sizes)
        return ends + self.log_normaliser(head) - self.log_normaliser(target)

    def draw(self, head: State, rng: np.random.Generator) -> Proposal:
        """Draw a proposal from `head`.

        Raises:
            RuntimeError: If the filter rejects every neighbour of `head`.
        """
        if self._filter is None:
            target = draw_neighbour(head, boundary=self._boundary, rng=rng, **self._shape)
            return Proposal(target, self._log_q_ratio(head, target))
        targets, cumulative = self._feasible_cumulative(head)
        if not targets:
            raise RuntimeError(
                "proposal_filter rejects every neighbour of the chain head "
                f"{self._space.decode(head)}; the chain cannot move"
            )
        position = bisect.bisect_right(cumulative, rng.random() * cumulative[-1])
        target = targets[min(position, len(targets) - 1)]
        return Proposal(target, self._log_q_ratio(head, target))

    def at_step(self, step: int) -> NeighbourProposal:
        """Itself: the kernel is the same at every chain step."""
        return self

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
