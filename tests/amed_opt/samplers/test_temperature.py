"""Temperature schedules."""

from __future__ import annotations

import pytest

from amed_opt.samplers import ConstantTemperature
from amed_opt.samplers import GeometricAnnealing
from amed_opt.samplers import TemperatureSchedule


def test_constant_temperature() -> None:
    schedule = ConstantTemperature(0.05)
    assert isinstance(schedule, TemperatureSchedule)
    assert [schedule(t) for t in (0, 1, 10_000)] == [0.05, 0.05, 0.05]


def test_geometric_annealing_decays_to_its_floor() -> None:
    schedule = GeometricAnnealing(initial_temperature=1.0, decay=0.5, min_temperature=0.1)
    assert isinstance(schedule, TemperatureSchedule)
    assert schedule(0) == 1.0
    assert schedule(1) == pytest.approx(0.5)
    assert schedule(3) == pytest.approx(0.125)
    assert schedule(4) == pytest.approx(0.1)
    assert schedule(10**9) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="step"):
        schedule(-1)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        (
            {"initial_temperature": 0.0, "decay": 0.9, "min_temperature": 0.1},
            "initial_temperature",
        ),
        ({"initial_temperature": 1.0, "decay": 1.5, "min_temperature": 0.1}, "decay"),
        ({"initial_temperature": 1.0, "decay": 0.0, "min_temperature": 0.1}, "decay"),
        ({"initial_temperature": 1.0, "decay": 0.9, "min_temperature": 0.0}, "min_temperature"),
        ({"initial_temperature": 1.0, "decay": 0.9, "min_temperature": 2.0}, "min_temperature"),
    ],
)
def test_bad_annealing_arguments_are_named(kwargs: dict[str, float], argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        GeometricAnnealing(**kwargs)


@pytest.mark.parametrize("value", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_constant_temperature(value: float) -> None:
    with pytest.raises(ValueError, match="temperature"):
        ConstantTemperature(value)
