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
    "FrontPoint2D",
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
    """

    accuracy: float = 0.0
    latency: float = 1.0

    def __post_init__(self) -> None:
        for name in ("accuracy", "latency"):
            value = getattr(self, name)
            if not math.isfinite(value):
                raise ValueError(f"reference {name} must be finite, got {value!r}")


REFERENCE = ReferencePoint()
"""The documented reference point of every amed-opt report: accuracy 0, latency of 8 bits."""

FrontPoint2D = tuple[float, float]
"""`(accuracy, normalised latency)`."""


def _losses(
    points: Iterable[FrontPoint2D], reference: ReferencePoint
) -> tuple[np.ndarray, np.ndarray]:
    kept: list[tuple[float, float]] = []
    for accuracy, latency in points:
        if not (math.isfinite(accuracy) and math.isfinite(latency)):
            raise ValueError(f"point ({accuracy!r}, {latency!r}) is not finite")
        # Points outside the reference box add no volume; Optuna's routine rejects them.
        if accuracy >= reference.accuracy and latency <= reference.latency:
            kept.append((-accuracy, latency))
    corner = np.array([-reference.accuracy, reference.latency], dtype=float)
    return np.array(kept, dtype=float).reshape(-1, 2), corner


def hypervolume(points: Iterable[FrontPoint2D], reference: ReferencePoint = REFERENCE) -> float:
    """Area dominated by `points` in (accuracy ↑, normalised latency ↓) up to `reference`.

    Dominated points and points outside the reference box are allowed (they add nothing).

    Args:
        points: `(accuracy, latency / latency of uniform 8 bits)` pairs.
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
    points: Sequence[FrontPoint2D], reference: ReferencePoint = REFERENCE
) -> list[float]:
    """The hypervolume of the first `k` points, for `k = 1 .. len(points)`.

    Only the running front is passed to Optuna, so this costs O(n · front size).
    """
    history: list[float] = []
    front = RunningFront(keep_equal=False)
    current = 0.0
    for accuracy, latency in points:
        point = (float(accuracy), float(latency))
        if not (math.isfinite(point[0]) and math.isfinite(point[1])):
            raise ValueError(f"point {point!r} is not finite")
        if front.add(point):
            current = hypervolume(front.points, reference)
        history.append(current)
    return history


def trial_points(
    trials: Iterable[FrozenTrial], reference_latency_ms: float
) -> list[tuple[int, FrontPoint2D | None]]:
    """`(trial number, point)` for every finished trial, in trial order.

    The point is `None` for a trial that adds nothing to a front: not COMPLETE, or violating a
    constraint (e.g. the size limit). Values are `(accuracy, latency_ms)`, as the objective
    returns them.

    Raises:
        ValueError: If `reference_latency_ms` is not a finite number > 0.
    """
    if not (math.isfinite(reference_latency_ms) and reference_latency_ms > 0):
        raise ValueError(f"reference latency must be > 0 ms, got {reference_latency_ms!r}")
    rows: list[tuple[int, FrontPoint2D | None]] = []
    for trial in sorted(trials, key=lambda t: t.number):
        if trial.state == TrialState.COMPLETE and trial.values is not None:
            accuracy, latency_ms = trial.values
            point = (float(accuracy), float(latency_ms) / reference_latency_ms)
            rows.append((trial.number, point if is_feasible(trial) else None))
        elif trial.state == TrialState.PRUNED:
            rows.append((trial.number, None))
    return rows
