"""The best front the SYNTHETIC accuracy model allows: what any search could at most find.

The synthetic accuracy (`amed_opt.evaluation.synthetic`) falls with a *damage* that is a sum over
layers, and the hardware prices latency as a sum of per-layer cycles, so the allocations that no
other allocation beats on both (latency, damage) are found exactly: merge the layers one at a
time, keep only the partial sums that no other partial sum beats on both, and remember which
bitwidth each kept sum took (a two-objective multiple-choice knapsack; pruning keeps the sets
small: 233 to 13,894 points on the synthetic setups of
benchmarks/results/search_quality/reachable.md). This is the front of the *noiseless* accuracy:
a reported accuracy adds the model's deterministic evaluation noise, within `jitter` of it.

What it answers for a benchmark (benchmarks/reachable_front.py): how much hypervolume and best Q
a search could reach at all, and whether an allocation exists that dominates a uniform one at a
lower latency whatever the noise (`Reach.CERTAIN`), only if its noise happens to favour it
(`Reach.ONLY_BY_NOISE`), or not at all (`Reach.NEVER`). Allocations at exactly the uniform one's
latency are not considered there (they need a tie in cycles; the front keeps one allocation per
latency).

Only for the synthetic model: a measured network's accuracy does not add up over layers.
"""

from __future__ import annotations

import enum
import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from amed_opt.study.bits import BitConfig
from amed_opt.study.bits import LayerBits
from amed_opt.study.hypervolume import hypervolume
from amed_opt.study.metrics import price_allocation


if TYPE_CHECKING:
    from amed_opt.evaluation.synthetic import SyntheticEvaluator
    from amed_opt.study.metrics import TrialMetrics
    from amed_opt.study.search_space import BitSearchSpace


__all__ = ["Reach", "ReachableFront", "ReachablePoint", "UniformReach", "reachable_front"]


@dataclass(frozen=True, slots=True)
class ReachablePoint:
    """One allocation on the noiseless front.

    Attributes:
        latency_cycles: Its latency on the evaluator's hardware, in cycles.
        latency_ms: The same in milliseconds.
        accuracy: Its accuracy before the evaluation noise (fraction).
        bits: The allocation (fixed layers included).
    """

    latency_cycles: int
    latency_ms: float
    accuracy: float
    bits: BitConfig

    def __post_init__(self) -> None:
        if self.latency_cycles < 0 or not 0.0 <= self.accuracy <= 1.0:
            raise ValueError(
                f"a front point needs latency >= 0 and accuracy in [0, 1], got "
                f"{self.latency_cycles} cycles and {self.accuracy}"
            )


class Reach(enum.Enum):
    """Whether some allocation at a lower latency can dominate a given one."""

    CERTAIN = "certain"
    """One does whatever the evaluation noise: its noiseless accuracy, less the noise's
    half-width, is at least the given allocation's reported accuracy."""
    ONLY_BY_NOISE = "only by noise"
    """Only an allocation whose noise happens to favour it can."""
    NEVER = "never"
    """None can: even with the most favourable noise, every cheaper allocation is less accurate
    than the given one's reported accuracy."""


@dataclass(frozen=True, slots=True)
class UniformReach:
    """Can a cheaper allocation dominate uniform `bits`?

    Attributes:
        bits: The uniform bitwidth of the searched layers.
        accuracy: Its reported accuracy (noise included), fraction.
        latency_ms: Its latency.
        best: The most accurate allocation at a strictly lower latency (noiseless), or None
            when nothing is cheaper.
        margin: `best.accuracy - accuracy` (nan without `best`).
        reach: What `margin` means against the noise's half-width.
    """

    bits: int
    accuracy: float
    latency_ms: float
    best: ReachablePoint | None
    margin: float
    reach: Reach


