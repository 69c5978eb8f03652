"""Mixtures of proposals: a share of the draws made by another proposal, exactly corrected.

`ProposalMixture` draws from `b` with a second proposal (the *alternative*) with probability
`s_b` and with the base kernel otherwise. Its Hastings factor uses the mixture's probability
both ways,

    q(b' | b) = (1 - s_b) q_B(b' | b) + s_b q_A(b' | b),

so a chain with the mixture samples the same target as with the base kernel alone: only how
fast it gets there changes. `s_b` is the share where the alternative can move from `b` and 0
where it cannot (a transfer from an allocation whose parameters all sit at one end); it depends
on `b` only, never on the chain's history, which is what keeps the correction exact.

Three alternatives are built by `ProposalSettings.kernel`:

- *transfers* (`_transfer.py`): one parameter lowered and another raised;
- *small moves* (`SmallMoves`): the same kind of proposal as the base kernel with one parameter
  per draw instead of `n_flips`. Near the front's best allocations most changes of several
  layers at once lose more than they gain, while a single layer lowered (or raised) can still
  win; a share of one-layer moves lets a chain take those steps without giving up the longer
  jumps of the rest (benchmarks/results/layer_choice/, round 8);
- *scanned small moves* (`ScanMoves`): one-parameter moves whose parameter is not drawn but
  the next in a fixed cycle, which advances one parameter per chain step (small move or not).
  A chain gets some 15-30 steps in a study of 100-150 trials; drawn small moves pick the same
  few heavy layers again and again, a cycle tries a different one at each small move (a
  systematic or deterministic scan, as in a Gibbs sampler's: Liu, *Monte Carlo Strategies in
  Scientific Computing*, 2001, ch. 6).

A scan makes the kernel depend on the chain's step (`at_step`), never on the states or the
chain's history: each step's kernel is a Metropolis-Hastings kernel for the target on its own
(the mixture's Hastings factor, at that step, both ways), so the target is invariant at every
step, and so under the composition of a whole cycle (kernels applied in a cycle keep a
target every one of them keeps: Tierney, Annals of Statistics 22, 1994, §2.3). The chain is no
longer reversible over a cycle, which the target's invariance does not need.

Checked by the stationarity tests (tests/amed_opt/samplers/test_stationary.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from amed_opt.samplers._proposals import Proposal
from amed_opt.samplers._proposals import ProposalKernel
from amed_opt.samplers._proposals import State


__all__ = ["Alternative", "ProposalMixture", "ScanMoves", "SmallMoves"]


class Alternative(Protocol):
    """A proposal mixed into a base kernel."""

    def can_move(self, state: State) -> bool: ...
    def log_probability(self, source: State, target: State) -> float: ...
    def draw_state(self, head: State, rng: np.random.Generator) -> State: ...
    def at_step(self, step: int) -> Alternative: ...


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

    def at_step(self, step: int) -> SmallMoves:
        """The alternative of chain step `step`: itself unless its kernel depends on the step."""
        kernel = self._kernel.at_step(step)
        return self if kernel is self._kernel else SmallMoves(kernel)


class ScanMoves:
    """One-parameter moves that visit the movable parameters in a fixed cycle.

    A chain's step 0 is its start and its moves are steps 1, 2, ...: at step `t` the move
    changes parameter `order[(t - 1) mod len(order)]`, so a chain's first move is about
    `order[0]`. It moves it by one position of its list: to either neighbour with probability
    1/2, to the only one at an end of the list or where `allowed` refuses the other, and to
    none (`can_move` is false) where `allowed` refuses both. `at_step` gives the alternative of
    another step.

    Args:
        sizes: Number of values of each parameter, by position in the state.
        order: The cycle, as positions of parameters with more than one value (each once).
        allowed: Predicate on states (the base kernel's filter); None allows every state.
        step: The chain step this alternative proposes for (1: a chain's first move).

    Raises:
        ValueError: If `order` is empty, repeats a position, names a position outside `sizes`
            or a parameter with a single value, or `step` is negative.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        order: Sequence[int],
        *,
        allowed: Callable[[State], bool] | None = None,
        step: int = 1,
    ) -> None:
        sizes = tuple(int(size) for size in sizes)
        order = tuple(int(position) for position in order)
        if not order or len(set(order)) != len(order):
            raise ValueError(f"a scan's order must name each parameter once, got {order!r}")
        if any(not 0 <= p < len(sizes) or sizes[p] < 2 for p in order):
            raise ValueError(
                f"a scan's order must name parameters with more than one value, got {order!r}"
            )
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ValueError(f"a chain step must be an int >= 0, got {step!r}")
        self._sizes = sizes
        self._order = order
        self._allowed = allowed
        self._step = step

    @property
    def parameter(self) -> int:
        """The position of the parameter this step moves."""
        return self._order[(self._step - 1) % len(self._order)]

    def at_step(self, step: int) -> ScanMoves:
        """The same cycle at chain step `step`."""
        if step == self._step:
            return self
        return ScanMoves(self._sizes, self._order, allowed=self._allowed, step=step)

    def _targets(self, state: State) -> list[State]:
        position = self.parameter
        targets = []
        for index in (state[position] - 1, state[position] + 1):
            if 0 <= index < self._sizes[position]:
                target = (*state[:position], index, *state[position + 1 :])
                if self._allowed is None or self._allowed(target):
                    targets.append(target)
        return targets

    def can_move(self, state: State) -> bool:
        """Whether this step's parameter has a neighbouring value `allowed` accepts."""
        return bool(self._targets(state))

    def log_probability(self, source: State, target: State) -> float:
        """`log q(target | source)` at this step; `-inf` if this step's move cannot reach it."""
        targets = self._targets(source) if len(target) == len(source) else []
        return -math.log(len(targets)) if target in targets else -math.inf

    def draw_state(self, head: State, rng: np.random.Generator) -> State:
        """`head` with this step's parameter moved to a neighbouring value.

        Raises:
            ValueError: If it has none (check `can_move` first).
        """
        targets = self._targets(head)
        if not targets:
            raise ValueError(f"parameter {self.parameter} cannot move from {head}")
        return targets[int(rng.integers(len(targets)))]


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

    def at_step(self, step: int) -> ProposalMixture:
        """The mixture of chain step `step`: itself unless a component depends on the step."""
        base = self._base.at_step(step)
        alternative = self._alternative.at_step(step)
        if base is self._base and alternative is self._alternative:
            return self
        return ProposalMixture(base, alternative, self._share)

    def random_state(self, rng: np.random.Generator, *, max_attempts: int = 10_000) -> State:
        """A state drawn by the base kernel."""
        return self._base.random_state(rng, max_attempts=max_attempts)
