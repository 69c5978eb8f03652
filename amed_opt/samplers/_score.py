"""Quality scores: what the chain maximises.

A score maps the values of a finished trial (the objective values, in the study's order) to one
number `Q`; the chain targets `pi(b) ∝ exp(Q(b) / T)`. `QualityScore` is the AMED score of
`METHOD.md` §4 for a study whose objectives are accuracy (a fraction in [0, 1]) and latency.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass

from optuna.study import StudyDirection


__all__ = ["QualityScore", "ScoreFunction", "default_score"]

ScoreFunction = Callable[[Sequence[float]], float]
"""Maps a finished trial's values to its quality `Q` (higher is better)."""


@dataclass(frozen=True, slots=True)
class QualityScore:
    """`Q = acc - latency_weight * lat / latency_reference - energy_weight * energy /
    energy_reference - penalty_slope * max(0, thr - acc)`.

    Args:
        latency_reference: Latency that scores one latency unit, in the unit of the latency
            objective; usually the latency of the uniform 8-bit allocation.
        latency_weight: `lambda >= 0`, the price of one reference latency in accuracy.
        accuracy_threshold: `A_thr` in [0, 1]; below it the penalty applies. `None`: no penalty.
        penalty_slope: `mu >= 0`, accuracy lost per unit of accuracy below the threshold.
        accuracy_index: Position of accuracy in the trial's values.
        latency_index: Position of latency in the trial's values.
        energy_weight: `epsilon >= 0`, the price of one reference energy in accuracy; 0 (the
            default) ignores energy, and the trial's values need not hold it.
        energy_reference: Energy that scores one energy unit (usually that of the uniform
            8-bit allocation); required when `energy_weight > 0`.
        energy_index: Position of energy in the trial's values.

    Raises:
        ValueError: If an argument is out of its range.
    """

    latency_reference: float
    latency_weight: float = 1.0
    accuracy_threshold: float | None = None
    penalty_slope: float = 10.0
    accuracy_index: int = 0
    latency_index: int = 1
    energy_weight: float = 0.0
    energy_reference: float | None = None
    energy_index: int = 2

    def __post_init__(self) -> None:
        if not (math.isfinite(self.latency_reference) and self.latency_reference > 0):
            raise ValueError(
                f"latency_reference must be a finite number > 0, got {self.latency_reference!r}"
            )
        for name in ("latency_weight", "penalty_slope", "energy_weight"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if self.accuracy_threshold is not None and not 0 <= self.accuracy_threshold <= 1:
            raise ValueError(
                f"accuracy_threshold must be in [0, 1] or None, got {self.accuracy_threshold!r}"
            )
        if self.energy_weight > 0 and not (
            self.energy_reference is not None
            and math.isfinite(self.energy_reference)
            and self.energy_reference > 0
        ):
            raise ValueError(
                "energy_reference must be a finite number > 0 when energy_weight > 0, "
                f"got {self.energy_reference!r}"
            )
        for name in ("accuracy_index", "latency_index", "energy_index"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an int >= 0, got {value!r}")
        if len({self.accuracy_index, self.latency_index, self.energy_index}) != 3:
            raise ValueError("accuracy_index, latency_index and energy_index must differ")

    def __call__(self, values: Sequence[float]) -> float:
        """`Q` of a trial whose values are `values`."""
        accuracy = float(values[self.accuracy_index])
        latency = float(values[self.latency_index])
        quality = accuracy - self.latency_weight * latency / self.latency_reference
        if self.energy_weight > 0 and self.energy_reference is not None:  # both, or neither
            energy = float(values[self.energy_index])
            quality -= self.energy_weight * energy / self.energy_reference
        if self.accuracy_threshold is not None:
            quality -= self.penalty_slope * max(0.0, self.accuracy_threshold - accuracy)
        return quality


@dataclass(frozen=True, slots=True)
class _SignedValue:
    sign: float

    def __call__(self, values: Sequence[float]) -> float:
        return self.sign * float(values[0])


def default_score(directions: Sequence[StudyDirection]) -> ScoreFunction:
    """The score of a single-objective study: its value, negated when it is minimised.

    Raises:
        ValueError: If the study has several objectives (a score must then be given).
    """
    if len(directions) != 1:
        raise ValueError(
            "score must be given for a multi-objective study "
            f"({len(directions)} objectives); e.g. QualityScore(...)"
        )
    return _SignedValue(1.0 if directions[0] == StudyDirection.MAXIMIZE else -1.0)
