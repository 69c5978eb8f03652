"""Temperature schedules of the chain.

A schedule maps the chain step `t` (0 for the chain's initial evaluation, then one per decided
proposal, failed ones included) to the temperature used to accept or reject that step's proposal.
Any callable `(int) -> float` returning a positive number works; these two cover `METHOD.md` §5.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol
from typing import runtime_checkable


__all__ = ["ConstantTemperature", "GeometricAnnealing", "TemperatureSchedule"]


@runtime_checkable
class TemperatureSchedule(Protocol):
    """Temperature as a function of the chain step."""

    def __call__(self, step: int) -> float:
        """The temperature (> 0) for the proposal decided at chain step `step` (>= 0)."""
        ...


def _check_positive(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{name} must be a number > 0, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")


@dataclass(frozen=True, slots=True)
class ConstantTemperature:
    """The same temperature at every step: a homogeneous chain with target `exp(Q / T)`.

    Args:
        temperature: `T > 0`, in units of the score.

    Raises:
        ValueError: If `temperature` is not a finite number > 0.
    """

    temperature: float

    def __post_init__(self) -> None:
        _check_positive("temperature", self.temperature)

    def __call__(self, step: int) -> float:
        """`T` (whatever the step)."""
        return float(self.temperature)


@dataclass(frozen=True, slots=True)
class GeometricAnnealing:
    """Geometric cooling: `T_t = max(min_temperature, initial_temperature * decay ** t)`.

    Args:
        initial_temperature: `T_0 > 0`.
        decay: `gamma` in (0, 1].
        min_temperature: Floor `T_min` in (0, `T_0`].

    Raises:
        ValueError: If an argument is out of its range.
    """

    initial_temperature: float
    decay: float
    min_temperature: float

    def __post_init__(self) -> None:
        _check_positive("initial_temperature", self.initial_temperature)
        _check_positive("min_temperature", self.min_temperature)
        _check_positive("decay", self.decay)
        if self.decay > 1:
            raise ValueError(f"decay must be in (0, 1], got {self.decay!r}")
        if self.min_temperature > self.initial_temperature:
            raise ValueError(
                f"min_temperature ({self.min_temperature!r}) must not exceed "
                f"initial_temperature ({self.initial_temperature!r})"
            )

    def __call__(self, step: int) -> float:
        """`T_step`."""
        if step < 0:
            raise ValueError(f"step must be >= 0, got {step}")
        # In log space so that very large steps do not underflow before the floor applies.
        log_t = math.log(self.initial_temperature) + step * math.log(self.decay)
        return max(float(self.min_temperature), math.exp(max(log_t, -700.0)))
