"""A proposal that chooses parameters by weight: each one joins a move on its own coin flip.

`NeighbourProposal` chooses exactly `n_flips` parameters, all equally likely (METHOD.md §5). On a
network whose latency sits in a few deep layers, most of those moves change layers that cost
little, so a budget of 100-150 trials is spent mostly where the hardware does not care.
`WeightedProposal` chooses parameter `i` with probability

    p_i = min(P_MAX, k * w_i / sum(w)),      k = n_flips, every w_i > 0,

independently of the others, so on average about `k` parameters are chosen and heavy ones more
often. Each chosen parameter then moves by the boundary rule of `_proposals.Boundary`. The weights
are fixed before the chain starts and do not depend on the state, which is what keeps this exact:

    q(b' | b) = prod_{i changed} p_i s_i(b) * prod_{i unchanged} u_i(b),

with `s_i(b)` the probability of the direction taken (1/2, or 1 for a FORCED step off an end)
and `u_i(b)` the probability that parameter `i` ends where it was: `1 - p_i` if it always moves
when chosen (FORCED, or LAZY off an end), `1 - p_i / 2` for LAZY at an end (it stays half the
time). An unchanged parameter has the same value in `b` and `b'`, so its `u_i` is the same both
ways, and for LAZY the `p_i / 2` of a changed one is too: the LAZY proposal is symmetric, FORCED
keeps the Hastings factor of `hastings_log_ratio`. A draw that changes nothing is redrawn; that
divides by `Z(b) = 1 - prod_i u_i(b)`, exactly as for `NeighbourProposal`, and adds the factor
`Z(b) / Z(b')`. `P_MAX` keeps every parameter untouched with probability at least 1/2, so no
parameter is forced to move on every step.

A proposal filter is not supported: its exact normaliser needs every neighbour, and with
independent choices a state has up to `3^n` of them (`ProposalSettings` refuses the pair).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from collections.abc import Sequence

import numpy as np

from amed_opt.samplers._proposals import Boundary
from amed_opt.samplers._proposals import Proposal
from amed_opt.samplers._proposals import State
from amed_opt.samplers._proposals import ends_log_ratio
from amed_opt.samplers._space import OrderedSearchSpace


__all__ = ["P_MAX", "WeightedProposal", "inclusion_probabilities", "movable_weights"]

P_MAX = 0.5
"""The largest probability with which one parameter joins a move."""


def inclusion_probabilities(weights: Sequence[float], n_flips: int) -> tuple[float, ...]:
    """`p_i = min(P_MAX, n_flips * w_i / sum(w))` for positive, finite weights.

    Raises:
        ValueError: If a weight is not a finite number > 0, or `n_flips < 1`.
    """
    if isinstance(n_flips, bool) or not isinstance(n_flips, int) or n_flips < 1:
        raise ValueError(f"n_flips must be an int >= 1, got {n_flips!r}")
    bad = [w for w in weights if not (isinstance(w, int | float) and math.isfinite(w) and w > 0)]
    if bad or not weights:
        raise ValueError(f"layer weights must be finite numbers > 0, got {list(weights)!r}")
    total = float(sum(weights))
    return tuple(min(P_MAX, n_flips * w / total) for w in weights)


def movable_weights(
    space: OrderedSearchSpace, weights: Mapping[str, float], what: str = "layer weights"
) -> list[float]:
    """`weights` in the order of `space.movable`.

    Raises:
        ValueError: If `weights` misses a parameter with more than one value or names something
            that is not a parameter (`what` names the weights in the message).
    """
    names = [space.names[p] for p in space.movable]
    unknown = sorted(set(weights) - set(space.names))
    missing = [name for name in names if name not in weights]
    if unknown or missing:
        raise ValueError(
            f"{what} must name every parameter with more than one value and nothing else; "
            f"unknown {unknown}, missing {missing}"
        )
    return [weights[name] for name in names]


class WeightedProposal:
    """The chain's proposal kernel with weighted, independent parameter choices.

    Args:
        space: The validated search space.
        weights: A weight > 0 for every parameter with more than one value, by name.
        n_flips: About how many parameters one draw chooses (`p_i` above).
        boundary: The rule at the ends of a list.

    Raises:
        ValueError: If a movable parameter has no weight, a name is not a parameter, or a weight
            is not a finite number > 0.
    """

    def __init__(
        self,
        space: OrderedSearchSpace,
        *,
        weights: Mapping[str, float],
        n_flips: int,
        boundary: Boundary = Boundary.LAZY,
    ) -> None:
        self._space = space
        self._boundary = boundary
        self._movable = tuple(space.movable)
        self._p = inclusion_probabilities(movable_weights(space, weights), n_flips)

    @property
    def inclusion(self) -> dict[str, float]:
        """Each movable parameter's probability of joining a move, by name."""
        return {self._space.names[p]: q for p, q in zip(self._movable, self._p, strict=True)}

    def is_allowed(self, state: State) -> bool:
        """Every state is allowed (this kernel takes no filter)."""
        return True

    def _at_end(self, state: State, position: int) -> bool:
        return state[position] in (0, self._space.sizes[position] - 1)

    def _log_unchanged(self, state: State, position: int, p: float) -> float:
        if self._boundary is Boundary.LAZY and self._at_end(state, position):
            return math.log1p(-p / 2)
        return math.log1p(-p)

    def _log_direction(self, state: State, position: int) -> float:
        if self._boundary is Boundary.FORCED and self._at_end(state, position):
            return 0.0
        return -math.log(2.0)

    def log_normaliser(self, state: State) -> float:
        """`log Z(state)`: the log probability that one draw moves."""
        log_stay = sum(
            self._log_unchanged(state, position, p)
            for position, p in zip(self._movable, self._p, strict=True)
        )
        return math.log1p(-math.exp(log_stay))

    def log_probability(self, source: State, target: State) -> float:
        """`log q(target | source)`, redraws included; `-inf` if one draw cannot reach it."""
        if target == source or len(target) != len(source):
            return -math.inf
        movable = set(self._movable)
        changed = {p for p, (a, b) in enumerate(zip(source, target, strict=True)) if a != b}
        if any(p not in movable or abs(source[p] - target[p]) != 1 for p in changed):
            return -math.inf
        log_q = 0.0
        for position, p in zip(self._movable, self._p, strict=True):
            if position in changed:
                log_q += math.log(p) + self._log_direction(source, position)
            else:
                log_q += self._log_unchanged(source, position, p)
        return log_q - self.log_normaliser(source)

    def _log_q_ratio(self, head: State, target: State) -> float:
        ends = ends_log_ratio(self._boundary, head, target, sizes=self._space.sizes)
        return ends + self.log_normaliser(head) - self.log_normaliser(target)

    def draw(self, head: State, rng: np.random.Generator) -> Proposal:
        """Draw a proposal from `head` (never `head` itself)."""
        sizes = self._space.sizes
        while True:
            target = list(head)
            chosen = rng.random(len(self._movable)) < np.asarray(self._p)
            for position, pick in zip(self._movable, chosen, strict=True):
                if not pick:
                    continue
                index, size = head[position], sizes[position]
                if self._boundary is Boundary.FORCED and index == 0:
                    target[position] = 1
                elif self._boundary is Boundary.FORCED and index == size - 1:
                    target[position] = index - 1
                else:
                    step = index + 1 if rng.random() < 0.5 else index - 1
                    target[position] = step if 0 <= step < size else index
            proposal = tuple(target)
            if proposal != head:
                return Proposal(proposal, self._log_q_ratio(head, proposal))

    def at_step(self, step: int) -> WeightedProposal:
        """Itself: the kernel is the same at every chain step."""
        return self

    def random_state(self, rng: np.random.Generator, *, max_attempts: int = 10_000) -> State:
        """A state drawn uniformly from the space."""
        return tuple(int(rng.integers(size)) for size in self._space.sizes)
