"""The AMED quality score and the default single-objective score."""

from __future__ import annotations

import pytest
from optuna.study import StudyDirection

from amed_opt.samplers import QualityScore
from amed_opt.samplers._score import default_score


def test_quality_without_threshold_trades_accuracy_for_latency() -> None:
    score = QualityScore(latency_reference=10.0, latency_weight=0.5)
    assert score([0.9, 10.0]) == pytest.approx(0.9 - 0.5)
    assert score([0.9, 5.0]) == pytest.approx(0.9 - 0.25)


def test_penalty_applies_only_below_the_threshold() -> None:
    score = QualityScore(
        latency_reference=2.0, latency_weight=1.0, accuracy_threshold=0.8, penalty_slope=10.0
    )
    assert score([0.85, 1.0]) == pytest.approx(0.85 - 0.5)
    assert score([0.80, 1.0]) == pytest.approx(0.80 - 0.5)
    assert score([0.70, 1.0]) == pytest.approx(0.70 - 0.5 - 10.0 * 0.1)


def test_objective_positions_are_configurable() -> None:
    score = QualityScore(latency_reference=4.0, accuracy_index=1, latency_index=0)
    assert score([2.0, 0.5]) == pytest.approx(0.5 - 0.5)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"latency_reference": 0.0}, "latency_reference"),
        ({"latency_reference": float("inf")}, "latency_reference"),
        ({"latency_reference": 1.0, "latency_weight": -1.0}, "latency_weight"),
        ({"latency_reference": 1.0, "penalty_slope": -0.1}, "penalty_slope"),
        ({"latency_reference": 1.0, "accuracy_threshold": 1.5}, "accuracy_threshold"),
        ({"latency_reference": 1.0, "accuracy_index": -1}, "accuracy_index"),
        ({"latency_reference": 1.0, "accuracy_index": 1}, "accuracy_index"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict[str, float], argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        QualityScore(**kwargs)  # type: ignore[arg-type]


def test_default_score_follows_the_direction() -> None:
    assert default_score([StudyDirection.MAXIMIZE])([3.0]) == 3.0
    assert default_score([StudyDirection.MINIMIZE])([3.0]) == -3.0
    with pytest.raises(ValueError, match="score"):
        default_score([StudyDirection.MAXIMIZE, StudyDirection.MINIMIZE])


def test_energy_counts_only_with_a_weight() -> None:
    plain = QualityScore(latency_reference=2.0, latency_weight=1.0)
    with_energy = QualityScore(
        latency_reference=2.0, latency_weight=1.0, energy_weight=0.5, energy_reference=10.0
    )
    assert plain((0.9, 1.0)) == pytest.approx(0.4)
    assert plain((0.9, 1.0, 5.0)) == pytest.approx(0.4)
    assert with_energy((0.9, 1.0, 5.0)) == pytest.approx(0.9 - 0.5 - 0.25)


@pytest.mark.parametrize("reference", [None, 0.0, float("nan")])
def test_an_energy_weight_needs_a_reference(reference: float | None) -> None:
    with pytest.raises(ValueError, match="energy_reference"):
        QualityScore(latency_reference=1.0, energy_weight=0.1, energy_reference=reference)