class ReachableFront:
    """The noiseless (latency, accuracy) front of a synthetic study; see `reachable_front`.

    Points are in ascending latency; accuracy rises strictly along them.
    """

    def __init__(
        self,
        evaluator: SyntheticEvaluator,
        space: BitSearchSpace,
        cycles: np.ndarray,
        damage: np.ndarray,
        choices: list[tuple[np.ndarray, np.ndarray]],
        options: list[list[LayerBits]],
    ) -> None:
        self._evaluator = evaluator
        self._space = space
        self._cycles = cycles
        self._accuracy = np.array([evaluator.clean_accuracy(float(d)) for d in damage])
        self._choices = choices
        self._options = options
        self._clock_hz = float(evaluator.hardware.clock_hz)
        self._uniform: dict[int, TrialMetrics] = {}

    def __len__(self) -> int:
        return len(self._cycles)

    @property
    def jitter(self) -> float:
        """Half-width of the evaluation noise around the front's accuracies (fraction)."""
        return self._evaluator.jitter

    def point(self, index: int) -> ReachablePoint:
        """The `index`-th point (0: the fastest).

        Raises:
            IndexError: If there is no such point.
        """
        if not 0 <= index < len(self):
            raise IndexError(f"the front has {len(self)} points, got index {index}")
        chosen: list[LayerBits] = []
        position = index
        for (parents, options), layer_options in zip(
            reversed(self._choices), reversed(self._options), strict=True
        ):
            chosen.append(layer_options[int(options[position])])
            position = int(parents[position])
        names = [layer.name for layer in self._space.layers]
        cycles = int(self._cycles[index])
        return ReachablePoint(
            latency_cycles=cycles,
            latency_ms=cycles / self._clock_hz * 1e3,
            accuracy=float(self._accuracy[index]),
            bits=BitConfig(dict(zip(names, reversed(chosen), strict=True))),
        )

    def best_below(self, latency_cycles: int) -> ReachablePoint | None:
        """The most accurate allocation at strictly fewer than `latency_cycles` cycles."""
        index = int(np.searchsorted(self._cycles, latency_cycles, side="left")) - 1
        return None if index < 0 else self.point(index)

    def _relative_latency(self, reference_latency_ms: float) -> np.ndarray:
        return self._cycles / self._clock_hz * 1e3 / reference_latency_ms

    def _uniform_metrics(self, bits: int) -> TrialMetrics:
        """Uniform `bits` as the evaluator reports it (noise included), evaluated once."""
        if bits not in self._uniform:
            self._uniform[bits] = self._evaluator.evaluate(self._space.uniform_bits(bits))
        return self._uniform[bits]

    def hypervolume(self, reference_latency_ms: float) -> float:
        """The hypervolume of the whole front, latency relative to `reference_latency_ms`, with
        the comparison's reference point (`amed_opt.study.hypervolume`)."""
        latency = self._relative_latency(reference_latency_ms)
        return hypervolume(zip(self._accuracy.tolist(), latency.tolist(), strict=True))

    def best_q(self, latency_weight: float, reference_latency_ms: float) -> tuple[float, int]:
        """The highest `accuracy - latency_weight * latency / reference_latency_ms` any
        allocation reaches before the noise, and the index of the point that reaches it."""
        q = self._accuracy - latency_weight * self._relative_latency(reference_latency_ms)
        index = int(np.argmax(q))
        return float(q[index]), index

    def dominates_beyond_noise(self, allocation: BitConfig, bits: int) -> bool:
        """Whether `allocation` dominates uniform `bits` (its reported accuracy) whatever its own
        noise: another allocation, at most as slow, whose noiseless accuracy less the noise's
        half-width is at least the uniform one's reported accuracy.

        Raises:
            KeyError: If `allocation` lacks a layer.
        """
        if allocation == self._space.uniform_bits(bits):
            return False
        theirs = self._uniform_metrics(bits)
        cycles = price_allocation(self._evaluator.hardware, self._space.layers, allocation)
        clean = self._evaluator.clean_accuracy(self._evaluator.damage(allocation))
        return (
            cycles.latency_cycles <= theirs.latency_cycles
            and clean - self.jitter >= theirs.accuracy
        )

    def uniform_reach(self, bits: int) -> UniformReach:
        """Whether a cheaper allocation can dominate uniform `bits` (reported accuracy).

        Raises:
            ValueError: If `bits` is not a candidate bitwidth.
        """
        metrics = self._uniform_metrics(bits)
        best = self.best_below(metrics.latency_cycles)
        margin = math.nan if best is None else best.accuracy - metrics.accuracy
        if best is None or margin + self.jitter < 0:
            reach = Reach.NEVER
        elif margin - self.jitter >= 0:
            reach = Reach.CERTAIN
        else:
            reach = Reach.ONLY_BY_NOISE
        return UniformReach(
            bits=bits,
            accuracy=metrics.accuracy,
            latency_ms=metrics.latency_ms,
            best=best,
            margin=margin,
            reach=reach,
        )


def reachable_front(evaluator: SyntheticEvaluator, space: BitSearchSpace) -> ReachableFront:
    """The exact noiseless front over every allocation of `space` (fixed layers as fixed; a
    study's weight-size limit is not applied).

    Raises:
        ValueError: If the evaluator and the space do not have the same layers.
    """
    names = [layer.name for layer in space.layers]
    if names != [layer.name for layer in evaluator.layers]:
        raise ValueError("the evaluator and the search space must have the same layers")
    fixed = space.fixed_layer_names
    bits = space.candidate_bits
    cycles = np.zeros(1, dtype=np.int64)
    damage = np.zeros(1)
    choices: list[tuple[np.ndarray, np.ndarray]] = []
    options: list[list[LayerBits]] = []
    for layer in space.layers:
        if layer.name in fixed:  # at the study's fixed bits in every allocation
            layer_options = [space.uniform_bits(bits[0])[layer.name]]
        elif len(set(space.param_names(layer.name))) == 1:
            layer_options = [LayerBits(b, b) for b in bits]
        else:
            layer_options = [LayerBits(w, a) for w, a in itertools.product(bits, bits)]
        option_cycles = np.array(
            [
                evaluator.hardware.layer_latency(layer, o.w_bits, o.a_bits).total_cycles
                for o in layer_options
            ],
            dtype=np.int64,
        )
        option_damage = np.array(
            [evaluator.layer_damage(layer.name, o.w_bits, o.a_bits) for o in layer_options]
        )
        sum_cycles = (cycles[:, None] + option_cycles[None, :]).ravel()
        sum_damage = (damage[:, None] + option_damage[None, :]).ravel()
        parents = np.repeat(np.arange(len(cycles)), len(layer_options))
        picked = np.tile(np.arange(len(layer_options)), len(cycles))
        order = np.lexsort((sum_damage, sum_cycles))  # by cycles, then damage
        sum_cycles, sum_damage = sum_cycles[order], sum_damage[order]
        # keep a sum only if it does less damage than every faster (or equally fast) one
        best_before = np.minimum.accumulate(np.concatenate(([np.inf], sum_damage[:-1])))
        keep = sum_damage < best_before
        cycles, damage = sum_cycles[keep], sum_damage[keep]
        choices.append((parents[order][keep], picked[order][keep]))
        options.append(layer_options)
    return ReachableFront(evaluator, space, cycles, damage, choices, options)
