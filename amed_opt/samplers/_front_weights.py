"""Latency weights read off the start candidates' front: chains placed where the front bends.

A chain at latency weight `lambda` settles near the allocations where the accuracy–latency front
has slope `lambda` (accuracy per reference latency): `Q = acc - lambda * lat / lat_ref` is then
maximal. Fixed weights say nothing about where that is: on one accelerator every slope of the
front lies between 0.2 and 0.6, on another between 0.02 and 2, and a chain whose weight lies
outside the front's slopes sits at an end of it (at uniform 2 bits, or among 8-bit allocations
no more accurate than 4 bits) and adds little.

`FrontWeights` measures the slopes on the start candidates (the uniform ladder) once every one of
them has finished: the upper concave hull of their non-dominated (latency / reference, accuracy)
points has slopes `s_1 > ... > s_m > 0`. The first chain's weight is `2 s_1`, one octave past
the steepest slope: it starts at the fastest uniform allocation and buys accuracy back where it
is cheapest. The others are spread geometrically from `s_1` down to `s_m / 2`: at `s_1` the two
fastest uniform allocations score the same, so that chain walks the whole first stretch of the
front; at `s_m / 2`, one octave past the flattest slope, the last chain starts at the most
accurate uniform allocation and looks for more accuracy at about its latency; the chains between
sit along the front, on the stretches between two uniform allocations where mixed precision can
beat both. With fewer than two points on that front (no slope), the chains take the fallback
weights.

Exactness is unchanged: the weights are fixed before any chain takes its first step (the
candidates are no chain's steps) and never change afterwards, so each chain is an ordinary
Metropolis–Hastings chain with a fixed target; the sampler stores them in the study
(`mh:latency_weights`), so every process and every resumed run uses the same ones.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from optuna.trial import TrialState

from amed_opt.samplers._candidates import candidate_trials
from amed_opt.samplers._score import QualityScore


if TYPE_CHECKING:
    from optuna.study import Study

    from amed_opt.samplers._chain_storage import ChainStorage


__all__ = [
    "WEIGHTS_KEY",
    "FrontScore",
    "FrontWeights",
    "front_scores",
    "front_slopes",
    "spread_weights",
]

WEIGHTS_KEY = "mh:latency_weights"
"""Study system attribute: the chains' latency weights, written once the candidates finished."""

PAST_ENDS = 2.0
"""How far past the steepest slope the first chain's weight is, and below the flattest slope
the last one's (a factor on `lambda`): one octave, so those chains start at the ends of the
uniform front rather than on its first or last stretch, yet still trade accuracy for latency."""


def front_slopes(points: Sequence[tuple[float, float]]) -> tuple[float, ...]:
    """Slopes of the upper concave hull of the non-dominated `(latency, accuracy)` points.

    Args:
        points: `(latency, accuracy)` pairs: latency minimised, accuracy maximised; pairs with
            a non-finite member are ignored.

    Returns:
        Accuracy gained per latency unit along the hull, from the fastest point to the most
        accurate one; strictly decreasing, every slope > 0. Empty with fewer than two
        non-dominated points.
    """
    finite = sorted({(float(lat), float(acc)) for lat, acc in points if _finite(lat, acc)})
    front: list[tuple[float, float]] = []
    for lat, acc in finite:  # by latency, then accuracy
        if front and acc <= front[-1][1]:
            continue  # dominated (or equal) by a faster point already on the front
        if front and lat == front[-1][0]:
            front.pop()  # same latency, more accurate
        front.append((lat, acc))
    hull: list[tuple[float, float]] = []
    for point in front:
        # Drop the last hull point while it lies on or under the chord to the new point.
        while len(hull) >= 2 and _slope(hull[-2], hull[-1]) <= _slope(hull[-1], point):
            hull.pop()
        hull.append(point)
    return tuple(_slope(a, b) for a, b in zip(hull, hull[1:], strict=False))


def spread_weights(slopes: Sequence[float], count: int) -> tuple[float, ...] | None:
    """`count` weights: `PAST_ENDS * max(slopes)`, then geometric from `max(slopes)` down to
    `min(slopes) / PAST_ENDS` (one weight: the geometric mean of those two; two weights: the
    first and the last); `None` without slopes."""
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count!r}")
    if not slopes:
        return None
    high = math.log(max(slopes))
    low = math.log(min(slopes) / PAST_ENDS)
    if count == 1:
        return (math.exp((high + low) / 2),)
    if count == 2:
        return (PAST_ENDS * max(slopes), math.exp(low))
    rest = count - 1
    return (PAST_ENDS * max(slopes),) + tuple(
        math.exp(high + (low - high) * k / (rest - 1)) for k in range(rest)
    )


