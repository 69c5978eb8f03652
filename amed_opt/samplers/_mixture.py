"""Mixtures of proposals: a share of the draws made by another proposal, exactly corrected.

`ProposalMixture` draws from `b` with a second proposal (the *alternative*) with probability
`s_b` and with the base kernel otherwise. Its Hastings factor uses the mixture's probability
both ways,

    q(b' | b) = (1 - s_b) q_B(b' | b) + s_b q_A(b' | b),

so a chain with the mixture samples the same target as with the base kernel alone: only how
fast it gets there changes. `s_b` is the share where the alternative can move from `b` and 0
where it cannot (a transfer from an allocation whose parameters all sit at one end); it depends
on `b` only, never on the chain's history, which is what keeps the correction exact.

Two alternatives are built by `ProposalSettings.kernel`:

- *transfers* (`_transfer.py`): one parameter lowered and another raised;
- *small moves* (`SmallMoves`): the same kind of proposal as the base kernel with one parameter
  per draw instead of `n_flips`. Near the front's best allocations most changes of several
  layers at once lose more than they gain, while a single layer lowered (or raised) can still
  win; a share of one-layer moves lets a chain take those steps without giving up the longer
  jumps of the rest (benchmarks/results/layer_choice/, round 8).

Checked by the stationarity tests (tests/amed_opt/samplers/test_stationary.py).
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from amed_opt.samplers._proposals import Proposal
from amed_opt.samplers._proposals import ProposalKernel
from amed_opt.samplers._proposals import State


__all__ = ["Alternative", "ProposalMixture", "SmallMoves"]


class Alternative(Protocol):
    """A proposal mixed into a base kernel."""

    def can_move(self, state: State) -> bool: ...
    def log_probability(self, source: State, target: State) -> float: ...
    def draw_state(self, head: State, rng: np.random.Generator) -> State: ...


class SmallMoves:
    """A proposal kernel used as an alternative: it can move wherever it has a neighbour.

    Args:
        kernel: Usually the base kernel's kind with `n_flips = 1`.
    """

    def __init__(self, kernel: ProposalKernel) -> None:
        self._kernel = kernel

    def can_move(self, state: State) -> bool:
        """Whether the kernel has a neighbour of `state` to propose (a filter may leave none)."""
        return math.isfinite(self._kernel.log_normaliser(state))

    def log_probability(self, source: State, target: State) -> float:
        """`log q(target | source)` of the kernel, its redraws included."""
        return self._kernel.log_probability(source, target)

    def draw_state(self, head: State, rng: np.random.Generator) -> State:
        """A neighbour of `head` drawn by the kernel."""
        return self._kernel.draw(head, rng).state


class ProposalMixture:
    """A base kernel with a share of its draws made by an alternative (the module docstring).

    Args:
        base: The base kernel (`NeighbourProposal`, `WeightedProposal` or another mixture).
        alternative: The proposal mixed in, on the same space and with the same filter.
        share: Probability in (0, 1) of drawing with the alternative where it can move.

    Raises:
        ValueError: If `share` is not in (0, 1).
    """

    def __init__(self, base: ProposalKernel, alternative: Alternative, share: float) -> None:
        if isinstance(share, bool) or not (isinstance(share, int | float) and 0 < share < 1):
            raise ValueError(f"a mixture's share must be a number in (0, 1), got {share!r}")
        self._base = base
        self._alternative = alternative
        self._share = float(share)

    def _share_at(self, state: State) -> float:
        return self._share if self._alternative.can_move(state) else 0.0

    def is_allowed(self, state: State) -> bool:
        """Whether the base kernel allows `state` (the alternative shares its filter)."""
        return self._base.is_allowed(state)

    def log_normaliser(self, state: State) -> float:
        """0: each component's probability already includes its own redraw normaliser."""
        return 0.0

    def log_probability(self, source: State, target: State) -> float:
        """`log q(target | source)` of the mixture."""
        share = self._share_at(source)
        base = self._base.log_probability(source, target)
        if share == 0.0:
            return base
        other = self._alternative.log_probability(source, target)
        return float(np.logaddexp(math.log1p(-share) + base, math.log(share) + other))

    def draw(self, head: State, rng: np.random.Generator) -> Proposal:
        """Draw a proposal from `head` (never `head` itself)."""
        share = self._share_at(head)
        if share > 0 and rng.random() < share:
            target = self._alternative.draw_state(head, rng)
        else:
            target = self._base.draw(head, rng).state
        log_q_ratio = self.log_probability(target, head) - self.log_probability(head, target)
        return Proposal(target, log_q_ratio)

    def random_state(self, rng: np.random.Generator, *, max_attempts: int = 10_000) -> State:
        """A state drawn by the base kernel."""
        return self._base.random_state(rng, max_attempts=max_attempts)
