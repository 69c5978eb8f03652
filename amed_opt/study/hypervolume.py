"""Hypervolume of an (accuracy ↑, latency ↓) front: the one adapter around Optuna's routine.

Optuna has no public hypervolume function; `optuna._hypervolume.compute_hypervolume(loss_vals,
reference_point, assume_pareto=False)` (the signature since Optuna 4.0, checked against 5.0.0)
is private, so every hypervolume in amed-opt goes through `hypervolume` below, and
`tests/amed_opt/test_hypervolume.py` pins it against hand-computed fronts.

**Coordinates.** A trial is the point `(accuracy, latency / latency of uniform 8 bits)`: accuracy
a fraction in [0, 1], latency normalised so that uniform 8 bits is 1 on every hardware preset.

**Reference point** (fixed; `REFERENCE`): accuracy 0 and normalised latency 1, i.e. the uniform
8-bit latency. The hypervolume is then the area between the front and those two lines, which has
a direct reading: the best accuracy found within a latency budget, averaged over budgets drawn
uniformly from 0 to the uniform 8-bit latency (0 for budgets nothing fits). It lies in [0, 1];
a point slower than uniform 8 bits adds nothing. The reference does not move with the data, so
hypervolumes of different samplers, seeds and budgets on one study compare directly; across
hardware presets they compare only as "share of the 8-bit latency saved, weighted by accuracy".
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from optuna._hypervolume import compute_hypervolume
from optuna.trial import TrialState

from amed_opt.study.pareto import RunningFront
from amed_opt.study.pareto import is_feasible


if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

__all__ = [
    "REFERENCE",
    "NormalisedPoint",
    "ReferencePoint",
    "hypervolume",
    "hypervolume_history",
    "trial_points",
]


@dataclass(frozen=True, slots=True)
class ReferencePoint:
    """The corner the hypervolume is measured from.

    Attributes:
        accuracy: Accuracy (fraction) below which a point adds nothing.
        latency: Normalised latency (1 = uniform 8 bits) above which a point adds nothing.
        energy: Normalised energy (1 = uniform 8 bits) above which a point adds nothing (used
            for three-objective points only).
    """

    accuracy: float = 0.0
    latency: float = 1.0
    energy: float = 1.0

    def __post_init__(self) -> None:
        for name in ("accuracy", "latency", "energy"):
            value = getattr(self, name)
            if not math.isfinite(value):
                raise ValueError(f"reference {name} must be finite, got {value!r}")

    def corner(self, dimensions: int) -> tuple[float, ...]:
        """The reference as a point of `dimensions` (2 or 3) objectives."""
        if dimensions not in (2, 3):
            raise ValueError(f"points have 2 or 3 objectives, got {dimensions}")
        return (self.accuracy, self.latency, self.energy)[:dimensions]


REFERENCE = ReferencePoint()
"""The documented reference point of every amed-opt report: accuracy 0, latency of 8 bits."""

NormalisedPoint = tuple[float, ...]
"""`(accuracy, normalised latency[, normalised energy])`; every point of one call has the same
number of objectives."""


def _losses(
    points: Iterable[NormalisedPoint], reference: ReferencePoint
) -> tuple[np.ndarray, np.ndarray]:
    kept: list[tuple[float, ...]] = []
    dimensions = 0
    for point in points:
        if not all(math.isfinite(value) for value in point):
            raise ValueError(f"point {tuple(point)!r} is not finite")
        if dimensions and len(point) != dimensions:
            raise ValueError(f"points mix {dimensions} and {len(point)} objectives")
        dimensions = len(point)
        corner = reference.corner(dimensions)
        # Points outside the reference box add no volume; Optuna's routine rejects them.
        accuracy, *costs = point
        if accuracy >= corner[0] and all(c <= r for c, r in zip(costs, corner[1:], strict=True)):
            kept.append((-accuracy, *costs))
    dimensions = dimensions or 2
    accuracy_limit, *cost_limits = reference.corner(dimensions)
    corner_loss = np.array([-accuracy_limit, *cost_limits], dtype=float)
    return np.array(kept, dtype=float).reshape(-1, dimensions), corner_loss


def hypervolume(points: Iterable[NormalisedPoint], reference: ReferencePoint = REFERENCE) -> float:
    """Volume dominated by `points` in (accuracy ↑, normalised latency ↓[, normalised energy ↓])
    up to `reference` (an area for two objectives).

    Dominated points and points outside the reference box are allowed (they add nothing).

    Args:
        points: `(accuracy, latency / latency of uniform 8 bits[, energy / energy of uniform
            8 bits])` tuples, all of the same length.
        reference: The reference point (default: the fixed `REFERENCE`).

    Returns:
        The hypervolume; 0.0 for no points.

    Raises:
        ValueError: If a point is not finite.
    """
    losses, corner = _losses(points, reference)
    if losses.size == 0:
        return 0.0
    return float(compute_hypervolume(losses, corner, assume_pareto=False))


def hypervolume_history(
    points: Sequence[NormalisedPoint], reference: ReferencePoint = REFERENCE
) -> list[float]:
    """The hypervolume of the first `k` points, for `k = 1 .. len(points)`.

    Only the running front is passed to Optuna, so this costs O(n · front size).
    """
    history: list[float] = []
    front = RunningFront(keep_equal=False)
    current = 0.0
    for raw in points:
        point = tuple(float(value) for value in raw)
        if not all(math.isfinite(value) for value in point):
            raise ValueError(f"point {point!r} is not finite")
        if front.add(point):
            current = hypervolume(front.points, reference)
        history.append(current)
    return history


def trial_points(
    trials: Iterable[FrozenTrial],
    reference_latency_ms: float,
    reference_energy_uj: float | None = None,
) -> list[tuple[int, NormalisedPoint | None]]:
    """`(trial number, point)` for every finished trial, in trial order.

    The point is `None` for a trial that adds nothing to a front: not COMPLETE, or violating a
    constraint (e.g. the size limit). Values are `(accuracy, latency_ms[, energy_uj])`, as the
    objective returns them; the costs are normalised by the uniform 8-bit network's.

    Raises:
        ValueError: If a reference is not a finite number > 0 (the energy reference is needed
            for three-objective trials only).
    """
    for name, value in (("latency", reference_latency_ms), ("energy", reference_energy_uj)):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise ValueError(f"reference {name} must be a finite number > 0, got {value!r}")
    rows: list[tuple[int, NormalisedPoint | None]] = []
    for trial in sorted(trials, key=lambda t: t.number):
        if trial.state == TrialState.COMPLETE and trial.values is not None:
            accuracy, latency_ms, *energy = trial.values
            point: NormalisedPoint = (float(accuracy), float(latency_ms) / reference_latency_ms)
            if energy:
                if reference_energy_uj is None:
                    raise ValueError("three-objective trials need the reference energy")
                point = (*point, float(energy[0]) / reference_energy_uj)
            rows.append((trial.number, point if is_feasible(trial) else None))
        elif trial.state == TrialState.PRUNED:
            rows.append((trial.number, None))
    return rows
