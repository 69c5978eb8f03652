"""The hypervolume adapter against hand-computed fronts and an independent sweep."""

from __future__ import annotations

import math

import optuna
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from amed_opt.study.hypervolume import REFERENCE
from amed_opt.study.hypervolume import ReferencePoint
from amed_opt.study.hypervolume import hypervolume
from amed_opt.study.hypervolume import hypervolume_history
from amed_opt.study.hypervolume import trial_points


def _sweep(points: list[tuple[float, float]], reference: ReferencePoint) -> float:
    """Independent 2-D hypervolume: integrate the best accuracy over latency budgets."""
    inside = [
        (a, lat) for a, lat in points if a >= reference.accuracy and lat <= reference.latency
    ]
    edges = sorted({lat for _, lat in inside} | {reference.latency})
    area = 0.0
    for left, right in zip(edges, edges[1:], strict=False):
        best = max((a for a, lat in inside if lat <= left), default=reference.accuracy)
        area += (right - left) * (best - reference.accuracy)
    return area


def test_the_reference_point_is_accuracy_zero_and_the_8_bit_latency() -> None:
    assert (REFERENCE.accuracy, REFERENCE.latency) == (0.0, 1.0)


def test_one_point_is_a_rectangle() -> None:
    # Accuracy 0.9 at half the 8-bit latency: 0.9 high, 0.5 wide.
    assert hypervolume([(0.9, 0.5)]) == pytest.approx(0.45)


def test_a_staircase_by_hand() -> None:
    # 0.9 over latency budgets [0.5, 1), 0.8 over [0.3, 0.5), 0.5 over [0.2, 0.3):
    # 0.45 + 0.16 + 0.05.
    front = [(0.9, 0.5), (0.8, 0.3), (0.5, 0.2)]
    assert hypervolume(front) == pytest.approx(0.66)


def test_dominated_duplicate_and_outside_points_add_nothing() -> None:
    front = [(0.9, 0.5), (0.8, 0.3)]
    extra = [
        (0.85, 0.6),  # dominated by (0.9, 0.5)
        (0.9, 0.5),  # duplicate
        (0.95, 1.2),  # slower than uniform 8 bits: outside the reference box
        (0.99, 1.0),  # exactly at the reference latency: zero width
    ]
    assert hypervolume(front + extra) == pytest.approx(hypervolume(front)) == pytest.approx(0.61)


def test_empty_front_is_zero() -> None:
    assert hypervolume([]) == 0.0
    assert hypervolume([(0.9, 1.5)]) == 0.0


def test_another_reference_point() -> None:
    reference = ReferencePoint(accuracy=0.5, latency=1.0)
    # (0.9 - 0.5) * 0.5 + (0.8 - 0.5) * 0.2; the 0.4-accuracy point is below the reference.
    assert hypervolume([(0.9, 0.5), (0.8, 0.3), (0.4, 0.1)], reference) == pytest.approx(0.26)


def test_non_finite_points_and_references_are_rejected() -> None:
    with pytest.raises(ValueError, match="not finite"):
        hypervolume([(math.nan, 0.5)])
    with pytest.raises(ValueError, match="not finite"):
        hypervolume_history([(0.9, 0.5), (0.8, math.inf)])
    with pytest.raises(ValueError, match="latency"):
        ReferencePoint(latency=math.inf)


def test_history_is_the_hypervolume_of_each_prefix_and_never_decreases() -> None:
    points = [(0.5, 0.9), (0.9, 0.5), (0.85, 0.6), (0.8, 0.3), (0.95, 1.1)]
    history = hypervolume_history(points)
    assert history == pytest.approx([hypervolume(points[: k + 1]) for k in range(len(points))])
    assert history == sorted(history)
    assert history[-1] == pytest.approx(0.61)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0.0, max_value=1.0), st.floats(min_value=0.05, max_value=1.3)
        ),
        max_size=25,
    )
)
def test_agrees_with_an_independent_sweep(points: list[tuple[float, float]]) -> None:
    assert hypervolume(points) == pytest.approx(_sweep(points, REFERENCE), abs=1e-12)
    history = hypervolume_history(points)
    assert len(history) == len(points)
    if points:
        assert history[-1] == pytest.approx(_sweep(points, REFERENCE), abs=1e-12)


def _trial(
    number: int,
    values: tuple[float, float] | None,
    state: optuna.trial.TrialState,
    violation: float | None = None,
) -> optuna.trial.FrozenTrial:
    trial = optuna.trial.create_trial(
        state=state, values=list(values) if values else None, params={}, distributions={}
    )
    trial.number = number
    if violation is not None:
        trial._system_attrs = {"constraints": [violation]}
    return trial


def test_trial_points_normalise_latency_and_skip_what_adds_nothing() -> None:
    complete = optuna.trial.TrialState.COMPLETE
    trials = [
        _trial(2, (0.8, 2.0), complete),
        _trial(0, (0.9, 4.0), complete),
        _trial(1, None, optuna.trial.TrialState.FAIL),
        _trial(3, (0.95, 1.0), complete, violation=3.0),  # over the size limit
        _trial(4, None, optuna.trial.TrialState.PRUNED),
    ]
    rows = trial_points(trials, reference_latency_ms=4.0)
    assert rows == [(0, (0.9, 1.0)), (2, (0.8, 0.5)), (3, None), (4, None)]
    with pytest.raises(ValueError, match="reference latency"):
        trial_points(trials, reference_latency_ms=0.0)


def test_three_objective_volume_is_the_box_under_the_points() -> None:
    assert hypervolume([(0.5, 0.5, 0.5)]) == pytest.approx(0.5 * 0.5 * 0.5)
    # The same point twice adds nothing; two boxes add up where they do not overlap.
    both = hypervolume([(0.5, 0.5, 0.5), (0.5, 0.5, 0.5)])
    assert both == pytest.approx(0.125)
    union = hypervolume([(1.0, 0.5, 0.5), (0.5, 0.0, 0.5)])
    assert union == pytest.approx(1.0 * 0.5 * 0.5 + 0.5 * 0.5 * 0.5)


def test_points_must_all_have_the_same_number_of_objectives() -> None:
    with pytest.raises(ValueError, match="mix 2 and 3"):
        hypervolume([(0.5, 0.5), (0.5, 0.5, 0.5)])
