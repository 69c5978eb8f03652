"""Start candidates from measured layer sensitivities: `[sampler] start = "probed"`.

The chains of `start = "best-bridged"` start near the uniform allocations and have some 15-30
steps each to move away from them; the allocations that beat the uniform ones mix bitwidths
across many layers (the sensitive, cheap layers high, the tolerant, expensive ones low), more
layers than a short chain changes. This start measures where to go first, in three stages of
start candidates, all counted in the study's budget:

1. the uniform ladder (highest bitwidth first), as `best-uniform`;
2. one *probe* per searched layer: the ladder's top with that layer alone at the lowest
   candidate bitwidth, the layers that save the most latency first, at most half the budget
   (`max_probes`); the accuracy a probe loses is the layer's sensitivity `a_l`, as in the
   per-layer sensitivity pass of AIMET's automatic mixed precision or the layer ranking of HAWQ
   (Dong et al., ICCV 2019; the trace of the Hessian there, a measured loss here);
3. once those are evaluated, the model's picks. Each layer at the bitwidth `b` that minimises
   `a_l * h(b) + lambda * cycles_l(b) / cycles_top`, where `h` is one curve shared by every
   layer, read off the uniform ladder (`h(b) = (acc_top - acc_uniform(b)) / sum_l a_l`, 0 at the
   top and 1 at the lowest bitwidth, made non-increasing in `b`). This is the separable model
   that the sensitivity-based methods solve as an integer program (HAWQ-V3, Yao et al., ICML
   2021): accuracy losses that add over layers, each layer's loss its own scale of a common
   bitwidth curve, latency a sum of layer latencies. With both sums separable the best
   allocation for one `lambda` is found layer by layer, exactly. The picks, in this order:
   - below the smallest latency weight, that weight halved until the pick is the model's most
     accurate allocation (at most 8 halvings): the accurate end of the front;
   - one per weight of the grid (`latency_weight_grid`: the chains' weights and, between the
     smallest and the largest, the weights doubling from the smallest);
   - one per uniform bitwidth strictly between the top and the lowest: the pick of the smallest
     weight that is no slower than it (bisection), the model's best bid to dominate it.
   On a small budget the picks are capped so that every chain keeps two steps (`start_budget`).

A probe more accurate than the top allocation can only be evaluation noise (a finite validation
set, or calibration): the root mean square of those gains estimates the noise, and every loss
below it counts as that much. Otherwise the layers whose losses the noise hides look free to
lower, and the picks lower many of them together, losing what each hid (measured on MobileNetV2,
whose 51 layers include many light ones, `benchmarks/results/layer_choice/`, round 10).

Every chain then starts from the finished candidate its own score ranks highest, so the model
only chooses starts: the chains stay exact (`samplers/_start.py`), and where the model is wrong
(accuracy losses that do not add up, latencies that depend on neighbouring layers) the chains
correct it with measured trials. Layers left unprobed (over `max_probes`) get the mean measured
sensitivity; a missing measurement (a failed trial) is treated the same way. The model ignores
energy and the accuracy penalty of `Q`; the chains' scores see both.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING
from typing import Any

from amed_opt.samplers import params_key
from amed_opt.study.metrics import price_allocation
from amed_opt.study.metrics import reference_pricing
from amed_opt.study.proposal_weights import latency_savings
from amed_opt.study.search_space import start_bits
from amed_opt.study.search_space import uniform_ladder


if TYPE_CHECKING:
    from amed_opt.study.search_space import BitSearchSpace
    from hardware.protocol import HardwareModel


__all__ = [
    "ModelLayer",
    "SensitivityModel",
    "latency_weight_grid",
    "probed_start",
    "start_budget",
]

ParamsKey = tuple[tuple[str, Any], ...]

_MAX_HALVINGS = 8
"""How far below the smallest latency weight the picks go: 2^-8 of it at most."""

Finished = Sequence[tuple[Mapping[str, Any], Sequence[float]]]
"""The start candidates that completed: `(params, values)` in candidate order."""


def latency_weight_grid(weights: Sequence[float]) -> tuple[float, ...]:
    """The chains' positive latency weights and, between the smallest and the largest, the
    weights doubling from the smallest: one model allocation each (ascending, distinct; empty
    when no weight is positive: a chain at weight 0 wants the most accurate allocation, which
    the picks below the grid reach).

    Raises:
        ValueError: If a weight is negative or not a number.
    """
    if not all(math.isfinite(w) and w >= 0 for w in weights):
        raise ValueError(f"latency weights must be numbers >= 0, got {list(weights)!r}")
    positive = [w for w in weights if w > 0]
    if not positive:
        return ()
    low, high = min(positive), max(positive)
    grid = set(positive)
    weight = low
    while weight < high:
        grid.add(weight)
        weight *= 2.0
    return tuple(sorted(grid))


@dataclass(frozen=True, slots=True)
class ModelLayer:
    """A searched layer as the model sees it (built by `probed_start`)."""

    name: str
    params: tuple[str, ...]
    cycles: Mapping[int, int]
    """Its cycles at each candidate bitwidth (the others at the same uniform bitwidth)."""
    probe: Mapping[str, int] | None
    """The params of its probe; None when it is not probed."""


@dataclass(frozen=True, slots=True)
class SensitivityModel:
    """Stage 3 of the `probed` start: the model's allocations, from the finished candidates.

    Called by the sampler (`BestOfCandidates.derive`) with the stage-1 and stage-2 candidates
    that completed; deterministic in them, as every worker computes it.

    Attributes:
        layers: The searched layers, in network order.
        bits: The candidate bitwidths at or under the ladder's top, ascending.
        reference_cycles: The latency `Q` divides by (every layer at 8 bits, cycles).
        weights: The latency weights of the grid (`latency_weight_grid`; may be empty, then
            the picks below it start from weight 1).
        accuracy_index: Position of the accuracy in a trial's values.
        chain_weights: The chains' own latency weights (in `weights`): their picks come first
            when `max_picks` leaves out some.
        max_picks: None: every pick, repeats included (the sampler leaves them out). A number:
            at most this many picks, each distinct and none a uniform allocation or a probe;
            when there are more, the chains' own weights' picks are kept first, then those
            against the uniform allocations, then the rest of the grid, then those below it,
            in the order of the full list.

    Raises:
        ValueError: If there are no layers, fewer than two bitwidths, a weight or the reference
            is not positive, the accuracy index or `max_picks` is negative.
    """

    layers: tuple[ModelLayer, ...]
    bits: tuple[int, ...]
    reference_cycles: int
    weights: tuple[float, ...]
    accuracy_index: int = 0
    chain_weights: tuple[float, ...] = ()
    max_picks: int | None = None

    def __post_init__(self) -> None:
        if not self.layers:
            raise ValueError("SensitivityModel needs at least one searched layer")
        if len(self.bits) < 2 or list(self.bits) != sorted(set(self.bits)):
            raise ValueError(f"SensitivityModel needs two or more ascending bits, got {self.bits}")
        if self.reference_cycles <= 0:
            raise ValueError(f"reference_cycles must be positive, got {self.reference_cycles}")
        if not all(math.isfinite(w) and w > 0 for w in self.weights):
            raise ValueError(f"weights must be positive numbers, got {self.weights!r}")
        if self.accuracy_index < 0:
            raise ValueError(f"accuracy_index must be >= 0, got {self.accuracy_index}")
        if self.max_picks is not None and self.max_picks < 0:
            raise ValueError(f"max_picks must be >= 0 or None, got {self.max_picks}")

    def __call__(self, finished: Finished) -> list[dict[str, int]]:
        """The model's picks as trial params (the module docstring: below the smallest weight,
        the grid, the uniform bitwidths; repeats included, the sampler leaves them out); none
        when the top allocation or every probe is missing."""
        accuracy = {
            params_key(params): float(values[self.accuracy_index]) for params, values in finished
        }
        top = self.bits[-1]
        top_accuracy = accuracy.get(params_key(self._uniform(top)))
        if top_accuracy is None or not math.isfinite(top_accuracy):
            return []
        losses = {
            layer.name: top_accuracy - accuracy[params_key(layer.probe)]
            for layer in self.layers
            if layer.probe is not None
            and math.isfinite(accuracy.get(params_key(layer.probe), math.nan))
        }
        if not losses:
            return []
        # A probe more accurate than the top allocation is evaluation noise. Their root mean
        # square estimates that noise, and a loss below it counts as that much: a tolerant layer
        # is not free, and many of them lowered together lose what the noise hid one by one.
        gains = [loss for loss in losses.values() if loss < 0]
        noise = math.sqrt(sum(g * g for g in gains) / len(gains)) if gains else 0.0
        measured = {name: max(loss, noise) for name, loss in losses.items()}
        mean = sum(measured.values()) / len(measured)
        sensitivity = {layer.name: measured.get(layer.name, mean) for layer in self.layers}
        curve = self._curve(accuracy, top_accuracy, sum(sensitivity.values()))
        picks = [self._pick(weight, sensitivity, curve) for weight in self.weights]
        # Below the smallest weight, halve it until the pick is the model's most accurate
        # allocation (the limit of a vanishing weight), so that the picks also cover the
        # accurate end of the front, where the measured losses are small.
        smallest = min(self.weights, default=1.0)
        limit = self._pick(smallest * 2.0**-_MAX_HALVINGS, sensitivity, curve)
        weight = smallest
        below: list[dict[str, int]] = []
        for _ in range(_MAX_HALVINGS):
            weight /= 2.0
            below.append(self._pick(weight, sensitivity, curve))
            if below[-1] == limit:
                break
        # Per uniform bitwidth below the top, the model's most accurate allocation that is no
        # slower (the smallest weight whose pick fits, by bisection): the candidates that would
        # dominate the ladder if the model is right.
        ladder = [
            self._fitting(self._cycles_at(bits), sensitivity, curve)
            for bits in sorted(curve, reverse=True)[1:-1]
        ]
        ordered = [*reversed(below), *picks, *ladder]
        if self.max_picks is None:
            return ordered
        # Rank: the chains' own weights, the uniform allocations' bids, the grid, below it.
        ranks = [3] * len(below)
        ranks += [0 if weight in self.chain_weights else 2 for weight in self.weights]
        ranks += [1] * len(ladder)
        return self._capped(ordered, ranks, self.max_picks)

    def _capped(
        self, ordered: Sequence[dict[str, int]], ranks: Sequence[int], limit: int
    ) -> list[dict[str, int]]:
        """At most `limit` distinct picks that are not first candidates, the best-ranked kept
        (a repeat takes the better rank of the two), in the order of `ordered`."""
        known = {params_key(self._uniform(bits)) for bits in self.bits}
        known |= {params_key(layer.probe) for layer in self.layers if layer.probe is not None}
        rank_of: dict[ParamsKey, int] = {}
        first: dict[ParamsKey, int] = {}
        for position, (pick, rank) in enumerate(zip(ordered, ranks, strict=True)):
            key = params_key(pick)
            if key in known:
                continue
            first.setdefault(key, position)
            rank_of[key] = min(rank, rank_of.get(key, rank))
        kept = sorted(first, key=lambda k: (rank_of[k], first[k]))[:limit]
        return [dict(ordered[first[key]]) for key in sorted(kept, key=lambda k: first[k])]

    def _cycles_at(self, bits: int) -> int:
        return sum(layer.cycles[bits] for layer in self.layers)

    def _fitting(
        self, budget: int, sensitivity: Mapping[str, float], curve: Mapping[int, float]
    ) -> dict[str, int]:
        """The pick of the smallest weight whose searched layers take at most `budget` cycles."""
        low = math.log(min(self.weights, default=1.0)) - 30.0
        high = math.log(max(self.weights, default=1.0)) + 30.0
        fits = self._pick(math.exp(high), sensitivity, curve)
        for _ in range(60):
            middle = (low + high) / 2.0
            pick = self._pick(math.exp(middle), sensitivity, curve)
            if self._cycles_of(pick) <= budget:
                high, fits = middle, pick
            else:
                low = middle
        return fits

    def _cycles_of(self, params: Mapping[str, int]) -> int:
        return sum(layer.cycles[params[layer.params[0]]] for layer in self.layers)

    def _pick(
        self, weight: float, sensitivity: Mapping[str, float], curve: Mapping[int, float]
    ) -> dict[str, int]:
        """The allocation minimising `sum_l a_l h(b_l) + weight * cycles_l(b_l) / reference`."""
        params: dict[str, int] = {}
        for layer in self.layers:
            chosen = self.bits[-1]
            best = math.inf
            for bits in sorted(curve, reverse=True):  # ties keep the higher bitwidth
                cost = sensitivity[layer.name] * curve[bits] + weight * (
                    layer.cycles[bits] / self.reference_cycles
                )
                if cost < best - 1e-12:
                    chosen, best = bits, cost
            for param in layer.params:
                params[param] = chosen
        return params

    def _uniform(self, bits: int) -> dict[str, int]:
        return {param: bits for layer in self.layers for param in layer.params}

    def _curve(
        self, accuracy: Mapping[ParamsKey, float], top: float, total: float
    ) -> dict[int, float]:
        """`h(b)` for every bitwidth it is known at: 0 at the top, 1 at the lowest, the uniform
        ladder's loss over the summed sensitivities between; non-increasing in `b`."""
        curve = {self.bits[-1]: 0.0, self.bits[0]: 1.0}
        for bits in self.bits[1:-1]:
            uniform = accuracy.get(params_key(self._uniform(bits)))
            if uniform is None or not math.isfinite(uniform):
                continue  # not evaluated: the model does not offer this bitwidth
            curve[bits] = min(1.0, max(0.0, (top - uniform) / total)) if total > 0 else 0.0
        floor = 0.0
        for bits in sorted(curve, reverse=True):
            floor = max(floor, curve[bits])
            curve[bits] = floor
        return curve


