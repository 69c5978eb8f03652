"""The sampler's settings, grouped and validated: how a proposal is drawn, and what the chains are.

`ProposalSettings` is the proposal kernel of `METHOD.md` §5 (`n_flips`, the rule at the ends of a
list, the model-size filter); `ChainSettings` says how many chains the study holds, which score
and temperature each uses, and which of them one sampler advances. Each is a frozen value that
validates itself when it is built, with a `ValueError` naming the argument. Where each chain
starts is the third group, in `_start.py`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING
from typing import Any

import numpy as np

from amed_opt.samplers._front_weights import FrontWeights
from amed_opt.samplers._mixture import Alternative
from amed_opt.samplers._mixture import ProposalMixture
from amed_opt.samplers._mixture import ScanMoves
from amed_opt.samplers._mixture import SmallMoves
from amed_opt.samplers._proposals import Boundary
from amed_opt.samplers._proposals import NeighbourProposal
from amed_opt.samplers._proposals import ProposalKernel
from amed_opt.samplers._temperature import ConstantTemperature
from amed_opt.samplers._temperature import TemperatureSchedule
from amed_opt.samplers._transfer import TransferProposal
from amed_opt.samplers._weighted import WeightedProposal


if TYPE_CHECKING:
    from amed_opt.samplers._score import ScoreFunction
    from amed_opt.samplers._space import OrderedSearchSpace


__all__ = ["ChainSettings", "ProposalSettings", "TemperatureLike", "check_seed"]

TemperatureLike = float | TemperatureSchedule
"""A constant temperature `T > 0` or a schedule `step -> T`."""


def check_seed(seed: Any) -> None:
    """Raise `ValueError` unless `seed` is `None` or an int >= 0 (a sampler's seed)."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)):
        raise ValueError(f"seed must be an int or None, got {seed!r}")
    if seed is not None and seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")


def _is_sequence(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


@dataclass(frozen=True, slots=True)
class ProposalSettings:
    """How a chain proposes a neighbour of its head.

    Args:
        n_flips: Number of parameters chosen per proposal. With `boundary="forced"` and an even
            `n_flips` every move keeps the parity of the summed list indices, so a chain reaches
            only half of the space (a warning is issued).
        boundary: What a chosen parameter at an end of its list does: `"forced"` takes the only
            legal step (the paper's proposal; leaving an end costs a Hastings factor 1/2 per
            parameter), `"lazy"` steps inward or stays, 1/2 each (a symmetric proposal that
            leaves the all-8-bit corner as easily as any state; see `_proposals.py`).
        proposal_filter: Predicate on params (name to value), e.g. a model-size limit. A
            proposal it rejects is never evaluated: it is redrawn, and the Hastings factor
            accounts for that exactly. It must be deterministic; it is memoised.
        layer_weights: None (the default) chooses exactly `n_flips` parameters, all equally
            likely. A weight > 0 per parameter (by name) chooses each parameter on its own with
            probability `min(1/2, n_flips * w / sum(w))`, so about `n_flips` per draw and heavy
            ones more often (`_weighted.py`; exact, since the weights do not depend on the
            state). Not combined with `proposal_filter`.
        transfer_share: Probability in [0, 1) that a proposal is a *transfer* instead: one
            parameter lowered by a step and another raised by a step, the lowered one drawn by
            `layer_weights` (all equal without them) and the raised one by their inverse
            (`_transfer.py`; exact, the Hastings factor uses the mixture's probabilities).
            0: no transfers. Not combined with `proposal_filter`.
        small_move_share: Probability in [0, 1) that a proposal moves about one parameter
            (the same proposal with `n_flips = 1`) instead of about `n_flips` (`_mixture.py`;
            exact, the Hastings factor uses the mixture's probabilities). 0: every proposal
            moves about `n_flips`; > 0 needs `n_flips > 1`.
        scan_small_moves: False (the default) draws the parameter of a small move like the
            base kernel does. True takes it from a fixed cycle through the parameters with
            more than one value instead, which advances one parameter per chain step (a
            chain's first move: the first of the cycle), the heaviest `layer_weights` first
            (the space's order without them), and moves it to a neighbouring value
            (`_mixture.ScanMoves`; exact at every step, the kernel depends on the step, never
            on the states). Needs `small_move_share > 0`.

    Raises:
        ValueError: If an argument is invalid; the message names it.
    """

    n_flips: int = 1
    boundary: Boundary | str = Boundary.FORCED
    proposal_filter: Callable[[dict[str, Any]], bool] | None = None
    layer_weights: Mapping[str, float] | None = None
    transfer_share: float = 0.0
    small_move_share: float = 0.0
    scan_small_moves: bool = False

    def __post_init__(self) -> None:
        n_flips = self.n_flips
        if isinstance(n_flips, bool) or not isinstance(n_flips, int) or n_flips < 1:
            raise ValueError(f"n_flips must be an int >= 1, got {n_flips!r}")
        try:
            boundary = Boundary(self.boundary)
        except ValueError:
            choices = ", ".join(repr(b.value) for b in Boundary)
            raise ValueError(f"boundary must be one of {choices}, got {self.boundary!r}") from None
        object.__setattr__(self, "boundary", boundary)
        # Weighted choices and small moves change a random or odd number of parameters, so no
        # parity is kept.
        keeps_parity = self.layer_weights is None and not self.small_move_share
        if n_flips % 2 == 0 and boundary is Boundary.FORCED and keeps_parity:
            warnings.warn(
                f"n_flips={n_flips} is even: every move keeps the parity of the summed list "
                "indices, so each chain only reaches half of the search space",
                UserWarning,
                stacklevel=3,
            )
        if self.proposal_filter is not None and not callable(self.proposal_filter):
            raise ValueError(f"proposal_filter must be callable, got {self.proposal_filter!r}")
        share = self.transfer_share
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share < 1:
            raise ValueError(f"transfer_share must be a number in [0, 1), got {share!r}")
        if share > 0 and self.proposal_filter is not None:
            raise ValueError(
                "transfer_share cannot be combined with proposal_filter: a transfer's exact "
                "normaliser under a filter is not implemented; drop one of them"
            )
        small = self.small_move_share
        if isinstance(small, bool) or not isinstance(small, int | float) or not 0 <= small < 1:
            raise ValueError(f"small_move_share must be a number in [0, 1), got {small!r}")
        if small > 0 and n_flips == 1:
            raise ValueError(
                "small_move_share > 0 needs n_flips > 1: with n_flips = 1 every proposal is "
                "already a small move"
            )
        if not isinstance(self.scan_small_moves, bool):
            raise ValueError(f"scan_small_moves must be a bool, got {self.scan_small_moves!r}")
        if self.scan_small_moves and not small:
            raise ValueError(
                "scan_small_moves needs small_move_share > 0 (it orders the small moves): set "
                "a share or scan_small_moves=False"
            )
        if self.layer_weights is not None:
            if not isinstance(self.layer_weights, Mapping):
                raise ValueError(
                    "layer_weights must map parameter names to weights, "
                    f"got {self.layer_weights!r}"
                )
            object.__setattr__(self, "layer_weights", MappingProxyType(dict(self.layer_weights)))
            if self.proposal_filter is not None:
                raise ValueError(
                    "layer_weights cannot be combined with proposal_filter: the filter's exact "
                    "normaliser needs every neighbour, and weighted choices have too many; "
                    "drop one of them"
                )

    def kernel(self, space: OrderedSearchSpace) -> ProposalKernel:
        """The proposal kernel on `space`.

        Raises:
            ValueError: If `n_flips` exceeds the number of parameters with more than one value,
                `layer_weights` does not give every such parameter a weight > 0, or transfers
                are asked for with fewer than two such parameters.
        """
        if self.n_flips > len(space.movable):
            raise ValueError(
                f"n_flips ({self.n_flips}) must not exceed the number of parameters with more "
                f"than one value ({len(space.movable)})"
            )
        kernel = self._neighbours(space, self.n_flips)
        if self.small_move_share > 0:
            small: Alternative = (
                ScanMoves(space.sizes, self._scan_order(space), allowed=self._allowed(kernel))
                if self.scan_small_moves
                else SmallMoves(self._neighbours(space, 1))
            )
            kernel = ProposalMixture(kernel, small, self.small_move_share)
        if self.transfer_share > 0:
            transfers = TransferProposal(space, weights=self.layer_weights)
            kernel = ProposalMixture(kernel, transfers, self.transfer_share)
        return kernel

    def _scan_order(self, space: OrderedSearchSpace) -> list[int]:
        """The movable parameters, heaviest `layer_weights` first (ties and no weights: the
        space's order)."""
        movable = list(space.movable)
        if self.layer_weights is None:
            return movable
        weights = self.layer_weights
        return sorted(movable, key=lambda position: -weights[space.names[position]])

    def _allowed(self, kernel: ProposalKernel) -> Callable[[tuple[int, ...]], bool] | None:
        """The filter on states a scan shares with the base kernel (None without a filter)."""
        return None if self.proposal_filter is None else kernel.is_allowed

    def _neighbours(self, space: OrderedSearchSpace, n_flips: int) -> ProposalKernel:
        """The neighbour kernel that moves `n_flips` parameters (about that many if weighted)."""
        if self.layer_weights is not None:
            return WeightedProposal(
                space,
                weights=self.layer_weights,
                n_flips=n_flips,
                boundary=Boundary(self.boundary),
            )
        return NeighbourProposal(
            space,
            n_flips=n_flips,
            boundary=Boundary(self.boundary),
            proposal_filter=self.proposal_filter,
        )


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


def _schedules(temperature: Any, count: int) -> tuple[TemperatureSchedule, ...]:
    if _is_sequence(temperature):
        return tuple(
            _as_schedule(value, f"temperature[{chain}]") for chain, value in enumerate(temperature)
        )
    return (_as_schedule(temperature, "temperature"),) * count


def _count_chains(n_chains: Any, score: Any, temperature: Any) -> int:
    lengths = {
        name: len(value)
        for name, value in (("score", score), ("temperature", temperature))
        if _is_sequence(value)
    }
    if isinstance(score, FrontWeights):
        lengths["score"] = score.count
    if n_chains is not None:
        if isinstance(n_chains, bool) or not isinstance(n_chains, int) or n_chains < 1:
            raise ValueError(f"n_chains must be an int >= 1, got {n_chains!r}")
        lengths["n_chains"] = n_chains
    if len(set(lengths.values())) > 1:
        raise ValueError(
            "score, temperature and n_chains disagree on the number of chains: "
            + ", ".join(f"{name} gives {length}" for name, length in lengths.items())
        )
    count = next(iter(lengths.values()), 1)
    if count < 1:
        raise ValueError("score and temperature sequences must not be empty")
    return count


@dataclass(frozen=True, slots=True)
class ChainSettings:
    """The chains of a study: how many, each one's score and temperature, which to advance.

    Chain `c` uses `score[c]` and `temperature[c]` when those are sequences (e.g. one
    `QualityScore` per latency weight, to spread the chains along the accuracy–latency front),
    and the single value otherwise. Sequences are stored as tuples.

    Args:
        score: Maps a finished trial's values to the quality `Q` to maximise, or a sequence of
            such callables, one per chain, or `FrontWeights` (one `QualityScore` per chain at
            latency weights read off the start candidates' front; needs `BestOfCandidates`).
            `None`: the objective value of a single-objective study (negated when minimised);
            a multi-objective study needs a score.
        temperature: `T > 0` in units of the score, a schedule (`ConstantTemperature`,
            `GeometricAnnealing`, or any callable `step -> T`), or a sequence of those, one per
            chain. A schedule is called with the chain step (0 for the initial evaluation).
        n_chains: Number of chains. `None`: the length of `score` or `temperature` when one is
            a sequence, else 1.
        chain_ids: The chains the sampler advances (e.g. `[i]` in worker process `i`). `None`:
            all.

    Raises:
        ValueError: If an argument is invalid or the chain counts disagree; the message names
            the argument.
    """

    score: ScoreFunction | Sequence[ScoreFunction | None] | FrontWeights | None = None
    temperature: TemperatureLike | Sequence[TemperatureLike] = 0.01
    n_chains: int | None = None
    chain_ids: Sequence[int] | None = None

    def __post_init__(self) -> None:
        count = _count_chains(self.n_chains, self.score, self.temperature)
        if _is_sequence(self.score):
            object.__setattr__(self, "score", tuple(self.score))  # type: ignore[arg-type]
        for chain, chain_score in enumerate(self.scores):
            if chain_score is not None and not callable(chain_score):
                raise ValueError(f"score[{chain}] must be callable, got {chain_score!r}")
        if _is_sequence(self.temperature):
            object.__setattr__(self, "temperature", tuple(self.temperature))  # type: ignore[arg-type]
        _schedules(self.temperature, count)
        if self.chain_ids is not None:
            ids = tuple(self.chain_ids)
            if (
                not ids
                or len(set(ids)) != len(ids)
                or any(isinstance(c, bool) or not isinstance(c, int) for c in ids)
                or any(not 0 <= c < count for c in ids)
            ):
                raise ValueError(
                    f"chain_ids must be distinct ints in [0, {count}), got {self.chain_ids!r}"
                )
            object.__setattr__(self, "chain_ids", ids)

    @property
    def count(self) -> int:
        """The number of chains in the study."""
        return _count_chains(self.n_chains, self.score, self.temperature)

    @property
    def front(self) -> FrontWeights | None:
        """The `FrontWeights` that give the chains' scores, if `score` is one."""
        return self.score if isinstance(self.score, FrontWeights) else None

    @property
    def scores(self) -> tuple[ScoreFunction | None, ...]:
        """Each chain's score function (`None`: the single objective's value); with
        `FrontWeights`, the scores at its fallback weights (the sampler resolves the others)."""
        if isinstance(self.score, FrontWeights):
            return self.score.scores(self.score.fallback)
        if _is_sequence(self.score):
            return tuple(self.score)  # type: ignore[arg-type]
        return (self.score,) * self.count  # type: ignore[return-value]

    @property
    def temperatures(self) -> tuple[TemperatureSchedule, ...]:
        """Each chain's temperature schedule (a number becomes a `ConstantTemperature`)."""
        return _schedules(self.temperature, self.count)

    @property
    def advanced(self) -> tuple[int, ...]:
        """The chains the sampler advances: `chain_ids`, or all of them."""
        if self.chain_ids is None:
            return tuple(range(self.count))
        return tuple(self.chain_ids)