@dataclass(frozen=True, slots=True)
class FrontWeights:
    """One chain per entry of `fallback`, at latency weights read off the start candidates.

    Args:
        template: The chains' score but for its `latency_weight` (reference latency, energy
            weight, accuracy threshold and penalty, value indices).
        fallback: One weight `>= 0` per chain, used when the candidates' front has fewer than
            two points.

    Raises:
        ValueError: If `template` is not a `QualityScore` or `fallback` is empty or holds a
            weight that is not a finite number >= 0.
    """

    template: QualityScore
    fallback: tuple[float, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.template, QualityScore):
            raise ValueError(f"template must be a QualityScore, got {self.template!r}")
        fallback = tuple(self.fallback)
        if not fallback or not all(
            isinstance(w, int | float) and not isinstance(w, bool) and math.isfinite(w) and w >= 0
            for w in fallback
        ):
            raise ValueError(
                f"fallback must be a non-empty list of finite numbers >= 0, got {self.fallback!r}"
            )
        object.__setattr__(self, "fallback", tuple(float(w) for w in fallback))

    @property
    def count(self) -> int:
        """The number of chains."""
        return len(self.fallback)

    def weights(self, candidate_values: Sequence[Sequence[float] | None]) -> tuple[float, ...]:
        """Each chain's latency weight, given the values of the finished candidates (`None`
        for one that failed)."""
        points = [
            (
                float(values[self.template.latency_index]) / self.template.latency_reference,
                float(values[self.template.accuracy_index]),
            )
            for values in candidate_values
            if values is not None
        ]
        return spread_weights(front_slopes(points), self.count) or self.fallback

    def scores(self, weights: Sequence[float]) -> tuple[QualityScore, ...]:
        """The template at each of `weights`."""
        return tuple(dataclasses.replace(self.template, latency_weight=w) for w in weights)


def front_scores(
    front: FrontWeights, chains: ChainStorage, study: Study
) -> tuple[QualityScore, ...]:
    """Each chain's score in `study`: read from the study once stored, else computed from the
    finished start candidates and stored (every process computes the same weights from the
    same finished trials, so concurrent writers agree).

    Raises:
        RuntimeError: If a start candidate is still running (the sampler asks only after the
            candidates finished: a chain adopts its start then).
        ValueError: If the study stores a different number of weights than `front` has chains.
    """
    memory = chains.memory(study)
    if memory.weights is None:
        stored = chains.read_study_attrs(study).get(WEIGHTS_KEY)
        if stored is None:
            trials = [
                t
                for found in candidate_trials(study.get_trials(deepcopy=False)).values()
                for t in found
            ]
            if any(t.state == TrialState.RUNNING for t in trials):
                raise RuntimeError("the start candidates must finish before the weights are read")
            stored = front.weights(
                [t.values if t.state == TrialState.COMPLETE else None for t in trials]
            )
            study._storage.set_study_system_attr(study._study_id, WEIGHTS_KEY, list(stored))
        if len(stored) != front.count:
            raise ValueError(
                f"the study's chains have {len(stored)} latency weights ({WEIGHTS_KEY}), this "
                f"sampler has {front.count} chains: resume the study with {len(stored)} chains "
                "(as many fallback weights)"
            )
        memory.weights = tuple(float(w) for w in stored)
    return front.scores(memory.weights)


@dataclass(frozen=True, slots=True)
class FrontScore:
    """Chain `chain`'s score in `study` under `front`, read when first called: the sampler
    scores a trial of a chain only once the start candidates finished."""

    front: FrontWeights
    chains: ChainStorage
    study: Study
    chain: int

    def __call__(self, values: Sequence[float]) -> float:
        """`Q` of a trial whose values are `values`."""
        return front_scores(self.front, self.chains, self.study)[self.chain](values)


def _finite(*numbers: float) -> bool:
    return all(isinstance(n, int | float) and math.isfinite(n) for n in numbers)


def _slope(a: tuple[float, float], b: tuple[float, float]) -> float:
    return (b[1] - a[1]) / (b[0] - a[0])