def start_budget(n_trials: int, n_ladder: int, n_layers: int, n_chains: int) -> tuple[int, int]:
    """`(max_probes, max_picks)` for a study of `n_trials`: probes up to half the budget, and
    picks up to what leaves every chain two steps after the ladder and the probes (at least one
    pick per chain). At 100 trials neither cap binds the picks on ResNet-18 (19 searched layers)
    or MobileNetV2 (51), whose picks number at most 24; ResNet-50's 60 trials (52 layers) cap
    them at 13.

    Raises:
        ValueError: If a count is negative or `n_trials` is not positive.
    """
    if n_trials <= 0 or min(n_ladder, n_layers, n_chains) < 0:
        raise ValueError(
            f"a start budget needs n_trials > 0 and counts >= 0, got {n_trials}, {n_ladder}, "
            f"{n_layers}, {n_chains}"
        )
    max_probes = n_trials // 2
    probes = min(n_layers, max_probes)
    return max_probes, max(n_chains, n_trials - n_ladder - probes - 2 * n_chains)


def probed_start(
    hardware: HardwareModel,
    space: BitSearchSpace,
    max_size_bytes: int | None,
    *,
    latency_weights: Sequence[float],
    max_probes: int,
    accuracy_index: int = 0,
    max_picks: int | None = None,
) -> tuple[list[dict[str, int]], SensitivityModel | None]:
    """The first candidates of the `probed` start (the uniform ladder, then the probes) and the
    model that turns their results into the last ones (None, and no probes, when the ladder has
    a single bitwidth).

    Args:
        hardware: Prices the layers.
        space: The search space.
        max_size_bytes: The size limit, or None (the ladder's top is the highest bitwidth that
            fits; the sampler leaves out candidates over the limit).
        latency_weights: The chains' latency weights (`latency_weight_grid`).
        max_probes: At most this many layers are probed (the rest get the mean sensitivity).
        accuracy_index: Position of the accuracy in a trial's values.
        max_picks: `SensitivityModel.max_picks`.

    Raises:
        ValueError: On a bad weight or a negative `max_probes`.
    """
    if max_probes < 0:
        raise ValueError(f"max_probes must be >= 0, got {max_probes}")
    ladder = uniform_ladder(space, max_size_bytes)
    top = start_bits(space, max_size_bytes)
    bits = tuple(sorted(b for b in space.candidate_bits if b <= top))
    if len(bits) < 2:
        return ladder, None
    pricing = {b: price_allocation(hardware, space.layers, space.uniform_bits(b)) for b in bits}
    savings = latency_savings(hardware, space)
    ranked = sorted(space.searched_layers, key=lambda layer: -savings[layer.name])  # stable
    probes: dict[str, dict[str, int]] = {}
    for layer in ranked[:max_probes]:
        params = space.uniform_params(top)
        for param in dict.fromkeys(space.param_names(layer.name)):
            params[param] = bits[0]
        if params not in ladder:  # a network with one searched layer: its probe is uniform
            probes[layer.name] = params
    layers = tuple(
        ModelLayer(
            name=layer.name,
            params=tuple(dict.fromkeys(space.param_names(layer.name))),
            cycles=MappingProxyType(
                {b: int(pricing[b].cycles_by_layer[layer.name]) for b in bits}
            ),
            probe=probes.get(layer.name),
        )
        for layer in space.searched_layers
    )
    model = SensitivityModel(
        layers=layers,
        bits=bits,
        reference_cycles=max(1, int(reference_pricing(hardware, space.layers).latency_cycles)),
        weights=latency_weight_grid(latency_weights),
        accuracy_index=accuracy_index,
        chain_weights=tuple(w for w in latency_weights if w > 0),
        max_picks=max_picks,
    )
    return ladder + list(probes.values()), model
