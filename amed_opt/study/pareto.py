"""Pareto dominance and feasibility in (accuracy ↑, latency ↓[, energy ↓]): the one definition.

A trial is feasible unless one of its constraints (e.g. the size limit) is violated. A point
`(accuracy, latency[, energy])` dominates another when it is at least as accurate, at least as fast
(and as frugal) and not the same point. `pareto_front` extracts a front from a finished list;
`RunningFront` keeps one up to date while trials arrive (the dashboard's images, hypervolume
histories).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar


if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

__all__ = ["Objectives", "RunningFront", "dominates", "is_feasible", "pareto_front"]

Objectives = tuple[float, ...]
"""`(accuracy, latency[, energy])`: accuracy is maximised, the others (any unit) minimised."""

Item = TypeVar("Item")


def is_feasible(trial: FrozenTrial) -> bool:
    """True unless a constraint of the trial is violated (> 0)."""
    return all(value <= 0 for value in trial.constraints.values())


def dominates(point: Objectives, other: Objectives) -> bool:
    """True when `point` is at least as accurate as `other`, at least as low in every other
    objective, and not equal to it."""
    return (
        point[0] >= other[0]
        and all(mine <= theirs for mine, theirs in zip(point[1:], other[1:], strict=True))
        and point != other
    )


def pareto_front(
    items: Iterable[Item],
    objectives: Callable[[Item], Objectives],
    *,
    tie_break: Callable[[Item], Any],
    keep_ties: bool = False,
) -> list[Item]:
    """The items no other item dominates, by latency (then accuracy descending, then the other
    objectives, then the tie break).

    Args:
        items: Anything with objectives.
        objectives: `(accuracy, latency[, energy])` of an item.
        tie_break: Orders items with equal objectives (e.g. the trial number).
        keep_ties: Keep every item with the objectives of a front point (they are equally
            good); otherwise only the first in `tie_break` order.
    """

    def order(item: Item) -> tuple[Any, ...]:
        accuracy, latency, *others = objectives(item)
        return latency, -accuracy, *others, tie_break(item)

    # In this order a point's dominators all come before it, so checking the front kept so far
    # is enough (a dominated dominator is itself dominated by a front point).
    front: list[Item] = []
    kept: list[Objectives] = []
    for item in sorted(items, key=order):
        point = objectives(item)
        if any(dominates(other, point) for other in kept):
            continue
        if point in kept and not keep_ties:
            continue
        front.append(item)
        kept.append(point)
    return front


class RunningFront:
    """A Pareto front updated one point at a time (costs a scan of the front, not the history).

    Args:
        keep_equal: Whether a point equal to one already on the front is added again (and
            reported as new by `add`).
    """

    def __init__(self, *, keep_equal: bool = True) -> None:
        self._keep_equal = keep_equal
        self._points: list[Objectives] = []

    @property
    def points(self) -> tuple[Objectives, ...]:
        """The front's points, in the order they were added."""
        return tuple(self._points)

    def add(self, point: Objectives) -> bool:
        """Add `point` unless a front point dominates it; True when it was added."""
        if any(dominates(kept, point) for kept in self._points):
            return False
        if not self._keep_equal and point in self._points:
            return False
        self._points = [kept for kept in self._points if not dominates(point, kept)]
        self._points.append(point)
        return True
