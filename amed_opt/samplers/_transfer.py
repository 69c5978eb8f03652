"""Bit transfers: proposals that move one step of precision from one parameter to another.

A *transfer* lowers parameter `i` by one step and raises another parameter `j` by one step. On
an accelerator whose latency sits in a few heavy layers, lowering a heavy layer and raising a
light one keeps the latency about where it was (or lowers it) while moving precision to where it
may buy more accuracy: the direction in which a uniform allocation can be beaten at its own
latency (benchmarks/results/search_quality/, "How far from the best"). The neighbour proposals
(`_proposals.py`, `_weighted.py`) change their parameters independently, up or down, and make
such a pair only by chance.

`TransferProposal` draws `i` with probability `l_i / L` (`l`: the lower weights, e.g. the
latency each layer saves; `L = sum(l)`) and `j != i` with probability `r_j / (R - r_i)`
(`r_j = 1 / l_j`, `R = sum(r)`: light layers are raised more often), redrawing pairs that cannot
move (`i` at its lowest value or `j` at its highest). So, for `b' = b - e_i + e_j`,

    q_T(b' | b) = (l_i / L) (r_j / (R - r_i)) / Z_T(b),   Z_T(b) = sum over movable pairs,

and the reverse move lowers `j` and raises `i`. The weights are fixed before the chain starts and
do not depend on the state, so the Hastings factor `q_T(b | b') / q_T(b' | b)` keeps the chain
exact.

`ProposalMixture` (`_mixture.py`) mixes a neighbour kernel with transfers: from `b`, a transfer
with probability `s` (the share), otherwise the neighbour kernel; at a state where no pair can
move (`Z_T = 0`) always the neighbour kernel; the Hastings factor uses the mixture's probability
both ways, so the chain samples the same target as with the neighbour kernel alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from amed_opt.samplers._proposals import State
from amed_opt.samplers._space import OrderedSearchSpace
from amed_opt.samplers._weighted import movable_weights


__all__ = ["TransferProposal"]


class TransferProposal:
    """One step of precision from one movable parameter to another (the module docstring).

    Args:
        space: The validated search space (at least two parameters with more than one value).
        weights: A lower weight > 0 per movable parameter, by name; None: all equal.

    Raises:
        ValueError: If fewer than two parameters can move, a movable parameter has no weight, a
            name is not a parameter, or a weight is not a finite number > 0.
    """

    def __init__(
        self, space: OrderedSearchSpace, *, weights: Mapping[str, float] | None = None
    ) -> None:
        movable = tuple(space.movable)
        if len(movable) < 2:
            raise ValueError(
                f"a transfer needs two parameters with more than one value, got {len(movable)}"
            )
        if weights is None:
            lower = np.ones(len(movable))
        else:
            lower = np.array(movable_weights(space, weights, "transfer weights"), dtype=float)
            if not np.all(np.isfinite(lower)) or np.any(lower <= 0):
                raise ValueError(f"transfer weights must be finite numbers > 0, got {weights!r}")
        inverse = 1.0 / lower
        self._space = space
        self._movable = movable
        self._position = {p: k for k, p in enumerate(movable)}
        # pair[k, m]: probability of drawing (lower movable[k], raise movable[m]) before redraws
        pair = (lower / lower.sum())[:, None] * inverse[None, :]
        pair /= inverse.sum() - inverse[:, None]
        np.fill_diagonal(pair, 0.0)
        self._pair = pair

    def _movable_pairs(self, state: State) -> np.ndarray:
        """`pair` with the pairs that cannot move from `state` set to 0."""
        index = np.array([state[p] for p in self._movable])
        top = np.array([self._space.sizes[p] - 1 for p in self._movable])
        return self._pair * (index > 0)[:, None] * (index < top)[None, :]

    def at_step(self, step: int) -> TransferProposal:
        """Itself: transfers are drawn the same way at every chain step."""
        return self

    def can_move(self, state: State) -> bool:
        """Whether some parameter can be lowered while another is raised."""
        return bool(self._movable_pairs(state).any())

    def log_probability(self, source: State, target: State) -> float:
        """`log q_T(target | source)`, redraws included; `-inf` if one transfer cannot reach it
        (or no pair can move from `source`)."""
        if len(target) != len(source):
            return -math.inf
        steps = {p: b - a for p, (a, b) in enumerate(zip(source, target, strict=True)) if a != b}
        if sorted(steps.values()) != [-1, 1] or any(p not in self._position for p in steps):
            return -math.inf
        lowered = next(p for p, step in steps.items() if step == -1)
        raised = next(p for p, step in steps.items() if step == 1)
        pairs = self._movable_pairs(source)
        chosen = pairs[self._position[lowered], self._position[raised]]
        return math.log(chosen / pairs.sum()) if chosen > 0 else -math.inf

    def draw_state(self, head: State, rng: np.random.Generator) -> State:
        """A transfer from `head`.

        Raises:
            ValueError: If no pair can move from `head` (check `can_move` first).
        """
        pairs = self._movable_pairs(head).ravel()
        total = pairs.sum()
        if total <= 0:
            raise ValueError(f"no transfer can move from {self._space.decode(head)}")
        flat = int(np.searchsorted(np.cumsum(pairs), rng.random() * total, side="right"))
        flat = min(flat, len(pairs) - 1)
        lowered, raised = divmod(flat, len(self._movable))
        target = list(head)
        target[self._movable[lowered]] -= 1
        target[self._movable[raised]] += 1
        return tuple(target)
