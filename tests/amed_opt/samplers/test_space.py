"""The ordered search space: validation, and params <-> list indices."""

from __future__ import annotations

from typing import Any

import pytest
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution

from amed_opt.samplers._space import OrderedSearchSpace


SPACE: dict[str, BaseDistribution] = {
    "w": CategoricalDistribution((2, 4, 8)),
    "a": CategoricalDistribution((8.0, 4.0)),  # decreasing order is an order too
    "k": IntDistribution(3, 11, step=4),
    "fixed": CategoricalDistribution((8,)),
}


def test_axes_follow_the_mapping_order_and_list_sizes() -> None:
    space = OrderedSearchSpace(SPACE)
    assert space.names == ("w", "a", "k", "fixed")
    assert space.sizes == (3, 2, 3, 1)
    assert space.movable == (0, 1, 2)
    assert space.distributions == SPACE


def test_params_and_indices_round_trip() -> None:
    space = OrderedSearchSpace(SPACE)
    params = {"w": 4, "a": 4.0, "k": 11, "fixed": 8}
    assert space.encode(params) == (1, 1, 2, 0)
    assert space.decode((1, 1, 2, 0)) == params
    every = [(w, a, k, 0) for w in range(3) for a in range(2) for k in range(3)]
    assert all(space.encode(space.decode(state)) == state for state in every)
    decoded = space.decode((0, 0, 1, 0))["k"]
    assert decoded == 7 and type(decoded) is int


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"w": 4, "a": 4.0, "k": 11}, r"start lacks parameters of the search space: \['fixed'\]"),
        ({"w": 4, "a": 4.0, "k": 11, "fixed": 8, "x": 1}, r"outside the search space: \['x'\]"),
        ({"w": 5, "a": 4.0, "k": 11, "fixed": 8}, "start: 5 is not a value of parameter 'w'"),
        ({"w": 4, "a": 4.0, "k": 9, "fixed": 8}, "9 is not a value of parameter 'k'"),
        ({"w": 4, "a": 4.0, "k": 15, "fixed": 8}, "15 is not a value"),
        ({"w": 4, "a": 4.0, "k": True, "fixed": 8}, "True is not a value"),
    ],
)
def test_encoding_names_the_argument_and_the_bad_value(
    params: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        OrderedSearchSpace(SPACE).encode(params, argument="start")


@pytest.mark.parametrize(
    ("search_space", "message"),
    [
        ({}, "non-empty mapping"),
        ([("x", IntDistribution(0, 1))], "non-empty mapping"),
        ({"x": FloatDistribution(0, 1)}, r"search_space\['x'\] must be an IntDistribution"),
        ({"x": CategoricalDistribution(("a", "b"))}, "finite numeric choices"),
        ({"x": CategoricalDistribution((True, False))}, "finite numeric choices"),
        ({"x": CategoricalDistribution((1.0, float("nan")))}, "finite numeric choices"),
        ({"x": CategoricalDistribution((2, 8, 4))}, "strictly increasing or strictly decreasing"),
        ({"x": CategoricalDistribution((2, 2, 4))}, "strictly increasing or strictly decreasing"),
    ],
)
def test_unordered_or_non_numeric_spaces_are_refused(search_space: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        OrderedSearchSpace(search_space)
