"""Pareto dominance, fronts (with and without ties) and the running front."""

from __future__ import annotations

import optuna
import pytest
from optuna.trial import TrialState

from amed_opt.study.pareto import RunningFront
from amed_opt.study.pareto import dominates
from amed_opt.study.pareto import is_feasible
from amed_opt.study.pareto import pareto_front


@pytest.mark.parametrize(
    ("point", "other", "expected"),
    [
        ((0.9, 1.0), (0.8, 1.0), True),  # more accurate, as fast
        ((0.9, 1.0), (0.9, 2.0), True),  # as accurate, faster
        ((0.9, 1.0), (0.9, 1.0), False),  # the same point
        ((0.9, 2.0), (0.8, 1.0), False),  # a trade-off
        ((0.8, 1.0), (0.9, 1.0), False),
    ],
)
def test_dominance(point: tuple[float, float], other: tuple[float, float], expected: bool) -> None:
    assert dominates(point, other) is expected


def test_front_is_sorted_by_latency_and_drops_dominated_points() -> None:
    points = [(0.9, 3.0, "a"), (0.7, 1.0, "b"), (0.8, 2.0, "c"), (0.75, 2.5, "d"), (0.6, 1.5, "e")]
    front = pareto_front(points, lambda p: (p[0], p[1]), tie_break=lambda p: p[2])
    assert [p[2] for p in front] == ["b", "c", "a"]


def test_ties_are_kept_only_when_asked() -> None:
    points = [(0.9, 1.0, 2), (0.9, 1.0, 1), (0.8, 0.5, 3)]
    objectives = lambda p: (p[0], p[1])  # noqa: E731
    assert [p[2] for p in pareto_front(points, objectives, tie_break=lambda p: p[2])] == [3, 1]
    with_ties = pareto_front(points, objectives, tie_break=lambda p: p[2], keep_ties=True)
    assert [p[2] for p in with_ties] == [3, 1, 2]


def test_running_front_reports_new_points_and_forgets_dominated_ones() -> None:
    front = RunningFront()
    assert front.add((0.8, 2.0))
    assert front.add((0.9, 3.0))
    assert not front.add((0.7, 2.5))
    assert front.add((0.85, 1.0))  # dominates (0.8, 2.0)
    assert front.points == ((0.9, 3.0), (0.85, 1.0))
    assert front.add((0.85, 1.0))  # an equal point is new by default ...
    strict = RunningFront(keep_equal=False)
    strict.add((0.85, 1.0))
    assert not strict.add((0.85, 1.0))  # ... but not when equal points are not kept


def test_feasibility_reads_every_constraint() -> None:
    def trial(constraints: dict[str, float]) -> optuna.trial.FrozenTrial:
        frozen = optuna.trial.create_trial(state=TrialState.COMPLETE, values=[0.9, 1.0])
        for key, value in constraints.items():
            frozen.set_constraint(key, value)
        return frozen

    assert is_feasible(trial({}))
    assert is_feasible(trial({"size": 0.0, "other": -1.0}))
    assert not is_feasible(trial({"size": -1.0, "other": 0.5}))


def test_three_objective_dominance_needs_every_cost_no_higher() -> None:
    assert dominates((0.9, 1.0, 5.0), (0.9, 1.0, 6.0))
    assert not dominates((0.9, 1.0, 7.0), (0.8, 2.0, 6.0))  # more energy: a trade-off
    points = [(0.9, 1.0, 7.0, "a"), (0.8, 2.0, 6.0, "b"), (0.8, 2.0, 8.0, "c")]
    front = pareto_front(points, lambda p: (p[0], p[1], p[2]), tie_break=lambda p: p[3])
    assert [p[3] for p in front] == ["a", "b"]
