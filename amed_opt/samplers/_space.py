"""The chain's search space: one ordered list of numbers per parameter.

A chain state is a tuple of list indices, one per parameter in the order of the search space
given to the sampler. This module validates the distributions once and translates between index
tuples and the parameter values Optuna sees. An `IntDistribution` is the list
`low, low + step, ..., high` (its `log` flag only changes how *other* samplers draw from it); a
`CategoricalDistribution` is its `choices`, which must be numbers in strictly increasing or
strictly decreasing order so that "one step up or down the list" means something.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import IntDistribution


__all__ = ["OrderedAxis", "OrderedSearchSpace"]


@dataclass(frozen=True, slots=True)
class OrderedAxis:
    """One parameter as an ordered list of values, addressed by index.

    Attributes:
        name: The parameter name.
        distribution: The Optuna distribution the axis was built from.
        size: Number of values in the list.
    """

    name: str
    distribution: IntDistribution | CategoricalDistribution
    size: int

    def value(self, index: int) -> Any:
        """The parameter value at `index` (a Python int for an `IntDistribution`)."""
        if isinstance(self.distribution, IntDistribution):
            return self.distribution.low + index * self.distribution.step
        return self.distribution.choices[index]

    def index(self, value: Any) -> int:
        """The list index of `value`.

        Raises:
            ValueError: If `value` is not one of the axis values.
        """
        if isinstance(self.distribution, IntDistribution):
            if isinstance(value, numbers.Integral) and not isinstance(value, bool):
                position, remainder = divmod(
                    int(value) - self.distribution.low, self.distribution.step
                )
                if remainder == 0 and 0 <= position < self.size:
                    return position
        else:
            for position, choice in enumerate(self.distribution.choices):
                if choice == value and not isinstance(value, bool):
                    return position
        raise ValueError(f"{value!r} is not a value of parameter {self.name!r}")


def _build_axis(name: str, distribution: BaseDistribution) -> OrderedAxis:
    where = f"search_space[{name!r}]"
    if isinstance(distribution, IntDistribution):
        size = (distribution.high - distribution.low) // distribution.step + 1
        return OrderedAxis(name=name, distribution=distribution, size=size)
    if isinstance(distribution, CategoricalDistribution):
        choices = distribution.choices
        for choice in choices:
            if (
                isinstance(choice, bool)
                or not isinstance(choice, numbers.Real)
                or not math.isfinite(float(choice))
            ):
                raise ValueError(
                    f"{where} must have finite numeric choices (bit widths), got {choice!r}"
                )
        numbers_ = [float(choice) for choice in choices]  # type: ignore[arg-type]
        steps = [b - a for a, b in zip(numbers_, numbers_[1:], strict=False)]
        if not (all(step > 0 for step in steps) or all(step < 0 for step in steps)):
            raise ValueError(
                f"{where} must list its choices in strictly increasing or strictly decreasing "
                f"order, got {choices!r}"
            )
        return OrderedAxis(name=name, distribution=distribution, size=len(choices))
    raise ValueError(
        f"{where} must be an IntDistribution or a CategoricalDistribution with ordered numeric "
        f"choices, got {type(distribution).__name__}"
    )


class OrderedSearchSpace:
    """The validated search space of a chain.

    Args:
        search_space: Parameter name to distribution, in the order the sampler should keep.

    Raises:
        ValueError: If `search_space` is empty, holds a distribution other than
            `IntDistribution`/`CategoricalDistribution`, or a categorical distribution whose
            choices are not numbers in a strictly monotonic order.
    """

    def __init__(self, search_space: Mapping[str, BaseDistribution]) -> None:
        if not isinstance(search_space, Mapping) or len(search_space) == 0:
            raise ValueError("search_space must be a non-empty mapping of name to distribution")
        self.axes: tuple[OrderedAxis, ...] = tuple(
            _build_axis(name, distribution) for name, distribution in search_space.items()
        )
        self.names: tuple[str, ...] = tuple(axis.name for axis in self.axes)
        self.sizes: tuple[int, ...] = tuple(axis.size for axis in self.axes)
        # Axes with one value cannot move; proposals only pick among the others.
        self.movable: tuple[int, ...] = tuple(
            position for position, size in enumerate(self.sizes) if size > 1
        )
        self.distributions: dict[str, BaseDistribution] = dict(search_space)

    def decode(self, state: Sequence[int]) -> dict[str, Any]:
        """Parameter values of the index tuple `state`."""
        return {axis.name: axis.value(index) for axis, index in zip(self.axes, state, strict=True)}

    def encode(self, params: Mapping[str, Any], *, argument: str = "params") -> tuple[int, ...]:
        """Index tuple of `params`, which must hold a value for every parameter.

        Args:
            params: Parameter name to value.
            argument: Name used in the error message.

        Raises:
            ValueError: If a parameter is missing, unknown or has a value not in its list.
        """
        unknown = sorted(set(params) - set(self.names))
        if unknown:
            raise ValueError(f"{argument} has parameters outside the search space: {unknown}")
        missing = [name for name in self.names if name not in params]
        if missing:
            raise ValueError(f"{argument} lacks parameters of the search space: {missing}")
        try:
            return tuple(axis.index(params[axis.name]) for axis in self.axes)
        except ValueError as error:
            raise ValueError(f"{argument}: {error}") from None
